//! A quoted ticket whose payment request closes unpaid: cancelled by staff or expired, the ticket
//! goes back to QUOTED in the same transaction, its open Stripe Checkout session is expired at
//! Stripe (through the outbox), and the client can accept the quote again, which asks anew. A
//! payment that still lands on the old session is recorded and flagged, and does not settle the
//! ticket, which belongs to its current request.

use crate::helpers::*;
use crate::payments::Payments;
use serde_json::{Value, json};
use std::time::Duration;

/// The TICKET requests of the project, oldest first: (id, status).
async fn ticket_requests(p: &Payments, ticket: &str) -> Vec<(String, String)> {
    let body = p
        .app
        .query(
            &p.team.owner,
            "query($p: ID!) { paymentRequests(projectId: $p, first: 50) { nodes { id kind ticketId status createdAt } } }",
            json!({ "p": p.project }),
        )
        .await;
    let mut rows: Vec<&Value> = data(&body)["paymentRequests"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|n| n["kind"] == "TICKET" && n["ticketId"] == ticket)
        .collect();
    rows.sort_by_key(|n| n["createdAt"].as_str().unwrap_or_default().to_owned());
    rows.iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap().to_owned(),
                n["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn ticket_status(p: &Payments, ticket: &str) -> String {
    let body = p
        .app
        .query(
            &p.team.client,
            "query($t: ID!) { ticket(id: $t) { status } }",
            json!({ "t": ticket }),
        )
        .await;
    data(&body)["ticket"]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// Waits (at most 10 s) until the Stripe stand-in was asked to expire `session`.
async fn expired_at_stripe(p: &Payments, session: &str) {
    let wanted = format!("/v1/checkout/sessions/{session}/expire");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let requests = p.stripe.received_requests().await.unwrap_or_default();
        if requests.iter().any(|r| r.url.path() == wanted) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Stripe was never asked to expire {session}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A ticket accepted at 90,000 and its checkout opened: (ticket, request, session).
async fn awaiting_payment(p: &Payments) -> (String, String, String) {
    let ticket = p.quoted_ticket(90_000).await;
    assert_eq!(p.answer_quote(&ticket).await, "AWAITING_PAYMENT");
    let requests = ticket_requests(p, &ticket).await;
    assert_eq!(requests.len(), 1);
    let request = requests[0].0.clone();
    let session = p.checkout(&request).await;
    (ticket, request, session)
}

#[tokio::test]
async fn a_cancelled_ticket_request_gives_the_quote_back_and_a_late_payment_is_only_flagged() {
    let p = Payments::start().await;
    let (ticket, first, session) = awaiting_payment(&p).await;

    let body = p
        .app
        .query(
            &p.team.owner,
            "mutation($id: ID!) { cancelPaymentRequest(id: $id) { status } }",
            json!({ "id": first }),
        )
        .await;
    assert_eq!(data(&body)["cancelPaymentRequest"]["status"], "CANCELLED");
    assert_eq!(ticket_status(&p, &ticket).await, "QUOTED");
    expired_at_stripe(&p, &session).await;

    // The client accepts again: a new request, the cancelled one kept as it was.
    assert_eq!(p.answer_quote(&ticket).await, "AWAITING_PAYMENT");
    let requests = ticket_requests(&p, &ticket).await;
    assert_eq!(
        requests.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        ["CANCELLED", "PENDING"]
    );
    let second = requests[1].0.clone();

    // The old session is paid anyway: recorded and flagged, the ticket not settled by it.
    let (_, body) = p
        .deliver(&p.completed("evt_late", &session, &first, 90_000, "pi_late"))
        .await;
    assert_eq!(body["outcome"], "applied", "{body}");
    assert_eq!(p.status(&first).await, "PAID");
    assert_eq!(p.status(&second).await, "PENDING");
    assert_eq!(ticket_status(&p, &ticket).await, "AWAITING_PAYMENT");
    let summaries = p
        .app
        .query(
            &p.team.owner,
            "query($p: ID!) { projectActivity(projectId: $p, first: 100) { nodes { action summary } } }",
            json!({ "p": p.project }),
        )
        .await;
    let summaries = summaries.to_string();
    assert!(summaries.contains("after it was cancelled"), "{summaries}");
    assert!(summaries.contains("is quoted again"), "{summaries}");

    // The current request pays the ticket, with exactly one task.
    let session = p.checkout(&second).await;
    let (_, body) = p
        .deliver(&p.completed("evt_paid", &session, &second, 90_000, "pi_paid"))
        .await;
    assert_eq!(body["outcome"], "applied", "{body}");
    assert_eq!(ticket_status(&p, &ticket).await, "PAID");
    let body = p
        .app
        .query(
            &p.team.owner,
            "query($t: ID!) { ticket(id: $t) { taskId } }",
            json!({ "t": ticket }),
        )
        .await;
    assert!(data(&body)["ticket"]["taskId"].is_string(), "{body}");
}

#[tokio::test]
async fn an_expired_ticket_request_gives_the_quote_back_and_closes_its_checkout() {
    let p = Payments::start().await;
    let (ticket, request, session) = awaiting_payment(&p).await;
    p.due_yesterday(&request).await;
    assert_eq!(
        portico::payment::expiry::expire_due(&p.app.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(p.status(&request).await, "EXPIRED");
    assert_eq!(ticket_status(&p, &ticket).await, "QUOTED");
    expired_at_stripe(&p, &session).await;
    // The client may decline it now, or accept it again.
    assert_eq!(p.answer_quote(&ticket).await, "AWAITING_PAYMENT");
    let statuses: Vec<String> = ticket_requests(&p, &ticket)
        .await
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(statuses, ["EXPIRED", "PENDING"]);
}

/// Under the earlier rule a closed request left its ticket AWAITING_PAYMENT for good. The
/// migration that brings the way back also frees those tickets: one whose requests all closed
/// unpaid returns to QUOTED; one whose request is still pending keeps waiting.
#[tokio::test]
async fn the_migration_gives_back_the_quote_of_tickets_stranded_by_the_earlier_rule() {
    use entity::payment_request;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};

    let p = Payments::start().await;
    let (stranded, stranded_request, _) = awaiting_payment(&p).await;
    let (waiting, _, _) = awaiting_payment(&p).await;

    p.app.outbox_drained().await;
    let conn = p.app.state.db.conn();
    let migrations = Migrator::migrations();
    let retries = migrations
        .iter()
        .position(|m| m.name() == "m20261130_000015_ticket_payment_retries")
        .unwrap();
    Migrator::down(conn, Some((migrations.len() - retries) as u32))
        .await
        .unwrap();
    // What a cancellation did before: the request closed, the ticket left waiting.
    portico::db::Scoped::new(conn, p.team.workspace_id)
        .update_many::<payment_request::Entity>()
        .col_expr(payment_request::Column::Status, Expr::value("CANCELLED"))
        .filter(payment_request::Column::Id.eq(stranded_request.parse::<uuid::Uuid>().unwrap()))
        .exec(conn)
        .await
        .unwrap();
    Migrator::up(conn, None).await.unwrap();

    assert_eq!(ticket_status(&p, &stranded).await, "QUOTED");
    assert_eq!(ticket_status(&p, &waiting).await, "AWAITING_PAYMENT");
    // The client accepts again, which asks anew.
    assert_eq!(p.answer_quote(&stranded).await, "AWAITING_PAYMENT");
    let requests = ticket_requests(&p, &stranded).await;
    let statuses: Vec<&str> = requests.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(statuses, ["CANCELLED", "PENDING"]);
}
