//! CBL-Mariner distroless `var/lib/rpmmanifest/container-manifest-2`: the
//! images carry no rpmdb, only this list, one package per line with ten
//! tab-separated fields:
//!
//! `name  version-release  installtime  buildtime  vendor  epoch  size  arch  <unused>  sourcerpm`
//!
//! where an absent epoch is written `(none)`, as `rpm -qa --qf` prints it.

use super::RpmPackage;

const FIELDS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("line {line}: expected {FIELDS} tab-separated fields, found {found}")]
    FieldCount { line: usize, found: usize },
    #[error("line {line}: {field} {value:?} is not valid")]
    BadField { line: usize, field: &'static str, value: String },
}

fn optional(value: &str) -> Option<String> {
    (!value.is_empty() && value != "(none)").then(|| value.to_owned())
}

fn number<T: std::str::FromStr>(line: usize, field: &'static str, value: &str) -> Result<Option<T>, ManifestError> {
    if value.is_empty() || value == "(none)" {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| ManifestError::BadField { line, field, value: value.to_owned() })
}

/// Parses a `container-manifest-2` file. Blank lines are ignored.
pub fn parse_manifest(bytes: &[u8]) -> Result<Vec<RpmPackage>, ManifestError> {
    let text = String::from_utf8_lossy(bytes);
    let mut packages = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        if fields.len() != FIELDS {
            return Err(ManifestError::FieldCount { line, found: fields.len() });
        }
        let bad = |field: &'static str, value: &str| ManifestError::BadField { line, field, value: value.to_owned() };
        let name = fields[0];
        if name.is_empty() {
            return Err(bad("name", name));
        }
        // rpm forbids '-' in both version and release, so the last one splits them.
        let (version, release) = fields[1].rsplit_once('-').ok_or_else(|| bad("version-release", fields[1]))?;
        packages.push(RpmPackage {
            name: name.to_owned(),
            epoch: number(line, "epoch", fields[5])?,
            version: version.to_owned(),
            release: release.to_owned(),
            arch: optional(fields[7]),
            source_rpm: optional(fields[9]),
            size: number(line, "size", fields[6])?,
            license: None,
            vendor: optional(fields[4]),
            modularity_label: None,
            sigmd5: None,
            build_time: number(line, "build time", fields[3])?,
            install_time: number(line, "install time", fields[2])?,
            files: Vec::new(),
        });
    }
    Ok(packages)
}
