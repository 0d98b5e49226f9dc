//! RPM package versions, `[epoch:]version[-release]`, ordered as rpm orders
//! them: `rpmvercmp` (rpm's `rpmio/rpmvercmp.c`) on each part, combined as
//! `rpmverCmp` (`lib/rpmver.c`) does.
//!
//! rpmvercmp skips everything but ASCII letters, digits, `~` and `^`, then
//! compares segment by segment: a run of digits by value, a run of letters in
//! ASCII order, a number above a word (`1.0.1 > 1.0.a`). `~` sorts before
//! everything, even the end (`1.0~rc1 < 1.0`); `^` sorts after the end but
//! before any segment (`1.0 < 1.0^git1 < 1.0.1`). When all segments agree, the
//! string with segments left over is greater; separators alone never count
//! (`1.0 == 1_0`).
//!
//! The epoch (missing = 0) decides first, then the version, then the release.
//! [`compare`] is rpm's total order (`rpmverCmp`), in which a missing release
//! sorts before any release (`1.0 < 1.0-~1`). [`satisfies`] uses rpm's rule
//! for matching a dependency (`rpmverOverlap`) instead: when either side has
//! no release, only epoch and version are compared, so `1.0-3.el8` meets
//! `<= 1.0` and `= 1.0` but not `< 1.0`. (rpm goes further when the version
//! tested has no release: it then overlaps every release of its version, even
//! `< 1.0-5` and `> 1.0-5` at once; here the two simply compare as equal.)
//!
//! Validation follows what rpm accepts in a spec file's Version and Release:
//! ASCII letters, digits and `. _ + ~ ^`; the epoch is decimal digits; at most
//! one `-`, and no part may be empty.
//! Requirements use the operator-list syntax of [`crate::constraint`].

use std::cmp::Ordering;

use crate::generic::{compare_digit_runs, split_run};
use crate::{Scheme, VersionError, constraint};

const PUNCTUATION: &str = "._+~^";

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(compare_evr(&Evr::parse(a)?, &Evr::parse(b)?, MissingRelease::SortsFirst))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    constraint::satisfies_with(version, requirement, Scheme::Rpm, |a, b| {
        Ok(compare_evr(&Evr::parse(a)?, &Evr::parse(b)?, MissingRelease::MatchesAny))
    })
}

struct Evr<'a> {
    epoch: &'a str,
    version: &'a str,
    release: Option<&'a str>,
}

impl<'a> Evr<'a> {
    fn parse(evr: &'a str) -> Result<Self, VersionError> {
        let invalid = |reason: String| VersionError::version(Scheme::Rpm, evr, reason);
        if evr.is_empty() {
            return Err(invalid("empty".to_owned()));
        }
        let (epoch, rest) = match evr.split_once(':') {
            Some(("", _)) => return Err(invalid("empty epoch before ':'".to_owned())),
            Some((epoch, _)) if !epoch.bytes().all(|byte| byte.is_ascii_digit()) => {
                return Err(invalid(format!("epoch {epoch:?} is not a number")));
            }
            Some(split) => split,
            None => ("0", evr),
        };
        let (version, release) = match rest.split_once('-') {
            Some((_, release)) if release.contains('-') => {
                return Err(invalid("more than one '-' (version and release cannot contain one)".to_owned()));
            }
            Some((version, release)) => (version, Some(release)),
            None => (rest, None),
        };
        check_part(version, "version").map_err(invalid)?;
        if let Some(release) = release {
            check_part(release, "release").map_err(invalid)?;
        }
        Ok(Self { epoch, version, release })
    }
}

fn check_part(part: &str, name: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err(format!("empty {name}"));
    }
    match part.chars().find(|&c| !c.is_ascii_alphanumeric() && !PUNCTUATION.contains(c)) {
        Some(bad) => {
            Err(format!("character {bad:?} is not allowed in the {name} (letters, digits and {PUNCTUATION:?})"))
        }
        None => Ok(()),
    }
}

/// How a release missing on one side compares.
#[derive(Clone, Copy)]
enum MissingRelease {
    /// Before any release: rpm's total order.
    SortsFirst,
    /// As anything: rpm's rule when matching a dependency or requirement.
    MatchesAny,
}

fn compare_evr(a: &Evr<'_>, b: &Evr<'_>, missing_release: MissingRelease) -> Ordering {
    rpmvercmp(a.epoch, b.epoch).then_with(|| rpmvercmp(a.version, b.version)).then_with(|| {
        match (a.release, b.release, missing_release) {
            (Some(a), Some(b), _) => rpmvercmp(a, b),
            (_, _, MissingRelease::MatchesAny) => Ordering::Equal,
            (a, b, MissingRelease::SortsFirst) => a.is_some().cmp(&b.is_some()),
        }
    })
}

fn rpmvercmp(a: &str, b: &str) -> Ordering {
    let is_separator = |byte: u8| !byte.is_ascii_alphanumeric() && byte != b'~' && byte != b'^';
    let (mut one, mut two) = (a.as_bytes(), b.as_bytes());
    loop {
        one = split_run(one, is_separator).1;
        two = split_run(two, is_separator).1;
        match (one, two) {
            ([b'~', one_rest @ ..], [b'~', two_rest @ ..]) | ([b'^', one_rest @ ..], [b'^', two_rest @ ..]) => {
                (one, two) = (one_rest, two_rest);
            }
            ([b'~', ..], _) => return Ordering::Less,
            (_, [b'~', ..]) => return Ordering::Greater,
            ([b'^', ..], []) => return Ordering::Greater,
            ([], [b'^', ..]) => return Ordering::Less,
            ([b'^', ..], _) => return Ordering::Less,
            (_, [b'^', ..]) => return Ordering::Greater,
            ([], []) => return Ordering::Equal,
            ([], _) => return Ordering::Less,
            (_, []) => return Ordering::Greater,
            ([first, ..], _) => {
                let numeric = first.is_ascii_digit();
                let in_segment = |byte: u8| if numeric { byte.is_ascii_digit() } else { byte.is_ascii_alphabetic() };
                let (one_segment, one_rest) = split_run(one, in_segment);
                let (two_segment, two_rest) = split_run(two, in_segment);
                let order = match (two_segment.is_empty(), numeric) {
                    // The other side has a segment of the other kind there.
                    (true, true) => Ordering::Greater,
                    (true, false) => Ordering::Less,
                    (false, true) => compare_digit_runs(one_segment, two_segment),
                    (false, false) => one_segment.cmp(two_segment),
                };
                if order.is_ne() {
                    return order;
                }
                (one, two) = (one_rest, two_rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn epoch_decides_first_then_version_then_release() {
        assert_eq!(order("1:1.0-1", "2.0-1"), Ordering::Greater);
        assert_eq!(order("0:1.0-1", "1.0-1"), Ordering::Equal);
        assert_eq!(order("00:1.0", "0:1.0"), Ordering::Equal);
        assert_eq!(order("1.0-2", "1.0-10"), Ordering::Less);
        assert_eq!(order("1.0-1.el8_4", "1.0-1.el8"), Ordering::Greater);
        assert_eq!(order("2.32.1-42.el8_8", "2.32.1-39.el8_7"), Ordering::Greater);
        assert_eq!(order("1.0-1.fc36", "1.0.1-0.fc36"), Ordering::Less);
    }

    #[test]
    fn a_missing_release_sorts_first_but_matches_any_in_requirements() {
        assert_eq!(order("1.0", "1.0-1"), Ordering::Less);
        assert_eq!(order("1.0", "1.0-~1"), Ordering::Less);
        assert_eq!(order("1.0", "1.0"), Ordering::Equal);
        assert!(satisfies("1.0-3.el8", "= 1.0").unwrap());
        assert!(satisfies("1.0-3.el8", "<= 1.0").unwrap());
        assert!(!satisfies("1.0-3.el8", "< 1.0").unwrap());
        assert!(satisfies("1.0", ">= 1.0-5").unwrap());
        assert!(satisfies("1.0-3.el8", "< 1.0-4.el8").unwrap());
        assert!(!satisfies("1:1.0-3.el8", "< 1.1").unwrap());
        assert!(satisfies("1.0~rc1-1", "< 1.0").unwrap());
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (version, reason) in [
            ("", "empty"),
            (":1.0", "empty epoch before ':'"),
            ("a:1.0", "epoch \"a\" is not a number"),
            ("-1:1.0", "epoch \"-1\" is not a number"),
            ("1:", "empty version"),
            ("1:-1", "empty version"),
            ("1.0-", "empty release"),
            ("1.0-1-2", "more than one '-' (version and release cannot contain one)"),
            ("1:2:3", "character ':' is not allowed in the version (letters, digits and \"._+~^\")"),
            ("1.0 1", "character ' ' is not allowed in the version (letters, digits and \"._+~^\")"),
            ("1.0-1%{?dist}", "character '%' is not allowed in the release (letters, digits and \"._+~^\")"),
            ("1.α", "character 'α' is not allowed in the version (letters, digits and \"._+~^\")"),
        ] {
            let error = VersionError::version(Scheme::Rpm, version, reason);
            assert_eq!(compare(version, "1.0"), Err(error.clone()), "{version:?}");
            assert_eq!(compare("1.0", version), Err(error.clone()), "{version:?}");
            assert_eq!(satisfies(version, "1.0"), Err(error), "{version:?}");
        }
    }
}
