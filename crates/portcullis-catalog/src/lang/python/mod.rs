//! Installed Python distributions: `*.dist-info` (wheels, pip), `*.egg-info`
//! directories and files (setuptools, distutils, Debian's python packages)
//! and zipped `*.egg` files.
//!
//! Pure parsers over bytes: [`parse_metadata`] for `METADATA` / `PKG-INFO`
//! / the `.egg-info` file, [`parse_egg`] for a zipped egg, [`parse_record`]
//! and [`parse_installed_files`] for the files a distribution installed,
//! [`parse_top_level`] and [`parse_direct_url`] for the companion files, and
//! [`to_package`] to build the SBOM entry. [`classify`] tells which of
//! these a path matched by [`PATTERNS`] is, and [`site_packages_dir`] where
//! its relative paths start.

pub(crate) mod catalog;
mod egg;
mod metadata;
mod record;

use portcullis_sbom::{OwnedFile, Package, PackageType};

use crate::distro::purl_encode;

pub use egg::{EGG_PKG_INFO, EGG_TOP_LEVEL, EggLimits, parse_egg};
pub use metadata::{PythonMetadata, parse_metadata};
pub use record::{
    DirectUrl, RecordEntry, decode_record_hash, installed_files, join_normalized, parse_direct_url,
    parse_installed_files, parse_record, parse_top_level, record_files, record_files_checked,
};

/// Name of the cataloger, as recorded in [`Package::found_by`].
pub const CATALOGER: &str = "python";

/// Every path the Python cataloger reads. `*` does not cross `/`, `**` does.
/// The `*.egg-info` and `*.egg` patterns also match directories, which
/// have no content to read: only their files are metadata.
pub const PATTERNS: &[&str] = &[
    "/**/*.dist-info/METADATA",
    "/**/*.dist-info/RECORD",
    "/**/*.dist-info/top_level.txt",
    "/**/*.dist-info/direct_url.json",
    "/**/*.egg-info/PKG-INFO",
    "/**/*.egg-info/installed-files.txt",
    "/**/*.egg-info/top_level.txt",
    "/**/*.egg-info",
    "/**/EGG-INFO/PKG-INFO",
    "/**/*.egg",
];

/// What a file matched by [`PATTERNS`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PythonFile {
    /// `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, an unzipped egg's
    /// `EGG-INFO/PKG-INFO`: read with [`parse_metadata`].
    Metadata,
    /// A `*.egg-info` regular file (distutils, Debian): [`parse_metadata`].
    EggInfoFile,
    /// A zipped `*.egg`: [`parse_egg`].
    Egg,
    /// `*.dist-info/RECORD`: [`parse_record`], paths relative to [`site_packages_dir`].
    Record,
    /// `*.egg-info/installed-files.txt`: [`parse_installed_files`], paths
    /// relative to the `.egg-info` directory.
    InstalledFiles,
    /// `top_level.txt`: [`parse_top_level`].
    TopLevel,
    /// `*.dist-info/direct_url.json`: [`parse_direct_url`].
    DirectUrl,
}

/// Which kind of file `path` is, or `None` for a path the patterns do not
/// select. Directory suffixes are compared case-insensitively, as syft does
/// (some tools write `*.DIST-INFO`); file names exactly.
pub fn classify(path: &str) -> Option<PythonFile> {
    let (dir, file) = path.rsplit_once('/')?;
    let parent = dir.rsplit('/').next().unwrap_or(dir).to_ascii_lowercase();
    let in_dist_info = parent.ends_with(".dist-info") && parent.len() > ".dist-info".len();
    let in_egg_info = parent.ends_with(".egg-info") && parent.len() > ".egg-info".len();
    match file {
        "METADATA" if in_dist_info => Some(PythonFile::Metadata),
        "PKG-INFO" if in_egg_info || parent == "egg-info" => Some(PythonFile::Metadata),
        "RECORD" if in_dist_info => Some(PythonFile::Record),
        "installed-files.txt" if in_egg_info => Some(PythonFile::InstalledFiles),
        "top_level.txt" if in_dist_info || in_egg_info => Some(PythonFile::TopLevel),
        "direct_url.json" if in_dist_info => Some(PythonFile::DirectUrl),
        _ => {
            let lower = file.to_ascii_lowercase();
            if lower.ends_with(".egg-info") && lower.len() > ".egg-info".len() {
                Some(PythonFile::EggInfoFile)
            } else if lower.ends_with(".egg") && lower.len() > ".egg".len() {
                Some(PythonFile::Egg)
            } else {
                None
            }
        }
    }
}

/// The directory a metadata file's distribution was installed into (the
/// one holding its `.dist-info` / `.egg-info` / `.egg`), against which
/// RECORD paths are resolved: `/x/site-packages/a-1.dist-info/METADATA` →
/// `/x/site-packages`; for the file forms (`a-1.egg-info`, `a-1.egg`) the
/// file's own directory.
pub fn site_packages_dir(metadata_path: &str) -> Option<String> {
    let parent = |p: &str| p.rsplit_once('/').map(|(dir, _)| if dir.is_empty() { "/" } else { dir }.to_owned());
    match classify(metadata_path)? {
        PythonFile::EggInfoFile | PythonFile::Egg => parent(metadata_path),
        _ => parent(&parent(metadata_path)?),
    }
}

/// Errors that make a file unusable.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PythonError {
    #[error("not Python metadata: NUL byte at offset {offset}")]
    Binary { offset: usize },
    #[error("not Python metadata: no `Field: value` header")]
    NoHeaders,
    #[error("Python metadata without a `{field}` field")]
    MissingField { field: &'static str },
    #[error("Python metadata headers larger than {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error("RECORD line {line}: {reason}")]
    Record { line: usize, reason: &'static str },
    #[error("direct_url.json: {0}")]
    DirectUrl(String),
    #[error("egg is not a readable zip archive: {0}")]
    Zip(String),
    #[error("egg has no {EGG_PKG_INFO} member")]
    EggWithoutMetadata,
    #[error("egg member {member} is {size} bytes uncompressed, over the {limit}-byte limit")]
    EggMemberTooLarge { member: String, size: u64, limit: u64 },
}

/// PEP 503 normalisation: runs of `-`, `_`, `.` become one `-`, then lower
/// case. `Django` → `django`, `zope.interface` → `zope-interface`,
/// `typing_extensions` → `typing-extensions`.
pub fn normalize_name(name: &str) -> String {
    portcullis_sbom::pep503_name(name)
}

/// `pkg:pypi/<normalised name>@<version>`, as syft writes it, plus syft's
/// `vcs_url=<vcs>+<url>@<commit>` qualifier for a VCS install recorded in
/// `direct_url.json`. The version is kept as written and percent-encoded
/// (`1.0+local` → `1.0%2Blocal`).
pub fn purl(meta: &PythonMetadata) -> String {
    let mut out = format!("pkg:pypi/{}", purl_encode(&normalize_name(&meta.name)));
    if !meta.version.is_empty() {
        out.push('@');
        out.push_str(&purl_encode(&meta.version));
    }
    let vcs = meta.direct_url.as_ref().and_then(|d| Some((d.vcs.as_deref()?, d.url.as_str(), d.commit_id.as_deref()?)));
    if let Some((vcs, url, commit)) = vcs {
        out.push_str("?vcs_url=");
        out.push_str(&purl_encode(&format!("{vcs}+{url}@{commit}")));
    }
    out
}

/// Longest `License` value taken as a licence name. Real names, even
/// verbose ones ("GNU Library or Lesser General Public License (LGPL)"),
/// are far shorter; longer single lines are sentences about licensing.
const MAX_LICENSE_NAME: usize = 100;

/// The licences of a distribution, first rule that yields something wins:
///
/// 1. `License-Expression` (PEP 639), whole, as an SPDX expression.
/// 2. `License`, when it reads like a licence name: one line, at most
///    100 characters, and not a placeholder (`UNKNOWN`, which setuptools
///    writes when none was given, `None`, `N/A`).
/// 3. The `License ::` classifiers, each mapped to its SPDX id when the
///    classifier names exactly one licence version ([`classifier_spdx`]),
///    else kept as its last segment (`BSD License`): guessing
///    `BSD-3-Clause` for `BSD License` or `Apache-2.0` for `Apache
///    Software License` would put a wrong id in front of policy rules. The
///    bare `License :: OSI Approved` category names no licence and is left out.
pub fn licenses(meta: &PythonMetadata) -> Vec<String> {
    if let Some(expression) = meta.license_expression.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        return vec![expression.to_owned()];
    }
    if let Some(license) = meta.license.as_deref().map(str::trim).filter(|l| looks_like_license_name(l)) {
        return vec![license.to_owned()];
    }
    let mut out: Vec<String> = Vec::new();
    for classifier in meta.license_classifier_lines() {
        let segments: Vec<&str> = classifier.split("::").map(str::trim).collect();
        let Some(last) = segments.last().copied() else { continue };
        if segments.len() < 2 || (segments.len() == 2 && last == "OSI Approved") || last.is_empty() {
            continue;
        }
        let value = classifier_spdx(last).unwrap_or(last).to_owned();
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

fn looks_like_license_name(license: &str) -> bool {
    !license.is_empty()
        && !license.contains('\n')
        && license.chars().count() <= MAX_LICENSE_NAME
        && !["unknown", "none", "n/a", "null"].contains(&license.to_ascii_lowercase().as_str())
}

/// SPDX id of a licence classifier's last segment, for the classifiers
/// that name one licence at one version. Family names without a version
/// (`BSD License`, `Apache Software License`, `GNU General Public License
/// (GPL)`, `Python Software Foundation License`, `Artistic License`...)
/// have no single id and get `None`.
pub fn classifier_spdx(segment: &str) -> Option<&'static str> {
    Some(match segment {
        "MIT License" => "MIT",
        "MIT No Attribution License (MIT-0)" => "MIT-0",
        "ISC License (ISCL)" => "ISC",
        "The Unlicense (Unlicense)" => "Unlicense",
        "Boost Software License 1.0 (BSL-1.0)" => "BSL-1.0",
        "Universal Permissive License (UPL)" => "UPL-1.0",
        "PostgreSQL License" => "PostgreSQL",
        "Historical Permission Notice and Disclaimer (HPND)" => "HPND",
        "Sleepycat License" => "Sleepycat",
        "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication" => "CC0-1.0",
        "Mozilla Public License 1.0 (MPL)" => "MPL-1.0",
        "Mozilla Public License 1.1 (MPL 1.1)" => "MPL-1.1",
        "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
        "Eclipse Public License 1.0 (EPL-1.0)" => "EPL-1.0",
        "Eclipse Public License 2.0 (EPL-2.0)" => "EPL-2.0",
        "European Union Public Licence 1.0 (EUPL 1.0)" => "EUPL-1.0",
        "European Union Public Licence 1.1 (EUPL 1.1)" => "EUPL-1.1",
        "European Union Public Licence 1.2 (EUPL 1.2)" => "EUPL-1.2",
        "Common Development and Distribution License 1.0 (CDDL-1.0)" => "CDDL-1.0",
        "Open Software License 3.0 (OSL-3.0)" => "OSL-3.0",
        "Apache Software License 2.0 (Apache-2.0)" => "Apache-2.0",
        "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
        "GNU General Public License v2 or later (GPLv2+)" => "GPL-2.0-or-later",
        "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
        "GNU General Public License v3 or later (GPLv3+)" => "GPL-3.0-or-later",
        "GNU Lesser General Public License v2 (LGPLv2)" => "LGPL-2.0-only",
        "GNU Lesser General Public License v2 or later (LGPLv2+)" => "LGPL-2.0-or-later",
        "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
        "GNU Lesser General Public License v3 or later (LGPLv3+)" => "LGPL-3.0-or-later",
        "GNU Affero General Public License v3" => "AGPL-3.0-only",
        "GNU Affero General Public License v3 or later (AGPLv3+)" => "AGPL-3.0-or-later",
        _ => return None,
    })
}

/// Builds the SBOM package: name normalised per PEP 503 (the spelling as
/// written goes to `metadata.name`), version as written, purl from
/// [`purl`], licences from [`licenses`]. Locations and the introducing
/// layer are left for the caller.
pub fn to_package(meta: &PythonMetadata, files: Vec<OwnedFile>) -> Package {
    let name = normalize_name(&meta.name);
    let mut package = Package::new(PackageType::Python, &name, &meta.version, None, purl(meta));
    package.licenses = licenses(meta);
    package.files = files;
    package.found_by = Some(CATALOGER.to_owned());
    let m = &mut package.metadata;
    let mut text = |key: &str, value: &Option<String>| {
        if let Some(value) = value {
            m.insert(key.to_owned(), value.clone().into());
        }
    };
    text("metadata_version", &meta.metadata_version);
    text("summary", &meta.summary);
    text("author", &meta.author);
    text("author_email", &meta.author_email);
    text("maintainer", &meta.maintainer);
    text("maintainer_email", &meta.maintainer_email);
    text("home_page", &meta.home_page);
    text("download_url", &meta.download_url);
    text("license", &meta.license);
    text("license_expression", &meta.license_expression);
    text("requires_python", &meta.requires_python);
    let m = &mut package.metadata;
    m.insert("name".to_owned(), meta.name.clone().into());
    let mut list = |key: &str, values: Vec<String>| {
        if !values.is_empty() {
            m.insert(key.to_owned(), values.into());
        }
    };
    list("project_urls", meta.project_urls.clone());
    list("license_files", meta.license_files.clone());
    list("license_classifiers", meta.license_classifier_lines().map(str::to_owned).collect());
    list("requires_dist", meta.requires_dist.clone());
    list("provides_extra", meta.provides_extra.clone());
    list("platforms", meta.platforms.clone());
    list("top_level_packages", meta.top_level.clone());
    if let Some(direct) = &meta.direct_url {
        let mut value = serde_json::Map::new();
        value.insert("url".to_owned(), direct.url.clone().into());
        for (key, field) in [
            ("vcs", &direct.vcs),
            ("commit_id", &direct.commit_id),
            ("requested_revision", &direct.requested_revision),
            ("archive_hash", &direct.archive_hash),
        ] {
            if let Some(field) = field {
                value.insert(key.to_owned(), field.clone().into());
            }
        }
        if direct.editable {
            value.insert("editable".to_owned(), true.into());
        }
        package.metadata.insert("direct_url".to_owned(), value.into());
    }
    package
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, version: &str) -> PythonMetadata {
        PythonMetadata { name: name.into(), version: version.into(), ..PythonMetadata::default() }
    }

    #[test]
    fn names() {
        assert_eq!(normalize_name("Django"), "django");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("Typing__Extensions"), "typing-extensions");
        assert_eq!(normalize_name("a-_.b"), "a-b");
    }

    #[test]
    fn purls() {
        assert_eq!(purl(&meta("Django", "2.2")), "pkg:pypi/django@2.2");
        assert_eq!(purl(&meta("zope.interface", "5.0+local")), "pkg:pypi/zope-interface@5.0%2Blocal");
        let mut m = meta("x", "1");
        m.direct_url = Some(DirectUrl {
            url: "https://github.com/a/b.git".into(),
            vcs: Some("git".into()),
            commit_id: Some("abc".into()),
            ..DirectUrl::default()
        });
        assert_eq!(purl(&m), "pkg:pypi/x@1?vcs_url=git%2Bhttps:%2F%2Fgithub.com%2Fa%2Fb.git%40abc");
    }

    #[test]
    fn license_rules() {
        let mut m = meta("x", "1");
        m.classifiers = vec![
            "License :: OSI Approved".into(),
            "License :: OSI Approved :: MIT License".into(),
            "License :: OSI Approved :: BSD License".into(),
            "License :: OSI Approved :: MIT License".into(),
            "Programming Language :: Python".into(),
        ];
        assert_eq!(licenses(&m), ["MIT", "BSD License"]);
        m.license = Some("UNKNOWN".into());
        assert_eq!(licenses(&m), ["MIT", "BSD License"]);
        m.license = Some("Copyright (c) 2010\n\nPermission is hereby granted".into());
        assert_eq!(licenses(&m), ["MIT", "BSD License"]);
        m.license = Some("Apache 2.0".into());
        assert_eq!(licenses(&m), ["Apache 2.0"]);
        m.license_expression = Some("MIT OR Apache-2.0".into());
        assert_eq!(licenses(&m), ["MIT OR Apache-2.0"]);
        m.classifiers = vec!["License :: Public Domain".into(), "License :: Other/Proprietary License".into()];
        m.license = None;
        m.license_expression = None;
        assert_eq!(licenses(&m), ["Public Domain", "Other/Proprietary License"]);
    }

    #[test]
    fn classification() {
        use PythonFile::*;
        let cases = [
            ("/usr/lib/python3/dist-packages/a-1.dist-info/METADATA", Some(Metadata)),
            ("/s/a-1.dist-info/RECORD", Some(Record)),
            ("/s/a-1.DIST-INFO/METADATA", Some(Metadata)),
            ("/s/a-1.egg-info/PKG-INFO", Some(Metadata)),
            ("/s/a-1.egg/EGG-INFO/PKG-INFO", Some(Metadata)),
            ("/s/a-1.egg-info/installed-files.txt", Some(InstalledFiles)),
            ("/s/a-1.egg-info/top_level.txt", Some(TopLevel)),
            ("/s/a-1.dist-info/direct_url.json", Some(DirectUrl)),
            ("/usr/lib/python2.7/lib-dynload/Python-2.7.egg-info", Some(EggInfoFile)),
            ("/s/kitchen-1.2.6-py2.7.egg", Some(Egg)),
            ("/s/.egg", None),
            ("/s/a-1.dist-info/WHEEL", None),
            ("/s/METADATA", None),
            ("relative", None),
        ];
        for (path, kind) in cases {
            assert_eq!(classify(path), kind, "{path}");
        }
        assert_eq!(site_packages_dir("/s/p/a-1.dist-info/METADATA").as_deref(), Some("/s/p"));
        assert_eq!(site_packages_dir("/s/p/a-1.egg-info").as_deref(), Some("/s/p"));
        assert_eq!(site_packages_dir("/a-1.egg").as_deref(), Some("/"));
        assert_eq!(site_packages_dir("/s/x.txt"), None);
    }
}
