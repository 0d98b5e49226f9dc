//! The distro and enrichment parsers (Debian, Alpine, NVD, CVE 5, KEV; EPSS has no real file
//! in the snapshot and is tested inline in its module) over every real file of their kind in
//! the shared feeds, with the hand-checked cases of the feeds README's coverage table.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use portcullis_feeds::formats::{SNIFF_BYTES, alpine, cve5, debian, epss, kev, nvd};
use portcullis_testkit::data::{feed, feeds_root, read_bytes, regular_files};
use portcullis_vulndb::{Advisory, Affected, FixState, KevEntry, RangeEvent, Record, Scheme, Severity, VersionRange};

type Recognizer = fn(&str, &[u8]) -> bool;

const RECOGNIZERS: [(&str, Recognizer); 6] = [
    ("debian", debian::recognizes),
    ("alpine", alpine::recognizes),
    ("nvd", nvd::recognizes),
    ("cve5", cve5::recognizes),
    ("kev", kev::recognizes),
    ("epss", epss::recognizes),
];

fn relative(path: &Path) -> String {
    path.strip_prefix(feeds_root()).unwrap().to_string_lossy().replace('\\', "/")
}

fn head(path: &Path) -> Vec<u8> {
    let mut head = Vec::new();
    File::open(path).unwrap().take(SNIFF_BYTES as u64).read_to_end(&mut head).unwrap();
    head
}

/// Which of these formats a snapshot file is, by where upstream put it.
fn expected_format(relative: &str) -> Option<&'static str> {
    let json = relative.ends_with(".json");
    if relative.starts_with("debian-tracker/") && !relative.ends_with("MANIFEST.tsv") {
        Some("debian")
    } else if relative.starts_with("alpine-secdb/") {
        Some("alpine")
    } else if relative.starts_with("nvd-subset/") && json {
        Some("nvd")
    } else if relative.starts_with("cve-vulnrichment/") && json {
        Some("cve5")
    } else if relative == "kev/known_exploited_vulnerabilities.json" {
        Some("kev")
    } else {
        None
    }
}

/// Every file of the snapshot whose expected format is `format`, as (relative path, bytes).
fn files_of(format: &str) -> Vec<(String, Vec<u8>)> {
    let files: Vec<(String, Vec<u8>)> = regular_files(&feeds_root())
        .into_iter()
        .filter(|path| expected_format(&relative(path)) == Some(format))
        .map(|path| (relative(&path), read_bytes(&path)))
        .collect();
    assert!(!files.is_empty(), "no {format} files under {}", feeds_root().display());
    files
}

fn advisories(records: Vec<Record>) -> Vec<Advisory> {
    records
        .into_iter()
        .map(|record| match record {
            Record::Advisory(advisory) => *advisory,
            other => panic!("not an advisory: {other:?}"),
        })
        .collect()
}

fn parse_all(
    format: &str,
    parse: fn(&str, &[u8]) -> Result<Vec<Record>, portcullis_feeds::formats::FormatError>,
) -> BTreeMap<String, Vec<Record>> {
    files_of(format)
        .into_iter()
        .map(|(path, bytes)| {
            let records = parse(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
            (path, records)
        })
        .collect()
}

fn by_id(advisories: &[Advisory], id: &str) -> Advisory {
    advisories.iter().find(|advisory| advisory.id == id).unwrap_or_else(|| panic!("no {id}")).clone()
}

fn affected<'a>(advisory: &'a Advisory, namespace: &str, package: &str) -> &'a Affected {
    let matching: Vec<&Affected> =
        advisory.affected.iter().filter(|a| a.namespace == namespace && a.package == package).collect();
    match matching.as_slice() {
        [one] => one,
        other => panic!("{}: {} entries for {namespace} {package}: {other:?}", advisory.id, other.len()),
    }
}

fn below(version: &str) -> Vec<VersionRange> {
    vec![VersionRange::Events { events: vec![RangeEvent::Introduced("0".into()), RangeEvent::Fixed(version.into())] }]
}

/// Fixed in `version`: affected below it, and that version named as the fix.
fn assert_fixed(entry: &Affected, version: &str) {
    assert_eq!(entry.state, FixState::Fixed, "{entry:?}");
    assert_eq!(entry.ranges, below(version), "{entry:?}");
    assert_eq!(entry.fixed, [version], "{entry:?}");
}

#[test]
fn recognizers_claim_exactly_their_files() {
    let mut claimed_per_format: BTreeMap<&str, usize> = BTreeMap::new();
    for path in regular_files(&feeds_root()) {
        let relative = relative(&path);
        let head = head(&path);
        let claimed: Vec<&str> =
            RECOGNIZERS.iter().filter(|(_, recognizes)| recognizes(&relative, &head)).map(|(name, _)| *name).collect();
        let expected: Vec<&str> = expected_format(&relative).into_iter().collect();
        assert_eq!(claimed, expected, "{relative}");
        for name in claimed {
            *claimed_per_format.entry(name).or_default() += 1;
        }
    }
    let counts = BTreeMap::from([("alpine", 18), ("cve5", 1192), ("debian", 23), ("kev", 1), ("nvd", 4)]);
    assert_eq!(claimed_per_format, counts);
}

#[test]
fn debian_annotation_files() {
    let mut unknown_releases = BTreeMap::new();
    let mut records = Vec::new();
    for (path, bytes) in files_of("debian").into_iter().filter(|(path, _)| path.contains("/tracker/CVE/")) {
        let parsed = debian::parse_with_report(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.records.len(), 1, "{path}");
        records.extend(parsed.records);
        for (codename, count) in parsed.unknown_releases {
            *unknown_releases.entry(codename).or_insert(0) += count;
        }
    }
    let advisories = advisories(records);
    assert_eq!(advisories.len(), 20);
    // perl (CVE-2023-31484) and pam (CVE-2024-22365) have an [experimental] line.
    assert_eq!(unknown_releases, BTreeMap::from([("experimental".to_owned(), 2)]));
    for entry in advisories.iter().flat_map(|advisory| &advisory.affected) {
        assert_eq!(entry.scheme, Scheme::Dpkg);
        assert!(entry.namespace.starts_with("debian:"), "{entry:?}");
    }

    // shadow: bookworm no-dsa, so vulnerable with no fix although sid has 1:4.13+dfsg1-2.
    let shadow = by_id(&advisories, "CVE-2023-29383");
    assert_fixed(affected(&shadow, "debian:unstable", "shadow"), "1:4.13+dfsg1-2");
    let bookworm = affected(&shadow, "debian:12", "shadow");
    assert_eq!((bookworm.state, bookworm.note.as_deref()), (FixState::WontFix, Some("no-dsa: Minor issue")));
    assert!(bookworm.fixed.is_empty());
    assert_eq!(bookworm.ranges, below("1:4.13+dfsg1-2"), "judged by the sid fix, as the tracker does");
    assert_eq!(shadow.description.as_deref().map(|d| d.starts_with("In Shadow 4.13, it is possible")), Some(true));

    let tar = by_id(&advisories, "CVE-2022-48303");
    assert_fixed(affected(&tar, "debian:12", "tar"), "1.34+dfsg-1.2+deb12u1");
    assert_fixed(affected(&tar, "debian:11", "tar"), "1.34+dfsg-1+deb11u1");
    assert_eq!(affected(&tar, "debian:unstable", "tar").severity, Some(Severity::Negligible));

    // zlib: no bookworm line, so the sid fix applies; minizip is <removed>.
    let zlib = by_id(&advisories, "CVE-2023-45853");
    assert_fixed(affected(&zlib, "debian:12", "zlib"), "1:1.3.dfsg-2");
    assert!(zlib.affected.iter().all(|entry| entry.package == "zlib"));

    for (id, package) in [("CVE-2011-3374", "apt"), ("CVE-2022-0563", "util-linux")] {
        let advisory = by_id(&advisories, id);
        for namespace in ["debian:unstable", "debian:12"] {
            let entry = affected(&advisory, namespace, package);
            assert_eq!((entry.state, entry.severity), (FixState::NotFixed, Some(Severity::Negligible)), "{id}");
            assert!(entry.ranges.is_empty() && entry.versions.is_empty() && entry.fixed.is_empty());
        }
    }

    let coreutils = by_id(&advisories, "CVE-2016-2781");
    let bookworm = affected(&coreutils, "debian:12", "coreutils");
    assert_eq!((bookworm.state, bookworm.severity), (FixState::WontFix, Some(Severity::Low)));
    assert_eq!(bookworm.note.as_deref(), Some("ignored: Minor issue"));
    assert_eq!(affected(&coreutils, "debian:7", "coreutils").state, FixState::WontFix);

    for (id, package, fix) in [
        ("CVE-2023-31484", "perl", "5.36.0-7+deb12u3"),
        ("CVE-2024-0727", "openssl", "3.0.13-1~deb12u1"),
        ("CVE-2023-52425", "expat", "2.5.0-1+deb12u2"),
    ] {
        assert_fixed(affected(&by_id(&advisories, id), "debian:12", package), fix);
    }
    for (id, package) in [("CVE-2023-50495", "ncurses"), ("CVE-2024-22365", "pam"), ("CVE-2023-4039", "gcc-12")] {
        assert_eq!(affected(&by_id(&advisories, id), "debian:12", package).state, FixState::WontFix, "{id}");
    }

    // glibc in this (older) snapshot: unfixed in sid, so in bookworm; buster not affected.
    let glibc = by_id(&advisories, "CVE-2023-4911");
    assert_eq!(affected(&glibc, "debian:12", "glibc").state, FixState::NotFixed);
    let buster = affected(&glibc, "debian:10", "glibc");
    assert_eq!(
        (buster.state, buster.note.as_deref()),
        (FixState::NotAffected, Some("Vulnerable code introduced later"))
    );
    assert_eq!(glibc.description.as_deref().map(|d| d.starts_with("buffer overflow in dynamic loader")), Some(true));

    assert_eq!(by_id(&advisories, "CVE-2023-0286").related, ["DSA-5343-1", "DLA-3325-1"]);
}

#[test]
fn debian_tracker_json_sample() {
    let path = feed("debian-tracker/tracker-json-format-sample/debian.json");
    let parsed = debian::parse_with_report("debian.json", &read_bytes(&path)).unwrap();
    assert!(parsed.unknown_releases.is_empty());
    let advisories = advisories(parsed.records);
    let ids: Vec<&str> = advisories.iter().map(|advisory| advisory.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "CVE-2005-3111",
            "CVE-2007-2383",
            "CVE-2008-7220",
            "CVE-2013-1444",
            "CVE-2022-0358",
            "CVE-2022-0456",
            "CVE-2025-53603"
        ]
    );

    let prototype = by_id(&advisories, "CVE-2008-7220");
    assert_eq!(prototype.affected.len(), 4);
    for namespace in ["debian:8", "debian:9", "debian:10", "debian:unstable"] {
        let entry = affected(&prototype, namespace, "prototypejs");
        assert_fixed(entry, "1.6.0.2-1");
        assert_eq!(entry.severity, Some(Severity::High), "high** is NVD-derived high");
    }
    for entry in &by_id(&advisories, "CVE-2007-2383").affected {
        assert_eq!(
            (entry.state, entry.severity),
            (FixState::NotAffected, Some(Severity::Negligible)),
            "fixed_version 0"
        );
        assert!(entry.ranges.is_empty() && entry.fixed.is_empty());
    }
    assert_eq!(affected(&by_id(&advisories, "CVE-2013-1444"), "debian:9", "txt2man").severity, Some(Severity::Low));

    let chromium = by_id(&advisories, "CVE-2022-0456");
    let bookworm = affected(&chromium, "debian:12", "chromium");
    assert_fixed(bookworm, "98.0.4758.80-1");
    assert_eq!(bookworm.severity, Some(Severity::Unknown), "not yet assigned");
    assert_fixed(affected(&chromium, "debian:11", "chromium"), "98.0.4758.80-1~deb11u1");
    for namespace in ["debian:10", "debian:9"] {
        let eol = affected(&chromium, namespace, "chromium");
        assert_eq!((eol.state, eol.severity), (FixState::NotFixed, Some(Severity::Negligible)));
        assert_eq!(eol.note.as_deref(), Some("end-of-life"));
    }
    assert!(chromium.description.is_none());
    assert!(by_id(&advisories, "CVE-2022-0358").affected.is_empty(), "`releases: []`");
    assert_eq!(by_id(&advisories, "CVE-2025-53603").affected.len(), 4);
}

#[test]
fn debian_advisory_lists() {
    // (advisories, release lines, fixed, not affected, not fixed), counted with grep.
    let expected = [("DSA-list", 5406, 6988, 6926, 55, 7), ("DLA-list", 3534, 3535, 3534, 0, 1)];
    for (name, advisory_count, line_count, fixed, not_affected, not_fixed) in expected {
        let path = feed(&format!("debian-tracker/security-tracker-lists-2023-04/{name}"));
        let parsed = debian::parse_with_report(name, &read_bytes(&path)).unwrap();
        assert!(parsed.unknown_releases.is_empty(), "{name}: {:?}", parsed.unknown_releases);
        let advisories = advisories(parsed.records);
        assert_eq!(advisories.len(), advisory_count, "{name}");
        let entries: Vec<&Affected> = advisories.iter().flat_map(|advisory| &advisory.affected).collect();
        assert_eq!(entries.len(), line_count, "{name}");
        let count = |state: FixState| entries.iter().filter(|entry| entry.state == state).count();
        assert_eq!(
            (count(FixState::Fixed), count(FixState::NotAffected), count(FixState::NotFixed)),
            (fixed, not_affected, not_fixed),
            "{name}"
        );
    }

    let dsa = advisories(
        debian::parse("DSA-list", &read_bytes(&feed("debian-tracker/security-tracker-lists-2023-04/DSA-list")))
            .unwrap(),
    );
    let xorg = by_id(&dsa, "DSA-5380-1");
    assert_eq!(
        (xorg.aliases.as_slice(), xorg.published.as_deref()),
        (&["CVE-2023-1393".to_owned()][..], Some("2023-03-29"))
    );
    assert_eq!(xorg.summary.as_deref(), Some("xorg-server - security update"));
    assert_fixed(affected(&xorg, "debian:11", "xorg-server"), "2:1.20.11-1+deb11u6");
    let xen = by_id(&dsa, "DSA-5378-1");
    assert_eq!(xen.aliases.len(), 5);
    assert_fixed(affected(&by_id(&dsa, "DSA-1253-1"), "debian:3.1", "mozilla-firefox"), "1.0.4-2sarge15");
    assert!(by_id(&dsa, "DSA-5356-2").aliases.is_empty(), "regression update without CVEs");

    let dla = advisories(
        debian::parse("DLA-list", &read_bytes(&feed("debian-tracker/security-tracker-lists-2023-04/DLA-list")))
            .unwrap(),
    );
    let joblib = by_id(&dla, "DLA-3193-2");
    assert_eq!(joblib.aliases, ["CVE-2022-21797"]);
    assert_fixed(affected(&joblib, "debian:10", "joblib"), "0.13.0-2+deb10u2");
}

#[test]
fn alpine_secdb() {
    let files = files_of("alpine");
    assert_eq!(files.len(), 18);
    let mut packages = 0;
    let mut entries = 0;
    let mut by_file = BTreeMap::new();
    for (path, bytes) in &files {
        let secdb = alpine::read(path, bytes).unwrap_or_else(|e| panic!("{e}"));
        packages += secdb.packages.len();
        entries += secdb.entry_count();
        let records = advisories(alpine::to_records(&secdb));
        assert_eq!(records, advisories(alpine::parse(path, bytes).unwrap()));
        for entry in records.iter().flat_map(|advisory| &advisory.affected) {
            assert_eq!(entry.scheme, Scheme::Apk);
            assert_eq!(entry.namespace, secdb.namespace(), "{path}");
        }
        by_file.insert(path.clone(), records);
    }
    assert_eq!((packages, entries), (1652, 12028));
    assert!(by_file["alpine-secdb/v3.3/community.yaml"].is_empty(), "packages: null");

    // One Affected per secfixes version listing the CVE: busybox lists CVE-2019-5747 under its
    // 3.10 fix and under the 1.29.3 backport, and either range makes a version vulnerable.
    let main = &by_file["alpine-secdb/v3.10/main.yaml"];
    for (id, package, fixes) in [
        ("CVE-2019-1547", "openssl", &["1.1.1d-r0"][..]),
        ("CVE-2019-14697", "musl", &["1.1.22-r3"][..]),
        ("CVE-2019-5747", "busybox", &["1.30.1-r2", "1.29.3-r10"][..]),
    ] {
        let advisory = by_id(main, id);
        let entries: Vec<&Affected> = advisory.affected.iter().filter(|entry| entry.package == package).collect();
        assert_eq!(entries.len(), fixes.len(), "{id}");
        for (entry, fix) in entries.into_iter().zip(fixes) {
            assert_eq!(entry.namespace, "alpine:3.10");
            assert_fixed(entry, fix);
        }
    }
    // `"0"`: Oracle Berkeley DB issues that never affected Alpine's db.
    let berkeley = by_id(&by_file["alpine-secdb/v3.8/main.yaml"], "CVE-2016-0682");
    let db = affected(&berkeley, "alpine:3.8", "db");
    assert_eq!(db.state, FixState::NotAffected);
    assert!(db.ranges.is_empty() && db.fixed.is_empty());
    // A Xen entry naming three CVEs and the XSA.
    let spectre = by_id(&by_file["alpine-secdb/v3.7/main.yaml"], "CVE-2017-5715");
    assert!(spectre.aliases.contains(&"XSA-254".to_owned()), "{:?}", spectre.aliases);
    assert!(spectre.affected.iter().any(|entry| entry.package == "xen"));
}

#[test]
fn nvd_records() {
    let records = parse_all("nvd", nvd::parse);
    assert_eq!(records.len(), 4);
    let advisories: Vec<Advisory> = records.into_values().flat_map(advisories).collect();
    assert_eq!(advisories.len(), 4);

    let minimist = by_id(&advisories, "CVE-2021-44906");
    let v31 = minimist.cvss.iter().find(|cvss| cvss.version == "3.1").unwrap();
    assert_eq!((v31.base_score, v31.source.as_deref()), (Some(9.8), Some("nvd")));
    assert_eq!(v31.vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
    assert_eq!(minimist.cvss.iter().find(|cvss| cvss.version == "2.0").and_then(|cvss| cvss.base_score), Some(7.5));
    assert_eq!(minimist.cwes, ["CWE-1321"]);
    let entry = affected(&minimist, "cpe", "substack:minimist");
    assert_eq!(entry.ranges, below("1.2.6"));
    assert_eq!((entry.state, entry.scheme), (FixState::Unknown, Scheme::Generic));
    assert_eq!(entry.cpe.as_deref(), Some("cpe:2.3:a:substack:minimist:*:*:*:*:*:node.js:*:*"));

    let tar = by_id(&advisories, "CVE-2022-48303");
    assert_eq!(
        affected(&tar, "cpe", "gnu:tar").ranges,
        [VersionRange::Events {
            events: vec![RangeEvent::Introduced("0".into()), RangeEvent::LastAffected("1.34".into())]
        }]
    );
    let fedora: Vec<&[String]> = tar
        .affected
        .iter()
        .filter(|entry| entry.package == "fedoraproject:fedora")
        .map(|entry| entry.versions.as_slice())
        .collect();
    assert_eq!(fedora, [&["37".to_owned()][..], &["38".to_owned()][..]]);

    let shadow = by_id(&advisories, "CVE-2023-29383");
    assert_eq!(affected(&shadow, "cpe", "shadow_project:shadow").versions, ["4.13"]);
    assert_eq!(shadow.cwes, ["CWE-74", "CWE-125"]);
    assert_eq!(shadow.cvss[0].base_score, Some(3.3));

    let requests = by_id(&advisories, "CVE-2018-18074");
    assert_eq!(affected(&requests, "cpe", "python:requests").ranges, below("2.20.0"));
    assert!(requests.description.as_deref().is_some_and(|text| text.contains("Requests package")));
    assert!(advisories.iter().all(|advisory| advisory.withdrawn.is_none() && advisory.published.is_some()));
}

#[test]
fn cve5_records() {
    let records = parse_all("cve5", cve5::parse);
    assert_eq!(records.len(), 1192);
    let advisories: Vec<Advisory> = records.into_values().flat_map(advisories).collect();
    assert_eq!(advisories.len(), 1192);
    assert!(advisories.iter().all(|advisory| advisory.affected.is_empty() && advisory.withdrawn.is_none()));
    assert!(advisories.iter().all(|advisory| advisory.description.is_some()), "every record has a CNA description");

    let confluence = by_id(&advisories, "CVE-2023-22515");
    let scores: Vec<(&str, Option<f64>, Option<&str>)> =
        confluence.cvss.iter().map(|cvss| (cvss.version.as_str(), cvss.base_score, cvss.source.as_deref())).collect();
    assert_eq!(scores, [("3.0", Some(10.0), Some("atlassian")), ("3.1", Some(9.8), Some("cisa-adp"))]);
    assert_eq!(confluence.cwes, ["CWE-20"]);
    assert_eq!(confluence.published.as_deref(), Some("2023-10-04T14:00:00.820Z"));
    assert_eq!(confluence.modified.as_deref(), Some("2024-09-13T18:13:18.030Z"));
    assert!(!by_id(&advisories, "CVE-2022-1471").cvss.is_empty(), "snakeyaml, from the README");
}

#[test]
fn kev_catalog() {
    let records = parse_all("kev", kev::parse);
    let entries: Vec<KevEntry> = records
        .into_values()
        .flatten()
        .map(|record| match record {
            Record::Kev(entry) => entry,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(entries.len(), 1404);
    let added = |cve: &str| entries.iter().find(|entry| entry.cve == cve).map(|entry| entry.date_added.clone());
    assert_eq!(added("CVE-2021-44228").as_deref(), Some("2021-12-10"));
    assert_eq!(added("CVE-2023-4911").as_deref(), Some("2023-11-21"));
    let log4j = entries.iter().find(|entry| entry.cve == "CVE-2021-44228").unwrap();
    assert_eq!((log4j.vendor.as_str(), log4j.product.as_str()), ("Apache", "Log4j2"));
    assert_eq!(log4j.ransomware.as_deref(), Some("Known"));
}
