//! The GraphQL layer: the schema builder shared by the server, the tests and `export-schema`;
//! the authorization directives and the extension that enforces them; the per-request context.

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
mod schema;
mod shape;
pub mod visibility;

pub use context::RequestContext;
pub use schema::{MutationRoot, PorticoSchema, QueryRoot, SchemaLimits, build_schema, export_sdl};
