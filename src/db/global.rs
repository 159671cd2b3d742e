//! The handle on rows no tenant owns (users, sessions, workspaces), and what both handles share
//! to audit an update: with `scope.rs`, the only place allowed to call SeaORM's
//! `find`/`insert`/`update`/`delete` directly (see `clippy.toml`).
#![allow(clippy::disallowed_methods)]

use super::connect::Outbox;
use entity::GlobalEntity;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr,
    DeleteMany, EntityTrait, IntoActiveModel, Iterable, PrimaryKeyToColumn, PrimaryKeyTrait,
    QueryFilter, Select, UpdateMany,
};

/// Whether the audit frame in scope records every commit (a mutation, a command): then updates
/// read their row first, for the fields' values before.
pub(super) fn audited() -> bool {
    super::audit::current().is_some_and(|frame| frame.every_commit)
}

/// Hands a row's fields before and after an update to the transaction's audit event, under the
/// table's name in the singular (`memberships` → `membership`).
pub(super) fn record<E: EntityTrait>(outbox: &Outbox, before: &E::Model, after: &E::Model)
where
    E::Model: serde::Serialize,
{
    let table = E::default().table_name().to_owned();
    let resource = table.strip_suffix('s').unwrap_or(&table);
    if let (Ok(before), Ok(after)) = (serde_json::to_value(before), serde_json::to_value(after)) {
        outbox.change(resource, before, after);
    }
}

/// Data access to entities that no tenant owns (users, sessions, workspaces).
#[derive(Debug, Clone, Copy)]
pub struct Global<'c, C> {
    conn: &'c C,
    /// The transaction's outbox, when the handle comes from `Tx::global` (for the audit event).
    outbox: Option<&'c Outbox>,
}

impl<'c, C: ConnectionTrait> Global<'c, C> {
    pub fn new(conn: &'c C) -> Self {
        Self { conn, outbox: None }
    }

    pub(super) fn with_outbox(conn: &'c C, outbox: &'c Outbox) -> Self {
        Self {
            conn,
            outbox: Some(outbox),
        }
    }

    /// The connection, to execute the statements this handle builds.
    pub fn conn(&self) -> &'c C {
        self.conn
    }

    pub fn find<E: GlobalEntity>(&self) -> Select<E> {
        E::find()
    }

    pub async fn find_by_id<E: GlobalEntity>(
        &self,
        id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    ) -> Result<Option<E::Model>, DbErr> {
        E::find_by_id(id).one(self.conn).await
    }

    pub async fn insert<E, A>(&self, model: A) -> Result<E::Model, DbErr>
    where
        E: GlobalEntity,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
    {
        model.insert(self.conn).await
    }

    /// Updates one row; on a handle from `Tx::global` whose audit frame records every commit, its
    /// fields before and after go to the commit's audit event, as with [`Scoped::update`].
    pub async fn update<E, A>(&self, model: A) -> Result<E::Model, DbErr>
    where
        E: GlobalEntity,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A> + serde::Serialize,
    {
        let before = match (self.outbox, model.get_primary_key_value()) {
            (Some(_), Some(key)) if audited() => {
                let mut condition = Condition::all();
                for (column, value) in E::PrimaryKey::iter().zip(key) {
                    condition = condition.add(column.into_column().eq(value));
                }
                E::find().filter(condition).one(self.conn).await?
            }
            _ => None,
        };
        let updated = model.update(self.conn).await?;
        if let (Some(outbox), Some(before)) = (self.outbox, before) {
            record::<E>(outbox, &before, &updated);
        }
        Ok(updated)
    }

    pub fn update_many<E: GlobalEntity>(&self) -> UpdateMany<E> {
        E::update_many()
    }

    pub fn delete_many<E: GlobalEntity>(&self) -> DeleteMany<E> {
        E::delete_many()
    }

    /// Inserts `model` unless a row with its primary key exists; `true` when it was inserted.
    /// Concurrent inserts of one key serialize on the primary key, so exactly one of them inserts
    /// (a Stripe event id is recorded this way before it is acted on: a duplicate finds it).
    pub async fn insert_new<E, A>(&self, model: A) -> Result<bool, DbErr>
    where
        E: GlobalEntity,
        A: ActiveModelTrait<Entity = E> + Send,
    {
        use sea_orm::sea_query::OnConflict;
        let key = E::PrimaryKey::iter().map(|k| k.into_column());
        let inserted = E::insert(model)
            .on_conflict(OnConflict::columns(key).do_nothing().to_owned())
            .exec_without_returning(self.conn)
            .await?;
        Ok(inserted == 1)
    }
}
