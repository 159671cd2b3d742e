//! Single-pass resolution for objects that come by the thousand (board cards and their people).
//!
//! async-graphql resolves every field of every object as its own boxed future, through the
//! extension chain, into its own map. For a board of 1,000 cards that is most of the response
//! time. [`Flat<T>`] is the same GraphQL type as `T` (same name, same fields, same SDL) but resolves
//! a selection in one pass: plain fields (stored values that need no arguments and no I/O) are
//! read directly, every other field goes through `T`'s own resolver, and **every field still
//! passes the authorization rule of the [`Policy`](crate::graphql::policy::Policy)**, through the same
//! check as the extension. A selection with anything unusual (a fragment on another type, a
//! repeated response key, a directive) falls back to async-graphql's general path.
//!
//! A selection is planned once ([`Plan`]: its fields and their rules) and applied to every object
//! of a list. An object loaded together with its parent ([`Preloaded`], a card's assignee) is
//! resolved in the same pass by a plan of its own, made once with the parent's plan. Lists come as
//! [`FlatConnection`]s, whose edges are built in one loop.

use crate::error::ApiError;
use crate::graphql::RequestContext;
use crate::graphql::authz::{self, Authz};
use crate::graphql::policy::{Policy, Requirement};
use async_graphql::extensions::ResolveInfo;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult, Value,
};
use futures_util::future::BoxFuture;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

mod connection;
mod plain;

pub use connection::{Cursor, FlatConnection};
pub use plain::{Plain, Preloaded, plain_enum};

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

#[cfg(test)]
mod tests;
