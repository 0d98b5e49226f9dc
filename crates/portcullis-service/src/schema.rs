//! The catalog schema, as migrations recorded in `service_migrations`.
//!
//! One list for both engines; a step differs per dialect only where the
//! engines do (auto-increment keys). Times are RFC 3339 UTC text for display
//! plus, where rows are compared or ordered by time, epoch microseconds.
//! New steps are appended, never edited: databases in the field have run
//! the old ones.

use chrono::{DateTime, Utc};
use portcullis_sql::Migration;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::ServiceError;

/// Reads a time column written with `portcullis_sql::now_rfc3339()`.
pub fn stored_time(text: &str) -> Result<DateTime<Utc>, ServiceError> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| ServiceError::Other(format!("stored time {text:?} is not RFC 3339: {error}")))
}

/// Reads a count kept as BIGINT; one beyond `u32` reads as `u32::MAX`.
pub(crate) fn stored_count(row: &AnyRow, column: &str) -> Result<u32, ServiceError> {
    Ok(u32::try_from(row.try_get::<i64, _>(column)?).unwrap_or(u32::MAX))
}

/// Reads a JSON document kept as TEXT; `what` names it in the error.
pub(crate) fn stored_json<T: DeserializeOwned>(row: &AnyRow, column: &str, what: &str) -> Result<T, ServiceError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|source| ServiceError::Corrupt { what: what.to_owned(), source })
}

/// The queue table with the dialect's auto-increment key.
macro_rules! work_queue_table {
    ($key:literal) => {
        concat!(
            "CREATE TABLE work_queue (
    id ",
            $key,
            ",
    queue TEXT NOT NULL,
    account TEXT NOT NULL,
    item_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires BIGINT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX work_queue_claim ON work_queue (queue, state, id);
CREATE UNIQUE INDEX work_queue_pending ON work_queue (queue, item_key) WHERE state IN ('queued', 'leased')"
        )
    };
}

pub const LEDGER: &str = "service_migrations";

pub const MIGRATIONS: &[Migration] = &[
    Migration::portable("0001_accounts", ACCOUNTS),
    Migration::portable("0002_images", IMAGES),
    Migration {
        name: "0003_work_queue",
        sqlite: work_queue_table!("INTEGER PRIMARY KEY AUTOINCREMENT"),
        postgres: work_queue_table!("BIGSERIAL PRIMARY KEY"),
    },
    Migration::portable("0004_events", EVENTS),
    Migration::portable("0005_watchers", WATCHERS),
    Migration::portable("0006_images_registries_reports", IMAGES_REGISTRIES_REPORTS),
    Migration::portable("0007_subscriptions_notifications", SUBSCRIPTIONS_NOTIFICATIONS),
    Migration::portable("0010_policies", POLICIES),
    Migration::portable("0011_services_feed_settings", SERVICES_FEED_SETTINGS),
    Migration::portable("0012_analysis_archive", ANALYSIS_ARCHIVE),
];

const ACCOUNTS: &str = "
CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    email TEXT,
    account_type TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    password_hash TEXT,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
CREATE INDEX users_account ON users (account);
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at TEXT NOT NULL
)";

const IMAGES: &str = "
CREATE TABLE images (
    account TEXT NOT NULL,
    digest TEXT NOT NULL,
    parent_digest TEXT,
    image_id TEXT,
    analysis_status TEXT NOT NULL,
    image_status TEXT NOT NULL,
    annotations TEXT NOT NULL,
    dockerfile TEXT,
    pull_reference TEXT NOT NULL,
    arch TEXT,
    distro TEXT,
    distro_version TEXT,
    image_size BIGINT,
    layer_count BIGINT,
    failure TEXT,
    created_at TEXT NOT NULL,
    created_seq BIGINT NOT NULL,
    last_updated TEXT NOT NULL,
    analyzed_at TEXT,
    analyzed_seq BIGINT,
    record_version BIGINT NOT NULL,
    PRIMARY KEY (account, digest)
);
CREATE INDEX images_status ON images (analysis_status);
CREATE TABLE image_tags (
    account TEXT NOT NULL,
    digest TEXT NOT NULL,
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    tag_detected_at TEXT NOT NULL,
    detected_seq BIGINT NOT NULL,
    PRIMARY KEY (account, digest, registry, repository, tag)
);
CREATE INDEX image_tags_fulltag ON image_tags (account, registry, repository, tag)";

const EVENTS: &str = "
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    event_type TEXT NOT NULL,
    level TEXT NOT NULL,
    resource_type TEXT,
    resource_id TEXT,
    message TEXT NOT NULL,
    details TEXT NOT NULL,
    host_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_seq BIGINT NOT NULL
);
CREATE INDEX events_account ON events (account, created_seq)";

const WATCHERS: &str = "
CREATE TABLE watchers (
    name TEXT PRIMARY KEY,
    owner TEXT,
    lease_expires BIGINT NOT NULL,
    last_run_seq BIGINT NOT NULL,
    last_run_at TEXT,
    last_error TEXT
)";

/// Registry credentials (password encrypted by `crypto::Cipher`), per-image
/// package and vulnerability index rows for the `/query` routes, and the
/// vulnerability-data stamp each stored report was computed against.
const IMAGES_REGISTRIES_REPORTS: &str = "
CREATE TABLE registries (
    account TEXT NOT NULL,
    registry TEXT NOT NULL,
    registry_name TEXT,
    registry_user TEXT NOT NULL,
    registry_pass TEXT NOT NULL,
    registry_type TEXT NOT NULL,
    registry_verify BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (account, registry)
);
CREATE TABLE image_packages (
    account TEXT NOT NULL,
    digest TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    package_type TEXT NOT NULL
);
CREATE INDEX image_packages_name ON image_packages (account, name);
CREATE INDEX image_packages_digest ON image_packages (account, digest);
CREATE TABLE image_vulns (
    account TEXT NOT NULL,
    digest TEXT NOT NULL,
    vuln_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    severity TEXT NOT NULL,
    package_name TEXT NOT NULL,
    package_version TEXT NOT NULL,
    package_type TEXT NOT NULL,
    will_not_fix BIGINT NOT NULL
);
CREATE INDEX image_vulns_id ON image_vulns (account, vuln_id);
CREATE INDEX image_vulns_digest ON image_vulns (account, digest);
CREATE TABLE image_reports (
    account TEXT NOT NULL,
    digest TEXT NOT NULL,
    db_stamp TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (account, digest)
)";

/// Subscriptions (Anchore's, one row per account, type and key), the
/// webhook deliveries with their retry schedule (`next_attempt_seq`, epoch
/// micros) and the deadline after which they are dead-lettered, and the
/// vulnerability listing each `vuln_update` subscription last compared with.
const SUBSCRIPTIONS_NOTIFICATIONS: &str = "
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    subscription_type TEXT NOT NULL,
    subscription_key TEXT NOT NULL,
    subscription_value TEXT,
    active BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
CREATE UNIQUE INDEX subscriptions_type_key ON subscriptions (account, subscription_type, subscription_key);
CREATE INDEX subscriptions_active ON subscriptions (subscription_type, active);
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    notification_type TEXT NOT NULL,
    subscription_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_seq BIGINT NOT NULL,
    deadline_seq BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    last_url TEXT,
    created_at TEXT NOT NULL,
    created_seq BIGINT NOT NULL,
    last_updated TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX notifications_due ON notifications (state, next_attempt_seq);
CREATE INDEX notifications_account ON notifications (account, created_seq);
CREATE TABLE vuln_update_baselines (
    account TEXT NOT NULL,
    subscription_key TEXT NOT NULL,
    digest TEXT NOT NULL,
    vulnerabilities TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account, subscription_key)
)";

/// Policy bundle metadata (the bundle documents are in the `policy_bundles`
/// bucket, keyed by policy id) with at most one active bundle per account,
/// and the index of stored evaluations (documents in `policy_evaluations`,
/// keyed by `eval_id`).
const POLICIES: &str = "
CREATE TABLE policy_bundles (
    account TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    name TEXT,
    comment TEXT,
    active BIGINT NOT NULL,
    policy_source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_seq BIGINT NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (account, policy_id)
);
CREATE UNIQUE INDEX policy_bundles_one_active ON policy_bundles (account) WHERE active = 1;
CREATE TABLE policy_evaluations (
    eval_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    digest TEXT NOT NULL,
    tag TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    bundle_digest TEXT NOT NULL,
    final_action TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_seq BIGINT NOT NULL
);
CREATE INDEX policy_evaluations_image ON policy_evaluations (account, digest, tag, created_seq)";

/// The processes sharing this database, one row per (Anchore service name,
/// host id), refreshed by each process's heartbeat (`heartbeat_seq`, epoch
/// micros); and the feed and feed-group toggles (`feed_group` is empty for
/// a whole feed).
const SERVICES_FEED_SETTINGS: &str = "
CREATE TABLE services (
    servicename TEXT NOT NULL,
    host_id TEXT NOT NULL,
    roles TEXT NOT NULL,
    version TEXT NOT NULL,
    base_url TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    heartbeat_seq BIGINT NOT NULL,
    PRIMARY KEY (servicename, host_id)
);
CREATE TABLE feed_settings (
    feed TEXT NOT NULL,
    feed_group TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (feed, feed_group)
)";

/// The analysis archive: one row per archived image (its tarball is in the
/// `analysis_archive` bucket, keyed `<digest>.tar.gz`; `image_record` is the
/// API record it had when archived), the tags it had, and the archive rules
/// (Anchore's transition rule, selector and exclude flattened into columns).
const ANALYSIS_ARCHIVE: &str = "
CREATE TABLE archived_images (
    account TEXT NOT NULL,
    digest TEXT NOT NULL,
    status TEXT NOT NULL,
    archive_size_bytes BIGINT NOT NULL,
    image_record TEXT NOT NULL,
    analyzed_at TEXT,
    created_at TEXT NOT NULL,
    created_seq BIGINT NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (account, digest)
);
CREATE TABLE archived_image_tags (
    account TEXT NOT NULL,
    digest TEXT NOT NULL,
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    PRIMARY KEY (account, digest, registry, repository, tag)
);
CREATE TABLE archive_rules (
    rule_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    transition TEXT NOT NULL,
    system_global BIGINT NOT NULL,
    analysis_age_days BIGINT NOT NULL,
    tag_versions_newer BIGINT NOT NULL,
    count_all_tag_versions BIGINT NOT NULL,
    selector_registry TEXT NOT NULL,
    selector_repository TEXT NOT NULL,
    selector_tag TEXT NOT NULL,
    exclude_registry TEXT NOT NULL,
    exclude_repository TEXT NOT NULL,
    exclude_tag TEXT NOT NULL,
    exclude_expiration_days BIGINT NOT NULL,
    max_images_per_account BIGINT,
    created_at TEXT NOT NULL,
    created_seq BIGINT NOT NULL,
    last_updated TEXT NOT NULL
);
CREATE INDEX archive_rules_account ON archive_rules (account, created_seq);
CREATE INDEX archive_rules_global ON archive_rules (system_global)";
