//! Upload links in GraphQL: staff create, list and revoke them; someone without an account
//! uploads through one with the two public mutations (the token, and the PIN when it has one).

use super::Files;
use super::links::{self, NewLink};
use super::place::Destination;
use super::types::Upload;
use super::upload::{self, NewUpload};
use super::uploader::Uploader;
use crate::graphql::RequestContext;
use crate::graphql::directives::{public, requires};
use crate::rbac::Permission;
use crate::types::{ByteCount, parse_id};
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::upload_link;

/// An upload-only link into a client-zone folder, for someone without an account.
#[derive(Debug, Clone, SimpleObject)]
pub struct UploadLink {
    /// Link ID.
    pub id: ID,
    /// What staff called it.
    pub name: String,
    /// The project.
    pub project_id: ID,
    /// The folder its files land in.
    pub folder_id: ID,
    /// Whether it asks for a PIN.
    pub has_pin: bool,
    /// How many files it takes in all; null for no limit.
    pub max_files: Option<i32>,
    /// Files received through it.
    pub files_used: i32,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When staff revoked it.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<upload_link::Model> for UploadLink {
    fn from(l: upload_link::Model) -> Self {
        Self {
            id: ID(l.id.to_string()),
            name: l.name,
            project_id: ID(l.project_id.to_string()),
            folder_id: ID(l.folder_id.to_string()),
            has_pin: l.pin_hash.is_some(),
            max_files: l.max_files,
            files_used: l.files_used,
            expires_at: l.expires_at,
            revoked_at: l.revoked_at,
            created_at: l.created_at,
        }
    }
}

/// A new link and its token, shown this once.
#[derive(Debug, Clone, SimpleObject)]
pub struct CreatedUploadLink {
    /// The link.
    pub link: UploadLink,
    /// The secret token (`pul_…`): whoever holds it (and the PIN) may upload through the link.
    pub token: String,
}

/// A link to create.
#[derive(Debug, InputObject)]
pub struct CreateUploadLinkInput {
    /// A client-zone folder.
    pub folder_id: ID,
    /// What to call it (1 to 200 characters).
    pub name: String,
    /// How long it works, 1 to 720 hours.
    #[graphql(default = 168)]
    pub expires_in_hours: i32,
    /// A PIN of 4 to 12 digits the uploader must give.
    pub pin: Option<String>,
    /// How many files it takes in all, 1 to 1000.
    pub max_files: Option<i32>,
}

/// A file to send through a link.
#[derive(Debug, InputObject)]
pub struct LinkUploadInput {
    /// Display name (1 to 255 characters, not a path).
    pub name: String,
    /// Exact size in bytes (at least 1).
    pub size: ByteCount,
    /// Declared type; the bytes must match it.
    pub content_type: String,
    /// Hex sha256 of the bytes.
    pub sha256: String,
}

/// Upload-link queries.
#[derive(Debug, Default)]
pub struct UploadLinkQuery;

#[Object]
impl UploadLinkQuery {
    /// A project's upload links (staff), newest first.
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn upload_links(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<Option<Vec<UploadLink>>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let rows = links::list(rc.app.db.conn(), rc.access().await?, project_id).await?;
        Ok(Some(rows.into_iter().map(UploadLink::from).collect()))
    }
}

/// Upload-link mutations.
#[derive(Debug, Default)]
pub struct UploadLinkMutation;

#[Object]
impl UploadLinkMutation {
    /// Creates an upload-only link into a client-zone folder (staff); its token is shown once.
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn create_upload_link(
        &self,
        ctx: &Context<'_>,
        input: CreateUploadLinkInput,
    ) -> Result<Option<CreatedUploadLink>> {
        let rc = RequestContext::of(ctx)?;
        let new = NewLink {
            folder_id: parse_id("folderId", &input.folder_id)?,
            name: input.name,
            expires_in_hours: input.expires_in_hours,
            pin: input.pin,
            max_files: input.max_files,
        };
        let (link, token) = links::create(&rc.app.db, rc.access().await?, new).await?;
        Ok(Some(CreatedUploadLink {
            link: link.into(),
            token,
        }))
    }

    /// Revokes an upload link (staff): it answers NOT_FOUND from then on.
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn revoke_upload_link(&self, ctx: &Context<'_>, id: ID) -> Result<Option<UploadLink>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            links::revoke(&rc.app.db, rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// Announces a file sent through an upload link, without an account: the same checks as
    /// `createUpload` (type, size, quota, rate), and the link's PIN and file limit.
    #[graphql(directive = public::apply())]
    async fn upload_through_link(
        &self,
        ctx: &Context<'_>,
        token: String,
        pin: Option<String>,
        input: LinkUploadInput,
    ) -> Result<Option<Upload>> {
        let rc = RequestContext::of(ctx)?;
        let f = Files::of(rc);
        let link = links::open(f, &token, pin.as_deref()).await?;
        let announced = NewUpload {
            destination: Destination::Folder(link.folder_id),
            name: input.name,
            size: input.size.0,
            content_type: input.content_type,
            sha256: input.sha256,
            label: None,
        };
        let (row, presigned) = upload::create(f, Uploader::Link(&link), announced).await?;
        Ok(Some(Upload::new(&row, presigned)))
    }

    /// Completes a file sent through an upload link (the same checks as `completeUpload`).
    #[graphql(directive = public::apply())]
    async fn complete_link_upload(
        &self,
        ctx: &Context<'_>,
        token: String,
        pin: Option<String>,
        id: ID,
    ) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let f = Files::of(rc);
        let id = parse_id("id", &id)?;
        let link = links::open(f, &token, pin.as_deref()).await?;
        upload::complete(f, Uploader::Link(&link), id).await?;
        Ok(Some(true))
    }
}
