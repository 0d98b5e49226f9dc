//! `/var/lib/dpkg/status` and the distroless `/var/lib/dpkg/status.d/*` files.

use super::DpkgError;
use super::deb822::{self, Stanza};

/// One package paragraph of a dpkg status database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgEntry {
    pub name: String,
    /// The full version, epoch included (`1:2.4.47-2`).
    pub version: String,
    pub architecture: Option<String>,
    /// The `Source` package; the binary name when the field is absent.
    pub source_name: String,
    /// The version in `Source: name (version)`; the binary version when the
    /// field gives none, which is what dpkg's `${source:Version}` reports.
    pub source_version: String,
    pub maintainer: Option<String>,
    /// `Installed-Size`, which dpkg records in KiB.
    pub installed_size_kib: Option<u64>,
    /// The raw `Status` field (`install ok installed`); `None` in status.d
    /// files, which carry no Status.
    pub status: Option<String>,
    /// Whether the package's files are on disk and configured; see [`is_installed`].
    pub installed: bool,
    /// Configuration files from the `Conffiles` field, with their md5.
    pub conffiles: Vec<Conffile>,
}

/// A line of the `Conffiles` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conffile {
    /// Absolute path.
    pub path: String,
    /// Lower-case hex md5 of the file as shipped; `None` when dpkg wrote the
    /// `newconffile` placeholder (an unfinished install).
    pub md5: Option<String>,
    /// The package no longer ships it; the file may linger from an older version.
    pub obsolete: bool,
}

/// A paragraph left out of [`parse_status_detailed`]'s entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedStanza {
    /// 1-based line of the paragraph's first field.
    pub line: usize,
    pub name: Option<String>,
    pub version: Option<String>,
    pub reason: &'static str,
}

/// Everything read from one status file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusReport {
    /// Every package paragraph, installed or not, in file order.
    pub entries: Vec<DpkgEntry>,
    pub skipped: Vec<SkippedStanza>,
    /// Lines that fit no deb822 rule and were ignored.
    pub malformed_lines: usize,
}

/// Parses a dpkg status file; see [`parse_status_detailed`]. Skipped
/// paragraphs and malformed lines are logged, not returned.
pub fn parse_status(bytes: &[u8]) -> Result<Vec<DpkgEntry>, DpkgError> {
    let report = parse_status_detailed(bytes)?;
    for skipped in &report.skipped {
        tracing::warn!(line = skipped.line, name = ?skipped.name, reason = skipped.reason, "dpkg status paragraph skipped");
    }
    if report.malformed_lines > 0 {
        tracing::warn!(count = report.malformed_lines, "malformed lines ignored in dpkg status file");
    }
    Ok(report.entries)
}

/// Parses a dpkg status file, or one file of a distroless `status.d`.
///
/// Non-UTF-8 bytes are replaced with U+FFFD rather than rejected: package
/// names and versions are ASCII by Debian policy, and the Latin-1
/// maintainer names of old databases are no reason to lose the packages.
/// A paragraph without `Package` or `Version` cannot be identified and is
/// reported in [`StatusReport::skipped`]. The whole file is rejected only
/// when it holds NUL bytes or not a single `Field: value` line, i.e. when
/// it is not a status file at all.
pub fn parse_status_detailed(bytes: &[u8]) -> Result<StatusReport, DpkgError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DpkgError::Binary { offset });
    }
    let text = String::from_utf8_lossy(bytes);
    let doc = deb822::parse(&text);
    if doc.has_content && doc.stanzas.is_empty() {
        return Err(DpkgError::NoFields { malformed_lines: doc.malformed_lines });
    }
    let mut report = StatusReport { malformed_lines: doc.malformed_lines, ..StatusReport::default() };
    for stanza in &doc.stanzas {
        match entry_from_stanza(stanza) {
            Ok(entry) => report.entries.push(entry),
            Err(reason) => report.skipped.push(SkippedStanza {
                line: stanza.line,
                name: non_empty(stanza.get("Package")),
                version: non_empty(stanza.get("Version")),
                reason,
            }),
        }
    }
    Ok(report)
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn entry_from_stanza(stanza: &Stanza) -> Result<DpkgEntry, &'static str> {
    let name = non_empty(stanza.get("Package")).ok_or("no Package field")?;
    let version = non_empty(stanza.get("Version")).ok_or("no Version field")?;
    let (source_name, source_version) = match stanza.get("Source").map(parse_source) {
        Some((source, Some(source_version))) => (source, source_version),
        Some((source, None)) => (source, version.clone()),
        None => (name.clone(), version.clone()),
    };
    let status = non_empty(stanza.get("Status"));
    Ok(DpkgEntry {
        installed: status.as_deref().is_none_or(is_installed),
        architecture: non_empty(stanza.get("Architecture")),
        maintainer: non_empty(stanza.get("Maintainer")),
        installed_size_kib: stanza.get("Installed-Size").and_then(|s| s.trim().parse().ok()),
        conffiles: stanza.get("Conffiles").map(parse_conffiles).unwrap_or_default(),
        status,
        source_name,
        source_version,
        name,
        version,
    })
}

/// Splits `name (version)`; an empty or malformed version part is dropped.
fn parse_source(field: &str) -> (String, Option<String>) {
    let field = field.trim();
    match field.split_once('(') {
        Some((name, rest)) => {
            let version = rest.trim_end().strip_suffix(')').unwrap_or(rest).trim();
            (name.trim().to_owned(), Some(version.to_owned()).filter(|v| !v.is_empty()))
        }
        None => (field.to_owned(), None),
    }
}

/// Whether a `Status` value means the package's files are installed.
///
/// The third word is dpkg's package state. Besides `installed`, the two
/// trigger states are fully unpacked and configured packages waiting on
/// another package's trigger (dpkg-query abbreviates them `iW`/`it`).
/// `half-installed` also *ends with* "installed" but means an interrupted
/// unpack, so the word is compared, not the suffix.
pub fn is_installed(status: &str) -> bool {
    matches!(status.split_whitespace().nth(2), Some("installed" | "triggers-awaited" | "triggers-pending"))
}

/// Parses the `Conffiles` field: ` /path md5 [obsolete|remove-on-upgrade]`.
fn parse_conffiles(field: &str) -> Vec<Conffile> {
    field
        .lines()
        .filter_map(|line| {
            let mut line = line.trim();
            let mut obsolete = false;
            loop {
                if let Some(rest) = line.strip_suffix(" obsolete") {
                    obsolete = true;
                    line = rest.trim_end();
                } else if let Some(rest) = line.strip_suffix(" remove-on-upgrade") {
                    line = rest.trim_end();
                } else {
                    break;
                }
            }
            // Split at the last space: the hash never contains one, a path may.
            let (path, hash) = line.rsplit_once(' ')?;
            let path = path.trim();
            if !path.starts_with('/') {
                return None;
            }
            let md5 = is_md5(hash).then(|| hash.to_ascii_lowercase());
            Some(Conffile { path: path.to_owned(), md5, obsolete })
        })
        .collect()
}

pub(crate) fn is_md5(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_forms() {
        assert_eq!(parse_source("util-linux"), ("util-linux".to_owned(), None));
        assert_eq!(
            parse_source("gcc-8 (8-20180414-1ubuntu2)"),
            ("gcc-8".to_owned(), Some("8-20180414-1ubuntu2".to_owned()))
        );
        assert_eq!(parse_source(" xz-utils  ( 5.1-2 ) "), ("xz-utils".to_owned(), Some("5.1-2".to_owned())));
        assert_eq!(parse_source("broken (1.0"), ("broken".to_owned(), Some("1.0".to_owned())));
        assert_eq!(parse_source("empty ()"), ("empty".to_owned(), None));
    }

    #[test]
    fn installed_states() {
        assert!(is_installed("install ok installed"));
        assert!(is_installed("hold ok installed"));
        assert!(is_installed("install ok triggers-pending"));
        assert!(!is_installed("install reinstreq half-installed"));
        assert!(!is_installed("deinstall ok config-files"));
        assert!(!is_installed("installed"));
        assert!(!is_installed(""));
    }

    #[test]
    fn conffiles() {
        let parsed = parse_conffiles(
            "/etc/a 0123456789abcdef0123456789ABCDEF\n/etc/with space b5fc7a4f1ba2d4f8bcf6a7d0a1b2c3d4 obsolete\n\
             /etc/new newconffile\n/etc/x 0123456789abcdef0123456789abcdef remove-on-upgrade\nrelative 1\nnohash",
        );
        assert_eq!(
            parsed,
            vec![
                Conffile {
                    path: "/etc/a".into(),
                    md5: Some("0123456789abcdef0123456789abcdef".into()),
                    obsolete: false
                },
                Conffile {
                    path: "/etc/with space".into(),
                    md5: Some("b5fc7a4f1ba2d4f8bcf6a7d0a1b2c3d4".into()),
                    obsolete: true
                },
                Conffile { path: "/etc/new".into(), md5: None, obsolete: false },
                Conffile {
                    path: "/etc/x".into(),
                    md5: Some("0123456789abcdef0123456789abcdef".into()),
                    obsolete: false
                },
            ]
        );
    }
}
