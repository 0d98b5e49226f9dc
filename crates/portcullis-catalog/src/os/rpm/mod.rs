//! rpm package databases: Berkeley DB `Packages`, ndb `Packages.db`, SQLite
//! `rpmdb.sqlite`, and the CBL-Mariner distroless manifest.
//!
//! Everything here is a pure function over bytes; finding the files in an
//! image is the caller's job ([`DATABASE_PATHS`], [`MANIFEST_PATHS`]).

pub mod bdb;
pub(crate) mod catalog;
pub mod header;
pub mod manifest;
pub mod ndb;
pub mod sqlite;

use packageurl::PackageUrl;
use portcullis_sbom::{Distro, OwnedFile, Package, PackageType, SourcePackage};

pub use header::HeaderError;
pub use manifest::{ManifestError, parse_manifest};

/// Where rpm keeps its package database inside an image. rpm >= 4.16 moved it
/// to `/usr/lib/sysimage/rpm` (with `/var/lib/rpm` often a symlink to it).
pub const DATABASE_PATHS: &[&str] = &[
    "/var/lib/rpm/Packages",
    "/var/lib/rpm/Packages.db",
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/Packages",
    "/usr/lib/sysimage/rpm/Packages.db",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
];

/// CBL-Mariner distroless images list their packages here instead of in an rpmdb.
pub const MANIFEST_PATHS: &[&str] = &["/var/lib/rpmmanifest/container-manifest-2"];

/// A package as its rpm header (or the Mariner manifest) describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpmPackage {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    pub arch: Option<String>,
    pub source_rpm: Option<String>,
    /// `SIZE` (or `LONGSIZE`): installed size in bytes.
    pub size: Option<u64>,
    pub license: Option<String>,
    pub vendor: Option<String>,
    pub modularity_label: Option<String>,
    /// `SIGMD5` as lower-case hex.
    pub sigmd5: Option<String>,
    /// Seconds since the epoch.
    pub build_time: Option<u64>,
    pub install_time: Option<u64>,
    pub files: Vec<RpmFile>,
}

/// A file the package owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmFile {
    pub path: String,
    /// `algorithm:hex`; `None` for directories, symlinks and ghosts.
    pub digest: Option<String>,
    pub size: Option<u64>,
    /// `st_mode` bits, file type included.
    pub mode: Option<u16>,
}

impl RpmPackage {
    /// `gpg-pubkey` entries are imported signing keys that rpm stores as
    /// packages; they are not software installed in the image.
    pub fn is_pseudo(&self) -> bool {
        self.name == "gpg-pubkey"
    }

    /// `[epoch:]version-release`.
    pub fn full_version(&self) -> String {
        match self.epoch {
            Some(epoch) => format!("{epoch}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RpmError {
    #[error("not a recognised rpm database (neither SQLite, ndb nor Berkeley DB hash)")]
    UnknownFormat,
    #[error("Berkeley DB: {0}")]
    Bdb(#[from] bdb::BdbError),
    #[error("ndb: {0}")]
    Ndb(#[from] ndb::NdbError),
    #[error("SQLite: {0}")]
    Sqlite(#[from] sqlite::SqliteError),
    #[error("package header #{index} in the database: {source}")]
    Header { index: usize, source: HeaderError },
}

/// The on-disk format of an rpm database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseFormat {
    BerkeleyDb,
    Ndb,
    Sqlite,
}

/// Recognises a database by its magic number. Berkeley DB files of other
/// access methods count as Berkeley DB so that the reader can say why it
/// refuses them.
pub fn detect_format(bytes: &[u8]) -> Option<DatabaseFormat> {
    if bytes.starts_with(sqlite::MAGIC) {
        Some(DatabaseFormat::Sqlite)
    } else if bytes.starts_with(ndb::MAGIC) {
        Some(DatabaseFormat::Ndb)
    } else if bdb::detect(bytes).is_some() {
        Some(DatabaseFormat::BerkeleyDb)
    } else {
        None
    }
}

/// Returns the header blobs stored in an rpm database of any supported format.
pub fn read_header_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, RpmError> {
    match detect_format(bytes) {
        Some(DatabaseFormat::Sqlite) => Ok(sqlite::read_blobs(bytes)?),
        Some(DatabaseFormat::Ndb) => Ok(ndb::read_blobs(bytes)?.into_iter().map(<[u8]>::to_vec).collect()),
        Some(DatabaseFormat::BerkeleyDb) => Ok(bdb::read_values(bytes)?),
        None => Err(RpmError::UnknownFormat),
    }
}

/// Parses every package of an rpm database, `gpg-pubkey` entries included
/// (filter with [`RpmPackage::is_pseudo`]). A damaged header fails the whole
/// database; use [`read_header_blobs`] and [`header::parse_package`] to skip
/// damaged headers the way `rpm -qa` does.
pub fn parse_database(bytes: &[u8]) -> Result<Vec<RpmPackage>, RpmError> {
    read_header_blobs(bytes)?
        .iter()
        .enumerate()
        .map(|(index, blob)| header::parse_package(blob).map_err(|source| RpmError::Header { index, source }))
        .collect()
}

/// Splits a source rpm file name (`util-linux-2.32.1-42.el8_8.src.rpm`) into
/// the source package name and its `version-release`.
pub fn parse_source_rpm(file_name: &str) -> Option<SourcePackage> {
    let stem = file_name.strip_suffix(".src.rpm").or_else(|| file_name.strip_suffix(".nosrc.rpm")).unwrap_or(file_name);
    if stem.is_empty() {
        return None;
    }
    let split = stem.rsplit_once('-').and_then(|(rest, release)| {
        let (name, version) = rest.rsplit_once('-')?;
        (!name.is_empty() && !version.is_empty() && !release.is_empty())
            .then(|| (name.to_owned(), format!("{version}-{release}")))
    });
    Some(match split {
        Some((name, version)) => SourcePackage { name, version: Some(version) },
        None => SourcePackage { name: stem.to_owned(), version: None },
    })
}

/// The package URL syft writes for an rpm:
/// `pkg:rpm/<distro id>/<name>@<version>-<release>?arch=..&epoch=..&upstream=..&distro=..`
/// (qualifiers come out sorted by key, as the purl spec asks).
pub fn purl(pkg: &RpmPackage, distro: Option<&Distro>) -> String {
    let build = || -> Result<String, packageurl::Error> {
        let mut purl = PackageUrl::new("rpm", pkg.name.as_str())?;
        if let Some(distro) = distro {
            purl.with_namespace(distro.id.as_str())?;
        }
        purl.with_version(format!("{}-{}", pkg.version, pkg.release))?;
        if let Some(arch) = &pkg.arch {
            purl.add_qualifier("arch", arch.as_str())?;
        }
        if let Some(epoch) = pkg.epoch {
            purl.add_qualifier("epoch", epoch.to_string())?;
        }
        if let Some(source_rpm) = &pkg.source_rpm {
            purl.add_qualifier("upstream", source_rpm.as_str())?;
        }
        if let Some(distro) = distro {
            purl.add_qualifier("distro", distro.purl_qualifier())?;
        }
        Ok(purl.to_string())
    };
    build().unwrap_or_else(|err| {
        // Only an empty name gets here, which the header parser already rejects.
        tracing::warn!(name = %pkg.name, %err, "cannot build a purl for rpm package");
        format!("pkg:rpm/{}@{}-{}", pkg.name, pkg.version, pkg.release)
    })
}

/// Converts a parsed rpm package into an SBOM package (without locations or
/// layer attribution, which depend on where the database was found).
pub fn to_package(pkg: &RpmPackage, distro: Option<&Distro>) -> Package {
    let mut out =
        Package::new(PackageType::Rpm, &pkg.name, &pkg.full_version(), pkg.arch.as_deref(), purl(pkg, distro));
    out.found_by = Some("rpm".to_owned());
    out.licenses = pkg.license.iter().filter(|l| !l.is_empty()).cloned().collect();
    out.source = pkg.source_rpm.as_deref().and_then(parse_source_rpm);
    out.vendor = pkg.vendor.clone();
    out.installed_size = pkg.size;
    out.files = pkg.files.iter().map(|f| OwnedFile { path: f.path.clone(), digest: f.digest.clone() }).collect();
    if let Some(epoch) = pkg.epoch {
        out.metadata.insert("epoch".to_owned(), epoch.into());
    }
    out.metadata.insert("release".to_owned(), pkg.release.clone().into());
    if let Some(source_rpm) = &pkg.source_rpm {
        out.metadata.insert("source_rpm".to_owned(), source_rpm.clone().into());
    }
    if let Some(label) = &pkg.modularity_label {
        out.metadata.insert("modularity_label".to_owned(), label.clone().into());
    }
    out
}
