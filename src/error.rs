//! The one error type of the request path, and its mapping to GraphQL `extensions.code`.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql converts any `Display` type
//! into an error without extensions, and that must never happen by accident. Internal causes are
//! logged where they are converted and replaced by a generic message.

use crate::types::permission::Permission;
use async_graphql::ErrorExtensions;

/// The stable error codes clients can rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The value of `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

/// An error that reaches the caller. Build it with the constructors below.
#[derive(Debug)]
pub enum ApiError {
    /// No, or no valid, credentials.
    Unauthenticated(String),
    /// The caller lacks a permission.
    MissingPermission(Permission),
    /// The caller may not do this, for a reason other than one missing permission.
    Forbidden(String),
    /// The object does not exist, or belongs to another tenant: both answer the same.
    NotFound(&'static str),
    /// The input is invalid; `field` names the argument when there is one.
    BadUserInput {
        message: String,
        field: Option<&'static str>,
    },
    /// The change conflicts with the current state (duplicate slug, already a member, …).
    Conflict(String),
    /// Too many requests; retry after this many seconds.
    RateLimited { retry_after_secs: u64 },
    /// A dependency (the database) is down or saturated: nothing was changed, retry after this
    /// many seconds. The cause is logged, never shown.
    Unavailable {
        retry_after_secs: u64,
        cause: anyhow::Error,
    },
    /// Anything else. Logged with its context, never shown.
    Internal(anyhow::Error),
}

/// Result alias of the request path.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::Unauthenticated(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_field(field: &'static str, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: Some(field),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    /// An unexpected failure; one caused by a database that is down becomes UNAVAILABLE.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        if caused_by_outage(&error) {
            Self::unavailable(error)
        } else {
            Self::Internal(error)
        }
    }

    /// A dependency is down: retry later.
    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable {
            retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
            cause: cause.into(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::MissingPermission(_) | Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable { .. } => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The message shown to the caller.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(m) | Self::Forbidden(m) | Self::Conflict(m) => m.clone(),
            Self::MissingPermission(p) => format!("missing permission `{}`", p.as_str()),
            Self::NotFound(what) => format!("{what} not found"),
            Self::BadUserInput { message, .. } => message.clone(),
            Self::RateLimited { retry_after_secs } => {
                format!("rate limited: retry after {retry_after_secs} s")
            }
            Self::Unavailable {
                retry_after_secs, ..
            } => format!("a service is temporarily unavailable: retry after {retry_after_secs} s"),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// Converts into an `anyhow::Error` (outside the request path, e.g. in loaders and the CLI).
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            Self::Internal(cause) | Self::Unavailable { cause, .. } => cause,
            other => anyhow::anyhow!("{}: {}", other.code().as_str(), other.message()),
        }
    }

    /// Converts into a GraphQL error with `extensions.code`, logging internal causes.
    /// As an error raised outside resolvers (extensions: parsing, validation, limits).
    pub fn into_server_error(self) -> async_graphql::ServerError {
        let gql = self.into_graphql();
        let mut error = async_graphql::ServerError::new(gql.message, None);
        error.extensions = gql.extensions;
        error
    }

    pub fn into_graphql(self) -> async_graphql::Error {
        match &self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            Self::Unavailable { cause, .. } => {
                tracing::warn!(error = ?cause, "a dependency is unavailable");
            }
            _ => {}
        }
        let code = self.code();
        async_graphql::Error::new(self.message()).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            match &self {
                Self::MissingPermission(p) => ext.set("permission", p.as_str()),
                Self::BadUserInput { field: Some(f), .. } => ext.set("field", *f),
                Self::RateLimited { retry_after_secs }
                | Self::Unavailable {
                    retry_after_secs, ..
                } => ext.set("retryAfter", *retry_after_secs),
                _ => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.into_graphql()
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(anyhow::Error::new(err).context("database error"))
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        Self::internal(err)
    }
}

/// What `retryAfter` says when the database is unavailable.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// Whether `err` comes from a database that is down, restarting or out of connections (rather
/// than from a bad statement or a bug).
pub fn is_outage(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx::Error};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match &**e {
                Error::Io(_)
                | Error::PoolTimedOut
                | Error::PoolClosed
                | Error::WorkerCrashed
                | Error::Tls(_) => true,
                // Postgres: connection exceptions (08), shutdown (57P), too many connections;
                // SQLite: busy or locked past the busy timeout.
                Error::Database(db) => db.code().is_some_and(|code| {
                    code.starts_with("08")
                        || code.starts_with("57P")
                        || code == "53300"
                        || code == "5"
                        || code == "6"
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether any cause in `err`'s chain is a database outage.
pub fn caused_by_outage(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<sea_orm::DbErr>()
            .is_some_and(is_outage)
    })
}

/// Whether a database error is a unique-constraint violation (to map it to CONFLICT).
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::Value;

    fn code_of(err: ApiError) -> (String, Option<Value>) {
        let gql = err.into_graphql();
        let ext = gql.extensions.expect("extensions are set");
        let code = match ext.get("code") {
            Some(Value::String(s)) => s.clone(),
            other => panic!("code missing: {other:?}"),
        };
        (code, ext.get("permission").cloned())
    }

    #[test]
    fn each_variant_maps_to_its_code() {
        let cases = [
            (ApiError::unauthenticated("x"), "UNAUTHENTICATED"),
            (
                ApiError::MissingPermission(Permission::ProjectRead),
                "FORBIDDEN",
            ),
            (ApiError::forbidden("x"), "FORBIDDEN"),
            (ApiError::NotFound("project"), "NOT_FOUND"),
            (ApiError::bad_input("x"), "BAD_USER_INPUT"),
            (ApiError::conflict("x"), "CONFLICT"),
            (
                ApiError::RateLimited {
                    retry_after_secs: 3,
                },
                "RATE_LIMITED",
            ),
            (
                ApiError::internal(anyhow::anyhow!("secret detail")),
                "INTERNAL",
            ),
        ];
        for (err, expected) in cases {
            assert_eq!(code_of(err).0, expected);
        }
    }

    #[test]
    fn missing_permission_names_the_permission() {
        let (_, permission) = code_of(ApiError::MissingPermission(Permission::NotePrivate));
        assert_eq!(permission, Some(Value::String("note:private".into())));
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let gql = ApiError::internal(anyhow::anyhow!("password=hunter2")).into_graphql();
        assert_eq!(gql.message, "internal error");
        assert!(!format!("{:?}", gql.extensions).contains("hunter2"));
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let gql = ApiError::RateLimited {
            retry_after_secs: 7,
        }
        .into_graphql();
        let ext = gql.extensions.expect("extensions are set");
        assert_eq!(ext.get("retryAfter"), Some(&Value::from(7u64)));
    }

    #[test]
    fn database_outages_become_unavailable_with_retry_after() {
        let err: ApiError =
            sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout).into();
        assert_eq!(err.code(), ErrorCode::Unavailable);
        let gql = err.into_graphql();
        assert!(!gql.message.contains("Timeout"));
        let ext = gql.extensions.expect("extensions are set");
        assert_eq!(
            ext.get("retryAfter"),
            Some(&Value::from(UNAVAILABLE_RETRY_AFTER_SECS))
        );
        let wrapped = anyhow::Error::new(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::ConnectionClosed,
        ))
        .context("loading the board");
        assert_eq!(ApiError::internal(wrapped).code(), ErrorCode::Unavailable);
    }

    #[test]
    fn db_errors_become_internal() {
        let err: ApiError = sea_orm::DbErr::Custom("boom".into()).into();
        assert_eq!(err.code(), ErrorCode::Internal);
    }
}
