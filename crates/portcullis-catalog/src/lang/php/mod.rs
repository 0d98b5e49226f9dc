//! Composer packages: `vendor/composer/installed.json`, which Composer
//! rewrites on every install with what is in `vendor/`.
//!
//! Composer 1 writes a bare array of packages; Composer 2 an object with
//! `packages`, `dev` (whether dev requirements were installed) and
//! `dev-package-names`.

use serde::Deserialize;
use serde_json::Value;

use portcullis_sbom::{Package, PackageType};

use crate::distro::purl_encode;

/// Composer's installed-packages list; `vendor/` may sit anywhere (an
/// application directory, a global Composer home).
pub const PATTERNS: &[&str] = &["/**/vendor/composer/installed.json"];

/// One installed package.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComposerPackage {
    /// `vendor/name`.
    pub name: String,
    /// As written (`v1.8.1`, `1.3.0`, `dev-main`).
    pub version: String,
    /// `library`, `metapackage`, `composer-plugin`, ...
    pub package_type: Option<String>,
    pub licenses: Vec<String>,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub authors: Vec<String>,
    /// `source.type`/`source.url`/`source.reference` (VCS commit).
    pub source_type: Option<String>,
    pub source_url: Option<String>,
    pub source_reference: Option<String>,
    /// `dist.url`/`dist.shasum`.
    pub dist_url: Option<String>,
    pub dist_shasum: Option<String>,
    /// Names of the `require` entries (platform requirements such as `php`
    /// and `ext-json` included, as written).
    pub requires: Vec<String>,
    /// Listed in Composer 2's `dev-package-names`: installed only for
    /// development.
    pub dev: bool,
}

/// An entry left out because it cannot be identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedPackage {
    /// Position in the packages array.
    pub index: usize,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstalledJson {
    pub packages: Vec<ComposerPackage>,
    pub skipped: Vec<SkippedPackage>,
}

#[derive(Debug, thiserror::Error)]
pub enum PhpError {
    #[error("installed.json is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("installed.json is neither an array of packages (Composer 1) nor an object with `packages` (Composer 2)")]
    Shape,
}

#[derive(Deserialize)]
struct RawPackage {
    name: Option<Value>,
    version: Option<Value>,
    #[serde(rename = "type")]
    package_type: Option<Value>,
    license: Option<Value>,
    description: Option<Value>,
    homepage: Option<Value>,
    authors: Option<Value>,
    source: Option<Value>,
    dist: Option<Value>,
    require: Option<Value>,
}

/// Parses `installed.json` in either Composer form. Entries without a name
/// or version are reported in [`InstalledJson::skipped`]; fields of an
/// unexpected JSON type are treated as absent rather than failing the file.
pub fn parse_installed_json(bytes: &[u8]) -> Result<InstalledJson, PhpError> {
    let document: Value = serde_json::from_slice(bytes)?;
    let (entries, dev_names) = match document {
        Value::Array(entries) => (entries, Vec::new()),
        Value::Object(mut object) => {
            let Some(Value::Array(entries)) = object.remove("packages") else {
                return Err(PhpError::Shape);
            };
            let dev_names: Vec<String> = match object.remove("dev-package-names") {
                Some(Value::Array(names)) => names.into_iter().filter_map(string).collect(),
                _ => Vec::new(),
            };
            (entries, dev_names)
        }
        _ => return Err(PhpError::Shape),
    };
    let mut out = InstalledJson::default();
    for (index, entry) in entries.into_iter().enumerate() {
        let Ok(raw) = serde_json::from_value::<RawPackage>(entry) else {
            out.skipped.push(SkippedPackage { index, reason: "not an object" });
            continue;
        };
        let name = raw.name.and_then(string).unwrap_or_default();
        let version = raw.version.and_then(string).unwrap_or_default();
        if name.is_empty() || version.is_empty() {
            let reason = if name.is_empty() { "no name" } else { "no version" };
            out.skipped.push(SkippedPackage { index, reason });
            continue;
        }
        let field = |value: &Option<Value>, key: &str| {
            value.as_ref().and_then(|v| v.get(key)).cloned().and_then(string).filter(|s| !s.is_empty())
        };
        out.packages.push(ComposerPackage {
            dev: dev_names.contains(&name),
            package_type: raw.package_type.and_then(string),
            licenses: match raw.license {
                // Composer allows a single string as well as an array.
                Some(Value::String(license)) => vec![license],
                Some(Value::Array(licenses)) => licenses.into_iter().filter_map(string).collect(),
                _ => Vec::new(),
            },
            description: raw.description.and_then(string).filter(|s| !s.is_empty()),
            homepage: raw.homepage.and_then(string).filter(|s| !s.is_empty()),
            authors: match raw.authors {
                Some(Value::Array(authors)) => {
                    authors.iter().filter_map(|a| a.get("name").cloned().and_then(string)).collect()
                }
                _ => Vec::new(),
            },
            source_type: field(&raw.source, "type"),
            source_url: field(&raw.source, "url"),
            source_reference: field(&raw.source, "reference"),
            dist_url: field(&raw.dist, "url"),
            dist_shasum: field(&raw.dist, "shasum"),
            requires: match raw.require {
                Some(Value::Object(require)) => require.keys().cloned().collect(),
                _ => Vec::new(),
            },
            name,
            version,
        });
    }
    Ok(out)
}

fn string(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        _ => None,
    }
}

/// `pkg:composer/<vendor>/<name>@<version>`; the version as Composer wrote it.
pub fn purl(package: &ComposerPackage) -> String {
    let mut out = "pkg:composer/".to_owned();
    let (vendor, name) = package.name.split_once('/').unwrap_or(("", &package.name));
    if !vendor.is_empty() {
        out.push_str(&purl_encode(vendor));
        out.push('/');
    }
    out.push_str(&purl_encode(name));
    out.push('@');
    out.push_str(&purl_encode(&package.version));
    out
}

/// Builds the SBOM package; locations are left for the caller.
pub fn to_package(package: &ComposerPackage) -> Package {
    let mut out = Package::new(PackageType::PhpComposer, &package.name, &package.version, None, purl(package));
    out.licenses = package.licenses.clone();
    out.found_by = Some("php-composer".to_owned());
    let metadata = &mut out.metadata;
    let mut put = |key: &str, value: &Option<String>| {
        if let Some(value) = value {
            metadata.insert(key.to_owned(), value.clone().into());
        }
    };
    put("type", &package.package_type);
    put("description", &package.description);
    put("homepage", &package.homepage);
    put("source_type", &package.source_type);
    put("source_url", &package.source_url);
    put("source_reference", &package.source_reference);
    put("dist_url", &package.dist_url);
    put("dist_shasum", &package.dist_shasum);
    if !package.authors.is_empty() {
        metadata.insert("authors".to_owned(), package.authors.clone().into());
    }
    if !package.requires.is_empty() {
        metadata.insert("requires".to_owned(), package.requires.clone().into());
    }
    if package.dev {
        metadata.insert("dev".to_owned(), true.into());
    }
    out
}
