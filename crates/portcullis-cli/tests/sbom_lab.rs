//! `portcullis sbom` end to end on the lab's real Debian images, in every
//! on-disk format, against dpkg's own view of the same root filesystem.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use portcullis_testkit::data::lab_root;
use serde_json::Value;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn portcullis(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis")).args(args).output().expect("portcullis runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn sbom_json(source: &str, extra: &[&str]) -> Value {
    let mut args = vec!["sbom", source, "-o", "json"];
    args.extend_from_slice(extra);
    let out = portcullis(&args);
    assert_eq!(out.code, 0, "portcullis sbom {source} failed: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("valid JSON")
}

/// (id, purl, introduced layer, licences, number of owned files) of every package.
fn package_facts(sbom: &Value) -> BTreeSet<String> {
    sbom["packages"]
        .as_array()
        .expect("packages array")
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {} {}",
                p["id"],
                p["purl"],
                p["introduced_in_layer"],
                p["licenses"],
                p["files"].as_array().map_or(0, Vec::len)
            )
        })
        .collect()
}

fn ids(sbom: &Value) -> BTreeSet<String> {
    sbom["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["purl"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn every_local_format_gives_the_same_sbom() {
    let lab = lab_root();
    for image in ["deb-base", "deb-python", "deb-mixed"] {
        let oci = sbom_json(&format!("oci-dir:{}", lab.join("oci").join(image).display()), &[]);
        let archive =
            sbom_json(&format!("oci-archive:{}", lab.join("oci-archive").join(format!("{image}.tar")).display()), &[]);
        let docker = sbom_json(
            &format!("docker-archive:{}", lab.join("docker-archive").join(format!("{image}.tar")).display()),
            &[],
        );
        let dir = sbom_json(&format!("dir:{}", lab.join("rootfs").join(image).join("rootfs").display()), &[]);
        assert!(oci["packages"].as_array().is_some_and(|p| p.len() > 80), "{image}: too few packages");
        assert_eq!(package_facts(&oci), package_facts(&archive), "{image}: oci-dir vs oci-archive");
        assert_eq!(package_facts(&oci), package_facts(&docker), "{image}: oci-dir vs docker-archive");
        // A directory has no layers, so only identities can be compared.
        assert_eq!(ids(&oci), ids(&dir), "{image}: oci-dir vs dir");
        for other in [&archive, &docker] {
            assert_eq!(
                oci["source"]["image"]["config_digest"], other["source"]["image"]["config_digest"],
                "{image}: image id"
            );
            let diff_ids =
                |s: &Value| s["layers"].as_array().unwrap().iter().map(|l| l["diff_id"].clone()).collect::<Vec<_>>();
            assert_eq!(diff_ids(&oci), diff_ids(other), "{image}: layer diff ids");
            assert_eq!(oci["distro"], other["distro"], "{image}: distro");
        }
        assert_eq!(oci["distro"]["id"], "debian");
        assert_eq!(oci["distro"]["version_id"], "12");
    }
}

#[test]
fn deb_packages_equal_dpkg_query_on_the_same_rootfs() {
    let lab = lab_root();
    for image in ["deb-base", "deb-python"] {
        let rootfs = lab.join("rootfs").join(image).join("rootfs");
        let out = Command::new("dpkg-query")
            .arg(format!("--admindir={}", rootfs.join("var/lib/dpkg").display()))
            .args(["-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n"])
            .output()
            .expect("dpkg-query runs");
        assert!(out.status.success(), "dpkg-query failed");
        let expected: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("ii"))
            .map(|l| l.split_once('\t').map(|(_, rest)| rest).unwrap_or_default().to_owned())
            .collect();
        let sbom = sbom_json(&format!("oci-dir:{}", lab.join("oci").join(image).display()), &[]);
        let found: BTreeSet<String> = sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] == "deb")
            .map(|p| {
                format!(
                    "{}\t{}\t{}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap(),
                    p["arch"].as_str().unwrap()
                )
            })
            .collect();
        assert!(expected.len() > 80, "{image}: dpkg-query listed only {}", expected.len());
        assert_eq!(found, expected, "{image}: SBOM vs dpkg-query");
    }
}

#[test]
fn packages_are_attributed_to_the_layer_that_installed_them() {
    let lab = lab_root();
    let sbom = sbom_json(&format!("oci-dir:{}", lab.join("oci/deb-python").display()), &[]);
    let package = |name: &str| {
        sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .clone()
    };
    // deb-python: layer 0 is debootstrap, layer 1 `apt-get install python3 ca-certificates`.
    assert_eq!(package("bash")["introduced_in_layer"], 0);
    assert_eq!(package("python3")["introduced_in_layer"], 1);
    assert_eq!(package("ca-certificates")["introduced_in_layer"], 1);
    let bash = package("bash");
    let locations = bash["locations"].as_array().unwrap();
    // The database copy read is the final one (rewritten by apt in layer 1); the file list is from layer 0.
    assert_eq!(locations[0]["path"], "/var/lib/dpkg/status");
    assert_eq!(locations[0]["layer_index"], 1);
    assert!(
        locations.iter().any(|l| l["path"] == "/var/lib/dpkg/info/bash.list" && l["layer_index"] == 0),
        "{locations:?}"
    );
    assert!(
        bash["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "/bin/bash" && f["digest"].as_str().is_some_and(|d| d.starts_with("md5:")))
    );
    // Checked by hand against syft 1.18.1 on the same image: a binNMU (+bN) makes the
    // source version differ, so the upstream qualifier carries it.
    let version = bash["version"].as_str().unwrap();
    let source_version = version.split("+b").next().unwrap();
    assert_eq!(
        bash["purl"],
        format!(
            "pkg:deb/debian/bash@{}?arch=amd64&distro=debian-12&upstream=bash%40{source_version}",
            version.replace('+', "%2B")
        )
    );
    // bash's copyright file is machine-readable; these License: fields are in it.
    let licenses: Vec<&str> = bash["licenses"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(licenses.contains(&"GPL-3+") && licenses.contains(&"Latex2e"), "{licenses:?}");
    let history = sbom["source"]["image"]["history"].as_array().unwrap();
    assert_eq!(
        history.iter().filter(|h| h["layer_index"].is_number()).count(),
        sbom["layers"].as_array().unwrap().len()
    );
    assert_eq!(sbom["source"]["image"]["config"]["user"], "app");
    assert!(sbom["source"]["image"]["config"]["exposed_ports"].as_array().unwrap().contains(&Value::from("8000/tcp")));
}

#[test]
fn table_output_lists_every_package() {
    let lab = lab_root();
    let source = format!("oci-dir:{}", lab.join("oci/deb-base").display());
    let out = portcullis(&["sbom", &source]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = sbom_json(&source, &[]);
    let count = json["packages"].as_array().unwrap().len();
    assert!(out.stdout.starts_with("NAME"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), count + 2, "header + one line per package + summary");
    assert!(
        out.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with(&format!("{count} packages, 1 layers, distro: Debian GNU/Linux 12"))
    );
    assert!(out.stderr.is_empty(), "no progress output in a pipe: {}", out.stderr);
}

#[test]
fn several_outputs_at_once() {
    let lab = lab_root();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sbom.json");
    let source = format!("oci-dir:{}", lab.join("oci/deb-base").display());
    let out = portcullis(&["sbom", &source, "-o", &format!("json={}", file.display()), "-o", "table"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("NAME"));
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["schema"]["version"], "1.1");
}

#[test]
fn user_errors_exit_2_with_a_clear_message() {
    let lab = lab_root();
    let source = format!("oci-dir:{}", lab.join("oci/deb-base").display());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["sbom".into(), "oci-dir:/no/such/layout".into()], "/no/such/layout: not found"),
        (vec!["sbom".into(), "./no/such/thing".into()], "cannot tell what kind of image source"),
        (
            vec!["sbom".into(), source.clone(), "-o".into(), "xml".into()],
            "unknown SBOM format `xml` (known formats: table, json, cyclonedx-json",
        ),
        (
            vec!["sbom".into(), source.clone(), "-o".into(), "json".into(), "-o".into(), "table".into()],
            "only one output can go to stdout",
        ),
        (vec!["sbom".into(), source.clone(), "--platform".into(), "linux".into()], "invalid platform \"linux\""),
        (vec!["sbom".into(), format!("{source}:nope")], "no image tagged \"nope\""),
    ];
    for (args, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = portcullis(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: expected {message:?} in {:?}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout on error");
    }
}

#[test]
fn catalogers_command_lists_the_files_read_and_the_docs_agree() {
    let out = portcullis(&["catalogers"]);
    assert_eq!(out.code, 0);
    let docs =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/catalogers.md")).unwrap();
    let mut count = 0;
    for line in out.stdout.lines().filter(|l| l.starts_with("  ")) {
        let pattern = line.trim();
        count += 1;
        assert!(docs.contains(&format!("`{pattern}`")), "docs/catalogers.md does not list {pattern}");
    }
    assert!(count > 10, "{}", out.stdout);
    assert!(out.stdout.contains("/var/lib/dpkg/status") && out.stdout.contains("/lib/apk/db/installed"));
}

#[test]
fn registry_pulls_give_the_same_sbom_as_the_layout() {
    use portcullis_testkit::{PushOptions, RegistryAuth, TestRegistry, push_oci_layout};
    let lab = lab_root();
    let layout = lab.join("oci/deb-python");
    let local = sbom_json(&format!("oci-dir:{}", layout.display()), &[]);
    let plain = TestRegistry::start(RegistryAuth::None);
    let oci = push_oci_layout(&layout, "latest", &plain, "lab/deb-python:oci", PushOptions::oci());
    let v2s2 = push_oci_layout(&layout, "latest", &plain, "lab/deb-python:v2s2", PushOptions::v2s2());
    let insecure = plain.host();
    for reference in [&oci, &v2s2] {
        let pulled = sbom_json(&format!("registry:{reference}"), &["--insecure-registry", &insecure]);
        assert_eq!(package_facts(&local), package_facts(&pulled), "{reference}");
        assert_eq!(local["source"]["image"]["config"], pulled["source"]["image"]["config"], "{reference}");
        assert_eq!(pulled["source"]["scheme"], "registry");
        assert!(pulled["source"]["image"]["manifest_digest"].as_str().is_some_and(|d| d.starts_with("sha256:")));
    }

    // Basic auth: credentials from flags work, none is a clear failure.
    let locked = TestRegistry::start(RegistryAuth::basic("lab", "labpass"));
    let reference = push_oci_layout(&layout, "latest", &locked, "lab/deb-python:latest", PushOptions::oci());
    let source = format!("registry:{reference}");
    let insecure = locked.host();
    let with_creds =
        sbom_json(&source, &["--insecure-registry", &insecure, "--username", "lab", "--password", "labpass"]);
    assert_eq!(ids(&local), ids(&with_creds));
    let out = portcullis(&["sbom", &source, "--insecure-registry", &insecure]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("authentication failed"), "{}", out.stderr);
    let out =
        portcullis(&["sbom", &source, "--insecure-registry", &insecure, "--username", "lab", "--password", "wrong"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("authentication failed") && !out.stderr.contains("wrong"), "{}", out.stderr);
}

#[test]
fn unreachable_registry_is_a_clear_error() {
    // Bind and drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = portcullis(&[
        "sbom",
        &format!("registry:127.0.0.1:{port}/x/y:1"),
        "--insecure-registry",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unreachable") && out.stderr.contains("connection refused"), "{}", out.stderr);
}

#[test]
fn standard_formats_validate_and_convert_back() {
    let lab = lab_root();
    let dir = tempfile::tempdir().unwrap();
    let source = format!("oci-dir:{}", lab.join("oci/deb-python").display());
    let formats = ["cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value"];
    let mut args = vec!["sbom".to_owned(), source.clone(), "-o".to_owned(), "json".to_owned()];
    for format in formats {
        args.push("-o".into());
        args.push(format!("{format}={}", dir.path().join(format).display()));
    }
    let out = portcullis(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let native: Value = serde_json::from_str(&out.stdout).unwrap();
    let documents: Vec<(&str, String, String)> = formats
        .iter()
        .map(|f| (*f, format!("deb-python as {f}"), std::fs::read_to_string(dir.path().join(f)).unwrap()))
        .collect();
    portcullis_testkit::schema::validate(&documents);

    for format in formats {
        let file = dir.path().join(format);
        // Both ways in: `convert`, and `sbom:` as a source.
        let converted = portcullis(&["convert", file.to_str().unwrap(), "-o", "json"]);
        assert_eq!(converted.code, 0, "{format}: {}", converted.stderr);
        let converted: Value = serde_json::from_str(&converted.stdout).unwrap();
        assert_eq!(ids(&native), ids(&converted), "{format}: package set after conversion");
        let reread = sbom_json(&format!("sbom:{}", file.display()), &[]);
        assert_eq!(ids(&native), ids(&reread), "{format}: package set read as a source");
    }
    let out = portcullis(&["convert", "/no/such/sbom.json"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("reading /no/such/sbom.json"), "{}", out.stderr);
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, "hello").unwrap();
    let out = portcullis(&["sbom", &format!("sbom:{}", garbage.display())]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("cannot read the SBOM"), "{}", out.stderr);
}
