//! From an SBOM to vulnerability findings.
//!
//! [`matcher`] looks every package up in the store under its namespace
//! (distro release for OS packages, ecosystem for application packages, CPE
//! only for binaries), evaluates the affected ranges with the package's
//! version scheme, merges records that name the same vulnerability (aliases),
//! and enriches each finding with CVSS, KEV and EPSS. [`triage`] applies
//! ignore rules and OpenVEX statements; [`gate`] decides pass or fail.

use std::collections::BTreeMap;

use portcullis_vulndb::{Cvss, EpssEntry, FixState, KevEntry, Severity};
use serde::{Deserialize, Serialize};

pub mod gate;
pub mod matcher;
pub mod ranges;
pub mod risk;
pub mod triage;

pub use gate::{Gate, GateResult};
pub use matcher::{MatchError, match_sbom};
pub use triage::{IgnoreFile, IgnoreRule, TriageError, VexDocument};

/// Version of the scan JSON document.
pub const SCAN_SCHEMA_VERSION: &str = "1.1";

/// One vulnerability in one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The id shown to users: the CVE when the merged records name exactly
    /// one, else the id of the first matching record.
    pub id: String,
    /// Every other id of the same vulnerability (GHSA, PYSEC, DSA...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub package: FindingPackage,
    /// Whether the package came with the base image or was added by this
    /// image; absent when the base image or the package's layer is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// The fix state: `fixed` (a fix exists), `not-fixed`, `wont-fix`, `unknown`.
    pub state: FixState,
    /// Versions that fix it for the installed release line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_in: Vec<String>,
    pub severity: Severity,
    /// Where the severity came from: `vendor:<source>` (the matched record's
    /// own rating), `cvss:<scorer>` (derived from a CVSS base score) or `none`.
    pub severity_source: String,
    /// CVSS scores from the matched records and the CVE's NVD / CVE 5 records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<Cvss>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev: Option<KevEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<EpssEntry>,
    /// 0-100; see [`risk::score`].
    pub risk: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<String>,
    /// Why it matched: one entry per matching record.
    pub evidence: Vec<Evidence>,
}

/// The package a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingPackage {
    /// The package's id in the SBOM.
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub package_type: String,
    pub purl: String,
    /// Where the package was found (its first location is the evidence file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<String>,
    /// Layer that introduced the package, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
}

/// Which part of the image brought a finding's package in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// One of the leading layers that the image shares with its base image.
    Base,
    /// A layer the image added on top of its base.
    Own,
}

impl Origin {
    /// The origin of a package introduced by layer `layer` of an image whose
    /// first `base_layers` layers are its base image's; `None` when either
    /// is unknown, so that nothing unknown is ever put down to the base.
    pub fn of(layer: Option<usize>, base_layers: Option<usize>) -> Option<Origin> {
        Some(if layer? < base_layers? { Origin::Base } else { Origin::Own })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Base => "base",
            Origin::Own => "own",
        }
    }
}

/// The image the scanned one was built FROM, as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseImage {
    /// How many leading layers of the scanned image are the base image's.
    pub layers: usize,
    /// The base image as named by `--base-image` or by the image's
    /// `org.opencontainers.image.base.name` label; absent when only the
    /// layer count was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// How one record matched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    /// The record's id and the source (feed) it came from.
    pub record: String,
    pub source: String,
    /// The namespace and name the record was found under (for OS packages this
    /// may be the source package).
    pub namespace: String,
    pub package: String,
    /// The version compared (the source version for Debian source matches).
    pub version: String,
    pub scheme: String,
    /// The range or list that contains the version, as written upstream.
    pub constraint: String,
    /// The comparison that decided it, e.g. `1.24.1 < 1.24.2 (fixed)`.
    pub comparison: String,
}

/// Findings plus everything a report needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    /// Findings after triage, most risky first.
    pub findings: Vec<Finding>,
    /// Findings removed by an ignore rule or a VEX statement, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<IgnoredFinding>,
    /// Ignore rules whose expiry date has passed (they no longer apply).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired_rules: Vec<IgnoreRule>,
    /// The base image, when known; findings then carry their [`Origin`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_image: Option<BaseImage>,
    pub summary: Summary,
    /// Provenance of the vulnerability data used.
    pub database: DatabaseStatus,
}

/// A finding that triage set aside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IgnoredFinding {
    pub finding: Finding,
    /// `ignore-rule` or `vex`.
    pub by: String,
    /// The reason given by the rule or statement.
    pub reason: String,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub packages: u64,
    /// Packages whose version the scheme could not read (listed in logs).
    pub packages_unmatchable: u64,
    pub findings: u64,
    pub by_severity: BTreeMap<String, u64>,
    /// `base` / `own` to number of findings, when the base image is known.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_origin: BTreeMap<String, u64>,
    pub fixable: u64,
    pub kev: u64,
    pub ignored: u64,
}

/// Which data the match used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseStatus {
    pub location: String,
    pub sources: Vec<DatabaseSource>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSource {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_date: Option<String>,
    pub synced_at: String,
    pub advisories: u64,
}

impl ScanResult {
    /// Recomputes the summary from the findings (after triage changed them).
    pub fn refresh_summary(&mut self) {
        let mut by_severity = BTreeMap::new();
        let mut by_origin = BTreeMap::new();
        for finding in &self.findings {
            *by_severity.entry(finding.severity.as_str().to_owned()).or_insert(0) += 1;
            if let Some(origin) = finding.origin {
                *by_origin.entry(origin.as_str().to_owned()).or_insert(0) += 1;
            }
        }
        self.summary.findings = self.findings.len() as u64;
        self.summary.by_severity = by_severity;
        self.summary.by_origin = by_origin;
        self.summary.fixable = self.findings.iter().filter(|f| f.state == FixState::Fixed).count() as u64;
        self.summary.kev = self.findings.iter().filter(|f| f.kev.is_some()).count() as u64;
        self.summary.ignored = self.ignored.len() as u64;
    }

    /// Records the base image and gives every finding, kept or ignored, its origin.
    pub fn set_base_image(&mut self, base: BaseImage) {
        let ignored = self.ignored.iter_mut().map(|ignored| &mut ignored.finding);
        for finding in self.findings.iter_mut().chain(ignored) {
            finding.origin = Origin::of(finding.package.layer_index, Some(base.layers));
        }
        self.base_image = Some(base);
        self.refresh_summary();
    }
}
