//! Service configuration: defaults, then a YAML file, then `PORTCULLIS_*`
//! environment variables, then command-line flags (applied by the binary).
//!
//! Every key is documented in `docs/service.md`; `config/portcullis.example.yaml`
//! is a complete example.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use portcullis_objstore::ObjectStoreConfig;
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;

/// What one process does. All three by default; several processes sharing
/// one database and object store can split them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Serves the HTTP API.
    Api,
    /// Takes images from the work queue and analyses them.
    Analyzer,
    /// Runs the periodic watchers: feed sync, tag and repository watches,
    /// re-evaluation, notifications, archive rules.
    Scheduler,
}

impl Role {
    pub fn parse_list(text: &str) -> Result<Vec<Role>, ServiceError> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| match name {
                "api" => Ok(Role::Api),
                "analyzer" => Ok(Role::Analyzer),
                "scheduler" => Ok(Role::Scheduler),
                other => Err(ServiceError::Config(format!(
                    "unknown role {other:?}: the roles are api, analyzer and scheduler"
                ))),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// Address the API listens on.
    pub listen: SocketAddr,
    /// Where the embedded databases and local files live.
    pub data_dir: PathBuf,
    /// The catalog database: a SQLite path or a `postgres://` URL. Defaults to
    /// `<data_dir>/portcullis.sqlite`.
    pub database_url: Option<String>,
    /// The vulnerability database. Defaults to the catalog database when that
    /// is PostgreSQL, else `<data_dir>/vulndb.sqlite` (a separate SQLite file,
    /// so a feed sync never holds the catalog's write lock).
    pub vulndb_url: Option<String>,
    pub roles: Vec<Role>,
    /// Documents (manifests, SBOMs, reports, evaluations, bundles).
    pub object_store: ObjectStoreConfig,
    /// Key encrypting registry credentials at rest: 64 hex digits. When unset
    /// the key is read from (or created in) `<data_dir>/secret.key`; processes
    /// sharing a database must share the key.
    pub secret_key: Option<String>,
    pub analyzer: AnalyzerConfig,
    pub feeds: FeedsConfig,
    pub cycle_timers: CycleTimers,
    pub webhooks: WebhooksConfig,
    pub event_log: EventLogConfig,
    /// Largest request body accepted, in bytes.
    pub max_request_bytes: usize,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8228)),
            data_dir: dirs::data_local_dir().unwrap_or_else(|| PathBuf::from(".")).join("portcullis").join("service"),
            database_url: None,
            vulndb_url: None,
            roles: vec![Role::Api, Role::Analyzer, Role::Scheduler],
            object_store: ObjectStoreConfig::default(),
            secret_key: None,
            analyzer: AnalyzerConfig::default(),
            feeds: FeedsConfig::default(),
            cycle_timers: CycleTimers::default(),
            webhooks: WebhooksConfig::default(),
            event_log: EventLogConfig::default(),
            max_request_bytes: 16 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyzerConfig {
    /// Images analysed at once by this process.
    pub workers: usize,
    /// How long a claimed image stays with its analyser without a heartbeat
    /// before another analyser may take it over.
    pub lease_seconds: u64,
    /// Attempts before an image is marked `analysis_failed`.
    pub max_attempts: u32,
    /// How often an idle analyser looks at the queue.
    pub poll_millis: u64,
    /// Registries (`host[:port]`) always reached over plain HTTP, in addition
    /// to those added with `registry_verify: false`.
    pub insecure_registries: Vec<String>,
    /// Largest compressed image accepted, in MiB (0 = no limit).
    pub max_compressed_image_size_mb: u64,
    /// Local cache of verified layer blobs (`<data_dir>/layer-cache`), so
    /// images sharing base layers download them once; in MiB, 0 = off.
    pub layer_cache_mb: u64,
    /// Local cache of per-layer analysis results (`<data_dir>/layer-results`),
    /// so a layer already analysed is neither downloaded nor read again; in
    /// MiB, 0 = off.
    pub layer_results_cache_mb: u64,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        Self {
            workers: 1,
            lease_seconds: 120,
            max_attempts: 3,
            poll_millis: 500,
            insecure_registries: Vec::new(),
            max_compressed_image_size_mb: 0,
            layer_cache_mb: 2048,
            layer_results_cache_mb: 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedsConfig {
    /// Keep vulnerability data fresh on a schedule.
    pub enabled: bool,
    /// Sources as for `portcullis feeds sync --from` (directories, zips,
    /// files, URLs). Empty = the upstream defaults; `PORTCULLIS_FEEDS_FROM`
    /// overrides.
    pub sources: Vec<String>,
    /// Download cache for URL sources; defaults to `<data_dir>/feeds-cache`.
    pub cache_dir: Option<PathBuf>,
}

impl Default for FeedsConfig {
    fn default() -> Self {
        Self { enabled: true, sources: Vec::new(), cache_dir: None }
    }
}

/// Seconds between runs of each watcher (Anchore's `cycle_timers`); 0 disables one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CycleTimers {
    pub feed_sync: u64,
    pub image_watcher: u64,
    pub repo_watcher: u64,
    pub policy_eval: u64,
    pub vulnerability_scan: u64,
    pub notifications: u64,
    /// Archive rules (`crate::archive::rules`): archive, then delete, per account.
    pub archive_tasks: u64,
}

impl Default for CycleTimers {
    fn default() -> Self {
        Self {
            feed_sync: 21600,
            image_watcher: 3600,
            repo_watcher: 60,
            policy_eval: 3600,
            vulnerability_scan: 14400,
            notifications: 30,
            archive_tasks: 43200,
        }
    }
}

/// Anchore's `webhooks:` section.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhooksConfig {
    pub webhook_user: Option<String>,
    pub webhook_pass: Option<String>,
    pub ssl_verify: Option<bool>,
    /// Seconds a notification keeps being retried before it is dead-lettered.
    pub notification_retry_timeout: Option<u64>,
    /// Shared secret; when set every delivery carries
    /// `X-Portcullis-Signature: sha256=<HMAC of the body>`.
    pub hmac_secret: Option<String>,
    /// Per notification type (`general`, `tag_update`, `analysis_update`,
    /// `policy_eval`, `vuln_update`, `event_log`).
    #[serde(flatten)]
    pub endpoints: std::collections::BTreeMap<String, WebhookEndpoint>,
}

/// Anchore's `event_log` section: forwarding recorded events as `event_log`
/// notifications.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventLogConfig {
    pub notification: EventLogNotification,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventLogNotification {
    /// Send every recorded event to the `event_log` webhook (else `general`).
    pub enabled: bool,
    /// Only events of these levels (`info`, `error`); every level when empty.
    pub level: Vec<String>,
}

impl EventLogNotification {
    /// Whether an event of `level` is forwarded.
    pub fn forwards(&self, level: &str) -> bool {
        self.enabled && (self.level.is_empty() || self.level.iter().any(|wanted| wanted.eq_ignore_ascii_case(level)))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookEndpoint {
    pub url: String,
    pub webhook_user: Option<String>,
    pub webhook_pass: Option<String>,
    pub ssl_verify: Option<bool>,
}

impl ServiceConfig {
    /// Defaults, overlaid with the YAML `file` when given, then with the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ServiceError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ServiceError::Config(format!("cannot read {}: {e}", path.display())))?;
                serde_norway::from_str::<ServiceConfig>(&text)
                    .map_err(|e| ServiceError::Config(format!("{}: {e}", path.display())))?
            }
            None => ServiceConfig::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Overrides from `PORTCULLIS_*` variables (read through `var` so tests
    /// need not touch the process environment).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ServiceError> {
        if let Some(listen) = var("PORTCULLIS_LISTEN") {
            self.listen =
                listen.parse().map_err(|e| ServiceError::Config(format!("PORTCULLIS_LISTEN={listen:?}: {e}")))?;
        }
        if let Some(dir) = var("PORTCULLIS_DATA_DIR") {
            self.data_dir = PathBuf::from(dir);
        }
        if let Some(url) = var("PORTCULLIS_DATABASE_URL") {
            self.database_url = Some(url);
        }
        if let Some(url) = var("PORTCULLIS_VULNDB_URL") {
            self.vulndb_url = Some(url);
        }
        if let Some(roles) = var("PORTCULLIS_ROLES") {
            self.roles = Role::parse_list(&roles)?;
        }
        if let Some(key) = var("PORTCULLIS_SECRET_KEY") {
            self.secret_key = Some(key);
        }
        if let Some(from) = var("PORTCULLIS_FEEDS_FROM") {
            self.feeds.sources = from.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        }
        if let Some(workers) = var("PORTCULLIS_ANALYZER_WORKERS") {
            self.analyzer.workers = workers
                .parse()
                .map_err(|e| ServiceError::Config(format!("PORTCULLIS_ANALYZER_WORKERS={workers:?}: {e}")))?;
        }
        Ok(())
    }

    /// The catalog database location.
    pub fn database_location(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| self.data_dir.join("portcullis.sqlite").display().to_string())
    }

    /// The vulnerability database location.
    pub fn vulndb_location(&self) -> String {
        if let Some(url) = &self.vulndb_url {
            return url.clone();
        }
        match &self.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => url.clone(),
            _ => self.data_dir.join("vulndb.sqlite").display().to_string(),
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn validate(&self) -> Result<(), ServiceError> {
        if self.roles.is_empty() {
            return Err(ServiceError::Config("no roles: give at least one of api, analyzer, scheduler".into()));
        }
        if self.analyzer.workers == 0 && self.has_role(Role::Analyzer) {
            return Err(ServiceError::Config("analyzer.workers must be at least 1 for the analyzer role".into()));
        }
        if self.analyzer.lease_seconds < 10 {
            return Err(ServiceError::Config("analyzer.lease_seconds must be at least 10".into()));
        }
        if self.analyzer.max_attempts == 0 {
            return Err(ServiceError::Config("analyzer.max_attempts must be at least 1".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_log_levels() {
        let mut wanted = EventLogNotification::default();
        assert!(!wanted.forwards("error"), "off unless enabled");
        wanted.enabled = true;
        assert!(wanted.forwards("info") && wanted.forwards("error"), "every level when none is listed");
        wanted.level = vec!["ERROR".into()];
        assert!(wanted.forwards("error") && !wanted.forwards("info"));
        let config: ServiceConfig =
            serde_norway::from_str("event_log:\n  notification:\n    enabled: true\n    level: [error]\n").unwrap();
        assert!(config.event_log.notification.forwards("error") && !config.event_log.notification.forwards("info"));
        assert!(serde_norway::from_str::<ServiceConfig>("event_log:\n  notify: true\n").is_err());
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut config: ServiceConfig =
            serde_norway::from_str("listen: 127.0.0.1:9000\nanalyzer:\n  workers: 3\n").unwrap();
        assert_eq!(config.analyzer.workers, 3);
        config
            .apply_env(|name| match name {
                "PORTCULLIS_LISTEN" => Some("127.0.0.1:9100".into()),
                "PORTCULLIS_ROLES" => Some("api,analyzer".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.roles, vec![Role::Api, Role::Analyzer]);
    }

    #[test]
    fn layer_results_cache_is_on_by_default_and_can_be_turned_off() {
        assert_eq!(ServiceConfig::default().analyzer.layer_results_cache_mb, 1024);
        let config: ServiceConfig = serde_norway::from_str("analyzer:\n  layer_results_cache_mb: 0\n").unwrap();
        assert_eq!(config.analyzer.layer_results_cache_mb, 0);
        assert_eq!(config.analyzer.layer_cache_mb, 2048, "the blob cache is a separate setting");
    }

    #[test]
    fn unknown_keys_and_roles_are_errors() {
        let err = serde_norway::from_str::<ServiceConfig>("lisen: 1").unwrap_err();
        assert!(err.to_string().contains("unknown field `lisen`"), "{err}");
        let err = Role::parse_list("api,indexer").unwrap_err();
        assert!(err.to_string().contains("unknown role \"indexer\""), "{err}");
    }

    #[test]
    fn vulnerability_data_shares_postgres_but_not_sqlite() {
        let mut config = ServiceConfig { data_dir: PathBuf::from("/d"), ..Default::default() };
        assert_eq!(config.database_location(), "/d/portcullis.sqlite");
        assert_eq!(config.vulndb_location(), "/d/vulndb.sqlite");
        config.database_url = Some("postgres://h/db".into());
        assert_eq!(config.vulndb_location(), "postgres://h/db");
    }
}
