//! Task relations of a batch of projects or tasks. `tasks(first: 50)` of 20 projects is one
//! statement (a ranked window per project); counts, labels and assignees one statement each.

use super::types::{Task, TaskColumn, TaskCursor, TaskFilter};
use crate::db::{Db, Global, Scoped, contains_ci};
use crate::error::ApiResult;
use crate::graphql::RequestContext;
use crate::graphql::batch::Batch;
use crate::graphql::flat::Flat;
use crate::graphql::pagination::ConnectionFields;
use crate::identity::User;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Result};
use entity::{task, task_label, user};
use sea_orm::sea_query::{Expr, ExprTrait, Order, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// `CASE board_column WHEN 'BACKLOG' THEN 0 … END`: the board order of columns.
fn rank_expr() -> SimpleExpr {
    let mut case = Expr::case(
        task::Column::BoardColumn.eq(TaskColumn::Backlog.as_str()),
        0,
    );
    for column in [
        TaskColumn::InProgress,
        TaskColumn::WaitingClient,
        TaskColumn::Done,
    ] {
        case = case.case(
            task::Column::BoardColumn.eq(column.as_str()),
            i32::from(column.rank()),
        );
    }
    case.finally(9).into()
}

/// The SQL condition of a filter (pagination included when `after` is set).
fn condition(scoped: &Scoped<'_, impl sea_orm::ConnectionTrait>, filter: &TaskFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(column) = filter.column {
        condition = condition.add(task::Column::BoardColumn.eq(column.as_str()));
    }
    if let Some(assignee) = filter.assignee {
        condition = condition.add(task::Column::AssigneeId.eq(assignee));
    }
    if let Some(label) = &filter.label {
        condition = condition.add(task::Column::Id.in_subquery(
            scoped.select_column::<task_label::Entity>(
                task_label::Column::TaskId,
                Condition::all().add(task_label::Column::Label.eq(label.as_str())),
            ),
        ));
    }
    if let Some(search) = &filter.search {
        condition = condition.add(contains_ci(task::Column::Title, search));
    }
    if let Some(TaskCursor { rank, position, id }) = filter.after {
        let rank_value = i32::from(rank);
        condition = condition.add(
            Condition::any()
                .add(Expr::expr(rank_expr()).gt(rank_value))
                .add(
                    Condition::all()
                        .add(Expr::expr(rank_expr()).eq(rank_value))
                        .add(
                            Condition::any()
                                .add(task::Column::Position.gt(position))
                                .add(
                                    Condition::all()
                                        .add(task::Column::Position.eq(position))
                                        .add(task::Column::Id.gt(id)),
                                ),
                        ),
                ),
        );
    }
    condition
}

/// A page of one project's tasks.
#[derive(Debug, Clone, Default)]
pub struct TaskPage {
    pub tasks: Vec<task::Model>,
    pub has_next: bool,
}

/// Pages of several projects' tasks, and the batch their tasks share.
#[derive(Debug)]
pub struct TaskPages {
    pub by_project: HashMap<Uuid, TaskPage>,
    pub batch: Arc<TaskBatch>,
}

/// Tasks resolved together: their labels and assignees load for all of them at once.
#[derive(Debug)]
pub struct TaskBatch {
    pub batch: Arc<Batch>,
    /// The distinct assignees of the batch.
    pub assignees: Vec<Uuid>,
}

impl TaskBatch {
    pub fn new(workspace_id: Uuid, tasks: &[&task::Model]) -> Arc<Self> {
        let mut assignees: Vec<Uuid> = tasks.iter().filter_map(|t| t.assignee_id).collect();
        assignees.sort();
        assignees.dedup();
        Arc::new(Self {
            batch: Batch::new(workspace_id, tasks.iter().map(|t| t.id).collect()),
            assignees,
        })
    }
}

/// The first `filter.first` tasks of each project (one statement: a ranked window per project).
pub async fn pages(
    db: &Db,
    workspace_id: Uuid,
    projects: &[Uuid],
    filter: &TaskFilter,
) -> ApiResult<TaskPages> {
    let scoped = Scoped::new(db.conn(), workspace_id);
    let order = vec![
        (rank_expr(), Order::Asc),
        (Expr::col(task::Column::Position), Order::Asc),
        (Expr::col(task::Column::Id), Order::Asc),
    ];
    // One more than asked, to know whether a next page exists.
    let rows = scoped
        .top_n_per_parent::<task::Entity>(
            task::Column::ProjectId,
            projects,
            order,
            condition(&scoped, filter),
            filter.first + 1,
        )
        .await?;
    let mut by_project: HashMap<Uuid, TaskPage> =
        projects.iter().map(|p| (*p, TaskPage::default())).collect();
    for row in rows {
        if let Some(page) = by_project.get_mut(&row.project_id) {
            if page.tasks.len() as u64 == filter.first {
                page.has_next = true;
            } else {
                page.tasks.push(row);
            }
        }
    }
    let all: Vec<&task::Model> = by_project.values().flat_map(|p| p.tasks.iter()).collect();
    let batch = TaskBatch::new(workspace_id, &all);
    Ok(TaskPages { by_project, batch })
}

#[derive(Debug, FromQueryResult)]
struct CountRow {
    project_id: Uuid,
    total: i64,
}

/// How many tasks of each project match `filter` (pagination ignored).
pub async fn counts(
    db: &Db,
    workspace_id: Uuid,
    projects: &[Uuid],
    filter: &TaskFilter,
) -> ApiResult<HashMap<Uuid, u64>> {
    let scoped = Scoped::new(db.conn(), workspace_id);
    let rows = scoped
        .find::<task::Entity>()
        .select_only()
        .column(task::Column::ProjectId)
        .column_as(Expr::col(task::Column::Id).count(), "total")
        .filter(task::Column::ProjectId.is_in(projects.iter().copied()))
        .filter(condition(&scoped, &filter.unpaged()))
        .group_by(task::Column::ProjectId)
        .into_model::<CountRow>()
        .all(db.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.project_id, u64::try_from(r.total).unwrap_or(0)))
        .collect())
}

/// Labels of the tasks, alphabetically.
pub async fn labels(
    db: &Db,
    workspace_id: Uuid,
    tasks: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<String>>> {
    let rows = Scoped::new(db.conn(), workspace_id)
        .find::<task_label::Entity>()
        .filter(task_label::Column::TaskId.is_in(tasks.iter().copied()))
        .order_by_asc(task_label::Column::Label)
        .all(db.conn())
        .await?;
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    for row in rows {
        out.entry(row.task_id).or_default().push(row.label);
    }
    Ok(out)
}

/// Users by ID (the assignees of a batch of tasks).
pub async fn users(db: &Db, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, User>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(Global::new(db.conn())
        .find::<user::Entity>()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|u| (u.id, User::from(u)))
        .collect())
}

/// The `tasks` connection of one project; the pages of all its sibling projects load together.
pub async fn connection_for_project(
    ctx: &Context<'_>,
    projects: &Batch,
    project_id: Uuid,
    filter: TaskFilter,
    with_total: bool,
) -> Result<Connection<String, Flat<Task>, ConnectionFields>> {
    let db = &RequestContext::of(ctx)?.app.db;
    let workspace_id = projects.workspace_id;
    let loaded = projects
        .load(format!("tasks:{filter:?}"), || {
            pages(db, workspace_id, &projects.ids, &filter)
        })
        .await?;
    let total_count = if with_total {
        let counts = projects
            .load(format!("task-counts:{:?}", filter.unpaged()), || {
                counts(db, workspace_id, &projects.ids, &filter)
            })
            .await?;
        counts.get(&project_id).copied().unwrap_or(0)
    } else {
        0
    };
    let page = loaded
        .by_project
        .get(&project_id)
        .cloned()
        .unwrap_or_default();
    let mut connection = Connection::with_additional_fields(
        filter.after.is_some(),
        page.has_next,
        ConnectionFields { total_count },
    );
    connection.edges.extend(page.tasks.into_iter().map(|t| {
        Edge::new(
            TaskCursor::of(&t).encode(),
            Flat(Task::with_batch(t, loaded.batch.clone())),
        )
    }));
    Ok(connection)
}
