//! The HTTP surface: health checks, malformed requests, limits, request ids, CORS and the
//! websocket handshake.

use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let (status, health) = app.probe("/healthz").await;
    assert_eq!((status, &health["status"]), (200, &json!("ok")));
    let (status, ready) = app.probe("/readyz").await;
    assert_eq!((status, &ready["database"]), (200, &json!("ok")));
    assert_eq!(ready["objectStore"], "ok", "{ready}");
    assert_eq!(ready["smtp"], "not configured", "{ready}");
}

#[tokio::test]
async fn readiness_reports_smtp_and_the_object_store_and_degrades_without_them() {
    let sink = crate::smtp::SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| {
        c.mail.smtp_url = Some(portico::config::Secret::new(url));
    })
    .await;
    let (status, ready) = app.probe("/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(
        (&ready["status"], &ready["smtp"], &ready["objectStore"]),
        (&json!("ready"), &json!("ok"), &json!("ok")),
        "{ready}"
    );

    // An SMTP server and an S3 endpoint that nobody answers on.
    let (smtp, s3) = (free_port(), free_port());
    let app = spawn_app_with(move |c| {
        c.mail.smtp_url = Some(portico::config::Secret::new(format!(
            "smtp://127.0.0.1:{smtp}"
        )));
        c.files.s3_bucket = Some("nowhere".to_owned());
        c.files.s3_endpoint = Some(format!("http://127.0.0.1:{s3}"));
        c.files.s3_access_key_id = Some("key".to_owned());
        c.files.s3_secret_access_key = Some(portico::config::Secret::new("secret"));
    })
    .await;
    let started = std::time::Instant::now();
    let (status, ready) = app.probe("/readyz").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(status, 200, "the database answers: degraded, not out");
    assert_eq!(
        (
            &ready["status"],
            &ready["database"],
            &ready["smtp"],
            &ready["objectStore"]
        ),
        (
            &json!("degraded"),
            &json!("ok"),
            &json!("down"),
            &json!("down")
        ),
        "{ready}"
    );
}

async fn raw(app: &TestApp, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn malformed_requests_get_graphql_errors_with_codes() {
    let app = spawn_app().await;
    let (status, body) = raw(&app, "application/json", "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );

    let (status, body) = raw(&app, "application/json", vec![0xff, 0xfe, 0x00]).await;
    assert!(status < 500, "{status}");
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );

    for document in [
        "{ me { id ",
        "{ nope }",
        "query { me { id } } query { me { id } }",
    ] {
        let body = app.graphql(None, document, json!({})).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{document}: {body}"
        );
    }
}

#[tokio::test]
async fn query_limits_answer_bad_user_input() {
    let app = spawn_app().await;
    // Deeper than introspection's own bound (32).
    let mut deep = String::from("name");
    for _ in 0..40 {
        deep = format!("ofType {{ {deep} }}");
    }
    let body = app
        .graphql(
            None,
            &format!("{{ __type(name: \"Query\") {{ {deep} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );

    let batch: Vec<Value> = (0..11)
        .map(|_| json!({ "query": "{ __typename }" }))
        .collect();
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));

    let small: Vec<Value> = (0..3)
        .map(|_| json!({ "query": "{ __typename }" }))
        .collect();
    let body: Value = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&small)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body.as_array().unwrap().len(), 3);

    let huge = format!(
        "{{\"query\": \"{{ __typename }}\", \"x\": \"{}\"}}",
        "a".repeat(3 * 1024 * 1024)
    );
    let (status, _) = raw(&app, "application/json", huge).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn tokens_aliases_and_root_fields_are_limited() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let ana = app.login("ana@example.com").await;
    let refused = |body: &Value, words: &str| {
        assert_eq!(
            error_code(body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{message}");
        assert!(body["data"].is_null(), "nothing runs: {body}");
    };
    // 30 aliases pass, 31 do not (fragments count too). Inside `me`, so that the root-field
    // limit (20) is not what answers.
    let aliases = |n: usize| -> String { (0..n).map(|i| format!("a{i}: id ")).collect() };
    let at_limit = app
        .query(&ana, &format!("{{ me {{ {} }} }}", aliases(30)), json!({}))
        .await;
    let me = data(&at_limit)["me"].as_object().unwrap();
    assert_eq!(me.len(), 30, "{at_limit}");
    assert!(me.values().all(|v| *v == json!(ana.user_id.to_string())));
    let over = format!("{{ me {{ {} }} }}", aliases(31));
    refused(&app.query(&ana, &over, json!({})).await, "aliases");
    let via_fragment = format!(
        "{{ me {{ ...F }} }} fragment F on User {{ {} }}",
        aliases(31)
    );
    refused(&app.query(&ana, &via_fragment, json!({})).await, "aliases");
    // 20 root fields pass, 21 do not.
    let roots = |n: usize| format!("{{ {} }}", "me { id } ".repeat(n));
    assert!(app.query(&ana, &roots(20), json!({})).await["errors"].is_null());
    refused(&app.query(&ana, &roots(21), json!({})).await, "root fields");
    // 15,000 tokens at most, counted before parsing.
    let long = format!("{{ me {{ {} }} }}", "id ".repeat(15_000));
    refused(&app.query(&ana, &long, json!({})).await, "tokens");
    // The limits hold on websockets too: they apply to every document the schema parses.
    let response = app.state.schema.execute(long.as_str()).await;
    assert_eq!(response.errors.len(), 1);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = spawn_app().await;
    let url = format!("{}/graphql", app.address);
    let ok: Value = app
        .client
        .get(&url)
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["data"]["__typename"], "Query");
    let mutation = app
        .client
        .get(&url)
        .query(&[(
            "query",
            "mutation { login(email: \"a@b.io\", password: \"x\") { accessToken } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(mutation.status(), 405);
    let body: Value = mutation.json().await.unwrap();
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn request_ids_are_set_and_propagated() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let response = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert!(!response.headers()["x-request-id"].is_empty());
}

#[tokio::test]
async fn cors_follows_the_allow_list() {
    let app = spawn_app_with(|c| c.cors_allowed_origins = "https://app.example".into()).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,x-workspace",
            )
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

async fn ws_connect(
    app: &TestApp,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
}

async fn next_message(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<Message> {
    tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
        .await
        .ok()
        .flatten()
        .map(Result::unwrap)
}

#[tokio::test]
async fn websocket_init_needs_a_valid_token() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let ana = app.login("ana@example.com").await;

    for payload in [
        json!({}),
        json!({ "authorization": "Bearer forged.token.here" }),
    ] {
        let mut socket = ws_connect(&app).await;
        socket
            .send(Message::text(
                json!({ "type": "connection_init", "payload": payload }).to_string(),
            ))
            .await
            .unwrap();
        match next_message(&mut socket).await {
            Some(Message::Close(Some(frame))) => {
                assert_eq!(u16::from(frame.code), 4403, "{payload}")
            }
            other => panic!("expected a 4403 close for {payload}, got {other:?}"),
        }
    }

    let mut socket = ws_connect(&app).await;
    socket
        .send(Message::text(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", ana.access_token) } }).to_string()))
        .await
        .unwrap();
    match next_message(&mut socket).await {
        Some(Message::Text(text)) => assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["type"],
            "connection_ack"
        ),
        other => panic!("expected connection_ack, got {other:?}"),
    }
    // A second init on the same socket is a protocol violation (4429).
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": {} }).to_string(),
        ))
        .await
        .unwrap();
    match next_message(&mut socket).await {
        Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 4429),
        other => panic!("expected a 4429 close, got {other:?}"),
    }

    // Anything before the init: 4401.
    let mut socket = ws_connect(&app).await;
    socket
        .send(Message::text(
            json!({ "type": "subscribe", "id": "1", "payload": { "query": "{ __typename }" } })
                .to_string(),
        ))
        .await
        .unwrap();
    match next_message(&mut socket).await {
        Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 4401),
        other => panic!("expected a 4401 close, got {other:?}"),
    }
}

#[tokio::test]
async fn persisted_queries_save_bandwidth_but_not_limits() {
    use sha2::Digest;
    let app = spawn_app().await;
    let other = spawn_instance_like(&app).await;
    app.create_user("ana@example.com", "Ana").await;
    let ana = app.login("ana@example.com").await;
    let send = |target: &TestApp, query: &str, hash: &str| {
        let body = json!({ "query": query, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
        let request = target
            .client
            .post(format!("{}/graphql", target.address))
            .bearer_auth(&ana.access_token)
            .json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let query = "{ me { email } }";
    let hash = hex::encode(sha2::Sha256::digest(query.as_bytes()));
    let unknown = send(&app, "", &hash).await;
    assert_eq!(
        unknown["errors"][0]["message"], "PersistedQueryNotFound",
        "{unknown}"
    );
    let registered = send(&app, query, &hash).await;
    assert_eq!(data(&registered)["me"]["email"], "ana@example.com");
    let by_hash = send(&app, "", &hash).await;
    assert_eq!(data(&by_hash)["me"]["email"], "ana@example.com");
    if other.state.config.redis_url.is_some() {
        // Registered on one instance, known to the other.
        let by_hash = send(&other, "", &hash).await;
        assert_eq!(
            data(&by_hash)["me"]["email"],
            "ana@example.com",
            "{by_hash}"
        );
    }
    let mismatch = send(&app, query, &"0".repeat(64)).await;
    assert_eq!(error_code(&mismatch).as_deref(), Some("BAD_USER_INPUT"));
    // A stored document is parsed and limited like any other.
    let aliased: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    let big = format!("{{ {aliased} }}");
    let big_hash = hex::encode(sha2::Sha256::digest(big.as_bytes()));
    for text in [big.as_str(), ""] {
        let body = send(&app, text, &big_hash).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("aliases"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn hostile_documents_are_refused_quickly_and_clearly() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let started = std::time::Instant::now();
    let deep = format!("{}{}", "{ a ".repeat(10_000), "}".repeat(10_000));
    let aliases = format!(
        "{{ {} }}",
        (0..1_000)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let nested_within_tokens = format!("{}{}", "{ me ".repeat(3_000), "}".repeat(3_000));
    for (what, document) in [
        ("10,000 deep", deep.as_str()),
        ("3,000 deep", nested_within_tokens.as_str()),
        ("1,000 aliases", aliases.as_str()),
        (
            "fragment cycle",
            "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        ),
        (
            "self-spread",
            "query { ...A } fragment A on Query { me { id } ...A }",
        ),
        (
            "first: 100000",
            "{ projects(first: 100000) { nodes { id } } }",
        ),
    ] {
        let body = app.query(&team.owner, document, json!({})).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{what}: {body}"
        );
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // The wrong content type, and a body that is not UTF-8: 4xx with a code, never a 5xx.
    for (content_type, body) in [
        ("text/plain", b"{ me { id } }".to_vec()),
        ("application/xml", b"<q/>".to_vec()),
        ("application/json", vec![0xc3, 0x28, 0xa0, 0xa1]),
    ] {
        let (status, body) = raw(&app, content_type, body).await;
        assert!((400..500).contains(&status), "{content_type}: {status}");
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_api_answers_are_not_cached() {
    let app = spawn_app_with(|c| c.graphiql = Some(true)).await;
    let page = app
        .client
        .get(format!("{}/graphiql", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("http") && !csp.contains("unsafe"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    // Everything the page loads comes from Portico itself.
    let html = page.text().await.unwrap();
    let mut loaded = 0;
    for part in html
        .split(['"', '\''])
        .filter(|p| p.starts_with('/') || p.contains("://"))
    {
        assert!(
            part.starts_with("/graphiql/assets/") || part == "/graphql",
            "{part}"
        );
        let asset = app
            .client
            .get(format!("{}{part}", app.address))
            .send()
            .await
            .unwrap();
        if part.starts_with("/graphiql/assets/") {
            assert_eq!(asset.status(), 200, "{part}");
            assert_eq!(asset.headers()["x-content-type-options"], "nosniff");
            loaded += 1;
        }
    }
    assert_eq!(loaded, 6, "{html}");
    let missing = app
        .client
        .get(format!("{}/graphiql/assets/..%2Fsecret", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let api = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
}
