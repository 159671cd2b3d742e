//! The outbox's storage: rows are inserted by [`Tx::commit`](super::Tx::commit) with their change,
//! claimed by dispatchers (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two instances never claim
//! the same row; under the process's single writer on SQLite), and marked dispatched or failed.
//! A claim is a lease: a dispatcher that crashed lets it lapse, and another takes the row again,
//! with the same event id.
#![allow(clippy::disallowed_methods)]

use super::Db;
use crate::events::Envelope;
use chrono::{DateTime, Utc};
use entity::outbox_event::{self, Column, Entity};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use uuid::Uuid;

/// A claimed row.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    /// The envelope's JSON.
    pub payload: String,
    /// Failed attempts before this one.
    pub attempts: i32,
    /// The consumers that took it on an earlier attempt.
    pub delivered_to: Vec<String>,
}

/// Writes `events` in the transaction `conn`.
pub(super) async fn insert<C: ConnectionTrait>(conn: &C, events: &[Envelope]) -> Result<(), DbErr> {
    let rows = events
        .iter()
        .map(|e| {
            let payload = serde_json::to_string(e).map_err(|err| DbErr::Custom(err.to_string()))?;
            Ok(outbox_event::ActiveModel {
                id: Set(e.id),
                workspace_id: Set(e.workspace_id),
                project_id: Set(Some(e.event.project_id())),
                kind: Set(e.event.kind().to_owned()),
                payload: Set(payload),
                created_at: Set(e.occurred_at),
                attempts: Set(0),
                available_at: Set(e.occurred_at),
                claimed_until: Set(None),
                claimed_by: Set(None),
                dispatched_at: Set(None),
                last_error: Set(None),
                delivered_to: Set(None),
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Entity::insert_many(rows).exec(conn).await?;
    Ok(())
}

/// Claims up to `limit` deliverable rows, oldest first, until `until`.
pub async fn claim(
    db: &Db,
    instance: &str,
    limit: u64,
    until: DateTime<Utc>,
) -> Result<Vec<Claimed>, DbErr> {
    let now = Utc::now();
    let deliverable = Query::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Column::DispatchedAt.is_null())
        .and_where(Column::AvailableAt.lte(now))
        .cond_where(
            Condition::any()
                .add(Column::ClaimedUntil.is_null())
                .add(Column::ClaimedUntil.lt(now)),
        )
        .order_by(Column::Id, Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let update = Entity::update_many()
        .col_expr(Column::ClaimedUntil, Expr::value(until))
        .col_expr(Column::ClaimedBy, Expr::value(instance))
        .filter(Column::Id.in_subquery(deliverable));
    // SQLite: under the process's single writer. PostgreSQL: one statement.
    let mut rows = match db.backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            let txn = db.begin().await?;
            let rows = update.exec_with_returning(&*txn).await?;
            txn.commit().await?;
            rows
        }
        _ => update.exec_with_returning(db.conn()).await?,
    };
    rows.sort_by_key(|r| r.id);
    Ok(rows
        .into_iter()
        .map(|r| Claimed {
            id: r.id,
            payload: r.payload,
            attempts: r.attempts,
            delivered_to: r
                .delivered_to
                .map(|d| d.lines().map(str::to_owned).collect())
                .unwrap_or_default(),
        })
        .collect())
}

/// Marks rows delivered to every consumer.
pub async fn dispatched(db: &Db, ids: &[Uuid]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let update = Entity::update_many()
        .col_expr(Column::DispatchedAt, Expr::value(Utc::now()))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Id.is_in(ids.iter().copied()));
    write(db, |conn| {
        Box::pin(async move { update.exec(conn).await.map(|_| ()) })
    })
    .await
}

/// Records a failed attempt: tried again from `retry_at`.
pub async fn failed(
    db: &Db,
    id: Uuid,
    attempts: i32,
    error: &str,
    retry_at: DateTime<Utc>,
    delivered_to: &[&str],
) -> Result<(), DbErr> {
    let error: String = error.chars().take(1000).collect();
    let delivered_to = (!delivered_to.is_empty()).then(|| delivered_to.join("\n"));
    let update = Entity::update_many()
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::DeliveredTo, Expr::value(delivered_to))
        .col_expr(Column::LastError, Expr::value(error))
        .col_expr(Column::AvailableAt, Expr::value(retry_at))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Id.eq(id));
    write(db, |conn| {
        Box::pin(async move { update.exec(conn).await.map(|_| ()) })
    })
    .await
}

/// Deletes rows dispatched before `before`; returns how many.
pub async fn purge(db: &Db, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let delete = Entity::delete_many()
        .filter(Column::DispatchedAt.is_not_null())
        .filter(Column::DispatchedAt.lt(before));
    let mut deleted = 0;
    let counter = &mut deleted;
    write(db, |conn| {
        Box::pin(async move {
            *counter = delete.exec(conn).await?.rows_affected;
            Ok(())
        })
    })
    .await?;
    Ok(deleted)
}

/// Rows not dispatched yet.
pub async fn pending(db: &Db) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::DispatchedAt.is_null())
        .count(db.conn())
        .await
}

/// The ids of rows not dispatched yet, oldest first (at most `limit`).
pub async fn pending_ids(db: &Db, limit: u64) -> Result<Vec<Uuid>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::DispatchedAt.is_null())
        .order_by_asc(Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db.conn())
        .await
}

/// The newest events, newest first (at most `limit`), as envelopes: for tests and the back
/// office (replaying an event to a consumer).
pub async fn recent(db: &Db, limit: u64) -> Result<Vec<Envelope>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    let rows = Entity::find()
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db.conn())
        .await?;
    rows.iter()
        .map(|row| {
            serde_json::from_str(&row.payload)
                .map_err(|e| DbErr::Custom(format!("outbox row {}: {e}", row.id)))
        })
        .collect()
}

/// One row, for tests and the back office.
pub async fn get(db: &Db, id: Uuid) -> Result<Option<outbox_event::Model>, DbErr> {
    Entity::find_by_id(id).one(db.conn()).await
}

type Work<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>>;

/// Runs a write: under the single writer on SQLite, on the pool on PostgreSQL.
async fn write<'a, F>(db: &'a Db, work: F) -> Result<(), DbErr>
where
    F: FnOnce(&'a sea_orm::DatabaseConnection) -> Work<'a> + Send,
{
    match db.backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            let _writer = db.writer().await;
            work(db.conn()).await
        }
        _ => work(db.conn()).await,
    }
}
