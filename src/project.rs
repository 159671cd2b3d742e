//! Projects: status, phases timeline, progress, next step, and who may see them (staff with
//! `project:read` see all; everyone else only the projects they are a member of).

pub mod dashboard;
mod loaders;
mod resolvers;
pub mod service;
mod types;

pub use resolvers::{ProjectMutation, ProjectQuery};
pub use types::{Project, ProjectStatus};
