//! `portcullis scan` on the real lab images (Debian bookworm built from this
//! machine's archive, npm packages from the npm registry).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use portcullis_testkit::data::{feed, lab_image};
use serde_json::Value;

mod common;
use common::{portcullis, synced_db};

fn scan(image: &str) -> Value {
    let source = format!("oci-dir:{}", lab_image(image).display());
    let out = portcullis(&["scan", &source, "-o", "json", "-q"], synced_db());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sbom(image: &str) -> Value {
    let source = format!("oci-dir:{}", lab_image(image).display());
    let out = portcullis(&["sbom", &source, "-o", "json", "-q"], synced_db());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `dpkg --compare-versions a lt b`, the real thing.
fn dpkg_less(a: &str, b: &str) -> bool {
    Command::new("dpkg").args(["--compare-versions", a, "lt", b]).status().unwrap().success()
}

/// What the tracker says for bookworm about `source`, read straight from the
/// annotation file: the bookworm line, else the sid line.
fn bookworm_line<'a>(record: &'a Value, source: &str) -> Option<&'a Value> {
    let lines: Vec<&Value> =
        record["Annotations"].as_array()?.iter().filter(|a| a["Type"] == "package" && a["Package"] == source).collect();
    lines.iter().find(|a| a["Release"] == "bookworm").or_else(|| lines.iter().find(|a| a["Release"].is_null())).copied()
}

/// (expected state, fix) when the line makes `version` vulnerable, else None.
fn tracker_verdict(line: &Value, version: &str) -> Option<(&'static str, Option<String>)> {
    match line["Kind"].as_str()? {
        "fixed" => {
            let fixed = line["Version"].as_str()?;
            dpkg_less(version, fixed).then(|| ("fixed", Some(fixed.to_owned())))
        }
        "unfixed" | "end-of-life" => Some(("not-fixed", None)),
        "no-dsa" | "ignored" | "postponed" => Some(("wont-fix", None)),
        _ => None,
    }
}

#[test]
fn every_bookworm_finding_is_justified_by_the_tracker_and_none_is_missing() {
    let json = scan("deb-base");
    let sbom = sbom("deb-base");
    assert_eq!(sbom["distro"]["version_id"], "12");
    // Installed source packages and their versions, from the image's dpkg database.
    let mut installed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in sbom["packages"].as_array().unwrap().iter().filter(|p| p["type"] == "deb") {
        let name = package["source"]["name"].as_str().or(package["name"].as_str()).unwrap().to_owned();
        let version = package["source"]["version"].as_str().or(package["version"].as_str()).unwrap().to_owned();
        installed.entry(name).or_default().insert(version);
    }

    let tracker_dir = feed("debian-tracker/vuln-list-debian-subset/tracker/CVE");
    let mut records: BTreeMap<String, Value> = BTreeMap::new();
    for year in std::fs::read_dir(&tracker_dir).unwrap() {
        for file in std::fs::read_dir(year.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            records.insert(path.file_stem().unwrap().to_string_lossy().into_owned(), record);
        }
    }

    // Every finding on a deb is backed by its CVE's bookworm (or sid) line.
    let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
    for finding in json["findings"].as_array().unwrap().iter().filter(|f| f["package"]["type"] == "deb") {
        let id = finding["id"].as_str().unwrap();
        let evidence = &finding["evidence"][0];
        assert_eq!(evidence["namespace"], "debian:12", "{finding}");
        let source = evidence["package"].as_str().unwrap();
        let version = evidence["version"].as_str().unwrap();
        let record = records.get(id).unwrap_or_else(|| panic!("{id} has no tracker record: {finding}"));
        let line = bookworm_line(record, source).unwrap_or_else(|| panic!("{id}: no line for {source}"));
        let (state, fix) = tracker_verdict(line, version)
            .unwrap_or_else(|| panic!("{id} {source} {version}: the tracker line {line} says not vulnerable"));
        assert_eq!(finding["state"], state, "{id} {source}");
        let fixed_in: Vec<String> = finding["fixed_in"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        assert_eq!(fixed_in, fix.into_iter().collect::<Vec<_>>(), "{id} {source}");
        reported.insert((id.to_owned(), source.to_owned()));
    }

    // And every vulnerable (CVE, installed source package) pair is reported.
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    for (id, record) in &records {
        for (source, versions) in &installed {
            let Some(line) = bookworm_line(record, source) else { continue };
            if versions.iter().any(|version| tracker_verdict(line, version).is_some()) {
                expected.insert((id.clone(), source.clone()));
            }
        }
    }
    assert_eq!(reported, expected);
    // The subset holds unfixed bookworm issues in packages every Debian image has.
    assert!(expected.iter().any(|(id, source)| id == "CVE-2011-3374" && source == "apt"), "{expected:?}");
    assert!(expected.iter().any(|(id, source)| id == "CVE-2023-4911" && source == "glibc"), "{expected:?}");
}

#[test]
fn npm_application_packages_of_the_node_image() {
    let json = scan("deb-node");
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for finding in json["findings"].as_array().unwrap().iter().filter(|f| f["package"]["type"] == "npm") {
        found
            .entry(format!(
                "{}@{}",
                finding["package"]["name"].as_str().unwrap(),
                finding["package"]["version"].as_str().unwrap()
            ))
            .or_default()
            .insert(finding["id"].as_str().unwrap().to_owned());
    }
    // Derived with npm's semver over the Node.js WG records and an OSV range
    // evaluation over the GHSA records, for all 54 npm packages under /app;
    // the node-* packages Debian installed are left to their debs.
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let expected = BTreeMap::from([
        (
            "lodash@4.17.4".to_owned(),
            set(&["CVE-2018-3721", "CVE-2018-16487", "CVE-2019-10744", "CVE-2020-8203", "CVE-2021-23337"]),
        ),
        ("minimist@1.2.0".to_owned(), set(&["CVE-2020-7598", "CVE-2021-44906"])),
        ("express@4.16.0".to_owned(), set(&["CVE-2024-29041"])),
    ]);
    assert_eq!(found, expected);
    let owned_by_debs = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["type"] == "npm")
        .filter(|f| f["package"]["locations"][0].as_str().unwrap_or("").starts_with("/usr/share/nodejs"))
        .count();
    assert_eq!(owned_by_debs, 0);
}
