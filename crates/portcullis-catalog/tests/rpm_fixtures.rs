//! The rpm cataloger against the real databases in `shared/fixtures/rpmdb/`
//! and `shared/fixtures/rpm-manifest/`, plus damaged inputs derived from them.

use std::fmt::Display;

use portcullis_catalog::os::rpm::{
    self, DatabaseFormat, HeaderError, RpmError, RpmPackage, bdb::BdbError, header, ndb::NdbError, sqlite::SqliteError,
};
use portcullis_sbom::{Distro, SourcePackage};
use portcullis_testkit::data::{expected_json, fixture, fixture_dirs, read_bytes};
use serde_json::{Value, json};

fn db_bytes(name: &str) -> Vec<u8> {
    let dir = fixture(&format!("rpmdb/{name}"));
    let expected = expected_json(&dir);
    read_bytes(&dir.join(expected["db_file"].as_str().expect("db_file")))
}

fn packages_of(name: &str) -> Vec<RpmPackage> {
    rpm::parse_database(&db_bytes(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

const RPMDB_FIELDS: &[&str] = &[
    "name",
    "epoch",
    "version",
    "release",
    "arch",
    "source_rpm",
    "size",
    "license",
    "vendor",
    "modularitylabel",
    "sigmd5",
];

fn rpmdb_view(p: &RpmPackage) -> Value {
    json!({
        "name": p.name,
        "epoch": p.epoch,
        "version": p.version,
        "release": p.release,
        "arch": p.arch,
        "source_rpm": p.source_rpm,
        "size": p.size,
        "license": p.license,
        "vendor": p.vendor,
        "modularitylabel": p.modularity_label,
        "sigmd5": p.sigmd5,
    })
}

const MANIFEST_FIELDS: &[&str] =
    &["name", "version", "release", "epoch", "arch", "source_rpm", "vendor", "size", "install_time", "build_time"];

fn manifest_view(p: &RpmPackage) -> Value {
    json!({
        "name": p.name,
        "version": p.version,
        "release": p.release,
        "epoch": p.epoch,
        "arch": p.arch,
        "source_rpm": p.source_rpm,
        "vendor": p.vendor,
        "size": p.size,
        "install_time": p.install_time,
        "build_time": p.build_time,
    })
}

/// Keeps only `fields` of each expected package, so a new informational key
/// in expected.json does not break the comparison but a missing one does.
fn project(packages: &Value, fields: &[&str]) -> Vec<Value> {
    packages
        .as_array()
        .expect("packages is an array")
        .iter()
        .map(|p| {
            let obj = fields
                .iter()
                .map(|&f| {
                    let v = p.get(f).unwrap_or_else(|| panic!("expected package lacks field {f}: {p}"));
                    (f.to_owned(), v.clone())
                })
                .collect();
            Value::Object(obj)
        })
        .collect()
}

/// The order expected.json uses: name, version, release, arch.
fn sort_like_expected(list: &mut [Value]) {
    let key = |v: &Value| {
        ["name", "version", "release", "arch"].map(|f| v.get(f).and_then(Value::as_str).unwrap_or_default().to_owned())
    };
    list.sort_by_key(key);
}

fn diff(expected: &[Value], actual: &[Value]) -> String {
    let mut out = String::new();
    for e in expected.iter().filter(|e| !actual.contains(e)) {
        out.push_str(&format!("  missing: {e}\n"));
    }
    for a in actual.iter().filter(|a| !expected.contains(a)) {
        out.push_str(&format!("  unexpected: {a}\n"));
    }
    out
}

/// Compares one fixture's parse with its expected.json, as `view` shows a
/// package and limited to `fields`; what differs goes to `failures`.
fn check_packages(
    name: &str,
    parsed: Result<Vec<RpmPackage>, impl Display>,
    expected: &Value,
    view: fn(&RpmPackage) -> Value,
    fields: &[&str],
    failures: &mut Vec<String>,
) {
    let packages = match parsed {
        Ok(p) => p,
        Err(err) => {
            failures.push(format!("{name}: {err}"));
            return;
        }
    };
    let mut actual: Vec<Value> = packages.iter().map(view).collect();
    let mut wanted = project(&expected["packages"], fields);
    sort_like_expected(&mut actual);
    sort_like_expected(&mut wanted);
    if expected["package_count"].as_u64() != Some(actual.len() as u64) {
        failures.push(format!("{name}: {} packages, expected.json says {}", actual.len(), expected["package_count"]));
    }
    if actual != wanted {
        failures.push(format!("{name}: package list differs\n{}", diff(&wanted, &actual)));
    }
}

#[test]
fn every_rpmdb_fixture_matches_expected() {
    let mut failures = Vec::new();
    for dir in fixture_dirs("rpmdb") {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let expected = expected_json(&dir);
        let db_file = expected["db_file"].as_str().expect("db_file is a string");
        let bytes = read_bytes(&dir.join(db_file));

        let format = match rpm::detect_format(&bytes) {
            Some(DatabaseFormat::BerkeleyDb) => "bdb",
            Some(DatabaseFormat::Ndb) => "ndb",
            Some(DatabaseFormat::Sqlite) => "sqlite",
            None => "unknown",
        };
        if Some(format) != expected["format"].as_str() {
            failures.push(format!("{name}: detected {format}, expected {}", expected["format"]));
        }

        check_packages(&name, rpm::parse_database(&bytes), &expected, rpmdb_view, RPMDB_FIELDS, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rpm_manifest_fixture_matches_expected() {
    let mut failures = Vec::new();
    for dir in fixture_dirs("rpm-manifest") {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let expected = expected_json(&dir);
        let file = expected["db_file"].as_str().expect("db_file is a string");
        let parsed = rpm::parse_manifest(&read_bytes(&dir.join(file)));
        check_packages(&name, parsed, &expected, manifest_view, MANIFEST_FIELDS, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn manifest_paths_point_at_the_fixture_layout() {
    for dir in fixture_dirs("rpm-manifest") {
        let file = expected_json(&dir)["db_file"].as_str().expect("db_file").to_owned();
        assert!(rpm::MANIFEST_PATHS.contains(&format!("/{file}").as_str()), "{file} is not in MANIFEST_PATHS");
    }
}

#[test]
fn owned_files_carry_digests_sizes_and_modes() {
    let libuuid = packages_of("ubi8-libuuid-bdb");
    let pkg = &libuuid[0];
    let lib = pkg.files.iter().find(|f| f.path == "/usr/lib64/libuuid.so.1.3.0").unwrap_or_else(|| {
        panic!("libuuid.so missing from {:?}", pkg.files.iter().map(|f| &f.path).collect::<Vec<_>>())
    });
    let digest = lib.digest.as_deref().expect("regular file has a digest");
    let hex = digest.strip_prefix("sha256:").unwrap_or_else(|| panic!("RHEL 8 uses sha256, got {digest}"));
    assert_eq!(hex.len(), 64);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(lib.size.is_some_and(|s| s > 0));
    assert_eq!(lib.mode.map(|m| m & 0o170000), Some(0o100000), "a regular file");

    // The soname link is owned too, and symlinks have no digest.
    let link = pkg.files.iter().find(|f| f.path == "/usr/lib64/libuuid.so.1").expect("soname symlink");
    assert_eq!(link.mode.map(|m| m & 0o170000), Some(0o120000));
    assert_eq!(link.digest, None);

    let tzdata = &packages_of("fedora36-tzdata-sqlite")[0];
    assert!(tzdata.files.len() > 1000, "tzdata owns the whole zoneinfo tree, got {}", tzdata.files.len());
    let utc = tzdata.files.iter().find(|f| f.path == "/usr/share/zoneinfo/UTC").expect("zoneinfo/UTC");
    assert!(utc.digest.as_deref().is_some_and(|d| d.starts_with("sha256:")));

    // SUSE's ndb database: bash owns /usr/bin/bash.
    let sles = packages_of("sles-15.3-bci-ndb");
    let bash = sles.iter().find(|p| p.name == "bash").expect("bash in SLES");
    let bin = bash.files.iter().find(|f| f.path == "/usr/bin/bash").expect("/usr/bin/bash");
    assert!(bin.digest.as_deref().is_some_and(|d| d.starts_with("sha256:") && d.len() == 7 + 64));
}

#[test]
fn bdb_and_sqlite_copies_of_the_same_headers_agree_byte_for_byte() {
    // The synthetic BDB holds the mariner SQLite headers; any slip in overflow
    // reassembly would show up as a differing field or file list.
    let from_bdb = rpm::read_header_blobs(&db_bytes("synthetic-bdb-from-cbl-mariner-2.0-headers")).expect("bdb");
    let from_sqlite = rpm::read_header_blobs(&db_bytes("cbl-mariner-2.0-sqlite")).expect("sqlite");
    let (mut a, mut b) = (from_bdb, from_sqlite);
    a.sort();
    b.sort();
    assert_eq!(a.len(), 129);
    assert!(a == b, "the two databases hold different header blobs");
}

#[test]
fn gpg_pubkey_is_a_pseudo_package() {
    let key = RpmPackage { name: "gpg-pubkey".into(), version: "fd431d51".into(), ..Default::default() };
    assert!(key.is_pseudo());
    for pkg in packages_of("cbl-mariner-2.0-sqlite") {
        assert!(!pkg.is_pseudo(), "{} is a real package", pkg.name);
    }
}

// ---------------------------------------------------------------------------
// to_package

fn fedora(version: &str) -> Distro {
    Distro {
        id: "fedora".into(),
        version_id: Some(version.into()),
        source_file: "/etc/os-release".into(),
        ..Default::default()
    }
}

#[test]
fn to_package_builds_a_syft_style_purl_with_epoch() {
    let hello = packages_of("fedora32-epoch-bdb").remove(0);
    assert_eq!(hello.epoch, Some(1));
    let pkg = rpm::to_package(&hello, Some(&fedora("32")));
    assert_eq!(
        pkg.purl,
        "pkg:rpm/fedora/hello@0.0.1-rls?arch=x86_64&distro=fedora-32&epoch=1&upstream=hello-0.0.1-rls.src.rpm"
    );
    assert_eq!(pkg.version, "1:0.0.1-rls");
    assert_eq!(pkg.id, "rpm/hello@1:0.0.1-rls?arch=x86_64");
    assert_eq!(pkg.arch.as_deref(), Some("x86_64"));
    assert_eq!(pkg.licenses, vec!["GPL".to_owned()]);
    assert_eq!(pkg.source, Some(SourcePackage { name: "hello".into(), version: Some("0.0.1-rls".into()) }));
    assert_eq!(pkg.installed_size, Some(29));
    assert_eq!(pkg.vendor, None);
    assert_eq!(pkg.metadata.get("epoch"), Some(&json!(1)));
    assert_eq!(pkg.metadata.get("release"), Some(&json!("rls")));
    assert_eq!(pkg.metadata.get("source_rpm"), Some(&json!("hello-0.0.1-rls.src.rpm")));
    assert!(!pkg.metadata.contains_key("modularity_label"));
    assert_eq!(pkg.files.len(), hello.files.len());

    let bare = rpm::to_package(&hello, None);
    assert_eq!(bare.purl, "pkg:rpm/hello@0.0.1-rls?arch=x86_64&epoch=1&upstream=hello-0.0.1-rls.src.rpm");
}

#[test]
fn to_package_without_epoch_and_with_a_different_source_name() {
    let libuuid = packages_of("ubi8-libuuid-bdb").remove(0);
    let rhel = Distro { id: "rhel".into(), version_id: Some("8.8".into()), ..Default::default() };
    let pkg = rpm::to_package(&libuuid, Some(&rhel));
    assert_eq!(
        pkg.purl,
        "pkg:rpm/rhel/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=rhel-8.8&upstream=util-linux-2.32.1-42.el8_8.src.rpm"
    );
    assert_eq!(pkg.version, "2.32.1-42.el8_8");
    assert_eq!(pkg.source, Some(SourcePackage { name: "util-linux".into(), version: Some("2.32.1-42.el8_8".into()) }));
    assert_eq!(pkg.vendor.as_deref(), Some("Red Hat, Inc."));
    assert!(!pkg.metadata.contains_key("epoch"));
    let lib = pkg.files.iter().find(|f| f.path == "/usr/lib64/libuuid.so.1.3.0").expect("owned file");
    assert!(lib.digest.as_deref().is_some_and(|d| d.starts_with("sha256:")));
}

#[test]
fn source_rpm_names_split_into_name_and_version_release() {
    let split = |s| rpm::parse_source_rpm(s);
    assert_eq!(
        split("util-linux-2.32.1-42.el8_8.src.rpm"),
        Some(SourcePackage { name: "util-linux".into(), version: Some("2.32.1-42.el8_8".into()) })
    );
    assert_eq!(
        split("kernel-5.14.0-1.nosrc.rpm"),
        Some(SourcePackage { name: "kernel".into(), version: Some("5.14.0-1".into()) })
    );
    assert_eq!(split("weird.src.rpm"), Some(SourcePackage { name: "weird".into(), version: None }));
    assert_eq!(split(".src.rpm"), None);
}

// ---------------------------------------------------------------------------
// Damaged input: every case must come back as a typed error, never a panic.

/// xorshift64*, so the "random" bytes are the same on every run.
fn pseudo_random(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

#[test]
fn random_bytes_are_an_unknown_format() {
    for (len, seed) in [(0, 1), (7, 2), (100, 3), (4096, 4), (65536, 5)] {
        let bytes = pseudo_random(len, seed);
        assert!(matches!(rpm::parse_database(&bytes), Err(RpmError::UnknownFormat)), "{len} random bytes");
    }
}

#[test]
fn random_bytes_behind_each_magic_are_typed_errors() {
    let mut sqlite = b"SQLite format 3\0".to_vec();
    sqlite.extend(pseudo_random(8192, 11));
    assert!(matches!(rpm::parse_database(&sqlite), Err(RpmError::Sqlite(_))));

    let mut ndb = b"RpmP".to_vec();
    ndb.extend(pseudo_random(8192, 12));
    assert!(matches!(rpm::parse_database(&ndb), Err(RpmError::Ndb(_))));

    for magic in [0x0006_1561u32.to_le_bytes(), 0x0006_1561u32.to_be_bytes()] {
        let mut bdb = pseudo_random(8192, 13);
        bdb[12..16].copy_from_slice(&magic);
        assert!(matches!(rpm::parse_database(&bdb), Err(RpmError::Bdb(_))));
    }
}

#[test]
fn truncated_databases_are_typed_errors() {
    for dir in fixture_dirs("rpmdb") {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let full = db_bytes(&name);
        for cut in [full.len() / 2, full.len() - 1, 600, 64, 10, 0] {
            let result = rpm::parse_database(&full[..cut]);
            assert!(result.is_err(), "{name} cut to {cut} bytes parsed: {:?}", result.map(|p| p.len()));
        }
    }
    // The specific errors for each container format.
    let bdb = db_bytes("ubi8-libuuid-bdb");
    assert!(matches!(rpm::parse_database(&bdb[..bdb.len() / 2]), Err(RpmError::Bdb(BdbError::PageOutOfRange { .. }))));
    let ndb = db_bytes("sles-15.3-bci-ndb");
    assert!(matches!(rpm::parse_database(&ndb[..ndb.len() / 2]), Err(RpmError::Ndb(NdbError::BlobOutOfRange { .. }))));
    let sqlite = db_bytes("fedora36-tzdata-sqlite");
    let half = &sqlite[..sqlite.len() / 2];
    assert!(matches!(
        rpm::parse_database(half),
        Err(RpmError::Sqlite(SqliteError::Truncated { needed: 540_672, len: 270_336 }))
    ));
    // Without the recorded size to go by, SQLite itself notices the missing pages.
    let mut unsized_half = half.to_vec();
    unsized_half[28..32].fill(0);
    assert!(matches!(rpm::parse_database(&unsized_half), Err(RpmError::Sqlite(SqliteError::Sqlite(_)))));
}

#[test]
fn sqlite_database_without_packages_table_is_an_error() {
    let conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
    conn.execute_batch("CREATE TABLE Other(x); INSERT INTO Other VALUES (1);").expect("schema");
    let bytes = conn.serialize("main").expect("serialize").to_vec();
    let err = rpm::parse_database(&bytes).expect_err("no Packages table");
    assert!(matches!(err, RpmError::Sqlite(SqliteError::Sqlite(_))), "{err:?}");
    assert!(err.to_string().contains("Packages"), "{err}");
}

/// Corrupts bytes all over each database, biased towards the structures (page
/// and slot headers, header-blob indexes) rather than string data; whatever
/// comes back, it must not be a panic.
#[test]
fn corrupted_databases_never_panic() {
    for dir in fixture_dirs("rpmdb") {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let good = db_bytes(&name);
        // The large ones are slow to re-parse in a debug build; fewer rounds.
        let rounds = if good.len() > 1 << 20 { 40 } else { 400 };
        let noise = pseudo_random(rounds * 16, good.len() as u64);
        for round in noise.chunks_exact(16) {
            let mut bad = good.clone();
            let pick = |i: usize| u32::from_le_bytes([round[i], round[i + 1], round[i + 2], round[i + 3]]) as usize;
            let page = pick(0) % good.len().div_ceil(4096);
            let structural = page * 4096 + pick(4) % 64;
            let anywhere = pick(8) % good.len();
            for at in [structural, anywhere] {
                if let Some(b) = bad.get_mut(at) {
                    *b = round[12];
                }
            }
            let _ = rpm::parse_database(&bad);
        }
    }
}

#[test]
fn every_truncation_of_a_small_bdb_is_an_error_not_a_panic() {
    let full = db_bytes("fedora32-epoch-bdb");
    for cut in (0..full.len()).step_by(97) {
        assert!(rpm::parse_database(&full[..cut]).is_err(), "cut at {cut}");
    }
}

fn first_blob(db: &str) -> Vec<u8> {
    rpm::read_header_blobs(&db_bytes(db)).expect("readable db").remove(0)
}

/// Index of the entry for `tag` in a header blob.
fn entry_position(blob: &[u8], tag: u32) -> usize {
    let il = u32::from_be_bytes(blob[0..4].try_into().expect("4 bytes")) as usize;
    (0..il)
        .map(|i| 8 + i * 16)
        .find(|&at| u32::from_be_bytes(blob[at..at + 4].try_into().expect("4 bytes")) == tag)
        .unwrap_or_else(|| panic!("tag {tag} not in header"))
}

#[test]
fn damaged_header_blobs_are_typed_errors() {
    let blob = first_blob("centos8-dive-bdb");
    assert_eq!(header::parse_package(&blob).expect("intact header").name, "dive");
    let dl = u32::from_be_bytes(blob[4..8].try_into().expect("4 bytes"));

    // NAME pointing past the data store.
    let mut bad = blob.clone();
    let at = entry_position(&bad, header::TAG_NAME);
    bad[at + 8..at + 12].copy_from_slice(&(dl + 100).to_be_bytes());
    assert_eq!(
        header::parse_package(&bad),
        Err(HeaderError::OffsetOutOfRange { tag: header::TAG_NAME, offset: (dl + 100) as i32, data_len: dl as usize })
    );

    // A negative offset.
    bad[at + 8..at + 12].copy_from_slice(&(-16i32).to_be_bytes());
    assert!(matches!(header::parse_package(&bad), Err(HeaderError::OffsetOutOfRange { .. })));

    // An integer array whose count runs past the data store.
    let mut bad = blob.clone();
    let at = entry_position(&bad, header::TAG_DIRINDEXES);
    bad[at + 12..at + 16].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    assert!(matches!(
        header::parse_package(&bad),
        Err(HeaderError::ValueOutOfRange { tag: header::TAG_DIRINDEXES, .. })
    ));

    // A string array claiming more strings than there are NULs.
    let mut bad = blob.clone();
    let at = entry_position(&bad, header::TAG_BASENAMES);
    bad[at + 12..at + 16].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(header::parse_package(&bad), Err(HeaderError::UnterminatedString { tag: header::TAG_BASENAMES }));

    // A NAME with the wrong type.
    let mut bad = blob.clone();
    let at = entry_position(&bad, header::TAG_NAME);
    bad[at + 4..at + 8].copy_from_slice(&4u32.to_be_bytes());
    assert!(matches!(header::parse_package(&bad), Err(HeaderError::UnexpectedType { tag: 1000, found: 4 })));

    // Absurd counts in the preamble must be refused before any allocation.
    let mut bad = blob.clone();
    bad[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(header::parse_package(&bad), Err(HeaderError::TooManyEntries { count: u32::MAX }));
    let mut bad = blob.clone();
    bad[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(header::parse_package(&bad), Err(HeaderError::DataTooLarge { len: u32::MAX }));

    // Truncation anywhere.
    for cut in (0..blob.len()).step_by(13) {
        assert!(header::parse_package(&blob[..cut]).is_err(), "cut at {cut}");
    }
    assert_eq!(header::parse_package(&blob[..4]), Err(HeaderError::TooShort { len: 4 }));
}

#[test]
fn a_damaged_header_inside_a_database_names_its_index() {
    let mut bytes = db_bytes("centos8-dive-bdb");
    // Page 3 is the overflow page holding the header; its data starts at byte 26.
    let header_start = 3 * 4096 + 26;
    bytes[header_start..header_start + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        rpm::parse_database(&bytes),
        Err(RpmError::Header { index: 0, source: HeaderError::TooManyEntries { .. } })
    ));
}

#[test]
fn bdb_overflow_page_loop_is_detected() {
    let mut bytes = db_bytes("ubi8-libuuid-bdb");
    // Overflow chain 3 -> 4 -> ... -> 22; make page 10 point back to page 5.
    let next = 10 * 4096 + 16;
    assert_eq!(u32::from_le_bytes(bytes[next..next + 4].try_into().expect("4 bytes")), 11);
    bytes[next..next + 4].copy_from_slice(&5u32.to_le_bytes());
    assert!(matches!(rpm::parse_database(&bytes), Err(RpmError::Bdb(BdbError::PageLoop { pgno: 5 }))));

    // A page pointing to itself.
    bytes[next..next + 4].copy_from_slice(&10u32.to_le_bytes());
    assert!(matches!(rpm::parse_database(&bytes), Err(RpmError::Bdb(BdbError::PageLoop { pgno: 10 }))));
}

#[test]
fn bdb_overflow_chain_that_ends_early_or_leaves_the_file() {
    let mut bytes = db_bytes("ubi8-libuuid-bdb");
    let next = 10 * 4096 + 16;
    bytes[next..next + 4].copy_from_slice(&0u32.to_le_bytes());
    assert!(matches!(rpm::parse_database(&bytes), Err(RpmError::Bdb(BdbError::OverflowLength { .. }))));
    bytes[next..next + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
    assert!(matches!(
        rpm::parse_database(&bytes),
        Err(RpmError::Bdb(BdbError::PageOutOfRange { pgno: 1_000_000, .. }))
    ));
    // Pointing into a hash page instead of an overflow page.
    bytes[next..next + 4].copy_from_slice(&1u32.to_le_bytes());
    assert!(matches!(
        rpm::parse_database(&bytes),
        Err(RpmError::Bdb(BdbError::NotOverflowPage { pgno: 1, found: 13 }))
    ));
}

#[test]
fn other_berkeley_db_types_are_refused_by_name() {
    let mut bytes = db_bytes("centos8-dive-bdb");
    bytes[12..16].copy_from_slice(&0x0005_3162u32.to_le_bytes());
    assert_eq!(rpm::detect_format(&bytes), Some(DatabaseFormat::BerkeleyDb));
    let err = rpm::parse_database(&bytes).expect_err("btree is refused");
    assert!(matches!(err, RpmError::Bdb(BdbError::UnsupportedType { kind: "btree" })), "{err:?}");
    assert!(err.to_string().contains("btree"), "{err}");

    let mut bytes = db_bytes("centos8-dive-bdb");
    bytes[24] = 1;
    assert!(matches!(rpm::parse_database(&bytes), Err(RpmError::Bdb(BdbError::Encrypted))));
}

#[test]
fn ndb_damaged_slots_and_blobs_are_typed_errors() {
    let good = db_bytes("sles-15.3-bci-ndb");

    let mut bad = good.clone();
    bad[32..36].copy_from_slice(b"Slox");
    assert!(matches!(rpm::parse_database(&bad), Err(RpmError::Ndb(NdbError::BadSlotMagic { slot: 0 }))));

    // No slot pages at all: an empty database, as rpm reads it.
    let mut empty = good.clone();
    empty[12..16].fill(0);
    assert_eq!(rpm::parse_database(&empty).expect("empty ndb"), Vec::new());

    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(rpm::parse_database(&bad), Err(RpmError::Ndb(NdbError::TooManySlotPages { .. }))));

    // First slot's blob: corrupt its head magic, then its length.
    let blkoff = u32::from_le_bytes(good[40..44].try_into().expect("4 bytes")) as usize;
    let mut bad = good.clone();
    bad[blkoff * 16] = b'X';
    assert!(matches!(rpm::parse_database(&bad), Err(RpmError::Ndb(NdbError::BadBlobMagic { which: "head", .. }))));
    let mut bad = good.clone();
    bad[blkoff * 16 + 12..blkoff * 16 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(rpm::parse_database(&bad), Err(RpmError::Ndb(NdbError::BlobLengthMismatch { .. }))));
    let mut bad = good;
    bad[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(rpm::parse_database(&bad), Err(RpmError::Ndb(NdbError::BlobOutOfRange { .. }))));
}

#[test]
fn manifest_errors_name_the_line() {
    let text = b"glibc\t2.35-2.cm2\t1\t2\tMicrosoft Corporation\t(none)\t5\tx86_64\t0\tglibc-2.35-2.cm2.src.rpm\nbroken line\n";
    assert_eq!(rpm::parse_manifest(text), Err(rpm::ManifestError::FieldCount { line: 2, found: 1 }));
    let text = b"glibc\t2.35-2.cm2\t1\t2\tMicrosoft Corporation\tone\t5\tx86_64\t0\tglibc-2.35-2.cm2.src.rpm\n";
    assert!(matches!(rpm::parse_manifest(text), Err(rpm::ManifestError::BadField { line: 1, field: "epoch", .. })));
    let ok = b"glibc\t2.35-2.cm2\t1\t2\tMicrosoft Corporation\t3\t5\tx86_64\t0\tglibc-2.35-2.cm2.src.rpm\r\n\n";
    let parsed = rpm::parse_manifest(ok).expect("valid line");
    assert_eq!(parsed[0].epoch, Some(3));
    assert_eq!(parsed[0].full_version(), "3:2.35-2.cm2");
}

// ---------------------------------------------------------------------------
// Big-endian Berkeley DB: no fixture has one, so build a minimal hash database
// around genuine header blobs, in both byte orders, and compare.

const PAGE: usize = 4096;

fn put_u16(buf: &mut [u8], at: usize, v: u16, big: bool) {
    buf[at..at + 2].copy_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn put_u32(buf: &mut [u8], at: usize, v: u32, big: bool) {
    buf[at..at + 4].copy_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// Meta page, one hash page with the key-0 record and one off-page item per
/// blob, and the overflow chains.
fn build_bdb(blobs: &[Vec<u8>], big: bool) -> Vec<u8> {
    let per_page = PAGE - 26;
    let overflow_pages: usize = blobs.iter().map(|b| b.len().div_ceil(per_page)).sum();
    let last_pgno = 1 + overflow_pages;
    let mut db = vec![0u8; (last_pgno + 1) * PAGE];

    put_u32(&mut db, 12, 0x0006_1561, big);
    put_u32(&mut db, 16, 9, big);
    put_u32(&mut db, 20, PAGE as u32, big);
    db[25] = 8;
    put_u32(&mut db, 32, last_pgno as u32, big);

    // Items: (key, value) pairs, placed from the end of page 1 downwards.
    let mut items: Vec<Vec<u8>> =
        vec![[&[1u8][..], &0u32.to_le_bytes()].concat(), [&[1u8][..], &(blobs.len() as u32).to_le_bytes()].concat()];
    let mut pgno = 2usize;
    for (i, blob) in blobs.iter().enumerate() {
        items.push([&[1u8][..], &(i as u32 + 1).to_le_bytes()].concat());
        let mut off = vec![3u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        put_u32(&mut off, 4, pgno as u32, big);
        put_u32(&mut off, 8, blob.len() as u32, big);
        items.push(off);
        let chunks: Vec<&[u8]> = blob.chunks(per_page).collect();
        for (c, chunk) in chunks.iter().enumerate() {
            let page = &mut db[pgno * PAGE..(pgno + 1) * PAGE];
            put_u32(page, 8, pgno as u32, big);
            let next = if c + 1 < chunks.len() { pgno as u32 + 1 } else { 0 };
            put_u32(page, 16, next, big);
            put_u16(page, 20, 1, big);
            put_u16(page, 22, chunk.len() as u16, big);
            page[25] = 7;
            page[26..26 + chunk.len()].copy_from_slice(chunk);
            pgno += 1;
        }
    }
    let page = &mut db[PAGE..2 * PAGE];
    put_u32(page, 8, 1, big);
    put_u16(page, 20, items.len() as u16, big);
    page[25] = 13;
    let mut end = PAGE;
    for (i, item) in items.iter().enumerate() {
        let start = end - item.len();
        page[start..end].copy_from_slice(item);
        put_u16(page, 26 + i * 2, start as u16, big);
        end = start;
    }
    put_u16(page, 22, end as u16, big);
    db
}

#[test]
fn big_and_little_endian_bdb_read_the_same() {
    let blobs: Vec<Vec<u8>> =
        ["ubi8-libuuid-bdb", "centos8-dive-bdb", "fedora32-epoch-bdb"].iter().map(|db| first_blob(db)).collect();
    let expected: Vec<RpmPackage> = blobs.iter().map(|b| header::parse_package(b).expect("header")).collect();
    for big in [false, true] {
        let db = build_bdb(&blobs, big);
        assert_eq!(rpm::detect_format(&db), Some(DatabaseFormat::BerkeleyDb));
        let parsed = rpm::parse_database(&db).unwrap_or_else(|err| panic!("big endian {big}: {err}"));
        assert_eq!(parsed, expected, "big endian {big}");
    }

    // And the synthetic file can loop too: second overflow page back to the first.
    let mut db = build_bdb(&blobs[..1], true);
    put_u32(&mut db, 3 * PAGE + 16, 2, true);
    assert!(matches!(rpm::parse_database(&db), Err(RpmError::Bdb(BdbError::PageLoop { pgno: 2 }))));
}

#[test]
fn database_paths_cover_every_fixture_file_name() {
    for dir in fixture_dirs("rpmdb") {
        let file = expected_json(&dir)["db_file"].as_str().expect("db_file").to_owned();
        for root in ["/var/lib/rpm/", "/usr/lib/sysimage/rpm/"] {
            let path = format!("{root}{file}");
            assert!(rpm::DATABASE_PATHS.contains(&path.as_str()), "{path} missing from DATABASE_PATHS");
        }
    }
}
