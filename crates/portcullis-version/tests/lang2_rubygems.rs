//! The RubyGems scheme: cases from RubyGems' `test_gem_version.rb` and
//! `test_gem_requirement.rb`, every requirement of ruby-advisory-db, and the
//! order laws on generated versions.

#[allow(dead_code)]
mod lang2_support;

use std::path::Path;

use lang2_support::{
    assert_equal, assert_increasing, assert_less, assert_satisfies, check_order_laws, feed, files_under, read, reason,
};
use portcullis_version::{Scheme, rubygems};
use proptest::prelude::*;

const GEMS: Scheme = Scheme::RubyGems;

/// `test_spaceship`, `test_semver` and `test_eql`/`test_equals2` of `test_gem_version.rb`.
#[test]
fn upstream_version_order() {
    assert_equal(
        GEMS,
        &[
            ("1.0", "1.0.0"),
            ("", "0"),
            ("  ", "0"),
            ("0.beta.1", "0.0.beta.1"),
            ("1.9.3", "1.9.3"),
            ("1.2", "1.2.0"),
            ("1.2.b1", "1.2.b.1"),
            ("1.0.a.0", "1.a"),
            (" 9.3.2", "9.3.2 "),
            ("1.0.0-rc1", "1.0.0.pre.rc1"),
        ],
    );
    assert_less(
        GEMS,
        &[
            ("1.0.a", "1.0"),
            ("0.0.0", "1.8.2"),
            ("1.8.2.a", "1.8.2"),
            ("1.8.2.a", "1.8.2.b"),
            ("1.8.2.a9", "1.8.2.a10"),
            ("0.0.beta", "0.0.beta.1"),
            ("0.0.beta", "0.beta.1"),
            ("5.a", "5.0.0.rc2"),
            ("5.0.0.rc2", "5.x"),
            ("1.9.2.99", "1.9.3"),
            ("1.9.3", "1.9.3.1"),
            // Words compare byte-wise: upper case first.
            ("1.A", "1.a"),
        ],
    );
    assert_increasing(GEMS, &["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1"]);
    assert_increasing(GEMS, &["1.0.0-rc1", "1.0.0"]);
    assert_increasing(GEMS, &["1.0.0-1", "1"]);
}

/// `test_initialize_invalid` and `test_class_correct`.
#[test]
fn invalid_versions() {
    for (version, expected) in [
        ("junk", "does not start with a digit"),
        ("1.0\n2.0", "unexpected \"\\n2.0\""),
        ("1..2", "unexpected \"..2\""),
        ("1.2 3.4", "unexpected \" 3.4\""),
        ("1.0.", "unexpected \".\""),
        ("1.0-", "nothing after `-`"),
        ("-1", "does not start with a digit"),
        ("an incorrect version", "does not start with a digit"),
    ] {
        assert_eq!(rubygems::compare(version, "1").map_err(reason), Err(expected.to_owned()), "{version:?}");
    }
    for version in ["5.1", "1.0.0-rc.1", "1.2.3-4-5.a-b", "2.1.0pre1", "4.25.14p12", "0.0.1.alpha3"] {
        assert!(rubygems::compare(version, "1").is_ok(), "{version}");
    }
}

/// The `satisfied_by?` tests of `test_gem_requirement.rb`.
#[test]
fn upstream_requirements() {
    assert_satisfies(
        GEMS,
        &[
            // test_satisfied_by_eh_bang_equal
            ("1.1", "!= 1.2", true),
            ("1.2", "!= 1.2", false),
            ("1.3", "!= 1.2", true),
            // test_satisfied_by_eh_blank, _equal
            ("1.1", "1.2", false),
            ("1.2", "1.2", true),
            ("1.3", "1.2", false),
            ("1.2", "= 1.2", true),
            // test_satisfied_by_eh_gt, _gte, _lt, _lte
            ("1.2", "> 1.2", false),
            ("1.3", "> 1.2", true),
            ("1.1", ">= 1.2", false),
            ("1.2", ">= 1.2", true),
            ("1.1", "< 1.2", true),
            ("1.2", "< 1.2", false),
            ("1.2", "<= 1.2", true),
            ("1.3", "<= 1.2", false),
            // test_satisfied_by_eh_list
            ("1.1", "> 1.1, < 1.3", false),
            ("1.2", "> 1.1, < 1.3", true),
            ("1.3", "> 1.1, < 1.3", false),
            // test_satisfied_by_eh_tilde_gt, _v0
            ("1.1", "~> 1.2", false),
            ("1.2", "~> 1.2", true),
            ("1.3", "~> 1.2", true),
            ("0.1.1", "~> 0.0.1", false),
            ("0.0.2", "~> 0.0.1", true),
            ("0.0.1", "~> 0.0.1", true),
            // test_satisfied_by_eh_good
            ("0.2.33", "= 0.2.33", true),
            ("0.2.34", "> 0.2.33", true),
            ("1.0", "= 1.0", true),
            ("1.0.0", "= 1.0", true),
            ("1.0", "= 1.0.0", true),
            ("1.0", "1.0", true),
            ("1.8.2", "> 1.8.0", true),
            ("1.112", "> 1.111", true),
            ("0.2", "> 0.0.0", true),
            ("0.0.0.0.0.2", "> 0.0.0", true),
            ("0.0.1.0", "> 0.0.0.1", true),
            ("10.3.2", "> 9.3.2", true),
            ("1.0.0.0", "= 1.0", true),
            ("10.3.2", "!= 9.3.4", true),
            (" 9.3.2", ">= 9.3.2", true),
            ("9.3.2 ", ">= 9.3.2", true),
            ("", "= 0", true),
            ("", "< 0.1", true),
            ("  ", "< 0.1 ", true),
            ("", " <  0.1", true),
            ("  ", " <= 0.1", true),
            ("0.0.0", "= 0.0.0", true),
            ("0.0.0", "< 0.0.0.1", true),
            ("1.0.0.a", "= 1.0.0.a", true),
            ("1.0.0.a", "< 1.0", true),
            ("1.0.0.a", "!= 1.0.0", true),
            // test_satisfied_by_eh_bad
            ("0.0.0", "> 0.1", false),
            ("0.2.33", "> 0.2.33", false),
            ("1.0", "< 0", false),
            ("1.0", "< 1.0", false),
            ("1.9.2", "> 9.3.2", false),
            // test_satisfied_by_eh_boxed
            ("1.3", "~> 1.4", false),
            ("1.4", "~> 1.4", true),
            ("1.5", "~> 1.4", true),
            ("2.0", "~> 1.4", false),
            ("1.3", "~> 1.4.4", false),
            ("1.4", "~> 1.4.4", false),
            ("1.4.4", "~> 1.4.4", true),
            ("1.4.5", "~> 1.4.4", true),
            ("1.5", "~> 1.4.4", false),
            ("2.0", "~> 1.4.4", false),
            ("1.1.pre", "~> 1.0.0", false),
            ("1.1.pre", "~> 1.1", false),
            ("2.0.a", "~> 1.0", false),
            ("2.0.a", "~> 2.0", false),
            ("0.9", "~> 1", false),
            ("1.0", "~> 1", true),
            ("1.1", "~> 1", true),
            ("2.0", "~> 1", false),
            // test_satisfied_by_eh_multiple
            ("1.3", ">= 1.4, <= 1.6, != 1.5", false),
            ("1.4", ">= 1.4, <= 1.6, != 1.5", true),
            ("1.5", ">= 1.4, <= 1.6, != 1.5", false),
            ("1.6", ">= 1.4, <= 1.6, != 1.5", true),
            ("1.7", ">= 1.4, <= 1.6, != 1.5", false),
            // The release is what counts below the `~>` bound: 2.1.9.rc1 is in, 2.2.0.rc1 is not.
            ("2.1.9.rc1", "~> 2.1.4", true),
            ("2.2.0.rc1", "~> 2.1.4", false),
            ("2.1.4.rc1", "~> 2.1.4", false),
        ],
    );
}

/// `test_parse_bad`, and a clause without its version.
#[test]
fn malformed_requirements() {
    for (requirement, expected) in [
        ("", "clause \"\" has no version"),
        ("! 1", "clause \"! 1\": invalid rubygems version \"! 1\": does not start with a digit"),
        ("= junk", "clause \"= junk\": invalid rubygems version \"junk\": does not start with a digit"),
        ("1..2", "clause \"1..2\": invalid rubygems version \"1..2\": unexpected \"..2\""),
        (">=", "clause \">=\" has no version"),
        (">= 1.0,", "clause \"\" has no version"),
        ("=> 1.0", "clause \"=> 1.0\": invalid rubygems version \"> 1.0\": does not start with a digit"),
    ] {
        assert_eq!(
            rubygems::satisfies("1.0", requirement).map_err(reason),
            Err(expected.to_owned()),
            "{requirement:?}"
        );
    }
}

/// The `patched_versions` and `unaffected_versions` entries of one advisory,
/// by a line reading of its regular YAML: a top-level key, then
/// `  - "requirement"` items.
fn requirements(path: &Path) -> Vec<String> {
    let mut entries = Vec::new();
    let mut in_list = false;
    for line in read(path).lines() {
        if !line.starts_with([' ', '-']) && line.contains(':') {
            in_list = line.starts_with("patched_versions:") || line.starts_with("unaffected_versions:");
        } else if in_list && let Some(item) = line.trim_start().strip_prefix("- ") {
            let item = item.trim();
            let unquoted = item.strip_prefix(['"', '\'']).and_then(|rest| rest.strip_suffix(['"', '\'']));
            entries.push(unquoted.unwrap_or(item).to_owned());
        }
    }
    entries
}

/// Every requirement of ruby-advisory-db parses, gems and interpreters alike.
#[test]
fn every_rubysec_requirement_parses() {
    for (dir, expected_files, expected_entries) in [("rubysec/gems", 1234, 2221), ("rubysec/rubies", 147, 350)] {
        let files = files_under(&feed(dir), ".yml");
        let mut entries = 0;
        for path in &files {
            for requirement in requirements(path) {
                let parsed = rubygems::satisfies("0", &requirement);
                assert!(parsed.is_ok(), "{}: {requirement:?}: {parsed:?}", path.display());
                entries += 1;
            }
        }
        assert_eq!((files.len(), entries), (expected_files, expected_entries), "files and requirements in {dir}");
    }
}

/// Verdicts worked out by hand from real advisories.
#[test]
fn rubysec_verdicts() {
    let patched = |path: &str, version: &str| {
        let entries = requirements(&feed(path));
        assert!(!entries.is_empty(), "{path}");
        entries.iter().any(|requirement| rubygems::satisfies(version, requirement).unwrap())
    };
    // nokogiri CVE-2019-5477: patched ">= 1.10.4".
    let nokogiri = "rubysec/gems/nokogiri/CVE-2019-5477.yml";
    assert!(!patched(nokogiri, "1.10.3"));
    assert!(patched(nokogiri, "1.10.4"));
    // rack CVE-2022-30122: unaffected "< 1.2"; patched "~> 2.0.9, >= 2.0.9.1",
    // "~> 2.1.4, >= 2.1.4.1", ">= 2.2.3.1".
    let rack = "rubysec/gems/rack/CVE-2022-30122.yml";
    for (version, safe) in [
        ("1.1.6", true),
        ("1.6.13", false),
        ("2.0.9", false),
        ("2.0.9.1", true),
        ("2.0.9.4", true),
        ("2.1.4", false),
        ("2.1.4.1", true),
        ("2.2.3", false),
        ("2.2.3.1", true),
        ("3.0.0", true),
    ] {
        assert_eq!(patched(rack, version), safe, "rack {version}");
    }
    // sinatra CVE-2018-11627: "= 2.0.0-alpha" is unaffected, the betas are not.
    let sinatra = "rubysec/gems/sinatra/CVE-2018-11627.yml";
    assert!(patched(sinatra, "2.0.0-alpha"));
    assert!(patched(sinatra, "2.0.0.pre.alpha"));
    assert!(!patched(sinatra, "2.0.0.beta2"));
}

/// Versions made of RubyGems' shapes: numbers with zeros, prerelease words,
/// letters glued to digits, and the `-` that reads as `.pre.`.
fn version() -> impl Strategy<Value = String> {
    let number = prop::sample::select(vec!["0", "00", "1", "2", "9", "10", "99999999999999999999"]);
    let part = prop::sample::select(vec!["0", "1", "2", "10", "a", "b", "pre", "rc1", "beta", "A", "0a", "1b2"]);
    (number, prop::collection::vec(part, 0..5), prop::option::of(prop::sample::select(vec!["alpha", "1", "rc.1"])))
        .prop_map(|(first, parts, dash)| {
            let mut version = first.to_owned();
            for part in parts {
                version.push('.');
                version.push_str(part);
            }
            if let Some(label) = dash {
                version.push('-');
                version.push_str(label);
            }
            version
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn order_laws(versions in prop::collection::vec(version(), 6)) {
        prop_assert_eq!(check_order_laws(GEMS, &versions), Ok(()));
    }
}
