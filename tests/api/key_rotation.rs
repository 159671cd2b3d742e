//! Rotating keys without signing anyone out: `JWT_SECRET` moves to `JWT_PREVIOUS_SECRETS` and
//! old tokens keep working until dropped; TOTP secrets sealed under the key derived from the old
//! signing secret stay readable, and `reseal-mfa` moves them under `MFA_KEY`.

use crate::helpers::*;
use crate::mfa::{challenge, current_code, enable_mfa, verify};
use portico::config::Secret;
use sea_orm::{ColumnTrait, QueryFilter};
use serde_json::json;

const NEW_SECRET: &str = "the-rotated-signing-secret-0123456789abcdef";
const MFA_KEY: &str = "a-dedicated-mfa-sealing-key-0123456789abcdef";

async fn me(app: &TestApp, token: &str) -> serde_json::Value {
    app.client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn sealed_secret(app: &TestApp, email: &str) -> String {
    portico::db::Global::new(app.state.db.conn())
        .find::<entity::user::Entity>()
        .filter(entity::user::Column::Email.eq(email))
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .mfa_secret
        .unwrap()
}

#[tokio::test]
async fn a_rotated_signing_secret_signs_nobody_out_and_mfa_moves_to_its_own_key() {
    let app = spawn_app().await;
    let team = app.create_team("rotate").await;
    let old_secret = app.state.config.jwt_secret.clone().unwrap();
    let (totp_secret, _) = enable_mfa(&app, &team.owner).await;
    let old_token = team.owner.access_token.clone();

    // The deploy: a new signing secret, the old one kept for verification.
    let rotated = spawn_instance_with(&app, |c| {
        c.jwt_secret = Some(Secret::new(NEW_SECRET));
        c.jwt_previous_secrets = Some(old_secret.clone());
    })
    .await;
    assert_eq!(
        data(&me(&rotated, &old_token).await)["me"]["email"],
        team.owner.email
    );
    // The TOTP secret sealed under the old derivation still opens: MFA login works.
    let token = challenge(&rotated, &team.owner.email).await;
    let verified = verify(&rotated, &token, &current_code(&totp_secret)).await;
    let new_token = data(&verified)["verifyMfa"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // Once the old secret is dropped, its tokens stop; the new ones work.
    let dropped = spawn_instance_with(&app, |c| {
        c.jwt_secret = Some(Secret::new(NEW_SECRET));
        c.jwt_previous_secrets = None;
    })
    .await;
    assert_eq!(
        error_code(&me(&dropped, &old_token).await).as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        data(&me(&dropped, &new_token).await)["me"]["email"],
        team.owner.email
    );

    // MFA_KEY: before `reseal-mfa`, an instance that knows neither old signing secret cannot
    // open the enrolment; after it, it can.
    let only_mfa_key = |c: &mut portico::config::Config| {
        c.jwt_secret = Some(Secret::new(NEW_SECRET));
        c.jwt_previous_secrets = None;
        c.mfa_key = Some(Secret::new(MFA_KEY));
    };
    let before = spawn_instance_with(&app, only_mfa_key).await;
    let sealed = sealed_secret(&app, &team.owner.email).await;
    assert!(before.state.mfa.open(&sealed).is_err());
    let migrating = spawn_instance_with(&app, |c| {
        only_mfa_key(c);
        c.jwt_previous_secrets = Some(old_secret.clone());
    })
    .await;
    let done = portico::identity::mfa_keys::reseal_all(&migrating.state.db, &migrating.state.mfa)
        .await
        .unwrap();
    assert_eq!((done.moved, done.unreadable), (1, 0));
    let resealed = sealed_secret(&app, &team.owner.email).await;
    assert_ne!(resealed, sealed);
    assert_eq!(before.state.mfa.open(&resealed).unwrap(), totp_secret);
    let again = portico::identity::mfa_keys::reseal_all(&before.state.db, &before.state.mfa)
        .await
        .unwrap();
    assert_eq!((again.moved, again.current), (0, 1));
}
