//! Where an upload lands: a folder, a file it is a new version of, or what it is attached to;
//! resolved with the caller's rights (NOT_FOUND for what they cannot see, FORBIDDEN for what they
//! see but may not write).

use super::attach::{self, AttachmentTarget};
use super::rules::{self, Zone};
use super::settings::FileRules;
use super::{files, folders};
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use entity::file;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Where an upload is meant to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// A new file in a folder.
    Folder(Uuid),
    /// A new version of a file.
    File(Uuid),
    /// A new attachment.
    Attachment(AttachmentTarget, Uuid),
}

impl Destination {
    /// Exactly one of the three.
    pub fn from_parts(
        folder_id: Option<Uuid>,
        file_id: Option<Uuid>,
        attach: Option<(AttachmentTarget, Uuid)>,
    ) -> ApiResult<Self> {
        match (folder_id, file_id, attach) {
            (Some(folder), None, None) => Ok(Self::Folder(folder)),
            (None, Some(file), None) => Ok(Self::File(file)),
            (None, None, Some((target, id))) => Ok(Self::Attachment(target, id)),
            _ => Err(ApiError::bad_input(
                "give exactly one of `folderId`, `fileId` and `attachTo`",
            )),
        }
    }

    /// As stored on an upload row.
    pub fn of_upload(upload: &entity::file_upload::Model) -> ApiResult<Self> {
        let attach = match (&upload.attached_to, upload.attached_id) {
            (Some(kind), Some(id)) => Some((
                AttachmentTarget::parse(kind)
                    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("unknown target {kind}")))?,
                id,
            )),
            _ => None,
        };
        Self::from_parts(upload.folder_id, upload.file_id, attach)
    }
}

/// A resolved destination, checked for writing.
#[derive(Debug, Clone)]
pub struct Place {
    pub project_id: Uuid,
    pub zone: Zone,
    pub folder_id: Option<Uuid>,
    pub attached: Option<(AttachmentTarget, Uuid)>,
    /// The file a new version is for.
    pub existing: Option<file::Model>,
}

/// Resolves `destination` and checks `access` may upload there.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    rules_in_force: &FileRules,
    destination: Destination,
) -> ApiResult<Place> {
    match destination {
        Destination::Folder(id) => {
            let folder = folders::get_visible(conn, access, id).await?;
            let zone = Zone::parse(&folder.zone);
            rules::may_upload(access, zone, rules_in_force)?;
            Ok(Place {
                project_id: folder.project_id,
                zone,
                folder_id: Some(folder.id),
                attached: None,
                existing: None,
            })
        }
        Destination::Attachment(target, id) => {
            let holder = attach::visible(conn, access, target, id).await?;
            attach::may_attach(access, target, &holder)?;
            Ok(Place {
                project_id: holder.project_id,
                zone: holder.zone,
                folder_id: None,
                attached: Some((target, id)),
                existing: None,
            })
        }
        Destination::File(id) => {
            let existing = files::get_visible(conn, access, id).await?;
            if existing.deleted_at.is_some() {
                return Err(ApiError::conflict(
                    "the file is in the trash: restore it first",
                ));
            }
            // A client adds versions only to their own uploads.
            if !access.is_staff() && existing.uploaded_by != access.user_id {
                return Err(ApiError::forbidden(
                    "only staff add versions to others' files",
                ));
            }
            let zone = Zone::parse(&existing.zone);
            let attached = match (&existing.attached_to, existing.attached_id) {
                (Some(kind), Some(target_id)) => {
                    AttachmentTarget::parse(kind).map(|t| (t, target_id))
                }
                _ => None,
            };
            match (existing.folder_id, attached) {
                (Some(folder), _) => {
                    folders::get_visible(conn, access, folder).await?;
                    rules::may_upload(access, zone, rules_in_force)?;
                }
                (None, Some((target, target_id))) => {
                    attach::visible(conn, access, target, target_id).await?;
                    access.require(crate::rbac::Permission::FileWrite)?;
                }
                (None, None) => return Err(ApiError::NotFound("file")),
            }
            Ok(Place {
                project_id: existing.project_id,
                zone,
                folder_id: existing.folder_id,
                attached,
                existing: Some(existing),
            })
        }
    }
}
