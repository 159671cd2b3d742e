//! Login, refresh rotation and reuse detection, logout, password change, account status, and
//! attacks on access tokens.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::user::UserStatus;
use serde_json::{Value, json};

const ME: &str = "{ me { id email status } }";

async fn refresh(app: &TestApp, token: &str) -> Value {
    app.graphql(
        None,
        "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken user { id email } } }",
        json!({ "t": token }),
    )
    .await
}

#[tokio::test]
async fn login_returns_tokens_and_me_works() {
    let app = spawn_app().await;
    app.create_user("Ana@Example.com", "Ana").await;
    // Email is case-insensitive.
    let session = app.login("ANA@example.COM").await;
    let body = app.query(&session, ME, json!({})).await;
    assert_eq!(data(&body)["me"]["email"], "ana@example.com");
    assert_eq!(data(&body)["me"]["status"], "ACTIVE");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_fail_alike() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let wrong = app
        .login_with("ana@example.com", "not the password")
        .await
        .unwrap_err();
    let unknown = app
        .login_with("nobody@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(error_code(&wrong).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(error_code(&unknown).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let first = app.login("ana@example.com").await;

    let rotated = session_from(&refresh(&app, &first.refresh_token).await, "refreshToken").unwrap();
    assert_ne!(rotated.refresh_token, first.refresh_token);
    data(&app.query(&rotated, ME, json!({})).await);

    // The old refresh token again: reuse detected, the whole session dies.
    let reused = refresh(&app, &first.refresh_token).await;
    assert_eq!(error_code(&reused).as_deref(), Some("UNAUTHENTICATED"));
    assert!(
        reused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    let after = refresh(&app, &rotated.refresh_token).await;
    assert_eq!(error_code(&after).as_deref(), Some("UNAUTHENTICATED"));
    let me = app.query(&rotated, ME, json!({})).await;
    assert_eq!(error_code(&me).as_deref(), Some("UNAUTHENTICATED"));
}

/// A race that can be lost: `RACERS` refreshes of one token at once, on a multi-threaded server.
/// Exactly one rotates it; every other one is a reuse, which ends the session, so the winner's
/// new tokens die with it. (Without the claim's `replaced_at IS NULL`, every one of them wins.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_of_one_token_let_exactly_one_through_then_end_the_session() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let session = app.session_for("ana@example.com").await;
    let answers = race(RACERS, |_| refresh(&app, &session.refresh_token)).await;
    let winners: Vec<Session> = answers
        .iter()
        .filter_map(|a| session_from(a, "refreshToken").ok())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one refresh wins: {answers:#?}");
    for answer in answers.iter().filter(|a| !a["errors"].is_null()) {
        assert_eq!(
            error_code(answer).as_deref(),
            Some("UNAUTHENTICATED"),
            "{answer}"
        );
    }
    let after = refresh(&app, &winners[0].refresh_token).await;
    assert_eq!(
        error_code(&after).as_deref(),
        Some("UNAUTHENTICATED"),
        "{after}"
    );
    let me = app.query(&winners[0], ME, json!({})).await;
    assert_eq!(error_code(&me).as_deref(), Some("UNAUTHENTICATED"), "{me}");
}

#[tokio::test]
async fn invalid_refresh_tokens_are_refused() {
    let app = spawn_app().await;
    let body = refresh(&app, "prt_made-up").await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let session = app.login("ana@example.com").await;
    let other = app.login("ana@example.com").await;
    data(&app.query(&session, "mutation { logout }", json!({})).await);
    assert_eq!(
        error_code(&app.query(&session, ME, json!({})).await).as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        error_code(&refresh(&app, &session.refresh_token).await).as_deref(),
        Some("UNAUTHENTICATED")
    );
    // Other sessions live on.
    data(&app.query(&other, ME, json!({})).await);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let current = app.login("ana@example.com").await;
    let other = app.login("ana@example.com").await;
    let wrong = app
        .query(&current, "mutation { changePassword(currentPassword: \"nope\", newPassword: \"a new long password\") }", json!({}))
        .await;
    assert_eq!(error_code(&wrong).as_deref(), Some("BAD_USER_INPUT"));
    let short = app
        .query(
            &current,
            "mutation($c: String!) { changePassword(currentPassword: $c, newPassword: \"short\") }",
            json!({ "c": PASSWORD }),
        )
        .await;
    assert_eq!(error_code(&short).as_deref(), Some("BAD_USER_INPUT"));
    data(
        &app.query(
            &current,
            "mutation($c: String!) { changePassword(currentPassword: $c, newPassword: \"a new long password\") }",
            json!({ "c": PASSWORD }),
        )
        .await,
    );
    data(&app.query(&current, ME, json!({})).await);
    assert_eq!(
        error_code(&app.query(&other, ME, json!({})).await).as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert!(app.login_with("ana@example.com", PASSWORD).await.is_err());
    assert!(
        app.login_with("ana@example.com", "a new long password")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_user_disabled_mid_session_is_stopped_on_the_next_request() {
    let app = spawn_app().await;
    app.create_user("ops@example.com", "Ops").await;
    app.make_platform_admin("ops@example.com").await;
    let ops = app.login("ops@example.com").await;
    let ana_id = app.create_user("ana@example.com", "Ana").await;
    let ana = app.login("ana@example.com").await;
    data(&app.query(&ana, ME, json!({})).await);

    let body = app
        .query(
            &ops,
            "mutation($id: ID!) { setUserStatus(userId: $id, status: DISABLED) { status } }",
            json!({ "id": ana_id }),
        )
        .await;
    assert_eq!(data(&body)["setUserStatus"]["status"], "DISABLED");

    let me = app.query(&ana, ME, json!({})).await;
    assert_eq!(error_code(&me).as_deref(), Some("UNAUTHENTICATED"));
    let login = app
        .login_with("ana@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(error_code(&login).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(
        error_code(&refresh(&app, &ana.refresh_token).await).as_deref(),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test]
async fn only_platform_admins_set_account_status() {
    let app = spawn_app().await;
    let target = app.create_user("ana@example.com", "Ana").await;
    app.create_user("bob@example.com", "Bob").await;
    let bob = app.login("bob@example.com").await;
    let body = app
        .query(
            &bob,
            "mutation($id: ID!) { setUserStatus(userId: $id, status: DISABLED) { status } }",
            json!({ "id": target }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn invited_and_pending_users_read_but_cannot_mutate() {
    let app = spawn_app().await;
    for (email, status) in [
        ("inv@example.com", UserStatus::Invited),
        ("pen@example.com", UserStatus::Pending),
    ] {
        let id = app.create_user(email, "Someone").await;
        app.set_status(id, status).await;
        let session = app.login(email).await;
        data(&app.query(&session, ME, json!({})).await);
        let body = app
            .query(
                &session,
                "mutation { createWorkspace(name: \"Mine\") { id } }",
                json!({}),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{email}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("cannot make changes")
        );
    }
}

fn forge(
    token: &str,
    header: Option<&str>,
    edit: impl FnOnce(&mut Value),
    keep_signature: bool,
) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    edit(&mut claims);
    let head = header.map_or_else(|| parts[0].to_owned(), |h| URL_SAFE_NO_PAD.encode(h));
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let signature = if keep_signature { parts[2] } else { "" };
    format!("{head}.{body}.{signature}")
}

#[tokio::test]
async fn forged_and_stale_access_tokens_are_rejected() {
    let app = spawn_app().await;
    let ana_id = app.create_user("ana@example.com", "Ana").await;
    let bob_id = app.create_user("bob@example.com", "Bob").await;
    let ana = app.login("ana@example.com").await;
    let _ = ana_id;

    let mut attacks: Vec<(&str, String)> = vec![
        (
            "alg none",
            forge(
                &ana.access_token,
                Some(r#"{"alg":"none","typ":"JWT"}"#),
                |_| {},
                false,
            ),
        ),
        (
            "tampered sub",
            forge(&ana.access_token, None, |c| c["sub"] = json!(bob_id), true),
        ),
        (
            "tampered exp",
            forge(
                &ana.access_token,
                None,
                |c| c["exp"] = json!(4_000_000_000i64),
                true,
            ),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    // Algorithm confusion: the right secret under another HMAC, or a header claiming RS256 with
    // the HS256 signature kept. Only HS256 is accepted.
    {
        use hmac::Mac;
        let parts: Vec<&str> = ana.access_token.split('.').collect();
        let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS512","typ":"JWT"}"#);
        let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(
            app.state
                .config
                .jwt_secret
                .as_ref()
                .unwrap()
                .expose()
                .as_bytes(),
        )
        .unwrap();
        mac.update(format!("{head}.{}", parts[1]).as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        attacks.push((
            "HS512 with the right secret",
            format!("{head}.{}.{signature}", parts[1]),
        ));
        attacks.push((
            "RS256 header",
            forge(
                &ana.access_token,
                Some(r#"{"alg":"RS256","typ":"JWT"}"#),
                |_| {},
                true,
            ),
        ));
    }
    // Signed with another key.
    let other = portico::auth::JwtKeys::new(
        &portico::config::Secret::new("another-secret-that-is-long-enough-000"),
        60,
    );
    attacks.push((
        "wrong key",
        other.issue(ana.user_id, uuid::Uuid::now_v7()).unwrap().0,
    ));
    // Expired, correctly signed, for the live session.
    let live = app.state.auth.keys().verify(&ana.access_token).unwrap();
    let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
    attacks.push((
        "expired",
        app.state
            .auth
            .keys()
            .issue_at(ana.user_id, live.sid, an_hour_ago)
            .unwrap()
            .0,
    ));
    // Right key, but a session that does not exist.
    attacks.push((
        "unknown session",
        app.state
            .auth
            .keys()
            .issue(ana.user_id, uuid::Uuid::now_v7())
            .unwrap()
            .0,
    ));
    // Right key and session, but another user's id.
    let parsed = app.state.auth.keys().verify(&ana.access_token).unwrap();
    attacks.push((
        "sub of another user",
        app.state.auth.keys().issue(bob_id, parsed.sid).unwrap().0,
    ));

    for (name, token) in attacks {
        let forged = Session {
            access_token: token,
            ..ana.clone()
        };
        let body = app.query(&forged, ME, json!({})).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("UNAUTHENTICATED"),
            "{name}: {body}"
        );
        assert!(
            body["data"].is_null() || body["data"]["me"].is_null(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_token_of_a_deleted_session_stops_working() {
    use sea_orm::{ColumnTrait, QueryFilter};
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let ana = app.login("ana@example.com").await;
    let claims = app.state.auth.keys().verify(&ana.access_token).unwrap();
    portico::db::Global::new(app.state.db.conn())
        .delete_many::<entity::refresh_token::Entity>()
        .filter(entity::refresh_token::Column::SessionId.eq(claims.sid))
        .exec(app.state.db.conn())
        .await
        .unwrap();
    portico::db::Global::new(app.state.db.conn())
        .delete_many::<entity::session::Entity>()
        .filter(entity::session::Column::Id.eq(claims.sid))
        .exec(app.state.db.conn())
        .await
        .unwrap();
    let body = app.query(&ana, ME, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn an_expired_access_token_can_still_refresh_in_the_same_request() {
    // Public fields work whatever the Authorization header says.
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let ana = app.login("ana@example.com").await;
    let stale = Session {
        access_token: "expired.or.bogus".to_owned(),
        ..ana.clone()
    };
    let body = app
        .graphql(
            Some(&stale),
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
            json!({ "t": ana.refresh_token }),
        )
        .await;
    assert!(data(&body)["refreshToken"]["accessToken"].is_string());
}

#[tokio::test]
async fn a_session_ended_on_one_instance_is_refused_by_another_at_once() {
    let a = spawn_app_with_redis(|_| {}).await;
    let b = spawn_instance_like(&a).await;
    a.create_user("ops@example.com", "Ops").await;
    a.make_platform_admin("ops@example.com").await;
    let ops = a.login("ops@example.com").await;
    let ana_id = a.create_user("ana@example.com", "Ana").await;
    let first = a.login("ana@example.com").await;
    let second = a.login("ana@example.com").await;
    // Both instances have served (and cached) both sessions.
    for instance in [&a, &b] {
        data(&instance.query(&first, ME, json!({})).await);
        data(&instance.query(&second, ME, json!({})).await);
    }

    data(&a.query(&first, "mutation { logout }", json!({})).await);
    let me = b.query(&first, ME, json!({})).await;
    assert_eq!(error_code(&me).as_deref(), Some("UNAUTHENTICATED"));
    data(&b.query(&second, ME, json!({})).await);

    data(
        &b.query(
            &ops,
            "mutation($id: ID!) { setUserStatus(userId: $id, status: DISABLED) { status } }",
            json!({ "id": ana_id }),
        )
        .await,
    );
    let me = a.query(&second, ME, json!({})).await;
    assert_eq!(error_code(&me).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn users_list_and_end_their_own_sessions() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let laptop = app.login("ana@example.com").await;
    let phone = app.login("ana@example.com").await;
    let body = app
        .query(&laptop, "{ mySessions { id current ip } }", json!({}))
        .await;
    let sessions = data(&body)["mySessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(sessions.iter().all(|s| s["ip"] == "127.0.0.1"));
    let phone_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].clone();

    // Someone else cannot end it: NOT_FOUND, like a missing session.
    app.create_user("eve@example.com", "Eve").await;
    let eve = app.login("eve@example.com").await;
    let revoke = "mutation($id: ID!) { revokeSession(id: $id) }";
    let body = app.query(&eve, revoke, json!({ "id": phone_id })).await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"));
    data(&app.query(&phone, ME, json!({})).await);

    data(&app.query(&laptop, revoke, json!({ "id": phone_id })).await);
    let body = app.query(&phone, ME, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    let body = app.query(&laptop, "{ mySessions { id } }", json!({})).await;
    assert_eq!(data(&body)["mySessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn admins_end_a_members_access_to_their_workspace_within_their_rank() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let other = spawn_instance_like(&app).await;
    let end = "mutation($u: ID!) { endMemberSessions(userId: $u) }";
    let second = app
        .login(&team.collaborator.email)
        .await
        .in_workspace(&team.slug);
    data(&app.query(&second, ME, json!({})).await);

    let body = app
        .query(&team.admin, end, json!({ "u": team.collaborator.user_id }))
        .await;
    assert_eq!(data(&body)["endMemberSessions"], 2);
    // Refused in this workspace on every instance; the account itself still signs in.
    const WORKSPACE: &str = "{ workspace { slug } }";
    for session in [&team.collaborator, &second] {
        let body = app.query(session, WORKSPACE, json!({})).await;
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
        if other.state.config.redis_url.is_some() {
            let body = other.query(session, WORKSPACE, json!({})).await;
            assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
        }
        data(&app.query(session, ME, json!({})).await);
    }
    // Not the owner, not oneself, not a stranger.
    let body = app
        .query(&team.admin, end, json!({ "u": team.owner.user_id }))
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    let body = app
        .query(&team.admin, end, json!({ "u": team.admin.user_id }))
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
    let stranger = app.create_user("eve@example.com", "Eve").await;
    let body = app.query(&team.admin, end, json!({ "u": stranger })).await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"));
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn login_guesses_are_counted_per_account_even_aliased_or_batched() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    // Twelve guesses aliased into one document: ten are checked, the rest refused unchecked.
    let guesses: String = (0..12)
        .map(|i| format!("g{i}: login(email: \"ana@example.com\", password: \"guess {i}\") {{ accessToken }} "))
        .collect();
    let body = app
        .graphql(None, &format!("mutation {{ {guesses} }}"), json!({}))
        .await;
    let codes = codes(&body);
    assert_eq!(codes.len(), 12, "{body}");
    assert_eq!(
        codes.iter().filter(|c| *c == "UNAUTHENTICATED").count(),
        10,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "RATE_LIMITED").count(),
        2,
        "{codes:?}"
    );
    let limited = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["extensions"]["code"] == "RATE_LIMITED")
        .unwrap();
    assert!(limited["extensions"]["retryAfter"].as_u64().unwrap() > 0);
    // Even the right password waits for the window now.
    let err = app
        .login_with("ana@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(error_code(&err).as_deref(), Some("RATE_LIMITED"));
    // Other accounts are not locked by it.
    app.create_user("bob@example.com", "Bob").await;
    app.login("bob@example.com").await;
}

#[tokio::test]
async fn login_attempts_are_counted_per_ip_across_a_batch() {
    let app = spawn_app_with(|c| c.login_attempts_per_ip = 5).await;
    for name in ["a", "b", "c"] {
        app.create_user(&format!("{name}@example.com"), name).await;
    }
    // One HTTP request, three operations of two logins each: six attempts from one IP.
    let batch: Vec<Value> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            json!({ "query": format!("mutation {{ x: login(email: \"{name}@example.com\", password: \"wrong one\") {{ accessToken }} y: login(email: \"{name}@example.com\", password: \"{PASSWORD}\") {{ accessToken }} }}") })
        })
        .collect();
    let body: Value = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all: Vec<String> = body.as_array().unwrap().iter().flat_map(codes).collect();
    assert_eq!(
        all.iter().filter(|c| *c == "RATE_LIMITED").count(),
        1,
        "{body}"
    );
    let err = app.login_with("a@example.com", PASSWORD).await.unwrap_err();
    assert_eq!(error_code(&err).as_deref(), Some("RATE_LIMITED"));
}
