//! Cost-based rate limits. Every operation's cost is computed before it runs, from the document
//! and the schema: each object a field returns costs one point (scalars are free), connections
//! multiply what they select by `first`/`last` (required, 1 to 100), and other lists by an
//! estimate. The cost is taken from a leaky bucket of the principal (user or API key) or, for
//! anonymous callers, of the IP; in Redis when configured (one atomic script, so the limit holds
//! across instances), in process otherwise. A refusal is RATE_LIMITED with `retryAfter`; the cost
//! and what is left are reported in the response's `extensions.cost` and in `X-RateLimit-*`
//! headers.

use super::limits::refuse;
use crate::auth::Principal;
use crate::cache::{Bucket, BucketState};
use crate::error::ApiError;
use crate::graphql::RequestContext;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextValidation,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition};
use async_graphql::{
    Name, Positioned, Request, Response, ServerError, ServerResult, ValidationResult, Value,
    Variables,
};
use std::sync::{Arc, Mutex};

/// Size assumed for a list that takes no `first`/`last` (phases, milestones, comments, …).
pub const LIST_ESTIMATE: u64 = 10;
/// The largest page of a connection.
mod measure;

pub use measure::operation_cost;

const MAX_PAGE: u64 = crate::graphql::pagination::MAX_PAGE.unsigned_abs() as u64;

/// Budgets: one bucket per user or API key, one per IP for anonymous callers. A capacity of 0
/// turns the limit off (costs are still computed and reported).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostLimits {
    pub principal: Bucket,
    pub anonymous: Bucket,
}

impl Default for CostLimits {
    fn default() -> Self {
        Self {
            principal: Bucket {
                capacity: 10_000,
                refill_per_sec: 200.0,
            },
            anonymous: Bucket {
                capacity: 1_000,
                refill_per_sec: 20.0,
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
        let named = self
            .with_stash(|stash| {
                stash.document = Some(kept);
                (stash.request.clone(), stash.operation_name.clone())
            })
            .and_then(|(rc, name)| Some((rc?, name)));
        if let Some((rc, name)) = named {
            // The request names it, or the document's only operation does.
            let name = name.or_else(|| match &document.operations {
                DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                    ops.keys().next().map(|n| n.to_string())
                }
                _ => None,
            });
            rc.set_operation(name);
        }
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
        crate::graphql::authz::audit::refusal(rc, "graphql.operation".into(), &refusal).await;
        return Err(refusal.into_server_error());
    }
    rc.app.metrics.cost_charged.inc_by(cost);
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
