//! The matrix is the policy. Every root field (queries, mutations and subscriptions) is called
//! by every kind of caller, with real IDs the caller could legitimately use (one of every kind of
//! thing, made in the caller's own workspace and project), and must end exactly as the table
//! says: it succeeds and answers data, or FORBIDDEN, or NOT_FOUND (a check made after loading the
//! row), or the one code the public, token-driven doors give everyone when the token is made up.
//! A root field without a row fails the test. `PORTICO_POLICY_PRINT=1` prints the table as
//! observed, to review a change against the committed one.

use crate::callers::{Caller, callers};
use crate::helpers::*;
use crate::prober_sdl::{Operation, Sdl, pruned};
use crate::prober_world::{stock_project, stock_workspace};
use crate::realtime::{next_json, subscribe};
use portico::pubsub::channel;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// No error, and data at the field (for a subscription: it started).
    Ok,
    Forbidden,
    NotFound,
    /// Another code (a made-up token, a state that refuses the change).
    Code(&'static str),
}

/// The callers, in the order of the table's columns.
const CALLERS: [&str; 7] = [
    "owner",
    "admin",
    "collaborator",
    "client",
    "guest",
    "reader (custom role)",
    "API key",
];

/// Fields that change what later rows see run last, in this order (leaves before what holds
/// them; the caller's own session at the very end).
const LAST: &[&str] = &[
    "editMessage",
    "deleteMessage",
    "revokeUploadLink",
    "deleteFile",
    "restoreFile",
    "deleteFolder",
    "deleteTask",
    "cancelPaymentRequest",
    "revokeInvitation",
    "removeTrustedDocument",
    "rotateApiKey",
    "revokeApiKey",
    "deleteWebhookEndpoint",
    "removeProjectMember",
    "endMemberSessions",
    "removeMember",
    "deleteRole",
    "transferOwnership",
    "revokeSession",
    "logout",
];

fn rank(field: &str) -> usize {
    LAST.iter().position(|f| *f == field).map_or(0, |i| i + 1)
}

fn code(error: &Value) -> Outcome {
    match error["extensions"]["code"].as_str() {
        Some("FORBIDDEN") => Outcome::Forbidden,
        Some("NOT_FOUND") => Outcome::NotFound,
        Some(other) => Outcome::Code(Box::leak(other.to_owned().into_boxed_str())),
        None => Outcome::Code("(none)"),
    }
}

/// How an HTTP answer for `field` ended.
fn outcome(body: &Value, field: &str) -> Outcome {
    match body["errors"].get(0) {
        Some(error) => code(error),
        None if body["data"][field].is_null() => Outcome::Code("NULL"),
        None => Outcome::Ok,
    }
}

/// Subscribes and answers whether the subscription started (the bus counts a subscriber on
/// `channel`, which nobody else in the caller's world listens to) or how it was refused (its
/// first message): a condition, not a wait.
async fn subscription(app: &TestApp, caller: &Caller, channel: &str, op: &Operation) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(10);
    let count = || app.state.bus.local_subscribers(channel);
    // The row before closed its socket; the server lets its subscription go when it reads the
    // close.
    while count().await > 0 {
        assert!(
            Instant::now() < deadline,
            "a closed socket's subscription lingers on {channel}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut socket = caller.socket(app).await;
    subscribe(&mut socket, "1", &op.query, op.vars.clone(), false).await;
    loop {
        if count().await > 0 {
            return Outcome::Ok;
        }
        if let Ok(message) =
            tokio::time::timeout(Duration::from_millis(10), next_json(&mut socket)).await
        {
            let message = message.unwrap_or_default();
            return match message["type"].as_str() {
                Some("error") => code(&message["payload"][0]),
                _ => code(&message["payload"]["errors"][0]),
            };
        }
        assert!(
            Instant::now() < deadline,
            "{} neither started nor was refused",
            op.query
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_caller_against_every_root_field_ends_as_the_policy_says() {
    let app = spawn_app_with(|c| {
        c.rate_limit_points = 100_000_000;
        c.rate_limit_refill_per_sec = 1_000_000.0;
        c.webhooks.webhook_allow_private_targets = Some(true);
    })
    .await;
    let (sdl, mut ops) = Sdl::load();
    ops.sort_by_key(|op| rank(&op.1));
    let mut table: BTreeMap<&str, [Outcome; 7]> =
        crate::policy_table::table().into_iter().collect();
    if backend() == Backend::Sqlite {
        // The embedded default pays through its local test checkout; production needs Stripe.
        if let Some(row) = table.get_mut("payPaymentRequest") {
            row[3] = Outcome::Ok;
        }
    }
    let mut failures = Vec::new();
    let mut observed: BTreeMap<String, Vec<Outcome>> = BTreeMap::new();
    for (column, name) in CALLERS.iter().enumerate() {
        // A world of its own for each caller: what one caller deletes, the next still has.
        let prefix = format!("w{column}");
        let team = app.create_team(&prefix).await;
        let members = [&team.client, &team.guest, &team.collaborator];
        let site = app.create_project(&team.owner, "site", &members).await;
        let mut own = stock_project(&app, &team.owner, &site, &prefix).await;
        own.extend(stock_workspace(&app, &team, &site, &prefix).await);
        let callers = callers(&app, &team, &site).await;
        let caller = &callers[column];
        assert_eq!(caller.name(), *name);
        let user = match caller {
            Caller::Session(_, s) => s.user_id,
            Caller::Key(..) => team.owner.user_id,
        };
        for op in &ops {
            let field = op.1.as_str();
            let mut operation = sdl.operation(op, &own);
            // Optional inputs are left out, but for the one an upload needs.
            let keep: Vec<String> = match field {
                "createUpload" => vec!["input".into(), "folderId".into()],
                _ => Vec::new(),
            };
            operation.vars = pruned(&operation.vars, &operation.found.optional, &keep);
            // Names, emails and slugs of each caller's own: none collides with another's.
            let text = operation
                .vars
                .to_string()
                .replace("probe", &format!("probe{column}"));
            operation.vars = serde_json::from_str(&text).unwrap();
            let got = if op.0 == "subscription" {
                let channel = match field {
                    "notificationAdded" => channel::user(team.workspace_id, user),
                    _ => channel::project(team.workspace_id, site.parse().unwrap()),
                };
                subscription(&app, caller, &channel, &operation).await
            } else {
                let body = caller
                    .call(&app, &op.0, &operation.query, &operation.vars)
                    .await;
                let got = outcome(&body, field);
                if matches!(got, Outcome::Code(_))
                    && std::env::var_os("PORTICO_POLICY_PRINT").is_some()
                {
                    println!("// {field} as {name}: {}", body["errors"][0]["message"]);
                }
                got
            };
            let field = match op.0.as_str() {
                "subscription" => format!("Subscription.{field}"),
                _ => field.to_owned(),
            };
            let field = field.as_str();
            observed.entry(field.to_owned()).or_default().push(got);
            match table.get(field) {
                None => {}
                Some(row) if row[column] == got => {}
                Some(row) => failures.push(format!(
                    "{field} as {name}: expected {:?}, got {got:?}",
                    row[column]
                )),
            }
        }
    }
    if std::env::var_os("PORTICO_POLICY_PRINT").is_some() {
        for (field, row) in &observed {
            println!("        (\"{field}\", {row:?}),");
        }
    }
    let missing: Vec<&String> = observed
        .keys()
        .filter(|f| !table.contains_key(f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "add a row to tests/api/policy_table.rs for {missing:?}"
    );
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "policy matrix: {} root fields x {} callers",
        ops.len(),
        CALLERS.len()
    );
}
