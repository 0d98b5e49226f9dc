//! Periodic watchers (feed sync, tag and repository watches, re-evaluation,
//! notifications, archive rules), run by processes with the scheduler role.
//!
//! Each watcher runs on one process at a time: before a run the process
//! takes the watcher's row in `watchers` with a lease (a conditional upsert,
//! atomic on both engines); the row also records when it last ran, so
//! several schedulers together keep each watcher's cadence rather than
//! multiplying it. A process that dies mid-run holds the lease only until it
//! expires.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use portcullis_sql::now_rfc3339;
use tokio::sync::watch;

use crate::config::CycleTimers;
use crate::error::ServiceError;
use crate::queue::epoch_seconds;
use crate::state::AppState;

pub type WatcherFuture = Pin<Box<dyn Future<Output = Result<(), ServiceError>> + Send>>;

/// One periodic job.
pub struct Watcher {
    pub name: &'static str,
    /// Seconds between runs, from the configuration; 0 disables the watcher.
    pub interval: fn(&CycleTimers) -> u64,
    /// Longest a run may take before another process may assume it died.
    pub max_runtime_seconds: u64,
    pub run: fn(AppState) -> WatcherFuture,
}

/// Every watcher of the service.
pub fn watchers() -> Vec<Watcher> {
    let mut all = vec![];
    all.extend(crate::watchers::all());
    all.push(crate::feeds::watcher());
    all.push(crate::accounts::cleanup_watcher());
    all.push(crate::archive::watcher());
    all
}

/// How often the scheduler looks for due watchers.
const TICK: Duration = Duration::from_secs(1);

/// Runs due watchers until `stop` turns true.
pub async fn run(state: AppState, watchers: Vec<Watcher>, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        for watcher in &watchers {
            if *stop.borrow() {
                return;
            }
            let interval = (watcher.interval)(&state.config.cycle_timers);
            if interval == 0 {
                continue;
            }
            match acquire(&state, watcher, interval).await {
                Ok(true) => {
                    let result = (watcher.run)(state.clone()).await;
                    if let Err(error) = &result {
                        tracing::warn!(watcher = watcher.name, %error, "watcher run failed");
                    }
                    if let Err(error) = release(&state, watcher.name, result.err().map(|e| e.to_string())).await {
                        tracing::warn!(watcher = watcher.name, %error, "cannot record the watcher run");
                    }
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(watcher = watcher.name, %error, "cannot take the watcher lease"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Takes the watcher's lease when it is due and nobody holds it.
async fn acquire(state: &AppState, watcher: &Watcher, interval: u64) -> Result<bool, ServiceError> {
    lease(state, watcher.name, watcher.max_runtime_seconds, epoch_seconds() - interval as i64).await
}

/// Takes `name`'s lease now, due or not (a run asked for through the API),
/// unless another run holds it. Give it back with [`release`].
pub async fn take_lease(state: &AppState, name: &str, max_runtime_seconds: u64) -> Result<bool, ServiceError> {
    lease(state, name, max_runtime_seconds, i64::MAX).await
}

/// The lease of `name` when nobody holds it and its last run ended at or
/// before `last_run_before` (epoch seconds).
async fn lease(
    state: &AppState,
    name: &str,
    max_runtime_seconds: u64,
    last_run_before: i64,
) -> Result<bool, ServiceError> {
    let now = epoch_seconds();
    let done = sqlx::query(
        "INSERT INTO watchers (name, owner, lease_expires, last_run_seq) VALUES ($1, $2, $3, 0)
         ON CONFLICT (name) DO UPDATE SET owner = $2, lease_expires = $3
         WHERE watchers.lease_expires < $4 AND watchers.last_run_seq <= $5",
    )
    .bind(name)
    .bind(&state.host_id)
    .bind(now + max_runtime_seconds as i64)
    .bind(now)
    .bind(last_run_before)
    .execute(state.db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Extends a lease this process holds, for runs longer than their
/// `max_runtime_seconds`; false when it was lost (expired and taken over).
pub async fn renew_lease(state: &AppState, name: &str, max_runtime_seconds: u64) -> Result<bool, ServiceError> {
    let done = sqlx::query("UPDATE watchers SET lease_expires = $1 WHERE name = $2 AND owner = $3")
        .bind(epoch_seconds() + max_runtime_seconds as i64)
        .bind(name)
        .bind(&state.host_id)
        .execute(state.db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a lease back and records the run (its error, if it failed).
pub async fn release(state: &AppState, name: &str, error: Option<String>) -> Result<(), ServiceError> {
    sqlx::query(
        "UPDATE watchers SET owner = NULL, lease_expires = 0, last_run_seq = $1, last_run_at = $2, last_error = $3
         WHERE name = $4 AND owner = $5",
    )
    .bind(epoch_seconds())
    .bind(now_rfc3339())
    .bind(error)
    .bind(name)
    .bind(&state.host_id)
    .execute(state.db.pool())
    .await?;
    Ok(())
}

/// Makes a watcher due now (e.g. after a subscription was added), so the
/// next tick of any scheduler runs it.
pub async fn trigger(state: &AppState, name: &str) -> Result<(), ServiceError> {
    sqlx::query("UPDATE watchers SET last_run_seq = 0 WHERE name = $1").bind(name).execute(state.db.pool()).await?;
    Ok(())
}
