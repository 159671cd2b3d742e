//! Role-based access control: the closed set of permissions, the built-in roles, and the
//! resolution (cached) of what a user may do in a workspace.

mod access;
mod builtin;
pub mod visibility;

pub use crate::types::permission::{Permission, PermissionSet};
pub use access::{AccessResolver, WorkspaceAccess};
pub use builtin::BuiltinRole;
