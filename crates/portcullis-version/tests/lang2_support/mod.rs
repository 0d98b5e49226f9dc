//! Shared by the tests of the Maven, RubyGems, Composer and NuGet schemes:
//! where the shared feeds are, reading GHSA records, and the order laws.
//!
//! The feeds are found by `portcullis_testkit::data`: missing data is a
//! failure, never a skip.

use std::cmp::Ordering;
use std::fs;
use std::path::{Path, PathBuf};

use portcullis_version::{Scheme, VersionError};
use serde_json::Value;

pub use portcullis_testkit::data::feed;

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Every file below `dir` whose name ends with `suffix`, sorted.
pub fn files_under(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// One `affected[]` range of a GHSA record: package name and its OSV events.
pub struct GhsaRange {
    pub advisory: String,
    pub package: String,
    pub introduced: String,
    pub fixed: Option<String>,
    pub last_affected_range: Option<String>,
}

/// The ECOSYSTEM ranges of every `affected[]` entry of `ecosystem` in the GHSA subset.
pub fn ghsa_ranges(ecosystem: &str) -> Vec<GhsaRange> {
    let mut ranges = Vec::new();
    for path in files_under(&feed("ghsa-subset/advisories"), ".json") {
        let record: Value = serde_json::from_str(&read(&path)).unwrap();
        let advisory = record["id"].as_str().unwrap().to_owned();
        for affected in record["affected"].as_array().unwrap() {
            if affected["package"]["ecosystem"] != ecosystem {
                continue;
            }
            let last_affected_range =
                affected["database_specific"]["last_known_affected_version_range"].as_str().map(str::to_owned);
            for range in affected["ranges"].as_array().unwrap() {
                assert_eq!(range["type"], "ECOSYSTEM", "{advisory}");
                let event = |name: &str| {
                    range["events"].as_array().unwrap().iter().find_map(|event| event[name].as_str().map(str::to_owned))
                };
                ranges.push(GhsaRange {
                    advisory: advisory.clone(),
                    package: affected["package"]["name"].as_str().unwrap().to_owned(),
                    introduced: event("introduced").unwrap(),
                    fixed: event("fixed"),
                    last_affected_range: last_affected_range.clone(),
                });
            }
        }
    }
    ranges
}

/// Asserts `versions` are in strictly increasing order, every pair of them.
pub fn assert_increasing(scheme: Scheme, versions: &[&str]) {
    for (index, low) in versions.iter().enumerate() {
        for high in &versions[index + 1..] {
            assert_eq!(scheme.compare(low, high), Ok(Ordering::Less), "{scheme}: expected {low} < {high}");
            assert_eq!(scheme.compare(high, low), Ok(Ordering::Greater), "{scheme}: expected {high} > {low}");
        }
    }
}

/// Asserts each pair compares equal, both ways.
pub fn assert_equal(scheme: Scheme, pairs: &[(&str, &str)]) {
    for (a, b) in pairs {
        assert_eq!(scheme.compare(a, b), Ok(Ordering::Equal), "{scheme}: expected {a} == {b}");
        assert_eq!(scheme.compare(b, a), Ok(Ordering::Equal), "{scheme}: expected {b} == {a}");
    }
}

/// Asserts each `(a, b)` has `a < b`, both ways round.
pub fn assert_less(scheme: Scheme, pairs: &[(&str, &str)]) {
    for (low, high) in pairs {
        assert_increasing(scheme, &[low, high]);
    }
}

/// Asserts `satisfies(version, requirement) == expected` for each case.
pub fn assert_satisfies(scheme: Scheme, cases: &[(&str, &str, bool)]) {
    for (version, requirement, expected) in cases {
        assert_eq!(
            scheme.satisfies(version, requirement),
            Ok(*expected),
            "{scheme}: {version} satisfies {requirement:?} should be {expected}"
        );
    }
}

/// The reason of an invalid-version or invalid-requirement error.
pub fn reason(error: VersionError) -> String {
    match error {
        VersionError::InvalidVersion { reason, .. } | VersionError::InvalidRequirement { reason, .. } => reason,
    }
}

/// The laws of a total order over `versions` (all valid): reflexive,
/// antisymmetric, transitive (for `<` and for `==`).
pub fn check_order_laws(scheme: Scheme, versions: &[String]) -> Result<(), String> {
    let order = |a: &String, b: &String| scheme.compare(a, b).map_err(|error| error.to_string());
    for a in versions {
        if order(a, a)? != Ordering::Equal {
            return Err(format!("{a} != itself"));
        }
        for b in versions {
            let (ab, ba) = (order(a, b)?, order(b, a)?);
            if ab != ba.reverse() {
                return Err(format!("{a} vs {b} is {ab:?} but {b} vs {a} is {ba:?}"));
            }
            for c in versions {
                let (bc, ac) = (order(b, c)?, order(a, c)?);
                if ab.is_le() && bc.is_le() && ac != ab.then(bc) {
                    return Err(format!("{a} {ab:?} {b} and {b} {bc:?} {c} but {a} {ac:?} {c}"));
                }
            }
        }
    }
    Ok(())
}
