//! The Portcullis SBOM model and its native JSON form.
//!
//! This crate owns the shape of an analysis result: the image it came from,
//! the detected distribution, the layers, and the packages found, each with the
//! places in the image that prove it. It knows nothing about how images are read
//! or how packages are found, so tools that only consume SBOMs can depend on it
//! alone.
//!
//! The native JSON document is versioned by [`SCHEMA_VERSION`]; `docs/sbom-json.md`
//! documents every field. Additive changes bump the minor number, anything a
//! reader could trip over bumps the major number.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub mod format;
mod table;

pub use table::render_table;

/// A Python project name in PEP 503 normal form, as PyPI, purls and the
/// vulnerability feeds compare them: lower case, each run of `-`, `_` and
/// `.` one `-` (`Typing__Extensions` → `typing-extensions`).
pub fn pep503_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator = false;
        }
    }
    out
}

/// Version of the native JSON schema written by [`Sbom::to_json`].
pub const SCHEMA_VERSION: &str = "1.1";

/// URL of the schema documentation, written into every document.
pub const SCHEMA_URL: &str = "https://github.com/portcullis-scan/portcullis/blob/main/docs/sbom-json.md";

/// A complete analysis result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sbom {
    pub schema: SchemaInfo,
    pub tool: ToolInfo,
    pub source: SourceInfo,
    /// Absent when no distribution could be identified (e.g. `scratch` images).
    pub distro: Option<Distro>,
    pub layers: Vec<Layer>,
    pub packages: Vec<Package>,
    /// Every file of the analysed view (squashed, or every layer's for
    /// `all-layers`), with its metadata and digest.
    #[serde(default)]
    pub files: Vec<FileRecord>,
    /// Secrets found by the named rules: where, never what.
    #[serde(default)]
    pub secrets: Vec<ContentMatch>,
    /// Matches of user-defined content-search rules.
    #[serde(default)]
    pub content_matches: Vec<ContentMatch>,
    /// Files whose content was asked for (by default `/etc/passwd`).
    #[serde(default)]
    pub retrieved_files: Vec<RetrievedFile>,
    /// The Dockerfile, as supplied by the user or reconstructed from history.
    #[serde(default)]
    pub dockerfile: Option<Dockerfile>,
}

/// One filesystem object of the image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRecord {
    pub path: String,
    /// `file`, `dir`, `symlink`, `hardlink`, `char-device`, `block-device`, `fifo`.
    pub kind: String,
    /// Permission bits, including setuid (0o4000), setgid (0o2000) and sticky (0o1000).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// Symlink or hard-link target, as recorded.
    pub link_target: Option<String>,
    /// `sha256:<hex>` of the content, for regular files.
    pub sha256: Option<String>,
    /// Opt-in extra digests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// `elf`, `pe` or `macho` when the content is an executable image.
    pub executable_format: Option<String>,
    /// Index of the layer whose copy this is.
    pub layer_index: Option<usize>,
    /// Ids of the packages that claim this file.
    #[serde(default)]
    pub owners: Vec<String>,
}

impl FileRecord {
    pub fn is_setuid(&self) -> bool {
        self.mode & 0o4000 != 0
    }

    pub fn is_setgid(&self) -> bool {
        self.mode & 0o2000 != 0
    }
}

/// A named rule matched a line of a file. The matched text is never kept.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContentMatch {
    pub rule: String,
    pub path: String,
    /// 1-based line number.
    pub line: u64,
    pub layer_index: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RetrievedFile {
    pub path: String,
    pub layer_index: Option<usize>,
    /// Content as UTF-8 text (lossy), capped at the configured size.
    pub content: String,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Dockerfile {
    /// `actual` when supplied by the user, `guessed` when rebuilt from the image history.
    pub kind: DockerfileKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DockerfileKind {
    Actual,
    Guessed,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SchemaInfo {
    pub version: String,
    pub url: String,
}

impl Default for SchemaInfo {
    fn default() -> Self {
        Self { version: SCHEMA_VERSION.to_owned(), url: SCHEMA_URL.to_owned() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

/// What was analysed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceInfo {
    /// The scheme the image was read through: `registry`, `oci-dir`, `oci-archive`,
    /// `docker-archive` or `dir`.
    pub scheme: String,
    /// The user's input, minus the scheme.
    pub input: String,
    /// Which layers the catalogers looked at: `squashed` or `all-layers`.
    pub scope: String,
    /// Image metadata; absent for `dir:` sources.
    pub image: Option<ImageInfo>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImageInfo {
    /// Digest of the manifest the layers came from (platform-specific manifest).
    pub manifest_digest: Option<String>,
    /// Digest of the manifest list / OCI index the manifest was picked from, if any.
    pub index_digest: Option<String>,
    pub manifest_media_type: Option<String>,
    /// Digest of the image configuration blob: the image id.
    pub config_digest: String,
    /// Tags or references the image was known by (`registry/repo:tag`).
    pub references: Vec<String>,
    pub platform: Option<String>,
    pub created: Option<String>,
    pub config: ImageConfig,
    pub history: Vec<HistoryEntry>,
}

/// The runtime configuration recorded in the image config blob.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImageConfig {
    pub user: Option<String>,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: Option<String>,
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub healthcheck: Option<Healthcheck>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Healthcheck {
    pub test: Vec<String>,
    /// Durations in nanoseconds, as Docker records them.
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub start_period: Option<i64>,
    pub retries: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HistoryEntry {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
    /// Index into [`Sbom::layers`] of the layer this step produced, if it produced one.
    pub layer_index: Option<usize>,
}

/// One filesystem layer, in application order (base first).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Layer {
    pub index: usize,
    /// Digest of the blob as stored (compressed), if the source had one.
    pub digest: Option<String>,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    /// Blob size in bytes as stored.
    pub size: Option<u64>,
    /// Bytes of uncompressed tar read.
    pub uncompressed_size: u64,
    pub file_count: u64,
}

/// An identified operating system distribution.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Distro {
    /// os-release `ID` (lower case), e.g. `debian`, `alpine`, `rhel`.
    pub id: String,
    pub version_id: Option<String>,
    pub version_codename: Option<String>,
    pub id_like: Vec<String>,
    pub name: Option<String>,
    pub pretty_name: Option<String>,
    pub cpe_name: Option<String>,
    /// The file the identification came from, e.g. `/etc/os-release`.
    pub source_file: String,
}

impl Distro {
    /// The value used in purl `distro=` qualifiers, e.g. `debian-12`, `alpine-3.16.2`.
    pub fn purl_qualifier(&self) -> String {
        match &self.version_id {
            Some(version) => format!("{}-{}", self.id, version),
            None => self.id.clone(),
        }
    }
}

/// Ecosystem of a package.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum PackageType {
    Deb,
    Rpm,
    Apk,
    /// PyPI distributions (`*.dist-info`, `*.egg-info`, eggs).
    Python,
    /// npm packages (installed `package.json`, lockfiles).
    Npm,
    /// Maven artifacts found in `.jar`/`.war`/`.ear` archives.
    JavaArchive,
    /// Go modules recorded in a binary's build info (and the Go toolchain as `stdlib`).
    GoModule,
    /// crates.io crates (`cargo auditable` data, `Cargo.lock`).
    RustCrate,
    /// RubyGems (`specifications/*.gemspec`).
    Gem,
    /// Composer packages (`vendor/composer/installed.json`).
    PhpComposer,
    /// NuGet packages from `*.deps.json`.
    Dotnet,
    /// Software recognised in a binary without package metadata (classifiers).
    Binary,
}

impl PackageType {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Deb => "deb",
            PackageType::Rpm => "rpm",
            PackageType::Apk => "apk",
            PackageType::Python => "python",
            PackageType::Npm => "npm",
            PackageType::JavaArchive => "java-archive",
            PackageType::GoModule => "go-module",
            PackageType::RustCrate => "rust-crate",
            PackageType::Gem => "gem",
            PackageType::PhpComposer => "php-composer",
            PackageType::Dotnet => "dotnet",
            PackageType::Binary => "binary",
        }
    }

    /// Operating-system packages, as opposed to language or binary ones.
    pub fn is_os(self) -> bool {
        matches!(self, PackageType::Deb | PackageType::Rpm | PackageType::Apk)
    }
}

/// A place in the image that is evidence of a package.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Absolute path inside the image.
    pub path: String,
    /// Index into [`Sbom::layers`] of the layer whose copy of `path` was read;
    /// `None` for `dir:` sources.
    pub layer_index: Option<usize>,
    /// Diff id of that layer.
    pub layer_diff_id: Option<String>,
}

/// A file a package says it installed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct OwnedFile {
    pub path: String,
    /// `algorithm:hex`, when the package database records one (md5 for dpkg,
    /// sha1 for apk, the rpm header's digest algorithm for rpm).
    pub digest: Option<String>,
}

/// A package found in the image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Package {
    /// Stable within a document: `type/name@version` plus arch when present.
    pub id: String,
    #[serde(rename = "type")]
    pub package_type: PackageType,
    pub name: String,
    /// The full version as the ecosystem writes it (dpkg `epoch:upstream-revision`,
    /// rpm `epoch:version-release`, apk `version-rN`).
    pub version: String,
    pub arch: Option<String>,
    pub purl: String,
    /// SPDX expressions or free-text licence names as the package declares them.
    pub licenses: Vec<String>,
    /// The source package (dpkg `Source`, rpm `SOURCERPM`, apk origin).
    pub source: Option<SourcePackage>,
    pub maintainer: Option<String>,
    pub vendor: Option<String>,
    /// Installed size in bytes.
    pub installed_size: Option<u64>,
    /// Index of the layer that installed this package at this version.
    pub introduced_in_layer: Option<usize>,
    /// Where the package was found: the package database first, then
    /// supporting files (file lists, copyright).
    pub locations: Vec<Location>,
    pub files: Vec<OwnedFile>,
    /// Name of the cataloger that found the package, e.g. `dpkg`, `python`.
    #[serde(default)]
    pub found_by: Option<String>,
    /// Id of the OS package whose files include this package's evidence: the
    /// package was installed by the OS package manager, so a finding against it
    /// is a finding against the owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// Ecosystem-specific fields, documented per type in `docs/sbom-json.md`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourcePackage {
    pub name: String,
    pub version: Option<String>,
}

impl Package {
    /// Creates a package with the identifying fields set and everything else empty.
    pub fn new(package_type: PackageType, name: &str, version: &str, arch: Option<&str>, purl: String) -> Self {
        let id = match arch {
            Some(arch) => format!("{}/{}@{}?arch={}", package_type.as_str(), name, version, arch),
            None => format!("{}/{}@{}", package_type.as_str(), name, version),
        };
        Self {
            id,
            package_type,
            name: name.to_owned(),
            version: version.to_owned(),
            arch: arch.map(str::to_owned),
            purl,
            licenses: Vec::new(),
            source: None,
            maintainer: None,
            vendor: None,
            installed_size: None,
            introduced_in_layer: None,
            locations: Vec::new(),
            files: Vec::new(),
            found_by: None,
            owner: None,
            metadata: BTreeMap::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("not a Portcullis SBOM document: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("unsupported Portcullis SBOM schema version {found} (this build reads {SCHEMA_VERSION})")]
    UnsupportedVersion { found: String },
}

/// The OCI label (and annotation) naming the image a build started FROM.
pub const BASE_NAME_LABEL: &str = "org.opencontainers.image.base.name";
/// The OCI label (and annotation) giving that base image's manifest digest.
pub const BASE_DIGEST_LABEL: &str = "org.opencontainers.image.base.digest";

impl Sbom {
    /// The image's config label `key`, when the source is an image that has it (non-empty).
    pub fn image_label(&self, key: &str) -> Option<&str> {
        let image = self.source.image.as_ref()?;
        image.config.labels.get(key).map(String::as_str).filter(|value| !value.trim().is_empty())
    }

    /// How many leading layers this image shares with a base image whose
    /// layers have `base_diff_ids`, in order. Layers count as shared while
    /// both diff ids are known and equal: a rebuilt base shares none.
    pub fn shared_leading_layers<'a>(&self, base_diff_ids: impl IntoIterator<Item = Option<&'a str>>) -> usize {
        self.layers
            .iter()
            .zip(base_diff_ids)
            .take_while(|(layer, base)| layer.diff_id.is_some() && layer.diff_id.as_deref() == *base)
            .count()
    }

    /// Serialises the document as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain data structures with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a native JSON document, refusing other major schema versions.
    pub fn from_json(text: &str) -> Result<Self, SbomError> {
        let mut sbom: Sbom = serde_json::from_str(text)?;
        let major = |v: &str| v.split('.').next().map(str::to_owned);
        if major(&sbom.schema.version) != major(SCHEMA_VERSION) {
            return Err(SbomError::UnsupportedVersion { found: sbom.schema.version });
        }
        // Minor versions only add fields: once read, the document is one of ours.
        sbom.schema = SchemaInfo::default();
        Ok(sbom)
    }
}
