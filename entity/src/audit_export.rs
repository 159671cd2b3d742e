//! `audit_exports`: a request for audit events as a file, and how it went: a workspace's (its
//! events) or, with no workspace, a platform operator's (every chain's).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_exports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `None` for a platform-wide export.
    pub workspace_id: Option<Uuid>,
    pub requested_by: Uuid,
    /// `CSV` or `JSONL`.
    pub format: String,
    /// The filter, as JSON.
    pub filter: String,
    /// Whether the requester may read metadata (`note:private`): the file carries it only then.
    pub with_metadata: bool,
    /// `QUEUED`, `RUNNING`, `READY` or `FAILED`.
    pub status: String,
    /// A running export's claim; another instance takes it over once lapsed.
    pub claimed_until: Option<DateTimeUtc>,
    pub object_key: Option<String>,
    pub row_count: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
