//! npm packages: installed `package.json` manifests and the lockfiles of
//! npm (`package-lock.json` v1-v3, `npm-shrinkwrap.json`), yarn (`yarn.lock`
//! v1 and Berry) and pnpm (`pnpm-lock.yaml` 5.x, 6.x, 9.x).
//!
//! Pure parsers over bytes, each returning [`NpmPackage`] records, and
//! [`to_package`] to build the SBOM entry. [`classify`] tells which parser a
//! path matched by [`PATTERNS`] needs.

pub(crate) mod catalog;
mod package_json;
mod package_lock;
mod pnpm_lock;
mod yarn_lock;

use std::collections::BTreeMap;

use portcullis_sbom::{Package, PackageType};
use serde_json::Value;

use crate::distro::purl_encode;

pub use package_json::{SYSTEM_NODE_DIRS, is_project_manifest, parse_package_json, parse_package_json_at};
pub use package_lock::parse_package_lock;
pub use pnpm_lock::parse_pnpm_lock;
pub use yarn_lock::parse_yarn_lock;

/// Name of the cataloger, as recorded in [`Package::found_by`].
pub const CATALOGER: &str = "npm";

/// Every path the npm cataloger reads. `*` does not cross `/`, `**` does.
/// `package.json` is read everywhere: inside `node_modules` it is an
/// installed package, elsewhere an application's manifest or one of
/// Debian's system packages ([`is_project_manifest`] tells them apart).
pub const PATTERNS: &[&str] =
    &["/**/package.json", "/**/package-lock.json", "/**/npm-shrinkwrap.json", "/**/yarn.lock", "/**/pnpm-lock.yaml"];

/// What a file matched by [`PATTERNS`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsFile {
    /// [`parse_package_json_at`].
    PackageJson,
    /// `package-lock.json`, `npm-shrinkwrap.json`: [`parse_package_lock`].
    PackageLock,
    /// [`parse_yarn_lock`].
    YarnLock,
    /// [`parse_pnpm_lock`].
    PnpmLock,
}

/// Which parser a path needs, by file name.
pub fn classify(path: &str) -> Option<JsFile> {
    match path.rsplit('/').next()? {
        "package.json" => Some(JsFile::PackageJson),
        "package-lock.json" | "npm-shrinkwrap.json" => Some(JsFile::PackageLock),
        "yarn.lock" => Some(JsFile::YarnLock),
        "pnpm-lock.yaml" => Some(JsFile::PnpmLock),
        _ => None,
    }
}

/// Which kind of file a record came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum NpmSource {
    #[default]
    PackageJson,
    PackageLock,
    YarnLock,
    PnpmLock,
}

impl NpmSource {
    pub fn as_str(self) -> &'static str {
        match self {
            NpmSource::PackageJson => "package.json",
            NpmSource::PackageLock => "package-lock.json",
            NpmSource::YarnLock => "yarn.lock",
            NpmSource::PnpmLock => "pnpm-lock.yaml",
        }
    }
}

/// One npm package, from a manifest or a lockfile entry. Lockfiles fill
/// the resolution fields, manifests the descriptive ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NpmPackage {
    /// The real package name (`@scope/name`), also for aliased installs.
    pub name: String,
    pub version: String,
    /// Licence names or SPDX expressions as declared, without duplicates.
    pub licenses: Vec<String>,
    /// `Name <email> (url)`.
    pub author: Option<String>,
    pub homepage: Option<String>,
    /// Repository URL or shorthand, as written.
    pub repository: Option<String>,
    pub description: Option<String>,
    /// `"private": true`: never published to a registry.
    pub private: bool,
    /// The application's own manifest (a `package.json` outside any
    /// `node_modules`), not a dependency.
    pub root: bool,
    /// Where the lockfile says it came from: a tarball URL (npm, yarn v1),
    /// a Berry resolution (`lodash@npm:4.17.4`), a pnpm tarball.
    pub resolved: Option<String>,
    /// Subresource-integrity hash (`sha512-…`).
    pub integrity: Option<String>,
    /// Yarn Berry's cache checksum (`10c0/…`), which is not an SRI hash.
    pub checksum: Option<String>,
    /// Only needed for development (lockfiles that record it: npm, pnpm).
    pub dev: bool,
    pub optional: bool,
    /// The name it is installed under when that differs from [`Self::name`]
    /// (`"my-lodash": "npm:lodash@4.17.21"`).
    pub alias: Option<String>,
    /// The lockfile's key for the entry (`node_modules/a/node_modules/b`,
    /// `/lodash@4.17.4`, `"lodash@^4"`): several copies of one version are
    /// told apart by it.
    pub lock_key: Option<String>,
    /// Declared dependencies: name → range (manifests) or resolved version
    /// (lockfiles), as written.
    pub dependencies: BTreeMap<String, String>,
    pub source: NpmSource,
}

/// Errors that make a whole file unusable.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum JsError {
    #[error("{file}: invalid JSON at line {line}, column {column}: {message}")]
    Json { file: &'static str, line: usize, column: usize, message: String },
    #[error("{file}: expected a JSON object, found {found}")]
    NotAnObject { file: &'static str, found: &'static str },
    #[error("{file}: unsupported lockfileVersion {version}")]
    UnsupportedLockfileVersion { file: &'static str, version: String },
    #[error("{file}: {reason}")]
    Malformed { file: &'static str, reason: String },
    #[error("{file}: invalid YAML: {message}")]
    Yaml { file: &'static str, message: String },
    #[error("yarn.lock line {line}: {reason}")]
    YarnSyntax { line: usize, reason: &'static str },
}

fn parse_json(file: &'static str, bytes: &[u8]) -> Result<Value, JsError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| JsError::Json {
        file,
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Splits `name@rest` at the `@` that ends the name: the first one after
/// the leading `@` of a scope. `@babel/core@^7` → (`@babel/core`, `^7`);
/// `alias@npm:real@1` → (`alias`, `npm:real@1`). `None` without a separator.
pub(crate) fn split_name(descriptor: &str) -> Option<(&str, &str)> {
    let start = usize::from(descriptor.starts_with('@'));
    let at = descriptor.get(start..)?.find('@')? + start;
    let name = descriptor.get(..at)?;
    let rest = descriptor.get(at + 1..)?;
    (!name.is_empty() && name != "@").then_some((name, rest))
}

/// `pkg:npm/<name>@<version>`, with a scope as the purl namespace and its
/// `@` encoded: `pkg:npm/%40babel/core@7.0.0`, byte for byte what syft
/// writes. Versions are percent-encoded (`1.0.0+build` → `1.0.0%2Bbuild`).
pub fn purl(name: &str, version: &str) -> String {
    let mut out = String::from("pkg:npm/");
    match name.strip_prefix('@').and_then(|scoped| scoped.split_once('/')) {
        Some((scope, rest)) => {
            out.push_str(&purl_encode(&format!("@{scope}")));
            out.push('/');
            out.push_str(&purl_encode(rest));
        }
        None => out.push_str(&purl_encode(name)),
    }
    if !version.is_empty() {
        out.push('@');
        out.push_str(&purl_encode(version));
    }
    out
}

/// Builds the SBOM package; locations and the introducing layer are left
/// for the caller. Descriptive and resolution fields go to `metadata`
/// (`root`, `private`, `dev`, `optional` only when true).
pub fn to_package(npm: &NpmPackage) -> Package {
    let mut package = Package::new(PackageType::Npm, &npm.name, &npm.version, None, purl(&npm.name, &npm.version));
    package.licenses = npm.licenses.clone();
    package.found_by = Some(CATALOGER.to_owned());
    let m = &mut package.metadata;
    m.insert("source".to_owned(), npm.source.as_str().into());
    for (key, value) in [
        ("author", &npm.author),
        ("homepage", &npm.homepage),
        ("repository", &npm.repository),
        ("description", &npm.description),
        ("resolved", &npm.resolved),
        ("integrity", &npm.integrity),
        ("checksum", &npm.checksum),
        ("alias", &npm.alias),
        ("lock_key", &npm.lock_key),
    ] {
        if let Some(value) = value {
            m.insert(key.to_owned(), value.clone().into());
        }
    }
    for (key, flag) in [("root", npm.root), ("private", npm.private), ("dev", npm.dev), ("optional", npm.optional)] {
        if flag {
            m.insert(key.to_owned(), true.into());
        }
    }
    package
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(purl("@babel/core", "7.0.0"), "pkg:npm/%40babel/core@7.0.0");
        assert_eq!(purl("@types/node", "18.18.14"), "pkg:npm/%40types/node@18.18.14");
        assert_eq!(purl("lodash", "4.17.4"), "pkg:npm/lodash@4.17.4");
        assert_eq!(purl("x", "1.0.0-rc.1+b.2"), "pkg:npm/x@1.0.0-rc.1%2Bb.2");
    }

    #[test]
    fn descriptors() {
        assert_eq!(split_name("@babel/core@^7.0.0"), Some(("@babel/core", "^7.0.0")));
        assert_eq!(split_name("lodash-legacy@npm:lodash@4.17.21"), Some(("lodash-legacy", "npm:lodash@4.17.21")));
        assert_eq!(split_name("lodash@4"), Some(("lodash", "4")));
        assert_eq!(split_name("lodash"), None);
        assert_eq!(split_name("@x"), None);
        assert_eq!(split_name("@@1"), None);
        assert_eq!(split_name("@1"), None);
    }

    #[test]
    fn classification() {
        assert_eq!(classify("/app/package.json"), Some(JsFile::PackageJson));
        assert_eq!(classify("/app/npm-shrinkwrap.json"), Some(JsFile::PackageLock));
        assert_eq!(classify("/app/node_modules/.package-lock.json"), None);
        assert_eq!(classify("/app/yarn.lock"), Some(JsFile::YarnLock));
        assert_eq!(classify("/app/pnpm-lock.yaml"), Some(JsFile::PnpmLock));
    }
}
