//! Reading the audit log: filtered pages (newest first) for `auditEvents`, and the chain
//! verifier behind `portico audit verify`, which names the first broken link.
#![allow(clippy::disallowed_methods)]

use super::audit::{chain_of, digest};
use chrono::{DateTime, Utc};
use entity::audit_event::{self, Column};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, FromQueryResult, Order,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

/// Which events to list; every set field must match.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Filter {
    pub actor_id: Option<Uuid>,
    /// An exact action (`task.move`) or a resource's every action (`task.`).
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// `SUCCESS`, `DENIED` or `FAILED`.
    pub result: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Whose events.
#[derive(Debug, Clone, Copy)]
pub enum Reach {
    /// One workspace's chain.
    Workspace(Uuid),
    /// Every chain (platform operators).
    Everything,
}

/// Up to `limit` events matching `filter`, newest first, older than the event `before` when set.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    reach: Reach,
    filter: &Filter,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut query = audit_event::Entity::find();
    if let Reach::Workspace(ws) = reach {
        query = query.filter(Column::WorkspaceId.eq(ws));
    }
    if let Some(actor) = filter.actor_id {
        query = query.filter(Column::ActorId.eq(actor));
    }
    match filter.action.as_deref() {
        Some(prefix) if prefix.ends_with('.') => {
            query = query.filter(Column::Action.starts_with(prefix));
        }
        Some(action) => query = query.filter(Column::Action.eq(action)),
        None => {}
    }
    if let Some(kind) = &filter.resource_type {
        query = query.filter(Column::ResourceType.eq(kind.as_str()));
    }
    if let Some(id) = &filter.resource_id {
        query = query.filter(Column::ResourceId.eq(id.as_str()));
    }
    if let Some(result) = &filter.result {
        query = query.filter(Column::Result.eq(result.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(Column::At.lt(to));
    }
    if let Some(before) = before {
        query = query.filter(Column::Id.lt(before));
    }
    query
        .order_by(Column::Id, Order::Desc)
        .limit(limit)
        .all(conn)
        .await
}

/// What the verifier found on one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub chain: String,
    /// Links checked.
    pub links: u64,
    /// The first broken link, and why; `None` when the chain holds.
    pub broken: Option<Broken>,
}

/// A link that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub id: Option<Uuid>,
    pub reason: String,
}

#[derive(Debug, FromQueryResult)]
struct Head {
    chain: String,
    seq: i64,
    hash: String,
    anchor_seq: i64,
    anchor_hash: String,
}

/// Every chain there is.
pub async fn chains<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>, DbErr> {
    Ok(heads(conn, None)
        .await?
        .into_iter()
        .map(|h| h.chain)
        .collect())
}

async fn heads<C: ConnectionTrait>(conn: &C, chain: Option<&str>) -> Result<Vec<Head>, DbErr> {
    let backend = conn.get_database_backend();
    let mut sql =
        "SELECT chain, seq, hash, anchor_seq, anchor_hash FROM audit_chain_heads".to_owned();
    let mut values = Vec::new();
    if let Some(chain) = chain {
        sql.push_str(match backend {
            DatabaseBackend::Postgres => " WHERE chain = $1",
            _ => " WHERE chain = ?",
        });
        values.push(chain.into());
    }
    sql.push_str(" ORDER BY chain");
    Head::find_by_statement(Statement::from_sql_and_values(backend, &sql, values))
        .all(conn)
        .await
}

/// Checks the chain of `workspace_id` (or the platform's).
pub async fn verify_workspace<C: ConnectionTrait>(
    conn: &C,
    workspace_id: Option<Uuid>,
) -> Result<Verdict, DbErr> {
    verify(conn, &chain_of(workspace_id)).await
}

/// Checks one chain link by link from its anchor (the last link retention archived), then that
/// its head names the last link: an edited, inserted, removed or reordered row is caught.
pub async fn verify<C: ConnectionTrait>(conn: &C, chain: &str) -> Result<Verdict, DbErr> {
    let mut verdict = Verdict {
        chain: chain.to_owned(),
        links: 0,
        broken: None,
    };
    let Some(head) = heads(conn, Some(chain)).await?.into_iter().next() else {
        return Ok(verdict);
    };
    let (mut seq, mut hash) = (head.anchor_seq, head.anchor_hash);
    loop {
        let page = audit_event::Entity::find()
            .filter(Column::Chain.eq(chain))
            .filter(Column::Seq.gt(seq))
            .order_by(Column::Seq, Order::Asc)
            .limit(1000)
            .all(conn)
            .await?;
        if page.is_empty() {
            break;
        }
        for row in page {
            let row_seq = row.seq.unwrap_or_default();
            let reason = if row_seq != seq + 1 {
                Some(format!("expected link {}, found {row_seq}", seq + 1))
            } else if row.prev_hash.as_deref() != Some(hash.as_str()) {
                Some("its previous hash does not match the link before it".to_owned())
            } else if row.hash.as_deref() != Some(digest(&row).as_str()) {
                Some("its content does not match its hash".to_owned())
            } else {
                None
            };
            if let Some(reason) = reason {
                verdict.broken = Some(Broken {
                    seq: row_seq,
                    id: Some(row.id),
                    reason,
                });
                return Ok(verdict);
            }
            verdict.links += 1;
            (seq, hash) = (row_seq, row.hash.unwrap_or_default());
        }
    }
    if seq != head.seq || hash != head.hash {
        verdict.broken = Some(Broken {
            seq: seq + 1,
            id: None,
            reason: format!(
                "the chain ends at link {seq} but its head names link {}",
                head.seq
            ),
        });
    }
    Ok(verdict)
}

/// Creates this month's and the next two months' partitions where missing (PostgreSQL; SQLite
/// keeps one table). Returns the number of statements run.
pub async fn ensure_partitions<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    if conn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(0);
    }
    for ahead in 0..3 {
        conn.execute_unprepared(&migration::audit_partition_sql(ahead))
            .await?;
    }
    Ok(3)
}
