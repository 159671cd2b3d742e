//! SeaORM entities of Portico: table shapes only. No GraphQL derives live here; the API layer maps
//! these `Model`s into its own types, and tenant-owned entities are reached through `portico::db::Scoped`.

pub mod account_email;
pub mod account_token;
pub mod activity;
pub mod api_key;
pub mod audit_event;
pub mod audit_export;
pub mod conversation_read;
pub mod email_delivery;
pub mod file;
pub mod file_setting;
pub mod file_upload;
pub mod file_version;
pub mod folder;
pub mod idempotency_key;
pub mod invitation;
pub mod job_lease;
pub mod job_run;
pub mod membership;
pub mod message;
pub mod mfa_recovery_code;
pub mod milestone;
pub mod notification;
pub mod notification_preference;
pub mod outbox_event;
pub mod payment_request;
pub mod private_note;
pub mod project;
pub mod project_member;
pub mod project_phase;
pub mod refresh_token;
pub mod role;
pub mod role_permission;
pub mod session;
pub mod stripe_event;
pub mod task;
pub mod task_label;
pub mod ticket;
pub mod ticket_comment;
pub mod trusted_document;
pub mod upload_link;
pub mod user;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod workspace;

/// Implemented by every tenant-owned entity: names its `workspace_id` column so the scoped data
/// layer can filter and stamp it.
pub trait TenantEntity: sea_orm::EntityTrait {
    /// The `workspace_id` column of this entity.
    fn workspace_column() -> Self::Column;
}

/// Implemented by entities that are not owned by a tenant (users, sessions, workspaces themselves).
pub trait GlobalEntity: sea_orm::EntityTrait {}

macro_rules! tenant_entity {
    ($($module:ident),* $(,)?) => {$(
        impl TenantEntity for $module::Entity {
            fn workspace_column() -> Self::Column {
                $module::Column::WorkspaceId
            }
        }
    )*};
}

tenant_entity!(
    invitation,
    membership,
    role,
    role_permission,
    project,
    project_phase,
    project_member,
    task,
    task_label,
    ticket,
    ticket_comment,
    activity,
    private_note,
    milestone,
    message,
    conversation_read,
    api_key,
    payment_request,
    trusted_document,
    folder,
    file,
    file_version,
    file_upload,
    file_setting,
    upload_link,
    notification,
    email_delivery,
    notification_preference,
    webhook_endpoint,
    webhook_delivery,
    audit_export,
);

impl GlobalEntity for user::Entity {}
impl GlobalEntity for account_token::Entity {}
impl GlobalEntity for account_email::Entity {}
impl GlobalEntity for session::Entity {}
impl GlobalEntity for refresh_token::Entity {}
impl GlobalEntity for workspace::Entity {}
impl GlobalEntity for stripe_event::Entity {}
impl GlobalEntity for mfa_recovery_code::Entity {}
impl GlobalEntity for outbox_event::Entity {}
impl GlobalEntity for job_run::Entity {}
impl GlobalEntity for job_lease::Entity {}
impl GlobalEntity for idempotency_key::Entity {}
