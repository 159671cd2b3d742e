//! Outbound webhooks against a local HTTP receiver that checks every signature: signed
//! deliveries with a log, nobody twice, replays and test events, retries that turn a failing
//! endpoint off, inside addresses refused at save and at send, the creator's view, and other
//! tenants' IDs.
#![allow(clippy::disallowed_methods)]

use crate::helpers::*;
use axum::http::{HeaderMap, StatusCode};
use portico::jobs::Job;
use portico::webhook::signing;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

/// One request the receiver took.
#[derive(Debug, Clone)]
struct Hit {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> String {
        self.headers[name].to_str().unwrap().to_owned()
    }
}

/// A partner's endpoint: records every POST and answers `status`.
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Receiver {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (h, s) = (hits.clone(), status.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (h, s) = (h.clone(), s.clone());
                async move {
                    h.lock().unwrap().push(Hit {
                        headers,
                        body: body.to_vec(),
                    });
                    StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            hits,
            status,
        }
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

struct World {
    app: TestApp,
    team: Team,
    project: String,
    receiver: Receiver,
}

async fn world(configure: impl FnOnce(&mut portico::config::Config)) -> World {
    let app = spawn_app_with(|c| {
        c.webhooks.webhook_allow_private_targets = Some(true);
        configure(c);
    })
    .await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Bakery website", &[&team.client])
        .await;
    let receiver = Receiver::start().await;
    World {
        app,
        team,
        project,
        receiver,
    }
}

const CREATE: &str = "mutation($u: String!, $k: [String!]!) { createWebhookEndpoint(input: {url: $u, kinds: $k, description: \"CRM\"}) { secret endpoint { id url kinds enabled createdBy { name } } } }";
const LOG: &str = "query($e: ID!) { webhookDeliveries(endpointId: $e, first: 20) { totalCount edges { node { id eventId kind status attempts responseStatus latencyMs lastError nextAttemptAt } } } }";
const ENDPOINTS: &str = "{ webhookEndpoints { id enabled disabledReason consecutiveFailures } }";

impl World {
    /// `who` saves an endpoint at the receiver; answers (endpoint id, secret).
    async fn endpoint(&self, who: &Session, kinds: &[&str]) -> (String, String) {
        let body = self
            .app
            .query(who, CREATE, json!({ "u": self.receiver.url, "k": kinds }))
            .await;
        let created = &data(&body)["createWebhookEndpoint"];
        (
            created["endpoint"]["id"].as_str().unwrap().to_owned(),
            created["secret"].as_str().unwrap().to_owned(),
        )
    }

    async fn ticket(&self, title: &str) -> String {
        let body = self.app.query(&self.team.client, "mutation($p: ID!, $t: String!) { createTicket(input: {projectId: $p, kind: CHANGE, title: $t, description: \"Please\"}) { id } }", json!({ "p": self.project, "t": title })).await;
        data(&body)["createTicket"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Lets the outbox hand out its events, then runs the webhook job once.
    async fn post(&self) -> u64 {
        self.app.outbox_drained().await;
        portico::app::webhook_jobs::DeliverWebhooks
            .run(&self.app.state)
            .await
            .unwrap()
    }

    async fn log(&self, endpoint: &str) -> Vec<Value> {
        let body = self
            .app
            .query(&self.team.owner, LOG, json!({ "e": endpoint }))
            .await;
        data(&body)["webhookDeliveries"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect()
    }

    async fn make_due(&self) {
        portico::db::Scoped::new(self.app.state.db.conn(), self.team.workspace_id)
            .update_many::<entity::webhook_delivery::Entity>()
            .col_expr(
                entity::webhook_delivery::Column::AvailableAt,
                Expr::value(chrono::Utc::now()),
            )
            .exec(self.app.state.db.conn())
            .await
            .unwrap();
    }
}

fn verified(hit: &Hit, secret: &str) -> bool {
    signing::verify(
        secret,
        &hit.header(signing::HEADER),
        &hit.body,
        chrono::Utc::now().timestamp(),
        300,
    )
}

#[tokio::test]
async fn an_event_arrives_signed_once_logged_and_can_be_replayed() {
    let w = world(|_| {}).await;
    let (endpoint, secret) = w.endpoint(&w.team.admin, &["TICKET_CREATED"]).await;
    assert!(secret.starts_with("whsec_"));
    let ticket = w.ticket("New logo").await;
    assert_eq!(w.post().await, 1);
    let hits = w.receiver.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert!(verified(hit, &secret), "the signature does not verify");
    assert!(!verified(hit, "whsec_wrong"));
    let body = hit.json();
    assert_eq!(body["type"], "TICKET_CREATED");
    assert_eq!(body["data"]["ticketId"], ticket.as_str());
    assert_eq!(body["workspaceId"], w.team.workspace_id.to_string());
    assert_eq!(hit.header("portico-event"), "TICKET_CREATED");
    let log = w.log(&endpoint).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "SUCCEEDED");
    assert_eq!(log[0]["responseStatus"], 200);
    assert!(log[0]["latencyMs"].is_number());
    assert_eq!(log[0]["eventId"], body["id"]);
    assert_eq!(
        hit.header("portico-delivery"),
        log[0]["id"].as_str().unwrap()
    );
    // Nothing twice: the job again, and the same event handed to the consumer again.
    assert_eq!(w.post().await, 0);
    let raw = serde_json::json!({ "id": body["id"], "workspaceId": body["workspaceId"], "occurredAt": body["occurredAt"], "type": "TICKET_CREATED", "projectId": w.project, "ticketId": ticket, "number": body["data"]["number"], "status": body["data"]["status"] }).to_string();
    let envelope: portico::events::Envelope = serde_json::from_str(&raw).unwrap();
    let fanout = portico::webhook::fanout::WebhookFanout {
        db: w.app.state.db.clone(),
    };
    portico::outbox::Consumer::deliver(&fanout, &envelope, &raw)
        .await
        .unwrap();
    assert_eq!(w.post().await, 0);
    assert_eq!(w.receiver.hits().len(), 1);
    // A replay posts the same event again, as a new delivery.
    let replay = w
        .app
        .query(
            &w.team.owner,
            "mutation($d: ID!) { replayWebhookDelivery(id: $d) { id eventId status } }",
            json!({ "d": log[0]["id"] }),
        )
        .await;
    let replay = &data(&replay)["replayWebhookDelivery"];
    assert_eq!(replay["eventId"], body["id"]);
    assert_eq!(replay["status"], "PENDING");
    assert_eq!(w.post().await, 1);
    let hits = w.receiver.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].json()["id"], body["id"]);
    assert_eq!(
        hits[1].header("portico-delivery"),
        replay["id"].as_str().unwrap()
    );
    // A test event goes at once.
    let test = w.app.query(&w.team.owner, "mutation($e: ID!) { sendTestWebhookEvent(endpointId: $e) { kind status responseStatus } }", json!({ "e": endpoint })).await;
    let test = &data(&test)["sendTestWebhookEvent"];
    assert_eq!(test["status"], "SUCCEEDED", "{test}");
    assert_eq!(test["kind"], "WEBHOOK_TEST");
    let hits = w.receiver.hits();
    assert_eq!(hits.len(), 3);
    assert!(verified(&hits[2], &secret));
    // Kinds it did not ask for are not posted.
    let body = w
        .app
        .query(
            &w.team.owner,
            "mutation($p: ID!) { createTask(input: {projectId: $p, title: \"t\"}) { id } }",
            json!({ "p": w.project }),
        )
        .await;
    data(&body);
    assert_eq!(w.post().await, 0);
}

#[tokio::test]
async fn failures_back_off_and_turn_the_endpoint_off_until_it_is_turned_on() {
    let w = world(|c| c.webhooks.webhook_disable_after_failures = 3).await;
    let (endpoint, _) = w.endpoint(&w.team.owner, &["TICKET_CREATED"]).await;
    w.receiver.status.store(500, Ordering::SeqCst);
    w.ticket("One").await;
    assert_eq!(w.post().await, 1);
    let log = w.log(&endpoint).await;
    assert_eq!(log[0]["status"], "RETRYING");
    assert_eq!(log[0]["responseStatus"], 500);
    assert_eq!(log[0]["lastError"], "the endpoint answered 500");
    let next: chrono::DateTime<chrono::Utc> =
        log[0]["nextAttemptAt"].as_str().unwrap().parse().unwrap();
    let wait = next - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::seconds(50) && wait <= chrono::Duration::seconds(60),
        "{wait}"
    );
    // Not due yet: nothing is posted.
    assert_eq!(w.post().await, 0);
    for _ in 0..2 {
        w.make_due().await;
        assert_eq!(w.post().await, 1);
    }
    assert_eq!(w.receiver.hits().len(), 3);
    let endpoints = w.app.query(&w.team.owner, ENDPOINTS, json!({})).await;
    let saved = &data(&endpoints)["webhookEndpoints"][0];
    assert_eq!(saved["enabled"], false);
    assert_eq!(saved["consecutiveFailures"], 3);
    assert_eq!(
        saved["disabledReason"],
        "turned off after 3 failed attempts in a row"
    );
    // Off: its waiting delivery is skipped, and new events queue nothing.
    w.make_due().await;
    w.ticket("Two").await;
    w.post().await;
    assert_eq!(w.receiver.hits().len(), 3);
    let log = w.log(&endpoint).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "SKIPPED");
    // On again, healthy: a replay goes through and the count is cleared.
    w.receiver.status.store(204, Ordering::SeqCst);
    let body = w.app.query(&w.team.owner, "mutation($e: ID!) { updateWebhookEndpoint(id: $e, input: {enabled: true}) { enabled consecutiveFailures } }", json!({ "e": endpoint })).await;
    assert_eq!(
        data(&body)["updateWebhookEndpoint"]["consecutiveFailures"],
        0
    );
    w.app
        .query(
            &w.team.owner,
            "mutation($d: ID!) { replayWebhookDelivery(id: $d) { id } }",
            json!({ "d": log[0]["id"] }),
        )
        .await;
    assert_eq!(w.post().await, 1);
    assert_eq!(w.log(&endpoint).await[0]["status"], "SUCCEEDED");
}

#[tokio::test]
async fn inside_addresses_are_refused_when_saved_and_when_sent() {
    let w = world(|c| c.webhooks.webhook_allow_private_targets = Some(false)).await;
    for url in [
        w.receiver.url.clone(),
        "http://localhost:8080/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::1]/hook".to_owned(),
        "http://10.0.0.7/hook".to_owned(),
        "ftp://example.com/hook".to_owned(),
    ] {
        let body = w
            .app
            .query(
                &w.team.owner,
                CREATE,
                json!({ "u": url, "k": ["TICKET_CREATED"] }),
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{url}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "url", "{body}");
    }
    let unknown = w
        .app
        .query(
            &w.team.owner,
            CREATE,
            json!({ "u": "http://93.184.216.34/", "k": ["NOTIFICATION_ADDED"] }),
        )
        .await;
    assert_eq!(error_code(&unknown).as_deref(), Some("BAD_USER_INPUT"));
    // An endpoint saved while its name was public, that now answers an inside address: the
    // delivery checks again and posts nothing.
    let sealed = w.app.state.webhooks.sealing.seal(b"whsec_x").unwrap();
    let now = chrono::Utc::now();
    entity::webhook_endpoint::Entity::insert(entity::webhook_endpoint::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        workspace_id: Set(w.team.workspace_id),
        url: Set(w.receiver.url.replace("127.0.0.1", "localhost")),
        kinds: Set("[\"TICKET_CREATED\"]".into()),
        description: Set(None),
        sealed_secret: Set(sealed),
        enabled: Set(true),
        disabled_reason: Set(None),
        consecutive_failures: Set(0),
        created_by: Set(w.team.owner.user_id),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(w.app.state.db.conn())
    .await
    .unwrap();
    w.ticket("Rebound").await;
    assert_eq!(w.post().await, 1);
    assert!(
        w.receiver.hits().is_empty(),
        "a delivery reached an inside address"
    );
    let endpoints = w.app.query(&w.team.owner, ENDPOINTS, json!({})).await;
    let id = data(&endpoints)["webhookEndpoints"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let log = w.log(&id).await;
    assert_eq!(log[0]["status"], "RETRYING");
    assert!(
        log[0]["lastError"]
            .as_str()
            .unwrap()
            .contains("loopback, private or link-local"),
        "{}",
        log[0]
    );
}

#[tokio::test]
async fn payloads_take_the_creators_view_at_send_time() {
    let w = world(|_| {}).await;
    let (endpoint, _) = w.endpoint(&w.team.admin, &["TICKET_CREATED"]).await;
    // The admin who saved it leaves before the event is sent: nothing is posted.
    w.ticket("Before").await;
    w.app.outbox_drained().await;
    let body = w
        .app
        .query(
            &w.team.owner,
            "mutation($u: ID!) { removeMember(userId: $u) }",
            json!({ "u": w.team.admin.user_id }),
        )
        .await;
    data(&body);
    assert_eq!(w.post().await, 1);
    assert!(
        w.receiver.hits().is_empty(),
        "a removed creator's view was posted"
    );
    let log = w.log(&endpoint).await;
    assert_eq!(log[0]["status"], "SKIPPED");
    assert_eq!(
        log[0]["lastError"],
        "the endpoint's creator may no longer see this event"
    );
}

#[tokio::test]
async fn another_workspaces_endpoints_and_deliveries_answer_not_found() {
    let w = world(|_| {}).await;
    let (endpoint, _) = w.endpoint(&w.team.owner, &["TICKET_CREATED"]).await;
    w.ticket("Mine").await;
    w.post().await;
    let delivery = w.log(&endpoint).await[0]["id"].as_str().unwrap().to_owned();
    let other = w.app.create_team("globex").await;
    for (query, vars) in [
        (LOG, json!({ "e": endpoint })),
        (
            "mutation($e: ID!) { updateWebhookEndpoint(id: $e, input: {enabled: false}) { id } }",
            json!({ "e": endpoint }),
        ),
        (
            "mutation($e: ID!) { deleteWebhookEndpoint(id: $e) }",
            json!({ "e": endpoint }),
        ),
        (
            "mutation($e: ID!) { sendTestWebhookEvent(endpointId: $e) { id } }",
            json!({ "e": endpoint }),
        ),
        (
            "mutation($e: ID!) { replayWebhookDelivery(id: $e) { id } }",
            json!({ "e": delivery }),
        ),
    ] {
        let body = w.app.query(&other.owner, query, vars).await;
        assert_eq!(error_codes(&body), vec!["NOT_FOUND"], "{query}: {body}");
    }
    let theirs = w.app.query(&other.owner, ENDPOINTS, json!({})).await;
    assert_eq!(data(&theirs)["webhookEndpoints"], json!([]));
    // The owner deletes it; its log goes with it.
    let body = w
        .app
        .query(
            &w.team.owner,
            "mutation($e: ID!) { deleteWebhookEndpoint(id: $e) }",
            json!({ "e": endpoint }),
        )
        .await;
    assert_eq!(data(&body)["deleteWebhookEndpoint"], true);
    let gone = w
        .app
        .query(&w.team.owner, LOG, json!({ "e": endpoint }))
        .await;
    assert_eq!(error_code(&gone).as_deref(), Some("NOT_FOUND"));
}
