//! Files end to end, against a real S3 server that checks signatures (PostgreSQL run) or the
//! embedded default's signed route (SQLite run): the standard folders, direct uploads through
//! signed URLs, versions, downloads and previews, the trash, moves, and the timeline.

use crate::helpers::*;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub(crate) const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
pub(crate) const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A workspace with one project shared with its client and guest.
pub(crate) struct Portal {
    pub app: TestApp,
    pub team: Team,
    pub project: String,
}

impl Portal {
    pub(crate) async fn start() -> Portal {
        Self::start_with(|_| {}).await
    }

    pub(crate) async fn start_with(configure: impl FnOnce(&mut portico::config::Config)) -> Portal {
        let app = spawn_app_with(configure).await;
        let team = app.create_team("acme").await;
        let project = app
            .create_project(&team.owner, "Website", &[&team.client, &team.guest])
            .await;
        Portal { app, team, project }
    }

    /// The folders `who` sees: (name, id, zone).
    pub(crate) async fn folders(&self, who: &Session) -> Vec<(String, String, String)> {
        let body = self
            .app
            .query(
                who,
                "query($p: ID!) { folders(projectId: $p) { id name zone } }",
                json!({ "p": self.project }),
            )
            .await;
        data(&body)["folders"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_owned(),
                    f["id"].as_str().unwrap().to_owned(),
                    f["zone"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The ID of the folder named `name`, as the owner sees it.
    pub(crate) async fn folder(&self, name: &str) -> String {
        self.folders(&self.team.owner)
            .await
            .into_iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no folder {name}"))
            .1
    }

    /// `createUpload` for these bytes: the whole response.
    pub(crate) async fn announce(
        &self,
        who: &Session,
        target: Value,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Value {
        let mut input = json!({
            "name": name,
            "size": bytes.len(),
            "contentType": content_type,
            "sha256": sha256_hex(bytes),
        });
        input
            .as_object_mut()
            .unwrap()
            .extend(target.as_object().unwrap().clone());
        self.app
            .query(
                who,
                "mutation($i: CreateUploadInput!) { createUpload(input: $i) { id url method headers { name value } expiresAt } }",
                json!({ "i": input }),
            )
            .await
    }

    /// PUTs `bytes` as an announced upload says: the status.
    pub(crate) async fn put(&self, upload: &Value, bytes: &[u8]) -> u16 {
        let upload = &upload["data"]["createUpload"];
        let mut request = self
            .app
            .client
            .put(upload["url"].as_str().unwrap_or_else(|| panic!("{upload}")));
        for h in upload["headers"].as_array().unwrap() {
            request = request.header(h["name"].as_str().unwrap(), h["value"].as_str().unwrap());
        }
        request
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub(crate) async fn complete(&self, who: &Session, upload: &Value) -> Value {
        let id = &upload["data"]["createUpload"]["id"];
        self.app
            .query(
                who,
                "mutation($u: ID!) { completeUpload(id: $u) { id name zone contentType size sha256 version folderId } }",
                json!({ "u": id }),
            )
            .await
    }

    /// Announces, PUTs and completes a new file in `folder`: the file.
    pub(crate) async fn upload(
        &self,
        who: &Session,
        folder: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Value {
        let upload = self
            .announce(
                who,
                json!({ "folderId": folder }),
                name,
                content_type,
                bytes,
            )
            .await;
        assert_eq!(self.put(&upload, bytes).await, 200, "{upload}");
        let done = self.complete(who, &upload).await;
        data(&done)["completeUpload"].clone()
    }

    /// A file's download URL as `who` gets it.
    pub(crate) async fn download_url(&self, who: &Session, file: &str, disposition: &str) -> Value {
        self.app
            .query(
                who,
                &format!("query($f: ID!) {{ file(id: $f) {{ downloadUrl(disposition: {disposition}) }} }}"),
                json!({ "f": file }),
            )
            .await
    }

    /// GETs a URL: status, headers, body.
    pub(crate) async fn fetch(&self, url: &str) -> (u16, HeaderMap, Vec<u8>) {
        let response = self.app.client.get(url).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    /// The project's timeline summaries as `who` sees them.
    pub(crate) async fn timeline(&self, who: &Session) -> Vec<String> {
        let body = self
            .app
            .query(
                who,
                "query($p: ID!) { projectActivity(projectId: $p, first: 50) { edges { node { summary } } } }",
                json!({ "p": self.project }),
            )
            .await;
        data(&body)["projectActivity"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|e| e["node"]["summary"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[tokio::test]
async fn every_project_starts_with_the_standard_folders_and_clients_never_see_the_internal_one() {
    let p = Portal::start().await;
    let staff: Vec<(String, String)> = p
        .folders(&p.team.collaborator)
        .await
        .into_iter()
        .map(|(n, _, z)| (n, z))
        .collect();
    assert_eq!(
        staff,
        [
            ("Branding".to_owned(), "CLIENT".to_owned()),
            ("Content".to_owned(), "CLIENT".to_owned()),
            ("Deliverables".to_owned(), "SHARED".to_owned()),
            ("Internal".to_owned(), "INTERNAL".to_owned()),
        ]
    );
    for who in [&p.team.client, &p.team.guest] {
        let names: Vec<String> = p
            .folders(who)
            .await
            .into_iter()
            .map(|(n, _, _)| n)
            .collect();
        assert_eq!(names, ["Branding", "Content", "Deliverables"]);
    }
    // Standard folders keep their names.
    let branding = p.folder("Branding").await;
    let renamed = p
        .app
        .query(
            &p.team.owner,
            "mutation($f: ID!) { renameFolder(id: $f, name: \"Logo\") { id } }",
            json!({ "f": branding }),
        )
        .await;
    assert_eq!(
        error_code(&renamed).as_deref(),
        Some("BAD_USER_INPUT"),
        "{renamed}"
    );
}

#[tokio::test]
async fn a_client_uploads_through_a_signed_url_and_staff_download_and_preview_it() {
    let p = Portal::start().await;
    let branding = p.folder("Branding").await;
    let upload = p
        .announce(
            &p.team.client,
            json!({ "folderId": branding }),
            "logo.png",
            "image/png",
            PNG,
        )
        .await;
    let announced = &data(&upload)["createUpload"];
    assert_eq!(announced["method"], "PUT");
    if storage_is_s3() {
        let s3 = p.app.s3.as_ref().unwrap();
        assert!(
            announced["url"].as_str().unwrap().starts_with(&s3.endpoint),
            "{announced}"
        );
        assert!(
            announced["url"]
                .as_str()
                .unwrap()
                .contains("X-Amz-Signature=")
        );
    }
    // Not visible before completion.
    let files =
        "query($f: ID!) { folder(id: $f) { files(first: 10) { totalCount nodes { id name } } } }";
    let before = p
        .app
        .query(&p.team.owner, files, json!({ "f": branding }))
        .await;
    assert_eq!(data(&before)["folder"]["files"]["totalCount"], 0);

    assert_eq!(p.put(&upload, PNG).await, 200);
    let done = p.complete(&p.team.client, &upload).await;
    let file = &data(&done)["completeUpload"];
    assert_eq!(file["name"], "logo.png");
    assert_eq!(file["zone"], "CLIENT");
    assert_eq!(file["size"], PNG.len());
    assert_eq!(file["sha256"], sha256_hex(PNG));
    assert_eq!(file["version"], 1);
    let id = file["id"].as_str().unwrap().to_owned();

    let after = p
        .app
        .query(&p.team.collaborator, files, json!({ "f": branding }))
        .await;
    assert_eq!(
        data(&after)["folder"]["files"]["nodes"][0]["id"],
        id.as_str()
    );

    let url = p
        .download_url(&p.team.collaborator, &id, "ATTACHMENT")
        .await;
    let url = data(&url)["file"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, headers, body) = p.fetch(&url).await;
    assert_eq!(status, 200);
    assert_eq!(body, PNG);
    assert_eq!(headers["content-type"], "image/png");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"logo.png\"")
    );

    let inline = p.download_url(&p.team.client, &id, "INLINE").await;
    let (status, headers, _) = p
        .fetch(data(&inline)["file"]["downloadUrl"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );

    // A changed URL is refused by whichever server signed it.
    let tampered = url
        .replacen("logo.png", "logo.exe", 1)
        .replacen("attachment", "inline", 1);
    assert_ne!(tampered, url);
    assert_eq!(p.fetch(&tampered).await.0, 403);

    assert!(
        p.timeline(&p.team.client)
            .await
            .contains(&"File uploaded: logo.png".to_owned())
    );
}

#[tokio::test]
async fn a_new_version_keeps_the_history_and_every_version_downloads() {
    let p = Portal::start().await;
    let deliverables = p.folder("Deliverables").await;
    let first = p
        .upload(
            &p.team.collaborator,
            &deliverables,
            "mockup.pdf",
            "application/pdf",
            PDF,
        )
        .await;
    let id = first["id"].as_str().unwrap().to_owned();
    let second_bytes = [PDF, b"% revised\n"].concat();
    let upload = p
        .announce(
            &p.team.collaborator,
            json!({ "fileId": id }),
            "ignored.pdf",
            "application/pdf",
            &second_bytes,
        )
        .await;
    assert_eq!(p.put(&upload, &second_bytes).await, 200);
    let done = p.complete(&p.team.collaborator, &upload).await;
    assert_eq!(data(&done)["completeUpload"]["version"], 2, "{done}");
    assert_eq!(data(&done)["completeUpload"]["name"], "mockup.pdf");

    let relabel = p
        .app
        .query(
            &p.team.owner,
            "query($f: ID!) { file(id: $f) { versions { id number label } } }",
            json!({ "f": id }),
        )
        .await;
    let versions = data(&relabel)["file"]["versions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        versions
            .iter()
            .map(|v| v["label"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["v2", "v1"]
    );
    let labelled = p
        .app
        .query(
            &p.team.owner,
            "mutation($v: ID!) { labelFileVersion(id: $v, label: \"final\") { label number } }",
            json!({ "v": versions[0]["id"] }),
        )
        .await;
    assert_eq!(data(&labelled)["labelFileVersion"]["label"], "final");

    // The client reads the shared zone, every version of it.
    let urls = p
        .app
        .query(
            &p.team.client,
            "query($f: ID!) { file(id: $f) { versions { number downloadUrl } } }",
            json!({ "f": id }),
        )
        .await;
    for v in data(&urls)["file"]["versions"].as_array().unwrap() {
        let (status, _, body) = p.fetch(v["downloadUrl"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        let expected: &[u8] = if v["number"] == 1 { PDF } else { &second_bytes };
        assert_eq!(body, expected);
    }
    // Clients cannot relabel, and cannot add versions to staff files.
    let refused = p
        .app
        .query(
            &p.team.client,
            "mutation($v: ID!) { labelFileVersion(id: $v, label: \"x\") { label } }",
            json!({ "v": versions[0]["id"] }),
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    let refused = p
        .announce(
            &p.team.client,
            json!({ "fileId": id }),
            "x.pdf",
            "application/pdf",
            PDF,
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn the_trash_keeps_files_until_staff_restore_them() {
    let p = Portal::start().await;
    let content = p.folder("Content").await;
    let file = p
        .upload(
            &p.team.client,
            &content,
            "texts.txt",
            "text/plain",
            b"Hello, world",
        )
        .await;
    let id = file["id"].as_str().unwrap().to_owned();
    let delete = "mutation($f: ID!) { deleteFile(id: $f) { deletedAt } }";

    // Clients may not delete, even their own upload, until the workspace allows it.
    let refused = p
        .app
        .query(&p.team.client, delete, json!({ "f": id }))
        .await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("FORBIDDEN"),
        "{refused}"
    );
    let allowed = p
        .app
        .query(
            &p.team.owner,
            "mutation { updateFileSettings(input: {clientsMayDelete: true}) { clientsMayDelete } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&allowed)["updateFileSettings"]["clientsMayDelete"],
        true
    );
    let deleted = p
        .app
        .query(&p.team.client, delete, json!({ "f": id }))
        .await;
    assert!(
        data(&deleted)["deleteFile"]["deletedAt"].is_string(),
        "{deleted}"
    );

    // Gone for the client; in the trash for staff.
    let lookup = p
        .app
        .query(
            &p.team.client,
            "query($f: ID!) { file(id: $f) { id } }",
            json!({ "f": id }),
        )
        .await;
    assert_eq!(error_code(&lookup).as_deref(), Some("NOT_FOUND"));
    let trash =
        "query($p: ID!) { fileTrash(projectId: $p, first: 10) { totalCount nodes { id } } }";
    let client_trash = p
        .app
        .query(&p.team.client, trash, json!({ "p": p.project }))
        .await;
    assert_eq!(error_code(&client_trash).as_deref(), Some("FORBIDDEN"));
    let staff_trash = p
        .app
        .query(&p.team.collaborator, trash, json!({ "p": p.project }))
        .await;
    assert_eq!(
        data(&staff_trash)["fileTrash"]["nodes"][0]["id"],
        id.as_str()
    );

    let restored = p
        .app
        .query(
            &p.team.collaborator,
            "mutation($f: ID!) { restoreFile(id: $f) { deletedAt } }",
            json!({ "f": id }),
        )
        .await;
    assert!(
        data(&restored)["restoreFile"]["deletedAt"].is_null(),
        "{restored}"
    );
    let lookup = p
        .app
        .query(
            &p.team.client,
            "query($f: ID!) { file(id: $f) { name } }",
            json!({ "f": id }),
        )
        .await;
    assert_eq!(data(&lookup)["file"]["name"], "texts.txt");
    let timeline = p.timeline(&p.team.owner).await;
    assert!(
        timeline.contains(&"File deleted: texts.txt".to_owned()),
        "{timeline:?}"
    );
    assert!(timeline.contains(&"File restored: texts.txt".to_owned()));
}

#[tokio::test]
async fn staff_move_and_rename_files_and_a_file_takes_its_new_folders_zone() {
    let p = Portal::start().await;
    let branding = p.folder("Branding").await;
    let internal = p.folder("Internal").await;
    let file = p
        .upload(
            &p.team.client,
            &branding,
            "brief.pdf",
            "application/pdf",
            PDF,
        )
        .await;
    let id = file["id"].as_str().unwrap().to_owned();
    let rename = "mutation($f: ID!) { renameFile(id: $f, name: \"Brief v1.pdf\") { name } }";
    let refused = p
        .app
        .query(&p.team.client, rename, json!({ "f": id }))
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    let renamed = p
        .app
        .query(&p.team.collaborator, rename, json!({ "f": id }))
        .await;
    assert_eq!(data(&renamed)["renameFile"]["name"], "Brief v1.pdf");

    let sub = p
        .app
        .query(&p.team.owner, "mutation($f: ID!) { createFolder(parentId: $f, name: \"Reviews\") { id zone system } }", json!({ "f": internal }))
        .await;
    assert_eq!(data(&sub)["createFolder"]["zone"], "INTERNAL", "{sub}");
    assert_eq!(data(&sub)["createFolder"]["system"], false);
    let moved = p
        .app
        .query(
            &p.team.owner,
            "mutation($f: ID!, $d: ID!) { moveFile(id: $f, folderId: $d) { zone } }",
            json!({ "f": id, "d": data(&sub)["createFolder"]["id"] }),
        )
        .await;
    assert_eq!(data(&moved)["moveFile"]["zone"], "INTERNAL", "{moved}");
    let lookup = p
        .app
        .query(
            &p.team.client,
            "query($f: ID!) { file(id: $f) { id } }",
            json!({ "f": id }),
        )
        .await;
    assert_eq!(error_code(&lookup).as_deref(), Some("NOT_FOUND"));
    // Clients create folders only where the workspace allows it.
    let refused = p
        .app
        .query(
            &p.team.client,
            "mutation($f: ID!) { createFolder(parentId: $f, name: \"Mine\") { id } }",
            json!({ "f": branding }),
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn the_purge_removes_old_trash_and_the_sweep_abandoned_uploads_with_their_objects() {
    use entity::{file, file_upload};
    use portico::db::Scoped;
    use portico::jobs::Job;
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};

    let p = Portal::start().await;
    let conn = p.app.state.db.conn();
    let scoped = Scoped::new(conn, p.team.workspace_id);
    let content = p.folder("Content").await;
    let old = p
        .upload(
            &p.team.collaborator,
            &content,
            "old.txt",
            "text/plain",
            b"old",
        )
        .await;
    let kept = p
        .upload(
            &p.team.collaborator,
            &content,
            "kept.txt",
            "text/plain",
            b"kept",
        )
        .await;
    let url = p
        .download_url(&p.team.owner, old["id"].as_str().unwrap(), "ATTACHMENT")
        .await;
    let url = data(&url)["file"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    for f in [&old, &kept] {
        p.app
            .query(
                &p.team.owner,
                "mutation($f: ID!) { deleteFile(id: $f) { id } }",
                json!({ "f": f["id"] }),
            )
            .await;
    }
    // `old` went to the trash 31 days ago; `kept` today.
    scoped
        .update_many::<file::Entity>()
        .col_expr(
            file::Column::DeletedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(31)),
        )
        .filter(file::Column::Name.eq("old.txt"))
        .exec(conn)
        .await
        .unwrap();
    let purged = portico::app::file_jobs::PurgeTrash
        .run(&p.app.state)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let trash = p
        .app
        .query(
            &p.team.owner,
            "query($p: ID!) { fileTrash(projectId: $p, first: 10) { nodes { name } } }",
            json!({ "p": p.project }),
        )
        .await;
    assert_eq!(
        data(&trash)["fileTrash"]["nodes"],
        json!([{ "name": "kept.txt" }])
    );
    assert_eq!(
        p.fetch(&url).await.0,
        404,
        "the purged file's object is still served"
    );

    // An upload PUT but never completed, and one completed: only the first goes, with its object.
    let abandoned = p
        .announce(
            &p.team.client,
            json!({ "folderId": content }),
            "a.txt",
            "text/plain",
            b"abandoned",
        )
        .await;
    assert_eq!(p.put(&abandoned, b"abandoned").await, 200);
    let finished = p
        .upload(&p.team.client, &content, "b.txt", "text/plain", b"finished")
        .await;
    scoped
        .update_many::<file_upload::Entity>()
        .col_expr(
            file_upload::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .exec(conn)
        .await
        .unwrap();
    let swept = portico::app::file_jobs::SweepUploads
        .run(&p.app.state)
        .await
        .unwrap();
    // Every record past its expiry: the abandoned one, and the completed records of old.txt,
    // kept.txt and b.txt (whose objects are their versions' and stay).
    assert_eq!(swept, 4);
    let gone = p.complete(&p.team.client, &abandoned).await;
    assert_eq!(error_code(&gone).as_deref(), Some("NOT_FOUND"));
    let url = p
        .download_url(
            &p.team.client,
            finished["id"].as_str().unwrap(),
            "ATTACHMENT",
        )
        .await;
    let (status, _, body) = p
        .fetch(data(&url)["file"]["downloadUrl"].as_str().unwrap())
        .await;
    assert_eq!((status, body.as_slice()), (200, &b"finished"[..]));
    // The abandoned object is gone: its URL, put again, may store anew (If-None-Match passes).
    assert_eq!(p.put(&abandoned, b"abandoned").await, 200);
}

#[tokio::test]
async fn a_folders_files_with_versions_thumbnails_and_uploaders_cost_the_same_for_one_file_or_many()
{
    let p = Portal::start().await;
    let content = p.folder("Content").await;
    let query = "query($f: ID!) { folder(id: $f) { files(first: 50) { nodes { name versions { label uploadedBy { name } } uploadedBy { name } thumbnail { status } } } } }";
    let mut counts = Vec::new();
    for n in [1, 6] {
        while p
            .app
            .query(
                &p.team.owner,
                "query($f: ID!) { folder(id: $f) { files(first: 50) { totalCount } } }",
                json!({ "f": content }),
            )
            .await["data"]["folder"]["files"]["totalCount"]
            != n
        {
            let who = if counts.is_empty() {
                &p.team.client
            } else {
                &p.team.collaborator
            };
            p.upload(who, &content, "t.png", "image/png", PNG).await;
        }
        let (body, statements) = p
            .app
            .count_statements(&p.team.owner, query, json!({ "f": content }))
            .await;
        assert_eq!(
            data(&body)["folder"]["files"]["nodes"]
                .as_array()
                .unwrap()
                .len(),
            n as usize,
            "{body}"
        );
        counts.push(statements);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 1 file, then 6: {counts:?}"
    );
}
