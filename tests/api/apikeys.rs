//! Partner API keys: creation within one's own permissions, use as `Bearer` or `X-API-Key` with
//! exactly the key's scopes and projects, listing, rotation with grace, revocation (also across
//! instances), expiry, malformed keys, and keys on websockets.

use crate::helpers::*;
use chrono::{Duration, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const CREATE: &str = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { id prefix scopes projectIds lastUsedAt createdBy { name } } } }";

pub(crate) async fn create_key(app: &TestApp, who: &Session, input: Value) -> (String, String) {
    let body = app.query(who, CREATE, json!({ "i": input })).await;
    let created = &data(&body)["createApiKey"];
    (
        created["key"].as_str().unwrap().to_owned(),
        created["apiKey"]["id"].as_str().unwrap().to_owned(),
    )
}

/// Calls the API with `key` as `Authorization: Bearer` (or `X-API-Key`).
pub(crate) async fn with_key(
    app: &TestApp,
    key: &str,
    header: bool,
    query: &str,
    variables: Value,
) -> Value {
    post_with_key(
        app,
        key,
        header,
        json!({ "query": query, "variables": variables }),
    )
    .await
}

/// Posts any GraphQL request body with the key, in `X-API-Key` or as a bearer token.
async fn post_with_key(app: &TestApp, key: &str, header: bool, body: Value) -> Value {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&body);
    request = if header {
        request.header("X-API-Key", key)
    } else {
        request.bearer_auth(key)
    };
    request.send().await.unwrap().json().await.unwrap()
}

const PROJECTS: &str = "{ projects(first: 10) { totalCount edges { node { name } } } }";

#[tokio::test]
async fn a_key_acts_with_exactly_its_scopes_in_its_workspace() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let site = app.create_project(&team.owner, "Site", &[]).await;
    app.create_project(&team.owner, "App", &[]).await;

    // Nobody gives a key what they lack; scopes cannot be empty.
    let escalate = app
        .query(
            &team.admin,
            CREATE,
            json!({ "i": { "name": "x", "scopes": ["WORKSPACE_TRANSFER"] } }),
        )
        .await;
    assert_eq!(
        error_code(&escalate).as_deref(),
        Some("FORBIDDEN"),
        "{escalate}"
    );
    let empty = app
        .query(
            &team.owner,
            CREATE,
            json!({ "i": { "name": "x", "scopes": [] } }),
        )
        .await;
    assert_eq!(error_code(&empty).as_deref(), Some("BAD_USER_INPUT"));

    let body = app
        .query(
            &team.owner,
            CREATE,
            json!({ "i": { "name": "Reporting", "scopes": ["PROJECT_READ", "PROJECT_VIEW"] } }),
        )
        .await;
    let created = &data(&body)["createApiKey"];
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with("pk_dev_") || key.starts_with("pk_live_"),
        "{key}"
    );
    assert!(key.starts_with(created["apiKey"]["prefix"].as_str().unwrap()));
    assert_eq!(created["apiKey"]["createdBy"]["name"], "Owner");

    // Both headers work; the key sees the workspace's projects without X-Workspace.
    for header in [false, true] {
        let body = with_key(&app, &key, header, PROJECTS, json!({})).await;
        assert_eq!(data(&body)["projects"]["totalCount"], 2, "{body}");
    }
    // Outside its scopes: FORBIDDEN. Nothing that needs a user.
    let write = with_key(
        &app,
        &key,
        false,
        "mutation { createProject(input: {name: \"New\"}) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&write).as_deref(), Some("FORBIDDEN"), "{write}");
    let me = with_key(&app, &key, false, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&me).as_deref(), Some("FORBIDDEN"), "{me}");
    // Another workspace: NOT_FOUND, like a missing one.
    let rival = app.create_team("rival").await;
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": PROJECTS }));
    request = request.bearer_auth(&key).header("X-Workspace", &rival.slug);
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"), "{body}");

    // Restricted to one project: the other is invisible.
    let (narrow, _) = create_key(
        &app,
        &team.owner,
        json!({ "name": "Site only", "scopes": ["PROJECT_READ", "PROJECT_VIEW"], "projectIds": [site] }),
    )
    .await;
    let body = with_key(&app, &narrow, false, PROJECTS, json!({})).await;
    assert_eq!(
        data(&body)["projects"]["edges"],
        json!([{ "node": { "name": "Site" } }])
    );

    // Listed with prefix and last use (never the secret); the last use is written after the
    // answer.
    let list = eventually("the key's last use is recorded", || async {
        let list = app
            .query(
                &team.owner,
                "{ apiKeys { name prefix lastUsedAt lastUsedIp } }",
                json!({}),
            )
            .await;
        let used = data(&list)["apiKeys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "Reporting" && k["lastUsedAt"].is_string());
        used.then_some(list)
    })
    .await;
    let text = list.to_string();
    assert!(!text.contains(&key[key.len() - 20..]), "{text}");
    let keys = data(&list)["apiKeys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2);
    let reporting = keys.iter().find(|k| k["name"] == "Reporting").unwrap();
    assert!(reporting["lastUsedAt"].is_string(), "{reporting}");
    assert_eq!(reporting["lastUsedIp"], "127.0.0.1");
}

#[tokio::test]
async fn keys_rotate_with_a_grace_period_and_revoke_at_once() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let (old, id) = create_key(
        &app,
        &team.owner,
        json!({ "name": "Partner", "scopes": ["PROJECT_READ", "PROJECT_VIEW"] }),
    )
    .await;
    assert!(data(&with_key(&app, &old, false, PROJECTS, json!({})).await)["projects"].is_object());

    // Rotation with grace: both work.
    let rotate = "mutation($id: ID!, $g: Int) { rotateApiKey(id: $id, graceSeconds: $g) { key } }";
    let body = app
        .query(&team.owner, rotate, json!({ "id": id, "g": 3600 }))
        .await;
    let new = data(&body)["rotateApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new, old);
    for key in [&old, &new] {
        assert!(
            data(&with_key(&app, key, false, PROJECTS, json!({})).await)["projects"].is_object()
        );
    }
    // Rotation without grace: the previous secret stops at once.
    let body = app
        .query(&team.owner, rotate, json!({ "id": id, "g": 0 }))
        .await;
    let newest = data(&body)["rotateApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = with_key(&app, &new, false, PROJECTS, json!({})).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("UNAUTHENTICATED"),
        "{refused}"
    );
    assert!(
        data(&with_key(&app, &newest, true, PROJECTS, json!({})).await)["projects"].is_object()
    );

    // Revocation: refused on the next request.
    data(
        &app.query(
            &team.owner,
            "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
            json!({ "id": id }),
        )
        .await,
    );
    let refused = with_key(&app, &newest, false, PROJECTS, json!({})).await;
    assert_eq!(error_code(&refused).as_deref(), Some("UNAUTHENTICATED"));

    // Expired and malformed keys: refused alike.
    let (expiring, _) = create_key(&app, &team.owner, json!({ "name": "Soon", "scopes": ["PROJECT_READ", "PROJECT_VIEW"], "expiresAt": Utc::now() + Duration::seconds(2) })).await;
    assert!(
        data(&with_key(&app, &expiring, false, PROJECTS, json!({})).await)["projects"].is_object()
    );
    // Refused from its expiry on (polled until then, at most 10 s).
    let expired = eventually("the key expires", || async {
        let body = with_key(&app, &expiring, false, PROJECTS, json!({})).await;
        body["errors"].is_array().then_some(body)
    })
    .await;
    assert_eq!(
        error_code(&expired).as_deref(),
        Some("UNAUTHENTICATED"),
        "{expired}"
    );
    for bad in [
        "pk_live_nope",
        "pk_live_abcdefghijkm_0000",
        &format!("{}0", &newest[..newest.len() - 1]),
    ] {
        let body = with_key(&app, bad, false, PROJECTS, json!({})).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("UNAUTHENTICATED"),
            "{bad}: {body}"
        );
    }
    let past = app
        .query(&team.owner, CREATE, json!({ "i": { "name": "Past", "scopes": ["PROJECT_READ", "PROJECT_VIEW"], "expiresAt": Utc::now() - Duration::seconds(5) } }))
        .await;
    assert_eq!(error_code(&past).as_deref(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn a_key_revoked_on_one_instance_is_refused_by_another_at_once() {
    let a = spawn_app_with_redis(|_| {}).await;
    let b = spawn_instance_like(&a).await;
    let team = a.create_team("acme").await;
    let (key, id) = create_key(
        &a,
        &team.owner,
        json!({ "name": "Partner", "scopes": ["PROJECT_READ", "PROJECT_VIEW"] }),
    )
    .await;
    // B has served (and cached) the key.
    assert!(data(&with_key(&b, &key, false, PROJECTS, json!({})).await)["projects"].is_object());
    data(
        &a.query(
            &team.owner,
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await,
    );
    let refused = with_key(&b, &key, false, PROJECTS, json!({})).await;
    assert_eq!(error_code(&refused).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn a_key_subscribes_over_websockets_and_is_cut_off_when_revoked() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Site", &[&team.collaborator])
        .await;
    let (key, id) = create_key(
        &app,
        &team.owner,
        json!({ "name": "Board mirror", "scopes": ["PROJECT_READ", "PROJECT_VIEW"] }),
    )
    .await;
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "apiKey": key } });
    socket.send(Frame::text(init.to_string())).await.unwrap();
    assert_eq!(next_text(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": {
        "query": "subscription($p: ID!) { boardChanged(projectId: $p) { change } }",
        "variables": { "p": project } } });
    socket
        .send(Frame::text(subscribe.to_string()))
        .await
        .unwrap();
    crate::realtime::live(&app, &team, &project, 1).await;
    app.create_task(&team.owner, &project, "Mirror me", "BACKLOG")
        .await;
    assert_eq!(
        next_text(&mut socket).await["payload"]["data"]["boardChanged"]["change"],
        "TASK_CREATED"
    );
    data(
        &app.query(
            &team.owner,
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await,
    );
    app.create_task(&team.owner, &project, "Not for you", "BACKLOG")
        .await;
    let denied = next_text(&mut socket).await;
    assert_eq!(
        denied["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{denied}"
    );
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_text(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Frame::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "ping" {
                return value;
            }
        }
    }
}

#[tokio::test]
async fn a_key_restricted_to_trusted_documents_runs_only_those() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    app.create_project(&team.owner, "Site", &[]).await;
    let (key, key_id) = create_key(
        &app,
        &team.admin,
        json!({ "name": "partner", "scopes": ["WORKSPACE_READ", "PROJECT_VIEW", "PROJECT_READ"], "trustedDocumentsOnly": true }),
    )
    .await;
    // Nothing registered yet: every document is refused, before anything runs.
    let refused = with_key(&app, &key, false, PROJECTS, json!({})).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("FORBIDDEN"),
        "{refused}"
    );
    assert!(refused["data"].is_null());

    let registered = app
        .query(
            &team.admin,
            "mutation($k: ID!, $d: String!) { registerTrustedDocument(apiKeyId: $k, name: \"projects\", document: $d) { id sha256 } }",
            json!({ "k": key_id, "d": PROJECTS }),
        )
        .await;
    let sha = data(&registered)["registerTrustedDocument"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let doc_id = data(&registered)["registerTrustedDocument"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sha.len(), 64);
    // The exact text runs; so does its hash alone (the persisted-query protocol).
    let ran = with_key(&app, &key, true, PROJECTS, json!({})).await;
    assert_eq!(data(&ran)["projects"]["totalCount"], 1, "{ran}");
    let by_hash = post_with_key(
        &app,
        &key,
        true,
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha } } }),
    )
    .await;
    assert_eq!(data(&by_hash)["projects"]["totalCount"], 1, "{by_hash}");
    // Any other text, even one character off, is refused; so is another hash.
    for other in [
        "{ projects(first: 10) { totalCount edges { node { name } } } } ",
        "{ projects(first: 10) { totalCount } }",
    ] {
        let body = with_key(&app, &key, true, other, json!({})).await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    }
    let unknown_hash = post_with_key(
        &app,
        &key,
        true,
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } } }),
    )
    .await;
    assert_eq!(
        error_code(&unknown_hash).as_deref(),
        Some("FORBIDDEN"),
        "{unknown_hash}"
    );

    // Listed with their hashes; documents that do not parse are refused at registration.
    let listed = app
        .query(
            &team.admin,
            "query($k: ID!) { trustedDocuments(apiKeyId: $k) { name sha256 document } }",
            json!({ "k": key_id }),
        )
        .await;
    assert_eq!(
        data(&listed)["trustedDocuments"],
        json!([{ "name": "projects", "sha256": sha, "document": PROJECTS }])
    );
    let broken = app
        .query(
            &team.admin,
            "mutation($k: ID!) { registerTrustedDocument(apiKeyId: $k, name: \"x\", document: \"{ projects(\") { id } }",
            json!({ "k": key_id }),
        )
        .await;
    assert_eq!(error_code(&broken).as_deref(), Some("BAD_USER_INPUT"));

    // Removed: refused again. Restriction lifted: any document within the scopes runs.
    app.query(
        &team.admin,
        "mutation($id: ID!) { removeTrustedDocument(id: $id) { id } }",
        json!({ "id": doc_id }),
    )
    .await;
    let after = with_key(&app, &key, true, PROJECTS, json!({})).await;
    assert_eq!(error_code(&after).as_deref(), Some("FORBIDDEN"));
    let lifted = app
        .query(
            &team.admin,
            "mutation($id: ID!) { setApiKeyTrustedDocumentsOnly(id: $id, only: false) { trustedDocumentsOnly } }",
            json!({ "id": key_id }),
        )
        .await;
    assert_eq!(
        data(&lifted)["setApiKeyTrustedDocumentsOnly"]["trustedDocumentsOnly"],
        false
    );
    let free = with_key(
        &app,
        &key,
        true,
        "{ projects(first: 5) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(data(&free)["projects"]["totalCount"], 1, "{free}");
    // Users are never restricted by it.
    let user = app
        .query(
            &team.admin,
            "{ projects(first: 5) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(
        succeeded(&user, "projects")["totalCount"].is_u64(),
        "{user}"
    );
}
