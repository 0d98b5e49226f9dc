//! Version schemes: how each ecosystem orders its versions and how it writes
//! version requirements.
//!
//! Every scheme lives in its own module with the same two entry points:
//! `compare(a, b)` (a total order on valid versions) and `satisfies(version,
//! requirement)` (the ecosystem's own requirement syntax: npm ranges, Cargo
//! requirements, PEP 440 specifiers, RubyGems requirements, Composer
//! constraints, NuGet/Maven intervals, or a plain operator list for the OS
//! schemes). [`Scheme`] dispatches to them by name.

use std::cmp::Ordering;
use std::fmt;

pub mod apk;
pub mod cargo;
pub mod composer;
pub mod constraint;
pub mod dpkg;
pub mod generic;
pub mod golang;
pub mod maven;
pub mod npm;
pub mod nuget;
pub mod pep440;
pub mod rpm;
pub mod rubygems;

/// Why a version or requirement could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("invalid {scheme} version {version:?}: {reason}")]
    InvalidVersion { scheme: Scheme, version: String, reason: String },
    #[error("invalid {scheme} requirement {requirement:?}: {reason}")]
    InvalidRequirement { scheme: Scheme, requirement: String, reason: String },
}

impl VersionError {
    pub fn version(scheme: Scheme, version: &str, reason: impl Into<String>) -> Self {
        Self::InvalidVersion { scheme, version: version.to_owned(), reason: reason.into() }
    }

    pub fn requirement(scheme: Scheme, requirement: &str, reason: impl Into<String>) -> Self {
        Self::InvalidRequirement { scheme, requirement: requirement.to_owned(), reason: reason.into() }
    }
}

/// A version ordering together with its requirement syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// Debian/Ubuntu package versions (`epoch:upstream-revision`, `~` sorts first).
    Dpkg,
    /// RPM `epoch:version-release` with rpmvercmp.
    Rpm,
    /// Alpine apk versions (`1.2.3_rc1-r0`).
    Apk,
    /// Python packages (PEP 440).
    Pep440,
    /// npm packages: SemVer 2.0 with node-semver range syntax.
    Npm,
    /// Rust crates: SemVer 2.0 with Cargo requirement syntax.
    Cargo,
    /// Go modules: SemVer with a `v` prefix, `+incompatible` and pseudo-versions.
    Go,
    /// Maven artifacts: ComparableVersion and Maven version ranges.
    Maven,
    /// Ruby gems: Gem::Version and Gem::Requirement.
    #[serde(rename = "rubygems")]
    RubyGems,
    /// PHP Composer packages and constraints.
    Composer,
    /// .NET NuGet packages and interval notation.
    #[serde(rename = "nuget")]
    NuGet,
    /// Dotted numeric versions of anything else (CPE matching, binaries).
    Generic,
}

impl Scheme {
    pub const ALL: [Scheme; 12] = [
        Scheme::Dpkg,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Pep440,
        Scheme::Npm,
        Scheme::Cargo,
        Scheme::Go,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::Composer,
        Scheme::NuGet,
        Scheme::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Pep440 => "pep440",
            Scheme::Npm => "npm",
            Scheme::Cargo => "cargo",
            Scheme::Go => "go",
            Scheme::Maven => "maven",
            Scheme::RubyGems => "rubygems",
            Scheme::Composer => "composer",
            Scheme::NuGet => "nuget",
            Scheme::Generic => "generic",
        }
    }

    pub fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|scheme| scheme.as_str() == name)
    }

    /// Orders two versions of this scheme.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        match self {
            Scheme::Dpkg => dpkg::compare(a, b),
            Scheme::Rpm => rpm::compare(a, b),
            Scheme::Apk => apk::compare(a, b),
            Scheme::Pep440 => pep440::compare(a, b),
            Scheme::Npm => npm::compare(a, b),
            Scheme::Cargo => cargo::compare(a, b),
            Scheme::Go => golang::compare(a, b),
            Scheme::Maven => maven::compare(a, b),
            Scheme::RubyGems => rubygems::compare(a, b),
            Scheme::Composer => composer::compare(a, b),
            Scheme::NuGet => nuget::compare(a, b),
            Scheme::Generic => generic::compare(a, b),
        }
    }

    /// Whether `version` meets `requirement`, written in this scheme's own syntax.
    pub fn satisfies(self, version: &str, requirement: &str) -> Result<bool, VersionError> {
        match self {
            Scheme::Dpkg => dpkg::satisfies(version, requirement),
            Scheme::Rpm => rpm::satisfies(version, requirement),
            Scheme::Apk => apk::satisfies(version, requirement),
            Scheme::Pep440 => pep440::satisfies(version, requirement),
            Scheme::Npm => npm::satisfies(version, requirement),
            Scheme::Cargo => cargo::satisfies(version, requirement),
            Scheme::Go => golang::satisfies(version, requirement),
            Scheme::Maven => maven::satisfies(version, requirement),
            Scheme::RubyGems => rubygems::satisfies(version, requirement),
            Scheme::Composer => composer::satisfies(version, requirement),
            Scheme::NuGet => nuget::satisfies(version, requirement),
            Scheme::Generic => generic::satisfies(version, requirement),
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
