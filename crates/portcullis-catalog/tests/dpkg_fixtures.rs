//! The dpkg cataloger against the real databases in `shared/fixtures/dpkg*/`
//! and against this machine's own dpkg database.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use packageurl::PackageUrl;
use portcullis_catalog::distro::detect;
use portcullis_catalog::os::dpkg::{
    self, DpkgEntry, DpkgError, copyright_licenses, info_file_stems, is_status_d_entry, owned_files, parse_file_list,
    parse_md5sums, parse_status, parse_status_detailed, to_package,
};
use portcullis_sbom::Distro;
use portcullis_testkit::data::{assert_same_packages, expected_json, fixture, fixture_dirs, read_bytes};
use serde_json::{Value, json};

/// The status files of a fixture, found the way an image would be searched:
/// `var/lib/dpkg/status` and the status paragraphs in `status.d/`.
fn status_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    if dir.join("var/lib/dpkg/status").is_file() {
        files.push("var/lib/dpkg/status".to_owned());
    }
    if let Ok(entries) = fs::read_dir(dir.join("var/lib/dpkg/status.d")) {
        let mut names: Vec<String> =
            entries.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).collect();
        names.sort();
        for name in names {
            let path = format!("var/lib/dpkg/status.d/{name}");
            if is_status_d_entry(&format!("/{path}")) {
                files.push(path);
            }
        }
    }
    files
}

fn entry_json(e: &DpkgEntry) -> Value {
    json!({
        "name": e.name,
        "version": e.version,
        "architecture": e.architecture,
        "source_name": e.source_name,
        "source_version": e.source_version,
        "status": e.status,
        "installed": e.installed,
        "installed_size_kib": e.installed_size_kib,
        "maintainer": e.maintainer,
    })
}

fn sort_key(v: &Value) -> String {
    format!("{}\t{}\t{}", v["name"], v["version"], v["architecture"])
}

fn distro_of(dir: &Path) -> Option<Distro> {
    let locate = |path: &str| dir.join(path.trim_start_matches('/'));
    detect(&|path: &str| fs::read(locate(path)).ok(), &|path: &str| locate(path).is_file())
}

#[test]
fn every_dpkg_fixture_parses_to_its_expected_packages() {
    let mut checked = 0;
    for kind in ["dpkg", "dpkg-distroless"] {
        for dir in fixture_dirs(kind) {
            let name = dir.display().to_string();
            let expected = expected_json(&dir);
            let files = status_files(&dir);
            let declared: Vec<String> = expected["db_files"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect();
            assert_eq!(files, declared, "{name}: status files found differ from expected.json db_files");

            let mut entries = Vec::new();
            let mut skipped = Vec::new();
            for file in &files {
                let bytes = read_bytes(&dir.join(file));
                let report = parse_status_detailed(&bytes).unwrap_or_else(|e| panic!("{name}/{file}: {e}"));
                assert_eq!(report.malformed_lines, 0, "{name}/{file}: malformed lines in a genuine database");
                entries.extend(report.entries);
                skipped.extend(report.skipped.into_iter().map(|s| json!({"name": s.name, "version": s.version})));
            }

            let got: Vec<Value> = entries.iter().map(entry_json).collect();
            let want: Vec<Value> = expected["packages"].as_array().cloned().unwrap_or_default();
            assert_same_packages(&name, got, want, sort_key);
            assert_eq!(
                Some(entries.iter().filter(|e| e.installed).count() as u64),
                expected["installed_count"].as_u64(),
                "{name}: installed_count"
            );
            assert_eq!(Value::Array(skipped), expected["invalid_entries_skipped"], "{name}: skipped paragraphs");

            // Every package turns into an SBOM entry whose purl reads back.
            let distro = distro_of(&dir);
            for entry in entries.iter().filter(|e| e.installed) {
                let package = to_package(entry, Vec::new(), Vec::new(), distro.as_ref());
                let parsed: PackageUrl<'static> = package
                    .purl
                    .parse()
                    .unwrap_or_else(|e| panic!("{name}: purl {} does not parse: {e}", package.purl));
                assert_eq!(
                    (parsed.ty(), parsed.name(), parsed.version()),
                    ("deb", entry.name.as_str(), Some(entry.version.as_str()))
                );
                if let Some(distro) = &distro {
                    assert_eq!(parsed.namespace(), Some(distro.id.as_str()));
                    assert_eq!(
                        parsed.qualifiers().get("distro").map(|q| q.as_ref()),
                        Some(distro.purl_qualifier().as_str())
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "expected the dpkg and distroless fixtures, checked {checked}");
}

#[test]
fn fixture_purls_match_syft_forms() {
    let bytes = read_bytes(&fixture("dpkg/ubuntu-18.04-trivy").join("var/lib/dpkg/status"));
    let entries = parse_status(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let ubuntu = Distro { id: "ubuntu".into(), version_id: Some("18.04".into()), ..Distro::default() };
    let purls: BTreeMap<&str, String> =
        entries.iter().map(|e| (e.name.as_str(), dpkg::purl(e, Some(&ubuntu)))).collect();
    assert_eq!(
        purls["libgcc1"],
        "pkg:deb/ubuntu/libgcc1@1:8-20180414-1ubuntu2?arch=amd64&distro=ubuntu-18.04&upstream=gcc-8%408-20180414-1ubuntu2"
    );
    assert_eq!(purls["libc6"], "pkg:deb/ubuntu/libc6@2.27-3ubuntu1?arch=amd64&distro=ubuntu-18.04&upstream=glibc");
    assert_eq!(purls["base-files"], "pkg:deb/ubuntu/base-files@10.1ubuntu2.2?arch=amd64&distro=ubuntu-18.04");
    assert_eq!(
        purls["liblzma5"],
        "pkg:deb/ubuntu/liblzma5@5.1.1alpha%2B20120614-2%2Bb3?arch=amd64&distro=ubuntu-18.04&upstream=xz-utils%405.1.1alpha%2B20120614-2"
    );
    let git = entries.iter().find(|e| e.name == "git").unwrap_or_else(|| panic!("git stanza missing"));
    assert!(!git.installed);
    assert_eq!(git.status.as_deref(), Some("deinstall ok config-files"));
}

#[test]
fn error_paths_never_panic() {
    assert_eq!(parse_status(b""), Ok(Vec::new()));
    assert_eq!(parse_status(b"\n \n\t\n"), Ok(Vec::new()));
    assert_eq!(parse_status(b"\x7fELF\x02\x01\x01\x00\x00"), Err(DpkgError::Binary { offset: 7 }));
    assert_eq!(parse_status(b"just some text\nwithout any fields\n"), Err(DpkgError::NoFields { malformed_lines: 2 }));

    // Pseudo-random bytes: any outcome but a panic is fine.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..200 {
        let len = 1 + (round * 37) % 4000;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Bias towards the bytes the format is made of.
                match state % 8 {
                    0 => b'\n',
                    1 => b':',
                    2 => b' ',
                    _ => (state >> 8) as u8,
                }
            })
            .collect();
        let _ = parse_status_detailed(&bytes);
        let _ = parse_file_list(&bytes);
        let _ = parse_md5sums(&bytes);
        let _ = copyright_licenses(&bytes);
    }
}

#[test]
fn non_utf8_status_is_read_lossily() {
    let bytes = b"Package: caf\xe9\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\nMaintainer: Fran\xe7ois <f@example.org>\n";
    let entries = parse_status(bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, "caf\u{fffd}");
    assert_eq!(entries[0].maintainer.as_deref(), Some("Fran\u{fffd}ois <f@example.org>"));
    assert!(entries[0].installed);
}

#[test]
fn stanzas_missing_package_or_version_are_reported() {
    let text = "Package: ok\nVersion: 1\n\nPackage: noversion\nStatus: install ok installed\n\nVersion: 2\nDescription: no name\n\n\
                Package: emptyversion\nVersion:\n";
    let report = parse_status_detailed(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["ok"]);
    let skipped: Vec<(usize, Option<&str>, Option<&str>, &str)> =
        report.skipped.iter().map(|s| (s.line, s.name.as_deref(), s.version.as_deref(), s.reason)).collect();
    assert_eq!(
        skipped,
        [
            (4, Some("noversion"), None, "no Version field"),
            (7, None, Some("2"), "no Package field"),
            (10, Some("emptyversion"), None, "no Version field"),
        ]
    );
    // The plain API keeps the good entry and only logs the rest.
    assert_eq!(parse_status(text.as_bytes()).map(|e| e.len()), Ok(1));
}

// ---------------------------------------------------------------------------
// This machine's dpkg database (Debian 12). Set PORTCULLIS_NO_HOST_DPKG=1 to
// run the suite on a machine without one; otherwise its absence fails.

fn host_dpkg_available() -> bool {
    if std::env::var_os("PORTCULLIS_NO_HOST_DPKG").is_some() {
        return false;
    }
    assert!(
        Path::new("/var/lib/dpkg/status").is_file(),
        "/var/lib/dpkg/status is missing; set PORTCULLIS_NO_HOST_DPKG=1 to skip the host-database tests explicitly"
    );
    true
}

fn host_entries() -> Vec<DpkgEntry> {
    let bytes = fs::read("/var/lib/dpkg/status").unwrap_or_else(|e| panic!("/var/lib/dpkg/status: {e}"));
    parse_status(&bytes).unwrap_or_else(|e| panic!("/var/lib/dpkg/status: {e}"))
}

#[test]
fn host_status_matches_dpkg_query() {
    if !host_dpkg_available() {
        return;
    }
    let output = Command::new("dpkg-query")
        .args(["-W", "-f", "${binary:Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run dpkg-query: {e}"));
    assert!(output.status.success(), "dpkg-query failed: {}", String::from_utf8_lossy(&output.stderr));

    let mut want_installed = BTreeSet::new();
    let mut want_all = BTreeSet::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [package, version, arch, abbrev] = fields[..] else { panic!("unexpected dpkg-query line {line:?}") };
        // binary:Package carries `:arch` for Multi-Arch: same packages.
        let name = package.split_once(':').map_or(package, |(name, _)| name);
        let key = (name.to_owned(), version.to_owned(), arch.to_owned());
        // The second letter is the state: i(nstalled), W/t (triggers awaited/pending).
        if matches!(abbrev.as_bytes().get(1), Some(b'i' | b'W' | b't')) {
            want_installed.insert(key.clone());
        }
        want_all.insert(key);
    }
    assert!(!want_installed.is_empty(), "dpkg-query listed no installed package");

    let entries = host_entries();
    let key = |e: &DpkgEntry| (e.name.clone(), e.version.clone(), e.architecture.clone().unwrap_or_default());
    let got_installed: BTreeSet<_> = entries.iter().filter(|e| e.installed).map(key).collect();
    let got_all: BTreeSet<_> = entries.iter().map(key).collect();
    assert_eq!(
        got_installed.symmetric_difference(&want_installed).collect::<Vec<_>>(),
        Vec::<&(String, String, String)>::new(),
        "installed packages differ from dpkg-query"
    );
    assert!(want_all.is_subset(&got_all), "dpkg-query lists packages the parser missed");
}

fn host_info_file(entry: &DpkgEntry, extension: &str) -> Option<Vec<u8>> {
    info_file_stems(&entry.name, entry.architecture.as_deref())
        .iter()
        .find_map(|stem| fs::read(format!("/var/lib/dpkg/info/{stem}.{extension}")).ok())
}

#[test]
fn host_file_lists_and_md5sums() {
    if !host_dpkg_available() {
        return;
    }
    let entries = host_entries();
    for name in ["zlib1g", "libc6", "base-files", "dpkg", "bash", "coreutils"] {
        let entry = entries
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name} is not installed on this machine"));
        let list = parse_file_list(&host_info_file(entry, "list").unwrap_or_else(|| panic!("{name}: no .list")));
        let sums = parse_md5sums(&host_info_file(entry, "md5sums").unwrap_or_else(|| panic!("{name}: no .md5sums")));
        assert!(!list.is_empty() && !sums.is_empty(), "{name}: empty list or md5sums");
        assert!(list.iter().all(|p| p.starts_with('/') && p != "/."), "{name}: list paths must be absolute");
        let listed: BTreeSet<&str> = list.iter().map(String::as_str).collect();
        for (path, md5) in &sums {
            assert!(listed.contains(path.as_str()), "{name}: {path} has an md5 but is not in the .list");
            assert_eq!(md5.len(), 32, "{name}: {path}");
        }

        let files = owned_files(entry, &list, &sums);
        let owned: BTreeMap<&str, Option<&str>> =
            files.iter().map(|f| (f.path.as_str(), f.digest.as_deref())).collect();
        for (path, md5) in &sums {
            assert_eq!(
                owned.get(path.as_str()).copied().flatten(),
                Some(format!("md5:{md5}").as_str()),
                "{name}: {path}"
            );
        }
        // Directories on the way are not owned files.
        for dir in ["/usr", "/usr/share", &format!("/usr/share/doc/{name}")] {
            assert!(!owned.contains_key(dir), "{name}: directory {dir} listed as a file");
        }
        for conffile in entry.conffiles.iter().filter(|c| !c.obsolete) {
            assert!(owned.contains_key(conffile.path.as_str()), "{name}: conffile {} missing", conffile.path);
        }
    }

    // The md5 dpkg recorded is the md5 of the file on disk (checked with md5sum).
    let zlib = entries.iter().find(|e| e.name == "zlib1g").unwrap_or_else(|| panic!("zlib1g is not installed"));
    let sums = parse_md5sums(&host_info_file(zlib, "md5sums").unwrap_or_default());
    let (path, md5) =
        sums.iter().find(|(p, _)| p.contains("libz.so.")).unwrap_or_else(|| panic!("zlib1g ships no libz.so"));
    let output = Command::new("md5sum").arg(path).output().unwrap_or_else(|e| panic!("cannot run md5sum: {e}"));
    let on_disk = String::from_utf8_lossy(&output.stdout);
    assert_eq!(on_disk.split_whitespace().next(), Some(md5.as_str()), "{path}");
}

#[test]
fn host_copyright_licenses() {
    if !host_dpkg_available() {
        return;
    }
    // Read by hand from this machine's files (Debian 12). zlib1g, dpkg, tar
    // and apt are machine-readable; base-files and libc6 are free-form and
    // go through the common-licenses heuristic.
    let cases: &[(&str, &[&str])] = &[
        ("zlib1g", &["Zlib"]),
        ("dpkg", &["GPL-2+", "GPL-2", "BSD-2-clause", "public-domain-s-s-d"]),
        ("tar", &["GPL-3+", "GPL-3+ with Bison exception", "LGPL-3+", "GPL-2+"]),
        ("apt", &["GPL-2+", "GPL-2", "BSD-3-clause", "Expat"]),
        ("base-files", &["GPL"]),
        ("libc6", &["LGPL-2.1", "GPL-2"]),
    ];
    for (name, want) in cases {
        let path = format!("/usr/share/doc/{name}/copyright");
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(copyright_licenses(&bytes), *want, "{path}");
    }
    // Every copyright file on the machine parses; DEP-5 ones yield licences.
    let mut machine_readable = 0;
    for entry in fs::read_dir("/usr/share/doc").into_iter().flatten().flatten() {
        let Ok(bytes) = fs::read(entry.path().join("copyright")) else { continue };
        let licenses = copyright_licenses(&bytes);
        if dpkg::is_machine_readable(&String::from_utf8_lossy(&bytes)) {
            machine_readable += 1;
            assert!(!licenses.is_empty(), "{}: DEP-5 file without licences", entry.path().display());
        }
        assert!(licenses.iter().all(|l| !l.is_empty() && l.trim() == l), "{}: {licenses:?}", entry.path().display());
    }
    assert!(machine_readable > 0, "no machine-readable copyright file found under /usr/share/doc");
}

#[test]
fn host_packages_build_with_files_and_licenses() {
    if !host_dpkg_available() {
        return;
    }
    let distro = detect(&|p: &str| fs::read(p).ok(), &|p: &str| Path::new(p).is_file());
    let entries = host_entries();
    let entry = entries.iter().find(|e| e.name == "zlib1g").unwrap_or_else(|| panic!("zlib1g is not installed"));
    let list = parse_file_list(&host_info_file(entry, "list").unwrap_or_default());
    let sums = parse_md5sums(&host_info_file(entry, "md5sums").unwrap_or_default());
    let licenses = copyright_licenses(&fs::read("/usr/share/doc/zlib1g/copyright").unwrap_or_default());
    let package = to_package(entry, owned_files(entry, &list, &sums), licenses, distro.as_ref());
    assert_eq!(package.licenses, ["Zlib"]);
    assert!(package.files.iter().any(|f| f.digest.as_deref().is_some_and(|d| d.starts_with("md5:"))));
    assert!(package.purl.starts_with("pkg:deb/debian/zlib1g@1:"), "{}", package.purl);
    assert!(package.purl.contains("upstream=zlib"), "{}", package.purl);
}
