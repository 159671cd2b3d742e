//! Who is calling: resolved once per request (or per websocket connection) from the bearer token.
//! Every request re-checks the session and the user's status, so a revoked session or a disabled
//! user stops working on the next request, on every instance.
//!
//! The check reads a short-lived entry of the shared cache (Redis in production), filled from one
//! indexed query. Every change to a session or a user's status marks the entry *stale* after its
//! transaction commits: a stale mark sends readers to the database and cannot be overwritten by a
//! reader that raced the change (readers only fill with `set_if_absent`), so no instance keeps
//! serving a revoked session from cache.

use super::JwtKeys;
use crate::cache::Cache;
use crate::db::{Db, Global};
use crate::pubsub::EventBus;
use chrono::Utc;
use entity::user::UserStatus;
use entity::{session, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How often `sessions.last_used_at` is refreshed at most.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

/// How long a live session is served from cache (also bounds how often `last_used_at` is
/// checked, so it is accurate to about a minute and a half).
const SESSION_CACHE_TTL: Duration = Duration::from_secs(30);

/// How long a stale mark lasts: longer than any entry a racing reader could have read before it.
const STALE_MARK_TTL: Duration = Duration::from_secs(90);

/// The cached value that sends readers to the database.
const STALE: &str = "stale";

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub status: UserStatus,
    pub is_platform_admin: bool,
}

impl UserPrincipal {
    /// INVITED and PENDING users may read but not change anything.
    pub fn may_mutate(&self) -> bool {
        self.status == UserStatus::Active
    }
}

/// A partner API key: exactly its scopes, in exactly one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyPrincipal {
    pub key_id: Uuid,
    pub workspace_id: Uuid,
    /// The member who created it; the key never exceeds their current permissions.
    pub created_by: Uuid,
    pub scopes: crate::types::permission::PermissionSet,
    /// Only these projects, when restricted.
    pub projects: Option<Arc<[Uuid]>>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// Runs only its registered trusted documents.
    pub trusted_documents_only: bool,
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials were sent.
    Anonymous,
    /// A valid access token of a live session.
    User(UserPrincipal),
    /// A valid API key.
    ApiKey(ApiKeyPrincipal),
    /// Credentials were sent but are not valid; the reason is safe to show.
    Rejected(&'static str),
    /// Credentials were sent but could not be checked: the database is unavailable. Never an
    /// answer that signs the caller out (it becomes UNAVAILABLE, not UNAUTHENTICATED).
    Unverified,
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    db: Db,
    keys: JwtKeys,
    cache: Arc<dyn Cache>,
    bus: Arc<dyn EventBus>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

/// What the cache keeps about a live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LiveSession {
    user_id: Uuid,
    status: UserStatus,
    is_platform_admin: bool,
    expires_at: i64,
}

impl LiveSession {
    fn encode(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.user_id,
            status_code(self.status),
            u8::from(self.is_platform_admin),
            self.expires_at,
        )
    }

    fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.split('|');
        let user_id = parts.next()?.parse().ok()?;
        let status = status_of(parts.next()?)?;
        let is_platform_admin = parts.next()? == "1";
        let expires_at = parts.next()?.parse().ok()?;
        Some(Self {
            user_id,
            status,
            is_platform_admin,
            expires_at,
        })
    }
}

fn status_code(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Active => "A",
        UserStatus::Disabled => "D",
        UserStatus::Invited => "I",
        UserStatus::Pending => "P",
    }
}

fn status_of(code: &str) -> Option<UserStatus> {
    Some(match code {
        "A" => UserStatus::Active,
        "D" => UserStatus::Disabled,
        "I" => UserStatus::Invited,
        "P" => UserStatus::Pending,
        _ => return None,
    })
}

fn session_key(session_id: Uuid) -> String {
    format!("auth:session:{session_id}")
}

impl Authenticator {
    pub fn new(db: Db, keys: JwtKeys, cache: Arc<dyn Cache>, bus: Arc<dyn EventBus>) -> Self {
        Self {
            db,
            keys,
            cache,
            bus,
        }
    }

    pub fn keys(&self) -> &JwtKeys {
        &self.keys
    }

    /// Resolves an access token or an API key (`pk_…`) into a principal, recording the key's use
    /// from `ip`. Database failures are logged and reject the request rather than let it through.
    pub async fn authenticate_from(&self, token: &str, ip: Option<&str>) -> Principal {
        if token.starts_with("pk_") {
            super::api_key::authenticate(&self.db, self.cache.as_ref(), token, ip).await
        } else {
            self.authenticate_session(token).await
        }
    }

    /// [`authenticate_from`](Self::authenticate_from) without a client address.
    pub async fn authenticate(&self, token: &str) -> Principal {
        self.authenticate_from(token, None).await
    }

    /// Marks a cached API key stale and tells subscriptions (after a revocation or rotation).
    pub async fn forget_api_key(&self, public_id: &str) {
        self.mark_stale(&[super::api_key::cache_key(public_id)])
            .await;
    }

    /// An access token: its session and user, read from the cache or the database.
    async fn authenticate_session(&self, token: &str) -> Principal {
        let Ok(claims) = self.keys.verify(token) else {
            return Principal::Rejected("invalid or expired access token");
        };
        let key = session_key(claims.sid);
        let live = match self.cache.get(&key).await {
            Ok(Some(raw)) => match LiveSession::decode(&raw) {
                Some(live) => Ok(live),
                // A stale mark: read the database and leave the mark in place.
                None => self.load(claims.sid, None).await,
            },
            Ok(None) => self.load(claims.sid, Some(&key)).await,
            Err(err) => {
                tracing::warn!(error = ?err, "session cache unavailable; reading the database");
                self.load(claims.sid, None).await
            }
        };
        let live = match live {
            Ok(live) => live,
            Err(rejected) => return rejected,
        };
        if live.user_id != claims.sub {
            return Principal::Rejected("invalid access token");
        }
        if live.expires_at <= Utc::now().timestamp() {
            return Principal::Rejected("session revoked or expired");
        }
        if live.status == UserStatus::Disabled {
            return Principal::Rejected("account disabled");
        }
        Principal::User(UserPrincipal {
            user_id: live.user_id,
            session_id: claims.sid,
            status: live.status,
            is_platform_admin: live.is_platform_admin,
        })
    }

    /// Reads a session and its user in one indexed query, records its use (at most once a
    /// minute), and caches it under `fill` unless a stale mark or another reader got there first.
    async fn load(&self, session_id: Uuid, fill: Option<&str>) -> Result<LiveSession, Principal> {
        let found = Global::new(self.db.conn())
            .find::<session::Entity>()
            .filter(session::Column::Id.eq(session_id))
            .find_also_related(user::Entity)
            .one(self.db.conn())
            .await;
        let (session, user) = match found {
            Ok(Some((session, Some(user)))) => (session, user),
            Ok(_) => return Err(Principal::Rejected("session not found")),
            Err(err) => {
                tracing::error!(error = ?err, "session lookup failed");
                return Err(Principal::Unverified);
            }
        };
        if session.user_id != user.id {
            return Err(Principal::Rejected("invalid access token"));
        }
        if session.revoked_at.is_some() {
            return Err(Principal::Rejected("session revoked or expired"));
        }
        let now = Utc::now();
        if (now - session.last_used_at).num_seconds() >= LAST_USED_GRANULARITY_SECS {
            self.touch(session.id);
        }
        let live = LiveSession {
            user_id: user.id,
            status: user.status,
            is_platform_admin: user.is_platform_admin,
            expires_at: session.expires_at.timestamp(),
        };
        if let Some(key) = fill
            && session.expires_at > now
            && user.status != UserStatus::Disabled
        {
            let result = self
                .cache
                .set_if_absent(key, &live.encode(), SESSION_CACHE_TTL)
                .await;
            if let Err(err) = result {
                tracing::warn!(error = ?err, "could not cache the session");
            }
        }
        Ok(live)
    }

    /// Call after a transaction that revoked these sessions or changed their user committed: every
    /// instance reads them from the database again.
    pub async fn forget_sessions(&self, session_ids: &[Uuid]) {
        let keys: Vec<String> = session_ids.iter().map(|id| session_key(*id)).collect();
        self.mark_stale(&keys).await;
    }

    /// Marks cache entries stale (readers go to the database, fills cannot overwrite the mark) and
    /// announces the change to running subscriptions.
    async fn mark_stale(&self, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        for key in keys {
            if let Err(err) = self.cache.set(key, STALE, STALE_MARK_TTL).await {
                // The entry then lives out its TTL (30 s at most).
                tracing::error!(error = ?err, key, "could not mark a cached credential stale");
            }
        }
        if let Err(err) = self.bus.announce_auth_change().await {
            tracing::error!(error = ?err, "could not announce a credential change to subscriptions");
        }
    }

    /// Records use of the session without delaying the request.
    fn touch(&self, session_id: Uuid) {
        let db = self.db.clone();
        tokio::spawn(async move {
            // SQLite's one writer at a time: a write outside a transaction takes its turn too, or
            // a transaction that read before it could not write after it (SQLITE_BUSY_SNAPSHOT).
            let _turn = db.writer().await;
            let result = Global::new(db.conn())
                .update_many::<session::Entity>()
                .col_expr(session::Column::LastUsedAt, Expr::value(Utc::now()))
                .filter(session::Column::Id.eq(session_id))
                .exec(db.conn())
                .await;
            if let Err(err) = result {
                tracing::warn!(error = ?err, "could not record session use");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_sessions_round_trip_and_stale_marks_do_not_parse() {
        for status in [
            UserStatus::Active,
            UserStatus::Disabled,
            UserStatus::Invited,
            UserStatus::Pending,
        ] {
            let live = LiveSession {
                user_id: Uuid::now_v7(),
                status,
                is_platform_admin: status == UserStatus::Active,
                expires_at: 1_800_000_000,
            };
            assert_eq!(LiveSession::decode(&live.encode()), Some(live));
        }
        assert_eq!(LiveSession::decode(STALE), None);
        assert_eq!(LiveSession::decode(""), None);
    }
}
