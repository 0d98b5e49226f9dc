//! The test-data helpers against the real shared fixtures and lab: where
//! they look, what they list, and that missing data fails rather than skips.

use std::path::Path;

use portcullis_testkit::data::{
    assert_same_packages, expected_json, fixture, fixture_dirs, fixture_dirs_nested, fixtures_root, lab_image,
    lab_root, lab_rootfs, read_bytes, read_json, regular_files,
};
use serde_json::json;

#[test]
fn defaults_find_the_shared_fixtures_and_the_lab() {
    // The kit sits at crates/portcullis-testkit, the same depth as the crates
    // whose tests use it, so its relative defaults name the same places.
    assert!(fixtures_root().join("README.md").is_file(), "{}", fixtures_root().display());
    assert!(lab_root().join("oci/deb-base/index.json").is_file());
    if std::env::var_os("PORTCULLIS_FIXTURES").is_none() {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
        let shared = workspace.join("../shared/fixtures").canonicalize().unwrap();
        assert_eq!(fixtures_root().canonicalize().unwrap(), shared);
    }
    if std::env::var_os("PORTCULLIS_LAB").is_none() {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
        assert_eq!(lab_root().canonicalize().unwrap(), workspace.join("target/lab"));
    }
}

#[test]
fn fixture_dirs_are_sorted_fixtures_of_one_level() {
    let dirs = fixture_dirs("rpmdb");
    assert!(dirs.is_sorted());
    assert!(dirs.iter().all(|d| d.parent() == Some(&*fixtures_root().join("rpmdb"))));
    assert!(dirs.iter().all(|d| d.join("expected.json").is_file()));
    assert_eq!(expected_json(&dirs[0]), read_json(&dirs[0].join("expected.json")));
}

#[test]
fn nested_fixture_dirs_add_the_grouped_ones() {
    let top = fixture_dirs("apk");
    let nested = fixture_dirs_nested("apk");
    assert!(nested.is_sorted());
    assert!(top.iter().all(|d| nested.contains(d)));
    assert!(nested.contains(&fixture("apk/edge-cases/noarch")));
    assert!(!nested.contains(&fixtures_root().join("apk/edge-cases")), "a group is not a fixture");
}

#[test]
#[should_panic(expected = "fixture directory")]
fn a_missing_kind_fails() {
    fixture_dirs("no-such-kind");
}

#[test]
#[should_panic(expected = "no fixtures with an expected.json")]
fn a_kind_without_fixtures_fails() {
    // A fixture's own tree holds directories but no expected.json.
    fixture_dirs("dpkg/ubuntu-18.04-trivy");
}

#[test]
#[should_panic(expected = "is missing")]
fn a_missing_fixture_fails() {
    fixture("apk/no-such-fixture");
}

#[test]
fn lab_images_and_root_filesystems() {
    assert!(lab_image("deb-base").join("index.json").is_file());
    assert!(lab_rootfs("deb-base").join("var/lib/dpkg/status").is_file());
}

#[test]
#[should_panic(expected = "./scripts/test.sh")]
fn a_missing_lab_rootfs_names_the_script() {
    lab_rootfs("no-such-image");
}

#[test]
#[should_panic(expected = "./scripts/test.sh")]
fn a_missing_lab_image_names_the_script() {
    lab_image("no-such-image");
}

#[test]
fn reads_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let panic = std::panic::catch_unwind(|| read_bytes(&missing)).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.starts_with(&format!("cannot read {}: ", missing.display())), "{message}");

    let invalid = dir.path().join("invalid.json");
    std::fs::write(&invalid, "{not json").unwrap();
    let panic = std::panic::catch_unwind(|| read_json(&invalid)).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.starts_with(&format!("invalid JSON in {}: ", invalid.display())), "{message}");

    std::fs::write(&invalid, r#"{"a": [1]}"#).unwrap();
    assert_eq!(read_json(&invalid), json!({"a": [1]}));
    assert_eq!(read_bytes(&invalid), br#"{"a": [1]}"#);
}

#[test]
fn same_packages_in_any_order() {
    let key = |v: &serde_json::Value| v["name"].to_string();
    assert_same_packages(
        "x",
        vec![json!({"name": "b"}), json!({"name": "a"})],
        vec![json!({"name": "a"}), json!({"name": "b"})],
        key,
    );
}

#[test]
#[should_panic(expected = "x: package differs")]
fn a_differing_package_is_named() {
    let key = |v: &serde_json::Value| v["name"].to_string();
    assert_same_packages("x", vec![json!({"name": "a", "v": 1})], vec![json!({"name": "a", "v": 2})], key);
}

#[test]
fn regular_files_are_sorted_and_skip_links() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
    std::fs::write(dir.path().join("b/c/f"), "").unwrap();
    std::fs::write(dir.path().join("a"), "").unwrap();
    std::os::unix::fs::symlink("a", dir.path().join("link")).unwrap();
    std::os::unix::fs::symlink("b", dir.path().join("dir-link")).unwrap();
    assert_eq!(regular_files(dir.path()), [dir.path().join("a"), dir.path().join("b/c/f")]);
}
