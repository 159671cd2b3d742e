//! The job runner's storage: leases (one instance runs a periodic job per period: a conditional
//! UPDATE takes a lapsed lease or renews its own) and the record of every run.
#![allow(clippy::disallowed_methods)]

use super::Db;
use chrono::{DateTime, Utc};
use entity::{job_lease, job_run};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// Takes the lease of `job` for `holder` until `until`, if it lapsed or is already `holder`'s.
pub async fn take_lease(
    db: &Db,
    job: &str,
    holder: &str,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let _writer = db.writer().await;
    let now = Utc::now();
    job_lease::Entity::insert(job_lease::ActiveModel {
        job: Set(job.to_owned()),
        holder: Set(String::new()),
        until: Set(now - chrono::Duration::seconds(1)),
    })
    .on_conflict_do_nothing_on([job_lease::Column::Job])
    .exec(db.conn())
    .await?;
    let taken = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::Holder, Expr::value(holder))
        .col_expr(job_lease::Column::Until, Expr::value(until))
        .filter(job_lease::Column::Job.eq(job))
        .filter(
            Condition::any()
                .add(job_lease::Column::Until.lt(now))
                .add(job_lease::Column::Holder.eq(holder)),
        )
        .exec(db.conn())
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Records the start of a run; returns its id.
pub async fn started(db: &Db, job: &str, instance: &str) -> Result<Uuid, DbErr> {
    let _writer = db.writer().await;
    let id = Uuid::now_v7();
    job_run::Entity::insert(job_run::ActiveModel {
        id: Set(id),
        job: Set(job.to_owned()),
        status: Set("running".to_owned()),
        instance: Set(instance.to_owned()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        duration_ms: Set(None),
        affected: Set(None),
        error: Set(None),
    })
    .exec(db.conn())
    .await?;
    Ok(id)
}

/// Records how a run ended: the rows it changed, or its error.
pub async fn finished(
    db: &Db,
    id: Uuid,
    started_at: DateTime<Utc>,
    outcome: Result<u64, String>,
) -> Result<(), DbErr> {
    let _writer = db.writer().await;
    let now = Utc::now();
    let (status, affected, error) = match outcome {
        Ok(n) => (
            "succeeded",
            Some(i64::try_from(n).unwrap_or(i64::MAX)),
            None,
        ),
        Err(error) => (
            "failed",
            None,
            Some(error.chars().take(2000).collect::<String>()),
        ),
    };
    job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value(status))
        .col_expr(job_run::Column::FinishedAt, Expr::value(now))
        .col_expr(
            job_run::Column::DurationMs,
            Expr::value((now - started_at).num_milliseconds()),
        )
        .col_expr(job_run::Column::Affected, Expr::value(affected))
        .col_expr(job_run::Column::Error, Expr::value(error))
        .filter(job_run::Column::Id.eq(id))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// The latest runs, newest first, of one job or of all.
pub async fn recent_runs(
    db: &Db,
    job: Option<&str>,
    limit: u64,
) -> Result<Vec<job_run::Model>, DbErr> {
    let mut query = job_run::Entity::find().order_by_desc(job_run::Column::Id);
    if let Some(job) = job {
        query = query.filter(job_run::Column::Job.eq(job));
    }
    query.limit(limit).all(db.conn()).await
}

/// Deletes finished runs that started before `before`; returns how many.
pub async fn purge_runs(db: &Db, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let _writer = db.writer().await;
    Ok(job_run::Entity::delete_many()
        .filter(job_run::Column::StartedAt.lt(before))
        .filter(job_run::Column::Status.ne("running"))
        .exec(db.conn())
        .await?
        .rows_affected)
}
