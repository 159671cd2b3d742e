//! Milestone types and mutations.

use super::service;
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::identity::User;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::{ComplexObject, Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::milestone;
use uuid::Uuid;

/// What a milestone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum MilestoneKind {
    /// The mockup.
    Mockup,
    /// The content.
    Content,
    /// The delivery.
    Delivery,
    /// Something else (see the title).
    Other,
}

impl MilestoneKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mockup => "MOCKUP",
            Self::Content => "CONTENT",
            Self::Delivery => "DELIVERY",
            Self::Other => "OTHER",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Mockup => "Mockup",
            Self::Content => "Content",
            Self::Delivery => "Delivery",
            Self::Other => "Milestone",
        }
    }

    fn parse(stored: &str) -> Self {
        match stored {
            "MOCKUP" => Self::Mockup,
            "CONTENT" => Self::Content,
            "DELIVERY" => Self::Delivery,
            _ => Self::Other,
        }
    }
}

/// Where a milestone stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum MilestoneStatus {
    /// Awaiting the client.
    Pending,
    /// Validated by the client.
    Validated,
    /// Rejected by the client.
    Rejected,
}

impl MilestoneStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Validated => "VALIDATED",
            Self::Rejected => "REJECTED",
        }
    }

    fn parse(stored: &str) -> Self {
        match stored {
            "VALIDATED" => Self::Validated,
            "REJECTED" => Self::Rejected,
            _ => Self::Pending,
        }
    }
}

/// A milestone to validate.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Milestone {
    /// Milestone ID.
    pub id: ID,
    /// Kind.
    pub kind: MilestoneKind,
    /// Title.
    pub title: String,
    /// Status.
    pub status: MilestoneStatus,
    /// When validation was requested.
    pub requested_at: DateTime<Utc>,
    /// When the client decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The client's comment.
    pub comment: Option<String>,
    #[graphql(skip)]
    pub decided_by: Option<Uuid>,
}

impl From<milestone::Model> for Milestone {
    fn from(m: milestone::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            kind: MilestoneKind::parse(&m.kind),
            title: m.title,
            status: MilestoneStatus::parse(&m.status),
            requested_at: m.requested_at,
            decided_at: m.decided_at,
            comment: m.comment,
            decided_by: m.decided_by,
        }
    }
}

#[ComplexObject]
impl Milestone {
    /// Who decided.
    async fn decided_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.decided_by else {
            return Ok(None);
        };
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, id).await?)
    }
}

/// Milestone mutations.
#[derive(Debug, Default)]
pub struct MilestoneMutation;

#[Object]
impl MilestoneMutation {
    /// Asks the client to validate a milestone of a project.
    #[graphql(directive = requires::apply(Permission::ProjectWrite))]
    async fn request_validation(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        kind: MilestoneKind,
        title: Option<String>,
    ) -> Result<Option<Milestone>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        Ok(Some(
            service::request(
                &rc.app,
                rc.access().await?,
                project_id,
                kind,
                title.as_deref(),
            )
            .await?
            .into(),
        ))
    }

    /// Validates (`validate: true`) or rejects a pending milestone, with an optional comment.
    /// The decision is final.
    #[graphql(directive = requires::apply(Permission::MilestoneValidate))]
    async fn decide_milestone(
        &self,
        ctx: &Context<'_>,
        id: ID,
        validate: bool,
        comment: Option<String>,
    ) -> Result<Option<Milestone>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            service::decide(
                &rc.app,
                rc.access().await?,
                id,
                validate,
                comment.as_deref(),
            )
            .await?
            .into(),
        ))
    }
}
