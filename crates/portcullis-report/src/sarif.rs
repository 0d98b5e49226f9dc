//! SARIF 2.1.0 as GitHub code scanning reads it.
//!
//! One rule per vulnerability id (in the order of its riskiest finding), one
//! result per finding. GitHub needs, beyond the schema: a relative
//! `artifactLocation.uri` (the package's evidence file without its leading
//! `/`), a `security-severity` rule property (a CVSS-like number as a string)
//! to rank alerts, and `partialFingerprints` to follow one alert across runs.
//! Ignored findings are not written: a suppressed result would still be an
//! alert to GitHub.
//!
//! The log skeleton, locations, URIs and fingerprints are shared with the
//! policy evaluation's SARIF report.

use std::collections::HashMap;
use std::fmt::Write as _;

use portcullis_match::Finding;
use portcullis_vulndb::Severity;
use serde_json::{Value, json};

use crate::text::{best_base_score, finding_sentence, fix_phrase, is_web_url};
use crate::{PROJECT_URL, ReportError, ScanFormat, ScanReport, TOOL_VERSION};

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Name of the fingerprint; the `/v1` changes if what is hashed ever changes.
const FINGERPRINT: &str = "portcullisFinding/v1";

/// Findings grouped by vulnerability id, in order of first appearance.
struct Rule<'a> {
    id: &'a str,
    findings: Vec<&'a Finding>,
}

pub(crate) fn render(report: &ScanReport<'_>) -> Result<String, ReportError> {
    let mut rules: Vec<Rule<'_>> = Vec::new();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for finding in &report.result.findings {
        let index = *index_of.entry(finding.id.as_str()).or_insert_with(|| {
            rules.push(Rule { id: &finding.id, findings: Vec::new() });
            rules.len() - 1
        });
        if let Some(rule) = rules.get_mut(index) {
            rule.findings.push(finding);
        }
    }
    let results: Vec<Value> = report
        .result
        .findings
        .iter()
        .map(|finding| result(finding, index_of.get(finding.id.as_str()).copied().unwrap_or_default()))
        .collect();
    let run = json!({
        "tool": {"driver": driver("portcullis", rules.iter().map(rule).collect())},
        "results": results,
    });
    crate::to_pretty_json(&log(run), ScanFormat::Sarif.name())
}

/// A SARIF 2.1.0 log of one run.
pub(crate) fn log(run: Value) -> Value {
    json!({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]})
}

/// The tool's driver: Portcullis under `name`, with its rules.
pub(crate) fn driver(name: &str, rules: Vec<Value>) -> Value {
    json!({
        "name": name,
        "informationUri": PROJECT_URL,
        "version": TOOL_VERSION,
        "semanticVersion": TOOL_VERSION,
        "rules": rules,
    })
}

/// A result location as GitHub wants it: a file (a relative URI reference,
/// GitHub has no other kind of location) at line 1, plus what the result is
/// really about as a logical location.
pub(crate) fn location(path: &str, logical_name: &str, logical_kind: &str) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri_reference(path)},
            "region": {"startLine": 1},
        },
        "logicalLocations": [{"fullyQualifiedName": logical_name, "kind": logical_kind}],
    })
}

fn rule(rule: &Rule<'_>) -> Value {
    let first = rule.findings.first().copied();
    let summary = first.and_then(|f| f.summary.as_deref());
    let mut packages: Vec<&str> = Vec::new();
    for finding in &rule.findings {
        if !packages.contains(&finding.package.name.as_str()) {
            packages.push(&finding.package.name);
        }
    }
    let short = match summary {
        Some(summary) => format!("{} in {}: {summary}", rule.id, packages.join(", ")),
        None => format!("{} in {}", rule.id, packages.join(", ")),
    };
    let full = first.and_then(|f| f.description.as_deref()).or(summary).unwrap_or(&short).to_owned();
    let severity = rule.findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Unknown);
    let score = rule.findings.iter().filter_map(|f| best_base_score(f)).reduce(f64::max);
    let mut descriptor = json!({
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": help(rule),
        "properties": {
            "security-severity": security_severity(score, severity),
            "tags": ["security", "vulnerability", severity.as_str()],
        },
    });
    if let Some(url) = first.and_then(|f| f.urls.iter().find(|u| is_web_url(u))) {
        descriptor["helpUri"] = Value::String(url.clone());
    }
    descriptor
}

/// GitHub's ranking number: the best CVSS base score, else the middle of the
/// severity's CVSS band (critical 9.5, high 8.0, medium 5.5, low 2.0).
fn security_severity(best_score: Option<f64>, severity: Severity) -> String {
    let score = best_score.map(|s| s.clamp(0.0, 10.0)).unwrap_or(match severity {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Negligible | Severity::Unknown => 0.0,
    });
    format!("{score:.1}")
}

/// The rule's help: what it is, then package, version, fix and severity of
/// every finding of it, as text and as a Markdown table.
fn help(rule: &Rule<'_>) -> Value {
    let about = rule.findings.first().and_then(|f| f.summary.as_deref().or(f.description.as_deref()));
    let mut text = String::new();
    let mut markdown = String::new();
    if let Some(about) = about {
        let _ = write!(text, "{about}\n\n");
        let _ = write!(markdown, "{}\n\n", markdown_text(about));
    }
    markdown.push_str("| Package | Version | Fixed in | Severity |\n| --- | --- | --- | --- |\n");
    for finding in &rule.findings {
        let fixed = if finding.fixed_in.is_empty() {
            format!("none ({})", finding.state.as_str())
        } else {
            finding.fixed_in.join(", ")
        };
        let _ = writeln!(
            text,
            "{} {}: {}; {}",
            finding.package.name,
            finding.package.version,
            fix_phrase(finding),
            finding.severity.as_str()
        );
        let _ = writeln!(
            markdown,
            "| {} | {} | {} | {} |",
            markdown_cell(&finding.package.name),
            markdown_cell(&finding.package.version),
            markdown_cell(&fixed),
            finding.severity.as_str()
        );
    }
    if let Some(finding) = rule.findings.first() {
        let links: Vec<&String> = finding.urls.iter().filter(|u| is_web_url(u)).collect();
        if !links.is_empty() {
            markdown.push_str("\nReferences:\n");
            for url in links {
                let _ = writeln!(markdown, "- <{url}>");
            }
        }
    }
    json!({"text": text.trim_end(), "markdown": markdown.trim_end()})
}

/// Text shown in Markdown as written: characters that would start markup are escaped.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A table cell: escaped, on one line.
fn markdown_cell(text: &str) -> String {
    markdown_text(&text.replace(['\n', '\r'], " "))
}

fn result(finding: &Finding, rule_index: usize) -> Value {
    let level = match finding.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Negligible | Severity::Unknown => "note",
    };
    let mut result = json!({
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": finding_sentence(finding)},
        "locations": [location(artifact_path(finding), &finding.package.purl, "package")],
        "partialFingerprints": {FINGERPRINT: sha256_hex(&format!("{} {}", finding.id, finding.package.id))},
    });
    if let Some(origin) = finding.origin {
        result["properties"] = json!({"origin": origin});
    }
    result
}

/// The package's evidence file without its leading `/` (GitHub refuses
/// absolute URIs); the purl's name when the package has no location.
fn artifact_path(finding: &Finding) -> &str {
    let path = finding.package.locations.first().map(|l| l.trim_start_matches('/')).unwrap_or_default();
    if path.is_empty() { purl_name(&finding.package.purl).unwrap_or(&finding.package.name) } else { path }
}

/// `path` as a relative URI reference, percent-encoded.
fn uri_reference(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        // `:` is escaped too: in a first segment it would read as a URI scheme.
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri
}

/// `name` of `pkg:type/namespace/name@version?qualifiers#subpath`.
fn purl_name(purl: &str) -> Option<&str> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let without_version = rest.rsplit_once('@').map_or(rest, |(before, _)| before);
    let name = without_version.rsplit('/').next().filter(|name| !name.is_empty() && *name != without_version)?;
    Some(name)
}

/// Hex SHA-256 of `key`, for `partialFingerprints`. A finding's key is
/// `<id> <package id>`, the same key the gate lists failing findings by.
pub(crate) fn sha256_hex(key: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_names() {
        assert_eq!(purl_name("pkg:deb/debian/libc6@2.36-9?arch=amd64"), Some("libc6"));
        assert_eq!(purl_name("pkg:npm/%40babel/core@7.0.0"), Some("core"));
        assert_eq!(purl_name("pkg:pypi/pyyaml@5.3#sub/path"), Some("pyyaml"));
        assert_eq!(purl_name("pkg:generic"), None);
        assert_eq!(purl_name("not a purl"), None);
    }

    #[test]
    fn security_severity_prefers_the_score() {
        assert_eq!(security_severity(Some(9.8), Severity::Medium), "9.8");
        assert_eq!(security_severity(Some(7.0), Severity::High), "7.0");
        assert_eq!(security_severity(None, Severity::Critical), "9.5");
        assert_eq!(security_severity(None, Severity::High), "8.0");
        assert_eq!(security_severity(None, Severity::Medium), "5.5");
        assert_eq!(security_severity(None, Severity::Low), "2.0");
        assert_eq!(security_severity(None, Severity::Negligible), "0.0");
        assert_eq!(security_severity(None, Severity::Unknown), "0.0");
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(markdown_cell("a|b\n*c*"), "a\\|b \\*c\\*");
    }
}
