//! Storage of idempotent retries: one row per (caller, key). The first request inserts it locked;
//! a concurrent one sees the lock; the result is stored for replay until the row expires.
#![allow(clippy::disallowed_methods)]

use super::Db;
use chrono::{DateTime, Utc};
use entity::idempotency_key as row;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, TryInsertResult,
};

/// What a request with an `Idempotency-Key` should do.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// Run it (the key is new, or its first request died): then [`store`] or [`release`].
    Run,
    /// Answer the stored response again.
    Replay {
        status: u16,
        content_type: String,
        sealed: String,
    },
    /// The key came with another request body.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Claims `key` of `scope` for a request hashing to `hash`, locked until `locked_until`.
pub async fn claim(
    db: &Db,
    scope: &str,
    key: &str,
    hash: &str,
    locked_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Claim, DbErr> {
    let _writer = db.writer().await;
    let now = Utc::now();
    let inserted = row::Entity::insert(row::ActiveModel {
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(hash.to_owned()),
        locked_until: Set(Some(locked_until)),
        status: Set(None),
        content_type: Set(None),
        response: Set(None),
        created_at: Set(now),
        expires_at: Set(expires_at),
    })
    .on_conflict_do_nothing_on([row::Column::Scope, row::Column::Key])
    .exec_without_returning(db.conn())
    .await?;
    if matches!(inserted, TryInsertResult::Inserted(1)) {
        return Ok(Claim::Run);
    }
    let Some(existing) = row::Entity::find_by_id((scope.to_owned(), key.to_owned()))
        .one(db.conn())
        .await?
    else {
        // Expired and purged in between: the caller may retry at once.
        return Ok(Claim::InProgress);
    };
    if existing.request_hash != hash {
        return Ok(Claim::Mismatch);
    }
    if let (Some(status), Some(sealed)) = (existing.status, existing.response) {
        return Ok(Claim::Replay {
            status: u16::try_from(status).unwrap_or(200),
            content_type: existing.content_type.unwrap_or_default(),
            sealed,
        });
    }
    // Running, or left by a crashed instance: take it over only once its lock lapsed.
    let taken = row::Entity::update_many()
        .col_expr(row::Column::LockedUntil, Expr::value(locked_until))
        .filter(row::Column::Scope.eq(scope))
        .filter(row::Column::Key.eq(key))
        .filter(row::Column::Status.is_null())
        .filter(
            Condition::any()
                .add(row::Column::LockedUntil.is_null())
                .add(row::Column::LockedUntil.lt(now)),
        )
        .exec(db.conn())
        .await?;
    Ok(if taken.rows_affected == 1 {
        Claim::Run
    } else {
        Claim::InProgress
    })
}

/// Stores the response of the request that ran.
pub async fn store(
    db: &Db,
    scope: &str,
    key: &str,
    status: u16,
    content_type: &str,
    sealed: String,
) -> Result<(), DbErr> {
    let _writer = db.writer().await;
    row::Entity::update_many()
        .col_expr(
            row::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            row::Column::Status,
            Expr::value(i16::try_from(status).unwrap_or(500)),
        )
        .col_expr(row::Column::ContentType, Expr::value(content_type))
        .col_expr(row::Column::Response, Expr::value(sealed))
        .filter(row::Column::Scope.eq(scope))
        .filter(row::Column::Key.eq(key))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Forgets the key: the request failed in a way a retry should redo (a dependency was down).
pub async fn release(db: &Db, scope: &str, key: &str) -> Result<(), DbErr> {
    let _writer = db.writer().await;
    row::Entity::delete_many()
        .filter(row::Column::Scope.eq(scope))
        .filter(row::Column::Key.eq(key))
        .filter(row::Column::Status.is_null())
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Deletes expired keys; returns how many.
pub async fn purge(db: &Db) -> Result<u64, DbErr> {
    let _writer = db.writer().await;
    let done = row::Entity::delete_many()
        .filter(row::Column::ExpiresAt.lt(Utc::now()))
        .exec(db.conn())
        .await?;
    Ok(done.rows_affected)
}
