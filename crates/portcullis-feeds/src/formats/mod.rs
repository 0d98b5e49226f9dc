//! One module per upstream format. Each exposes
//! `parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError>`.

use thiserror::Error;

pub mod alpine;
pub mod cve5;
pub mod debian;
pub mod epss;
pub mod kev;
pub mod nodejs_wg;
pub mod nvd;
pub mod osv;
pub mod packagist;
pub mod rubysec;
pub mod rustsec;

/// A feed file that could not be read. Always names the file.
#[derive(Debug, Error)]
pub enum FormatError {
    #[error("{path}: invalid JSON: {source}")]
    Json { path: String, source: serde_json::Error },
    #[error("{path}: invalid YAML: {source}")]
    Yaml { path: String, source: serde_norway::Error },
    #[error("{path}: invalid TOML: {source}")]
    Toml { path: String, source: toml::de::Error },
    #[error("{path}: invalid CSV: {source}")]
    Csv { path: String, source: csv::Error },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

impl FormatError {
    pub fn invalid(path: &str, reason: impl Into<String>) -> Self {
        FormatError::Invalid { path: path.to_owned(), reason: reason.into() }
    }
}
