//! The work queue on both engines: one pending job per key, leases that
//! expire and are taken over, bounded attempts, fair share between accounts,
//! and concurrent claimers that never take the same job.

use std::collections::HashSet;

use portcullis_service::queue::{FailOutcome, Queue};
use portcullis_service::schema;
use portcullis_sql::Database;
use portcullis_testkit::postgres::TempDatabase;
use serde_json::json;

async fn open(url: &str) -> Queue {
    let db = Database::open(url).await.unwrap();
    db.migrate(schema::LEDGER, schema::MIGRATIONS).await.unwrap();
    Queue::new(db)
}

/// Makes every lease of `queue` look expired, as if its holders had died
/// long ago, without sleeping through a real lease.
async fn expire_leases(url: &str) {
    let db = Database::open(url).await.unwrap();
    sqlx::query("UPDATE work_queue SET lease_expires = 0 WHERE state = 'leased'").execute(db.pool()).await.unwrap();
}

async fn leases_and_attempts(url: &str) {
    let queue = open(url).await;
    assert!(queue.enqueue("q", "acme", "sha256:a", &json!({"n": 1}), 2).await.unwrap());
    // A second request for the same pending item is absorbed.
    assert!(!queue.enqueue("q", "acme", "sha256:a", &json!({"n": 2}), 2).await.unwrap());

    let first = queue.claim("q", "worker-1", 60).await.unwrap().expect("a job");
    assert_eq!((first.item_key.as_str(), first.attempts, first.payload["n"].as_i64()), ("sha256:a", 1, Some(1)));
    assert!(queue.claim("q", "worker-2", 60).await.unwrap().is_none(), "leased jobs are not handed out twice");
    assert!(queue.heartbeat(&first, "worker-1", 60).await.unwrap());

    // worker-1 dies: once its lease runs out, worker-2 takes the job over
    // (second attempt) and worker-1 can no longer touch it.
    expire_leases(url).await;
    let second = queue.claim("q", "worker-2", 60).await.unwrap().expect("taken over");
    assert_eq!((second.id, second.attempts), (first.id, 2));
    assert!(!queue.heartbeat(&first, "worker-1", 60).await.unwrap());
    assert!(!queue.complete(&first, "worker-1").await.unwrap());

    // The last attempt fails: the job is failed with its reason, not retried.
    assert_eq!(queue.fail(&second, "worker-2", "layer blob missing").await.unwrap(), FailOutcome::GaveUp);
    assert!(queue.claim("q", "worker-3", 60).await.unwrap().is_none());
    let entries = queue.list(Some("q"), None, 10).await.unwrap();
    assert_eq!(entries[0].state, "failed");
    assert_eq!(entries[0].last_error.as_deref(), Some("layer blob missing"));
    // A finished job no longer blocks a new one for the same item.
    assert!(queue.enqueue("q", "acme", "sha256:a", &json!({}), 2).await.unwrap());

    // A failure with attempts left goes back to the queue.
    let retry = queue.claim("q", "worker-3", 60).await.unwrap().unwrap();
    assert_eq!(queue.fail(&retry, "worker-3", "registry timeout").await.unwrap(), FailOutcome::Retry);
    let again = queue.claim("q", "worker-3", 60).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (retry.id, 2));
    assert!(queue.complete(&again, "worker-3").await.unwrap());

    // A worker that dies on the last attempt: reaped as failed.
    assert!(queue.enqueue("q", "acme", "sha256:b", &json!({}), 1).await.unwrap());
    let doomed = queue.claim("q", "worker-4", 60).await.unwrap().unwrap();
    assert!(queue.reap_abandoned("q").await.unwrap().is_empty(), "the lease is still live");
    expire_leases(url).await;
    let reaped = queue.reap_abandoned("q").await.unwrap();
    assert_eq!(reaped.iter().map(|j| j.id).collect::<Vec<_>>(), vec![doomed.id]);
    assert!(queue.claim("q", "worker-5", 60).await.unwrap().is_none());

    // Cancelling drops a pending job.
    assert!(queue.enqueue("q", "acme", "sha256:c", &json!({}), 3).await.unwrap());
    assert_eq!(queue.cancel("q", "acme", "sha256:c").await.unwrap(), 1);
    assert!(queue.claim("q", "worker-5", 60).await.unwrap().is_none());
}

async fn fair_share(url: &str) {
    let queue = open(url).await;
    // A busy account queues five images before a quiet one queues one.
    for i in 0..5 {
        queue.enqueue("q", "busy", &format!("busy-{i}"), &json!({}), 3).await.unwrap();
    }
    queue.enqueue("q", "quiet", "quiet-0", &json!({}), 3).await.unwrap();
    let first = queue.claim("q", "w1", 60).await.unwrap().unwrap();
    assert_eq!(first.account, "busy");
    // busy now has a job running, quiet none: quiet goes next despite queueing last.
    let second = queue.claim("q", "w2", 60).await.unwrap().unwrap();
    assert_eq!(second.account, "quiet");
    let third = queue.claim("q", "w3", 60).await.unwrap().unwrap();
    assert_eq!(third.item_key, "busy-1");
}

/// Eight claimers race over 40 jobs: each job is claimed exactly once.
async fn concurrent_claims(url: &str) {
    let queue = open(url).await;
    for i in 0..40 {
        queue.enqueue("q", &format!("acct-{}", i % 3), &format!("item-{i}"), &json!({}), 3).await.unwrap();
    }
    let mut handles = Vec::new();
    for w in 0..8 {
        let queue = queue.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = queue.claim("q", &format!("w{w}"), 60).await.unwrap() {
                assert!(queue.complete(&job, &format!("w{w}")).await.unwrap());
                mine.push(job.item_key);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!((all.len(), unique.len()), (40, 40));
}

#[tokio::test]
async fn leases_and_attempts_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    leases_and_attempts(&dir.path().join("q.sqlite").display().to_string()).await;
}

#[tokio::test]
async fn leases_and_attempts_on_postgres() {
    let db = TempDatabase::create();
    leases_and_attempts(&db.url()).await;
}

#[tokio::test]
async fn fair_share_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    fair_share(&dir.path().join("q.sqlite").display().to_string()).await;
}

#[tokio::test]
async fn fair_share_on_postgres() {
    let db = TempDatabase::create();
    fair_share(&db.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_claims(&dir.path().join("q.sqlite").display().to_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_on_postgres() {
    let db = TempDatabase::create();
    concurrent_claims(&db.url()).await;
}
