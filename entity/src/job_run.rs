//! `job_runs`: one row per run of a background job (which job, where, when, how it ended), so an
//! operator can list failures and retry them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The job's name (`payment.expire`, `outbox.purge`, …).
    pub job: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    /// The instance that ran it.
    pub instance: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub duration_ms: Option<i64>,
    /// Rows the run changed.
    pub affected: Option<i64>,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
