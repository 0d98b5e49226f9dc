//! Shared by the scan tests: running the binary against a database synced
//! from the real feed snapshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use portcullis_testkit::data::feeds_root;

/// Runs `portcullis` with `db` as its database and a cache beside it.
pub fn portcullis(args: &[&str], db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .env("PORTCULLIS_DB", db)
        .env("PORTCULLIS_CACHE_DIR", db.with_extension("cache"))
        .output()
        .unwrap()
}

/// A database synced from the whole snapshot, once per test binary.
pub fn synced_db() -> &'static Path {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let db = dir.join("vulndb.sqlite");
        let out = portcullis(&["feeds", "sync", "--from", feeds_root().to_str().unwrap()], &db);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        db
    })
}
