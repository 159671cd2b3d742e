//! Bad uploads, each answered with a clear error and nothing half-written: a type that differs
//! from the bytes, a body that differs from what was signed, names that are paths, empty or
//! oversized files, the quota, completing twice or someone else's upload, and a leaked URL.

use crate::files::{PDF, PNG, Portal};
use crate::helpers::*;
use serde_json::{Value, json};

fn message(body: &Value) -> String {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn bytes_that_are_not_of_the_declared_type_are_refused_and_removed() {
    let p = Portal::start().await;
    let branding = p.folder("Branding").await;
    // Announced as an image, sent as a PDF with a matching digest.
    let upload = p
        .announce(
            &p.team.client,
            json!({ "folderId": branding }),
            "logo.png",
            "image/png",
            PDF,
        )
        .await;
    assert_eq!(p.put(&upload, PDF).await, 200);
    let refused = p.complete(&p.team.client, &upload).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("BAD_USER_INPUT"),
        "{refused}"
    );
    assert!(
        message(&refused).contains("not of the declared type"),
        "{refused}"
    );
    // The upload and its object are gone: completing again finds nothing.
    let again = p.complete(&p.team.client, &upload).await;
    assert_eq!(error_code(&again).as_deref(), Some("NOT_FOUND"), "{again}");
    let files = p
        .app
        .query(
            &p.team.owner,
            "query($f: ID!) { folder(id: $f) { files(first: 5) { totalCount } } }",
            json!({ "f": branding }),
        )
        .await;
    assert_eq!(data(&files)["folder"]["files"]["totalCount"], 0);
}

#[tokio::test]
async fn a_body_that_differs_from_what_was_signed_never_becomes_a_file() {
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
    let mut other = PNG.to_vec();
    other[20] ^= 1;
    let status = p.put(&upload, &other).await;
    assert!(
        (400..500).contains(&status),
        "a different body was accepted: {status}"
    );
    // The server refused it; some S3 servers (s3s-fs among them) still keep the bytes they
    // refused. Completion reads the object itself, so either way no file appears: nothing is
    // there yet, or what is there is refused and removed with its upload.
    let completed = p.complete(&p.team.client, &upload).await;
    assert_eq!(
        error_code(&completed).as_deref(),
        Some("BAD_USER_INPUT"),
        "{completed}"
    );
    let why = message(&completed);
    assert!(
        why.contains("nothing was uploaded") || why.contains("sha256 differs"),
        "{completed}"
    );
    let files = p
        .app
        .query(
            &p.team.owner,
            "query($f: ID!) { folder(id: $f) { files(first: 5) { totalCount } } }",
            json!({ "f": branding }),
        )
        .await;
    assert_eq!(data(&files)["folder"]["files"]["totalCount"], 0);
}

#[tokio::test]
async fn a_leaked_upload_url_cannot_overwrite_and_an_upload_completes_once() {
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
    assert_eq!(p.put(&upload, PNG).await, 200);
    assert_eq!(
        p.put(&upload, PNG).await,
        412,
        "a leaked URL overwrote the object"
    );
    let done = p.complete(&p.team.client, &upload).await;
    assert_eq!(data(&done)["completeUpload"]["size"], PNG.len(), "{done}");
    let twice = p.complete(&p.team.client, &upload).await;
    assert_eq!(error_code(&twice).as_deref(), Some("CONFLICT"), "{twice}");
}

#[tokio::test]
async fn only_the_uploader_completes_an_upload() {
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
    assert_eq!(p.put(&upload, PNG).await, 200);
    let theirs = p.complete(&p.team.owner, &upload).await;
    assert_eq!(
        error_code(&theirs).as_deref(),
        Some("NOT_FOUND"),
        "{theirs}"
    );
    let mine = p.complete(&p.team.client, &upload).await;
    assert_eq!(data(&mine)["completeUpload"]["name"], "logo.png", "{mine}");
}

#[tokio::test]
async fn bad_announcements_answer_bad_user_input_naming_the_field() {
    let p = Portal::start().await;
    let branding = p.folder("Branding").await;
    let target = json!({ "folderId": branding });
    let long = "x".repeat(10_000);
    let cases: Vec<(&str, &str, &[u8], &str)> = vec![
        ("../../etc/passwd", "text/plain", b"x", "name"),
        ("a\u{7}b.png", "image/png", PNG, "name"),
        (&long, "image/png", PNG, "name"),
        ("page.html", "text/html", b"<html>", "contentType"),
        ("empty.txt", "text/plain", b"", "size"),
    ];
    for (name, content_type, bytes, field) in cases {
        let refused = p
            .announce(&p.team.client, target.clone(), name, content_type, bytes)
            .await;
        assert_eq!(
            error_code(&refused).as_deref(),
            Some("BAD_USER_INPUT"),
            "{name}: {refused}"
        );
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], field,
            "{refused}"
        );
    }
    let bad_digest = p
        .app
        .query(
            &p.team.client,
            "mutation($f: ID!) { createUpload(input: {folderId: $f, name: \"a.png\", size: 3, contentType: \"image/png\", sha256: \"zz\"}) { id } }",
            json!({ "f": branding }),
        )
        .await;
    assert_eq!(
        bad_digest["errors"][0]["extensions"]["field"], "sha256",
        "{bad_digest}"
    );
    let both = p
        .announce(
            &p.team.client,
            json!({ "folderId": branding, "fileId": branding }),
            "a.png",
            "image/png",
            PNG,
        )
        .await;
    assert_eq!(error_code(&both).as_deref(), Some("BAD_USER_INPUT"));
    // Clients upload into their zone only.
    let deliverables = p.folder("Deliverables").await;
    let shared = p
        .announce(
            &p.team.client,
            json!({ "folderId": deliverables }),
            "a.png",
            "image/png",
            PNG,
        )
        .await;
    assert_eq!(
        error_code(&shared).as_deref(),
        Some("FORBIDDEN"),
        "{shared}"
    );
    let guest = p
        .announce(&p.team.guest, target, "a.png", "image/png", PNG)
        .await;
    assert_eq!(error_code(&guest).as_deref(), Some("FORBIDDEN"), "{guest}");
}

#[tokio::test]
async fn the_size_limit_and_the_quota_count_every_version_and_open_upload() {
    let p = Portal::start().await;
    let content = p.folder("Content").await;
    let settings = p
        .app
        .query(&p.team.owner, "mutation { updateFileSettings(input: {maxFileBytes: 100, quotaBytes: 150}) { maxFileBytes quotaBytes usedBytes } }", json!({}))
        .await;
    assert_eq!(
        data(&settings)["updateFileSettings"]["quotaBytes"],
        150,
        "{settings}"
    );
    let big = vec![b'a'; 101];
    let refused = p
        .announce(
            &p.team.client,
            json!({ "folderId": content }),
            "big.txt",
            "text/plain",
            &big,
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "size",
        "{refused}"
    );

    let eighty = vec![b'b'; 80];
    p.upload(&p.team.client, &content, "a.txt", "text/plain", &eighty)
        .await;
    // 80 stored + 80 more is over 150, even while the second is only announced.
    let over = p
        .announce(
            &p.team.client,
            json!({ "folderId": content }),
            "b.txt",
            "text/plain",
            &eighty,
        )
        .await;
    assert!(message(&over).contains("quota"), "{over}");
    let seventy = vec![b'c'; 70];
    let fits = p
        .announce(
            &p.team.client,
            json!({ "folderId": content }),
            "c.txt",
            "text/plain",
            &seventy,
        )
        .await;
    assert!(data(&fits)["createUpload"]["id"].is_string(), "{fits}");
    let one = p
        .announce(
            &p.team.client,
            json!({ "folderId": content }),
            "d.txt",
            "text/plain",
            b"d",
        )
        .await;
    assert!(
        message(&one).contains("quota"),
        "the open upload is not counted: {one}"
    );
    let used = p
        .app
        .query(&p.team.owner, "{ fileSettings { usedBytes } }", json!({}))
        .await;
    assert_eq!(data(&used)["fileSettings"]["usedBytes"], 150);
    // A workspace cannot raise its file limit past the installation's.
    let past = p
        .app
        .query(&p.team.owner, "mutation { updateFileSettings(input: {maxFileBytes: \"999999999999\"}) { maxFileBytes } }", json!({}))
        .await;
    assert_eq!(
        past["errors"][0]["extensions"]["field"], "maxFileBytes",
        "{past}"
    );
}

#[tokio::test]
async fn uploads_are_rate_limited_per_principal() {
    let p = Portal::start_with(|c| c.files.file_uploads_per_minute = 2).await;
    let content = p.folder("Content").await;
    for i in 0..2 {
        let ok = p
            .announce(
                &p.team.client,
                json!({ "folderId": content }),
                &format!("{i}.txt"),
                "text/plain",
                b"x",
            )
            .await;
        assert!(data(&ok)["createUpload"]["id"].is_string(), "{ok}");
    }
    let limited = p
        .announce(
            &p.team.client,
            json!({ "folderId": content }),
            "3.txt",
            "text/plain",
            b"x",
        )
        .await;
    assert_eq!(
        error_code(&limited).as_deref(),
        Some("RATE_LIMITED"),
        "{limited}"
    );
    // Someone else is not limited by it.
    let other = p
        .announce(
            &p.team.collaborator,
            json!({ "folderId": content }),
            "4.txt",
            "text/plain",
            b"x",
        )
        .await;
    assert!(data(&other)["createUpload"]["id"].is_string(), "{other}");
}
