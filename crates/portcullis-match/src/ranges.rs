//! Whether a version falls in an affected entry, and why.
//!
//! OSV event ranges follow the OSV schema's evaluation: events are sorted by
//! version (`introduced: "0"` first); walking up to the installed version,
//! `introduced` opens the affected interval, `fixed` and `limit` close it at
//! their version, `last_affected` closes it just after. The applicable fix is
//! the first `fixed` event above the version in the range that matched, so
//! overlapping ranges (one per release line) give the fix of the installed
//! line.

use std::cmp::Ordering;

use portcullis_version::{Scheme, VersionError};
use portcullis_vulndb::{Affected, RangeEvent, VersionRange};

/// A positive answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeMatch {
    /// The range or list as written upstream.
    pub constraint: String,
    /// The comparison that decided it.
    pub comparison: String,
    /// The fix for this version's line, when the range names one.
    pub fixed: Option<String>,
}

/// Evaluates `affected` for `version`. `Ok(None)` means not affected.
pub fn evaluate(affected: &Affected, version: &str) -> Result<Option<RangeMatch>, VersionError> {
    let scheme = affected.scheme;
    if affected.ranges.is_empty() && affected.versions.is_empty() {
        return Ok(Some(RangeMatch {
            constraint: "all versions".to_owned(),
            comparison: format!("{version}: every version is affected"),
            fixed: None,
        }));
    }
    for listed in &affected.versions {
        // A listed version the scheme cannot read cannot equal ours.
        if scheme.compare(version, listed).ok() == Some(Ordering::Equal) {
            return Ok(Some(RangeMatch {
                constraint: format!("listed versions ({})", affected.versions.len()),
                comparison: format!("{version} = {listed} (listed as affected)"),
                fixed: smallest_fix_above(scheme, version, &affected.fixed),
            }));
        }
    }
    // Fail on an unreadable installed version before trying ranges, so the
    // caller can report the package as unmatchable rather than unaffected.
    scheme.compare(version, version)?;
    // Several ranges may contain the version (one per release line,
    // overlapping); the lowest fix is the installed line's.
    let mut best: Option<RangeMatch> = None;
    for range in &affected.ranges {
        let found = match range {
            VersionRange::Events { events } => evaluate_events(scheme, version, events)?,
            VersionRange::Requirements { affected: requirement, unaffected } => {
                evaluate_requirements(scheme, version, requirement.as_deref(), unaffected, &affected.fixed)?
            }
        };
        best = match (best, found) {
            (None, found) => found,
            (Some(current), Some(found)) if lower_fix(scheme, &found, &current) => Some(found),
            (current, _) => current,
        };
    }
    Ok(best)
}

fn lower_fix(scheme: Scheme, candidate: &RangeMatch, current: &RangeMatch) -> bool {
    match (&candidate.fixed, &current.fixed) {
        (Some(a), Some(b)) => scheme.compare(a, b).ok() == Some(Ordering::Less),
        (Some(_), None) => true,
        _ => false,
    }
}

fn evaluate_events(scheme: Scheme, version: &str, events: &[RangeEvent]) -> Result<Option<RangeMatch>, VersionError> {
    // Sort by version; an event the scheme cannot read is dropped (upstream
    // data errors must not hide the rest of the range).
    let mut sorted: Vec<&RangeEvent> = events.iter().filter(|event| event_version_readable(scheme, event)).collect();
    sorted.sort_by(|a, b| compare_event_versions(scheme, a, b));
    let mut opened: Option<&str> = None;
    let mut closed_by: Option<&RangeEvent> = None;
    for event in &sorted {
        let at = event_version(event);
        let order = if at == "0" { Ordering::Greater } else { scheme.compare(version, at)? };
        match event {
            RangeEvent::Introduced(v) if order != Ordering::Less => {
                opened = Some(v);
                closed_by = None;
            }
            RangeEvent::Fixed(_) | RangeEvent::Limit(_) if order != Ordering::Less => {
                opened = None;
                closed_by = Some(event);
            }
            RangeEvent::LastAffected(_) if order == Ordering::Greater => {
                opened = None;
                closed_by = Some(event);
            }
            _ => {}
        }
        if order == Ordering::Less {
            break;
        }
    }
    let constraint = describe_events(events);
    let Some(introduced) = opened else {
        let _ = closed_by;
        return Ok(None);
    };
    // The fix of this interval: the first fixed (or last_affected) event above the version.
    let upper = sorted.iter().find(|event| {
        !matches!(event, RangeEvent::Introduced(_))
            && event_version(event) != "0"
            && scheme.compare(version, event_version(event)).ok() != Some(Ordering::Greater)
    });
    let (fixed, comparison) = match upper {
        Some(RangeEvent::Fixed(fix)) => (Some(fix.clone()), format!("{introduced} <= {version} < {fix} (fixed)")),
        Some(RangeEvent::Limit(limit)) => (None, format!("{introduced} <= {version} < {limit} (limit)")),
        Some(RangeEvent::LastAffected(last)) => (None, format!("{introduced} <= {version} <= {last} (last affected)")),
        _ => (None, format!("{version} >= {introduced} (introduced; no fix)")),
    };
    Ok(Some(RangeMatch { constraint, comparison, fixed }))
}

fn evaluate_requirements(
    scheme: Scheme,
    version: &str,
    affected: Option<&str>,
    unaffected: &[String],
    fixes: &[String],
) -> Result<Option<RangeMatch>, VersionError> {
    if let Some(requirement) = affected
        && !scheme.satisfies(version, requirement)?
    {
        return Ok(None);
    }
    for requirement in unaffected {
        if scheme.satisfies(version, requirement)? {
            return Ok(None);
        }
    }
    let constraint = match (affected, unaffected.is_empty()) {
        (Some(a), true) => format!("affected: {a}"),
        (Some(a), false) => format!("affected: {a}; unaffected: {}", unaffected.join(" | ")),
        (None, _) => format!("unaffected: {}", unaffected.join(" | ")),
    };
    let comparison = match affected {
        Some(a) => format!("{version} satisfies {a:?}"),
        None => format!("{version} satisfies none of the unaffected requirements"),
    };
    Ok(Some(RangeMatch { constraint, comparison, fixed: smallest_fix_above(scheme, version, fixes) }))
}

/// The lowest fix above `version`: the upgrade that resolves it.
fn smallest_fix_above(scheme: Scheme, version: &str, fixes: &[String]) -> Option<String> {
    fixes
        .iter()
        .filter(|fix| scheme.compare(fix, version).ok() == Some(Ordering::Greater))
        .min_by(|a, b| scheme.compare(a, b).unwrap_or(Ordering::Equal))
        .cloned()
}

fn event_version(event: &RangeEvent) -> &str {
    match event {
        RangeEvent::Introduced(v) | RangeEvent::Fixed(v) | RangeEvent::LastAffected(v) | RangeEvent::Limit(v) => v,
    }
}

fn event_version_readable(scheme: Scheme, event: &RangeEvent) -> bool {
    let v = event_version(event);
    v == "0" || scheme.compare(v, v).is_ok()
}

fn compare_event_versions(scheme: Scheme, a: &RangeEvent, b: &RangeEvent) -> Ordering {
    let (va, vb) = (event_version(a), event_version(b));
    let by_version = match (va == "0", vb == "0") {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => scheme.compare(va, vb).unwrap_or(Ordering::Equal),
    };
    // At equal versions an interval closes before the next one opens.
    let rank = |event: &RangeEvent| match event {
        RangeEvent::Fixed(_) | RangeEvent::Limit(_) => 0,
        RangeEvent::Introduced(_) => 1,
        RangeEvent::LastAffected(_) => 2,
    };
    by_version.then(rank(a).cmp(&rank(b)))
}

fn describe_events(events: &[RangeEvent]) -> String {
    events
        .iter()
        .map(|event| match event {
            RangeEvent::Introduced(v) => format!("introduced {v}"),
            RangeEvent::Fixed(v) => format!("fixed {v}"),
            RangeEvent::LastAffected(v) => format!("last_affected {v}"),
            RangeEvent::Limit(v) => format!("limit {v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use portcullis_vulndb::FixState;

    use super::*;

    fn entry(scheme: Scheme, ranges: Vec<VersionRange>, versions: &[&str], fixed: &[&str]) -> Affected {
        Affected {
            namespace: "test".to_owned(),
            package: "p".to_owned(),
            scheme,
            ranges,
            versions: versions.iter().map(|v| v.to_string()).collect(),
            state: FixState::Fixed,
            fixed: fixed.iter().map(|v| v.to_string()).collect(),
            severity: None,
            note: None,
            cpe: None,
        }
    }

    fn events(list: &[(&str, &str)]) -> VersionRange {
        VersionRange::Events {
            events: list
                .iter()
                .map(|(kind, v)| match *kind {
                    "introduced" => RangeEvent::Introduced(v.to_string()),
                    "fixed" => RangeEvent::Fixed(v.to_string()),
                    "last_affected" => RangeEvent::LastAffected(v.to_string()),
                    _ => RangeEvent::Limit(v.to_string()),
                })
                .collect(),
        }
    }

    #[test]
    fn osv_intervals_open_and_close() {
        // RUSTSEC-2020-0071 style: several intervals in one range.
        let time = entry(
            Scheme::Cargo,
            vec![events(&[
                ("introduced", "0"),
                ("fixed", "0.1.0"),
                ("introduced", "0.1.1"),
                ("fixed", "0.2.0"),
                ("introduced", "0.2.7"),
                ("fixed", "0.2.23"),
            ])],
            &[],
            &[],
        );
        let hit = evaluate(&time, "0.1.43").unwrap().unwrap();
        assert_eq!(hit.fixed.as_deref(), Some("0.2.0"));
        assert_eq!(hit.comparison, "0.1.1 <= 0.1.43 < 0.2.0 (fixed)");
        assert!(evaluate(&time, "0.2.3").unwrap().is_none(), "between intervals");
        assert_eq!(evaluate(&time, "0.2.22").unwrap().unwrap().fixed.as_deref(), Some("0.2.23"));
        assert!(evaluate(&time, "0.2.23").unwrap().is_none(), "the fix itself");
        assert!(evaluate(&time, "0.3.0").unwrap().is_none());
    }

    #[test]
    fn overlapping_ranges_report_the_installed_line_fix() {
        // node-fetch GHSA-r683-j2x4-v87g: [0, 2.6.7) and [3.0.0, 3.1.1).
        let node_fetch = entry(
            Scheme::Npm,
            vec![
                events(&[("introduced", "0"), ("fixed", "2.6.7")]),
                events(&[("introduced", "3.0.0"), ("fixed", "3.1.1")]),
            ],
            &[],
            &["2.6.7", "3.1.1"],
        );
        assert_eq!(evaluate(&node_fetch, "2.6.1").unwrap().unwrap().fixed.as_deref(), Some("2.6.7"));
        assert_eq!(evaluate(&node_fetch, "3.0.5").unwrap().unwrap().fixed.as_deref(), Some("3.1.1"));
        assert!(evaluate(&node_fetch, "2.6.7").unwrap().is_none());
    }

    #[test]
    fn last_affected_is_inclusive_and_lists_match_exactly() {
        let e = entry(Scheme::Pep440, vec![events(&[("introduced", "1.0"), ("last_affected", "1.4")])], &[], &[]);
        assert!(evaluate(&e, "1.4").unwrap().is_some());
        assert!(evaluate(&e, "1.4.1").unwrap().is_none());
        assert!(evaluate(&e, "0.9").unwrap().is_none());
        let listed = entry(Scheme::Pep440, Vec::new(), &["2.2", "2.2.1"], &["2.2.2"]);
        let hit = evaluate(&listed, "2.2.0").unwrap().unwrap();
        assert_eq!(hit.fixed.as_deref(), Some("2.2.2"));
        assert!(evaluate(&listed, "2.2.2").unwrap().is_none());
    }

    #[test]
    fn debian_fixed_versions_compare_with_epochs() {
        let zlib = entry(Scheme::Dpkg, vec![events(&[("introduced", "0"), ("fixed", "1:1.3.dfsg-2")])], &[], &[]);
        assert!(evaluate(&zlib, "1:1.2.13.dfsg-1").unwrap().is_some());
        assert!(evaluate(&zlib, "1.4-1").unwrap().is_some(), "no epoch sorts below epoch 1");
        assert!(evaluate(&zlib, "1:1.3.dfsg-2").unwrap().is_none());
    }

    #[test]
    fn unreadable_installed_versions_are_errors_not_misses() {
        let e = entry(Scheme::Pep440, vec![events(&[("introduced", "0"), ("fixed", "2.0")])], &[], &[]);
        assert!(evaluate(&e, "not a version!").is_err());
    }
}
