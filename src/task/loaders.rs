//! Task relations of a batch of projects or tasks. `tasks(first: 50)` of 20 projects is one
//! statement (a ranked window per project); counts, labels and assignees one statement each.

use super::types::{Task, TaskCursor, TaskFilter};
use crate::db::{Db, Global, Scoped, contains_ci};
use crate::error::ApiResult;
use crate::graphql::RequestContext;
use crate::graphql::batch::Batch;
use crate::graphql::flat::{FlatConnection, Preloaded};
use crate::identity::User;
use async_graphql::{Context, Result};
use entity::{task, task_label, user};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// `tasks.column_rank`: the board order of columns (BACKLOG 0 … DONE 3), a column the database
/// generates from `board_column` (migration 000010). Unqualified, so the ordered window's outer
/// query can name it too.
fn rank_expr() -> SimpleExpr {
    Expr::col(Alias::new("column_rank"))
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

/// A page of one project's tasks, built once and shared by every connection that shows it.
#[derive(Debug, Clone)]
pub struct TaskPage {
    pub tasks: Arc<[Task]>,
    pub has_next: bool,
}

/// Pages of several projects' tasks (their tasks share one [`TaskBatch`]).
#[derive(Debug)]
pub struct TaskPages {
    pub by_project: HashMap<Uuid, TaskPage>,
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

/// The first `filter.first` tasks of each project (one statement: a ranked window per project),
/// and with `with_assignees` their assignees (one more statement), so that a board resolves its
/// cards and their people in one pass.
pub async fn pages(
    db: &Db,
    workspace_id: Uuid,
    projects: &[Uuid],
    filter: &TaskFilter,
    with_assignees: bool,
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
    let mut rows_by_project: HashMap<Uuid, (Vec<task::Model>, bool)> =
        projects.iter().map(|p| (*p, (Vec::new(), false))).collect();
    for row in rows {
        if let Some((tasks, has_next)) = rows_by_project.get_mut(&row.project_id) {
            if tasks.len() as u64 == filter.first {
                *has_next = true;
            } else {
                tasks.push(row);
            }
        }
    }
    let all: Vec<&task::Model> = rows_by_project.values().flat_map(|p| p.0.iter()).collect();
    let batch = TaskBatch::new(workspace_id, &all);
    let assignees: HashMap<Uuid, Arc<User>> = if with_assignees {
        users(db, &batch.assignees)
            .await?
            .into_iter()
            .map(|(id, user)| (id, Arc::new(user)))
            .collect()
    } else {
        HashMap::new()
    };
    let by_project = rows_by_project
        .into_iter()
        .map(|(project, (tasks, has_next))| {
            let tasks = tasks
                .into_iter()
                .map(|t| {
                    let mut task = Task::with_batch(t, batch.clone());
                    if with_assignees {
                        task.assignee_loaded = task
                            .assignee_id
                            .and_then(|id| assignees.get(&id))
                            .map_or(Preloaded::Null, |user| Preloaded::Object(user.clone()));
                    }
                    task
                })
                .collect();
            (project, TaskPage { tasks, has_next })
        })
        .collect();
    Ok(TaskPages { by_project })
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

/// The columns of a user that a card shows (not the password hash nor the MFA secret).
#[derive(Debug, FromQueryResult)]
struct UserCard {
    id: Uuid,
    name: String,
    email: String,
}

/// Users by ID (the assignees of a batch of tasks).
pub async fn users(db: &Db, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, User>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(Global::new(db.conn())
        .find::<user::Entity>()
        .select_only()
        .columns([user::Column::Id, user::Column::Name, user::Column::Email])
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .into_model::<UserCard>()
        .all(db.conn())
        .await?
        .into_iter()
        .map(|u| {
            let user = User {
                id: async_graphql::ID(u.id.to_string()),
                name: u.name,
                email: Some(u.email),
            };
            (u.id, user)
        })
        .collect())
}

/// The `tasks` connection of one project; the pages of all its sibling projects load together.
pub async fn connection_for_project(
    ctx: &Context<'_>,
    projects: &Batch,
    project_id: Uuid,
    filter: TaskFilter,
    with_total: bool,
) -> Result<FlatConnection<Task>> {
    let db = &RequestContext::of(ctx)?.app.db;
    let workspace_id = projects.workspace_id;
    let look = ctx.look_ahead();
    let with_assignees = look.field("edges").field("node").field("assignee").exists()
        || look.field("nodes").field("assignee").exists();
    let loaded = projects
        .load(format!("tasks:{filter:?}:{with_assignees}"), || {
            pages(db, workspace_id, &projects.ids, &filter, with_assignees)
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
    let (tasks, has_next) = loaded
        .by_project
        .get(&project_id)
        .map_or_else(|| (Arc::from([]), false), |p| (p.tasks.clone(), p.has_next));
    Ok(FlatConnection::new(
        tasks,
        filter.after.is_some(),
        has_next,
        total_count,
    ))
}
