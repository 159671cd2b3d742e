//! The audit side of the authorization extension: every root field runs inside an audit
//! [`Frame`] (who, how, which action, the arguments with secrets redacted), so the transactions it
//! commits write their audit event before committing. A mutation that fails, and any refusal, is
//! recorded on its own, at most `AUDIT_REFUSALS_PER_MINUTE` per principal so a prober cannot
//! flood the log.

use crate::auth::Principal;
use crate::db::audit::{self, Actor, ActorType, Entry, Frame, Outcome, Source};
use crate::error::ApiError;
use crate::graphql::RequestContext;
use crate::graphql::policy::Requirement;
use async_graphql::extensions::ResolveInfo;
use async_graphql::{ServerResult, Value, Variables};
use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::time::Duration;

/// Root mutations whose name does not split into `verb` + `Resource`.
const ACTIONS: &[(&str, &str)] = &[
    ("login", "session.create"),
    ("logout", "session.end"),
    ("refreshToken", "session.refresh"),
    ("register", "account.register"),
    ("markNotificationsRead", "notification.markRead"),
    ("markAllNotificationsRead", "notification.markAllRead"),
    ("markConversationRead", "conversation.markRead"),
    (
        "setApiKeyTrustedDocumentsOnly",
        "apiKey.setTrustedDocumentsOnly",
    ),
    ("endUserSessions", "session.endForUser"),
    ("endMemberSessions", "session.endForMember"),
    ("resendVerificationEmail", "email.resendVerification"),
    ("requestPasswordReset", "password.requestReset"),
    ("requestEmailChange", "email.requestChange"),
    ("confirmEmailChange", "email.confirmChange"),
    ("uploadThroughLink", "uploadLink.upload"),
    ("completeLinkUpload", "uploadLink.completeUpload"),
    ("sendTestWebhookEvent", "webhookEndpoint.sendTest"),
    ("requestValidation", "milestone.request"),
    ("setUserStatus", "user.setStatus"),
    ("transferOwnership", "workspace.transferOwnership"),
];

/// `moveTask` → `task.move`, `payPaymentRequest` → `paymentRequest.pay`; a query field reads.
pub fn action_of(field: &str, mutation: bool) -> String {
    if !mutation {
        return format!("{field}.read");
    }
    if let Some((_, action)) = ACTIONS.iter().find(|(name, _)| *name == field) {
        return (*action).to_owned();
    }
    let split = field
        .char_indices()
        .find(|(_, c)| c.is_uppercase())
        .map_or(field.len(), |(i, _)| i);
    let (verb, rest) = field.split_at(split);
    let mut resource = rest.to_owned();
    if let Some(first) = resource.get(..1) {
        resource.replace_range(..1, &first.to_lowercase());
    }
    format!("{resource}.{verb}")
}

/// The action a denied root field stands for (`type.field.read` for any other field).
pub fn denied_action(info: &ResolveInfo<'_>) -> String {
    match info.parent_type {
        "Mutation" => action_of(info.name, true),
        "Query" | "Subscription" => action_of(info.name, false),
        parent => {
            let mut ty = parent.to_owned();
            if let Some(first) = ty.get(..1) {
                ty.replace_range(..1, &first.to_lowercase());
            }
            format!("{ty}.{}.read", info.name)
        }
    }
}

/// Who the caller is, for the log.
pub fn actor_of(rc: &RequestContext, requirement: Option<&Requirement>) -> Actor {
    let (actor_type, actor_id, source) = match &rc.principal {
        Principal::User(user) if requirement.is_some_and(|r| r.platform_admin) => {
            (ActorType::PlatformOperator, Some(user.user_id), Source::Web)
        }
        Principal::User(user) => (ActorType::User, Some(user.user_id), Source::Web),
        Principal::ApiKey(key) => (ActorType::ApiKey, Some(key.key_id), Source::ApiKey),
        _ => (ActorType::Anonymous, None, Source::Web),
    };
    Actor {
        actor_type,
        actor_id,
        impersonator_id: None,
        source: if rc.client.via_graphiql {
            Source::Graphiql
        } else if rc.over_websocket() {
            Source::Websocket
        } else {
            source
        },
        request_id: rc.client.request_id.clone(),
        operation_name: rc.operation_name(),
        ip: rc.client.ip.clone(),
        user_agent: rc.client.user_agent.clone(),
    }
}

/// The field's arguments with variables substituted and secrets redacted.
pub fn arguments(info: &ResolveInfo<'_>, variables: Option<&Variables>) -> Json {
    let mut args = serde_json::Map::new();
    for (name, value) in &info.field.arguments {
        let value = value
            .node
            .clone()
            .into_const_with(|var| variables.and_then(|vars| vars.get(&var).cloned()).ok_or(()))
            .unwrap_or(Value::Null);
        let json = value.into_json().unwrap_or(Json::Null);
        args.insert(
            name.node.to_string(),
            audit::redact(name.node.as_str(), json),
        );
    }
    Json::Object(args)
}

/// Runs a root field inside its frame, then records what no commit recorded: a mutation that
/// changed nothing, a failure, or a refusal made by the resolver itself.
pub async fn around(
    rc: &Arc<RequestContext>,
    frame: Frame,
    mutation: bool,
    work: impl Future<Output = ServerResult<Option<Value>>>,
) -> ServerResult<Option<Value>> {
    let frame = Arc::new(frame.in_workspace(rc.selected_workspace()));
    let result = audit::within(frame.clone(), work).await;
    let code = result.as_ref().err().and_then(|err| {
        err.extensions
            .as_ref()
            .and_then(|ext| ext.get("code"))
            .and_then(|code| match code {
                Value::String(code) => Some(code.clone()),
                _ => None,
            })
    });
    let outcome = match code.as_deref() {
        None if result.is_ok() => Outcome::Success,
        Some("UNAUTHENTICATED" | "FORBIDDEN" | "RATE_LIMITED") => Outcome::Denied,
        _ => Outcome::Failed,
    };
    let record = match outcome {
        Outcome::Success => mutation && !frame.committed(),
        Outcome::Denied => true,
        Outcome::Failed => mutation,
    };
    if record {
        let mut metadata = json!({ "args": frame.args });
        if outcome == Outcome::Success {
            metadata["committed"] = json!(false);
        }
        let entry = Entry {
            workspace_id: rc.selected_workspace().or(frame.workspace_id),
            actor: frame.actor.clone(),
            action: frame.action.clone(),
            resource: audit::resource_from_args(&frame.action, &frame.args),
            outcome,
            error_code: code.or_else(|| (outcome == Outcome::Failed).then(|| "INTERNAL".into())),
            metadata,
        };
        record_alone(rc, entry, outcome != Outcome::Success).await;
    }
    result
}

/// Records a refusal made before any resolver ran (a field's rule, an operation's cost).
pub async fn refusal(rc: &RequestContext, action: String, err: &ApiError) {
    let actor = actor_of(rc, None);
    let entry = Entry {
        workspace_id: rc.selected_workspace(),
        actor,
        action,
        resource: None,
        outcome: Outcome::Denied,
        error_code: Some(err.code().as_str().to_owned()),
        metadata: json!({ "reason": err.message() }),
    };
    record_alone(rc, entry, true).await;
}

/// Appends `entry` in a transaction of its own, in the background (a refusal never waits on
/// the log), and only within the principal's refusal budget when `capped`.
async fn record_alone(rc: &RequestContext, entry: Entry, capped: bool) {
    if capped {
        let who = match (entry.actor.actor_id, &entry.actor.ip) {
            (Some(id), _) => id.to_string(),
            (None, Some(ip)) => ip.clone(),
            (None, None) => "anonymous".to_owned(),
        };
        let key = format!("audit:refusals:{who}");
        let count = rc
            .app
            .cache
            .incr(&key, Duration::from_secs(60))
            .await
            .map_or(1, |(n, _)| n);
        let cap = rc.app.config.observability.audit_refusals_per_minute;
        if count > cap {
            if count == cap + 1 {
                tracing::warn!(
                    principal = who,
                    "audit: refusals beyond the cap are not recorded this minute"
                );
            }
            return;
        }
    }
    audit::append_detached(&rc.app.db, entry);
}

impl RequestContext {
    /// Logs a denied field with who, what and from where (counted by the metrics work to come).
    pub fn record_denial(&self, info: &ResolveInfo<'_>, err: &ApiError) {
        self.log_denial(
            err,
            &format!("{}.{}", info.parent_type, info.name),
            &info.path_node.to_string(),
        );
    }

    /// Counts and logs a denial of `field` at `path` (an operation-level refusal passes its own).
    pub fn log_denial(&self, err: &ApiError, field: &str, path: &str) {
        self.app.denials.count(err.code());
        let labels = crate::telemetry::metrics::DenialLabels {
            field: field.to_owned(),
            code: err.code().as_str().to_owned(),
        };
        self.app.metrics.denials.get_or_create(&labels).inc();
        let principal = match &self.principal {
            Principal::User(u) => u.user_id.to_string(),
            Principal::ApiKey(k) => format!("apikey:{}", k.key_id),
            Principal::Anonymous => "anonymous".to_owned(),
            Principal::Rejected(_) => "rejected".to_owned(),
            Principal::Unverified => "unverified".to_owned(),
        };
        let operation = self.operation_name();
        tracing::info!(
            target: "portico::denied",
            code = err.code().as_str(),
            principal,
            operation = operation.as_deref().unwrap_or("-"),
            field,
            path,
            ip = self.client.ip.as_deref().unwrap_or("-"),
            request_id = self.client.request_id.as_deref().unwrap_or("-"),
            reason = %err.message(),
            "access denied"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_become_actions() {
        assert_eq!(action_of("moveTask", true), "task.move");
        assert_eq!(action_of("payPaymentRequest", true), "paymentRequest.pay");
        assert_eq!(action_of("login", true), "session.create");
        assert_eq!(action_of("project", false), "project.read");
    }

    #[test]
    fn secrets_are_redacted_and_ids_kept() {
        let args = json!({"currentPassword": "hunter2", "input": {"token": "t", "apiKeyId": "k", "name": "n"}, "code": "123456"});
        let out = audit::redact("", args);
        assert_eq!(
            out,
            json!({"currentPassword": "[redacted]", "input": {"token": "[redacted]", "apiKeyId": "k", "name": "n"}, "code": "[redacted]"})
        );
    }
}
