//! The Go build-info reader against real Go binaries: the go1.15 fixture in
//! `shared/fixtures/go/` (pointer form), the go1.19 binaries in
//! `tests/data/go/` (inline form; ELF, PE, Mach-O; see its README) and the
//! lab image's `/usr/local/bin/hello-go`.

use std::path::Path;

use portcullis_catalog::lang::golang::{self, GoBuildInfo, GoError, GoModule, parse_buildinfo, to_packages};
use portcullis_sbom::{Package, PackageType};
use portcullis_testkit::data::{expected_json, fixture, fixtures_root, lab_rootfs, read_bytes};

fn data(name: &str) -> Vec<u8> {
    read_bytes(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/go").join(name))
}

fn info(bytes: &[u8]) -> GoBuildInfo {
    match parse_buildinfo(bytes) {
        Ok(Some(info)) => info,
        other => panic!("expected Go build info, got {other:?}"),
    }
}

fn module(path: &str, version: &str, sum: Option<&str>) -> GoModule {
    GoModule { path: path.into(), version: version.into(), sum: sum.map(str::to_owned), replace: None }
}

/// (name, version, purl) of every package, in order.
fn identities(packages: &[Package]) -> Vec<(String, String, String)> {
    packages.iter().map(|p| (p.name.clone(), p.version.clone(), p.purl.clone())).collect()
}

fn strings(items: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    items.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect()
}

#[test]
fn go115_pointer_form_fixture() {
    let dir = fixture("go/buildinfo-go1.15-elf");
    let expected = expected_json(&dir);
    let want = &expected["buildinfo"];
    let info = info(&read_bytes(&dir.join("usr/local/bin/test")));

    assert_eq!(Some(info.go_version.as_str()), want["go_version"].as_str());
    assert_eq!(info.path.as_deref(), want["path"].as_str());
    let main = info.main.clone().unwrap_or_default();
    assert_eq!(Some(main.path.as_str()), want["main"]["path"].as_str());
    assert_eq!(Some(main.version.as_str()), want["main"]["version"].as_str());
    assert_eq!(main.sum, None);
    let want_deps: Vec<GoModule> = want["deps"]
        .as_array()
        .map(|deps| {
            deps.iter()
                .map(|d| {
                    module(d["path"].as_str().unwrap_or(""), d["version"].as_str().unwrap_or(""), d["sum"].as_str())
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(want_deps.len(), 3);
    assert_eq!(info.deps, want_deps);
    assert!(info.settings.is_empty(), "go1.15 records no build settings");
    // No GOARCH setting before go1.18: the architecture comes from the ELF header.
    assert_eq!(info.arch.as_deref(), Some("amd64"));

    let packages = to_packages(&info);
    assert_eq!(
        identities(&packages),
        strings(&[
            ("github.com/aquasecurity/test", "(devel)", "pkg:golang/github.com/aquasecurity/test@%28devel%29"),
            (
                "github.com/aquasecurity/go-pep440-version",
                "v0.0.0-20210121094942-22b2f8951d46",
                "pkg:golang/github.com/aquasecurity/go-pep440-version@v0.0.0-20210121094942-22b2f8951d46"
            ),
            (
                "github.com/aquasecurity/go-version",
                "v0.0.0-20210121072130-637058cfe492",
                "pkg:golang/github.com/aquasecurity/go-version@v0.0.0-20210121072130-637058cfe492"
            ),
            (
                "golang.org/x/xerrors",
                "v0.0.0-20200804184101-5ec99f83aff1",
                "pkg:golang/golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1"
            ),
            ("stdlib", "go1.15.2", "pkg:golang/stdlib@1.15.2"),
        ])
    );
    for package in &packages {
        assert_eq!(package.package_type, PackageType::GoModule);
        assert_eq!(package.found_by.as_deref(), Some("go-module-binary"));
        assert_eq!(package.metadata["go_version"], "go1.15.2");
    }
    assert_eq!(packages[1].metadata["h1_digest"], "h1:vmXNl+HDfqqXgr0uY1UgK1GAhps8nbAAtqHNBcgyf+4=");
    assert_eq!(packages[1].metadata["main_module"], "github.com/aquasecurity/test");
    assert_eq!(packages[4].licenses, ["BSD-3-Clause"]);
}

/// What `go version -m` prints for all three test binaries (tests/data/go/README.md).
fn assert_hello(info: &GoBuildInfo, goos: &str, goarch: &str) {
    assert_eq!(info.go_version, "go1.19.8");
    assert_eq!(info.path.as_deref(), Some("github.com/portcullis-scan/hello"));
    assert_eq!(info.main, Some(module("github.com/portcullis-scan/hello", "(devel)", None)));
    let mut dep = module("github.com/portcullis-scan/greeting", "v1.4.0", None);
    dep.replace = Some(Box::new(module("../greeting", "(devel)", None)));
    assert_eq!(info.deps, [dep]);
    assert_eq!(info.setting("-compiler"), Some("gc"));
    assert_eq!(info.setting("CGO_ENABLED"), Some("0"));
    assert_eq!(info.setting("GOOS"), Some(goos));
    assert_eq!(info.setting("GOARCH"), Some(goarch));
    assert_eq!(info.arch.as_deref(), Some(goarch));
}

fn hello_packages(main_version: &str, main_purl_version: &str) -> Vec<(String, String, String)> {
    strings(&[
        (
            "github.com/portcullis-scan/hello",
            main_version,
            &format!("pkg:golang/github.com/portcullis-scan/hello@{main_purl_version}"),
        ),
        ("github.com/portcullis-scan/greeting", "v1.4.0", "pkg:golang/github.com/portcullis-scan/greeting@v1.4.0"),
        ("stdlib", "go1.19.8", "pkg:golang/stdlib@1.19.8"),
    ])
}

#[test]
fn elf_with_ldflags_version() {
    let info = info(&data("hello-ldflags-linux-amd64"));
    assert_hello(&info, "linux", "amd64");
    assert_eq!(info.setting("-ldflags"), Some("-s -w -X main.version=v1.2.3"));
    assert_eq!(info.setting("-trimpath"), None);
    assert_eq!(info.setting("vcs"), Some("git"));
    assert_eq!(info.setting("vcs.revision"), Some("4787b9659ecf305e634f8ee42e9f4df4c636c0da"));
    assert_eq!(info.setting("vcs.time"), Some("2024-01-02T03:04:05Z"));
    assert_eq!(info.setting("vcs.modified"), Some("false"));
    assert_eq!(info.settings.len(), 10);

    let packages = to_packages(&info);
    // -ldflags wins over the VCS pseudo-version, as in syft.
    assert_eq!(identities(&packages), hello_packages("v1.2.3", "v1.2.3"));
    let main = &packages[0];
    assert_eq!(main.metadata["build_settings"]["-ldflags"], "-s -w -X main.version=v1.2.3");
    assert_eq!(main.metadata["architecture"], "amd64");
    // The local directory replacement is evidence, not the identity.
    assert_eq!(packages[1].metadata["replaced_by"]["path"], "../greeting");
    assert!(!packages[1].metadata.contains_key("h1_digest"));
}

#[test]
fn pe_with_vcs_pseudo_version() {
    let info = info(&data("hello-vcs-windows-amd64.exe"));
    assert_hello(&info, "windows", "amd64");
    assert_eq!(info.setting("-trimpath"), Some("true"));
    assert_eq!(info.setting("-ldflags"), None, "-trimpath builds do not record -ldflags");
    let packages = to_packages(&info);
    assert_eq!(
        identities(&packages),
        hello_packages("v0.0.0-20240102030405-4787b9659ecf", "v0.0.0-20240102030405-4787b9659ecf")
    );
}

#[test]
fn macho_devel() {
    let bytes = data("hello-devel-darwin-arm64");
    let info = info(&bytes);
    assert_hello(&info, "darwin", "arm64");
    assert_eq!(info.setting("vcs.revision"), None);
    assert_eq!(identities(&to_packages(&info)), hello_packages("(devel)", "%28devel%29"));

    // The same image inside a universal (fat) Mach-O: a big-endian fat
    // header, one arm64 entry, the image at a 4 KiB-aligned offset.
    let mut fat = Vec::new();
    fat.extend_from_slice(&0xcafe_babe_u32.to_be_bytes());
    fat.extend_from_slice(&1u32.to_be_bytes());
    for field in [0x0100_000c_u32, 0, 4096, bytes.len() as u32, 12] {
        fat.extend_from_slice(&field.to_be_bytes());
    }
    fat.resize(4096, 0);
    fat.extend_from_slice(&bytes);
    assert_eq!(parse_buildinfo(&fat), Ok(Some(info)));
}

#[test]
fn lab_hello_go() {
    let path = lab_rootfs("deb-bins").join("usr/local/bin/hello-go");
    assert!(
        path.is_file(),
        "{} is missing: the lab image deb-bins is built by ./scripts/test.sh (without SKIP_BINS)",
        path.display()
    );
    let info = info(&read_bytes(&path));
    assert_eq!(info.go_version, "go1.19.8");
    assert_eq!(info.main, Some(module("example.com/lab/hello-go", "(devel)", None)));
    assert!(info.deps.is_empty());
    assert_eq!(info.setting("-trimpath"), Some("true"));
    // Built with -trimpath, so `-X main.version=v0.1.0` was not recorded and
    // there is no VCS stamp: the version cannot be recovered (syft agrees).
    assert_eq!(info.setting("-ldflags"), None);
    assert_eq!(
        identities(&to_packages(&info)),
        strings(&[
            ("example.com/lab/hello-go", "(devel)", "pkg:golang/example.com/lab/hello-go@%28devel%29"),
            ("stdlib", "go1.19.8", "pkg:golang/stdlib@1.19.8"),
        ])
    );
}

#[test]
fn non_go_executables_are_none() {
    let rust = fixtures_root().join("rust/cargo-auditable-elf/usr/local/bin/crate_with_features");
    assert_eq!(parse_buildinfo(&read_bytes(&rust)), Ok(None));
    assert_eq!(parse_buildinfo(b"#!/bin/sh\necho hi\n"), Ok(None));
    assert_eq!(parse_buildinfo(b"\x7fELF garbage"), Ok(None));
}

fn header_offset(bytes: &[u8]) -> usize {
    bytes.windows(14).position(|w| w == b"\xff Go buildinf:").unwrap_or_else(|| panic!("no build info magic"))
}

#[test]
fn corrupted_headers_are_errors() {
    let good = data("hello-ldflags-linux-amd64");
    let at = header_offset(&good);
    assert_eq!(at % 16, 0);

    // Pointer form claimed (no inline flag) with an impossible pointer size.
    let mut bad = good.clone();
    bad[at + 14] = 3;
    bad[at + 15] = 0;
    assert!(matches!(parse_buildinfo(&bad), Err(GoError::Header { offset, .. }) if offset == at));

    // Pointer form whose pointers lead nowhere.
    let mut bad = good.clone();
    bad[at + 15] = 0;
    bad[at + 16..at + 32].fill(0xee);
    assert!(matches!(parse_buildinfo(&bad), Err(GoError::Unmapped { .. })));

    // Inline form whose version length is absurd (a varint of 0xffff...).
    let mut bad = good.clone();
    bad[at + 32..at + 41].fill(0xff);
    bad[at + 41] = 0x01;
    assert!(matches!(parse_buildinfo(&bad), Err(GoError::Length { what: "version", .. })));

    // Empty version string.
    let mut bad = good.clone();
    bad[at + 32] = 0;
    assert_eq!(parse_buildinfo(&bad), Err(GoError::EmptyVersion));

    // The go1.15 fixture with its version pointer aimed outside the file.
    let old = read_bytes(&fixtures_root().join("go/buildinfo-go1.15-elf/usr/local/bin/test"));
    let old_at = header_offset(&old);
    let mut bad = old.clone();
    bad[old_at + 16..old_at + 24].copy_from_slice(&0x7fff_0000_0000_u64.to_le_bytes());
    assert!(matches!(parse_buildinfo(&bad), Err(GoError::Unmapped { what: "version", .. })));

    // Cut inside the version string (Go's ELF section headers come before
    // the data, so the section is still found).
    assert!(matches!(parse_buildinfo(&good[..at + 40]), Err(GoError::Truncated { what: "version", .. })));
}

#[test]
fn magic_outside_the_data_section_is_not_trusted() {
    // A non-Go file that merely contains the magic (as programs reading
    // build info themselves do) is not a Go binary.
    let mut text = vec![0u8; 64];
    text.extend_from_slice(b"\xff Go buildinf:\x08\x00garbage-after-the-magic-string....");
    assert_eq!(parse_buildinfo(&text), Ok(None));
    assert_eq!(golang::PATTERNS, &[] as &[&str]);
}
