//! The automatic cross-tenant prober. It reads the exported SDL, finds every query and mutation
//! that takes an ID (as an argument, in a list, or inside an input object), and calls each one as
//! every kind of caller of one workspace (the five built-in roles, a custom staff role holding
//! `project:read`, and an API key restricted to one project), once per ID position: with the other
//! workspace's ID there, then with a random one, every other ID being the caller's own. The two
//! answers must be identical, and the first must carry no value of the other workspace. Then the
//! same with IDs from a project of the same workspace that the caller is not in. A new operation
//! is probed without anyone writing a line; one whose ID the prober cannot name fails the test
//! until `prober_sdl::id_kind` is taught.

use crate::callers::{callers, outsider};
use crate::helpers::*;
use crate::prober_sdl::{Operation, Sdl, pruned, with_id};
use crate::prober_world::{PROJECT_KINDS, stock_project, stock_workspace};
use serde_json::Value;
use uuid::Uuid;

/// The answer with the probed ID written `<ID>`: two answers that differ only by the ID they
/// were asked about are the same answer.
fn normalized(body: &Value, id: &str) -> String {
    body.to_string().replace(id, "<ID>")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_id_taking_operation_answers_another_tenants_ids_like_random_ones() {
    let app = spawn_app_with(|c| {
        c.rate_limit_points = 100_000_000;
        c.rate_limit_refill_per_sec = 1_000_000.0;
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
    for op in &ops {
        let (keyword, field) = (&op.0, &op.1);
        let Operation { query, vars, found } = sdl.operation(op, &own);
        if found.leaves.is_empty() {
            continue;
        }
        id_taking += 1;
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
