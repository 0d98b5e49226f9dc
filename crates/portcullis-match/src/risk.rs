//! The risk ordering of findings.
//!
//! `risk = 100 × impact × (0.25 + 0.75 × threat)`, where impact is the highest
//! CVSS base score / 10 (or, without a score, a value for the severity band)
//! and threat is 1 for a CVE in CISA KEV (exploited in the wild), else its
//! EPSS probability, else 0. A critical vulnerability nobody exploits thus
//! ranks below a high one that is being exploited, and ties fall back to
//! severity, then id.

use std::cmp::Ordering;

use portcullis_vulndb::Severity;

use crate::Finding;

/// The impact used when no CVSS base score is known: the middle of the band.
fn severity_impact(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 0.95,
        Severity::High => 0.8,
        Severity::Medium => 0.55,
        Severity::Low => 0.2,
        Severity::Negligible => 0.05,
        Severity::Unknown => 0.3,
    }
}

/// The risk score of a finding, 0-100, rounded to one decimal.
pub fn score(finding: &Finding) -> f64 {
    let best_score = finding
        .cvss
        .iter()
        .filter_map(|c| c.base_score)
        .fold(None, |best: Option<f64>, s| Some(best.map_or(s, |b| b.max(s))));
    let impact = best_score.map_or_else(|| severity_impact(finding.severity), |s| (s / 10.0).clamp(0.0, 1.0));
    let threat =
        if finding.kev.is_some() { 1.0 } else { finding.epss.as_ref().map_or(0.0, |e| e.score.clamp(0.0, 1.0)) };
    (1000.0 * impact * (0.25 + 0.75 * threat)).round() / 10.0
}

/// Most risky first; then by severity, id and package for a stable order.
pub fn order(a: &Finding, b: &Finding) -> Ordering {
    b.risk
        .partial_cmp(&a.risk)
        .unwrap_or(Ordering::Equal)
        .then(b.severity.cmp(&a.severity))
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.package.id.cmp(&b.package.id))
}
