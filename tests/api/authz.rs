//! Deny by default: every built-in role against every root operation (table-driven), escalation
//! attempts, the exact shape of a denied field, and cross-tenant IDs.

use crate::helpers::*;
use portico::graphql::policy::Policy;
use portico::rbac::BuiltinRole::{self, *};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Forbidden,
    Unauthenticated,
}

pub(crate) const ALL: &[BuiltinRole] = &[Owner, Admin, Collaborator, Client, Guest];
const STAFF: &[BuiltinRole] = &[Owner, Admin, Collaborator];
const MANAGERS: &[BuiltinRole] = &[Owner, Admin];
const OWNER: &[BuiltinRole] = &[Owner];
const VALIDATORS: &[BuiltinRole] = &[Owner, Admin, Client];
const TICKET_AUTHORS: &[BuiltinRole] = &[Owner, Admin, Collaborator, Client];
const FILE_WRITERS: &[BuiltinRole] = &[Owner, Admin, Collaborator, Client];
const NOBODY: &[BuiltinRole] = &[];

/// (root field, document, roles allowed, public). Arguments are harmless: an allowed call ends in
/// NOT_FOUND or BAD_USER_INPUT rather than changing something that matters to later rows.
pub(crate) fn matrix() -> Vec<(&'static str, String, &'static [BuiltinRole], bool)> {
    let id = Uuid::now_v7();
    vec![
        ("me", "{ me { id } }".into(), ALL, false),
        ("myWorkspaces", "{ myWorkspaces { workspace { id } } }".into(), ALL, false),
        ("myPermissions", "{ myPermissions }".into(), ALL, false),
        ("workspace", "{ workspace { id } }".into(), ALL, false),
        ("members", "{ members(first: 5) { totalCount } }".into(), STAFF, false),
        ("roles", "{ roles { id } }".into(), STAFF, false),
        ("invitations", "{ invitations { id } }".into(), MANAGERS, false),
        ("login", "mutation { login(email: \"x@y.zz\", password: \"p\") { accessToken } }".into(), ALL, true),
        ("register", "mutation { register(input: {email: \"bad\", name: \"n\", password: \"p\", workspaceName: \"w\"}) { accessToken } }".into(), ALL, true),
        ("refreshToken", "mutation { refreshToken(refreshToken: \"prt_x\") { accessToken } }".into(), ALL, true),
        ("acceptInvitation", "mutation { acceptInvitation(code: \"inv_x\", password: \"p\") { accessToken } }".into(), ALL, true),
        ("createWorkspace", "mutation { createWorkspace(name: \"\") { id } }".into(), ALL, false),
        ("updateWorkspace", "mutation { updateWorkspace(input: {brandColor: \"red\"}) { id } }".into(), MANAGERS, false),
        ("inviteMember", format!("mutation {{ inviteMember(email: \"n@x.io\", roleId: \"{id}\") {{ invitation {{ id }} }} }}"), MANAGERS, false),
        ("revokeInvitation", format!("mutation {{ revokeInvitation(id: \"{id}\") {{ id }} }}"), MANAGERS, false),
        ("updateMemberRole", format!("mutation {{ updateMemberRole(userId: \"{id}\", roleId: \"{id}\") {{ id }} }}"), MANAGERS, false),
        ("removeMember", format!("mutation {{ removeMember(userId: \"{id}\") }}"), MANAGERS, false),
        ("transferOwnership", format!("mutation {{ transferOwnership(userId: \"{id}\") }}"), OWNER, false),
        ("createRole", "mutation { createRole(input: {name: \"\", permissions: []}) { id } }".into(), MANAGERS, false),
        ("updateRole", format!("mutation {{ updateRole(id: \"{id}\", input: {{}}) {{ id }} }}"), MANAGERS, false),
        ("deleteRole", format!("mutation {{ deleteRole(id: \"{id}\") }}"), MANAGERS, false),
        ("setLocale", "mutation { setLocale(locale: FR) { locale } }".into(), ALL, false),
        ("changePassword", "mutation { changePassword(currentPassword: \"wrong\", newPassword: \"long enough password\") }".into(), ALL, false),
        ("requestPasswordReset", "mutation { requestPasswordReset(email: \"nobody@y.zz\") }".into(), ALL, true),
        ("resetPassword", "mutation { resetPassword(token: \"prs_x\", newPassword: \"long enough password\") }".into(), ALL, true),
        ("verifyEmail", "mutation { verifyEmail(token: \"pev_x\") }".into(), ALL, true),
        ("confirmEmailChange", "mutation { confirmEmailChange(token: \"pev_x\") }".into(), ALL, true),
        ("resendVerificationEmail", "mutation { resendVerificationEmail }".into(), ALL, false),
        ("requestEmailChange", "mutation { requestEmailChange(newEmail: \"n@y.zz\", currentPassword: \"wrong\") }".into(), ALL, false),
        ("setUserStatus", format!("mutation {{ setUserStatus(userId: \"{id}\", status: ACTIVE) {{ id }} }}"), NOBODY, false),
        ("endUserSessions", format!("mutation {{ endUserSessions(userId: \"{id}\") }}"), NOBODY, false),
        ("joinWorkspace", "mutation { joinWorkspace(code: \"inv_x\") { workspace { id } } }".into(), ALL, false),
        ("projects", "{ projects(first: 5) { totalCount } }".into(), ALL, false),
        ("project", format!("{{ project(id: \"{id}\") {{ id }} }}"), ALL, false),
        ("projectMembers", format!("{{ projectMembers(projectId: \"{id}\") {{ id }} }}"), ALL, false),
        ("task", format!("{{ task(id: \"{id}\") {{ id }} }}"), ALL, false),
        ("createProject", "mutation { createProject(input: {name: \"\"}) { id } }".into(), STAFF, false),
        ("updateProject", format!("mutation {{ updateProject(id: \"{id}\", input: {{}}) {{ id }} }}"), STAFF, false),
        ("addProjectMember", format!("mutation {{ addProjectMember(projectId: \"{id}\", userId: \"{id}\") {{ id }} }}"), STAFF, false),
        ("removeProjectMember", format!("mutation {{ removeProjectMember(projectId: \"{id}\", userId: \"{id}\") {{ id }} }}"), STAFF, false),
        ("createTask", format!("mutation {{ createTask(input: {{projectId: \"{id}\", title: \"t\"}}) {{ id }} }}"), STAFF, false),
        ("updateTask", format!("mutation {{ updateTask(id: \"{id}\", input: {{}}) {{ id }} }}"), STAFF, false),
        ("deleteTask", format!("mutation {{ deleteTask(id: \"{id}\") }}"), STAFF, false),
        ("moveTask", format!("mutation {{ moveTask(id: \"{id}\", column: DONE) {{ id }} }}"), STAFF, false),
        ("tickets", format!("{{ tickets(projectId: \"{id}\", first: 5) {{ totalCount }} }}"), ALL, false),
        ("ticket", format!("{{ ticket(id: \"{id}\") {{ id }} }}"), ALL, false),
        ("projectActivity", format!("{{ projectActivity(projectId: \"{id}\", first: 5) {{ edges {{ cursor }} }} }}"), ALL, false),
        ("createTicket", format!("mutation {{ createTicket(input: {{projectId: \"{id}\", kind: BUG, title: \"t\", description: \"d\"}}) {{ id }} }}"), TICKET_AUTHORS, false),
        ("commentTicket", format!("mutation {{ commentTicket(ticketId: \"{id}\", body: \"b\") {{ id }} }}"), TICKET_AUTHORS, false),
        ("decideTicket", format!("mutation {{ decideTicket(id: \"{id}\", status: ACCEPTED) {{ id }} }}"), STAFF, false),
        ("projectDashboard", format!("{{ projectDashboard(projectId: \"{id}\") {{ openTickets }} }}"), ALL, false),
        ("requestValidation", format!("mutation {{ requestValidation(projectId: \"{id}\", kind: MOCKUP) {{ id }} }}"), STAFF, false),
        ("decideMilestone", format!("mutation {{ decideMilestone(id: \"{id}\", validate: true) {{ id }} }}"), VALIDATORS, false),
        ("setPrivateNote", format!("mutation {{ setPrivateNote(subject: PROJECT, subjectId: \"{id}\", body: \"x\") }}"), STAFF, false),
        ("answerQuote", format!("mutation {{ answerQuote(id: \"{id}\", accept: true) {{ id }} }}"), TICKET_AUTHORS, false),
        ("messages", format!("{{ messages(projectId: \"{id}\", first: 5) {{ edges {{ cursor }} }} }}"), ALL, false),
        ("unreadMessageCount", format!("{{ unreadMessageCount(projectId: \"{id}\") }}"), ALL, false),
        ("postMessage", format!("mutation {{ postMessage(projectId: \"{id}\", body: \"hi\") {{ id }} }}"), TICKET_AUTHORS, false),
        ("editMessage", format!("mutation {{ editMessage(id: \"{id}\", body: \"hi\") {{ id }} }}"), TICKET_AUTHORS, false),
        ("deleteMessage", format!("mutation {{ deleteMessage(id: \"{id}\") {{ id }} }}"), TICKET_AUTHORS, false),
        ("markConversationRead", format!("mutation {{ markConversationRead(projectId: \"{id}\") }}"), ALL, false),
        ("apiKeys", "{ apiKeys { id } }".into(), MANAGERS, false),
        ("createApiKey", "mutation { createApiKey(input: {name: \"\", scopes: []}) { key } }".into(), MANAGERS, false),
        ("rotateApiKey", format!("mutation {{ rotateApiKey(id: \"{id}\") {{ key }} }}"), MANAGERS, false),
        ("revokeApiKey", format!("mutation {{ revokeApiKey(id: \"{id}\") {{ id }} }}"), MANAGERS, false),
        ("verifyMfa", "mutation { verifyMfa(mfaToken: \"mfa_x\", code: \"123456\") { accessToken } }".into(), ALL, true),
        ("enrolMfa", "mutation { enrolMfa { secret } }".into(), ALL, false),
        ("confirmMfa", "mutation { confirmMfa(code: \"1\") }".into(), ALL, false),
        ("disableMfa", "mutation { disableMfa(code: \"1\") }".into(), ALL, false),
        ("trustedDocuments", format!("{{ trustedDocuments(apiKeyId: \"{id}\") {{ id }} }}"), MANAGERS, false),
        ("registerTrustedDocument", format!("mutation {{ registerTrustedDocument(apiKeyId: \"{id}\", name: \"n\", document: \"{{ me {{ id }} }}\") {{ id }} }}"), MANAGERS, false),
        ("removeTrustedDocument", format!("mutation {{ removeTrustedDocument(id: \"{id}\") {{ id }} }}"), MANAGERS, false),
        ("setApiKeyTrustedDocumentsOnly", format!("mutation {{ setApiKeyTrustedDocumentsOnly(id: \"{id}\", only: true) {{ id }} }}"), MANAGERS, false),
        ("paymentRequests", format!("{{ paymentRequests(projectId: \"{id}\", first: 5) {{ totalCount }} }}"), TICKET_AUTHORS, false),
        ("paymentRequest", format!("{{ paymentRequest(id: \"{id}\") {{ id }} }}"), TICKET_AUTHORS, false),
        ("projectBalance", format!("{{ projectBalance(projectId: \"{id}\") {{ currency }} }}"), TICKET_AUTHORS, false),
        ("createPaymentRequest", format!("mutation {{ createPaymentRequest(input: {{projectId: \"{id}\", kind: DEPOSIT, title: \"D\", amountMinor: 100, currency: \"EUR\"}}) {{ id }} }}"), MANAGERS, false),
        ("cancelPaymentRequest", format!("mutation {{ cancelPaymentRequest(id: \"{id}\") {{ id }} }}"), MANAGERS, false),
        ("payPaymentRequest", format!("mutation {{ payPaymentRequest(id: \"{id}\") {{ url }} }}"), VALIDATORS, false),
        ("folders", format!("{{ folders(projectId: \"{id}\") {{ id }} }}"), ALL, false),
        ("folder", format!("{{ folder(id: \"{id}\") {{ id }} }}"), ALL, false),
        ("file", format!("{{ file(id: \"{id}\") {{ id }} }}"), ALL, false),
        ("fileTrash", format!("{{ fileTrash(projectId: \"{id}\", first: 5) {{ totalCount }} }}"), FILE_WRITERS, false),
        ("fileSettings", "{ fileSettings { quotaBytes } }".into(), ALL, false),
        ("notifications", "{ notifications(first: 5) { totalCount } }".into(), ALL, false),
        ("unreadNotificationCount", "{ unreadNotificationCount }".into(), ALL, false),
        ("markNotificationsRead", format!("mutation {{ markNotificationsRead(ids: [\"{id}\"]) }}"), ALL, false),
        ("markAllNotificationsRead", "mutation { markAllNotificationsRead }".into(), ALL, false),
        ("notificationPreferences", "{ notificationPreferences { mode } }".into(), ALL, false),
        ("setNotificationPreference", "mutation { setNotificationPreference(kind: OTHER, channel: EMAIL, mode: NEVER) { mode } }".into(), ALL, false),
        ("emailDeliveries", "{ emailDeliveries(first: 5) { totalCount } }".into(), MANAGERS, false),
        ("webhookEndpoints", "{ webhookEndpoints { id } }".into(), MANAGERS, false),
        ("webhookEventKinds", "{ webhookEventKinds }".into(), MANAGERS, false),
        ("webhookDeliveries", format!("{{ webhookDeliveries(endpointId: \"{id}\", first: 5) {{ totalCount }} }}"), MANAGERS, false),
        ("createWebhookEndpoint", "mutation { createWebhookEndpoint(input: {url: \"ftp://x\", kinds: [\"TICKET_CREATED\"]}) { secret } }".into(), MANAGERS, false),
        ("updateWebhookEndpoint", format!("mutation {{ updateWebhookEndpoint(id: \"{id}\", input: {{enabled: false}}) {{ id }} }}"), MANAGERS, false),
        ("deleteWebhookEndpoint", format!("mutation {{ deleteWebhookEndpoint(id: \"{id}\") }}"), MANAGERS, false),
        ("replayWebhookDelivery", format!("mutation {{ replayWebhookDelivery(id: \"{id}\") {{ id }} }}"), MANAGERS, false),
        ("sendTestWebhookEvent", format!("mutation {{ sendTestWebhookEvent(endpointId: \"{id}\") {{ id }} }}"), MANAGERS, false),
        ("createFolder", format!("mutation {{ createFolder(parentId: \"{id}\", name: \"n\") {{ id }} }}"), FILE_WRITERS, false),
        ("renameFolder", format!("mutation {{ renameFolder(id: \"{id}\", name: \"n\") {{ id }} }}"), FILE_WRITERS, false),
        ("deleteFolder", format!("mutation {{ deleteFolder(id: \"{id}\") }}"), FILE_WRITERS, false),
        ("createUpload", format!("mutation {{ createUpload(input: {{folderId: \"{id}\", name: \"a.png\", size: 1, contentType: \"image/png\", sha256: \"{}\"}}) {{ id }} }}", "0".repeat(64)), FILE_WRITERS, false),
        ("completeUpload", format!("mutation {{ completeUpload(id: \"{id}\") {{ id }} }}"), FILE_WRITERS, false),
        ("renameFile", format!("mutation {{ renameFile(id: \"{id}\", name: \"n\") {{ id }} }}"), FILE_WRITERS, false),
        ("moveFile", format!("mutation {{ moveFile(id: \"{id}\", folderId: \"{id}\") {{ id }} }}"), FILE_WRITERS, false),
        ("deleteFile", format!("mutation {{ deleteFile(id: \"{id}\") {{ id }} }}"), FILE_WRITERS, false),
        ("restoreFile", format!("mutation {{ restoreFile(id: \"{id}\") {{ id }} }}"), FILE_WRITERS, false),
        ("labelFileVersion", format!("mutation {{ labelFileVersion(id: \"{id}\", label: \"final\") {{ id }} }}"), FILE_WRITERS, false),
        ("uploadLinks", format!("{{ uploadLinks(projectId: \"{id}\") {{ id }} }}"), FILE_WRITERS, false),
        ("createUploadLink", format!("mutation {{ createUploadLink(input: {{folderId: \"{id}\", name: \"n\"}}) {{ token }} }}"), STAFF, false),
        ("revokeUploadLink", format!("mutation {{ revokeUploadLink(id: \"{id}\") {{ id }} }}"), FILE_WRITERS, false),
        ("uploadThroughLink", format!("mutation {{ uploadThroughLink(token: \"pul_x\", input: {{name: \"a.txt\", size: 1, contentType: \"text/plain\", sha256: \"{}\"}}) {{ id }} }}", "0".repeat(64)), ALL, true),
        ("completeLinkUpload", format!("mutation {{ completeLinkUpload(token: \"pul_x\", id: \"{id}\") }}"), ALL, true),
        ("updateFileSettings", "mutation { updateFileSettings(input: {}) { quotaBytes } }".into(), MANAGERS, false),
        ("auditEvents", "{ auditEvents(first: 5) { edges { cursor } } }".into(), MANAGERS, false),
        ("platformAuditEvents", "{ platformAuditEvents(first: 5) { edges { cursor } } }".into(), NOBODY, false),
        ("verifyAuditChain", "{ verifyAuditChain { intact } }".into(), MANAGERS, false),
        ("exportAuditEvents", "mutation { exportAuditEvents(format: JSONL) { id status } }".into(), MANAGERS, false),
        ("auditExport", format!("{{ auditExport(id: \"{id}\") {{ status url }} }}"), MANAGERS, false),
        ("exportPlatformAuditEvents", "mutation { exportPlatformAuditEvents(format: CSV) { id status } }".into(), NOBODY, false),
        ("platformAuditExport", format!("{{ platformAuditExport(id: \"{id}\") {{ status url }} }}"), NOBODY, false),
        ("mySessions", "{ mySessions { id } }".into(), ALL, false),
        ("revokeSession", format!("mutation {{ revokeSession(id: \"{id}\") }}"), ALL, false),
        ("endMemberSessions", format!("mutation {{ endMemberSessions(userId: \"{id}\") }}"), MANAGERS, false),
        // Last: it ends the session.
        ("logout", "mutation { logout }".into(), ALL, false),
    ]
}

fn outcome(body: &Value) -> Outcome {
    let codes = error_codes(body);
    if codes.iter().any(|c| c == "FORBIDDEN") {
        Outcome::Forbidden
    } else if codes.iter().any(|c| c == "UNAUTHENTICATED")
        && body["errors"][0]["message"] != "invalid email or password"
        && !body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("refresh token")
        && !body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("MFA challenge")
    {
        Outcome::Unauthenticated
    } else {
        Outcome::Allowed
    }
}

#[tokio::test]
async fn every_role_against_every_root_operation() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let mut failures = Vec::new();
    for role in ALL {
        let session = team.by_role(*role);
        for (field, document, allowed, _) in matrix() {
            let body = app.query(session, &document, json!({})).await;
            let expected = if allowed.contains(role) {
                Outcome::Allowed
            } else {
                Outcome::Forbidden
            };
            let got = outcome(&body);
            if got != expected {
                failures.push(format!(
                    "{role:?} {field}: expected {expected:?}, got {got:?}: {body}"
                ));
            }
        }
    }
    // Anonymous callers reach public fields only.
    for (field, document, _, public) in matrix() {
        let body = app.graphql(None, &document, json!({})).await;
        let expected = if public {
            Outcome::Allowed
        } else {
            Outcome::Unauthenticated
        };
        let got = outcome(&body);
        if got != expected {
            failures.push(format!(
                "anonymous {field}: expected {expected:?}, got {got:?}: {body}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_matrix_covers_every_root_field() {
    let sdl = portico::schema::export_sdl().unwrap();
    let policy = Policy::from_sdl(&sdl).unwrap();
    let in_schema: BTreeSet<String> = policy
        .root_fields()
        .iter()
        // Subscriptions are checked over websockets (tests/api/realtime.rs).
        .filter(|(ty, _)| ty != "Subscription")
        .map(|(_, f)| f.clone())
        .collect();
    let in_matrix: BTreeSet<String> = matrix().iter().map(|(f, ..)| (*f).to_owned()).collect();
    assert_eq!(
        in_schema, in_matrix,
        "add a row to the role matrix for each new root field"
    );
}

#[tokio::test]
async fn a_denied_field_is_null_with_forbidden_and_siblings_survive() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    // A custom role that may list members but not see their emails.
    let viewer = app
        .add_member_with_role(
            &team,
            "viewer@acme.test",
            "Viewer",
            "WORKSPACE_READ, MEMBER_READ",
        )
        .await;

    let body = app
        .query(&viewer, "{ workspace { slug } members(first: 1) { totalCount edges { node { user { name email } } } } }", json!({}))
        .await;
    assert_eq!(body["data"]["workspace"]["slug"], team.slug.as_str());
    let user = &body["data"]["members"]["edges"][0]["node"]["user"];
    assert!(user["name"].is_string(), "sibling field kept: {body}");
    assert_eq!(body["data"]["members"]["totalCount"], 6);
    assert_eq!(
        user.as_object().unwrap().get("email"),
        Some(&Value::Null),
        "email present and null: {body}"
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(errors[0]["extensions"]["permission"], "member:email");
    assert_eq!(
        errors[0]["path"],
        json!(["members", "edges", 0, "node", "user", "email"])
    );

    // Staff see emails.
    let body = app
        .query(
            &team.collaborator,
            "{ members(first: 10) { edges { node { user { email } } } } }",
            json!({}),
        )
        .await;
    assert!(data(&body)["members"]["edges"][0]["node"]["user"]["email"].is_string());
}

#[tokio::test]
async fn a_denied_root_field_does_not_null_its_siblings() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let body = app
        .query(
            &team.client,
            "{ workspace { slug } members(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["workspace"]["slug"], team.slug.as_str());
    assert_null_at(&body, &["members"]);
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    assert_eq!(body["errors"][0]["extensions"]["permission"], "member:read");
    assert_eq!(body["errors"][0]["path"], json!(["members"]));

    // Aliases: the error points at the response key.
    let body = app
        .query(
            &team.client,
            "{ ws: workspace { slug } people: members(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_null_at(&body, &["people"]);
    assert_eq!(body["errors"][0]["path"], json!(["people"]));
}

#[tokio::test]
async fn nobody_grants_what_they_lack_or_touches_those_above() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let forbidden =
        |body: &Value| assert_eq!(error_code(body).as_deref(), Some("FORBIDDEN"), "{body}");

    // A role manager without payment:manage cannot create a role holding it.
    let limited = app
        .query(
            &team.owner,
            "mutation { createRole(input: {name: \"Role manager\", permissions: [WORKSPACE_READ, ROLE_MANAGE, MEMBER_READ, MEMBER_MANAGE]}) { id } }",
            json!({}),
        )
        .await;
    let limited_id = data(&limited)["createRole"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let manager = app
        .add_member(team.workspace_id, &team.slug, "manager@acme.test", Guest)
        .await;
    data(
        &app.query(
            &team.owner,
            "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { id } }",
            json!({ "u": manager.user_id, "r": limited_id }),
        )
        .await,
    );
    forbidden(&app.query(&manager, "mutation { createRole(input: {name: \"Payer\", permissions: [PAYMENT_MANAGE]}) { id } }", json!({})).await);

    // Nor raise their own role's permissions.
    forbidden(
        &app.query(
            &manager,
            "mutation($r: ID!) { updateRole(id: $r, input: {permissions: [WORKSPACE_READ, ROLE_MANAGE, MEMBER_READ, MEMBER_MANAGE, PAYMENT_MANAGE]}) { id } }",
            json!({ "r": limited_id }),
        )
        .await,
    );

    // Nor hand out a built-in role above their own (admin holds more than they do).
    let (admin_role, guest_role, owner_role) = (
        app.builtin_role_id(&team.owner, "ADMIN").await,
        app.builtin_role_id(&team.owner, "GUEST").await,
        app.builtin_role_id(&team.owner, "OWNER").await,
    );
    forbidden(
        &app.query(
            &manager,
            "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { id } }",
            json!({ "u": team.guest.user_id, "r": admin_role }),
        )
        .await,
    );
    forbidden(
        &app.query(
            &manager,
            "mutation($r: ID!) { inviteMember(email: \"x@y.io\", roleId: $r) { invitation { id } } }",
            json!({ "r": admin_role }),
        )
        .await,
    );
    // Nor demote or remove someone above them.
    forbidden(
        &app.query(
            &manager,
            "mutation($u: ID!) { removeMember(userId: $u) }",
            json!({ "u": team.admin.user_id }),
        )
        .await,
    );

    // Admins cannot demote, remove or replace the owner, nor make anyone owner.
    forbidden(
        &app.query(
            &team.admin,
            "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { id } }",
            json!({ "u": team.owner.user_id, "r": guest_role }),
        )
        .await,
    );
    forbidden(
        &app.query(
            &team.admin,
            "mutation($u: ID!) { removeMember(userId: $u) }",
            json!({ "u": team.owner.user_id }),
        )
        .await,
    );
    forbidden(
        &app.query(
            &team.admin,
            "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { id } }",
            json!({ "u": team.client.user_id, "r": owner_role }),
        )
        .await,
    );
    forbidden(
        &app.query(
            &team.admin,
            "mutation($u: ID!) { transferOwnership(userId: $u) }",
            json!({ "u": team.admin.user_id }),
        )
        .await,
    );
    // Built-in roles are not editable, even by the owner.
    forbidden(
        &app.query(
            &team.owner,
            "mutation($r: ID!) { updateRole(id: $r, input: {name: \"Boss\"}) { id } }",
            json!({ "r": guest_role }),
        )
        .await,
    );

    // What is allowed still works: the owner transfers ownership.
    data(
        &app.query(
            &team.owner,
            "mutation($u: ID!) { transferOwnership(userId: $u) }",
            json!({ "u": team.admin.user_id }),
        )
        .await,
    );
    let perms = app.query(&team.owner, "{ myPermissions }", json!({})).await;
    assert!(
        !data(&perms)["myPermissions"]
            .as_array()
            .unwrap()
            .contains(&json!("WORKSPACE_TRANSFER"))
    );
}

#[tokio::test]
async fn another_tenants_ids_answer_not_found_like_missing_ones() {
    let app = spawn_app().await;
    let acme = app.create_team("acme").await;
    let globex = app.create_team("globex").await;
    let missing = Uuid::now_v7();

    // A workspace one is not a member of looks exactly like one that does not exist.
    let foreign = app
        .query(
            &acme.owner.in_workspace(&globex.slug),
            "{ workspace { id } }",
            json!({}),
        )
        .await;
    let nowhere = app
        .query(
            &acme.owner.in_workspace("no-such-workspace"),
            "{ workspace { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&foreign).as_deref(), Some("NOT_FOUND"));
    assert_eq!(
        foreign["errors"][0]["message"],
        nowhere["errors"][0]["message"]
    );

    // IDs of another workspace's rows, used from one's own workspace.
    let globex_roles = app
        .query(&globex.owner, "{ roles { id } }", json!({}))
        .await;
    let globex_role = data(&globex_roles)["roles"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invite = app
        .query(&globex.owner, "mutation($r: ID!) { inviteMember(email: \"z@z.io\", roleId: $r) { invitation { id } } }", json!({ "r": data(&globex_roles)["roles"][4]["id"] }))
        .await;
    let globex_invitation = data(&invite)["inviteMember"]["invitation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let probes = [
        (
            "mutation($a: ID!, $b: ID!) { updateMemberRole(userId: $a, roleId: $b) { id } }",
            json!({ "a": globex.client.user_id, "b": globex_role }),
            json!({ "a": missing, "b": missing }),
        ),
        (
            "mutation($a: ID!) { removeMember(userId: $a) }",
            json!({ "a": globex.client.user_id }),
            json!({ "a": missing }),
        ),
        (
            "mutation($a: ID!) { revokeInvitation(id: $a) { id } }",
            json!({ "a": globex_invitation }),
            json!({ "a": missing }),
        ),
        (
            "mutation($a: ID!) { deleteRole(id: $a) }",
            json!({ "a": globex_role }),
            json!({ "a": missing }),
        ),
        (
            "mutation($a: ID!) { inviteMember(email: \"q@q.io\", roleId: $a) { invitation { id } } }",
            json!({ "a": globex_role }),
            json!({ "a": missing }),
        ),
    ];
    for (document, foreign_vars, missing_vars) in probes {
        let foreign = app.query(&acme.owner, document, foreign_vars).await;
        let nothing = app.query(&acme.owner, document, missing_vars).await;
        assert_eq!(
            error_code(&foreign).as_deref(),
            Some("NOT_FOUND"),
            "{document}: {foreign}"
        );
        assert_eq!(
            foreign["errors"][0]["message"], nothing["errors"][0]["message"],
            "{document}"
        );
    }
    // And nothing changed in the other workspace.
    let still = app
        .query(
            &globex.owner,
            "{ members(first: 10) { totalCount } invitations { status } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&still)["members"]["totalCount"], 5);
    assert_eq!(data(&still)["invitations"][0]["status"], "PENDING");
}

#[tokio::test]
async fn a_workspace_must_be_selected_for_workspace_fields() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let mut owner = team.owner.clone();
    owner.workspace = None;
    let body = app.query(&owner, "{ workspace { id } }", json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
    // Fields naming their workspace as an argument do not need the header.
    let body = app
        .query(
            &owner,
            "query($w: String) { myPermissions(workspace: $w) }",
            json!({ "w": team.slug }),
        )
        .await;
    assert!(
        data(&body)["myPermissions"]
            .as_array()
            .unwrap()
            .contains(&json!("WORKSPACE_TRANSFER"))
    );
}

#[tokio::test]
async fn denials_are_counted_for_the_metrics_to_come() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let before = app.state.denials.snapshot();
    let body = app
        .query(
            &team.client,
            "{ members(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    let body = app.graphql(None, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    let after = app.state.denials.snapshot();
    assert_eq!(after.forbidden, before.forbidden + 1);
    assert_eq!(after.unauthenticated, before.unauthenticated + 1);
}
