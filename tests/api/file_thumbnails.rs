//! Thumbnails: the job makes them for image versions, on S3 (PostgreSQL run) and the embedded
//! store (SQLite run); they are minted like downloads; bytes that do not decode fail; racing
//! runs store one; the purge takes them along.

use crate::files::{PDF, PNG, Portal};
use crate::helpers::*;
use image::{DynamicImage, ImageFormat};
use portico::jobs::Job;
use serde_json::{Value, json};
use std::io::Cursor;
use std::path::Path;

const THUMBNAIL: &str = "thumbnail { status width height contentType url }";

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A photo-like JPEG, `width` × `height`.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    encode(DynamicImage::ImageRgb8(image), ImageFormat::Jpeg)
}

async fn run_job(p: &Portal) -> u64 {
    portico::app::file_jobs::Thumbnails
        .run(&p.app.state)
        .await
        .unwrap()
}

/// `file(id)`'s thumbnail as `who` sees it.
async fn thumbnail(p: &Portal, who: &Session, file: &Value) -> Value {
    let body = p
        .app
        .query(
            who,
            &format!("query($f: ID!) {{ file(id: $f) {{ {THUMBNAIL} }} }}"),
            json!({ "f": file["id"] }),
        )
        .await;
    data(&body)["file"]["thumbnail"].clone()
}

/// Every stored object of the workspace, on either backend: files in a folder named after it.
fn objects(p: &Portal) -> usize {
    fn walk(dir: &Path, workspace: &str, n: &mut usize) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, workspace, n);
            } else if path.parent().and_then(Path::file_name) == Some(workspace.as_ref()) {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    let workspace = p.team.workspace_id.to_string();
    walk(&p.app.state.config.data_dir, &workspace, &mut n);
    n
}

#[tokio::test]
async fn an_image_gets_a_thumbnail_minted_like_a_download_and_each_version_its_own() {
    let p = Portal::start().await;
    let branding = p.folder("Branding").await;
    let photo = jpeg(800, 400);
    let file = p
        .upload(&p.team.client, &branding, "photo.jpg", "image/jpeg", &photo)
        .await;
    let pdf = p
        .upload(
            &p.team.client,
            &branding,
            "brief.pdf",
            "application/pdf",
            PDF,
        )
        .await;
    assert_eq!(
        thumbnail(&p, &p.team.client, &file).await,
        json!({ "status": "PENDING", "width": null, "height": null, "contentType": null, "url": null })
    );
    assert_eq!(thumbnail(&p, &p.team.client, &pdf).await, Value::Null);

    assert_eq!(run_job(&p).await, 1);
    let made = thumbnail(&p, &p.team.client, &file).await;
    assert_eq!(made["status"], "READY", "{made}");
    assert_eq!(
        (made["width"].clone(), made["height"].clone()),
        (json!(256), json!(128))
    );
    assert_eq!(made["contentType"], "image/jpeg");
    let (status, headers, body) = p.fetch(made["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline; filename=\"photo-thumbnail.jpg\""),
        "{headers:?}"
    );
    let decoded = image::load_from_memory(&body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 128));
    // Nothing left to do: the next run settles nothing.
    assert_eq!(run_job(&p).await, 0);

    // A new version, a small transparent PNG, gets its own; the first keeps its.
    let logo = encode(DynamicImage::new_rgba8(100, 60), ImageFormat::Png);
    let upload = p
        .announce(
            &p.team.client,
            json!({ "fileId": file["id"] }),
            "photo.jpg",
            "image/png",
            &logo,
        )
        .await;
    assert_eq!(p.put(&upload, &logo).await, 200);
    data(&p.complete(&p.team.client, &upload).await);
    assert_eq!(
        thumbnail(&p, &p.team.owner, &file).await["status"],
        "PENDING"
    );
    assert_eq!(run_job(&p).await, 1);
    let versions = p
        .app
        .query(
            &p.team.collaborator,
            &format!("query($f: ID!) {{ file(id: $f) {{ {THUMBNAIL} versions {{ number {THUMBNAIL} }} }} }}"),
            json!({ "f": file["id"] }),
        )
        .await;
    let f = &data(&versions)["file"];
    assert_eq!(f["thumbnail"]["contentType"], "image/png");
    assert_eq!(
        (
            f["thumbnail"]["width"].clone(),
            f["thumbnail"]["height"].clone()
        ),
        (json!(100), json!(60))
    );
    assert_eq!(f["versions"][0]["thumbnail"]["contentType"], "image/png");
    assert_eq!(f["versions"][1]["thumbnail"]["contentType"], "image/jpeg");
    let (status, _, body) = p
        .fetch(f["versions"][0]["thumbnail"]["url"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    assert!(body.starts_with(b"\x89PNG"));

    // Every mint is an event for the audit log, marked as a thumbnail's.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    // The outbox is infrastructure without a tenant filter: the test reads it by hand.
    #[allow(clippy::disallowed_methods)]
    let minted = entity::outbox_event::Entity::find()
        .filter(entity::outbox_event::Column::Kind.eq("FILE_URL_MINTED"))
        .all(p.app.state.db.conn())
        .await
        .unwrap();
    let thumbnails = minted
        .iter()
        .filter(|e| e.payload.contains("\"thumbnail\":true"))
        .count();
    assert_eq!(thumbnails, 4, "{minted:?}");
}

#[tokio::test]
async fn bytes_that_do_not_decode_fail_and_internal_thumbnails_stay_hidden() {
    let p = Portal::start().await;
    let internal = p.folder("Internal").await;
    // PNG's magic number, then nothing an image decoder accepts.
    let broken = p
        .upload(&p.team.owner, &internal, "broken.png", "image/png", PNG)
        .await;
    let secret = p
        .upload(
            &p.team.owner,
            &internal,
            "secret.jpg",
            "image/jpeg",
            &jpeg(64, 64),
        )
        .await;
    assert_eq!(run_job(&p).await, 2);
    assert_eq!(
        thumbnail(&p, &p.team.owner, &broken).await,
        json!({ "status": "FAILED", "width": null, "height": null, "contentType": null, "url": null })
    );
    assert_eq!(
        thumbnail(&p, &p.team.owner, &secret).await["status"],
        "READY"
    );
    // A client reaches neither the file nor so its thumbnail: NOT_FOUND, like a missing ID.
    let body = p
        .app
        .query(
            &p.team.client,
            &format!("query($f: ID!) {{ file(id: $f) {{ {THUMBNAIL} }} }}"),
            json!({ "f": secret["id"] }),
        )
        .await;
    assert_eq!(error_codes(&body), ["NOT_FOUND"], "{body}");
}

#[tokio::test]
async fn racing_runs_store_one_thumbnail_and_the_purge_takes_it_along() {
    use portico::db::Scoped;
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};

    let p = Portal::start().await;
    let content = p.folder("Content").await;
    let file = p
        .upload(
            &p.team.collaborator,
            &content,
            "wide.jpg",
            "image/jpeg",
            &jpeg(600, 300),
        )
        .await;
    let before = objects(&p);
    let (a, b) = tokio::join!(run_job(&p), run_job(&p));
    assert_eq!(a + b, 1, "exactly one run settles the version");
    assert_eq!(
        objects(&p),
        before + 1,
        "one thumbnail object, the loser's deleted"
    );
    let url = thumbnail(&p, &p.team.owner, &file).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(p.fetch(&url).await.0, 200);

    data(
        &p.app
            .query(
                &p.team.owner,
                "mutation($f: ID!) { deleteFile(id: $f) { id } }",
                json!({ "f": file["id"] }),
            )
            .await,
    );
    Scoped::new(p.app.state.db.conn(), p.team.workspace_id)
        .update_many::<entity::file::Entity>()
        .col_expr(
            entity::file::Column::DeletedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(31)),
        )
        .filter(entity::file::Column::Name.eq("wide.jpg"))
        .exec(p.app.state.db.conn())
        .await
        .unwrap();
    let purged = portico::app::file_jobs::PurgeTrash
        .run(&p.app.state)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(
        objects(&p),
        before - 1,
        "the image and its thumbnail are gone"
    );
    assert_eq!(p.fetch(&url).await.0, 404);
}
