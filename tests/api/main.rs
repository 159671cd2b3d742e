//! Integration tests: one binary, one module per domain. Each test starts the real server on
//! port 0 against its own freshly created database (Postgres by default, SQLite with
//! `PORTICO_TEST_DB=sqlite`), and drops it afterwards.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod helpers;
mod mailbox;
mod s3;
mod smtp;
mod statements;
mod test_db;

mod account_emails;
mod apikeys;
mod audit;
mod audit_coverage;
mod audit_export;
mod audit_retention;
mod auth;
mod authz;
mod board;
mod callers;
mod conformance;
mod doors;
mod faults;
mod file_attachments;
mod file_links;
mod file_probes;
mod file_refusals;
mod file_thumbnails;
mod files;
mod fuzz;
mod http;
mod identity_doors;
mod invitations;
mod jobs;
mod key_rotation;
mod live_loaders;
mod metrics;
mod mfa;
mod migrations;
mod notes_and_milestones;
mod notification_crash;
mod notification_live;
mod notification_preferences;
mod notification_triggers;
mod notifications;
mod outbox;
mod payments;
mod policy;
mod policy_table;
mod prober;
mod prober_sdl;
mod prober_world;
mod projects;
mod rate_limits;
mod realtime;
mod retries;
mod schema;
mod shutdown;
mod ticket_payments;
mod tickets;
mod traces;
mod webhooks;
mod workspace;
