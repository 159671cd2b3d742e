//! Invitations: accept (new accounts) and join (existing accounts, signed in), single use,
//! expiry, revocation.

use crate::helpers::*;
use serde_json::{Value, json};

async fn invite(app: &TestApp, team: &Team, email: &str, role: &str) -> (String, String) {
    let role_id = app.builtin_role_id(&team.owner, role).await;
    let body = app
        .query(&team.owner, "mutation($e: String!, $r: ID!) { inviteMember(email: $e, roleId: $r) { invitation { id status email role { builtin } } } }", json!({ "e": email, "r": role_id }))
        .await;
    let created = &data(&body)["inviteMember"];
    assert_eq!(created["invitation"]["role"]["builtin"], role);
    // The code travels only by email.
    assert!(!body.to_string().contains("inv_"), "{body}");
    (
        app.last_mail_to(email).await.secret(),
        created["invitation"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn accept(app: &TestApp, code: &str, name: Option<&str>, password: &str) -> Value {
    app.graphql(
        None,
        "mutation($c: String!, $n: String, $p: String!) { acceptInvitation(code: $c, name: $n, password: $p) { accessToken refreshToken user { id email } } }",
        json!({ "c": code, "n": name, "p": password }),
    )
    .await
}

#[tokio::test]
async fn a_new_person_accepts_and_joins_with_the_role() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let (code, _) = invite(&app, &team, "New.Client@Example.com", "CLIENT").await;
    let listed = app
        .query(&team.owner, "{ invitations { status email } }", json!({}))
        .await;
    assert_eq!(data(&listed)["invitations"][0]["status"], "PENDING");
    assert_eq!(
        data(&listed)["invitations"][0]["email"],
        "new.client@example.com"
    );
    let body = accept(&app, &code, Some("New Client"), "a brand new password").await;
    let session = session_from(&body, "acceptInvitation")
        .unwrap()
        .in_workspace(&team.slug);
    assert_eq!(session.email, "new.client@example.com");
    let perms = app
        .query(&session, "{ myPermissions workspace { slug } }", json!({}))
        .await;
    assert!(
        data(&perms)["myPermissions"]
            .as_array()
            .unwrap()
            .contains(&json!("TICKET_CREATE"))
    );
    // The code works once.
    let again = accept(&app, &code, Some("Someone"), "another long password").await;
    assert_eq!(error_code(&again).as_deref(), Some("BAD_USER_INPUT"));
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
}

#[tokio::test]
async fn an_existing_account_joins_while_signed_in() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let globex = app.create_team("globex").await;
    let (code, _) = invite(&app, &team, &globex.owner.email, "COLLABORATOR").await;
    // Neither a wrong nor the right password signs anyone in through the invitation.
    let wrong = accept(&app, &code, None, "not the password").await;
    let right = accept(&app, &code, None, PASSWORD).await;
    assert_eq!(error_code(&wrong).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(wrong["errors"], right["errors"]);
    let joined = app
        .query(
            &globex.owner,
            "mutation($c: String!) { joinWorkspace(code: $c) { workspace { slug } role { builtin } } }",
            json!({ "c": code }),
        )
        .await;
    assert_eq!(
        data(&joined)["joinWorkspace"]["workspace"]["slug"],
        team.slug
    );
    let mine = app
        .query(
            &globex.owner,
            "{ myWorkspaces { workspace { slug } role { builtin } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&mine)["myWorkspaces"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn revoked_expired_and_bogus_codes_are_refused_clearly() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let (code, id) = invite(&app, &team, "late@example.com", "GUEST").await;
    data(
        &app.query(
            &team.owner,
            "mutation($i: ID!) { revokeInvitation(id: $i) { status } }",
            json!({ "i": id }),
        )
        .await,
    );
    let revoked = accept(&app, &code, Some("Late"), "a long enough password").await;
    assert!(
        revoked["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );

    let expiring = spawn_app_with(|c| c.invitation_ttl_secs = 0).await;
    let team = expiring.create_team("acme").await;
    let (code, _) = invite(&expiring, &team, "late@example.com", "GUEST").await;
    let expired = accept(&expiring, &code, Some("Late"), "a long enough password").await;
    assert_eq!(error_code(&expired).as_deref(), Some("BAD_USER_INPUT"));
    assert!(
        expired["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let listed = expiring
        .query(&team.owner, "{ invitations { status } }", json!({}))
        .await;
    assert_eq!(data(&listed)["invitations"][0]["status"], "EXPIRED");

    let bogus = accept(&app, "inv_bogus", Some("X"), "a long enough password").await;
    assert_eq!(error_code(&bogus).as_deref(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn members_cannot_be_invited_twice_and_codes_are_stored_hashed() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let roles = app.query(&team.owner, "{ roles { id } }", json!({})).await;
    let body = app
        .query(
            &team.owner,
            "mutation($e: String!, $r: ID!) { inviteMember(email: $e, roleId: $r) { invitation { id } } }",
            json!({ "e": team.client.email, "r": data(&roles)["roles"][4]["id"] }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("CONFLICT"));

    let (code, _) = invite(&app, &team, "fresh@example.com", "GUEST").await;
    let rows = portico::db::Scoped::new(app.state.db.conn(), team.workspace_id)
        .find::<entity::invitation::Entity>()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.code_hash != code && r.code_hash.len() == 64)
    );
}
