//! The audit log's sealer: links events written unlinked into their chains. Writers never wait
//! on each other; one sealer at a time (the `audit.seal` job's lease, and each chain's head row
//! locked with `INSERT … ON CONFLICT DO UPDATE … RETURNING`) gives each event the next place of
//! its chain, the previous link's hash and its own. Sealing is the one update the table's
//! triggers allow: it sets the link of a row that has none, and nothing else.
#![allow(clippy::disallowed_methods)]

use super::Db;
use super::audit::digest;
use entity::audit_event::{self, Column};
use sea_orm::sea_query::Expr;
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
        let mut linked = 0;
        let mut lost = false;
        // Chains in a fixed order, so two sealers never lock heads in opposite orders.
        for (chain, rows) in chains {
            let (mut seq, mut hash) = lock_head(&*txn, &chain).await?;
            for mut row in rows {
                row.seq = Some(seq + 1);
                row.prev_hash = Some(hash.clone());
                let own = digest(&row);
                let updated = audit_event::Entity::update_many()
                    .col_expr(Column::Seq, Expr::value(seq + 1))
                    .col_expr(Column::PrevHash, Expr::value(hash.clone()))
                    .col_expr(Column::Hash, Expr::value(own.clone()))
                    .filter(Column::Id.eq(row.id))
                    .filter(Column::At.eq(row.at))
                    .filter(Column::Hash.is_null())
                    .exec(&*txn)
                    .await?;
                if updated.rows_affected != 1 {
                    // Another sealer linked it first: start over from what it left.
                    lost = true;
                    break;
                }
                (seq, hash) = (seq + 1, own);
                linked += 1;
            }
            if lost {
                break;
            }
            advance_head(&*txn, &chain, seq, &hash).await?;
        }
        if lost {
            drop(txn);
            continue;
        }
        txn.commit().await?;
        sealed += linked;
    }
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
