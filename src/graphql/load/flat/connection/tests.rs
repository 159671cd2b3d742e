//! Tests of `graphql::flat::connection`.

use super::super::tests::schema;
use super::*;
use crate::graphql::directives::{public, requires};
use crate::graphql::flat::Preloaded;
use crate::rbac::Permission;
use async_graphql::{ComplexObject, ID, Object, SimpleObject};

/// A person with a guarded field.
#[derive(Debug, Clone, SimpleObject)]
struct Person {
    id: ID,
    #[graphql(directive = requires::apply(Permission::NotePrivate))]
    secret: Option<String>,
}

crate::plain_fields!(Person { "id" => id, "secret" => secret });

/// A card whose owner is loaded with it.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
struct Card {
    id: ID,
    title: String,
    #[graphql(skip)]
    owner_id: Option<usize>,
    #[graphql(skip)]
    owner_loaded: Preloaded<Person>,
}

#[ComplexObject]
impl Card {
    async fn owner(&self) -> Option<Person> {
        self.owner_id.map(person)
    }
}

crate::plain_fields!(Card { "id" => id, "title" => title; objects "owner" => owner_loaded: Person });

impl Cursor for Card {
    fn cursor(&self) -> String {
        format!("cursor-{}", self.id.0)
    }
}

fn person(i: usize) -> Person {
    Person {
        id: ID(format!("p{i}")),
        secret: Some("staff only".into()),
    }
}

fn cards() -> Vec<Card> {
    (0..3)
        .map(|i| {
            let owner_id = (i != 1).then_some(i);
            Card {
                id: ID(format!("c{i}")),
                title: format!("card {i}"),
                owner_id,
                owner_loaded: owner_id
                    .map_or(Preloaded::Null, |o| Preloaded::Object(Arc::new(person(o)))),
            }
        })
        .collect()
}

/// async-graphql's own connection.
struct General;

#[Object(name = "Query")]
impl General {
    #[graphql(directive = public::apply())]
    async fn cards(&self) -> Connection<String, Card, ConnectionFields> {
        let mut connection =
            Connection::with_additional_fields(false, true, ConnectionFields { total_count: 7 });
        connection
            .edges
            .extend(cards().into_iter().map(|c| Edge::new(c.cursor(), c)));
        connection
    }
}

struct OnePass;

#[Object(name = "Query")]
impl OnePass {
    #[graphql(directive = public::apply())]
    async fn cards(&self) -> FlatConnection<Card> {
        FlatConnection::new(cards().into(), false, true, 7)
    }
}

#[tokio::test]
async fn a_flat_connection_answers_exactly_like_async_graphqls() {
    let general = schema(General);
    let one_pass = schema(OnePass);
    assert_eq!(general.sdl(), one_pass.sdl(), "the SDL must not change");
    for query in [
        "{ cards { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } \
         edges { cursor node { id title owner { id } } } nodes { __typename id } } }",
        "{ cards { __typename e: edges { __typename c: cursor n: node { ...F } } } } \
         fragment F on Card { id owner { __typename id } }",
        "{ cards { ... on CardConnection { totalCount } edges { node { id owner @include(if: true) { id } } } } }",
        "{ cards { edges @skip(if: false) { node { id } } } }",
        "{ cards { edges { node { id } } edges { cursor } } }",
        "{ cards { edges { node { id owner { id secret } } } } }",
    ] {
        let expected = serde_json::to_value(general.execute(query).await).unwrap();
        let actual = serde_json::to_value(one_pass.execute(query).await).unwrap();
        assert_eq!(actual, expected, "{query}");
    }
    // The owners' guarded field is refused on the single pass too: two owners, two errors.
    let denied = one_pass
        .execute("{ cards { edges { node { owner { secret } } } } }")
        .await;
    assert_eq!(denied.errors.len(), 2, "{:?}", denied.errors);
}
