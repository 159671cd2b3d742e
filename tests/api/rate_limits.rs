//! Cost-based rate limits: costs computed before execution and reported, connections that need a
//! page size, buckets per user, per API key and per anonymous IP, refusals with `retryAfter`,
//! `X-RateLimit-*` headers, and one budget across instances through Redis.

use crate::helpers::*;
use serde_json::{Value, json};

/// POSTs `query` and returns the status, the rate-limit headers and the body.
async fn post(app: &TestApp, session: Option<&Session>, query: &str) -> (Vec<Option<u64>>, Value) {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": query }));
    if let Some(s) = session {
        request = request.bearer_auth(&s.access_token);
        if let Some(ws) = &s.workspace {
            request = request.header("X-Workspace", ws);
        }
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success());
    let headers = [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ]
    .iter()
    .map(|h| {
        response
            .headers()
            .get(*h)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    })
    .collect();
    (headers, response.json().await.unwrap())
}

fn cost(body: &Value) -> i64 {
    body["extensions"]["cost"]["requested"]
        .as_i64()
        .unwrap_or_else(|| panic!("no cost in {body}"))
}

#[tokio::test]
async fn costs_follow_objects_and_page_sizes_and_are_reported() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let s = &team.owner;
    // One connection object, ten project objects; scalars are free.
    let (headers, body) = post(
        &app,
        Some(s),
        "{ projects(first: 10) { totalCount nodes { id name } } }",
    )
    .await;
    assert_eq!(cost(&body), 11);
    assert_eq!(headers[0], Some(10_000));
    assert!(headers[1].unwrap() <= 10_000 - 11);
    let (_, body) = post(&app, Some(s), "{ projects(first: 20) { nodes { id } } }").await;
    assert_eq!(cost(&body), 21);
    // Nested pages multiply: 20 projects × (1 connection + 50 tasks × (1 task + 1 assignee)).
    let (_, body) = post(
        &app,
        Some(s),
        "{ projects(first: 20) { nodes { tasks(first: 50) { nodes { id assignee { id } } } } } }",
    )
    .await;
    assert_eq!(cost(&body), 1 + 20 + 20 * (1 + 50 * 2));
    // Fragments cost what they select; edges count their nodes.
    let (_, body) = post(
        &app,
        Some(s),
        "query { ...F } fragment F on Query { projects(first: 5) { edges { node { id } } pageInfo { hasNextPage } } }",
    )
    .await;
    assert_eq!(cost(&body), 1 + 5 + 5 + 1);
    // Only scalars: the minimum of one point.
    let (_, body) = post(&app, Some(s), "{ myPermissions }").await;
    assert_eq!(cost(&body), 1);
}

#[tokio::test]
async fn connections_need_a_page_size_between_1_and_100() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    for first in ["0", "101", "100000", "-1"] {
        let (_, body) = post(
            &app,
            Some(&team.owner),
            &format!("{{ projects(first: {first}) {{ nodes {{ id }} }} }}"),
        )
        .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{first}: {body}"
        );
        assert!(body["data"].is_null(), "nothing ran: {body}");
    }
    // Through a variable too.
    let body = app
        .query(
            &team.owner,
            "query($n: Int!) { projects(first: $n) { nodes { id } } }",
            json!({ "n": 5000 }),
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
}

/// Limits in these tests cannot refill within the test: at 0.01 point a second (one point in
/// 100 s), what a refused operation lacks takes far longer to come back than the test runs.
#[tokio::test]
async fn a_spent_budget_answers_rate_limited_with_retry_after() {
    let app = spawn_app_with(|c| {
        c.rate_limit_points = 350;
        c.rate_limit_refill_per_sec = 0.01;
    })
    .await;
    let team = app.create_team("acme").await;
    // 101 points: three fit in 350, and the fourth lacks 54 (5,400 s of refill).
    let query = "{ projects(first: 100) { nodes { id } } }";
    let mut remaining = Vec::new();
    let refused = loop {
        let (headers, body) = post(&app, Some(&team.owner), query).await;
        if error_code(&body).is_some() {
            break body;
        }
        remaining.push(headers[1].unwrap());
        assert!(remaining.len() < 10, "never refused");
    };
    assert_eq!(
        remaining.len(),
        3,
        "350 points pay three operations of 101: {remaining:?}"
    );
    assert!(remaining.windows(2).all(|w| w[1] < w[0]));
    assert_eq!(error_code(&refused).as_deref(), Some("RATE_LIMITED"));
    let retry_after = refused["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((5_300..=5_400).contains(&retry_after), "{refused}");
    assert!(refused["data"].is_null());
    // Another user has a budget of their own.
    let (_, body) = post(&app, Some(&team.client), query).await;
    assert!(succeeded(&body, "projects")["nodes"].is_array(), "{body}");
    // An operation larger than the whole bucket is refused as such.
    let (_, body) = post(
        &app,
        Some(&team.client),
        "{ projects(first: 100) { nodes { tasks(first: 5) { nodes { id } } } } }",
    )
    .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("costs 701")
    );
}

#[tokio::test]
async fn aliases_and_batches_are_charged_per_operation_and_per_field() {
    let app = spawn_app_with(|c| {
        c.rate_limit_points = 450;
        c.rate_limit_refill_per_sec = 0.01;
    })
    .await;
    let team = app.create_team("acme").await;
    // Four aliased pages of 100 cost 4 × 101.
    let aliased = (0..4)
        .map(|i| format!("p{i}: projects(first: 100) {{ nodes {{ id }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let (_, body) = post(&app, Some(&team.owner), &format!("{{ {aliased} }}")).await;
    assert_eq!(cost(&body), 404);
    // A batch of two more operations: 11 fits in the 46 left, 101 does not (5,500 s short).
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&team.owner.access_token)
        .header("X-Workspace", team.owner.workspace.as_deref().unwrap())
        .json(&json!([
            { "query": "{ projects(first: 10) { nodes { id } } }" },
            { "query": "{ projects(first: 100) { nodes { id } } }" },
        ]))
        .send()
        .await
        .unwrap();
    let bodies: Vec<Value> = response.json().await.unwrap();
    assert!(error_code(&bodies[0]).is_none(), "{}", bodies[0]);
    assert_eq!(error_code(&bodies[1]).as_deref(), Some("RATE_LIMITED"));
}

#[tokio::test]
async fn anonymous_callers_are_limited_per_ip() {
    let app = spawn_app_with(|c| {
        c.rate_limit_anonymous_points = 3;
        c.rate_limit_anonymous_refill_per_sec = 0.01;
    })
    .await;
    // An operation costs 1 point and a point takes 100 s to come back: three of five pass.
    let answers =
        futures_util::future::join_all((0..5).map(|_| post(&app, None, "{ __typename }"))).await;
    let mut codes: Vec<Option<String>> = answers.iter().map(|(_, b)| error_code(b)).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            None,
            None,
            None,
            Some("RATE_LIMITED".into()),
            Some("RATE_LIMITED".into())
        ],
        "three of five pass"
    );
}

#[tokio::test]
async fn the_budget_holds_across_instances_through_redis() {
    let app = spawn_app_with_redis(|c| {
        c.rate_limit_points = 210;
        c.rate_limit_refill_per_sec = 0.01;
    })
    .await;
    let other = spawn_instance_like(&app).await;
    let team = app.create_team("acme").await;
    // Two operations of 101 leave 8; a third lacks 93 (9,300 s of refill).
    let query = "{ projects(first: 100) { nodes { id } } }";
    let (_, a) = post(&app, Some(&team.owner), query).await;
    let (_, b) = post(&other, Some(&team.owner), query).await;
    for body in [&a, &b] {
        assert!(succeeded(body, "projects")["nodes"].is_array(), "{body}");
    }
    let (_, c) = post(&other, Some(&team.owner), query).await;
    assert_eq!(error_code(&c).as_deref(), Some("RATE_LIMITED"), "{c}");
}
