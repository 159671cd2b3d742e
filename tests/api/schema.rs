//! The SDL: committed and current, every root field guarded, every guarded field nullable, and
//! introspection only for explorers.

use crate::helpers::*;
use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
use portico::graphql::policy::Policy;
use serde_json::json;

#[test]
fn the_committed_sdl_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let current = portico::schema::export_sdl().unwrap();
    assert!(
        committed == current,
        "schema/schema.graphql is stale: run `make schema` and commit it"
    );
}

#[test]
fn every_root_field_states_its_rule() {
    let policy = Policy::from_sdl(&portico::schema::export_sdl().unwrap()).unwrap();
    assert!(policy.root_fields().len() >= 20);
    assert_eq!(policy.unguarded_root_fields(), Vec::<String>::new());
}

#[test]
fn every_guarded_field_is_nullable_so_a_denial_stays_local() {
    let sdl = portico::schema::export_sdl().unwrap();
    let doc = parse_schema(&sdl).unwrap();
    let mut offenders = Vec::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(ty) = def else {
            continue;
        };
        // A subscription event is one response: a denial ends the stream with its error
        // (tests/api/realtime.rs), so nullability does not matter there.
        if ty.node.name.node == "Subscription" {
            continue;
        }
        let fields = match &ty.node.kind {
            TypeKind::Object(o) => &o.fields,
            TypeKind::Interface(i) => &i.fields,
            _ => continue,
        };
        for field in fields {
            let guarded = field.node.directives.iter().any(|d| {
                matches!(
                    d.node.name.node.as_str(),
                    "requires" | "authenticated" | "platformAdmin"
                )
            });
            if guarded && !field.node.ty.node.nullable {
                offenders.push(format!("{}.{}", ty.node.name.node, field.node.name.node));
            }
            let _ = matches!(field.node.ty.node.base, BaseType::Named(_));
        }
    }
    assert!(
        offenders.is_empty(),
        "guarded fields must be nullable: {offenders:?}"
    );
}

#[tokio::test]
async fn introspection_is_for_explorers() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let query = "{ __schema { queryType { name } } }";
    let owner = app.query(&team.owner, query, json!({})).await;
    assert_eq!(data(&owner)["__schema"]["queryType"]["name"], "Query");
    let client = app.query(&team.client, query, json!({})).await;
    let anonymous = app
        .graphql(None, "{ __type(name: \"Query\") { name } }", json!({}))
        .await;
    match backend() {
        // The embedded default is a developer's machine: introspection is open.
        Backend::Sqlite => {
            data(&client);
            data(&anonymous);
        }
        Backend::Postgres => {
            assert_eq!(error_code(&client).as_deref(), Some("FORBIDDEN"));
            assert_eq!(
                client["errors"][0]["extensions"]["permission"],
                "schema:explore"
            );
            assert_eq!(error_code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
        }
    }
    // __typename is always fine.
    data(&app.graphql(None, "{ __typename }", json!({})).await);
}

/// graphql-js's `getIntrospectionQuery()` with every option on (descriptions, specifiedByURL,
/// repeatable directives, schema description, deprecated input values, oneOf), as GraphiQL,
/// graphql-codegen and Apollo tooling send it.
const STANDARD_INTROSPECTION: &str = include_str!("introspection.graphql");

#[tokio::test]
async fn the_standard_introspection_query_runs_for_explorers_and_depth_still_binds_the_rest() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let body = app
        .query(&team.owner, STANDARD_INTROSPECTION, json!({}))
        .await;
    assert!(succeeded(&body, "__schema")["types"].is_array(), "{body}");
    let types = data(&body)["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Project"), "{body}");
    let client = app
        .query(&team.client, STANDARD_INTROSPECTION, json!({}))
        .await;
    if backend() == Backend::Postgres {
        // Production: schema:explore, which clients do not hold.
        assert_eq!(error_code(&client).as_deref(), Some("FORBIDDEN"));
    } else {
        // The embedded default explores openly, without the fields the caller cannot use.
        let seen = succeeded(&client, "__schema")["types"].as_array().unwrap();
        assert!(seen.iter().any(|t| t["name"] == "Project"), "{client}");
    }
    // Outside introspection the depth limit (12) still holds, fragments included.
    let deep = "{ projects(first: 1) { edges { node { ...T } } } } fragment T on Project { tasks(first: 1) { edges { node { project { tasks(first: 1) { edges { node { project { tasks(first: 1) { edges { node { id } } } } } } } } } } } }";
    let refused = app.query(&team.owner, deep, json!({})).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("BAD_USER_INPUT"),
        "{refused}"
    );
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 12"),
        "{refused}"
    );
    // And introspection has its own finite bound.
    let mut nested = String::from("name");
    for _ in 0..40 {
        nested = format!("ofType {{ {nested} }}");
    }
    let too_deep = format!("{{ __type(name: \"Project\") {{ {nested} }} }}");
    let refused = app.query(&team.owner, &too_deep, json!({})).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("BAD_USER_INPUT"),
        "{refused}"
    );
}
