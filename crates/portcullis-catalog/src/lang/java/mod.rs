//! Java archives: `.jar`, `.war`, `.ear` and the other zip-based formats
//! syft reads (`.par`, `.sar`, `.nar`, `.jpi`, `.hpi`, `.kar`, `.lpkg`),
//! including archives nested inside them (`WEB-INF/lib/*.jar`,
//! `BOOT-INF/lib/*.jar`, `lib/*.jar`, or any member with those extensions).
//!
//! Each archive yields its own package, identified in this order:
//! 1. the `pom.properties` (anywhere in the archive, like syft's
//!    `*pom.properties` glob, not only under `META-INF/maven/`) whose
//!    `artifactId` matches the archive's file name, by syft's rule: an exact
//!    match when some `pom.properties` has exactly the file's name, otherwise
//!    the artifactId is a prefix of the name or the name ends with it;
//! 2. otherwise `META-INF/MANIFEST.MF` and the file name: the name from the
//!    file name (`commons-lang3-3.12.0.jar` → `commons-lang3`), then the
//!    manifest (`Name`, `Bundle-Name`, `Short-Name`, `Extension-Name`,
//!    `Implementation-Title`); the version from the manifest
//!    (`Implementation-Version`, `Specification-Version`, `Plugin-Version`,
//!    `Bundle-Version`), then the file name. syft takes the file name's
//!    version first; the manifest's is what the build wrote, and Debian
//!    installs jars under unversioned names (`commons-lang3.jar`).
//!
//! An archive with neither a name nor a version this way yields no package
//! of its own (syft reports it with an empty version; trivy asks Maven
//! Central for the sha1). syft also reports nothing at all for an archive
//! without a manifest, not even its `pom.properties`; trivy and this reader
//! do (trivy's nested-jar fixture has no manifests).
//!
//! Every other `pom.properties` with an `artifactId` and a `version` is a
//! further package: a dependency shaded into the archive. Copies of the
//! same groupId/artifactId/version in one archive are reported once (trivy
//! does this too; syft reports each copy, with its own `pom.properties` path).
//!
//! Licences come from the `pom.xml` beside the `pom.properties`
//! (`<licenses><license><name>`), else from the manifest's `Bundle-License`.
//! syft prefers the manifest and also classifies packed LICENSE files and
//! asks Maven Central; trivy, like this reader, prefers `pom.xml`. Neither
//! network lookups nor licence-text classification are done here.
//!
//! Archives are read from memory, never extracted. Nesting depth, each
//! member's size and the total decompressed size are capped
//! ([`JavaLimits`]); going over any cap fails the whole archive with a typed
//! error rather than returning what was found so far.

mod manifest;
mod pom;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};
use std::sync::LazyLock;

use regex::Regex;
use sha1::{Digest, Sha1};
use zip::ZipArchive;

use portcullis_sbom::{Package, PackageType};

use crate::distro::purl_encode;

pub use manifest::{Manifest, parse_manifest};
pub use pom::{PomProject, PomProperties, parse_pom_properties, parse_pom_xml};

/// Extensions of the zip-based Java archive formats, as syft lists them.
pub const ARCHIVE_EXTENSIONS: &[&str] = &["jar", "war", "ear", "par", "sar", "nar", "jpi", "hpi", "kar", "lpkg"];

/// Java archives anywhere in the image.
pub const PATTERNS: &[&str] = &[
    "/**/*.jar",
    "/**/*.war",
    "/**/*.ear",
    "/**/*.par",
    "/**/*.sar",
    "/**/*.nar",
    "/**/*.jpi",
    "/**/*.hpi",
    "/**/*.kar",
    "/**/*.lpkg",
];

/// Caps that keep a hostile archive (a zip bomb, nested or flat) from
/// exhausting memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JavaLimits {
    /// Archives nested deeper than this (the top archive is level 0) are
    /// refused. Real applications nest two or three levels (`.ear` → `.war` → `.jar`).
    pub max_depth: usize,
    /// Total bytes decompressed from one top-level archive, all nested
    /// archives and metadata files included.
    pub max_total_uncompressed: u64,
    /// Largest nested archive read into memory.
    pub max_member_size: u64,
    /// Largest `MANIFEST.MF`, `pom.properties` or `pom.xml` read.
    pub max_metadata_size: u64,
}

impl Default for JavaLimits {
    fn default() -> Self {
        Self { max_depth: 8, max_total_uncompressed: 1 << 30, max_member_size: 256 << 20, max_metadata_size: 4 << 20 }
    }
}

/// Errors name the archive by its virtual path (`/app.war:WEB-INF/lib/x.jar`).
#[derive(Debug, thiserror::Error)]
pub enum JavaError {
    #[error("{path}: not a readable zip archive: {source}")]
    Zip { path: String, source: zip::result::ZipError },
    #[error("{path}: cannot decompress: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: archives nested more than {limit} levels deep (zip bomb?)")]
    TooDeep { path: String, limit: usize },
    #[error("{path}: {size} bytes or more once decompressed, over the {limit}-byte limit for one member (zip bomb?)")]
    MemberTooLarge { path: String, size: u64, limit: u64 },
    #[error("{path}: more than {limit} bytes decompressed from one archive in total (zip bomb?)")]
    TotalTooLarge { path: String, limit: u64 },
}

/// A nested member with an archive's extension that is not a zip file (a
/// test resource, a placeholder): skipped, as syft and trivy skip it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedArchive {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct JavaReport {
    pub packages: Vec<Package>,
    pub skipped: Vec<SkippedArchive>,
    /// Bytes decompressed while reading, nested archives included.
    pub decompressed: u64,
}

/// Reads a Java archive and every archive nested in it; see the module
/// documentation for how packages are identified. Skipped nested members
/// are logged, not returned.
pub fn parse_archive(path_in_image: &str, bytes: &[u8], limits: &JavaLimits) -> Result<Vec<Package>, JavaError> {
    let report = parse_archive_detailed(path_in_image, bytes, limits)?;
    for skipped in &report.skipped {
        tracing::warn!(path = %skipped.path, reason = %skipped.reason, "nested Java archive skipped");
    }
    Ok(report.packages)
}

/// [`parse_archive`], also returning the skipped nested members.
pub fn parse_archive_detailed(path_in_image: &str, bytes: &[u8], limits: &JavaLimits) -> Result<JavaReport, JavaError> {
    let mut walk = Walk { limits, report: JavaReport::default() };
    walk.archive(path_in_image, bytes, 0)?;
    Ok(walk.report)
}

/// Whether a member name has one of the [`ARCHIVE_EXTENSIONS`] (any case).
pub fn is_java_archive(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && !stem.ends_with('/') && ARCHIVE_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
    })
}

/// An archive's name and version as its file name suggests, with syft's
/// patterns: the version is the rest of the name from the first
/// dash-separated part that starts with a digit or `build<digits>` (or is
/// a final `r<digits>`/`rc<digits>`); failing that, a trailing
/// `_<version>` or `.<version>` is split off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveFilename {
    pub name: String,
    pub version: String,
}

static NAME_AND_VERSION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?Ui)^(?P<name>(?:[[:alpha:]][[:word:].]*(?:\.[[:alpha:]][[:word:].]*)*-?)+)(?:-(?P<version>(\d.*|(build\d+.*)|(rc?\d+(?:^[[:alpha:]].*)?))))?$",
    )
    .ok()
});
static SECONDARY_VERSION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:[._-](?P<version>(\d.*|(build\d+.*)|(rc?\d+(?:^[[:alpha:]].*)?))))?$").ok());

impl ArchiveFilename {
    /// `path` is a file name or path; only its last component counts, minus
    /// its extension.
    pub fn parse(path: &str) -> ArchiveFilename {
        let base = path.rsplit(['/', ':']).next().unwrap_or(path);
        let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
        let captures = NAME_AND_VERSION.as_ref().and_then(|r| r.captures(stem));
        let mut name = captures.as_ref().and_then(|c| c.name("name")).map_or("", |m| m.as_str()).to_owned();
        let mut version = captures.as_ref().and_then(|c| c.name("version")).map_or("", |m| m.as_str()).to_owned();
        if version.is_empty() && !name.is_empty() {
            let secondary = SECONDARY_VERSION
                .as_ref()
                .and_then(|r| r.captures(&name))
                .and_then(|c| c.name("version"))
                .map_or(String::new(), |m| m.as_str().to_owned());
            if !secondary.is_empty() && name.len() > secondary.len() {
                name.truncate(name.len() - secondary.len() - 1);
                version = secondary;
            }
        }
        ArchiveFilename { name, version }
    }
}

/// How an archive's own package was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdentifiedBy {
    PomProperties,
    Manifest,
    Filename,
}

impl IdentifiedBy {
    fn as_str(self) -> &'static str {
        match self {
            IdentifiedBy::PomProperties => "pom.properties",
            IdentifiedBy::Manifest => "manifest",
            IdentifiedBy::Filename => "filename",
        }
    }
}

/// The members of one archive worth reading.
struct Members {
    manifest: Option<usize>,
    /// (name, index), sorted by name.
    pom_properties: Vec<(String, usize)>,
    pom_xml: Vec<(String, usize)>,
    nested: Vec<(String, usize)>,
}

struct Walk<'l> {
    limits: &'l JavaLimits,
    report: JavaReport,
}

impl Walk<'_> {
    fn archive(&mut self, virtual_path: &str, bytes: &[u8], depth: usize) -> Result<(), JavaError> {
        let mut zip = match ZipArchive::new(Cursor::new(bytes)) {
            Ok(zip) => zip,
            Err(source) if depth == 0 => return Err(JavaError::Zip { path: virtual_path.to_owned(), source }),
            Err(error) => {
                let reason = error.to_string();
                self.report.skipped.push(SkippedArchive { path: virtual_path.to_owned(), reason });
                return Ok(());
            }
        };
        let members = list_members(&mut zip, virtual_path)?;

        let manifest = match members.manifest {
            Some(index) => Some(parse_manifest(&self.read(&mut zip, index, virtual_path, MemberKind::Metadata)?)),
            None => None,
        };
        let mut properties: BTreeMap<String, PomProperties> = BTreeMap::new();
        for (name, index) in &members.pom_properties {
            let text = self.read(&mut zip, *index, virtual_path, MemberKind::Metadata)?;
            let mut props = parse_pom_properties(&text);
            props.path = name.clone();
            if !props.artifact_id.is_empty() && !props.version.is_empty() {
                properties.insert(parent_dir(name).to_owned(), props);
            }
        }
        let mut projects: BTreeMap<String, PomProject> = BTreeMap::new();
        for (name, index) in &members.pom_xml {
            let text = self.read(&mut zip, *index, virtual_path, MemberKind::Metadata)?;
            if let Some(project) = parse_pom_xml(&String::from_utf8_lossy(&text)) {
                projects.insert(parent_dir(name).to_owned(), project);
            }
        }

        let filename = ArchiveFilename::parse(virtual_path);
        let sha1 = hex(&Sha1::digest(bytes));
        let own = own_identity(&filename, &properties, &projects, manifest.as_ref());
        let mut reported: BTreeSet<(String, String, String)> = BTreeSet::new();
        if let Some(identity) = &own {
            let key =
                (identity.group_id.clone().unwrap_or_default(), identity.artifact_id.clone(), identity.version.clone());
            reported.insert(key);
            let project = identity.pom_dir.as_ref().and_then(|dir| projects.get(dir));
            let mut package = identity.to_package(virtual_path, project, manifest.as_ref());
            package.metadata.insert("sha1".to_owned(), sha1.clone().into());
            self.report.packages.push(package);
        }
        for (dir, props) in &properties {
            let key = (props.group_id.clone(), props.artifact_id.clone(), props.version.clone());
            if !reported.insert(key) {
                continue;
            }
            let identity = Identity {
                group_id: Some(props.group_id.clone()).filter(|g| !g.is_empty()),
                artifact_id: props.artifact_id.clone(),
                version: props.version.clone(),
                by: IdentifiedBy::PomProperties,
                pom_dir: Some(dir.clone()),
                pom_properties: Some(props.path.clone()),
            };
            let mut package = identity.to_package(virtual_path, projects.get(dir), None);
            package.metadata.insert("embedded".to_owned(), true.into());
            self.report.packages.push(package);
        }

        for (name, index) in &members.nested {
            let nested_path = format!("{virtual_path}:{name}");
            if depth + 1 > self.limits.max_depth {
                return Err(JavaError::TooDeep { path: nested_path, limit: self.limits.max_depth });
            }
            let data = self.read(&mut zip, *index, virtual_path, MemberKind::Archive)?;
            self.archive(&nested_path, &data, depth + 1)?;
        }
        Ok(())
    }

    /// Decompresses one member, within the per-member and total caps.
    fn read(
        &mut self,
        zip: &mut ZipArchive<Cursor<&[u8]>>,
        index: usize,
        archive_path: &str,
        kind: MemberKind,
    ) -> Result<Vec<u8>, JavaError> {
        let limits = self.limits;
        let mut member =
            zip.by_index(index).map_err(|source| JavaError::Zip { path: archive_path.to_owned(), source })?;
        let path = format!("{archive_path}:{}", member_name(member.name(), member.name_raw()));
        let cap = match kind {
            MemberKind::Metadata => limits.max_metadata_size,
            MemberKind::Archive => limits.max_member_size,
        };
        // The declared size can lie in either direction; it is only used to
        // refuse early, the real count below is what is enforced.
        if member.size() > cap {
            return Err(JavaError::MemberTooLarge { path, size: member.size(), limit: cap });
        }
        let remaining = limits.max_total_uncompressed.saturating_sub(self.report.decompressed);
        let allowance = cap.min(remaining);
        let mut data = Vec::with_capacity(usize::try_from(member.size().min(allowance)).unwrap_or(0));
        (&mut member)
            .take(allowance.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|source| JavaError::Read { path: path.clone(), source })?;
        let read = data.len() as u64;
        if read > cap {
            return Err(JavaError::MemberTooLarge { path, size: read, limit: cap });
        }
        if read > remaining {
            return Err(JavaError::TotalTooLarge { path, limit: limits.max_total_uncompressed });
        }
        self.report.decompressed += read;
        Ok(data)
    }
}

#[derive(Clone, Copy)]
enum MemberKind {
    Metadata,
    Archive,
}

fn list_members(zip: &mut ZipArchive<Cursor<&[u8]>>, virtual_path: &str) -> Result<Members, JavaError> {
    let mut members = Members { manifest: None, pom_properties: Vec::new(), pom_xml: Vec::new(), nested: Vec::new() };
    for index in 0..zip.len() {
        let entry =
            zip.by_index_raw(index).map_err(|source| JavaError::Zip { path: virtual_path.to_owned(), source })?;
        if entry.is_dir() {
            continue;
        }
        let name = member_name(entry.name(), entry.name_raw());
        if name == "META-INF/MANIFEST.MF" {
            members.manifest = Some(index);
        } else if name.ends_with("pom.properties") {
            members.pom_properties.push((name, index));
        } else if name.ends_with("pom.xml") {
            members.pom_xml.push((name, index));
        } else if is_java_archive(&name) {
            members.nested.push((name, index));
        }
    }
    members.pom_properties.sort();
    members.pom_xml.sort();
    members.nested.sort();
    Ok(members)
}

/// A member's name; names that are not valid in the encoding their flags
/// declare are read as lossy UTF-8 (what Java writes) rather than dropped.
fn member_name(decoded: zip::result::ZipResult<std::borrow::Cow<'_, str>>, raw: &[u8]) -> String {
    match decoded {
        Ok(name) => name.into_owned(),
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What an archive (or a shaded dependency) is.
struct Identity {
    group_id: Option<String>,
    artifact_id: String,
    version: String,
    by: IdentifiedBy,
    /// Directory of the `pom.properties` (and `pom.xml`) it came from.
    pom_dir: Option<String>,
    pom_properties: Option<String>,
}

/// syft's `artifactIDMatchesFilename`.
fn artifact_matches_filename(artifact_id: &str, file_name: &str, artifact_ids: &BTreeSet<&str>) -> bool {
    if artifact_id.is_empty() || file_name.is_empty() {
        return false;
    }
    if artifact_ids.contains(file_name) {
        return artifact_id == file_name;
    }
    artifact_id.starts_with(file_name) || file_name.ends_with(artifact_id)
}

fn own_identity(
    filename: &ArchiveFilename,
    properties: &BTreeMap<String, PomProperties>,
    projects: &BTreeMap<String, PomProject>,
    manifest: Option<&Manifest>,
) -> Option<Identity> {
    let artifact_ids: BTreeSet<&str> = properties.values().map(|p| p.artifact_id.as_str()).collect();
    // syft walks the pom.properties in path order and keeps the last match,
    // unless one with a pom.xml beside it comes first.
    let mut matched = None;
    for (dir, props) in properties {
        if artifact_matches_filename(&props.artifact_id, &filename.name, &artifact_ids) {
            matched = Some((dir, props));
            if projects.contains_key(dir) {
                break;
            }
        }
    }
    if let Some((dir, props)) = matched {
        return Some(Identity {
            group_id: Some(props.group_id.clone()).filter(|g| !g.is_empty()),
            artifact_id: props.artifact_id.clone(),
            version: props.version.clone(),
            by: IdentifiedBy::PomProperties,
            pom_dir: Some(dir.clone()),
            pom_properties: Some(props.path.clone()),
        });
    }
    // syft leaves out instrumentation jars that stand in for the libraries
    // they weave (New Relic's): their manifest names the target library.
    if manifest.is_some_and(|m| m.main("Weave-Classes").is_some()) {
        return None;
    }
    let from_manifest = |keys: &[&str]| manifest.and_then(|m| keys.iter().find_map(|k| m.field(k))).map(str::to_owned);
    let (artifact_id, name_by) = if !filename.name.is_empty() {
        (filename.name.clone(), IdentifiedBy::Filename)
    } else {
        (
            from_manifest(&["Name", "Bundle-Name", "Short-Name", "Extension-Name", "Implementation-Title"])?,
            IdentifiedBy::Manifest,
        )
    };
    let manifest_version =
        from_manifest(&["Implementation-Version", "Specification-Version", "Plugin-Version", "Bundle-Version"]);
    let (version, by) = match manifest_version {
        Some(version) => (version, IdentifiedBy::Manifest),
        None if !filename.version.is_empty() => (filename.version.clone(), name_by),
        None => return None,
    };
    Some(Identity {
        group_id: manifest.and_then(|m| group_id_from_manifest(m, &artifact_id)),
        artifact_id,
        version,
        by,
        pom_dir: None,
        pom_properties: None,
    })
}

/// Reverse-domain prefixes that make a manifest value look like a groupId.
const GROUP_PREFIXES: &[&str] = &[
    "com.", "org.", "net.", "io.", "edu.", "gov.", "mil.", "be.", "ch.", "de.", "dev.", "eu.", "fr.", "it.", "jp.",
    "nl.", "uk.", "us.", "javax.", "jakarta.",
];

/// A groupId from the manifest fields syft consults (its `cpe` package's
/// Java manifest fields), when the value looks like a reverse domain name.
/// OSGi directives (`org.foo;singleton:=true`) are cut off.
fn group_id_from_manifest(manifest: &Manifest, artifact_id: &str) -> Option<String> {
    const FIELDS: &[&str] = &[
        "Extension-Name",
        "Specification-Vendor",
        "Implementation-Vendor",
        "Bundle-SymbolicName",
        "Implementation-Vendor-Id",
        "Implementation-Title",
        "Bundle-Activator",
        "Automatic-Module-Name",
        "Main-Class",
        "Package",
    ];
    FIELDS.iter().filter_map(|key| manifest.main(key)).find_map(|value| {
        let value = value.split(';').next().unwrap_or_default().trim();
        let looks_like_group = GROUP_PREFIXES.iter().any(|p| value.starts_with(p))
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        // `org.apache.commons.lang3` for artifact `commons-lang3`: keep the
        // whole name; syft does the same.
        (looks_like_group && value != artifact_id).then(|| value.to_owned())
    })
}

/// Main-section manifest keys kept as evidence (the full manifest can run
/// to hundreds of `Export-Package` lines).
const MANIFEST_KEYS: &[&str] = &[
    "Implementation-Title",
    "Implementation-Version",
    "Implementation-Vendor",
    "Implementation-Vendor-Id",
    "Specification-Title",
    "Specification-Version",
    "Specification-Vendor",
    "Bundle-Name",
    "Bundle-SymbolicName",
    "Bundle-Version",
    "Bundle-License",
    "Automatic-Module-Name",
    "Main-Class",
    "Created-By",
    "Build-Jdk",
    "Build-Jdk-Spec",
];

impl Identity {
    fn to_package(&self, virtual_path: &str, project: Option<&PomProject>, manifest: Option<&Manifest>) -> Package {
        // syft's purl uses the name as the groupId when none is known.
        let group = self.group_id.as_deref().unwrap_or(&self.artifact_id);
        let purl = format!(
            "pkg:maven/{}/{}@{}",
            purl_encode(group),
            purl_encode(&self.artifact_id),
            purl_encode(&self.version)
        );
        let mut package = Package::new(PackageType::JavaArchive, &self.artifact_id, &self.version, None, purl);
        package.found_by = Some("java".to_owned());
        package.licenses = project.map(|p| p.licenses.clone()).unwrap_or_default();
        if package.licenses.is_empty()
            && let Some(license) = manifest.and_then(|m| m.main("Bundle-License"))
        {
            package.licenses.push(license.to_owned());
        }
        let metadata = &mut package.metadata;
        metadata.insert("virtual_path".to_owned(), virtual_path.into());
        if let Some(group) = &self.group_id {
            metadata.insert("group_id".to_owned(), group.clone().into());
        }
        metadata.insert("artifact_id".to_owned(), self.artifact_id.clone().into());
        metadata.insert("identified_by".to_owned(), self.by.as_str().into());
        if let Some(path) = &self.pom_properties {
            metadata.insert("pom_properties".to_owned(), path.clone().into());
        }
        if let Some(project) = project {
            let mut pom = serde_json::Map::new();
            for (key, value) in [("name", &project.name), ("description", &project.description), ("url", &project.url)]
            {
                if let Some(value) = value {
                    pom.insert(key.to_owned(), value.clone().into());
                }
            }
            if !pom.is_empty() {
                metadata.insert("pom_project".to_owned(), pom.into());
            }
        }
        if let Some(manifest) = manifest {
            let kept: serde_json::Map<String, serde_json::Value> = MANIFEST_KEYS
                .iter()
                .filter_map(|key| manifest.main(key).map(|v| ((*key).to_owned(), v.into())))
                .collect();
            if !kept.is_empty() {
                metadata.insert("manifest".to_owned(), kept.into());
            }
        }
        package
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames() {
        let parse = |s: &str| {
            let f = ArchiveFilename::parse(s);
            (f.name, f.version)
        };
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(parse("/usr/share/java/commons-lang3-3.12.0.jar"), pair("commons-lang3", "3.12.0"));
        assert_eq!(parse("io.quarkus.gizmo.gizmo-1.1.jar"), pair("io.quarkus.gizmo.gizmo", "1.1"));
        assert_eq!(parse("app.war:WEB-INF/lib/guava-31.1-jre.jar"), pair("guava", "31.1-jre"));
        assert_eq!(parse("my-http2-server-5.jar"), pair("my-http2-server", "5"));
        // Checked against Go's regexp with syft's patterns; syft's own
        // comment claims `ironman` / `r4-2009`, which its pattern cannot give.
        assert_eq!(parse("ironman-r4-2009.jar"), pair("ironman-r4", "2009"));
        assert_eq!(parse("jetpack-build235-rc5.jar"), pair("jetpack", "build235-rc5"));
        assert_eq!(parse("app-rc1.jar"), pair("app", "rc1"));
        assert_eq!(parse("spring-core-5.3.4-SNAPSHOT.jar"), pair("spring-core", "5.3.4-SNAPSHOT"));
        assert_eq!(parse("nested.jar"), pair("nested", ""));
        assert_eq!(parse("jsr305-0.1~+svn49.jar"), pair("jsr305", "0.1~+svn49"));
        assert_eq!(parse("error_prone_annotations.jar"), pair("error_prone_annotations", ""));
        assert_eq!(parse("lib_1.2.3.jar"), pair("lib", "1.2.3"));
        assert_eq!(parse("1234.jar"), pair("", ""));
    }

    #[test]
    fn archive_names() {
        assert!(is_java_archive("WEB-INF/lib/x.jar"));
        assert!(is_java_archive("lib/x.JAR"));
        assert!(is_java_archive("plugins/a.hpi"));
        assert!(!is_java_archive("x.jar/"));
        assert!(!is_java_archive("dir/.jar"));
        assert!(!is_java_archive("x.zip"));
    }

    #[test]
    fn filename_matching() {
        let ids: BTreeSet<&str> = ["gizmo", "jackson-databind"].into();
        assert!(artifact_matches_filename("gizmo", "io.quarkus.gizmo.gizmo", &ids));
        assert!(!artifact_matches_filename("jackson-databind", "io.quarkus.gizmo.gizmo", &ids));
        let ids: BTreeSet<&str> = ["nested", "nested2"].into();
        assert!(artifact_matches_filename("nested", "nested", &ids));
        assert!(!artifact_matches_filename("nested2", "nested", &ids));
        assert!(!artifact_matches_filename("", "x", &ids));
    }
}
