//! Role-based access control: the closed set of permissions, the built-in roles, and the
//! resolution (cached) of what a user may do in a workspace.

mod access;
pub mod audience;
mod builtin;
pub mod visibility;

pub use crate::types::permission::{Permission, PermissionSet};
pub use access::{AccessResolver, WorkspaceAccess};
pub use builtin::BuiltinRole;

/// The cache key of a workspace slug's ID: written by workspace selection (`RequestContext`),
/// forgotten by the workspace domain when a slug changes.
pub fn workspace_slug_cache_key(slug: &str) -> String {
    format!("ws:slug:{slug}")
}
