//! The project activity timeline: every change writes an entry in its own transaction ("Ticket
//! #12 created", "Task moved to In progress"). Staff-only entries are never shown to clients.

mod resolvers;
pub mod service;
mod subscription;

pub use resolvers::ActivityQuery;
pub use service::Entry;
pub use subscription::ActivitySubscription;
