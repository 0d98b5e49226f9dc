//! The terminal report: one row per finding in the given (risk) order, then a
//! summary line, a warning per expired ignore rule and the gate's verdict.
//! When the base image is known, an ORIGIN column marks each finding `base`
//! or `own` and the summary counts both.

use comfy_table::{Table, presets::NOTHING};
use portcullis_match::{IgnoreRule, Origin, ScanResult, Summary};

use crate::ScanReport;
use crate::text::{SEVERITIES_DESCENDING, exploitation};

pub(crate) fn render(report: &ScanReport<'_>) -> String {
    let result = report.result;
    let mut out = String::new();
    if !result.findings.is_empty() {
        // With a known base image, ORIGIN tells its findings from the image's own.
        let with_origin = result.base_image.is_some();
        let mut table = Table::new();
        table.load_style(NOTHING);
        let mut header = vec!["ID", "SEVERITY", "PACKAGE", "VERSION", "FIXED IN", "STATE", "RISK", "EXPLOITED"];
        if with_origin {
            header.push("ORIGIN");
        }
        table.set_header(header);
        for finding in &result.findings {
            let mut row = vec![
                finding.id.clone(),
                finding.severity.as_str().to_owned(),
                finding.package.name.clone(),
                finding.package.version.clone(),
                finding.fixed_in.join(", "),
                finding.state.as_str().to_owned(),
                format!("{:.1}", finding.risk),
                exploitation(finding).unwrap_or_default(),
            ];
            if with_origin {
                row.push(finding.origin.map_or("-", |origin| origin.as_str()).to_owned());
            }
            table.add_row(row);
        }
        // comfy-table pads every line with one leading space under the NOTHING preset.
        for line in table.to_string().lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
            out.push('\n');
        }
    }
    out.push_str(&summary_line(result));
    out.push('\n');
    for rule in &result.expired_rules {
        out.push_str(&expired_rule_warning(rule));
        out.push('\n');
    }
    if let Some(gate) = report.gate {
        let verdict = if gate.passed { "passed" } else { "FAILED" };
        out.push_str(&format!("gate: {verdict}: {}\n", gate.reason));
    }
    out
}

/// `12 findings: 1 critical, 3 high, 8 medium; 9 fixable; 1 in KEV; 2 ignored; 143 packages`,
/// or `no vulnerabilities found in 143 packages`; parts that would say zero are left out.
fn summary_line(result: &ScanResult) -> String {
    let summary = &result.summary;
    let packages = count(summary.packages, "package", "packages");
    let mut parts = Vec::new();
    if summary.findings == 0 {
        parts.push(format!("no vulnerabilities found in {packages}"));
    } else {
        let by_severity: Vec<String> = SEVERITIES_DESCENDING
            .iter()
            .filter_map(|severity| {
                let n = summary.by_severity.get(severity.as_str()).copied().unwrap_or(0);
                (n > 0).then(|| format!("{n} {}", severity.as_str()))
            })
            .collect();
        let mut findings = count(summary.findings, "finding", "findings");
        if result.base_image.is_some() {
            findings.push_str(&format!(" ({})", origin_counts(summary)));
        }
        parts.push(if by_severity.is_empty() { findings } else { format!("{findings}: {}", by_severity.join(", ")) });
        if summary.fixable > 0 {
            parts.push(format!("{} fixable", summary.fixable));
        }
        if summary.kev > 0 {
            parts.push(format!("{} in KEV", summary.kev));
        }
    }
    if summary.ignored > 0 {
        parts.push(format!("{} ignored", summary.ignored));
    }
    if summary.findings > 0 {
        parts.push(packages);
    }
    if summary.packages_unmatchable > 0 {
        parts.push(format!(
            "{} with a version that could not be read (not matched)",
            count(summary.packages_unmatchable, "package", "packages")
        ));
    }
    parts.join("; ")
}

/// `80 from the base image, 3 added by this image`, plus the findings whose
/// package's layer is unknown, when there are any.
fn origin_counts(summary: &Summary) -> String {
    let of = |origin: Origin| summary.by_origin.get(origin.as_str()).copied().unwrap_or(0);
    let (base, own) = (of(Origin::Base), of(Origin::Own));
    let mut text = format!("{base} from the base image, {own} added by this image");
    let unknown = summary.findings.saturating_sub(base + own);
    if unknown > 0 {
        text.push_str(&format!(", {unknown} of unknown origin"));
    }
    text
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `warning: the ignore rule for CVE-1 (package login) expired on 2026-01-01 and no longer applies (reason: ...)`.
fn expired_rule_warning(rule: &IgnoreRule) -> String {
    let mut target = Vec::new();
    if let Some(vulnerability) = &rule.vulnerability {
        target.push(vulnerability.clone());
    }
    if let Some(package) = &rule.package {
        target.push(format!("package {package}"));
    }
    if let Some(version) = &rule.version {
        target.push(format!("version {version}"));
    }
    if let Some(path) = &rule.path {
        target.push(format!("path {path}"));
    }
    format!(
        "warning: the ignore rule for {} expired on {} and no longer applies (reason: {})",
        target.join(", "),
        rule.expires,
        rule.reason
    )
}
