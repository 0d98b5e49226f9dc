//! The apk database of Alpine, Wolfi and Chainguard images: `/lib/apk/db/installed`.
//!
//! The format is one `X:value` field per line with a blank line between
//! packages (apk-tools `database.c`). Files are nested: an `F:` line opens a
//! directory, the `R:` lines after it are files in it, and a `Z:` line
//! right after an `R:` is that file's checksum.

pub(crate) mod catalog;

use portcullis_sbom::{Distro, OwnedFile, Package, PackageType, SourcePackage};

use crate::distro::os_package_purl;

/// Path of the database inside an image.
pub const INSTALLED_DB: &str = "/lib/apk/db/installed";

/// Every path the apk cataloger reads, for the caller to extract.
pub const PATTERNS: &[&str] = &[INSTALLED_DB];
/// [`PATTERNS`] under the name the cataloger brief used.
pub const PATHS: &[&str] = PATTERNS;

/// One package of the installed database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApkEntry {
    /// `P:`
    pub name: String,
    /// `V:`, `version-rN`.
    pub version: String,
    /// `A:`
    pub arch: Option<String>,
    /// `o:`, the aports directory (source package) it was built from.
    pub origin: Option<String>,
    /// `L:`, as written: an SPDX expression, or space-separated names in
    /// older packages (`MIT BSD GPL2+`); see [`licenses`].
    pub license: Option<String>,
    /// `m:`
    pub maintainer: Option<String>,
    /// `c:`, the aports git commit.
    pub commit: Option<String>,
    /// `t:`, build time in seconds since the epoch.
    pub build_time: Option<i64>,
    /// `S:`, size of the .apk in bytes.
    pub size: Option<u64>,
    /// `I:`, installed size in bytes.
    pub installed_size: Option<u64>,
    /// `T:`
    pub description: Option<String>,
    /// `U:`
    pub url: Option<String>,
    /// `C:`, checksum of the package's control data (`Q1` + base64 sha1).
    pub checksum: Option<String>,
    /// `D:`, space-separated.
    pub depends: Vec<String>,
    /// `p:`, space-separated.
    pub provides: Vec<String>,
    /// `R:` files with their `Z:` checksums, in database order.
    pub files: Vec<OwnedFile>,
}

/// A paragraph left out of [`parse_installed_detailed`]'s entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    /// 1-based line of the paragraph's first field.
    pub line: usize,
    pub name: Option<String>,
    pub version: Option<String>,
    pub reason: &'static str,
}

/// Everything read from an installed database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstalledReport {
    pub entries: Vec<ApkEntry>,
    pub skipped: Vec<SkippedEntry>,
    /// Lines that were not `X:value` and were ignored.
    pub malformed_lines: usize,
}

/// Errors that make the whole database unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApkError {
    #[error("not an apk installed database: NUL byte at offset {offset}")]
    Binary { offset: usize },
    #[error("not an apk installed database: no `X:value` line ({malformed_lines} unparseable lines)")]
    NoFields { malformed_lines: usize },
}

/// Parses `/lib/apk/db/installed`; see [`parse_installed_detailed`].
/// Skipped paragraphs and malformed lines are logged, not returned.
pub fn parse_installed(bytes: &[u8]) -> Result<Vec<ApkEntry>, ApkError> {
    let report = parse_installed_detailed(bytes)?;
    for skipped in &report.skipped {
        tracing::warn!(line = skipped.line, name = ?skipped.name, reason = skipped.reason, "apk database entry skipped");
    }
    if report.malformed_lines > 0 {
        tracing::warn!(count = report.malformed_lines, "malformed lines ignored in apk database");
    }
    Ok(report.entries)
}

/// Parses `/lib/apk/db/installed`.
///
/// A paragraph without `P:` or `V:` cannot be identified and is reported
/// in [`InstalledReport::skipped`]. Non-UTF-8 bytes become U+FFFD (the
/// fields that identify a package are ASCII). The database is rejected only
/// when it holds NUL bytes or no `X:value` line at all. Unknown field
/// letters are ignored: apk-tools adds new ones over time.
pub fn parse_installed_detailed(bytes: &[u8]) -> Result<InstalledReport, ApkError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(ApkError::Binary { offset });
    }
    let text = String::from_utf8_lossy(bytes);
    let mut report = InstalledReport::default();
    let mut current = Builder::default();
    let mut has_content = false;
    let mut any_field = false;
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            current.finish(&mut report);
            continue;
        }
        has_content = true;
        let mut chars = line.chars();
        match (chars.next(), chars.next()) {
            (Some(key), Some(':')) if key.is_ascii_alphanumeric() => {
                any_field = true;
                current.field(key, chars.as_str(), index + 1);
            }
            _ => report.malformed_lines += 1,
        }
    }
    current.finish(&mut report);
    if has_content && !any_field {
        return Err(ApkError::NoFields { malformed_lines: report.malformed_lines });
    }
    Ok(report)
}

#[derive(Default)]
struct Builder {
    entry: ApkEntry,
    line: usize,
    started: bool,
    has_name: bool,
    has_version: bool,
    directory: String,
    /// Index in `entry.files` of the last `R:` while no other line type
    /// intervened but its `a:` attributes, so a `Z:` can only land on it.
    last_file: Option<usize>,
}

impl Builder {
    fn field(&mut self, key: char, value: &str, line: usize) {
        if !self.started {
            self.started = true;
            self.line = line;
        }
        let text = || Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        let e = &mut self.entry;
        match key {
            'P' => {
                e.name = value.trim().to_owned();
                self.has_name = !e.name.is_empty();
            }
            'V' => {
                e.version = value.trim().to_owned();
                self.has_version = !e.version.is_empty();
            }
            'A' => e.arch = text(),
            'o' => e.origin = text(),
            'L' => e.license = text(),
            'm' => e.maintainer = text(),
            'c' => e.commit = text(),
            't' => e.build_time = value.trim().parse().ok(),
            'S' => e.size = value.trim().parse().ok(),
            'I' => e.installed_size = value.trim().parse().ok(),
            'T' => e.description = text(),
            'U' => e.url = text(),
            'C' => e.checksum = text(),
            'D' => e.depends = value.split_whitespace().map(str::to_owned).collect(),
            'p' => e.provides = value.split_whitespace().map(str::to_owned).collect(),
            'F' => {
                self.directory = value.trim().trim_matches('/').to_owned();
                self.last_file = None;
            }
            'R' => {
                let name = value.trim_end_matches('\r');
                if name.is_empty() {
                    self.last_file = None;
                } else {
                    let path = if self.directory.is_empty() {
                        format!("/{name}")
                    } else {
                        format!("/{}/{name}", self.directory)
                    };
                    e.files.push(OwnedFile { path, digest: None });
                    self.last_file = Some(e.files.len() - 1);
                }
            }
            'Z' => {
                if let Some(file) = self.last_file.and_then(|i| e.files.get_mut(i)) {
                    file.digest = decode_checksum(value.trim());
                }
                self.last_file = None;
            }
            // File attributes (`a:uid:gid:mode[:xattr checksum]`) sit between
            // `R:` and `Z:` in some databases; they must not detach the two.
            'a' => {}
            _ => self.last_file = None,
        }
    }

    fn finish(&mut self, report: &mut InstalledReport) {
        if !self.started {
            return;
        }
        let done = std::mem::take(self);
        if done.has_name && done.has_version {
            report.entries.push(done.entry);
        } else {
            report.skipped.push(SkippedEntry {
                line: done.line,
                name: done.has_name.then(|| done.entry.name.clone()),
                version: done.has_version.then(|| done.entry.version.clone()),
                reason: if done.has_name { "no V: (version) line" } else { "no P: (name) line" },
            });
        }
    }
}

/// Converts an apk checksum to `algorithm:hex`: `Q1` then base64 is sha1,
/// `Q2` then base64 is sha256 (apk-tools 3), and 32 bare hex digits are the
/// md5 of apk-tools 1 databases. Anything else is dropped rather than guessed.
pub fn decode_checksum(text: &str) -> Option<String> {
    let (algorithm, expected_len, payload) = if let Some(b64) = text.strip_prefix("Q1") {
        ("sha1", 20, base64_decode(b64)?)
    } else if let Some(b64) = text.strip_prefix("Q2") {
        ("sha256", 32, base64_decode(b64)?)
    } else if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(format!("md5:{}", text.to_ascii_lowercase()));
    } else {
        return None;
    };
    if payload.len() != expected_len {
        return None;
    }
    let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("{algorithm}:{hex}"))
}

/// Standard-alphabet base64, padding optional.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&base64::alphabet::STANDARD, config).decode(text).ok()
}

/// Splits the `L:` field into licences the way syft does: a valid SPDX
/// expression (`MPL-2.0 AND MIT`, `( Apache-2.0 OR MIT ) AND MPL-2.0`) is
/// kept whole, anything else is split at whitespace, since older Alpine
/// packages list several licences separated by spaces (`MIT BSD GPL2+`).
///
/// syft validates identifiers against the SPDX list too; this only checks
/// the expression's shape, so `GPL2 OR MIT` stays whole here where syft
/// would split it into `GPL2`, `OR`, `MIT`.
pub fn licenses(license: Option<&str>) -> Vec<String> {
    let Some(license) = license.map(str::trim).filter(|l| !l.is_empty()) else {
        return Vec::new();
    };
    if is_spdx_expression(license) {
        vec![license.to_owned()]
    } else {
        license.split_whitespace().map(str::to_owned).collect()
    }
}

/// Whether text has the shape of an SPDX license expression:
/// `term ((AND|OR) term)*`, `term = id [WITH id] | ( expression )`.
fn is_spdx_expression(text: &str) -> bool {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    expression(&tokens, &mut pos, 0) && pos == tokens.len()
}

fn is_operator(token: &str) -> bool {
    matches!(token, "AND" | "OR" | "WITH")
}

fn is_license_id(token: &str) -> bool {
    !token.is_empty()
        && !is_operator(token)
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b':'))
}

fn expression(tokens: &[&str], pos: &mut usize, depth: usize) -> bool {
    // Nesting deeper than any real licence is refused instead of recursing
    // on, so a crafted field cannot exhaust the stack.
    if depth > 32 || !term(tokens, pos, depth) {
        return false;
    }
    while let Some(&op) = tokens.get(*pos) {
        if op != "AND" && op != "OR" {
            break;
        }
        *pos += 1;
        if !term(tokens, pos, depth) {
            return false;
        }
    }
    true
}

fn term(tokens: &[&str], pos: &mut usize, depth: usize) -> bool {
    match tokens.get(*pos) {
        Some(&"(") => {
            *pos += 1;
            if !expression(tokens, pos, depth + 1) || tokens.get(*pos) != Some(&")") {
                return false;
            }
            *pos += 1;
            true
        }
        Some(id) if is_license_id(id) => {
            *pos += 1;
            if tokens.get(*pos) == Some(&"WITH") {
                *pos += 1;
                if !tokens.get(*pos).is_some_and(|t| is_license_id(t)) {
                    return false;
                }
                *pos += 1;
            }
            true
        }
        _ => false,
    }
}

/// The package URL syft writes for an apk package:
/// `pkg:apk/<distro id>/<name>@<version>?arch=<arch>&distro=<id>-<version>&upstream=<origin>`.
///
/// `upstream` appears only when the origin differs from the package name.
/// Without a detected distro the namespace is `alpine` and `distro=` is left
/// out, where syft would give no purl at all.
pub fn purl(entry: &ApkEntry, distro: Option<&Distro>) -> String {
    let upstream = entry.origin.as_deref().filter(|origin| *origin != entry.name).unwrap_or_default();
    let qualifier = distro.map(Distro::purl_qualifier).unwrap_or_default();
    let namespace = distro.map_or("alpine", |d| d.id.as_str());
    os_package_purl(
        "apk",
        namespace,
        &entry.name,
        &entry.version,
        &[("arch", entry.arch.as_deref().unwrap_or_default()), ("upstream", upstream), ("distro", &qualifier)],
    )
}

/// Builds the SBOM package; locations and the introducing layer are left
/// for the caller.
pub fn to_package(entry: &ApkEntry, distro: Option<&Distro>) -> Package {
    let mut package =
        Package::new(PackageType::Apk, &entry.name, &entry.version, entry.arch.as_deref(), purl(entry, distro));
    package.found_by = Some("apk".to_owned());
    package.licenses = licenses(entry.license.as_deref());
    package.source = entry
        .origin
        .as_ref()
        .map(|origin| SourcePackage { name: origin.clone(), version: Some(entry.version.clone()) });
    package.maintainer = entry.maintainer.clone();
    package.installed_size = entry.installed_size;
    package.files = entry.files.clone();
    package
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums() {
        assert_eq!(
            decode_checksum("Q1M0C9qfC/+kdRiOodeihG2GMRtkE=").as_deref(),
            Some("sha1:3340bda9f0bffa475188ea1d7a2846d86311b641")
        );
        assert_eq!(
            decode_checksum("Q1M0C9qfC/+kdRiOodeihG2GMRtkE").as_deref(),
            Some("sha1:3340bda9f0bffa475188ea1d7a2846d86311b641")
        );
        assert_eq!(decode_checksum("Q1short="), None);
        assert_eq!(decode_checksum("Q1!!!!"), None);
        assert_eq!(decode_checksum("Q1A"), None);
        assert_eq!(
            decode_checksum("D41D8CD98F00B204E9800998ECF8427E").as_deref(),
            Some("md5:d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(decode_checksum(""), None);
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("aGVsbG8h"), Some(b"hello!".to_vec()));
    }

    #[test]
    fn license_splitting() {
        assert_eq!(licenses(Some("MIT BSD GPL2+")), ["MIT", "BSD", "GPL2+"]);
        assert_eq!(licenses(Some("GPL-2.0-or-later LGPL-2.1-or-later")), ["GPL-2.0-or-later", "LGPL-2.1-or-later"]);
        assert_eq!(licenses(Some("MPL-2.0 AND MIT")), ["MPL-2.0 AND MIT"]);
        assert_eq!(licenses(Some("( Apache-2.0 OR MIT ) AND MPL-2.0")), ["( Apache-2.0 OR MIT ) AND MPL-2.0"]);
        assert_eq!(licenses(Some("ISC AND (BSD-3-Clause OR MIT)")), ["ISC AND (BSD-3-Clause OR MIT)"]);
        assert_eq!(licenses(Some("GPL-2.0-only WITH Linux-syscall-note")), ["GPL-2.0-only WITH Linux-syscall-note"]);
        assert_eq!(licenses(Some("GPL2")), ["GPL2"]);
        assert_eq!(licenses(Some("MIT AND")), ["MIT", "AND"]);
        assert_eq!(licenses(Some("(MIT")), ["(MIT"]);
        assert!(licenses(Some("  ")).is_empty());
        assert!(licenses(None).is_empty());
        let deep = format!("{}MIT{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(licenses(Some(&deep)), std::slice::from_ref(&deep));
    }

    fn alpine(version: &str) -> Distro {
        Distro { id: "alpine".into(), version_id: Some(version.into()), ..Distro::default() }
    }

    #[test]
    fn purl_forms() {
        let mut e = ApkEntry {
            name: "ssl_client".into(),
            version: "1.36.1-r15".into(),
            arch: Some("x86_64".into()),
            origin: Some("busybox".into()),
            ..ApkEntry::default()
        };
        assert_eq!(
            purl(&e, Some(&alpine("3.19.1"))),
            "pkg:apk/alpine/ssl_client@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1&upstream=busybox"
        );
        e.origin = Some("ssl_client".into());
        assert_eq!(
            purl(&e, Some(&alpine("3.19.1"))),
            "pkg:apk/alpine/ssl_client@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1"
        );
        e.origin = None;
        e.arch = None;
        assert_eq!(purl(&e, None), "pkg:apk/alpine/ssl_client@1.36.1-r15");
        let wolfi = Distro { id: "wolfi".into(), version_id: Some("20230201".into()), ..Distro::default() };
        e.name = "libstdc++".into();
        e.version = "13.2.0-r3".into();
        assert_eq!(purl(&e, Some(&wolfi)), "pkg:apk/wolfi/libstdc%2B%2B@13.2.0-r3?distro=wolfi-20230201");
    }

    #[test]
    fn files_and_checksums_attach_to_the_right_file() {
        let db = b"P:x\nV:1\nR:rootfile\nZ:Q1M0C9qfC/+kdRiOodeihG2GMRtkE=\nF:usr/bin\nR:a\na:0:0:755:Q1JaDEHQHBbizhEzoWK1YxuraNU/4=\n\
                   Z:Q1M0C9qfC/+kdRiOodeihG2GMRtkE=\nR:b\nF:etc\nZ:Q1M0C9qfC/+kdRiOodeihG2GMRtkE=\nR:c\nM:0:0:755\nZ:Q1M0C9qfC/+kdRiOodeihG2GMRtkE=\n";
        let entries = parse_installed(db).unwrap_or_default();
        let sha = Some("sha1:3340bda9f0bffa475188ea1d7a2846d86311b641".to_owned());
        let files: Vec<(String, Option<String>)> = entries
            .first()
            .map(|e| e.files.iter().map(|f| (f.path.clone(), f.digest.clone())).collect())
            .unwrap_or_default();
        assert_eq!(
            files,
            [
                ("/rootfile".to_owned(), sha.clone()),
                ("/usr/bin/a".to_owned(), sha),
                ("/usr/bin/b".to_owned(), None),
                ("/etc/c".to_owned(), None),
            ]
        );
    }
}
