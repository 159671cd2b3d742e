//! The authorization extension: runs before every field resolver (including fields resolved
//! through an interface, and before argument validation) and applies the field's rule from the
//! [`Policy`]. Root fields without a rule are denied: deny by default.
//!
//! It also hands every field's result to [`Shape`], which gives errors their spec shape: a denied
//! nullable field is `null` and nothing else is, and a failed non-null one nulls its nearest
//! nullable ancestor.

use super::audit;
use super::policy::{Policy, Requirement, Root};
use super::shape::{Shape, path_of};
use crate::db::audit::Frame;
use crate::error::ApiError;
use crate::graphql::RequestContext;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest, NextResolve,
    NextSubscribe, ResolveInfo,
};
use async_graphql::{Request, Response, ServerError, ServerResult, Value, Variables};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::sync::{Arc, OnceLock};
use tracing::Instrument;

/// Builds [`AuthzExtension`]s; holds the policy, set once the schema is built.
#[derive(Debug, Clone, Default)]
pub struct Authz {
    policy: Arc<OnceLock<Policy>>,
}

impl Authz {
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs the policy (read from the built schema's SDL).
    pub fn install(&self, policy: Policy) -> anyhow::Result<()> {
        self.policy
            .set(policy)
            .map_err(|_| anyhow::anyhow!("authorization policy already installed"))
    }

    /// The installed policy.
    pub fn policy(&self) -> Option<&Policy> {
        self.policy.get()
    }
}

impl ExtensionFactory for Authz {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AuthzExtension {
            policy: self.policy.clone(),
            shape: Arc::default(),
            variables: OnceLock::new(),
        })
    }
}

/// One per operation (async-graphql creates extensions per request).
struct AuthzExtension {
    policy: Arc<OnceLock<Policy>>,
    /// The operation's failed fields, settled into the response (shared with a subscription's
    /// stream, which settles each event).
    shape: Arc<Shape>,
    /// The request's variables, for the audit log's copy of a root field's arguments.
    variables: OnceLock<Variables>,
}

#[async_trait::async_trait]
impl Extension for AuthzExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let _ = self.variables.set(request.variables.clone());
        next.run(ctx, request).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        self.shape.finish(&mut response);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let shape = self.shape.clone();
        next.run(ctx, stream)
            .map(move |mut response| {
                shape.finish(&mut response);
                response
            })
            .boxed()
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let (return_type, path) = (info.return_type, info.path_node);
        let result = self.authorize_and_resolve(ctx, info, next).await;
        self.shape.settle(return_type, path, result)
    }
}

impl AuthzExtension {
    async fn authorize_and_resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // Inside `__schema` / `__type`, already admitted below.
        if info.is_for_introspection {
            return next.run(ctx, info).await;
        }
        let Some(policy) = self.policy.get() else {
            return Err(deny(
                &info,
                ApiError::internal(anyhow::anyhow!("authorization policy not installed")),
            ));
        };
        let root = policy.root(info.parent_type);
        if root == Some(Root::Query) && matches!(info.name, "__schema" | "__type") {
            let Some(rc) = ctx.data_opt::<Arc<RequestContext>>() else {
                return Err(deny(
                    &info,
                    ApiError::forbidden("introspection is disabled"),
                ));
            };
            if let Err(err) = rc.authorize_introspection().await {
                return Err(deny(&info, err));
            }
            return next.run(ctx, info).await;
        }
        let requirement = policy.requirement(info.parent_type, info.name);
        match (requirement, root) {
            (None, None) => next.run(ctx, info).await,
            (None, Some(_)) => {
                tracing::error!(field = %format!("{}.{}", info.parent_type, info.name), "root field without an authorization rule");
                Err(deny(
                    &info,
                    ApiError::forbidden("this field has no authorization rule"),
                ))
            }
            (Some(requirement), _) => {
                let rc = ctx.data_opt::<Arc<RequestContext>>();
                let mutation = root == Some(Root::Mutation);
                check(requirement, rc, &info, mutation).await?;
                match (rc, root) {
                    (Some(rc), Some(Root::Query | Root::Mutation)) => {
                        let frame = Frame::new(
                            audit::actor_of(rc, Some(requirement)),
                            audit::action_of(info.name, mutation),
                            mutation,
                            audit::arguments(&info, self.variables.get()),
                        );
                        let span = tracing::debug_span!(
                            target: "portico::graphql",
                            "resolve",
                            otel.name = %format_args!("{}.{}", info.parent_type, info.name),
                            graphql.field.name = info.name,
                        );
                        audit::around(rc, frame, mutation, next.run(ctx, info))
                            .instrument(span)
                            .await
                    }
                    _ => next.run(ctx, info).await,
                }
            }
        }
    }
}

/// Applies one field's rule for the caller of `rc`; a denial is logged and returned as the
/// field's error. Shared by the extension and the single-pass resolver of [`flat`](crate::graphql::flat).
pub(crate) async fn check(
    requirement: &Requirement,
    rc: Option<&Arc<RequestContext>>,
    info: &ResolveInfo<'_>,
    mutation: bool,
) -> ServerResult<()> {
    if requirement.public {
        return Ok(());
    }
    let Some(rc) = rc else {
        return Err(deny(info, ApiError::unauthenticated("no request context")));
    };
    if let Err(err) = rc.authorize(requirement, mutation).await {
        rc.record_denial(info, &err);
        // Root fields only: a denied field below the root repeats per row of a list (the
        // single-pass board checks it per task), and is logged and counted already.
        if info.path_node.parent.is_none() {
            audit::refusal(rc, audit::denied_action(info), &err).await;
        }
        return Err(deny(info, err));
    }
    Ok(())
}

/// The error for a denied field, at that field's path.
fn deny(info: &ResolveInfo<'_>, err: ApiError) -> ServerError {
    let gql = err.into_graphql();
    let mut server_error = ServerError::new(gql.message, None);
    server_error.extensions = gql.extensions;
    server_error.path = path_of(info.path_node);
    server_error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::directives::{public, requires};
    use crate::rbac::Permission;
    use async_graphql::{
        EmptyMutation, EmptySubscription, ID, Interface, Object, Schema, SimpleObject,
    };

    #[derive(SimpleObject)]
    struct Secret {
        id: ID,
        #[graphql(directive = requires::apply(Permission::NotePrivate))]
        note: Option<String>,
    }

    #[derive(Interface)]
    #[graphql(
        field(name = "id", ty = "&ID"),
        field(name = "note", ty = "&Option<String>")
    )]
    enum Node {
        Secret(Secret),
    }

    struct Query;

    #[Object]
    impl Query {
        #[graphql(directive = public::apply())]
        async fn node(&self) -> Node {
            Node::Secret(Secret {
                id: ID("1".into()),
                note: Some("staff only".into()),
            })
        }

        async fn unruled(&self) -> Option<i32> {
            Some(1)
        }
    }

    fn schema(with_authz: bool) -> Schema<Query, EmptyMutation, EmptySubscription> {
        let authz = Authz::new();
        let mut builder = Schema::build(Query, EmptyMutation, EmptySubscription);
        if with_authz {
            builder = builder.extension(authz.clone());
        }
        let schema = builder.finish();
        authz
            .install(Policy::from_sdl(&schema.sdl()).unwrap())
            .unwrap();
        schema
    }

    #[tokio::test]
    async fn fields_reached_through_an_interface_are_still_guarded() {
        // Without the extension the field leaks through the interface: the pitfall is real.
        let open = schema(false).execute("{ node { id note } }").await;
        assert_eq!(
            open.data.to_string(),
            r#"{node: {id: "1", note: "staff only"}}"#
        );

        let guarded = schema(true);
        for query in [
            "{ node { id note } }",
            "{ node { ... on Secret { id note } } }",
        ] {
            let response = guarded.execute(query).await;
            assert_eq!(
                response.data.to_string(),
                r#"{node: {id: "1", note: null}}"#,
                "{query}"
            );
            assert_eq!(response.errors.len(), 1);
            let path: Vec<String> = response.errors[0]
                .path
                .iter()
                .map(|p| format!("{p:?}"))
                .collect();
            assert_eq!(path, vec![r#"Field("node")"#, r#"Field("note")"#]);
        }
    }

    #[tokio::test]
    async fn root_fields_without_a_rule_are_denied() {
        let response = schema(true).execute("{ unruled node { id } }").await;
        assert_eq!(
            response.data.to_string(),
            r#"{unruled: null, node: {id: "1"}}"#
        );
        let code = response.errors[0]
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .cloned();
        assert_eq!(code, Some(Value::from("FORBIDDEN")));
    }
}
