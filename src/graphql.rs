//! The GraphQL layer: schema assembly (extensions, limits, policy; the roots are merged in
//! `crate::schema`), the authorization directives and the extension that enforces them, error
//! shape, admission limits, loading (`loaders`, `batch`, `flat`), live re-checks, and the
//! per-request context.

pub mod apq;
pub mod authz;
pub mod batch;
pub mod context;
pub mod cost;
mod depth;
pub mod directives;
pub mod flat;
pub mod input;
pub mod limits;
pub mod live;
pub mod loaders;
pub mod pagination;
pub mod policy;
pub mod safe_methods;
pub mod schema;
mod shape;
pub mod visibility;

pub use context::RequestContext;
pub use schema::SchemaLimits;
