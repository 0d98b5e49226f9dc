//! The apk cataloger against the real databases in `shared/fixtures/apk/`.

use packageurl::PackageUrl;
use portcullis_catalog::os::apk::{
    self, ApkEntry, ApkError, INSTALLED_DB, licenses, parse_installed, parse_installed_detailed, to_package,
};
use portcullis_sbom::{Distro, PackageType};
use portcullis_testkit::data::{assert_same_packages, expected_json, fixture_dirs_nested, fixtures_root, read_bytes};
use serde_json::{Value, json};

fn entry_json(e: &ApkEntry) -> Value {
    json!({
        "name": e.name,
        "version": e.version,
        "arch": e.arch,
        "origin": e.origin,
        "license": e.license,
        "maintainer": e.maintainer,
        "commit": e.commit,
        "build_time": e.build_time,
        "size": e.size,
        "installed_size": e.installed_size,
        "depends": e.depends,
        "provides": e.provides,
        "file_count": e.files.len(),
        "files_sample": e.files.iter().take(3).map(|f| f.path.clone()).collect::<Vec<_>>(),
    })
}

fn sort_key(v: &Value) -> String {
    format!("{}\t{}\t{}", v["name"], v["version"], v["arch"])
}

#[test]
fn every_apk_fixture_parses_to_its_expected_packages() {
    // Edge cases sit one level down, in apk/edge-cases/.
    let dirs = fixture_dirs_nested("apk");
    for dir in &dirs {
        let name = dir.display().to_string();
        let expected = expected_json(dir);
        let bytes = read_bytes(&dir.join(INSTALLED_DB.trim_start_matches('/')));
        let report = parse_installed_detailed(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.malformed_lines, 0, "{name}: malformed lines in a genuine database");

        let got: Vec<Value> = report.entries.iter().map(entry_json).collect();
        let want: Vec<Value> = expected["packages"].as_array().cloned().unwrap_or_default();
        assert_same_packages(&name, got, want, sort_key);
        assert_eq!(Some(report.entries.len() as u64), expected["package_count"].as_u64(), "{name}: package_count");
        let skipped: Vec<Value> =
            report.skipped.iter().map(|s| json!({"name": s.name, "version": s.version})).collect();
        let want_skipped = expected["invalid_entries_skipped"].as_array().cloned().unwrap_or_default();
        assert_eq!(skipped, want_skipped, "{name}: skipped entries");

        // Z: lines only ever follow an R: line in these databases, so every
        // checksum must have been decoded and attached.
        let raw_checksums = String::from_utf8_lossy(&bytes).lines().filter(|l| l.starts_with("Z:")).count();
        let decoded: usize = report.entries.iter().map(|e| e.files.iter().filter(|f| f.digest.is_some()).count()).sum();
        assert_eq!(decoded, raw_checksums, "{name}: Z: lines not all attached to files");

        for entry in &report.entries {
            for file in &entry.files {
                assert!(file.path.starts_with('/') && !file.path.contains("//"), "{name}: bad path {}", file.path);
                if let Some(digest) = &file.digest {
                    assert!(digest.starts_with("sha1:") && digest.len() == 45, "{name}: {} digest {digest}", file.path);
                }
            }

            let alpine = Distro { id: "alpine".into(), version_id: Some("3.16.2".into()), ..Distro::default() };
            let package = to_package(entry, Some(&alpine));
            assert_eq!(package.package_type, PackageType::Apk);
            assert_eq!(package.installed_size, entry.installed_size);
            assert_eq!(package.files, entry.files);
            assert_eq!(package.licenses, licenses(entry.license.as_deref()));
            let parsed: PackageUrl<'static> =
                package.purl.parse().unwrap_or_else(|e| panic!("{name}: purl {} does not parse: {e}", package.purl));
            assert_eq!((parsed.ty(), parsed.namespace(), parsed.name()), ("apk", Some("alpine"), entry.name.as_str()));
            assert_eq!(parsed.version(), Some(entry.version.as_str()));
            let upstream = parsed.qualifiers().get("upstream").map(|u| u.to_string());
            assert_eq!(
                upstream,
                entry.origin.clone().filter(|o| *o != entry.name),
                "{name}: upstream of {}",
                entry.name
            );
            assert_eq!(parsed.qualifiers().get("distro").map(|d| d.to_string()).as_deref(), Some("alpine-3.16.2"));
        }
    }
    assert!(dirs.len() >= 11, "expected at least the 11 apk fixtures, found {}", dirs.len());
}

#[test]
fn known_fixture_details() {
    let root = fixtures_root().join("apk");
    let load = |fixture: &str| {
        let bytes = read_bytes(&root.join(fixture).join("lib/apk/db/installed"));
        parse_installed(&bytes).unwrap_or_else(|e| panic!("{fixture}: {e}"))
    };

    // The a: line with an xattr checksum sits between R: and Z:.
    let openjdk = load("edge-cases/extra-file-attributes-openjdk8");
    let file = &openjdk[0].files[0];
    assert_eq!(file.path, "/usr/lib/jvm/java-1.8-openjdk/bin/policytool");
    assert_eq!(file.digest.as_deref(), Some("sha1:3340bda9f0bffa475188ea1d7a2846d86311b641"));
    assert_eq!(licenses(openjdk[0].license.as_deref()), ["custom"]);

    let trivy = load("alpine-3.4-edited-trivy");
    let ada = trivy
        .iter()
        .find(|e| e.name == "ada-libs")
        .unwrap_or_else(|| panic!("ada-libs (last, no final newline) missing"));
    assert_eq!(ada.version, "2.7.4-r0");
    assert_eq!(licenses(ada.license.as_deref()), ["( Apache-2.0 OR MIT ) AND MPL-2.0"]);
    let musl = trivy.iter().find(|e| e.name == "musl").unwrap_or_else(|| panic!("musl missing"));
    assert_eq!(licenses(musl.license.as_deref()), ["MIT"]);

    let base = load("alpine-3.6-base");
    let busybox = base.iter().find(|e| e.name == "busybox").unwrap_or_else(|| panic!("busybox missing"));
    assert_eq!(licenses(busybox.license.as_deref()), ["GPL2"]);
    let distro = Distro { id: "alpine".into(), version_id: Some("3.6.2".into()), ..Distro::default() };
    let ssl = base.iter().find(|e| e.origin.as_deref() == Some("libressl") && e.name != "libressl");
    let ssl = ssl.unwrap_or_else(|| panic!("no libressl subpackage in alpine-3.6-base"));
    assert!(
        apk::purl(ssl, Some(&distro)).ends_with("&distro=alpine-3.6.2&upstream=libressl"),
        "{}",
        apk::purl(ssl, Some(&distro))
    );

    let noarch = load("edge-cases/noarch");
    assert!(apk::purl(&noarch[0], None).contains("?arch=noarch"));

    let no_origin = load("edge-cases/no-origin");
    let package = to_package(&no_origin[0], None);
    assert_eq!(package.purl, "pkg:apk/alpine/pkgname@1.2.3?arch=x86_64");
    assert_eq!(package.source, None);
    assert_eq!(package.licenses, ["GPL-2.0-only"]);
}

#[test]
fn error_paths_never_panic() {
    assert_eq!(parse_installed(b""), Ok(Vec::new()));
    assert_eq!(parse_installed(b"\n\n"), Ok(Vec::new()));
    assert_eq!(parse_installed(b"\x1f\x8b\x08\x00\x00"), Err(ApkError::Binary { offset: 3 }));
    assert_eq!(parse_installed(b"hello world\nno fields here\n"), Err(ApkError::NoFields { malformed_lines: 2 }));

    let report = parse_installed_detailed(
        b"P:noversion\nA:x86_64\n\nV:1.0\nT:no name\n\nP:ok\nV:1\nF:etc\nZ:Q1orphan=\nR:\nbogus\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.entries.len(), 1);
    assert!(report.entries[0].files.is_empty());
    assert_eq!(report.malformed_lines, 1);
    let skipped: Vec<(usize, Option<&str>, Option<&str>)> =
        report.skipped.iter().map(|s| (s.line, s.name.as_deref(), s.version.as_deref())).collect();
    assert_eq!(skipped, [(1, Some("noversion"), None), (4, None, Some("1.0"))]);

    let latin1 = parse_installed(b"P:caf\xe9\nV:1-r0\nm:Fran\xe7ois\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((latin1[0].name.as_str(), latin1[0].maintainer.as_deref()), ("caf\u{fffd}", Some("Fran\u{fffd}ois")));

    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for round in 0..200 {
        let len = 1 + (round * 41) % 4000;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                match state % 8 {
                    0 => b'\n',
                    1 => b':',
                    2 => b"PVRZFQ"[(state >> 8) as usize % 6],
                    _ => (state >> 16) as u8,
                }
            })
            .collect();
        if let Ok(entries) = parse_installed(&bytes) {
            for entry in &entries {
                let _ = to_package(entry, None);
            }
        }
    }
}
