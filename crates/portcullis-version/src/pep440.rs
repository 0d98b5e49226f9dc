//! Python package versions (PEP 440) and specifier sets (`>=1.0,<2.0`, `~=1.4.2`, `==1.*`, `!=`, `===`).
//!
//! pep440_rs parses and orders versions; the specifier operators are evaluated
//! here, following pypa/packaging (what pip and the advisory databases use),
//! because pep440_rs departs from it on `<` against pre-releases and on `==X.*`
//! for versions shorter than the prefix. Pre-releases are never excluded
//! implicitly: PEP 440 only hides them from installers choosing a version, and a
//! scanner judges a version that is already installed.

use std::cmp::Ordering;
use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifier};

use crate::{Scheme, VersionError};

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(parse_version(a)?.cmp(&parse_version(b)?))
}

/// Whether `version` meets every comma-separated specifier of `requirement`.
pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let clauses = parse_requirement(requirement)?;
    let version = parse_version(version)?;
    Ok(clauses.iter().all(|clause| clause.contains(&version)))
}

fn parse_version(text: &str) -> Result<Version, VersionError> {
    Version::from_str(text.trim()).map_err(|error| {
        VersionError::version(
            Scheme::Pep440,
            text,
            format!("not a PEP 440 version ({error}); legacy (pre-PEP 440) Python versions have no defined order"),
        )
    })
}

enum Clause {
    /// `===`: plain string equality with the version's normalised form, as packaging does
    /// (pep440_rs would normalise the right-hand side too and parse it as a version).
    Arbitrary(String),
    Specifier(VersionSpecifier),
}

fn parse_requirement(requirement: &str) -> Result<Vec<Clause>, VersionError> {
    let clauses = requirement
        .split(',')
        .map(str::trim)
        .filter(|clause| !clause.is_empty())
        .map(|clause| parse_clause(requirement, clause))
        .collect::<Result<Vec<_>, _>>()?;
    if clauses.is_empty() {
        return Err(VersionError::requirement(Scheme::Pep440, requirement, "no version specifier"));
    }
    Ok(clauses)
}

fn parse_clause(requirement: &str, clause: &str) -> Result<Clause, VersionError> {
    if let Some(literal) = clause.strip_prefix("===") {
        let literal = literal.trim();
        if literal.is_empty() || literal.contains(char::is_whitespace) {
            return Err(VersionError::requirement(
                Scheme::Pep440,
                requirement,
                format!("`{clause}`: `===` needs one version string"),
            ));
        }
        return Ok(Clause::Arbitrary(literal.to_lowercase()));
    }
    VersionSpecifier::from_str(clause)
        .map(Clause::Specifier)
        .map_err(|error| VersionError::requirement(Scheme::Pep440, requirement, format!("`{clause}`: {error}")))
}

impl Clause {
    fn contains(&self, candidate: &Version) -> bool {
        match self {
            Clause::Arbitrary(literal) => candidate.to_string().to_lowercase() == *literal,
            Clause::Specifier(specifier) => specifier_contains(specifier, candidate),
        }
    }
}

/// packaging's `Specifier._compare_*` for each operator.
fn specifier_contains(specifier: &VersionSpecifier, candidate: &Version) -> bool {
    let bound = specifier.version();
    // Local labels are ignored unless `==`/`!=` name one themselves.
    let public = || candidate.clone().without_local();
    match specifier.operator() {
        Operator::Equal => exactly_equal(bound, candidate),
        Operator::NotEqual => !exactly_equal(bound, candidate),
        Operator::EqualStar => has_release_prefix(candidate, bound.epoch(), bound.release()),
        Operator::NotEqualStar => !has_release_prefix(candidate, bound.epoch(), bound.release()),
        Operator::TildeEqual => {
            // `~=1.4.2` is `>=1.4.2, ==1.4.*`; pep440_rs guarantees at least two release numbers.
            let prefix = bound.release().split_last().map_or(&[][..], |(_, prefix)| prefix);
            public() >= *bound && has_release_prefix(candidate, bound.epoch(), prefix)
        }
        Operator::LessThanEqual => public() <= *bound,
        Operator::GreaterThanEqual => public() >= *bound,
        // `<3.1` excludes 3.1's own pre-releases (3.1rc1, 3.1.dev0) unless it names a pre-release itself.
        Operator::LessThan => {
            candidate < bound && !(!bound.any_prerelease() && candidate.any_prerelease() && same_base(candidate, bound))
        }
        // `>3.1` excludes 3.1's own post-releases and local builds unless it names a post-release.
        Operator::GreaterThan => {
            candidate > bound
                && !(!bound.is_post() && candidate.is_post() && same_base(candidate, bound))
                && !(candidate.is_local() && same_base(candidate, bound))
        }
        // Never produced: `===` clauses are split off before pep440_rs sees them.
        Operator::ExactEqual => candidate.to_string() == bound.to_string(),
    }
}

fn exactly_equal(bound: &Version, candidate: &Version) -> bool {
    if bound.is_local() { candidate == bound } else { candidate.clone().without_local() == *bound }
}

/// `==E!P.*`: same epoch, and the release numbers, padded with zeros, start with `P`.
fn has_release_prefix(candidate: &Version, epoch: u64, prefix: &[u64]) -> bool {
    candidate.epoch() == epoch
        && prefix
            .iter()
            .enumerate()
            .all(|(index, number)| candidate.release().get(index).copied().unwrap_or(0) == *number)
}

/// Same epoch and release numbers (trailing zeros ignored), whatever the suffixes.
fn same_base(a: &Version, b: &Version) -> bool {
    a.epoch() == b.epoch() && Version::new(a.release()) == Version::new(b.release())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_pep440() {
        let ascending = [
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12",
            "1.0b2.post345",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.1.dev1",
            "1!0.1",
        ];
        for pair in ascending.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Ok(Ordering::Less), "{pair:?}");
            assert_eq!(compare(pair[1], pair[0]), Ok(Ordering::Greater), "{pair:?}");
        }
        assert_eq!(compare("1.0", "1.0.0"), Ok(Ordering::Equal));
        assert_eq!(compare("1.0-1", "1.0.post1"), Ok(Ordering::Equal));
        assert_eq!(compare("v1.0RC1", "1.0rc1"), Ok(Ordering::Equal));
    }

    #[test]
    fn evaluates_specifiers_like_packaging() {
        let cases = [
            ("1.5", ">=1.0,<2.0", true),
            ("2.0", ">=1.0,<2.0", false),
            ("1.4.5", "~=1.4.2", true),
            ("1.5.0", "~=1.4.2", false),
            ("1.4.1", "~=1.4.2", false),
            ("1.9", "==1.*", true),
            ("2.0", "==1.*", false),
            ("1", "==1.0.*", true),
            ("1", "==1.0.1.*", false),
            ("1.0+local", "==1.0", true),
            ("1.0+local", "==1.0+other", false),
            ("1.0.1", "!=1.0.*", false),
            ("1.1", "!=1.0.*", true),
            ("1.0.post1", "===1.0.post1", true),
            ("1.0-1", "===1.0-1", false),
            ("3.1rc1", "<3.1", false),
            ("3.0rc1", "<3.1", true),
            ("1.0rc1", "<1.0rc2", true),
            ("3.1.post1", ">3.1", false),
            ("3.1.post2", ">3.1.post1", true),
            ("3.1+local", ">3.1", false),
            ("2.0a1", ">= 0.2.23", true),
        ];
        for (version, requirement, expected) in cases {
            assert_eq!(satisfies(version, requirement), Ok(expected), "{version} {requirement}");
        }
    }

    #[test]
    fn rejects_legacy_versions_and_bad_specifiers() {
        // packaging accepts the first three as "no constraint" or "matches nothing"; an
        // advisory saying either is broken, so we refuse them.
        let error = compare("2004d", "1.0").unwrap_err();
        assert!(error.to_string().contains("legacy"), "{error}");
        assert!(matches!(compare("1.0", "1.0.0-SNAPSHOT-x"), Err(VersionError::InvalidVersion { .. })));
        for requirement in ["", " , ", "=== ", "1.0", "~=1", ">=1.0.*", "<=1.0+local", ">=1.0 <2.0"] {
            assert!(
                matches!(satisfies("1.0", requirement), Err(VersionError::InvalidRequirement { .. })),
                "{requirement:?}"
            );
        }
    }
}
