//! Portico: a multi-tenant GraphQL gateway for client portals, with field-level authorization.
//!
//! # Layers
//!
//! Modules are layered, and each imports only from its own layer or below (`tests/architecture.rs`
//! enforces it, with the debts that predate it listed there to be paid):
//!
//! 0. **Foundation**: `types` (parsed values, permissions), `error`, `config`, `telemetry`,
//!    `events` (the typed domain events).
//! 1. **Storage and messaging**: `db` (the only door to the tables: `Scoped` per tenant, `Global`,
//!    the outbox's and the job runner's storage), `storage` (file bytes and their signed URLs),
//!    `mail` (SMTP, or `.eml` files in the embedded default), `cache`, `pubsub`.
//! 2. **Access**: `auth` (who is calling: sessions, API keys, MFA), then `rbac` (what they may
//!    reach: workspace access, project visibility, an API key's access).
//! 3. **Runtime**: `outbox` (the dispatcher), `jobs` (the periodic-job runner), `graphql`
//!    (context, authorization extension, admission limits, loading, live re-checks).
//! 4. **Domains**: `identity`, `workspace`, `project`, `task`, `ticket`, `milestone`, `note`,
//!    `activity`, `message`, `payment`, `apikey`, `file`, `notification`, `webhook`, `audit`.
//! 5. **Composition**: `schema` (every domain's roots merged), `app` (the container and the job
//!    list), `http`, `bootstrap`.
//! 6. **Entry**: `cli`.
//!
//! A domain asks the access layer (`rbac`), never another domain, whether a caller may see
//! something; it imports another domain only along an edge listed in the architecture test.
//!
//! # A domain
//!
//! `src/<domain>.rs` (module doc, re-exports) and `src/<domain>/`:
//! - `types.rs`: its GraphQL types, built from entity `Model`s (which are never GraphQL types),
//!   a doc on every field, guarded fields nullable.
//! - `resolvers.rs`: thin `<Domain>Query` / `<Domain>Mutation`, each root field with its
//!   directive (`requires`, `authenticated`, `platformAdmin`, `public`).
//! - `service.rs`: the rules and transactions; inside, data goes through `db::Scoped` (or, saying
//!   why, `db::AcrossTenants`), and events through `txn.scoped(ws).emit(DomainEvent::…)`. One
//!   rule for the first argument, by what the function is:
//!   - an operation that owns its transaction: the handles it uses (`db: &Db`, or the domain's
//!     bundle of them, such as `file::Files`), then the caller's `&WorkspaceAccess` (or
//!     `&UserPrincipal`), then the arguments. Older domains take the `App` container instead, a
//!     debt listed in the architecture test; a new domain does not;
//!   - a step inside a caller's transaction (another domain's, along a listed edge, such as a
//!     payment settling its ticket): `scoped: &Scoped<'_, C>`, then the actor, then the
//!     arguments;
//!   - a read usable inside or outside a transaction (`get_visible`): `conn: &C`, then the
//!     access;
//!   - a batch load of a list's relation (called through `graphql::batch`): `db: &Db`, then the
//!     workspace and the parent IDs.
//! - `loaders.rs`: its request loaders (`impl graphql::loaders::RequestLoader`, reached by
//!   `rc.loader::<T>()`) and batch loads of its relations, when it has any.
//! - `subscriptions.rs`: live fields, through `graphql::live::project_stream`, when it has any.
//!
//! It registers in a few shared places: its module here; its roots in `schema.rs`; its
//! event variants in `events.rs`; its periodic jobs in `App::jobs` (bound to the container in
//! `src/app/`, so the domain never imports `app`); its tables in `entity/` and
//! `migration/`; its operations in the role matrix (`tests/api/authz.rs`).

// The merged GraphQL roots' futures are deep: proving they are `Send` needs more than the
// default 128 levels.
#![recursion_limit = "256"]

pub mod activity;
pub mod apikey;
pub mod app;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod file;
pub mod graphql;
pub mod http;
pub mod identity;
pub mod jobs;
pub mod mail;
pub mod message;
pub mod milestone;
pub mod note;
pub mod notification;
pub mod outbox;
pub mod payment;
pub mod project;
pub mod pubsub;
pub mod rbac;
pub mod schema;
pub mod storage;
pub mod task;
pub mod telemetry;
pub mod ticket;
pub mod types;
pub mod webhook;
pub mod workspace;

pub use app::{App, AppState};
pub use error::{ApiError, ApiResult};

/// Installs ring as the process-wide rustls crypto provider. Several dependencies enable different
/// providers, and rustls panics on first use when it cannot pick one, so call this first thing.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
