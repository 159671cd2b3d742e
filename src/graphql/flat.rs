//! Single-pass resolution for objects that come by the thousand (board cards and their people).
//!
//! async-graphql resolves every field of every object as its own boxed future, through the
//! extension chain, into its own map. For a board of 1,000 cards that is most of the response
//! time. [`Flat<T>`] is the same GraphQL type as `T` (same name, same fields, same SDL) but resolves
//! a selection in one pass: plain fields (stored values that need no arguments and no I/O) are
//! read directly, every other field goes through `T`'s own resolver, and **every field still
//! passes the authorization rule of the [`Policy`](super::policy::Policy)**, through the same
//! check as the extension. A selection with anything unusual (a fragment on another type, a
//! repeated response key, a custom directive) falls back to async-graphql's general path.

use super::RequestContext;
use super::authz::{self, Authz};
use crate::error::ApiError;
use async_graphql::extensions::ResolveInfo;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    ContextSelectionSet, EnumType, ID, Name, OutputType, Positioned, ScalarType, ServerError,
    ServerResult, Value,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::borrow::Cow;
use std::sync::Arc;

/// An object whose stored fields can be read without a resolver.
pub trait PlainFields: ContainerType + OutputType {
    /// The value of the plain field `name` (GraphQL name), or `None` when the field needs its
    /// resolver (arguments, loading, computing).
    fn plain_field(&self, name: &str) -> Option<Value>;
}

/// `T`, resolved in a single pass. See the module documentation.
#[derive(Debug, Clone)]
pub struct Flat<T>(pub T);

impl<T: PlainFields> OutputType for Flat<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_flat(ctx, &self.0).await
    }
}

/// Resolves `root`'s selection in one pass, or through the general path when the selection is
/// not simple.
pub async fn resolve_flat<T: PlainFields>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
) -> ServerResult<Value> {
    let type_name = T::type_name();
    let mut fields = Vec::with_capacity(ctx.item.node.items.len());
    let authz = ctx.data_opt::<Authz>();
    let policy = authz.and_then(Authz::policy);
    let (Some(policy), true) = (
        policy,
        collect(ctx, &type_name, &ctx.item.node, &mut fields),
    ) else {
        return resolve_container(ctx, root).await;
    };
    let rc = ctx.data_opt::<Arc<RequestContext>>();
    let mut map = IndexMap::with_capacity(fields.len());
    for field in fields {
        let key = field.node.response_key().node.clone();
        let name = field.node.name.node.as_str();
        if name == "__typename" {
            map.insert(key, Value::String(type_name.to_string()));
            continue;
        }
        let ctx_field = ctx.with_field(field);
        let info = || resolve_info(&ctx_field, &type_name, field);
        if let Some(requirement) = policy.requirement(&type_name, name) {
            let Some(info) = info() else {
                return Err(unknown_field(&type_name, field));
            };
            if let Err(err) = authz::check(requirement, rc, &info, false).await {
                settle(&ctx_field, &info, &mut map, key, err)?;
                continue;
            }
        }
        let plain =
            if field.node.arguments.is_empty() && field.node.selection_set.node.items.is_empty() {
                root.plain_field(name)
            } else {
                None
            };
        let value = match plain {
            Some(value) => Ok(Some(value)),
            None => root.resolve_field(&ctx_field).await,
        };
        match value {
            Ok(value) => {
                map.insert(key, value.unwrap_or_default());
            }
            Err(err) => {
                let Some(info) = info() else {
                    return Err(unknown_field(&type_name, field));
                };
                settle(&ctx_field, &info, &mut map, key, err)?;
            }
        }
    }
    Ok(Value::Object(map))
}

/// A failed nullable field becomes `null` with its error; a failed non-null field fails its parent.
fn settle(
    ctx: &async_graphql::Context<'_>,
    info: &ResolveInfo<'_>,
    map: &mut IndexMap<Name, Value>,
    key: Name,
    err: ServerError,
) -> ServerResult<()> {
    if info.return_type.ends_with('!') {
        return Err(err);
    }
    ctx.add_error(err);
    map.insert(key, Value::Null);
    Ok(())
}

fn resolve_info<'a>(
    ctx: &'a async_graphql::Context<'a>,
    type_name: &'a str,
    field: &'a Positioned<Field>,
) -> Option<ResolveInfo<'a>> {
    let return_type = ctx
        .schema_env
        .registry
        .types
        .get(type_name)?
        .field_by_name(field.node.name.node.as_str())?;
    Some(ResolveInfo {
        path_node: ctx.path_node.as_ref()?,
        parent_type: type_name,
        return_type: &return_type.ty,
        name: field.node.name.node.as_str(),
        alias: field.node.alias.as_ref().map(|a| a.node.as_str()),
        is_for_introspection: false,
        field: &field.node,
    })
}

/// Validation rejects unknown fields before execution; reaching this is a bug.
fn unknown_field(type_name: &str, field: &Positioned<Field>) -> ServerError {
    let err = ApiError::internal(anyhow::anyhow!(
        "field {type_name}.{} is not in the registry",
        field.node.name.node
    ));
    let gql = err.into_graphql();
    let mut server_error = ServerError::new(gql.message, Some(field.pos));
    server_error.extensions = gql.extensions;
    server_error
}

/// Flattens the selection into its fields; `false` when it needs the general path.
fn collect<'a>(
    ctx: &ContextSelectionSet<'a>,
    type_name: &str,
    set: &'a SelectionSet,
    out: &mut Vec<&'a Positioned<Field>>,
) -> bool {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = &field.node.response_key().node;
                if !field.node.directives.is_empty()
                    || out.iter().any(|f| &f.node.response_key().node == key)
                {
                    return false;
                }
                out.push(field);
            }
            Selection::InlineFragment(fragment) => {
                let applies = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .is_none_or(|c| c.node.on.node == type_name);
                if !fragment.node.directives.is_empty()
                    || !applies
                    || !collect(ctx, type_name, &fragment.node.selection_set.node, out)
                {
                    return false;
                }
            }
            Selection::FragmentSpread(spread) => {
                let Some(fragment) = ctx.query_env.fragments.get(&spread.node.fragment_name.node)
                else {
                    return false;
                };
                if !spread.node.directives.is_empty()
                    || fragment.node.type_condition.node.on.node != type_name
                    || !collect(ctx, type_name, &fragment.node.selection_set.node, out)
                {
                    return false;
                }
            }
        }
    }
    true
}

/// A stored value as GraphQL sends it: the same conversions as async-graphql's own resolvers.
pub trait Plain {
    fn plain(&self) -> Value;
}

macro_rules! plain_scalars {
    ($($ty:ty),*) => {
        $(impl Plain for $ty {
            fn plain(&self) -> Value {
                ScalarType::to_value(self)
            }
        })*
    };
}

plain_scalars!(
    String,
    ID,
    bool,
    i32,
    i64,
    u64,
    f64,
    DateTime<Utc>,
    NaiveDate
);

impl<T: Plain> Plain for Option<T> {
    fn plain(&self) -> Value {
        self.as_ref().map_or(Value::Null, Plain::plain)
    }
}

/// The value of a GraphQL enum.
pub fn plain_enum<E: EnumType>(value: E) -> Value {
    E::items()
        .iter()
        .find(|item| item.value == value)
        .map_or(Value::Null, |item| Value::Enum(Name::new(item.name)))
}

/// Implements [`PlainFields`]: `plain_fields!(Task { "id" => id, "title" => title; enums "column" => column })`.
#[macro_export]
macro_rules! plain_fields {
    ($ty:ty { $($name:literal => $field:ident),* $(,)? $(; enums $($ename:literal => $efield:ident),* $(,)?)? }) => {
        impl $crate::graphql::flat::PlainFields for $ty {
            fn plain_field(&self, name: &str) -> Option<async_graphql::Value> {
                use $crate::graphql::flat::Plain;
                match name {
                    $($name => Some(self.$field.plain()),)*
                    $($($ename => Some($crate::graphql::flat::plain_enum(self.$efield)),)*)?
                    _ => None,
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::directives::{public, requires};
    use crate::graphql::policy::Policy;
    use crate::rbac::Permission;
    use async_graphql::{
        ComplexObject, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject,
    };

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
                due: (i % 2 == 0)
                    .then(|| NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()),
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

    fn schema<Q: async_graphql::ObjectType + 'static>(
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
}
