//! Coverage from the schema: every mutation in the exported SDL, called by every role and by an
//! anonymous caller (the role matrix's calls), leaves an audit event; every refusal and every
//! success of those calls is among them.

use crate::authz::{ALL, matrix};
use crate::helpers::*;
use portico::db::audit_read::{self, Filter, Reach};
use portico::graphql::authz::audit::action_of;
use portico::graphql::policy::Policy;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;
use uuid::Uuid;

#[tokio::test]
async fn every_mutation_in_the_schema_writes_an_audit_event() {
    let app = spawn_app_with(|c| c.observability.audit_refusals_per_minute = 100_000).await;
    let team = app.create_team("acme").await;
    let sdl = portico::schema::export_sdl().unwrap();
    let mutations: BTreeSet<String> = Policy::from_sdl(&sdl)
        .unwrap()
        .root_fields()
        .iter()
        .filter(|(ty, _)| ty == "Mutation")
        .map(|(_, f)| f.clone())
        .collect();
    // (actor, action, result) each call must have left.
    let mut expected: BTreeSet<(Option<Uuid>, String, &str)> = BTreeSet::new();
    let callers: Vec<Option<&Session>> = ALL
        .iter()
        .map(|role| Some(team.by_role(*role)))
        .chain([None])
        .collect();
    for caller in callers {
        for (field, document, ..) in matrix() {
            if !mutations.contains(field) {
                continue;
            }
            let body = app.graphql(caller, &document, json!({})).await;
            let result = match error_code(&body).as_deref() {
                None => "SUCCESS",
                Some("UNAUTHENTICATED" | "FORBIDDEN" | "RATE_LIMITED") => "DENIED",
                Some(_) => "FAILED",
            };
            // An anonymous sign-in names nobody; a signed-in caller is named.
            let actor = caller.map(|s| s.user_id);
            expected.insert((actor, action_of(field, true), result));
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let missing = loop {
        let rows = audit_read::list(
            app.state.db.conn(),
            Reach::Everything,
            &Filter::default(),
            None,
            100_000,
        )
        .await
        .unwrap();
        let seen: BTreeSet<(Option<Uuid>, String, String)> = rows
            .iter()
            .map(|r| (r.actor_id, r.action.clone(), r.result.clone()))
            .collect();
        let missing: Vec<String> = expected
            .iter()
            .filter(|(actor, action, result)| {
                !seen.contains(&(*actor, action.clone(), (*result).to_owned()))
            })
            .map(|e| format!("{e:?}"))
            .collect();
        if missing.is_empty() || tokio::time::Instant::now() > deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        missing.is_empty(),
        "{} calls left no audit event:\n{}",
        missing.len(),
        missing.join("\n")
    );
    // Every mutation of the schema was called (the matrix covers every root field).
    let called: BTreeSet<String> = expected.iter().map(|(_, a, _)| a.clone()).collect();
    for field in &mutations {
        assert!(
            called.contains(&action_of(field, true)),
            "{field} never called"
        );
    }
}
