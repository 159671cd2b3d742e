//! Tickets: client requests numbered per project, a thread with staff-only internal comments, and
//! the workflow NEW → TO_CLARIFY | REFUSED | ACCEPTED | QUOTED, where acceptance (or, later,
//! payment) turns the ticket into exactly one BACKLOG task.

mod loaders;
pub mod payment;
mod resolvers;
pub mod service;
mod thread;
mod types;
pub mod workflow;

pub use resolvers::{TicketMutation, TicketQuery};
pub use types::{Ticket, TicketKind, TicketStatus};
