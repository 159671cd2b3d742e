//! Identity queries and mutations. Thin: parse arguments, call the service, map the result.

use super::brute_force::{self, Guarded};
use super::mfa;
use super::recovery;
use super::service::{self, Issued};
use super::types::{Account, AuthPayload, Locale, MfaEnrolment, Session, UserStatus};
use crate::graphql::RequestContext;
use crate::graphql::directives::{authenticated, platformAdmin, public};
use crate::types::parse_id;
use crate::workspace::service as workspace_service;
use async_graphql::{Context, ID, InputObject, Object, Result};

impl From<Issued> for AuthPayload {
    fn from(issued: Issued) -> Self {
        Self {
            access_token: Some(issued.access_token),
            access_token_expires_at: Some(issued.access_token_expires_at),
            refresh_token: Some(issued.refresh_token),
            user: Some(issued.user.into()),
            mfa_token: None,
        }
    }
}

/// Identity queries.
#[derive(Debug, Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The signed-in user.
    #[graphql(directive = authenticated::apply())]
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        let rc = RequestContext::of(ctx)?;
        let user = service::get_user(rc.app.db.conn(), rc.user()?.user_id).await?;
        Ok(Some(user.into()))
    }

    /// The caller's signed-in devices, most recently used first.
    #[graphql(directive = authenticated::apply())]
    async fn my_sessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<Session>>> {
        let rc = RequestContext::of(ctx)?;
        let caller = rc.user()?;
        let sessions = service::my_sessions(&rc.app, caller).await?;
        Ok(Some(
            sessions
                .into_iter()
                .map(|s| Session {
                    id: ID(s.id.to_string()),
                    current: s.id == caller.session_id,
                    user_agent: s.user_agent,
                    ip: s.ip,
                    created_at: s.created_at,
                    last_used_at: s.last_used_at,
                    expires_at: s.expires_at,
                })
                .collect(),
        ))
    }
}

/// Sign-up input (only when `ALLOW_REGISTRATION` is on).
#[derive(Debug, InputObject)]
pub struct RegisterInput {
    /// Email address; unique, case-insensitive.
    pub email: String,
    /// Display name.
    pub name: String,
    /// At least 10 characters.
    pub password: String,
    /// Name of the first workspace, owned by the new user.
    pub workspace_name: String,
}

/// Identity mutations.
#[derive(Debug, Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Signs in. Returns a short-lived access token and a single-use refresh token.
    #[graphql(directive = public::apply())]
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> Result<AuthPayload> {
        let rc = RequestContext::of(ctx)?;
        let ip = rc.client.ip.as_deref();
        brute_force::attempt(&rc.app, Guarded::Login, ip, Some(&email)).await?;
        let outcome = service::login(&rc.app, &email, &password, &rc.client).await?;
        brute_force::succeeded(&rc.app, &email).await;
        Ok(match outcome {
            service::LoginOutcome::Signed(issued) => (*issued).into(),
            service::LoginOutcome::MfaChallenge(token) => AuthPayload {
                access_token: None,
                access_token_expires_at: None,
                refresh_token: None,
                user: None,
                mfa_token: Some(token),
            },
        })
    }

    /// Completes a login that answered an `mfaToken`, with a TOTP code or a recovery code.
    /// Attempts are limited per IP and per account.
    #[graphql(directive = public::apply())]
    async fn verify_mfa(
        &self,
        ctx: &Context<'_>,
        mfa_token: String,
        code: String,
    ) -> Result<AuthPayload> {
        let rc = RequestContext::of(ctx)?;
        Ok(
            mfa::verify_challenge(&rc.app, &mfa_token, &code, &rc.client)
                .await?
                .into(),
        )
    }

    /// Starts MFA enrolment: scan the URI, then confirm with a code (`confirmMfa`).
    #[graphql(directive = authenticated::apply())]
    async fn enrol_mfa(&self, ctx: &Context<'_>) -> Result<Option<MfaEnrolment>> {
        let rc = RequestContext::of(ctx)?;
        let (secret, otpauth_uri) = mfa::enrol(&rc.app, rc.user()?).await?;
        Ok(Some(MfaEnrolment {
            secret,
            otpauth_uri,
        }))
    }

    /// Confirms MFA with a code: it is on, other sessions end, and ten recovery codes are
    /// returned. They are shown this once.
    #[graphql(directive = authenticated::apply())]
    async fn confirm_mfa(&self, ctx: &Context<'_>, code: String) -> Result<Option<Vec<String>>> {
        let rc = RequestContext::of(ctx)?;
        Ok(Some(mfa::confirm(&rc.app, rc.user()?, &code).await?))
    }

    /// Turns MFA off, with a current code or a recovery code.
    #[graphql(directive = authenticated::apply())]
    async fn disable_mfa(&self, ctx: &Context<'_>, code: String) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        mfa::disable(&rc.app, rc.user()?, &code).await?;
        Ok(Some(true))
    }

    /// Creates an account and its first workspace, when registration is enabled.
    #[graphql(directive = public::apply())]
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        let rc = RequestContext::of(ctx)?;
        // An existing email is answered CONFLICT: count it like a login, per IP and per account.
        let email = input.email.trim().to_lowercase();
        brute_force::attempt(
            &rc.app,
            Guarded::Login,
            rc.client.ip.as_deref(),
            Some(&email),
        )
        .await?;
        let issued = workspace_service::register(
            &rc.app,
            &input.email,
            &input.name,
            &input.password,
            &input.workspace_name,
            &rc.client,
        )
        .await?;
        Ok(issued.into())
    }

    /// Exchanges a refresh token for new tokens. Each refresh token works once: presenting a
    /// used one again revokes the whole session.
    #[graphql(directive = public::apply())]
    async fn refresh_token(&self, ctx: &Context<'_>, refresh_token: String) -> Result<AuthPayload> {
        let rc = RequestContext::of(ctx)?;
        brute_force::attempt(&rc.app, Guarded::Refresh, rc.client.ip.as_deref(), None).await?;
        Ok(service::refresh(&rc.app, &refresh_token).await?.into())
    }

    /// Ends the current session.
    #[graphql(directive = authenticated::apply())]
    async fn logout(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        service::logout(&rc.app, rc.user()?).await?;
        Ok(Some(true))
    }

    /// Ends one of the caller's sessions (for example a lost device), on every instance at once.
    #[graphql(directive = authenticated::apply())]
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        service::revoke_session(&rc.app, rc.user()?, id).await?;
        Ok(Some(true))
    }

    /// Changes the password and ends every other session.
    #[graphql(directive = authenticated::apply())]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        service::change_password(&rc.app, rc.user()?, &current_password, &new_password).await?;
        Ok(Some(true))
    }

    /// Sets the language of the caller's emails.
    #[graphql(directive = authenticated::apply())]
    async fn set_locale(&self, ctx: &Context<'_>, locale: Locale) -> Result<Option<Account>> {
        let rc = RequestContext::of(ctx)?;
        let user = service::set_locale(rc.app.db.conn(), rc.user()?, locale.as_str()).await?;
        Ok(Some(Account::from(user)))
    }

    /// Emails a single-use link to reset the password of the account with this address. The
    /// answer is `true` whether or not such an account exists; requests are limited per address
    /// and per IP.
    #[graphql(directive = public::apply())]
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        let rc = RequestContext::of(ctx)?;
        let ip = rc.client.ip.as_deref();
        brute_force::attempt(&rc.app, Guarded::AccountMail, ip, Some(&email)).await?;
        recovery::request_password_reset(&rc.app, &email).await?;
        Ok(true)
    }

    /// Sets a new password with the token of a reset email. The token works once; every session
    /// of the account ends, and the next sign-in still asks for MFA.
    #[graphql(directive = public::apply())]
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        new_password: String,
    ) -> Result<bool> {
        let rc = RequestContext::of(ctx)?;
        let ip = rc.client.ip.as_deref();
        brute_force::attempt(&rc.app, Guarded::AccountToken, ip, None).await?;
        recovery::reset_password(&rc.app, &token, &new_password).await?;
        Ok(true)
    }

    /// Confirms the account's address with the token of a verification email.
    #[graphql(directive = public::apply())]
    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> Result<bool> {
        let rc = RequestContext::of(ctx)?;
        let ip = rc.client.ip.as_deref();
        brute_force::attempt(&rc.app, Guarded::AccountToken, ip, None).await?;
        recovery::verify_email(&rc.app, &token).await?;
        Ok(true)
    }

    /// Sends the verification email again; `false` when the address is already confirmed.
    #[graphql(directive = authenticated::apply())]
    async fn resend_verification_email(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let user = rc.user()?;
        let me = service::get_user(rc.app.db.conn(), user.user_id).await?;
        let ip = rc.client.ip.as_deref();
        brute_force::attempt(&rc.app, Guarded::AccountMail, ip, Some(&me.email)).await?;
        Ok(Some(recovery::resend_verification(&rc.app, user).await?))
    }

    /// Starts moving the account to another address: checks the password and emails a link to
    /// the new address. The account keeps its address until that link is opened.
    #[graphql(directive = authenticated::apply())]
    async fn request_email_change(
        &self,
        ctx: &Context<'_>,
        new_email: String,
        current_password: String,
    ) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let user = rc.user()?;
        let me = service::get_user(rc.app.db.conn(), user.user_id).await?;
        let ip = rc.client.ip.as_deref();
        // The password is checked: guesses count against the account's login budget.
        brute_force::attempt(&rc.app, Guarded::Login, ip, Some(&me.email)).await?;
        brute_force::attempt(&rc.app, Guarded::AccountMail, ip, Some(&new_email)).await?;
        recovery::request_email_change(&rc.app, user, &new_email, &current_password).await?;
        Ok(Some(true))
    }

    /// Completes an email change with the token sent to the new address; the previous address
    /// is told.
    #[graphql(directive = public::apply())]
    async fn confirm_email_change(&self, ctx: &Context<'_>, token: String) -> Result<bool> {
        let rc = RequestContext::of(ctx)?;
        let ip = rc.client.ip.as_deref();
        brute_force::attempt(&rc.app, Guarded::AccountToken, ip, None).await?;
        recovery::confirm_email_change(&rc.app, &token).await?;
        Ok(true)
    }

    /// Ends every session of an account, in every workspace (platform operators): the account
    /// signs in again. Returns how many sessions ended.
    #[graphql(directive = platformAdmin::apply())]
    async fn end_user_sessions(&self, ctx: &Context<'_>, user_id: ID) -> Result<Option<u64>> {
        let rc = RequestContext::of(ctx)?;
        let user_id = parse_id("userId", &user_id)?;
        let ended = service::end_user_sessions(&rc.app, rc.user()?, user_id).await?;
        Ok(Some(ended as u64))
    }

    /// Sets an account's status (platform operators). DISABLED ends its sessions at once.
    #[graphql(directive = platformAdmin::apply())]
    async fn set_user_status(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        status: UserStatus,
    ) -> Result<Option<Account>> {
        let rc = RequestContext::of(ctx)?;
        let user_id = parse_id("userId", &user_id)?;
        Ok(Some(
            service::set_user_status(&rc.app, rc.user()?, user_id, status.into())
                .await?
                .into(),
        ))
    }
}
