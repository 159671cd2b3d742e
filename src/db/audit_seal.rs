//! The audit log's sealer: links events written unlinked into their chains. Writers never wait
//! on each other; one sealer at a time (the `audit.seal` job's lease, and each chain's head row
//! locked with `INSERT … ON CONFLICT DO UPDATE … RETURNING`) gives each event the next place of
//! its chain, the previous link's hash and its own, written for the whole batch with one
//! `UPDATE … FROM (VALUES …)`. Sealing is the one update the table's
//! triggers allow: it sets the link of a row that has none, and nothing else.
#![allow(clippy::disallowed_methods)]

use super::Db;
use super::audit::digest;
use entity::audit_event::{self, Column};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use std::collections::BTreeMap;

/// Events sealed per transaction.
const BATCH: u64 = 500;

/// Seals every event written so far; returns how many it linked.
pub async fn seal(db: &Db) -> Result<u64, DbErr> {
    let mut sealed = 0;
    loop {
        let txn = db.begin().await?;
        let pending = audit_event::Entity::find()
            .filter(Column::Hash.is_null())
            .order_by(Column::Id, Order::Asc)
            .limit(BATCH)
            .all(&*txn)
            .await?;
        if pending.is_empty() {
            return Ok(sealed);
        }
        let mut chains: BTreeMap<String, Vec<audit_event::Model>> = BTreeMap::new();
        for row in pending {
            chains.entry(row.chain.clone()).or_default().push(row);
        }
        let mut links = Vec::new();
        let mut heads = Vec::new();
        // Chains in a fixed order, so two sealers never lock heads in opposite orders.
        for (chain, rows) in chains {
            let (mut seq, mut hash) = lock_head(&*txn, &chain).await?;
            for mut row in rows {
                row.seq = Some(seq + 1);
                row.prev_hash = Some(hash.clone());
                let own = digest(&row);
                links.push((row.id, row.at, seq + 1, hash, own.clone()));
                (seq, hash) = (seq + 1, own);
            }
            heads.push((chain, seq, hash));
        }
        let linked = links.len() as u64;
        if link_all(&*txn, links).await? != linked {
            // Another sealer linked some first: start over from what it left.
            drop(txn);
            continue;
        }
        for (chain, seq, hash) in heads {
            advance_head(&*txn, &chain, seq, &hash).await?;
        }
        txn.commit().await?;
        sealed += linked;
    }
}

/// Links every row of `links` (id, at, position, previous hash, own hash) with one statement,
/// each only if it has no link yet; answers how many it linked.
async fn link_all<C: ConnectionTrait>(
    conn: &C,
    links: Vec<(
        uuid::Uuid,
        chrono::DateTime<chrono::Utc>,
        i64,
        String,
        String,
    )>,
) -> Result<u64, DbErr> {
    let backend = conn.get_database_backend();
    let mut rows = Vec::with_capacity(links.len());
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(links.len() * 5);
    for (i, (id, at, seq, prev, own)) in links.into_iter().enumerate() {
        let n = i * 5;
        rows.push(match backend {
            DatabaseBackend::Postgres => format!(
                "(${}::uuid, ${}::timestamptz, ${}::bigint, ${}::varchar, ${}::varchar)",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5
            ),
            _ => "(?, ?, ?, ?, ?)".to_owned(),
        });
        values.extend([id.into(), at.into(), seq.into(), prev.into(), own.into()]);
    }
    let rows = rows.join(", ");
    let sql = match backend {
        DatabaseBackend::Postgres => format!(
            "UPDATE audit_events SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash \
             FROM (VALUES {rows}) AS v(id, at, seq, prev_hash, hash) \
             WHERE audit_events.id = v.id AND audit_events.at = v.at \
             AND audit_events.hash IS NULL"
        ),
        // SQLite names a VALUES list's columns column1, column2, …
        _ => format!(
            "UPDATE audit_events SET seq = v.column3, prev_hash = v.column4, hash = v.column5 \
             FROM (VALUES {rows}) AS v \
             WHERE audit_events.id = v.column1 AND audit_events.hash IS NULL"
        ),
    };
    let done = conn
        .execute_raw(Statement::from_sql_and_values(backend, &sql, values))
        .await?;
    Ok(done.rows_affected())
}

fn placeholder(backend: DatabaseBackend, n: u8) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// Locks the chain's head (creating it at position 0) and answers its last position and hash.
async fn lock_head<C: ConnectionTrait>(conn: &C, chain: &str) -> Result<(i64, String), DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "INSERT INTO audit_chain_heads (chain, seq, hash, anchor_seq, anchor_hash) \
         VALUES ({}, 0, '', 0, '') ON CONFLICT (chain) \
         DO UPDATE SET seq = audit_chain_heads.seq RETURNING seq, hash",
        placeholder(backend, 1)
    );
    let head = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            &sql,
            [chain.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("audit chain head not returned".into()))?;
    Ok((head.try_get("", "seq")?, head.try_get("", "hash")?))
}

async fn advance_head<C: ConnectionTrait>(
    conn: &C,
    chain: &str,
    seq: i64,
    hash: &str,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "UPDATE audit_chain_heads SET seq = {}, hash = {} WHERE chain = {}",
        placeholder(backend, 1),
        placeholder(backend, 2),
        placeholder(backend, 3)
    );
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        &sql,
        [seq.into(), hash.into(), chain.into()],
    ))
    .await?;
    Ok(())
}
