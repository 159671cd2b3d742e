//! GraphQL types of the audit log, built from stored rows.

use crate::db::audit_read::{Filter, Verdict};
use crate::error::{ApiError, ApiResult};
use crate::graphql::directives::requires;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::{Enum, ID, InputObject, Json, SimpleObject};
use chrono::{DateTime, Utc};
use entity::audit_event;

/// How a recorded action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AuditResult {
    /// It was done.
    Success,
    /// It was refused: UNAUTHENTICATED, FORBIDDEN or RATE_LIMITED.
    Denied,
    /// It failed with another error (NOT_FOUND, BAD_USER_INPUT, CONFLICT, …).
    Failed,
}

impl AuditResult {
    fn parse(stored: &str) -> Self {
        match stored {
            "SUCCESS" => Self::Success,
            "DENIED" => Self::Denied,
            _ => Self::Failed,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Denied => "DENIED",
            Self::Failed => "FAILED",
        }
    }
}

/// One recorded action: a link of its workspace's (or the platform's) hash chain.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditEvent {
    /// Event ID (time-ordered).
    pub id: ID,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// Its position in the chain; null for a second or so, until the sealer links it.
    pub seq: Option<i64>,
    /// The workspace; null for account and platform events.
    pub workspace_id: Option<ID>,
    /// `USER`, `API_KEY`, `PLATFORM_OPERATOR`, `SYSTEM`, `WEBHOOK` or `ANONYMOUS`.
    pub actor_type: String,
    /// The user, API key or operator who acted.
    pub actor_id: Option<ID>,
    /// Who acted on the actor's behalf, when someone did.
    pub impersonator_id: Option<ID>,
    /// `WEB`, `API_KEY`, `GRAPHIQL`, `WEBSOCKET`, `CLI`, `JOB` or `WEBHOOK`.
    pub source: String,
    /// `resource.verb`, such as `task.move`.
    pub action: String,
    /// The kind of resource acted on.
    pub resource_type: Option<String>,
    /// The resource's ID.
    pub resource_id: Option<String>,
    /// How it ended.
    pub result: AuditResult,
    /// The error's `extensions.code` when it did not succeed.
    pub error_code: Option<String>,
    /// The HTTP request's ID (`X-Request-Id`).
    pub request_id: Option<String>,
    /// The GraphQL operation's name.
    pub operation_name: Option<String>,
    /// The client's address.
    pub ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// Arguments (secrets redacted), fields changed before and after, events emitted. Staff
    /// only: it may hold values of staff-only fields.
    #[graphql(directive = requires::apply(Permission::NotePrivate))]
    pub metadata: Option<Json<serde_json::Value>>,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(e: audit_event::Model) -> Self {
        let id = |u: uuid::Uuid| ID(u.to_string());
        Self {
            id: id(e.id),
            at: e.at,
            seq: e.seq,
            workspace_id: e.workspace_id.map(id),
            actor_type: e.actor_type,
            actor_id: e.actor_id.map(id),
            impersonator_id: e.impersonator_id.map(id),
            source: e.source,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            result: AuditResult::parse(&e.result),
            error_code: e.error_code,
            request_id: e.request_id,
            operation_name: e.operation_name,
            ip: e.ip,
            user_agent: e.user_agent,
            metadata: Some(Json(
                serde_json::from_str(&e.metadata).unwrap_or(serde_json::Value::Null),
            )),
        }
    }
}

/// Which events to list; every field given must match.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AuditEventFilter {
    /// The user, API key or operator who acted.
    pub actor_id: Option<ID>,
    /// An action (`task.move`), or every action on a resource when it ends with a dot (`task.`).
    pub action: Option<String>,
    /// The kind of resource acted on (`task`).
    pub resource_type: Option<String>,
    /// The resource's ID.
    pub resource_id: Option<ID>,
    /// How it ended.
    pub result: Option<AuditResult>,
    /// From this instant (included).
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (excluded).
    pub to: Option<DateTime<Utc>>,
}

impl AuditEventFilter {
    /// The storage filter; a malformed actor ID is BAD_USER_INPUT.
    pub fn parse(self) -> ApiResult<Filter> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(ApiError::bad_field("to", "`to` comes before `from`"));
        }
        Ok(Filter {
            actor_id: self
                .actor_id
                .as_ref()
                .map(|id| parse_id("actorId", id))
                .transpose()?,
            action: self.action,
            resource_type: self.resource_type,
            resource_id: self.resource_id.map(|id| id.0),
            result: self.result.map(|r| r.as_str().to_owned()),
            from: self.from,
            to: self.to,
        })
    }
}

/// Whether a chain holds, link by link.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditChainStatus {
    /// `ws:<workspace id>` or `platform`.
    pub chain: String,
    /// Links checked.
    pub links: u64,
    /// True when every link holds.
    pub intact: bool,
    /// The first broken link's position.
    pub broken_at: Option<i64>,
    /// Why it does not hold.
    pub reason: Option<String>,
}

impl From<Verdict> for AuditChainStatus {
    fn from(v: Verdict) -> Self {
        Self {
            chain: v.chain,
            links: v.links,
            intact: v.broken.is_none(),
            broken_at: v.broken.as_ref().map(|b| b.seq),
            reason: v.broken.map(|b| b.reason),
        }
    }
}

/// The file format of an audit export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AuditExportFormat {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Where an audit export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AuditExportStatus {
    /// Waiting for the export job.
    Queued,
    /// Being written.
    Running,
    /// Written: `url` downloads it.
    Ready,
    /// It could not be written.
    Failed,
}

/// A request for the workspace's audit events as a file.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditExport {
    /// Export ID.
    pub id: ID,
    /// The file's format.
    pub format: AuditExportFormat,
    /// Where it stands.
    pub status: AuditExportStatus,
    /// Events in the file, once written (at most 100,000, newest first).
    pub row_count: Option<i64>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it was written or failed.
    pub finished_at: Option<DateTime<Utc>>,
    /// Downloads the file for five minutes; null until it is ready.
    pub url: Option<String>,
}

impl AuditExport {
    /// The export, with its link when it is ready.
    pub fn new(e: entity::audit_export::Model, url: Option<String>) -> Self {
        let status = match e.status.as_str() {
            "QUEUED" => AuditExportStatus::Queued,
            "RUNNING" => AuditExportStatus::Running,
            "READY" => AuditExportStatus::Ready,
            _ => AuditExportStatus::Failed,
        };
        Self {
            id: ID(e.id.to_string()),
            format: if e.format == "CSV" {
                AuditExportFormat::Csv
            } else {
                AuditExportFormat::Jsonl
            },
            status,
            row_count: e.row_count,
            created_at: e.created_at,
            finished_at: e.finished_at,
            url,
        }
    }
}

impl From<AuditExportFormat> for super::export::Format {
    fn from(format: AuditExportFormat) -> Self {
        match format {
            AuditExportFormat::Csv => Self::Csv,
            AuditExportFormat::Jsonl => Self::Jsonl,
        }
    }
}
