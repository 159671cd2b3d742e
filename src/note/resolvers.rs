//! The private-note mutation and subject enum.

use super::service;
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::{Context, Enum, ID, Object, Result};

/// What a private note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NoteSubject {
    /// A project.
    Project,
    /// A member of the workspace (by user ID).
    Member,
}

impl NoteSubject {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Project => "project",
            Self::Member => "member",
        }
    }
}

/// Private-note mutations.
#[derive(Debug, Default)]
pub struct NoteMutation;

#[Object]
impl NoteMutation {
    /// Sets the staff-only note of a project or member; an empty body removes it.
    #[graphql(directive = requires::apply(Permission::NotePrivate))]
    async fn set_private_note(
        &self,
        ctx: &Context<'_>,
        subject: NoteSubject,
        subject_id: ID,
        body: Option<String>,
    ) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let subject_id = parse_id("subjectId", &subject_id)?;
        service::set(
            &rc.app,
            rc.access().await?,
            subject,
            subject_id,
            body.as_deref(),
        )
        .await?;
        Ok(Some(true))
    }
}
