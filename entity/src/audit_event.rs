//! `audit_events`: who did what, where, with which result; each row a link of its chain
//! (`ws:<workspace>` or `platform`). Append-only; written and read only by `portico::db::audit`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `ws:<workspace id>` or `platform`.
    pub chain: String,
    /// Position in the chain, from 1; `None` until the sealer links the row.
    pub seq: Option<i64>,
    /// The previous link's hash (empty for the first); `None` until sealed.
    pub prev_hash: Option<String>,
    /// SHA-256 (hex) of the previous hash and this row's canonical form; `None` until sealed.
    pub hash: Option<String>,
    pub at: DateTimeUtc,
    pub workspace_id: Option<Uuid>,
    /// `USER`, `API_KEY`, `PLATFORM_OPERATOR`, `SYSTEM`, `WEBHOOK` or `ANONYMOUS`.
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    pub impersonator_id: Option<Uuid>,
    /// `WEB`, `API_KEY`, `GRAPHIQL`, `WEBSOCKET`, `CLI`, `JOB` or `WEBHOOK`.
    pub source: String,
    /// `resource.verb` (`task.move`).
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// `SUCCESS`, `DENIED` or `FAILED`.
    pub result: String,
    /// The error's `extensions.code` when it did not succeed.
    pub error_code: Option<String>,
    pub request_id: Option<String>,
    pub operation_name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// JSON text, hashed as stored.
    pub metadata: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
