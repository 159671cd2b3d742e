//! Upload links: staff create an expiring, upload-only link into a client-zone folder (with a
//! PIN and a file limit when they want); someone without an account uploads through it with the
//! same checks as members; wrong PINs are counted; a revoked or expired link answers NOT_FOUND.

use crate::files::{PNG, Portal, sha256_hex};
use crate::helpers::*;
use serde_json::{Value, json};

async fn create_link(p: &Portal, who: &Session, folder: &str, extra: Value) -> Value {
    let mut input = json!({ "folderId": folder, "name": "From the printer" });
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    p.app
        .query(
            who,
            "mutation($i: CreateUploadLinkInput!) { createUploadLink(input: $i) { token link { id hasPin maxFiles filesUsed } } }",
            json!({ "i": input }),
        )
        .await
}

/// Announces, PUTs and completes a file through a link, anonymously: the completion's response.
async fn send(p: &Portal, token: &str, pin: Option<&str>, name: &str, bytes: &[u8]) -> Value {
    let announced = p
        .app
        .graphql(
            None,
            "mutation($t: String!, $p: String, $i: LinkUploadInput!) { uploadThroughLink(token: $t, pin: $p, input: $i) { id url method headers { name value } expiresAt } }",
            json!({ "t": token, "p": pin, "i": { "name": name, "size": bytes.len(), "contentType": "image/png", "sha256": sha256_hex(bytes) } }),
        )
        .await;
    let Some(upload) = announced["data"]["uploadThroughLink"].as_object() else {
        return announced;
    };
    let wrapped = json!({ "data": { "createUpload": upload } });
    assert_eq!(p.put(&wrapped, bytes).await, 200);
    p.app
        .graphql(
            None,
            "mutation($t: String!, $p: String, $u: ID!) { completeLinkUpload(token: $t, pin: $p, id: $u) }",
            json!({ "t": token, "p": pin, "u": upload["id"] }),
        )
        .await
}

#[tokio::test]
async fn someone_without_an_account_uploads_through_a_link_into_the_client_zone() {
    let p = Portal::start().await;
    let branding = p.folder("Branding").await;
    let created = create_link(
        &p,
        &p.team.collaborator,
        &branding,
        json!({ "maxFiles": 2 }),
    )
    .await;
    let token = data(&created)["createUploadLink"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    assert!(token.starts_with("pul_"));

    let done = send(&p, &token, None, "logo.png", PNG).await;
    assert_eq!(data(&done)["completeLinkUpload"], true, "{done}");
    let files = p
        .app
        .query(&p.team.client, "query($f: ID!) { folder(id: $f) { files(first: 5) { nodes { name zone uploadLinkId } } } }", json!({ "f": branding }))
        .await;
    let node = &data(&files)["folder"]["files"]["nodes"][0];
    assert_eq!(node["name"], "logo.png");
    assert_eq!(node["zone"], "CLIENT");
    assert_eq!(
        node["uploadLinkId"],
        data(&created)["createUploadLink"]["link"]["id"]
    );

    // The limit counts files done and under way.
    let second = send(&p, &token, None, "logo2.png", PNG).await;
    assert_eq!(data(&second)["completeLinkUpload"], true, "{second}");
    let third = send(&p, &token, None, "logo3.png", PNG).await;
    assert_eq!(error_code(&third).as_deref(), Some("CONFLICT"), "{third}");

    // Revoked: NOT_FOUND, exactly like a token that never existed.
    let link_id = data(&created)["createUploadLink"]["link"]["id"].clone();
    let revoked = p
        .app
        .query(
            &p.team.owner,
            "mutation($l: ID!) { revokeUploadLink(id: $l) { revokedAt } }",
            json!({ "l": link_id }),
        )
        .await;
    assert!(
        data(&revoked)["revokeUploadLink"]["revokedAt"].is_string(),
        "{revoked}"
    );
    let after = send(&p, &token, None, "late.png", PNG).await;
    let unknown = send(&p, "pul_nothing", None, "late.png", PNG).await;
    assert_eq!(error_code(&after).as_deref(), Some("NOT_FOUND"), "{after}");
    assert_eq!(
        after["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
}

#[tokio::test]
async fn a_links_pin_is_required_and_wrong_guesses_are_counted() {
    let p = Portal::start().await;
    let content = p.folder("Content").await;
    let created = create_link(&p, &p.team.owner, &content, json!({ "pin": "4821" })).await;
    assert_eq!(data(&created)["createUploadLink"]["link"]["hasPin"], true);
    let token = data(&created)["createUploadLink"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = send(&p, &token, None, "a.png", PNG).await;
    assert_eq!(
        error_code(&missing).as_deref(),
        Some("FORBIDDEN"),
        "{missing}"
    );
    for _ in 0..4 {
        let wrong = send(&p, &token, Some("0000"), "a.png", PNG).await;
        assert_eq!(error_code(&wrong).as_deref(), Some("FORBIDDEN"), "{wrong}");
    }
    // Five failures: even the right PIN waits now.
    let locked = send(&p, &token, Some("4821"), "a.png", PNG).await;
    assert_eq!(
        error_code(&locked).as_deref(),
        Some("RATE_LIMITED"),
        "{locked}"
    );
}

#[tokio::test]
async fn only_staff_create_links_and_only_into_the_client_zone() {
    let p = Portal::start().await;
    let branding = p.folder("Branding").await;
    let deliverables = p.folder("Deliverables").await;
    let client = create_link(&p, &p.team.client, &branding, json!({})).await;
    assert_eq!(
        error_code(&client).as_deref(),
        Some("FORBIDDEN"),
        "{client}"
    );
    let shared = create_link(&p, &p.team.owner, &deliverables, json!({})).await;
    assert_eq!(
        shared["errors"][0]["extensions"]["field"], "folderId",
        "{shared}"
    );
    for (extra, field) in [
        (json!({ "pin": "12" }), "pin"),
        (json!({ "pin": "12ab" }), "pin"),
        (json!({ "expiresInHours": 0 }), "expiresInHours"),
        (json!({ "maxFiles": 0 }), "maxFiles"),
    ] {
        let refused = create_link(&p, &p.team.owner, &branding, extra).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], field,
            "{refused}"
        );
    }
    // Another workspace's folder answers NOT_FOUND.
    let globex = p.app.create_team("globex").await;
    let theirs = create_link(&p, &globex.owner, &branding, json!({})).await;
    assert_eq!(
        error_code(&theirs).as_deref(),
        Some("NOT_FOUND"),
        "{theirs}"
    );
    let list = p
        .app
        .query(
            &p.team.client,
            "query($p: ID!) { uploadLinks(projectId: $p) { id } }",
            json!({ "p": p.project }),
        )
        .await;
    assert_eq!(error_code(&list).as_deref(), Some("FORBIDDEN"), "{list}");
}

#[tokio::test]
async fn a_link_stops_when_its_creator_is_no_longer_an_active_member() {
    let p = Portal::start().await;
    let content = p.folder("Content").await;
    let created = create_link(&p, &p.team.collaborator, &content, json!({})).await;
    let token = data(&created)["createUploadLink"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    p.app
        .set_status(
            p.team.collaborator.user_id,
            entity::user::UserStatus::Disabled,
        )
        .await;
    let refused = send(&p, &token, None, "a.png", PNG).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("NOT_FOUND"),
        "{refused}"
    );
    p.app
        .set_status(
            p.team.collaborator.user_id,
            entity::user::UserStatus::Active,
        )
        .await;
    let sent = send(&p, &token, None, "a.png", PNG).await;
    assert_eq!(data(&sent)["completeLinkUpload"], true, "{sent}");
}
