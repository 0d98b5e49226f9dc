//! Distro detection against the real release files in `shared/fixtures/os-release/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use portcullis_catalog::distro::{DISTRO_FILES, detect};
use portcullis_sbom::Distro;
use portcullis_testkit::data::{expected_json, fixture_dirs};
use serde_json::Value;

fn detect_in(dir: &Path) -> Option<Distro> {
    let locate = |path: &str| dir.join(path.trim_start_matches('/'));
    detect(&|path: &str| fs::read(locate(path)).ok(), &|path: &str| locate(path).is_file())
}

/// Release-file-only fixtures record the parsed name and version but no id;
/// these are the ids we derive (see `from_release_line` in distro.rs for why
/// they follow the vendors' later os-release IDs).
const RELEASE_ONLY_IDS: &[(&str, &str)] = &[
    ("almalinux-release-only", "almalinux"),
    ("centos-5-redhat-release-only", "centos"),
    ("centos-release-only", "centos"),
    ("oracle-7-release-only", "ol"),
    ("redhat-6-release-only", "rhel"),
    ("rhel-redhat-release-only", "rhel"),
    ("rocky-redhat-release-only", "rocky"),
    ("scientific-redhat-release-only", "scientific"),
];

/// Where detection deliberately goes beyond the file the identity was read
/// from: distroless Debian 10 has no VERSION_ID and `debian_version` holds
/// 10.8 (the fixture's note says the version must come from there).
const VERSION_SUPPLEMENTED: &[(&str, &str)] = &[("distroless-debian-10.8-no-version-id-plus-debian_version", "10.8")];

/// os-release without ID: nothing trustworthy names the distribution.
const UNIDENTIFIED: &[&str] = &["edge-no-id"];

fn opt_str(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

#[test]
fn every_os_release_fixture_gives_its_expected_identity() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in fixture_dirs("os-release") {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let expected = expected_json(&dir);
        let identity = &expected["identity"];
        let got = detect_in(&dir);
        checked += 1;

        if UNIDENTIFIED.contains(&name.as_str()) {
            assert!(identity["id"].is_null(), "{name}: listed as unidentified but the fixture names an id");
            if got.is_some() {
                failures.push(format!("{name}: expected no distro, got {got:?}"));
            }
            continue;
        }
        let Some(got) = got else {
            failures.push(format!("{name}: no distro detected"));
            continue;
        };

        let expected_id = match opt_str(&identity["id"]) {
            Some(id) => id,
            None => match RELEASE_ONLY_IDS.iter().find(|(fixture, _)| *fixture == name) {
                Some((_, id)) => (*id).to_owned(),
                None => panic!("{name}: identity has no id; decide the expected id and add it to RELEASE_ONLY_IDS"),
            },
        };
        let expected_version = VERSION_SUPPLEMENTED
            .iter()
            .find(|(fixture, _)| *fixture == name)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| opt_str(&identity["version_id"]));

        let mut check = |field: &str, want: Option<String>, have: Option<String>| {
            if want != have {
                failures.push(format!("{name}: {field}: expected {want:?}, got {have:?}"));
            }
        };
        check("id", Some(expected_id), Some(got.id.clone()));
        check("version_id", expected_version, got.version_id.clone());
        if let Some(source) = identity["source"].as_str() {
            check("source_file", Some(format!("/{source}")), Some(got.source_file.clone()));
        }
        let object = identity.as_object().cloned().unwrap_or_default();
        if object.contains_key("version_codename") {
            check("version_codename", opt_str(&identity["version_codename"]), got.version_codename.clone());
        }
        if object.contains_key("name") {
            check("name", opt_str(&identity["name"]), got.name.clone());
        }
        if object.contains_key("pretty_name") {
            check("pretty_name", opt_str(&identity["pretty_name"]), got.pretty_name.clone());
        }
        if object.contains_key("id_like") {
            let want =
                identity["id_like"].as_str().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
            check("id_like", Some(want), Some(got.id_like.join(" ")));
        }
        let keys: BTreeMap<String, String> = expected["parsed_key_values"]
            .as_object()
            .and_then(|files| files.values().next())
            .and_then(Value::as_object)
            .map(|kv| kv.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_default();
        if let Some(cpe) = keys.get("CPE_NAME") {
            check("cpe_name", Some(cpe.clone()), got.cpe_name.clone());
        }

        // Upstream tools' own expectations, where the fixture records one.
        let upstream = &expected["upstream_expectation"];
        let source = upstream["source"].as_str().unwrap_or_default();
        if source.starts_with("trivy") {
            check("trivy version", opt_str(&upstream["version"]), got.version_id.clone());
        } else if source.starts_with("claircore") {
            let did = upstream["want"].get(0).and_then(|w| opt_str(&w["did"]));
            check("claircore did", did, Some(got.id.clone()));
        }
    }
    assert!(failures.is_empty(), "{} of {checked} fixtures disagree:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn point_release_does_not_replace_version_id() {
    // os-release says 13, debian_version 13.5: the qualifier stays `debian-13`.
    let dir = fixture_dirs("os-release").into_iter().find(|d| d.ends_with("debian-13-point-release"));
    let dir = dir.unwrap_or_else(|| panic!("fixture os-release/debian-13-point-release is missing"));
    let distro = detect_in(&dir).unwrap_or_default();
    assert_eq!(distro.purl_qualifier(), "debian-13");
}

#[test]
fn distroless_status_d_fixture_is_debian_11() {
    let dir = fixture_dirs("dpkg-distroless").into_iter().find(|d| d.ends_with("static-debian11"));
    let dir = dir.unwrap_or_else(|| panic!("fixture dpkg-distroless/static-debian11 is missing"));
    let distro = detect_in(&dir).unwrap_or_default();
    assert_eq!(
        (distro.id.as_str(), distro.version_id.as_deref(), distro.source_file.as_str()),
        ("debian", Some("11"), "/usr/lib/os-release")
    );
}

#[test]
fn files_consulted_are_absolute_and_unique() {
    let mut seen = std::collections::BTreeSet::new();
    for path in DISTRO_FILES {
        assert!(path.starts_with('/'), "{path} is not absolute");
        assert!(seen.insert(*path), "{path} listed twice");
    }
    // Every file a fixture carries (but /etc/issue, which names no version
    // reliably) must be one detect() looks at, or the fixture tests nothing.
    for dir in fixture_dirs("os-release") {
        let expected = expected_json(&dir);
        for file in expected["files"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let absolute = format!("/{file}");
            assert!(
                file == "etc/issue" || DISTRO_FILES.contains(&absolute.as_str()),
                "{}: {absolute} is never read",
                dir.display()
            );
        }
    }
}
