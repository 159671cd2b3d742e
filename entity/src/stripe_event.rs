//! `stripe_events`: every Stripe event id already handled, stored before acting on it, so a
//! duplicate or replayed delivery is a no-op.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "stripe_events")]
pub struct Model {
    /// Stripe's `evt_…` id (or `local_evt_…` from the embedded test checkout).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub event_type: String,
    /// The Stripe object it is about (checkout session, payment intent).
    pub object_ref: Option<String>,
    /// What handling it did: `applied`, `ignored`, `unmatched`, `stale`, `mismatch`.
    pub outcome: String,
    /// JSON facts kept to apply the event later (a refund that arrived before its payment).
    pub detail: Option<String>,
    pub payment_request_id: Option<Uuid>,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
