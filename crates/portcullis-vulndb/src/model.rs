//! The normalised form of a vulnerability record.

use serde::{Deserialize, Serialize};

pub use portcullis_version::Scheme;

/// One advisory or CVE record, as one feed publishes it.
///
/// The same id may come from several feeds (a CVE from the Debian tracker, from
/// NVD and from a CVE 5 record): each feed's copy is kept; the matcher joins
/// them by id and alias.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The record's own id: `CVE-2023-29383`, `GHSA-jf85-cpcp-j695`, `PYSEC-2018-28`, `GO-2023-2102`...
    pub id: String,
    /// Other ids of the same vulnerability (CVE <-> GHSA <-> PYSEC...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Ids of related but distinct vulnerabilities (OSV `related`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// RFC 3339 timestamps (or plain dates) as upstream writes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Set when upstream withdrew or rejected the record; such records are
    /// stored (so a sync can replace them) but never reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// The publisher's own severity rating for the whole record, if it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// CVSS scores the record carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<Cvss>,
    /// `CWE-79`...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Which packages the record affects, and how.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
}

/// Qualitative severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Negligible => "negligible",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Reads the words feeds use: `LOW`, `Moderate`, `important`, `unimportant`, ...
    pub fn from_label(label: &str) -> Option<Severity> {
        Some(match label.trim().to_ascii_lowercase().as_str() {
            "unknown" | "not yet assigned" | "none" => Severity::Unknown,
            "negligible" | "unimportant" | "informational" | "info" => Severity::Negligible,
            "low" => Severity::Low,
            "medium" | "moderate" => Severity::Medium,
            "high" | "important" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// The CVSS v3 qualitative band of a base score.
    pub fn from_cvss_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Negligible
        }
    }
}

/// One CVSS score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub version: String,
    /// The vector string, e.g. `CVSS:3.1/AV:N/AC:L/...`.
    pub vector: String,
    /// The base score when upstream states it (vectors alone are not scored here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_score: Option<f64>,
    /// Who scored it: `nvd`, `ghsa`, the CNA's short name, `cisa-adp`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What a record says about one package in one namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// Where the package name lives: `pypi`, `npm`, `go`, `crates.io`, `maven`,
    /// `rubygems`, `packagist`, `nuget`, `debian:12`, `debian:unstable`,
    /// `alpine:3.10`, `ubuntu:22.04`, `rocky:9`, ... or `cpe` for NVD
    /// configurations (see [`namespace`]).
    pub namespace: String,
    /// The package name, normalised for its namespace (see [`normalize_package_name`]).
    /// For OS namespaces this is the **source** package where the feed uses
    /// source packages (Debian). For `cpe` it is `vendor:product`.
    pub package: String,
    pub scheme: Scheme,
    /// The affected versions, as ranges (any range matching means affected).
    /// Empty together with an empty `versions` means every version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<VersionRange>,
    /// Individually listed affected versions (OSV `versions`); these are
    /// matched by equality under the scheme's ordering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// What the publisher says about fixing it.
    pub state: FixState,
    /// Versions that fix it (for display and for "fixed in" answers); which
    /// one applies to an installed version is decided by the matcher from the
    /// range that matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<String>,
    /// A severity specific to this package (Debian urgency), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Free text from the publisher about this package (tracker notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For `cpe` entries: the full CPE 2.3 criteria string the range belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
}

/// A publisher's fix state for one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixState {
    /// Affected below a fixed version.
    Fixed,
    /// Affected and no fix is available yet.
    NotFixed,
    /// Affected and the publisher decided not to fix it (Debian `no-dsa`,
    /// `ignored`, `postponed`).
    WontFix,
    /// The publisher states the package is not affected.
    NotAffected,
    /// Affected versions are given, nothing is said about a fix.
    Unknown,
}

impl FixState {
    pub fn as_str(self) -> &'static str {
        match self {
            FixState::Fixed => "fixed",
            FixState::NotFixed => "not-fixed",
            FixState::WontFix => "wont-fix",
            FixState::NotAffected => "not-affected",
            FixState::Unknown => "unknown",
        }
    }
}

/// A set of versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum VersionRange {
    /// OSV-style events, evaluated in order under the scheme's ordering.
    /// `introduced: "0"` means from the first version.
    Events { events: Vec<RangeEvent> },
    /// Requirements in the ecosystem's own syntax: a version is affected when
    /// it satisfies `affected` (or `affected` is absent) and satisfies none of
    /// `unaffected` (patched and never-affected requirements alike).
    Requirements {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        affected: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unaffected: Vec<String>,
    },
}

/// One OSV range event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// CISA Known Exploited Vulnerabilities entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KevEntry {
    pub cve: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub date_added: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// `Known`, `Unknown` as CISA writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ransomware: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_action: Option<String>,
}

/// FIRST EPSS score of one CVE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpssEntry {
    pub cve: String,
    /// Probability of exploitation activity in the next 30 days (0..1).
    pub score: f64,
    pub percentile: f64,
    /// The score date (from the CSV header), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// Everything one feed file can contribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Advisory(Box<Advisory>),
    Kev(KevEntry),
    Epss(EpssEntry),
}

/// Namespace names shared by the parsers and the matcher.
pub mod namespace {
    pub const PYPI: &str = "pypi";
    pub const NPM: &str = "npm";
    pub const GO: &str = "go";
    pub const CRATES_IO: &str = "crates.io";
    pub const MAVEN: &str = "maven";
    pub const RUBYGEMS: &str = "rubygems";
    pub const PACKAGIST: &str = "packagist";
    pub const NUGET: &str = "nuget";
    pub const CPE: &str = "cpe";

    /// `debian:12`, `alpine:3.19`, `ubuntu:22.04`: distro id and release.
    pub fn distro(id: &str, release: &str) -> String {
        format!("{}:{}", id.to_ascii_lowercase(), release)
    }
}

/// Canonical package name within a namespace, so feeds and SBOMs meet:
/// PEP 503 for PyPI (lower case, runs of `-_.` become `-`), lower case for
/// npm-insensitive ecosystems where the registry is case-insensitive
/// (packagist, nuget), unchanged elsewhere.
pub fn normalize_package_name(namespace: &str, name: &str) -> String {
    match namespace {
        namespace::PYPI => portcullis_sbom::pep503_name(name),
        namespace::PACKAGIST | namespace::NUGET => name.trim().to_ascii_lowercase(),
        _ => name.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_names_are_pep503() {
        assert_eq!(normalize_package_name("pypi", "PyYAML"), "pyyaml");
        assert_eq!(normalize_package_name("pypi", "zope.interface"), "zope-interface");
        assert_eq!(normalize_package_name("pypi", "Foo__Bar-.baz"), "foo-bar-baz");
        assert_eq!(normalize_package_name("npm", "@Scope/Pkg"), "@Scope/Pkg");
    }

    #[test]
    fn severity_labels_and_scores() {
        assert_eq!(Severity::from_label("MODERATE"), Some(Severity::Medium));
        assert_eq!(Severity::from_label("unimportant"), Some(Severity::Negligible));
        assert_eq!(Severity::from_label("bogus"), None);
        assert_eq!(Severity::from_cvss_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(7.0), Severity::High);
        assert_eq!(Severity::from_cvss_score(3.9), Severity::Low);
    }
}
