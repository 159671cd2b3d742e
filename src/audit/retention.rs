//! Audit retention (`AUDIT_RETENTION_MONTHS`): each whole month older than the retention is
//! checked link by link, written to object storage as JSONL (one line per event, every column
//! the hash covers, then one `chain_heads` line naming each chain's first and last link in the
//! file), and only then removed, in one transaction that moves each chain's anchor to its last
//! archived link (so `portico audit verify` starts there) and records an `audit.archive` event
//! in the platform's chain. A month whose chain does not hold is not archived: the run fails
//! and says where, so retention never launders an edit.

use crate::db::Db;
use crate::db::audit::{self, Actor, Entry, Outcome};
use crate::db::audit_retain::{self, Month};
use crate::storage::{ObjectKey, Storage};
use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use entity::audit_event;
use serde_json::{Value, json};

/// Events read per page while archiving.
const PAGE: u64 = 2000;

/// One month archived and removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    /// `YYYY-MM`.
    pub month: String,
    /// Where the archive was written.
    pub key: String,
    pub events: u64,
}

/// The archive's object key for `month`.
pub fn archive_key(month: &str) -> String {
    format!("audit-archive/{month}.jsonl")
}

/// Archives and removes every whole month older than `months` months before `now`'s month
/// (nothing when `months` is 0). Stops at a month still holding unsealed events.
pub async fn run(
    db: &Db,
    storage: &Storage,
    months: u32,
    now: DateTime<Utc>,
    actor: Actor,
) -> anyhow::Result<Vec<Archived>> {
    if months == 0 {
        return Ok(Vec::new());
    }
    crate::db::audit_seal::seal(db)
        .await
        .context("sealing before retention")?;
    let cutoff = Month::of(now).minus(months);
    let mut done = Vec::new();
    for month in audit_retain::months_before(db.conn(), cutoff).await? {
        if audit_retain::unsealed(db.conn(), month).await? > 0 {
            tracing::info!(
                month = month.label(),
                "audit retention waits for the sealer"
            );
            break;
        }
        done.push(archive(db, storage, month, &actor).await?);
    }
    Ok(done)
}

/// A chain's span in one month's archive.
#[derive(Debug)]
struct Span {
    chain: String,
    first_seq: i64,
    prev_hash: String,
    last_seq: i64,
    hash: String,
}

impl Span {
    /// A span that starts (and so far ends) at `row`.
    fn start(row: &audit_event::Model, prev_hash: String, hash: String) -> Self {
        let seq = row.seq.unwrap_or_default();
        Self {
            chain: row.chain.clone(),
            first_seq: seq,
            prev_hash,
            last_seq: seq,
            hash,
        }
    }
}

async fn archive(
    db: &Db,
    storage: &Storage,
    month: Month,
    actor: &Actor,
) -> anyhow::Result<Archived> {
    let label = month.label();
    let mut body = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut events = 0_u64;
    let mut after: Option<(String, i64)> = None;
    loop {
        let cursor = after.as_ref().map(|(c, s)| (c.as_str(), *s));
        let page = audit_retain::page(db.conn(), month, cursor, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.chain.clone(), last.seq.unwrap_or_default()));
        for row in page {
            link(db, &mut spans, &row, &label).await?;
            serde_json::to_writer(&mut body, &line(&row))?;
            body.push(b'\n');
            events += 1;
        }
    }
    let heads: Vec<Value> = spans
        .iter()
        .map(|s| {
            json!({ "chain": s.chain, "first_seq": s.first_seq, "prev_hash": s.prev_hash,
                    "last_seq": s.last_seq, "hash": s.hash })
        })
        .collect();
    serde_json::to_writer(
        &mut body,
        &json!({ "record": "chain_heads", "month": label, "events": events, "chains": heads }),
    )?;
    body.push(b'\n');
    let key = archive_key(&label);
    storage
        .put(&ObjectKey::stored(key.clone()), body)
        .await
        .map_err(crate::error::ApiError::into_anyhow)
        .with_context(|| format!("writing the audit archive {key}"))?;

    // Each chain's anchor moves to its last archived link (its span of highest position).
    let mut anchors: Vec<(String, i64, String)> = Vec::new();
    for span in spans {
        match anchors.last_mut() {
            Some(last) if last.0 == span.chain => {
                if span.last_seq > last.1 {
                    *last = (span.chain, span.last_seq, span.hash);
                }
            }
            _ => anchors.push((span.chain, span.last_seq, span.hash)),
        }
    }
    let txn = db.begin().await?;
    audit_retain::forget(&*txn, month, &anchors)
        .await
        .with_context(|| format!("removing the audit events of {label}"))?;
    let entry = Entry {
        workspace_id: None,
        actor: actor.clone(),
        action: "audit.archive".to_owned(),
        resource: Some(("auditArchive".to_owned(), label.clone())),
        outcome: Outcome::Success,
        error_code: None,
        metadata: json!({ "key": key, "events": events, "chains": anchors.len() }),
    };
    audit::append(&*txn, &entry).await?;
    txn.commit().await?;
    tracing::info!(
        month = label,
        events,
        key,
        "audit month archived and removed"
    );
    Ok(Archived {
        month: label,
        key,
        events,
    })
}

/// Checks `row` against the link before it (the chain's anchor for its first row in the
/// archive) and extends its chain's span.
async fn link(
    db: &Db,
    spans: &mut Vec<Span>,
    row: &audit_event::Model,
    month: &str,
) -> anyhow::Result<()> {
    let seq = row.seq.unwrap_or_default();
    let prev = row.prev_hash.clone().unwrap_or_default();
    let own = row.hash.clone().unwrap_or_default();
    if own != audit::digest(row) {
        bail!(
            "audit chain {} does not hold at link {seq} ({month}): its content does not match its hash; not archived",
            row.chain
        );
    }
    match spans.last_mut() {
        Some(span) if span.chain == row.chain && seq == span.last_seq + 1 => {
            if prev != span.hash {
                bail!(
                    "audit chain {} does not hold at link {seq} ({month}): its previous hash does not match the link before it; not archived",
                    row.chain
                );
            }
            span.last_seq = seq;
            span.hash = own;
        }
        Some(span) if span.chain == row.chain => {
            // A link sealed across the month's end (written before midnight, committed after a
            // later one): the missing link is in the next month. Its own hash was checked; a
            // new span starts, and the next month's archive holds the link between.
            tracing::warn!(
                chain = row.chain,
                seq,
                month,
                "audit link straddles a month's end"
            );
            spans.push(Span::start(row, prev, own));
        }
        _ => {
            let (anchor_seq, anchor_hash) = audit_retain::anchor(db.conn(), &row.chain).await?;
            if seq == anchor_seq + 1 && prev != anchor_hash {
                bail!(
                    "audit chain {} does not hold at link {seq} ({month}): it does not follow the last archived link; not archived",
                    row.chain
                );
            }
            spans.push(Span::start(row, prev, own));
        }
    }
    Ok(())
}

/// One archived event: every column the hash covers, `at` to the microsecond.
fn line(row: &audit_event::Model) -> Value {
    json!({
        "record": "event",
        "id": row.id,
        "chain": row.chain,
        "seq": row.seq,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "at": row.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "workspace_id": row.workspace_id,
        "actor_type": row.actor_type,
        "actor_id": row.actor_id,
        "impersonator_id": row.impersonator_id,
        "source": row.source,
        "action": row.action,
        "resource_type": row.resource_type,
        "resource_id": row.resource_id,
        "result": row.result,
        "error_code": row.error_code,
        "request_id": row.request_id,
        "operation_name": row.operation_name,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "metadata": row.metadata,
    })
}
