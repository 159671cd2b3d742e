//! Payments: payment requests, Stripe Checkout through a local HTTP stand-in of Stripe's API that
//! records what Portico sends, webhooks signed exactly as Stripe signs them (forged, stale,
//! replayed, duplicated, out of order, unknown, malformed), paid tickets, balances, expiry, and
//! who may read or pay what.

use crate::helpers::*;
use hmac::{Hmac, Mac};
use sea_orm::{ColumnTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const WEBHOOK_SECRET: &str = "whsec_portico_test_secret";

/// A stand-in of `POST /v1/checkout/sessions`: answers a Checkout Session shaped like Stripe's,
/// the same one for the same Idempotency-Key (as Stripe does).
struct CheckoutSessions;

impl Respond for CheckoutSessions {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = form(request);
        let Some(key) = request.headers.get("idempotency-key") else {
            return ResponseTemplate::new(400)
                .set_body_json(json!({ "error": { "type": "invalid_request_error", "message": "this stand-in wants an Idempotency-Key" } }));
        };
        let digest = hex::encode(Sha256::digest(key.as_bytes()));
        let id = format!("cs_test_{}", &digest[..24]);
        let metadata: serde_json::Map<String, Value> = form
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("metadata[")
                    .and_then(|k| k.strip_suffix(']'))
                    .map(|k| (k.to_owned(), json!(v)))
            })
            .collect();
        let amount: i64 = form["line_items[0][price_data][unit_amount]"]
            .parse()
            .unwrap();
        let session = checkout_session(
            &id,
            Value::Object(metadata),
            amount,
            &form["line_items[0][price_data][currency]"],
            "open",
            "unpaid",
            None,
            form["expires_at"].parse().unwrap(),
        );
        ResponseTemplate::new(200).set_body_json(session)
    }
}

/// A stand-in of `POST /v1/checkout/sessions/{id}/expire`: the session, now expired.
struct ExpireSession;

impl Respond for ExpireSession {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request.url.path().split('/').nth(4).unwrap_or_default();
        let session = checkout_session(id, json!({}), 0, "eur", "expired", "unpaid", None, 0);
        ResponseTemplate::new(200).set_body_json(session)
    }
}

fn form(request: &Request) -> HashMap<String, String> {
    form_urlencoded::parse(&request.body).into_owned().collect()
}

/// A Checkout Session object with the fields Stripe always sends.
#[allow(clippy::too_many_arguments)]
pub(crate) fn checkout_session(
    id: &str,
    metadata: Value,
    amount: i64,
    currency: &str,
    status: &str,
    payment_status: &str,
    payment_intent: Option<&str>,
    expires_at: i64,
) -> Value {
    json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
        "client_reference_id": metadata.get("payment_request_id"),
        "created": chrono::Utc::now().timestamp(),
        "currency": currency,
        "custom_fields": [],
        "custom_text": { "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null },
        "customer_email": "client@example.com",
        "expires_at": expires_at,
        "livemode": false,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_method_types": ["card"],
        "payment_status": payment_status,
        "shipping_options": [],
        "status": status,
        "url": format!("https://checkout.stripe.test/c/pay/{id}"),
    })
}

/// An event envelope as Stripe delivers it.
pub(crate) fn event(id: &str, kind: &str, object: Value) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": null,
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": kind,
    })
    .to_string()
}

/// `Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`, as Stripe computes it.
fn signature(payload: &str, secret: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

pub(crate) struct Payments {
    pub(crate) app: TestApp,
    pub(crate) stripe: MockServer,
    pub(crate) team: Team,
    pub(crate) project: String,
}

impl Payments {
    pub(crate) async fn start() -> Payments {
        let stripe = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/checkout/sessions"))
            .respond_with(CheckoutSessions)
            .mount(&stripe)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/v1/checkout/sessions/[^/]+/expire$"))
            .respond_with(ExpireSession)
            .mount(&stripe)
            .await;
        let base = stripe.uri();
        let app = spawn_app_with(|c| {
            c.stripe_secret_key = Some(portico::config::Secret::new("sk_test_portico"));
            c.stripe_webhook_secret = Some(portico::config::Secret::new(WEBHOOK_SECRET));
            c.stripe_api_base = Some(base);
        })
        .await;
        let team = app.create_team("acme").await;
        let project = app
            .create_project(&team.owner, "Website", &[&team.client, &team.guest])
            .await;
        Payments {
            app,
            stripe,
            team,
            project,
        }
    }

    pub(crate) async fn request_payment(&self, title: &str, amount: i64, currency: &str) -> String {
        let body = self
            .app
            .query(
                &self.team.owner,
                "mutation($p: ID!, $t: String!, $a: MinorUnits!, $c: String!) { createPaymentRequest(input: {projectId: $p, kind: DEPOSIT, title: $t, amountMinor: $a, currency: $c}) { id status } }",
                json!({ "p": self.project, "t": title, "a": amount, "c": currency }),
            )
            .await;
        assert_eq!(
            data(&body)["createPaymentRequest"]["status"],
            "PENDING",
            "{body}"
        );
        data(&body)["createPaymentRequest"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn pay(&self, session: &Session, id: &str) -> Value {
        self.app
            .query(
                session,
                "mutation($id: ID!) { payPaymentRequest(id: $id) { url expiresAt testMode } }",
                json!({ "id": id }),
            )
            .await
    }

    /// The client opens the checkout; returns the session id the stand-in made.
    pub(crate) async fn checkout(&self, id: &str) -> String {
        let body = self.pay(&self.team.client, id).await;
        let url = data(&body)["payPaymentRequest"]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"));
        url.rsplit('/').next().unwrap().to_owned()
    }

    pub(crate) async fn request(&self, session: &Session, id: &str) -> Value {
        self.app
            .query(
                session,
                "query($id: ID!) { paymentRequest(id: $id) { status amountMinor currency amountRefundedMinor lastFailure paidAt paidBy { id } } }",
                json!({ "id": id }),
            )
            .await
    }

    pub(crate) async fn status(&self, id: &str) -> String {
        let body = self.request(&self.team.owner, id).await;
        data(&body)["paymentRequest"]["status"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    /// Delivers `payload` to the webhook, signed with `secret` at `timestamp`.
    pub(crate) async fn deliver_signed(
        &self,
        payload: &str,
        secret: &str,
        timestamp: i64,
    ) -> (u16, Value) {
        let response = self
            .app
            .client
            .post(format!("{}/webhooks/stripe", self.app.address))
            .header("Stripe-Signature", signature(payload, secret, timestamp))
            .header("Content-Type", "application/json")
            .body(payload.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn deliver(&self, payload: &str) -> (u16, Value) {
        self.deliver_signed(payload, WEBHOOK_SECRET, chrono::Utc::now().timestamp())
            .await
    }

    pub(crate) fn completed(
        &self,
        event_id: &str,
        session: &str,
        id: &str,
        amount: i64,
        pi: &str,
    ) -> String {
        event(
            event_id,
            "checkout.session.completed",
            checkout_session(
                session,
                json!({ "payment_request_id": id, "workspace_id": self.team.workspace_id.to_string() }),
                amount,
                "eur",
                "complete",
                "paid",
                Some(pi),
                chrono::Utc::now().timestamp() + 3600,
            ),
        )
    }

    /// A ticket the client opened and staff quoted at `amount` EUR cents; its id.
    pub(crate) async fn quoted_ticket(&self, amount: i64) -> String {
        let opened = self
            .app
            .query(
                &self.team.client,
                "mutation($p: ID!) { createTicket(input: {projectId: $p, kind: CHANGE, title: \"New page\", description: \"Please\"}) { id } }",
                json!({ "p": self.project }),
            )
            .await;
        let ticket = data(&opened)["createTicket"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let quoted = self
            .app
            .query(
                &self.team.collaborator,
                "mutation($t: ID!, $a: MinorUnits!) { decideTicket(id: $t, status: QUOTED, quote: {amountMinor: $a, currency: \"EUR\"}) { status quote { amountMinor } } }",
                json!({ "t": ticket, "a": amount }),
            )
            .await;
        assert_eq!(
            data(&quoted)["decideTicket"]["quote"]["amountMinor"],
            amount,
            "{quoted}"
        );
        ticket
    }

    /// The client accepts the quote of `ticket`; the ticket's new status.
    pub(crate) async fn answer_quote(&self, ticket: &str) -> String {
        let accepted = self
            .app
            .query(
                &self.team.client,
                "mutation($t: ID!) { answerQuote(id: $t, accept: true) { status } }",
                json!({ "t": ticket }),
            )
            .await;
        data(&accepted)["answerQuote"]["status"]
            .as_str()
            .unwrap_or_else(|| panic!("{accepted}"))
            .to_owned()
    }

    /// Moves the due date of request `id` to yesterday, so the expiry job takes it.
    pub(crate) async fn due_yesterday(&self, id: &str) {
        let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
        portico::db::Scoped::new(self.app.state.db.conn(), self.team.workspace_id)
            .update_many::<entity::payment_request::Entity>()
            .col_expr(
                entity::payment_request::Column::DueDate,
                sea_orm::sea_query::Expr::value(yesterday),
            )
            .filter(entity::payment_request::Column::Id.eq(uuid::Uuid::parse_str(id).unwrap()))
            .exec(self.app.state.db.conn())
            .await
            .unwrap();
    }

    pub(crate) async fn timeline_actions(&self) -> Vec<String> {
        let body = self
            .app
            .query(
                &self.team.owner,
                "query($p: ID!) { projectActivity(projectId: $p, first: 100) { nodes { action } } }",
                json!({ "p": self.project }),
            )
            .await;
        data(&body)["projectActivity"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|n| n["action"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn refunded_charge(event_id: &str, pi: &str, amount_refunded: i64, fully: bool) -> String {
    event(
        event_id,
        "charge.refunded",
        json!({
            "id": format!("ch_{event_id}"),
            "object": "charge",
            "amount": 50_000,
            "amount_captured": 50_000,
            "amount_refunded": amount_refunded,
            "billing_details": { "address": null, "email": null, "name": null, "phone": null },
            "captured": true,
            "created": chrono::Utc::now().timestamp(),
            "currency": "eur",
            "disputed": false,
            "livemode": false,
            "metadata": {},
            "paid": true,
            "payment_intent": pi,
            "refunded": fully,
            "status": "succeeded",
        }),
    )
}

#[tokio::test]
async fn a_client_pays_through_checkout_and_only_the_webhook_marks_it_paid() {
    let p = Payments::start().await;
    let id = p.request_payment("Deposit", 50_000, "EUR").await;
    let session = p.checkout(&id).await;

    // What Portico sent to Stripe.
    let sent = p.stripe.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    let request = &sent[0];
    let form = form(request);
    assert_eq!(
        request.headers["authorization"].to_str().unwrap(),
        "Bearer sk_test_portico"
    );
    let key = request.headers["idempotency-key"].to_str().unwrap();
    assert_eq!(key, format!("portico-checkout-{id}-0"));
    assert_eq!(form["mode"], "payment");
    assert_eq!(form["line_items[0][price_data][unit_amount]"], "50000");
    assert_eq!(form["line_items[0][price_data][currency]"], "eur");
    assert_eq!(
        form["line_items[0][price_data][product_data][name]"],
        "Deposit"
    );
    assert_eq!(form["line_items[0][quantity]"], "1");
    assert_eq!(form["customer_email"], p.team.client.email);
    assert_eq!(form["metadata[payment_request_id]"], id);
    assert_eq!(
        form["metadata[workspace_id]"],
        p.team.workspace_id.to_string()
    );
    assert_eq!(form["metadata[project_id]"], p.project);
    assert_eq!(
        form["payment_intent_data[metadata][payment_request_id]"],
        id
    );

    // Coming back from the checkout page changes nothing: only Stripe's word does.
    assert_eq!(p.status(&id).await, "PENDING");
    let (status, body) = p
        .deliver(&p.completed("evt_paid_1", &session, &id, 50_000, "pi_1"))
        .await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    let body = p.request(&p.team.client, &id).await;
    let paid = &data(&body)["paymentRequest"];
    assert_eq!(paid["status"], "PAID");
    assert!(paid["paidAt"].is_string());
    assert_eq!(paid["paidBy"]["id"], p.team.client.user_id.to_string());
    assert!(
        p.timeline_actions()
            .await
            .contains(&"payment.paid".to_owned())
    );

    // A paid request cannot be paid or cancelled again.
    let again = p.pay(&p.team.client, &id).await;
    assert_eq!(error_code(&again).as_deref(), Some("BAD_USER_INPUT"));
    let cancel = p
        .app
        .query(
            &p.team.owner,
            "mutation($id: ID!) { cancelPaymentRequest(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&cancel).as_deref(), Some("BAD_USER_INPUT"));
}

/// A race that can be lost: `RACERS` payers at once on a multi-threaded server all get the one
/// checkout session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paying_twice_even_concurrently_answers_one_open_session() {
    let p = Payments::start().await;
    let id = p.request_payment("Deposit", 12_345, "EUR").await;
    let answers = race(RACERS, |_| p.pay(&p.team.client, &id)).await;
    let urls: Vec<&str> = answers
        .iter()
        .map(|a| data(a)["payPaymentRequest"]["url"].as_str().unwrap())
        .collect();
    let url_a = urls[0].to_owned();
    assert!(urls.iter().all(|u| *u == url_a), "{urls:?}");
    let sent = p.stripe.received_requests().await.unwrap();
    let keys: Vec<&str> = sent
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().unwrap())
        .collect();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| *k == keys[0]),
        "{keys:?}"
    );
    // Asked again later: the stored open session, without asking Stripe.
    let c = p.pay(&p.team.client, &id).await;
    assert_eq!(data(&c)["payPaymentRequest"]["url"], url_a.as_str());
    assert_eq!(
        p.stripe.received_requests().await.unwrap().len(),
        keys.len()
    );
    // An expired session is replaced by a new one, under a new idempotency key.
    let (status, _) = p
        .deliver(&event(
            "evt_expired",
            "checkout.session.expired",
            checkout_session(
                url_a.rsplit('/').next().unwrap(),
                json!({ "payment_request_id": id }),
                12_345,
                "eur",
                "expired",
                "unpaid",
                None,
                chrono::Utc::now().timestamp(),
            ),
        ))
        .await;
    assert_eq!(status, 200);
    let d = p.pay(&p.team.client, &id).await;
    assert_ne!(data(&d)["payPaymentRequest"]["url"], url_a.as_str());
    let last = p.stripe.received_requests().await.unwrap();
    assert_eq!(
        last.last().unwrap().headers["idempotency-key"]
            .to_str()
            .unwrap(),
        format!("portico-checkout-{id}-1")
    );
}

#[tokio::test]
async fn forged_stale_unsigned_and_malformed_deliveries_change_nothing() {
    let p = Payments::start().await;
    let id = p.request_payment("Deposit", 50_000, "EUR").await;
    let session = p.checkout(&id).await;
    let payload = p.completed("evt_forged", &session, &id, 50_000, "pi_1");
    let now = chrono::Utc::now().timestamp();

    let (status, body) = p
        .deliver_signed(&payload, "whsec_not_the_secret", now)
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = p.deliver_signed(&payload, WEBHOOK_SECRET, now - 301).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("300"));
    let unsigned = p
        .app
        .client
        .post(format!("{}/webhooks/stripe", p.app.address))
        .body(payload.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 400);
    // A payload changed after signing.
    let tampered = payload.replace("50000", "1");
    let response = p
        .app
        .client
        .post(format!("{}/webhooks/stripe", p.app.address))
        .header("Stripe-Signature", signature(&payload, WEBHOOK_SECRET, now))
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    // Correctly signed, but not an event.
    let (status, _) = p.deliver("{\"not\": \"an event\"").await;
    assert_eq!(status, 400);
    let (status, _) = p
        .deliver(&event(
            "evt_bad_object",
            "checkout.session.completed",
            json!({ "id": 5 }),
        ))
        .await;
    assert_eq!(status, 400);
    assert_eq!(p.status(&id).await, "PENDING");

    // An event type Portico does not handle is acknowledged and ignored.
    let (status, body) = p
        .deliver(&event(
            "evt_other",
            "customer.created",
            json!({ "id": "cus_1", "object": "customer" }),
        ))
        .await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("ignored")),
        "{body}"
    );
    let (status, body) = p
        .deliver(&event(
            "evt_future",
            "portico.unheard_of",
            json!({ "id": "x_1" }),
        ))
        .await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("ignored")),
        "{body}"
    );
    assert_eq!(p.status(&id).await, "PENDING");
}

/// A race that can be lost: `RACERS` deliveries of one event at once on a multi-threaded server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicate_and_concurrent_deliveries_apply_once() {
    let p = Payments::start().await;
    let id = p.request_payment("Deposit", 50_000, "EUR").await;
    let session = p.checkout(&id).await;
    let payload = p.completed("evt_dup", &session, &id, 50_000, "pi_1");
    let deliveries = race(RACERS, |_| p.deliver(&payload)).await;
    let outcomes: Vec<&str> = deliveries
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["outcome"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "applied").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "duplicate").count(),
        RACERS - 1,
        "{outcomes:?}"
    );
    // Replayed later, still a no-op.
    let (_, body) = p.deliver(&payload).await;
    assert_eq!(body["outcome"], "duplicate");
    let paid_entries = p
        .timeline_actions()
        .await
        .into_iter()
        .filter(|a| a == "payment.paid")
        .count();
    assert_eq!(paid_entries, 1);
}

#[tokio::test]
async fn events_out_of_order_never_regress_a_request() {
    let p = Payments::start().await;
    let id = p.request_payment("Deposit", 50_000, "EUR").await;
    let session = p.checkout(&id).await;

    // The refund is reported before the payment: kept, then applied when the payment lands.
    let (status, body) = p
        .deliver(&refunded_charge("evt_refund", "pi_9", 50_000, true))
        .await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("unmatched")),
        "{body}"
    );
    assert_eq!(p.status(&id).await, "PENDING");
    let (_, body) = p
        .deliver(&p.completed("evt_paid", &session, &id, 50_000, "pi_9"))
        .await;
    assert_eq!(body["outcome"], "applied");
    assert_eq!(p.status(&id).await, "REFUNDED");

    // A late "expired" for the same session, and a second completion, change nothing.
    let (_, body) = p
        .deliver(&event(
            "evt_late_expiry",
            "checkout.session.expired",
            checkout_session(
                &session,
                json!({ "payment_request_id": id }),
                50_000,
                "eur",
                "expired",
                "unpaid",
                None,
                0,
            ),
        ))
        .await;
    assert_eq!(body["outcome"], "stale");
    let (_, body) = p
        .deliver(&p.completed("evt_paid_again", &session, &id, 50_000, "pi_9"))
        .await;
    assert_eq!(body["outcome"], "stale");
    assert_eq!(p.status(&id).await, "REFUNDED");
}

#[tokio::test]
async fn partial_refunds_keep_it_paid_and_failures_are_recorded() {
    let p = Payments::start().await;
    let id = p.request_payment("Deposit", 50_000, "EUR").await;
    let session = p.checkout(&id).await;
    let (_, body) = p
        .deliver(&event(
            "evt_failed",
            "payment_intent.payment_failed",
            json!({
                "id": "pi_5",
                "object": "payment_intent",
                "amount": 50_000,
                "amount_capturable": 0,
                "amount_received": 0,
                "capture_method": "automatic",
                "confirmation_method": "automatic",
                "created": chrono::Utc::now().timestamp(),
                "currency": "eur",
                "last_payment_error": { "type": "card_error", "message": "Your card was declined." },
                "livemode": false,
                "metadata": { "payment_request_id": id },
                "payment_method_types": ["card"],
                "status": "requires_payment_method",
            }),
        ))
        .await;
    assert_eq!(body["outcome"], "applied", "{body}");
    let body = p.request(&p.team.client, &id).await;
    assert_eq!(data(&body)["paymentRequest"]["status"], "PENDING");
    assert_eq!(
        data(&body)["paymentRequest"]["lastFailure"],
        "Your card was declined."
    );

    p.deliver(&p.completed("evt_paid", &session, &id, 50_000, "pi_5"))
        .await;
    let (_, body) = p
        .deliver(&refunded_charge("evt_partial", "pi_5", 10_000, false))
        .await;
    assert_eq!(body["outcome"], "applied");
    let body = p.request(&p.team.owner, &id).await;
    assert_eq!(data(&body)["paymentRequest"]["status"], "PAID");
    assert_eq!(data(&body)["paymentRequest"]["amountRefundedMinor"], 10_000);
    assert_eq!(data(&body)["paymentRequest"]["lastFailure"], Value::Null);
}

#[tokio::test]
async fn a_paid_ticket_becomes_paid_with_exactly_one_task() {
    let p = Payments::start().await;
    let ticket = p.quoted_ticket(90_000).await;
    assert_eq!(p.answer_quote(&ticket).await, "AWAITING_PAYMENT");

    let list = p
        .app
        .query(
            &p.team.client,
            "query($p: ID!) { paymentRequests(projectId: $p, first: 10) { totalCount nodes { id kind ticketId amountMinor currency status } } }",
            json!({ "p": p.project }),
        )
        .await;
    let request = &data(&list)["paymentRequests"]["nodes"][0];
    assert_eq!(request["kind"], "TICKET");
    assert_eq!(request["ticketId"], ticket.as_str());
    assert_eq!(
        (
            request["amountMinor"].as_i64(),
            request["currency"].as_str()
        ),
        (Some(90_000), Some("EUR"))
    );
    let id = request["id"].as_str().unwrap().to_owned();

    let session = p.checkout(&id).await;
    let (_, body) = p
        .deliver(&p.completed("evt_ticket_paid", &session, &id, 90_000, "pi_t"))
        .await;
    assert_eq!(body["outcome"], "applied", "{body}");
    // The delayed-payment success of the same session arrives too: nothing more happens.
    let (_, body) = p
        .deliver(&event(
            "evt_async_ok",
            "checkout.session.async_payment_succeeded",
            checkout_session(
                &session,
                json!({ "payment_request_id": id }),
                90_000,
                "eur",
                "complete",
                "paid",
                Some("pi_t"),
                0,
            ),
        ))
        .await;
    assert_eq!(body["outcome"], "stale", "{body}");

    let body = p
        .app
        .query(
            &p.team.owner,
            "query($t: ID!, $p: ID!) { ticket(id: $t) { status taskId } project(id: $p) { tasks(first: 50) { nodes { origin ticketId } } } }",
            json!({ "t": ticket, "p": p.project }),
        )
        .await;
    assert_eq!(data(&body)["ticket"]["status"], "PAID", "{body}");
    assert!(data(&body)["ticket"]["taskId"].is_string());
    let from_ticket: Vec<&Value> = data(&body)["project"]["tasks"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["origin"] == "TICKET")
        .collect();
    assert_eq!(from_ticket.len(), 1);
}

#[tokio::test]
async fn other_clients_guests_and_other_tenants_cannot_read_or_pay() {
    let p = Payments::start().await;
    let id = p.request_payment("Deposit", 50_000, "EUR").await;
    // A client of the same workspace, on another project only.
    let outsider = p
        .app
        .add_member(
            p.team.workspace_id,
            &p.team.slug,
            "outsider@acme.test",
            portico::rbac::BuiltinRole::Client,
        )
        .await;
    p.app
        .create_project(&p.team.owner, "Shop", &[&outsider])
        .await;
    for body in [p.request(&outsider, &id).await, p.pay(&outsider, &id).await] {
        assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"), "{body}");
    }
    let listed = p
        .app
        .query(
            &outsider,
            "query($p: ID!) { paymentRequests(projectId: $p, first: 5) { totalCount } }",
            json!({ "p": p.project }),
        )
        .await;
    assert_eq!(error_code(&listed).as_deref(), Some("NOT_FOUND"));

    // A guest of the project: no payment field at all.
    let guest = p.request(&p.team.guest, &id).await;
    assert_eq!(error_code(&guest).as_deref(), Some("FORBIDDEN"));
    let balance = p
        .app
        .query(
            &p.team.guest,
            "query($p: ID!) { projectBalance(projectId: $p) { currency } }",
            json!({ "p": p.project }),
        )
        .await;
    assert_eq!(error_code(&balance).as_deref(), Some("FORBIDDEN"));

    // Staff do not pay; the client who may pay cannot cancel.
    let staff_pay = p.pay(&p.team.owner, &id).await;
    assert_eq!(error_code(&staff_pay).as_deref(), Some("FORBIDDEN"));
    let client_cancel = p
        .app
        .query(
            &p.team.client,
            "mutation($id: ID!) { cancelPaymentRequest(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&client_cancel).as_deref(), Some("FORBIDDEN"));

    // Another tenant's client: the ID does not exist for them.
    let rival = p.app.create_team("rival").await;
    for body in [
        p.request(&rival.client, &id).await,
        p.pay(&rival.client, &id).await,
    ] {
        assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"), "{body}");
    }
    assert_eq!(p.status(&id).await, "PENDING");
    assert!(p.stripe.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_balance_adds_up_per_currency() {
    let p = Payments::start().await;
    let pending_eur = p.request_payment("Balance", 30_000, "EUR").await;
    let paid_eur = p.request_payment("Deposit", 50_000, "EUR").await;
    let cancelled = p.request_payment("Mistake", 99_900, "EUR").await;
    let pending_usd = p.request_payment("Hosting", 1_000, "USD").await;
    let _ = pending_eur;
    let _ = pending_usd;
    let session = p.checkout(&paid_eur).await;
    p.deliver(&p.completed("evt_b", &session, &paid_eur, 50_000, "pi_b"))
        .await;
    p.deliver(&refunded_charge("evt_b_refund", "pi_b", 5_000, false))
        .await;
    let body = p
        .app
        .query(
            &p.team.owner,
            "mutation($id: ID!) { cancelPaymentRequest(id: $id) { status } }",
            json!({ "id": cancelled }),
        )
        .await;
    assert_eq!(data(&body)["cancelPaymentRequest"]["status"], "CANCELLED");
    let body = p
        .app
        .query(
            &p.team.client,
            "query($p: ID!) { projectBalance(projectId: $p) { currency requestedMinor paidMinor remainingMinor } }",
            json!({ "p": p.project }),
        )
        .await;
    assert_eq!(
        data(&body)["projectBalance"],
        json!([
            { "currency": "EUR", "requestedMinor": 80_000, "paidMinor": 45_000, "remainingMinor": 30_000 },
            { "currency": "USD", "requestedMinor": 1_000, "paidMinor": 0, "remainingMinor": 1_000 },
        ])
    );
}

#[tokio::test]
async fn amounts_past_32_bits_travel_exactly_as_minor_units() {
    let p = Payments::start().await;
    // 10^11 minor units (the largest accepted) does not fit GraphQL's 32-bit Int.
    let big = p.request_payment("Building", 100_000_000_000, "EUR").await;
    let body = p
        .app
        .query(
            &p.team.owner,
            "query($id: ID!) { paymentRequest(id: $id) { amountMinor } projectBalance(projectId: \"PROJECT\") { requestedMinor } }"
                .replace("PROJECT", &p.project)
                .as_str(),
            json!({ "id": big }),
        )
        .await;
    assert_eq!(
        data(&body)["paymentRequest"]["amountMinor"],
        100_000_000_000_i64
    );
    assert_eq!(
        data(&body)["projectBalance"][0]["requestedMinor"],
        100_000_000_000_i64
    );
    // A string of digits is accepted too; a fraction is refused before anything runs.
    let create = "mutation($p: ID!, $a: MinorUnits!) { createPaymentRequest(input: {projectId: $p, kind: DEPOSIT, title: \"S\", amountMinor: $a, currency: \"EUR\"}) { amountMinor } }";
    let body = p
        .app
        .query(
            &p.team.owner,
            create,
            json!({ "p": p.project, "a": "1250" }),
        )
        .await;
    assert_eq!(data(&body)["createPaymentRequest"]["amountMinor"], 1250);
    let body = p
        .app
        .query(&p.team.owner, create, json!({ "p": p.project, "a": 12.5 }))
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
}

#[tokio::test]
async fn bad_requests_answer_bad_user_input() {
    let p = Payments::start().await;
    for (input, field) in [
        (
            "kind: DEPOSIT, title: \"\", amountMinor: 100, currency: \"EUR\"",
            "title",
        ),
        (
            "kind: DEPOSIT, title: \"D\", amountMinor: 0, currency: \"EUR\"",
            "amountMinor",
        ),
        (
            "kind: DEPOSIT, title: \"D\", amountMinor: 100, currency: \"EURO\"",
            "currency",
        ),
        (
            "kind: TICKET, title: \"D\", amountMinor: 100, currency: \"EUR\"",
            "kind",
        ),
        (
            "kind: DEPOSIT, title: \"D\", amountMinor: 100, currency: \"EUR\", dueDate: \"2001-01-01\"",
            "dueDate",
        ),
    ] {
        let body = p
            .app
            .query(
                &p.team.owner,
                &format!("mutation($p: ID!) {{ createPaymentRequest(input: {{projectId: $p, {input}}}) {{ id }} }}"),
                json!({ "p": p.project }),
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{field}: {body}"
        );
    }
}

#[tokio::test]
async fn due_requests_expire_exactly_once_across_instances() {
    let p = Payments::start().await;
    let id = p.request_payment("Deposit", 50_000, "EUR").await;
    let other = p.request_payment("Later", 1_000, "EUR").await;
    // The client opened a checkout before the request fell due.
    let session = p.checkout(&id).await;
    p.due_yesterday(&id).await;
    let second = spawn_instance_like(&p.app).await;
    let (a, b) = tokio::join!(
        portico::payment::expiry::expire_due(&p.app.state),
        portico::payment::expiry::expire_due(&second.state),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(p.status(&id).await, "EXPIRED");
    assert_eq!(p.status(&other).await, "PENDING");
    let expired_entries = p
        .timeline_actions()
        .await
        .into_iter()
        .filter(|a| a == "payment.expired")
        .count();
    assert_eq!(expired_entries, 1);
    // No new checkout for an expired request.
    let body = p.pay(&p.team.client, &id).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
    // A payment landing after expiry is still recorded: the money was taken.
    let late = p.completed("evt_after_expiry", &session, &id, 50_000, "pi_late");
    let (status, answer) = p.deliver(&late).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(p.status(&id).await, "PAID");
}

#[tokio::test]
async fn without_stripe_production_refuses_and_the_embedded_default_offers_a_test_page() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let created = app
        .query(
            &team.owner,
            "mutation($p: ID!) { createPaymentRequest(input: {projectId: $p, kind: DEPOSIT, title: \"Deposit <b>\", amountMinor: 2500, currency: \"EUR\"}) { id } }",
            json!({ "p": project }),
        )
        .await;
    let id = data(&created)["createPaymentRequest"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pay = app
        .query(
            &team.client,
            "mutation($id: ID!) { payPaymentRequest(id: $id) { url testMode } }",
            json!({ "id": id }),
        )
        .await;
    let webhook = app
        .client
        .post(format!("{}/webhooks/stripe", app.address))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.status().as_u16(), 404);
    match backend() {
        Backend::Postgres => {
            assert_eq!(error_code(&pay).as_deref(), Some("BAD_USER_INPUT"), "{pay}");
            assert!(
                pay["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("STRIPE_SECRET_KEY")
            );
        }
        Backend::Sqlite => {
            assert_eq!(data(&pay)["payPaymentRequest"]["testMode"], true, "{pay}");
            let url = data(&pay)["payPaymentRequest"]["url"].as_str().unwrap();
            let page_path = &url[url.find("/dev/checkout/").unwrap()..];
            let page = app
                .client
                .get(format!("{}{page_path}", app.address))
                .send()
                .await
                .unwrap();
            let csp = page.headers()["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"));
            let page = page.text().await.unwrap();
            assert!(page.contains("LOCAL TEST CHECKOUT"));
            assert!(
                !page.contains("style="),
                "inline styles would be refused by the policy"
            );
            assert!(page.contains("Deposit &lt;b&gt;") && page.contains("25.00 EUR"));
            let done = app
                .client
                .post(format!("{}{page_path}", app.address))
                .send()
                .await
                .unwrap();
            assert_eq!(done.status().as_u16(), 200);
            let body = app
                .query(
                    &team.client,
                    "query($id: ID!) { paymentRequest(id: $id) { status } }",
                    json!({ "id": id }),
                )
                .await;
            assert_eq!(data(&body)["paymentRequest"]["status"], "PAID");
            // An unknown session has no page.
            let missing = app
                .client
                .get(format!("{}/dev/checkout/local_cs_nope", app.address))
                .send()
                .await
                .unwrap();
            assert_eq!(missing.status().as_u16(), 404);
        }
    }
}
