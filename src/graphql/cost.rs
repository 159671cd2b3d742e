//! Cost-based rate limits. Every operation's cost is computed before it runs, from the document
//! and the schema: each object a field returns costs one point (scalars are free), connections
//! multiply what they select by `first`/`last` (required, 1 to 100), and other lists by an
//! estimate. The cost is taken from a leaky bucket of the principal (user or API key) or, for
//! anonymous callers, of the IP; in Redis when configured (one atomic script, so the limit holds
//! across instances), in process otherwise. A refusal is RATE_LIMITED with `retryAfter`; the cost
//! and what is left are reported in the response's `extensions.cost` and in `X-RateLimit-*`
//! headers.

use super::RequestContext;
use super::limits::refuse;
use crate::auth::Principal;
use crate::cache::{Bucket, BucketState};
use crate::error::ApiError;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextValidation,
};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::registry::{MetaTypeName, Registry};
use async_graphql::{
    Name, Positioned, Request, Response, ServerError, ServerResult, ValidationResult, Value,
    Variables,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Size assumed for a list that takes no `first`/`last` (phases, milestones, comments, …).
pub const LIST_ESTIMATE: u64 = 10;
/// The largest page of a connection.
const MAX_PAGE: u64 = super::pagination::MAX_PAGE.unsigned_abs() as u64;

/// Budgets: one bucket per user or API key, one per IP for anonymous callers. A capacity of 0
/// turns the limit off (costs are still computed and reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostLimits {
    pub principal: Bucket,
    pub anonymous: Bucket,
}

impl Default for CostLimits {
    fn default() -> Self {
        Self {
            principal: Bucket {
                capacity: 10_000,
                refill_per_sec: 200,
            },
            anonymous: Bucket {
                capacity: 1_000,
                refill_per_sec: 20,
            },
        }
    }
}

/// What one operation cost and left; the HTTP layer turns it into `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateReport {
    pub cost: u64,
    pub limit: u64,
    pub remaining: u64,
    pub reset_secs: u64,
}

impl ExtensionFactory for CostLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostExtension {
            limits: *self,
            stash: Mutex::new(Stash::default()),
        })
    }
}

#[derive(Default)]
struct Stash {
    operation_name: Option<String>,
    request: Option<Arc<RequestContext>>,
    document: Option<(ExecutableDocument, Variables)>,
    report: Option<RateReport>,
}

struct CostExtension {
    limits: CostLimits,
    stash: Mutex<Stash>,
}

impl CostExtension {
    fn with_stash<T>(&self, f: impl FnOnce(&mut Stash) -> T) -> Option<T> {
        self.stash.lock().ok().map(|mut stash| f(&mut stash))
    }
}

#[async_trait::async_trait]
impl Extension for CostExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let rc = RequestContext::of_request(&request);
        let operation_name = request.operation_name.clone();
        self.with_stash(|stash| {
            stash.operation_name = operation_name;
            stash.request = rc;
        });
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let kept = (document.clone(), variables.clone());
        self.with_stash(|stash| stash.document = Some(kept));
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        // Costed once the document is known to be valid (no fragment cycles, known fields).
        let result = next.run(ctx).await?;
        let Some((document, variables, operation_name, rc)) = self
            .with_stash(|stash| {
                stash
                    .document
                    .take()
                    .map(|(d, v)| (d, v, stash.operation_name.clone(), stash.request.clone()))
            })
            .flatten()
        else {
            return Ok(result);
        };
        let Some(operation) = select_operation(&document, operation_name.as_deref()) else {
            return Ok(result);
        };
        let cost = operation_cost(
            &ctx.schema_env.registry,
            &document,
            &operation.node,
            &variables,
        )
        .map_err(|e| vec![e])?;
        let Some(rc) = rc.or_else(|| ctx.data_opt::<Arc<RequestContext>>().cloned()) else {
            return Ok(result);
        };
        let report = charge(&rc, self.limits, cost).await.map_err(|e| vec![e])?;
        rc.record_rate(report);
        self.with_stash(|stash| stash.report = Some(report));
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        if let Some(report) = self.with_stash(|stash| stash.report).flatten() {
            let mut cost = async_graphql::indexmap::IndexMap::new();
            cost.insert(Name::new("requested"), Value::from(report.cost));
            cost.insert(Name::new("limit"), Value::from(report.limit));
            cost.insert(Name::new("remaining"), Value::from(report.remaining));
            cost.insert(Name::new("resetSeconds"), Value::from(report.reset_secs));
            response
                .extensions
                .insert("cost".to_owned(), Value::Object(cost));
        }
        response
    }
}

/// Takes `cost` from the caller's bucket.
async fn charge(
    rc: &RequestContext,
    limits: CostLimits,
    cost: u64,
) -> Result<RateReport, ServerError> {
    let (key, bucket) = match &rc.principal {
        Principal::User(user) => (format!("rate:user:{}", user.user_id), limits.principal),
        Principal::ApiKey(key) => (format!("rate:key:{}", key.key_id), limits.principal),
        Principal::Anonymous | Principal::Rejected(_) | Principal::Unverified => (
            format!("rate:ip:{}", rc.client.ip.as_deref().unwrap_or("unknown")),
            limits.anonymous,
        ),
    };
    if bucket.capacity == 0 {
        return Ok(RateReport {
            cost,
            limit: 0,
            remaining: 0,
            reset_secs: 0,
        });
    }
    if cost > bucket.capacity {
        return Err(refuse(format!(
            "this operation costs {cost} points; one operation may cost at most {} (ask for smaller pages)",
            bucket.capacity
        )));
    }
    let state: BucketState = match rc.app.cache.take(&key, bucket, cost).await {
        Ok(state) => state,
        Err(err) => {
            // The limit protects the service; an unreachable store must not take it down.
            tracing::warn!(error = ?err, "rate-limit store unavailable: request let through");
            return Ok(RateReport {
                cost,
                limit: bucket.capacity,
                remaining: bucket.capacity,
                reset_secs: 0,
            });
        }
    };
    let report = RateReport {
        cost,
        limit: bucket.capacity,
        remaining: state.remaining,
        reset_secs: state.reset_secs,
    };
    if !state.allowed {
        rc.record_rate(report);
        let refusal = ApiError::RateLimited {
            retry_after_secs: state.retry_after_secs.max(1),
        };
        rc.log_denial(&refusal, "(operation)", &format!("cost {cost}"));
        return Err(refusal.into_server_error());
    }
    Ok(report)
}

fn select_operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d Positioned<OperationDefinition>> {
    match name {
        Some(name) => document
            .operations
            .iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name))
            .map(|(_, op)| op),
        None => document.operations.iter().next().map(|(_, op)| op),
    }
}

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
