//! Field errors in the shape the GraphQL specification gives them: a failed field is `null` at
//! its nearest nullable position (itself, or the first nullable ancestor), and its error is
//! reported once, at the path of the field that failed.
//!
//! async-graphql 7 drops a failed field from its parent object, and answers the rest of that
//! object as if nothing happened, even when the field is non-null: a client then reads an object
//! without a field its type promises. [`Shape`] follows every field of an operation (the
//! authorization extension hands it each result): a failed nullable field becomes `null`; a failed
//! non-null one is remembered by path until the first nullable ancestor finishes, which then
//! becomes `null` in turn; a failure that reaches a root field that is non-null makes `data` null.

use async_graphql::{
    PathSegment, QueryPathNode, QueryPathSegment, Response, ServerError, ServerResult, Value,
};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// What one operation (or one subscription event) has left to settle.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    /// Errors of positions answered with `null` here, added to the response at the end.
    errors: Mutex<Vec<ServerError>>,
    /// Paths of non-null positions that failed, each waiting for its nearest nullable ancestor.
    failed: Mutex<Vec<Vec<PathSegment>>>,
    /// Whether `failed` holds anything: most operations fail nowhere and never take the lock.
    any_failed: AtomicBool,
}

impl Shape {
    /// The value at `path` (a field of type `return_type`, or an item of a list) once its own
    /// result and its children's are known.
    pub(crate) fn settle(
        &self,
        return_type: &str,
        path: &QueryPathNode<'_>,
        result: ServerResult<Option<Value>>,
    ) -> ServerResult<Option<Value>> {
        // A list item: async-graphql does not give its type (it says non-null even for `[T]`),
        // so its failure is kept for the list's field, which knows the item type. The list stays
        // whole meanwhile, and the error is reported here, since no object field reports it.
        if let QueryPathSegment::Index(_) = path.segment {
            return match result {
                Err(err) => {
                    self.fail(path_of(path));
                    self.report(err);
                    Ok(Some(Value::Null))
                }
                ok => ok,
            };
        }
        let nullable = !return_type.ends_with('!');
        match result {
            Err(err) if nullable => {
                self.take_failed_under(path);
                self.report(err);
                Ok(Some(Value::Null))
            }
            Err(err) => {
                // Its object drops it and reports the error; a nullable ancestor settles it.
                self.fail(path_of(path));
                Err(err)
            }
            Ok(Some(mut value)) if self.any_failed.load(Ordering::Acquire) => {
                let here = path_of(path);
                let Ok(mut failed) = self.failed.lock() else {
                    return Ok(Some(value));
                };
                let under: Vec<&[PathSegment]> = failed
                    .iter()
                    .filter_map(|f| f.strip_prefix(here.as_slice()))
                    .collect();
                if under.is_empty() {
                    return Ok(Some(value));
                }
                let fails = absorb(&mut value, return_type, &under);
                if fails && !nullable {
                    // Left for the nearest nullable ancestor, which sees these paths too.
                    return Ok(Some(value));
                }
                failed.retain(|f| !f.starts_with(&here));
                if failed.is_empty() {
                    self.any_failed.store(false, Ordering::Release);
                }
                Ok(Some(if fails { Value::Null } else { value }))
            }
            ok => ok,
        }
    }

    /// Adds the errors kept here to `response`; a failure no nullable position absorbed nulls
    /// `data`.
    pub(crate) fn finish(&self, response: &mut Response) {
        if let Ok(mut errors) = self.errors.lock() {
            response.errors.append(&mut errors);
        }
        if self.any_failed.swap(false, Ordering::AcqRel)
            && let Ok(mut failed) = self.failed.lock()
            && !failed.is_empty()
        {
            failed.clear();
            response.data = Value::Null;
        }
    }

    fn report(&self, err: ServerError) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(err);
        }
    }

    fn fail(&self, path: Vec<PathSegment>) {
        if let Ok(mut failed) = self.failed.lock() {
            failed.push(path);
            self.any_failed.store(true, Ordering::Release);
        }
    }

    /// Forgets the failures at or under `path`.
    fn take_failed_under(&self, path: &QueryPathNode<'_>) {
        if !self.any_failed.load(Ordering::Acquire) {
            return;
        }
        let path = path_of(path);
        if let Ok(mut failed) = self.failed.lock() {
            failed.retain(|f| !f.starts_with(&path));
            if failed.is_empty() {
                self.any_failed.store(false, Ordering::Release);
            }
        }
    }
}

/// Applies failures at the paths `under` (relative to `value`, of GraphQL type `ty`): an item of
/// a list whose items are nullable becomes `null`; `true` when `value` itself must be null
/// (a failure here, or under a non-null item, or under an object: a nullable field on the way
/// would have absorbed it already).
fn absorb(value: &mut Value, ty: &str, under: &[&[PathSegment]]) -> bool {
    if under.iter().any(|rest| rest.is_empty()) {
        return true;
    }
    let inner = ty.strip_suffix('!').unwrap_or(ty);
    let (Some(item_ty), Value::List(items)) = (
        inner.strip_prefix('[').and_then(|t| t.strip_suffix(']')),
        value,
    ) else {
        return true;
    };
    let mut by_item: std::collections::BTreeMap<usize, Vec<&[PathSegment]>> = Default::default();
    for rest in under {
        match rest.split_first() {
            Some((PathSegment::Index(i), tail)) => by_item.entry(*i).or_default().push(tail),
            _ => return true,
        }
    }
    for (i, tails) in by_item {
        let Some(item) = items.get_mut(i) else {
            return true;
        };
        if absorb(item, item_ty, &tails) {
            if item_ty.ends_with('!') {
                return true;
            }
            *item = Value::Null;
        }
    }
    false
}

/// The response path of `node`.
pub(crate) fn path_of(node: &QueryPathNode<'_>) -> Vec<PathSegment> {
    let mut segments: Vec<PathSegment> = std::iter::once(node)
        .chain(node.parents())
        .map(|node| match node.segment {
            QueryPathSegment::Index(i) => PathSegment::Index(i),
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
        })
        .collect();
    segments.reverse();
    segments
}

#[cfg(test)]
mod tests {
    use crate::error::{ApiError, ApiResult};
    use crate::graphql::authz::Authz;
    use crate::graphql::directives::public;
    use crate::graphql::policy::Policy;
    use async_graphql::{EmptyMutation, Object, Schema, SimpleObject, Subscription, Value};
    use futures_util::{Stream, StreamExt};

    /// A field that fails with INTERNAL when `fails`.
    struct Leaf {
        fails: bool,
    }

    impl Leaf {
        fn value(&self) -> ApiResult<String> {
            if self.fails {
                return Err(ApiError::internal(anyhow::anyhow!("disk on fire")));
            }
            Ok("fine".into())
        }
    }

    #[Object]
    impl Leaf {
        async fn boom(&self) -> async_graphql::Result<String> {
            Ok(self.value()?)
        }

        async fn maybe(&self) -> async_graphql::Result<Option<String>> {
            Ok(Some(self.value()?))
        }
    }

    struct Item {
        fails: bool,
    }

    #[Object]
    impl Item {
        async fn id(&self) -> i32 {
            1
        }

        async fn leaf(&self) -> Leaf {
            Leaf { fails: self.fails }
        }
    }

    #[derive(SimpleObject)]
    struct Counts {
        ok: i32,
    }

    struct Query;

    #[Object]
    impl Query {
        #[graphql(directive = public::apply())]
        async fn items(&self) -> Option<Vec<Item>> {
            Some(vec![Item { fails: false }, Item { fails: true }])
        }

        #[graphql(directive = public::apply())]
        async fn loose(&self) -> Vec<Option<Item>> {
            vec![Some(Item { fails: false }), Some(Item { fails: true })]
        }

        #[graphql(directive = public::apply())]
        async fn strict(&self) -> Item {
            Item { fails: true }
        }

        #[graphql(directive = public::apply())]
        async fn counts(&self) -> Counts {
            Counts { ok: 1 }
        }
    }

    struct Events;

    #[Subscription]
    impl Events {
        #[graphql(directive = public::apply())]
        async fn ticks(&self) -> impl Stream<Item = Leaf> {
            futures_util::stream::iter([Leaf { fails: false }, Leaf { fails: true }])
        }
    }

    fn schema() -> Schema<Query, EmptyMutation, Events> {
        let authz = Authz::new();
        let schema = Schema::build(Query, EmptyMutation, Events)
            .extension(authz.clone())
            .finish();
        authz
            .install(Policy::from_sdl(&schema.sdl()).unwrap())
            .unwrap();
        schema
    }

    fn paths(response: &async_graphql::Response) -> Vec<String> {
        response
            .errors
            .iter()
            .map(|e| {
                let code = e.extensions.as_ref().and_then(|x| x.get("code")).cloned();
                let path: Vec<String> = e.path.iter().map(|p| format!("{p:?}")).collect();
                format!("{} {:?}", path.join("/"), code)
            })
            .collect()
    }

    #[tokio::test]
    async fn a_failed_non_null_field_deep_in_a_list_nulls_the_nearest_nullable_parent() {
        // [Item!] → Item.leaf: Leaf! → Leaf.boom: String!: the whole list is the nearest nullable.
        let response = schema()
            .execute("{ items { id leaf { boom } } counts { ok } }")
            .await;
        assert_eq!(response.data.to_string(), "{items: null, counts: {ok: 1}}");
        assert_eq!(
            paths(&response),
            [r#"Field("items")/Index(1)/Field("leaf")/Field("boom") Some(String("INTERNAL"))"#]
        );

        // [Item]!: only the failed item is null.
        let response = schema().execute("{ loose { leaf { boom } } }").await;
        assert_eq!(
            response.data.to_string(),
            r#"{loose: [{leaf: {boom: "fine"}}, null]}"#
        );
        assert_eq!(response.errors.len(), 1);

        // A nullable field is its own nearest nullable position.
        let response = schema().execute("{ loose { leaf { maybe } } }").await;
        assert_eq!(
            response.data.to_string(),
            r#"{loose: [{leaf: {maybe: "fine"}}, {leaf: {maybe: null}}]}"#
        );
        assert_eq!(response.errors.len(), 1);
    }

    #[tokio::test]
    async fn a_failure_under_a_non_null_root_field_nulls_data() {
        let response = schema()
            .execute("{ counts { ok } strict { id leaf { boom } } }")
            .await;
        assert_eq!(response.data, Value::Null);
        assert_eq!(
            paths(&response),
            [r#"Field("strict")/Field("leaf")/Field("boom") Some(String("INTERNAL"))"#]
        );
    }

    #[tokio::test]
    async fn each_subscription_event_has_the_shape_and_the_errors_of_its_own_failures() {
        let events: Vec<_> = schema()
            .execute_stream("subscription { ticks { maybe } }")
            .collect()
            .await;
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].data.to_string(), r#"{ticks: {maybe: "fine"}}"#);
        assert!(events[0].errors.is_empty());
        assert_eq!(events[1].data.to_string(), "{ticks: {maybe: null}}");
        assert_eq!(
            paths(&events[1]),
            [r#"Field("ticks")/Field("maybe") Some(String("INTERNAL"))"#]
        );

        let events: Vec<_> = schema()
            .execute_stream("subscription { ticks { boom } }")
            .collect()
            .await;
        assert_eq!(events[1].data, Value::Null);
        assert_eq!(events[1].errors.len(), 1);
    }
}
