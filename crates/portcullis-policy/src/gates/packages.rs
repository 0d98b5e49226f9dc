//! The `packages` gate: the image's operating-system packages (Anchore's
//! "distro package checks"; language packages have their own gates).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use portcullis_match::Origin;
use portcullis_sbom::{FileRecord, OwnedFile, Package, PackageType, Sbom};
use portcullis_version::Scheme;

use super::files::files_by_path;
use super::{EvalContext, GateError, MatchedPackage, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "packages";

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    match trigger {
        "required_package" => required_package(params, ctx),
        "verify" => verify(params, ctx),
        "blacklist" => blacklist(params, ctx),
        other => Err(unknown_trigger(GATE, other)),
    }
}

/// The package a match is about, for allowlist items scoped to it and for
/// the decision's origin.
pub(crate) fn matched_package(package: &Package, ctx: &EvalContext<'_>) -> MatchedPackage {
    MatchedPackage {
        name: package.name.clone(),
        version: package.version.clone(),
        path: package.locations.first().map(|location| location.path.clone()),
        origin: Origin::of(package.introduced_in_layer, ctx.base_layers),
    }
}

fn os_packages(sbom: &Sbom) -> impl Iterator<Item = &Package> {
    sbom.packages.iter().filter(|p| p.package_type.is_os())
}

fn os_scheme(package_type: PackageType) -> Option<Scheme> {
    match package_type {
        PackageType::Deb => Some(Scheme::Dpkg),
        PackageType::Rpm => Some(Scheme::Rpm),
        PackageType::Apk => Some(Scheme::Apk),
        _ => None,
    }
}

fn required_package(params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    let name = params.required("name")?;
    let version = params.str("version");
    let minimum = match params.str("version_match_type").unwrap_or("exact") {
        "exact" => false,
        "minimum" => true,
        other => return Err(GateError::Invalid(format!("version_match_type {other:?} is neither exact nor minimum"))),
    };
    let installed: Vec<&Package> = os_packages(ctx.sbom).filter(|p| p.name == name).collect();
    let Some(first) = installed.first() else {
        let message = match version {
            Some(version) => format!("Required input package ({name},{version}) is not present in container image"),
            None => format!("Required input package ({name}) is not present in container image"),
        };
        return Ok(vec![TriggerMatch::new(GATE, "required_package", message)]);
    };
    let Some(version) = version else { return Ok(Vec::new()) };
    // Any installed copy (several architectures, say) may satisfy the policy.
    let mut satisfied = false;
    for package in &installed {
        satisfied |= package.version == version || (minimum && compare(package, version)? != Ordering::Less);
    }
    if satisfied {
        return Ok(Vec::new());
    }
    let message = if minimum {
        format!(
            "Required min-version input package ({name}) is present ({}), but is lower version than what is specified in policy ({version})",
            first.version
        )
    } else {
        format!(
            "Required input package ({name}) is present ({}), but not at the version specified in policy ({version})",
            first.version
        )
    };
    let mut found = TriggerMatch::new(GATE, "required_package", message);
    found.package = Some(matched_package(first, ctx));
    Ok(vec![found])
}

fn compare(package: &Package, version: &str) -> Result<Ordering, GateError> {
    let scheme = os_scheme(package.package_type).ok_or_else(|| {
        GateError::Invalid(format!("package {}: no version scheme for {}", package.name, package.package_type.as_str()))
    })?;
    scheme.compare(&package.version, version).map_err(|e| GateError::Invalid(format!("package {}: {e}", package.name)))
}

fn blacklist(params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    let name = params.required("name")?;
    let version = params.str("version");
    Ok(os_packages(ctx.sbom)
        .filter(|p| p.name == name && version.is_none_or(|v| p.version == v))
        .map(|p| {
            let message = match version {
                Some(_) => format!("Package is blacklisted: {}-{}", p.name, p.version),
                None => format!("Package is blacklisted: {}", p.name),
            };
            let mut found = TriggerMatch::new(GATE, "blacklist", message);
            found.package = Some(matched_package(p, ctx));
            found
        })
        .collect())
}

/// How an owned file differs from what the package database records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verification {
    Changed,
    Missing,
}

impl Verification {
    fn as_str(self) -> &'static str {
        match self {
            Verification::Changed => "changed",
            Verification::Missing => "missing",
        }
    }
}

fn verify(params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    let only_packages = params.csv("only_packages");
    let only_directories = params.csv("only_directories");
    let only_check = match params.str("check") {
        None => None,
        Some("changed") => Some(Verification::Changed),
        Some("missing") => Some(Verification::Missing),
        Some(other) => return Err(GateError::Invalid(format!("check {other:?} is neither changed nor missing"))),
    };
    let files = files_by_path(ctx.sbom);
    let mut matches = Vec::new();
    for package in os_packages(ctx.sbom).filter(|p| only_packages.is_empty() || only_packages.contains(&p.name)) {
        for owned in package
            .files
            .iter()
            .filter(|f| only_directories.is_empty() || only_directories.iter().any(|d| f.path.starts_with(d.as_str())))
        {
            let Some(status) = verification(owned, resolve(&files, &owned.path)) else { continue };
            if only_check.is_none_or(|check| check == status) {
                let message = format!(
                    "VERIFY check against package db for package '{}' failed on entry '{}' with status: '{}'",
                    package.name,
                    owned.path,
                    status.as_str()
                );
                let mut found = TriggerMatch::new(GATE, "verify", message);
                found.package = Some(matched_package(package, ctx));
                matches.push(found);
            }
        }
    }
    Ok(matches)
}

/// The package database records only a digest per file (no mode or size),
/// so "changed" means a different digest of the same algorithm.
fn verification(owned: &OwnedFile, file: Option<&FileRecord>) -> Option<Verification> {
    let Some(file) = file else { return Some(Verification::Missing) };
    // Anchore skips the database's configuration files, which are meant to be
    // edited; the SBOM does not keep that flag, and packaging policies put
    // configuration files under /etc.
    if owned.path.starts_with("/etc/") || !matches!(file.kind.as_str(), "file" | "hardlink") {
        return None;
    }
    let recorded = owned.digest.as_deref()?;
    let (algorithm, _) = recorded.split_once(':')?;
    let actual = match algorithm {
        "sha256" => file.sha256.as_deref(),
        "sha1" => file.sha1.as_deref(),
        "md5" => file.md5.as_deref(),
        _ => None,
    }?;
    (!actual.eq_ignore_ascii_case(recorded)).then_some(Verification::Changed)
}

/// Symbolic links followed before giving up (the kernel's limit).
const MAX_LINKS: usize = 40;

/// The record of `path`, following symbolic links in its directories (a
/// package installs `/bin/ls` into an image where `/bin` links to `usr/bin`).
fn resolve<'a>(files: &BTreeMap<&str, &'a FileRecord>, path: &str) -> Option<&'a FileRecord> {
    let mut components = normalize(Vec::new(), path);
    for _ in 0..MAX_LINKS {
        let joined = format!("/{}", components.join("/"));
        if let Some(file) = files.get(joined.as_str()) {
            return Some(file);
        }
        // The first directory of the path that is a link (tars may omit directories).
        let (depth, target) = (1..components.len()).find_map(|depth| {
            let prefix = format!("/{}", components[..depth].join("/"));
            let file = files.get(prefix.as_str()).filter(|file| file.kind == "symlink")?;
            Some((depth, file.link_target.as_deref()?))
        })?;
        let base = if target.starts_with('/') { Vec::new() } else { components[..depth - 1].to_vec() };
        let mut resolved = normalize(base, target);
        resolved.extend_from_slice(&components[depth..]);
        components = resolved;
    }
    None
}

/// `base` extended by the components of `path`, `.` and `..` applied.
fn normalize(mut base: Vec<String>, path: &str) -> Vec<String> {
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                base.pop();
            }
            name => base.push(name.to_owned()),
        }
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, kind: &str, link_target: Option<&str>) -> FileRecord {
        FileRecord {
            path: path.to_owned(),
            kind: kind.to_owned(),
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 0,
            link_target: link_target.map(str::to_owned),
            sha256: None,
            sha1: None,
            md5: None,
            executable_format: None,
            layer_index: Some(0),
            owners: Vec::new(),
        }
    }

    #[test]
    fn resolves_links_in_directories() {
        let records = [
            record("/bin", "symlink", Some("usr/bin")),
            record("/usr/bin/ls", "file", None),
            record("/opt/tool", "symlink", Some("/usr/./lib/../bin")),
            record("/loop", "symlink", Some("loop")),
            record("/usr", "dir", None),
            record("/usr/sbin", "symlink", Some("bin")),
        ];
        let files: BTreeMap<&str, &FileRecord> = records.iter().map(|r| (r.path.as_str(), r)).collect();
        assert_eq!(resolve(&files, "/bin/ls").map(|f| f.path.as_str()), Some("/usr/bin/ls"));
        assert_eq!(resolve(&files, "/opt/tool/ls").map(|f| f.path.as_str()), Some("/usr/bin/ls"));
        assert_eq!(resolve(&files, "/usr/sbin/ls").map(|f| f.path.as_str()), Some("/usr/bin/ls"));
        assert!(resolve(&files, "/bin/cat").is_none());
        assert!(resolve(&files, "/loop/x").is_none(), "a link cycle ends");
        assert_eq!(
            resolve(&files, "/bin").map(|f| f.kind.as_str()),
            Some("symlink"),
            "the last component is not followed"
        );
    }
}
