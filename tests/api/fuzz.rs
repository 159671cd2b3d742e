//! A bounded fuzz run through the whole HTTP stack: proptest generates random and mutated GraphQL
//! documents, random variables, JSON bodies of any shape, raw bytes and odd content types, sent
//! anonymously, signed in, or with an API key. No input may produce a 5xx, a hang, or an error
//! without `extensions.code`, and none may show a client a staff-only canary (a private note) or
//! anyone another workspace's canary (a project's name): the authorization invariant. Each run
//! draws a fresh seed and prints it; `PORTICO_FUZZ_SEED=<hex>` replays one. The number of cases
//! is `PORTICO_FUZZ_CASES` (default 1500); the count run is printed.

use crate::helpers::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use std::time::Duration;

/// Documents that run, the seeds of mutation.
const SEEDS: &[&str] = &[
    "{ me { id email } }",
    "{ projects(first: 10) { totalCount nodes { id name status tasks(first: 5) { nodes { id title assignee { id name } } } } } }",
    "query Q($id: ID!) { project(id: $id) { id name privateNote milestones { id title } } }",
    "mutation { createTicket(input: {projectId: \"x\", kind: BUG, title: \"t\", description: \"d\"}) { id number } }",
    "{ paymentRequests(projectId: \"00000000-0000-0000-0000-000000000000\", first: 5) { nodes { amountMinor } } }",
    "query { ...F } fragment F on Query { workspace { id name } }",
    "{ __schema { types { name fields { name } } } }",
    "mutation { login(email: \"a@b.cd\", password: \"x\") { accessToken mfaToken } }",
    "subscription { messageAdded(projectId: \"x\") { id } }",
    "{ a: me { id } b: me { id } c: myPermissions }",
    "{ projects(first: 10) { nodes { id name privateNote } } }",
    "{ members(first: 20) { nodes { privateNote user { name } } } }",
];

/// In a private note of the fuzzed workspace's project: no client may ever see it.
const STAFF_CANARY: &str = "CANARY-STAFF-7f3a";
/// The name of another workspace's project: nobody in the fuzzed workspace may ever see it.
const FOREIGN_CANARY: &str = "CANARY-FOREIGN-9c1e";

const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "$",
    "...",
    "@",
    "!",
    "=",
    ",",
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "me",
    "id",
    "projects",
    "first",
    "last",
    "after",
    "nodes",
    "edges",
    "node",
    "tasks",
    "assignee",
    "project",
    "workspace",
    "__schema",
    "__type",
    "__typename",
    "login",
    "email",
    "F",
    "x",
    "0",
    "1",
    "-1",
    "100000",
    "1e309",
    "\"s\"",
    "\"\"\"b\"\"\"",
    "null",
    "true",
    "$id",
    "ID!",
    "Int",
    "@include(if: true)",
    "@skip(if: $x)",
    "#c\n",
    "\u{0}",
    "é",
];

/// What one case sends.
#[derive(Debug, Clone)]
enum Input {
    /// A JSON body `{query, variables, operationName, extensions}`.
    Json(Value),
    /// Bytes as they are, with a content type.
    Raw(Vec<u8>, &'static str),
    /// A GET with the query in the URL.
    Get(String),
}

fn document() -> impl Strategy<Value = String> {
    let random = prop::collection::vec(prop::sample::select(TOKENS), 0..120)
        .prop_map(|tokens| tokens.join(" "));
    let mutated = (
        prop::sample::select(SEEDS),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..6),
    )
        .prop_map(|(seed, edits)| {
            let mut bytes = seed.as_bytes().to_vec();
            for (at, byte, kind) in edits {
                let i = at.index(bytes.len() + 1);
                match kind {
                    0 => bytes.insert(i.min(bytes.len()), byte),
                    1 if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ if i < bytes.len() => bytes[i] = byte,
                    _ => {}
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        });
    let nested = (1usize..3000).prop_map(|n| format!("{}{}", "{ a ".repeat(n), "}".repeat(n)));
    prop_oneof![4 => random, 6 => mutated, 1 => nested]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::hash_map("[a-z]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn input() -> impl Strategy<Value = Input> {
    let body = (
        document(),
        prop::option::of(json_value()),
        prop::option::of("[A-Za-z]{0,6}"),
        prop::option::of(json_value()),
    )
        .prop_map(|(query, variables, operation, extensions)| {
            let mut body = json!({ "query": query });
            if let Some(v) = variables {
                body["variables"] = v;
            }
            if let Some(o) = operation {
                body["operationName"] = json!(o);
            }
            if let Some(e) = extensions {
                body["extensions"] = e;
            }
            Input::Json(body)
        });
    let shapeless = json_value().prop_map(Input::Json);
    let batch = prop::collection::vec(document(), 0..12)
        .prop_map(|docs| Input::Json(docs.into_iter().map(|q| json!({ "query": q })).collect()));
    let raw = (
        prop::collection::vec(any::<u8>(), 0..300),
        prop::sample::select(
            &[
                "application/json",
                "text/plain",
                "application/graphql",
                "multipart/form-data; boundary=x",
                "application/x-www-form-urlencoded",
            ][..],
        ),
    )
        .prop_map(|(bytes, ct)| Input::Raw(bytes, ct));
    let get = document().prop_map(Input::Get);
    prop_oneof![6 => body, 1 => shapeless, 1 => batch, 2 => raw, 1 => get]
}

#[test]
fn random_and_mutated_requests_never_break_the_server() {
    let cases: u32 = std::env::var("PORTICO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (app, credentials) = runtime.block_on(async {
        // Budgets off: the run sends far more than one user's share.
        let app = spawn_app_with(|c| {
            c.rate_limit_points = 0;
            c.rate_limit_anonymous_points = 0;
        })
        .await;
        let team = app.create_team("fuzz").await;
        let project = app
            .create_project(&team.owner, "Site", &[&team.client])
            .await;
        let note = "mutation($id: ID!, $b: String) { setPrivateNote(subject: PROJECT, subjectId: $id, body: $b) }";
        let set = app
            .query(&team.owner, note, json!({ "id": project, "b": STAFF_CANARY }))
            .await;
        assert_eq!(data(&set)["setPrivateNote"], true, "{set}");
        let other = app.create_team("elsewhere").await;
        app.create_project(&other.owner, FOREIGN_CANARY, &[]).await;
        let credentials = vec![
            None,
            Some((team.owner.access_token.clone(), team.slug.clone())),
            Some((team.client.access_token.clone(), team.slug.clone())),
        ];
        (app, credentials)
    });
    let seed: [u8; 32] = match std::env::var("PORTICO_FUZZ_SEED") {
        Ok(hex) => hex::decode(hex.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .expect("PORTICO_FUZZ_SEED is 64 hex digits"),
        Err(_) => rand::random(),
    };
    println!(
        "fuzz: seed {} (PORTICO_FUZZ_SEED replays it)",
        hex::encode(seed)
    );
    let mut runner = TestRunner::new_with_rng(
        RunnerConfig {
            cases,
            failure_persistence: None,
            ..RunnerConfig::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let ran = std::sync::atomic::AtomicU64::new(0);
    let result = runner.run(&(input(), 0usize..3), |(input, who)| {
        ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Owner (1) may see the staff canary; nobody may see the foreign one.
        let hidden: &[&str] = if who == 1 {
            &[FOREIGN_CANARY]
        } else {
            &[STAFF_CANARY, FOREIGN_CANARY]
        };
        let outcome = runtime.block_on(send(&app, &input, credentials[who].as_ref(), hidden));
        match outcome {
            Ok(()) => Ok(()),
            Err(problem) => Err(TestCaseError::fail(problem)),
        }
    });
    let ran = ran.load(std::sync::atomic::Ordering::Relaxed);
    println!("fuzz: {ran} inputs sent through the HTTP stack ({cases} cases asked)");
    if let Err(err) = result {
        panic!("fuzzing found a failure: {err}");
    }
    drop(app);
    runtime.shutdown_timeout(Duration::from_secs(5));
}

async fn send(
    app: &TestApp,
    input: &Input,
    auth: Option<&(String, String)>,
    hidden: &[&str],
) -> Result<(), String> {
    let url = format!("{}/graphql", app.address);
    let mut request = match input {
        Input::Json(body) => app.client.post(&url).json(body),
        Input::Raw(bytes, content_type) => app
            .client
            .post(&url)
            .header("content-type", *content_type)
            .body(bytes.clone()),
        Input::Get(query) => app.client.get(&url).query(&[("query", query)]),
    };
    if let Some((token, workspace)) = auth {
        request = request.bearer_auth(token).header("X-Workspace", workspace);
    }
    let response = tokio::time::timeout(Duration::from_secs(15), request.send())
        .await
        .map_err(|_| format!("no answer within 15 s to {input:?}"))?
        .map_err(|err| format!("transport error {err} for {input:?}"))?;
    let status = response.status().as_u16();
    if status >= 500 {
        return Err(format!("HTTP {status} for {input:?}"));
    }
    let text = response.text().await.map_err(|e| e.to_string())?;
    if let Some(canary) = hidden.iter().find(|c| text.contains(**c)) {
        return Err(format!("{canary} leaked for {input:?}: {text}"));
    }
    let Ok(body) = serde_json::from_str::<Value>(&text) else {
        // Non-JSON answers are only the HTTP layer's own refusals (405, 413, 415).
        return if status >= 400 {
            Ok(())
        } else {
            Err(format!(
                "HTTP {status} with a non-JSON body for {input:?}: {text}"
            ))
        };
    };
    let responses = match &body {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    for r in &responses {
        if let Some(errors) = r["errors"].as_array() {
            for error in errors {
                let code = error["extensions"]["code"].as_str().unwrap_or_default();
                let known = [
                    "UNAUTHENTICATED",
                    "FORBIDDEN",
                    "NOT_FOUND",
                    "BAD_USER_INPUT",
                    "CONFLICT",
                    "RATE_LIMITED",
                    "INTERNAL",
                ];
                // APQ's protocol message is the one error without a code.
                if !known.contains(&code) && error["message"] != "PersistedQueryNotFound" {
                    return Err(format!("error without a known code {error} for {input:?}"));
                }
                if code == "INTERNAL" {
                    return Err(format!("INTERNAL for {input:?}: {error}"));
                }
            }
        }
    }
    Ok(())
}
