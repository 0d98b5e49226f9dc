//! The Python cataloger against the genuine metadata in
//! `shared/fixtures/python/` and a real `pip install` in the lab image
//! deb-python.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_catalog::lang::python::{
    self, EggLimits, PythonError, PythonFile, PythonMetadata, classify, normalize_name, parse_direct_url, parse_egg,
    parse_metadata, parse_record, parse_top_level, record_files, record_files_checked, site_packages_dir, to_package,
};
use portcullis_sbom::PackageType;
use portcullis_testkit::data::{
    DEB_PYTHON_PIP_PACKAGES, expected_json, fixture_dirs, fixtures_root, lab_rootfs, read_bytes,
};
use serde_json::{Value, json};

/// The fields expected.json states, from our parse; `record_files` and
/// `direct_url` only when the fixture has those files.
fn actual_json(meta: &PythonMetadata, record: Option<Vec<String>>, direct_url: Option<Value>) -> Value {
    let mut v = json!({
        "name": meta.name,
        "version": meta.version,
        "metadata_version": meta.metadata_version,
        "license": meta.license,
        "license_expression": meta.license_expression,
        "license_classifiers": meta.license_classifiers(),
        "requires_dist": meta.requires_dist,
    });
    if let Some(record) = record {
        v["record_files"] = json!(record);
    }
    if let Some(direct_url) = direct_url {
        v["direct_url"] = direct_url;
    }
    v
}

#[test]
fn every_python_fixture_parses_to_its_expected_values() {
    let mut checked = 0;
    for dir in fixture_dirs("python") {
        let name = dir.display().to_string();
        let expected = expected_json(&dir);
        let files: Vec<String> = expected["files"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: expected.json has no files list"))
            .iter()
            .filter_map(|f| f.as_str().map(|s| format!("/{s}")))
            .collect();
        let mut metadata = None;
        let mut record = None;
        let mut direct_url = None;
        let mut top_level = None;
        for file in &files {
            let bytes = read_bytes(&dir.join(file.trim_start_matches('/')));
            match classify(file) {
                Some(PythonFile::Metadata | PythonFile::EggInfoFile) => {
                    metadata = Some(parse_metadata(&bytes).unwrap_or_else(|e| panic!("{name}{file}: {e}")));
                }
                Some(PythonFile::Egg) => {
                    metadata =
                        Some(parse_egg(&bytes, &EggLimits::default()).unwrap_or_else(|e| panic!("{name}{file}: {e}")));
                }
                Some(PythonFile::Record) => {
                    let entries = parse_record(&bytes).unwrap_or_else(|e| panic!("{name}{file}: {e}"));
                    record = Some((file.clone(), entries));
                }
                Some(PythonFile::DirectUrl) => {
                    direct_url = Some(parse_direct_url(&bytes).unwrap_or_else(|e| panic!("{name}{file}: {e}")));
                }
                Some(PythonFile::TopLevel) => top_level = Some(parse_top_level(&bytes)),
                Some(PythonFile::InstalledFiles) | None => {}
            }
        }
        let mut meta = metadata.unwrap_or_else(|| panic!("{name}: no metadata file among {files:?}"));
        meta.direct_url = direct_url.clone();
        meta.top_level = top_level.unwrap_or_default();
        let record_paths = record.as_ref().map(|(_, entries)| entries.iter().map(|e| e.path.clone()).collect());
        let direct_json =
            direct_url.as_ref().map(|d| json!({"url": d.url, "vcs_info": {"commit_id": d.commit_id, "vcs": d.vcs}}));
        let packages = expected["packages"].as_array().cloned().unwrap_or_default();
        assert_eq!(packages.len(), 1, "{name}: one package per fixture");
        assert_eq!(actual_json(&meta, record_paths, direct_json), packages[0], "{name}");

        let owned = match &record {
            Some((path, entries)) => {
                let root = site_packages_dir(path).unwrap_or_else(|| panic!("{name}: no site-packages for {path}"));
                record_files(entries, &root)
            }
            None => Vec::new(),
        };
        let package = to_package(&meta, owned);
        assert_eq!(package.package_type, PackageType::Python);
        assert_eq!(package.name, normalize_name(&meta.name), "{name}");
        assert!(package.purl.starts_with(&format!("pkg:pypi/{}@{}", package.name, meta.version)), "{name}");
        assert_eq!(package.found_by.as_deref(), Some("python"));
        assert_eq!(package.metadata["name"], json!(meta.name));
        checked += 1;
    }
    assert_eq!(checked, 9, "the 9 Python fixtures");
}

#[test]
fn fixture_packages_carry_licences_files_and_provenance() {
    let root = fixtures_root().join("python");
    let package_of = |dir: &str, file: &str| {
        let path = root.join(dir).join(file);
        let meta = match classify(&format!("/{file}")) {
            Some(PythonFile::Egg) => parse_egg(&read_bytes(&path), &EggLimits::default()),
            _ => parse_metadata(&read_bytes(&path)),
        };
        meta.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let licences = |dir: &str, file: &str| python::licenses(&package_of(dir, file));

    // License-Expression wins over the classifier.
    assert_eq!(licences("iniconfig-2.0.0-dist-info", "site-packages/iniconfig-2.0.0.dist-info/METADATA"), ["MIT"]);
    // A licence name in License.
    assert_eq!(
        licences("asyncssh-2.14.2-dist-info", "site-packages/asyncssh-2.14.2.dist-info/METADATA"),
        ["Eclipse Public License v2.0"]
    );
    // setuptools' UNKNOWN placeholder and no classifier: nothing.
    assert!(
        licences("setuptools-51.3.3-egg-info", "site-packages/setuptools-51.3.3-py3.8.egg-info/PKG-INFO").is_empty()
    );
    // Classifiers only: versioned GNU/MPL ones map to SPDX ids.
    assert_eq!(
        licences("pyphen-0.14.0-dist-info", "site-packages/pyphen-0.14.0.dist-info/METADATA"),
        ["GPL-2.0-or-later", "LGPL-2.0-or-later", "MPL-1.1"]
    );
    // "BSD License" names no single licence: kept as written.
    assert_eq!(
        licences("pygments-2.6.1-dist-info-with-record", "site-packages/Pygments-2.6.1.dist-info/METADATA"),
        ["BSD License"]
    );
    assert_eq!(licences("kitchen-1.2.6-egg-zip", "site-packages/kitchen-1.2.6-py2.7.egg"), ["LGPLv2+"]);
    let kitchen = package_of("kitchen-1.2.6-egg-zip", "site-packages/kitchen-1.2.6-py2.7.egg");
    assert_eq!(kitchen.top_level, ["kitchen"]);

    // RECORD paths resolve against site-packages, `..` included; digests
    // become hex; entries without one keep none.
    let dir = root.join("pygments-2.6.1-dist-info-with-record");
    let record_path = "/usr/lib/python3.8/site-packages/Pygments-2.6.1.dist-info/RECORD";
    let entries = parse_record(&read_bytes(&dir.join("site-packages/Pygments-2.6.1.dist-info/RECORD")))
        .unwrap_or_else(|e| panic!("{e}"));
    let site = site_packages_dir(record_path).unwrap_or_default();
    let files = record_files(&entries, &site);
    let pairs: Vec<(&str, Option<&str>)> = files.iter().map(|f| (f.path.as_str(), f.digest.as_deref())).collect();
    assert_eq!(
        pairs.first().copied(),
        Some(("/usr/bin/pygmentize", Some("sha256:74386ffd4da3882a66150c08447a4544b00750ee11d632093c4bd3fd0613169f")))
    );
    assert_eq!(
        pairs.get(4).copied(),
        Some(("/usr/lib/python3.8/site-packages/pygments/__pycache__/__init__.cpython-38.pyc", None))
    );
    assert_eq!(entries.get(5).and_then(|e| e.size), Some(10778));
    // A padded value decodes too.
    assert!(pairs.get(6).is_some_and(|(_, d)| d.is_some_and(|d| d.starts_with("sha256:aa9cf3b0"))));

    let direct = parse_direct_url(&read_bytes(&dir.join("site-packages/Pygments-2.6.1.dist-info/direct_url.json")))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut meta =
        package_of("pygments-2.6.1-dist-info-with-record", "site-packages/Pygments-2.6.1.dist-info/METADATA");
    meta.direct_url = Some(direct);
    let package = to_package(&meta, files);
    assert_eq!(
        package.purl,
        "pkg:pypi/pygments@2.6.1?vcs_url=git%2Bhttps:%2F%2Fgithub.com%2Fpython-test%2Ftest.git%40aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    );
    assert_eq!(package.id, "python/pygments@2.6.1");
    assert_eq!(package.metadata["direct_url"]["vcs"], json!("git"));
    assert_eq!(package.metadata["requires_dist"][0], json!("soupsieve (>1.2)"));
    assert_eq!(package.metadata["license_classifiers"], json!(["License :: OSI Approved :: BSD License"]));
    assert_eq!(package.files.len(), 7);
}

#[test]
fn broken_inputs_are_typed_errors() {
    assert_eq!(parse_metadata(b"\x00\x01\x02"), Err(PythonError::Binary { offset: 0 }));
    assert_eq!(parse_metadata(b"just some text\n"), Err(PythonError::NoHeaders));
    assert_eq!(
        parse_metadata(b"Metadata-Version: 2.1\nName: x\n"),
        Err(PythonError::MissingField { field: "Version" })
    );
    assert!(matches!(parse_egg(b"not a zip", &EggLimits::default()), Err(PythonError::Zip(_))));
    assert_eq!(parse_record(b"a,\"b\nc"), Err(PythonError::Record { line: 1, reason: "quoted field not closed" }));

    // A real egg with its metadata member over a tiny limit: refused on the
    // declared size, before inflating.
    let egg = read_bytes(&fixtures_root().join("python/kitchen-1.2.6-egg-zip/site-packages/kitchen-1.2.6-py2.7.egg"));
    match parse_egg(&egg, &EggLimits { max_member_size: 100 }) {
        Err(PythonError::EggMemberTooLarge { member, size, limit }) => {
            assert_eq!((member.as_str(), limit), ("EGG-INFO/PKG-INFO", 100));
            assert!(size > 100);
        }
        other => panic!("expected EggMemberTooLarge, got {other:?}"),
    }
    // The same archive cut short is not a zip any more.
    let cut = egg.get(..egg.len() / 2).unwrap_or_default();
    assert!(matches!(parse_egg(cut, &EggLimits::default()), Err(PythonError::Zip(_))));
}

/// Every `*.dist-info` / `*.egg-info` under `dir`, recursively.
fn find_metadata_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".dist-info") || name.ends_with(".egg-info") {
            out.push(path);
        } else if path.is_dir() && !path.is_symlink() {
            find_metadata_dirs(&path, out);
        }
    }
}

/// `name==version` from a metadata directory's own name: wheel installs
/// write `{name with - as _}-{version}.dist-info`, setuptools
/// `{name}-{version}[-pyX.Y].egg-info`.
fn listed_name_version(dir_name: &str) -> (String, String) {
    let stem = dir_name.trim_end_matches(".dist-info").trim_end_matches(".egg-info");
    let mut parts = stem.splitn(3, '-');
    let name = parts.next().unwrap_or_default();
    let version = parts.next().unwrap_or_default();
    (normalize_name(name), version.to_owned())
}

#[test]
fn real_pip_install_in_the_lab_image() {
    let rootfs = lab_rootfs("deb-python");
    assert!(
        rootfs.join("usr/local/lib/python3.11/site-packages").is_dir(),
        "lab image rootfs {} is missing: run ./scripts/test.sh (it builds the lab), or set PORTCULLIS_LAB",
        rootfs.display()
    );
    let mut dirs = Vec::new();
    for root in ["usr/local/lib/python3.11/site-packages", "usr/lib/python3/dist-packages", "usr/lib/python3.11"] {
        find_metadata_dirs(&rootfs.join(root), &mut dirs);
    }
    dirs.sort();
    let mut listed = BTreeSet::new();
    let mut parsed = BTreeSet::new();
    let mut packages = Vec::new();
    let mut moved_scripts = 0;
    for dir in &dirs {
        let dir_name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        listed.insert(listed_name_version(&dir_name));
        let image_dir = format!("/{}", dir.strip_prefix(&rootfs).unwrap_or(dir).display());
        let (metadata_file, record_file) = if dir.is_dir() && dir_name.ends_with(".dist-info") {
            ("METADATA", Some("RECORD"))
        } else if dir.is_dir() {
            ("PKG-INFO", None)
        } else {
            ("", None)
        };
        let image_path =
            if metadata_file.is_empty() { image_dir.clone() } else { format!("{image_dir}/{metadata_file}") };
        assert!(classify(&image_path).is_some(), "{image_path} is not selected");
        let mut meta = parse_metadata(&read_bytes(&rootfs.join(image_path.trim_start_matches('/'))))
            .unwrap_or_else(|e| panic!("{image_path}: {e}"));
        let top_level = dir.join("top_level.txt");
        if top_level.is_file() {
            meta.top_level = parse_top_level(&read_bytes(&top_level));
        }
        let files = match record_file {
            Some(record) => {
                let entries =
                    parse_record(&read_bytes(&dir.join(record))).unwrap_or_else(|e| panic!("{image_dir}: {e}"));
                let site = site_packages_dir(&image_path).unwrap_or_default();
                let lexical = record_files(&entries, &site);
                let checked = record_files_checked(&entries, &site, |p| {
                    rootfs.join(p.trim_start_matches('/')).symlink_metadata().is_ok()
                });
                // pip --target leaves RECORD paths of scripts pointing
                // outside the target; only those differ.
                for (a, b) in lexical.iter().zip(&checked) {
                    if a.path != b.path {
                        assert!(a.path.starts_with("/usr/local/lib/bin/"), "{}", a.path);
                        assert!(b.path.starts_with("/usr/local/lib/python3.11/site-packages/bin/"), "{}", b.path);
                        moved_scripts += 1;
                    }
                }
                checked
            }
            None => Vec::new(),
        };
        parsed.insert((normalize_name(&meta.name), meta.version.clone()));
        packages.push(to_package(&meta, files));
    }
    assert_eq!(parsed, listed, "parsed metadata vs directory names");
    // django-admin, its .py, its .pyc, chardetect, sqlformat.
    assert_eq!(moved_scripts, 5, "scripts of the --target install found under site-packages/bin");

    let ids: BTreeSet<String> = packages.iter().map(|p| format!("{}=={}", p.name, p.version)).collect();
    let expected: BTreeSet<String> = DEB_PYTHON_PIP_PACKAGES.iter().map(|p| p.to_string()).collect();
    assert_eq!(ids, expected, "the pip-installed set (Debian's python ships no *-info metadata here)");

    let by_name = |name: &str| packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} not found"));
    let django = by_name("django");
    assert_eq!(django.purl, "pkg:pypi/django@2.2");
    assert_eq!(django.metadata["name"], json!("Django"));
    assert_eq!(django.licenses, ["BSD"]);
    assert_eq!(by_name("certifi").licenses, ["MPL-2.0"]);
    assert_eq!(by_name("requests").licenses, ["Apache 2.0"]);
    assert_eq!(by_name("pyyaml").metadata["top_level_packages"], json!(["_yaml", "yaml"]));

    // Every RECORD file exists in the image, and the digests are the real
    // content's: checked for all of requests' files with coreutils' sha256sum.
    for package in &packages {
        for file in &package.files {
            let on_disk = rootfs.join(file.path.trim_start_matches('/'));
            assert!(on_disk.symlink_metadata().is_ok(), "{}: {} missing", package.name, file.path);
        }
    }
    let requests = by_name("requests");
    let hashed: Vec<_> = requests.files.iter().filter_map(|f| Some((f.path.as_str(), f.digest.as_deref()?))).collect();
    assert!(hashed.len() >= 20, "requests lists its files with digests: {}", hashed.len());
    let output = Command::new("sha256sum")
        .args(hashed.iter().map(|(path, _)| rootfs.join(path.trim_start_matches('/'))))
        .output()
        .unwrap_or_else(|e| panic!("sha256sum: {e}"));
    assert!(output.status.success(), "sha256sum failed");
    let sums = String::from_utf8_lossy(&output.stdout);
    for ((path, digest), line) in hashed.iter().zip(sums.lines()) {
        let hex = line.split_whitespace().next().unwrap_or_default();
        assert_eq!(*digest, format!("sha256:{hex}"), "{path}");
    }
}
