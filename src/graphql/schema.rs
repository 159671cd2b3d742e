//! Assembles a schema from its roots: the extensions in their order (admission, cost,
//! authorization), the limits, and the authorization policy read back from the schema's own SDL.
//! Which roots make Portico's schema is the composition layer's business (`crate::schema`).

use super::apq::PersistedQueries;
use super::authz::Authz;
use super::limits::DocumentLimits;
use super::policy::Policy;
use anyhow::Context;
use async_graphql::extensions::ExtensionFactory;
use async_graphql::{ObjectType, Schema, SchemaBuilder, SubscriptionType};

/// Query limits.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    pub depth: usize,
    pub complexity: usize,
    /// Nesting of the parser's recursion (lists, objects, fragments).
    pub recursion: usize,
    /// "Did you mean …" suggestions in validation errors.
    pub suggestions: bool,
    /// Tokens, aliases and root fields.
    pub document: DocumentLimits,
    /// Cost budgets (rate limits).
    pub cost: super::cost::CostLimits,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            depth: 12,
            complexity: 5_000,
            recursion: 64,
            suggestions: true,
            document: DocumentLimits::default(),
            cost: super::cost::CostLimits::default(),
        }
    }
}

/// Finishes `builder` with Portico's extensions and `limits`, and installs the authorization
/// policy read from the finished schema's SDL. `first` runs before every other extension (the
/// trusted-documents check, which must see a document before APQ's shared store is read).
pub fn assemble<Q, M, S>(
    builder: SchemaBuilder<Q, M, S>,
    limits: SchemaLimits,
    first: impl ExtensionFactory,
) -> anyhow::Result<Schema<Q, M, S>>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let authz = Authz::new();
    let mut builder = builder
        .extension(first)
        .extension(super::observe::Observe)
        .extension(PersistedQueries {
            limits: limits.document,
        })
        // After every extension that rewrites the text: GET is judged on the final document.
        .extension(super::safe_methods::SafeMethods)
        .extension(DocumentLimits {
            depth: limits.depth,
            ..limits.document
        })
        .extension(limits.cost)
        .extension(authz.clone())
        // Also as data, for the single-pass resolver (`flat`), which applies the same policy.
        .data(authz.clone())
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(limits.recursion)
        .limit_directives(50);
    if !limits.suggestions {
        builder = builder.disable_suggestions();
    }
    let schema = builder.finish();
    let policy = Policy::from_sdl(&schema.sdl()).context("reading the authorization policy")?;
    authz.install(policy)?;
    Ok(schema)
}
