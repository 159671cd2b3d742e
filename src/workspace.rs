//! Workspaces (the tenants): settings, members, roles and invitations, with the anti-escalation
//! rules of RBAC (nobody grants what they lack, edits a role above their own, or touches the owner).

mod invitations;
mod loader;
mod members;
mod resolvers;
mod roles;
pub mod service;
mod types;

pub use loader::RoleLoader;
pub use resolvers::{WorkspaceMutation, WorkspaceQuery};
pub use types::{Invitation, Member, Role, RoleView, Workspace};
