//! The harness of the tests that check an OS scheme against its own tool
//! (`dpkg --compare-versions`, rpm's `rpm.vercmp`): seeded version pairs
//! biased towards near-misses, one run of the tool over all of them, and the
//! list of every pair where we disagree.

// Each test binary that includes `os_support` uses only part of it.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_version::VersionError;

use super::rng::Rng;

/// What the versions of one scheme are made of: small alphabets, so that
/// equal prefixes, separators and leading zeros meet often.
pub struct Alphabet {
    pub epochs: &'static [&'static str],
    /// How the upstream version may start.
    pub first: &'static [&'static str],
    pub upstream: &'static [&'static str],
    pub release: &'static [&'static str],
    /// Pieces that sort against the end of a version (`~`, `^`), worth inserting anywhere.
    pub markers: &'static [&'static str],
    /// Small pieces appended to make a near-miss.
    pub tails: &'static [&'static str],
}

/// A version as pieces, so that it can be edited piece by piece.
#[derive(Clone)]
struct Pieces {
    epoch: Option<&'static str>,
    upstream: Vec<&'static str>,
    release: Option<Vec<&'static str>>,
}

impl Pieces {
    fn random(alphabet: &Alphabet, random: &mut Rng) -> Self {
        let epoch = random.chance(20).then(|| random.pick(alphabet.epochs));
        let mut upstream = vec![random.pick(alphabet.first)];
        upstream.extend((0..random.below(6)).map(|_| random.pick(alphabet.upstream)));
        let release = random.chance(50).then(|| (0..=random.below(3)).map(|_| random.pick(alphabet.release)).collect());
        Self { epoch, upstream, release }
    }

    /// The same version with one or two small edits.
    fn edited(&self, alphabet: &Alphabet, random: &mut Rng) -> Self {
        let mut edited = self.clone();
        for _ in 0..=random.below(2) {
            let at = random.index(edited.upstream.len());
            match random.below(7) {
                0 => edited.upstream.push(random.pick(alphabet.upstream)),
                1 if edited.upstream.len() > 1 => {
                    edited.upstream.pop();
                }
                2 if at > 0 => edited.upstream[at] = random.pick(alphabet.upstream),
                3 => edited.upstream.insert(at + 1, random.pick(alphabet.markers)),
                4 => edited.epoch = random.chance(50).then(|| random.pick(alphabet.epochs)),
                5 => match &mut edited.release {
                    Some(release) if random.chance(50) => release.push(random.pick(alphabet.release)),
                    Some(_) => edited.release = None,
                    None => edited.release = Some(vec![random.pick(alphabet.release)]),
                },
                _ => edited.upstream.push(random.pick(alphabet.tails)),
            }
        }
        edited
    }

    /// `:` in upstream needs an epoch and `-` a release (dpkg's rule); without
    /// them they become `.` and `+`. Alphabets without those pieces are unaffected.
    fn render(&self) -> String {
        let mut version = self.epoch.map(|epoch| format!("{epoch}:")).unwrap_or_default();
        for piece in &self.upstream {
            version.push_str(match *piece {
                ":" if self.epoch.is_none() => ".",
                "-" if self.release.is_none() => "+",
                piece => piece,
            });
        }
        if let Some(release) = &self.release {
            version.push('-');
            version.extend(release.iter().copied());
        }
        version
    }
}

/// `count` pairs from `seed`: mostly a version and a small edit of it, some unrelated, a few equal.
pub fn generated_pairs(alphabet: &Alphabet, seed: u64, count: usize) -> Vec<(String, String)> {
    let mut random = Rng::new(seed);
    (0..count)
        .map(|_| {
            let a = Pieces::random(alphabet, &mut random);
            let b = match random.below(20) {
                0 => a.clone(),
                1..=6 => Pieces::random(alphabet, &mut random),
                _ => a.edited(alphabet, &mut random),
            };
            (a.render(), b.render())
        })
        .collect()
}

/// Writes `lines` to a file of the test target's tmp dir, for the tool to read all at once.
pub fn write_lines(name: &str, lines: &[String]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// One `a b` line a pair.
pub fn pair_lines(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().map(|(a, b)| format!("{a} {b}")).collect()
}

/// Runs `command` once and returns its stdout lines, one for each of `expected` cases,, and its stderr.
/// The tool comes with the Debian package `package`: without it the test fails, never skips,
/// since these tests are the evidence that our order is the tool's.
pub fn run_tool(mut command: Command, package: &str, expected: usize) -> (Vec<String>, String) {
    let output = command.output().unwrap_or_else(|error| {
        panic!(
            "cannot run {:?} ({error}): install the Debian package `{package}` (scripts/test.sh does)",
            command.get_program()
        )
    });
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{:?} failed ({}): {stderr}", command.get_program(), output.status);
    let answers: Vec<String> = String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(answers.len(), expected, "one answer a case from {:?}; stderr: {stderr}", command.get_program());
    (answers, stderr)
}

/// Fails listing every pair that `ours` orders otherwise than `tool` did, and
/// unless the pairs reach all three orders (the generator does its job).
pub fn assert_agreement(
    tool: &str,
    pairs: &[(String, String)],
    tool_orders: &[Ordering],
    ours: impl Fn(&str, &str) -> Result<Ordering, VersionError>,
) {
    let mismatches: Vec<String> = pairs
        .iter()
        .zip(tool_orders)
        .filter_map(|((a, b), theirs)| {
            let ours = ours(a, b).unwrap_or_else(|error| panic!("{a} vs {b}: {error}"));
            (ours != *theirs).then(|| format!("{a} vs {b}: {tool} {theirs:?}, ours {ours:?}"))
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} pairs disagree with {tool}:\n{}",
        mismatches.len(),
        pairs.len(),
        mismatches.join("\n")
    );
    let outcomes: BTreeSet<Ordering> = tool_orders.iter().copied().collect();
    assert_eq!(outcomes.len(), 3, "the pairs reach only {outcomes:?}");
}
