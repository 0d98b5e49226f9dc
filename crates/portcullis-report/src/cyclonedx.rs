//! The SBOM as CycloneDX 1.6 JSON with a `vulnerabilities` list (the
//! "BOM with embedded vulnerabilities" form): one vulnerability per finding,
//! affecting the component of the finding's package, and one per ignored
//! finding with an `analysis` saying why it was set aside.
//!
//! Ignored findings map to `analysis.state` as follows:
//! * OpenVEX `not_affected` -> `not_affected`;
//! * OpenVEX `fixed` -> `resolved`;
//! * an ignore rule -> `exploitable` with response `will_not_fix`: the rule
//!   accepts a risk until its expiry date, it does not claim the package is
//!   unaffected or the match wrong, so neither `not_affected` nor
//!   `false_positive` would be true.
//!
//! The reason is the analysis `detail` in every case.

use std::collections::HashSet;

use portcullis_match::{Finding, IgnoredFinding};
use portcullis_sbom::format::{self, Format, WriteOptions};
use portcullis_vulndb::Severity;
use serde_json::{Map, Value, json};

use crate::text::is_web_url;
use crate::{ReportError, ScanFormat, ScanReport};

pub(crate) fn render(report: &ScanReport<'_>) -> Result<String, ReportError> {
    let text = format::write(report.sbom, Format::CycloneDxJson, &WriteOptions::default())?;
    let mut document: Value =
        serde_json::from_str(&text).map_err(|e| ReportError::CycloneDxDocument { reason: e.to_string() })?;
    let components = components(&document);
    let mut taken: HashSet<String> = components.iter().map(|c| c.bom_ref.clone()).collect();
    if let Some(subject) = document.pointer("/metadata/component/bom-ref").and_then(Value::as_str) {
        taken.insert(subject.to_owned());
    }
    let entries = report
        .result
        .findings
        .iter()
        .map(|finding| (finding, None))
        .chain(report.result.ignored.iter().map(|ignored| (&ignored.finding, Some(ignored))));
    let mut vulnerabilities = Vec::new();
    for (finding, ignored) in entries {
        vulnerabilities.push(vulnerability(finding, ignored, &components, &mut taken)?);
    }
    let Value::Object(top) = &mut document else {
        return Err(ReportError::CycloneDxDocument { reason: "the top level is not an object".to_owned() });
    };
    if !vulnerabilities.is_empty() {
        top.insert("vulnerabilities".to_owned(), Value::Array(vulnerabilities));
    }
    crate::to_pretty_json(&document, ScanFormat::CycloneDxJson.name())
}

/// What identifies a component of the written document.
struct Component {
    bom_ref: String,
    /// The `portcullis:id` property: the package id the writer derived the bom-ref from.
    package_id: Option<String>,
    purl: Option<String>,
}

fn components(document: &Value) -> Vec<Component> {
    let Some(list) = document.get("components").and_then(Value::as_array) else { return Vec::new() };
    list.iter()
        .filter_map(|component| {
            let bom_ref = component.get("bom-ref")?.as_str()?.to_owned();
            let package_id = component
                .get("properties")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|p| p.get("name").and_then(Value::as_str) == Some("portcullis:id"))
                .and_then(|p| p.get("value")?.as_str())
                .map(str::to_owned);
            let purl = component.get("purl").and_then(Value::as_str).map(str::to_owned);
            Some(Component { bom_ref, package_id, purl })
        })
        .collect()
}

/// The bom-refs of the finding's package: by package id, else by purl
/// (several packages can share a purl, e.g. one found in a lockfile and
/// installed, so the id decides when it can).
fn affected_refs<'a>(finding: &Finding, components: &'a [Component]) -> Result<Vec<&'a str>, ReportError> {
    let package = &finding.package;
    let mut refs: Vec<&str> = components
        .iter()
        .filter(|c| c.package_id.as_deref() == Some(package.id.as_str()))
        .map(|c| c.bom_ref.as_str())
        .collect();
    if refs.is_empty() && !package.purl.is_empty() {
        refs = components
            .iter()
            .filter(|c| c.purl.as_deref() == Some(package.purl.as_str()))
            .map(|c| c.bom_ref.as_str())
            .collect();
    }
    if refs.is_empty() {
        return Err(ReportError::UnknownPackage {
            finding: finding.id.clone(),
            package: package.id.clone(),
            purl: package.purl.clone(),
        });
    }
    Ok(refs)
}

fn vulnerability(
    finding: &Finding,
    ignored: Option<&IgnoredFinding>,
    components: &[Component],
    taken: &mut HashSet<String>,
) -> Result<Value, ReportError> {
    let affects: Vec<Value> = affected_refs(finding, components)?
        .into_iter()
        .map(|reference| {
            let mut affect = json!({ "ref": reference });
            if !finding.package.version.is_empty() {
                affect["versions"] = json!([{"version": finding.package.version, "status": "affected"}]);
            }
            affect
        })
        .collect();
    let feed = finding.evidence.first().map(|e| e.source.as_str());
    let mut v = Map::new();
    v.insert(
        "bom-ref".into(),
        unique_ref(format!("vulnerability:{}:{}", finding.id, finding.package.id), taken).into(),
    );
    v.insert("id".into(), finding.id.clone().into());
    v.insert("source".into(), source(finding));
    if !finding.aliases.is_empty() {
        let references: Vec<Value> = finding
            .aliases
            .iter()
            .map(|alias| {
                let source = match known_database(alias) {
                    Some((name, url)) => json!({"name": name, "url": url}),
                    None => feed.map_or_else(|| json!({}), |name| json!({"name": name})),
                };
                json!({"id": alias, "source": source})
            })
            .collect();
        v.insert("references".into(), references.into());
    }
    let ratings = ratings(finding);
    if !ratings.is_empty() {
        v.insert("ratings".into(), ratings.into());
    }
    let cwes = cwe_numbers(&finding.cwes);
    if !cwes.is_empty() {
        v.insert("cwes".into(), cwes.into());
    }
    if let Some(description) = finding.summary.as_ref().or(finding.description.as_ref()) {
        v.insert("description".into(), description.clone().into());
    }
    if let (Some(_), Some(detail)) = (&finding.summary, &finding.description) {
        v.insert("detail".into(), detail.clone().into());
    }
    if !finding.fixed_in.is_empty() {
        let recommendation = format!("Upgrade {} to {}", finding.package.name, finding.fixed_in.join(" or "));
        v.insert("recommendation".into(), recommendation.into());
    }
    let advisories: Vec<Value> =
        finding.urls.iter().filter(|u| is_web_url(u)).map(|url| json!({ "url": url })).collect();
    if !advisories.is_empty() {
        v.insert("advisories".into(), advisories.into());
    }
    if let Some(published) = finding.published.as_deref().and_then(date_time) {
        v.insert("published".into(), published.into());
    }
    v.insert("affects".into(), affects.into());
    if let Some(ignored) = ignored {
        v.insert("analysis".into(), analysis(ignored));
    }
    v.insert("properties".into(), properties(finding, ignored).into());
    Ok(Value::Object(v))
}

/// A bom-ref not used yet in the document: `candidate`, else `candidate-2`, ...
fn unique_ref(candidate: String, taken: &mut HashSet<String>) -> String {
    let mut reference = candidate.clone();
    let mut n = 1;
    while !taken.insert(reference.clone()) {
        n += 1;
        reference = format!("{candidate}-{n}");
    }
    reference
}

/// Who published the record that matched: the feed, with the record's page
/// there when the feed has one; without evidence, the id's home database.
fn source(finding: &Finding) -> Value {
    let Some(evidence) = finding.evidence.first() else {
        return known_database(&finding.id).map_or_else(|| json!({}), |(name, url)| json!({"name": name, "url": url}));
    };
    let page = if evidence.source == "debian-tracker" {
        Some(format!("https://security-tracker.debian.org/tracker/{}", evidence.record))
    } else if evidence.source.starts_with("osv-") {
        Some(format!("https://osv.dev/vulnerability/{}", evidence.record))
    } else {
        None
    };
    match page.filter(|url| is_web_url(url)) {
        Some(url) => json!({"name": evidence.source, "url": url}),
        None => json!({"name": evidence.source}),
    }
}

/// The public database and page of an id, for the id prefixes whose home is certain.
fn known_database(id: &str) -> Option<(&'static str, String)> {
    let upper = id.to_ascii_uppercase();
    let (name, url) = if upper.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}"))
    } else if upper.starts_with("GHSA-") {
        ("GitHub Advisories", format!("https://github.com/advisories/{id}"))
    } else if ["DSA-", "DLA-", "DTSA-"].iter().any(|p| upper.starts_with(p)) {
        ("Debian Security Tracker", format!("https://security-tracker.debian.org/tracker/{id}"))
    } else if ["PYSEC-", "GO-", "RUSTSEC-", "OSV-", "MAL-"].iter().any(|p| upper.starts_with(p)) {
        ("OSV", format!("https://osv.dev/vulnerability/{id}"))
    } else {
        return None;
    };
    is_web_url(&url).then_some((name, url))
}

/// One rating per CVSS score, plus the publisher's own severity when the
/// finding's severity came from it.
fn ratings(finding: &Finding) -> Vec<Value> {
    let mut ratings: Vec<Value> = finding
        .cvss
        .iter()
        .map(|cvss| {
            let mut rating = Map::new();
            if let Some(source) = &cvss.source {
                rating.insert("source".into(), json!({ "name": source }));
            }
            if let Some(score) = cvss.base_score.filter(|s| s.is_finite()) {
                rating.insert("score".into(), score.into());
                rating.insert("severity".into(), cvss_severity(&cvss.version, score).into());
            }
            let method = match cvss.version.as_str() {
                "2.0" | "2" => "CVSSv2",
                "3.0" => "CVSSv3",
                "3.1" => "CVSSv31",
                "4.0" | "4" => "CVSSv4",
                _ => "other",
            };
            rating.insert("method".into(), method.into());
            rating.insert("vector".into(), cvss.vector.clone().into());
            Value::Object(rating)
        })
        .collect();
    if let Some(vendor) = finding.severity_source.strip_prefix("vendor:") {
        ratings.push(json!({
            "source": {"name": vendor},
            "severity": severity_name(finding.severity),
            "method": "other",
        }));
    }
    ratings
}

/// The qualitative rating of a base score in its CVSS version's bands:
/// version 2 has no critical band; 0.0 is `none` from version 3 on.
fn cvss_severity(version: &str, score: f64) -> &'static str {
    if version.starts_with('2') {
        return if score >= 7.0 {
            "high"
        } else if score >= 4.0 {
            "medium"
        } else {
            "low"
        };
    }
    if score <= 0.0 { "none" } else { severity_name(Severity::from_cvss_score(score)) }
}

/// CycloneDX's severity words; `negligible` (Debian's `unimportant`) is `info`.
fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Negligible => "info",
        Severity::Unknown => "unknown",
    }
}

/// `CWE-79` -> 79; `NVD-CWE-Other` and `NVD-CWE-noinfo` name no weakness.
fn cwe_numbers(cwes: &[String]) -> Vec<u64> {
    let mut numbers: Vec<u64> = Vec::new();
    for cwe in cwes {
        let number = cwe.trim().strip_prefix("CWE-").and_then(|n| n.parse::<u64>().ok()).filter(|n| *n >= 1);
        if let Some(number) = number
            && !numbers.contains(&number)
        {
            numbers.push(number);
        }
    }
    numbers
}

fn analysis(ignored: &IgnoredFinding) -> Value {
    if ignored.by != "vex" {
        return json!({"state": "exploitable", "response": ["will_not_fix"], "detail": ignored.reason});
    }
    // Triage writes a VEX reason as `<document>: <status>[ (<justification>)]`.
    let says_fixed = ignored.reason.match_indices(": fixed").any(|(at, matched)| {
        ignored.reason.get(at + matched.len()..).is_some_and(|after| after.is_empty() || after.starts_with(" ("))
    });
    let state = if says_fixed { "resolved" } else { "not_affected" };
    json!({"state": state, "detail": ignored.reason})
}

fn properties(finding: &Finding, ignored: Option<&IgnoredFinding>) -> Vec<Value> {
    let mut properties = vec![
        ("portcullis:risk", format!("{:.1}", finding.risk)),
        ("portcullis:fix_state", finding.state.as_str().to_owned()),
        ("portcullis:severity_source", finding.severity_source.clone()),
    ];
    if let Some(kev) = &finding.kev {
        properties.push(("portcullis:kev:date_added", kev.date_added.clone()));
    }
    if let Some(epss) = &finding.epss {
        properties.push(("portcullis:epss:score", epss.score.to_string()));
        properties.push(("portcullis:epss:percentile", epss.percentile.to_string()));
    }
    if let Some(ignored) = ignored {
        properties.push(("portcullis:ignored_by", ignored.by.clone()));
    }
    properties.into_iter().map(|(name, value)| json!({"name": name, "value": value})).collect()
}

/// An RFC 3339 date-time from what feeds write: full date-times as they
/// are, date-times without an offset as UTC (NVD and CVE 5 write them so),
/// plain dates as midnight UTC; anything else is not a date-time.
fn date_time(text: &str) -> Option<String> {
    let text = text.trim();
    let (date, time) = match text.split_once(['T', 't']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    if !is_date(date) {
        return None;
    }
    let Some(time) = time else { return Some(format!("{date}T00:00:00Z")) };
    let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
        Some(at) => time.split_at(at),
        None => (time, ""),
    };
    if !is_clock(clock) {
        return None;
    }
    let offset = match offset {
        "" | "Z" | "z" => "Z",
        other if is_offset(other) => other,
        _ => return None,
    };
    Some(format!("{date}T{clock}{offset}"))
}

/// `YYYY-MM-DD`, a day that exists.
fn is_date(date: &str) -> bool {
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts.as_slice() else { return false };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(year), digits(month), digits(day)) else { return false };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// `HH:MM:SS` with optional fraction; 60 seconds allowed for leap seconds.
fn is_clock(clock: &str) -> bool {
    let (whole, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    let parts: Vec<&str> = whole.split(':').collect();
    let [hours, minutes, seconds] = parts.as_slice() else { return false };
    [hours, minutes, seconds].iter().all(|p| p.len() == 2)
        && digits(hours).is_some_and(|h| h <= 23)
        && digits(minutes).is_some_and(|m| m <= 59)
        && digits(seconds).is_some_and(|s| s <= 60)
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// `+HH:MM` or `-HH:MM`.
fn is_offset(offset: &str) -> bool {
    let Some(rest) = offset.strip_prefix(['+', '-']) else { return false };
    let Some((hours, minutes)) = rest.split_once(':') else { return false };
    hours.len() == 2
        && minutes.len() == 2
        && digits(hours).is_some_and(|h| h <= 23)
        && digits(minutes).is_some_and(|m| m <= 59)
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_timestamps_become_rfc3339_date_times() {
        assert_eq!(date_time("2024-01-26T09:15:07.837Z").as_deref(), Some("2024-01-26T09:15:07.837Z"));
        assert_eq!(date_time("2020-03-24T15:15:00+02:00").as_deref(), Some("2020-03-24T15:15:00+02:00"));
        // NVD (`published` of CVE-2018-18074) and CVE 5 (`datePublished` of CVE-2023-45853) omit the offset.
        assert_eq!(date_time("2018-10-09T17:29:01.897").as_deref(), Some("2018-10-09T17:29:01.897Z"));
        assert_eq!(date_time("2023-10-14T00:00:00").as_deref(), Some("2023-10-14T00:00:00Z"));
        assert_eq!(date_time("2024-02-29").as_deref(), Some("2024-02-29T00:00:00Z"));
        for bad in [
            "2023-02-29",
            "2023-13-01",
            "2023-1-01",
            "yesterday",
            "",
            "2023-01-01T25:00:00Z",
            "2023-01-01T10:00Z",
            "2023-01-01T10:00:00+0200",
            "2023-01-01T10:00:00.Z",
        ] {
            assert_eq!(date_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn cwes_and_severities() {
        let cwes = ["CWE-79", "NVD-CWE-Other", "CWE-79", "CWE-0", "CWE-x", " CWE-400 "].map(String::from);
        assert_eq!(cwe_numbers(&cwes), vec![79, 400]);
        assert_eq!(cvss_severity("2.0", 10.0), "high", "CVSS v2 has no critical band");
        assert_eq!(cvss_severity("2.0", 5.0), "medium");
        assert_eq!(cvss_severity("3.1", 9.8), "critical");
        assert_eq!(cvss_severity("3.1", 0.0), "none");
        assert_eq!(cvss_severity("4.0", 6.9), "medium");
    }

    #[test]
    fn known_databases() {
        assert_eq!(
            known_database("CVE-2023-4911"),
            Some(("NVD", "https://nvd.nist.gov/vuln/detail/CVE-2023-4911".to_owned()))
        );
        assert_eq!(known_database("PYSEC-2020-96").map(|(n, _)| n), Some("OSV"));
        assert_eq!(known_database("DSA-5514-1").map(|(n, _)| n), Some("Debian Security Tracker"));
        assert_eq!(known_database("ALPINE-1"), None);
        assert_eq!(known_database("CVE-1 2"), None, "not a URL once embedded");
    }
}
