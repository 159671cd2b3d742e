//! The audit log's storage side of retention: which whole months are older than a cutoff, their
//! events in chain order, and the one transaction that moves each chain's anchor to its last
//! archived link and removes the month (dropping its partition on PostgreSQL; on SQLite,
//! deleting its rows with the append-only trigger lifted inside that same transaction).
#![allow(clippy::disallowed_methods)]

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use entity::audit_event::{self, Column};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, FromQueryResult,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};

/// One calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// The month holding `at`.
    pub fn of(at: DateTime<Utc>) -> Self {
        Self {
            year: at.year(),
            month: at.month(),
        }
    }

    /// `n` months earlier.
    pub fn minus(self, n: u32) -> Self {
        let index = self.year * 12 + i32::try_from(self.month).unwrap_or(1)
            - 1
            - i32::try_from(n).unwrap_or(i32::MAX / 2);
        Self {
            year: index.div_euclid(12),
            month: u32::try_from(index.rem_euclid(12)).unwrap_or(0) + 1,
        }
    }

    /// The next month.
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Its first instant.
    pub fn start(self) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Utc.from_utc_datetime(&t))
            .unwrap_or_default()
    }

    /// `YYYY-MM`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// Its PostgreSQL partition.
    fn partition(self) -> String {
        format!("audit_events_{:04}_{:02}", self.year, self.month)
    }
}

#[derive(Debug, FromQueryResult)]
struct Partition {
    name: String,
}

#[derive(Debug, FromQueryResult)]
struct Oldest {
    at: Option<DateTime<Utc>>,
}

/// Months holding events that end on or before `cutoff`'s month starts, oldest first. On
/// PostgreSQL these are the monthly partitions (never the default one); on SQLite, every month
/// from the oldest event on.
pub async fn months_before<C: ConnectionTrait>(
    conn: &C,
    cutoff: Month,
) -> Result<Vec<Month>, DbErr> {
    let backend = conn.get_database_backend();
    let mut months = Vec::new();
    if backend == DatabaseBackend::Postgres {
        let sql = "SELECT c.relname AS name FROM pg_inherits i \
                   JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
                   WHERE p.relname = 'audit_events' ORDER BY c.relname";
        for part in Partition::find_by_statement(Statement::from_string(backend, sql))
            .all(conn)
            .await?
        {
            let mut digits = part.name.trim_start_matches("audit_events_").split('_');
            if let (Some(Ok(year)), Some(Ok(month)), None) = (
                digits.next().map(str::parse::<i32>),
                digits.next().map(str::parse::<u32>),
                digits.next(),
            ) && (1..=12).contains(&month)
            {
                months.push(Month { year, month });
            }
        }
    } else {
        let sql = "SELECT MIN(at) AS at FROM audit_events";
        if let Some(at) = Oldest::find_by_statement(Statement::from_string(backend, sql))
            .one(conn)
            .await?
            .and_then(|o| o.at)
        {
            let mut month = Month::of(at);
            while month < cutoff {
                months.push(month);
                month = month.next();
            }
        }
    }
    months.retain(|m| *m < cutoff);
    months.sort();
    Ok(months)
}

fn in_month(month: Month) -> Condition {
    Condition::all()
        .add(Column::At.gte(month.start()))
        .add(Column::At.lt(month.next().start()))
}

/// Events of the month not sealed yet (retention waits for them).
pub async fn unsealed<C: ConnectionTrait>(conn: &C, month: Month) -> Result<u64, DbErr> {
    audit_event::Entity::find()
        .filter(in_month(month))
        .filter(Column::Hash.is_null())
        .count(conn)
        .await
}

/// Up to `limit` sealed events of the month in (chain, seq) order, after `after`.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    month: Month,
    after: Option<(&str, i64)>,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut query = audit_event::Entity::find().filter(in_month(month));
    if let Some((chain, seq)) = after {
        query = query.filter(
            Condition::any().add(Column::Chain.gt(chain)).add(
                Condition::all()
                    .add(Column::Chain.eq(chain))
                    .add(Column::Seq.gt(seq)),
            ),
        );
    }
    query
        .order_by(Column::Chain, Order::Asc)
        .order_by(Column::Seq, Order::Asc)
        .limit(limit)
        .all(conn)
        .await
}

/// The anchor of `chain`: the last link archived so far (`0`, empty before any).
pub async fn anchor<C: ConnectionTrait>(conn: &C, chain: &str) -> Result<(i64, String), DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "SELECT anchor_seq AS seq, anchor_hash AS hash FROM audit_chain_heads WHERE chain = {}",
        if backend == DatabaseBackend::Postgres {
            "$1"
        } else {
            "?"
        }
    );
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            &sql,
            [chain.into()],
        ))
        .await?;
    match row {
        Some(row) => Ok((row.try_get("", "seq")?, row.try_get("", "hash")?)),
        None => Ok((0, String::new())),
    }
}

/// Inside the caller's transaction: moves each chain's anchor forward to `(seq, hash)` and
/// removes the month's events.
pub async fn forget<C: ConnectionTrait>(
    conn: &C,
    month: Month,
    anchors: &[(String, i64, String)],
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        "UPDATE audit_chain_heads SET anchor_seq = $1, anchor_hash = $2 \
         WHERE chain = $3 AND anchor_seq < $1"
    } else {
        "UPDATE audit_chain_heads SET anchor_seq = ?1, anchor_hash = ?2 \
         WHERE chain = ?3 AND anchor_seq < ?1"
    };
    for (chain, seq, hash) in anchors {
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [(*seq).into(), hash.as_str().into(), chain.as_str().into()],
        ))
        .await?;
    }
    if backend == DatabaseBackend::Postgres {
        conn.execute_unprepared(&format!("DROP TABLE {}", month.partition()))
            .await?;
    } else {
        conn.execute_unprepared("DROP TRIGGER audit_events_no_delete")
            .await?;
        audit_event::Entity::delete_many()
            .filter(in_month(month))
            .exec(conn)
            .await?;
        conn.execute_unprepared(migration::AUDIT_SQLITE_NO_DELETE)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_count_back_across_years() {
        let march = Month {
            year: 2026,
            month: 3,
        };
        assert_eq!(
            march.minus(3),
            Month {
                year: 2025,
                month: 12
            }
        );
        assert_eq!(
            march.minus(15),
            Month {
                year: 2024,
                month: 12
            }
        );
        assert_eq!(march.minus(0), march);
        assert_eq!(
            Month {
                year: 2025,
                month: 12
            }
            .next(),
            Month {
                year: 2026,
                month: 1
            }
        );
        assert_eq!(march.label(), "2026-03");
        assert_eq!(march.start().to_rfc3339(), "2026-03-01T00:00:00+00:00");
    }
}
