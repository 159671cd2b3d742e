//! Database access: the connection, transactions, and the only two doors to the tables:
//! [`Scoped`] for tenant-owned rows and [`Global`] for users, sessions and workspaces.
//!
//! Raw `Entity::find()` and friends are denied by clippy (`clippy.toml`, `disallowed-methods`)
//! everywhere but `db/scope.rs`, so code outside this module cannot express an unscoped query.

mod connect;
mod scope;

pub use connect::{Db, Tx};
pub use scope::{Global, Scoped};
