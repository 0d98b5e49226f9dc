//! Rust crates: the dependency list `cargo auditable` embeds in binaries,
//! and `Cargo.lock` files.
//!
//! `cargo auditable` stores zlib-compressed JSON (the `auditable-serde`
//! `VersionInfo` format: `{"packages": [{"name", "version", "source",
//! "kind", "dependencies", "root"}]}`) in a linker section named `.dep-v0`
//! (ELF and PE; `__DATA,.dep-v0` in Mach-O).

use crate::binary::executable_images;
use std::collections::BTreeMap;
use std::io::Read;

use object::{Object, ObjectSection};
use serde::Deserialize;

use portcullis_sbom::{Package, PackageType};

use crate::distro::purl_encode;

/// `Cargo.lock` anywhere (source trees copied into images). Binaries are
/// not found by name: the caller hands every executable to
/// [`parse_auditable`], which returns `None` quickly for the rest.
pub const PATTERNS: &[&str] = &["/**/Cargo.lock"];

/// Name of the linker section holding the compressed dependency list.
pub const AUDITABLE_SECTION: &str = ".dep-v0";

/// Largest decompressed `.dep-v0` accepted. A binary with thousands of
/// dependencies has well under 1 MiB; more is a decompression bomb.
pub const MAX_AUDIT_JSON: u64 = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum RustError {
    #[error("`.dep-v0` section is not valid zlib data: {0}")]
    Decompress(std::io::Error),
    #[error("`.dep-v0` section inflates to more than {limit} bytes (decompression bomb?)")]
    TooLarge { limit: u64 },
    #[error("`.dep-v0` section is not cargo-auditable JSON: {0}")]
    AuditJson(serde_json::Error),
    #[error("cannot read section `.dep-v0`: {0}")]
    Section(object::Error),
    #[error("Cargo.lock is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("Cargo.lock package #{index} has no {field}")]
    LockEntry { index: usize, field: &'static str },
}

/// Where a crate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrateSource {
    CratesIo,
    Git,
    /// A path dependency or a workspace member: built from local source.
    Local,
    /// Another registry; auditable data says only `registry`, Cargo.lock
    /// gives its URL.
    Registry(Option<String>),
    Other(String),
}

impl CrateSource {
    pub fn as_str(&self) -> &str {
        match self {
            CrateSource::CratesIo => "crates.io",
            CrateSource::Git => "git",
            CrateSource::Local => "local",
            CrateSource::Registry(_) => "registry",
            CrateSource::Other(other) => other,
        }
    }

    /// A Cargo.lock `source` (`registry+https://github.com/rust-lang/crates.io-index`,
    /// `sparse+https://index.crates.io/`, `git+https://...#rev`); absent
    /// for local crates.
    pub fn from_lock(source: Option<&str>) -> CrateSource {
        let Some(source) = source else { return CrateSource::Local };
        let (kind, url) = source.split_once('+').unwrap_or((source, ""));
        let url = url.trim_end_matches('/');
        match kind {
            "registry" | "sparse"
                if url == "https://github.com/rust-lang/crates.io-index" || url == "https://index.crates.io" =>
            {
                CrateSource::CratesIo
            }
            "registry" | "sparse" => CrateSource::Registry(Some(url.to_owned())),
            "git" => CrateSource::Git,
            "path" => CrateSource::Local,
            _ => CrateSource::Other(source.to_owned()),
        }
    }

    fn from_auditable(source: &str) -> CrateSource {
        match source {
            "crates.io" => CrateSource::CratesIo,
            "git" => CrateSource::Git,
            "local" => CrateSource::Local,
            "registry" => CrateSource::Registry(None),
            other => CrateSource::Other(other.to_owned()),
        }
    }
}

/// One crate of a binary's auditable data or of a Cargo.lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustCrate {
    pub name: String,
    pub version: String,
    pub source: CrateSource,
    /// `cargo auditable`: only used at build time (build scripts, proc
    /// macros), so not part of the binary. Always false for Cargo.lock.
    pub build_only: bool,
    /// `cargo auditable`: the crate the binary was built from.
    pub root: bool,
    /// `name@version` of the direct dependencies.
    pub dependencies: Vec<String>,
    /// Cargo.lock: sha256 of the `.crate` file, hex.
    pub checksum: Option<String>,
}

#[derive(Deserialize)]
struct AuditInfo {
    packages: Vec<AuditPackage>,
}

#[derive(Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    source: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

/// Every crate recorded by `cargo auditable` in a binary, build-only ones
/// included; `Ok(None)` when the file is not an executable format this
/// reads (ELF, PE, Mach-O, including universal Mach-O) or has no `.dep-v0`
/// section. The section's content must be valid, or it is an error.
pub fn read_auditable(binary: &[u8]) -> Result<Option<Vec<RustCrate>>, RustError> {
    let Some(compressed) = auditable_section(binary)? else { return Ok(None) };
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_AUDIT_JSON + 1)
        .read_to_end(&mut json)
        .map_err(RustError::Decompress)?;
    if json.len() as u64 > MAX_AUDIT_JSON {
        return Err(RustError::TooLarge { limit: MAX_AUDIT_JSON });
    }
    let info: AuditInfo = serde_json::from_slice(&json).map_err(RustError::AuditJson)?;
    let label = |index: &usize| info.packages.get(*index).map(|p| format!("{}@{}", p.name, p.version));
    let crates = info
        .packages
        .iter()
        .map(|p| RustCrate {
            name: p.name.clone(),
            version: p.version.clone(),
            source: CrateSource::from_auditable(&p.source),
            build_only: p.kind.as_deref() == Some("build"),
            root: p.root,
            dependencies: p.dependencies.iter().filter_map(label).collect(),
            checksum: None,
        })
        .collect();
    Ok(Some(crates))
}

/// The packages of a `cargo auditable` binary, as syft reports them: every
/// crate that is compiled into it (the root crate included), leaving out
/// build-only ones (build scripts, proc macros), which the binary does not
/// contain. See [`read_auditable`] for `None` and errors.
pub fn parse_auditable(binary: &[u8]) -> Result<Option<Vec<Package>>, RustError> {
    Ok(read_auditable(binary)?
        .map(|crates| crates.iter().filter(|c| !c.build_only).map(|c| to_package(c, "rust-cargo-auditable")).collect()))
}

/// The raw `.dep-v0` bytes, from the first architecture of a universal
/// Mach-O that has them.
fn auditable_section(binary: &[u8]) -> Result<Option<&[u8]>, RustError> {
    for image in executable_images(binary) {
        // A file with an executable's magic but broken headers is not ours
        // to judge: it is simply not a binary we can read.
        let Ok(file) = object::File::parse(image) else { continue };
        if let Some(section) = file.section_by_name(AUDITABLE_SECTION) {
            return section.data().map(Some).map_err(RustError::Section);
        }
    }
    Ok(None)
}

#[derive(Deserialize)]
struct LockFile {
    #[serde(default)]
    package: Vec<LockPackage>,
    /// Cargo.lock v1 keeps checksums here: `"checksum NAME VERSION (SOURCE)" = "hex"`.
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// Reads the crates of a `Cargo.lock`, any format version (v1's
/// `[metadata]` checksums, v2's inline checksums, v3 and v4 with their
/// `version =` line). Every `[[package]]` is a crate, workspace members
/// included (as syft reports them).
///
/// Dependencies are written `name`, `name version` or `name version (source)`;
/// a bare name is resolved against the unique crate of that name.
pub fn read_cargo_lock(bytes: &[u8]) -> Result<Vec<RustCrate>, RustError> {
    let text = String::from_utf8_lossy(bytes);
    let lock: LockFile = toml::from_str(&text)?;
    let mut versions_by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for package in &lock.package {
        if let (Some(name), Some(version)) = (&package.name, &package.version) {
            versions_by_name.entry(name).or_default().push(version);
        }
    }
    let mut crates = Vec::with_capacity(lock.package.len());
    for (index, package) in lock.package.iter().enumerate() {
        let name = package.name.clone().ok_or(RustError::LockEntry { index, field: "name" })?;
        let version = package.version.clone().ok_or(RustError::LockEntry { index, field: "version" })?;
        let checksum = package.checksum.clone().or_else(|| {
            let key = format!("checksum {name} {version} ({})", package.source.as_deref().unwrap_or_default());
            lock.metadata.get(&key).and_then(|v| v.as_str()).map(str::to_owned)
        });
        let dependencies = package
            .dependencies
            .iter()
            .filter_map(|dep| {
                let mut words = dep.split_whitespace();
                let dep_name = words.next()?;
                let dep_version = match words.next() {
                    Some(version) => version,
                    None => match versions_by_name.get(dep_name).map(Vec::as_slice) {
                        Some([only]) => only,
                        _ => return Some(dep_name.to_owned()),
                    },
                };
                Some(format!("{dep_name}@{dep_version}"))
            })
            .collect();
        crates.push(RustCrate {
            source: CrateSource::from_lock(package.source.as_deref()),
            build_only: false,
            root: false,
            dependencies,
            checksum: checksum.filter(|c| c != "<none>"),
            name,
            version,
        });
    }
    Ok(crates)
}

/// The packages of a `Cargo.lock`; see [`read_cargo_lock`].
pub fn parse_cargo_lock(bytes: &[u8]) -> Result<Vec<Package>, RustError> {
    Ok(read_cargo_lock(bytes)?.iter().map(|c| to_package(c, "rust-cargo-lock")).collect())
}

/// `pkg:cargo/<name>@<version>`.
pub fn purl(name: &str, version: &str) -> String {
    format!("pkg:cargo/{}@{}", purl_encode(name), purl_encode(version))
}

/// Builds the SBOM package; `found_by` names the evidence
/// (`rust-cargo-auditable` or `rust-cargo-lock`). Locations are left for the caller.
pub fn to_package(krate: &RustCrate, found_by: &str) -> Package {
    let mut package =
        Package::new(PackageType::RustCrate, &krate.name, &krate.version, None, purl(&krate.name, &krate.version));
    package.found_by = Some(found_by.to_owned());
    let metadata = &mut package.metadata;
    metadata.insert("source".to_owned(), krate.source.as_str().into());
    if let CrateSource::Registry(Some(url)) = &krate.source {
        metadata.insert("registry".to_owned(), url.clone().into());
    }
    if krate.root {
        metadata.insert("root".to_owned(), true.into());
    }
    if krate.build_only {
        metadata.insert("kind".to_owned(), "build".into());
    }
    if let Some(checksum) = &krate.checksum {
        metadata.insert("checksum".to_owned(), checksum.clone().into());
    }
    if !krate.dependencies.is_empty() {
        metadata.insert("dependencies".to_owned(), krate.dependencies.clone().into());
    }
    package
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_sources() {
        assert_eq!(
            CrateSource::from_lock(Some("registry+https://github.com/rust-lang/crates.io-index")),
            CrateSource::CratesIo
        );
        assert_eq!(CrateSource::from_lock(Some("sparse+https://index.crates.io/")), CrateSource::CratesIo);
        assert_eq!(
            CrateSource::from_lock(Some("sparse+https://my.registry/index/")),
            CrateSource::Registry(Some("https://my.registry/index".into()))
        );
        assert_eq!(CrateSource::from_lock(Some("git+https://github.com/x/y?rev=1#abc")), CrateSource::Git);
        assert_eq!(CrateSource::from_lock(None), CrateSource::Local);
    }

    #[test]
    fn not_a_binary() {
        assert!(matches!(read_auditable(b"plain text"), Ok(None)));
        assert!(matches!(read_auditable(b"\x7fELF\x02\x01\x01"), Ok(None)));
        assert!(matches!(read_auditable(&[]), Ok(None)));
    }
}
