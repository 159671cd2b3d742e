//! `/metrics`: never public (no token, no route; a wrong token, 401), the names the dashboard and
//! the alert rules use are all exported, and 10,000 distinct operation names add no series.

use crate::helpers::*;
use portico::config::Secret;
use serde_json::json;
use std::collections::BTreeSet;

const TOKEN: &str = "metrics-token-for-the-tests-0123456789";

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut request = app.client.get(format!("{}/metrics", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

/// Metric names a PromQL text selects: every identifier written as `name{…}`.
fn selected_names(promql: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = promql.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'{' {
            continue;
        }
        let start = bytes[..i]
            .iter()
            .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .map_or(0, |p| p + 1);
        if start < i {
            names.insert(promql[start..i].to_owned());
        }
    }
    names
}

/// Exported families (`# TYPE name kind`) with the sample names each gives.
fn exported(body: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in body.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        names.insert(name.to_owned());
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[],
        };
        for suffix in suffixes {
            names.insert(format!("{name}{suffix}"));
        }
    }
    names
}

fn series(body: &str) -> usize {
    body.lines().filter(|l| !l.starts_with('#')).count()
}

#[tokio::test]
async fn metrics_answer_only_with_their_token() {
    let open = spawn_app().await;
    assert_eq!(scrape(&open, None).await.0, 404, "no token, no route");

    let app = spawn_app_with(|c| c.observability.metrics_token = Some(Secret::new(TOKEN))).await;
    assert_eq!(scrape(&app, None).await.0, 401);
    assert_eq!(scrape(&app, Some("wrong")).await.0, 401);
    let team = app.create_team("acme").await;
    app.query(&team.owner, "{ me { id } }", json!({})).await;
    app.query(&team.client, "{ apiKeys { id } }", json!({}))
        .await;
    let (status, kind, body) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    for sample in [
        r#"http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="200",http_route="/graphql"}"#,
        r#"graphql_operations_total{graphql_operation_type="query",graphql_operation_name="other"}"#,
        r#"graphql_errors_total{code="FORBIDDEN"}"#,
        r#"authz_denials_total{field="Query.apiKeys",code="FORBIDDEN"}"#,
        r#"graphql_phase_duration_seconds_count{phase="execute"}"#,
        "outbox_backlog ",
        "redis_up 1",
        r#"db_pool_connections{state="idle"}"#,
    ] {
        assert!(body.contains(sample), "{sample} missing from:\n{body}");
    }
}

#[tokio::test]
async fn the_dashboard_and_alerts_use_only_exported_names() {
    let app = spawn_app_with(|c| c.observability.metrics_token = Some(Secret::new(TOKEN))).await;
    // Traffic that gives every family a sample: a family without one is not exported at all.
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Site", &[]).await;
    app.create_task(&team.owner, &project, "Logo", "BACKLOG")
        .await;
    app.query(&team.client, "{ apiKeys { id } }", json!({}))
        .await;
    app.outbox_drained().await;
    let job = portico::app::audit_jobs::AuditPartitions;
    portico::jobs::run_once(&app.state, &job, "test")
        .await
        .unwrap();
    let (_, _, body) = scrape(&app, Some(TOKEN)).await;
    let exported = exported(&body);
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../deploy/grafana/portico-dashboard.json")).unwrap();
    let mut used = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            used.extend(selected_names(target["expr"].as_str().unwrap()));
        }
    }
    used.extend(selected_names(include_str!(
        "../../deploy/prometheus/alerts.yml"
    )));
    assert!(used.len() >= 15, "{used:?}");
    let unknown: Vec<&String> = used.iter().filter(|n| !exported.contains(*n)).collect();
    assert!(unknown.is_empty(), "not exported: {unknown:?}\n{body}");
}

#[tokio::test]
async fn ten_thousand_operation_names_add_no_series() {
    let app = spawn_app_with(|c| {
        c.observability.metrics_token = Some(Secret::new(TOKEN));
        c.rate_limit_points = 100_000_000;
        c.rate_limit_refill_per_sec = 1_000_000.0;
    })
    .await;
    let team = app.create_team("acme").await;
    let send = |n: usize| {
        let app = &app;
        let session = &team.owner;
        async move {
            let body = app
                .query(
                    session,
                    &format!("query Probe{n} {{ me {{ id }} }}"),
                    json!({}),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
    };
    for n in 0..50 {
        send(n).await;
    }
    // The first scrape is counted once it has answered: scrape twice before counting.
    scrape(&app, Some(TOKEN)).await;
    let before = series(&scrape(&app, Some(TOKEN)).await.2);
    for chunk in (50..10_050).collect::<Vec<_>>().chunks(25) {
        futures_util::future::join_all(chunk.iter().map(|n| send(*n))).await;
    }
    let (_, _, body) = scrape(&app, Some(TOKEN)).await;
    assert!(
        body.contains(r#"graphql_operation_name="other"} 10"#),
        "{body}"
    );
    assert_eq!(series(&body), before, "{body}");
}
