//! The catalog schema, as migrations recorded in `service_migrations`.
//!
//! One list for both engines; a step differs per dialect only where the
//! engines do (auto-increment keys). Times are RFC 3339 UTC text for display
//! plus, where rows are compared or ordered by time, epoch microseconds.
//! New steps are appended, never edited: databases in the field have run
//! the old ones.

use portcullis_sql::Migration;

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
