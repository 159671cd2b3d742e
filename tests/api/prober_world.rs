//! The data the cross-tenant prober aims at: one of every kind of thing an ID names, made through
//! the API in a project or a workspace, so that probes use real IDs.

use crate::files::sha256_hex;
use crate::helpers::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Kind of thing → the ID of one of them.
pub(crate) type Ids = BTreeMap<&'static str, String>;

/// The kinds that live in a project (also probed across projects of one workspace).
pub(crate) const PROJECT_KINDS: &[&str] = &[
    "Project",
    "Phase",
    "Task",
    "Ticket",
    "Message",
    "Milestone",
    "PaymentRequest",
    "Folder",
    "SpareFolder",
    "File",
    "FileVersion",
    "Upload",
    "UploadLink",
];

async fn ask(app: &TestApp, who: &Session, query: &str, variables: Value) -> Value {
    let body = app.query(who, query, variables).await;
    data(&body).clone()
}

fn id_at(value: &Value, path: &[&str]) -> String {
    let mut node = value;
    for key in path {
        node = &node[*key];
    }
    node.as_str()
        .unwrap_or_else(|| panic!("no ID at {path:?}: {value}"))
        .to_owned()
}

/// One of each project kind in `project`, made by `staff` (every name starts with `tag`).
pub(crate) async fn stock_project(app: &TestApp, staff: &Session, project: &str, tag: &str) -> Ids {
    let mut ids = Ids::new();
    ids.insert("Project", project.to_owned());
    let p = json!({ "p": project });
    let phases = ask(
        app,
        staff,
        "query($p: ID!) { project(id: $p) { phases { id } } }",
        p.clone(),
    )
    .await;
    ids.insert("Phase", id_at(&phases["project"]["phases"][0], &["id"]));
    ids.insert(
        "Task",
        app.create_task(staff, project, &format!("{tag} task"), "BACKLOG")
            .await,
    );
    let ticket = ask(app, staff, "mutation($p: ID!, $t: String!) { createTicket(input: {projectId: $p, kind: BUG, title: $t, description: \"d\"}) { id } }", json!({ "p": project, "t": format!("{tag} ticket") })).await;
    ids.insert("Ticket", id_at(&ticket, &["createTicket", "id"]));
    let message = ask(
        app,
        staff,
        "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }",
        json!({ "p": project, "b": format!("{tag} message") }),
    )
    .await;
    ids.insert("Message", id_at(&message, &["postMessage", "id"]));
    let milestone = ask(app, staff, "mutation($p: ID!, $t: String) { requestValidation(projectId: $p, kind: MOCKUP, title: $t) { id } }", json!({ "p": project, "t": format!("{tag} milestone") })).await;
    ids.insert("Milestone", id_at(&milestone, &["requestValidation", "id"]));
    let payment = ask(app, staff, "mutation($p: ID!, $t: String!) { createPaymentRequest(input: {projectId: $p, kind: DEPOSIT, title: $t, amountMinor: 100, currency: \"EUR\"}) { id } }", json!({ "p": project, "t": format!("{tag} deposit") })).await;
    ids.insert(
        "PaymentRequest",
        id_at(&payment, &["createPaymentRequest", "id"]),
    );
    let folders = ask(
        app,
        staff,
        "query($p: ID!) { folders(projectId: $p) { id zone } }",
        p,
    )
    .await;
    let folder = folders["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["zone"] == "CLIENT")
        .unwrap_or_else(|| panic!("no client-zone folder: {folders}"));
    // A folder of the staff's own under the client zone: system folders are not renamed or
    // deleted.
    let made = ask(
        app,
        staff,
        "mutation($f: ID!, $n: String!) { createFolder(parentId: $f, name: $n) { id } }",
        json!({ "f": id_at(folder, &["id"]), "n": format!("{tag} folder") }),
    )
    .await;
    let folder = id_at(&made, &["createFolder", "id"]);
    ids.insert("Folder", folder.clone());
    let spare = ask(
        app,
        staff,
        "mutation($f: ID!, $n: String!) { createFolder(parentId: $f, name: $n) { id } }",
        json!({ "f": folder, "n": format!("{tag} spare") }),
    )
    .await;
    ids.insert("SpareFolder", id_at(&spare, &["createFolder", "id"]));
    let file = upload(app, staff, &folder, &format!("{tag} file.txt"), true).await;
    let versions = ask(
        app,
        staff,
        "query($f: ID!) { file(id: $f) { versions { id } } }",
        json!({ "f": file }),
    )
    .await;
    ids.insert(
        "FileVersion",
        id_at(&versions["file"]["versions"][0], &["id"]),
    );
    ids.insert("File", file);
    ids.insert(
        "Upload",
        upload(app, staff, &folder, &format!("{tag} pending.txt"), false).await,
    );
    let link = ask(app, staff, "mutation($f: ID!, $n: String!) { createUploadLink(input: {folderId: $f, name: $n}) { link { id } } }", json!({ "f": folder, "n": format!("{tag} link") })).await;
    ids.insert(
        "UploadLink",
        id_at(&link, &["createUploadLink", "link", "id"]),
    );
    ids
}

/// Announces an upload of a small text file into `folder` and puts its bytes; completes it when
/// `complete`. Answers the file's ID (or the upload's, ready to complete).
pub(crate) async fn upload(
    app: &TestApp,
    who: &Session,
    folder: &str,
    name: &str,
    complete: bool,
) -> String {
    let bytes = name.as_bytes();
    let input = json!({ "folderId": folder, "name": name, "size": bytes.len(), "contentType": "text/plain", "sha256": sha256_hex(bytes) });
    let announced = ask(app, who, "mutation($i: CreateUploadInput!) { createUpload(input: $i) { id url headers { name value } } }", json!({ "i": input })).await;
    let upload = &announced["createUpload"];
    let id = id_at(upload, &["id"]);
    let mut put = app.client.put(upload["url"].as_str().unwrap());
    for h in upload["headers"].as_array().unwrap() {
        put = put.header(h["name"].as_str().unwrap(), h["value"].as_str().unwrap());
    }
    let status = put.body(bytes.to_vec()).send().await.unwrap().status();
    assert!(status.is_success(), "upload PUT: {status}");
    if !complete {
        return id;
    }
    let done = ask(
        app,
        who,
        "mutation($u: ID!) { completeUpload(id: $u) { id } }",
        json!({ "u": id }),
    )
    .await;
    id_at(&done, &["completeUpload", "id"])
}

/// One of each workspace kind in `team`'s workspace (names start with `tag`), plus the ticket a
/// client opens in `project`, so that staff have a notification.
pub(crate) async fn stock_workspace(app: &TestApp, team: &Team, project: &str, tag: &str) -> Ids {
    let owner = &team.owner;
    let mut ids = Ids::new();
    ids.insert("User", team.client.user_id.to_string());
    ids.insert("Admin", team.admin.user_id.to_string());
    let endpoint = ask(app, owner, "mutation($d: String) { createWebhookEndpoint(input: {url: \"http://127.0.0.1:9/hook\", kinds: [\"TICKET_CREATED\"], description: $d}) { endpoint { id } } }", json!({ "d": format!("{tag} hook") })).await;
    let endpoint = id_at(&endpoint, &["createWebhookEndpoint", "endpoint", "id"]);
    let delivery = ask(
        app,
        owner,
        "mutation($e: ID!) { sendTestWebhookEvent(endpointId: $e) { id } }",
        json!({ "e": endpoint }),
    )
    .await;
    ids.insert(
        "WebhookDelivery",
        id_at(&delivery, &["sendTestWebhookEvent", "id"]),
    );
    ids.insert("WebhookEndpoint", endpoint);
    let key = ask(app, owner, "mutation($n: String!) { createApiKey(input: {name: $n, scopes: [PROJECT_VIEW, PROJECT_READ]}) { apiKey { id } } }", json!({ "n": format!("{tag} key") })).await;
    let key = id_at(&key, &["createApiKey", "apiKey", "id"]);
    let document = ask(app, owner, "mutation($k: ID!, $n: String!) { registerTrustedDocument(apiKeyId: $k, name: $n, document: \"{ me { id } }\") { id } }", json!({ "k": key, "n": format!("{tag} doc") })).await;
    ids.insert(
        "TrustedDocument",
        id_at(&document, &["registerTrustedDocument", "id"]),
    );
    ids.insert("ApiKey", key);
    let role = ask(app, owner, "mutation($n: String!) { createRole(input: {name: $n, permissions: [WORKSPACE_READ, PROJECT_VIEW]}) { id } }", json!({ "n": format!("{tag} role") })).await;
    let role = id_at(&role, &["createRole", "id"]);
    let invitation = ask(app, owner, "mutation($e: String!, $r: ID!) { inviteMember(email: $e, roleId: $r) { invitation { id } } }", json!({ "e": format!("invitee@{tag}.test"), "r": role })).await;
    ids.insert(
        "Invitation",
        id_at(&invitation, &["inviteMember", "invitation", "id"]),
    );
    ids.insert("Role", role);
    // Another session of the owner's (on another device), not the one making these calls.
    app.session_for(&owner.email).await;
    let sessions = ask(app, owner, "{ mySessions { id current } }", json!({})).await;
    let other = sessions["mySessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap_or_else(|| panic!("no other session: {sessions}"));
    ids.insert("Session", id_at(other, &["id"]));
    let export = ask(
        app,
        owner,
        "mutation { exportAuditEvents(format: JSONL) { id } }",
        json!({}),
    )
    .await;
    ids.insert("AuditExport", id_at(&export, &["exportAuditEvents", "id"]));
    ask(app, &team.client, "mutation($p: ID!, $t: String!) { createTicket(input: {projectId: $p, kind: BUG, title: $t, description: \"d\"}) { id } }", json!({ "p": project, "t": format!("{tag} client ticket") })).await;
    app.outbox_drained().await;
    let inbox = ask(
        app,
        owner,
        "{ notifications(first: 1) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    ids.insert(
        "Notification",
        id_at(&inbox["notifications"]["edges"][0]["node"], &["id"]),
    );
    ids
}
