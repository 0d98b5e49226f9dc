//! The Java archive cataloger against the real archives in
//! `shared/fixtures/java/`, the jars Debian installs in `/usr/share/java`,
//! and zip bombs and broken archives built here.

use std::collections::BTreeSet;
use std::fs;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use portcullis_catalog::lang::java::{self, JavaError, JavaLimits, parse_archive, parse_archive_detailed};
use portcullis_sbom::{Package, PackageType};
use portcullis_testkit::data::{expected_json, fixture_dirs, fixtures_root, read_bytes};
use serde_json::Value;
use sha1::{Digest, Sha1};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

fn meta<'a>(package: &'a Package, key: &str) -> &'a str {
    package.metadata.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// (groupId, artifactId, version) of a package.
fn gav(package: &Package) -> (String, String, String) {
    (meta(package, "group_id").to_owned(), meta(package, "artifact_id").to_owned(), package.version.clone())
}

fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a member of an archive held in memory.
fn member(archive: &[u8], name: &str) -> Vec<u8> {
    let mut zip = ZipArchive::new(Cursor::new(archive)).unwrap_or_else(|e| panic!("not a zip: {e}"));
    let mut file = zip.by_name(name).unwrap_or_else(|e| panic!("no member {name}: {e}"));
    let mut out = Vec::new();
    file.read_to_end(&mut out).unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
    out
}

#[test]
fn fixtures_match_pom_properties_and_trivy() {
    let dirs = fixture_dirs("java");
    assert_eq!(dirs.len(), 5, "java fixtures under {}", fixtures_root().join("java").display());
    for dir in dirs {
        let expected = expected_json(&dir);
        let file = expected["files"][0].as_str().unwrap_or_default().to_owned();
        let bytes = read_bytes(&dir.join(&file));
        let top = format!("/opt/app/{file}");
        let report = parse_archive_detailed(&top, &bytes, &JavaLimits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let packages = &report.packages;
        assert!(report.skipped.is_empty(), "{}: {:?}", dir.display(), report.skipped);

        // Every pom.properties our own zip walk found is a package, in the
        // archive it sits in.
        for entry in expected["pom_properties_inventory"].as_array().into_iter().flatten() {
            let archive = entry["archive"].as_str().unwrap_or_default();
            let path = if archive == "." { top.clone() } else { format!("{top}:{archive}") };
            let want = (
                entry["groupId"].as_str().unwrap_or_default().to_owned(),
                entry["artifactId"].as_str().unwrap_or_default().to_owned(),
                entry["version"].as_str().unwrap_or_default().to_owned(),
            );
            assert!(
                packages.iter().any(|p| gav(p) == want && meta(p, "virtual_path") == path),
                "{}: no package {want:?} at {path}; got {:?}",
                dir.display(),
                packages.iter().map(|p| (gav(p), meta(p, "virtual_path").to_owned())).collect::<Vec<_>>()
            );
        }

        // trivy's list (groupId:artifactId, version, path with `/` between
        // nesting levels) is exactly what is found, the pom.properties
        // outside META-INF/maven/ (gizmo's shaded jackson-databind, the
        // nested jars) included: syft's `*pom.properties` glob reads them too.
        let ours: BTreeSet<(String, String, String)> = packages
            .iter()
            .map(|p| {
                let (g, a, v) = gav(p);
                let path = meta(p, "virtual_path").trim_start_matches("/opt/app/").replace(':', "/");
                (format!("{g}:{a}"), v, path)
            })
            .collect();
        let trivy: BTreeSet<(String, String, String)> = expected["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let text = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
                (text("name"), text("version"), text("path_in_archive"))
            })
            .collect();
        assert_eq!(ours, trivy, "{}", dir.display());
        assert_eq!(packages.len(), trivy.len(), "{}: one package per identity", dir.display());

        for package in packages {
            assert_eq!(package.package_type, PackageType::JavaArchive);
            assert_eq!(package.found_by.as_deref(), Some("java"));
            let (g, a, v) = gav(package);
            assert_eq!(package.name, a);
            assert_eq!(package.purl, format!("pkg:maven/{g}/{a}@{v}"));
        }
    }
}

fn by_artifact<'a>(packages: &'a [Package], artifact: &str, version: &str) -> &'a Package {
    packages
        .iter()
        .find(|p| p.name == artifact && p.version == version)
        .unwrap_or_else(|| panic!("no {artifact} {version}"))
}

#[test]
fn identities_digests_and_licences() {
    let root = fixtures_root().join("java");

    let war = read_bytes(&root.join("maven-war-web-app/maven.war"));
    let packages = parse_archive("/srv/maven.war", &war, &JavaLimits::default()).unwrap_or_default();
    // maven.war's manifest has no version and its name has none: no package
    // of its own. Its pom.properties (artifactId web-app, which does not
    // match the file name) is reported as a package inside it.
    assert!(packages.iter().all(|p| p.name != "maven"));
    let web_app = by_artifact(&packages, "web-app", "1.0-SNAPSHOT");
    assert_eq!(meta(web_app, "virtual_path"), "/srv/maven.war");
    assert_eq!(web_app.metadata.get("embedded"), Some(&Value::Bool(true)));
    assert_eq!(web_app.metadata.get("sha1"), None);
    for jar in ["jackson-databind-2.9.10.6", "jackson-core-2.9.10", "commons-lang3-3.11", "slf4j-api-1.7.30"] {
        let name = format!("WEB-INF/lib/{jar}.jar");
        let (artifact, version) = jar.rsplit_once('-').unwrap_or_default();
        let package = by_artifact(&packages, artifact, version);
        assert_eq!(meta(package, "virtual_path"), format!("/srv/maven.war:{name}"));
        assert_eq!(meta(package, "sha1"), sha1_hex(&member(&war, &name)), "{jar}");
        assert_eq!(meta(package, "identified_by"), "pom.properties");
    }
    let el = by_artifact(&packages, "javax.el", "3.0.0");
    assert_eq!(el.licenses, ["CDDL + GPLv2 with classpath exception"]);
    assert_eq!(meta(el, "group_id"), "org.glassfish");
    let cron = by_artifact(&packages, "cron-utils", "9.1.2");
    assert_eq!(cron.licenses, ["Apache 2.0"]);

    let gizmo_bytes = read_bytes(&root.join("gizmo-1.1-jar-shaded-duplicates/io.quarkus.gizmo.gizmo-1.1.jar"));
    let packages =
        parse_archive("/a/io.quarkus.gizmo.gizmo-1.1.jar", &gizmo_bytes, &JavaLimits::default()).unwrap_or_default();
    let gizmo = by_artifact(&packages, "gizmo", "1.1");
    assert_eq!(meta(gizmo, "sha1"), sha1_hex(&gizmo_bytes));
    assert_eq!(gizmo.licenses, ["The Apache Software License, Version 2.0"]);
    assert_eq!(gizmo.metadata["manifest"]["Implementation-Title"], "Gizmo");
    assert_eq!(meta(gizmo, "pom_properties"), "META-INF/maven/io.quarkus.gizmo/gizmo/pom.properties");
    // Shaded twice (bar/foo and foo/bar): reported once, from the first path.
    let jackson = by_artifact(&packages, "jackson-databind", "2.12.3");
    assert_eq!(meta(jackson, "pom_properties"), "bar/foo/pom.properties");
    assert!(jackson.licenses.is_empty());
    let log4j = by_artifact(&packages, "log4j", "1.2.17");
    assert_eq!(log4j.licenses, ["The Apache Software License, Version 2.0"]);
    assert_eq!(meta(log4j, "sha1"), sha1_hex(&member(&gizmo_bytes, "jars/log4j-1.2.17.jar")));

    let fat = read_bytes(&root.join("hadoop-shaded-guava-fatjar/hadoop-shaded-guava-1.1.0-SNAPSHOT.jar"));
    let packages =
        parse_archive("/hadoop-shaded-guava-1.1.0-SNAPSHOT.jar", &fat, &JavaLimits::default()).unwrap_or_default();
    assert_eq!(meta(&packages[0], "artifact_id"), "hadoop-shaded-guava", "the archive's own package comes first");
    assert_eq!(
        by_artifact(&packages, "j2objc-annotations", "1.3").licenses,
        ["The Apache Software License, Version 2.0"]
    );
    assert_eq!(
        packages[0].metadata["manifest"]["Implementation-Vendor-Id"], "org.apache.hadoop.thirdparty",
        "continuation lines and keys kept"
    );

    let nested = read_bytes(&root.join("nested-jar/nested.jar"));
    let packages = parse_archive("/nested.jar", &nested, &JavaLimits::default()).unwrap_or_default();
    let paths: Vec<&str> = packages.iter().map(|p| meta(p, "virtual_path")).collect();
    assert_eq!(
        paths,
        [
            "/nested.jar",
            "/nested.jar:META-INF/jars/nested2.jar",
            "/nested.jar:META-INF/jars/nested2.jar:META-INF/jars/nested3.jar"
        ]
    );
    // Two levels down: within the depth limit of 2, beyond a limit of 1.
    let two = JavaLimits { max_depth: 2, ..JavaLimits::default() };
    assert!(parse_archive("/nested.jar", &nested, &two).is_ok());
    let one = JavaLimits { max_depth: 1, ..JavaLimits::default() };
    match parse_archive("/nested.jar", &nested, &one) {
        Err(JavaError::TooDeep { path, limit: 1 }) => {
            assert_eq!(path, "/nested.jar:META-INF/jars/nested2.jar:META-INF/jars/nested3.jar")
        }
        other => panic!("expected TooDeep, got {other:?}"),
    }
}

/// The version Debian's status file gives an installed package, if any.
fn debian_version(package: &str) -> Option<String> {
    let status = fs::read_to_string("/var/lib/dpkg/status").ok()?;
    let stanza = status.split("\n\n").find(|s| s.lines().any(|l| l == format!("Package: {package}")))?;
    stanza.lines().find_map(|l| l.strip_prefix("Version: ")).map(str::to_owned)
}

#[test]
fn debian_jars() {
    let cases = [
        ("/usr/share/java/commons-lang3.jar", "libcommons-lang3-java", "org.apache.commons", "commons-lang3"),
        ("/usr/share/java/jackson-core.jar", "libjackson2-core-java", "com.fasterxml.jackson.core", "jackson-core"),
    ];
    for (path, debian_package, group, artifact) in cases {
        let bytes = read_bytes(Path::new(path));
        let debian = debian_version(debian_package)
            .unwrap_or_else(|| panic!("{debian_package} is not installed; run ./scripts/test.sh, which installs it"));
        let upstream = debian.split(['-', '+', '~']).next().unwrap_or_default().to_owned();
        let packages = parse_archive(path, &bytes, &JavaLimits::default()).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(packages.len(), 1, "{path}: {packages:?}");
        let package = &packages[0];
        assert_eq!(gav(package), (group.to_owned(), artifact.to_owned(), upstream.clone()), "{path} ({debian})");
        assert_eq!(package.purl, format!("pkg:maven/{group}/{artifact}@{upstream}"));
        assert_eq!(meta(package, "sha1"), sha1_hex(&bytes));
        assert_eq!(meta(package, "virtual_path"), path);
        assert_eq!(meta(package, "identified_by"), "pom.properties");
    }
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated).large_file(true);
    for (name, data) in entries {
        writer.start_file(*name, options).unwrap_or_else(|e| panic!("zip: {e}"));
        writer.write_all(data).unwrap_or_else(|e| panic!("zip: {e}"));
    }
    writer.finish().unwrap_or_else(|e| panic!("zip: {e}")).into_inner()
}

fn pom(artifact: &str) -> Vec<u8> {
    format!("groupId=org.example\nartifactId={artifact}\nversion=1.0\n").into_bytes()
}

#[test]
fn broken_archives_are_errors() {
    let good = read_bytes(&fixtures_root().join("java/multi-license-jar/multi-license-1.0.0.jar"));
    let truncated = &good[..good.len() / 2];
    assert!(matches!(
        parse_archive("/x.jar", truncated, &JavaLimits::default()),
        Err(JavaError::Zip { path, .. }) if path == "/x.jar"
    ));
    assert!(matches!(
        parse_archive("/x.jar", b"PK\x03\x04 not really", &JavaLimits::default()),
        Err(JavaError::Zip { .. })
    ));
    assert!(matches!(parse_archive("/x.jar", b"", &JavaLimits::default()), Err(JavaError::Zip { .. })));

    // A zip whose member data is damaged after the headers: the pom.properties
    // cannot be inflated (or fails its CRC).
    let mut damaged = zip_of(&[("META-INF/maven/org.example/a/pom.properties", &pom("a").repeat(50))]);
    // The first local header: 30 fixed bytes, then the name and extra field.
    let length = |at: usize| usize::from(u16::from_le_bytes([damaged[at], damaged[at + 1]]));
    let data_start = 30 + length(26) + length(28);
    for byte in &mut damaged[data_start..data_start + 10] {
        *byte ^= 0x5a;
    }
    assert!(matches!(parse_archive("/a-1.0.jar", &damaged, &JavaLimits::default()), Err(JavaError::Read { .. })));
}

#[test]
fn nested_non_zip_members_are_skipped() {
    let inner = zip_of(&[("META-INF/maven/org.example/inner/pom.properties", &pom("inner"))]);
    let outer = zip_of(&[
        ("META-INF/maven/org.example/outer/pom.properties", &pom("outer")),
        ("lib/inner-1.0.jar", &inner),
        ("src/test/resources/broken.jar", b"not a zip at all"),
    ]);
    let report =
        parse_archive_detailed("/outer-1.0.jar", &outer, &JavaLimits::default()).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = report.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["outer", "inner"]);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].path, "/outer-1.0.jar:src/test/resources/broken.jar");
}

#[test]
fn zip_bombs_are_refused() {
    // Ten levels of jars in jars: beyond the default depth of 8.
    let mut archive = zip_of(&[("META-INF/maven/org.example/l10/pom.properties", &pom("l10"))]);
    for level in (0..10).rev() {
        let name = format!("lib/l{}-1.0.jar", level + 1);
        let props = format!("META-INF/maven/org.example/l{level}/pom.properties");
        archive = zip_of(&[(props.as_str(), &pom(&format!("l{level}"))), (name.as_str(), &archive)]);
    }
    match parse_archive("/l0-1.0.jar", &archive, &JavaLimits::default()) {
        Err(JavaError::TooDeep { limit: 8, path }) => assert_eq!(path.matches(':').count(), 9),
        other => panic!("expected TooDeep, got {other:?}"),
    }

    // A nested jar of 64 MiB of zeros (about 64 KiB compressed), past a
    // 16 MiB per-member limit: refused from its declared size...
    let big = zip_of(&[("lib/zeros-1.0.jar", &vec![0u8; 64 << 20])]);
    assert!(big.len() < 1 << 20);
    let small_member = JavaLimits { max_member_size: 16 << 20, ..JavaLimits::default() };
    assert!(matches!(
        parse_archive("/big-1.0.jar", &big, &small_member),
        Err(JavaError::MemberTooLarge { size, limit, .. }) if size == 64 << 20 && limit == 16 << 20
    ));
    // ...and past a 32 MiB total: refused when the total would be exceeded.
    let small_total = JavaLimits { max_total_uncompressed: 32 << 20, ..JavaLimits::default() };
    assert!(matches!(
        parse_archive("/big-1.0.jar", &big, &small_total),
        Err(JavaError::TotalTooLarge { limit, .. }) if limit == 32 << 20
    ));

    // Fan-out (42.zip-style): every level holds ten copies of the one below,
    // down to a pom.xml that inflates from about a KiB to 1 MiB. Three levels
    // make a thousand copies, a GiB; a 256 MiB budget stops the walk a
    // quarter of the way.
    let mut xml = b"<project>".to_vec();
    xml.resize(1 << 20, b' ');
    let mut level = zip_of(&[("META-INF/maven/org.example/leaf/pom.xml", &xml)]);
    for depth in 0..3 {
        let names: Vec<String> = (0..10).map(|i| format!("lib/copy{depth}-{i}.jar")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), level.as_slice())).collect();
        level = zip_of(&entries);
    }
    let budget = JavaLimits { max_total_uncompressed: 256 << 20, ..JavaLimits::default() };
    assert!(matches!(parse_archive("/fan.jar", &level, &budget), Err(JavaError::TotalTooLarge { .. })));
}

#[test]
fn patterns_cover_every_archive_extension() {
    for extension in java::ARCHIVE_EXTENSIONS {
        assert!(java::PATTERNS.contains(&format!("/**/*.{extension}").as_str()), "{extension}");
    }
}
