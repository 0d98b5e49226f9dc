//! Findings split into the base image's and the image's own, on the real lab
//! images: deb-mixed is built FROM deb-base (its first layer is deb-base's
//! only layer) and adds Python packages and a few debs.

use std::collections::BTreeSet;
use std::path::Path;

use portcullis_testkit::data::lab_image;
use portcullis_testkit::layout::{Image, Layer, OciLayout};
use serde_json::{Value, json};

mod common;
use common::{portcullis, synced_db};

fn source(image: &str) -> String {
    format!("oci-dir:{}", lab_image(image).display())
}

/// Runs `portcullis` and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = portcullis(args, synced_db());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scan_json(args: &[&str]) -> Value {
    let mut all = vec!["scan", "-q", "-o", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(&all);
    assert_eq!(code, Some(0), "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// (id, package name, version, type) of the findings, optionally of one origin.
fn keys(scan: &Value, origin: Option<&str>) -> BTreeSet<(String, String, String, String)> {
    scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| origin.is_none_or(|origin| f["origin"] == origin))
        .map(|f| {
            let package = &f["package"];
            let text = |v: &Value| v.as_str().unwrap().to_owned();
            (text(&f["id"]), text(&package["name"]), text(&package["version"]), text(&package["type"]))
        })
        .collect()
}

#[test]
fn findings_of_a_known_base_image_are_told_from_the_images_own() {
    let base_source = source("deb-base");
    let split = scan_json(&[&source("deb-mixed"), "--base-image", &base_source]);
    assert_eq!(split["schema"]["version"], "1.1");
    assert_eq!(split["base_image"], json!({"layers": 1, "reference": base_source}));
    let findings = split["findings"].as_array().unwrap();
    for finding in findings {
        let expected = if finding["package"]["layer_index"].as_u64().unwrap() < 1 { "base" } else { "own" };
        assert_eq!(finding["origin"], expected, "{finding}");
    }
    // Independently: the base findings are exactly what a scan of deb-base
    // itself finds, and the own ones include the Python packages and the deb
    // (libncursesw6) that deb-mixed installed on top.
    let base_alone = scan_json(&[&base_source]);
    assert_eq!(keys(&split, Some("base")), keys(&base_alone, None));
    let own = keys(&split, Some("own"));
    assert!(own.iter().any(|(_, _, _, kind)| kind == "python"), "{own:?}");
    assert!(own.iter().any(|(_, name, _, kind)| kind == "deb" && name == "libncursesw6"), "{own:?}");
    let (base_count, own_count) = (keys(&split, Some("base")).len() as u64, own.len() as u64);
    assert_eq!(split["summary"]["by_origin"], json!({"base": base_count, "own": own_count}));
    assert_eq!(split["summary"]["findings"], base_count + own_count);

    // The table marks each finding and counts both.
    let (code, table, stderr) = run(&["scan", "-q", &source("deb-mixed"), "--base-image-layers", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    let header = table.lines().next().unwrap();
    assert!(header.ends_with("ORIGIN"), "{header}");
    assert!(table.lines().any(|l| l.starts_with("CVE-2023-50495") && l.contains("libncursesw6") && l.ends_with("own")));
    let summary = format!("({base_count} from the base image, {own_count} added by this image)");
    assert!(table.contains(&summary), "{summary} missing from\n{table}");

    // Without a base image nothing is said about origins.
    let unknown = scan_json(&[&source("deb-mixed")]);
    assert!(unknown["base_image"].is_null());
    assert!(unknown["summary"].get("by_origin").is_none());
    assert!(unknown["findings"].as_array().unwrap().iter().all(|f| f.get("origin").is_none()));
    assert_eq!(keys(&unknown, None), keys(&split, None), "knowing the base changes no finding");
    let (_, table, _) = run(&["scan", "-q", &source("deb-mixed")]);
    assert!(!table.contains("ORIGIN") && !table.contains("from the base image"), "{table}");
}

#[test]
fn policy_decisions_carry_the_origin_of_their_package() {
    let dir = tempfile::tempdir().unwrap();
    let rules = json!([{"id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
        "params": [{"name": "package_type", "value": "all"}, {"name": "severity_comparison", "value": ">="},
                   {"name": "severity", "value": "low"}]}]);
    let bundle = json!({"id": "b1", "name": "test", "version": "1_0",
        "policies": [{"id": "p1", "name": "p", "version": "1_0", "rules": rules}],
        "whitelists": [],
        "mappings": [{"id": "m1", "name": "all", "registry": "*", "repository": "*",
                      "image": {"type": "tag", "value": "*"}, "policy_ids": ["p1"], "whitelist_ids": []}],
        "whitelisted_images": [], "blacklisted_images": []});
    let policy = dir.path().join("bundle.json");
    std::fs::write(&policy, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let policy = policy.to_str().unwrap();
    let base_source = source("deb-base");
    let (code, stdout, stderr) =
        run(&["evaluate", "-q", &source("deb-mixed"), "--policy", policy, "--base-image", &base_source, "-o", "json"]);
    assert_eq!(code, Some(1), "{stderr}");
    let evaluation: Value = serde_json::from_str(&stdout).unwrap();
    let decisions = evaluation["decisions"].as_array().unwrap();
    let scan = scan_json(&[&source("deb-mixed"), "--base-image", &base_source]);
    // Each decision's trigger id is `<vulnerability>+<package>` (the name for
    // debs, `name-version` for Python): its origin is that finding's.
    for decision in decisions {
        let (id, package) = decision["trigger_id"].as_str().unwrap().split_once('+').unwrap();
        let origins: BTreeSet<&str> = scan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                let (name, version) = (f["package"]["name"].as_str().unwrap(), &f["package"]["version"]);
                f["id"] == id && (package == name || package == format!("{name}-{}", version.as_str().unwrap()))
            })
            .map(|f| f["origin"].as_str().unwrap())
            .collect();
        assert!(origins.contains(decision["origin"].as_str().unwrap()), "{decision} against {origins:?}");
    }
    assert!(decisions.iter().any(|d| d["origin"] == "base") && decisions.iter().any(|d| d["origin"] == "own"));

    // The readable table (evaluate's default output) has an ORIGIN column.
    let (_, table, _) = run(&["evaluate", "-q", &source("deb-mixed"), "--policy", policy, "--base-image-layers", "1"]);
    let header = table.lines().next().unwrap();
    assert!(header.contains("TRIGGER ID") && header.contains("ORIGIN"), "{header}");
    assert!(table.lines().any(|l| l.contains("CVE-2023-45853+zlib1g") && l.contains(" base ")), "{table}");
    assert!(table.lines().any(|l| l.contains("CVE-2018-18074+requests-2.19.1") && l.contains(" own ")), "{table}");
    // Without a base image, no origin.
    let (_, stdout, _) = run(&["evaluate", "-q", &source("deb-mixed"), "--policy", policy, "-o", "json"]);
    let evaluation: Value = serde_json::from_str(&stdout).unwrap();
    assert!(evaluation["decisions"].as_array().unwrap().iter().all(|d| d.get("origin").is_none()));
}

/// A small image whose first layer is `base`'s only layer, optionally labelled with its base.
fn derived_image(dir: &Path, name: &str, base_label: Option<&str>) -> String {
    let base_layer = || {
        Layer::gzip().file("base/node_modules/lodash/package.json", r#"{"name":"lodash","version":"4.17.4"}"#, 0o644)
    };
    if !dir.join("base").exists() {
        OciLayout::create(&dir.join("base")).add_image("latest", &Image::new().layer(base_layer()));
    }
    let own_layer =
        Layer::gzip().file("app/node_modules/moment/package.json", r#"{"name":"moment","version":"2.29.1"}"#, 0o644);
    let mut image = Image::new().layer(base_layer()).layer(own_layer);
    if let Some(label) = base_label {
        image = image.label("org.opencontainers.image.base.name", label);
    }
    OciLayout::create(&dir.join(name)).add_image("latest", &image);
    format!("oci-dir:{}", dir.join(name).display())
}

#[test]
fn the_base_image_label_splits_findings_and_an_unreadable_base_does_not_stop_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let base_source = format!("oci-dir:{}", dir.path().join("base").display());
    let labelled = derived_image(dir.path(), "labelled", Some(&base_source));
    let scan = scan_json(&[&labelled]);
    assert_eq!(scan["base_image"], json!({"layers": 1, "reference": base_source}));
    let origin_of = |scan: &Value, name: &str| -> BTreeSet<String> {
        scan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["package"]["name"] == name)
            .map(|f| f["origin"].as_str().unwrap_or("absent").to_owned())
            .collect()
    };
    assert_eq!(origin_of(&scan, "lodash"), BTreeSet::from(["base".to_owned()]));
    assert_eq!(origin_of(&scan, "moment"), BTreeSet::from(["own".to_owned()]));

    // A label naming an image that cannot be read: a warning, and no origins.
    let broken = derived_image(dir.path(), "broken", Some("oci-dir:/nonexistent/base"));
    let (code, stdout, stderr) = run(&["scan", "-q", &broken, "-o", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("warning") && stderr.contains("/nonexistent/base"), "{stderr}");
    let scan: Value = serde_json::from_str(&stdout).unwrap();
    assert!(scan["base_image"].is_null());
    assert_eq!(origin_of(&scan, "lodash"), BTreeSet::from(["absent".to_owned()]));
}

#[test]
fn an_unreadable_base_image_option_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let image = derived_image(dir.path(), "plain", None);
    let (code, stdout, stderr) = run(&["scan", "-q", &image, "--base-image", "oci-dir:/nonexistent/base"]);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stderr.contains("cannot open the base image oci-dir:/nonexistent/base"), "{stderr}");
    let (code, _, stderr) = run(&["scan", "-q", &image, "--base-image", "x", "--base-image-layers", "1"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
