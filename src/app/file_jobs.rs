//! The file domain's periodic jobs, bound to the container here so the domain itself never
//! reaches for it: the trash purge, the sweep of uploads never completed, and thumbnails.

use super::AppState;
use crate::file::{Files, purge, thumbnail};
use async_trait::async_trait;
use chrono::Utc;
use std::time::Duration;

fn files(app: &AppState) -> Files<'_> {
    Files {
        db: &app.db,
        storage: &app.storage,
        cache: app.cache.as_ref(),
        config: &app.config.files,
    }
}

/// Removes files that stayed in the trash past `FILE_TRASH_RETENTION_DAYS`.
#[derive(Debug)]
pub struct PurgeTrash;

#[async_trait]
impl crate::jobs::Job for PurgeTrash {
    fn name(&self) -> &'static str {
        "file.purge_trash"
    }

    fn every(&self, _: &AppState) -> Duration {
        Duration::from_secs(3600)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        let days = i64::try_from(app.config.files.file_trash_retention_days)
            .unwrap_or(i64::MAX / 86_400_000);
        let before = Utc::now() - chrono::Duration::days(days);
        purge::purge_trash(files(app), before)
            .await
            .map_err(crate::error::ApiError::into_anyhow)
    }
}

/// Removes uploads not completed before their URL expired, with their objects.
#[derive(Debug)]
pub struct SweepUploads;

#[async_trait]
impl crate::jobs::Job for SweepUploads {
    fn name(&self) -> &'static str {
        "file.sweep_uploads"
    }

    fn every(&self, _: &AppState) -> Duration {
        Duration::from_secs(300)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        purge::sweep_uploads(files(app), Utc::now())
            .await
            .map_err(crate::error::ApiError::into_anyhow)
    }
}

/// Makes the thumbnails of image versions uploaded since the last run.
#[derive(Debug)]
pub struct Thumbnails;

#[async_trait]
impl crate::jobs::Job for Thumbnails {
    fn name(&self) -> &'static str {
        "file.thumbnails"
    }

    fn every(&self, app: &AppState) -> Duration {
        Duration::from_secs(app.config.files.file_thumbnail_interval_secs)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        thumbnail::make_pending(files(app))
            .await
            .map_err(crate::error::ApiError::into_anyhow)
    }
}
