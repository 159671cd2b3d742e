//! The layer order of `src/`, enforced: a module imports only from its own layer or below, and a
//! domain imports another domain only along an edge listed here. Debts that predate this test are
//! listed too, each with its reason; the test fails when a new upward import appears, and also
//! when a listed debt is gone (so the list only shrinks). The order is written in `src/lib.rs`.
//! Files stay under 400 lines and open with a `//!` line saying what they are for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Layers, lowest first. Within a layer, modules may import each other, except domains (below).
const LAYERS: &[&[&str]] = &[
    // Foundation: values, errors, settings, logs, the event types.
    &["types", "error", "config", "telemetry", "events"],
    // Storage and messaging.
    &["db", "storage", "mail", "cache", "pubsub"],
    // Access: who is calling, and what they may reach.
    &["auth", "rbac"],
    // Runtime: the outbox dispatcher, the job runner, GraphQL infrastructure.
    &["outbox", "jobs", "graphql"],
    // Domains.
    &[
        "identity",
        "workspace",
        "project",
        "task",
        "ticket",
        "milestone",
        "note",
        "activity",
        "message",
        "payment",
        "apikey",
        "file",
        "notification",
        "webhook",
        "audit",
    ],
    // Composition: the schema (every domain's roots), the application container, HTTP,
    // first-start data.
    &["schema", "app", "http", "bootstrap"],
    // Entry point.
    &["cli"],
];

/// The domain layer's index in [`LAYERS`].
const DOMAINS: usize = 4;

/// Domain-to-domain imports that are allowed: a domain may use another's public types and
/// services along these edges only. (`identity` provides `User`, the people every domain shows.)
const DOMAIN_EDGES: &[(&str, &str)] = &[
    ("activity", "identity"),
    ("apikey", "identity"),
    ("file", "activity"),
    ("file", "identity"),
    // A new project gets its standard folders in its own transaction.
    ("project", "file"),
    // Tickets, comments and messages show their attachments.
    ("ticket", "file"),
    ("message", "file"),
    ("message", "identity"),
    // A notification shows who did it.
    ("notification", "identity"),
    // A webhook endpoint shows who saved it.
    ("webhook", "identity"),
    ("milestone", "activity"),
    ("milestone", "identity"),
    ("note", "activity"),
    ("payment", "activity"),
    ("payment", "identity"),
    ("task", "activity"),
    ("task", "identity"),
    ("ticket", "activity"),
    ("ticket", "identity"),
    ("ticket", "task"),
    ("workspace", "identity"),
    ("workspace", "note"),
    // Debts, to remove: the project type reaches into the domains it shows (its dashboard and
    // relations), and payment and ticket, identity and workspace, call each other's services.
    ("project", "activity"),
    ("project", "identity"),
    ("project", "message"),
    ("project", "milestone"),
    ("project", "note"),
    ("project", "task"),
    ("project", "ticket"),
    ("payment", "ticket"),
    ("ticket", "payment"),
    ("identity", "workspace"),
];

/// Upward imports that predate this test, with their reason; each is to be removed.
const DEBTS: &[(&str, &str, &str)] = &[
    (
        "graphql",
        "app",
        "RequestContext holds the AppState container",
    ),
    ("jobs", "app", "jobs receive the AppState container"),
    ("apikey", "app", "services take the AppState container"),
    ("identity", "app", "services take the AppState container"),
    ("message", "app", "services take the AppState container"),
    ("milestone", "app", "services take the AppState container"),
    ("note", "app", "services take the AppState container"),
    ("payment", "app", "services take the AppState container"),
    ("project", "app", "services take the AppState container"),
    ("task", "app", "services take the AppState container"),
    ("ticket", "app", "services take the AppState container"),
    ("workspace", "app", "services take the AppState container"),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// `crate::<module>` references of a file's code (comments and the test module left out).
fn references(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            // `crate::name!` is an exported macro, not a module.
            let is_macro = rest[name.len()..].starts_with('!');
            if !name.is_empty() && !is_macro {
                found.insert(name);
            }
        }
    }
    found
}

/// Every `src/` file's top-level module and its references.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources() {
        let first = Path::new(&path).components().next().unwrap().as_os_str();
        let module = first.to_string_lossy().trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let targets = edges.entry(module.clone()).or_default();
        targets.extend(references(&text).into_iter().filter(|t| *t != module));
    }
    edges
}

#[test]
fn modules_import_only_downwards_and_domains_only_along_listed_edges() {
    let edges = imports();
    let mut violations = Vec::new();
    let mut seen_debts = BTreeSet::new();
    let mut seen_domain_edges = BTreeSet::new();
    for (from, targets) in &edges {
        let Some(from_layer) = layer_of(from) else {
            violations.push(format!("`{from}` is in no layer: add it to LAYERS"));
            continue;
        };
        for to in targets {
            let Some(to_layer) = layer_of(to) else {
                violations.push(format!("`{to}` (imported by `{from}`) is in no layer"));
                continue;
            };
            let pair = (from.as_str(), to.as_str());
            if from_layer == DOMAINS && to_layer == DOMAINS {
                if DOMAIN_EDGES.contains(&pair) {
                    seen_domain_edges.insert(pair);
                } else {
                    violations.push(format!(
                        "domain `{from}` imports domain `{to}`: ask the access layer, or list the edge"
                    ));
                }
            } else if to_layer > from_layer {
                if DEBTS.iter().any(|(f, t, _)| (*f, *t) == pair) {
                    seen_debts.insert(pair);
                } else {
                    violations.push(format!(
                        "`{from}` (layer {from_layer}) imports `{to}` (layer {to_layer})"
                    ));
                }
            }
        }
    }
    for (from, to, _) in DEBTS {
        if !seen_debts.contains(&(*from, *to)) {
            violations.push(format!(
                "the debt `{from}` -> `{to}` is paid: remove it from DEBTS"
            ));
        }
    }
    for pair in DOMAIN_EDGES {
        if !seen_domain_edges.contains(pair) {
            violations.push(format!("the domain edge {pair:?} is unused: remove it"));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_scanner_finds_references_in_code_only() {
    let text = "use crate::db::Scoped;\n// crate::app is only mentioned\n/// [`x`](crate::http)\nfn f() { crate::rbac::visibility::visible(); crate::plain_fields!(X {}); }\n#[cfg(test)]\nmod tests { use crate::cli; }";
    let found: Vec<String> = references(text).into_iter().collect();
    assert_eq!(found, ["db", "rbac"]);
}

/// Every `src/` file: its path (relative to `src/`) and text.
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root.clone()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).unwrap().display().to_string();
                files.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// Longest file allowed in `src/`, in lines.
const MAX_LINES: usize = 400;

#[test]
fn files_stay_small_and_open_with_what_they_are_for() {
    let mut violations = Vec::new();
    for (path, text) in sources() {
        let lines = text.lines().count();
        if lines > MAX_LINES {
            violations.push(format!("{path} has {lines} lines (at most {MAX_LINES})"));
        }
        if !text.trim_start().starts_with("//!") {
            violations.push(format!("{path} does not open with a `//!` line"));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
