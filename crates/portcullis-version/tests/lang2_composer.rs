//! The Composer scheme: cases from composer/semver's `SemverTest` and
//! `ComparatorTest`, every constraint of the FriendsOfPHP advisories, and the
//! order laws on generated versions. (Normalisation and constraint parsing
//! have their upstream tables in the module's unit tests.)

#[allow(dead_code)]
mod lang2_support;

use std::path::Path;

use lang2_support::{
    assert_equal, assert_increasing, assert_less, assert_satisfies, check_order_laws, feed, files_under, read, reason,
};
use portcullis_version::{Scheme, composer};
use proptest::prelude::*;

const COMPOSER: Scheme = Scheme::Composer;

#[test]
fn stabilities_order() {
    assert_increasing(
        COMPOSER,
        &[
            "1.0.0-dev",
            "1.0.0-alpha1",
            "1.0.0-alpha2",
            "1.0.0-beta",
            "1.0.0-beta2",
            "1.0.0-RC1",
            "1.0.0",
            "1.0.0-patch1",
            "1.0.0-p2",
            "1.0.1-dev",
            "1.0.1",
        ],
    );
    // `Semver::sort`.
    assert_increasing(COMPOSER, &["0.1", "1.0", "2.4.0-alpha", "2.4.0", "3.2.1"]);
    assert_equal(
        COMPOSER,
        &[
            ("1.0", "1.0.0.0"),
            ("v1.0", "1.0"),
            ("1.0.0-beta.2", "1.0.0-beta2"),
            ("1.0.0-b2", "1.0.0-BETA2"),
            ("1.0.0-pl1", "1.0.0-patch1"),
            ("1.0.0-rc1", "1.0.0-RC1"),
            ("1.0.0+build", "1.0.0"),
            ("1.0.0-stable", "1.0.0"),
            ("dev-master", "dev-trunk"),
            ("dev-master", "9999999-dev"),
        ],
    );
    // `ComparatorTest`.
    assert_less(COMPOSER, &[("1.24.0", "1.25.0"), ("1.25.0", "1.26.0"), ("1.25.0", "1.25.0.1")]);
    // The default branches sort as 9999999-dev, numbered branches as their 9999999 parts.
    assert_less(COMPOSER, &[("99.0", "dev-master"), ("1.5", "1.x-dev"), ("1.x-dev", "2.0")]);
}

#[test]
fn named_branches_have_no_place_in_the_order() {
    assert_eq!(
        composer::compare("dev-feature", "1.0").map_err(reason),
        Err("branch \"dev-feature\" has no place in the version order".to_owned())
    );
    assert_eq!(
        composer::compare("1.0", "1.0.0-SNAPSHOT").map_err(reason),
        Err("not a version, a `dev-` branch or a numbered `-dev` branch".to_owned())
    );
}

/// `SemverTest::satisfiesProvider` and `unsatisfiesProvider`, and the
/// meaning of each constraint form.
#[test]
fn upstream_satisfies() {
    assert_satisfies(
        COMPOSER,
        &[
            ("1.2.3", "1.0.0 - 2.0.0", true),
            ("1.2.3", "^1.2.3+build", true),
            ("1.3.0", "^1.2.3+build", true),
            ("1.0.0", "1.0.0", true),
            ("1.2.3", "*", true),
            ("v1.2.3", "*", true),
            ("1.0.0", ">=1.0.0", true),
            ("1.0.1", ">=1.0.0", true),
            ("1.0.1", ">1.0.0", true),
            ("2.0.0", "<=2.0.0", true),
            ("1.9999.9999", "<=2.0.0", true),
            ("0.2.9", "<2.0.0", true),
            ("1.0.0", ">= 1.0.0", true),
            ("2.1.3", "~2.1.0", true),
            ("0.1.2", "~0.1.2", true),
            ("1", "~1", true),
            ("1.2.3", "1.2.*", true),
            ("1.2.3", "~1.2.1 >=1.2.3", true),
            ("1.2.3", "~1.2.1 =1.2.3", true),
            ("1.2.3", "~1.2.1 1.2.3", true),
            ("1.2.3", ">=1.2.1 1.2.3", true),
            ("1.2.3", "1.2.3 >=1.2.1", true),
            ("1.2.8", ">=1.2", true),
            ("1.8.1", "^1.2.3", true),
            ("0.1.2", "^0.1.2", true),
            ("0.1.2", "^0.1", true),
            ("1.4.2", "^1.2", true),
            ("1.4.2", "^1.2 ^1", true),
            ("0.0.1-beta", "^0.0.1-alpha", true),
            ("2.2.3", "1.0.0 - 2.0.0", false),
            ("1.0.0", "1.0.1", false),
            ("0.0.0", ">=1.0.0", false),
            ("0.1.0", ">1.0.0", false),
            ("3.0.0", "<=2.0.0", false),
            ("2.9999.9999", "<2.0.0", false),
            ("1.0.0", ">=1.0.1", false),
            ("1.0.0beta", "1", false),
            ("1.0.0beta", "<1", false),
            ("1.0.0beta", "< 1", false),
            ("1.0.1", "1.0.0", false),
            ("2.0.0-beta", "^1.2", false),
            ("1.2.3", ">=1.2.4 <1.3.0", false),
            ("1.2.3", "~1.2.4", false),
            ("2.2.3", "~1.2.3", false),
            // Alternatives, and each range form at its edges.
            ("1.5", "<1.1 || >1.3", true),
            ("1.2", "<1.1 || >1.3", false),
            ("1.0.5", "1.0.x", true),
            ("1.1.0", "1.0.*", false),
            ("2.0.5", "1.0 - 2.0", true),
            ("2.1.0", "1.0 - 2.0", false),
            ("0.3.0", "^0.2.3", false),
            ("1.3.0", "~1.2.3", false),
            ("2.0.0", "~1.2", false),
            ("1.99", "~1.2", true),
            // `<` and `>=` take in the `-dev` of a bare version, not its prereleases.
            ("5.4.1-beta", "<5.4.1", false),
            ("5.4.1-dev", "<5.4.1", false),
            ("5.4.0", "<5.4.1", true),
            ("5.4.1-beta", ">=5.4.1", true),
            ("5.4.1-beta", ">5.4.1", false),
            // Branches meet only equality with themselves.
            ("dev-master", "dev-master", true),
            ("dev-master", "==dev-master", true),
            ("dev-master", "!=dev-foo", true),
            ("dev-master", ">=1.0", false),
            ("dev-master", "<1.0", false),
            ("dev-master", "*", true),
            ("1.0", "dev-master", false),
            ("1.0", "!=dev-master", true),
        ],
    );
}

#[test]
fn malformed_requirements_and_versions() {
    for (version, requirement, expected) in [
        ("1.0", "~>1.0", "invalid operator \"~>\" in \"~>1.0\", the tilde operator is \"~\""),
        ("1.0", "foo", "could not parse \"foo\": not a version, a `dev-` branch or a numbered `-dev` branch"),
        ("1.0", "", "could not parse \"\": not a version, a `dev-` branch or a numbered `-dev` branch"),
        ("1.0", ">=1.0\n<2.0", "line break inside the requirement"),
        ("1.0.0-SNAPSHOT", ">=1.0", "not a version, a `dev-` branch or a numbered `-dev` branch"),
    ] {
        assert_eq!(
            composer::satisfies(version, requirement).map_err(reason),
            Err(expected.to_owned()),
            "{requirement:?}"
        );
    }
}

/// The constraint lists of one FriendsOfPHP advisory, one per branch, by a
/// line reading of its YAML: every list is a one-line flow sequence
/// (`versions: ['>=5.0.0', '<5.4.1']`).
fn branches(path: &Path) -> Vec<Vec<String>> {
    read(path)
        .lines()
        .filter_map(|line| line.trim().strip_prefix("versions:"))
        .map(|list| {
            let items = list.trim().strip_prefix('[').and_then(|list| list.strip_suffix(']'));
            let items = items.unwrap_or_else(|| panic!("{}: not a flow sequence: {list}", path.display()));
            items
                .split(',')
                .map(|item| {
                    let item = item.trim();
                    let unquoted = item.strip_prefix(['"', '\'']).and_then(|rest| rest.strip_suffix(['"', '\'']));
                    unquoted.unwrap_or(item).to_owned()
                })
                .collect()
        })
        .collect()
}

/// Every constraint of the FriendsOfPHP database parses, alone and as the
/// AND of its branch.
#[test]
fn every_friendsofphp_constraint_parses() {
    let files = files_under(&feed("packagist-friendsofphp"), ".yaml");
    let (mut branch_count, mut constraint_count) = (0, 0);
    for path in &files {
        for constraints in branches(path) {
            for constraint in &constraints {
                let parsed = composer::satisfies("1.0.0", constraint);
                assert!(parsed.is_ok(), "{}: {constraint:?}: {parsed:?}", path.display());
            }
            let joined = constraints.join(", ");
            let parsed = composer::satisfies("1.0.0", &joined);
            assert!(parsed.is_ok(), "{}: {joined:?}: {parsed:?}", path.display());
            branch_count += 1;
            constraint_count += constraints.len();
        }
    }
    assert_eq!((files.len(), branch_count, constraint_count), (1592, 5682, 11090));
}

/// Verdicts worked out by hand from real advisories: affected when one branch's constraints all hold.
#[test]
fn friendsofphp_verdicts() {
    let affected = |advisory: &str, version: &str| {
        let branches = branches(&feed(&format!("packagist-friendsofphp/{advisory}")));
        assert!(!branches.is_empty(), "{advisory}");
        branches.iter().any(|constraints| composer::satisfies(version, &constraints.join(",")).unwrap())
    };
    // '2.2': ['>=2.2', '<2.2.10'], '2.3': ['>=2.3', '<2.3.2-p2']
    let magento = "magento/product-community-edition/CVE-2019-8122.yaml";
    for (version, expected) in [
        ("2.1.9", false),
        ("2.2.0", true),
        ("2.2.9", true),
        ("2.2.10", false),
        ("2.3.2", true),
        ("2.3.2-p1", true),
        ("2.3.2-p2", false),
        ("2.3.3", false),
    ] {
        assert_eq!(affected(magento, version), expected, "magento {version}");
    }
    // ['>=4.0.0-rc10', '<=4.0.0']
    let amphp = "amphp/http-client/CVE-2024-2653.yaml";
    for (version, expected) in [("4.0.0-rc9", false), ("4.0.0-rc10", true), ("4.0.0", true), ("4.0.1", false)] {
        assert_eq!(affected(amphp, version), expected, "amphp/http-client {version}");
    }
    // ['<1.0.0-beta1']
    let composer = "composer/composer/CVE-2015-8371.yaml";
    for (version, expected) in [("1.0.0-alpha11", true), ("1.0.0-beta1", false), ("1.0.0", false)] {
        assert_eq!(affected(composer, version), expected, "composer {version}");
    }
    // ['>=1.0.0', '<1.12.3']
    let twig = "twig/twig/2013-04-08.yaml";
    for (version, expected) in [("v1.12.2", true), ("1.12.3", false), ("0.9.9", false)] {
        assert_eq!(affected(twig, version), expected, "twig {version}");
    }
}

/// Normalisable versions of Composer's shapes: one to four numbers, a `v`,
/// stabilities with and without numbers and separators, patch levels, `dev`,
/// numbered branches and the default branch.
fn version() -> impl Strategy<Value = String> {
    let number = prop::sample::select(vec!["0", "1", "2", "10", "00", "99999999999999999999"]);
    let suffix = prop::sample::select(vec![
        "",
        "",
        "-dev",
        "-alpha",
        "-alpha1",
        "a2",
        "-beta.2",
        "b",
        "-RC1",
        "rc2",
        "-patch1",
        "pl3",
        "-p",
        "-stable",
        "-beta1-dev",
        ".x-dev",
    ]);
    let special = prop::sample::select(vec!["dev-master", "20100102", "2010-01-02-p1", "1.x-dev", "2.0.x-dev"]);
    prop_oneof![
        4 => (prop::bool::ANY, prop::collection::vec(number, 1..=4), suffix).prop_map(|(v, numbers, suffix)| {
            format!("{}{}{suffix}", if v { "v" } else { "" }, numbers.join("."))
        }),
        1 => special.prop_map(str::to_owned),
    ]
    .prop_filter("Composer normalises it", |version| composer::compare(version, version).is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn order_laws(versions in prop::collection::vec(version(), 6)) {
        prop_assert_eq!(check_order_laws(COMPOSER, &versions), Ok(()));
    }
}
