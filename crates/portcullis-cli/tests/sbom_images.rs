//! `portcullis sbom` on images assembled from the genuine package databases
//! in `../shared/fixtures/` (distributions that cannot be built here), and
//! the options that need purpose-built images: platforms and scopes.

use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_testkit::data::{expected_json, fixtures_root, read_bytes};
use portcullis_testkit::layout::{Image, Layer, OciLayout};
use serde_json::Value;

fn expected(fixture: &str) -> Value {
    expected_json(&fixtures_root().join(fixture))
}

/// Adds every file of `dir` (but expected.json) to `layer` under `prefix`.
fn add_tree(mut layer: Layer, dir: &Path, prefix: &str) -> Layer {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "expected.json" {
            continue;
        }
        let image_path = format!("{prefix}{name}");
        if path.is_dir() {
            layer = add_tree(layer.dir(&image_path, 0o755), &path, &format!("{image_path}/"));
        } else {
            layer = layer.file(&image_path, std::fs::read(&path).unwrap(), 0o644);
        }
    }
    layer
}

fn sbom(layout: &Path, extra: &[&str]) -> Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    command.args(["sbom", &format!("oci-dir:{}", layout.display()), "-o", "json"]).args(extra);
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn names_versions(sbom: &Value) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p["version"].as_str().unwrap().to_owned()))
        .collect();
    list.sort();
    list
}

fn one_layer_image(dir: &Path, layer: Layer) -> PathBuf {
    let layout = dir.join("layout");
    OciLayout::create(&layout).add_image("latest", &Image::new().layer(layer));
    layout
}

#[test]
fn distroless_debian_image() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixtures_root().join("dpkg-distroless/static-debian11");
    let layout = one_layer_image(tmp.path(), add_tree(Layer::gzip(), &fixture, ""));
    let sbom = sbom(&layout, &[]);
    let want = expected("dpkg-distroless/static-debian11");
    assert_eq!(names_versions(&sbom), names_versions(&want));
    assert_eq!(sbom["distro"]["id"], "debian");
    assert_eq!(sbom["distro"]["version_id"], "11");
    for package in sbom["packages"].as_array().unwrap() {
        assert!(package["purl"].as_str().unwrap().contains("distro=debian-11"), "{package}");
        assert!(package["locations"][0]["path"].as_str().unwrap().starts_with("/var/lib/dpkg/status.d/"));
    }
}

#[test]
fn alpine_image() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = add_tree(Layer::gzip(), &fixtures_root().join("apk/alpine-3.14-minirootfs-plus-openrc-boost"), "");
    let layer = add_tree(layer, &fixtures_root().join("os-release/alpine-3.14.0-minirootfs"), "");
    let layout = one_layer_image(tmp.path(), layer);
    let sbom = sbom(&layout, &[]);
    let want = expected("apk/alpine-3.14-minirootfs-plus-openrc-boost");
    assert_eq!(sbom["packages"].as_array().unwrap().len() as u64, want["package_count"].as_u64().unwrap());
    assert_eq!(sbom["distro"]["id"], "alpine");
    assert_eq!(sbom["distro"]["version_id"], "3.14.0");
    let musl = sbom["packages"].as_array().unwrap().iter().find(|p| p["name"] == "musl").expect("musl");
    let want_musl = want["packages"].as_array().unwrap().iter().find(|p| p["name"] == "musl").unwrap();
    assert_eq!(musl["version"], want_musl["version"]);
    // musl is its own origin, so no upstream qualifier.
    assert_eq!(
        musl["purl"],
        format!(
            "pkg:apk/alpine/musl@{}?arch={}&distro=alpine-3.14.0",
            want_musl["version"].as_str().unwrap(),
            want_musl["arch"].as_str().unwrap()
        )
    );
    assert_eq!(musl["files"].as_array().unwrap().len() as u64, want_musl["file_count"].as_u64().unwrap());
}

#[test]
fn rpm_images_in_every_database_format() {
    // (fixture, db file, where it sits in the image, os-release fixture)
    let cases = [
        ("rpmdb/centos8-dive-bdb", "Packages", "var/lib/rpm/Packages", "os-release/centos-8"),
        ("rpmdb/sles-15.3-bci-ndb", "Packages.db", "usr/lib/sysimage/rpm/Packages.db", "os-release/sles-15.2"),
        ("rpmdb/fedora36-tzdata-sqlite", "rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite", "os-release/fedora-36"),
    ];
    for (fixture, db, image_path, os_release) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let data = read_bytes(&fixtures_root().join(fixture).join(db));
        let layer = add_tree(Layer::zstd(), &fixtures_root().join(os_release), "").file(image_path, data, 0o644);
        let layout = one_layer_image(tmp.path(), layer);
        let sbom = sbom(&layout, &[]);
        let want = expected(fixture);
        let mut expected: Vec<(String, String)> = want["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] != "gpg-pubkey")
            .map(|p| {
                let epoch = p["epoch"].as_u64().map(|e| format!("{e}:")).unwrap_or_default();
                (
                    p["name"].as_str().unwrap().to_owned(),
                    format!("{epoch}{}-{}", p["version"].as_str().unwrap(), p["release"].as_str().unwrap()),
                )
            })
            .collect();
        expected.sort();
        assert_eq!(names_versions(&sbom), expected, "{fixture}");
        for package in sbom["packages"].as_array().unwrap() {
            assert_eq!(package["type"], "rpm");
            assert_eq!(package["locations"][0]["path"], format!("/{image_path}"), "{fixture}");
            assert!(
                package["purl"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("pkg:rpm/{}/", sbom["distro"]["id"].as_str().unwrap()))
            );
        }
    }
}

fn dpkg_status(packages: &[(&str, &str)]) -> String {
    packages
        .iter()
        .map(|(name, version)| {
            format!("Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\nMaintainer: T <t@example.org>\nDescription: test\n")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn scope_all_layers_keeps_removed_packages_and_attributes_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let os_release = "ID=debian\nVERSION_ID=\"12\"\n";
    let base = Layer::gzip().file("etc/os-release", os_release, 0o644).file(
        "var/lib/dpkg/status",
        dpkg_status(&[("keep", "1.0"), ("removed", "2.0"), ("upgraded", "1.0")]),
        0o644,
    );
    let middle = Layer::gzip().file(
        "var/lib/dpkg/status",
        dpkg_status(&[("keep", "1.0"), ("upgraded", "1.1"), ("added", "3.0")]),
        0o644,
    );
    let top = Layer::gzip().file("etc/motd", "hello", 0o644);
    let layout = tmp.path().join("layout");
    OciLayout::create(&layout).add_image("latest", &Image::new().layer(base).layer(middle).layer(top));

    let squashed = sbom(&layout, &[]);
    let layers = |sbom: &Value| -> Vec<String> {
        let mut v: Vec<String> = sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{}@{}:{}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap(),
                    p["introduced_in_layer"]
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(layers(&squashed), vec!["added@3.0:1", "keep@1.0:0", "upgraded@1.1:1"]);
    assert_eq!(squashed["source"]["scope"], "squashed");

    let all = sbom(&layout, &["--scope", "all-layers"]);
    assert_eq!(all["source"]["scope"], "all-layers");
    assert_eq!(layers(&all), vec!["added@3.0:1", "keep@1.0:0", "removed@2.0:0", "upgraded@1.0:0", "upgraded@1.1:1"]);
}

#[test]
fn platforms_of_a_multi_platform_image() {
    let tmp = tempfile::tempdir().unwrap();
    let image = |arch: &str, variant: Option<&str>, version: &str| {
        Image::new().platform("linux", arch, variant).layer(
            Layer::gzip().file("etc/os-release", "ID=debian\nVERSION_ID=12\n", 0o644).file(
                "var/lib/dpkg/status",
                dpkg_status(&[("arch-probe", version)]),
                0o644,
            ),
        )
    };
    let layout = tmp.path().join("layout");
    OciLayout::create(&layout).add_index(
        "latest",
        &[image("amd64", None, "1-amd64"), image("arm64", Some("v8"), "1-arm64"), image("arm", Some("v7"), "1-armv7")],
    );
    let version = |sbom: &Value| sbom["packages"][0]["version"].as_str().unwrap().to_owned();
    assert_eq!(version(&sbom(&layout, &[])), "1-amd64", "linux/amd64 is the default");
    assert_eq!(version(&sbom(&layout, &["--platform", "linux/arm64"])), "1-arm64");
    assert_eq!(version(&sbom(&layout, &["--platform", "linux/arm/v7"])), "1-armv7");
    let all = sbom(&layout, &["--all-platforms"]);
    let platforms: Vec<&str> = all
        .as_array()
        .expect("an array with --all-platforms")
        .iter()
        .map(|s| s["source"]["image"]["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, vec!["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]);
    for document in all.as_array().unwrap() {
        assert!(document["source"]["image"]["index_digest"].as_str().is_some_and(|d| d.starts_with("sha256:")));
    }

    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["sbom", &format!("oci-dir:{}", layout.display()), "--platform", "linux/s390x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no image for platform linux/s390x") && stderr.contains("linux/arm64/v8"), "{stderr}");
}

#[test]
fn progress_is_shown_on_a_terminal_only() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = Layer::gzip().file("etc/os-release", "ID=debian\nVERSION_ID=12\n", 0o644).file(
        "big",
        vec![7u8; 4 << 20],
        0o644,
    );
    let layout = one_layer_image(tmp.path(), layer);
    let binary = env!("CARGO_BIN_EXE_portcullis");
    let command = format!("{binary} sbom oci-dir:{} -o json=/dev/null 2>&1 >/dev/null", layout.display());
    // `script` gives the command a pseudo-terminal, as an interactive shell would.
    let on_tty =
        Command::new("script").args(["-qec", &command, "/dev/null"]).output().expect("script (util-linux) runs");
    assert!(on_tty.status.success());
    let shown = String::from_utf8_lossy(&on_tty.stdout);
    assert!(shown.contains("layer 0"), "no progress on a terminal: {shown:?}");
    let quiet = Command::new("script")
        .args(["-qec", &format!("{binary} -q {}", &command[binary.len() + 1..]), "/dev/null"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stdout).contains("layer 0"), "--quiet still showed progress");
}
