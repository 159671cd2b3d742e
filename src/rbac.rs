//! Role-based access control: the closed set of permissions, the built-in roles, and the
//! resolution (cached) of what a user may do in a workspace.

mod access;
mod builtin;
mod permission;

pub use access::{AccessResolver, WorkspaceAccess};
pub use builtin::BuiltinRole;
pub use permission::{Permission, PermissionSet};
