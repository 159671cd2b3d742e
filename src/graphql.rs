//! The GraphQL layer, by concern:
//! - [`admission`]: what a document must pass before it runs (token, alias, root-field and depth
//!   limits, persisted queries, GET's safe methods, cost budgets, input hygiene);
//! - [`authz`]: the authorization directives, the policy read from the SDL, the extension that
//!   applies it to every field, and the spec shape of field errors;
//! - [`load`]: loading relations (per-request loaders found by type, deterministic batches,
//!   the single-pass resolver for lists of thousands, pagination);
//! - [`context`] (the per-request context), [`live`] (subscriptions re-checked per event),
//!   [`observe`] (every operation's metrics) and [`schema`] (assembly: extensions, limits,
//!   policy; the roots are merged in `crate::schema`).
//!
//! The submodules are also re-exported here under their short names (`graphql::flat`,
//! `graphql::policy`, …).

pub mod admission;
pub mod authz;
pub mod context;
pub mod live;
pub mod load;
pub mod observe;
pub mod schema;

pub use admission::{apq, cost, input, limits, safe_methods};
pub use authz::{directives, policy, visibility};
pub use context::RequestContext;
pub use load::{batch, flat, loaders, pagination};
pub use schema::SchemaLimits;
