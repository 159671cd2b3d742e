//! GraphQL types of the file domain, built from entity models (which are never GraphQL types).

use super::preview::Thumbnail;
use super::rules::Zone;
use super::settings::FileRules;
use super::{Files, download};
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::pagination::{ConnectionFields, Page, connection};
use crate::identity::User;
use crate::rbac::Permission;
use crate::storage::{Disposition, PresignedPut};
use crate::types::ByteCount;
use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{file, file_upload, file_version, folder};
use std::sync::Arc;

/// How a download URL shows the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum FileDisposition {
    /// Saved as a file.
    Attachment,
    /// Shown in the browser (images and PDFs only).
    Inline,
}

impl From<FileDisposition> for Disposition {
    fn from(d: FileDisposition) -> Self {
        match d {
            FileDisposition::Attachment => Disposition::Attachment,
            FileDisposition::Inline => Disposition::Inline,
        }
    }
}

/// A folder of a project, built only from a folder the caller was checked to see.
#[derive(Debug, Clone)]
pub struct Folder(pub(super) folder::Model);

#[Object]
impl Folder {
    /// Folder ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The project.
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.to_string())
    }
    /// The parent folder; null for a top-level one.
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_id.map(|id| ID(id.to_string()))
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Who sees and writes its files.
    async fn zone(&self) -> Zone {
        Zone::parse(&self.0.zone)
    }
    /// A standard folder (Branding, Content, Deliverables, Internal): never renamed, moved or deleted.
    async fn system(&self) -> bool {
        self.0.system_key.is_some()
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its files (not those in the trash), by ID.
    async fn files(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last file of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, File, ConnectionFields>> {
        let rc = RequestContext::of(ctx)?;
        let page = Page::new(first, after.as_deref())?;
        let (rows, total, has_next) =
            super::files::in_folder(rc.app.db.conn(), rc.access().await?, &self.0, page).await?;
        Ok(connection(
            page,
            total,
            has_next,
            rows.into_iter().map(|f| (f.id, File::from(f))),
        ))
    }
}

/// A file, at its current version.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct File {
    /// File ID.
    pub id: ID,
    /// The project.
    pub project_id: ID,
    /// Its folder; null for an attachment.
    pub folder_id: Option<ID>,
    /// What an attachment belongs to; null for a file in a folder.
    pub attached_to: Option<super::attach::AttachmentTarget>,
    /// The ticket, comment or message an attachment belongs to.
    pub attached_id: Option<ID>,
    /// Display name.
    pub name: String,
    /// Its folder's zone.
    pub zone: Zone,
    /// Type, checked against the bytes at upload.
    pub content_type: String,
    /// Size in bytes of the current version.
    pub size: ByteCount,
    /// Hex sha256 of the current version.
    pub sha256: String,
    /// Number of the current version.
    pub version: i32,
    /// When it was first uploaded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it went to the trash (only staff see files in the trash).
    pub deleted_at: Option<DateTime<Utc>>,
    /// The upload link it came through, when someone without an account sent it.
    pub upload_link_id: Option<ID>,
    #[graphql(skip)]
    pub model: Arc<file::Model>,
}

impl From<file::Model> for File {
    fn from(f: file::Model) -> Self {
        Self {
            id: ID(f.id.to_string()),
            project_id: ID(f.project_id.to_string()),
            folder_id: f.folder_id.map(|id| ID(id.to_string())),
            attached_to: f
                .attached_to
                .as_deref()
                .and_then(super::attach::AttachmentTarget::parse),
            attached_id: f.attached_id.map(|id| ID(id.to_string())),
            name: f.name.clone(),
            zone: Zone::parse(&f.zone),
            content_type: f.content_type.clone(),
            size: ByteCount(f.size_bytes),
            sha256: f.sha256.clone(),
            version: f.current_version,
            created_at: f.created_at,
            updated_at: f.updated_at,
            deleted_at: f.deleted_at,
            upload_link_id: f.upload_link_id.map(|id| ID(id.to_string())),
            model: Arc::new(f),
        }
    }
}

#[ComplexObject]
impl File {
    /// Who uploaded it first.
    async fn uploaded_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.model.uploaded_by).await?)
    }

    /// Every version, newest first.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<FileVersion>> {
        let rc = RequestContext::of(ctx)?;
        let rows = super::loaders::versions(rc, self.model.workspace_id, self.model.id).await?;
        Ok(rows
            .into_iter()
            .map(|v| FileVersion {
                version: v,
                file: self.model.clone(),
            })
            .collect())
    }

    /// The current version's thumbnail; null for a file that gets none (not an image, too large).
    async fn thumbnail(&self, ctx: &Context<'_>) -> Result<Option<Thumbnail>> {
        let rc = RequestContext::of(ctx)?;
        let rows = super::loaders::versions(rc, self.model.workspace_id, self.model.id).await?;
        Ok(rows
            .iter()
            .find(|v| v.number == self.model.current_version)
            .and_then(|v| Thumbnail::of(v, &self.model)))
    }

    /// A URL of the current version, valid for a short time (`FILE_DOWNLOAD_URL_TTL_SECS`).
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn download_url(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "FileDisposition::Attachment")] disposition: FileDisposition,
    ) -> Result<Option<String>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access().await?;
        let url = download::mint(
            Files::of(rc),
            access.user_id,
            &self.model,
            None,
            disposition.into(),
        )
        .await?;
        Ok(Some(url))
    }
}

/// One upload of a file, kept when a new version arrives.
#[derive(Debug, Clone)]
pub struct FileVersion {
    pub version: file_version::Model,
    pub file: Arc<file::Model>,
}

#[Object]
impl FileVersion {
    /// Version ID.
    async fn id(&self) -> ID {
        ID(self.version.id.to_string())
    }
    /// 1, 2, … within the file.
    async fn number(&self) -> i32 {
        self.version.number
    }
    /// `v1`, `v2`, `final`, …
    async fn label(&self) -> &str {
        &self.version.label
    }
    /// Type.
    async fn content_type(&self) -> &str {
        &self.version.content_type
    }
    /// Size in bytes.
    async fn size(&self) -> ByteCount {
        ByteCount(self.version.size_bytes)
    }
    /// Hex sha256.
    async fn sha256(&self) -> &str {
        &self.version.sha256
    }
    /// When it was uploaded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.version.created_at
    }
    /// Who uploaded it.
    async fn uploaded_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.version.uploaded_by).await?)
    }
    /// Its thumbnail; null for a version that gets none (not an image, too large).
    async fn thumbnail(&self) -> Option<Thumbnail> {
        Thumbnail::of(&self.version, &self.file)
    }
    /// A URL of this version, valid for a short time (`FILE_DOWNLOAD_URL_TTL_SECS`).
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn download_url(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "FileDisposition::Attachment")] disposition: FileDisposition,
    ) -> Result<Option<String>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access().await?;
        let url = download::mint(
            Files::of(rc),
            access.user_id,
            &self.file,
            Some(&self.version),
            disposition.into(),
        )
        .await?;
        Ok(Some(url))
    }
}

/// A header an upload must send exactly as given.
#[derive(Debug, Clone, SimpleObject)]
pub struct HttpHeader {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// An announced upload: PUT the bytes to `url` with `headers`, then call `completeUpload`.
#[derive(Debug, Clone, SimpleObject)]
pub struct Upload {
    /// Upload ID, for `completeUpload`.
    pub id: ID,
    /// Where to send the bytes.
    pub url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers to send with the bytes (content type, checksum, `If-None-Match`).
    pub headers: Vec<HttpHeader>,
    /// When the URL stops working.
    pub expires_at: DateTime<Utc>,
}

impl Upload {
    pub fn new(upload: &file_upload::Model, presigned: PresignedPut) -> Self {
        Self {
            id: ID(upload.id.to_string()),
            url: presigned.url,
            method: "PUT".to_owned(),
            headers: presigned
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            expires_at: presigned.expires_at,
        }
    }
}

/// A workspace's file rules.
#[derive(Debug, Clone, SimpleObject)]
pub struct FileSettings {
    /// Clients may upload into their zone.
    pub clients_may_upload: bool,
    /// Clients may move their own uploads to the trash.
    pub clients_may_delete: bool,
    /// Clients may create subfolders in their zone.
    pub clients_may_create_folders: bool,
    /// Largest file accepted, in bytes.
    pub max_file_bytes: ByteCount,
    /// Storage the workspace may use, in bytes (every version and the trash count).
    pub quota_bytes: ByteCount,
    /// Storage in use, in bytes: every version (the trash included) and the uploads still open.
    pub used_bytes: ByteCount,
}

impl FileSettings {
    pub fn new(r: FileRules, used_bytes: u64) -> Self {
        Self {
            clients_may_upload: r.clients_may_upload,
            clients_may_delete: r.clients_may_delete,
            clients_may_create_folders: r.clients_may_create_folders,
            max_file_bytes: r.max_file_bytes.into(),
            quota_bytes: r.quota_bytes.into(),
            used_bytes: used_bytes.into(),
        }
    }
}
