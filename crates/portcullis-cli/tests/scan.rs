//! `portcullis feeds` and `portcullis scan` end to end, on the real feed
//! snapshot (`../shared/feeds`) and images built with packages whose
//! advisories it holds.
//!
//! The expected findings below were derived independently of this code: for
//! PyPI/npm/Maven/crates.io with a small OSV range evaluator over the raw
//! records (Python `packaging` for PEP 440), the legacy npm advisories with
//! npm's own `semver` package, the Debian cases from the tracker annotations
//! with `dpkg --compare-versions`, and the Alpine ones by reading the secdb
//! by hand. They are the complete sets for those packages: the tests check
//! nothing else is reported for them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use portcullis_testkit::layout::{Image, Layer, OciLayout};
use serde_json::Value;

mod common;
use common::{portcullis, synced_db};

fn dpkg_status(packages: &[(&str, &str, Option<&str>)]) -> String {
    packages
        .iter()
        .map(|(name, version, source)| {
            let source = source.map(|s| format!("Source: {s}\n")).unwrap_or_default();
            format!(
                "Package: {name}\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: 100\n\
                 Maintainer: Debian <debian@example.org>\nArchitecture: amd64\n{source}Version: {version}\n\
                 Description: {name}\n\n"
            )
        })
        .collect()
}

fn jar(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut buffer);
    let options = zip::write::SimpleFileOptions::default();
    writer.start_file("META-INF/MANIFEST.MF", options).unwrap();
    writer.write_all(b"Manifest-Version: 1.0\r\n\r\n").unwrap();
    writer.start_file(format!("META-INF/maven/{group}/{artifact}/pom.properties"), options).unwrap();
    writer.write_all(format!("groupId={group}\nartifactId={artifact}\nversion={version}\n").as_bytes()).unwrap();
    writer.finish().unwrap();
    buffer.into_inner()
}

/// Debian 12.0 (the bookworm release versions) plus application packages of
/// every ecosystem with known advisories.
fn debian_image(dir: &Path) -> PathBuf {
    let os_release = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n\
                      VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";
    let status = dpkg_status(&[
        ("login", "1:4.13+dfsg1-1", Some("shadow")),
        ("passwd", "1:4.13+dfsg1-1", Some("shadow")),
        ("tar", "1.34+dfsg-1.2", None),
        ("perl-base", "5.36.0-7", Some("perl")),
        ("libssl3", "3.0.9-1", Some("openssl")),
        ("libexpat1", "2.5.0-1", Some("expat")),
        ("libncursesw6", "6.4-4", Some("ncurses")),
        ("libpam0g", "1.5.2-6", Some("pam")),
        ("libgcc-s1", "12.2.0-14", Some("gcc-12")),
        ("coreutils", "9.1-1", None),
        ("apt", "2.6.1", None),
        ("util-linux", "2.38.1-5", None),
        ("zlib1g", "1:1.2.13.dfsg-1", Some("zlib")),
        ("libc6", "2.36-9", Some("glibc")),
        ("base-files", "12.4", None),
    ]);
    let base = Layer::gzip().file("etc/os-release", os_release, 0o644).file("var/lib/dpkg/status", status, 0o644);
    let site = "usr/local/lib/python3.11/site-packages";
    let mut app = Layer::gzip();
    for (name, version) in
        [("requests", "2.19.1"), ("urllib3", "1.24.1"), ("Django", "2.2"), ("PyYAML", "5.3"), ("Jinja2", "2.10")]
    {
        app = app.file(
            &format!("{site}/{name}-{version}.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
            0o644,
        );
    }
    for (name, version) in [
        ("lodash", "4.17.4"),
        ("minimist", "1.2.0"),
        ("jquery", "3.4.1"),
        ("axios", "0.21.0"),
        ("express", "4.18.2"),
        ("handlebars", "4.7.6"),
        ("node-fetch", "2.6.1"),
        ("moment", "2.29.1"),
    ] {
        app = app.file(
            &format!("srv/web/node_modules/{name}/package.json"),
            format!("{{\"name\":\"{name}\",\"version\":\"{version}\"}}"),
            0o644,
        );
    }
    for (group, artifact, version) in [
        ("org.apache.logging.log4j", "log4j-core", "2.14.1"),
        ("org.apache.commons", "commons-text", "1.9"),
        ("org.yaml", "snakeyaml", "1.33"),
        ("com.fasterxml.jackson.core", "jackson-databind", "2.13.2"),
        ("com.google.guava", "guava", "31.1-jre"),
    ] {
        app = app.file(&format!("opt/app/lib/{artifact}-{version}.jar"), jar(group, artifact, version), 0o644);
    }
    let lock = ["time 0.1.43", "smallvec 1.6.0", "regex 1.5.4"]
        .iter()
        .map(|entry| {
            let (name, version) = entry.split_once(' ').unwrap();
            format!(
                "[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n"
            )
        })
        .collect::<String>();
    app = app.file("opt/tool/Cargo.lock", format!("version = 3\n\n{lock}"), 0o644);
    app = app.file(
        "usr/lib/ruby/gems/3.1.0/specifications/nokogiri-1.10.3.gemspec",
        "Gem::Specification.new do |s|\n  s.name = \"nokogiri\".freeze\n  s.version = \"1.10.3\"\nend\n",
        0o644,
    );
    let layout = dir.join("debian");
    OciLayout::create(&layout).add_image("latest", &Image::new().layer(base).layer(app));
    layout
}

fn alpine_image(dir: &Path) -> PathBuf {
    let os_release = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.2\nPRETTY_NAME=\"Alpine Linux v3.10\"\n";
    let installed = [
        ("musl", "1.1.22-r2", "musl"),
        ("busybox", "1.30.1-r1", "busybox"),
        ("libcrypto1.1", "1.1.1c-r0", "openssl"),
        ("libssl1.1", "1.1.1c-r0", "openssl"),
        ("zlib", "1.2.11-r1", "zlib"),
    ]
    .iter()
    .map(|(name, version, origin)| {
        format!("P:{name}\nV:{version}\nA:x86_64\nS:1000\nI:2000\nT:{name}\nU:https://alpinelinux.org\nL:MIT\no:{origin}\n\n")
    })
    .collect::<String>();
    let layer = Layer::gzip().file("etc/os-release", os_release, 0o644).file("lib/apk/db/installed", installed, 0o644);
    let layout = dir.join("alpine");
    OciLayout::create(&layout).add_image("latest", &Image::new().layer(layer));
    layout
}

fn scan_json(layout: &Path, extra: &[&str]) -> (Value, Output) {
    let source = format!("oci-dir:{}", layout.display());
    let mut args = vec!["scan", source.as_str(), "-o", "json"];
    args.extend_from_slice(extra);
    let out = portcullis(&args, synced_db());
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (json, out)
}

/// (package name, finding id) -> (state, fixed_in)
fn findings(json: &Value) -> BTreeMap<(String, String), (String, Vec<String>)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let fixed = f["fixed_in"].as_array().map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect());
            (
                (f["package"]["name"].as_str().unwrap().to_owned(), f["id"].as_str().unwrap().to_owned()),
                (f["state"].as_str().unwrap().to_owned(), fixed.unwrap_or_default()),
            )
        })
        .collect()
}

fn ids_for(found: &BTreeMap<(String, String), (String, Vec<String>)>, package: &str) -> BTreeSet<String> {
    found.keys().filter(|(name, _)| name == package).map(|(_, id)| id.clone()).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

const NOKOGIRI_1_10_3: &[&str] = &[
    "CVE-2018-25032",
    "CVE-2019-13117",
    "CVE-2019-13118",
    "CVE-2019-18197",
    "CVE-2019-5477",
    "CVE-2019-5815",
    "CVE-2020-26247",
    "CVE-2020-7595",
    "CVE-2021-30560",
    "CVE-2021-3517",
    "CVE-2021-3518",
    "CVE-2021-3537",
    "CVE-2021-41098",
    "CVE-2022-23437",
    "CVE-2022-24836",
    "CVE-2022-24839",
    "CVE-2022-29181",
    "GHSA-2qc6-mcvw-92cw",
    "GHSA-353f-x4gh-cqq8",
    "GHSA-5prr-v3j2-97mh",
    "GHSA-5v8h-3h3q-446p",
    "GHSA-5w6v-399v-w3cc",
    "GHSA-7rrm-v45f-jp64",
    "GHSA-8678-w3jw-xfc2",
    "GHSA-9cv2-cfxc-v4v2",
    "GHSA-c4rq-3m3g-8wgx",
    "GHSA-cgx6-hpwq-fhv5",
    "GHSA-g9g8-vgvw-g3vf",
    "GHSA-mrxw-mxhj-p664",
    "GHSA-p67v-3w7g-wjg7",
    "GHSA-phwj-rprq-35pp",
    "GHSA-pxvg-2qj5-37jq",
    "GHSA-r95h-9x8f-r3f7",
    "GHSA-v2fc-qm4h-8hqv",
    "GHSA-vvfq-8hwr-qm4m",
    "GHSA-wfpw-mmfh-qq69",
    "GHSA-wjv4-x9w8-wm3h",
    "GHSA-wx95-c6cv-8532",
    "GHSA-xc9x-jj77-9p9j",
];

#[test]
fn application_packages_get_exactly_their_advisories() {
    let dir = tempfile::tempdir().unwrap();
    let (json, out) = scan_json(&debian_image(dir.path()), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let found = findings(&json);
    let expected: &[(&str, &[&str])] = &[
        ("requests", &["CVE-2018-18074", "CVE-2023-32681"]),
        (
            "urllib3",
            &[
                "CVE-2019-11236",
                "CVE-2019-11324",
                "CVE-2020-26137",
                "CVE-2021-33503",
                "CVE-2023-43804",
                "CVE-2018-25091",
                "CVE-2023-45803",
            ],
        ),
        ("pyyaml", &["CVE-2020-1747", "CVE-2020-14343"]),
        ("jinja2", &["CVE-2019-10906", "CVE-2020-28493"]),
        ("lodash", &["CVE-2021-23337", "CVE-2019-10744", "CVE-2020-8203", "CVE-2018-3721", "CVE-2018-16487"]),
        ("minimist", &["CVE-2020-7598", "CVE-2021-44906"]),
        ("jquery", &["CVE-2020-11022"]),
        ("axios", &["CVE-2020-28168"]),
        ("express", &["CVE-2024-29041"]),
        ("handlebars", &["CVE-2021-23369"]),
        ("node-fetch", &["CVE-2022-0235"]),
        ("moment", &["CVE-2022-24785"]),
        ("log4j-core", &["CVE-2021-44228"]),
        ("commons-text", &["CVE-2022-42889"]),
        ("snakeyaml", &["CVE-2022-1471"]),
        ("jackson-databind", &["CVE-2020-36518"]),
        ("guava", &["CVE-2023-2976"]),
        ("time", &["CVE-2020-26235"]),
        ("smallvec", &["CVE-2021-25900"]),
        ("regex", &["CVE-2022-24713"]),
        // Every rubysec advisory whose patched and unaffected requirements
        // RubyGems' own Gem::Requirement says 1.10.3 does not satisfy.
        ("nokogiri", NOKOGIRI_1_10_3),
    ];
    for (package, ids) in expected {
        assert_eq!(ids_for(&found, package), set(ids), "findings for {package}");
    }
    assert_eq!(ids_for(&found, "django").len(), 28, "Django 2.2 is affected by 28 PYSEC records");
    assert!(ids_for(&found, "django").contains("CVE-2019-12308"));

    // Fixed versions for the installed release line.
    let fix = |package: &str, id: &str| found[&(package.to_owned(), id.to_owned())].1.clone();
    assert_eq!(fix("requests", "CVE-2018-18074"), ["2.20.0"]);
    assert_eq!(fix("urllib3", "CVE-2019-11324"), ["1.24.2"]);
    assert_eq!(fix("django", "CVE-2019-12308"), ["2.2.2"]);
    assert_eq!(fix("pyyaml", "CVE-2020-1747"), ["5.3.1"]);
    assert_eq!(fix("pyyaml", "CVE-2020-14343"), ["5.4"]);
    assert_eq!(fix("jinja2", "CVE-2019-10906"), ["2.10.1"]);
    assert_eq!(fix("lodash", "CVE-2019-10744"), ["4.17.12"]);
    assert_eq!(fix("lodash", "CVE-2020-8203"), ["4.17.20"]);
    assert_eq!(fix("lodash", "CVE-2021-23337"), ["4.17.21"]);
    assert_eq!(fix("lodash", "CVE-2018-3721"), ["4.17.5"]);
    assert_eq!(fix("lodash", "CVE-2018-16487"), ["4.17.11"]);
    assert_eq!(fix("minimist", "CVE-2021-44906"), ["1.2.6"]);
    assert_eq!(fix("node-fetch", "CVE-2022-0235"), ["2.6.7"], "the 2.x line's fix, not 3.1.1");
    assert_eq!(fix("log4j-core", "CVE-2021-44228"), ["2.15.0"]);
    assert_eq!(fix("jackson-databind", "CVE-2020-36518"), ["2.13.2.1"]);
    assert_eq!(fix("guava", "CVE-2023-2976"), ["32.0.0"]);
    assert_eq!(fix("time", "CVE-2020-26235"), ["0.2.23"], "RustSec's patched version");
    assert_eq!(fix("smallvec", "CVE-2021-25900"), ["1.6.1"]);
    assert_eq!(fix("regex", "CVE-2022-24713"), ["1.5.5"]);
    assert_eq!(fix("nokogiri", "CVE-2019-5477"), ["1.10.4"]);

    let finding = |package: &str, id: &str| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["package"]["name"] == package && f["id"] == id)
            .unwrap()
            .clone()
    };
    // Aliases merged into one finding, each record explained.
    let requests = finding("requests", "CVE-2018-18074");
    let aliases: BTreeSet<&str> = requests["aliases"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(aliases.contains("PYSEC-2018-28") && aliases.contains("GHSA-x84v-xcm2-53pg"), "{aliases:?}");
    let evidence = &requests["evidence"][0];
    assert_eq!(evidence["record"], "PYSEC-2018-28");
    assert_eq!(evidence["scheme"], "pep440");
    assert!(evidence["comparison"].as_str().unwrap().contains("2.19.1"), "{evidence}");
    // KEV and NVD / CVE-record scores attached; KEV ranks first.
    let log4shell = finding("log4j-core", "CVE-2021-44228");
    assert_eq!(log4shell["kev"]["date_added"], "2021-12-10");
    assert_eq!(log4shell["severity"], "critical");
    assert_eq!(json["findings"][0]["id"], "CVE-2021-44228", "the KEV finding has the highest risk");
    let minimist = finding("minimist", "CVE-2021-44906");
    assert!(
        minimist["cvss"].as_array().unwrap().iter().any(|c| c["source"] == "nvd" && c["base_score"] == 9.8),
        "{minimist}"
    );
    // Summary.
    let total = json["findings"].as_array().unwrap().len() as u64;
    assert_eq!(json["summary"]["findings"], total);
    let in_kev: Vec<&Value> = json["findings"].as_array().unwrap().iter().filter(|f| f["kev"].is_object()).collect();
    assert_eq!(json["summary"]["kev"].as_u64().unwrap(), in_kev.len() as u64);
    assert!(in_kev.iter().all(|f| f["id"] == "CVE-2021-44228" || f["id"] == "CVE-2023-4911"), "{in_kev:?}");
}

#[test]
fn debian_findings_follow_the_bookworm_tracker_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (json, _) = scan_json(&debian_image(dir.path()), &[]);
    let found = findings(&json);
    let os: BTreeMap<(String, String), (String, Vec<String>)> = found
        .into_iter()
        .filter(|((_, _), _)| true)
        .filter(|((name, _), _)| {
            [
                "login",
                "passwd",
                "tar",
                "perl-base",
                "libssl3",
                "libexpat1",
                "libncursesw6",
                "libpam0g",
                "libgcc-s1",
                "coreutils",
                "apt",
                "util-linux",
                "zlib1g",
                "libc6",
                "base-files",
            ]
            .contains(&name.as_str())
        })
        .collect();
    let expect = |package: &str, id: &str, state: &str, fixed: &[&str]| {
        let got =
            os.get(&(package.to_owned(), id.to_owned())).unwrap_or_else(|| panic!("{package} {id} missing: {os:?}"));
        assert_eq!(got.0, state, "{package} {id}");
        assert_eq!(got.1, fixed, "{package} {id}");
    };
    expect("login", "CVE-2023-29383", "wont-fix", &[]);
    expect("passwd", "CVE-2023-29383", "wont-fix", &[]);
    expect("tar", "CVE-2022-48303", "fixed", &["1.34+dfsg-1.2+deb12u1"]);
    expect("tar", "CVE-2005-2541", "not-fixed", &[]);
    expect("perl-base", "CVE-2023-31484", "fixed", &["5.36.0-7+deb12u3"]);
    expect("libssl3", "CVE-2024-0727", "fixed", &["3.0.13-1~deb12u1"]);
    expect("libexpat1", "CVE-2023-52425", "fixed", &["2.5.0-1+deb12u2"]);
    expect("libncursesw6", "CVE-2023-50495", "wont-fix", &[]);
    expect("libpam0g", "CVE-2024-22365", "wont-fix", &[]);
    expect("libgcc-s1", "CVE-2023-4039", "wont-fix", &[]);
    expect("coreutils", "CVE-2016-2781", "wont-fix", &[]);
    expect("apt", "CVE-2011-3374", "not-fixed", &[]);
    expect("util-linux", "CVE-2022-0563", "not-fixed", &[]);
    expect("util-linux", "CVE-2024-28085", "not-fixed", &[]);
    // No bookworm line: the sid line applies.
    expect("zlib1g", "CVE-2023-45853", "fixed", &["1:1.3.dfsg-2"]);
    expect("libc6", "CVE-2023-4911", "not-fixed", &[]);
    expect("libc6", "CVE-2024-2961", "fixed", &["2.37-18"]);
    // Exactly these: openssl 3.0.9-1 is past CVE-2023-0286's sid fix 3.0.8-1.
    assert_eq!(os.len(), 17, "{os:?}");
    let glibc = json["findings"].as_array().unwrap().iter().find(|f| f["id"] == "CVE-2023-4911").unwrap();
    assert_eq!(glibc["kev"]["date_added"], "2023-11-21");
    assert_eq!(glibc["evidence"][0]["package"], "glibc", "matched through the source package");
    assert_eq!(glibc["evidence"][0]["namespace"], "debian:12");
    let apt = json["findings"].as_array().unwrap().iter().find(|f| f["id"] == "CVE-2011-3374").unwrap();
    assert_eq!(apt["severity"], "negligible", "Debian's own urgency (unimportant) comes first");
    assert!(apt["severity_source"].as_str().unwrap().starts_with("vendor:"));
}

#[test]
fn alpine_findings_come_from_secdb() {
    let dir = tempfile::tempdir().unwrap();
    let (json, out) = scan_json(&alpine_image(dir.path()), &[]);
    assert!(out.status.success());
    let found = findings(&json);
    let expected: BTreeMap<(String, String), (String, Vec<String>)> = [
        ("busybox", "CVE-2019-5747", "1.30.1-r2"),
        ("musl", "CVE-2019-14697", "1.1.22-r3"),
        ("libcrypto1.1", "CVE-2019-1547", "1.1.1d-r0"),
        ("libcrypto1.1", "CVE-2019-1549", "1.1.1d-r0"),
        ("libcrypto1.1", "CVE-2019-1563", "1.1.1d-r0"),
        ("libssl1.1", "CVE-2019-1547", "1.1.1d-r0"),
        ("libssl1.1", "CVE-2019-1549", "1.1.1d-r0"),
        ("libssl1.1", "CVE-2019-1563", "1.1.1d-r0"),
    ]
    .iter()
    .map(|(p, id, fix)| ((p.to_string(), id.to_string()), ("fixed".to_owned(), vec![fix.to_string()])))
    .collect();
    assert_eq!(found, expected);
}

/// One npm package with a critical (GHSA-xvch-5gv4-984h) and a moderate
/// (GHSA-vh95-rmgr-6w4m) advisory, no distro.
fn minimist_image(dir: &Path) -> PathBuf {
    let layer =
        Layer::gzip().file("app/node_modules/minimist/package.json", r#"{"name":"minimist","version":"1.2.0"}"#, 0o644);
    let layout = dir.join("minimist");
    OciLayout::create(&layout).add_image("latest", &Image::new().layer(layer));
    layout
}

#[test]
fn gates_ignore_rules_and_vex_decide_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let layout = minimist_image(dir.path());
    let source = format!("oci-dir:{}", layout.display());
    let db = synced_db();
    let code = |args: &[&str]| {
        let out = portcullis(args, db);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // No gate: exit 0 with findings.
    assert_eq!(code(&["scan", &source, "-q"]).0, Some(0));
    let (status, stderr) = code(&["scan", &source, "--fail-on", "critical"]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("gate failed") && stderr.contains("CVE-2021-44906"), "{stderr}");

    let ignore = dir.path().join("ignore.yaml");
    let ignore_arg = ignore.to_str().unwrap();
    std::fs::write(
        &ignore,
        "ignore:\n  - vulnerability: GHSA-xvch-5gv4-984h\n    package: minimist\n    reason: CLI parsing of trusted input only\n    expires: 2999-01-01\n",
    )
    .unwrap();
    assert_eq!(code(&["scan", &source, "--fail-on", "critical", "--ignore-file", ignore_arg]).0, Some(0));
    // The moderate one still fails a stricter gate.
    let (status, stderr) = code(&["scan", &source, "--fail-on", "medium", "--ignore-file", ignore_arg]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("CVE-2020-7598") && !stderr.contains("CVE-2021-44906"), "{stderr}");

    // An expired rule no longer applies, and says so.
    std::fs::write(
        &ignore,
        "ignore:\n  - vulnerability: CVE-2021-44906\n    reason: accepted last year\n    expires: 2020-01-01\n",
    )
    .unwrap();
    let (status, stderr) = code(&["scan", &source, "--fail-on", "critical", "--ignore-file", ignore_arg]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("expired on 2020-01-01"), "{stderr}");

    let vex = dir.path().join("minimist.vex.json");
    std::fs::write(
        &vex,
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"sec","timestamp":"2026-01-01T00:00:00Z","version":1,
            "statements":[{"vulnerability":{"name":"CVE-2021-44906"},"products":[{"@id":"pkg:npm/minimist@1.2.0"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let (json, out) = scan_json(&layout, &["--fail-on", "critical", "--vex", vex.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json["ignored"][0]["finding"]["id"], "CVE-2021-44906");
    assert_eq!(json["ignored"][0]["by"], "vex");
    assert_eq!(json["gate"]["passed"], true);

    // --only-fixed keeps findings that have a fix (both do).
    let (json, _) = scan_json(&layout, &["--only-fixed"]);
    assert_eq!(json["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn errors_exit_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let layout = alpine_image(dir.path());
    let source = format!("oci-dir:{}", layout.display());
    let empty = dir.path().join("empty.sqlite");
    let cases: Vec<(Vec<String>, &Path, &str)> = vec![
        (vec!["scan".into(), source.clone(), "--no-auto-sync".into()], &empty, "is empty: run `portcullis feeds sync`"),
        (vec!["scan".into(), "oci-dir:/nonexistent".into()], synced_db(), "cannot open"),
        (vec!["scan".into(), source.clone(), "-o".into(), "html".into()], synced_db(), "html"),
        (
            vec!["scan".into(), source.clone(), "--ignore-file".into(), "/nonexistent.yaml".into()],
            synced_db(),
            "/nonexistent.yaml",
        ),
        (
            vec!["scan".into(), source.clone(), "--vex".into(), layout.join("index.json").display().to_string()],
            synced_db(),
            "OpenVEX",
        ),
        (
            vec!["scan".into(), source.clone(), "--db".into(), "mysql://x/y".into()],
            synced_db(),
            "unsupported database URL",
        ),
        (
            vec!["feeds".into(), "sync".into(), "--from".into(), "/nonexistent/mirror".into()],
            &empty,
            "not a file, directory or zip",
        ),
    ];
    for (args, db, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = portcullis(&args, db);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr} should mention {needle}");
    }
}

#[test]
fn feeds_list_shows_provenance_and_outputs_are_well_formed() {
    let db = synced_db();
    let out = portcullis(&["feeds", "list"], db);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["osv-pypi", "kev", "2025-08-25", "debian-tracker", "alpine-secdb"] {
        assert!(text.contains(needle), "feeds list lacks {needle}:\n{text}");
    }
    let out = portcullis(&["feeds", "list", "--json"], db);
    let sources: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sources[0]["feeds"]["kev"]["kev"], 1404);

    let dir = tempfile::tempdir().unwrap();
    let layout = minimist_image(dir.path());
    let source = format!("oci-dir:{}", layout.display());
    let sarif = dir.path().join("out.sarif");
    let junit = dir.path().join("out.xml");
    let cdx = dir.path().join("out.cdx.json");
    let out = portcullis(
        &[
            "scan",
            &source,
            "--fail-on",
            "high",
            "-o",
            "table",
            "-o",
            &format!("sarif={}", sarif.display()),
            "-o",
            &format!("junit={}", junit.display()),
            "-o",
            &format!("cyclonedx-json={}", cdx.display()),
        ],
        db,
    );
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("CVE-2021-44906") && table.contains("2 findings"), "{table}");
    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains("<testsuites") && junit.contains("CVE-2021-44906"));
    let cdx: Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    assert_eq!(cdx["specVersion"], "1.6");
    assert!(cdx["vulnerabilities"].as_array().unwrap().iter().any(|v| v["id"] == "CVE-2021-44906"));
}

#[test]
fn the_first_scan_fills_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let layout = minimist_image(dir.path());
    let db = dir.path().join("fresh.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["scan", &format!("oci-dir:{}", layout.display()), "-o", "json"])
        .env("PORTCULLIS_DB", &db)
        .env("PORTCULLIS_CACHE_DIR", dir.path().join("cache"))
        .env("PORTCULLIS_FEEDS_FROM", portcullis_testkit::data::feed("ghsa-subset"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is empty: syncing the feeds first"));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 2);
    assert_eq!(json["database"]["sources"][0]["name"], "ghsa-subset");
}

#[test]
fn a_killed_sync_leaves_the_previous_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vulndb.sqlite");
    let subset = portcullis_testkit::data::feed("ghsa-subset");
    let out = portcullis(&["feeds", "sync", "--from", &format!("mirror={}", subset.display())], &db);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The same source name, now the whole snapshot: killed while it works.
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["feeds", "sync", "--from", &format!("mirror={}", portcullis_testkit::data::feeds_root().display())])
        .env("PORTCULLIS_DB", &db)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert!(child.try_wait().unwrap().is_none(), "the sync finished before it could be interrupted");
    child.kill().unwrap();
    child.wait().unwrap();

    let out = portcullis(&["feeds", "list", "--json"], &db);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sources: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sources[0]["advisories"], 16, "the previous data is intact");
    let layout = minimist_image(dir.path());
    let (status, stdout) = {
        let out = portcullis(&["scan", &format!("oci-dir:{}", layout.display()), "-o", "json"], &db);
        (out.status.code(), out.stdout)
    };
    assert_eq!(status, Some(0));
    let json: Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn postgresql_holds_the_same_data_and_gives_the_same_findings() {
    let database = portcullis_testkit::postgres::TempDatabase::create();
    let url = database.url();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args(args)
            .arg("--db")
            .arg(&url)
            .env("PORTCULLIS_CACHE_DIR", dir.path().join("cache"))
            .output()
            .unwrap()
    };
    let out = run(&["feeds", "sync", "--from", portcullis_testkit::data::feed("ghsa-subset").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["feeds", "list", "--json"]);
    let sources: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sources[0]["advisories"], 16);
    let layout = minimist_image(dir.path());
    let out = run(&["scan", &format!("oci-dir:{}", layout.display()), "-o", "json", "--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: BTreeSet<&str> = json["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, BTreeSet::from(["CVE-2020-7598", "CVE-2021-44906"]));
    assert!(!json["database"]["location"].as_str().unwrap().contains("password"));
}

#[test]
fn an_sbom_from_any_tool_can_be_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let layout = minimist_image(dir.path());
    let cdx = dir.path().join("sbom.cdx.json");
    let out = portcullis(
        &["sbom", &format!("oci-dir:{}", layout.display()), "-o", &format!("cyclonedx-json={}", cdx.display())],
        synced_db(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = portcullis(&["scan", &format!("sbom:{}", cdx.display()), "-o", "json"], synced_db());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: BTreeSet<&str> = json["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, BTreeSet::from(["CVE-2020-7598", "CVE-2021-44906"]));
}
