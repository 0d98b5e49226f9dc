//! System routes on both engines: status, registered services and their
//! heartbeat rows, error codes, feeds (sync through the API, toggles,
//! deletion, one sync at a time), the admin queue routes, anchore-cli's
//! `system` commands, and the example configuration.

mod common;

use std::collections::BTreeSet;

use common::{ADMIN_PASSWORD, Engine, TestServer, feeds_dir};
use portcullis_service::config::{Role, ServiceConfig};
use portcullis_service::queue::{self, FailOutcome};
use portcullis_sql::Database;
use portcullis_testkit::anchore_cli::AnchoreCli;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

async fn body(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn admin(server: &TestServer, method: Method, path: &str) -> (StatusCode, Value) {
    body(server.admin(method, path).send().await.unwrap()).await
}

const USER: (&str, &str) = ("ursula", "ursula-pass-1");

async fn as_user(server: &TestServer, method: Method, path: &str) -> (StatusCode, Value) {
    body(server.as_user(USER.0, USER.1, method, path).send().await.unwrap()).await
}

/// A non-admin account `team-u` with the user [`USER`].
async fn add_plain_user(server: &TestServer) {
    let created = server.admin(Method::POST, "/accounts").json(&json!({"name": "team-u"})).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    let created = server
        .admin(Method::POST, "/accounts/team-u/users")
        .json(&json!({"username": USER.0, "password": USER.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

fn db(server: &TestServer) -> &Database {
    &server.service.as_ref().unwrap().state().db
}

async fn services_and_status(engine: Engine) {
    let server = TestServer::start(engine).await;
    add_plain_user(&server).await;
    let host = server.service.as_ref().unwrap().state().host_id.clone();

    let anonymous = server.client.get(server.url("/status")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, me) = as_user(&server, Method::GET, "/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((me["up"].as_bool(), me["available"].as_bool()), (Some(true), Some(true)), "{me}");
    assert_eq!(me["detail"]["host_id"], host.as_str());

    // This process registered the Anchore services its roles stand for.
    let (status, system) = as_user(&server, Method::GET, "/system").await;
    assert_eq!(status, StatusCode::OK);
    let mine: Vec<&Value> =
        system["service_states"].as_array().unwrap().iter().filter(|s| s["hostid"] == host.as_str()).collect();
    let names: BTreeSet<&str> = mine.iter().map(|s| s["servicename"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["analyzer", "apiext", "catalog", "policy_engine", "simplequeue"]));
    for service in &mine {
        assert_eq!(service["status"], true, "{service}");
        assert_eq!(service["service_detail"]["up"], true);
        assert_eq!(service["base_url"], server.base.trim_end_matches("/v1"));
        assert_eq!(service["version"], env!("CARGO_PKG_VERSION"));
    }
    let (status, list) = as_user(&server, Method::GET, "/system/services").await;
    assert_eq!((status, list.as_array().map(Vec::len)), (StatusCode::OK, Some(5)));
    let (status, apiext) = as_user(&server, Method::GET, "/system/services/apiext").await;
    assert_eq!((status, apiext[0]["hostid"].as_str()), (StatusCode::OK, Some(host.as_str())));
    let (status, _) = as_user(&server, Method::GET, &format!("/system/services/apiext/{host}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = as_user(&server, Method::GET, "/system/services/flux_capacitor").await;
    assert_eq!((status, message(&err)), (StatusCode::NOT_FOUND, "no service \"flux_capacitor\" is registered"));
    let (status, _) = as_user(&server, Method::GET, "/system/services/apiext/elsewhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A live service cannot be deleted; one whose process died can, by an admin.
    let (status, err) = admin(&server, Method::DELETE, &format!("/system/services/apiext/{host}")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&err).contains("is up"), "{err}");
    sqlx::query(
        "INSERT INTO services (servicename, host_id, roles, version, base_url, registered_at, heartbeat_at, heartbeat_seq)
         VALUES ('analyzer', 'dead-host', 'analyzer', '0.0.1', '', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 0)",
    )
    .execute(db(&server).pool())
    .await
    .unwrap();
    let (_, system) = admin(&server, Method::GET, "/system").await;
    let dead = system["service_states"].as_array().unwrap().iter().find(|s| s["hostid"] == "dead-host").unwrap();
    assert_eq!(dead["status"], false);
    assert_eq!(dead["status_message"], "no heartbeat since 2024-01-01T00:00:00Z");
    let (status, _) = as_user(&server, Method::DELETE, "/system/services/analyzer/dead-host").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = admin(&server, Method::DELETE, "/system/services/analyzer/dead-host").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin(&server, Method::DELETE, "/system/services/analyzer/dead-host").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The routes are in the OpenAPI document.
    let doc: Value = server.client.get(server.url("/swagger.json")).send().await.unwrap().json().await.unwrap();
    for path in ["/accounts/{account}/users/{username}/credentials", "/system/feeds", "/system/queue/{id}/requeue"] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }

    let (status, codes) = as_user(&server, Method::GET, "/system/error_codes").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = codes.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"ValidationError") && names.contains(&"ConflictingRequest"), "{codes}");
    let anonymous = server.client.get(server.url("/system/error_codes")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let base = server.base.clone();
    let expected_line = format!("Service apiext ({host}, {}): up", base.trim_end_matches("/v1"));
    tokio::task::spawn_blocking(move || {
        let cli = AnchoreCli::new(&base, "admin", ADMIN_PASSWORD);
        let output = cli.run(&["system", "status"]);
        assert_eq!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.contains(&expected_line), "{output:?}");
        assert!(output.stdout.contains(&format!("Engine Code Version: {}", env!("CARGO_PKG_VERSION"))), "{output:?}");
        let output = cli.run(&["system", "errorcodes"]);
        assert!(output.stdout.contains("ValidationError"), "{output:?}");
        // With its default service list, `system wait` finds every service it knows up.
        let output = cli.run(&["system", "wait", "--timeout", "60", "--interval", "1", "--feedsready", ""]);
        assert_eq!(output.code, Some(0), "{output:?}");
    })
    .await
    .unwrap();

    // A clean stop removes this process's rows.
    let location = server.postgres.as_ref().map_or_else(
        || server.data_dir.path().join("portcullis.sqlite").display().to_string(),
        |postgres| postgres.url(),
    );
    let TestServer { service, data_dir, postgres, .. } = server;
    service.unwrap().shutdown().await;
    let db = Database::open(&location).await.unwrap();
    let left: i64 = sqlx::query("SELECT COUNT(*) FROM services WHERE host_id = $1")
        .bind(&host)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(left, 0);
    db.close().await;
    drop((data_dir, postgres));
}

#[tokio::test]
async fn services_and_status_on_sqlite() {
    services_and_status(Engine::Sqlite).await;
}

#[tokio::test]
async fn services_and_status_on_postgres() {
    services_and_status(Engine::Postgres).await;
}

fn feed<'a>(feeds: &'a Value, name: &str) -> &'a Value {
    feeds.as_array().unwrap().iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("no feed {name}: {feeds}"))
}

async fn feed_events(server: &TestServer) -> Vec<String> {
    sqlx::query(
        "SELECT event_type FROM events WHERE account = 'admin' AND resource_type = 'feeds' ORDER BY created_seq",
    )
    .fetch_all(db(server).pool())
    .await
    .unwrap()
    .iter()
    .map(|row| row.try_get("event_type").unwrap())
    .collect()
}

async fn feeds(engine: Engine) {
    let root = feeds_dir().display().to_string();
    let server = TestServer::start_with(engine, |config| config.feeds.sources = vec![root.clone()]).await;
    add_plain_user(&server).await;

    // Configured but never synced: listed, pending.
    let (status, list) = as_user(&server, Method::GET, "/system/feeds").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list,
        json!([{"name": "feeds", "created_at": null, "updated_at": null, "last_full_sync": null,
        "enabled": true, "groups": []}])
    );
    let (status, _) = as_user(&server, Method::POST, "/system/feeds?sync=true").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, results) = admin(&server, Method::POST, "/system/feeds?sync=true").await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(results[0]["feed"], "feeds");
    assert_eq!(results[0]["status"], "success");
    assert!(results[0]["groups"][0]["updated_record_count"].as_u64().unwrap() > 1000, "{results}");
    assert_eq!(feed_events(&server).await, ["system.feeds.sync.started", "system.feeds.sync.completed"]);

    let (_, list) = as_user(&server, Method::GET, "/system/feeds").await;
    let synced = feed(&list, "feeds");
    assert!(synced["last_full_sync"].as_str().unwrap().ends_with('Z'));
    let groups: Vec<&str> = synced["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    for expected in ["alpine-secdb", "debian-tracker", "kev", "osv-pypi", "rustsec"] {
        assert!(groups.contains(&expected), "{expected} missing from {groups:?}");
    }
    assert!(!groups.contains(&"."), "{groups:?}");
    for group in synced["groups"].as_array().unwrap() {
        assert!(group["record_count"].as_u64().unwrap() > 0, "{group}");
        assert!(group["last_sync"].is_string(), "{group}");
    }

    // An unchanged source is not rewritten.
    let (status, results) = admin(&server, Method::POST, "/system/feeds").await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(results[0]["groups"][0]["updated_record_count"], 0);

    // Another process holding the lease: 409, not a bare 500.
    sqlx::query("UPDATE watchers SET owner = 'other-host', lease_expires = $1 WHERE name = 'feed_sync'")
        .bind(chrono::Utc::now().timestamp() + 600)
        .execute(db(&server).pool())
        .await
        .unwrap();
    let (status, err) = admin(&server, Method::POST, "/system/feeds?sync=true").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&err).starts_with("a sync is already running"), "{err}");
    assert_eq!(err["error_type"], "ConflictingRequest");
    // ... and once its lease has run out (it died), a sync goes ahead: flush parses everything again.
    sqlx::query("UPDATE watchers SET lease_expires = 0 WHERE name = 'feed_sync'")
        .execute(db(&server).pool())
        .await
        .unwrap();
    let (status, results) = admin(&server, Method::POST, "/system/feeds?flush=True&sync=True").await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert!(results[0]["groups"][0]["updated_record_count"].as_u64().unwrap() > 1000, "{results}");

    // Sync requests the scheduler cannot honour.
    let (status, err) = admin(&server, Method::POST, "/system/feeds?sync=false").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("feeds.enabled: false"), "{err}");
    let (status, _) = admin(&server, Method::POST, "/system/feeds?sync=false&flush=true").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin(&server, Method::POST, "/system/feeds?sync=perhaps").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Toggles.
    let (status, err) = admin(&server, Method::PUT, "/system/feeds/feeds").await;
    assert_eq!(
        (status, message(&err)),
        (StatusCode::BAD_REQUEST, "the query parameter enabled=true|false is required")
    );
    let (status, _) = admin(&server, Method::PUT, "/system/feeds/feeds?enabled=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, err) = admin(&server, Method::PUT, "/system/feeds/ghost?enabled=false").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(message(&err).contains("the feeds are: feeds"), "{err}");
    let (status, _) = as_user(&server, Method::PUT, "/system/feeds/feeds?enabled=false").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, group) = admin(&server, Method::PUT, "/system/feeds/feeds/alpine-secdb?enabled=False").await;
    assert_eq!(
        (status, group["name"].as_str(), group["enabled"].as_bool()),
        (StatusCode::OK, Some("alpine-secdb"), Some(false))
    );
    let (status, err) = admin(&server, Method::PUT, "/system/feeds/feeds/ghost?enabled=false").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(message(&err).contains("its groups are: "), "{err}");
    let (status, _) = as_user(&server, Method::PUT, "/system/feeds/feeds/alpine-secdb?enabled=true").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // anchore-cli: sync (it asks first; nothing changed) and list.
    let base = server.base.clone();
    tokio::task::spawn_blocking(move || {
        let cli = AnchoreCli::new(&base, "admin", ADMIN_PASSWORD);
        let output = cli.run_with_input(&["system", "feeds", "sync"], "y\n");
        assert_eq!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.contains("feeds") && output.stdout.contains("success"), "{output:?}");
        let output = cli.run(&["system", "feeds", "list"]);
        assert_eq!(output.code, Some(0), "{output:?}");
        let line = output.stdout.lines().find(|line| line.contains("alpine-secdb")).unwrap_or_default().to_owned();
        assert!(line.contains("alpine-secdb(disabled)"), "{output:?}");
        assert!(output.stdout.lines().any(|line| line.contains("osv-pypi") && line.contains('Z')), "{output:?}");
        let feeds = cli.run_json(&["system", "feeds", "list"]);
        assert_eq!(feeds[0]["name"], "feeds");
    })
    .await
    .unwrap();

    // Deleting needs the feed disabled; a disabled feed is left out of syncs.
    let (status, err) = admin(&server, Method::DELETE, "/system/feeds/feeds").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("disable it first"), "{err}");
    let (status, _) = as_user(&server, Method::DELETE, "/system/feeds/feeds").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, disabled) = admin(&server, Method::PUT, "/system/feeds/feeds?enabled=false").await;
    assert_eq!((status, disabled["enabled"].as_bool()), (StatusCode::OK, Some(false)));
    let (status, results) = admin(&server, Method::POST, "/system/feeds?sync=true").await;
    assert_eq!((status, results), (StatusCode::OK, json!([])));
    let (status, _) = admin(&server, Method::DELETE, "/system/feeds/feeds").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = as_user(&server, Method::GET, "/system/feeds").await;
    let deleted = feed(&list, "feeds");
    assert_eq!((deleted["enabled"].as_bool(), deleted["groups"].clone()), (Some(false), json!([])));
    assert!(server.service.as_ref().unwrap().state().vulndb.sources().await.unwrap().is_empty());
    let (status, err) = admin(&server, Method::DELETE, "/system/feeds/feeds").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(message(&err).contains("never synced"), "{err}");
    let (status, _) = admin(&server, Method::DELETE, "/system/feeds/ghost").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn feeds_on_sqlite() {
    feeds(Engine::Sqlite).await;
}

#[tokio::test]
async fn feeds_on_postgres() {
    feeds(Engine::Postgres).await;
}

/// With `feeds.enabled`, the scheduler syncs on its own (at start, then
/// every `cycle_timers.feed_sync`) through the same code, and
/// `sync=false` makes it due again.
async fn scheduled_sync(engine: Engine) {
    let kev = feeds_dir().join("kev").display().to_string();
    let server = TestServer::start_with(engine, |config| {
        config.feeds.enabled = true;
        config.feeds.sources = vec![kev.clone()];
    })
    .await;
    // The completed event is the sync's last step.
    for _ in 0..1200 {
        if feed_events(&server).await.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(feed_events(&server).await, ["system.feeds.sync.started", "system.feeds.sync.completed"]);
    let (_, list) = admin(&server, Method::GET, "/system/feeds").await;
    let kev = feed(&list, "kev");
    assert!(kev["last_full_sync"].is_string(), "{kev}");
    assert!(kev["groups"][0]["record_count"].as_u64().unwrap() > 1000, "{kev}");
    let (status, results) = admin(&server, Method::POST, "/system/feeds?sync=false").await;
    assert_eq!((status, results), (StatusCode::ACCEPTED, json!([])));
    let due: i64 = sqlx::query("SELECT last_run_seq FROM watchers WHERE name = 'feed_sync_checker'")
        .fetch_one(db(&server).pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert!(due == 0 || feed_events(&server).await.len() > 2, "the scheduled sync was not made due");
    server.stop().await;
}

#[tokio::test]
async fn scheduled_sync_on_sqlite() {
    scheduled_sync(Engine::Sqlite).await;
}

#[tokio::test]
async fn scheduled_sync_on_postgres() {
    scheduled_sync(Engine::Postgres).await;
}

async fn analysis_status(server: &TestServer, digest: &str) -> String {
    sqlx::query("SELECT analysis_status FROM images WHERE account = 'admin' AND digest = $1")
        .bind(digest)
        .fetch_one(db(server).pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn queue_routes(engine: Engine) {
    // No analyser: requeued jobs stay where the routes put them.
    let server = TestServer::start_with(engine, |config| {
        config.roles = vec![Role::Api, Role::Scheduler];
        config.analyzer.max_attempts = 1;
    })
    .await;
    add_plain_user(&server).await;
    let state = server.service.as_ref().unwrap().state().clone();
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    sqlx::query(
        "INSERT INTO images (account, digest, analysis_status, image_status, annotations, pull_reference, created_at,
                             created_seq, last_updated, record_version)
         VALUES ('admin', $1, 'not_analyzed', 'active', '{}', $2, '2024-01-01T00:00:00Z', 1, '2024-01-01T00:00:00Z', 1)",
    )
    .bind(digest)
    .bind(format!("registry.invalid/app@{digest}"))
    .execute(state.db.pool())
    .await
    .unwrap();
    assert!(portcullis_service::images::enqueue_analysis(&state, "admin", digest).await.unwrap());
    let job = state.queue.claim(queue::ANALYZE, "worker-1", 60).await.unwrap().unwrap();
    assert_eq!(state.queue.fail(&job, "worker-1", "the registry said no").await.unwrap(), FailOutcome::GaveUp);
    portcullis_service::images::mark_failed(&state, "admin", digest, "the registry said no").await.unwrap();

    let (status, _) = as_user(&server, Method::GET, "/system/queue").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, err) = admin(&server, Method::GET, "/system/queue?state=stuck").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("the states are queued, leased, done, failed, cancelled"), "{err}");
    let (status, _) = admin(&server, Method::GET, "/system/queue?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, failed) = admin(&server, Method::GET, "/system/queue?queue=images_to_analyze&state=failed").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(failed.as_array().map(Vec::len), Some(1), "{failed}");
    assert_eq!(failed[0]["id"], job.id);
    assert_eq!(failed[0]["last_error"], "the registry said no");
    assert_eq!(failed[0]["payload"]["digest"], digest);

    // Requeue: a fresh job, and the image back to not_analyzed.
    let (status, _) = as_user(&server, Method::POST, &format!("/system/queue/{}/requeue", job.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, fresh) = admin(&server, Method::POST, &format!("/system/queue/{}/requeue", job.id)).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    assert_eq!((fresh["state"].as_str(), fresh["attempts"].as_u64()), (Some("queued"), Some(0)));
    assert_ne!(fresh["id"], job.id);
    assert_eq!(analysis_status(&server, digest).await, "not_analyzed");
    // Nothing to do while a job for the image is pending.
    let (status, err) = admin(&server, Method::POST, &format!("/system/queue/{}/requeue", job.id)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&err).contains("waiting in the queue"), "{err}");
    let fresh_id = fresh["id"].as_i64().unwrap();
    let claimed = state.queue.claim(queue::ANALYZE, "worker-2", 3600).await.unwrap().unwrap();
    assert_eq!(claimed.id, fresh_id);
    let (status, err) = admin(&server, Method::POST, &format!("/system/queue/{fresh_id}/requeue")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&err).contains("being worked on by worker-2"), "{err}");
    // Its worker died (the lease ran out): the job is replaced.
    sqlx::query("UPDATE work_queue SET lease_expires = 0 WHERE id = $1")
        .bind(fresh_id)
        .execute(state.db.pool())
        .await
        .unwrap();
    let (status, replacement) = admin(&server, Method::POST, &format!("/system/queue/{fresh_id}/requeue")).await;
    assert_eq!(status, StatusCode::OK, "{replacement}");
    let (_, cancelled) = admin(&server, Method::GET, "/system/queue?state=cancelled").await;
    assert_eq!(cancelled[0]["id"], fresh_id);
    let (_, all) = admin(&server, Method::GET, "/system/queue").await;
    assert_eq!(all.as_array().map(Vec::len), Some(3));

    // Any queue, not only analyses.
    state.queue.enqueue("test_jobs", "team-u", "item-1", &json!({"n": 1}), 1).await.unwrap();
    let other = state.queue.claim("test_jobs", "worker-3", 60).await.unwrap().unwrap();
    state.queue.fail(&other, "worker-3", "boom").await.unwrap();
    let (status, again) = admin(&server, Method::POST, &format!("/system/queue/{}/requeue", other.id)).await;
    assert_eq!((status, again["item_key"].as_str()), (StatusCode::OK, Some("item-1")));

    // Error paths.
    let (status, _) = admin(&server, Method::POST, "/system/queue/999999/requeue").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = admin(&server, Method::POST, "/system/queue/abc/requeue").await;
    assert_eq!((status, message(&err)), (StatusCode::BAD_REQUEST, "job id \"abc\" is not a number"));
    sqlx::query("DELETE FROM images WHERE digest = $1").bind(digest).execute(state.db.pool()).await.unwrap();
    sqlx::query("UPDATE work_queue SET state = 'failed' WHERE state = 'queued'")
        .execute(state.db.pool())
        .await
        .unwrap();
    let (status, err) = admin(&server, Method::POST, &format!("/system/queue/{}/requeue", job.id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(message(&err).contains("no longer exists"), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn queue_routes_on_sqlite() {
    queue_routes(Engine::Sqlite).await;
}

#[tokio::test]
async fn queue_routes_on_postgres() {
    queue_routes(Engine::Postgres).await;
}

#[test]
fn the_example_configuration_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/portcullis.example.yaml");
    let config = ServiceConfig::load(Some(&path)).unwrap();
    config.validate().unwrap();
    assert_eq!(config.listen.port(), 8228);
    assert_eq!(config.roles, vec![Role::Api, Role::Analyzer, Role::Scheduler]);
    assert_eq!(config.cycle_timers.feed_sync, 21600);
    assert!(config.webhooks.endpoints.contains_key("general"), "{:?}", config.webhooks);
}
