//! Ticket rules and transactions: numbering, decisions, quote answers, and the one task a ticket
//! becomes (the thread is in `thread`, what payments do in `payment`).

use super::types::{TicketKind, TicketStatus};
use super::workflow::{self, Side};
use crate::activity::{self, Entry};
use crate::app::App;
use crate::db::{Scoped, contains_ci};
use crate::error::{ApiError, ApiResult};
use crate::events::{DomainEvent, TicketChanged};
use crate::graphql::pagination::{Direction, Page, fetch};
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility as projects;
use crate::task::service as tasks;
use crate::types::{Money, text};
use chrono::Utc;
use entity::{project, ticket, ticket_comment};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

/// A ticket the caller may see (its project is visible to them); NOT_FOUND otherwise.
pub async fn get_visible<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<ticket::Model> {
    let found = Scoped::new(conn, access.workspace_id)
        .find_by_id::<ticket::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    projects::get_visible(conn, access, found.project_id)
        .await
        .map_err(|_| ApiError::NotFound("ticket"))?;
    Ok(found)
}

pub(super) async fn record<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    access: &WorkspaceAccess,
    ticket: &ticket::Model,
    action: &'static str,
    summary: String,
    staff_only: bool,
) -> ApiResult<()> {
    activity::service::record(
        scoped,
        Entry {
            project_id: ticket.project_id,
            actor_id: access.user_id,
            action,
            subject_type: "ticket",
            subject_id: ticket.id,
            summary,
            payload: json!({ "number": ticket.number, "status": ticket.status }),
            staff_only,
        },
    )
    .await
}

pub(super) fn ticket_event(ticket: &ticket::Model) -> TicketChanged {
    TicketChanged {
        project_id: ticket.project_id,
        ticket_id: ticket.id,
        number: ticket.number,
        status: ticket.status.clone(),
    }
}

/// Opens a ticket with the project's next number (unique even under concurrent creation: the
/// project row is locked while the number is taken, and (project, number) is unique).
pub async fn create(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
    kind: TicketKind,
    title: &str,
    description: &str,
) -> ApiResult<ticket::Model> {
    let title = text::required("title", title, 300)?;
    let description = text::required("description", description, 20_000)?;
    let txn = app.db.begin().await?;
    let project = tasks::lock_project(&*txn, access, project_id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let number = project.next_ticket_number;
    scoped
        .update_many::<project::Entity>()
        .col_expr(project::Column::NextTicketNumber, Expr::value(number + 1))
        .filter(project::Column::Id.eq(project_id))
        .exec(&*txn)
        .await?;
    let now = Utc::now();
    let created = scoped
        .insert(ticket::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(access.workspace_id),
            project_id: Set(project_id),
            number: Set(number),
            kind: Set(kind.as_str().to_owned()),
            title: Set(title),
            description: Set(description),
            status: Set(TicketStatus::New.as_str().to_owned()),
            created_by: Set(access.user_id),
            quote_amount_minor: Set(None),
            quote_currency: Set(None),
            quote_description: Set(None),
            quote_delay_days: Set(None),
            task_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    record(
        &scoped,
        access,
        &created,
        "ticket.created",
        format!("Ticket #{number} created"),
        false,
    )
    .await?;
    scoped.emit(DomainEvent::TicketCreated(ticket_event(&created)));
    txn.commit().await?;
    Ok(created)
}

/// Filters of a ticket list.
#[derive(Debug, Default, Clone)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub kind: Option<TicketKind>,
    pub search: Option<String>,
}

/// A page of a project's tickets, by number, with the total.
pub async fn list(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
    page: Page,
    filter: TicketFilter,
) -> ApiResult<(Vec<ticket::Model>, u64, bool)> {
    let conn = app.db.conn();
    projects::get_visible(conn, access, project_id).await?;
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut condition = Condition::all().add(ticket::Column::ProjectId.eq(project_id));
    if let Some(status) = filter.status {
        condition = condition.add(ticket::Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(ticket::Column::Kind.eq(kind.as_str()));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        condition = condition.add(contains_ci(ticket::Column::Title, search));
    }
    let query = scoped.find::<ticket::Entity>().filter(condition);
    fetch(conn, query, ticket::Column::Id, Direction::Forward, page).await
}

pub(super) async fn set_status<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    ticket: ticket::Model,
    status: TicketStatus,
) -> ApiResult<ticket::Model> {
    let mut model: ticket::ActiveModel = ticket.into();
    model.status = Set(status.as_str().to_owned());
    model.updated_at = Set(Utc::now());
    Ok(scoped.update(model).await?)
}

/// A quote given with the QUOTED decision.
#[derive(Debug, Clone)]
pub struct QuoteTerms {
    pub price: Money,
    pub description: Option<String>,
    pub delay_days: Option<i32>,
}

/// Staff decide on a NEW ticket: TO_CLARIFY, REFUSED, ACCEPTED (it becomes a task) or QUOTED
/// (with a price). An optional `note` is added to the thread for the client.
pub async fn decide(
    app: &App,
    access: &WorkspaceAccess,
    ticket_id: Uuid,
    to: TicketStatus,
    quote: Option<QuoteTerms>,
    note: Option<&str>,
) -> ApiResult<ticket::Model> {
    let txn = app.db.begin().await?;
    let current = get_visible(&*txn, access, ticket_id).await?;
    tasks::lock_project(&*txn, access, current.project_id).await?;
    // Re-read under the lock: a concurrent decision may have moved it.
    let current = get_visible(&*txn, access, ticket_id).await?;
    workflow::check(
        current.number,
        TicketStatus::parse(&current.status),
        to,
        Side::Staff,
    )?;
    let scoped = txn.scoped(access.workspace_id);
    let mut model: ticket::ActiveModel = current.clone().into();
    match (to, quote) {
        (TicketStatus::Quoted, Some(terms)) => {
            if terms.delay_days.is_some_and(|d| !(0..=3650).contains(&d)) {
                return Err(ApiError::bad_field(
                    "delayDays",
                    "a delay is 0 to 3650 days",
                ));
            }
            model.quote_amount_minor = Set(Some(terms.price.amount_minor()));
            model.quote_currency = Set(Some(terms.price.currency().to_owned()));
            model.quote_description = Set(terms
                .description
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty()));
            model.quote_delay_days = Set(terms.delay_days);
        }
        (TicketStatus::Quoted, None) => {
            return Err(ApiError::bad_field(
                "quote",
                "a QUOTED decision needs a quote",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::bad_field(
                "quote",
                "only a QUOTED decision carries a quote",
            ));
        }
        (_, None) => {}
    }
    model.status = Set(to.as_str().to_owned());
    model.updated_at = Set(Utc::now());
    let mut updated = scoped.update(model).await?;
    if let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) {
        scoped
            .insert(ticket_comment::ActiveModel {
                id: Set(Uuid::now_v7()),
                workspace_id: Set(access.workspace_id),
                ticket_id: Set(updated.id),
                author_id: Set(access.user_id),
                body: Set(text::required("note", note, 10_000)?),
                internal: Set(false),
                created_at: Set(Utc::now()),
            })
            .await?;
    }
    record(
        &scoped,
        access,
        &updated,
        "ticket.status_changed",
        format!(
            "Ticket #{} {}",
            updated.number,
            to.as_str().to_lowercase().replace('_', " ")
        ),
        false,
    )
    .await?;
    if workflow::converts_to_task(to) {
        updated = convert_to_task(&scoped, access.user_id, updated).await?;
    }
    scoped.emit(DomainEvent::TicketStatusChanged(ticket_event(&updated)));
    txn.commit().await?;
    Ok(updated)
}

/// The client accepts (AWAITING_PAYMENT) or declines (DECLINED) a quoted ticket.
pub async fn answer_quote(
    app: &App,
    access: &WorkspaceAccess,
    ticket_id: Uuid,
    accept: bool,
) -> ApiResult<ticket::Model> {
    let to = if accept {
        TicketStatus::AwaitingPayment
    } else {
        TicketStatus::Declined
    };
    let txn = app.db.begin().await?;
    let current = get_visible(&*txn, access, ticket_id).await?;
    if access.is_staff() {
        return Err(ApiError::forbidden("only the client answers a quote"));
    }
    tasks::lock_project(&*txn, access, current.project_id).await?;
    let current = get_visible(&*txn, access, ticket_id).await?;
    workflow::check(
        current.number,
        TicketStatus::parse(&current.status),
        to,
        Side::Client,
    )?;
    let scoped = txn.scoped(access.workspace_id);
    let updated = set_status(&scoped, current, to).await?;
    if accept {
        // The client pays the quote through a TICKET payment request (issue #5).
        crate::payment::service::request_for_ticket(&scoped, access.user_id, &updated).await?;
    }
    let verb = if accept { "accepted" } else { "declined" };
    record(
        &scoped,
        access,
        &updated,
        "ticket.status_changed",
        format!("Quote of ticket #{} {verb}", updated.number),
        false,
    )
    .await?;
    scoped.emit(DomainEvent::TicketStatusChanged(ticket_event(&updated)));
    txn.commit().await?;
    Ok(updated)
}

/// Makes the ticket's one task (idempotent: a ticket that has a task keeps it).
pub async fn convert_to_task<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    actor_id: Uuid,
    ticket: ticket::Model,
) -> ApiResult<ticket::Model> {
    if ticket.task_id.is_some() {
        return Ok(ticket);
    }
    let task = tasks::insert_from_ticket(scoped, actor_id, &ticket).await?;
    let mut model: ticket::ActiveModel = ticket.into();
    model.task_id = Set(Some(task.id));
    Ok(scoped.update(model).await?)
}

/// Tickets awaiting a staff decision (NEW, TO_CLARIFY) of several projects, by number: the
/// board's "client requests" lane. One statement.
pub async fn awaiting_decision(
    db: &crate::db::Db,
    workspace_id: Uuid,
    projects: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, Vec<ticket::Model>>> {
    let rows = Scoped::new(db.conn(), workspace_id)
        .find::<ticket::Entity>()
        .filter(ticket::Column::ProjectId.is_in(projects.iter().copied()))
        .filter(
            ticket::Column::Status
                .is_in([TicketStatus::New.as_str(), TicketStatus::ToClarify.as_str()]),
        )
        .order_by_asc(ticket::Column::Number)
        .all(db.conn())
        .await?;
    let mut out: std::collections::HashMap<Uuid, Vec<ticket::Model>> =
        std::collections::HashMap::new();
    for row in rows {
        out.entry(row.project_id).or_default().push(row);
    }
    Ok(out)
}
