//! HTTP: the router and its middleware, the GraphQL endpoints (HTTP and websocket), GraphiQL,
//! health checks and `/metrics`, and the server loop.

mod errors;
mod graphiql;
mod graphql;
mod health;
mod idempotency;
pub mod metrics;
mod router;
mod security;
mod server;
pub mod shutdown;
mod storage;
mod unsubscribe;
mod wire;
pub mod ws;

pub use router::router;
pub use server::serve;
