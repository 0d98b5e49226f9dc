//! The same service flow on every object-store driver: an image added from a
//! real registry is analysed, its documents (manifest, SBOM, content,
//! vulnerability report, policy evaluation, bundle) land in the configured
//! backend (db, localfs, S3 on moto, OpenStack Swift), and every read route
//! serves them back. Then `objectstorage migrate` moves them to another
//! driver and the service, restarted on it, still serves them.

mod common;

use common::images::{add_by_tag, app_image, push, send, sync_feeds, wait_analysis};
use common::{Engine, TestServer};
use portcullis_objstore::ObjectStoreConfig;
use portcullis_testkit::registry::{RegistryAuth, TestRegistry};
use portcullis_testkit::s3::S3Server;
use portcullis_testkit::swift::{self, SwiftServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn s3_config(server: &S3Server) -> ObjectStoreConfig {
    ObjectStoreConfig::with_driver(
        "s3",
        json!({
            "access_key": server.access_key(), "secret_key": server.secret_key(), "url": server.endpoint(),
            "region": "us-east-1", "bucket": "portcullis", "create_bucket": true, "prefix": "svc/",
        }),
    )
}

fn swift_config(server: &SwiftServer) -> ObjectStoreConfig {
    ObjectStoreConfig::with_driver(
        "swift",
        json!({
            "auth_url": server.auth_url(), "user": swift::USER, "key": swift::KEY,
            "container": "portcullis", "create_container": true,
        }),
    )
}

/// Runs the flow with `store` and checks every document went through it;
/// returns the server (still running) and the image digest.
async fn exercise(engine: Engine, store: ObjectStoreConfig, scheme: &str) -> (TestServer, String) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let server = TestServer::start_with(engine, |config| {
        config.object_store = store;
        config.object_store.compression.enabled = true;
        config.object_store.compression.min_size_kbytes = 1;
        config.analyzer.insecure_registries = vec![registry.host()];
    })
    .await;
    sync_feeds(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, tag) = push(&registry, dir.path(), &app_image("2.19.1"), "team/app:1");
    let digest = add_by_tag(&server, &tag).await["imageDigest"].as_str().unwrap().to_owned();
    assert_eq!(wait_analysis(&server, &digest, None).await["analysis_status"], "analyzed");

    let (status, vulns) = send(server.admin(Method::GET, &format!("/images/{digest}/vuln/all"))).await;
    assert_eq!(status, StatusCode::OK, "{vulns}");
    assert!(vulns["vulnerabilities"].as_array().unwrap().iter().any(|v| v["package_name"] == "requests"), "{vulns}");
    let (status, content) = send(server.admin(Method::GET, &format!("/images/{digest}/content/os"))).await;
    assert_eq!(status, StatusCode::OK, "{content}");
    assert_eq!(content["content"].as_array().unwrap().len(), 2);
    let (status, check) =
        send(server.admin(Method::GET, &format!("/images/{digest}/check?tag={tag}&detail=true"))).await;
    assert_eq!(status, StatusCode::OK, "{check}");

    let state = server.service.as_ref().unwrap().state();
    let documents = state.docs.list(Some("admin"), None).await.unwrap();
    let buckets: std::collections::BTreeSet<&str> = documents.iter().map(|d| d.bucket.as_str()).collect();
    for bucket in [
        "manifest_data",
        "syft_sbom",
        "image_content_data",
        "vulnerability_scan",
        "policy_evaluations",
        "policy_bundles",
    ] {
        assert!(buckets.contains(bucket), "no {bucket} document in {buckets:?}");
    }
    assert!(documents.iter().all(|d| d.url.starts_with(scheme)), "{documents:?}");
    assert!(documents.iter().any(|d| d.compressed), "the SBOM is over the 1 KiB threshold");
    (server, digest)
}

#[tokio::test]
async fn documents_in_the_database_on_postgres() {
    let (server, _) = exercise(Engine::Postgres, ObjectStoreConfig::default(), "db://").await;
    server.stop().await;
}

#[tokio::test]
async fn documents_on_local_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStoreConfig::with_driver("localfs", json!({"archive_data_dir": dir.path()}));
    let (server, _) = exercise(Engine::Sqlite, store, "file://").await;
    server.stop().await;
}

#[tokio::test]
async fn documents_on_s3_then_migrated_to_the_database() {
    let s3 = S3Server::start();
    let (mut server, digest) = exercise(Engine::Postgres, s3_config(&s3), "s3://").await;
    let before = send(server.admin(Method::GET, &format!("/images/{digest}/content/python"))).await;
    assert_eq!(before.0, StatusCode::OK);

    // Stop, migrate s3 -> db with the library call `objectstorage migrate` makes, restart on db.
    let database = server.postgres.as_ref().unwrap().url();
    let data_dir = server.data_dir.path().to_owned();
    server.service.take().unwrap().shutdown().await;
    let db = portcullis_sql::Database::open(&database).await.unwrap();
    let report = portcullis_objstore::migrate(
        &db,
        &s3_config(&s3),
        &ObjectStoreConfig::default(),
        &portcullis_objstore::MigrateOptions::default(),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(report.migrated >= 6, "{report:?}");
    let mut config = portcullis_service::config::ServiceConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir,
        database_url: Some(database),
        ..Default::default()
    };
    config.feeds.enabled = false;
    let restarted = portcullis_service::Service::start(config, None).await.unwrap();
    let base = format!("http://{}/v1", restarted.local_addr().unwrap());
    let after: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/images/{digest}/content/python"))
        .basic_auth("admin", Some(common::ADMIN_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after, before.1);
    let documents = restarted.state().docs.list(None, None).await.unwrap();
    assert!(documents.iter().all(|d| d.url.starts_with("db://")), "{documents:?}");
    restarted.shutdown().await;
}

#[tokio::test]
async fn documents_on_swift() {
    let swift = SwiftServer::start();
    let (server, _) = exercise(Engine::Sqlite, swift_config(&swift), "swift://").await;
    server.stop().await;
}
