//! The one door to tenant-owned tables across workspaces, greppable as `AcrossTenants`.
//!
//! Every other read or write of a tenant table goes through [`Scoped`](super::Scoped), which
//! filters on one workspace. A few operations cannot: they run before the workspace is known
//! (authenticating an API key by its public id, accepting an invitation by its code, applying a
//! verified Stripe webhook), or span workspaces by design (a user's own memberships, the payment
//! expiry job). Each opens this handle with the reason, in words, and filters on what proves the
//! access (the key's id, the code's hash, the user's own id); writes that follow go back through
//! `Scoped` on the row's own workspace wherever the row is then known.
#![allow(clippy::disallowed_methods)]

use entity::TenantEntity;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DbErr, IntoActiveModel, Select,
    UpdateMany, Value,
};

/// An unscoped handle on tenant-owned tables, opened with its reason.
#[derive(Debug, Clone, Copy)]
pub struct AcrossTenants {
    /// Why this access may not be scoped to one workspace (for readers and reviews).
    pub why: &'static str,
}

impl AcrossTenants {
    /// Opens the door, saying why.
    pub fn because(why: &'static str) -> Self {
        Self { why }
    }

    /// Rows of `E` in every workspace; the caller filters on what proves its access.
    pub fn find<E: TenantEntity>(&self) -> Select<E> {
        E::find()
    }

    /// An update of `E` in every workspace; the caller filters on what proves its access.
    pub fn update_many<E: TenantEntity>(&self) -> UpdateMany<E> {
        E::update_many()
    }

    /// Inserts a row of no workspace (its workspace column set to NULL, whatever `model` held):
    /// a platform row in a table whose other rows belong to tenants, which no `Scoped` handle
    /// ever reaches.
    pub async fn insert_unowned<E, A, C>(&self, conn: &C, mut model: A) -> Result<E::Model, DbErr>
    where
        E: TenantEntity,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
        C: ConnectionTrait,
    {
        model.set(E::workspace_column(), Value::Uuid(None));
        model.insert(conn).await
    }
}
