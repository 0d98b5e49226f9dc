//! `DocumentStore::open` fails at start-up, precisely, on every bad
//! configuration a user can write, against real servers.

mod common;

use common::{Backend, s3_config, swift_config};
use portcullis_objstore::{DocumentStore, ObjectStoreConfig, ObjectStoreError};
use portcullis_testkit::s3::S3Server;
use portcullis_testkit::swift::SwiftServer;
use serde_json::json;

async fn open_error(config: &ObjectStoreConfig) -> ObjectStoreError {
    let backend = Backend::db_sqlite().await;
    match DocumentStore::open(config, &backend.db).await {
        Ok(_) => panic!("{config:?} opened"),
        Err(error) => error,
    }
}

fn probe_cause(error: ObjectStoreError) -> ObjectStoreError {
    match error {
        ObjectStoreError::Probe { source, .. } => *source,
        other => other,
    }
}

#[tokio::test]
async fn unknown_driver_and_bad_options() {
    let error = open_error(&ObjectStoreConfig::with_driver("ftp", json!({}))).await;
    assert!(matches!(&error, ObjectStoreError::UnknownDriver { name } if name == "ftp"), "{error}");
    let error = open_error(&ObjectStoreConfig::with_driver("db", json!({"bucket": "x"}))).await;
    assert!(error.to_string().contains("unknown field `bucket`"), "{error}");
    let error = open_error(&ObjectStoreConfig::with_driver("localfs", json!({}))).await;
    assert!(error.to_string().contains("missing field `archive_data_dir`"), "{error}");
    let error = open_error(&ObjectStoreConfig::with_driver("s3", json!({"bucket": "b"}))).await;
    assert!(error.to_string().contains("needs access_key and secret_key"), "{error}");
    let error = open_error(&ObjectStoreConfig::with_driver(
        "swift",
        json!({"auth_url": "http://127.0.0.1:1/auth/v3", "user": "u", "key": "k", "container": "c", "auth_version": 3}),
    ))
    .await;
    assert!(error.to_string().contains("v1 auth (tempauth) only"), "{error}");
}

#[tokio::test]
async fn localfs_directory_that_cannot_be_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let config = ObjectStoreConfig::with_driver("localfs", json!({"directory": file.join("archive")}));
    let error = open_error(&config).await;
    assert!(matches!(error, ObjectStoreError::Io { operation: "create the directory", .. }), "{error}");
}

#[tokio::test]
async fn s3_missing_bucket_bad_credentials_and_unreachable_endpoint() {
    let server = S3Server::start_with_auth();
    let error = probe_cause(open_error(&s3_config(&server, "absent", false)).await);
    assert!(
        matches!(&error, ObjectStoreError::MissingContainer { name, option: "create_bucket", .. } if name == "absent"),
        "{error}"
    );

    let mut config = s3_config(&server, "created", true);
    let backend = Backend::db_sqlite().await;
    DocumentStore::open(&config, &backend.db).await.unwrap();
    // Opening again finds the bucket there (BucketAlreadyOwnedByYou is fine).
    DocumentStore::open(&config, &backend.db).await.unwrap();

    config.storage_driver.config.insert("secret_key".into(), json!("wrong-secret"));
    let error = probe_cause(open_error(&config).await);
    assert!(matches!(error, ObjectStoreError::Unauthorized { driver: "s3", .. }), "{error}");
    assert!(error.to_string().contains("SignatureDoesNotMatch"), "{error}");

    config.storage_driver.config.insert("access_key".into(), json!("AKIAUNKNOWN"));
    config.storage_driver.config.insert("create_bucket".into(), json!(false));
    let error = probe_cause(open_error(&config).await);
    assert!(matches!(error, ObjectStoreError::Unauthorized { driver: "s3", .. }), "{error}");

    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    config.storage_driver.config.insert("url".into(), json!(format!("http://127.0.0.1:{port}")));
    let error = probe_cause(open_error(&config).await);
    assert!(matches!(error, ObjectStoreError::Unreachable { driver: "s3", .. }), "{error}");
}

#[tokio::test]
async fn swift_missing_container_bad_key_and_unreachable_endpoint() {
    let server = SwiftServer::start();
    let error = open_error(&swift_config(&server, "absent", false)).await;
    assert!(
        matches!(&error, ObjectStoreError::MissingContainer { name, option: "create_container", .. } if name == "absent"),
        "{error}"
    );
    let mut config = swift_config(&server, "created", true);
    config.storage_driver.config.insert("key".into(), json!("wrong"));
    let error = open_error(&config).await;
    assert!(matches!(error, ObjectStoreError::Unauthorized { driver: "swift", .. }), "{error}");
    config.storage_driver.config.insert("auth_url".into(), json!("http://127.0.0.1:1/auth/v1.0"));
    let error = open_error(&config).await;
    assert!(matches!(error, ObjectStoreError::Unreachable { driver: "swift", .. }), "{error}");
}

/// Documents written by an earlier driver stay readable after a switch, as
/// long as their URLs can be followed.
#[tokio::test]
async fn reads_follow_the_url_after_a_driver_change() {
    let backend = Backend::localfs().await;
    let old = DocumentStore::open(&backend.config, &backend.db).await.unwrap();
    old.put("admin", "manifest_data", "m1", b"from localfs").await.unwrap();
    let db = DocumentStore::open(&ObjectStoreConfig::default(), &backend.db).await.unwrap();
    assert_eq!(db.get("admin", "manifest_data", "m1").await.unwrap().unwrap(), b"from localfs");
    db.put("admin", "manifest_data", "m1", b"now in db").await.unwrap();
    assert!(db.meta("admin", "manifest_data", "m1").await.unwrap().unwrap().url.starts_with("db://"));
    assert_eq!(old.get("admin", "manifest_data", "m1").await.unwrap().unwrap(), b"now in db");

    // An s3:// document with no s3 driver configured is a precise error.
    sqlx::query("UPDATE objstore_documents SET url = 's3://elsewhere/x'").execute(backend.db.pool()).await.unwrap();
    let error = db.get("admin", "manifest_data", "m1").await.unwrap_err();
    assert!(matches!(&error, ObjectStoreError::DriverUnavailable { scheme, .. } if scheme == "s3"), "{error}");
}
