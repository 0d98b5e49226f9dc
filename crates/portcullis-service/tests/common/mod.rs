//! Starts a real service in-process (SQLite or the machine's PostgreSQL) on a
//! free loopback port, and talks to it over HTTP.
#![allow(dead_code)]

pub mod images;

pub mod watch;

use std::path::PathBuf;

use portcullis_service::Service;
use portcullis_service::config::{Role, ServiceConfig};
use portcullis_testkit::postgres::TempDatabase;

pub const ADMIN_PASSWORD: &str = "admin-test-password";

/// Which catalog database a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub service: Option<Service>,
    pub base: String,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    pub postgres: Option<TempDatabase>,
}

impl TestServer {
    /// A server with every role, no scheduled feed sync, and vulnerability
    /// data synced from `feeds` when given (a directory like ../shared/feeds).
    pub async fn start(engine: Engine) -> TestServer {
        Self::start_with(engine, |_| {}).await
    }

    pub async fn start_with(engine: Engine, adjust: impl FnOnce(&mut ServiceConfig)) -> TestServer {
        let data_dir = tempfile::tempdir().unwrap();
        let postgres = (engine == Engine::Postgres).then(TempDatabase::create);
        let mut config = ServiceConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data_dir.path().to_owned(),
            database_url: postgres.as_ref().map(TempDatabase::url),
            roles: vec![Role::Api, Role::Analyzer, Role::Scheduler],
            ..ServiceConfig::default()
        };
        config.feeds.enabled = false;
        config.analyzer.poll_millis = 100;
        adjust(&mut config);
        let service = Service::start(config, Some(ADMIN_PASSWORD.into())).await.unwrap();
        let addr = service.local_addr().expect("the api role listens");
        TestServer {
            base: format!("http://{addr}/v1"),
            service: Some(service),
            client: reqwest::Client::new(),
            data_dir,
            postgres,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request as `admin`.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).basic_auth("admin", Some(ADMIN_PASSWORD))
    }

    /// A request as `user` with `password`.
    pub fn as_user(&self, user: &str, password: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).basic_auth(user, Some(password))
    }

    pub async fn stop(mut self) {
        if let Some(service) = self.service.take() {
            service.shutdown().await;
        }
    }
}

/// The shared feeds directory (../shared/feeds or `PORTCULLIS_FEEDS`).
pub fn feeds_dir() -> PathBuf {
    portcullis_testkit::data::feeds_root()
}
