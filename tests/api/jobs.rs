//! The background-job runner: a periodic job runs once per period across instances (its lease),
//! every run is recorded with its outcome, and a lapsed lease lets another instance run it.

use crate::helpers::*;
use portico::app::AppState;
use portico::jobs::{Job, run_once};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counts its runs; fails when asked to.
struct Counting {
    runs: Arc<AtomicU64>,
    fail: bool,
}

#[async_trait::async_trait]
impl Job for Counting {
    fn name(&self) -> &'static str {
        if self.fail {
            "test.failing"
        } else {
            "test.counting"
        }
    }

    fn every(&self, _: &AppState) -> Duration {
        Duration::from_secs(1)
    }

    async fn run(&self, _: &AppState) -> anyhow::Result<u64> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        if self.fail {
            anyhow::bail!("the mail server said no");
        }
        Ok(3)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_periodic_job_runs_once_per_period_across_instances_and_each_run_is_recorded() {
    let a = spawn_app().await;
    let b = spawn_instance_like(&a).await;
    let runs = Arc::new(AtomicU64::new(0));
    let job = Counting {
        runs: runs.clone(),
        fail: false,
    };
    let (first, second) = tokio::join!(
        run_once(&a.state, &job, "instance-a"),
        run_once(&b.state, &job, "instance-b"),
    );
    let outcomes = [first.unwrap(), second.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| o.is_some()).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let recorded = portico::db::jobs::recent_runs(&a.state.db, Some("test.counting"), 10)
        .await
        .unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].status, "succeeded");
    assert_eq!(recorded[0].affected, Some(3));
    assert!(recorded[0].finished_at.is_some() && recorded[0].duration_ms.is_some());

    // Within the period nobody runs it again; once the lease lapses, another instance does.
    let holder = recorded[0].instance.clone();
    let other = if holder == "instance-a" {
        ("instance-b", &b)
    } else {
        ("instance-a", &a)
    };
    assert!(
        run_once(&other.1.state, &job, other.0)
            .await
            .unwrap()
            .is_none()
    );
    eventually(
        "the lease lapses and another instance runs the job",
        || async { run_once(&other.1.state, &job, other.0).await.unwrap() },
    )
    .await
    .unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // A failure is recorded with its error.
    let failing = Counting {
        runs: runs.clone(),
        fail: true,
    };
    let outcome = run_once(&a.state, &failing, "instance-a").await.unwrap();
    assert!(
        matches!(outcome, Some(Err(ref e)) if e.contains("mail server")),
        "{outcome:?}"
    );
    let recorded = portico::db::jobs::recent_runs(&a.state.db, Some("test.failing"), 10)
        .await
        .unwrap();
    assert_eq!(recorded[0].status, "failed");
    assert!(
        recorded[0]
            .error
            .as_deref()
            .unwrap()
            .contains("mail server")
    );
}

#[tokio::test]
async fn the_registered_jobs_run_through_the_runner() {
    let app = spawn_app().await;
    for job in portico::App::jobs() {
        let outcome = run_once(&app.state, job.as_ref(), "test").await.unwrap();
        assert!(
            matches!(outcome, Some(Ok(_))),
            "{}: {outcome:?}",
            job.name()
        );
    }
    let recorded = portico::db::jobs::recent_runs(&app.state.db, None, 50)
        .await
        .unwrap();
    let names: Vec<&str> = recorded.iter().map(|r| r.job.as_str()).collect();
    for name in ["payment.expire", "outbox.purge", "jobs.purge"] {
        assert!(names.contains(&name), "{names:?}");
    }
}
