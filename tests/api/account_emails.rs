//! Account emails: invitation codes that travel by email only, password reset, the address
//! check of self-registration (which closes account squatting), email change, and their queue
//! when the mail server is down.
#![allow(clippy::disallowed_methods)]

use crate::helpers::*;
use crate::mailbox::Mail;
use crate::smtp::SmtpSink;
use portico::config::Secret;
use portico::db::Global;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const REQUEST_RESET: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";
const RESET: &str =
    "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }";
const REGISTER: &str = "mutation($e: String!) { register(input: {email: $e, name: \"Eve\", password: \"a long enough password\", workspaceName: \"Eve's\"}) { accessToken refreshToken user { id email } } }";
const INVITE: &str =
    "mutation($e: String!, $r: ID!) { inviteMember(email: $e, roleId: $r) { invitation { id } } }";

async fn anonymous(app: &TestApp, query: &str, variables: Value) -> Value {
    app.graphql(None, query, variables).await
}

async fn account_emails(app: &TestApp) -> Vec<entity::account_email::Model> {
    entity::account_email::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn invitation_codes_travel_by_email_only_in_the_inviters_words() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    data(
        &app.query(
            &team.owner,
            "mutation { setLocale(locale: FR) { locale } }",
            json!({}),
        )
        .await,
    );
    data(
        &app.query(
            &team.owner,
            "mutation { updateWorkspace(input: {emailSenderName: \"Atelier Acme\"}) { id } }",
            json!({}),
        )
        .await,
    );
    let role = app.builtin_role_id(&team.owner, "CLIENT").await;
    let body = app
        .query(
            &team.owner,
            INVITE,
            json!({ "e": "lea@example.fr", "r": role }),
        )
        .await;
    assert!(data(&body)["inviteMember"]["invitation"]["id"].is_string());
    assert!(
        !body.to_string().contains("inv_"),
        "the inviter saw a code: {body}"
    );
    // Queued sealed in the invitation's transaction: the table never holds the code.
    let queued = account_emails(&app).await;
    assert_eq!(queued.len(), 1);
    let sealed = queued[0].sealed.clone().unwrap();
    let mail = app.last_mail_to("lea@example.fr").await;
    let code = mail.secret();
    assert!(code.starts_with("inv_") && !sealed.contains(&code));
    assert_eq!(mail.subject, "Owner vous invite sur Atelier Acme");
    assert!(mail.text.contains("en tant que Client"), "{}", mail.text);
    assert!(mail.text.contains("/invitations/accept#code=inv_"));
    assert!(mail.html.contains("<html lang=\"fr\">") && mail.html.contains("Atelier Acme"));
    let sent = account_emails(&app).await;
    assert_eq!(sent[0].status, "SENT");
    assert_eq!(sent[0].sealed, None, "the sealed code outlived the send");
    // The code from the email makes an account whose address is proved.
    let body = anonymous(&app, "mutation($c: String!) { acceptInvitation(code: $c, name: \"Léa\", password: \"a long enough password\") { accessToken refreshToken user { id email } } }", json!({ "c": code })).await;
    let lea = session_from(&body, "acceptInvitation").unwrap();
    let me = app.query(&lea, "{ me { emailVerified } }", json!({})).await;
    assert_eq!(data(&me)["me"]["emailVerified"], true);
    // Sending again sends nothing twice.
    assert_eq!(app.send_account_emails().await, 0);
    assert_eq!(app.mail_folder().len(), 1);
}

#[tokio::test]
async fn a_password_reset_works_once_ends_every_session_and_answers_alike_for_strangers() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let who = &team.client;
    let other_device = app.login(&who.email).await;
    // A stranger's address gets the same answer and no email.
    let body = anonymous(&app, REQUEST_RESET, json!({ "e": "nobody@example.com" })).await;
    assert_eq!(data(&body)["requestPasswordReset"], true);
    app.send_account_emails().await;
    assert!(app.mail_folder().is_empty());
    // Two requests: the second retires the first link.
    for _ in 0..2 {
        let body = anonymous(
            &app,
            REQUEST_RESET,
            json!({ "e": who.email.to_uppercase() }),
        )
        .await;
        assert_eq!(data(&body)["requestPasswordReset"], true);
    }
    app.send_account_emails().await;
    let mails: Vec<Mail> = app.mail_folder();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].subject, "Reset your password");
    assert!(mails[1].text.contains("/reset-password#token=prs_"));
    let (old, token) = (mails[0].secret(), mails[1].secret());
    let body = anonymous(&app, RESET, json!({ "t": old, "p": "a new long password" })).await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    let short = anonymous(&app, RESET, json!({ "t": token, "p": "short" })).await;
    assert_eq!(error_code(&short).as_deref(), Some("BAD_USER_INPUT"));
    let body = anonymous(
        &app,
        RESET,
        json!({ "t": token, "p": "a new long password" }),
    )
    .await;
    assert_eq!(data(&body)["resetPassword"], true, "{body}");
    for session in [who, &other_device] {
        let ended = app.query(session, "{ me { id } }", json!({})).await;
        assert_eq!(error_code(&ended).as_deref(), Some("UNAUTHENTICATED"));
    }
    assert!(app.login_with(&who.email, PASSWORD).await.is_err());
    app.login_with(&who.email, "a new long password")
        .await
        .unwrap();
    let again = anonymous(
        &app,
        RESET,
        json!({ "t": token, "p": "another long password" }),
    )
    .await;
    assert_eq!(error_code(&again).as_deref(), Some("BAD_USER_INPUT"));
    // An expired link is refused like an unknown one.
    anonymous(&app, REQUEST_RESET, json!({ "e": who.email })).await;
    let token = app.last_mail_to(&who.email).await.secret();
    Global::new(app.state.db.conn())
        .update_many::<entity::account_token::Entity>()
        .col_expr(
            entity::account_token::Column::ExpiresAt,
            Expr::value(chrono::Utc::now()),
        )
        .exec(app.state.db.conn())
        .await
        .unwrap();
    let expired = anonymous(
        &app,
        RESET,
        json!({ "t": token, "p": "another long password" }),
    )
    .await;
    assert_eq!(error_code(&expired).as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(
        expired["errors"][0]["message"],
        again["errors"][0]["message"]
    );
}

#[tokio::test]
async fn a_squatted_address_is_taken_back_through_its_mailbox() {
    let app = spawn_app_with(|c| c.allow_registration = true).await;
    let team = app.create_team("acme").await;
    // Eve registers Bo's address: the account exists but its address is unproved.
    let body = anonymous(&app, REGISTER, json!({ "e": "bo@example.com" })).await;
    let eve = session_from(&body, "register").unwrap();
    let me = app
        .query(
            &eve,
            "{ me { emailVerified } myWorkspaces { workspace { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&me)["me"]["emailVerified"], false);
    let eve = eve.in_workspace(
        data(&me)["myWorkspaces"][0]["workspace"]["slug"]
            .as_str()
            .unwrap(),
    );
    // An unproved address invites nobody.
    let role = app.builtin_role_id(&eve, "GUEST").await;
    let body = app
        .query(
            &eve,
            INVITE,
            json!({ "e": "victim@example.com", "r": role }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    // Bo is invited; the code reaches Bo's mailbox, and accepting it cannot sign in to Eve's account.
    let code = app.invite(&team.owner, "bo@example.com", "CLIENT").await;
    let body = anonymous(&app, "mutation($c: String!) { acceptInvitation(code: $c, name: \"Bo\", password: \"a long enough password\") { accessToken } }", json!({ "c": code })).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    // Bo resets the password through the mailbox: Eve is out, Bo signs in and joins.
    anonymous(&app, REQUEST_RESET, json!({ "e": "bo@example.com" })).await;
    let token = app.last_mail_to("bo@example.com").await.secret();
    let body = anonymous(&app, RESET, json!({ "t": token, "p": "bo's own password" })).await;
    assert_eq!(data(&body)["resetPassword"], true, "{body}");
    let ended = app.query(&eve, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&ended).as_deref(), Some("UNAUTHENTICATED"));
    let bo = app
        .login_with("bo@example.com", "bo's own password")
        .await
        .unwrap();
    let joined = app
        .query(
            &bo,
            "mutation($c: String!) { joinWorkspace(code: $c) { workspace { slug } } }",
            json!({ "c": code }),
        )
        .await;
    assert_eq!(
        data(&joined)["joinWorkspace"]["workspace"]["slug"],
        team.slug.as_str()
    );
    let me = app.query(&bo, "{ me { emailVerified } }", json!({})).await;
    assert_eq!(data(&me)["me"]["emailVerified"], true);
}

#[tokio::test]
async fn a_registered_address_is_proved_by_its_link() {
    let app = spawn_app_with(|c| c.allow_registration = true).await;
    let body = anonymous(&app, REGISTER, json!({ "e": "new@example.com" })).await;
    let me = session_from(&body, "register").unwrap();
    let mail = app.last_mail_to("new@example.com").await;
    assert_eq!(mail.subject, "Confirm your email address");
    let resent = app
        .query(&me, "mutation { resendVerificationEmail }", json!({}))
        .await;
    assert_eq!(data(&resent)["resendVerificationEmail"], true);
    // The resent link retires the first.
    let token = app.last_mail_to("new@example.com").await.secret();
    let stale = anonymous(
        &app,
        "mutation($t: String!) { verifyEmail(token: $t) }",
        json!({ "t": mail.secret() }),
    )
    .await;
    assert_eq!(error_code(&stale).as_deref(), Some("BAD_USER_INPUT"));
    let body = anonymous(
        &app,
        "mutation($t: String!) { verifyEmail(token: $t) }",
        json!({ "t": token }),
    )
    .await;
    assert_eq!(data(&body)["verifyEmail"], true, "{body}");
    let check = app.query(&me, "{ me { emailVerified } }", json!({})).await;
    assert_eq!(data(&check)["me"]["emailVerified"], true);
    let resent = app
        .query(&me, "mutation { resendVerificationEmail }", json!({}))
        .await;
    assert_eq!(data(&resent)["resendVerificationEmail"], false);
}

#[tokio::test]
async fn an_email_change_is_confirmed_at_the_new_address_and_told_to_the_old() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let who = &team.collaborator;
    let change = "mutation($e: String!, $p: String!) { requestEmailChange(newEmail: $e, currentPassword: $p) }";
    let wrong = app
        .query(who, change, json!({ "e": "c2@example.com", "p": "wrong" }))
        .await;
    assert_eq!(error_code(&wrong).as_deref(), Some("BAD_USER_INPUT"));
    let taken = app
        .query(
            who,
            change,
            json!({ "e": team.client.email, "p": PASSWORD }),
        )
        .await;
    assert_eq!(error_code(&taken).as_deref(), Some("CONFLICT"));
    let body = app
        .query(who, change, json!({ "e": "C2@Example.com", "p": PASSWORD }))
        .await;
    assert_eq!(data(&body)["requestEmailChange"], true, "{body}");
    let mail = app.last_mail_to("c2@example.com").await;
    assert_eq!(mail.subject, "Confirm your new email address");
    // Until confirmed, the old address signs in.
    app.login_with(&who.email, PASSWORD).await.unwrap();
    let confirm = "mutation($t: String!) { confirmEmailChange(token: $t) }";
    let body = anonymous(&app, confirm, json!({ "t": mail.secret() })).await;
    assert_eq!(data(&body)["confirmEmailChange"], true, "{body}");
    assert!(app.login_with(&who.email, PASSWORD).await.is_err());
    app.login_with("c2@example.com", PASSWORD).await.unwrap();
    let notice = app.last_mail_to(&who.email).await;
    assert_eq!(notice.subject, "Your email address was changed");
    assert!(notice.text.contains("c2@example.com"), "{}", notice.text);
    assert!(!notice.text.contains("#token="));
    let again = anonymous(&app, confirm, json!({ "t": mail.secret() })).await;
    assert_eq!(error_code(&again).as_deref(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn account_emails_wait_while_smtp_is_down_and_a_bounce_is_dead_lettered() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail.smtp_url = Some(Secret::new(url))).await;
    let team = app.create_team("acme").await;
    sink.set_down(true);
    anonymous(&app, REQUEST_RESET, json!({ "e": team.guest.email })).await;
    anonymous(&app, REQUEST_RESET, json!({ "e": "bounce@example.com" })).await;
    app.create_user("bounce@example.com", "Bounce").await;
    anonymous(&app, REQUEST_RESET, json!({ "e": "bounce@example.com" })).await;
    assert_eq!(app.send_account_emails().await, 0);
    let rows = account_emails(&app).await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.status == "RETRYING" && r.attempts == 1 && r.sealed.is_some())
    );
    assert!(sink.messages().is_empty());
    // Back up, and due again: the guest's email goes, the bounce is dead with its cause.
    sink.set_down(false);
    Global::new(app.state.db.conn())
        .update_many::<entity::account_email::Entity>()
        .col_expr(
            entity::account_email::Column::AvailableAt,
            Expr::value(chrono::Utc::now()),
        )
        .exec(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(app.send_account_emails().await, 2);
    let received = sink.to(&team.guest.email);
    assert_eq!(received.len(), 1);
    let mail = Mail::from(&received[0]);
    assert!(mail.secret().starts_with("prs_"));
    let dead = entity::account_email::Entity::find()
        .filter(entity::account_email::Column::ToAddress.eq("bounce@example.com"))
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.status, "DEAD");
    assert_eq!(dead.sealed, None);
    assert!(dead.last_error.unwrap().contains("permanent"));
}
