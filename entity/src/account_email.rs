//! `account_emails`: the queue of emails about an account (invitations, password resets, address
//! checks), written in the transaction that creates their token. The token travels sealed and is
//! erased once the email is sent or given up.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "account_emails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `INVITATION`, `PASSWORD_RESET`, `VERIFY_EMAIL`, `CONFIRM_EMAIL_CHANGE`, `EMAIL_CHANGED`.
    pub kind: String,
    pub to_address: String,
    pub user_id: Option<Uuid>,
    /// The inviting workspace, for invitations.
    pub workspace_id: Option<Uuid>,
    /// `en` or `fr`.
    pub locale: String,
    /// The names the email shows, as JSON (workspace, inviter, role, recipient).
    pub vars: String,
    /// The token or code, sealed; `None` once sent.
    pub sealed: Option<String>,
    /// `QUEUED`, `RETRYING`, `SENT` or `DEAD`.
    pub status: String,
    pub attempts: i32,
    pub available_at: DateTimeUtc,
    pub claimed_until: Option<DateTimeUtc>,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
