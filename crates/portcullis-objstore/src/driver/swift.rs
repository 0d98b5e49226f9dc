//! `swift`: an OpenStack Swift container over its REST API, authenticated
//! with v1 auth (tempauth, swauth): `GET {auth_url}` with `X-Auth-User` and
//! `X-Auth-Key` answers with `X-Storage-Url` and `X-Auth-Token`. A token that
//! expires (401) is renewed once per request. URLs are
//! `swift://{container}/{object name}`.

use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::{DocName, versioned_object_name};
use crate::error::{ObjectStoreError, Result, error_chain};

const DRIVER: &str = "swift";
const SCHEME: &str = "swift://";

/// Object names keep their `/`; everything outside RFC 3986's unreserved set is encoded.
const OBJECT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Options, with python-swiftclient's names (as Anchore passes them) as aliases.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SwiftConfig {
    #[serde(alias = "auth", alias = "authurl", alias = "os_auth_url")]
    auth_url: String,
    #[serde(alias = "os_username")]
    user: String,
    #[serde(alias = "os_password")]
    key: String,
    /// Only v1 auth is implemented; `1`/`1.0` (or nothing) is accepted.
    auth_version: Option<Value>,
    container: String,
    #[serde(default)]
    create_container: bool,
    #[serde(default)]
    anchore_key_prefix: String,
}

struct Session {
    storage_url: String,
    token: String,
}

pub(crate) struct SwiftDriver {
    http: reqwest::Client,
    config: SwiftConfig,
    session: Mutex<Option<Arc<Session>>>,
}

impl SwiftDriver {
    pub(crate) async fn new(config: SwiftConfig) -> Result<Self> {
        match &config.auth_version {
            None => {}
            Some(Value::Number(n)) if n.as_f64() == Some(1.0) => {}
            Some(Value::String(s)) if s == "1" || s == "1.0" => {}
            Some(other) => {
                return Err(ObjectStoreError::Config(format!(
                    "the swift driver speaks v1 auth (tempauth) only, not auth_version {other}"
                )));
            }
        }
        if config.container.is_empty() {
            return Err(ObjectStoreError::Config("the swift driver needs a container".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| ObjectStoreError::Config(format!("swift driver: {}", error_chain(&e))))?;
        let driver = Self { http, config, session: Mutex::new(None) };
        driver.ensure_container().await?;
        Ok(driver)
    }

    async fn authenticate(&self) -> Result<Arc<Session>> {
        let endpoint = &self.config.auth_url;
        let response = self
            .http
            .get(endpoint)
            .header("X-Auth-User", &self.config.user)
            .header("X-Auth-Key", &self.config.key)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(ObjectStoreError::Unauthorized {
                driver: DRIVER,
                endpoint: endpoint.clone(),
                detail: format!("user {:?}: {status}", self.config.user),
            });
        }
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        match (status.is_success(), header("X-Storage-Url"), header("X-Auth-Token")) {
            (true, Some(storage_url), Some(token)) => Ok(Arc::new(Session { storage_url, token })),
            _ => Err(ObjectStoreError::Backend {
                driver: DRIVER,
                operation: "authenticate at",
                location: endpoint.clone(),
                detail: format!("{status} without X-Storage-Url and X-Auth-Token (is this a v1 auth URL?)"),
            }),
        }
    }

    fn transport_error(&self, error: reqwest::Error) -> ObjectStoreError {
        let detail = error_chain(&error);
        if error.is_connect() || error.is_timeout() {
            ObjectStoreError::Unreachable { driver: DRIVER, endpoint: self.config.auth_url.clone(), detail }
        } else {
            ObjectStoreError::Backend {
                driver: DRIVER,
                operation: "reach",
                location: self.config.auth_url.clone(),
                detail,
            }
        }
    }

    /// Sends one request on the container (`object` `None`) or an object,
    /// authenticating first when there is no token and again on a 401.
    async fn send(&self, method: Method, object: Option<&str>, body: Option<&[u8]>) -> Result<reqwest::Response> {
        let mut renewed = false;
        loop {
            let session = {
                let mut current = self.session.lock().await;
                match current.as_ref() {
                    Some(session) if !renewed => session.clone(),
                    _ => {
                        let session = self.authenticate().await?;
                        *current = Some(session.clone());
                        session
                    }
                }
            };
            let mut url = format!(
                "{}/{}",
                session.storage_url.trim_end_matches('/'),
                utf8_percent_encode(&self.config.container, OBJECT).to_string().replace('/', "%2F")
            );
            if let Some(object) = object {
                url.push('/');
                url.extend(utf8_percent_encode(object, OBJECT));
            }
            let mut request = self.http.request(method.clone(), &url).header("X-Auth-Token", &session.token);
            if let Some(body) = body {
                request = request.body(body.to_vec());
            }
            let response = request.send().await.map_err(|e| self.transport_error(e))?;
            if response.status() == StatusCode::UNAUTHORIZED && !renewed {
                renewed = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// Fails unless the container is there, creating it first when `create_container` says so.
    async fn ensure_container(&self) -> Result<()> {
        let status = self.send(Method::HEAD, None, None).await?.status();
        if status.is_success() {
            return Ok(());
        }
        if status == StatusCode::NOT_FOUND && self.config.create_container {
            let response = self.send(Method::PUT, None, None).await?;
            return self.check(response, "create the container", &self.config.container).await;
        }
        if status == StatusCode::NOT_FOUND {
            return Err(self.missing_container());
        }
        self.check_status(status, String::new(), "check the container", &self.config.container)
    }

    fn missing_container(&self) -> ObjectStoreError {
        ObjectStoreError::MissingContainer {
            driver: DRIVER,
            what: "container",
            name: self.config.container.clone(),
            endpoint: self.config.auth_url.clone(),
            option: "create_container",
        }
    }

    async fn check(&self, response: reqwest::Response, operation: &'static str, location: &str) -> Result<()> {
        let status = response.status();
        let body = if status.is_success() { String::new() } else { response.text().await.unwrap_or_default() };
        self.check_status(status, body, operation, location)
    }

    fn check_status(&self, status: StatusCode, body: String, operation: &'static str, location: &str) -> Result<()> {
        match status {
            s if s.is_success() => Ok(()),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ObjectStoreError::Unauthorized {
                driver: DRIVER,
                endpoint: self.config.auth_url.clone(),
                detail: format!("{operation} {location}: {status} {body}"),
            }),
            _ => Err(ObjectStoreError::Backend {
                driver: DRIVER,
                operation,
                location: location.to_owned(),
                detail: format!("{status} {}", body.trim()),
            }),
        }
    }

    pub(crate) fn owns(&self, url: &str) -> bool {
        self.object_of(url).is_some_and(|object| object.starts_with(&self.config.anchore_key_prefix))
    }

    fn object_of<'u>(&self, url: &'u str) -> Option<&'u str> {
        url.strip_prefix(SCHEME)?.strip_prefix(self.config.container.as_str())?.strip_prefix('/')
    }

    fn object_or_error<'u>(&self, url: &'u str) -> Result<&'u str> {
        self.object_of(url).ok_or_else(|| ObjectStoreError::Backend {
            driver: DRIVER,
            operation: "read",
            location: url.to_owned(),
            detail: format!("not an object of the container {}", self.config.container),
        })
    }

    pub(crate) async fn put(&self, name: &DocName<'_>, data: &[u8]) -> Result<String> {
        let object = versioned_object_name(&self.config.anchore_key_prefix, name);
        let url = format!("{SCHEME}{}/{object}", self.config.container);
        let response = self.send(Method::PUT, Some(&object), Some(data)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(self.missing_container());
        }
        self.check(response, "store", &url).await?;
        Ok(url)
    }

    pub(crate) async fn get(&self, url: &str) -> Result<Option<Vec<u8>>> {
        let response = self.send(Method::GET, Some(self.object_or_error(url)?), None).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return self.check(response, "read", url).await.map(|()| None);
        }
        let bytes = response.bytes().await.map_err(|e| ObjectStoreError::Backend {
            driver: DRIVER,
            operation: "read",
            location: url.to_owned(),
            detail: error_chain(&e),
        })?;
        Ok(Some(bytes.to_vec()))
    }

    pub(crate) async fn delete(&self, url: &str) -> Result<()> {
        let response = self.send(Method::DELETE, Some(self.object_or_error(url)?), None).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        self.check(response, "delete", url).await
    }
}
