//! The Maven scheme: the cases of Maven's own `ComparableVersionTest` (Maven
//! 4, `compat/maven-artifact`), version ranges as `VersionRange` reads them,
//! the Maven ranges of the GHSA subset, and the order laws on generated
//! versions.

#[allow(dead_code)]
mod lang2_support;

use lang2_support::{
    assert_equal, assert_increasing, assert_less, assert_satisfies, check_order_laws, ghsa_ranges, reason,
};
use portcullis_version::{Scheme, VersionError, maven};
use proptest::prelude::*;

const MAVEN: Scheme = Scheme::Maven;

/// `ComparableVersionTest.VERSIONS_QUALIFIER`.
const VERSIONS_QUALIFIER: [&str; 22] = [
    "1-alpha2snapshot",
    "1-alpha2",
    "1-alpha-123",
    "1-beta-2",
    "1-beta123",
    "1-m2",
    "1-m11",
    "1-rc",
    "1-cr2",
    "1-rc123",
    "1-SNAPSHOT",
    "1",
    "1-sp",
    "1-sp2",
    "1-sp123",
    "1-abc",
    "1-def",
    "1-pom-1",
    "1-1-snapshot",
    "1-1",
    "1-2",
    "1-123",
];

/// `ComparableVersionTest.VERSIONS_NUMBER`.
const VERSIONS_NUMBER: [&str; 24] = [
    "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1", "2.2", "2.123",
    "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m",
];

#[test]
fn upstream_sequences_are_strictly_increasing() {
    assert_increasing(MAVEN, &VERSIONS_QUALIFIER);
    assert_increasing(MAVEN, &VERSIONS_NUMBER);
}

/// `testVersionsEqual` and `testVersionsHaveSameOrderButAreNotEqual`.
#[test]
fn upstream_equal_versions() {
    assert_equal(
        MAVEN,
        &[
            ("1", "1"),
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1.0", "1.0.0"),
            ("1", "1-0"),
            ("1", "1.0-0"),
            ("1.0", "1.0-0"),
            ("1a", "1-a"),
            ("1a", "1.0-a"),
            ("1a", "1.0.0-a"),
            ("1.0a", "1-a"),
            ("1.0.0a", "1-a"),
            ("1x", "1-x"),
            ("1x", "1.0-x"),
            ("1x", "1.0.0-x"),
            ("1.0x", "1-x"),
            ("1.0.0x", "1-x"),
            ("1cr", "1rc"),
            ("1a1", "1-alpha-1"),
            ("1b2", "1-beta-2"),
            ("1m3", "1-milestone-3"),
            ("1X", "1x"),
            ("1A", "1a"),
            ("1B", "1b"),
            ("1M", "1m"),
            ("1Cr", "1Rc"),
            ("1cR", "1rC"),
            ("1m3", "1Milestone3"),
            ("1m3", "1MileStone3"),
            ("1m3", "1MILESTONE3"),
            ("1ga", "1"),
            ("1release", "1"),
            ("1final", "1"),
            ("1Ga", "1"),
            ("1GA", "1"),
            ("1RELEASE", "1"),
            ("1RELeaSE", "1"),
            ("1Final", "1"),
            ("1FinaL", "1"),
            ("1FINAL", "1"),
            // testLexicographicASCIISortOrder, testCompareLowerCaseToUpperCase*, testLocaleIndependent
            ("1.0.0-alpha1", "1.0.0-ALPHA1"),
            ("1.a", "1.A"),
            ("1.é", "1.É"),
            ("1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        ],
    );
}

/// `testVersionComparing`, `testLeadingZeroes`, `testCompareDigitToLetter`,
/// `testLexicographicOrder`, `testDigitGreaterThanNonAscii`.
#[test]
fn upstream_ordered_pairs() {
    assert_less(
        MAVEN,
        &[
            ("1", "2"),
            ("1.5", "2"),
            ("1", "2.5"),
            ("1.0", "1.1"),
            ("1.1", "1.2"),
            ("1.0.0", "1.1"),
            ("1.0.1", "1.1"),
            ("1.1", "1.2.0"),
            ("1.0-alpha-1", "1.0"),
            ("1.0-alpha-1", "1.0-alpha-2"),
            ("1.0-alpha-1", "1.0-beta-1"),
            ("1.0-beta-1", "1.0-SNAPSHOT"),
            ("1.0-SNAPSHOT", "1.0"),
            ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
            ("1.0", "1.0-1"),
            ("1.0-1", "1.0-2"),
            ("1.0.0", "1.0-1"),
            ("2.0-1", "2.0.1"),
            ("2.0.1-klm", "2.0.1-lmn"),
            ("2.0.1", "2.0.1-xyz"),
            ("2.0.1", "2.0.1-123"),
            ("2.0.1-xyz", "2.0.1-123"),
            ("0.7", "2"),
            ("0.2", "1.0.7"),
            ("J", "7"),
            ("c", "7"),
            ("aardvark", "zebra"),
            ("zebra", "ζέβρα"),
            ("é", "1"),
            ("\u{0668}", "1"),
            ("\u{0668}", "9"),
        ],
    );
}

/// The regressions Maven's tests pin: MNG-5568, MNG-6572, MNG-6964, MNG-7644, MNG-7714.
#[test]
fn upstream_regressions() {
    // MNG-5568: "6.1H.5-beta" made the order intransitive.
    assert_increasing(MAVEN, &["6.1.0rc3", "6.1.0", "6.1H.5-beta"]);
    // MNG-6572: numbers of 10, 15 and 20 digits.
    assert_increasing(
        MAVEN,
        &["20190126.230843", "1234567890.12345", "123456789012345.1H.5-beta", "12345678901234567890.1H.5-beta"],
    );
    // MNG-6964: qualifiers after "-0.".
    assert_increasing(MAVEN, &["1-0.alpha", "1-0.beta", "1"]);
    // MNG-7644: 1.0.0.X1 < 1.0.0-X2, and 2.0.X == 2-X == 2.0.0.X, for any string X.
    for x in ["abc", "alpha", "a", "beta", "b", "def", "milestone", "m", "RC"] {
        assert_less(MAVEN, &[(&format!("1.0.0.{x}1"), &format!("1.0.0-{x}2"))]);
        assert_equal(MAVEN, &[(&format!("2-{x}"), &format!("2.0.{x}")), (&format!("2-{x}"), &format!("2.0.0.{x}"))]);
    }
    // MNG-7714: sp1 after final.
    for sp in ["1.0-sp1-redhat", "1.0-sp-1-redhat", "1.0-sp.1-redhat"] {
        assert_less(MAVEN, &[("1.0.final-redhat", sp)]);
    }
}

#[test]
fn leading_zeros_do_not_count() {
    for digits in 1..=19 {
        assert_equal(MAVEN, &[(&format!("{}1", "0".repeat(digits - 1)), "1"), (&"0".repeat(digits), "0")]);
    }
}

/// Maven 4 fixed 3.9's `1-ga1 == 1` while `1-ga1 < 1-ga2`: a number after a
/// release word counts.
#[test]
fn release_words_with_a_number_stay_transitive() {
    assert_increasing(MAVEN, &["1", "1-ga1", "1-ga2"]);
    assert_equal(MAVEN, &[("1-ga0", "1"), ("1-final", "1"), ("1.0.0-release", "1")]);
}

#[test]
fn invalid_versions() {
    assert_eq!(maven::compare("", "1"), Err(VersionError::version(MAVEN, "", "empty")));
    let longest = "1".repeat(256);
    assert!(maven::compare(&longest, "1").is_ok());
    let too_long = "1".repeat(257);
    assert_eq!(
        maven::compare("1", &too_long).map_err(reason),
        Err("257 UTF-16 units long, Maven accepts at most 256".to_owned())
    );
}

/// `VersionRange.createFromVersionSpec` and `containsVersion`, as in Maven's `VersionRangeTest`.
#[test]
fn version_ranges() {
    assert_satisfies(
        MAVEN,
        &[
            ("1.0", "[1.0,2.0)", true),
            ("1.5", "[1.0,2.0)", true),
            ("2.0-SNAPSHOT", "[1.0,2.0)", true),
            ("2.0", "[1.0,2.0)", false),
            ("0.9", "[1.0,2.0)", false),
            ("1.0", "(1.0,2.0]", false),
            ("2.0.0", "(1.0,2.0]", true),
            ("1.0", "(,1.0]", true),
            ("0.0.1", "(,1.0]", true),
            ("1.0.1", "(,1.0]", false),
            ("1.0", "(,1.0)", false),
            ("1.2", "[1.2]", true),
            ("1.2.0", "[1.2]", true),
            ("1.2.1", "[1.2]", false),
            ("1.0", "[1.0,)", true),
            ("99", "[1.0,)", true),
            ("1.0-rc1", "[1.0,)", false),
            ("1.0", "(,1.0],[1.2,)", true),
            ("1.1", "(,1.0],[1.2,)", false),
            ("1.2", "(,1.0],[1.2,)", true),
            ("1.5", " [ 1.0 , 2.0 ) , [ 3.0 , 4.0 ) ", true),
            ("2.5", "[1.0,2.0),[3.0,4.0)", false),
            ("3.0", "[1.0,2.0),[3.0,4.0)", true),
            // An unbounded set is not checked against the next one, as in Maven.
            ("0.5", "[1.0,),[0.1,0.9]", true),
        ],
    );
}

#[test]
fn malformed_ranges() {
    for (requirement, expected) in [
        ("[1.0,2.0", "unbounded range \"[1.0,2.0\""),
        ("(1.0)", "single version in \"(1.0)\" must be in [ ]"),
        ("[1.0)", "single version in \"[1.0)\" must be in [ ]"),
        ("[]", "no version in \"[]\""),
        ("[2.0,1.0]", "bounds of \"[2.0,1.0]\" are out of order"),
        ("[1.0,1.0)", "bounds of \"[1.0,1.0)\" are out of order"),
        ("[1.0,2.0,3.0]", "more than two bounds in \"[1.0,2.0,3.0]\""),
        ("[1.0,2.0),[1.5,3.0)", "set \"[1.5,3.0)\" overlaps the set before it"),
        ("[1.0,2.0),(,3.0)", "set \"(,3.0)\" overlaps the set before it"),
        ("[1.0,2.0),1.5", "\"1.5\" after the sets: only bracketed sets may be joined"),
    ] {
        assert_eq!(maven::satisfies("1.0", requirement).map_err(reason), Err(expected.to_owned()), "{requirement}");
    }
    assert_eq!(maven::satisfies("1.0", "[1.0,2.0)"), Ok(true));
    assert!(matches!(maven::satisfies("", "[1.0,2.0)"), Err(VersionError::InvalidVersion { .. })));
}

/// GHSA's text form and bare versions (exact, not Maven's soft requirement).
#[test]
fn operator_lists_and_bare_versions() {
    assert_satisfies(
        MAVEN,
        &[
            ("2.13.2", ">= 2.13.0, < 2.13.2.1", true),
            ("2.13.2.1", ">= 2.13.0, < 2.13.2.1", false),
            ("2.12.9", ">= 2.13.0, < 2.13.2.1", false),
            ("2.13.2", "<= 2.13.2.0", true),
            ("1.0.0", "1.0", true),
            ("1.0-ga", "= 1", true),
            ("1.1", "1.0", false),
            ("1.0-SNAPSHOT", "1.0", false),
        ],
    );
}

/// The Maven ranges of the GHSA subset, with verdicts worked out by hand from
/// the advisories.
#[test]
fn ghsa_maven_ranges() {
    let ranges = ghsa_ranges("Maven");
    assert_eq!(ranges.len(), 12, "Maven ranges in the GHSA subset");
    for range in &ranges {
        let fixed = range.fixed.as_deref().expect("every Maven range of the subset has a fix");
        let (interval, operators) = if range.introduced == "0" {
            (format!("(,{fixed})"), format!("< {fixed}"))
        } else {
            (format!("[{},{fixed})", range.introduced), format!(">= {}, < {fixed}", range.introduced))
        };
        for requirement in [&interval, &operators] {
            let context = format!("{} {} {requirement}", range.advisory, range.package);
            if range.introduced != "0" {
                assert_eq!(maven::satisfies(&range.introduced, requirement), Ok(true), "{context}");
            }
            assert_eq!(maven::satisfies(fixed, requirement), Ok(false), "{context}");
            assert_eq!(maven::satisfies(&format!("{fixed}-SNAPSHOT"), requirement), Ok(true), "{context}");
        }
        if let Some(last) = &range.last_affected_range {
            assert_eq!(maven::satisfies(fixed, last), Ok(false), "{} {last}", range.advisory);
        }
    }
    let verdict = |version: &str, advisory: &str, package: &str| {
        ranges.iter().filter(|range| range.advisory == advisory && range.package == package).any(|range| {
            let fixed = range.fixed.as_deref().unwrap();
            maven::satisfies(version, &format!(">= {}, < {fixed}", range.introduced)).unwrap()
        })
    };
    let log4j = ("GHSA-jfh8-c2jp-5v3q", "org.apache.logging.log4j:log4j-core");
    for (version, affected) in
        [("2.14.1", true), ("2.15.0-rc1", true), ("2.15.0", false), ("2.12.1", true), ("2.12.2", false), ("2.3", true)]
    {
        assert_eq!(verdict(version, log4j.0, log4j.1), affected, "log4j-core {version}");
    }
    let jackson = ("GHSA-57j2-w4cx-62h2", "com.fasterxml.jackson.core:jackson-databind");
    for (version, affected) in [("2.13.2", true), ("2.13.2.1", false), ("2.12.6", true), ("2.12.6.1", false)] {
        assert_eq!(verdict(version, jackson.0, jackson.1), affected, "jackson-databind {version}");
    }
    // Guava's flavours are qualifiers above the release: 32.0.0-jre is the fix.
    let guava = ("GHSA-7g45-4rm6-3mm3", "com.google.guava:guava");
    for (version, affected) in
        [("31.1-jre", true), ("31.1-android", true), ("32.0.0-jre", false), ("32.0.0-android", false)]
    {
        assert_eq!(verdict(version, guava.0, guava.1), affected, "guava {version}");
    }
    assert!(verdict("1.33", "GHSA-mjmj-j48q-9wg2", "org.yaml:snakeyaml"));
    assert!(maven::satisfies("1.33", "<= 1.33").unwrap());
}

/// Versions made of Maven's interesting tokens: known qualifiers and their
/// short forms, other words, zeros, long numbers, both separators and none.
fn version() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "0",
        "00",
        "1",
        "2",
        "10",
        "1234567890",
        "12345678901234567890",
        "a",
        "b",
        "m",
        "alpha",
        "beta",
        "milestone",
        "rc",
        "cr",
        "snapshot",
        "ga",
        "final",
        "release",
        "sp",
        "x",
        "abc",
        "RC",
        "Final",
    ]);
    let separator = prop::sample::select(vec![".", "-", ""]);
    (prop::option::of(prop::sample::select(vec![".", "-"])), prop::collection::vec((token, separator), 1..6)).prop_map(
        |(lead, parts)| {
            let body: String = parts.iter().map(|(token, separator)| format!("{token}{separator}")).collect();
            format!("{}{body}", lead.unwrap_or_default())
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn order_laws(versions in prop::collection::vec(version(), 6)) {
        prop_assert_eq!(check_order_laws(MAVEN, &versions), Ok(()));
    }
}
