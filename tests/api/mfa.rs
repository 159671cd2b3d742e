//! TOTP MFA: enrolment and confirmation, the login challenge, codes that work once, recovery
//! codes, brute-force limits on codes, disabling, and the workspace setting that requires MFA of
//! owners and admins.

use crate::helpers::*;
use portico::auth::totp;
use serde_json::{Value, json};

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken mfaToken user { id } } }";
const VERIFY: &str = "mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) { accessToken refreshToken user { id email } } }";

/// Enrols and confirms MFA for `s`; returns the secret and the recovery codes.
pub(crate) async fn enable_mfa(app: &TestApp, s: &Session) -> (Vec<u8>, Vec<String>) {
    let body = app
        .query(s, "mutation { enrolMfa { secret otpauthUri } }", json!({}))
        .await;
    let enrolment = &data(&body)["enrolMfa"];
    let uri = enrolment["otpauthUri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Portico:"), "{uri}");
    let secret = data_encoding::BASE32_NOPAD
        .decode(enrolment["secret"].as_str().unwrap().as_bytes())
        .unwrap();
    assert!(uri.contains(enrolment["secret"].as_str().unwrap()));
    let wrong = app
        .query(s, "mutation { confirmMfa(code: \"000000\") }", json!({}))
        .await;
    assert_eq!(error_code(&wrong).as_deref(), Some("BAD_USER_INPUT"));
    let code = totp::code_at(&secret, totp::step_of(chrono::Utc::now().timestamp()) - 1);
    let body = app
        .query(
            s,
            "mutation($c: String!) { confirmMfa(code: $c) }",
            json!({ "c": code }),
        )
        .await;
    let codes: Vec<String> = data(&body)["confirmMfa"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

/// A code of the current step (one the enrolment, which used the previous step, did not spend).
pub(crate) fn current_code(secret: &[u8]) -> String {
    totp::code_at(secret, totp::step_of(chrono::Utc::now().timestamp()))
}

pub(crate) async fn challenge(app: &TestApp, email: &str) -> String {
    let body = app
        .graphql(None, LOGIN, json!({ "e": email, "p": PASSWORD }))
        .await;
    let login = &data(&body)["login"];
    assert!(
        login["accessToken"].is_null() && login["user"].is_null(),
        "{body}"
    );
    login["mfaToken"].as_str().unwrap().to_owned()
}

pub(crate) async fn verify(app: &TestApp, token: &str, code: &str) -> Value {
    app.graphql(None, VERIFY, json!({ "t": token, "c": code }))
        .await
}

#[tokio::test]
async fn enrolment_then_login_needs_a_code_that_works_once() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let other_device = app.login(&team.admin.email).await;
    let (secret, recovery) = enable_mfa(&app, &team.admin).await;
    assert_eq!(recovery.len(), 10);
    assert_eq!(
        recovery
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        10
    );
    let me = app
        .query(&team.admin, "{ me { mfaEnabled } }", json!({}))
        .await;
    assert_eq!(data(&me)["me"]["mfaEnabled"], true);
    // The other session ended: every live session has passed MFA.
    let gone = app.query(&other_device, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&gone).as_deref(), Some("UNAUTHENTICATED"));
    // Enrolling again is refused while MFA is on.
    let again = app
        .query(&team.admin, "mutation { enrolMfa { secret } }", json!({}))
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));

    // A password alone gives a challenge, not tokens.
    let token = challenge(&app, &team.admin.email).await;
    let wrong = verify(&app, &token, "123456").await;
    assert_eq!(error_code(&wrong).as_deref(), Some("UNAUTHENTICATED"));
    let code = current_code(&secret);
    let signed = verify(&app, &token, &code).await;
    let session = session_from(&signed, "verifyMfa").unwrap_or_else(|b| panic!("{b}"));
    assert_eq!(session.user_id, team.admin.user_id);
    // The challenge works once; the code too, even with a new challenge.
    let reused = verify(&app, &token, &code).await;
    assert_eq!(error_code(&reused).as_deref(), Some("UNAUTHENTICATED"));
    let fresh = challenge(&app, &team.admin.email).await;
    let replayed = verify(&app, &fresh, &code).await;
    assert_eq!(error_code(&replayed).as_deref(), Some("UNAUTHENTICATED"));
    // A recovery code stands in for a code, once.
    let by_recovery = verify(&app, &fresh, &recovery[0].to_uppercase()).await;
    assert!(
        session_from(&by_recovery, "verifyMfa").is_ok(),
        "{by_recovery}"
    );
    let third = challenge(&app, &team.admin.email).await;
    let spent = verify(&app, &third, &recovery[0]).await;
    assert_eq!(error_code(&spent).as_deref(), Some("UNAUTHENTICATED"));
    // Garbage tokens are refused like expired ones.
    let unknown = verify(&app, "mfa_nope", &recovery[1]).await;
    assert_eq!(error_code(&unknown).as_deref(), Some("UNAUTHENTICATED"));

    // Disabling takes a code; then a password is enough again.
    let signed = session_from(&by_recovery, "verifyMfa").unwrap();
    let off = app
        .query(
            &signed,
            "mutation($c: String!) { disableMfa(code: $c) }",
            json!({ "c": recovery[1] }),
        )
        .await;
    assert_eq!(data(&off)["disableMfa"], true, "{off}");
    assert!(app.login_with(&team.admin.email, PASSWORD).await.is_ok());
}

#[tokio::test]
async fn guessing_codes_is_rate_limited_per_account() {
    let app = spawn_app_with(|c| c.login_attempts_per_account = 3).await;
    let team = app.create_team("acme").await;
    let (secret, _) = enable_mfa(&app, &team.owner).await;
    let token = challenge(&app, &team.owner.email).await;
    // Several guesses in one document and in one batch each count.
    let aliased = app
        .graphql(
            None,
            "mutation($t: String!) { a: verifyMfa(mfaToken: $t, code: \"111111\") { accessToken } b: verifyMfa(mfaToken: $t, code: \"222222\") { accessToken } c: verifyMfa(mfaToken: $t, code: \"333333\") { accessToken } }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(error_codes(&aliased).len(), 3, "{aliased}");
    assert!(
        error_codes(&aliased).iter().all(|c| c == "UNAUTHENTICATED"),
        "{aliased}"
    );
    let limited = verify(&app, &token, &current_code(&secret)).await;
    assert_eq!(
        error_code(&limited).as_deref(),
        Some("RATE_LIMITED"),
        "{limited}"
    );
    assert!(
        limited["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some()
    );
}

#[tokio::test]
async fn a_workspace_can_require_mfa_of_owners_and_admins() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    const REQUIRE: &str = "mutation { updateWorkspace(input: {requireMfaForAdmins: true}) { settings { requireMfaForAdmins } } }";
    // A key the admin made before the requirement.
    let created = app
        .query(
            &team.admin,
            "mutation { createApiKey(input: {name: \"k\", scopes: [WORKSPACE_READ]}) { key } }",
            json!({}),
        )
        .await;
    let key = data(&created)["createApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_key = |key: String| {
        let app = &app;
        async move {
            app.client
                .post(format!("{}/graphql", app.address))
                .header("X-API-Key", key)
                .json(&json!({ "query": "{ workspace { id } }" }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert!(error_code(&with_key(key.clone()).await).is_none());
    // Nobody locks themselves out: the owner needs MFA first.
    let refused = app.query(&team.owner, REQUIRE, json!({})).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("BAD_USER_INPUT"),
        "{refused}"
    );
    enable_mfa(&app, &team.owner).await;
    let set = app.query(&team.owner, REQUIRE, json!({})).await;
    assert_eq!(
        data(&set)["updateWorkspace"]["settings"]["requireMfaForAdmins"],
        true,
        "{set}"
    );

    // The admin without MFA is refused in this workspace, at once (cached access forgotten).
    let admin = app
        .query(&team.admin, "{ workspace { id } }", json!({}))
        .await;
    assert_eq!(error_code(&admin).as_deref(), Some("FORBIDDEN"), "{admin}");
    assert!(
        admin["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("enrolMfa")
    );
    // The admin's key is suspended with them.
    let suspended = with_key(key.clone()).await;
    assert_eq!(
        error_code(&suspended).as_deref(),
        Some("FORBIDDEN"),
        "{suspended}"
    );
    // Others are not concerned.
    for s in [&team.collaborator, &team.client] {
        let body = app.query(s, "{ workspace { id } }", json!({})).await;
        assert!(succeeded(&body, "workspace")["id"].is_string(), "{body}");
    }
    // Enrolling needs no workspace; once on, the admin acts again.
    enable_mfa(&app, &team.admin).await;
    let after = app
        .query(&team.admin, "{ workspace { id } }", json!({}))
        .await;
    assert!(succeeded(&after, "workspace")["id"].is_string(), "{after}");
    let resumed = with_key(key).await;
    assert!(error_code(&resumed).is_none(), "{resumed}");
}
