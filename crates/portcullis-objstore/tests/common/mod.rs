//! Backends for the shared suites: each opens a real store of one driver and
//! can reach under it to read or tamper with the raw stored objects.

#![allow(dead_code)] // each test binary uses part of it

use object_store::ObjectStoreExt;
use portcullis_objstore::ObjectStoreConfig;
use portcullis_sql::Database;
use portcullis_testkit::postgres::TempDatabase;
use portcullis_testkit::s3::S3Server;
use portcullis_testkit::swift::{self, SwiftServer};
use serde_json::json;

pub enum Server {
    None,
    Postgres(TempDatabase),
    S3(S3Server),
    Swift(SwiftServer),
}

/// One driver, its metadata database and whatever server it needs.
pub struct Backend {
    pub db: Database,
    pub config: ObjectStoreConfig,
    pub server: Server,
    pub dir: tempfile::TempDir,
}

async fn sqlite(dir: &tempfile::TempDir) -> Database {
    Database::open(dir.path().join("service.sqlite").to_str().unwrap()).await.unwrap()
}

impl Backend {
    pub async fn db_sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(&dir).await;
        Self { db, config: ObjectStoreConfig::default(), server: Server::None, dir }
    }

    pub async fn db_postgres() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pg = TempDatabase::create();
        let db = Database::open(&pg.url()).await.unwrap();
        Self { db, config: ObjectStoreConfig::default(), server: Server::Postgres(pg), dir }
    }

    pub async fn localfs() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(&dir).await;
        let config = ObjectStoreConfig::with_driver("localfs", json!({"archive_data_dir": dir.path().join("archive")}));
        Self { db, config, server: Server::None, dir }
    }

    pub async fn s3() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(&dir).await;
        let server = S3Server::start();
        let config = s3_config(&server, "documents", true);
        Self { db, config, server: Server::S3(server), dir }
    }

    pub async fn swift() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(&dir).await;
        let server = SwiftServer::start();
        let config = swift_config(&server, "documents", true);
        Self { db, config, server: Server::Swift(server), dir }
    }

    /// The raw object at `url`, read around the store.
    pub async fn raw_get(&self, url: &str) -> Option<Vec<u8>> {
        if let Some(path) = url.strip_prefix("file://") {
            return std::fs::read(path).ok();
        }
        if url.starts_with("db://") {
            return sqlx::query_scalar::<_, Vec<u8>>("SELECT data FROM objstore_blobs WHERE url = $1")
                .bind(url)
                .fetch_optional(self.db.pool())
                .await
                .unwrap();
        }
        if let Some((store, path)) = self.s3_object(url) {
            return match store.get(&path).await {
                Ok(result) => Some(result.bytes().await.unwrap().to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("{e}"),
            };
        }
        let response = self.raw_request(reqwest::Method::GET, url, None).await;
        (response.status() == 200).then_some(response.bytes().await.unwrap().to_vec())
    }

    /// Replaces the raw object at `url` with `bytes`, around the store.
    pub async fn tamper(&self, url: &str, bytes: &[u8]) {
        if let Some(path) = url.strip_prefix("file://") {
            return std::fs::write(path, bytes).unwrap();
        }
        if url.starts_with("db://") {
            let done = sqlx::query("UPDATE objstore_blobs SET data = $1 WHERE url = $2")
                .bind(bytes)
                .bind(url)
                .execute(self.db.pool())
                .await
                .unwrap();
            assert_eq!(done.rows_affected(), 1);
            return;
        }
        if let Some((store, path)) = self.s3_object(url) {
            store.put(&path, bytes.to_vec().into()).await.unwrap();
            return;
        }
        let response = self.raw_request(reqwest::Method::PUT, url, Some(bytes)).await;
        assert!(response.status().is_success(), "tampering with {url}: {}", response.status());
    }

    /// Deletes the raw object at `url`, around the store.
    pub async fn raw_delete(&self, url: &str) {
        if let Some(path) = url.strip_prefix("file://") {
            return std::fs::remove_file(path).unwrap();
        }
        if url.starts_with("db://") {
            sqlx::query("DELETE FROM objstore_blobs WHERE url = $1").bind(url).execute(self.db.pool()).await.unwrap();
            return;
        }
        if let Some((store, path)) = self.s3_object(url) {
            store.delete(&path).await.unwrap();
            return;
        }
        let response = self.raw_request(reqwest::Method::DELETE, url, None).await;
        assert!(response.status().is_success(), "deleting {url}: {}", response.status());
    }

    fn s3_object(&self, url: &str) -> Option<(object_store::aws::AmazonS3, object_store::path::Path)> {
        let Server::S3(server) = &self.server else { return None };
        s3_object(server, url)
    }

    /// A request on the Swift object behind `url`.
    async fn raw_request(&self, method: reqwest::Method, url: &str, body: Option<&[u8]>) -> reqwest::Response {
        let client = reqwest::Client::new();
        let request = match &self.server {
            Server::Swift(server) => {
                let auth = client
                    .get(server.auth_url())
                    .header("X-Auth-User", swift::USER)
                    .header("X-Auth-Key", swift::KEY)
                    .send()
                    .await
                    .unwrap();
                let storage = auth.headers()["X-Storage-Url"].to_str().unwrap().to_owned();
                let token = auth.headers()["X-Auth-Token"].to_str().unwrap().to_owned();
                let path = url.strip_prefix("swift://").unwrap();
                let encoded: String = path
                    .split('/')
                    .map(|part| {
                        percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC).to_string()
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                client.request(method, format!("{storage}/{encoded}")).header("X-Auth-Token", token)
            }
            _ => panic!("no raw access to {url}"),
        };
        let request = match body {
            Some(body) => request.body(body.to_vec()),
            None => request,
        };
        request.send().await.unwrap()
    }
}

pub fn s3_config(server: &S3Server, bucket: &str, create: bool) -> ObjectStoreConfig {
    ObjectStoreConfig::with_driver(
        "s3",
        json!({
            "access_key": server.access_key(), "secret_key": server.secret_key(), "url": server.endpoint(),
            "region": "us-east-1", "bucket": bucket, "create_bucket": create, "prefix": "portcullis/",
        }),
    )
}

pub fn swift_config(server: &SwiftServer, container: &str, create: bool) -> ObjectStoreConfig {
    ObjectStoreConfig::with_driver(
        "swift",
        json!({
            "auth_url": server.auth_url(), "user": swift::USER, "key": swift::KEY,
            "container": container, "create_container": create, "anchore_key_prefix": "pc/",
        }),
    )
}

/// A client of the S3 bucket holding `url`, and the object's path in it.
pub fn s3_object(server: &S3Server, url: &str) -> Option<(object_store::aws::AmazonS3, object_store::path::Path)> {
    let (bucket, path) = url.strip_prefix("s3://")?.split_once('/')?;
    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_region("us-east-1")
        .with_bucket_name(bucket)
        .with_access_key_id(server.access_key())
        .with_secret_access_key(server.secret_key())
        .build()
        .unwrap();
    Some((store, object_store::path::Path::parse(path).unwrap()))
}
