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
use std::fs;
use std::path::Path;
use std::process::Command;

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

/// SplitMix64: tiny, and the same sequence on every machine.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FIRST_PIECES: [&str; 10] = ["0", "1", "2", "9", "10", "01", "00", "a", "~", "+"];
const UPSTREAM_PIECES: [&str; 24] = [
    "0", "1", "2", "9", "10", "01", "00", "007", "a", "b", "z", "A", "Z", "rc", "dfsg", "git", ".", ".", "+", "~",
    "~~", "-", ":", "+b",
];
const REVISION_PIECES: [&str; 15] =
    ["0", "1", "2", "10", "a", "b", "A", "ubuntu", "deb12u", ".", "+", "~", "+b", "~bpo", "00"];
const EPOCHS: [&str; 5] = ["0", "1", "2", "10", "01"];

/// A version as pieces, so that it can be edited piece by piece.
#[derive(Clone)]
struct Pieces {
    epoch: Option<&'static str>,
    upstream: Vec<&'static str>,
    revision: Option<Vec<&'static str>>,
}

impl Pieces {
    fn random(random: &mut Random) -> Self {
        let epoch = random.chance(20).then(|| random.pick(&EPOCHS));
        let mut upstream = vec![random.pick(&FIRST_PIECES)];
        upstream.extend((0..random.below(6)).map(|_| random.pick(&UPSTREAM_PIECES)));
        let revision =
            random.chance(50).then(|| (0..=random.below(3)).map(|_| random.pick(&REVISION_PIECES)).collect());
        Self { epoch, upstream, revision }
    }

    /// The same version with one or two small edits.
    fn edited(&self, random: &mut Random) -> Self {
        let mut edited = self.clone();
        for _ in 0..=random.below(2) {
            let at = random.below(edited.upstream.len());
            match random.below(7) {
                0 => edited.upstream.push(random.pick(&UPSTREAM_PIECES)),
                1 if edited.upstream.len() > 1 => {
                    edited.upstream.pop();
                }
                2 if at > 0 => edited.upstream[at] = random.pick(&UPSTREAM_PIECES),
                3 => edited.upstream.insert(at + 1, "~"),
                4 => edited.epoch = random.chance(50).then(|| random.pick(&EPOCHS)),
                5 => match &mut edited.revision {
                    Some(revision) if random.chance(50) => revision.push(random.pick(&REVISION_PIECES)),
                    Some(_) => edited.revision = None,
                    None => edited.revision = Some(vec![random.pick(&REVISION_PIECES)]),
                },
                _ => edited.upstream.push(random.pick(&["0", "1", "a", "+", "."])),
            }
        }
        edited
    }

    /// `:` in upstream needs an epoch and `-` a revision; without them they become `.` and `+`.
    fn render(&self) -> String {
        let mut version = self.epoch.map(|epoch| format!("{epoch}:")).unwrap_or_default();
        for piece in &self.upstream {
            version.push_str(match *piece {
                ":" if self.epoch.is_none() => ".",
                "-" if self.revision.is_none() => "+",
                piece => piece,
            });
        }
        if let Some(revision) = &self.revision {
            version.push('-');
            version.extend(revision.iter().copied());
        }
        version
    }
}

fn generated_pairs() -> Vec<(String, String)> {
    let mut random = Random(0x00C0_FFEE_D0C5);
    (0..GENERATED_PAIRS)
        .map(|_| {
            let a = Pieces::random(&mut random);
            let b = match random.below(20) {
                0 => a.clone(),
                1..=6 => Pieces::random(&mut random),
                _ => a.edited(&mut random),
            };
            (a.render(), b.render())
        })
        .collect()
}

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

/// Runs one `sh` over `lines`, which reads them from a file with `script` and prints one answer a line.
fn run_dpkg_script(name: &str, lines: &[String], script: &str) -> (Vec<String>, String) {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    let output = Command::new("sh").arg("-c").arg(script).arg("sh").arg(&path).output().expect("sh runs");
    assert!(output.status.success(), "the dpkg script failed: {}", String::from_utf8_lossy(&output.stderr));
    let answers: Vec<String> = String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(answers.len(), lines.len(), "one answer a line from {}", path.display());
    (answers, String::from_utf8(output.stderr).unwrap())
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
    pairs.extend(generated_pairs());
    pairs.extend(security_list_pairs());
    pairs.extend(status_file_pairs());
    let lines: Vec<String> = pairs.iter().map(|(a, b)| format!("{a} {b}")).collect();
    let script = r#"while read -r a b; do
        if dpkg --compare-versions "$a" lt "$b"; then echo lt
        elif dpkg --compare-versions "$a" eq "$b"; then echo eq
        else echo gt
        fi
    done < "$1""#;
    let (answers, warnings) = run_dpkg_script("dpkg-reference-pairs.txt", &lines, script);

    let mismatches: Vec<String> = pairs
        .iter()
        .zip(&answers)
        .filter_map(|((a, b), answer)| {
            let ours = dpkg::compare(a, b).unwrap_or_else(|error| panic!("{a} vs {b}: {error}"));
            (ours != dpkg_order(answer)).then(|| format!("{a} vs {b}: dpkg {answer}, ours {ours:?}"))
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} pairs disagree:\n{}",
        mismatches.len(),
        pairs.len(),
        mismatches.join("\n")
    );
    // What we accept, dpkg accepts too, at most warning about a non-digit start.
    for warning in warnings.lines() {
        assert!(warning.ends_with("version number does not start with digit"), "dpkg: {warning}");
    }
    // The generator does reach the interesting places.
    let outcomes: BTreeSet<&str> = answers.iter().map(String::as_str).collect();
    assert_eq!(outcomes, BTreeSet::from(["eq", "gt", "lt"]));
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
