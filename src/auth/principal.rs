//! Who is calling: resolved once per request (or per websocket connection) from the bearer token.
//! Every request re-checks the session and the user's status in one indexed query, so a revoked
//! session or a disabled user stops working on the next request, on every instance.

use super::JwtKeys;
use crate::db::{Db, Global};
use chrono::Utc;
use entity::user::UserStatus;
use entity::{session, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

/// How often `sessions.last_used_at` is refreshed at most.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

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

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials were sent.
    Anonymous,
    /// A valid access token of a live session.
    User(UserPrincipal),
    /// Credentials were sent but are not valid; the reason is safe to show.
    Rejected(&'static str),
}

/// Verifies bearer tokens.
#[derive(Debug, Clone)]
pub struct Authenticator {
    db: Db,
    keys: JwtKeys,
}

impl Authenticator {
    pub fn new(db: Db, keys: JwtKeys) -> Self {
        Self { db, keys }
    }

    pub fn keys(&self) -> &JwtKeys {
        &self.keys
    }

    /// Resolves an access token into a principal. Database failures are logged and reject the
    /// request rather than let it through.
    pub async fn authenticate(&self, token: &str) -> Principal {
        let Ok(claims) = self.keys.verify(token) else {
            return Principal::Rejected("invalid or expired access token");
        };
        let global = Global::new(self.db.conn());
        let found = global
            .find::<session::Entity>()
            .filter(session::Column::Id.eq(claims.sid))
            .find_also_related(user::Entity)
            .one(self.db.conn())
            .await;
        let (session, user) = match found {
            Ok(Some((session, Some(user)))) => (session, user),
            Ok(_) => return Principal::Rejected("session not found"),
            Err(err) => {
                tracing::error!(error = ?err, "session lookup failed");
                return Principal::Rejected("could not verify the session");
            }
        };
        let now = Utc::now();
        if session.user_id != claims.sub || user.id != claims.sub {
            return Principal::Rejected("invalid access token");
        }
        if session.revoked_at.is_some() || session.expires_at <= now {
            return Principal::Rejected("session revoked or expired");
        }
        if user.status == UserStatus::Disabled {
            return Principal::Rejected("account disabled");
        }
        if (now - session.last_used_at).num_seconds() >= LAST_USED_GRANULARITY_SECS {
            self.touch(session.id);
        }
        Principal::User(UserPrincipal {
            user_id: user.id,
            session_id: session.id,
            status: user.status,
            is_platform_admin: user.is_platform_admin,
        })
    }

    /// Records use of the session without delaying the request.
    fn touch(&self, session_id: Uuid) {
        let db = self.db.clone();
        tokio::spawn(async move {
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
