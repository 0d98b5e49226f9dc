//! Where the test data lives, and reading it.
//!
//! * The shared fixtures (`../shared/fixtures`, or `PORTCULLIS_FIXTURES`):
//!   genuine package databases and files, one directory per fixture with an
//!   `expected.json`, grouped by kind (`apk`, `dpkg`, `rpmdb`, `python`...).
//! * The lab (`target/lab`, or `PORTCULLIS_LAB`): real Debian images built by
//!   `./scripts/test.sh` (with `../shared/lab/build.sh`), as OCI layouts under
//!   `oci/<image>` and unpacked under `rootfs/<image>/rootfs`.
//!
//! Missing data is a failure, never a skip: a test that silently checks
//! nothing is how regressions slip through. Every panic names the path and
//! how to get the data.
//!
//! The defaults are relative to this crate's directory, which sits at the
//! same depth as every other crate of the workspace (`crates/<name>`).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// How to get the data, for the panics below.
const HOW_TO_GET: &str = "run ./scripts/test.sh, which installs and builds the test data \
                          (or set PORTCULLIS_FIXTURES / PORTCULLIS_LAB to where they are)";

/// The shared fixtures root: `PORTCULLIS_FIXTURES`, else `../shared/fixtures`
/// beside the workspace. Panics when it is not a directory.
pub fn fixtures_root() -> PathBuf {
    let root = match env::var_os("PORTCULLIS_FIXTURES") {
        Some(root) => PathBuf::from(root),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"),
    };
    assert!(
        root.is_dir(),
        "shared fixtures missing at {}: set PORTCULLIS_FIXTURES to the shared fixtures root, or run ./scripts/test.sh",
        root.display()
    );
    root
}

/// The shared vulnerability feeds root: `PORTCULLIS_FEEDS`, else
/// `../shared/feeds` beside the workspace. Panics when it is not a directory.
pub fn feeds_root() -> PathBuf {
    let root = match env::var_os("PORTCULLIS_FEEDS") {
        Some(root) => PathBuf::from(root),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/feeds"),
    };
    assert!(root.is_dir(), "shared feeds missing at {}: set PORTCULLIS_FEEDS to the shared feeds root", root.display());
    root
}

/// A file or directory under the feeds root, e.g. `feed("kev/known_exploited_vulnerabilities.json")`.
pub fn feed(relative: &str) -> PathBuf {
    let path = feeds_root().join(relative);
    assert!(path.exists(), "feed data missing: {}", path.display());
    path
}

/// One fixture directory, `kind/name` (or any directory below the fixtures
/// root). Panics when it is missing.
pub fn fixture(kind_and_name: &str) -> PathBuf {
    let dir = fixtures_root().join(kind_and_name);
    assert!(dir.is_dir(), "fixture {} is missing; {HOW_TO_GET}", dir.display());
    dir
}

/// The fixtures of one kind: every directory directly under `kind/` that
/// holds an `expected.json`, sorted. A missing `kind/` or one without any
/// fixture fails the test.
pub fn fixture_dirs(kind: &str) -> Vec<PathBuf> {
    let dir = fixtures_root().join(kind);
    let mut dirs: Vec<PathBuf> =
        subdirectories(&dir).into_iter().filter(|p| p.join("expected.json").is_file()).collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no fixtures with an expected.json under {}", dir.display());
    dirs
}

/// Like [`fixture_dirs`], at any depth: for kinds whose fixtures are also
/// grouped one level down (`apk/edge-cases/*`).
pub fn fixture_dirs_nested(kind: &str) -> Vec<PathBuf> {
    let root = fixtures_root().join(kind);
    let mut found = Vec::new();
    let mut pending = subdirectories(&root);
    while let Some(dir) = pending.pop() {
        if dir.join("expected.json").is_file() {
            found.push(dir.clone());
        }
        pending.extend(subdirectories(&dir));
    }
    found.sort();
    assert!(!found.is_empty(), "no fixtures with an expected.json under {}", root.display());
    found
}

/// The directories directly under `dir`; panics when `dir` cannot be listed.
fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| {
        panic!(
            "fixture directory {} is missing ({e}); set PORTCULLIS_FIXTURES to the shared fixtures root, or run \
             ./scripts/test.sh",
            dir.display()
        )
    });
    entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path())
        .filter(|p| p.is_dir())
        .collect()
}

/// A fixture's `expected.json`, parsed.
pub fn expected_json(fixture_dir: &Path) -> Value {
    read_json(&fixture_dir.join("expected.json"))
}

/// The lab root: `PORTCULLIS_LAB`, else `target/lab` in the workspace.
/// Panics when the lab images are not there (`oci/deb-base/index.json`).
pub fn lab_root() -> PathBuf {
    let root = match env::var_os("PORTCULLIS_LAB") {
        Some(root) => PathBuf::from(root),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lab"),
    };
    assert!(
        root.join("oci/deb-base/index.json").is_file(),
        "lab images missing in {}: run ./scripts/test.sh (it builds them with ../shared/lab/build.sh), or set \
         PORTCULLIS_LAB",
        root.display()
    );
    root
}

/// A lab image's OCI layout, `oci/<image>`. Panics when it is missing.
pub fn lab_image(image: &str) -> PathBuf {
    let layout = lab_root().join("oci").join(image);
    assert!(
        layout.join("index.json").is_file(),
        "lab image {} is missing: run ./scripts/test.sh (it builds the lab; deb-bins only without SKIP_BINS), or \
         set PORTCULLIS_LAB",
        layout.display()
    );
    layout
}

/// A lab image's unpacked root filesystem, `rootfs/<image>/rootfs`. Panics
/// when it is missing (every lab image is Debian: `var/lib/dpkg/status`).
pub fn lab_rootfs(image: &str) -> PathBuf {
    let dir = lab_root().join("rootfs").join(image).join("rootfs");
    assert!(
        dir.join("var/lib/dpkg/status").is_file(),
        "lab image rootfs {} is missing: run ./scripts/test.sh (it builds the lab; deb-bins only without \
         SKIP_BINS), or set PORTCULLIS_LAB",
        dir.display()
    );
    dir
}

/// Every regular file below `dir` (a lab image's root filesystem, say),
/// sorted. Symbolic links are neither followed nor listed.
pub fn regular_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let kind = entry.file_type().unwrap_or_else(|e| panic!("cannot stat {}: {e}", entry.path().display()));
            if kind.is_dir() {
                walk(&entry.path(), out);
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// `name==version` of every package the lab image deb-python's `pip
/// install` put in site-packages (the list in `../shared/lab/README.md`;
/// Django was requested as 2.2.0 and records itself as 2.2). Debian's own
/// python ships no `*-info` metadata there.
pub const DEB_PYTHON_PIP_PACKAGES: &[&str] = &[
    "requests==2.19.1",
    "urllib3==1.24.1",
    "chardet==3.0.4",
    "idna==2.7",
    "certifi==2018.4.16",
    "django==2.2",
    "pytz==2019.1",
    "sqlparse==0.3.0",
    "pyyaml==5.3",
    "jinja2==2.10",
    "markupsafe==1.1.1",
];

/// The bytes of a test-data file; panics naming the path.
pub fn read_bytes(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}; {HOW_TO_GET}", path.display()))
}

/// A JSON test-data file, parsed; panics naming the path.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read_bytes(path)).unwrap_or_else(|e| panic!("invalid JSON in {}: {e}", path.display()))
}

/// Asserts that two lists of JSON records are the same once both are sorted
/// by `key`: first their lengths (`{name}: package count`), then record by
/// record (`{name}: package differs`), so a failure shows the first record
/// that differs rather than two whole lists.
pub fn assert_same_packages(name: &str, mut got: Vec<Value>, mut want: Vec<Value>, key: impl Fn(&Value) -> String) {
    got.sort_by_key(&key);
    want.sort_by_key(&key);
    assert_eq!(got.len(), want.len(), "{name}: package count");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "{name}: package differs");
    }
}
