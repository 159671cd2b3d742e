//! Identity: users, sessions and tokens. Login, refresh-token rotation with reuse detection,
//! logout, password changes and resets, address checks, the account email queue, and the
//! platform operators' control of account status.

pub mod account_mail;
pub mod account_render;
pub mod brute_force;
pub mod doors;
mod loader;
pub mod mfa;
pub mod mfa_keys;
mod operators;
pub mod recovery;
mod resolvers;
pub mod service;
mod types;

pub use loader::{UserLoader, load_user, load_users};
pub use resolvers::{IdentityMutation, IdentityQuery};
pub use types::{Account, AuthPayload, User, UserStatus};
