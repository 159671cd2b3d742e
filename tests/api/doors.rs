//! Every door that creates a session or a credential (`portico::identity::doors::DOORS`),
//! walked: the SDL's mutations whose result carries a token, a key or a code are all listed, and
//! each listed door proves its MFA, per-account limit and account-status rules here.

use crate::apikeys::create_key;
use crate::helpers::*;
use crate::mfa::enable_mfa;
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use portico::auth::totp;
use portico::identity::doors::{AccountLimit, DOORS, Door, MfaRule};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Fields that make a result a credential.
const CREDENTIAL_FIELDS: &[&str] = &[
    "accessToken",
    "refreshToken",
    "mfaToken",
    "key",
    "code",
    "token",
];

#[test]
fn every_mutation_that_returns_a_credential_is_a_listed_door() {
    let sdl = portico::schema::export_sdl().unwrap();
    let document = async_graphql::parser::parse_schema(&sdl).unwrap();
    let mut credential_types = BTreeSet::new();
    let mut mutations = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let TypeKind::Object(object) = &ty.node.kind else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        if object
            .fields
            .iter()
            .any(|f| CREDENTIAL_FIELDS.contains(&f.node.name.node.as_str()))
        {
            credential_types.insert(name.clone());
        }
        if name == "Mutation" {
            for field in &object.fields {
                let result = field.node.ty.node.to_string();
                let result = result.trim_matches(['[', ']', '!']).to_owned();
                mutations.push((field.node.name.node.to_string(), result));
            }
        }
    }
    let doors: BTreeSet<String> = mutations
        .iter()
        .filter(|(_, result)| credential_types.contains(result))
        .map(|(name, _)| name.clone())
        .collect();
    let listed: BTreeSet<String> = DOORS.iter().map(|d| d.field.to_owned()).collect();
    let unlisted: Vec<_> = doors.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "doors missing from identity::doors::DOORS: {unlisted:?}"
    );
    let names: BTreeSet<String> = mutations.into_iter().map(|(n, _)| n).collect();
    let unknown: Vec<_> = listed.difference(&names).collect();
    assert!(
        unknown.is_empty(),
        "listed doors that are no mutation: {unknown:?}"
    );
}

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken mfaToken } }";
const VERIFY: &str =
    "mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) { accessToken } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }";
const ACCEPT: &str = "mutation($c: String!, $p: String!) { acceptInvitation(code: $c, name: \"X\", password: $p) { accessToken } }";
const REGISTER: &str = "mutation($e: String!) { register(input: {email: $e, name: \"X\", password: \"a long enough password\", workspaceName: \"W\"}) { accessToken } }";
const CREATE_LINK: &str =
    "mutation($f: ID!) { createUploadLink(input: {folderId: $f, name: \"l\"}) { token } }";
const CREATE_KEY: &str =
    "mutation { createApiKey(input: {name: \"k\", scopes: [WORKSPACE_READ]}) { key } }";
const ROTATE_KEY: &str = "mutation($i: ID!) { rotateApiKey(id: $i) { key } }";
const INVITE: &str = "mutation($r: ID!) { inviteMember(email: \"new@example.com\", roleId: $r) { invitation { id } } }";

/// What each door is proved against.
struct World {
    app: TestApp,
    team: Team,
    /// Owners and admins of this workspace must use MFA; its admin has not enabled it.
    strict: Team,
    ops: Session,
    limit: u64,
}

/// A new account outside any workspace, signed in with MFA on; returns its TOTP secret.
async fn account_with_mfa(app: &TestApp, email: &str) -> Vec<u8> {
    app.create_user(email, "Someone").await;
    let session = app.login(email).await;
    enable_mfa(app, &session).await.0
}

impl World {
    async fn status(&self, who: &Session, status: &str) {
        let body = self
            .app
            .query(&self.ops, "mutation($u: ID!, $s: UserStatus!) { setUserStatus(userId: $u, status: $s) { status } }", json!({ "u": who.user_id, "s": status }))
            .await;
        assert_eq!(data(&body)["setUserStatus"]["status"], status);
    }

    async fn anonymous(&self, query: &str, variables: Value) -> Value {
        self.app.graphql(None, query, variables).await
    }
}

fn refused(body: &Value, code: &str, what: &str) {
    assert_eq!(error_code(body).as_deref(), Some(code), "{what}: {body}");
    assert!(
        !body.to_string().contains("\"accessToken\":\""),
        "{what} handed out a token: {body}"
    );
}

#[tokio::test]
async fn every_door_applies_mfa_account_limits_and_status() {
    let app = spawn_app_with(|c| {
        c.login_attempts_per_account = 3;
        c.allow_registration = true;
    })
    .await;
    let team = app.create_team("acme").await;
    let strict = app.create_team("strict").await;
    enable_mfa(&app, &strict.owner).await;
    data(
        &app.query(
            &strict.owner,
            "mutation { updateWorkspace(input: {requireMfaForAdmins: true}) { id } }",
            json!({}),
        )
        .await,
    );
    app.create_user("ops@example.com", "Ops").await;
    app.make_platform_admin("ops@example.com").await;
    let ops = app.login("ops@example.com").await;
    let limit = app.state.config.login_attempts_per_account;
    let world = World {
        app,
        team,
        strict,
        ops,
        limit,
    };
    for door in DOORS {
        match door.field {
            "login" => login(&world, door).await,
            "verifyMfa" => verify_mfa(&world, door).await,
            "refreshToken" => refresh(&world, door).await,
            "acceptInvitation" => accept_invitation(&world, door).await,
            "register" => register(&world, door).await,
            "resetPassword" => reset_password(&world, door).await,
            "createApiKey" | "rotateApiKey" | "inviteMember" | "createUploadLink" => {
                within_session(&world, door).await
            }
            other => panic!("teach tests/api/doors.rs the door `{other}`"),
        }
    }
}

async fn login(w: &World, door: &Door) {
    assert_eq!(
        (door.mfa, door.limit),
        (MfaRule::Challenges, AccountLimit::LoginBudget)
    );
    account_with_mfa(&w.app, "mfa.login@example.com").await;
    let body = w
        .anonymous(
            LOGIN,
            json!({ "e": "mfa.login@example.com", "p": PASSWORD }),
        )
        .await;
    assert!(
        data(&body)["login"]["accessToken"].is_null()
            && data(&body)["login"]["mfaToken"].is_string(),
        "{body}"
    );
    for _ in 0..w.limit {
        let wrong = w
            .anonymous(
                LOGIN,
                json!({ "e": w.team.guest.email, "p": "a wrong password" }),
            )
            .await;
        refused(&wrong, "UNAUTHENTICATED", "login");
    }
    let limited = w
        .anonymous(LOGIN, json!({ "e": w.team.guest.email, "p": PASSWORD }))
        .await;
    refused(&limited, "RATE_LIMITED", "login past its budget");
    w.status(&w.team.collaborator, "DISABLED").await;
    let disabled = w
        .anonymous(
            LOGIN,
            json!({ "e": w.team.collaborator.email, "p": PASSWORD }),
        )
        .await;
    refused(&disabled, "UNAUTHENTICATED", "login of a DISABLED account");
    w.status(&w.team.collaborator, "ACTIVE").await;
}

async fn verify_mfa(w: &World, door: &Door) {
    assert_eq!(
        (door.mfa, door.limit),
        (MfaRule::SecondFactor, AccountLimit::MfaBudget)
    );
    let (secret, _) = enable_mfa(&w.app, &w.team.admin).await;
    let challenge = || async {
        let body = w
            .anonymous(LOGIN, json!({ "e": w.team.admin.email, "p": PASSWORD }))
            .await;
        data(&body)["login"]["mfaToken"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let token = challenge().await;
    for _ in 0..w.limit {
        let wrong = w
            .anonymous(VERIFY, json!({ "t": token, "c": "000000" }))
            .await;
        refused(&wrong, "UNAUTHENTICATED", "verifyMfa with a wrong code");
    }
    let code = totp::code_at(&secret, totp::step_of(chrono::Utc::now().timestamp()));
    let limited = w.anonymous(VERIFY, json!({ "t": token, "c": code })).await;
    refused(&limited, "RATE_LIMITED", "verifyMfa past its budget");
    // A DISABLED account gets nothing, even with a right code.
    let secret = account_with_mfa(&w.app, "mfa.disabled@example.com").await;
    let body = w
        .anonymous(
            LOGIN,
            json!({ "e": "mfa.disabled@example.com", "p": PASSWORD }),
        )
        .await;
    let token = data(&body)["login"]["mfaToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = portico::types::Email::parse("mfa.disabled@example.com").unwrap();
    let user = portico::identity::service::find_user_by_email(w.app.state.db.conn(), &user)
        .await
        .unwrap()
        .unwrap();
    let gone = Session {
        user_id: user.id,
        ..w.ops.clone()
    };
    w.status(&gone, "DISABLED").await;
    let code = totp::code_at(&secret, totp::step_of(chrono::Utc::now().timestamp()));
    let disabled = w.anonymous(VERIFY, json!({ "t": token, "c": code })).await;
    refused(
        &disabled,
        "UNAUTHENTICATED",
        "verifyMfa of a DISABLED account",
    );
}

async fn refresh(w: &World, door: &Door) {
    assert_eq!(door.mfa, MfaRule::WithinSession);
    assert!(matches!(door.limit, AccountLimit::NotGuessable(_)));
    // A session from before MFA was enabled cannot be refreshed afterwards.
    let before = w.app.login(&w.team.client.email).await;
    enable_mfa(&w.app, &w.team.client).await;
    let body = w
        .anonymous(REFRESH, json!({ "t": before.refresh_token }))
        .await;
    refused(
        &body,
        "UNAUTHENTICATED",
        "refreshing a session that did not pass MFA",
    );
    // A DISABLED account cannot refresh.
    let session = w.app.login(&w.team.collaborator.email).await;
    w.status(&w.team.collaborator, "DISABLED").await;
    let body = w
        .anonymous(REFRESH, json!({ "t": session.refresh_token }))
        .await;
    refused(&body, "UNAUTHENTICATED", "refresh of a DISABLED account");
    w.status(&w.team.collaborator, "ACTIVE").await;
    // Random tokens are refused alike and limited per IP.
    let limit = w.app.state.config.token_attempts_per_ip;
    let mut last = Value::Null;
    for _ in 0..=limit {
        last = w.anonymous(REFRESH, json!({ "t": "prt_guess" })).await;
    }
    refused(
        &last,
        "RATE_LIMITED",
        "refresh guesses past the per-IP limit",
    );
}

async fn accept_invitation(w: &World, door: &Door) {
    assert_eq!(
        (door.mfa, door.limit),
        (MfaRule::NewAccountsOnly, AccountLimit::LoginBudget)
    );
    // An account with MFA (the client enabled it above) is never signed in by an invitation.
    let strict_invite =
        |email: String| async move { w.app.invite(&w.strict.owner, &email, "GUEST").await };
    let code = strict_invite(w.team.client.email.clone()).await;
    let body = w
        .anonymous(ACCEPT, json!({ "c": code, "p": PASSWORD }))
        .await;
    refused(
        &body,
        "UNAUTHENTICATED",
        "acceptInvitation for an MFA account",
    );
    let uniform = body["errors"][0]["message"].clone();
    // A DISABLED account gets the same answer.
    let code = strict_invite(w.team.collaborator.email.clone()).await;
    w.status(&w.team.collaborator, "DISABLED").await;
    let body = w
        .anonymous(ACCEPT, json!({ "c": code, "p": PASSWORD }))
        .await;
    refused(
        &body,
        "UNAUTHENTICATED",
        "acceptInvitation for a DISABLED account",
    );
    assert_eq!(body["errors"][0]["message"], uniform);
    w.status(&w.team.collaborator, "ACTIVE").await;
    // The budget: the collaborator's (one attempt spent above).
    let mut last = Value::Null;
    for _ in 0..w.limit {
        last = w
            .anonymous(ACCEPT, json!({ "c": code, "p": "a guess" }))
            .await;
    }
    refused(
        &last,
        "RATE_LIMITED",
        "acceptInvitation past the account's budget",
    );
    // A new person still joins.
    let code = w
        .app
        .invite(&w.team.owner, "newcomer@example.com", "GUEST")
        .await;
    let body = w
        .anonymous(ACCEPT, json!({ "c": code, "p": "a long enough password" }))
        .await;
    assert!(
        data(&body)["acceptInvitation"]["accessToken"].is_string(),
        "{body}"
    );
}

async fn register(w: &World, door: &Door) {
    assert_eq!(
        (door.mfa, door.limit),
        (MfaRule::NewAccountsOnly, AccountLimit::LoginBudget)
    );
    // The MFA account of the login proof, then a DISABLED one.
    let body = w
        .anonymous(REGISTER, json!({ "e": "mfa.login@example.com" }))
        .await;
    refused(&body, "CONFLICT", "register with an existing email");
    let body = w
        .anonymous(REGISTER, json!({ "e": "mfa.disabled@example.com" }))
        .await;
    refused(
        &body,
        "CONFLICT",
        "register with a DISABLED account's email",
    );
    let mut last = Value::Null;
    for _ in 0..w.limit {
        last = w
            .anonymous(REGISTER, json!({ "e": "mfa.disabled@example.com" }))
            .await;
    }
    refused(&last, "RATE_LIMITED", "register past the account's budget");
    let fresh = w
        .anonymous(REGISTER, json!({ "e": "brand.new@example.com" }))
        .await;
    assert!(
        data(&fresh)["register"]["accessToken"].is_string(),
        "{fresh}"
    );
}

const REQUEST_RESET: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";
const RESET: &str =
    "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }";

async fn reset_password(w: &World, door: &Door) {
    assert_eq!(door.mfa, MfaRule::OpensNoSession);
    assert!(matches!(door.limit, AccountLimit::NotGuessable(_)));
    // An MFA account: the reset ends its sessions, opens none, and the next login still
    // answers only a challenge.
    let email = "mfa.reset@example.com";
    w.app.create_user(email, "Someone").await;
    let before = w.app.login(email).await;
    enable_mfa(&w.app, &before).await;
    let body = w.anonymous(REQUEST_RESET, json!({ "e": email })).await;
    assert_eq!(data(&body)["requestPasswordReset"], true, "{body}");
    let token = w.app.last_mail_to(email).await.secret();
    let body = w
        .anonymous(RESET, json!({ "t": token, "p": "a new long password" }))
        .await;
    assert_eq!(data(&body)["resetPassword"], true, "{body}");
    assert!(!body.to_string().contains("accessToken"));
    let ended = w.app.query(&before, "{ me { id } }", json!({})).await;
    refused(&ended, "UNAUTHENTICATED", "a session from before the reset");
    let login = w
        .anonymous(LOGIN, json!({ "e": email, "p": "a new long password" }))
        .await;
    assert!(
        data(&login)["login"]["accessToken"].is_null()
            && data(&login)["login"]["mfaToken"].is_string(),
        "{login}"
    );
    // The token works once.
    let again = w
        .anonymous(RESET, json!({ "t": token, "p": "another long password" }))
        .await;
    refused(&again, "BAD_USER_INPUT", "a used reset token");
    // A DISABLED account: no email is sent, and a token sent before is refused.
    let who = &w.team.guest;
    let body = w.anonymous(REQUEST_RESET, json!({ "e": who.email })).await;
    assert_eq!(data(&body)["requestPasswordReset"], true);
    let token = w.app.last_mail_to(&who.email).await.secret();
    w.status(who, "DISABLED").await;
    let sent = w.app.mail_folder().len();
    let body = w.anonymous(REQUEST_RESET, json!({ "e": who.email })).await;
    assert_eq!(data(&body)["requestPasswordReset"], true);
    w.app.send_account_emails().await;
    assert_eq!(
        w.app.mail_folder().len(),
        sent,
        "a DISABLED account was mailed"
    );
    let body = w
        .anonymous(RESET, json!({ "t": token, "p": "a new long password" }))
        .await;
    refused(&body, "BAD_USER_INPUT", "a DISABLED account's reset token");
    w.status(who, "ACTIVE").await;
    // Requests are limited per address, known or not, with the same answer.
    let per_address = w.app.state.config.accounts.account_emails_per_address;
    for address in ["nobody.here@example.com", w.team.admin.email.as_str()] {
        let mut last = Value::Null;
        for _ in 0..=per_address {
            last = w.anonymous(REQUEST_RESET, json!({ "e": address })).await;
        }
        refused(
            &last,
            "RATE_LIMITED",
            "reset requests past the address's budget",
        );
    }
    // Guessed tokens are refused alike and limited per IP.
    let limit = w.app.state.config.token_attempts_per_ip;
    let mut last = Value::Null;
    for _ in 0..=limit {
        last = w
            .anonymous(
                RESET,
                json!({ "t": "prs_guess", "p": "a new long password" }),
            )
            .await;
    }
    refused(&last, "RATE_LIMITED", "reset guesses past the per-IP limit");
}

async fn within_session(w: &World, door: &Door) {
    assert_eq!(door.mfa, MfaRule::WithinSession);
    assert!(matches!(door.limit, AccountLimit::NotGuessable(_)));
    let (_, key_id) = create_key(
        &w.app,
        &w.team.owner,
        json!({ "name": "k", "scopes": ["WORKSPACE_READ"] }),
    )
    .await;
    let guest_role = w.app.builtin_role_id(&w.team.owner, "GUEST").await;
    let project = w.app.create_project(&w.team.owner, "Doors", &[]).await;
    let folders = w
        .app
        .query(
            &w.team.owner,
            "query($p: ID!) { folders(projectId: $p) { id name } }",
            json!({ "p": project }),
        )
        .await;
    let branding = data(&folders)["folders"][0]["id"].clone();
    let call = |who: Option<&Session>| {
        let (query, variables) = match door.field {
            "createApiKey" => (CREATE_KEY, json!({})),
            "rotateApiKey" => (ROTATE_KEY, json!({ "i": key_id })),
            "createUploadLink" => (CREATE_LINK, json!({ "f": branding })),
            _ => (INVITE, json!({ "r": guest_role })),
        };
        let who = who.cloned();
        async move { w.app.graphql(who.as_ref(), query, variables).await }
    };
    refused(&call(None).await, "UNAUTHENTICATED", door.field);
    // The strict workspace refuses its admin, who has no MFA.
    let body = w.app.query(&w.strict.admin, CREATE_KEY, json!({})).await;
    refused(
        &body,
        "FORBIDDEN",
        "a credential from an admin without the required MFA",
    );
    // A PENDING account makes no changes.
    w.status(&w.team.admin, "PENDING").await;
    refused(&call(Some(&w.team.admin)).await, "FORBIDDEN", door.field);
    w.status(&w.team.admin, "ACTIVE").await;
}
