//! The internal zone through every path a client could take, and every file operation probed with
//! another workspace's IDs and another project's: all answer NOT_FOUND, exactly like a missing ID.

use crate::files::{PDF, PNG, Portal};
use crate::helpers::*;
use serde_json::{Value, json};
use uuid::Uuid;

/// Every ID-taking file operation, with `$id` in its one ID slot.
const OPERATIONS: &[&str] = &[
    "query($id: ID!) { folders(projectId: $id) { id } }",
    "query($id: ID!) { folder(id: $id) { id } }",
    "query($id: ID!) { file(id: $id) { id } }",
    "query($id: ID!) { fileTrash(projectId: $id, first: 5) { totalCount } }",
    "mutation($id: ID!) { createFolder(parentId: $id, name: \"n\") { id } }",
    "mutation($id: ID!) { renameFolder(id: $id, name: \"n\") { id } }",
    "mutation($id: ID!) { deleteFolder(id: $id) }",
    "mutation($id: ID!) { createUpload(input: {folderId: $id, name: \"a.txt\", size: 1, contentType: \"text/plain\", sha256: \"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\"}) { id } }",
    "mutation($id: ID!) { createUpload(input: {fileId: $id, name: \"a.txt\", size: 1, contentType: \"text/plain\", sha256: \"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\"}) { id } }",
    "mutation($id: ID!) { createUpload(input: {attachTo: {target: TICKET, id: $id}, name: \"a.txt\", size: 1, contentType: \"text/plain\", sha256: \"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\"}) { id } }",
    "mutation($id: ID!) { createUpload(input: {attachTo: {target: TICKET_COMMENT, id: $id}, name: \"a.txt\", size: 1, contentType: \"text/plain\", sha256: \"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\"}) { id } }",
    "mutation($id: ID!) { createUpload(input: {attachTo: {target: MESSAGE, id: $id}, name: \"a.txt\", size: 1, contentType: \"text/plain\", sha256: \"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\"}) { id } }",
    "mutation($id: ID!) { completeUpload(id: $id) { id } }",
    "mutation($id: ID!) { renameFile(id: $id, name: \"n\") { id } }",
    "mutation($id: ID!) { moveFile(id: $id, folderId: $id) { id } }",
    "mutation($id: ID!) { deleteFile(id: $id) { id } }",
    "mutation($id: ID!) { restoreFile(id: $id) { id } }",
    "mutation($id: ID!) { labelFileVersion(id: $id, label: \"x\") { id } }",
];

/// Runs every operation with `id` as `who`: those whose answer is not NOT_FOUND, or differs from
/// the answer to an ID that exists nowhere (a role lacking the operation's permission is refused
/// the same way for both, which tells nothing about the ID).
async fn not_found_everywhere(p: &Portal, who: &Session, id: &str) -> Vec<String> {
    let missing = Uuid::now_v7().to_string();
    let mut leaks = Vec::new();
    for op in OPERATIONS {
        let body = p.app.query(who, op, json!({ "id": id })).await;
        let baseline = p.app.query(who, op, json!({ "id": missing })).await;
        let code = error_code(&body);
        let refused_by_role = code.as_deref() == Some("FORBIDDEN")
            && body["errors"][0]["extensions"]["permission"].is_string();
        if !(code.as_deref() == Some("NOT_FOUND") || refused_by_role)
            || code != error_code(&baseline)
            || body["errors"][0]["message"] != baseline["errors"][0]["message"]
        {
            leaks.push(format!("{op} -> {body} (missing ID: {baseline})"));
        }
    }
    leaks
}

/// The IDs of one workspace's project, folders, a file, its version and an open upload.
async fn ids_of(p: &Portal, owner: &Session, project: &str) -> Vec<String> {
    let folders = p
        .app
        .query(
            owner,
            "query($p: ID!) { folders(projectId: $p) { id name } }",
            json!({ "p": project }),
        )
        .await;
    let folder = |name: &str| -> String {
        data(&folders)["folders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (deliverables, internal) = (folder("Deliverables"), folder("Internal"));
    let file = p
        .upload(owner, &deliverables, "a.pdf", "application/pdf", PDF)
        .await;
    let file_id = file["id"].as_str().unwrap().to_owned();
    let versions = p
        .app
        .query(
            owner,
            "query($f: ID!) { file(id: $f) { versions { id } } }",
            json!({ "f": file_id }),
        )
        .await;
    let upload = p
        .announce(
            owner,
            json!({ "folderId": deliverables }),
            "b.png",
            "image/png",
            PNG,
        )
        .await;
    vec![
        project.to_owned(),
        deliverables,
        internal,
        file_id,
        data(&versions)["file"]["versions"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        data(&upload)["createUpload"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    ]
}

#[tokio::test]
async fn another_workspaces_file_ids_answer_not_found_like_missing_ones() {
    let p = Portal::start().await;
    let globex = p.app.create_team("globex").await;
    let theirs = p
        .app
        .create_project(&globex.owner, "Theirs", &[&globex.client])
        .await;
    let foreign = ids_of(&p, &globex.owner, &theirs).await;
    let mut leaks = Vec::new();
    for id in &foreign {
        leaks.extend(not_found_everywhere(&p, &p.team.owner, id).await);
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

#[tokio::test]
async fn another_projects_file_ids_answer_not_found_to_its_non_members() {
    let p = Portal::start().await;
    // A project of the same workspace the client and guest are not members of.
    let other = p.app.create_project(&p.team.owner, "Other", &[]).await;
    let ids = ids_of(&p, &p.team.owner, &other).await;
    let mut leaks = Vec::new();
    for who in [&p.team.client, &p.team.guest] {
        for id in &ids {
            leaks.extend(not_found_everywhere(&p, who, id).await);
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

#[tokio::test]
async fn the_internal_zone_is_invisible_to_clients_through_every_path() {
    let p = Portal::start().await;
    let internal = p.folder("Internal").await;
    let file = p
        .upload(
            &p.team.collaborator,
            &internal,
            "margins.pdf",
            "application/pdf",
            PDF,
        )
        .await;
    let id = file["id"].as_str().unwrap().to_owned();
    let staff_timeline = p.timeline(&p.team.owner).await;
    assert!(
        staff_timeline.contains(&"File uploaded: margins.pdf".to_owned()),
        "{staff_timeline:?}"
    );

    for who in [&p.team.client, &p.team.guest] {
        // Lookups, writes and URLs: NOT_FOUND, like a file that does not exist.
        let mut leaks = not_found_everywhere(&p, who, &internal).await;
        leaks.extend(not_found_everywhere(&p, who, &id).await);
        assert!(leaks.is_empty(), "{leaks:#?}");
        let url = p.download_url(who, &id, "ATTACHMENT").await;
        assert_eq!(error_code(&url).as_deref(), Some("NOT_FOUND"));
        // Lists and the timeline hold no trace of it.
        let folders: Vec<String> = p
            .folders(who)
            .await
            .into_iter()
            .map(|(n, _, _)| n)
            .collect();
        assert!(!folders.contains(&"Internal".to_owned()));
        let timeline = p.timeline(who).await;
        assert!(
            !timeline.iter().any(|s: &String| s.contains("margins")),
            "{timeline:?}"
        );
    }
    // Even a file the client uploaded disappears when staff move it in.
    let branding = p.folder("Branding").await;
    let mine = p
        .upload(&p.team.client, &branding, "logo.png", "image/png", PNG)
        .await;
    let moved = p
        .app
        .query(
            &p.team.owner,
            "mutation($f: ID!, $d: ID!) { moveFile(id: $f, folderId: $d) { zone } }",
            json!({ "f": mine["id"], "d": internal }),
        )
        .await;
    assert_eq!(data(&moved)["moveFile"]["zone"], "INTERNAL");
    let lookup: Value = p
        .app
        .query(
            &p.team.client,
            "query($f: ID!) { file(id: $f) { id } }",
            json!({ "f": mine["id"] }),
        )
        .await;
    assert_eq!(error_code(&lookup).as_deref(), Some("NOT_FOUND"));
}
