//! Relations of a batch of projects, each loaded in one statement through the tenant scope.

use crate::db::{Db, Scoped};
use crate::error::ApiResult;
use entity::{project_phase, task};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// Phases of the projects, in timeline order.
pub async fn phases(
    db: &Db,
    workspace_id: Uuid,
    projects: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<project_phase::Model>>> {
    let rows = Scoped::new(db.conn(), workspace_id)
        .find::<project_phase::Entity>()
        .filter(project_phase::Column::ProjectId.is_in(projects.iter().copied()))
        .order_by_asc(project_phase::Column::Position)
        .all(db.conn())
        .await?;
    let mut out: HashMap<Uuid, Vec<project_phase::Model>> = HashMap::new();
    for row in rows {
        out.entry(row.project_id).or_default().push(row);
    }
    Ok(out)
}

/// Task counts behind a project's derived progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskCounts {
    pub total: i64,
    pub done: i64,
}

impl TaskCounts {
    /// Done tasks as a whole percentage (0 without tasks).
    pub fn percent(self) -> i32 {
        if self.total <= 0 {
            return 0;
        }
        i32::try_from(self.done.saturating_mul(100) / self.total).unwrap_or(100)
    }
}

#[derive(Debug, FromQueryResult)]
struct CountRow {
    project_id: Uuid,
    total: i64,
    done: i64,
}

/// Total and done task counts of the projects.
pub async fn progress(
    db: &Db,
    workspace_id: Uuid,
    projects: &[Uuid],
) -> ApiResult<HashMap<Uuid, TaskCounts>> {
    let rows = Scoped::new(db.conn(), workspace_id)
        .find::<task::Entity>()
        .select_only()
        .column(task::Column::ProjectId)
        .column_as(Expr::col(task::Column::Id).count(), "total")
        .column_as(
            Expr::cust("SUM(CASE WHEN board_column = 'DONE' THEN 1 ELSE 0 END)"),
            "done",
        )
        .filter(task::Column::ProjectId.is_in(projects.iter().copied()))
        .group_by(task::Column::ProjectId)
        .into_model::<CountRow>()
        .all(db.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.project_id,
                TaskCounts {
                    total: r.total,
                    done: r.done,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_percent() {
        assert_eq!(TaskCounts { total: 0, done: 0 }.percent(), 0);
        assert_eq!(TaskCounts { total: 3, done: 1 }.percent(), 33);
        assert_eq!(TaskCounts { total: 4, done: 4 }.percent(), 100);
    }
}
