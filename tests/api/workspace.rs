//! Workspaces: creation, settings, membership listing, custom roles, and the permission cache
//! following every change.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn create_and_list_my_workspaces() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "Ana").await;
    let ana = app.login("ana@example.com").await;
    let body = app.query(&ana, "mutation { createWorkspace(name: \"Ana Design!\") { slug name settings { brandColor } } }", json!({})).await;
    assert_eq!(data(&body)["createWorkspace"]["slug"], "ana-design");
    let taken = app
        .query(
            &ana,
            "mutation { createWorkspace(name: \"Other\", slug: \"ana-design\") { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&taken).as_deref(), Some("CONFLICT"));
    let bad = app
        .query(
            &ana,
            "mutation { createWorkspace(name: \"Other\", slug: \"Not A Slug\") { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&bad).as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(bad["errors"][0]["extensions"]["field"], "slug");
    let mine = app
        .query(
            &ana,
            "{ myWorkspaces { workspace { slug } role { builtin permissions } } }",
            json!({}),
        )
        .await;
    let list = data(&mine)["myWorkspaces"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["role"]["builtin"], "OWNER");
}

#[tokio::test]
async fn settings_are_validated_and_cleared() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let ok = app
        .query(&team.admin, "mutation { updateWorkspace(input: {displayName: \"ACME\", brandColor: \"#A1B2C3\", logoUrl: \"https://cdn.example/logo.png\", emailSenderName: \"Acme team\"}) { settings { displayName brandColor logoUrl emailSenderName } } }", json!({}))
        .await;
    assert_eq!(
        data(&ok)["updateWorkspace"]["settings"]["brandColor"],
        "#a1b2c3"
    );
    for bad in [
        "{brandColor: \"blue\"}",
        "{logoUrl: \"javascript:alert(1)\"}",
        "{name: \"  \"}",
    ] {
        let body = app
            .query(
                &team.admin,
                &format!("mutation {{ updateWorkspace(input: {bad}) {{ id }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{bad}"
        );
    }
    let cleared = app.query(&team.admin, "mutation { updateWorkspace(input: {brandColor: null}) { settings { brandColor displayName } } }", json!({})).await;
    assert!(data(&cleared)["updateWorkspace"]["settings"]["brandColor"].is_null());
    assert_eq!(
        data(&cleared)["updateWorkspace"]["settings"]["displayName"],
        "ACME"
    );
}

#[tokio::test]
async fn members_are_paginated_with_a_total() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let first = app.query(&team.owner, "{ members(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { id role { builtin } } } } }", json!({})).await;
    let page = &data(&first)["members"];
    assert_eq!(page["totalCount"], 5);
    assert_eq!(page["edges"].as_array().unwrap().len(), 2);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let rest = app
        .query(&team.owner, "query($a: String) { members(first: 10, after: $a) { edges { node { id } } pageInfo { hasNextPage } } }", json!({ "a": page["pageInfo"]["endCursor"] }))
        .await;
    assert_eq!(data(&rest)["members"]["edges"].as_array().unwrap().len(), 3);
    for bad in [
        "{ members(first: 0) { totalCount } }",
        "{ members(first: 101) { totalCount } }",
        "{ members(first: 5, after: \"zzz\") { totalCount } }",
    ] {
        assert_eq!(
            error_code(&app.query(&team.owner, bad, json!({})).await).as_deref(),
            Some("BAD_USER_INPUT"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn permission_changes_apply_on_the_next_request() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let members = "{ members(first: 1) { totalCount } }";
    // The guest is denied, and that answer is cached.
    assert_eq!(
        error_code(&app.query(&team.guest, members, json!({})).await).as_deref(),
        Some("FORBIDDEN")
    );

    // A custom role with member:read, given to the guest: allowed at once.
    let role = app.query(&team.owner, "mutation { createRole(input: {name: \"Reader\", permissions: [WORKSPACE_READ]}) { id permissions } }", json!({})).await;
    let role_id = data(&role)["createRole"]["id"].clone();
    data(&app.query(&team.owner, "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { role { name } } }", json!({ "u": team.guest.user_id, "r": role_id })).await);
    assert_eq!(
        error_code(&app.query(&team.guest, members, json!({})).await).as_deref(),
        Some("FORBIDDEN")
    );
    data(&app.query(&team.owner, "mutation($r: ID!) { updateRole(id: $r, input: {permissions: [WORKSPACE_READ, MEMBER_READ]}) { permissions } }", json!({ "r": role_id })).await);
    data(&app.query(&team.guest, members, json!({})).await);

    // Role deletion is refused while held.
    let held = app
        .query(
            &team.owner,
            "mutation($r: ID!) { deleteRole(id: $r) }",
            json!({ "r": role_id }),
        )
        .await;
    assert_eq!(error_code(&held).as_deref(), Some("CONFLICT"));

    // Removal: the next request no longer sees the workspace.
    data(
        &app.query(
            &team.owner,
            "mutation($u: ID!) { removeMember(userId: $u) }",
            json!({ "u": team.guest.user_id }),
        )
        .await,
    );
    assert_eq!(
        error_code(
            &app.query(&team.guest, "{ workspace { id } }", json!({}))
                .await
        )
        .as_deref(),
        Some("NOT_FOUND")
    );
    data(
        &app.query(
            &team.owner,
            "mutation($r: ID!) { deleteRole(id: $r) }",
            json!({ "r": role_id }),
        )
        .await,
    );
}

#[tokio::test]
async fn custom_role_names_are_unique_and_validated() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let create = "mutation($n: String!) { createRole(input: {name: $n, permissions: []}) { id name builtin } }";
    let body = app
        .query(&team.owner, create, json!({ "n": "Support" }))
        .await;
    assert!(data(&body)["createRole"]["builtin"].is_null());
    assert_eq!(
        error_code(
            &app.query(&team.owner, create, json!({ "n": "Support" }))
                .await
        )
        .as_deref(),
        Some("CONFLICT")
    );
    assert_eq!(
        error_code(&app.query(&team.owner, create, json!({ "n": "" })).await).as_deref(),
        Some("BAD_USER_INPUT")
    );
}

#[tokio::test]
async fn registration_creates_an_owner_and_can_be_disabled() {
    let app = spawn_app().await;
    let doc = "mutation { register(input: {email: \"new@example.com\", name: \"New\", password: \"a long password!\", workspaceName: \"New Studio\"}) { accessToken refreshToken user { id email } } }";
    let body = app.graphql(None, doc, json!({})).await;
    let session = session_from(&body, "register").unwrap();
    let mine = app
        .query(
            &session,
            "{ myWorkspaces { workspace { slug } role { builtin } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&mine)["myWorkspaces"][0]["role"]["builtin"], "OWNER");
    let dup = app.graphql(None, doc, json!({})).await;
    assert_eq!(error_code(&dup).as_deref(), Some("CONFLICT"));

    let closed = spawn_app_with(|c| c.allow_registration = false).await;
    let body = closed.graphql(None, doc, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn a_permission_change_on_one_instance_applies_on_another_at_once() {
    let a = spawn_app_with_redis(|_| {}).await;
    let b = spawn_instance_like(&a).await;
    let team = a.create_team("acme").await;
    let members = "{ members(first: 1) { totalCount } }";
    assert_eq!(
        error_code(&b.query(&team.guest, members, json!({})).await).as_deref(),
        Some("FORBIDDEN")
    );
    let admin = a.builtin_role_id(&team.owner, "ADMIN").await;
    data(
        &a.query(
            &team.owner,
            "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { id } }",
            json!({ "u": team.guest.user_id, "r": admin }),
        )
        .await,
    );
    data(&b.query(&team.guest, members, json!({})).await);

    // Removal on A: B refuses the very next request.
    data(
        &a.query(
            &team.owner,
            "mutation($u: ID!) { removeMember(userId: $u) }",
            json!({ "u": team.guest.user_id }),
        )
        .await,
    );
    assert_eq!(
        error_code(&b.query(&team.guest, members, json!({})).await).as_deref(),
        Some("NOT_FOUND")
    );
}

#[tokio::test]
async fn seed_demo_builds_a_team_with_projects_once() {
    let app = spawn_app().await;
    let created = portico::bootstrap::seed_demo(&app.state).await.unwrap();
    assert_eq!(created.len(), 5);
    assert!(
        portico::bootstrap::seed_demo(&app.state)
            .await
            .unwrap()
            .is_empty(),
        "idempotent"
    );
    let cleo = app
        .login_with("cleo@client.example", portico::bootstrap::DEMO_PASSWORD)
        .await
        .unwrap()
        .in_workspace("demo");
    let body = app
        .query(&cleo, "{ projects(first: 10) { totalCount edges { node { name tasks(first: 10) { totalCount } milestones { status } clientRequests { number } } } } }", json!({}))
        .await;
    let projects = &data(&body)["projects"];
    assert_eq!(
        projects["totalCount"], 1,
        "a client sees only their own project"
    );
    let node = &projects["edges"][0]["node"];
    assert_eq!(node["name"], "Cleo's bakery website");
    assert_eq!(node["tasks"]["totalCount"], 5);
    assert_eq!(node["milestones"][0]["status"], "PENDING");
    assert_eq!(node["clientRequests"][0]["number"], 1);
}

#[tokio::test]
async fn the_first_start_creates_an_owner_and_a_workspace_once() {
    let app = spawn_app().await;
    let (account, slug) = portico::bootstrap::first_start(&app.state)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(slug, "my-workspace");
    assert!(account.password.len() >= 20);
    assert!(
        portico::bootstrap::first_start(&app.state)
            .await
            .unwrap()
            .is_none()
    );
    let owner = app
        .login_with(&account.email, &account.password)
        .await
        .unwrap()
        .in_workspace(&slug);
    let perms = app
        .query(
            &owner,
            "{ myPermissions me { isPlatformAdmin } }",
            json!({}),
        )
        .await;
    assert!(
        data(&perms)["myPermissions"]
            .as_array()
            .unwrap()
            .contains(&json!("WORKSPACE_TRANSFER"))
    );
    assert_eq!(data(&perms)["me"]["isPlatformAdmin"], true);
}

#[tokio::test]
async fn a_slug_change_applies_at_once() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    // Warm the slug cache.
    data(
        &app.query(&team.admin, "{ workspace { id } }", json!({}))
            .await,
    );
    data(
        &app.query(
            &team.owner,
            "mutation { updateWorkspace(input: {slug: \"acme-renamed\"}) { slug } }",
            json!({}),
        )
        .await,
    );
    let old = app
        .query(&team.admin, "{ workspace { id } }", json!({}))
        .await;
    assert_eq!(error_code(&old).as_deref(), Some("NOT_FOUND"));
    let new = app
        .query(
            &team.admin.in_workspace("acme-renamed"),
            "{ workspace { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&new)["workspace"]["slug"], "acme-renamed");
}
