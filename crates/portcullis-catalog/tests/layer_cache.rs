//! Per-layer results reused through a real on-disk cache, on the lab images
//! (deb-python is built on deb-base and shares its layer): the SBOM from a
//! warm cache is the SBOM without one, a cached layer is never read from the
//! source, a damaged entry is a miss, and other settings do not reuse entries.

use std::fs;
use std::path::{Path, PathBuf};

use portcullis_catalog::content::secrets::{ContentScanner, SecretRule};
use portcullis_catalog::{AnalyzeOptions, InspectOptions, Scope, analyze_with_cache};
use portcullis_image::cache::{DiskCache, ResultCache};
use portcullis_image::source::{self, ImageSource, SourceOptions};
use portcullis_image::tree::NoProgress;
use portcullis_testkit::data::lab_image;
use serde_json::Value;

fn open(layout: &Path) -> Box<dyn ImageSource> {
    let mut sources = source::open(&format!("oci-dir:{}", layout.display()), &SourceOptions::default()).unwrap();
    sources.remove(0)
}

fn analyse(layout: &Path, options: &AnalyzeOptions, cache: Option<&DiskCache>) -> Result<Value, String> {
    let cache = cache.map(|c| c as &dyn ResultCache);
    analyze_with_cache(open(layout).as_ref(), options, cache, &NoProgress)
        .map(|sbom| serde_json::to_value(sbom).unwrap())
        .map_err(|e| e.to_string())
}

fn sbom(layout: &Path, options: &AnalyzeOptions, cache: Option<&DiskCache>) -> Value {
    analyse(layout, options, cache).unwrap()
}

/// Equality of two SBOMs of the same image read from different places, with
/// the first differing section named instead of pages of JSON.
fn assert_same(got: &Value, want: &Value, what: &str) {
    let mut got = got.clone();
    got["source"]["input"] = want["source"]["input"].clone();
    if got != *want {
        let section = want.as_object().unwrap().keys().find(|k| got[k.as_str()] != want[k.as_str()]);
        panic!("{what}: the SBOMs differ in {section:?}");
    }
}

fn new_cache(dir: &Path) -> DiskCache {
    DiskCache::new(dir.join("layer-results"), 8 << 30)
}

/// The cache's entries (file names), sorted.
fn entries(cache: &DiskCache) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(cache.dir()) {
        Ok(listing) => listing.map(|e| e.unwrap().file_name().into_string().unwrap()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn diff_ids(layout: &Path) -> Vec<String> {
    open(layout).descriptor().layers.iter().map(|l| l.diff_id.clone().unwrap()).collect()
}

/// A copy of an OCI layout whose blobs can be deleted without touching the
/// lab's (hard links where the file system allows, else copies).
fn copy_layout(from: &Path, to: &Path) -> PathBuf {
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        if fs::hard_link(&entry, &target).is_err() {
            fs::copy(&entry, &target).unwrap();
        }
    }
    to.to_path_buf()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

fn remove_layer_blobs(layout: &Path) {
    for layer in &open(layout).descriptor().layers {
        let digest = layer.digest.as_deref().unwrap();
        fs::remove_file(layout.join("blobs/sha256").join(digest.strip_prefix("sha256:").unwrap())).unwrap();
    }
}

#[test]
fn a_warm_cache_gives_the_same_sboms_for_images_sharing_a_base() {
    let temp = tempfile::tempdir().unwrap();
    let cache = new_cache(temp.path());
    let (base, python) = (lab_image("deb-base"), lab_image("deb-python"));
    let python_layers = diff_ids(&python);
    assert_eq!(diff_ids(&base)[0], python_layers[0], "deb-python is built on deb-base");
    let distinct: std::collections::BTreeSet<&String> = python_layers.iter().collect();
    let options = AnalyzeOptions::default();
    let fresh_base = sbom(&base, &options, None);
    let fresh_python = sbom(&python, &options, None);

    // Cold: the base's one layer is read and stored.
    assert_same(&sbom(&base, &options, Some(&cache)), &fresh_base, "deb-base, cold");
    assert_eq!(entries(&cache).len(), 1);
    // The shared layer comes from the cache, the others are read and stored.
    assert_same(&sbom(&python, &options, Some(&cache)), &fresh_python, "deb-python after deb-base");
    assert_eq!(entries(&cache).len(), distinct.len());
    for diff_id in &distinct {
        let hex = diff_id.strip_prefix("sha256:").unwrap();
        assert!(entries(&cache).iter().any(|name| name.starts_with(&format!("sha256-{hex}-"))), "{diff_id}");
    }
    // Fully warm, for both images and both scopes (the scope is not a
    // per-layer setting: the same entries serve it).
    assert_same(&sbom(&python, &options, Some(&cache)), &fresh_python, "deb-python, warm");
    assert_same(&sbom(&base, &options, Some(&cache)), &fresh_base, "deb-base, warm");
    let all_layers = AnalyzeOptions { scope: Scope::AllLayers, ..AnalyzeOptions::default() };
    assert_same(&sbom(&python, &all_layers, Some(&cache)), &sbom(&python, &all_layers, None), "all layers, warm");
    assert_eq!(entries(&cache).len(), distinct.len());
}

#[test]
fn cached_layers_are_never_read_from_the_source() {
    let temp = tempfile::tempdir().unwrap();
    let cache = new_cache(temp.path());
    let options = AnalyzeOptions::default();
    let python = lab_image("deb-python");
    let fresh = sbom(&python, &options, None);
    let copy = copy_layout(&python, &temp.path().join("deb-python"));
    assert_same(&sbom(&copy, &options, Some(&cache)), &fresh, "cold");

    remove_layer_blobs(&copy);
    let error = analyse(&copy, &options, None).unwrap_err();
    assert!(error.contains("not found"), "without the cache the layers are missing: {error}");
    // Only the image's manifest and config are read; every layer is cached.
    assert_same(&sbom(&copy, &options, Some(&cache)), &fresh, "warm, without blobs");
}

#[test]
fn a_damaged_entry_is_a_miss() {
    let temp = tempfile::tempdir().unwrap();
    let cache = new_cache(temp.path());
    let options = AnalyzeOptions::default();
    let base = lab_image("deb-base");
    let fresh = sbom(&base, &options, None);
    let copy = copy_layout(&base, &temp.path().join("deb-base"));
    assert_same(&sbom(&copy, &options, Some(&cache)), &fresh, "cold");
    let [name] = entries(&cache).try_into().unwrap();
    let path = cache.dir().join(&name);
    let good = fs::read(&path).unwrap();

    // Each damage: the analysis reads the layer again and is unchanged, and
    // the entry is written anew.
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x01;
    type Damage<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let damages: Vec<Damage> = vec![
        ("truncated", Box::new(|| fs::write(&path, &good[..good.len() / 2]).unwrap())),
        ("not zstd", Box::new(|| fs::write(&path, b"garbage").unwrap())),
        ("a bit flipped", Box::new(|| fs::write(&path, &flipped).unwrap())),
        // Intact for the store, undecodable as a layer result.
        ("not a layer result", Box::new(|| cache.put(&name, b"\x05junk"))),
        ("empty", Box::new(|| cache.put(&name, b""))),
    ];
    for (what, damage) in &damages {
        damage();
        assert_same(&sbom(&copy, &options, Some(&cache)), &fresh, what);
        assert_eq!(fs::read(cache.dir().join(&name)).map(|b| b.len() > 100).ok(), Some(true), "{what}: rewritten");
    }

    // A damaged entry is not used: with the blob gone it cannot stand in.
    remove_layer_blobs(&copy);
    assert_same(&sbom(&copy, &options, Some(&cache)), &fresh, "the rewritten entry serves");
    fs::write(cache.dir().join(&name), b"garbage").unwrap();
    let error = analyse(&copy, &options, Some(&cache)).unwrap_err();
    assert!(error.contains("not found"), "{error}");
}

#[test]
fn other_per_layer_settings_do_not_reuse_entries() {
    let temp = tempfile::tempdir().unwrap();
    let cache = new_cache(temp.path());
    let base = lab_image("deb-base");
    let defaults = AnalyzeOptions::default();
    assert_same(&sbom(&base, &defaults, Some(&cache)), &sbom(&base, &defaults, None), "defaults");
    assert_eq!(entries(&cache).len(), 1);

    // A content-search rule changes the findings of the layer's files.
    let rule = SecretRule::new("OS_NAME", "^PRETTY_NAME=").unwrap();
    let searching = AnalyzeOptions {
        inspect: InspectOptions { content_search: Some(ContentScanner::new(vec![rule])), ..InspectOptions::default() },
        ..AnalyzeOptions::default()
    };
    let fresh = sbom(&base, &searching, None);
    assert!(!fresh["content_matches"].as_array().unwrap().is_empty(), "the rule finds os-release");
    assert_same(&sbom(&base, &searching, Some(&cache)), &fresh, "content search");
    assert_eq!(entries(&cache).len(), 2);

    // A retrieved file changes which contents the layer captures.
    let retrieving =
        AnalyzeOptions { retrieve_files: vec!["/etc/passwd".into(), "/etc/group".into()], ..AnalyzeOptions::default() };
    let fresh = sbom(&base, &retrieving, None);
    assert_eq!(fresh["retrieved_files"].as_array().unwrap().len(), 2);
    assert_same(&sbom(&base, &retrieving, Some(&cache)), &fresh, "retrieved files");
    assert_eq!(entries(&cache).len(), 3);

    // And the first settings still find their own entry.
    assert_same(&sbom(&base, &defaults, Some(&cache)), &sbom(&base, &defaults, None), "defaults again");
    assert_eq!(entries(&cache).len(), 3);
}

#[test]
fn an_unusable_cache_directory_only_costs_the_reuse() {
    let temp = tempfile::tempdir().unwrap();
    // A file where the cache directory should be: nothing can be stored.
    fs::write(temp.path().join("layer-results"), b"").unwrap();
    let cache = new_cache(temp.path());
    let base = lab_image("deb-base");
    let options = AnalyzeOptions::default();
    assert_same(&sbom(&base, &options, Some(&cache)), &sbom(&base, &options, None), "unusable directory");
}

#[test]
fn packages_found_inside_binaries_come_back_from_the_cache() {
    let temp = tempfile::tempdir().unwrap();
    let cache = new_cache(temp.path());
    let bins = lab_image("deb-bins");
    let options = AnalyzeOptions::default();
    let fresh = sbom(&bins, &options, None);
    let streamed = fresh["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| ["go-module-binary", "rust-cargo-auditable"].contains(&p["found_by"].as_str().unwrap_or("")))
        .count();
    assert!(streamed > 0, "deb-bins has Go and Rust binaries with build data");
    assert_same(&sbom(&bins, &options, Some(&cache)), &fresh, "deb-bins, cold");
    assert_same(&sbom(&bins, &options, Some(&cache)), &fresh, "deb-bins, warm");
}
