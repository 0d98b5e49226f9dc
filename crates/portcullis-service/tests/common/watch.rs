//! Helpers for the subscription, notification and event tests: a second
//! account, running a watcher now, and a real webhook receiver (an axum
//! server on loopback that records every delivery and can be told to fail).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use portcullis_service::state::AppState;
use serde_json::Value;

use super::TestServer;

/// Longest a test waits for something the service does in the background.
const PATIENCE: Duration = Duration::from_secs(90);

impl TestServer {
    pub fn state(&self) -> &AppState {
        self.service.as_ref().expect("the server is running").state()
    }

    /// A non-admin account `account` with one user, written as the accounts
    /// routes would (they belong to another area).
    pub async fn add_account(&self, account: &str, user: &str, password: &str) {
        let db = &self.state().db;
        let now = portcullis_sql::now_rfc3339();
        sqlx::query(
            "INSERT INTO accounts (name, email, account_type, state, created_at, last_updated)
             VALUES ($1, $2, 'user', 'enabled', $3, $3)",
        )
        .bind(account)
        .bind(format!("{account}@example.com"))
        .bind(&now)
        .execute(db.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO users (username, account, password_hash, source, created_at, last_updated)
             VALUES ($1, $2, $3, 'native', $4, $4)",
        )
        .bind(user)
        .bind(account)
        .bind(portcullis_service::auth::hash_password(password).unwrap())
        .bind(&now)
        .execute(db.pool())
        .await
        .unwrap();
    }

    /// Runs the watcher `name` once, now, through the scheduler: waits until
    /// its current run (if any) ends, makes it due, and waits for that run to
    /// end. Meant for watchers with a long interval, which run only at start
    /// and when triggered.
    pub async fn run_watcher(&self, name: &str) {
        let finished = || async {
            let row = sqlx::query("SELECT owner, last_run_seq, last_error FROM watchers WHERE name = $1")
                .bind(name)
                .fetch_optional(self.state().db.pool())
                .await
                .unwrap();
            row.map(|row| {
                use sqlx::Row;
                let owner: Option<String> = row.try_get("owner").unwrap();
                let seq: i64 = row.try_get("last_run_seq").unwrap();
                let error: Option<String> = row.try_get("last_error").unwrap();
                (owner.is_none() && seq > 0, error)
            })
        };
        eventually(&format!("the first run of {name}"), || async { finished().await.filter(|(done, _)| *done) }).await;
        portcullis_service::scheduler::trigger(self.state(), name).await.unwrap();
        let (_, error) =
            eventually(&format!("a run of {name}"), || async { finished().await.filter(|(done, _)| *done) }).await;
        assert_eq!(error, None, "the {name} run failed");
    }
}

/// Polls `probe` until it yields something (or panics after a long wait,
/// naming `what`).
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(started.elapsed() < PATIENCE, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
    pub at: Instant,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct ReceiverState {
    deliveries: Mutex<Vec<Delivery>>,
    fail_next: AtomicUsize,
    fail_always: AtomicBool,
}

/// A webhook receiver on 127.0.0.1; stops when dropped.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    state: Arc<ReceiverState>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(ReceiverState::default());
        let shared = state.clone();
        let app =
            axum::Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let state = shared.clone();
                async move {
                    let failing = state.fail_always.load(Ordering::SeqCst)
                        || state
                            .fail_next
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                    let status = if failing { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
                    state.deliveries.lock().unwrap().push(Delivery {
                        path: uri.path().to_owned(),
                        headers,
                        body: body.to_vec(),
                        status: status.as_u16(),
                        at: Instant::now(),
                    });
                    (status, if failing { "receiver down" } else { "ok" })
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, state, task }
    }

    /// Answers 500 to the next `n` requests.
    pub fn fail_next(&self, n: usize) {
        self.state.fail_next.store(n, Ordering::SeqCst);
    }

    /// Answers 500 to every request until told otherwise.
    pub fn fail_always(&self, failing: bool) {
        self.state.fail_always.store(failing, Ordering::SeqCst);
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state.deliveries.lock().unwrap().clone()
    }

    /// Waits until `n` requests matching `keep` arrived and returns them.
    pub async fn wait_for(&self, n: usize, keep: impl Fn(&Delivery) -> bool) -> Vec<Delivery> {
        eventually(&format!("{n} webhook deliveries"), || async {
            let matching: Vec<Delivery> = self.deliveries().into_iter().filter(|d| keep(d)).collect();
            (matching.len() >= n).then_some(matching)
        })
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
