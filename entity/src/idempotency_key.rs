//! `idempotency_keys`: a mutation sent with an `Idempotency-Key`, per caller (`scope`): locked
//! while it runs, then holding its sealed response until it expires.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// `user:<id>` or `key:<id>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 (hex) of the request: a different request with the same key is refused.
    pub request_hash: String,
    /// Set while the first request runs; a lapsed lock (a crashed instance) can be taken over.
    pub locked_until: Option<DateTimeUtc>,
    /// The HTTP status of the stored response.
    pub status: Option<i16>,
    pub content_type: Option<String>,
    /// The response body, sealed (it may carry secrets, such as a new API key).
    #[sea_orm(column_type = "Text", nullable)]
    pub response: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
