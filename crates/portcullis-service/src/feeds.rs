//! Vulnerability feeds in the service: the Anchore view of what is synced
//! (`GET /system/feeds`), feed and group toggles, and the sync itself, run
//! on demand (`POST /system/feeds`) or by the `feed_sync` watcher.
//!
//! A *feed* is a source of `portcullis feeds sync` (named as that command
//! names it), its *groups* the feeds found inside it (the first directory of
//! each file: `alpine-secdb`, `osv-pypi`, ...). Every sync, scheduled or
//! requested, runs under the scheduler's `feed_sync` lease, renewed while it
//! runs, so two never overlap across processes. Disabled feeds are left out
//! of later syncs; a group cannot be left out on its own (a source is synced
//! as a whole), so a group toggle is recorded and shown only.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use portcullis_api::{FeedGroupMetadata, FeedMetadata, FeedSyncResult, GroupSyncResult, SyncStatus};
use portcullis_feeds::sync::{SyncOptions, SyncProgress};
use portcullis_feeds::{SourceOutcome, SourceSpec, default_sources};
use portcullis_sql::now_rfc3339;
use portcullis_vulndb::SourceInfo;
use sqlx::Row;

use crate::auth::ADMIN;
use crate::config::ServiceConfig;
use crate::error::{ApiError, ApiResult, ServiceError};
use crate::events::{self, NewEvent};
use crate::scheduler::{self, Watcher, WatcherFuture};
use crate::schema::stored_time;
use crate::state::AppState;

/// The scheduler lease every sync runs under.
pub const FEED_SYNC: &str = "feed_sync";
/// The watcher that makes the scheduled sync (Anchore's `feed_sync_checker`).
pub const FEED_SYNC_SCHEDULE: &str = "feed_sync_checker";
/// How long a sync holds the lease without renewing it: the time another
/// process waits before assuming a silent syncer died.
const LEASE_SECONDS: u64 = 300;
const RENEW_EVERY: Duration = Duration::from_secs(60);

/// The sources a sync reads: `feeds.sources` (or `PORTCULLIS_FEEDS_FROM`),
/// else the upstream defaults, as `portcullis feeds sync` reads them.
pub fn configured_sources(config: &ServiceConfig) -> Vec<SourceSpec> {
    if config.feeds.sources.is_empty() {
        default_sources()
    } else {
        config.feeds.sources.iter().map(|arg| SourceSpec::parse(arg)).collect()
    }
}

/// Stored toggles; everything not listed is enabled.
#[derive(Debug, Default)]
struct Toggles(HashMap<(String, String), bool>);

impl Toggles {
    async fn load(state: &AppState) -> Result<Toggles, ServiceError> {
        let rows =
            sqlx::query("SELECT feed, feed_group, enabled FROM feed_settings").fetch_all(state.db.pool()).await?;
        let mut toggles = HashMap::new();
        for row in &rows {
            toggles.insert((row.try_get("feed")?, row.try_get("feed_group")?), row.try_get::<i64, _>("enabled")? != 0);
        }
        Ok(Toggles(toggles))
    }

    fn enabled(&self, feed: &str, group: &str) -> bool {
        self.0.get(&(feed.to_owned(), group.to_owned())).copied().unwrap_or(true)
    }
}

async fn store_toggle(state: &AppState, feed: &str, group: &str, enabled: bool) -> Result<(), ServiceError> {
    sqlx::query(
        "INSERT INTO feed_settings (feed, feed_group, enabled, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (feed, feed_group) DO UPDATE SET enabled = $3, updated_at = $4",
    )
    .bind(feed)
    .bind(group)
    .bind(i64::from(enabled))
    .bind(now_rfc3339())
    .execute(state.db.pool())
    .await?;
    Ok(())
}

/// The groups of a synced source: its inner feeds that hold data (files at
/// the top of a source form the group named after the source).
fn groups(info: &SourceInfo, toggles: &Toggles) -> Result<Vec<FeedGroupMetadata>, ServiceError> {
    let last_sync = Some(stored_time(&info.synced_at)?);
    let mut groups: Vec<FeedGroupMetadata> = info
        .feeds
        .iter()
        .filter(|(_, summary)| !summary.formats.is_empty())
        .map(|(name, summary)| {
            let name = if name == "." { info.name.clone() } else { name.clone() };
            FeedGroupMetadata {
                enabled: toggles.enabled(&info.name, &name),
                name,
                created_at: None,
                last_sync,
                record_count: summary.advisories + summary.kev + summary.epss,
            }
        })
        .collect();
    if groups.is_empty() {
        groups.push(FeedGroupMetadata {
            name: info.name.clone(),
            created_at: None,
            last_sync,
            record_count: info.advisories + info.kev + info.epss,
            enabled: toggles.enabled(&info.name, &info.name),
        });
    }
    Ok(groups)
}

/// Every synced source, and every configured one not synced yet (no groups,
/// never synced), by name.
pub async fn list(state: &AppState) -> Result<Vec<FeedMetadata>, ServiceError> {
    let toggles = Toggles::load(state).await?;
    let mut feeds = Vec::new();
    let synced = state.vulndb.sources().await?;
    for info in &synced {
        let synced_at = Some(stored_time(&info.synced_at)?);
        feeds.push(FeedMetadata {
            name: info.name.clone(),
            created_at: None,
            updated_at: synced_at,
            last_full_sync: synced_at,
            enabled: toggles.enabled(&info.name, ""),
            groups: groups(info, &toggles)?,
        });
    }
    for spec in configured_sources(&state.config) {
        if !feeds.iter().any(|feed| feed.name == spec.name()) {
            feeds.push(FeedMetadata {
                name: spec.name().to_owned(),
                created_at: None,
                updated_at: None,
                last_full_sync: None,
                enabled: toggles.enabled(spec.name(), ""),
                groups: Vec::new(),
            });
        }
    }
    feeds.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(feeds)
}

async fn existing_feed(state: &AppState, feed: &str) -> ApiResult<FeedMetadata> {
    let feeds = list(state).await?;
    let names: Vec<&str> = feeds.iter().map(|f| f.name.as_str()).collect();
    let message = format!("feed {feed:?} does not exist; the feeds are: {}", names.join(", "));
    feeds.iter().find(|f| f.name == feed).cloned().ok_or_else(|| ApiError::not_found(message))
}

/// Enables or disables a feed: a disabled feed is skipped by later syncs
/// (its data stays until it is deleted).
pub async fn set_feed_enabled(state: &AppState, feed: &str, enabled: bool) -> ApiResult<FeedMetadata> {
    existing_feed(state, feed).await?;
    store_toggle(state, feed, "", enabled).await?;
    tracing::info!(%feed, enabled, "feed toggled");
    existing_feed(state, feed).await
}

/// Records a group toggle (shown by `GET /system/feeds`; see the module notes).
pub async fn set_group_enabled(
    state: &AppState,
    feed: &str,
    group: &str,
    enabled: bool,
) -> ApiResult<FeedGroupMetadata> {
    let metadata = existing_feed(state, feed).await?;
    if !metadata.groups.iter().any(|g| g.name == group) {
        let names: Vec<&str> = metadata.groups.iter().map(|g| g.name.as_str()).collect();
        return Err(ApiError::not_found(format!(
            "feed {feed:?} has no group {group:?}; its groups are: {}",
            if names.is_empty() { "none yet (not synced)".to_owned() } else { names.join(", ") }
        )));
    }
    store_toggle(state, feed, group, enabled).await?;
    tracing::info!(%feed, %group, enabled, "feed group toggled");
    let metadata = existing_feed(state, feed).await?;
    metadata
        .groups
        .into_iter()
        .find(|g| g.name == group)
        .ok_or_else(|| ApiError::not_found(format!("feed {feed:?} has no group {group:?}")))
}

fn sync_running() -> ApiError {
    ApiError::conflict("a sync is already running: try again when it has finished (GET /system/feeds shows its result)")
}

/// Removes a disabled feed's data (enabled, the next sync would bring it back).
pub async fn delete_feed(state: &AppState, feed: &str) -> ApiResult<()> {
    let metadata = existing_feed(state, feed).await?;
    if metadata.last_full_sync.is_none() {
        return Err(ApiError::not_found(format!("feed {feed:?} has no data to delete: it was never synced")));
    }
    if metadata.enabled {
        return Err(ApiError::bad_request(format!(
            "feed {feed:?} is enabled: disable it first (PUT /system/feeds/{feed}?enabled=false), or the next sync brings it back"
        )));
    }
    if !scheduler::take_lease(state, FEED_SYNC, LEASE_SECONDS).await? {
        return Err(sync_running());
    }
    let removed = remove_source(state, feed).await;
    let released = scheduler::release(state, FEED_SYNC, removed.as_ref().err().map(ToString::to_string)).await;
    removed?;
    released?;
    tracing::info!(%feed, "feed data deleted");
    refresh_reports(state).await;
    Ok(())
}

async fn remove_source(state: &AppState, feed: &str) -> Result<(), ServiceError> {
    let mut tx = state.vulndb.begin_sync().await?;
    tx.remove_source(feed).await?;
    tx.commit().await?;
    Ok(())
}

/// Syncs now (`POST /system/feeds`): `force` parses every file again.
/// The sync runs as its own task, so a client that hangs up does not
/// abandon it halfway with the lease held.
pub async fn sync_now(state: &AppState, force: bool) -> ApiResult<Vec<FeedSyncResult>> {
    if !scheduler::take_lease(state, FEED_SYNC, LEASE_SECONDS).await? {
        return Err(sync_running());
    }
    let task = tokio::spawn(leased_sync(state.clone(), force));
    let results =
        task.await.map_err(|e| ServiceError::Other(format!("the feed sync task ended abnormally: {e}")))??;
    Ok(results)
}

/// Runs a sync whose `feed_sync` lease the caller took, then releases it.
async fn leased_sync(state: AppState, force: bool) -> Result<Vec<FeedSyncResult>, ServiceError> {
    let result = run_sync(&state, force).await;
    let error = result.as_ref().err().map(ToString::to_string);
    if let Err(error) = scheduler::release(&state, FEED_SYNC, error).await {
        tracing::warn!(%error, "cannot release the feed_sync lease; it expires by itself");
    }
    result
}

/// The scheduled sync. Its own watcher row says when it is due; the sync
/// takes the `feed_sync` lease like a requested one (so a disabled
/// schedule never holds it, and a sync already running makes this run a
/// no-op) and runs apart from the scheduler loop: a sync can take many
/// minutes, and the other watchers (notifications, ...) must not wait.
/// Its outcome goes to the log and the event log.
pub fn watcher() -> Watcher {
    Watcher {
        name: FEED_SYNC_SCHEDULE,
        interval: |timers| timers.feed_sync,
        max_runtime_seconds: LEASE_SECONDS,
        run: |state| -> WatcherFuture {
            Box::pin(async move {
                if !state.config.feeds.enabled {
                    return Ok(());
                }
                if !scheduler::take_lease(&state, FEED_SYNC, LEASE_SECONDS).await? {
                    tracing::info!("scheduled feed sync skipped: a sync is already running");
                    return Ok(());
                }
                tokio::spawn(async move {
                    if let Err(error) = leased_sync(state, false).await {
                        tracing::warn!(%error, "the scheduled feed sync failed");
                    }
                });
                Ok(())
            })
        },
    }
}

/// Syncs every enabled source; the caller holds the `feed_sync` lease.
async fn run_sync(state: &AppState, force: bool) -> Result<Vec<FeedSyncResult>, ServiceError> {
    let toggles = Toggles::load(state).await?;
    let specs: Vec<SourceSpec> =
        configured_sources(&state.config).into_iter().filter(|spec| toggles.enabled(spec.name(), "")).collect();
    let names: Vec<&str> = specs.iter().map(SourceSpec::name).collect();
    record(
        state,
        "system.feeds.sync.started",
        "info",
        format!("feed sync started: {}", names.join(", ")),
        serde_json::json!({"feeds": names, "flush": force}),
    )
    .await;

    let cache_dir = state.config.feeds.cache_dir.clone().unwrap_or_else(|| state.config.data_dir.join("feeds-cache"));
    let mut options = SyncOptions::new(cache_dir);
    options.force = force;
    let progress = Timings::new();
    let report = {
        let sync = portcullis_feeds::sync(&state.vulndb, &specs, &options, &progress);
        tokio::pin!(sync);
        let mut renew = tokio::time::interval(RENEW_EVERY);
        renew.tick().await;
        loop {
            tokio::select! {
                report = &mut sync => break report,
                _ = renew.tick() => match scheduler::renew_lease(state, FEED_SYNC, LEASE_SECONDS).await {
                    Ok(true) => {}
                    // Each source is written atomically, so carrying on is safe.
                    Ok(false) => tracing::warn!("the feed_sync lease was lost; another process may sync too"),
                    Err(error) => tracing::warn!(%error, "cannot renew the feed_sync lease"),
                },
            }
        }
    };

    let results: Vec<FeedSyncResult> = report.sources.iter().map(|outcome| result_of(outcome, &progress)).collect();
    let changed = report.sources.iter().any(|o| o.error.is_none() && (o.parsed > 0 || o.removed > 0));
    let updated_images = if changed { refresh_reports(state).await } else { Some(0) };
    let failed: Vec<&SourceOutcome> = report.failed().collect();
    let details = serde_json::json!({
        "feeds": report.sources.iter().map(|o| serde_json::json!({
            "feed": o.name, "location": o.location, "files": o.files, "parsed": o.parsed, "unchanged": o.unchanged,
            "removed": o.removed, "records": o.advisories, "error": o.error,
        })).collect::<Vec<_>>(),
        "seconds": report.elapsed.as_secs_f64(),
        "reports_refreshed": updated_images,
    });
    if failed.is_empty() {
        let message =
            format!("feed sync completed: {} feed(s) in {:.1} s", results.len(), report.elapsed.as_secs_f64());
        record(state, "system.feeds.sync.completed", "info", message, details).await;
    } else {
        let reasons: Vec<String> =
            failed.iter().map(|o| format!("{}: {}", o.name, o.error.as_deref().unwrap_or("failed"))).collect();
        record(
            state,
            "system.feeds.sync.failed",
            "error",
            format!("feed sync failed: {}", reasons.join("; ")),
            details,
        )
        .await;
    }
    Ok(results)
}

/// Re-matches analysed images against the changed data; the count, or
/// `None` when that failed (reports are then re-matched when next read).
async fn refresh_reports(state: &AppState) -> Option<usize> {
    match crate::vulns::refresh_reports(state).await {
        Ok(count) => {
            tracing::info!(images = count, "vulnerability reports refreshed after the feed change");
            Some(count)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot refresh the vulnerability reports after the feed change");
            None
        }
    }
}

async fn record(state: &AppState, event_type: &str, level: &str, message: String, details: serde_json::Value) {
    events::record(
        state,
        NewEvent { account: ADMIN, event_type, level, resource_type: "feeds", resource_id: "feeds", message, details },
    )
    .await;
}

fn result_of(outcome: &SourceOutcome, timings: &Timings) -> FeedSyncResult {
    let status = if outcome.error.is_some() { SyncStatus::Failure } else { SyncStatus::Success };
    let seconds = timings.seconds(&outcome.name);
    FeedSyncResult {
        feed: outcome.name.clone(),
        status,
        total_time_seconds: seconds,
        // A source is synced as a whole, so it is its own single group here.
        groups: vec![GroupSyncResult {
            group: outcome.name.clone(),
            status,
            updated_record_count: if outcome.parsed > 0 || outcome.removed > 0 { outcome.advisories } else { 0 },
            updated_image_count: 0,
            total_time_seconds: seconds,
        }],
    }
}

/// Logs the sync's progress and times each source (sources run one after
/// the other, so a source's time runs from the end of the previous one,
/// downloads included).
struct Timings {
    inner: Mutex<(Instant, HashMap<String, f64>)>,
}

impl Timings {
    fn new() -> Self {
        Self { inner: Mutex::new((Instant::now(), HashMap::new())) }
    }

    fn seconds(&self, source: &str) -> f64 {
        self.inner.lock().ok().and_then(|inner| inner.1.get(source).copied()).unwrap_or(0.0)
    }
}

impl SyncProgress for Timings {
    fn source_started(&self, source: &str, files: u64) {
        tracing::info!(source, files, "feed source sync started");
    }

    fn source_finished(&self, outcome: &SourceOutcome) {
        if let Ok(mut inner) = self.inner.lock() {
            let seconds = inner.0.elapsed().as_secs_f64();
            inner.0 = Instant::now();
            inner.1.insert(outcome.name.clone(), seconds);
        }
        match &outcome.error {
            None => tracing::info!(
                source = %outcome.name, parsed = outcome.parsed, unchanged = outcome.unchanged,
                removed = outcome.removed, records = outcome.advisories, "feed source synced"
            ),
            Some(error) => {
                tracing::warn!(source = %outcome.name, %error, "feed source failed; its previous data is kept")
            }
        }
    }
}
