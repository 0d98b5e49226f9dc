//! Where registry credentials come from: explicit options first, then the
//! Docker config file (`auths`, `credHelpers`, `credsStore`).
//!
//! Our own reader rather than the `docker_credential` crate: that crate only
//! reads `$DOCKER_CONFIG`/`~/.docker` (its reader entry point exists, but it
//! does not say *which* entry or helper answered, which our "credentials from
//! X were rejected" messages need), it turns a helper's "credentials not
//! found" into a hard error, and its errors drop the file path and JSON
//! position. The format is small enough to read here.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

use super::reference::{DOCKER_HUB, DOCKER_HUB_AUTH_KEY};
use crate::error::{ImageError, Result};
use crate::source::RegistryOptions;

/// Credentials found for a registry, and where they were found.
#[derive(Clone)]
pub struct Found {
    pub username: String,
    pub password: String,
    pub source: String,
}

impl fmt::Debug for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Found")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("source", &self.source)
            .finish()
    }
}

/// What was looked at, for "no credentials found" messages.
pub fn searched_description(options: &RegistryOptions) -> String {
    match config_path(options) {
        Some(path) => format!("explicit credentials, {}", path.display()),
        None => "explicit credentials (no docker config: neither DOCKER_CONFIG nor HOME is set)".to_owned(),
    }
}

/// Finds credentials for `registry` (as named in the reference: `docker.io`,
/// `host:port`). `Ok(None)` means "go anonymous".
pub fn resolve(registry: &str, options: &RegistryOptions) -> Result<Option<Found>> {
    if let Some(explicit) = &options.credentials {
        return Ok(Some(Found {
            username: explicit.username.clone(),
            password: explicit.password.clone(),
            source: "explicit credentials (flags/environment)".to_owned(),
        }));
    }
    let Some(path) = config_path(options) else { return Ok(None) };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        // Only a file the user named must exist; the default one is optional.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && options.docker_config.is_none() => return Ok(None),
        Err(e) => return Err(ImageError::Credentials(format!("cannot read docker config {}: {e}", path.display()))),
    };
    let config: DockerConfig = serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::Credentials(format!("invalid docker config {}: {e}", path.display())))?;
    lookup(&config, &path, registry, &run_helper)
}

fn config_path(options: &RegistryOptions) -> Option<PathBuf> {
    if let Some(path) = &options.docker_config {
        return Some(path.clone());
    }
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|home| PathBuf::from(home).join(".docker/config.json"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The key docker itself uses for a registry: Docker Hub's historical URL,
/// otherwise the bare `host[:port]`.
fn canonical_key(registry: &str) -> &str {
    if registry == DOCKER_HUB { DOCKER_HUB_AUTH_KEY } else { registry }
}

/// Reduces a config key (`https://host/v1/`, `http://host`, `host`) to the
/// registry it names, the way docker's `ConvertToHostname` does.
fn key_registry(key: &str) -> String {
    let stripped = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    let host = stripped.split('/').next().unwrap_or(stripped).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => DOCKER_HUB.to_owned(),
        _ => host,
    }
}

/// The entry of `map` for `registry`: the canonical key if present, else the
/// first key (in sorted order, for determinism) naming the same registry.
fn find_entry<'a, V>(map: &'a BTreeMap<String, V>, registry: &str) -> Option<(&'a str, &'a V)> {
    if let Some((key, value)) = map.get_key_value(canonical_key(registry)) {
        return Some((key, value));
    }
    map.iter().find(|(key, _)| key_registry(key) == registry).map(|(k, v)| (k.as_str(), v))
}

type HelperFn<'a> = dyn Fn(&str, &str) -> Result<Option<(String, String)>> + 'a;

/// docker's order is credHelpers, then auths, then credsStore (an `auths`
/// entry written next to a store is normally empty and skipped here).
fn lookup(config: &DockerConfig, path: &Path, registry: &str, helper: &HelperFn<'_>) -> Result<Option<Found>> {
    let server = canonical_key(registry);
    if let Some((key, name)) = find_entry(&config.cred_helpers, registry).filter(|(_, name)| !name.is_empty()) {
        return Ok(helper(name, server)?.map(|(username, password)| Found {
            username,
            password,
            source: format!("credential helper docker-credential-{name} (credHelpers.{key:?} in {})", path.display()),
        }));
    }
    if let Some((key, entry)) = find_entry(&config.auths, registry) {
        let source = format!("auths.{key:?} in {}", path.display());
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let (username, password) = decode_auth(auth)
                .map_err(|reason| ImageError::Credentials(format!("{source}: the auth field {reason}")))?;
            return Ok(Some(Found { username, password, source }));
        }
        if let (Some(username), Some(password)) = (&entry.username, &entry.password) {
            return Ok(Some(Found { username: username.clone(), password: password.clone(), source }));
        }
        if entry.identitytoken.is_some() {
            tracing::warn!("{source} holds an identity token; OAuth2 identity tokens are not supported, ignoring it");
        }
    }
    if let Some(name) = config.creds_store.as_deref().filter(|n| !n.is_empty()) {
        return Ok(helper(name, server)?.map(|(username, password)| Found {
            username,
            password,
            source: format!("credential store docker-credential-{name} (credsStore in {})", path.display()),
        }));
    }
    Ok(None)
}

fn decode_auth(auth: &str) -> std::result::Result<(String, String), String> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let decoded = engine.decode(auth.trim()).map_err(|_| "is not valid base64".to_owned())?;
    let text = String::from_utf8(decoded).map_err(|_| "does not decode to UTF-8 text".to_owned())?;
    let (user, password) = text.split_once(':').ok_or_else(|| "does not decode to user:password".to_owned())?;
    Ok((user.to_owned(), password.to_owned()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    #[serde(default)]
    username: String,
    #[serde(default)]
    secret: String,
}

/// Runs `docker-credential-NAME get` with the server on stdin. A helper that
/// has nothing for the server (exit 1, "credentials not found") means "no
/// credentials", as in docker.
fn run_helper(name: &str, server: &str) -> Result<Option<(String, String)>> {
    let program = format!("docker-credential-{name}");
    let fail = |what: String| ImageError::Credentials(format!("{program} get ({server}): {what}"));
    tracing::debug!(helper = %program, server, "asking credential helper");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => fail("not found on PATH (named in the docker config)".to_owned()),
            _ => fail(format!("cannot run it: {e}")),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is reported by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let output = child.wait_with_output().map_err(|e| fail(format!("cannot read its answer: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        if stdout.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail = if stderr.trim().is_empty() { stdout.trim() } else { stderr.trim() };
        let detail: String = detail.chars().take(300).collect();
        return Err(fail(format!("{} ({detail})", output.status)));
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|e| fail(format!("unexpected answer (not JSON with Username/Secret): {e}")))?;
    if answer.username == "<token>" {
        tracing::warn!("{program} returned an identity token for {server}; these are not supported, going anonymous");
        return Ok(None);
    }
    if answer.username.is_empty() && answer.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some((answer.username, answer.secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        serde_json::from_str(json).unwrap()
    }

    fn no_helper(_: &str, _: &str) -> Result<Option<(String, String)>> {
        panic!("no helper expected")
    }

    fn find(json: &str, registry: &str) -> Option<Found> {
        lookup(&config(json), Path::new("/cfg.json"), registry, &no_helper).unwrap()
    }

    #[test]
    fn auths_by_canonical_and_normalised_key() {
        // "lab:labpass", unpadded on purpose
        let json = r#"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOmh1YnBhc3M="},
                                 "127.0.0.1:5000":{"auth":"bGFiOmxhYnBhc3M"},
                                 "https://ghcr.io":{"username":"u","password":"p"},
                                 "http://insecure.local:8080/v2/":{"auth":"YTpi"}}}"#;
        let hub = find(json, "docker.io").unwrap();
        assert_eq!((hub.username.as_str(), hub.password.as_str()), ("hub", "hubpass"));
        assert!(
            hub.source.contains("https://index.docker.io/v1/") && hub.source.contains("/cfg.json"),
            "{}",
            hub.source
        );
        let lab = find(json, "127.0.0.1:5000").unwrap();
        assert_eq!((lab.username.as_str(), lab.password.as_str()), ("lab", "labpass"));
        assert_eq!(find(json, "ghcr.io").unwrap().username, "u");
        assert_eq!(find(json, "insecure.local:8080").unwrap().password, "b");
        assert!(find(json, "quay.io").is_none());
        assert!(!format!("{hub:?}").contains("hubpass"));
    }

    #[test]
    fn docker_hub_aliases() {
        let found = find(r#"{"auths":{"registry-1.docker.io":{"auth":"YTpi"}}}"#, "docker.io").unwrap();
        assert_eq!(found.username, "a");
    }

    #[test]
    fn helpers_then_auths_then_store() {
        let calls = std::cell::RefCell::new(Vec::new());
        let helper = |name: &str, server: &str| -> Result<Option<(String, String)>> {
            calls.borrow_mut().push(format!("{name}:{server}"));
            Ok((name != "empty").then(|| (format!("{name}-user"), "s".to_owned())))
        };
        let json = r#"{"credHelpers":{"gcr.io":"gcloud","docker.io":"hubhelper"},"credsStore":"desktop",
                       "auths":{"own.io":{"auth":"YTpi"},"https://index.docker.io/v1/":{}}}"#;
        let path = Path::new("/c.json");
        let got = lookup(&config(json), path, "gcr.io", &helper).unwrap().unwrap();
        assert_eq!(got.username, "gcloud-user");
        assert!(got.source.contains("docker-credential-gcloud"));
        // Docker Hub's helper is asked with docker's server URL.
        assert_eq!(lookup(&config(json), path, "docker.io", &helper).unwrap().unwrap().username, "hubhelper-user");
        assert_eq!(lookup(&config(json), path, "own.io", &helper).unwrap().unwrap().username, "a");
        let store = lookup(&config(json), path, "quay.io", &helper).unwrap().unwrap();
        assert!(store.source.contains("credsStore"), "{}", store.source);
        assert_eq!(*calls.borrow(), vec!["gcloud:gcr.io", "hubhelper:https://index.docker.io/v1/", "desktop:quay.io"]);
        let empty_store = r#"{"credsStore":"empty"}"#;
        assert!(lookup(&config(empty_store), path, "quay.io", &helper).unwrap().is_none());
    }

    #[test]
    fn bad_auth_field() {
        let err =
            lookup(&config(r#"{"auths":{"h.io":{"auth":"!!"}}}"#), Path::new("/c"), "h.io", &no_helper).unwrap_err();
        assert!(err.to_string().contains("not valid base64"), "{err}");
        let err = lookup(&config(r#"{"auths":{"h.io":{"auth":"bm9jb2xvbg=="}}}"#), Path::new("/c"), "h.io", &no_helper)
            .unwrap_err();
        assert!(err.to_string().contains("user:password"), "{err}");
    }

    #[test]
    fn explicit_wins_and_missing_files() {
        let options = RegistryOptions {
            credentials: Some(crate::source::Credentials { username: "x".into(), password: "y".into() }),
            docker_config: Some("/nonexistent/config.json".into()),
            ..Default::default()
        };
        assert_eq!(resolve("h.io", &options).unwrap().unwrap().username, "x");
        let named_missing =
            RegistryOptions { docker_config: Some("/nonexistent/config.json".into()), ..Default::default() };
        assert!(matches!(resolve("h.io", &named_missing), Err(ImageError::Credentials(_))));
    }
}
