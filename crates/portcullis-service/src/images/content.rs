//! An image's content listing (`/images/{digest}/content/{type}`), built
//! from the SBOM once, at analysis, and stored in the `image_content_data`
//! bucket as `{type: [records]}`.

use std::collections::BTreeMap;

use portcullis_api::{FileContent, JavaPackageContent, MalwareScan, PackageContent};
use portcullis_sbom::{Package, PackageType, Sbom};
use serde::{Deserialize, Serialize};

/// Every content type, in the order `GET /images/{digest}/content` lists them.
pub const CONTENT_TYPES: &[&str] =
    &["os", "files", "npm", "gem", "python", "java", "binary", "go", "rust", "nuget", "php", "malware"];

/// Every metadata type (`GET /images/{digest}/metadata`).
pub const METADATA_TYPES: &[&str] = &["manifest", "docker_history", "dockerfile"];

/// The stored listing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentListing {
    pub packages: BTreeMap<String, Vec<PackageContent>>,
    pub java: Vec<JavaPackageContent>,
    pub files: Vec<FileContent>,
    pub malware: Vec<MalwareScan>,
}

/// The content type a package is listed under.
fn content_type(package_type: PackageType) -> &'static str {
    match package_type {
        PackageType::Deb | PackageType::Rpm | PackageType::Apk => "os",
        PackageType::Python => "python",
        PackageType::Npm => "npm",
        PackageType::JavaArchive => "java",
        PackageType::GoModule => "go",
        PackageType::RustCrate => "rust",
        PackageType::Gem => "gem",
        PackageType::PhpComposer => "php",
        PackageType::Dotnet => "nuget",
        PackageType::Binary => "binary",
    }
}

/// The package type as Anchore writes it (`dpkg`, `APKG`, `java`, ...).
pub fn anchore_type(package_type: &str) -> &str {
    match package_type {
        "deb" => "dpkg",
        "apk" => "APKG",
        "java-archive" => "java",
        "go-module" => "go",
        "rust-crate" => "rust",
        "dotnet" => "nuget",
        "php-composer" => "php",
        other => other,
    }
}

fn or_na(text: Option<String>) -> String {
    text.filter(|t| !t.is_empty()).unwrap_or_else(|| "N/A".to_owned())
}

fn location(package: &Package) -> String {
    package.locations.first().map(|l| l.path.clone()).unwrap_or_else(|| "N/A".to_owned())
}

fn cpes(package: &Package) -> Vec<String> {
    match package.metadata.get("cpes") {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

fn package_content(package: &Package) -> PackageContent {
    let origin = package
        .source
        .as_ref()
        .map(|s| s.name.clone())
        .or_else(|| package.vendor.clone())
        .or_else(|| package.maintainer.clone());
    PackageContent {
        package: package.name.clone(),
        version: package.version.clone(),
        kind: anchore_type(package.package_type.as_str()).to_owned(),
        size: package.installed_size.map_or_else(|| "N/A".to_owned(), |s| s.to_string()),
        origin: or_na(origin),
        license: package.licenses.join(" "),
        licenses: package.licenses.clone(),
        location: location(package),
        cpes: cpes(package),
    }
}

/// A main-section key of the archive's manifest, as the Java cataloger keeps it.
fn manifest_key(package: &Package, key: &str) -> String {
    package
        .metadata
        .get("manifest")
        .and_then(|manifest| manifest.get(key))
        .and_then(|value| value.as_str())
        .filter(|text| !text.is_empty())
        .unwrap_or("N/A")
        .to_owned()
}

fn java_content(package: &Package) -> JavaPackageContent {
    let group = package.metadata.get("group_id").and_then(|g| g.as_str()).map(str::to_owned);
    JavaPackageContent {
        package: package.name.clone(),
        specification_version: manifest_key(package, "Specification-Version"),
        implementation_version: manifest_key(package, "Implementation-Version"),
        maven_version: package.version.clone(),
        location: location(package),
        kind: "java-archive".to_owned(),
        origin: or_na(group),
        cpes: cpes(package),
    }
}

fn file_kind(kind: &str) -> &str {
    match kind {
        "symlink" => "slink",
        "hardlink" => "hlink",
        other => other,
    }
}

/// Builds the listing of every content type from `sbom`.
pub fn listing(sbom: &Sbom) -> ContentListing {
    let mut packages: BTreeMap<String, Vec<PackageContent>> = BTreeMap::new();
    let mut java = Vec::new();
    for package in &sbom.packages {
        let kind = content_type(package.package_type);
        packages.entry(kind.to_owned()).or_default().push(package_content(package));
        if package.package_type == PackageType::JavaArchive {
            java.push(java_content(package));
        }
    }
    let files = sbom
        .files
        .iter()
        .map(|file| FileContent {
            filename: file.path.clone(),
            kind: file_kind(&file.kind).to_owned(),
            size: file.size,
            mode: format!("{:05o}", file.mode),
            uid: file.uid,
            gid: file.gid,
            linkdest: file.link_target.clone(),
            sha256: file.sha256.as_deref().map(|d| d.strip_prefix("sha256:").unwrap_or(d).to_owned()),
        })
        .collect();
    // No malware scanner runs; say so in Anchore's shape rather than omit it.
    let malware = vec![MalwareScan {
        scanner: "clamav".to_owned(),
        enabled: false,
        findings: Vec::new(),
        metadata: serde_json::json!({}),
    }];
    ContentListing { packages, java, files, malware }
}

/// The records of one content type as JSON; `None` for an unknown type.
pub fn records(listing: &ContentListing, kind: &str) -> Option<serde_json::Value> {
    if !CONTENT_TYPES.contains(&kind) {
        return None;
    }
    let value = match kind {
        "files" => serde_json::to_value(&listing.files),
        "java" => serde_json::to_value(&listing.java),
        "malware" => serde_json::to_value(&listing.malware),
        other => serde_json::to_value(listing.packages.get(other).cloned().unwrap_or_default()),
    };
    Some(value.unwrap_or(serde_json::Value::Array(Vec::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_as_anchore_names_them() {
        assert_eq!(anchore_type("deb"), "dpkg");
        assert_eq!(anchore_type("python"), "python");
        assert_eq!(content_type(PackageType::Dotnet), "nuget");
        assert_eq!(file_kind("symlink"), "slink");
        assert!(records(&ContentListing::default(), "windows").is_none());
        assert_eq!(records(&ContentListing::default(), "npm"), Some(serde_json::json!([])));
    }
}
