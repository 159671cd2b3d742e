//! The automatic cross-tenant prober. It reads the exported SDL, finds every query and mutation
//! that takes an ID (as an argument, in a list, or inside an input object), and calls each one as
//! every kind of caller of one workspace (the five built-in roles, a custom staff role holding
//! `project:read`, and an API key restricted to one project), once per ID position: with the other
//! workspace's ID there, then with a random one, every other ID being the caller's own. The two
//! answers must be identical, and the first must carry no value of the other workspace. Then the
//! same with IDs from a project of the same workspace that the caller is not in. A new operation
//! is probed without anyone writing a line; one whose ID the prober cannot name fails the test
//! until `prober_sdl::id_kind` is taught.

use crate::helpers::*;
use crate::prober_sdl::{Found, Sdl, pruned, with_id};
use crate::prober_world::{PROJECT_KINDS, stock_project, stock_workspace};
use crate::realtime::{next_json, subscribe};
use futures_util::SinkExt;
use serde_json::{Map, Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

/// Who calls: a session or an API key.
enum Caller {
    Session(&'static str, Session),
    Key(&'static str, String),
}

impl Caller {
    fn name(&self) -> &'static str {
        match self {
            Caller::Session(n, _) | Caller::Key(n, _) => n,
        }
    }

    /// The answer to `query`: over HTTP, or for a subscription the first message of the
    /// websocket (`null` when none comes: the subscription started).
    async fn call(&self, app: &TestApp, keyword: &str, query: &str, vars: &Value) -> Value {
        if keyword == "subscription" {
            return self.first_message(app, query, vars).await;
        }
        match self {
            Caller::Session(_, s) => app.query(s, query, vars.clone()).await,
            Caller::Key(_, key) => {
                let request = app
                    .client
                    .post(format!("{}/graphql", app.address))
                    .bearer_auth(key);
                let body = json!({ "query": query, "variables": vars });
                request
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap()
            }
        }
    }
}

impl Caller {
    async fn first_message(&self, app: &TestApp, query: &str, vars: &Value) -> Value {
        let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        let protocol = "graphql-transport-ws".parse().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol);
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let payload = match self {
            Caller::Session(_, s) => {
                json!({ "authorization": format!("Bearer {}", s.access_token), "workspace": s.workspace })
            }
            Caller::Key(_, key) => json!({ "apiKey": key }),
        };
        let init = json!({ "type": "connection_init", "payload": payload });
        socket.send(Frame::text(init.to_string())).await.unwrap();
        let ack = next_json(&mut socket).await;
        assert_eq!(
            ack.as_ref().map(|a| a["type"].clone()),
            Some(json!("connection_ack")),
            "{ack:?}"
        );
        subscribe(&mut socket, "1", query, vars.clone(), false).await;
        next_json(&mut socket).await.unwrap_or(Value::Null)
    }
}

/// The answer with the probed ID written `<ID>`: two answers that differ only by the ID they
/// were asked about are the same answer.
fn normalized(body: &Value, id: &str) -> String {
    body.to_string().replace(id, "<ID>")
}

fn parenthesized(parts: &[String]) -> String {
    if parts.is_empty() {
        String::new()
    } else {
        format!("({})", parts.join(", "))
    }
}

/// Why `expected` (the answer for a random ID) shows that the prober did not reach the ID at
/// `leaf`: a validation error, an INTERNAL, or a refusal of another argument.
fn unreached(expected: &Value, leaf: &str) -> Option<String> {
    if expected.is_null() {
        return Some("a subscription to a random ID started".into());
    }
    // Over HTTP `errors`; over a websocket an `error` message's payload, or a `next` message's.
    let errors = match expected["type"].as_str() {
        Some("error") => &expected["payload"],
        Some(_) => &expected["payload"]["errors"],
        None => &expected["errors"],
    };
    let error = errors.get(0)?;
    let code = error["extensions"]["code"].as_str().unwrap_or("(none)");
    let other_field = error["extensions"]["field"]
        .as_str()
        .is_some_and(|f| f != leaf);
    match code {
        "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" => None,
        "BAD_USER_INPUT" if !other_field => None,
        _ => Some(format!("{code}: {}", error["message"])),
    }
}

/// `body` names none of `values` (another side's IDs and names).
fn leak<'a>(
    body: &Value,
    values: impl IntoIterator<Item = &'a String>,
    tag: &str,
) -> Option<String> {
    let text = body.to_string();
    if text.contains(tag) {
        return Some(tag.to_owned());
    }
    values
        .into_iter()
        .find(|v| text.contains(v.as_str()))
        .cloned()
}

/// The callers of the home workspace: five built-in roles, a custom staff role with
/// `project:read`, and an API key restricted to `project`.
async fn callers(app: &TestApp, home: &Team, project: &str) -> Vec<Caller> {
    let role = app
        .query(&home.owner, "mutation { createRole(input: {name: \"Reader\", permissions: [WORKSPACE_READ, MEMBER_READ, PROJECT_VIEW, PROJECT_READ]}) { id } }", json!({}))
        .await;
    let role = data(&role)["createRole"]["id"].clone();
    let reader = app
        .add_member(
            home.workspace_id,
            &home.slug,
            "reader@home.test",
            portico::rbac::BuiltinRole::Guest,
        )
        .await;
    data(
        &app.query(
            &home.owner,
            "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { id } }",
            json!({ "u": reader.user_id, "r": role }),
        )
        .await,
    );
    let key = app
        .query(&home.owner, "mutation($p: ID!) { createApiKey(input: {name: \"Partner\", projectIds: [$p], scopes: [WORKSPACE_READ, MEMBER_READ, PROJECT_VIEW, PROJECT_READ, PROJECT_WRITE, TASK_WRITE, TASK_MOVE, TICKET_CREATE, TICKET_DECIDE, MESSAGE_WRITE, PAYMENT_READ, PAYMENT_MANAGE, FILE_WRITE, NOTE_PRIVATE]}) { key } }", json!({ "p": project }))
        .await;
    let key = data(&key)["createApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    vec![
        Caller::Session("owner", home.owner.clone()),
        Caller::Session("admin", home.admin.clone()),
        Caller::Session("collaborator", home.collaborator.clone()),
        Caller::Session("client", home.client.clone()),
        Caller::Session("guest", home.guest.clone()),
        Caller::Session("reader (custom role)", reader),
        Caller::Key("API key", key),
    ]
}

/// Callers that do not see a project they are not a member of.
fn outsider(caller: &Caller) -> bool {
    matches!(caller.name(), "client" | "guest" | "API key")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_id_taking_operation_answers_another_tenants_ids_like_random_ones() {
    let app = spawn_app_with(|c| {
        c.rate_limit_points = 100_000_000;
        c.rate_limit_refill_per_sec = 1_000_000;
        c.webhooks.webhook_allow_private_targets = Some(true);
    })
    .await;
    let home = app.create_team("home").await;
    let away = app.create_team("rival").await;
    let members = [&home.client, &home.guest, &home.collaborator];
    let site = app.create_project(&home.owner, "home site", &members).await;
    let secluded_site = app.create_project(&home.owner, "secluded site", &[]).await;
    let away_site = app
        .create_project(&away.owner, "rival site", &[&away.client])
        .await;
    let mut own = stock_project(&app, &home.owner, &site, "home").await;
    own.extend(stock_workspace(&app, &home, &site, "home").await);
    let secluded = stock_project(&app, &home.owner, &secluded_site, "secluded").await;
    let mut foreign = stock_project(&app, &away.owner, &away_site, "rival").await;
    foreign.extend(stock_workspace(&app, &away, &away_site, "rival").await);
    let callers = callers(&app, &home, &site).await;

    let (sdl, ops) = Sdl::load();
    let (mut failures, mut probed, mut calls) = (Vec::new(), Vec::new(), 0);
    let mut id_taking = 0;
    for (keyword, field, args, returns) in &ops {
        let (mut found, mut vars, mut declared, mut passed) =
            (Found::default(), Map::new(), Vec::new(), Vec::new());
        for a in args {
            let required = !a.ty.node.nullable && a.default_value.is_none();
            if !required && !sdl.holds_id(&a.ty.node) {
                continue;
            }
            let name = a.name.node.to_string();
            if !required {
                found.optional.push(vec![name.clone()]);
            }
            let value = sdl.value(
                field,
                &name,
                &a.ty.node,
                std::slice::from_ref(&name),
                &own,
                &mut found,
            );
            vars.insert(name.clone(), value);
            declared.push(format!("${name}: {}", a.ty.node));
            passed.push(format!("{name}: ${name}"));
        }
        if found.leaves.is_empty() {
            continue;
        }
        id_taking += 1;
        let query = format!(
            "{keyword}{} {{ {field}{} {} }}",
            parenthesized(&declared),
            parenthesized(&passed),
            sdl.selection(returns)
        );
        let vars = Value::Object(vars);
        let mut reached = true;
        for leaf in &found.leaves {
            let at = leaf.path.join(".");
            let vars = pruned(&vars, &found.optional, &leaf.path);
            let Some(kind) = leaf.kind else {
                failures.push(format!("{field}({at}): teach id_kind what this ID names"));
                reached = false;
                continue;
            };
            let theirs = &foreign[kind];
            let last = leaf.path.last().unwrap();
            for caller in &callers {
                let random = Uuid::now_v7().to_string();
                let expected = caller
                    .call(&app, keyword, &query, &with_id(&vars, &leaf.path, &random))
                    .await;
                if let Some(why) = unreached(&expected, last) {
                    failures.push(format!(
                        "{field}({at}) as {}: the prober's arguments are refused ({why}); teach it",
                        caller.name()
                    ));
                    reached = false;
                    continue;
                }
                let want = normalized(&expected, &random);
                let mut probes = vec![(theirs, &foreign, "rival", "another workspace's")];
                if outsider(caller) && PROJECT_KINDS.contains(&kind) {
                    probes.push((&secluded[kind], &secluded, "secluded", "a hidden project's"));
                }
                for (id, side, tag, whose) in probes {
                    let got = caller
                        .call(&app, keyword, &query, &with_id(&vars, &leaf.path, id))
                        .await;
                    calls += 2;
                    if normalized(&got, id) != want {
                        failures.push(format!("{field}({at}) as {} with {whose} {kind}: {got} but a random ID gives {expected}", caller.name()));
                    } else if let Some(value) = leak(&got, side.values().filter(|v| *v != id), tag)
                    {
                        failures.push(format!("{field}({at}) as {} with {whose} {kind}: the answer shows {value}: {got}", caller.name()));
                    }
                }
            }
        }
        if reached {
            probed.push(field.clone());
        }
    }
    println!(
        "prober: {} of {id_taking} ID-taking operations probed, {calls} calls, {} callers",
        probed.len(),
        callers.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        probed.len(),
        id_taking,
        "every ID-taking operation is probed"
    );
}
