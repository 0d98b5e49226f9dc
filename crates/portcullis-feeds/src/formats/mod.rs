//! One module per upstream format. Each exposes
//! `recognizes(path, head) -> bool` (a cheap test on the file's path inside
//! its source and its first [`SNIFF_BYTES`] bytes) and
//! `parse(path, bytes) -> Result<Vec<Record>, FormatError>`.
//! [`FORMATS`] lists them in the order the sync tries them.

use portcullis_vulndb::Record;
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

/// How many leading bytes of a file `recognizes` gets to see.
pub const SNIFF_BYTES: usize = 8192;

/// One upstream format.
pub struct Format {
    /// Stable name, shown in `feeds list` (e.g. `osv`, `debian-tracker`).
    pub name: &'static str,
    pub recognizes: fn(&str, &[u8]) -> bool,
    pub parse: fn(&str, &[u8]) -> Result<Vec<Record>, FormatError>,
}

/// Every format, most specific first: the generic OSV check comes after the
/// formats whose JSON or YAML could otherwise look like it.
pub const FORMATS: &[Format] = &[
    Format { name: "kev", recognizes: kev::recognizes, parse: kev::parse },
    Format { name: "epss", recognizes: epss::recognizes, parse: epss::parse },
    Format { name: "debian-tracker", recognizes: debian::recognizes, parse: debian::parse },
    Format { name: "alpine-secdb", recognizes: alpine::recognizes, parse: alpine::parse },
    Format { name: "nvd", recognizes: nvd::recognizes, parse: nvd::parse },
    Format { name: "cve5", recognizes: cve5::recognizes, parse: cve5::parse },
    Format { name: "nodejs-security-wg", recognizes: nodejs_wg::recognizes, parse: nodejs_wg::parse },
    Format { name: "rubysec", recognizes: rubysec::recognizes, parse: rubysec::parse },
    Format { name: "friendsofphp", recognizes: packagist::recognizes, parse: packagist::parse },
    Format { name: "rustsec", recognizes: rustsec::recognizes, parse: rustsec::parse },
    Format { name: "osv", recognizes: osv::recognizes, parse: osv::parse },
];

/// The format of a file, from its path and head; `None` for files that are no
/// feed data (licences, READMEs, manifests, schemas).
pub fn recognize(path: &str, head: &[u8]) -> Option<&'static Format> {
    FORMATS.iter().find(|format| (format.recognizes)(path, head))
}

/// The advisory a one-record test input parses to.
#[cfg(test)]
pub(crate) fn single_advisory(records: Vec<Record>) -> portcullis_vulndb::Advisory {
    match records.into_iter().next_back() {
        Some(Record::Advisory(advisory)) => *advisory,
        other => panic!("not an advisory: {other:?}"),
    }
}
