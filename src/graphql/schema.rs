//! The one schema builder, used by the server, the tests and `portico export-schema`.

use super::apq::PersistedQueries;
use super::authz::Authz;
use super::limits::DocumentLimits;
use super::policy::Policy;
use crate::activity::{ActivityQuery, ActivitySubscription};
use crate::apikey::{ApiKeyMutation, ApiKeyQuery};
use crate::identity::{IdentityMutation, IdentityQuery};
use crate::message::{MessageMutation, MessageQuery, MessageSubscription};
use crate::milestone::MilestoneMutation;
use crate::note::NoteMutation;
use crate::payment::{PaymentMutation, PaymentQuery};
use crate::project::{ProjectMutation, ProjectQuery};
use crate::task::{BoardSubscription, TaskMutation, TaskQuery};
use crate::ticket::{TicketMutation, TicketQuery};
use crate::workspace::{WorkspaceMutation, WorkspaceQuery};
use anyhow::Context;
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
);

/// The subscription root: live project events, re-authorized on every event.
#[derive(Debug, MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(MessageSubscription, BoardSubscription, ActivitySubscription);

/// Portico's schema.
pub type PorticoSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Query limits.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    pub depth: usize,
    pub complexity: usize,
    /// Nesting of the parser's recursion (lists, objects, fragments).
    pub recursion: usize,
    /// "Did you mean …" suggestions in validation errors.
    pub suggestions: bool,
    /// Tokens, aliases and root fields.
    pub document: DocumentLimits,
    /// Cost budgets (rate limits).
    pub cost: super::cost::CostLimits,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            depth: 12,
            complexity: 5_000,
            recursion: 64,
            suggestions: true,
            document: DocumentLimits::default(),
            cost: super::cost::CostLimits::default(),
        }
    }
}

/// Builds the schema and installs the authorization policy read from its own SDL.
pub fn build_schema(limits: SchemaLimits) -> anyhow::Result<PorticoSchema> {
    let authz = Authz::new();
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    // Before APQ: a key restricted to trusted documents never reads the shared APQ store.
    .extension(crate::apikey::trusted::TrustedDocuments)
    .extension(PersistedQueries {
        limits: limits.document,
    })
    // After every extension that rewrites the text: GET is judged on the final document.
    .extension(crate::graphql::safe_methods::SafeMethods)
    .extension(DocumentLimits {
        depth: limits.depth,
        ..limits.document
    })
    .extension(limits.cost)
    .extension(authz.clone())
    // Also as data, for the single-pass resolver (`flat`), which applies the same policy.
    .data(authz.clone())
    .limit_complexity(limits.complexity)
    .limit_recursive_depth(limits.recursion)
    .limit_directives(50);
    if !limits.suggestions {
        builder = builder.disable_suggestions();
    }
    let schema = builder.finish();
    let policy = Policy::from_sdl(&schema.sdl()).context("reading the authorization policy")?;
    authz.install(policy)?;
    Ok(schema)
}

/// The SDL committed as `schema/schema.graphql`.
pub fn export_sdl() -> anyhow::Result<String> {
    Ok(build_schema(SchemaLimits::default())?.sdl())
}
