//! Where the shared read-only data lives, for the tests of the OS schemes.
//!
//! The same rules as `portcullis_testkit::data` (which this crate does not
//! depend on): an environment variable, else `../shared` beside the
//! workspace; missing data is a failure, never a skip.

use std::path::{Path, PathBuf};
use std::{env, fs};

/// A file under the shared feeds root (`PORTCULLIS_FEEDS`, else `../shared/feeds`).
pub fn feed(relative: &str) -> PathBuf {
    shared("PORTCULLIS_FEEDS", "feeds", relative)
}

/// A file under the shared fixtures root (`PORTCULLIS_FIXTURES`, else `../shared/fixtures`).
pub fn fixture(relative: &str) -> PathBuf {
    shared("PORTCULLIS_FIXTURES", "fixtures", relative)
}

fn shared(variable: &str, folder: &str, relative: &str) -> PathBuf {
    let root = match env::var_os(variable) {
        Some(root) => PathBuf::from(root),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(folder),
    };
    let path = root.join(relative);
    assert!(path.exists(), "shared data missing: {} (set {variable} to the shared {folder} root)", path.display());
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
