//! Deterministic batching of list relations. Objects resolved from one list share a [`Batch`]:
//! the first of them to ask for a relation (their tasks, their assignees, …) loads it for all of
//! them in one statement, and the others await that same result.
//!
//! A time-window DataLoader (async-graphql's waits 1 ms on another worker thread) splits a batch
//! whenever resolving the siblings takes longer than the window, and it does not share in-flight
//! keys. Then the statement count depends on load. A `Batch` does not: one relation level is one
//! statement. It lives in the objects of one request only, so nothing is shared across requests
//! or tenants.

use crate::error::{ApiError, ApiResult};
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use tracing::Instrument;
use uuid::Uuid;

type Slot = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

/// The siblings of one list (their IDs, in one workspace) and the relations loaded for them.
#[derive(Default)]
pub struct Batch {
    /// The workspace every sibling belongs to.
    pub workspace_id: Uuid,
    /// The siblings' IDs.
    pub ids: Vec<Uuid>,
    memo: Mutex<HashMap<String, Slot>>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("workspace_id", &self.workspace_id)
            .field("ids", &self.ids.len())
            .finish_non_exhaustive()
    }
}

impl Batch {
    /// A batch of `ids` in `workspace_id`.
    pub fn new(workspace_id: Uuid, ids: Vec<Uuid>) -> Arc<Self> {
        Arc::new(Self {
            workspace_id,
            ids,
            memo: Mutex::new(HashMap::new()),
        })
    }

    /// The relation `key` for every sibling, loaded once by `load`.
    pub async fn load<T, F, Fut>(&self, key: String, load: F) -> ApiResult<Arc<T>>
    where
        T: Any + Send + Sync,
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let span = tracing::debug_span!(
            target: "portico::graphql",
            "load",
            otel.name = %format_args!("load {key}"),
            batch.size = self.ids.len(),
        );
        let slot = {
            let mut memo = self
                .memo
                .lock()
                .map_err(|_| ApiError::internal(anyhow::anyhow!("batch lock poisoned")))?;
            memo.entry(key).or_default().clone()
        };
        let value = slot
            .get_or_try_init(|| async {
                load()
                    .instrument(span)
                    .await
                    .map(|v| Arc::new(v) as Arc<dyn Any + Send + Sync>)
            })
            .await?
            .clone();
        value.downcast::<T>().map_err(|_| {
            ApiError::internal(anyhow::anyhow!("batch relation loaded with another type"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn siblings_share_one_load() {
        let batch = Batch::new(Uuid::now_v7(), vec![Uuid::now_v7(), Uuid::now_v7()]);
        let calls = AtomicUsize::new(0);
        let load = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok::<_, ApiError>(vec![1, 2, 3])
        };
        let (a, b) = tokio::join!(batch.load("x".into(), load), batch.load("x".into(), load));
        assert_eq!(*a.unwrap(), vec![1, 2, 3]);
        assert_eq!(*b.unwrap(), vec![1, 2, 3]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another relation is another load.
        batch.load("y".into(), load).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
