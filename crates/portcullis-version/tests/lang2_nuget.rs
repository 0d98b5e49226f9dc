//! The NuGet scheme: cases from NuGet.Versioning's `VersionComparerTests`,
//! `NuGetVersionTest` and `VersionRangeTests`, the NuGet ranges of the GHSA
//! subset, and the order laws on generated versions.

#[allow(dead_code)]
mod lang2_support;

use lang2_support::{assert_equal, assert_increasing, assert_satisfies, check_order_laws, ghsa_ranges, reason};
use portcullis_version::{Scheme, nuget};
use proptest::prelude::*;

const NUGET: Scheme = Scheme::NuGet;

/// `VersionComparerTests.VersionComparisonDefaultEqual`, and the parsing
/// leniencies of `NuGetVersion.TryParse`.
#[test]
fn upstream_equal_versions() {
    assert_equal(
        NUGET,
        &[
            ("1.0.0", "1.0.0"),
            ("1.0.0-BETA", "1.0.0-beta"),
            ("1.0.0-BETA+AA", "1.0.0-beta+aa"),
            ("1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.77.0+aa"),
            ("1.0.0", "1.0.0+beta"),
            ("1.0", "1.0.0.0"),
            ("1.0+test", "1.0.0.0"),
            ("1.0.0.1-1.2.A", "1.0.0.1-1.2.a+A"),
            ("1.0.01", "1.0.1.0"),
            ("1", "1.0.0"),
            (" 1.0 ", "1.0"),
            ("1.0.0+01.002", "1.0.0"),
            // `System.Version` parses each number with `int.TryParse`, which allows blanks.
            ("1. 2", "1.2"),
        ],
    );
}

/// SemVer 2.0's precedence example, with NuGet's fourth number.
#[test]
fn semver_order() {
    assert_increasing(
        NUGET,
        &[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1-alpha",
            "1.0.0.1",
            "1.0.1",
            "1.1",
            "2.0.0",
            "10.0.0",
        ],
    );
    // Numeric labels first; `-1` is a number to `int.TryParse`.
    assert_increasing(NUGET, &["1.0.0--1", "1.0.0-0", "1.0.0-2", "1.0.0-10", "1.0.0-A", "1.0.0-b", "1.0.0-C"]);
}

/// `NuGetVersionTest` parsing failures.
#[test]
fn invalid_versions() {
    for (version, expected) in [
        ("", "no version numbers"),
        ("-1.0", "no version numbers"),
        ("a", "version number \"a\" is not an integer from 0 to 2147483647"),
        ("1..0", "version number \"\" is not an integer from 0 to 2147483647"),
        ("1.2.3.4.5", "5 version numbers, at most 4 are allowed"),
        ("2147483648", "version number \"2147483648\" is not an integer from 0 to 2147483647"),
        ("1.0.0-01", "invalid release label \"01\""),
        ("1.0.0-beta..1", "invalid release label \"\""),
        ("1.0.0-beta_1", "invalid release label \"beta_1\""),
        ("1.0.0+meta..x", "invalid build metadata part \"\""),
        ("1.0-", "nothing after the final '-'"),
        ("1.0.0-beta+", "nothing after the final '+'"),
    ] {
        assert_eq!(nuget::compare(version, "1.0").map_err(reason), Err(expected.to_owned()), "{version:?}");
    }
}

/// `VersionRange.Parse` and `Satisfies`, as `VersionRangeTests` use them.
#[test]
fn version_ranges() {
    assert_satisfies(
        NUGET,
        &[
            ("1.0", "[1.0,2.0)", true),
            ("1.5.3-beta", "[1.0,2.0)", true),
            ("2.0.0-beta", "[1.0,2.0)", true),
            ("2.0", "[1.0,2.0)", false),
            ("0.9", "[1.0,2.0)", false),
            ("2.0", "[1.0,2.0]", true),
            ("1.0", "(1.0,)", false),
            ("1.0.1", "(1.0,)", true),
            ("1.0", "(,1.0]", true),
            ("1.0.1", "(,1.0]", false),
            ("1.0", "(,1.0)", false),
            ("1.0.0", "[1.0]", true),
            ("1.0.1", "[1.0]", false),
            ("1.5", " [ 1.0 , 2.0 ) ", true),
            // A bare version is NuGet's minimum, not an exact version.
            ("0.9", "1.0", false),
            ("1.0", "1.0", true),
            ("5.0", "1.0", true),
            ("1.0-beta", "1.0", false),
            // GHSA's text form.
            ("1.5", ">= 1.2.0, < 3.5.0", true),
            ("3.5.0", ">= 1.2.0, < 3.5.0", false),
            ("1.0.0-BETA", "= 1.0.0-beta", true),
            // Blank bounds are no bounds at all (`IsNullOrWhiteSpace`), though `(,)` is refused.
            ("1.0", "( , )", true),
        ],
    );
}

#[test]
fn malformed_ranges() {
    for (requirement, expected) in [
        ("", "empty"),
        ("(1.0)", "a single version must be in `[ ]`"),
        ("[1.0", "a range must end with `]` or `)`"),
        ("[,]", "a range needs at least one bound"),
        ("[]", "a range needs at least one bound"),
        ("[1.0,2.0,3.0]", "a range has at most two bounds"),
        ("[2.0,1.0]", "the minimum is above the maximum"),
        ("[1.0,1.0)", "equal bounds must both be inclusive or both exclusive"),
        ("1.*", "floating versions (`*`) pick a version to restore, they are not a range to match"),
        ("[1.0,x)", "invalid nuget version \"x\": version number \"x\" is not an integer from 0 to 2147483647"),
    ] {
        assert_eq!(nuget::satisfies("1.0", requirement).map_err(reason), Err(expected.to_owned()), "{requirement:?}");
    }
}

/// The NuGet ranges of the GHSA subset, with verdicts worked out by hand.
#[test]
fn ghsa_nuget_ranges() {
    let ranges = ghsa_ranges("NuGet");
    assert_eq!(ranges.len(), 2, "NuGet ranges in the GHSA subset");
    let affected = |package: &str, version: &str| {
        let range = ranges.iter().find(|range| range.package == package).unwrap();
        let fixed = range.fixed.as_deref().unwrap();
        let interval =
            if range.introduced == "0" { format!("(,{fixed})") } else { format!("[{},{fixed})", range.introduced) };
        let operators = format!(">= {}, < {fixed}", range.introduced);
        let verdict = nuget::satisfies(version, &interval).unwrap();
        assert_eq!(
            nuget::satisfies(version, &operators),
            Ok(verdict),
            "{package} {version}: {interval} vs {operators}"
        );
        verdict
    };
    for (version, expected) in
        [("1.1.4", false), ("1.2.0", true), ("3.4.1", true), ("3.5.0-beta1", true), ("3.5.0", false)]
    {
        assert_eq!(affected("jquery", version), expected, "jquery {version}");
    }
    for (version, expected) in [("2.10.3", true), ("2.29.1", true), ("2.29.2", false), ("2.29.4", false)] {
        assert_eq!(affected("Moment.js", version), expected, "Moment.js {version}");
    }
}

/// Versions of NuGet's shapes: one to four numbers with leading zeros,
/// numeric and alphanumeric labels in both cases, metadata.
fn version() -> impl Strategy<Value = String> {
    let number = prop::sample::select(vec!["0", "1", "2", "01", "10", "2147483647"]);
    let label = prop::sample::select(vec!["alpha", "Alpha", "beta", "rc", "0", "1", "2", "10", "-1", "x-y", "a1"]);
    let metadata = prop::option::of(prop::sample::select(vec!["build", "007", "sha.abc"]));
    (prop::collection::vec(number, 1..=4), prop::collection::vec(label, 0..3), metadata).prop_map(
        |(numbers, labels, metadata)| {
            let mut version = numbers.join(".");
            if !labels.is_empty() {
                version = format!("{version}-{}", labels.join("."));
            }
            if let Some(metadata) = metadata {
                version = format!("{version}+{metadata}");
            }
            version
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn order_laws(versions in prop::collection::vec(version(), 6)) {
        prop_assert_eq!(check_order_laws(NUGET, &versions), Ok(()));
    }
}
