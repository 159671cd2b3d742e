//! Partner API keys: created by `apikey:manage` holders with a subset of their own permissions
//! (optionally restricted to some projects), shown once as `pk_<env>_<public id>_<secret>`, stored
//! as a hash, listed with their last use, rotated with a grace period, revoked on every instance at
//! once. A key acts with exactly its scopes, in exactly its workspace, through the same guards.

mod resolvers;
pub mod service;
pub mod trusted;

pub use resolvers::{ApiKeyMutation, ApiKeyQuery};
