//! Shared harness of the reference tests: a seeded generator, and one run of a
//! reference implementation (Python's packaging, npm's semver) over every
//! generated case at once, whose answers are compared with ours.

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_version::VersionError;
use serde_json::{Value, json};

#[path = "../rng/mod.rs"]
mod rng;
pub use rng::Rng;

/// Where `scripts/version-reference.sh` installs the reference implementations.
fn reference_dir() -> PathBuf {
    match std::env::var_os("PORTCULLIS_VERSION_REF") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
    }
}

/// The installed reference file, or a failure telling how to install it: these
/// tests are the evidence that our semantics are the ecosystem's, so they never skip.
fn require(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "reference implementation missing: {} does not exist; run scripts/version-reference.sh \
         (PORTCULLIS_VERSION_REF selects another install directory)",
        path.display()
    );
    path
}

/// One evaluation, ours or the reference's, in a form both can produce.
pub fn compare_outcome(result: Result<Ordering, VersionError>) -> String {
    match result {
        Ok(Ordering::Less) => "-1".into(),
        Ok(Ordering::Equal) => "0".into(),
        Ok(Ordering::Greater) => "1".into(),
        Err(_) => "error".into(),
    }
}

pub fn satisfies_outcome(result: Result<bool, VersionError>) -> String {
    match result {
        Ok(answer) => answer.to_string(),
        Err(_) => "error".into(),
    }
}

/// Python's packaging (`packaging.py`) on every case at once.
pub fn run_packaging(compare: &[(String, String)], satisfies: &[(String, String)]) -> (Vec<String>, Vec<String>) {
    let python = require(reference_dir().join("version-ref-venv/bin/python"));
    run_reference(&python, &["-c", include_str!("packaging.py")], compare, satisfies)
}

/// node-semver (`node_semver.js`) on every case at once.
pub fn run_node_semver(compare: &[(String, String)], satisfies: &[(String, String)]) -> (Vec<String>, Vec<String>) {
    let semver = require(reference_dir().join("version-ref-node/node_modules/semver"));
    let semver = semver.to_str().unwrap();
    run_reference(Path::new("node"), &["-e", include_str!("node_semver.js"), semver], compare, satisfies)
}

/// Runs `program args... <cases.json>` once; the program reads
/// `{"compare": [[a, b]...], "satisfies": [[version, requirement]...]}` and prints
/// `{"compare": ["-1"|"0"|"1"|"error"...], "satisfies": ["true"|"false"|"error"...]}`.
fn run_reference(
    program: &Path,
    args: &[&str],
    compare: &[(String, String)],
    satisfies: &[(String, String)],
) -> (Vec<String>, Vec<String>) {
    let cases = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cases.path(), json!({"compare": compare, "satisfies": satisfies}).to_string()).unwrap();
    let output = Command::new(program).args(args).arg(cases.path()).output().unwrap_or_else(|error| {
        panic!("cannot run the reference {}: {error}; run scripts/version-reference.sh", program.display())
    });
    assert!(
        output.status.success(),
        "{} failed ({}): {}",
        program.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Value = serde_json::from_slice(&output.stdout).unwrap();
    let column = |name: &str, expected_len: usize| -> Vec<String> {
        let values: Vec<String> =
            answers[name].as_array().unwrap().iter().map(|value| value.as_str().unwrap().to_owned()).collect();
        assert_eq!(values.len(), expected_len, "{name} answers");
        values
    };
    (column("compare", compare.len()), column("satisfies", satisfies.len()))
}

/// One evaluation's cases, our answers and the reference's, in the same order.
pub struct Evaluation<'a> {
    pub what: &'a str,
    pub cases: &'a [(String, String)],
    pub ours: &'a [String],
    pub reference: &'a [String],
}

/// Fails listing every case, of every evaluation, where we disagree with the reference.
pub fn assert_agreement(evaluations: &[Evaluation]) {
    let reports: Vec<String> = evaluations
        .iter()
        .filter_map(|evaluation| {
            let mismatches: Vec<String> = evaluation
                .cases
                .iter()
                .zip(evaluation.ours.iter().zip(evaluation.reference))
                .filter(|(_, (ours, reference))| ours != reference)
                .map(|((left, right), (ours, reference))| {
                    format!("  {left:?} vs {right:?}: ours {ours}, reference {reference}")
                })
                .collect();
            (!mismatches.is_empty()).then(|| {
                format!(
                    "{}: {} of {} cases differ from the reference:\n{}",
                    evaluation.what,
                    mismatches.len(),
                    evaluation.cases.len(),
                    mismatches.join("\n")
                )
            })
        })
        .collect();
    assert!(reports.is_empty(), "{}", reports.join("\n\n"));
}

/// How many answers of each kind, so a test can check its generator reaches every outcome.
pub fn count(outcomes: &[String], outcome: &str) -> usize {
    outcomes.iter().filter(|value| *value == outcome).count()
}
