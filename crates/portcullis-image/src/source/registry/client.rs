//! A blocking distribution-API client: GET with the registry's auth dance
//! (anonymous → Basic or bearer token → retry once), a per-repository
//! `Authorization` cache shared by every thread, and errors that say which
//! host failed and why.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};

use super::auth::{self, Challenge};
use super::credentials::{self, Found};
use super::reference::api_host;
use crate::error::{ImageError, Result};
use crate::source::RegistryOptions;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// reqwest's blocking timeout applies to each wait (headers, then each body
/// read), not to the whole transfer, so it bounds a stalled connection while
/// letting multi-gigabyte blobs stream for as long as they keep moving.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Token and error bodies are small; anything bigger is not one.
const SMALL_BODY_LIMIT: u64 = 1 << 20;
const MAX_REDIRECTS: usize = 10;

/// A GET that returned a document.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: Option<String>,
    pub digest_header: Option<String>,
}

pub struct Client {
    http: reqwest::blocking::Client,
    /// The registry as named in references (`docker.io`, `host:port`).
    registry: String,
    /// `https://registry-1.docker.io`, `http://127.0.0.1:5000`.
    base_url: String,
    insecure: bool,
    options: RegistryOptions,
    state: Mutex<AuthState>,
}

#[derive(Default)]
struct AuthState {
    /// Resolved on the first challenge, then reused: running a credential
    /// helper once per request would be slow and may prompt.
    credentials: Option<Option<Found>>,
    /// `Authorization` header per repository.
    authorization: HashMap<String, Authorization>,
}

#[derive(Clone)]
struct Authorization {
    header: HeaderValue,
    /// Who we claimed to be, for error messages (never the secret).
    sent: Option<Sent>,
}

#[derive(Clone)]
struct Sent {
    username: String,
    source: String,
}

impl Client {
    pub fn new(registry: &str, options: &RegistryOptions) -> Result<Client> {
        let insecure = options
            .insecure_registries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry.strip_prefix("http://").or_else(|| entry.strip_prefix("https://")).unwrap_or(entry)
            })
            .any(|entry| entry.trim_end_matches('/').eq_ignore_ascii_case(registry));
        let scheme = if insecure { "http" } else { "https" };
        let redirect = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if attempt.previous().last().is_some_and(|p| p.scheme() == "https")
                && attempt.url().scheme() != "https"
            {
                attempt.error("refusing a redirect from HTTPS to plain HTTP")
            } else {
                // reqwest drops Authorization when the host, port or scheme changes,
                // so registry tokens never reach blob storage hosts.
                attempt.follow()
            }
        });
        let http = reqwest::blocking::Client::builder()
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(STALL_TIMEOUT)
            .redirect(redirect)
            .build()
            .map_err(|e| ImageError::Registry {
                registry: registry.to_owned(),
                message: format!("cannot set up HTTP client: {e}"),
            })?;
        Ok(Client {
            http,
            registry: registry.to_owned(),
            base_url: format!("{scheme}://{}", api_host(registry)),
            insecure,
            options: options.clone(),
            state: Mutex::new(AuthState::default()),
        })
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// GETs a manifest by tag or digest, bounded by `limit` bytes.
    pub fn manifest(
        &self,
        repository: &str,
        reference: &str,
        accept: &str,
        limit: u64,
        shown_as: &str,
    ) -> Result<Fetched> {
        let url = format!("{}/v2/{repository}/manifests/{reference}", self.base_url);
        let response = self.get(repository, &url, Some(accept))?;
        let response = self.expect_ok(response, &url, || format!("not found: {shown_as}"))?;
        let media_type = header_text(&response, CONTENT_TYPE.as_str())
            .map(|m| m.split(';').next().unwrap_or_default().trim().to_owned())
            .filter(|m| !m.is_empty());
        let digest_header = header_text(&response, "docker-content-digest");
        let bytes = read_limited(response, &format!("manifest {shown_as}"), limit)?;
        Ok(Fetched { bytes, media_type, digest_header })
    }

    /// GETs a small blob (a config), bounded by `limit` bytes.
    pub fn small_blob(&self, repository: &str, digest: &str, what: &str, limit: u64) -> Result<Vec<u8>> {
        let response = self.blob(repository, digest, what)?;
        read_limited(response, what, limit)
    }

    /// `GET /v2/` with the auth dance, as `docker login` checks credentials:
    /// a token is requested without a repository scope.
    pub fn ping(&self) -> Result<()> {
        let url = format!("{}/v2/", self.base_url);
        let response = self.get("", &url, None)?;
        self.expect_ok(response, &url, || format!("GET {url}: not found (not a registry?)"))?;
        Ok(())
    }

    /// Every tag of `repository` (`GET /v2/<name>/tags/list`, following the
    /// `Link: <...>; rel="next"` pages registries may answer with).
    pub fn tags(&self, repository: &str) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut tags = Vec::new();
        let mut url = format!("{}/v2/{repository}/tags/list", self.base_url);
        // A registry that keeps answering with a next page must not hold us forever.
        for _page in 0..1000 {
            let response = self.get(repository, &url, Some("application/json"))?;
            let response = self.expect_ok(response, &url, || format!("repository {repository} not found"))?;
            let next = header_text(&response, "link").and_then(|link| next_page(&link));
            let bytes = read_limited(response, &format!("tag list of {repository}"), 64 * SMALL_BODY_LIMIT)?;
            let page: TagList = serde_json::from_slice(&bytes)
                .map_err(|e| self.registry_error(format!("GET {url}: the tag list is not valid JSON: {e}")))?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(path) if path.starts_with('/') => url = format!("{}{path}", self.base_url),
                Some(other) => {
                    return Err(self.registry_error(format!("GET {url}: unexpected next-page link {other:?}")));
                }
                None => return Ok(tags),
            }
        }
        Err(self.registry_error(format!("the tag list of {repository} has more than 1000 pages")))
    }

    /// GETs a blob as a stream (redirects to storage hosts are followed).
    pub fn blob(&self, repository: &str, digest: &str, what: &str) -> Result<Response> {
        let url = format!("{}/v2/{repository}/blobs/{digest}", self.base_url);
        let response = self.get(repository, &url, None)?;
        self.expect_ok(response, &url, || format!("{what} not found in {repository} (blob {digest})"))
    }

    /// A GET with authentication: the cached `Authorization` for the
    /// repository if any; on 401, authenticate per the challenge and retry once.
    fn get(&self, repository: &str, url: &str, accept: Option<&str>) -> Result<Response> {
        let mut authorization = self.lock().authorization.get(repository).cloned();
        let mut retried = false;
        loop {
            let response = self.send(url, accept, authorization.as_ref().map(|a| &a.header))?;
            match response.status() {
                StatusCode::UNAUTHORIZED if !retried => {
                    let challenge = all_headers(&response, WWW_AUTHENTICATE.as_str());
                    let fresh = self.authenticate(repository, &challenge)?;
                    self.lock().authorization.insert(repository.to_owned(), fresh.clone());
                    authorization = Some(fresh);
                    retried = true;
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    let status = response.status();
                    let said = error_summary(response);
                    return Err(self.rejected(repository, authorization.as_ref(), status, &said));
                }
                _ => return Ok(response),
            }
        }
    }

    fn send(&self, url: &str, accept: Option<&str>, authorization: Option<&HeaderValue>) -> Result<Response> {
        let mut request = self.http.get(url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        tracing::debug!(url, authenticated = authorization.is_some(), "GET");
        let response = request.send().map_err(|e| self.transport_error(&self.registry, &e, true))?;
        tracing::debug!(url, status = response.status().as_u16(), "response");
        Ok(response)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AuthState> {
        // A panic elsewhere while holding the lock leaves the cache usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn credentials(&self) -> Result<Option<Found>> {
        if let Some(resolved) = &self.lock().credentials {
            return Ok(resolved.clone());
        }
        let resolved = credentials::resolve(&self.registry, &self.options)?;
        match &resolved {
            Some(found) => {
                tracing::debug!(registry = %self.registry, user = %found.username, source = %found.source, "using credentials")
            }
            None => tracing::debug!(registry = %self.registry, "no credentials found; anonymous"),
        }
        self.lock().credentials = Some(resolved.clone());
        Ok(resolved)
    }

    fn authenticate(&self, repository: &str, challenge_header: &str) -> Result<Authorization> {
        let challenges = auth::parse_challenges(challenge_header);
        let bearer = challenges.iter().find_map(|c| match c {
            Challenge::Bearer { realm, service, .. } => Some((realm, service)),
            _ => None,
        });
        let credentials = self.credentials()?;
        let sent = credentials.as_ref().map(|c| Sent { username: c.username.clone(), source: c.source.clone() });
        if let Some((realm, service)) = bearer {
            let token = self.fetch_token(repository, realm, service.as_deref(), credentials.as_ref())?;
            let header = sensitive(&format!("Bearer {token}")).map_err(|_| {
                self.registry_error(format!("token server {realm} returned a token that is not a valid header value"))
            })?;
            return Ok(Authorization { header, sent });
        }
        if challenges.iter().any(|c| matches!(c, Challenge::Basic { .. })) {
            let Some(found) = credentials else {
                return Err(ImageError::Unauthorized {
                    registry: self.registry.clone(),
                    repository: repository.to_owned(),
                    message: format!(
                        "the registry requires credentials (HTTP Basic) and none were found (looked in: {})",
                        credentials::searched_description(&self.options)
                    ),
                });
            };
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", found.username, found.password));
            let header = sensitive(&format!("Basic {encoded}"))
                .map_err(|_| self.registry_error("credentials contain characters that cannot be sent".to_owned()))?;
            return Ok(Authorization { header, sent });
        }
        Err(self.registry_error(if challenge_header.is_empty() {
            "answered 401 without a WWW-Authenticate challenge".to_owned()
        } else {
            format!("answered 401 with an authentication scheme we do not support: {challenge_header}")
        }))
    }

    /// Docker's token flow: GET realm?service=..&scope=repository:NAME:pull,
    /// with Basic credentials when we have them.
    fn fetch_token(
        &self,
        repository: &str,
        realm: &str,
        service: Option<&str>,
        credentials: Option<&Found>,
    ) -> Result<String> {
        let mut url = reqwest::Url::parse(realm)
            .map_err(|e| self.registry_error(format!("token realm {realm:?} is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(self.registry_error(format!("token realm {realm:?} is not an HTTP(S) URL")));
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            if !repository.is_empty() {
                query.append_pair("scope", &format!("repository:{repository}:pull"));
            }
        }
        let realm_host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let mut request = self.http.get(url.clone());
        if let Some(found) = credentials {
            request = request.basic_auth(&found.username, Some(&found.password));
        }
        tracing::debug!(url = %url, authenticated = credentials.is_some(), "GET token");
        let response = request.send().map_err(|e| self.transport_error(&realm_host, &e, false))?;
        let status = response.status();
        tracing::debug!(url = %url, status = status.as_u16(), "token response");
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let said = said_by("token server", response);
            let who = match credentials {
                Some(found) => format!("credentials for user {:?} from {} were rejected", found.username, found.source),
                None => format!(
                    "anonymous access was refused and no credentials were found (looked in: {})",
                    credentials::searched_description(&self.options)
                ),
            };
            return Err(ImageError::Unauthorized {
                registry: self.registry.clone(),
                repository: repository.to_owned(),
                message: format!("token server {realm_host} answered {status}: {who}{said}"),
            });
        }
        if !status.is_success() {
            let said = said_by("token server", response);
            return Err(self.registry_error(format!("token server {realm_host} answered {status}{said}")));
        }
        let body = read_limited(response, &format!("token from {realm_host}"), SMALL_BODY_LIMIT)?;
        auth::parse_token_response(&body).map_err(|message| self.registry_error(message))
    }

    fn rejected(
        &self,
        repository: &str,
        authorization: Option<&Authorization>,
        status: StatusCode,
        said: &str,
    ) -> ImageError {
        let who = match authorization.and_then(|a| a.sent.as_ref()) {
            Some(sent) => format!("credentials for user {:?} from {} were rejected", sent.username, sent.source),
            // Registries (Docker Hub among them) answer this way for repositories
            // that do not exist too, so do not claim it is only about credentials.
            None => format!(
                "anonymous access was refused: the repository may not exist, or it needs credentials \
                 and none were found (looked in: {})",
                credentials::searched_description(&self.options)
            ),
        };
        let what = if status == StatusCode::FORBIDDEN { "access denied (403)" } else { "401 after authenticating" };
        ImageError::Unauthorized {
            registry: self.registry.clone(),
            repository: repository.to_owned(),
            message: format!("{what}: {who}{said}"),
        }
    }

    fn expect_ok(&self, response: Response, url: &str, not_found: impl FnOnce() -> String) -> Result<Response> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let said = error_summary(response);
        let message = match status {
            StatusCode::NOT_FOUND => format!("{}{said}", not_found()),
            StatusCode::TOO_MANY_REQUESTS => format!("rate limited (429) on GET {url}{said}"),
            StatusCode::BAD_REQUEST if self.insecure && said.contains("HTTP request to an HTTPS server") => format!(
                "GET {url}: the registry speaks HTTPS; remove {} from the insecure registries{said}",
                self.registry
            ),
            _ => format!("GET {url}: HTTP {status}{said}"),
        };
        Err(self.registry_error(message))
    }

    fn registry_error(&self, message: String) -> ImageError {
        ImageError::Registry { registry: self.registry.clone(), message }
    }

    /// Turns a failed request into `Unreachable` (cannot connect: refused,
    /// DNS, TLS, timeout) or `Registry` (the connection worked but the
    /// exchange did not), with the whole cause chain.
    /// `is_registry` is false for the token realm, whose scheme comes from
    /// the challenge: `--insecure-registry` cannot change it.
    fn transport_error(&self, host: &str, error: &reqwest::Error, is_registry: bool) -> ImageError {
        let chain = error_chain(error);
        let lower = chain.to_ascii_lowercase();
        // TLS failures surface as connect errors too (they happen in the connector).
        if !(error.is_connect() || error.is_timeout()) {
            return ImageError::Registry { registry: host.to_owned(), message: format!("request failed: {chain}") };
        }
        let mut message = if lower.contains("connection refused") {
            format!("connection refused ({chain})")
        } else if lower.contains("dns error")
            || lower.contains("failed to lookup address")
            || lower.contains("name or service not known")
        {
            format!("DNS lookup failed ({chain})")
        } else if error.is_timeout() {
            format!("timed out ({chain})")
        } else if lower.contains("tls") || lower.contains("certificate") || lower.contains("handshake") {
            format!("TLS failed ({chain})")
        } else {
            chain.clone()
        };
        let plain_http_server = lower.contains("invalidcontenttype")
            || lower.contains("corrupt message")
            || lower.contains("wrong version number")
            || lower.contains("http request to an https server");
        if is_registry && !self.insecure && plain_http_server {
            message.push_str(&format!(
                "; the server does not seem to speak HTTPS: if {host} is a plain-HTTP registry, allow plain HTTP for it (`--insecure-registry {host}`; in the service, `registry_verify: false` or `analyzer.insecure_registries`)"
            ));
        }
        ImageError::Unreachable { registry: host.to_owned(), message }
    }
}

fn sensitive(value: &str) -> std::result::Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut header = HeaderValue::from_str(value)?;
    header.set_sensitive(true);
    Ok(header)
}

fn header_text(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_owned())
}

/// The target of the `rel="next"` entry of a `Link` header (RFC 8288).
fn next_page(link: &str) -> Option<String> {
    link.split(',').find_map(|entry| {
        let (target, params) = entry.split_once(';')?;
        let is_next = params.split(';').any(|p| p.trim().replace(' ', "").eq_ignore_ascii_case("rel=\"next\""));
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_owned())
    })
}

fn all_headers(response: &Response, name: &str) -> String {
    response.headers().get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(", ")
}

/// reqwest's own Display stops at the first layer; the cause (refused, DNS,
/// rustls' alert) is further down.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// Reads a whole response, refusing more than `limit` bytes (checked against
/// Content-Length first, then while reading, since the header can lie).
pub fn read_limited(response: Response, what: &str, limit: u64) -> Result<Vec<u8>> {
    if let Some(length) = response.content_length()
        && length > limit
    {
        return Err(ImageError::DocumentTooLarge { what: what.to_owned(), size: length, limit });
    }
    let mut bytes = Vec::new();
    response
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ImageError::io(format!("reading {what}"), e))?;
    if bytes.len() as u64 > limit {
        return Err(ImageError::DocumentTooLarge { what: what.to_owned(), size: bytes.len() as u64, limit });
    }
    Ok(bytes)
}

/// `"; registry says: CODE: message"` from a distribution error body, or
/// the start of a non-JSON body; empty when there is nothing useful.
fn error_summary(response: Response) -> String {
    said_by("registry", response)
}

fn said_by(who: &str, response: Response) -> String {
    let Ok(body) = read_limited(response, "error body", SMALL_BODY_LIMIT) else { return String::new() };
    let summary = summarize_error_body(&body);
    if summary.is_empty() { summary } else { format!("; {who} says: {summary}") }
}

fn summarize_error_body(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(parsed) = serde_json::from_slice::<Errors>(body)
        && !parsed.errors.is_empty()
    {
        return parsed
            .errors
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (false, false) => format!("{}: {}", e.code, e.message),
                (false, true) => e.code.clone(),
                _ => e.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text = String::from_utf8_lossy(body);
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_list_next_page_links() {
        assert_eq!(
            next_page(r#"</v2/app/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/app/tags/list?n=2&last=b")
        );
        assert_eq!(
            next_page(r#"<https://x/a>; rel="prev", </v2/a/tags/list?last=z>; rel = "next""#).as_deref(),
            Some("/v2/a/tags/list?last=z")
        );
        assert_eq!(next_page(r#"</v2/a>; rel="prev""#), None);
        assert_eq!(next_page("garbage"), None);
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            summarize_error_body(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#
            ),
            "MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(
            summarize_error_body(b"Client sent an HTTP request to an HTTPS server.\n"),
            "Client sent an HTTP request to an HTTPS server."
        );
        assert_eq!(summarize_error_body(b""), "");
    }

    #[test]
    fn insecure_matching() {
        let options = |list: &[&str]| RegistryOptions {
            insecure_registries: list.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let client = Client::new("127.0.0.1:5000", &options(&["http://127.0.0.1:5000/"])).unwrap();
        assert_eq!(client.base_url, "http://127.0.0.1:5000");
        let client = Client::new("127.0.0.1:5000", &options(&["127.0.0.1:5001"])).unwrap();
        assert_eq!(client.base_url, "https://127.0.0.1:5000");
        let client = Client::new("docker.io", &options(&[])).unwrap();
        assert_eq!(client.base_url, "https://registry-1.docker.io");
    }
}
