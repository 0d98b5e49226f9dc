//! Order laws for the PEP 440, npm, Cargo and Go schemes on generated valid
//! versions, and no panic on arbitrary input.

use std::cmp::Ordering;

use portcullis_version::{Scheme, VersionError};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

type Compare = fn(&str, &str) -> Result<Ordering, VersionError>;

/// Reflexive, antisymmetric and transitive on three valid versions.
fn check_total_order(compare: Compare, a: &str, b: &str, c: &str) -> Result<(), TestCaseError> {
    let ab = compare(a, b).map_err(|error| TestCaseError::fail(error.to_string()))?;
    let bc = compare(b, c).map_err(|error| TestCaseError::fail(error.to_string()))?;
    let ac = compare(a, c).map_err(|error| TestCaseError::fail(error.to_string()))?;
    prop_assert_eq!(compare(a, a), Ok(Ordering::Equal), "reflexive: {}", a);
    prop_assert_eq!(compare(b, a), Ok(ab.reverse()), "antisymmetric: {} {}", a, b);
    if ab != Ordering::Greater && bc != Ordering::Greater {
        prop_assert_ne!(ac, Ordering::Greater, "transitive: {} <= {} <= {}", a, b, c);
    }
    if ab == Ordering::Equal {
        prop_assert_eq!(ac, bc, "equal versions order alike: {} {} {}", a, b, c);
    }
    Ok(())
}

const NUMBER: &str = "(0|[1-9][0-9]?)";

fn pep440_version() -> impl Strategy<Value = String> {
    "v?([0-2]!)?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}([-_.]?(a|b|c|rc|alpha|beta|pre)[0-9]?)?([-_.]?post[0-9]?)?([-_.]?dev[0-9]?)?(\\+[a-z0-9]{1,3}([._-][a-z0-9]{1,3})?)?"
}

fn pattern(regex: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(regex).unwrap()
}

fn semver_version() -> impl Strategy<Value = String> {
    pattern(&format!(
        "{NUMBER}\\.{NUMBER}\\.{NUMBER}(-(alpha|beta|rc|{NUMBER}|x-y)(\\.(alpha|{NUMBER}))?)?(\\+[a-z0-9]{{1,4}})?"
    ))
}

fn go_version() -> impl Strategy<Value = String> {
    prop_oneof![
        pattern(&format!("v?{NUMBER}(\\.{NUMBER})?")),
        pattern(&format!("v?{NUMBER}\\.{NUMBER}\\.{NUMBER}(-(alpha|rc|{NUMBER})(\\.{NUMBER})?)?(\\+incompatible)?")),
        // Pseudo-versions, after no tag and after a tag.
        pattern("v?0\\.0\\.0-20[0-2][0-9]{11}-[0-9a-f]{12}"),
        pattern(&format!("v?{NUMBER}\\.{NUMBER}\\.{NUMBER}-0\\.20[0-2][0-9]{{11}}-[0-9a-f]{{12}}")),
        // Toolchain versions.
        pattern(&format!("go1\\.{NUMBER}((rc|beta){NUMBER}|\\.{NUMBER})?")),
    ]
}

proptest! {
    #[test]
    fn pep440_is_a_total_order(a in pep440_version(), b in pep440_version(), c in pep440_version()) {
        check_total_order(portcullis_version::pep440::compare, &a, &b, &c)?;
    }

    #[test]
    fn npm_is_a_total_order(a in semver_version(), b in semver_version(), c in semver_version()) {
        check_total_order(portcullis_version::npm::compare, &a, &b, &c)?;
        // A leading `v` or `=` and build metadata change nothing.
        let bare = a.split('+').next().unwrap_or_default();
        prop_assert_eq!(portcullis_version::npm::compare(&format!("v{a}"), bare), Ok(Ordering::Equal));
        prop_assert_eq!(portcullis_version::npm::compare(&format!("={a}"), bare), Ok(Ordering::Equal));
    }

    #[test]
    fn cargo_is_a_total_order(a in semver_version(), b in semver_version(), c in semver_version()) {
        check_total_order(portcullis_version::cargo::compare, &a, &b, &c)?;
        // Both schemes are SemVer 2.0 precedence.
        prop_assert_eq!(portcullis_version::cargo::compare(&a, &b), portcullis_version::npm::compare(&a, &b));
    }

    #[test]
    fn go_is_a_total_order(a in go_version(), b in go_version(), c in go_version()) {
        check_total_order(portcullis_version::golang::compare, &a, &b, &c)?;
        // The `v` of module versions is optional.
        if !a.starts_with("go") {
            let bare = a.strip_prefix('v').unwrap_or(&a);
            prop_assert_eq!(portcullis_version::golang::compare(&a, &format!("v{bare}")), Ok(Ordering::Equal));
        }
        // An operator list agrees with the order.
        let at_least = portcullis_version::golang::satisfies(&a, &format!(">= {b}"));
        prop_assert_eq!(at_least, Ok(portcullis_version::golang::compare(&a, &b)? != Ordering::Less));
    }

    #[test]
    fn arbitrary_input_is_an_error_not_a_panic(a in "\\PC{0,40}", b in "[<>=!~^*|, .0-9a-zA-Z+-]{0,40}") {
        for scheme in [Scheme::Pep440, Scheme::Npm, Scheme::Cargo, Scheme::Go] {
            let _ = scheme.compare(&a, &b);
            let _ = scheme.satisfies(&a, &b);
            let _ = scheme.satisfies("1.0.0", &b);
            let _ = scheme.satisfies("1.0.0", &a);
        }
    }
}
