//! Milestones the client validates (mockup, content, delivery, or free-form). Staff request a
//! validation; the client validates or rejects it once, with an optional comment; the decision is
//! final (a new request is needed to ask again).

mod resolvers;
pub mod service;

pub use resolvers::{Milestone, MilestoneKind, MilestoneMutation, MilestoneStatus};
