//! The analyzer role: failures and retries, a worker that dies holding a
//! job, the reaper for a last attempt lost, and the layer caches (blobs and
//! per-layer results).

mod common;

use common::images::{add_by_tag, app_image, push, send, wait_analysis};
use common::{Engine, TestServer};
use portcullis_service::config::{Role, ServiceConfig};
use portcullis_service::queue;
use portcullis_testkit::registry::{RegistryAuth, TestRegistry};
use reqwest::{Method, StatusCode};
use sqlx::Row;
use tokio::sync::watch;
use tokio::task::JoinSet;

fn insecure(registry: &TestRegistry) -> impl FnOnce(&mut ServiceConfig) + use<> {
    let host = registry.host();
    move |config: &mut ServiceConfig| {
        config.analyzer.insecure_registries = vec![host];
        config.analyzer.max_attempts = 2;
        config.analyzer.lease_seconds = 10;
    }
}

async fn queue_row(server: &TestServer, digest: &str) -> (String, i64, Option<String>) {
    let state = server.service.as_ref().unwrap().state();
    let row = sqlx::query(
        "SELECT state, attempts, last_error FROM work_queue WHERE queue = $1 AND item_key LIKE $2 ORDER BY id DESC",
    )
    .bind(queue::ANALYZE)
    .bind(format!("%{digest}"))
    .fetch_one(state.db.pool())
    .await
    .unwrap();
    (row.get("state"), row.get("attempts"), row.get("last_error"))
}

/// A layer the registry cannot serve fails every attempt; after
/// `max_attempts` the image is `analysis_failed` with the reason shown.
async fn failed_analysis(engine: Engine) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let (built, tag) = push(&registry, dir.path(), &app_image("0.0.1"), "broken/app:v1");
    let app_layer = &built.layers[1].digest;
    std::fs::remove_file(registry.blob_data_path(app_layer)).unwrap();
    let server = TestServer::start_with(engine, insecure(&registry)).await;
    let digest = add_by_tag(&server, &tag).await["imageDigest"].as_str().unwrap().to_owned();
    let image = wait_analysis(&server, &digest, None).await;
    assert_eq!(image["analysis_status"], "analysis_failed", "{image}");
    let reason = image["analysis_error"].as_str().unwrap();
    assert!(reason.contains(app_layer.as_str()), "the reason names the layer: {reason}");
    let (state, attempts, last_error) = queue_row(&server, &digest).await;
    assert_eq!((state.as_str(), attempts), ("failed", 2));
    assert_eq!(last_error.as_deref(), Some(reason));
    let (_, events) = send(server.admin(Method::GET, "/events?event_type=user.image.analysis.failed")).await;
    assert!(events.to_string().contains(&digest), "{events}");
    // The content of a failed image is not there to read.
    let (status, body) = send(server.admin(Method::GET, &format!("/images/{digest}/content/os"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].as_str().unwrap().contains("analysis_failed"), "{body}");
    // Adding it again queues a fresh attempt (Anchore resets failed images).
    let again = add_by_tag(&server, &tag).await;
    assert!(["not_analyzed", "analyzing"].contains(&again["analysis_status"].as_str().unwrap()), "{again}");
    assert!(again.get("analysis_error").is_none(), "{again}");
    server.stop().await;
}

#[tokio::test]
async fn failed_analysis_on_sqlite() {
    failed_analysis(Engine::Sqlite).await;
}

#[tokio::test]
async fn failed_analysis_on_postgres() {
    failed_analysis(Engine::Postgres).await;
}

/// Starts the analyzer role on a running service (whose own process has
/// only the api role), as a second process sharing its database would.
fn start_analyzer(server: &TestServer) -> (watch::Sender<bool>, JoinSet<()>) {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    portcullis_service::analyzer::spawn(server.service.as_ref().unwrap().state(), stopped, &mut tasks);
    (stop, tasks)
}

async fn stop_analyzer((stop, mut tasks): (watch::Sender<bool>, JoinSet<()>)) {
    stop.send(true).unwrap();
    while tasks.join_next().await.is_some() {}
}

/// A worker claims the job and dies (never renews, never finishes): once
/// its lease expires the real analyzer takes the job over.
async fn worker_death(engine: Engine, max_attempts: u32) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let (_, tag) = push(&registry, dir.path(), &app_image("2.19.1"), "takeover/app:v1");
    let adjust = insecure(&registry);
    let server = TestServer::start_with(engine, move |config: &mut ServiceConfig| {
        adjust(config);
        config.analyzer.max_attempts = max_attempts;
        config.roles = vec![Role::Api];
    })
    .await;
    let digest = add_by_tag(&server, &tag).await["imageDigest"].as_str().unwrap().to_owned();
    let state = server.service.as_ref().unwrap().state();
    let job = state.queue.claim(queue::ANALYZE, "dead-worker", 10).await.unwrap().expect("the queued analysis");
    assert!(job.item_key.ends_with(&digest));
    let analyzer = start_analyzer(&server);
    let image = wait_analysis(&server, &digest, None).await;
    stop_analyzer(analyzer).await;
    let (queue_state, attempts, last_error) = queue_row(&server, &digest).await;
    if max_attempts > 1 {
        assert_eq!(image["analysis_status"], "analyzed", "{image}");
        assert_eq!((queue_state.as_str(), attempts), ("done", 2), "taken over as the second attempt");
    } else {
        // The dead worker had the only attempt: the reaper marks it failed.
        assert_eq!(image["analysis_status"], "analysis_failed", "{image}");
        assert!(image["analysis_error"].as_str().unwrap().contains("stopped responding"), "{image}");
        assert_eq!((queue_state.as_str(), attempts), ("failed", 1));
        assert!(last_error.unwrap().contains("lease expired"));
    }
    server.stop().await;
}

#[tokio::test]
async fn worker_death_on_sqlite() {
    worker_death(Engine::Sqlite, 3).await;
}

#[tokio::test]
async fn worker_death_on_postgres() {
    worker_death(Engine::Postgres, 3).await;
}

#[tokio::test]
async fn last_attempt_lost_on_sqlite() {
    worker_death(Engine::Sqlite, 1).await;
}

#[tokio::test]
async fn last_attempt_lost_on_postgres() {
    worker_death(Engine::Postgres, 1).await;
}

/// Which of the analyzer's two caches a test turns on.
#[derive(Clone, Copy)]
enum Cache {
    /// Layer blobs (`analyzer.layer_cache_mb`).
    Blobs,
    /// Per-layer analysis results (`analyzer.layer_results_cache_mb`).
    Results,
}

/// Two images share a base layer: once the first is analysed the base is
/// in the cache, so the second analyses even though the registry has lost
/// that blob meanwhile. Each cache is tested with the other one off.
async fn shared_layers_come_from_the_cache(engine: Engine, cache: Cache) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let (first, first_tag) = push(&registry, dir.path(), &app_image("2.19.1"), "cache/one:v1");
    let (second, second_tag) = push(&registry, dir.path(), &app_image("2.20.0"), "cache/two:v1");
    let base = first.layers[0].digest.clone();
    assert_eq!(base, second.layers[0].digest, "the images share their base layer");
    let configure = insecure(&registry);
    let server = TestServer::start_with(engine, move |config: &mut ServiceConfig| {
        configure(config);
        match cache {
            Cache::Blobs => config.analyzer.layer_results_cache_mb = 0,
            Cache::Results => config.analyzer.layer_cache_mb = 0,
        }
    })
    .await;
    let digest = add_by_tag(&server, &first_tag).await["imageDigest"].as_str().unwrap().to_owned();
    assert_eq!(wait_analysis(&server, &digest, None).await["analysis_status"], "analyzed");
    let data_dir = server.data_dir.path();
    let (dir, off, entry) = match cache {
        Cache::Blobs => (
            portcullis_service::analyzer::cache_dir(data_dir),
            portcullis_service::analyzer::results_dir(data_dir),
            base.replace(':', "-"),
        ),
        // Results are filed under the diff id, the digest of the uncompressed layer.
        Cache::Results => (
            portcullis_service::analyzer::results_dir(data_dir),
            portcullis_service::analyzer::cache_dir(data_dir),
            format!("{}-", first.layers[0].diff_id.replace(':', "-")),
        ),
    };
    let cached: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(cached.iter().any(|name| name.starts_with(&entry)), "{entry} in {cached:?}");
    assert!(cached.iter().all(|name| !name.starts_with(".partial")), "no partial copies left: {cached:?}");
    assert!(!off.exists(), "the other cache is off: {}", off.display());

    std::fs::remove_file(registry.blob_data_path(&base)).unwrap();
    let digest = add_by_tag(&server, &second_tag).await["imageDigest"].as_str().unwrap().to_owned();
    let image = wait_analysis(&server, &digest, None).await;
    assert_eq!(image["analysis_status"], "analyzed", "{image}");
    let (_, python) = send(server.admin(Method::GET, &format!("/images/{digest}/content/python"))).await;
    assert_eq!(python["content"][0]["version"], "2.20.0");
    server.stop().await;
}

#[tokio::test]
async fn shared_layers_come_from_the_cache_on_sqlite() {
    shared_layers_come_from_the_cache(Engine::Sqlite, Cache::Blobs).await;
}

#[tokio::test]
async fn shared_layers_come_from_the_cache_on_postgres() {
    shared_layers_come_from_the_cache(Engine::Postgres, Cache::Blobs).await;
}

#[tokio::test]
async fn shared_layer_results_come_from_the_cache_on_sqlite() {
    shared_layers_come_from_the_cache(Engine::Sqlite, Cache::Results).await;
}

#[tokio::test]
async fn shared_layer_results_come_from_the_cache_on_postgres() {
    shared_layers_come_from_the_cache(Engine::Postgres, Cache::Results).await;
}
