//! Who uploads: a member of the workspace, or someone without an account through an upload
//! link. Both go through the same checks; a link's uploads land in its folder (a client-zone
//! one), count against its file limit and are recorded under the link's creator, marked with it.

use super::folders;
use super::place::{self, Destination, Place};
use super::rules::Zone;
use super::settings::FileRules;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use entity::{folder, upload_link};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use uuid::Uuid;

/// The one uploading.
#[derive(Debug, Clone, Copy)]
pub enum Uploader<'a> {
    Member(&'a WorkspaceAccess),
    Link(&'a upload_link::Model),
}

impl Uploader<'_> {
    pub fn workspace_id(&self) -> Uuid {
        match self {
            Self::Member(access) => access.workspace_id,
            Self::Link(link) => link.workspace_id,
        }
    }

    /// Who the file is recorded under: the member, or the link's creator.
    pub fn user_id(&self) -> Uuid {
        match self {
            Self::Member(access) => access.user_id,
            Self::Link(link) => link.created_by,
        }
    }

    pub fn link_id(&self) -> Option<Uuid> {
        match self {
            Self::Member(_) => None,
            Self::Link(link) => Some(link.id),
        }
    }

    /// The key of this uploader's per-minute counter.
    pub fn rate_key(&self) -> String {
        match self {
            Self::Member(access) => {
                format!("files:uploads:{}:{}", access.workspace_id, access.user_id)
            }
            Self::Link(link) => format!("files:uploads:link:{}", link.id),
        }
    }

    /// Where an upload goes, checked for this uploader: a member's destination, or the link's
    /// folder, which must still be a client-zone folder.
    pub async fn place<C: ConnectionTrait>(
        &self,
        conn: &C,
        rules: &FileRules,
        destination: Destination,
    ) -> ApiResult<Place> {
        match self {
            Self::Member(access) => place::resolve(conn, access, rules, destination).await,
            Self::Link(link) => {
                let folder = Scoped::new(conn, link.workspace_id)
                    .find::<folder::Entity>()
                    .filter(folder::Column::Id.eq(link.folder_id))
                    .filter(folder::Column::Zone.eq(Zone::Client.as_str()))
                    .one(conn)
                    .await?
                    .ok_or(ApiError::NotFound("upload link"))?;
                Ok(Place {
                    project_id: folder.project_id,
                    zone: Zone::Client,
                    folder_id: Some(folder.id),
                    attached: None,
                    existing: None,
                })
            }
        }
    }
}

/// A link's folder, for staff creating the link: visible, and of the client zone.
pub async fn link_folder<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    folder_id: Uuid,
) -> ApiResult<folder::Model> {
    let folder = folders::get_visible(conn, access, folder_id).await?;
    if Zone::parse(&folder.zone) != Zone::Client {
        return Err(ApiError::bad_field(
            "folderId",
            "upload links lead into a client-zone folder (Branding, Content or their subfolders)",
        ));
    }
    Ok(folder)
}
