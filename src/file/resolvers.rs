//! File queries and mutations. Thin: parse arguments, call the service, map the result.

use super::attach::AttachmentTarget;
use super::place::Destination;
use super::settings::{self, RulesChange};
use super::types::{File, FileSettings, FileVersion, Folder, Upload};
use super::upload::{self, NewUpload};
use super::uploader::Uploader;
use super::{Files, files, folders};
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::pagination::{ConnectionFields, Page, connection};
use crate::rbac::Permission;
use crate::types::{ByteCount, parse_id};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, Result};
use std::sync::Arc;

/// File queries.
#[derive(Debug, Default)]
pub struct FileQuery;

#[Object]
impl FileQuery {
    /// The folders of a project the caller may see (the internal zone only with `note:private`),
    /// each with its parent: the client builds the tree.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn folders(&self, ctx: &Context<'_>, project_id: ID) -> Result<Option<Vec<Folder>>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let rows = folders::list(rc.app.db.conn(), rc.access().await?, project_id).await?;
        Ok(Some(rows.into_iter().map(Folder).collect()))
    }

    /// One folder, if the caller may see it.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn folder(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Folder>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(Folder(
            folders::get_visible(rc.app.db.conn(), rc.access().await?, id).await?,
        )))
    }

    /// One file, if the caller may see it (in the trash: staff only).
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn file(&self, ctx: &Context<'_>, id: ID) -> Result<Option<File>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            files::get_visible(rc.app.db.conn(), rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// A project's trash (staff): deleted files, restorable until the purge.
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn file_trash(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last file of the previous page.")] after: Option<String>,
    ) -> Result<Option<Connection<String, File, ConnectionFields>>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let page = Page::new(first, after.as_deref())?;
        let (rows, total, has_next) =
            files::trash(rc.app.db.conn(), rc.access().await?, project_id, page).await?;
        Ok(Some(connection(
            page,
            total,
            has_next,
            rows.into_iter().map(|f| (f.id, File::from(f))),
        )))
    }

    /// The selected workspace's file rules and storage use.
    #[graphql(directive = requires::apply(Permission::WorkspaceRead))]
    async fn file_settings(&self, ctx: &Context<'_>) -> Result<Option<FileSettings>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access().await?;
        let conn = rc.app.db.conn();
        let rules = settings::rules(conn, access.workspace_id, &rc.app.config.files).await?;
        let used = upload::used_bytes(conn, access.workspace_id).await?;
        Ok(Some(FileSettings::new(rules, used)))
    }
}

/// An upload to announce: a new file in `folderId`, or a new version of `fileId`.
#[derive(Debug, InputObject)]
pub struct CreateUploadInput {
    /// The folder of a new file.
    pub folder_id: Option<ID>,
    /// The file this is a new version of.
    pub file_id: Option<ID>,
    /// The ticket, comment or message a new attachment belongs to.
    pub attach_to: Option<AttachToInput>,
    /// Display name (1 to 255 characters, not a path).
    pub name: String,
    /// Exact size in bytes (at least 1).
    pub size: ByteCount,
    /// Declared type; the bytes must match it.
    pub content_type: String,
    /// Hex sha256 of the bytes.
    pub sha256: String,
    /// Version label (default `v1`, `v2`, …).
    pub label: Option<String>,
}

/// What a new attachment belongs to.
#[derive(Debug, InputObject)]
pub struct AttachToInput {
    /// A ticket, a ticket comment or a message.
    pub target: AttachmentTarget,
    /// Its ID.
    pub id: ID,
}

/// Changes to the workspace's file rules; omitted fields keep their value.
#[derive(Debug, InputObject)]
pub struct FileSettingsInput {
    /// Clients may upload into their zone.
    pub clients_may_upload: Option<bool>,
    /// Clients may move their own uploads to the trash.
    pub clients_may_delete: Option<bool>,
    /// Clients may create subfolders in their zone.
    pub clients_may_create_folders: Option<bool>,
    /// Largest file accepted (at most the installation's `FILE_MAX_BYTES`).
    pub max_file_bytes: Option<ByteCount>,
    /// Storage the workspace may use.
    pub quota_bytes: Option<ByteCount>,
}

fn optional_id(field: &'static str, id: Option<&ID>) -> Result<Option<uuid::Uuid>> {
    Ok(id.map(|id| parse_id(field, id)).transpose()?)
}

/// File mutations.
#[derive(Debug, Default)]
pub struct FileMutation;

#[Object]
impl FileMutation {
    /// Creates a subfolder, in its parent's zone (staff; clients in their zone when allowed).
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn create_folder(
        &self,
        ctx: &Context<'_>,
        parent_id: ID,
        name: String,
    ) -> Result<Option<Folder>> {
        let rc = RequestContext::of(ctx)?;
        let parent_id = parse_id("parentId", &parent_id)?;
        let created = folders::create(
            &rc.app.db,
            &rc.app.config.files,
            rc.access().await?,
            parent_id,
            &name,
        )
        .await?;
        Ok(Some(Folder(created)))
    }

    /// Renames a subfolder (staff; standard folders keep their names).
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn rename_folder(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: String,
    ) -> Result<Option<Folder>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(Folder(
            folders::rename(&rc.app.db, rc.access().await?, id, &name).await?,
        )))
    }

    /// Deletes an empty subfolder (staff).
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn delete_folder(&self, ctx: &Context<'_>, id: ID) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        folders::delete(&rc.app.db, rc.access().await?, id).await?;
        Ok(Some(true))
    }

    /// Announces an upload: checks permission, zone, type, size, quota and rate, and answers a
    /// signed PUT URL. The file appears only once `completeUpload` has checked the bytes.
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn create_upload(
        &self,
        ctx: &Context<'_>,
        input: CreateUploadInput,
    ) -> Result<Option<Upload>> {
        let rc = RequestContext::of(ctx)?;
        let announced = NewUpload {
            destination: Destination::from_parts(
                optional_id("folderId", input.folder_id.as_ref())?,
                optional_id("fileId", input.file_id.as_ref())?,
                input
                    .attach_to
                    .map(|a| {
                        Ok::<_, async_graphql::Error>((a.target, parse_id("attachTo.id", &a.id)?))
                    })
                    .transpose()?,
            )?,
            name: input.name,
            size: input.size.0,
            content_type: input.content_type,
            sha256: input.sha256,
            label: input.label,
        };
        let (row, presigned) = upload::create(
            Files::of(rc),
            Uploader::Member(rc.access().await?),
            announced,
        )
        .await?;
        Ok(Some(Upload::new(&row, presigned)))
    }

    /// Checks an uploaded object (size, sha256, the type of its bytes) and makes the file or
    /// version visible; a mismatch deletes it and answers BAD_USER_INPUT.
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn complete_upload(&self, ctx: &Context<'_>, id: ID) -> Result<Option<File>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            upload::complete(Files::of(rc), Uploader::Member(rc.access().await?), id)
                .await?
                .into(),
        ))
    }

    /// Renames a file (staff).
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn rename_file(&self, ctx: &Context<'_>, id: ID, name: String) -> Result<Option<File>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            files::rename(&rc.app.db, rc.access().await?, id, &name)
                .await?
                .into(),
        ))
    }

    /// Moves a file to another folder of its project (staff); it takes that folder's zone.
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn move_file(&self, ctx: &Context<'_>, id: ID, folder_id: ID) -> Result<Option<File>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let folder_id = parse_id("folderId", &folder_id)?;
        Ok(Some(
            files::move_to(&rc.app.db, rc.access().await?, id, folder_id)
                .await?
                .into(),
        ))
    }

    /// Moves a file to the trash (staff; clients their own uploads when allowed).
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn delete_file(&self, ctx: &Context<'_>, id: ID) -> Result<Option<File>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            files::delete(&rc.app.db, &rc.app.config.files, rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// Takes a file back from the trash (staff).
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn restore_file(&self, ctx: &Context<'_>, id: ID) -> Result<Option<File>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            files::restore(&rc.app.db, rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// Relabels a version (staff): `v1`, `v2`, `final`, …
    #[graphql(directive = requires::apply(Permission::FileWrite))]
    async fn label_file_version(
        &self,
        ctx: &Context<'_>,
        id: ID,
        label: String,
    ) -> Result<Option<FileVersion>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let access = rc.access().await?;
        let version = files::label_version(&rc.app.db, access, id, &label).await?;
        let file = files::get_visible(rc.app.db.conn(), access, version.file_id).await?;
        Ok(Some(FileVersion {
            version,
            file: Arc::new(file),
        }))
    }

    /// Changes the selected workspace's file rules.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn update_file_settings(
        &self,
        ctx: &Context<'_>,
        input: FileSettingsInput,
    ) -> Result<Option<FileSettings>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access().await?;
        let bytes = |b: Option<ByteCount>| b.map(|b| u64::try_from(b.0).unwrap_or(0));
        let change = RulesChange {
            clients_may_upload: input.clients_may_upload,
            clients_may_delete: input.clients_may_delete,
            clients_may_create_folders: input.clients_may_create_folders,
            max_file_bytes: bytes(input.max_file_bytes),
            quota_bytes: bytes(input.quota_bytes),
        };
        let rules = settings::update(&rc.app.db, &rc.app.config.files, access, change).await?;
        let used = upload::used_bytes(rc.app.db.conn(), access.workspace_id).await?;
        Ok(Some(FileSettings::new(rules, used)))
    }
}
