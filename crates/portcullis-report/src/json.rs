//! The native scan document, documented field by field in `docs/scan-json.md`.

use portcullis_match::{
    DatabaseStatus, Finding, GateResult, IgnoreRule, IgnoredFinding, SCAN_SCHEMA_VERSION, Summary,
};
use portcullis_sbom::{Distro, SourceInfo};
use serde::Serialize;

use crate::{ReportError, ScanFormat, ScanReport, TOOL_VERSION};

/// URL of the scan document's documentation, written into every document.
pub const SCAN_SCHEMA_URL: &str = "https://github.com/portcullis-scan/portcullis/blob/main/docs/scan-json.md";

#[derive(Serialize)]
struct Document<'a> {
    schema: Schema,
    tool: Tool,
    source: &'a SourceInfo,
    distro: Option<&'a Distro>,
    database: &'a DatabaseStatus,
    summary: &'a Summary,
    gate: Option<&'a GateResult>,
    findings: &'a [Finding],
    ignored: &'a [IgnoredFinding],
    expired_rules: &'a [IgnoreRule],
}

#[derive(Serialize)]
struct Schema {
    version: &'static str,
    url: &'static str,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

pub(crate) fn render(report: &ScanReport<'_>) -> Result<String, ReportError> {
    let document = Document {
        schema: Schema { version: SCAN_SCHEMA_VERSION, url: SCAN_SCHEMA_URL },
        tool: Tool { name: "portcullis", version: TOOL_VERSION },
        source: &report.sbom.source,
        distro: report.sbom.distro.as_ref(),
        database: &report.result.database,
        summary: &report.result.summary,
        gate: report.gate,
        findings: &report.result.findings,
        ignored: &report.result.ignored,
        expired_rules: &report.result.expired_rules,
    };
    crate::to_pretty_json(&document, ScanFormat::Json)
}
