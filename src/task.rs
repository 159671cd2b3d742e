//! Kanban tasks: columns, ordering with gapped positions (a move touches one row unless a gap is
//! exhausted), per-project loading in one statement, and board events.

mod loaders;
pub mod moves;
mod position;
mod resolvers;
pub mod service;
mod subscription;
mod types;

pub use loaders::{TaskBatch, connection_for_project};
pub use resolvers::{TaskMutation, TaskQuery};
pub use subscription::{BoardChange, BoardEvent, BoardSubscription};
pub use types::{Task, TaskColumn, TaskFilter, TaskOrigin};
