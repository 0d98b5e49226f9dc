//! Shared data for the tests of the OS schemes (located by
//! `portcullis_testkit::data`: missing data is a failure, never a skip), and
//! the harness of the tests against the schemes' own tools.

pub mod reference;
#[path = "../rng/mod.rs"]
mod rng;

use std::fs;
use std::path::{Path, PathBuf};

pub use portcullis_testkit::data::feed;

/// A file (or directory) under the shared fixtures root.
pub fn fixture(relative: &str) -> PathBuf {
    let path = portcullis_testkit::data::fixtures_root().join(relative);
    assert!(path.exists(), "shared fixture missing: {}", path.display());
    path
}

/// The whole text of a shared file.
pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The values of every `prefix` line (`Version: `, `V:`) of a package database.
pub fn field_values(path: &Path, prefix: &str) -> Vec<String> {
    let values: Vec<String> =
        read(path).lines().filter_map(|line| line.strip_prefix(prefix)).map(|value| value.trim().to_owned()).collect();
    assert!(!values.is_empty(), "no {prefix:?} lines in {}", path.display());
    values
}
