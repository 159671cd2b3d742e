//! GET never mutates: the operation a GET request would run is checked on its *final* text,
//! after persisted queries and trusted documents replaced a hash by the stored text, so a
//! mutation stored under its hash cannot be run by a GET (which a browser may send cross-site).

use super::limits::refuse;
use crate::graphql::RequestContext;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::parse_query;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Request, ServerResult};
use std::sync::Arc;

/// The refusal's message (the HTTP layer answers it with 405).
pub const MUTATION_OVER_GET: &str = "mutations must be sent with POST";

/// Whether the operation `request` would run is a mutation. A document that does not parse is
/// not one (the executor reports the syntax error).
pub fn is_mutation(request: &Request) -> bool {
    let Ok(document) = parse_query(&request.query) else {
        return false;
    };
    let operation = match &document.operations {
        DocumentOperations::Single(op) => Some(op),
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops.get(name.as_str()),
            None => ops.values().next(),
        },
    };
    operation.is_some_and(|op| op.node.ty == OperationType::Mutation)
}

/// The extension; register it after every extension that rewrites the request's text.
#[derive(Debug, Clone, Copy)]
pub struct SafeMethods;

impl ExtensionFactory for SafeMethods {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_trait::async_trait]
impl Extension for SafeMethods {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let rc = RequestContext::of_request(&request)
            .or_else(|| ctx.data_opt::<Arc<RequestContext>>().cloned());
        if let Some(rc) = rc.filter(|rc| rc.read_only())
            && is_mutation(&request)
        {
            rc.refuse_method();
            return Err(refuse(MUTATION_OVER_GET));
        }
        next.run(ctx, request).await
    }
}
