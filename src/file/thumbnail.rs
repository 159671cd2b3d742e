//! Thumbnails of image versions, made off the request path by the `file.thumbnails` job: each
//! image version is queued (`PENDING`) when its upload completes; the job reads it whole (up to
//! `FILE_THUMBNAIL_MAX_BYTES`), decodes it within pixel and allocation limits on a blocking
//! thread, turns it upright (EXIF orientation), shrinks it to `FILE_THUMBNAIL_PX` and stores a
//! PNG (images with transparency) or a JPEG under a generated key. Bytes that do not decode mark
//! the version `FAILED`; an unreachable store leaves it queued for the next run.

use super::Files;
use crate::db::{AcrossTenants, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::storage::ObjectKey;
use entity::file_version;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use std::io::Cursor;

/// No thumbnail will be made: not an image, or too large.
pub const NONE: &str = "NONE";
/// Queued for the job.
pub const PENDING: &str = "PENDING";
/// Made: `thumbnail_key` names it.
pub const READY: &str = "READY";
/// The bytes did not decode as the image they passed for.
pub const FAILED: &str = "FAILED";

/// Versions handled per run, so one run stays short.
const BATCH: u64 = 20;
/// Widest and tallest image decoded (a 10-kilobyte PNG can claim 100,000 × 100,000 pixels).
const MAX_SIDE: u32 = 12_000;
/// Memory one decode may take.
const MAX_ALLOC: u64 = 512 * 1024 * 1024;

/// What a version of `content_type` and `size` bytes starts as.
pub fn initial_status(content_type: &str, size: u64, max_bytes: u64) -> &'static str {
    if format_of(content_type).is_some() && size <= max_bytes {
        PENDING
    } else {
        NONE
    }
}

fn format_of(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// A made thumbnail.
#[derive(Debug)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Decodes `bytes` as `content_type` and shrinks it to fit `px` × `px` (never enlarging). CPU
/// work: call it on a blocking thread.
pub fn render(bytes: &[u8], content_type: &str, px: u32) -> Result<Rendered, image::ImageError> {
    let format = format_of(content_type).ok_or_else(|| {
        image::ImageError::Unsupported(image::error::UnsupportedError::from_format_and_kind(
            image::error::ImageFormatHint::Unknown,
            image::error::UnsupportedErrorKind::GenericFeature(content_type.to_owned()),
        ))
    })?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    let thumb = if image.width() > px || image.height() > px {
        image.thumbnail(px, px)
    } else {
        image
    };
    let mut out = Cursor::new(Vec::new());
    let content_type = if thumb.color().has_alpha() {
        thumb.write_to(&mut out, ImageFormat::Png)?;
        "image/png"
    } else {
        let rgb = DynamicImage::ImageRgb8(thumb.to_rgb8());
        rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, 82,
        ))?;
        "image/jpeg"
    };
    Ok(Rendered {
        bytes: out.into_inner(),
        content_type,
        width: thumb.width(),
        height: thumb.height(),
    })
}

/// Makes the thumbnails of queued versions, oldest first. Returns the versions settled.
pub async fn make_pending(f: Files<'_>) -> ApiResult<u64> {
    let queued = AcrossTenants::because("the thumbnail job serves every workspace's images")
        .find::<file_version::Entity>()
        .filter(file_version::Column::ThumbnailStatus.eq(PENDING))
        .order_by_asc(file_version::Column::CreatedAt)
        .limit(BATCH)
        .all(f.db.conn())
        .await?;
    let mut settled = 0;
    for version in queued {
        settled += u64::from(make(f, &version).await?);
    }
    Ok(settled)
}

/// Settles one version; `false` when another run settled it first.
async fn make(f: Files<'_>, version: &file_version::Model) -> ApiResult<bool> {
    let max = f.config.file_thumbnail_max_bytes;
    if u64::try_from(version.size_bytes).unwrap_or(u64::MAX) > max {
        return settle(f, version, NONE, None).await;
    }
    let source = ObjectKey::stored(version.object_key.clone());
    let Some(bytes) = f.storage.read(&source, max).await? else {
        tracing::warn!(version = %version.id, "an image version has no object: no thumbnail");
        return settle(f, version, FAILED, None).await;
    };
    let (content_type, px) = (version.content_type.clone(), f.config.file_thumbnail_px);
    let rendered = tokio::task::spawn_blocking(move || render(&bytes, &content_type, px))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let rendered = match rendered {
        Ok(rendered) => rendered,
        Err(error) => {
            tracing::info!(version = %version.id, %error, "an image did not decode: no thumbnail");
            return settle(f, version, FAILED, None).await;
        }
    };
    let key = ObjectKey::generate(version.workspace_id);
    let made = Made {
        content_type: rendered.content_type,
        width: rendered.width,
        height: rendered.height,
    };
    f.storage.put(&key, rendered.bytes).await?;
    let settled = settle(f, version, READY, Some((&key, made))).await?;
    if !settled {
        // Another run, or the purge, got there first: this object is nobody's.
        f.storage.delete(&key).await?;
    }
    Ok(settled)
}

struct Made {
    content_type: &'static str,
    width: u32,
    height: u32,
}

/// Moves a still-queued version to `status`; `false` when it is no longer queued (or gone).
async fn settle(
    f: Files<'_>,
    version: &file_version::Model,
    status: &str,
    made: Option<(&ObjectKey, Made)>,
) -> ApiResult<bool> {
    let conn = f.db.conn();
    let mut update = Scoped::new(conn, version.workspace_id)
        .update_many::<file_version::Entity>()
        .col_expr(file_version::Column::ThumbnailStatus, Expr::value(status));
    if let Some((key, made)) = made {
        update = update
            .col_expr(
                file_version::Column::ThumbnailKey,
                Expr::value(key.as_str()),
            )
            .col_expr(
                file_version::Column::ThumbnailContentType,
                Expr::value(made.content_type),
            )
            .col_expr(
                file_version::Column::ThumbnailWidth,
                Expr::value(i32::try_from(made.width).unwrap_or(i32::MAX)),
            )
            .col_expr(
                file_version::Column::ThumbnailHeight,
                Expr::value(i32::try_from(made.height).unwrap_or(i32::MAX)),
            );
    }
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = f.db.writer().await;
    let done = update
        .filter(file_version::Column::Id.eq(version.id))
        .filter(file_version::Column::ThumbnailStatus.eq(PENDING))
        .exec(conn)
        .await?;
    drop(turn);
    Ok(done.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, alpha: bool) -> Vec<u8> {
        let image = if alpha {
            DynamicImage::new_rgba8(width, height)
        } else {
            DynamicImage::new_rgb8(width, height)
        };
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn shrinks_to_fit_keeping_the_aspect_ratio() {
        let made = render(&png(1000, 500, false), "image/png", 256).unwrap();
        assert_eq!((made.width, made.height), (256, 128));
        assert_eq!(made.content_type, "image/jpeg");
        assert!(made.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
    }

    #[test]
    fn keeps_transparency_as_png_and_never_enlarges() {
        let made = render(&png(40, 30, true), "image/png", 256).unwrap();
        assert_eq!((made.width, made.height), (40, 30));
        assert_eq!(made.content_type, "image/png");
        assert!(made.bytes.starts_with(b"\x89PNG"));
    }

    #[test]
    fn refuses_garbage_and_images_claiming_huge_sizes() {
        let mut truncated = png(64, 64, false);
        truncated.truncate(40);
        assert!(render(&truncated, "image/png", 256).is_err());
        // A valid header claiming 100,000 × 100,000 pixels is refused before any allocation.
        let mut bomb = png(1, 1, false);
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            render(&bomb, "image/png", 256),
            Err(image::ImageError::Limits(_))
        ));
        assert!(render(&png(8, 8, false), "application/pdf", 256).is_err());
    }

    /// The PNG chunk checksum (CRC-32/ISO-HDLC), so the doctored header is otherwise valid.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn only_images_within_the_limit_are_queued() {
        assert_eq!(initial_status("image/webp", 10, 100), PENDING);
        assert_eq!(initial_status("image/webp", 101, 100), NONE);
        assert_eq!(initial_status("application/pdf", 10, 100), NONE);
    }
}
