//! Standard formats: every emitted document is checked by the official
//! validators, every format round-trips the package set, syft's documents read
//! like syft's own JSON, and bad input gives errors that say what and where.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use portcullis_sbom::format::{self, Format, FormatError, ReadOptions, Uuid, WriteOptions};
use portcullis_sbom::{
    Distro, FileRecord, HistoryEntry, ImageConfig, ImageInfo, Layer, Location, OwnedFile, Package, PackageType, Sbom,
    SchemaInfo, SourceInfo, SourcePackage, ToolInfo, render_table,
};
use serde_json::json;

const STANDARD: [Format; 4] = [Format::CycloneDxJson, Format::CycloneDxXml, Format::SpdxJson, Format::SpdxTagValue];

fn fixed_options() -> WriteOptions {
    WriteOptions {
        timestamp: Some(UNIX_EPOCH + Duration::from_secs(1_764_000_000)),
        document_uuid: Some(Uuid::from_u128(0x1234_5678_9abc_4def_8123_4567_89ab_cdef)),
        ..WriteOptions::default()
    }
}

fn location(path: &str, layer: usize) -> Location {
    Location { path: path.to_owned(), layer_index: Some(layer), layer_diff_id: Some(format!("sha256:{:064x}", layer)) }
}

#[allow(clippy::too_many_arguments)]
fn package(
    package_type: PackageType,
    name: &str,
    version: &str,
    arch: Option<&str>,
    purl: &str,
    licenses: &[&str],
    found_by: &str,
    path: &str,
) -> Package {
    let mut p = Package::new(package_type, name, version, arch, purl.to_owned());
    p.licenses = licenses.iter().map(|l| (*l).to_owned()).collect();
    p.found_by = Some(found_by.to_owned());
    p.introduced_in_layer = Some(1);
    p.locations = vec![location(path, 1)];
    p
}

/// A realistic image SBOM: every package type, licences that are SPDX ids,
/// expressions and free text, a package without version, odd names.
fn synthetic() -> Sbom {
    let mut packages = Vec::new();

    let mut libc = package(
        PackageType::Deb,
        "libc6",
        "2.36-9+deb12u4",
        Some("amd64"),
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc",
        &["LGPL-2.1-or-later", "GPL-2.0-only WITH Linux-syscall-note", "public-domain"],
        "dpkg",
        "/var/lib/dpkg/status",
    );
    libc.introduced_in_layer = Some(0);
    libc.locations = vec![
        location("/var/lib/dpkg/status", 0),
        location("/var/lib/dpkg/info/libc6:amd64.list", 0),
        location("/usr/share/doc/libc6/copyright", 0),
    ];
    libc.source = Some(SourcePackage { name: "glibc".into(), version: None });
    libc.maintainer = Some("GNU Libc Maintainers <debian-glibc@lists.debian.org>".into());
    libc.installed_size = Some(12_988_416);
    libc.files = vec![OwnedFile { path: "/lib/x86_64-linux-gnu/libc.so.6".into(), digest: Some("md5:00".into()) }];
    libc.metadata.insert("cpes".into(), json!(["cpe:2.3:a:gnu:glibc:2.36:*:*:*:*:*:*:*"]));
    packages.push(libc);

    let mut ssl = package(
        PackageType::Rpm,
        "openssl-libs",
        "1:3.0.7-27.el9",
        Some("x86_64"),
        "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rhel-9.3&upstream=openssl-3.0.7-27.el9.src.rpm",
        &["Apache-2.0"],
        "rpm",
        "/var/lib/rpm/rpmdb.sqlite",
    );
    ssl.vendor = Some("Red Hat, Inc.".into());
    ssl.maintainer = Some("Red Hat, Inc. <http://bugzilla.redhat.com/bugzilla>".into());
    ssl.source = Some(SourcePackage { name: "openssl".into(), version: Some("3.0.7-27.el9".into()) });
    ssl.metadata.insert("epoch".into(), json!(1));
    ssl.metadata.insert("release".into(), json!("27.el9"));
    ssl.metadata.insert("source_rpm".into(), json!("openssl-3.0.7-27.el9.src.rpm"));
    packages.push(ssl);

    packages.push(package(
        PackageType::Apk,
        "musl",
        "1.2.4-r2",
        Some("x86_64"),
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4",
        &["MIT"],
        "apk",
        "/lib/apk/db/installed",
    ));
    let mut django = package(
        PackageType::Python,
        "Django",
        "4.2.1",
        None,
        "pkg:pypi/django@4.2.1",
        &["BSD-3-Clause"],
        "python",
        "/usr/local/lib/python3.11/site-packages/Django-4.2.1.dist-info/METADATA",
    );
    django.owner = Some("deb/python3-django@3:4.2.1-1?arch=all".into());
    packages.push(django);
    packages.push(package(
        PackageType::Python,
        "requests",
        "2.19.1",
        None,
        "pkg:pypi/requests@2.19.1",
        &["Apache 2.0"],
        "python",
        "/usr/local/lib/python3.11/site-packages/requests-2.19.1.dist-info/METADATA",
    ));
    packages.push(package(
        PackageType::Npm,
        "@angular/core",
        "16.0.0",
        None,
        "pkg:npm/%40angular/core@16.0.0",
        &["MIT OR Apache-2.0"],
        "npm",
        "/app/node_modules/@angular/core/package.json",
    ));
    let mut log4j = package(
        PackageType::JavaArchive,
        "log4j-core",
        "2.14.1",
        None,
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        &["Apache-2.0"],
        "java-archive",
        "/app/lib/log4j-core-2.14.1.jar",
    );
    log4j.metadata.insert("sha1".into(), json!("9a3b8a1ba5b4c5f4e0b6b16e4d3a11b4ab4e8e4f"));
    log4j.metadata.insert(
        "cpes".into(),
        json!(["cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*", "cpe:2.3:a:apache:log4j-core:2.14.1:*:*:*:*:*:*:*"]),
    );
    packages.push(log4j);
    packages.push(package(
        PackageType::GoModule,
        "github.com/spf13/cobra",
        "v1.7.0",
        None,
        "pkg:golang/github.com/spf13/cobra@v1.7.0",
        &[],
        "go-module",
        "/usr/local/bin/app",
    ));
    packages.push(package(
        PackageType::GoModule,
        "stdlib",
        "go1.21.0",
        None,
        "pkg:golang/stdlib@1.21.0",
        &["BSD-3-Clause"],
        "go-module",
        "/usr/local/bin/app",
    ));
    let mut serde = package(
        PackageType::RustCrate,
        "serde",
        "1.0.188",
        None,
        "pkg:cargo/serde@1.0.188",
        &["MIT", "Apache-2.0"],
        "rust-crate",
        "/usr/local/bin/tool",
    );
    serde
        .metadata
        .insert("digests".into(), json!(["sha256:cf9e0fcba69a370eed61bcf2b728575f726b50b55eba78064753d7c2ef8a1a70"]));
    packages.push(serde);
    packages.push(package(
        PackageType::Gem,
        "rack",
        "2.2.7",
        None,
        "pkg:gem/rack@2.2.7",
        &["MIT"],
        "gem",
        "/usr/lib/ruby/gems/3.1.0/specifications/rack-2.2.7.gemspec",
    ));
    packages.push(package(
        PackageType::PhpComposer,
        "symfony/console",
        "v6.3.0",
        None,
        "pkg:composer/symfony/console@v6.3.0",
        &["MIT", "GPL-2.0-or-later OR MIT", "GPL-2.0+"],
        "php-composer",
        "/app/vendor/composer/installed.json",
    ));
    packages.push(package(
        PackageType::Dotnet,
        "Newtonsoft.Json",
        "13.0.3",
        None,
        "pkg:nuget/Newtonsoft.Json@13.0.3",
        &["MIT"],
        "dotnet",
        "/app/app.deps.json",
    ));
    packages.push(package(
        PackageType::Binary,
        "openssl",
        "3.0.7",
        None,
        "pkg:generic/openssl@3.0.7",
        &[],
        "binary-classifier",
        "/usr/bin/openssl",
    ));
    // No version, odd characters in the name and a multi-line free-text licence.
    packages.push(package(
        PackageType::Python,
        "wëird <pkg> & \"co\"",
        "",
        None,
        "pkg:pypi/w%C3%ABird-pkg-co",
        &["BSD-like\n(see COPYING)", "Custom: see <LICENSE.txt> & 'NOTICE'"],
        "python",
        "/opt/wëird/PKG-INFO",
    ));
    packages.push(package(
        PackageType::Npm,
        "my package (beta)",
        "1.0.0+build.5",
        None,
        "pkg:npm/my%20package%20%28beta%29@1.0.0%2Bbuild.5",
        &["(MIT AND BSD-2-Clause)"],
        "npm",
        "/app/node_modules/my package (beta)/package.json",
    ));
    packages.sort_by(|a, b| (&a.name, &a.version, &a.id).cmp(&(&b.name, &b.version, &b.id)));

    let file = |path: &str, sha1: Option<&str>, owners: &[&str]| FileRecord {
        path: path.to_owned(),
        kind: "file".into(),
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: 10,
        link_target: None,
        sha256: Some(format!("sha256:{:064x}", path.len())),
        sha1: sha1.map(str::to_owned),
        md5: None,
        executable_format: None,
        layer_index: Some(1),
        owners: owners.iter().map(|o| (*o).to_owned()).collect(),
    };
    let files = vec![
        file("/usr/bin/openssl", Some("sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"), &[]),
        file(
            "/lib/x86_64-linux-gnu/libc.so.6",
            Some("sha1:0123456789abcdef0123456789abcdef01234567"),
            &["deb/libc6@2.36-9+deb12u4?arch=amd64"],
        ),
        file("/etc/hostname", None, &[]),
    ];

    let mut labels = BTreeMap::new();
    labels.insert("org.opencontainers.image.source".to_owned(), "https://example.org/app".to_owned());
    Sbom {
        schema: SchemaInfo::default(),
        tool: ToolInfo { name: "portcullis".into(), version: "0.1.0".into() },
        source: SourceInfo {
            scheme: "registry".into(),
            input: "docker.io/library/example:1.0".into(),
            scope: "squashed".into(),
            image: Some(ImageInfo {
                manifest_digest: Some(format!("sha256:{}", "ab".repeat(32))),
                index_digest: Some(format!("sha256:{}", "cd".repeat(32))),
                manifest_media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
                config_digest: format!("sha256:{}", "ef".repeat(32)),
                references: vec!["docker.io/library/example:1.0".into()],
                platform: Some("linux/amd64".into()),
                created: Some("2024-05-01T10:00:00Z".into()),
                config: ImageConfig {
                    user: Some("app".into()),
                    env: vec!["PATH=/usr/bin".into()],
                    cmd: vec!["/app/run".into()],
                    labels,
                    ..ImageConfig::default()
                },
                history: vec![HistoryEntry {
                    created: Some("2024-05-01T10:00:00Z".into()),
                    created_by: Some("COPY app /app".into()),
                    comment: None,
                    empty_layer: false,
                    layer_index: Some(1),
                }],
            }),
        },
        distro: Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            version_codename: Some("bookworm".into()),
            id_like: vec![],
            name: Some("Debian GNU/Linux".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            cpe_name: None,
            source_file: "/etc/os-release".into(),
        }),
        layers: (0..2)
            .map(|i| Layer {
                index: i,
                digest: Some(format!("sha256:{:064x}", 100 + i)),
                diff_id: Some(format!("sha256:{:064x}", i)),
                media_type: Some("application/vnd.oci.image.layer.v1.tar+gzip".into()),
                size: Some(1000 + i as u64),
                uncompressed_size: 4000,
                file_count: 12,
            })
            .collect(),
        packages,
        files,
        secrets: vec![],
        content_matches: vec![],
        retrieved_files: vec![],
        dockerfile: None,
    }
}

/// A `dir:` SBOM: no image, no distro.
fn synthetic_dir() -> Sbom {
    let mut sbom = synthetic();
    sbom.source =
        SourceInfo { scheme: "dir".into(), input: "/srv/rootfs".into(), scope: "squashed".into(), image: None };
    sbom.distro = None;
    sbom.layers.clear();
    for package in &mut sbom.packages {
        package.introduced_in_layer = None;
        for location in &mut package.locations {
            location.layer_index = None;
            location.layer_diff_id = None;
        }
    }
    sbom
}

fn without_files(sbom: &Sbom) -> Vec<Package> {
    sbom.packages
        .iter()
        .cloned()
        .map(|mut p| {
            p.files.clear();
            p
        })
        .collect()
}

#[test]
fn emitted_documents_pass_the_official_validators() {
    let mut documents = Vec::new();
    let with_files = WriteOptions { spdx_files: true, ..fixed_options() };
    let plain = WriteOptions { portcullis_properties: false, ..WriteOptions::default() };
    for (label, sbom) in [("image", synthetic()), ("dir", synthetic_dir())] {
        for format in STANDARD {
            for (variant, options) in [("fixed", &fixed_options()), ("files", &with_files), ("plain", &plain)] {
                let text = format::write(&sbom, format, options).unwrap();
                documents.push((format, format!("{label}/{variant}/{format}"), text));
            }
        }
    }
    common::validate(&documents);
    eprintln!("validated {} documents with {}", documents.len(), common::validator_versions());
}

#[test]
fn a_broken_document_fails_validation() {
    // The validation harness itself must be able to fail.
    let sbom = synthetic();
    let good = format::write(&sbom, Format::CycloneDxJson, &fixed_options()).unwrap();
    let bad_cdx = good.replacen("\"library\"", "\"librarry\"", 1);
    let good_spdx = format::write(&sbom, Format::SpdxJson, &fixed_options()).unwrap();
    let bad_spdx = good_spdx.replacen("\"SPDXRef-Package-", "\"SPDXRef Package-", 1);
    for (format, text) in [(Format::CycloneDxJson, bad_cdx), (Format::SpdxJson, bad_spdx)] {
        let result = std::panic::catch_unwind(|| common::validate(&[(format, "broken".to_owned(), text)]));
        let message = match result {
            Ok(()) => panic!("{format}: the validator accepted a broken document"),
            Err(payload) => payload.downcast_ref::<String>().cloned().unwrap_or_default(),
        };
        assert!(message.contains("INVALID"), "{message}");
    }
}

#[test]
fn every_format_round_trips_everything_but_owned_files() {
    for sbom in [synthetic(), synthetic_dir()] {
        for format in STANDARD {
            let text = format::write(&sbom, format, &fixed_options()).unwrap();
            assert_eq!(format::detect(text.as_bytes()).unwrap(), format);
            let back = format::read(text.as_bytes()).unwrap_or_else(|e| panic!("{format}: {e}\n{text}"));
            let label = format!("{} via {format}", sbom.source.scheme);
            common::assert_same_packages(&label, &sbom, &back);
            let expected = without_files(&sbom);
            for (want, got) in expected.iter().zip(&back.packages) {
                assert_eq!(want, got, "{label}");
            }
            assert_eq!(back.distro, sbom.distro, "{label}");
            assert_eq!(back.source, sbom.source, "{label}");
            assert_eq!(back.layers, sbom.layers, "{label}");
            assert_eq!(back.tool, sbom.tool, "{label}");
        }
    }
}

#[test]
fn without_portcullis_properties_the_package_set_still_round_trips() {
    let options = WriteOptions { portcullis_properties: false, ..fixed_options() };
    let sbom = synthetic();
    for format in STANDARD {
        let text = format::write(&sbom, format, &options).unwrap();
        assert!(!text.contains("portcullis:id"), "{format}");
        let back = format::read(text.as_bytes()).unwrap();
        common::assert_same_packages(&format!("{format} without properties"), &sbom, &back);
        // What the standard fields carry.
        let libc = back.packages.iter().find(|p| p.name == "libc6").unwrap();
        assert_eq!(libc.arch.as_deref(), Some("amd64"));
        assert_eq!(libc.source.as_ref().map(|s| s.name.as_str()), Some("glibc"));
        assert_eq!(libc.metadata["cpes"], json!(["cpe:2.3:a:gnu:glibc:2.36:*:*:*:*:*:*:*"]));
        let ssl = back.packages.iter().find(|p| p.name == "openssl-libs").unwrap();
        assert_eq!(ssl.vendor.as_deref(), Some("Red Hat, Inc."));
        assert_eq!(ssl.source, Some(SourcePackage { name: "openssl".into(), version: Some("3.0.7-27.el9".into()) }));
        let log4j = back.packages.iter().find(|p| p.name == "log4j-core").unwrap();
        assert_eq!(log4j.metadata["sha1"], json!("9a3b8a1ba5b4c5f4e0b6b16e4d3a11b4ab4e8e4f"));
        let distro = back.distro.as_ref().unwrap();
        assert_eq!((distro.id.as_str(), distro.version_id.as_deref()), ("debian", Some("12")));
        if matches!(format, Format::CycloneDxJson | Format::CycloneDxXml) {
            assert_eq!(back.source.scheme, "sbom");
            assert_eq!(back.source.image.as_ref().unwrap().references, ["docker.io/library/example:1.0"]);
        }
        let paths: Vec<&str> = libc.locations.iter().map(|l| l.path.as_str()).collect();
        if format == Format::SpdxJson || format == Format::SpdxTagValue {
            assert_eq!(
                paths,
                ["/var/lib/dpkg/status", "/var/lib/dpkg/info/libc6:amd64.list", "/usr/share/doc/libc6/copyright"]
            );
        }
    }
}

#[test]
fn table_and_native_json_are_the_existing_renderers() {
    let sbom = synthetic();
    assert_eq!(format::write(&sbom, Format::Table, &WriteOptions::default()).unwrap(), render_table(&sbom));
    let native = format::write(&sbom, Format::Json, &WriteOptions::default()).unwrap();
    assert_eq!(native, sbom.to_json());
    assert_eq!(format::detect(native.as_bytes()).unwrap(), Format::Json);
    assert_eq!(format::read(native.as_bytes()).unwrap(), sbom);
    // --all-platforms writes an array.
    let array = format!("[{native},{native}]");
    assert_eq!(format::read_all_with(array.as_bytes(), &ReadOptions::default()).unwrap().len(), 2);
    let error = format::read(array.as_bytes()).unwrap_err().to_string();
    assert!(error.contains("array of 2 SBOMs"), "{error}");
}

#[test]
fn fixed_options_make_documents_reproducible() {
    let sbom = synthetic();
    for format in STANDARD {
        let a = format::write(&sbom, format, &fixed_options()).unwrap();
        let b = format::write(&sbom, format, &fixed_options()).unwrap();
        assert_eq!(a, b, "{format}");
        assert!(a.contains("12345678-9abc-4def-8123-456789abcdef"), "{format}");
        assert!(a.contains("2025-11-24T16:00:00Z"), "{format}");
        let c = format::write(&sbom, format, &WriteOptions::default()).unwrap();
        assert_ne!(a, c, "{format}: defaults must give a fresh serial/namespace");
    }
    let spdx = format::write(&sbom, Format::SpdxJson, &fixed_options()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&spdx).unwrap();
    let namespace = doc["documentNamespace"].as_str().unwrap();
    assert!(namespace.starts_with("https://"), "{namespace}");
    assert!(namespace.contains(&"ab".repeat(32)), "namespace derived from the digest: {namespace}");
}

#[test]
fn documents_have_the_expected_shape() {
    let sbom = synthetic();
    let cdx: serde_json::Value =
        serde_json::from_str(&format::write(&sbom, Format::CycloneDxJson, &fixed_options()).unwrap()).unwrap();
    assert_eq!(cdx["specVersion"], "1.6");
    assert_eq!(cdx["metadata"]["tools"]["components"][0]["name"], "portcullis");
    assert_eq!(cdx["metadata"]["component"]["type"], "container");
    assert_eq!(cdx["metadata"]["component"]["name"], "docker.io/library/example:1.0");
    let components = cdx["components"].as_array().unwrap();
    assert_eq!(components[0]["type"], "operating-system");
    let by_name = |name: &str| components.iter().find(|c| c["name"] == name).unwrap().clone();
    assert_eq!(by_name("@angular/core")["licenses"], json!([{"expression": "MIT OR Apache-2.0"}]));
    assert_eq!(by_name("serde")["licenses"], json!([{"license": {"id": "MIT"}}, {"license": {"id": "Apache-2.0"}}]));
    assert_eq!(by_name("requests")["licenses"], json!([{"license": {"name": "Apache 2.0"}}]));
    assert_eq!(by_name("log4j-core")["hashes"][0]["alg"], "SHA-1");
    let refs: BTreeSet<&str> = components.iter().map(|c| c["bom-ref"].as_str().unwrap()).collect();
    assert_eq!(refs.len(), components.len(), "bom-refs are unique");
    assert_eq!(cdx["dependencies"][0]["dependsOn"].as_array().unwrap().len(), components.len());

    let spdx: serde_json::Value =
        serde_json::from_str(&format::write(&sbom, Format::SpdxJson, &fixed_options()).unwrap()).unwrap();
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(spdx["dataLicense"], "CC0-1.0");
    let packages = spdx["packages"].as_array().unwrap();
    for package in packages {
        let id = package["SPDXID"].as_str().unwrap();
        assert!(
            id.strip_prefix("SPDXRef-").unwrap().chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
    }
    let libc = packages.iter().find(|p| p["name"] == "libc6").unwrap();
    assert_eq!(
        libc["licenseDeclared"],
        "LGPL-2.1-or-later AND (GPL-2.0-only WITH Linux-syscall-note) AND LicenseRef-public-domain"
    );
    assert_eq!(libc["supplier"], "Person: GNU Libc Maintainers (debian-glibc@lists.debian.org)");
    let extracted = spdx["hasExtractedLicensingInfos"].as_array().unwrap();
    assert!(extracted.iter().any(|e| e["extractedText"] == "public-domain"));
    let relationships = spdx["relationships"].as_array().unwrap();
    assert_eq!(relationships[0]["relationshipType"], "DESCRIBES");
    let contains = relationships.iter().filter(|r| r["relationshipType"] == "CONTAINS").count();
    assert_eq!(contains, sbom.packages.len() + 1, "image CONTAINS every package and the OS");
    assert!(spdx.get("files").is_none(), "files are off by default");
    let with_files: serde_json::Value = serde_json::from_str(
        &format::write(&sbom, Format::SpdxJson, &WriteOptions { spdx_files: true, ..fixed_options() }).unwrap(),
    )
    .unwrap();
    assert_eq!(with_files["files"].as_array().unwrap().len(), 2, "only files with a SHA-1");
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut out).unwrap();
    out
}

#[test]
fn syft_documents_read_like_syft_json() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/syft-deb-python");
    let syft: serde_json::Value = serde_json::from_slice(&gunzip(&dir.join("syft.json.gz"))).unwrap();
    let expected: BTreeSet<(String, String, String)> = syft["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let field = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
            (field("name"), field("version"), field("purl"))
        })
        .collect();
    assert_eq!(expected.len(), 124);
    for (file, format) in [
        ("cyclonedx.json.gz", Format::CycloneDxJson),
        ("cyclonedx.xml.gz", Format::CycloneDxXml),
        ("spdx.json.gz", Format::SpdxJson),
        ("spdx.spdx.gz", Format::SpdxTagValue),
    ] {
        let bytes = gunzip(&dir.join(file));
        assert_eq!(format::detect(&bytes).unwrap(), format, "{file}");
        let sbom = format::read(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        let actual: BTreeSet<(String, String, String)> =
            sbom.packages.iter().map(|p| (p.name.clone(), p.version.clone(), p.purl.clone())).collect();
        let missing: Vec<_> = expected.difference(&actual).collect();
        let extra: Vec<_> = actual.difference(&expected).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{file}: missing {missing:#?}\nextra {extra:#?}");
        // Same-identity duplicates (requirements.txt + installed) are merged.
        assert_eq!(sbom.packages.len(), expected.len(), "{file}");
        let distro = sbom.distro.as_ref().unwrap_or_else(|| panic!("{file}: no distro"));
        assert_eq!((distro.id.as_str(), distro.version_id.as_deref()), ("debian", Some("12")), "{file}");
        assert_eq!(sbom.tool.name, "syft", "{file}");
        assert_eq!(sbom.tool.version, "1.18.1", "{file}");
        let adduser = sbom.packages.iter().find(|p| p.name == "adduser").unwrap();
        assert_eq!(adduser.package_type, PackageType::Deb);
        assert_eq!(adduser.arch.as_deref(), Some("all"));
        assert_eq!(adduser.id, "deb/adduser@3.134?arch=all");
        assert_eq!(adduser.licenses, ["GPL-2.0-only", "GPL-2.0-or-later"], "{file}");
        assert!(adduser.locations.iter().any(|l| l.path == "/var/lib/dpkg/status"), "{file}: {:?}", adduser.locations);
        let requests = sbom.packages.iter().find(|p| p.name == "requests").unwrap();
        assert_eq!(requests.package_type, PackageType::Python);
        assert_eq!(requests.licenses, ["Apache 2.0"], "{file}: LicenseRef mapped back to its text");
        let types: BTreeSet<PackageType> = sbom.packages.iter().map(|p| p.package_type).collect();
        assert_eq!(types, BTreeSet::from([PackageType::Deb, PackageType::Python]), "{file}");
        if matches!(format, Format::CycloneDxJson | Format::CycloneDxXml) {
            assert_eq!(adduser.found_by.as_deref(), Some("dpkg-db-cataloger"));
            assert_eq!(adduser.maintainer.as_deref(), Some("Debian Adduser Developers <adduser@packages.debian.org>"));
            assert_eq!(adduser.metadata["cpes"], json!(["cpe:2.3:a:adduser:adduser:3.134:*:*:*:*:*:*:*"]));
            assert_eq!(sbom.distro.as_ref().unwrap().version_codename.as_deref(), Some("bookworm"));
        }
    }
}

#[test]
fn the_stored_syft_documents_are_valid() {
    // Our reader's test inputs are themselves what the validators accept.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/syft-deb-python");
    let documents: Vec<_> = [
        ("cyclonedx.json.gz", Format::CycloneDxJson),
        ("cyclonedx.xml.gz", Format::CycloneDxXml),
        ("spdx.json.gz", Format::SpdxJson),
        ("spdx.spdx.gz", Format::SpdxTagValue),
    ]
    .into_iter()
    .map(|(file, format)| (format, file.to_owned(), String::from_utf8(gunzip(&dir.join(file))).unwrap()))
    .collect();
    common::validate(&documents);
}

fn error_of(bytes: &[u8]) -> String {
    match format::read(bytes) {
        Ok(_) => panic!("accepted: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)])),
        Err(e) => e.to_string(),
    }
}

#[test]
fn truncated_json_names_the_line() {
    let text = format::write(&synthetic(), Format::CycloneDxJson, &fixed_options()).unwrap();
    let cut = &text[..text.len() / 2];
    let error = format::read(cut.as_bytes()).unwrap_err();
    let expected_line = cut.lines().count();
    match &error {
        FormatError::Json { line, message, .. } => {
            assert_eq!(*line, expected_line, "{error}");
            assert!(message.contains("EOF"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_json_types_name_the_path() {
    let text = format::write(&synthetic(), Format::CycloneDxJson, &fixed_options()).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["components"][2]["licenses"] = json!("MIT");
    let error = error_of(doc.to_string().as_bytes());
    assert!(error.contains("components[2].licenses"), "{error}");
    let text = format::write(&synthetic(), Format::SpdxJson, &fixed_options()).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["packages"][3]["externalRefs"][0]["referenceLocator"] = json!(7);
    let error = error_of(doc.to_string().as_bytes());
    assert!(error.contains("packages[3].externalRefs[0].referenceLocator"), "{error}");
    assert!(error.starts_with("SPDX JSON"), "{error}");
}

#[test]
fn xml_in_another_namespace_is_refused() {
    let text = format::write(&synthetic(), Format::CycloneDxXml, &fixed_options()).unwrap();
    let wrong = text.replace("http://cyclonedx.org/schema/bom/1.6", "http://example.org/not-cyclonedx");
    let error = error_of(wrong.as_bytes());
    assert!(error.contains("http://example.org/not-cyclonedx") && error.contains("CycloneDX"), "{error}");
    let no_namespace = text.replace(" xmlns=\"http://cyclonedx.org/schema/bom/1.6\"", "");
    let error = error_of(no_namespace.as_bytes());
    assert!(error.contains("(none)"), "{error}");
    // Older CycloneDX namespaces are read.
    let older = text.replace("http://cyclonedx.org/schema/bom/1.6", "http://cyclonedx.org/schema/bom/1.4");
    assert_eq!(format::read(older.as_bytes()).unwrap().packages.len(), synthetic().packages.len());
}

#[test]
fn malformed_xml_names_the_line() {
    let text = format::write(&synthetic(), Format::CycloneDxXml, &fixed_options()).unwrap();
    let line = 9;
    let broken: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { format!("{l}<oops>\n") } else { format!("{l}\n") })
        .collect();
    let error = format::read(broken.as_bytes()).unwrap_err();
    assert!(matches!(error, FormatError::Syntax { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.starts_with("CycloneDX XML: line"), "{message}");
    let entity = text.replacen("<name>libc6</name>", "<name>&xxe;</name>", 1);
    assert!(error_of(entity.as_bytes()).contains("undefined entity &xxe;"));
    let doctype = text.replacen("<bom ", "<!DOCTYPE bom [<!ENTITY a \"b\">]><bom ", 1);
    assert!(error_of(doctype.as_bytes()).contains("DOCTYPE"));
}

#[test]
fn malformed_tag_value_names_the_line() {
    let text = format::write(&synthetic(), Format::SpdxTagValue, &fixed_options()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("PackageName: libc6")).unwrap();
    lines.insert(at + 2, "this line has no tag");
    let broken = lines.join("\n");
    let error = format::read(broken.as_bytes()).unwrap_err();
    match &error {
        FormatError::Syntax { line, message, .. } => {
            assert_eq!(*line, at + 3, "{error}");
            assert!(message.contains("this line has no tag"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    let unclosed = text.replacen("AnnotationComment: <text>", "AnnotationComment: <text>never closed", 1);
    let unclosed = unclosed.replace("</text>", "");
    assert!(error_of(unclosed.as_bytes()).contains("never closed by </text>"));
    let bad_ref = text.replacen("ExternalRef: PACKAGE-MANAGER purl ", "ExternalRef: PACKAGE-MANAGER ", 1);
    assert!(error_of(bad_ref.as_bytes()).contains("CATEGORY TYPE LOCATOR"));
    let orphan = "SPDXVersion: SPDX-2.3\nPackageVersion: 1.0\n";
    assert!(error_of(orphan.as_bytes()).contains("line 2: `PackageVersion` outside a package"));
}

#[test]
fn documents_of_no_known_format_are_refused() {
    for (input, expected) in [
        (&b""[..], "empty"),
        (b"   \n", "empty"),
        (b"{\"hello\": 1}", "without `schema.version`"),
        (b"[1, 2]", "JSON"),
        (b"<html><body/></html>", "<html>"),
        (b"Name: value\nOther: x\n", "neither JSON, XML, nor SPDX tag-value"),
        (b"\x00\x01\x02garbage", "neither"),
        (b"{\"bomFormat\": \"SomethingElse\"}", "expected \"CycloneDX\""),
        (b"{\"artifacts\": [], \"descriptor\": {}}", "syft's own JSON"),
        (b"{\"@context\": \"https://spdx.org/rdf/3.0.0/spdx-context.jsonld\"}", "SPDX 3"),
        (b"{\"spdxVersion\": \"SPDX-3.0\"}", "SPDX 2.x is read"),
        (b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"2.0\"}", "CycloneDX 1.x"),
        (b"{\"schema\": {\"version\": \"2.0\", \"url\": \"x\"}}", "schema 1.x"),
    ] {
        let error = error_of(input);
        assert!(error.contains(expected), "{:?}: {error}", String::from_utf8_lossy(input));
    }
}

#[test]
fn oversized_documents_are_refused() {
    let text = format::write(&synthetic(), Format::SpdxJson, &fixed_options()).unwrap();
    let options = ReadOptions { max_size: 1000 };
    match format::read_with(text.as_bytes(), &options) {
        Err(FormatError::TooLarge { size, limit: 1000 }) => assert_eq!(size, text.len()),
        other => panic!("{other:?}"),
    }
    assert_eq!(format::DEFAULT_MAX_DOCUMENT_SIZE, 256 << 20);
}

#[test]
fn truncated_documents_never_panic() {
    let sbom = synthetic();
    for format in STANDARD {
        let text = format::write(&sbom, format, &fixed_options()).unwrap();
        let bytes = text.as_bytes();
        let step = (bytes.len() / 300).max(1);
        for end in (0..bytes.len()).step_by(step) {
            // Any outcome but a panic is fine; most of these are errors.
            let _ = format::read(&bytes[..end]);
        }
    }
}

#[test]
fn format_names_follow_syft() {
    for (name, format) in [
        ("table", Format::Table),
        ("json", Format::Json),
        ("cyclonedx-json", Format::CycloneDxJson),
        ("CycloneDX_JSON", Format::CycloneDxJson),
        ("cyclonedx-xml", Format::CycloneDxXml),
        ("cyclonedx", Format::CycloneDxXml),
        ("cyclone", Format::CycloneDxXml),
        ("cdx", Format::CycloneDxXml),
        ("spdx-json", Format::SpdxJson),
        ("spdx-tag-value", Format::SpdxTagValue),
        ("spdx", Format::SpdxTagValue),
        ("spdx-tv", Format::SpdxTagValue),
        ("cyclonedx-json@1.6", Format::CycloneDxJson),
        ("spdx-json@2.3", Format::SpdxJson),
    ] {
        assert_eq!(Format::parse(name).unwrap(), format, "{name}");
    }
    for format in Format::ALL {
        assert_eq!(Format::parse(format.name()).unwrap(), format);
        assert_eq!(format.to_string().parse::<Format>().unwrap(), format);
    }
    assert_eq!(Format::names().len(), Format::ALL.len());
    let error = Format::parse("syft-json").unwrap_err().to_string();
    assert!(error.contains("unknown SBOM format `syft-json`") && error.contains("spdx-tag-value"), "{error}");
    let error = Format::parse("cyclonedx-json@1.5").unwrap_err().to_string();
    assert!(error.contains("only CycloneDX 1.6"), "{error}");
    assert!(Format::parse("spdx-json@2.2").is_err());
    assert!(Format::parse("table@1").is_err());
}

#[test]
fn foreign_packages_of_unknown_ecosystems_are_kept_as_binary() {
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "metadata": {"tools": [{"vendor": "x", "name": "old-tool", "version": "2"}]},
        "components": [
            {"type": "library", "name": "zlib", "version": "1.3", "purl": "pkg:conan/zlib@1.3"},
            {"type": "library", "name": "thing", "version": "1"},
            {"type": "file", "name": "/etc/passwd"},
            {"type": "library", "name": "outer", "version": "1", "purl": "pkg:npm/outer@1",
             "components": [{"type": "library", "name": "inner", "version": "2", "purl": "pkg:npm/inner@2"}]},
            {"type": "library", "name": "dup", "version": "1", "purl": "pkg:npm/dup@1", "licenses": [{"license": {"id": "MIT"}}]},
            {"type": "library", "name": "dup", "version": "1", "purl": "pkg:npm/dup@1?x=y"},
        ]
    });
    let sbom = format::read(doc.to_string().as_bytes()).unwrap();
    assert_eq!(sbom.tool.name, "old-tool");
    let names: Vec<(&str, &str)> = sbom.packages.iter().map(|p| (p.name.as_str(), p.id.as_str())).collect();
    assert_eq!(
        names,
        [
            ("dup", "npm/dup@1"),
            ("dup", "npm/dup@1#2"),
            ("inner", "npm/inner@2"),
            ("outer", "npm/outer@1"),
            ("thing", "binary/thing@1"),
            ("zlib", "binary/zlib@1.3")
        ]
    );
    let zlib = sbom.packages.iter().find(|p| p.name == "zlib").unwrap();
    assert_eq!(zlib.metadata["original_type"], "conan");
    assert_eq!(zlib.purl, "pkg:conan/zlib@1.3");
    let thing = sbom.packages.iter().find(|p| p.name == "thing").unwrap();
    assert_eq!(thing.purl, "pkg:generic/thing@1");
    assert_eq!(thing.metadata["original_type"], "unknown");
}
