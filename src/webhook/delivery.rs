//! Posting webhooks: the job claims due deliveries (never one another instance holds), builds
//! each body under the creator's view, checks the target's addresses again and connects to
//! those, signs, posts, and records the status and latency. A failure retries on a schedule that
//! spans about three days (1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h, 24 h), then the delivery
//! is dead; `WEBHOOK_DISABLE_AFTER_FAILURES` failed attempts in a row turn the endpoint off.

use super::{Webhooks, fanout, signing, target, view};
use crate::db::{AcrossTenants, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use chrono::{DateTime, Duration, Utc};
use entity::webhook_delivery::{self, Column};
use entity::webhook_endpoint;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

pub const PENDING: &str = "PENDING";
pub const RETRYING: &str = "RETRYING";
pub const SUCCEEDED: &str = "SUCCEEDED";
pub const SKIPPED: &str = "SKIPPED";
pub const DEAD: &str = "DEAD";

/// Seconds to wait after the n-th failed attempt; after the last, the delivery is dead.
pub const SCHEDULE: [i64; 8] = [60, 300, 1800, 7200, 21_600, 43_200, 86_400, 86_400];
const BATCH: u64 = 50;
const CLAIM: Duration = Duration::minutes(2);

enum Outcome {
    Answered {
        status: u16,
        latency_ms: i64,
    },
    Failed {
        error: String,
        latency_ms: Option<i64>,
    },
    Skipped(&'static str),
}

/// Posts what is due at `now`, batch after batch, until nothing due is left or `budget` has
/// passed (the next run takes the rest); returns the deliveries attempted.
pub async fn deliver_due(
    w: &Webhooks,
    now: DateTime<Utc>,
    budget: std::time::Duration,
) -> ApiResult<u64> {
    let until = std::time::Instant::now() + budget;
    let mut attempted = 0;
    loop {
        let (done, read) = deliver_batch(w, now).await?;
        attempted += done;
        if read < BATCH || std::time::Instant::now() >= until {
            return Ok(attempted);
        }
    }
}

/// One batch: answers the deliveries attempted and the rows read.
async fn deliver_batch(w: &Webhooks, now: DateTime<Utc>) -> ApiResult<(u64, u64)> {
    let due = AcrossTenants::because("the webhook job posts every workspace's deliveries")
        .find::<webhook_delivery::Entity>()
        .filter(Column::Status.is_in([PENDING, RETRYING]))
        .filter(Column::AvailableAt.lte(now))
        .filter(unclaimed(now))
        .order_by_asc(Column::AvailableAt)
        .limit(BATCH)
        .all(w.db.conn())
        .await?;
    let read = due.len() as u64;
    let mut attempted = 0;
    for row in due {
        if deliver_one(w, &row, now).await?.is_some() {
            attempted += 1;
        }
    }
    Ok((attempted, read))
}

fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(Column::ClaimedUntil.is_null())
        .add(Column::ClaimedUntil.lt(now))
}

/// Claims and attempts one delivery; `None` when another sender holds it.
async fn deliver_one(
    w: &Webhooks,
    row: &webhook_delivery::Model,
    now: DateTime<Utc>,
) -> ApiResult<Option<webhook_delivery::Model>> {
    let conn = w.db.conn();
    let scoped = Scoped::new(conn, row.workspace_id);
    // SQLite's one writer at a time, for each write outside a transaction: a transaction that
    // read before it could not write after it (SQLITE_BUSY_SNAPSHOT). Never held across the call.
    let turn = w.db.writer().await;
    let claimed = scoped
        .update_many::<webhook_delivery::Entity>()
        .col_expr(Column::ClaimedUntil, Expr::value(now + CLAIM))
        .filter(Column::Id.eq(row.id))
        .filter(Column::Attempts.eq(row.attempts))
        .filter(Column::Status.is_in([PENDING, RETRYING]))
        .filter(unclaimed(now))
        .exec(conn)
        .await?;
    drop(turn);
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    let endpoint = scoped
        .find_by_id::<webhook_endpoint::Entity>(row.endpoint_id)
        .await?;
    let outcome = match endpoint.as_ref().filter(|e| e.enabled) {
        None => Outcome::Skipped("the endpoint is turned off or deleted"),
        Some(endpoint) => attempt(w, endpoint, row).await?,
    };
    record(w, row, endpoint.as_ref(), outcome).await.map(Some)
}

async fn attempt(
    w: &Webhooks,
    endpoint: &webhook_endpoint::Model,
    row: &webhook_delivery::Model,
) -> ApiResult<Outcome> {
    let body = match view::body(w.db.conn(), endpoint, row.id, &row.kind, &row.event).await? {
        Ok(body) => body,
        Err(why) => return Ok(Outcome::Skipped(why)),
    };
    let body = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    let failed = |error: String| Outcome::Failed {
        error,
        latency_ms: None,
    };
    let url = match target::parse(&endpoint.url) {
        Ok(url) => url,
        Err(e) => return Ok(failed(e.to_string())),
    };
    let addrs = match target::resolve(&url, w.settings.allow_private).await {
        Ok(addrs) => addrs,
        Err(e) => return Ok(failed(e.to_string())),
    };
    let secret = w
        .sealing
        .open(&endpoint.sealed_secret)
        .map_err(ApiError::internal)?;
    let secret = String::from_utf8(secret).map_err(ApiError::internal)?;
    let signature =
        signing::sign(&secret, Utc::now().timestamp(), &body).map_err(ApiError::internal)?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let client = reqwest_rustls::Client::builder()
        .redirect(reqwest_rustls::redirect::Policy::none())
        .timeout(w.settings.timeout)
        .resolve_to_addrs(&host, &addrs)
        .user_agent("Portico-Webhooks/1")
        .build()
        .map_err(ApiError::internal)?;
    let started = std::time::Instant::now();
    let sent = client
        .post(url)
        .header("Content-Type", "application/json")
        .header(signing::HEADER, signature)
        .header("Portico-Event", row.kind.as_str())
        .header("Portico-Delivery", row.id.to_string())
        .body(body)
        .send()
        .await;
    let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    Ok(match sent {
        Ok(response) => Outcome::Answered {
            status: response.status().as_u16(),
            latency_ms,
        },
        Err(e) => Outcome::Failed {
            error: format!("{e}"),
            latency_ms: Some(latency_ms),
        },
    })
}

async fn record(
    w: &Webhooks,
    row: &webhook_delivery::Model,
    endpoint: Option<&webhook_endpoint::Model>,
    outcome: Outcome,
) -> ApiResult<webhook_delivery::Model> {
    let conn = w.db.conn();
    let scoped = Scoped::new(conn, row.workspace_id);
    let now = Utc::now();
    let attempts = row.attempts.saturating_add(1);
    let mut update = scoped
        .update_many::<webhook_delivery::Entity>()
        .col_expr(Column::ClaimedUntil, Expr::value(None::<DateTime<Utc>>));
    let succeeded = match outcome {
        Outcome::Skipped(why) => {
            update = update
                .col_expr(Column::Status, Expr::value(SKIPPED))
                .col_expr(Column::LastError, Expr::value(why));
            None
        }
        Outcome::Answered { status, latency_ms } => {
            let ok = (200..300).contains(&status);
            update = update
                .col_expr(Column::ResponseStatus, Expr::value(i32::from(status)))
                .col_expr(Column::LatencyMs, Expr::value(clamp(latency_ms)));
            if ok {
                update = update
                    .col_expr(Column::Status, Expr::value(SUCCEEDED))
                    .col_expr(Column::Attempts, Expr::value(attempts))
                    .col_expr(Column::DeliveredAt, Expr::value(now))
                    .col_expr(Column::LastError, Expr::value(None::<String>));
            } else {
                update = failure(
                    update,
                    attempts,
                    now,
                    format!("the endpoint answered {status}"),
                );
            }
            Some(ok)
        }
        Outcome::Failed { error, latency_ms } => {
            update = update.col_expr(Column::LatencyMs, Expr::value(latency_ms.map(clamp)));
            update = failure(update, attempts, now, error);
            Some(false)
        }
    };
    let turn = w.db.writer().await;
    update.filter(Column::Id.eq(row.id)).exec(conn).await?;
    if let (Some(ok), Some(endpoint)) = (succeeded, endpoint) {
        health(w, endpoint, ok).await?;
    }
    drop(turn);
    scoped
        .find_by_id::<webhook_delivery::Entity>(row.id)
        .await?
        .ok_or(ApiError::NotFound("webhook delivery"))
}

fn clamp(ms: i64) -> i32 {
    i32::try_from(ms).unwrap_or(i32::MAX)
}

fn failure(
    update: sea_orm::UpdateMany<webhook_delivery::Entity>,
    attempts: i32,
    now: DateTime<Utc>,
    error: String,
) -> sea_orm::UpdateMany<webhook_delivery::Entity> {
    let wait = usize::try_from(attempts - 1)
        .ok()
        .and_then(|i| SCHEDULE.get(i).copied());
    let update = update
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::LastError, Expr::value(error));
    match wait {
        Some(secs) => update
            .col_expr(Column::Status, Expr::value(RETRYING))
            .col_expr(
                Column::AvailableAt,
                Expr::value(now + Duration::seconds(secs)),
            ),
        None => update.col_expr(Column::Status, Expr::value(DEAD)),
    }
}

/// A success clears the endpoint's failure count; a failure adds one, and past the limit turns
/// the endpoint off (its admins turn it on again).
/// Called with the writer's turn held (see [`record`]).
async fn health(w: &Webhooks, endpoint: &webhook_endpoint::Model, ok: bool) -> ApiResult<()> {
    let conn = w.db.conn();
    let update = Scoped::new(conn, endpoint.workspace_id)
        .update_many::<webhook_endpoint::Entity>()
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id));
    let failures = webhook_endpoint::Column::ConsecutiveFailures;
    if ok {
        update.col_expr(failures, Expr::value(0)).exec(conn).await?;
        return Ok(());
    }
    update
        .col_expr(
            failures,
            sea_orm::sea_query::ExprTrait::add(Expr::col(failures), 1),
        )
        .exec(conn)
        .await?;
    let limit = w.settings.disable_after;
    Scoped::new(conn, endpoint.workspace_id)
        .update_many::<webhook_endpoint::Entity>()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(format!("turned off after {limit} failed attempts in a row")),
        )
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .filter(failures.gte(limit))
        .exec(conn)
        .await?;
    Ok(())
}

/// Queues `delivery`'s event again for its endpoint, as a new delivery, due now.
pub async fn replay(
    w: &Webhooks,
    caller: &WorkspaceAccess,
    delivery_id: Uuid,
) -> ApiResult<webhook_delivery::Model> {
    let scoped = Scoped::new(w.db.conn(), caller.workspace_id);
    let original = scoped
        .find_by_id::<webhook_delivery::Entity>(delivery_id)
        .await?
        .ok_or(ApiError::NotFound("webhook delivery"))?;
    let endpoint = super::endpoints::get(w, caller.workspace_id, original.endpoint_id).await?;
    let kind = original.kind.clone();
    let id = fanout::queue(
        &scoped,
        &endpoint,
        original.event_id,
        &kind,
        &original.event,
        Some(Uuid::now_v7()),
    )
    .await
    .map_err(ApiError::internal)?
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a replay key was taken")))?;
    scoped
        .find_by_id::<webhook_delivery::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("webhook delivery"))
}

/// Sends a test event to an endpoint at once and answers how it went (it is logged like any
/// delivery, and retried if it failed).
pub async fn send_test(
    w: &Webhooks,
    caller: &WorkspaceAccess,
    endpoint_id: Uuid,
) -> ApiResult<webhook_delivery::Model> {
    let endpoint = super::endpoints::get(w, caller.workspace_id, endpoint_id).await?;
    let scoped = Scoped::new(w.db.conn(), caller.workspace_id);
    let event_id = Uuid::now_v7();
    let event = serde_json::json!({ "id": event_id, "occurredAt": Utc::now() }).to_string();
    let id = fanout::queue(&scoped, &endpoint, event_id, view::TEST_KIND, &event, None)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a test event key was taken")))?;
    let row = scoped
        .find_by_id::<webhook_delivery::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("webhook delivery"))?;
    match deliver_one(w, &row, Utc::now()).await? {
        Some(done) => Ok(done),
        None => Ok(row),
    }
}

/// A page of an endpoint's deliveries, newest first.
pub async fn list(
    w: &Webhooks,
    caller: &WorkspaceAccess,
    endpoint_id: Uuid,
    status: Option<&str>,
    page: crate::graphql::pagination::Page,
) -> ApiResult<(Vec<webhook_delivery::Model>, u64, bool)> {
    use crate::graphql::pagination::{Direction, fetch};
    super::endpoints::get(w, caller.workspace_id, endpoint_id).await?;
    let mut query = Scoped::new(w.db.conn(), caller.workspace_id)
        .find::<webhook_delivery::Entity>()
        .filter(Column::EndpointId.eq(endpoint_id));
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status));
    }
    fetch(w.db.conn(), query, Column::Id, Direction::Backward, page).await
}
