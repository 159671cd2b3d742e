//! The DataLoaders of one request, each owned by its domain and found by its type.
//!
//! A domain declares a loader (a [`Loader`](async_graphql::dataloader::Loader) over its own key
//! type) and implements [`RequestLoader`] for it; a resolver asks the request for it with
//! [`RequestContext::loader`](crate::graphql::RequestContext::loader). Loaders are made on first use, per
//! request (never stored in schema data, where their cache would be shared across requests and
//! tenants), and cache per request; tenant-owned keys carry the workspace. Since each loader is
//! its own type with its own key type, two relations cannot collide on a key: the compiler keeps
//! them apart, where a string-keyed map would fail at run time.
//!
//! Which mechanism to use: a relation reached one object at a time (a message's author) goes
//! through a loader here; a relation of a whole list (a project's tasks) through
//! [`batch`](super::batch), which batches deterministically; objects that come by the thousand
//! (board cards) through [`flat`](super::flat).

use crate::db::Db;
use async_graphql::dataloader::{DataLoader, HashMapCache};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A domain's loader, made for one request from the database handle.
pub trait RequestLoader: Send + Sync + Sized + 'static {
    fn new(db: Db) -> Self;
}

/// A loader as a request holds it.
pub type Shared<T> = Arc<DataLoader<T, HashMapCache>>;

/// One request's loaders, made on first use.
pub struct Loaders {
    db: Db,
    /// Whether loaders keep what they loaded (not on a websocket connection).
    cache: bool,
    made: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Loaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaders")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Loaders {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: true,
            made: Mutex::default(),
        }
    }

    /// Loaders of a websocket connection: they still batch, but keep nothing between loads, since
    /// the connection lives for hours (a cache would serve an author's old name to every later
    /// event, and grow with every key it ever saw).
    pub fn for_connection(db: Db) -> Self {
        Self {
            cache: false,
            ..Self::new(db)
        }
    }

    /// The loader `T` of this request, made on first use.
    pub fn get<T: RequestLoader>(&self) -> Shared<T> {
        let made = || {
            let loader = DataLoader::with_cache(
                T::new(self.db.clone()),
                tokio::spawn,
                HashMapCache::default(),
            );
            loader.enable_all_cache(self.cache);
            Arc::new(loader)
        };
        let Ok(mut map) = self.made.lock() else {
            // A poisoned map (a panic while it was held): load without sharing.
            return made();
        };
        let entry = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| made() as Arc<dyn Any + Send + Sync>)
            .clone();
        match entry.downcast::<DataLoader<T, HashMapCache>>() {
            Ok(loader) => loader,
            // Keyed by `T`'s own TypeId: the entry is always a `DataLoader<T, _>`.
            Err(_) => made(),
        }
    }
}

/// Rows of (workspace, parent) keys: one query per workspace over its parents, grouped back by
/// parent (`parent_of`).
pub async fn per_workspace<M, Q, F>(
    keys: &[(Uuid, Uuid)],
    what: &'static str,
    query: Q,
    parent_of: fn(&M) -> Option<Uuid>,
) -> Result<HashMap<(Uuid, Uuid), Vec<M>>, Arc<anyhow::Error>>
where
    Q: Fn(Uuid, Vec<Uuid>) -> F,
    F: Future<Output = Result<Vec<M>, sea_orm::DbErr>>,
{
    let mut by_workspace: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (workspace, parent) in keys {
        by_workspace.entry(*workspace).or_default().push(*parent);
    }
    let mut found: HashMap<(Uuid, Uuid), Vec<M>> = HashMap::new();
    for (workspace, parents) in by_workspace {
        let rows = query(workspace, parents)
            .await
            .map_err(|e| Arc::new(anyhow::Error::new(e).context(what)))?;
        for row in rows {
            if let Some(parent) = parent_of(&row) {
                found.entry((workspace, parent)).or_default().push(row);
            }
        }
    }
    Ok(found)
}
