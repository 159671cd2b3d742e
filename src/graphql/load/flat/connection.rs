//! Relay connections of [`Flat`] nodes resolved in one pass: the edge list, each edge's cursor and
//! its node, without a future, a map of extension calls and a container walk per edge.
//!
//! [`FlatConnection<T>`] is the same GraphQL type as `Connection<String, Flat<T>, ConnectionFields>`
//! (same names, same fields, same SDL). The node selection is planned once for the whole page and
//! every node still goes through the policy's field rules. A selection with anything unusual (a
//! rule on a connection field, an unknown field, anything [`collect`] does not flatten) resolves
//! through async-graphql's general `Connection`.

use super::{Flat, PlainFields, Plan, collect, plan, resolve_planned};
use crate::graphql::authz::Authz;
use crate::graphql::pagination::ConnectionFields;
use crate::graphql::policy::Policy;
use async_graphql::connection::{Connection, Edge, EmptyFields, PageInfo};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_container;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// A node that knows its own cursor, encoded only when a client selects it.
pub trait Cursor {
    /// The opaque cursor of this node.
    fn cursor(&self) -> String;
}

/// A page of `T`s as a Relay connection, resolved in one pass. The nodes are shared, so the
/// pages of a batch are built once and handed out without copying them.
#[derive(Debug, Clone)]
pub struct FlatConnection<T> {
    nodes: Arc<[T]>,
    has_previous_page: bool,
    has_next_page: bool,
    total_count: u64,
}

type General<T> = Connection<String, Flat<T>, ConnectionFields>;
type GeneralEdge<T> = Edge<String, Flat<T>, EmptyFields>;

impl<T: Cursor> FlatConnection<T> {
    /// A page: its nodes, whether pages come before (`after` was given) and after it, and the
    /// number of items in the whole list.
    pub fn new(
        nodes: Arc<[T]>,
        has_previous_page: bool,
        has_next_page: bool,
        total_count: u64,
    ) -> Self {
        Self {
            nodes,
            has_previous_page,
            has_next_page,
            total_count,
        }
    }

    fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.nodes.first().map(Cursor::cursor),
            end_cursor: self.nodes.last().map(Cursor::cursor),
        }
    }
}

impl<T: PlainFields + Cursor + Clone> FlatConnection<T> {
    /// The same page as async-graphql's general connection.
    fn general(&self) -> General<T> {
        let mut connection = Connection::with_additional_fields(
            self.has_previous_page,
            self.has_next_page,
            ConnectionFields {
                total_count: self.total_count,
            },
        );
        connection.edges.extend(
            self.nodes
                .iter()
                .map(|node| Edge::new(node.cursor(), Flat(node.clone()))),
        );
        connection
    }
}

/// A field of the connection object.
enum Part<'a> {
    Typename(&'a Positioned<Field>),
    TotalCount(&'a Positioned<Field>),
    PageInfo(&'a Positioned<Field>),
    Nodes(&'a Positioned<Field>),
    Edges(&'a Positioned<Field>, Vec<EdgePart<'a>>),
}

/// A field of an edge object.
enum EdgePart<'a> {
    Typename(&'a Positioned<Field>),
    Cursor(&'a Positioned<Field>),
    Node(&'a Positioned<Field>),
}

/// The connection's selection as parts, or `None` for the general path.
fn parts<'a, T: PlainFields>(ctx: &ContextSelectionSet<'a>) -> Option<Vec<Part<'a>>> {
    let policy = ctx.data_opt::<Authz>().and_then(Authz::policy)?;
    let connection_type = General::<T>::type_name();
    let mut fields = Vec::with_capacity(ctx.item.node.items.len());
    if !collect(
        &ctx.query_env.fragments,
        &connection_type,
        &ctx.item.node,
        &mut fields,
    ) {
        return None;
    }
    let mut parts = Vec::with_capacity(fields.len());
    for field in fields {
        let name = field.node.name.node.as_str();
        if !simple(policy, &connection_type, field) {
            return None;
        }
        parts.push(match name {
            "__typename" => Part::Typename(field),
            "totalCount" => Part::TotalCount(field),
            "pageInfo" => Part::PageInfo(field),
            "nodes" => Part::Nodes(field),
            "edges" => Part::Edges(field, edge_parts::<T>(ctx, policy, field)?),
            _ => return None,
        });
    }
    Some(parts)
}

fn edge_parts<'a, T: PlainFields>(
    ctx: &ContextSelectionSet<'a>,
    policy: &Policy,
    edges: &'a Positioned<Field>,
) -> Option<Vec<EdgePart<'a>>> {
    let edge_type = GeneralEdge::<T>::type_name();
    let mut fields = Vec::new();
    if !collect(
        &ctx.query_env.fragments,
        &edge_type,
        &edges.node.selection_set.node,
        &mut fields,
    ) {
        return None;
    }
    fields
        .into_iter()
        .map(|field| {
            if !simple(policy, &edge_type, field) {
                return None;
            }
            match field.node.name.node.as_str() {
                "__typename" => Some(EdgePart::Typename(field)),
                "cursor" => Some(EdgePart::Cursor(field)),
                "node" => Some(EdgePart::Node(field)),
                _ => None,
            }
        })
        .collect()
}

/// A field without arguments on which the policy states no rule.
fn simple(policy: &Policy, type_name: &str, field: &Positioned<Field>) -> bool {
    field.node.arguments.is_empty()
        && policy
            .requirement(type_name, field.node.name.node.as_str())
            .is_none()
}

impl<T: PlainFields + Cursor + Clone> OutputType for FlatConnection<T> {
    fn type_name() -> Cow<'static, str> {
        General::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        General::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        General::<T>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match parts::<T>(ctx) {
            Some(parts) => self.resolve_parts(ctx, &parts).await,
            None => self.general().resolve(ctx, field).await,
        }
    }
}

impl<T: PlainFields + Cursor + Clone> FlatConnection<T> {
    async fn resolve_parts<'a>(
        &self,
        ctx: &ContextSelectionSet<'a>,
        parts: &[Part<'a>],
    ) -> ServerResult<Value> {
        let mut map = IndexMap::with_capacity(parts.len());
        for part in parts {
            match part {
                Part::Typename(field) => {
                    map.insert(
                        key(field),
                        Value::String(General::<T>::type_name().into_owned()),
                    );
                }
                Part::TotalCount(field) => {
                    map.insert(key(field), Value::from(self.total_count));
                }
                Part::PageInfo(field) => {
                    let ctx_field = ctx.with_field(field);
                    let ctx_set = ctx_field.with_selection_set(&field.node.selection_set);
                    let value = self.page_info().resolve(&ctx_set, field).await?;
                    map.insert(key(field), value);
                }
                Part::Nodes(field) => {
                    let plan = plan::<T>(&ctx.with_selection_set(&field.node.selection_set));
                    let ctx_field = ctx.with_field(field);
                    let mut list = Vec::with_capacity(self.nodes.len());
                    for (i, node_value) in self.nodes.iter().enumerate() {
                        let ctx_index = ctx_field.with_index(i);
                        let ctx_set = ctx_index.with_selection_set(&field.node.selection_set);
                        list.push(node(&ctx_set, node_value, plan.as_ref()).await?);
                    }
                    map.insert(key(field), Value::List(list));
                }
                Part::Edges(field, edge_parts) => {
                    let value = self.resolve_edges(ctx, field, edge_parts).await?;
                    map.insert(key(field), value);
                }
            }
        }
        Ok(Value::Object(map))
    }

    async fn resolve_edges<'a>(
        &self,
        ctx: &ContextSelectionSet<'a>,
        field: &'a Positioned<Field>,
        edge_parts: &[EdgePart<'a>],
    ) -> ServerResult<Value> {
        // The node selection is the same for every edge: planned once for the page.
        let plan = edge_parts.iter().find_map(|part| match part {
            EdgePart::Node(f) => plan::<T>(&ctx.with_selection_set(&f.node.selection_set)),
            _ => None,
        });
        let ctx_field = ctx.with_field(field);
        let mut list = Vec::with_capacity(self.nodes.len());
        for (i, node_value) in self.nodes.iter().enumerate() {
            let ctx_index = ctx_field.with_index(i);
            let mut object = IndexMap::with_capacity(edge_parts.len());
            for part in edge_parts {
                match part {
                    EdgePart::Typename(f) => {
                        object.insert(
                            key(f),
                            Value::String(GeneralEdge::<T>::type_name().into_owned()),
                        );
                    }
                    EdgePart::Cursor(f) => {
                        object.insert(key(f), Value::String(node_value.cursor()));
                    }
                    EdgePart::Node(f) => {
                        let ctx_node = ctx_index.with_field(f);
                        let ctx_set = ctx_node.with_selection_set(&f.node.selection_set);
                        object.insert(key(f), node(&ctx_set, node_value, plan.as_ref()).await?);
                    }
                }
            }
            list.push(Value::Object(object));
        }
        Ok(Value::List(list))
    }
}

/// A node by the page's plan, or through the general path. Nodes are non-null, so a failed
/// non-null field of a node fails the connection, as it does on the general path.
async fn node<T: PlainFields>(
    ctx: &ContextSelectionSet<'_>,
    node: &T,
    plan: Option<&Plan<'_>>,
) -> ServerResult<Value> {
    match plan {
        Some(plan) => resolve_planned(ctx, node, plan).await,
        None => resolve_container(ctx, node).await,
    }
}

fn key(field: &Positioned<Field>) -> async_graphql::Name {
    field.node.response_key().node.clone()
}

#[cfg(test)]
mod tests;
