//! Brute-force limits on the credential-guessing mutations: `login` (per account and per IP),
//! `refreshToken`, `acceptInvitation` and the emailed account tokens (per IP), and on the
//! mutations that send an account email (per address and per IP, so nobody is mail-bombed). Every attempt counts before any secret is
//! checked, in the resolver itself, so several aliased fields in one document and several
//! operations in one batch are each counted; the counters live in the shared cache (Redis in
//! production), so the limits hold across instances.

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use std::time::Duration;

/// The attempts one key may make per window.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub attempts: u64,
    pub window: Duration,
}

/// What is being guessed.
#[derive(Debug, Clone, Copy)]
pub enum Guarded {
    Login,
    Refresh,
    Invitation,
    /// MFA codes (login challenges, confirmation, disabling).
    Mfa,
    /// Emailed account tokens (password reset, address checks).
    AccountToken,
    /// Requests that send an account email (counted per address, known or not).
    AccountMail,
}

impl Guarded {
    fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Refresh => "refresh",
            Self::Invitation => "invitation",
            Self::Mfa => "mfa",
            Self::AccountToken => "account_token",
            Self::AccountMail => "account_mail",
        }
    }
}

/// Counts one attempt from `ip` (and on `account`, for logins); RATE_LIMITED past a limit.
pub async fn attempt(
    app: &App,
    what: Guarded,
    ip: Option<&str>,
    account: Option<&str>,
) -> ApiResult<()> {
    let config = &app.config;
    let window = Duration::from_secs(config.brute_force_window_secs.max(1));
    let per_ip = match what {
        Guarded::Login | Guarded::Mfa | Guarded::AccountMail => config.login_attempts_per_ip,
        Guarded::Refresh | Guarded::Invitation | Guarded::AccountToken => {
            config.token_attempts_per_ip
        }
    };
    let per_account = match what {
        Guarded::AccountMail => config.accounts.account_emails_per_address,
        _ => config.login_attempts_per_account,
    };
    if let Some(ip) = ip {
        hit(app, &format!("bf:{}:ip:{ip}", what.name()), per_ip, window).await?;
    }
    if let Some(account) = account {
        let account = account.trim().to_lowercase();
        hit(
            app,
            &format!("bf:{}:account:{account}", what.name()),
            per_account,
            window,
        )
        .await?;
    }
    Ok(())
}

/// A successful login clears its account's counter (the per-IP one keeps counting).
pub async fn succeeded(app: &App, account: &str) {
    succeeded_for(app, Guarded::Login, account).await;
}

/// A success clears the account's counter of `what`.
pub async fn succeeded_for(app: &App, what: Guarded, account: &str) {
    let key = format!(
        "bf:{}:account:{}",
        what.name(),
        account.trim().to_lowercase()
    );
    if let Err(err) = app.cache.delete(&key).await {
        tracing::warn!(error = ?err, "could not reset a login counter");
    }
}

async fn hit(app: &App, key: &str, limit: u64, window: Duration) -> ApiResult<()> {
    let (count, left) = app
        .cache
        .incr(key, window)
        .await
        .map_err(ApiError::internal)?;
    if count > limit {
        app.denials.count(crate::error::ErrorCode::RateLimited);
        tracing::warn!(target: "portico::denied", key, count, "brute-force limit reached");
        return Err(ApiError::RateLimited {
            retry_after_secs: left.as_secs().max(1),
        });
    }
    Ok(())
}
