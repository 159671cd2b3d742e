//! The audit log, read side and upkeep: who did what, where, with which result. Events are
//! written by the runtime, not by domains: every root field runs in an audit frame
//! (`graphql::authz::audit`), jobs and webhooks in theirs, and `Tx::commit` appends the event of
//! a change in the change's own transaction (`db::audit`). Each workspace's events form a hash
//! chain (the platform's one more); `portico audit verify` and `verifyAuditChain` check them.

pub mod export;
mod resolvers;
pub mod retention;
mod types;

pub use resolvers::{AuditMutation, AuditQuery};
