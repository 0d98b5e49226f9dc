use std::time::Duration;

use portcullis_api::*;
use reqwest::Method;
use reqwest::Url;
use reqwest::blocking::RequestBuilder;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ClientError, describe};

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header (only the unauthenticated routes will work).
    None,
    /// HTTP basic auth with a user's password.
    Basic { user: String, password: String },
    /// `Authorization: Bearer <token>` with a token from `POST /oauth/token`.
    Bearer(String),
}

impl Auth {
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Auth {
        Auth::Basic { user: user.into(), password: password.into() }
    }
}

/// Where the server is and how to talk to it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The API base URL, including the `/v1` prefix (`http://127.0.0.1:8228/v1`).
    pub url: String,
    pub auth: Auth,
    /// Act on this account's resources (`x-anchore-account`; admins only).
    pub account: Option<String>,
    /// Limit on a whole request, from connecting to the end of the body.
    pub timeout: Duration,
    /// Limit on establishing the connection.
    pub connect_timeout: Duration,
}

impl ClientConfig {
    /// Default timeouts: 10 s to connect, 300 s per request (a synchronous
    /// feed sync answers only when it is done).
    pub fn new(url: impl Into<String>, auth: Auth) -> ClientConfig {
        ClientConfig {
            url: url.into(),
            auth,
            account: None,
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A blocking client for one server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    base: Url,
    auth: Auth,
    account: Option<String>,
}

/// The query string of a route without parameters.
#[derive(Serialize)]
struct NoQuery {}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ClientError> {
        let invalid = |reason: String| ClientError::InvalidUrl { url: config.url.clone(), reason };
        let base =
            Url::parse(&config.url).map_err(|e| invalid(format!("{e} (expected a URL like http://host:8228/v1)")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid(format!("the scheme must be http or https, not {:?}", base.scheme())));
        }
        if base.cannot_be_a_base() || base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("expected scheme://host[:port][/path] without a query or fragment".to_owned()));
        }
        let http = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(describe(&e)))?;
        Ok(Client { http, base, auth: config.auth, account: config.account })
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// `base/segment/segment...`, each segment percent-encoded (a registry
    /// name like `localhost:5000/team/*` stays one segment).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn call<Q: Serialize + ?Sized, B: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        query: &Q,
        body: Option<&B>,
    ) -> Result<(String, String), ClientError> {
        let url = self.url(segments);
        let method_name = method.to_string();
        let mut request: RequestBuilder = self.http.request(method, url.clone()).query(query);
        request = match &self.auth {
            Auth::None => request,
            Auth::Basic { user, password } => request.basic_auth(user, Some(password)),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        if let Some(account) = &self.account {
            request = request.header(ACCOUNT_HEADER, account);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let request = request.build().map_err(|e| ClientError::Unreachable {
            method: method_name.clone(),
            url: url.to_string(),
            reason: describe(&e),
        })?;
        // The query string is part of what failed, so errors name the full URL.
        let url = request.url().to_string();
        tracing::debug!(method = %method_name, %url, "API request");
        let unreachable = |e: reqwest::Error| ClientError::Unreachable {
            method: method_name.clone(),
            url: url.clone(),
            reason: describe(&e),
        };
        let response = self.http.execute(request).map_err(unreachable)?;
        let status = response.status();
        let text = response.text().map_err(unreachable)?;
        tracing::debug!(method = %method_name, %url, status = status.as_u16(), bytes = text.len(), "API response");
        if status.is_success() {
            return Ok((url, text));
        }
        Err(ClientError::Http {
            method: method_name,
            url,
            status: status.as_u16(),
            body: Box::new(error_body(status, &text)),
        })
    }

    fn json<T: DeserializeOwned, Q: Serialize + ?Sized, B: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        query: &Q,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let method_name = method.to_string();
        let (url, text) = self.call(method, segments, query, body)?;
        serde_json::from_str(&text).map_err(|e| ClientError::Decode {
            method: method_name,
            url,
            reason: format!("{e} in {}", excerpt(&text)),
        })
    }

    fn get<T: DeserializeOwned, Q: Serialize + ?Sized>(&self, segments: &[&str], query: &Q) -> Result<T, ClientError> {
        self.json(Method::GET, segments, query, None::<&()>)
    }

    /// A call whose answer carries nothing the caller needs (deletes).
    fn discard<Q: Serialize + ?Sized>(&self, method: Method, segments: &[&str], query: &Q) -> Result<(), ClientError> {
        self.call(method, segments, query, None::<&()>).map(drop)
    }

    // ---- meta --------------------------------------------------------------

    /// `GET /`: checks that the server answers and the credentials work.
    pub fn ping(&self) -> Result<(), ClientError> {
        self.discard(Method::GET, &[], &NoQuery {})
    }

    /// `GET /version`.
    pub fn version(&self) -> Result<ServiceVersion, ClientError> {
        self.get(&["version"], &NoQuery {})
    }

    // ---- images ------------------------------------------------------------

    /// `POST /images`.
    pub fn add_image(
        &self,
        request: &ImageAnalysisRequest,
        query: &AddImageQuery,
    ) -> Result<Vec<AnchoreImage>, ClientError> {
        self.json(Method::POST, &["images"], query, Some(request))
    }

    /// `GET /images`.
    pub fn list_images(&self, query: &ListImagesQuery) -> Result<Vec<AnchoreImage>, ClientError> {
        self.get(&["images"], query)
    }

    /// `GET /images/{digest}`.
    pub fn get_image(&self, digest: &str) -> Result<Vec<AnchoreImage>, ClientError> {
        self.get(&["images", digest], &NoQuery {})
    }

    /// `DELETE /images/{digest}`.
    pub fn delete_image(&self, digest: &str, force: bool) -> Result<(), ClientError> {
        self.discard(Method::DELETE, &["images", digest], &DeleteImageQuery { force: force.then_some(true) })
    }

    /// `GET /images/{digest}/vuln`: the vulnerability types available.
    pub fn vulnerability_types(&self, digest: &str) -> Result<Vec<String>, ClientError> {
        self.get(&["images", digest, "vuln"], &NoQuery {})
    }

    /// `GET /images/{digest}/vuln/{type}`.
    pub fn vulnerabilities(
        &self,
        digest: &str,
        kind: VulnerabilityType,
        query: &VulnerabilityQuery,
    ) -> Result<VulnerabilityResponse, ClientError> {
        self.get(&["images", digest, "vuln", kind.as_str()], query)
    }

    /// `GET /images/{digest}/content`: the content types available.
    pub fn content_types(&self, digest: &str) -> Result<Vec<String>, ClientError> {
        self.get(&["images", digest, "content"], &NoQuery {})
    }

    /// `GET /images/{digest}/content/{type}`; `T` per [`ContentResponse`].
    pub fn content<T: DeserializeOwned>(&self, digest: &str, kind: &str) -> Result<ContentResponse<T>, ClientError> {
        self.get(&["images", digest, "content", kind], &NoQuery {})
    }

    /// `GET /images/{digest}/metadata`: the metadata types available.
    pub fn metadata_types(&self, digest: &str) -> Result<Vec<String>, ClientError> {
        self.get(&["images", digest, "metadata"], &NoQuery {})
    }

    /// `GET /images/{digest}/metadata/{type}`.
    pub fn metadata(&self, digest: &str, kind: &str) -> Result<MetadataResponse, ClientError> {
        self.get(&["images", digest, "metadata", kind], &NoQuery {})
    }

    /// `GET /images/{digest}/check`.
    pub fn check(&self, digest: &str, query: &PolicyCheckQuery) -> Result<Vec<PolicyCheckResult>, ClientError> {
        self.get(&["images", digest, "check"], query)
    }

    // ---- analysis archive --------------------------------------------------

    /// `GET /archives`: images, tags, bytes and rules in the archive.
    pub fn archive_summary(&self) -> Result<ArchiveSummary, ClientError> {
        self.get(&["archives"], &NoQuery {})
    }

    /// `GET /archives/images`.
    pub fn list_archived(&self) -> Result<Vec<ArchivedAnalysis>, ClientError> {
        self.get(&["archives", "images"], &NoQuery {})
    }

    /// `GET /archives/images/{digest}`.
    pub fn get_archived(&self, digest: &str) -> Result<ArchivedAnalysis, ClientError> {
        self.get(&["archives", "images", digest], &NoQuery {})
    }

    /// `POST /archives/images`: one result per digest (`archived` or `error`).
    pub fn archive_images(&self, digests: &[String]) -> Result<Vec<AnalysisArchiveAddResult>, ClientError> {
        self.json(Method::POST, &["archives", "images"], &NoQuery {}, Some(digests))
    }

    /// `DELETE /archives/images/{digest}`: the record, now `deleted`.
    pub fn delete_archived(&self, digest: &str, force: bool) -> Result<ArchivedAnalysis, ClientError> {
        let query = DeleteArchivedImageQuery { force: force.then_some(true) };
        self.json(Method::DELETE, &["archives", "images", digest], &query, None::<&()>)
    }

    /// `POST /images` with `source.archive`: restores a deleted image from the archive.
    pub fn restore_archived(&self, digest: &str) -> Result<Vec<AnchoreImage>, ClientError> {
        let request = ImageAnalysisRequest {
            source: Some(ImageSource {
                archive: Some(AnalysisArchiveSource { digest: digest.to_owned() }),
                ..ImageSource::default()
            }),
            ..ImageAnalysisRequest::default()
        };
        self.json(Method::POST, &["images"], &NoQuery {}, Some(&request))
    }

    /// `GET /archives/rules`: the account's rules and, with `include_global`, the global ones.
    pub fn list_archive_rules(&self, include_global: bool) -> Result<Vec<AnalysisArchiveTransitionRule>, ClientError> {
        self.get(&["archives", "rules"], &ArchiveRulesQuery { system_global: Some(include_global) })
    }

    /// `POST /archives/rules`.
    pub fn add_archive_rule(
        &self,
        rule: &AnalysisArchiveTransitionRule,
    ) -> Result<AnalysisArchiveTransitionRule, ClientError> {
        self.json(Method::POST, &["archives", "rules"], &NoQuery {}, Some(rule))
    }

    /// `GET /archives/rules/{id}`.
    pub fn get_archive_rule(&self, id: &str) -> Result<AnalysisArchiveTransitionRule, ClientError> {
        self.get(&["archives", "rules", id], &NoQuery {})
    }

    /// `DELETE /archives/rules/{id}`.
    pub fn delete_archive_rule(&self, id: &str) -> Result<(), ClientError> {
        self.discard(Method::DELETE, &["archives", "rules", id], &NoQuery {})
    }

    /// `GET /archives/rules/{id}/preview`: what the rule would transition now.
    pub fn preview_archive_rule(&self, id: &str) -> Result<ArchiveRulePreview, ClientError> {
        self.get(&["archives", "rules", id, "preview"], &NoQuery {})
    }

    // ---- policies ----------------------------------------------------------

    /// `POST /policies` with a bundle document.
    pub fn add_policy(&self, bundle: &serde_json::Value) -> Result<PolicyBundleRecord, ClientError> {
        self.json(Method::POST, &["policies"], &NoQuery {}, Some(bundle))
    }

    /// `GET /policies`.
    pub fn list_policies(&self, detail: bool) -> Result<Vec<PolicyBundleRecord>, ClientError> {
        self.get(&["policies"], &PolicyQuery { detail: Some(detail), active: None })
    }

    /// `GET /policies/{id}`.
    pub fn get_policy(&self, id: &str, detail: bool) -> Result<Vec<PolicyBundleRecord>, ClientError> {
        self.get(&["policies", id], &PolicyQuery { detail: Some(detail), active: None })
    }

    /// `PUT /policies/{id}` (activation is a PUT of the record with `active`).
    pub fn update_policy(&self, id: &str, record: &PolicyBundleRecord) -> Result<Vec<PolicyBundleRecord>, ClientError> {
        self.json(Method::PUT, &["policies", id], &NoQuery {}, Some(record))
    }

    /// `DELETE /policies/{id}`.
    pub fn delete_policy(&self, id: &str) -> Result<(), ClientError> {
        self.discard(Method::DELETE, &["policies", id], &NoQuery {})
    }

    // ---- subscriptions and repositories ------------------------------------

    /// `GET /subscriptions`.
    pub fn list_subscriptions(&self, query: &SubscriptionQuery) -> Result<Vec<Subscription>, ClientError> {
        self.get(&["subscriptions"], query)
    }

    /// `POST /subscriptions`.
    pub fn add_subscription(&self, request: &SubscriptionRequest) -> Result<Vec<Subscription>, ClientError> {
        self.json(Method::POST, &["subscriptions"], &NoQuery {}, Some(request))
    }

    /// `PUT /subscriptions/{id}`.
    pub fn update_subscription(&self, id: &str, update: &SubscriptionUpdate) -> Result<Vec<Subscription>, ClientError> {
        self.json(Method::PUT, &["subscriptions", id], &NoQuery {}, Some(update))
    }

    /// `DELETE /subscriptions/{id}`.
    pub fn delete_subscription(&self, id: &str) -> Result<(), ClientError> {
        self.discard(Method::DELETE, &["subscriptions", id], &NoQuery {})
    }

    /// `POST /repositories`: watch a repository (returns its `repo_update` subscription).
    pub fn add_repository(&self, query: &RepositoryQuery) -> Result<Vec<Subscription>, ClientError> {
        self.json(Method::POST, &["repositories"], query, None::<&()>)
    }

    // ---- registries --------------------------------------------------------

    /// `GET /registries`.
    pub fn list_registries(&self) -> Result<Vec<RegistryConfiguration>, ClientError> {
        self.get(&["registries"], &NoQuery {})
    }

    /// `GET /registries/{registry}`.
    pub fn get_registry(&self, registry: &str) -> Result<Vec<RegistryConfiguration>, ClientError> {
        self.get(&["registries", registry], &NoQuery {})
    }

    /// `POST /registries`.
    pub fn add_registry(
        &self,
        request: &RegistryConfigurationRequest,
        validate: bool,
    ) -> Result<Vec<RegistryConfiguration>, ClientError> {
        self.json(Method::POST, &["registries"], &RegistryQuery { validate: Some(validate) }, Some(request))
    }

    /// `PUT /registries/{registry}`.
    pub fn update_registry(
        &self,
        request: &RegistryConfigurationRequest,
        validate: bool,
    ) -> Result<Vec<RegistryConfiguration>, ClientError> {
        let query = RegistryQuery { validate: Some(validate) };
        self.json(Method::PUT, &["registries", &request.registry], &query, Some(request))
    }

    /// `DELETE /registries/{registry}`.
    pub fn delete_registry(&self, registry: &str) -> Result<(), ClientError> {
        self.discard(Method::DELETE, &["registries", registry], &NoQuery {})
    }

    // ---- system ------------------------------------------------------------

    /// `GET /system`.
    pub fn system_status(&self) -> Result<SystemStatus, ClientError> {
        self.get(&["system"], &NoQuery {})
    }

    /// `GET /system/feeds`.
    pub fn list_feeds(&self) -> Result<Vec<FeedMetadata>, ClientError> {
        self.get(&["system", "feeds"], &NoQuery {})
    }

    /// `POST /system/feeds?sync=true`: sync now and wait for the result.
    pub fn sync_feeds(&self, flush: bool) -> Result<Vec<FeedSyncResult>, ClientError> {
        let query = FeedSyncQuery { flush: Some(flush), sync: Some(true) };
        self.json(Method::POST, &["system", "feeds"], &query, None::<&()>)
    }

    // ---- events ------------------------------------------------------------

    /// `GET /events`: one page.
    pub fn list_events(&self, query: &EventsQuery) -> Result<EventsList, ClientError> {
        self.get(&["events"], query)
    }

    /// `GET /events/{id}`.
    pub fn get_event(&self, id: &str) -> Result<EventResponse, ClientError> {
        self.get(&["events", id], &NoQuery {})
    }

    /// `DELETE /events`: the ids of the deleted events.
    pub fn delete_events(&self, query: &EventsQuery) -> Result<Vec<String>, ClientError> {
        self.json(Method::DELETE, &["events"], query, None::<&()>)
    }

    /// `DELETE /events/{id}`.
    pub fn delete_event(&self, id: &str) -> Result<(), ClientError> {
        self.discard(Method::DELETE, &["events", id], &NoQuery {})
    }

    // ---- accounts and users ------------------------------------------------

    /// `GET /account`: the caller's account.
    pub fn my_account(&self) -> Result<Account, ClientError> {
        self.get(&["account"], &NoQuery {})
    }

    /// `GET /user`: the caller.
    pub fn me(&self) -> Result<User, ClientError> {
        self.get(&["user"], &NoQuery {})
    }

    /// `GET /accounts`.
    pub fn list_accounts(&self) -> Result<Vec<Account>, ClientError> {
        self.get(&["accounts"], &NoQuery {})
    }

    /// `POST /accounts`.
    pub fn add_account(&self, request: &AccountCreationRequest) -> Result<Account, ClientError> {
        self.json(Method::POST, &["accounts"], &NoQuery {}, Some(request))
    }

    /// `GET /accounts/{name}`.
    pub fn get_account(&self, name: &str) -> Result<Account, ClientError> {
        self.get(&["accounts", name], &NoQuery {})
    }

    /// `DELETE /accounts/{name}` (the account must be disabled).
    pub fn delete_account(&self, name: &str) -> Result<(), ClientError> {
        self.discard(Method::DELETE, &["accounts", name], &NoQuery {})
    }

    /// `PUT /accounts/{name}/state`.
    pub fn set_account_state(&self, name: &str, state: AccountState) -> Result<AccountStatus, ClientError> {
        self.json(Method::PUT, &["accounts", name, "state"], &NoQuery {}, Some(&AccountStatus { state }))
    }

    /// `GET /accounts/{name}/users`.
    pub fn list_users(&self, account: &str) -> Result<Vec<User>, ClientError> {
        self.get(&["accounts", account, "users"], &NoQuery {})
    }

    /// `POST /accounts/{name}/users`.
    pub fn add_user(&self, account: &str, request: &UserCreationRequest) -> Result<User, ClientError> {
        self.json(Method::POST, &["accounts", account, "users"], &NoQuery {}, Some(request))
    }

    /// `GET /accounts/{name}/users/{user}`.
    pub fn get_user(&self, account: &str, user: &str) -> Result<User, ClientError> {
        self.get(&["accounts", account, "users", user], &NoQuery {})
    }

    /// `DELETE /accounts/{name}/users/{user}`.
    pub fn delete_user(&self, account: &str, user: &str) -> Result<(), ClientError> {
        self.discard(Method::DELETE, &["accounts", account, "users", user], &NoQuery {})
    }

    /// `POST /accounts/{name}/users/{user}/credentials`: sets the password.
    pub fn set_password(&self, account: &str, user: &str, password: &str) -> Result<User, ClientError> {
        let credential = AccessCredential::password(password);
        self.json(Method::POST, &["accounts", account, "users", user, "credentials"], &NoQuery {}, Some(&credential))
    }
}

/// The error body of a failed request: Anchore's JSON when the server sent
/// it, otherwise the text (a proxy's HTML page, a bare message) as `message`.
fn error_body(status: reqwest::StatusCode, text: &str) -> ApiErrorResponse {
    let fallback = || {
        let message = match text.trim() {
            "" if status == reqwest::StatusCode::UNAUTHORIZED => {
                "Unauthorized - please check your username/password".to_owned()
            }
            "" => status.canonical_reason().unwrap_or("no message").to_owned(),
            body => excerpt(body),
        };
        ApiErrorResponse::new(status.as_u16(), "http_error", message)
    };
    match serde_json::from_str::<ApiErrorResponse>(text) {
        Ok(mut body) if !body.message.is_empty() => {
            if body.code == 0 {
                body.code = status.as_u16();
            }
            if body.httpcode == 0 {
                body.httpcode = status.as_u16();
            }
            body
        }
        _ => fallback(),
    }
}

/// At most 300 characters of a body, for error messages.
fn excerpt(text: &str) -> String {
    const MAX: usize = 300;
    let text = text.trim();
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}
