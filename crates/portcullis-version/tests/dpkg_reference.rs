//! The dpkg scheme against dpkg itself: `dpkg --compare-versions` (Debian's
//! dpkg, on every machine of this project) decides thousands of pairs, and
//! `portcullis_version::dpkg::compare` must agree with every one.
//!
//! The pairs are generated deterministically (a seeded SplitMix64), biased
//! towards near-misses (a version and a small edit of it), plus hand-picked
//! tricky cases and real versions: the fixed versions of Debian's DSA and DLA
//! lists and the installed versions of real dpkg status files. They are
//! written to a file and decided by one `sh` loop.

mod os_support;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use os_support::reference::{self, Alphabet};
use portcullis_version::{Scheme, dpkg};

const GENERATED_PAIRS: usize = 3000;
const REAL_PAIRS: usize = 1500;

const TRICKY_PAIRS: [(&str, &str); 24] = [
    ("1.0~rc1", "1.0"),
    ("1.0~rc1", "1.0~rc1~1"),
    ("1.0~~", "1.0~"),
    ("1:1.0", "2.0"),
    ("0:1.0", "1.0"),
    ("1.0-1", "1.0-1+deb12u1"),
    ("1.0-1+deb12u1", "1.0-1+deb12u1~bpo11+1"),
    ("1.0+b1", "1.0"),
    ("1.0+b1", "1.0a"),
    ("2.30-1ubuntu1", "2.30~rc1-1"),
    ("1:2.30-1ubuntu1", "1:2.30~rc1-1"),
    ("1.0a", "1.0+"),
    ("1.0.", "1.0a"),
    ("1.01", "1.1"),
    ("1.001", "1.01"),
    ("007", "7"),
    ("1.0", "1.0-0"),
    ("1.0", "1.0.0"),
    ("1.0-a", "1.0-B"),
    ("a1.0", "1.0"),
    ("0.0~git20230321123456789", "0.0~git20230321123456788"),
    ("2147483647:1", "1"),
    ("1:2:3-4", "1:2:2-4"),
    ("1-2-3", "1-3"),
];

/// Versions dpkg refuses or warns about; `dpkg::compare` rejects all of them.
/// (Ours alone: the empty version and a signed epoch; versions starting with
/// `-` cannot be passed to dpkg, which takes them for options.)
const INVALID: [&str; 12] =
    ["1.0 1", ":1.0", "a:1.0", "1.0:2", "2147483648:1", "1:", "1.0-", "1.0_1", "1.0>1", "1.0é", "1:1.0-1:2", "1.0-1_2"];

const ALPHABET: Alphabet = Alphabet {
    epochs: &["0", "1", "2", "10", "01"],
    first: &["0", "1", "2", "9", "10", "01", "00", "a", "~", "+"],
    upstream: &[
        "0", "1", "2", "9", "10", "01", "00", "007", "a", "b", "z", "A", "Z", "rc", "dfsg", "git", ".", ".", "+", "~",
        "~~", "-", ":", "+b",
    ],
    release: &["0", "1", "2", "10", "a", "b", "A", "ubuntu", "deb12u", ".", "+", "~", "+b", "~bpo", "00"],
    markers: &["~"],
    tails: &["0", "1", "a", "+", "."],
};

/// Fixed versions of the DSA and DLA lists (`[release] - package version`),
/// each paired with the next fixed version of the same source package.
fn security_list_pairs() -> Vec<(String, String)> {
    let mut by_package: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for list in ["DSA-list", "DLA-list"] {
        let path = os_support::feed(&format!("debian-tracker/security-tracker-lists-2023-04/{list}"));
        for line in os_support::read(&path).lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let [release, "-", package, version, ..] = fields[..]
                && release.starts_with('[')
                && !version.starts_with('<')
            {
                by_package.entry(package.to_owned()).or_default().insert(version.to_owned());
            }
        }
    }
    let pairs: Vec<(String, String)> = by_package
        .values()
        .flat_map(|versions| versions.iter().zip(versions.iter().skip(1)))
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect();
    assert!(pairs.len() > REAL_PAIRS, "only {} pairs in the security lists", pairs.len());
    // Every pair is parsed; a spread-out sample of them goes to dpkg.
    for (a, b) in &pairs {
        dpkg::compare(a, b).unwrap_or_else(|error| panic!("real security-list version rejected: {error}"));
    }
    let step = pairs.len() / REAL_PAIRS;
    pairs.into_iter().step_by(step).take(REAL_PAIRS).collect()
}

/// The installed versions of real status files, each paired with the next.
fn status_file_pairs() -> Vec<(String, String)> {
    let mut versions = Vec::new();
    for fixture in ["dpkg/debian-12-arm64-coreutils-closure", "dpkg/ubuntu-18.04-trivy"] {
        versions.extend(os_support::field_values(
            &os_support::fixture(&format!("{fixture}/var/lib/dpkg/status")),
            "Version:",
        ));
    }
    versions.iter().zip(versions.iter().skip(1)).map(|(a, b)| (a.clone(), b.clone())).collect()
}

/// Runs one `sh` that reads `lines` from a file with `script` and prints one answer a line.
fn run_dpkg_script(name: &str, lines: &[String], script: &str) -> (Vec<String>, String) {
    let path = reference::write_lines(name, lines);
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(script).arg("sh").arg(path);
    reference::run_tool(sh, "dpkg", lines.len())
}

fn dpkg_order(answer: &str) -> Ordering {
    match answer {
        "lt" => Ordering::Less,
        "eq" => Ordering::Equal,
        "gt" => Ordering::Greater,
        other => panic!("unexpected answer {other:?}"),
    }
}

#[test]
fn agrees_with_dpkg_compare_versions() {
    let mut pairs: Vec<(String, String)> =
        TRICKY_PAIRS.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    pairs.extend(reference::generated_pairs(&ALPHABET, 0x00C0_FFEE_D0C5, GENERATED_PAIRS));
    pairs.extend(security_list_pairs());
    pairs.extend(status_file_pairs());
    let script = r#"while read -r a b; do
        if dpkg --compare-versions "$a" lt "$b"; then echo lt
        elif dpkg --compare-versions "$a" eq "$b"; then echo eq
        else echo gt
        fi
    done < "$1""#;
    let (answers, warnings) = run_dpkg_script("dpkg-reference-pairs.txt", &reference::pair_lines(&pairs), script);
    let dpkg_orders: Vec<Ordering> = answers.iter().map(|answer| dpkg_order(answer)).collect();
    reference::assert_agreement("dpkg", &pairs, &dpkg_orders, dpkg::compare);
    // What we accept, dpkg accepts too, at most warning about a non-digit start.
    for warning in warnings.lines() {
        assert!(warning.ends_with("version number does not start with digit"), "dpkg: {warning}");
    }
}

#[test]
fn rejects_only_what_dpkg_complains_about() {
    let versions: Vec<String> = INVALID.iter().map(|version| (*version).to_owned()).collect();
    for version in &versions {
        assert!(dpkg::compare(version, "1").is_err(), "{version:?} accepted");
    }
    let script = r#"while IFS= read -r version; do
        if dpkg --compare-versions "$version" eq 1 2>&1 | grep -q "bad syntax"; then echo complains
        else echo accepts
        fi
    done < "$1""#;
    let (answers, _) = run_dpkg_script("dpkg-reference-invalid.txt", &versions, script);
    for (version, answer) in versions.iter().zip(&answers) {
        assert_eq!(answer, "complains", "dpkg takes {version:?} without a word");
    }
}

#[test]
fn the_scheme_dispatches_to_dpkg() {
    assert_eq!(Scheme::Dpkg.compare("1:2.30-1ubuntu1", "1:2.30~rc1-1"), Ok(Ordering::Greater));
    assert_eq!(Scheme::from_name("dpkg"), Some(Scheme::Dpkg));
    // Debian 12's tar against CVE-2022-48303, fixed in 1.34+dfsg-1.2+deb12u1 (shared feeds README).
    assert_eq!(Scheme::Dpkg.satisfies("1.34+dfsg-1.2", "<< 1.34+dfsg-1.2+deb12u1"), Ok(true));
    assert_eq!(Scheme::Dpkg.satisfies("1.34+dfsg-1.2+deb12u1", "<< 1.34+dfsg-1.2+deb12u1"), Ok(false));
    assert!(Scheme::Dpkg.satisfies("1.0", "").is_err());
}
