//! Portico's schema: every domain's roots merged, assembled by `graphql::schema::assemble`. The
//! one builder, used by the server, the tests and `portico export-schema`. It lives in the
//! composition layer because it names every domain.

use crate::activity::{ActivityQuery, ActivitySubscription};
use crate::apikey::{ApiKeyMutation, ApiKeyQuery};
use crate::audit::{AuditMutation, AuditQuery};
use crate::file::{FileMutation, FileQuery, UploadLinkMutation, UploadLinkQuery};
use crate::graphql::SchemaLimits;
use crate::identity::{IdentityMutation, IdentityQuery};
use crate::message::{MessageMutation, MessageQuery, MessageSubscription};
use crate::milestone::MilestoneMutation;
use crate::note::NoteMutation;
use crate::notification::{NotificationMutation, NotificationQuery, NotificationSubscription};
use crate::payment::{PaymentMutation, PaymentQuery};
use crate::project::{ProjectMutation, ProjectQuery};
use crate::task::{BoardSubscription, TaskMutation, TaskQuery};
use crate::ticket::{TicketMutation, TicketQuery};
use crate::webhook::{WebhookMutation, WebhookQuery};
use crate::workspace::{WorkspaceMutation, WorkspaceQuery};
use async_graphql::{MergedObject, MergedSubscription, Schema};

/// The query root: every domain's queries.
#[derive(Debug, MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    IdentityQuery,
    WorkspaceQuery,
    ProjectQuery,
    TaskQuery,
    TicketQuery,
    ActivityQuery,
    MessageQuery,
    ApiKeyQuery,
    PaymentQuery,
    FileQuery,
    UploadLinkQuery,
    NotificationQuery,
    WebhookQuery,
    AuditQuery,
);

/// The mutation root: every domain's mutations.
#[derive(Debug, MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    IdentityMutation,
    WorkspaceMutation,
    ProjectMutation,
    TaskMutation,
    TicketMutation,
    MilestoneMutation,
    NoteMutation,
    MessageMutation,
    ApiKeyMutation,
    PaymentMutation,
    FileMutation,
    UploadLinkMutation,
    NotificationMutation,
    WebhookMutation,
    AuditMutation,
);

/// The subscription root: live project events, re-authorized on every event.
#[derive(Debug, MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(
    MessageSubscription,
    BoardSubscription,
    ActivitySubscription,
    NotificationSubscription,
);

/// Portico's schema.
pub type PorticoSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema: the domains' roots, Portico's extensions, the authorization policy.
pub fn build_schema(limits: SchemaLimits) -> anyhow::Result<PorticoSchema> {
    crate::graphql::schema::assemble(
        Schema::build(
            QueryRoot::default(),
            MutationRoot::default(),
            SubscriptionRoot::default(),
        ),
        limits,
        crate::apikey::trusted::TrustedDocuments,
    )
}

/// The SDL committed as `schema/schema.graphql`.
pub fn export_sdl() -> anyhow::Result<String> {
    Ok(build_schema(SchemaLimits::default())?.sdl())
}
