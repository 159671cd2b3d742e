//! Single-pass resolution for objects that come by the thousand (board cards and their people).
//!
//! async-graphql resolves every field of every object as its own boxed future, through the
//! extension chain, into its own map. For a board of 1,000 cards that is most of the response
//! time. [`Flat<T>`] is the same GraphQL type as `T` (same name, same fields, same SDL) but resolves
//! a selection in one pass: plain fields (stored values that need no arguments and no I/O) are
//! read directly, every other field goes through `T`'s own resolver, and **every field still
//! passes the authorization rule of the [`Policy`](super::policy::Policy)**, through the same
//! check as the extension. A selection with anything unusual (a fragment on another type, a
//! repeated response key, a directive) falls back to async-graphql's general path.
//!
//! A selection is planned once ([`Plan`]: its fields and their rules) and applied to every object
//! of a list. An object loaded together with its parent ([`Preloaded`], a card's assignee) is
//! resolved in the same pass by a plan of its own, made once with the parent's plan. Lists come as
//! [`FlatConnection`]s, whose edges are built in one loop.

use super::RequestContext;
use super::authz::{self, Authz};
use super::policy::{Policy, Requirement};
use crate::error::ApiError;
use async_graphql::extensions::ResolveInfo;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    ContextSelectionSet, EnumType, ID, Name, OutputType, Positioned, ScalarType, ServerError,
    ServerResult, Value,
};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::BoxFuture;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

mod connection;

pub use connection::{Cursor, FlatConnection};

/// An object whose stored fields can be read without a resolver.
pub trait PlainFields: ContainerType + OutputType {
    /// The value of the plain field `name` (GraphQL name), or `None` when the field needs its
    /// resolver (arguments, loading, computing).
    fn plain_field(&self, name: &str) -> Option<Value>;

    /// The plan of the object field `name` for its selection `set`, when [`Self::plain_object`]
    /// can serve that field (an object loaded with this one, such as a card's assignee).
    fn object_plan<'a>(
        _name: &str,
        _cx: PlanContext<'a>,
        _set: &'a SelectionSet,
    ) -> Option<Plan<'a>> {
        None
    }

    /// The object field `name`, when it was loaded with this object: `Some(None)` is null, and
    /// `None` leaves the field to its resolver.
    fn plain_object(&self, _name: &str) -> Option<Option<&dyn PlainObject>> {
        None
    }
}

/// A [`PlainFields`] object behind a reference of unknown type, resolved by its plan.
pub trait PlainObject: Send + Sync {
    /// Resolves this object by `plan`, made by [`PlainFields::object_plan`] of its parent.
    fn resolve_by<'b>(
        &'b self,
        ctx: &'b ContextSelectionSet<'b>,
        plan: &'b Plan<'b>,
    ) -> BoxFuture<'b, ServerResult<Value>>;
}

impl<T: PlainFields + Send + Sync> PlainObject for T {
    fn resolve_by<'b>(
        &'b self,
        ctx: &'b ContextSelectionSet<'b>,
        plan: &'b Plan<'b>,
    ) -> BoxFuture<'b, ServerResult<Value>> {
        Box::pin(resolve_planned(ctx, self, plan))
    }
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
    match plan::<T>(ctx) {
        Some(plan) => resolve_planned(ctx, root, &plan).await,
        None => resolve_container(ctx, root).await,
    }
}

/// A selection on `T`, flattened once and applied to every object of a list: its fields, each
/// with the rule the policy states for it, and the plans of the objects loaded with `T`.
#[derive(Debug)]
pub struct Plan<'a> {
    type_name: Cow<'static, str>,
    fields: Vec<Planned<'a>>,
}

#[derive(Debug)]
struct Planned<'a> {
    field: &'a Positioned<Field>,
    requirement: Option<&'a Requirement>,
    /// For an object field that [`PlainFields::plain_object`] serves: its plan.
    object: Option<Box<Plan<'a>>>,
}

/// What planning needs from the request: its fragments and the policy.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    policy: &'a Policy,
}

impl<'a> PlanContext<'a> {
    /// `None` without an installed policy: then nothing takes the single-pass path.
    pub fn of(ctx: &ContextSelectionSet<'a>) -> Option<Self> {
        Some(Self {
            fragments: &ctx.query_env.fragments,
            policy: ctx.data_opt::<Authz>().and_then(Authz::policy)?,
        })
    }
}

/// The plan of `ctx`'s selection on `T`, or `None` when it needs the general path (no policy
/// installed, or a selection [`collect`] does not flatten).
pub fn plan<'a, T: PlainFields>(ctx: &ContextSelectionSet<'a>) -> Option<Plan<'a>> {
    plan_of::<T>(PlanContext::of(ctx)?, &ctx.item.node)
}

/// The plan of the selection `set` on `T`.
pub fn plan_of<'a, T: PlainFields>(cx: PlanContext<'a>, set: &'a SelectionSet) -> Option<Plan<'a>> {
    let type_name = T::type_name();
    let mut fields = Vec::with_capacity(set.items.len());
    if !collect(cx.fragments, &type_name, set, &mut fields) {
        return None;
    }
    let fields = fields
        .into_iter()
        .map(|field| {
            let name = field.node.name.node.as_str();
            let selection = &field.node.selection_set.node;
            let object = (field.node.arguments.is_empty() && !selection.items.is_empty())
                .then(|| T::object_plan(name, cx, selection))
                .flatten()
                .map(Box::new);
            Planned {
                field,
                requirement: cx.policy.requirement(&type_name, name),
                object,
            }
        })
        .collect();
    Some(Plan { type_name, fields })
}

/// Resolves `root` by `plan` (made for this same selection).
pub async fn resolve_planned<T: PlainFields>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
    plan: &Plan<'_>,
) -> ServerResult<Value> {
    let type_name = &plan.type_name;
    let rc = ctx.data_opt::<Arc<RequestContext>>();
    let mut map = IndexMap::with_capacity(plan.fields.len());
    for planned in &plan.fields {
        let (field, requirement) = (planned.field, planned.requirement);
        let key = field.node.response_key().node.clone();
        let name = field.node.name.node.as_str();
        if name == "__typename" {
            map.insert(key, Value::String(type_name.to_string()));
            continue;
        }
        let ctx_field = ctx.with_field(field);
        let info = || resolve_info(&ctx_field, type_name, field);
        if let Some(requirement) = requirement {
            let Some(info) = info() else {
                return Err(unknown_field(type_name, field));
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
        let value = match (plain, &planned.object) {
            (Some(value), _) => Ok(Some(value)),
            (None, Some(object_plan)) => match root.plain_object(name) {
                Some(Some(object)) => {
                    let ctx_set = ctx_field.with_selection_set(&field.node.selection_set);
                    object.resolve_by(&ctx_set, object_plan).await.map(Some)
                }
                Some(None) => Ok(Some(Value::Null)),
                None => Box::pin(root.resolve_field(&ctx_field)).await,
            },
            // Boxed: a resolver's future is large, and most fields of a plan never need it.
            (None, None) => Box::pin(root.resolve_field(&ctx_field)).await,
        };
        match value {
            Ok(value) => {
                map.insert(key, value.unwrap_or_default());
            }
            Err(err) => {
                let Some(info) = info() else {
                    return Err(unknown_field(type_name, field));
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
pub(crate) fn collect<'a>(
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
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
                    || !collect(fragments, type_name, &fragment.node.selection_set.node, out)
                {
                    return false;
                }
            }
            Selection::FragmentSpread(spread) => {
                let Some(fragment) = fragments.get(&spread.node.fragment_name.node) else {
                    return false;
                };
                if !spread.node.directives.is_empty()
                    || fragment.node.type_condition.node.on.node != type_name
                    || !collect(fragments, type_name, &fragment.node.selection_set.node, out)
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
/// `objects` names fields of type [`Preloaded<T>`]: `objects "assignee" => assignee_loaded: User`.
macro_rules! plain_fields {
    ($ty:ty {
        $($name:literal => $field:ident),* $(,)?
        $(; enums $($ename:literal => $efield:ident),* $(,)?)?
        $(; objects $($oname:literal => $ofield:ident : $oty:ty),* $(,)?)?
    }) => {
        impl $crate::graphql::flat::PlainFields for $ty {
            fn plain_field(&self, name: &str) -> Option<async_graphql::Value> {
                use $crate::graphql::flat::Plain;
                match name {
                    $($name => Some(self.$field.plain()),)*
                    $($($ename => Some($crate::graphql::flat::plain_enum(self.$efield)),)*)?
                    _ => None,
                }
            }

            $(
            fn object_plan<'a>(
                name: &str,
                cx: $crate::graphql::flat::PlanContext<'a>,
                set: &'a async_graphql::parser::types::SelectionSet,
            ) -> Option<$crate::graphql::flat::Plan<'a>> {
                match name {
                    $($oname => $crate::graphql::flat::plan_of::<$oty>(cx, set),)*
                    _ => None,
                }
            }

            fn plain_object(
                &self,
                name: &str,
            ) -> Option<Option<&dyn $crate::graphql::flat::PlainObject>> {
                match name {
                    $($oname => self.$ofield.as_plain(),)*
                    _ => None,
                }
            }
            )?
        }
    };
}

/// An object field loaded together with its parent (a card's assignee), or not loaded, in which
/// case the field's resolver loads it.
#[derive(Debug, Clone, Default)]
pub enum Preloaded<T> {
    /// Not loaded: the resolver loads it.
    #[default]
    No,
    /// Loaded, and null.
    Null,
    /// Loaded.
    Object(Arc<T>),
}

impl<T: PlainObject> Preloaded<T> {
    /// As [`PlainFields::plain_object`] answers it.
    pub fn as_plain(&self) -> Option<Option<&dyn PlainObject>> {
        match self {
            Preloaded::No => None,
            Preloaded::Null => Some(None),
            Preloaded::Object(object) => Some(Some(&**object as &dyn PlainObject)),
        }
    }
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
}
