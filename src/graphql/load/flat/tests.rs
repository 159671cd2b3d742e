//! Tests of `graphql::flat`.

use super::*;
use crate::graphql::directives::{public, requires};
use crate::graphql::policy::Policy;
use crate::rbac::Permission;
use async_graphql::ID;
use async_graphql::{
    ComplexObject, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject,
};
use chrono::NaiveDate;

/// A card with plain fields, a resolved field, a guarded field and a failing field.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
struct Card {
    id: ID,
    title: String,
    due: Option<NaiveDate>,
    #[graphql(directive = requires::apply(Permission::NotePrivate))]
    secret: Option<String>,
}

#[ComplexObject]
impl Card {
    async fn shout(&self, times: Option<usize>) -> String {
        self.title.to_uppercase().repeat(times.unwrap_or(1))
    }

    async fn broken(&self) -> async_graphql::Result<Option<i32>> {
        Err("broken".into())
    }
}

crate::plain_fields!(Card { "id" => id, "title" => title, "due" => due, "secret" => secret });

fn cards() -> Vec<Card> {
    (0..3)
        .map(|i| Card {
            id: ID(format!("c{i}")),
            title: format!("card {i}"),
            due: (i % 2 == 0).then(|| NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()),
            secret: Some("staff only".into()),
        })
        .collect()
}

struct Plain;

#[Object]
impl Plain {
    #[graphql(directive = public::apply())]
    async fn cards(&self) -> Vec<Card> {
        cards()
    }
}

struct Flattened;

#[Object(name = "Plain")]
impl Flattened {
    #[graphql(directive = public::apply())]
    async fn cards(&self) -> Vec<Flat<Card>> {
        cards().into_iter().map(Flat).collect()
    }
}

/// A schema with the authorization extension and the policy read from its own SDL.
pub(super) fn schema<Q: async_graphql::ObjectType + 'static>(
    query: Q,
) -> Schema<Q, EmptyMutation, EmptySubscription> {
    let authz = Authz::new();
    let schema = Schema::build(query, EmptyMutation, EmptySubscription)
        .extension(authz.clone())
        .data(authz.clone())
        .finish();
    authz
        .install(Policy::from_sdl(&schema.sdl()).unwrap())
        .unwrap();
    schema
}

#[tokio::test]
async fn flat_resolution_answers_exactly_like_the_general_path() {
    let plain = schema(Plain);
    let flat = schema(Flattened);
    assert_eq!(
        plain.sdl(),
        flat.sdl(),
        "Flat<T> must not change the schema"
    );
    for query in [
        "{ cards { id title due } }",
        "{ cards { __typename a: id b: title shout(times: 2) } }",
        "{ cards { id ... on Card { title } ...F } } fragment F on Card { due }",
        "{ cards { id secret } }",
        "{ cards { id broken } }",
        "{ cards { id title @include(if: false) due @skip(if: true) } }",
        "{ cards { id id title } }",
    ] {
        let expected = serde_json::to_value(plain.execute(query).await).unwrap();
        let actual = serde_json::to_value(flat.execute(query).await).unwrap();
        assert_eq!(actual, expected, "{query}");
    }
    // The guarded field is denied on the flat path too.
    let denied = flat.execute("{ cards { id secret } }").await;
    assert_eq!(denied.errors.len(), 3);
    assert!(denied.data.to_string().contains("secret: null"));
}
