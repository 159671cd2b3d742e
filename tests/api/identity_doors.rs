//! The doors around identity, tried as an attacker would: accepting an invitation is no second
//! login (no MFA bypass, no password guessing), a key stops with its creator's account, GET never
//! runs a stored mutation, and a workspace ends a member's access only to itself.

use crate::apikeys::{create_key, with_key};
use crate::helpers::*;
use crate::mfa::enable_mfa;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ACCEPT: &str = "mutation($c: String!, $n: String, $p: String!) { acceptInvitation(code: $c, name: $n, password: $p) { accessToken refreshToken user { id } } }";
const JOIN: &str =
    "mutation($c: String!) { joinWorkspace(code: $c) { workspace { slug } role { builtin } } }";
const ME: &str = "{ me { id } }";
const WORKSPACE: &str = "{ workspace { slug } }";

/// `team`'s owner invites `email` as a collaborator; returns the code.
async fn invite(app: &TestApp, team: &Team, email: &str) -> String {
    app.invite(&team.owner, email, "COLLABORATOR").await
}

async fn accept(app: &TestApp, code: &str, password: &str) -> Value {
    app.graphql(
        None,
        ACCEPT,
        json!({ "c": code, "n": "Anyone", "p": password }),
    )
    .await
}

/// Hole 1: Eve invites Chris (MFA on) into her own workspace and accepts with his password.
#[tokio::test]
async fn accepting_an_invitation_never_signs_in_around_mfa() {
    let app = spawn_app().await;
    let chris = app.create_team("chris").await;
    enable_mfa(&app, &chris.owner).await;
    let eve = app.create_team("eve").await;
    let code = invite(&app, &eve, &chris.owner.email).await;

    let body = accept(&app, &code, PASSWORD).await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("UNAUTHENTICATED"),
        "{body}"
    );
    assert_eq!(body["data"], Value::Null, "{body}");
    assert!(!body.to_string().contains("accessToken\":\""), "{body}");

    // Chris joins from his own session (which passed MFA); the code is then spent.
    let joined = app.query(&chris.owner, JOIN, json!({ "c": code })).await;
    assert_eq!(
        data(&joined)["joinWorkspace"]["workspace"]["slug"],
        eve.slug
    );
    assert_eq!(
        data(&joined)["joinWorkspace"]["role"]["builtin"],
        "COLLABORATOR"
    );
    let again = app.query(&chris.owner, JOIN, json!({ "c": code })).await;
    assert_eq!(error_code(&again).as_deref(), Some("BAD_USER_INPUT"));

    // A code for somebody else answers like an unknown one, and keys cannot join.
    let other = invite(&app, &eve, "someone.else@example.com").await;
    let foreign = app.query(&chris.admin, JOIN, json!({ "c": other })).await;
    let bogus = app
        .query(&chris.admin, JOIN, json!({ "c": "inv_bogus" }))
        .await;
    assert_eq!(
        foreign["errors"][0]["message"],
        bogus["errors"][0]["message"]
    );
    assert_eq!(error_code(&foreign).as_deref(), Some("BAD_USER_INPUT"));
    let (key, _) = create_key(
        &app,
        &chris.owner,
        json!({ "name": "k", "scopes": ["WORKSPACE_READ"] }),
    )
    .await;
    let by_key = with_key(&app, &key, false, JOIN, json!({ "c": other })).await;
    assert_eq!(
        error_code(&by_key).as_deref(),
        Some("FORBIDDEN"),
        "{by_key}"
    );
}

/// Hole 2: the password is never checked there, every answer is the same, and each attempt
/// counts against the account's login budget.
#[tokio::test]
async fn invitation_attempts_count_per_account_and_answer_alike() {
    let app = spawn_app().await;
    let victim = app.create_team("victim").await;
    let eve = app.create_team("eve").await;
    let code = invite(&app, &eve, &victim.client.email).await;
    let limit = app.state.config.login_attempts_per_account;
    let mut answers = std::collections::HashSet::new();
    for attempt in 0..limit {
        let password = if attempt == 3 {
            PASSWORD.to_owned()
        } else {
            format!("guess number {attempt}")
        };
        let body = accept(&app, &code, &password).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("UNAUTHENTICATED"),
            "{body}"
        );
        answers.insert(body["errors"][0]["message"].to_string());
    }
    assert_eq!(answers.len(), 1, "{answers:?}");
    let limited = accept(&app, &code, PASSWORD).await;
    assert_eq!(
        error_code(&limited).as_deref(),
        Some("RATE_LIMITED"),
        "{limited}"
    );
    // One budget per account, shared with login.
    let login = app.login_with(&victim.client.email, PASSWORD).await;
    assert_eq!(
        error_code(&login.unwrap_err()).as_deref(),
        Some("RATE_LIMITED")
    );
}

/// Hole 3: a key acts for its creator; a creator who is not ACTIVE stops it at once, on every
/// instance, and it resumes with the account.
#[tokio::test]
async fn api_keys_stop_with_a_disabled_creator() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let other = spawn_instance_like(&app).await;
    let (key, _) = create_key(
        &app,
        &team.admin,
        json!({ "name": "k", "scopes": ["WORKSPACE_READ"] }),
    )
    .await;
    for instance in [&app, &other] {
        let body = with_key(instance, &key, true, WORKSPACE, json!({})).await;
        assert_eq!(data(&body)["workspace"]["slug"], team.slug);
    }
    app.create_user("ops@example.com", "Ops").await;
    app.make_platform_admin("ops@example.com").await;
    let ops = app.login("ops@example.com").await;
    const STATUS: &str =
        "mutation($u: ID!, $s: UserStatus!) { setUserStatus(userId: $u, status: $s) { status } }";
    for (status, works) in [("DISABLED", false), ("PENDING", false), ("ACTIVE", true)] {
        let body = app
            .query(
                &ops,
                STATUS,
                json!({ "u": team.admin.user_id, "s": status }),
            )
            .await;
        assert_eq!(data(&body)["setUserStatus"]["status"], status);
        let instances: &[&TestApp] = if other.state.config.redis_url.is_some() {
            &[&app, &other]
        } else {
            &[&app]
        };
        for instance in instances {
            let body = with_key(instance, &key, true, WORKSPACE, json!({})).await;
            if works {
                assert_eq!(data(&body)["workspace"]["slug"], team.slug, "{body}");
            } else {
                assert_eq!(
                    error_code(&body).as_deref(),
                    Some("UNAUTHENTICATED"),
                    "{status}: {body}"
                );
            }
        }
    }
}

/// Stores `text` in the persisted-query cache with an anonymous POST; returns the POST's answer
/// and the `extensions` that name it by hash.
async fn store_persisted(app: &TestApp, text: &str) -> (Value, Value) {
    let hash = hex::encode(Sha256::digest(text.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let stored = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": text, "extensions": extensions }))
        .send()
        .await
        .unwrap();
    (stored.json().await.unwrap(), extensions)
}

/// GETs the persisted query named by `extensions` as `who`: status and body.
async fn get_persisted(app: &TestApp, who: &Session, extensions: &Value) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("extensions", extensions.to_string())])
        .bearer_auth(&who.access_token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Hole 4: a mutation stored by an anonymous POST under its hash is refused by GET, by hash.
#[tokio::test]
async fn get_never_runs_a_mutation_stored_as_a_persisted_query() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    // Anonymous: the mutation is refused, but its text is stored.
    let (stored, extensions) = store_persisted(&app, "mutation { logout }").await;
    assert_eq!(
        error_code(&stored).as_deref(),
        Some("UNAUTHENTICATED"),
        "{stored}"
    );
    let (status, body) = get_persisted(&app, &team.client, &extensions).await;
    assert_eq!(status, 405);
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    assert_eq!(body["data"], Value::Null, "{body}");
    // The session is alive: the mutation did not run.
    data(&app.query(&team.client, ME, json!({})).await);
    // A stored query still runs by GET.
    let (_, extensions) = store_persisted(&app, "{ me { email } }").await;
    let (status, body) = get_persisted(&app, &team.client, &extensions).await;
    assert_eq!(status, 200);
    assert_eq!(data(&body)["me"]["email"], team.client.email);
}

/// Hole 5: a workspace admin ends a member's access to *their* workspace only; a platform
/// operator ends every session.
#[tokio::test]
async fn ending_a_members_sessions_reaches_only_that_workspace() {
    let app = spawn_app().await;
    let acme = app.create_team("acme").await;
    let globex = app.create_team("globex").await;
    // The collaborator of acme is also a member of globex.
    let code = invite(&app, &globex, &acme.collaborator.email).await;
    data(
        &app.query(&acme.collaborator, JOIN, json!({ "c": code }))
            .await,
    );
    let in_globex = acme.collaborator.in_workspace(&globex.slug);
    let other = spawn_instance_like(&app).await;

    let end = "mutation($u: ID!) { endMemberSessions(userId: $u) }";
    let body = app
        .query(
            &globex.admin,
            end,
            json!({ "u": acme.collaborator.user_id }),
        )
        .await;
    assert_eq!(data(&body)["endMemberSessions"], 1);
    let refused = app.query(&in_globex, WORKSPACE, json!({})).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("UNAUTHENTICATED"),
        "{refused}"
    );
    if other.state.config.redis_url.is_some() {
        let refused = other.query(&in_globex, WORKSPACE, json!({})).await;
        assert_eq!(
            error_code(&refused).as_deref(),
            Some("UNAUTHENTICATED"),
            "{refused}"
        );
    }
    // Acme and the account itself are untouched.
    let body = app.query(&acme.collaborator, WORKSPACE, json!({})).await;
    assert_eq!(data(&body)["workspace"]["slug"], acme.slug);
    data(&app.query(&acme.collaborator, ME, json!({})).await);
    // Signing in again restores access to globex.
    let fresh = app
        .login(&acme.collaborator.email)
        .await
        .in_workspace(&globex.slug);
    let body = app.query(&fresh, WORKSPACE, json!({})).await;
    assert_eq!(data(&body)["workspace"]["slug"], globex.slug);

    // Only an operator ends every session; an admin cannot.
    let everywhere = "mutation($u: ID!) { endUserSessions(userId: $u) }";
    let body = app
        .query(
            &globex.admin,
            everywhere,
            json!({ "u": acme.collaborator.user_id }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    app.create_user("ops@example.com", "Ops").await;
    app.make_platform_admin("ops@example.com").await;
    let ops = app.login("ops@example.com").await;
    let body = app
        .query(&ops, everywhere, json!({ "u": acme.collaborator.user_id }))
        .await;
    assert_eq!(data(&body)["endUserSessions"], 2);
    for session in [&acme.collaborator, &fresh] {
        let body = app.query(session, ME, json!({})).await;
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    }
    let stranger = app
        .query(&ops, everywhere, json!({ "u": uuid::Uuid::now_v7() }))
        .await;
    assert_eq!(error_code(&stranger).as_deref(), Some("NOT_FOUND"));
}
