//! `--layer-cache DIR` end to end: `sbom` and `scan` fill and reuse the
//! per-layer cache with unchanged output, and a cache directory that cannot
//! be written is no reason to fail.

use std::process::Command;

use portcullis_testkit::data::lab_image;

mod common;

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    command.args(args).env_remove("PORTCULLIS_LAYER_CACHE");
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().expect("portcullis runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sbom(image: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
    let source = format!("oci-dir:{}", lab_image(image).display());
    let mut args = vec!["sbom", "-q", source.as_str(), "-o", "json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&args, env);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

fn entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|listing| listing.count()).unwrap_or(0)
}

#[test]
fn sbom_output_is_the_same_with_a_cold_and_a_warm_cache() {
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("layers");
    let cache_arg = cache.to_str().unwrap();
    let fresh = sbom("deb-python", &[], &[]);
    assert_eq!(entries(&cache), 0);
    assert_eq!(sbom("deb-base", &["--layer-cache", cache_arg], &[]), sbom("deb-base", &[], &[]));
    assert_eq!(entries(&cache), 1, "deb-base has one layer");
    assert_eq!(sbom("deb-python", &["--layer-cache", cache_arg], &[]), fresh);
    assert_eq!(entries(&cache), 5, "deb-python shares deb-base's layer and adds four");
    // Warm, and named through the environment.
    assert_eq!(sbom("deb-python", &[], &[("PORTCULLIS_LAYER_CACHE", cache_arg)]), fresh);
    assert_eq!(entries(&cache), 5);
}

#[test]
fn scan_takes_the_cache_too() {
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("layers");
    let source = format!("oci-dir:{}", lab_image("deb-base").display());
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "-q", source.as_str(), "-o", "json"];
        args.extend_from_slice(extra);
        let out = common::portcullis(&args, common::synced_db());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let fresh = scan(&[]);
    assert!(!fresh["findings"].as_array().unwrap().is_empty());
    assert_eq!(scan(&["--layer-cache", cache.to_str().unwrap()]), fresh);
    assert_eq!(entries(&cache), 1);
    assert_eq!(scan(&["--layer-cache", cache.to_str().unwrap()]), fresh);
}

#[test]
fn an_unwritable_cache_directory_is_not_an_error() {
    let temp = tempfile::tempdir().unwrap();
    let blocked = temp.path().join("file");
    std::fs::write(&blocked, b"").unwrap();
    let fresh = sbom("deb-base", &[], &[]);
    assert_eq!(sbom("deb-base", &["--layer-cache", blocked.to_str().unwrap()], &[]), fresh);
}
