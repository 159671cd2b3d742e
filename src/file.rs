//! Files (module E of the spec): folders per project in three zones (internal, shared by staff,
//! client uploads), files with their versions, direct uploads and short-lived download URLs
//! through `storage`, a trash, and each workspace's file rules. The internal zone is invisible to
//! clients everywhere: lists, lookups, the timeline and events.

pub mod attach;
mod download;
mod files;
pub mod folders;
mod kinds;
mod link_resolvers;
pub mod links;
mod loaders;
mod names;
pub mod place;
mod preview;
pub mod purge;
mod resolvers;
pub mod rules;
pub mod settings;
pub mod thumbnail;
pub mod types;
mod upload;
pub mod uploader;

pub use link_resolvers::{UploadLinkMutation, UploadLinkQuery};
pub use loaders::attachments;
pub use resolvers::{FileMutation, FileQuery};
pub use types::File;

use crate::cache::Cache;
use crate::config::FilesConfig;
use crate::db::Db;
use crate::graphql::RequestContext;
use crate::storage::Storage;

/// What the file service works with: the database, the object store, the cache (upload rate)
/// and the file settings.
#[derive(Clone, Copy)]
pub struct Files<'a> {
    pub db: &'a Db,
    pub storage: &'a Storage,
    pub cache: &'a dyn Cache,
    pub config: &'a FilesConfig,
}

impl std::fmt::Debug for Files<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files")
            .field("storage", self.storage)
            .finish_non_exhaustive()
    }
}

impl<'a> Files<'a> {
    /// The request's.
    pub fn of(rc: &'a RequestContext) -> Self {
        Self {
            db: &rc.app.db,
            storage: &rc.app.storage,
            cache: rc.app.cache.as_ref(),
            config: &rc.app.config.files,
        }
    }
}
