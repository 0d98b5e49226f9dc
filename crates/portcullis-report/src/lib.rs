//! Scan reports: what `portcullis scan` prints or writes.
//!
//! One [`ScanReport`] (the SBOM, the findings after triage, the optional CI
//! gate verdict) rendered in one of five [`ScanFormat`]s:
//!
//! * `table`: the findings for a terminal, most risky first, then a summary,
//!   expired ignore rules and the gate verdict;
//! * `json`: the documented, versioned scan document (`docs/scan-json.md`);
//! * `sarif`: SARIF 2.1.0 as GitHub code scanning reads it;
//! * `cyclonedx-json`: the SBOM as CycloneDX 1.6 with a `vulnerabilities` list;
//! * `junit`: JUnit XML for CI test views, one test case per finding.
//!
//! [`policy`] renders a policy evaluation the same ways: as Anchore's
//! `evaluate check --detail` text, as JUnit XML and as SARIF.
//!
//! Rendering is pure: no I/O, no clock except the CycloneDX document's
//! timestamp and serial number, which the SBOM writer sets, and the
//! Anchore table's `Last Eval` line.

mod cyclonedx;
mod json;
mod junit;
pub mod policy;
mod sarif;
mod table;
mod text;

use std::fmt;
use std::str::FromStr;

use portcullis_match::{GateResult, ScanResult};
use portcullis_sbom::Sbom;

pub use json::SCAN_SCHEMA_URL;

/// Version of Portcullis written into the reports' tool information.
pub(crate) const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The project's home page, for the reports' tool information.
pub(crate) const PROJECT_URL: &str = "https://github.com/portcullis-scan/portcullis";

/// A scan report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanFormat {
    /// Findings as a text table with a summary ([`ScanFormat::name`] `table`).
    Table,
    /// The native scan document, `docs/scan-json.md` (`json`).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning (`sarif`).
    Sarif,
    /// CycloneDX 1.6 JSON: the SBOM plus `vulnerabilities` (`cyclonedx-json`).
    CycloneDxJson,
    /// JUnit XML, one test case per finding (`junit`).
    Junit,
}

impl ScanFormat {
    /// Every format, in the order shown by `--help`.
    pub const ALL: [ScanFormat; 5] =
        [ScanFormat::Table, ScanFormat::Json, ScanFormat::Sarif, ScanFormat::CycloneDxJson, ScanFormat::Junit];

    /// The name accepted by [`FromStr`] and printed by [`fmt::Display`].
    pub fn name(self) -> &'static str {
        match self {
            ScanFormat::Table => "table",
            ScanFormat::Json => "json",
            ScanFormat::Sarif => "sarif",
            ScanFormat::CycloneDxJson => "cyclonedx-json",
            ScanFormat::Junit => "junit",
        }
    }
}

impl fmt::Display for ScanFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScanFormat {
    type Err = ReportError;

    /// A format by its [`ScanFormat::name`], ignoring case and surrounding blanks.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        ScanFormat::ALL.into_iter().find(|format| format.name().eq_ignore_ascii_case(wanted)).ok_or_else(|| {
            ReportError::UnknownFormat { name: s.to_owned(), known: ScanFormat::ALL.map(ScanFormat::name).join(", ") }
        })
    }
}

/// Everything a report is made from.
#[derive(Debug, Clone, Copy)]
pub struct ScanReport<'a> {
    pub sbom: &'a Sbom,
    pub result: &'a ScanResult,
    /// The CI gate's verdict, when a gate was asked for.
    pub gate: Option<&'a GateResult>,
}

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("unknown scan report format `{name}` (known formats: {known})")]
    UnknownFormat { name: String, known: String },
    #[error("cannot write the SBOM as CycloneDX JSON: {0}")]
    CycloneDx(#[from] portcullis_sbom::format::FormatError),
    /// The SBOM writer's own output did not read back as a JSON object.
    #[error("the CycloneDX document written for the SBOM is not a JSON object: {reason}")]
    CycloneDxDocument { reason: String },
    /// A finding names a package that is not in the SBOM, so a CycloneDX
    /// vulnerability could not say which component it affects.
    #[error("finding {finding} is about package {package} ({purl}), which the SBOM does not list")]
    UnknownPackage { finding: String, package: String, purl: String },
    #[error("unknown policy report format `{name}` (known formats: {known})")]
    UnknownPolicyFormat { name: String, known: String },
    /// `format` is the report's name: `sarif`, `policy sarif`...
    #[error("cannot serialise the {format} report: {source}")]
    Json { format: &'static str, source: serde_json::Error },
    #[error("cannot write the JUnit XML: {0}")]
    Xml(#[source] std::io::Error),
}

/// Renders `report` in `format`; the text ends with a line break.
pub fn render(report: &ScanReport<'_>, format: ScanFormat) -> Result<String, ReportError> {
    match format {
        ScanFormat::Table => Ok(table::render(report)),
        ScanFormat::Json => json::render(report),
        ScanFormat::Sarif => sarif::render(report),
        ScanFormat::CycloneDxJson => cyclonedx::render(report),
        ScanFormat::Junit => junit::render(report),
    }
}

/// Pretty JSON of a value, naming the format on failure.
pub(crate) fn to_pretty_json(value: &impl serde::Serialize, format: &'static str) -> Result<String, ReportError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| ReportError::Json { format, source })?;
    text.push('\n');
    Ok(text)
}
