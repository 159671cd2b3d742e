//! Who is acting and how, for the audit log: the actor, the source, the outcome, and the
//! [`Frame`] in scope (a task-local) while a root field, a job run or a webhook runs, which
//! `Tx::commit` reads to write the event of a change.

use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorType {
    User,
    ApiKey,
    PlatformOperator,
    System,
    Webhook,
    Anonymous,
}

/// Through which door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Web,
    ApiKey,
    Graphiql,
    Websocket,
    Cli,
    Job,
    Webhook,
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Refused: UNAUTHENTICATED, FORBIDDEN or RATE_LIMITED.
    Denied,
    /// Any other error.
    Failed,
}

macro_rules! screaming {
    ($ty:ty { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            /// The stored value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
        }
    };
}
screaming!(ActorType { User => "USER", ApiKey => "API_KEY", PlatformOperator => "PLATFORM_OPERATOR",
    System => "SYSTEM", Webhook => "WEBHOOK", Anonymous => "ANONYMOUS" });
screaming!(Source { Web => "WEB", ApiKey => "API_KEY", Graphiql => "GRAPHIQL",
    Websocket => "WEBSOCKET", Cli => "CLI", Job => "JOB", Webhook => "WEBHOOK" });
screaming!(Outcome { Success => "SUCCESS", Denied => "DENIED", Failed => "FAILED" });

/// Who is acting, how, and on what: everything an event states besides its result.
#[derive(Debug, Clone)]
pub struct Actor {
    pub actor_type: ActorType,
    pub actor_id: Option<Uuid>,
    pub impersonator_id: Option<Uuid>,
    pub source: Source,
    pub request_id: Option<String>,
    pub operation_name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    /// A background job (or the CLI) acting on its own.
    pub fn system(source: Source) -> Self {
        Self {
            actor_type: ActorType::System,
            actor_id: None,
            impersonator_id: None,
            source,
            request_id: None,
            operation_name: None,
            ip: None,
            user_agent: None,
        }
    }
}

/// The action in progress, in scope (a task-local) while it runs.
#[derive(Debug)]
pub struct Frame {
    pub actor: Actor,
    /// `resource.verb`.
    pub action: String,
    /// A mutation records every commit; a read, a job or a webhook records only commits that
    /// emitted domain events (a download URL minted, a payment settled).
    pub every_commit: bool,
    /// The caller's workspace, when it was selected: the chain of a commit that names none.
    pub workspace_id: Option<Uuid>,
    /// The arguments, secrets already redacted.
    pub args: Value,
    committed: AtomicBool,
}

impl Frame {
    pub fn new(actor: Actor, action: String, every_commit: bool, args: Value) -> Self {
        Self {
            actor,
            action,
            every_commit,
            workspace_id: None,
            args,
            committed: AtomicBool::new(false),
        }
    }

    /// Names the caller's workspace.
    pub fn in_workspace(mut self, workspace_id: Option<Uuid>) -> Self {
        self.workspace_id = workspace_id;
        self
    }

    /// Notes that a commit under this frame wrote its event.
    pub(super) fn mark_committed(&self) {
        self.committed.store(true, Ordering::Relaxed);
    }

    /// Whether a commit under this frame wrote its event.
    pub fn committed(&self) -> bool {
        self.committed.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static FRAME: Arc<Frame>;
}

/// Runs `work` with `frame` in scope.
pub async fn within<F: Future>(frame: Arc<Frame>, work: F) -> F::Output {
    FRAME.scope(frame, work).await
}

/// The frame in scope, if any.
pub fn current() -> Option<Arc<Frame>> {
    FRAME.try_with(Arc::clone).ok()
}
