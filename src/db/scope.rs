//! The tenant-scoped handle. With `global.rs` beside it, the only place allowed to call SeaORM's
//! `find`/`insert`/`update`/`delete` directly (see `clippy.toml`).
#![allow(clippy::disallowed_methods)]

use super::connect::Outbox;
use super::global::{audited, record};
use entity::TenantEntity;
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Order, Query, SelectStatement, SimpleExpr, WindowStatement,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr,
    DeleteMany, IntoActiveModel, Iterable, PrimaryKeyToColumn, PrimaryKeyTrait, QueryFilter,
    Select, UpdateMany, Value,
};
use uuid::Uuid;

/// Data access within one workspace. Every select, update and delete it builds filters on
/// `workspace_id`; every insert it makes stamps it.
#[derive(Debug, Clone, Copy)]
pub struct Scoped<'c, C> {
    conn: &'c C,
    workspace_id: Uuid,
    /// The transaction's outbox, when the handle comes from [`Tx::scoped`](super::Tx::scoped).
    outbox: Option<&'c Outbox>,
}

impl<'c, C: ConnectionTrait> Scoped<'c, C> {
    /// A handle on `conn` limited to `workspace_id`.
    pub fn new(conn: &'c C, workspace_id: Uuid) -> Self {
        Self {
            conn,
            workspace_id,
            outbox: None,
        }
    }

    pub(super) fn with_outbox(conn: &'c C, workspace_id: Uuid, outbox: &'c Outbox) -> Self {
        Self {
            conn,
            workspace_id,
            outbox: Some(outbox),
        }
    }

    /// Emits an event of this workspace: it is written to the outbox when the transaction
    /// commits, and dropped with it on rollback. A handle that is not on a transaction from
    /// [`Db::begin`](super::Db::begin) cannot emit: that is a bug, logged as an error.
    pub fn emit(&self, event: crate::events::DomainEvent) {
        match self.outbox {
            Some(outbox) => outbox.push(crate::events::Envelope::new(self.workspace_id, event)),
            None => tracing::error!(
                kind = event.kind(),
                "event emitted outside a transaction: dropped"
            ),
        }
    }

    /// Records `resource`'s fields before and after this transaction's change: the audit event
    /// of the commit lists those that differ. Only on a handle from `Tx::scoped`.
    pub fn record_change(
        &self,
        resource: &str,
        before: &impl serde::Serialize,
        after: &impl serde::Serialize,
    ) {
        if let (Some(outbox), Ok(before), Ok(after)) = (
            self.outbox,
            serde_json::to_value(before),
            serde_json::to_value(after),
        ) {
            outbox.change(resource, before, after);
        }
    }

    /// The workspace this handle is limited to.
    pub fn workspace_id(&self) -> Uuid {
        self.workspace_id
    }

    /// The connection, to execute the statements this handle builds.
    pub fn conn(&self) -> &'c C {
        self.conn
    }

    /// `SELECT … WHERE workspace_id = ?`.
    pub fn find<E: TenantEntity>(&self) -> Select<E> {
        E::find().filter(E::workspace_column().eq(self.workspace_id))
    }

    /// One row by primary key, if it exists in this workspace.
    pub async fn find_by_id<E>(
        &self,
        id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    ) -> Result<Option<E::Model>, DbErr>
    where
        E: TenantEntity,
    {
        E::find_by_id(id)
            .filter(E::workspace_column().eq(self.workspace_id))
            .one(self.conn)
            .await
    }

    /// Inserts `model` with its `workspace_id` set to this workspace.
    pub async fn insert<E, A>(&self, mut model: A) -> Result<E::Model, DbErr>
    where
        E: TenantEntity,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
    {
        model.set(E::workspace_column(), Value::from(self.workspace_id));
        let inserted = model.insert(self.conn).await?;
        if let (Some(outbox), Some(key)) = (self.outbox, E::PrimaryKey::iter().next()) {
            outbox.created(value_text(&sea_orm::ModelTrait::get(
                &inserted,
                key.into_column(),
            )));
        }
        Ok(inserted)
    }

    /// Inserts several rows, each stamped with this workspace.
    pub async fn insert_many<E, A>(&self, models: Vec<A>) -> Result<(), DbErr>
    where
        E: TenantEntity,
        A: ActiveModelTrait<Entity = E> + Send,
    {
        if models.is_empty() {
            return Ok(());
        }
        let stamped = models.into_iter().map(|mut model| {
            model.set(E::workspace_column(), Value::from(self.workspace_id));
            model
        });
        E::insert_many(stamped)
            .exec_without_returning(self.conn)
            .await?;
        Ok(())
    }

    /// Inserts `model`, stamped with this workspace, unless a row already holds its values of the
    /// unique `key` columns; `true` when it was inserted. Concurrent inserts of one key serialize
    /// on the unique index, so exactly one inserts (a redelivered event queues nothing twice).
    pub async fn insert_new<E, A>(
        &self,
        mut model: A,
        key: impl IntoIterator<Item = E::Column>,
    ) -> Result<bool, DbErr>
    where
        E: TenantEntity,
        A: ActiveModelTrait<Entity = E> + Send,
    {
        use sea_orm::sea_query::OnConflict;
        model.set(E::workspace_column(), Value::from(self.workspace_id));
        let inserted = E::insert(model)
            .on_conflict(OnConflict::columns(key).do_nothing().to_owned())
            .exec_without_returning(self.conn)
            .await?;
        Ok(inserted == 1)
    }

    /// Updates a row already loaded through this handle; the update is filtered on the workspace.
    ///
    /// In a transaction whose audit frame records every commit (a mutation, a command), the row
    /// is read first and its fields before and after go to the commit's audit event
    /// ([`record_change`](Self::record_change), named after the table).
    pub async fn update<E, A>(&self, mut model: A) -> Result<E::Model, DbErr>
    where
        E: TenantEntity,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A> + serde::Serialize,
    {
        let key = model
            .get_primary_key_value()
            .ok_or_else(|| DbErr::Custom("update without a primary key".to_owned()))?;
        let mut condition = Condition::all().add(E::workspace_column().eq(self.workspace_id));
        for (column, value) in E::PrimaryKey::iter().zip(key) {
            condition = condition.add(column.into_column().eq(value));
        }
        let before = if self.outbox.is_some() && audited() {
            E::find().filter(condition.clone()).one(self.conn).await?
        } else {
            None
        };
        // The workspace is never changed by an update, and the filter makes a row of another
        // workspace match nothing.
        model.not_set(E::workspace_column());
        let updated = E::update_many()
            .set(model)
            .filter(condition)
            .exec_with_returning(self.conn)
            .await?
            .into_iter()
            .next()
            .ok_or(DbErr::RecordNotUpdated)?;
        if let (Some(outbox), Some(before)) = (self.outbox, before) {
            record::<E>(outbox, &before, &updated);
        }
        Ok(updated)
    }

    /// `SELECT column FROM <E> WHERE workspace_id = ? AND filter`, to use as a subquery
    /// (`id IN (…)`).
    pub fn select_column<E: TenantEntity>(
        &self,
        column: E::Column,
        filter: Condition,
    ) -> SelectStatement {
        Query::select()
            .column(column)
            .from(E::default())
            .cond_where(
                Condition::all()
                    .add(E::workspace_column().eq(self.workspace_id))
                    .add(filter),
            )
            .to_owned()
    }

    /// Up to `limit` rows per parent (`parent_column` in `parents`), ordered by `order`, matching
    /// `filter`, in one statement: a `ROW_NUMBER() OVER (PARTITION BY parent …)` window over the
    /// workspace's rows. This is how a DataLoader serves `tasks(first: 50)` for 20 projects.
    /// Rows come back by parent, then in `order`, whose expressions must name columns unqualified
    /// (the outer query orders by them again).
    pub async fn top_n_per_parent<E>(
        &self,
        parent_column: E::Column,
        parents: &[Uuid],
        order: Vec<(SimpleExpr, Order)>,
        filter: Condition,
        limit: u64,
    ) -> Result<Vec<E::Model>, DbErr>
    where
        E: TenantEntity,
    {
        if parents.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut window = WindowStatement::partition_by(parent_column);
        for (expr, direction) in &order {
            window.order_by_expr(expr.clone(), direction.clone());
        }
        let inner = Query::select()
            .column(Asterisk)
            .expr_window_as(
                Expr::cust("ROW_NUMBER()"),
                window,
                Alias::new("portico_rank"),
            )
            .from(E::default())
            .cond_where(
                Condition::all()
                    .add(E::workspace_column().eq(self.workspace_id))
                    .add(parent_column.is_in(parents.iter().copied()))
                    .add(filter),
            )
            .to_owned();
        let outer = Query::select()
            .column(Asterisk)
            .from_subquery(inner, Alias::new("ranked"))
            .and_where(Expr::col(Alias::new("portico_rank")).lte(limit))
            .to_owned();
        // The window's own order (parent, then `order`): the rows leave the window sorted this
        // way, so the database does not sort them again.
        let mut outer = outer;
        outer.order_by(parent_column, Order::Asc);
        for (expr, direction) in order {
            outer.order_by_expr(expr, direction);
        }
        let backend = self.conn.get_database_backend();
        E::find()
            .from_raw_sql(backend.build(&outer))
            .all(self.conn)
            .await
    }

    /// `UPDATE … WHERE workspace_id = ?`; add filters before executing.
    pub fn update_many<E: TenantEntity>(&self) -> UpdateMany<E> {
        E::update_many().filter(E::workspace_column().eq(self.workspace_id))
    }

    /// `DELETE … WHERE workspace_id = ?`; add filters before executing.
    pub fn delete_many<E: TenantEntity>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::workspace_column().eq(self.workspace_id))
    }
}

/// A key value as text (a UUID without quotes), for the audit log.
fn value_text(value: &Value) -> String {
    match value {
        Value::Uuid(Some(id)) => id.to_string(),
        Value::String(Some(text)) => text.clone(),
        other => other.to_string(),
    }
}
