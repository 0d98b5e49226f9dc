//! The Rust cataloger: `cargo auditable` data in the fixture binary of
//! `shared/fixtures/rust/` and in the lab image's `/usr/local/bin/hello-rust`,
//! that binary's `Cargo.lock`, and hand-made `.dep-v0` sections and lock
//! files for the formats and failures no real file here has.

use std::io::Write;

use portcullis_catalog::lang::rust::{
    CrateSource, MAX_AUDIT_JSON, RustCrate, RustError, parse_auditable, parse_cargo_lock, read_auditable,
    read_cargo_lock,
};
use portcullis_sbom::{Package, PackageType};
use portcullis_testkit::data::{expected_json, fixture, fixtures_root, lab_root, lab_rootfs, read_bytes};
use serde_json::Value;

/// (name, version, purl, source metadata) of every package.
fn identities(packages: &[Package]) -> Vec<(String, String, String, String)> {
    packages
        .iter()
        .map(|p| {
            let source = p.metadata.get("source").and_then(Value::as_str).unwrap_or_default().to_owned();
            (p.name.clone(), p.version.clone(), p.purl.clone(), source)
        })
        .collect()
}

fn owned(items: &[(&str, &str, &str, &str)]) -> Vec<(String, String, String, String)> {
    items.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())).collect()
}

#[test]
fn auditable_fixture_matches_expected() {
    let dir = fixture("rust/cargo-auditable-elf");
    let expected = expected_json(&dir);
    let binary = read_bytes(&dir.join("usr/local/bin/crate_with_features"));
    let crates = match read_auditable(&binary) {
        Ok(Some(crates)) => crates,
        other => panic!("expected auditable data, got {other:?}"),
    };
    let want = expected["packages"].as_array().cloned().unwrap_or_default();
    assert_eq!(crates.len(), want.len());
    for (krate, want) in crates.iter().zip(&want) {
        assert_eq!(Some(krate.name.as_str()), want["name"].as_str());
        assert_eq!(Some(krate.version.as_str()), want["version"].as_str());
        assert_eq!(Some(krate.source.as_str()), want["source"].as_str());
        assert_eq!(Some(krate.root), want["root"].as_bool());
        let deps: Vec<String> = want["dependencies"]
            .as_array()
            .map(|d| d.iter().filter_map(Value::as_str).map(|n| format!("{n}@0.1.0")).collect())
            .unwrap_or_default();
        assert_eq!(krate.dependencies, deps);
        assert!(!krate.build_only);
    }

    let packages = parse_auditable(&binary).ok().flatten().unwrap_or_default();
    assert_eq!(
        identities(&packages),
        owned(&[
            ("crate_with_features", "0.1.0", "pkg:cargo/crate_with_features@0.1.0", "local"),
            ("library_crate", "0.1.0", "pkg:cargo/library_crate@0.1.0", "local"),
        ])
    );
    assert_eq!(packages[0].metadata["root"], true);
    assert_eq!(packages[0].package_type, PackageType::RustCrate);
    assert_eq!(packages[0].found_by.as_deref(), Some("rust-cargo-auditable"));
}

#[test]
fn lab_hello_rust_binary_and_lock() {
    let binary_path = lab_rootfs("deb-bins").join("usr/local/bin/hello-rust");
    assert!(
        binary_path.is_file(),
        "{} is missing: the lab image deb-bins is built by ./scripts/test.sh (without SKIP_BINS)",
        binary_path.display()
    );
    let packages = parse_auditable(&read_bytes(&binary_path)).ok().flatten().unwrap_or_default();
    let want = owned(&[
        ("base64", "0.5.1", "pkg:cargo/base64@0.5.1", "crates.io"),
        ("byteorder", "1.5.0", "pkg:cargo/byteorder@1.5.0", "crates.io"),
        ("hello-rust", "0.1.0", "pkg:cargo/hello-rust@0.1.0", "local"),
        ("smallvec", "1.6.0", "pkg:cargo/smallvec@1.6.0", "crates.io"),
    ]);
    assert_eq!(identities(&packages), want);
    assert_eq!(packages[2].metadata["root"], true);
    assert_eq!(packages[2].metadata["dependencies"], serde_json::json!(["base64@0.5.1", "smallvec@1.6.0"]));
    assert_eq!(packages[0].metadata["dependencies"], serde_json::json!(["byteorder@1.5.0"]));

    // The lock file it was built from lists the same crates.
    let lock = read_bytes(&lab_root().join("cache/rust-build/Cargo.lock"));
    let locked = parse_cargo_lock(&lock).unwrap_or_default();
    assert_eq!(identities(&locked), want);
    assert_eq!(
        locked[3].metadata["checksum"], "1a55ca5f3b68e41c979bf8c46a6f1da892ca4db8f94023ce0bd32407573b1ac0",
        "smallvec's checksum"
    );
    assert_eq!(locked[2].metadata.get("checksum"), None, "local crates have no checksum");
    assert_eq!(locked[2].metadata["dependencies"], serde_json::json!(["base64@0.5.1", "smallvec@1.6.0"]));
    assert_eq!(locked[0].found_by.as_deref(), Some("rust-cargo-lock"));
}

#[test]
fn lock_file_versions() {
    // v1: checksums in [metadata], dependencies written `name version (source)`.
    let v1 = br#"
[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "libc 0.2.40 (registry+https://github.com/rust-lang/crates.io-index)",
 "dep 1.0.0 (git+https://example.com/dep#abc)",
]

[[package]]
name = "libc"
version = "0.2.40"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "dep"
version = "1.0.0"
source = "git+https://example.com/dep#abc"

[metadata]
"checksum libc 0.2.40 (registry+https://github.com/rust-lang/crates.io-index)" = "e32a70cf75e5846d53a673923498228bbec6a8624708a9ea5645f075d6276122"
"#;
    let crates = read_cargo_lock(v1).unwrap_or_default();
    let summary: Vec<(&str, &str, &str, Option<&str>)> = crates
        .iter()
        .map(|c| (c.name.as_str(), c.version.as_str(), c.source.as_str(), c.checksum.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("app", "0.1.0", "local", None),
            ("libc", "0.2.40", "crates.io", Some("e32a70cf75e5846d53a673923498228bbec6a8624708a9ea5645f075d6276122")),
            ("dep", "1.0.0", "git", None),
        ]
    );
    assert_eq!(crates[0].dependencies, ["libc@0.2.40", "dep@1.0.0"]);

    // v3 with two versions of one crate (so dependencies carry the version),
    // a sparse-index and an alternative registry.
    let v3 = br#"version = 3

[[package]]
name = "a"
version = "1.0.0"
source = "sparse+https://index.crates.io/"
checksum = "00"
dependencies = ["b 1.0.0", "c"]

[[package]]
name = "b"
version = "1.0.0"
source = "registry+https://my.example/index"

[[package]]
name = "b"
version = "2.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "c"
version = "0.3.0"
"#;
    let crates = read_cargo_lock(v3).unwrap_or_default();
    assert_eq!(crates.len(), 4);
    assert_eq!(crates[0].source, CrateSource::CratesIo);
    assert_eq!(crates[0].dependencies, ["b@1.0.0", "c@0.3.0"]);
    assert_eq!(crates[1].source, CrateSource::Registry(Some("https://my.example/index".into())));
    let packages = parse_cargo_lock(v3).unwrap_or_default();
    assert_eq!(packages[1].metadata["registry"], "https://my.example/index");
    assert_eq!(packages[1].purl, "pkg:cargo/b@1.0.0");
    assert!(read_cargo_lock(b"version = 4\n").is_ok_and(|c| c.is_empty()));
}

#[test]
fn invalid_lock_files_are_errors() {
    assert!(matches!(read_cargo_lock(b"[[package]\nname = \"x\""), Err(RustError::Toml(_))));
    assert!(matches!(read_cargo_lock(b"package = 5"), Err(RustError::Toml(_))));
    assert!(matches!(
        read_cargo_lock(b"[[package]]\nname = \"x\"\n"),
        Err(RustError::LockEntry { index: 0, field: "version" })
    ));
    assert!(matches!(parse_cargo_lock(b"\x00\x01\x02"), Err(RustError::Toml(_))));
}

/// A minimal 64-bit little-endian ELF whose only section (besides the
/// string table) is `name` with `data`: enough for any ELF reader.
fn elf_with_section(name: &str, data: &[u8]) -> Vec<u8> {
    let mut strtab = vec![0u8];
    strtab.extend_from_slice(name.as_bytes());
    strtab.push(0);
    let shstrtab_name = strtab.len() as u32;
    strtab.extend_from_slice(b".shstrtab\0");
    let data_offset = 64u64;
    let strtab_offset = data_offset + data.len() as u64;
    let shoff = (strtab_offset + strtab.len() as u64).div_ceil(8) * 8;
    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // entry
    out.extend_from_slice(&0u64.to_le_bytes()); // phoff
    out.extend_from_slice(&shoff.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // flags
    for half in [64u16, 56, 0, 64, 3, 2] {
        out.extend_from_slice(&half.to_le_bytes());
    }
    out.extend_from_slice(data);
    out.extend_from_slice(&strtab);
    out.resize(shoff as usize, 0);
    let section = |out: &mut Vec<u8>, name: u32, kind: u32, offset: u64, size: u64| {
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        for field in [0u64, 0, offset, size] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(&[0u8; 8]); // link, info
        out.extend_from_slice(&1u64.to_le_bytes()); // addralign
        out.extend_from_slice(&0u64.to_le_bytes()); // entsize
    };
    out.extend_from_slice(&[0u8; 64]);
    section(&mut out, 1, 1, data_offset, data.len() as u64);
    section(&mut out, shstrtab_name, 3, strtab_offset, strtab.len() as u64);
    out
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

#[test]
fn hand_made_sections() {
    let json = br#"{"packages":[
        {"name":"app","version":"1.0.0","source":"local","dependencies":[1,2],"root":true},
        {"name":"serde","version":"1.0.200","source":"crates.io","dependencies":[2]},
        {"name":"serde_derive","version":"1.0.200","source":"crates.io","kind":"build"},
        {"name":"private","version":"0.1.0","source":"registry"},
        {"name":"forked","version":"0.2.0","source":"git"}],"format":1}"#;
    let binary = elf_with_section(".dep-v0", &zlib(json));
    let crates: Vec<RustCrate> = read_auditable(&binary).ok().flatten().unwrap_or_default();
    assert_eq!(crates.len(), 5);
    assert!(crates[2].build_only);
    assert_eq!(crates[0].dependencies, ["serde@1.0.200", "serde_derive@1.0.200"]);
    assert_eq!(crates[3].source, CrateSource::Registry(None));
    // Build-only crates are not in the binary: left out, as syft does.
    let names: Vec<String> =
        parse_auditable(&binary).ok().flatten().unwrap_or_default().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["app", "serde", "private", "forked"]);

    // An ELF without the section, and one with another section only.
    assert!(matches!(parse_auditable(&elf_with_section(".data", b"x")), Ok(None)));
}

#[test]
fn broken_sections_are_errors() {
    let garbage = elf_with_section(".dep-v0", b"this is not zlib at all");
    assert!(matches!(parse_auditable(&garbage), Err(RustError::Decompress(_))));

    let not_json = elf_with_section(".dep-v0", &zlib(b"{\"packages\": [oops"));
    assert!(matches!(parse_auditable(&not_json), Err(RustError::AuditJson(_))));

    let wrong_shape = elf_with_section(".dep-v0", &zlib(b"{\"packages\": [{\"name\": 1}]}"));
    assert!(matches!(parse_auditable(&wrong_shape), Err(RustError::AuditJson(_))));

    // 9 MiB of spaces compresses to a few KiB: a decompression bomb.
    let bomb = elf_with_section(".dep-v0", &zlib(&vec![b' '; (MAX_AUDIT_JSON + (1 << 20)) as usize]));
    assert!(bomb.len() < 64 * 1024);
    assert!(matches!(parse_auditable(&bomb), Err(RustError::TooLarge { limit: MAX_AUDIT_JSON })));

    // The real fixture with its compressed stream damaged in place.
    let mut damaged = read_bytes(&fixtures_root().join("rust/cargo-auditable-elf/usr/local/bin/crate_with_features"));
    let at = find_dep_v0(&damaged);
    damaged[at + 2..at + 12].fill(0xff);
    assert!(matches!(parse_auditable(&damaged), Err(RustError::Decompress(_))));
}

/// File offset of the fixture's `.dep-v0` content, from its section table.
fn find_dep_v0(elf: &[u8]) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap_or_default()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap_or_default()) as usize;
    let (shoff, shentsize, shnum, shstrndx) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let strtab = u64_at(shoff + shstrndx * shentsize + 0x18);
    (0..shnum)
        .map(|i| shoff + i * shentsize)
        .find(|header| {
            let name = strtab + u32_at(*header);
            elf.get(name..name + 8) == Some(b".dep-v0\0")
        })
        .map(|header| u64_at(header + 0x18))
        .unwrap_or_else(|| panic!("no .dep-v0 section"))
}
