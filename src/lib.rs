//! Portico: a multi-tenant GraphQL gateway for client portals, with field-level authorization.
//!
//! Layout: infrastructure modules (`config`, `app`, `db`, `cache`, `pubsub`, `auth`, `rbac`,
//! `graphql`, `http`) and one module per domain (`identity`, `workspace`, `project`, `task`), each with its GraphQL
//! types and resolvers, its service (business rules, transactions) and its data access.

pub mod activity;
pub mod apikey;
pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod identity;
pub mod jobs;
pub mod message;
pub mod milestone;
pub mod note;
pub mod outbox;
pub mod payment;
pub mod project;
pub mod pubsub;
pub mod rbac;
pub mod task;
pub mod telemetry;
pub mod ticket;
pub mod types;
pub mod workspace;

pub use app::{App, AppState};
pub use error::{ApiError, ApiResult};

/// Installs ring as the process-wide rustls crypto provider. Several dependencies enable different
/// providers, and rustls panics on first use when it cannot pick one, so call this first thing.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
