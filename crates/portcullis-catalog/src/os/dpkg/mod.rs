//! The dpkg database of Debian, Ubuntu and distroless images.
//!
//! Pure parsers over bytes: [`parse_status`] for the database, then per
//! package [`parse_file_list`], [`parse_md5sums`] and [`copyright_licenses`]
//! for the supporting files named by [`info_file_stems`], and [`to_package`]
//! to build the SBOM entry. Finding the files in an image is the caller's job;
//! the paths and patterns it needs are the constants below.

pub(crate) mod catalog;
mod copyright;
mod deb822;
mod info;
mod status;

use portcullis_sbom::{Distro, OwnedFile, Package, PackageType, SourcePackage};

use crate::distro::os_package_purl;

pub use copyright::{copyright_licenses, is_machine_readable};
pub use info::{owned_files, parse_file_list, parse_md5sums};
pub use status::{Conffile, DpkgEntry, SkippedStanza, StatusReport, is_installed, parse_status, parse_status_detailed};

/// The classic database: every package in one file.
pub const STATUS_FILE: &str = "/var/lib/dpkg/status";
/// Distroless images: one file per package (named freely, e.g. `base` for
/// base-files), possibly next to that package's `<name>.md5sums`, which this
/// pattern matches too: filter its matches with [`is_status_d_entry`].
pub const STATUS_D_PATTERN: &str = "/var/lib/dpkg/status.d/*";
pub const STATUS_D_MD5SUMS_PATTERN: &str = "/var/lib/dpkg/status.d/*.md5sums";
pub const FILE_LIST_PATTERN: &str = "/var/lib/dpkg/info/*.list";
pub const MD5SUMS_PATTERN: &str = "/var/lib/dpkg/info/*.md5sums";
pub const COPYRIGHT_PATTERN: &str = "/usr/share/doc/*/copyright";

/// Every path or glob the dpkg cataloger reads, for the caller to extract.
pub const PATTERNS: &[&str] =
    &[STATUS_FILE, STATUS_D_PATTERN, STATUS_D_MD5SUMS_PATTERN, FILE_LIST_PATTERN, MD5SUMS_PATTERN, COPYRIGHT_PATTERN];
/// [`PATTERNS`] under the name the cataloger brief used.
pub const PATHS: &[&str] = PATTERNS;

/// Whether a file matched by [`STATUS_D_PATTERN`] holds status paragraphs, as
/// opposed to the md5sums that newer distroless images keep beside them.
pub fn is_status_d_entry(path: &str) -> bool {
    path.starts_with("/var/lib/dpkg/status.d/") && !path.ends_with(".md5sums")
}

/// Stems of a package's files under `info/`: `name` and `name:arch`.
///
/// dpkg names them `<name>:<arch>` for `Multi-Arch: same` packages and
/// `<name>` otherwise, and which applies is not recorded in a form worth
/// trusting (databases converted from before multi-arch keep the old
/// names), so the caller tries both. Without an architecture, or for `all`
/// (never multi-arch same), both stems are the plain name.
pub fn info_file_stems(name: &str, arch: Option<&str>) -> [String; 2] {
    match arch {
        Some(arch) if !arch.is_empty() && arch != "all" => [name.to_owned(), format!("{name}:{arch}")],
        _ => [name.to_owned(), name.to_owned()],
    }
}

/// Errors that make a whole status file unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DpkgError {
    #[error("not a dpkg status file: NUL byte at offset {offset}")]
    Binary { offset: usize },
    #[error("not a dpkg status file: no `Field: value` line ({malformed_lines} unparseable lines)")]
    NoFields { malformed_lines: usize },
}

/// The package URL syft writes for a dpkg package:
/// `pkg:deb/<distro id>/<name>@<version>?arch=<arch>&distro=<id>-<version>&upstream=<source>`.
///
/// `upstream` names the source package when it differs from the binary
/// name, as `source@version` when the source version differs too (binNMUs,
/// epochs on the binary only). That is exactly when dpkg writes a `Source`
/// field, and its version in parentheses, so it matches syft, which keys on
/// the field's presence. The namespace is the distro id (`ubuntu` purls for
/// Ubuntu); without a detected distro it is `debian` and `distro=` is left
/// out, where syft would give no purl at all.
pub fn purl(entry: &DpkgEntry, distro: Option<&Distro>) -> String {
    let upstream = if entry.source_version != entry.version {
        format!("{}@{}", entry.source_name, entry.source_version)
    } else if entry.source_name != entry.name {
        entry.source_name.clone()
    } else {
        String::new()
    };
    let qualifier = distro.map(Distro::purl_qualifier).unwrap_or_default();
    let namespace = distro.map_or("debian", |d| d.id.as_str());
    os_package_purl(
        "deb",
        namespace,
        &entry.name,
        &entry.version,
        &[("arch", entry.architecture.as_deref().unwrap_or_default()), ("upstream", &upstream), ("distro", &qualifier)],
    )
}

/// Builds the SBOM package. `files` usually comes from [`owned_files`],
/// `licenses` from [`copyright_licenses`]; locations and the introducing
/// layer are left for the caller, which knows where the files were read.
pub fn to_package(entry: &DpkgEntry, files: Vec<OwnedFile>, licenses: Vec<String>, distro: Option<&Distro>) -> Package {
    let mut package =
        Package::new(PackageType::Deb, &entry.name, &entry.version, entry.architecture.as_deref(), purl(entry, distro));
    package.found_by = Some("dpkg".to_owned());
    package.licenses = licenses;
    package.source =
        Some(SourcePackage { name: entry.source_name.clone(), version: Some(entry.source_version.clone()) });
    package.maintainer = entry.maintainer.clone();
    package.installed_size = entry.installed_size_kib.and_then(|kib| kib.checked_mul(1024));
    package.files = files;
    package
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, version: &str, source: (&str, &str), arch: Option<&str>) -> DpkgEntry {
        DpkgEntry {
            name: name.to_owned(),
            version: version.to_owned(),
            architecture: arch.map(str::to_owned),
            source_name: source.0.to_owned(),
            source_version: source.1.to_owned(),
            maintainer: None,
            installed_size_kib: Some(4),
            status: Some("install ok installed".to_owned()),
            installed: true,
            conffiles: Vec::new(),
        }
    }

    fn debian(version: Option<&str>) -> Distro {
        Distro { id: "debian".into(), version_id: version.map(str::to_owned), ..Distro::default() }
    }

    #[test]
    fn purl_forms() {
        let d12 = debian(Some("12"));
        let same = entry("bash", "5.2.15-2+b2", ("bash", "5.2.15-2+b2"), Some("amd64"));
        assert_eq!(purl(&same, Some(&d12)), "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12");

        let named = entry("libc6", "2.36-9+deb12u4", ("glibc", "2.36-9+deb12u4"), Some("amd64"));
        assert_eq!(
            purl(&named, Some(&d12)),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
        );

        let versioned = entry("libgcc1", "1:8-20180414-1ubuntu2", ("gcc-8", "8-20180414-1ubuntu2"), Some("amd64"));
        let ubuntu = Distro { id: "ubuntu".into(), version_id: Some("18.04".into()), ..Distro::default() };
        assert_eq!(
            purl(&versioned, Some(&ubuntu)),
            "pkg:deb/ubuntu/libgcc1@1:8-20180414-1ubuntu2?arch=amd64&distro=ubuntu-18.04&upstream=gcc-8%408-20180414-1ubuntu2"
        );

        // Same source name, different version: a binNMU of a same-named source.
        let binnmu = entry("libustr", "1.0.4-3+b2", ("libustr", "1.0.4-3"), Some("amd64"));
        assert_eq!(
            purl(&binnmu, Some(&d12)),
            "pkg:deb/debian/libustr@1.0.4-3%2Bb2?arch=amd64&distro=debian-12&upstream=libustr%401.0.4-3"
        );

        let no_arch = entry("p", "v", ("p", "v"), None);
        assert_eq!(purl(&no_arch, Some(&debian(None))), "pkg:deb/debian/p@v?distro=debian");
        assert_eq!(purl(&no_arch, None), "pkg:deb/debian/p@v");
    }

    #[test]
    fn package_fields() {
        let e = entry("libc6", "2.36-9", ("glibc", "2.36-9"), Some("arm64"));
        let files = vec![OwnedFile { path: "/lib/x".into(), digest: None }];
        let p = to_package(&e, files.clone(), vec!["LGPL-2.1".into()], None);
        assert_eq!(p.id, "deb/libc6@2.36-9?arch=arm64");
        assert_eq!(p.package_type, PackageType::Deb);
        assert_eq!(p.arch.as_deref(), Some("arm64"));
        assert_eq!(p.source, Some(SourcePackage { name: "glibc".into(), version: Some("2.36-9".into()) }));
        assert_eq!(p.installed_size, Some(4096));
        assert_eq!(p.files, files);
        assert_eq!(p.licenses, ["LGPL-2.1"]);
    }

    #[test]
    fn stems_and_paths() {
        assert_eq!(info_file_stems("libc6", Some("amd64")), ["libc6".to_owned(), "libc6:amd64".to_owned()]);
        assert_eq!(info_file_stems("tzdata", Some("all")), ["tzdata".to_owned(), "tzdata".to_owned()]);
        assert_eq!(info_file_stems("x", None), ["x".to_owned(), "x".to_owned()]);
        assert!(is_status_d_entry("/var/lib/dpkg/status.d/base"));
        assert!(!is_status_d_entry("/var/lib/dpkg/status.d/base.md5sums"));
        assert!(!is_status_d_entry("/var/lib/dpkg/status"));
    }
}
