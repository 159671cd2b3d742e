//! The authorization extension: runs before every field resolver (including fields resolved
//! through an interface, and before argument validation) and applies the field's rule from the
//! [`Policy`]. Root fields without a rule are denied: deny by default.

use super::context::RequestContext;
use super::policy::{Policy, Root};
use crate::error::ApiError;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{PathSegment, QueryPathSegment, ServerError, ServerResult, Value};
use std::sync::{Arc, OnceLock};

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
        })
    }
}

struct AuthzExtension {
    policy: Arc<OnceLock<Policy>>,
}

#[async_trait::async_trait]
impl Extension for AuthzExtension {
    async fn resolve(
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
            (Some(requirement), _) if requirement.public => next.run(ctx, info).await,
            (Some(requirement), _) => {
                let Some(rc) = ctx.data_opt::<Arc<RequestContext>>() else {
                    return Err(deny(&info, ApiError::unauthenticated("no request context")));
                };
                if let Err(err) = rc
                    .authorize(requirement, root == Some(Root::Mutation))
                    .await
                {
                    rc.record_denial(&info, &err);
                    return Err(deny(&info, err));
                }
                next.run(ctx, info).await
            }
        }
    }
}

/// The error for a denied field, at that field's path.
fn deny(info: &ResolveInfo<'_>, err: ApiError) -> ServerError {
    let gql = err.into_graphql();
    let mut server_error = ServerError::new(gql.message, None);
    server_error.extensions = gql.extensions;
    server_error.path = path_of(info);
    server_error
}

fn path_of(info: &ResolveInfo<'_>) -> Vec<PathSegment> {
    let mut segments: Vec<PathSegment> = std::iter::once(info.path_node)
        .chain(info.path_node.parents())
        .map(|node| match node.segment {
            QueryPathSegment::Index(i) => PathSegment::Index(i),
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
        })
        .collect();
    segments.reverse();
    segments
}
