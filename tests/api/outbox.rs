//! The transactional outbox: an event committed by an instance that dies before delivering it is
//! delivered by another, with the same id; a claim that lapses (a dispatcher crashed between
//! delivery and its mark) is delivered again with the same id; two dispatchers never claim the
//! same row.

use crate::helpers::*;
use futures_util::StreamExt;
use portico::db::outbox;
use portico::events::{DomainEvent, Envelope, TaskChanged};
use portico::pubsub::BusMessage;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

const POST: &str = "mutation($p: ID!) { postMessage(projectId: $p, body: \"hello\") { id } }";

/// Subscribes to `channel` and returns once the subscription is live end to end (a probe
/// published on the bus came back), so nothing published afterwards can be missed.
async fn attach(
    bus: &std::sync::Arc<dyn portico::pubsub::EventBus>,
    channel: &str,
) -> futures_util::stream::BoxStream<'static, BusMessage> {
    let mut stream = bus.subscribe(channel).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bus never attached"
        );
        bus.publish(channel, "probe".to_owned()).await.unwrap();
        if let Ok(Some(BusMessage::Event(payload))) =
            tokio::time::timeout(Duration::from_millis(200), stream.next()).await
            && &*payload == "probe"
        {
            return stream;
        }
    }
}

/// The next event on a bus subscription, within 10 s (probes skipped).
async fn next_envelope(
    stream: &mut futures_util::stream::BoxStream<'static, BusMessage>,
) -> Envelope {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .expect("the bus stays open");
        if let BusMessage::Event(payload) = message
            && &*payload != "probe"
        {
            return serde_json::from_str(&payload).unwrap();
        }
    }
}

/// Pending rows of the outbox, oldest first.
async fn pending_ids(app: &TestApp) -> Vec<Uuid> {
    let claimed = outbox::claim(&app.state.db, "inspector", 1000, chrono::Utc::now())
        .await
        .unwrap();
    claimed.into_iter().map(|c| c.id).collect()
}

#[tokio::test]
async fn an_event_committed_by_an_instance_that_died_is_delivered_by_another() {
    // Instance A commits but never dispatches: it "dies" between commit and delivery. (The first
    // instance only holds the database; it dispatches nothing either.)
    let host = spawn_app_with(|c| c.outbox_dispatch = false).await;
    let a = spawn_instance_like(&host).await;
    let team = a.create_team("acme").await;
    let project = a.create_project(&team.owner, "Site", &[]).await;
    let posted = a.query(&team.owner, POST, json!({ "p": project })).await;
    let message_id = data(&posted)["postMessage"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pending = pending_ids(&a).await;
    assert!(
        !pending.is_empty(),
        "the message's event waits in the outbox"
    );
    let config = a.state.config.clone();
    let db = a.state.db.clone();
    drop(a);

    // Instance B starts on the same database, listens, then dispatches.
    let b = portico::App::build(portico::config::Config {
        outbox_poll_ms: 50,
        ..config
    })
    .await
    .unwrap();
    let channel = portico::pubsub::channel::project(team.workspace_id, project.parse().unwrap());
    let mut stream = attach(&b.bus, &channel).await;
    let _dispatcher = b.dispatcher().spawn();
    let mut seen = HashSet::new();
    let message = loop {
        let envelope = next_envelope(&mut stream).await;
        assert!(
            pending.contains(&envelope.id),
            "an event id from the outbox: {envelope:?}"
        );
        assert!(seen.insert(envelope.id), "delivered once");
        if let DomainEvent::MessageAdded(m) = &envelope.event {
            break (envelope.id, m.message_id);
        }
    };
    assert_eq!(message.1.to_string(), message_id);
    // Marked dispatched once the batch is delivered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let row = outbox::get(&db, message.0).await.unwrap().unwrap();
        if row.dispatched_at.is_some() {
            assert_eq!(row.attempts, 0);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never marked: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_lapsed_claim_is_delivered_again_with_the_same_event_id() {
    let app = spawn_app_with(|c| c.outbox_dispatch = false).await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Site", &[]).await;
    data(&app.query(&team.owner, POST, json!({ "p": project })).await);
    // A dispatcher claims everything and crashes before marking it: its lease lapses at once.
    let crashed = outbox::claim(&app.state.db, "crashed", 1000, chrono::Utc::now())
        .await
        .unwrap();
    assert!(!crashed.is_empty());
    let channel = portico::pubsub::channel::project(team.workspace_id, project.parse().unwrap());
    let mut stream = attach(&app.state.bus, &channel).await;
    let dispatcher = app.state.dispatcher();
    assert_eq!(dispatcher.run_once().await.unwrap(), crashed.len());
    let mut redelivered = HashSet::new();
    for _ in 0..crashed.len() {
        redelivered.insert(next_envelope(&mut stream).await.id);
    }
    let expected: HashSet<Uuid> = crashed.iter().map(|c| c.id).collect();
    assert_eq!(redelivered, expected);
    // What is left are the events the delivery itself wrote (the staff's notifications of the
    // message), none of them a repeat; once they are delivered, nothing is.
    let left = outbox::pending_ids(&app.state.db, 100).await.unwrap();
    assert!(left.iter().all(|id| !expected.contains(id)), "{left:?}");
    assert_eq!(dispatcher.run_once().await.unwrap(), left.len());
    assert_eq!(dispatcher.run_once().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_dispatchers_never_claim_the_same_row() {
    let app = spawn_app_with(|c| c.outbox_dispatch = false).await;
    let other = spawn_instance_like(&app).await;
    let workspace = Uuid::now_v7();
    let project_id = Uuid::now_v7();
    // 400 events in 40 transactions.
    for _ in 0..40 {
        let txn = app.state.db.begin().await.unwrap();
        let scoped = txn.scoped(workspace);
        for position in 0..10 {
            scoped.emit(DomainEvent::TaskMoved(TaskChanged {
                project_id,
                task_id: Uuid::now_v7(),
                column: "BACKLOG".into(),
                position,
            }));
        }
        txn.commit().await.unwrap();
    }
    let claim_all = |db: portico::db::Db, name: &'static str| async move {
        let mut mine = Vec::new();
        loop {
            let until = chrono::Utc::now() + chrono::Duration::minutes(5);
            let batch = outbox::claim(&db, name, 7, until).await.unwrap();
            if batch.is_empty() {
                return mine;
            }
            mine.extend(batch.into_iter().map(|c| c.id));
        }
    };
    let (first, second) = tokio::join!(
        tokio::spawn(claim_all(app.state.db.clone(), "one")),
        tokio::spawn(claim_all(other.state.db.clone(), "two")),
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let all: HashSet<Uuid> = first.iter().chain(&second).copied().collect();
    assert_eq!(
        all.len(),
        first.len() + second.len(),
        "a row was claimed twice"
    );
    assert_eq!(all.len(), 400);
    // On PostgreSQL both claim at once (SKIP LOCKED). SQLite has one writer at a time, and its
    // busy handler sleeps while the other loops, so one instance may take every batch: only
    // "never twice" holds there (and SQLite is the one-instance embedded mode anyway).
    if backend() == Backend::Postgres {
        assert!(
            !first.is_empty() && !second.is_empty(),
            "both claimed: {} and {}",
            first.len(),
            second.len()
        );
    }
}

/// Counts its deliveries; fails the first `fail_first` of them.
struct Counting {
    name: &'static str,
    fail_first: usize,
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl portico::outbox::Consumer for Counting {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn deliver(&self, _envelope: &Envelope, _raw: &str) -> anyhow::Result<()> {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        anyhow::ensure!(call >= self.fail_first, "{} is down", self.name);
        Ok(())
    }
}

#[tokio::test]
async fn a_retry_goes_only_to_the_consumers_that_failed() {
    use std::sync::atomic::Ordering::SeqCst;
    let app = spawn_app_with(|c| c.outbox_dispatch = false).await;
    let txn = app.state.db.begin().await.unwrap();
    txn.scoped(Uuid::now_v7())
        .emit(DomainEvent::TaskMoved(TaskChanged {
            project_id: Uuid::now_v7(),
            task_id: Uuid::now_v7(),
            column: "BACKLOG".into(),
            position: 0,
        }));
    txn.commit().await.unwrap();
    let live = std::sync::Arc::new(Counting {
        name: "first",
        fail_first: 0,
        calls: 0.into(),
    });
    let flaky = std::sync::Arc::new(Counting {
        name: "second",
        fail_first: 1,
        calls: 0.into(),
    });
    let dispatcher = portico::outbox::Dispatcher::new(
        app.state.metrics.clone(),
        app.state.db.clone(),
        vec![live.clone(), flaky.clone()],
        portico::outbox::Settings {
            poll: Duration::from_secs(60),
        },
    );
    assert_eq!(dispatcher.run_once().await.unwrap(), 1);
    assert_eq!((live.calls.load(SeqCst), flaky.calls.load(SeqCst)), (1, 1));
    assert_eq!(outbox::pending(&app.state.db).await.unwrap(), 1);
    // Its backoff over (moved to now), the retry skips the consumer that took it. The outbox is
    // infrastructure without a tenant: the test moves the row by hand.
    #[allow(clippy::disallowed_methods)]
    <entity::outbox_event::Entity as sea_orm::EntityTrait>::update_many()
        .col_expr(
            entity::outbox_event::Column::AvailableAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .exec(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(dispatcher.run_once().await.unwrap(), 1);
    assert_eq!((live.calls.load(SeqCst), flaky.calls.load(SeqCst)), (1, 2));
    assert_eq!(outbox::pending(&app.state.db).await.unwrap(), 0);
}
