use std::path::PathBuf;

/// Why a document operation, a start-up check or a migration failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectStoreError {
    #[error("invalid object storage configuration: {0}")]
    Config(String),
    #[error("unknown storage driver {name:?}: the drivers are db, localfs, s3 and swift")]
    UnknownDriver { name: String },
    #[error("cannot read the configuration file {path}: {source}")]
    ReadConfig { path: PathBuf, source: std::io::Error },
    #[error("invalid document name: {0}")]
    InvalidName(String),
    #[error(transparent)]
    Sql(#[from] portcullis_sql::SqlError),
    #[error("object storage database: cannot {operation}: {source}")]
    Database { operation: &'static str, source: sqlx::Error },
    #[error("{driver} driver: cannot {operation} {path}: {source}")]
    Io { driver: &'static str, operation: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{driver} driver: {endpoint} refused the credentials: {detail}")]
    Unauthorized { driver: &'static str, endpoint: String, detail: String },
    #[error("{driver} driver: cannot reach {endpoint}: {detail}")]
    Unreachable { driver: &'static str, endpoint: String, detail: String },
    #[error("{driver} driver: the {what} {name:?} does not exist at {endpoint} (set {option}: true to create it)")]
    MissingContainer { driver: &'static str, what: &'static str, name: String, endpoint: String, option: &'static str },
    #[error("{driver} driver: cannot {operation} {location}: {detail}")]
    Backend { driver: &'static str, operation: &'static str, location: String, detail: String },
    #[error("start-up check of the {driver} driver (put, get and delete of a probe object) failed: {source}")]
    Probe { driver: &'static str, source: Box<ObjectStoreError> },
    #[error("document {account}/{bucket}/{key} is stored at {url}, but no configured driver reads {scheme}:// URLs")]
    DriverUnavailable { account: String, bucket: String, key: String, url: String, scheme: String },
    #[error("document {account}/{bucket}/{key} is missing from {url}")]
    Missing { account: String, bucket: String, key: String, url: String },
    #[error(
        "document {account}/{bucket}/{key} failed its integrity check: expected {expected}, stored bytes hash to {actual}"
    )]
    Integrity { account: String, bucket: String, key: String, expected: String, actual: String },
    #[error("document {account}/{bucket}/{key} cannot be decompressed: {source}")]
    Corrupt { account: String, bucket: String, key: String, source: std::io::Error },
    #[error("document {account}/{bucket}/{key} is not the JSON asked for: {source}")]
    Json { account: String, bucket: String, key: String, source: serde_json::Error },
}

pub type Result<T, E = ObjectStoreError> = std::result::Result<T, E>;

/// `map_err` helper for database calls.
pub(crate) fn db_error(operation: &'static str) -> impl Fn(sqlx::Error) -> ObjectStoreError {
    move |source| ObjectStoreError::Database { operation, source }
}

/// An error and its causes on one line: object_store and reqwest put the
/// useful part (the server's answer, the refused connection) in the causes.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
