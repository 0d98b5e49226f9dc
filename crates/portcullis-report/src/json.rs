//! The native scan document, documented field by field in `docs/scan-json.md`.

use std::borrow::Cow;

use portcullis_match::{
    BaseImage, DatabaseSource, Finding, GateResult, IgnoreRule, IgnoredFinding, SCAN_SCHEMA_VERSION, Summary,
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
    base_image: Option<&'a BaseImage>,
    database: Database<'a>,
    summary: &'a Summary,
    gate: Option<&'a GateResult>,
    findings: &'a [Finding],
    ignored: &'a [IgnoredFinding],
    expired_rules: &'a [IgnoreRule],
}

#[derive(Serialize)]
struct Database<'a> {
    location: Cow<'a, str>,
    sources: &'a [DatabaseSource],
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
        base_image: report.result.base_image.as_ref(),
        database: Database {
            location: without_password(&report.result.database.location),
            sources: &report.result.database.sources,
        },
        summary: &report.result.summary,
        gate: report.gate,
        findings: &report.result.findings,
        ignored: &report.result.ignored,
        expired_rules: &report.result.expired_rules,
    };
    crate::to_pretty_json(&document, ScanFormat::Json.name())
}

/// A store URL without its password (`postgres://scanner:secret@db/vulns` ->
/// `postgres://scanner@db/vulns`): reports end up in CI artifacts.
fn without_password(location: &str) -> Cow<'_, str> {
    let Some((scheme, rest)) = location.split_once("://") else { return Cow::Borrowed(location) };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some((authority, path)) = rest.split_at_checked(authority_end) else { return Cow::Borrowed(location) };
    let Some((user_info, host)) = authority.rsplit_once('@') else { return Cow::Borrowed(location) };
    let Some((user, _password)) = user_info.split_once(':') else { return Cow::Borrowed(location) };
    Cow::Owned(format!("{scheme}://{user}@{host}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_left_out_of_store_urls() {
        assert_eq!(
            without_password("postgres://scanner:s3cr:t@db.internal:5432/vulns"),
            "postgres://scanner@db.internal:5432/vulns"
        );
        assert_eq!(without_password("postgresql://:pw@db/v?sslmode=require"), "postgresql://@db/v?sslmode=require");
        assert_eq!(without_password("postgres://scanner@db/vulns"), "postgres://scanner@db/vulns");
        assert_eq!(without_password("sqlite:///var/cache/p@x/db.sqlite"), "sqlite:///var/cache/p@x/db.sqlite");
        assert_eq!(without_password("/var/cache/portcullis/vulndb.sqlite"), "/var/cache/portcullis/vulndb.sqlite");
    }
}
