//! What an operation costs: a walk of its selection sets against the schema (objects cost one
//! point, connections multiply by `first`/`last`, other lists by [`LIST_ESTIMATE`]).

use super::super::limits::refuse;
use super::{LIST_ESTIMATE, MAX_PAGE};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::registry::{MetaTypeName, Registry};
use async_graphql::{Name, Positioned, ServerError, Value, Variables};
use std::collections::HashMap;

/// The cost of `operation`, or BAD_USER_INPUT when a connection lacks a valid `first`/`last`.
pub fn operation_cost(
    registry: &Registry,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: &Variables,
) -> Result<u64, ServerError> {
    let root = match operation.ty {
        async_graphql::parser::types::OperationType::Query => registry.query_type.as_str(),
        async_graphql::parser::types::OperationType::Mutation => {
            registry.mutation_type.as_deref().unwrap_or("Mutation")
        }
        async_graphql::parser::types::OperationType::Subscription => registry
            .subscription_type
            .as_deref()
            .unwrap_or("Subscription"),
    };
    let walker = Walker {
        registry,
        fragments: &document.fragments,
        variables,
    };
    let cost = walker.set(&operation.selection_set.node, root, 1, 0)?;
    Ok(cost.max(1))
}

struct Walker<'a> {
    registry: &'a Registry,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
}

impl Walker<'_> {
    /// The cost of `set`, selected on `type_name` for `multiplier` parent objects.
    fn set(
        &self,
        set: &SelectionSet,
        type_name: &str,
        multiplier: u64,
        depth: usize,
    ) -> Result<u64, ServerError> {
        // Validation has refused cycles and depth; this only guards the walk itself.
        if depth > 64 {
            return Ok(0);
        }
        let mut total: u64 = 0;
        for selection in &set.items {
            let cost = self.selection(&selection.node, type_name, multiplier, depth)?;
            total = total.saturating_add(cost);
        }
        Ok(total)
    }

    /// The cost of one selection of `set`.
    fn selection(
        &self,
        selection: &Selection,
        type_name: &str,
        multiplier: u64,
        depth: usize,
    ) -> Result<u64, ServerError> {
        Ok(match selection {
            Selection::Field(field) => {
                let field = &field.node;
                if matches!(field.name.node.as_str(), "__schema" | "__type") {
                    // Introspection reads only the schema: one point, whatever it selects (its
                    // depth has its own bound in `limits`).
                    return Ok(1);
                }
                let Some(meta) = self
                    .registry
                    .types
                    .get(type_name)
                    .and_then(|t| t.field_by_name(field.name.node.as_str()))
                else {
                    return Ok(0); // __typename, introspection, or a field validation refused.
                };
                let named = MetaTypeName::concrete_typename(&meta.ty);
                let is_object = self
                    .registry
                    .types
                    .get(named)
                    .is_some_and(|t| t.is_composite());
                if !is_object {
                    return Ok(0);
                }
                let page = self.page(field)?;
                let is_list = is_list(&meta.ty);
                let count = match (page, is_list) {
                    (Some(n), _) => n,
                    (None, true) => LIST_ESTIMATE,
                    (None, false) => 1,
                };
                if named.ends_with("Connection") && page.is_none() {
                    return Err(refuse(format!(
                        "`{}` is a connection: pass `first` or `last`, 1 to {MAX_PAGE}",
                        field.name.node
                    )));
                }
                if named.ends_with("Connection") {
                    // The connection object itself, then its pages of `count` items.
                    let own = multiplier;
                    own.saturating_add(self.connection(
                        &field.selection_set.node,
                        named,
                        multiplier,
                        count,
                        depth + 1,
                    )?)
                } else {
                    let objects = multiplier.saturating_mul(count);
                    objects.saturating_add(self.set(
                        &field.selection_set.node,
                        named,
                        objects,
                        depth + 1,
                    )?)
                }
            }
            Selection::InlineFragment(fragment) => {
                let on = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(type_name, |c| c.node.on.node.as_str());
                self.set(&fragment.node.selection_set.node, on, multiplier, depth + 1)?
            }
            Selection::FragmentSpread(spread) => {
                match self.fragments.get(&spread.node.fragment_name.node) {
                    Some(fragment) => self.set(
                        &fragment.node.selection_set.node,
                        fragment.node.type_condition.node.on.node.as_str(),
                        multiplier,
                        depth + 1,
                    )?,
                    None => 0,
                }
            }
        })
    }

    /// Inside a connection: `nodes` and `edges` are pages of `count`; the rest (`pageInfo`) is one.
    fn connection(
        &self,
        set: &SelectionSet,
        type_name: &str,
        multiplier: u64,
        count: u64,
        depth: usize,
    ) -> Result<u64, ServerError> {
        let mut total: u64 = 0;
        for selection in &set.items {
            let cost = match &selection.node {
                Selection::Field(field)
                    if matches!(field.node.name.node.as_str(), "nodes" | "edges") =>
                {
                    let Some(meta) = self
                        .registry
                        .types
                        .get(type_name)
                        .and_then(|t| t.field_by_name(field.node.name.node.as_str()))
                    else {
                        continue;
                    };
                    let named = MetaTypeName::concrete_typename(&meta.ty);
                    let objects = multiplier.saturating_mul(count);
                    objects.saturating_add(self.set(
                        &field.node.selection_set.node,
                        named,
                        objects,
                        depth + 1,
                    )?)
                }
                other => self.selection(other, type_name, multiplier, depth + 1)?,
            };
            total = total.saturating_add(cost);
        }
        Ok(total)
    }

    /// `first` or `last` of a field, when it has one: 1 to 100, or BAD_USER_INPUT.
    fn page(
        &self,
        field: &async_graphql::parser::types::Field,
    ) -> Result<Option<u64>, ServerError> {
        for name in ["first", "last"] {
            let Some(value) = field.get_argument(name) else {
                continue;
            };
            let resolved = value
                .node
                .clone()
                .into_const_with(|var| self.variables.get(&var).cloned().ok_or(()))
                .ok();
            let n = match resolved {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::Null) | None => continue,
                _ => None,
            };
            return match n {
                Some(n) if (1..=MAX_PAGE as i64).contains(&n) => Ok(Some(n.unsigned_abs())),
                _ => Err(refuse(format!(
                    "`{name}` of `{}` must be between 1 and {MAX_PAGE}",
                    field.name.node
                ))),
            };
        }
        Ok(None)
    }
}

fn is_list(ty: &str) -> bool {
    match MetaTypeName::create(ty) {
        MetaTypeName::List(_) => true,
        MetaTypeName::NonNull(inner) => is_list(inner),
        MetaTypeName::Named(_) => false,
    }
}
