//! The ecosystem feed parsers (OSV, RustSec, rubysec, FriendsOfPHP, Node.js
//! security WG) on every real file of the shared feeds: each file is
//! recognised by its own parser alone, parses, and the counts are the ones
//! the feeds README states. Specific records are checked against the
//! upstream files and the README's coverage table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use portcullis_feeds::formats::{FormatError, SNIFF_BYTES, nodejs_wg, osv, packagist, rubysec, rustsec};
use portcullis_testkit::data::{feeds_root, read_bytes, regular_files};
use portcullis_vulndb::{Advisory, Affected, FixState, RangeEvent, Record, Scheme, Severity, VersionRange};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Osv,
    RustSec,
    RubySec,
    Packagist,
    NodejsWg,
}

type Recognizer = fn(&str, &[u8]) -> bool;
type Parser = fn(&str, &[u8]) -> Result<Vec<Record>, FormatError>;

const PARSERS: [(Kind, Recognizer, Parser); 5] = [
    (Kind::Osv, osv::recognizes, osv::parse),
    (Kind::RustSec, rustsec::recognizes, rustsec::parse),
    (Kind::RubySec, rubysec::recognizes, rubysec::parse),
    (Kind::Packagist, packagist::recognizes, packagist::parse),
    (Kind::NodejsWg, nodejs_wg::recognizes, nodejs_wg::parse),
];

/// Which parser a file belongs to, from the layouts the feeds README describes.
fn expected_kind(relative: &str) -> Option<Kind> {
    let under = |prefix: &str, extension: &str| relative.starts_with(prefix) && relative.ends_with(extension);
    if under("osv-pypi/vulns/", ".yaml")
        || under("osv-go/data/osv/", ".json")
        || under("rustsec/osv/crates/", ".json")
        || under("ghsa-subset/advisories/github-reviewed/", ".json")
    {
        Some(Kind::Osv)
    } else if under("rustsec/advisory-db/crates/", ".md") || under("rustsec/advisory-db/rust/", ".md") {
        Some(Kind::RustSec)
    } else if under("rubysec/gems/", ".yml") || under("rubysec/rubies/", ".yml") {
        Some(Kind::RubySec)
    } else if under("packagist-friendsofphp/", ".yaml") {
        Some(Kind::Packagist)
    } else if ["npm", "core", "deps"]
        .iter()
        .any(|folder| under(&format!("npm-nodejs-security-wg/vuln/{folder}/"), ".json"))
        && !relative.ends_with("/index.json")
    {
        Some(Kind::NodejsWg)
    } else {
        None
    }
}

/// Every file under `folder` of the feeds root as (path relative to the
/// feeds root, bytes).
fn feed_files(folder: &str) -> Vec<(String, Vec<u8>)> {
    let root = feeds_root();
    regular_files(&root.join(folder))
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&root).unwrap_or(Path::new("")).to_string_lossy().replace('\\', "/");
            let bytes = read_bytes(&path);
            (relative, bytes)
        })
        .collect()
}

#[test]
fn every_feed_file_is_recognized_by_its_own_parser_alone() {
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for (relative, bytes) in feed_files("") {
        let expected = expected_kind(&relative);
        if let Some(kind) = expected {
            *counts.entry(kind).or_default() += 1;
        }
        // The sync shows the first few KB; the whole file must give the same answer.
        for head_length in [1024, SNIFF_BYTES, bytes.len()] {
            let head = &bytes[..head_length.min(bytes.len())];
            let recognized: Vec<Kind> = PARSERS
                .iter()
                .filter(|(_, recognizes, _)| recognizes(&relative, head))
                .map(|(kind, _, _)| *kind)
                .collect();
            assert_eq!(recognized, Vec::from_iter(expected), "{relative} with a {head_length}-byte head");
        }
    }
    let expected_counts = BTreeMap::from([
        (Kind::Osv, 2_661 + 4_291 + 1_206 + 16),
        (Kind::RustSec, 1_225),
        (Kind::RubySec, 1_234 + 147),
        (Kind::Packagist, 1_592),
        (Kind::NodejsWg, 467 + 171 + 6),
    ]);
    assert_eq!(counts, expected_counts);
}

/// Every advisory of the files under `folder` (relative to the feeds root)
/// that `kind` recognises, by relative path; each file gives one advisory.
fn parse_folder(folder: &str, kind: Kind) -> BTreeMap<String, Advisory> {
    let (_, recognizes, parse) = PARSERS.iter().find(|(k, _, _)| *k == kind).copied().unwrap();
    let mut advisories = BTreeMap::new();
    for (relative, bytes) in feed_files(folder) {
        if !recognizes(&relative, &bytes) {
            continue;
        }
        let records = parse(&relative, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let [Record::Advisory(advisory)] =
            <[Record; 1]>::try_from(records).unwrap_or_else(|r| panic!("{relative}: {r:?}"))
        else {
            panic!("{relative}: not an advisory");
        };
        assert!(!advisory.affected.is_empty(), "{relative}: no affected package");
        assert!(!advisory.aliases.contains(&advisory.id), "{relative}: own id among the aliases");
        advisories.insert(relative, *advisory);
    }
    advisories
}

fn only_affected(advisory: &Advisory) -> &Affected {
    let [affected] = advisory.affected.as_slice() else { panic!("{}: {:?}", advisory.id, advisory.affected) };
    affected
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

fn distinct_packages<'a>(advisories: impl Iterator<Item = &'a Advisory>) -> usize {
    advisories
        .flat_map(|a| &a.affected)
        .map(|affected| (&affected.namespace, &affected.package))
        .collect::<BTreeSet<_>>()
        .len()
}

fn events(range: &VersionRange) -> &[RangeEvent] {
    match range {
        VersionRange::Events { events } => events,
        other => panic!("not OSV events: {other:?}"),
    }
}

fn introduced(version: &str) -> RangeEvent {
    RangeEvent::Introduced(version.into())
}

fn fixed(version: &str) -> RangeEvent {
    RangeEvent::Fixed(version.into())
}

#[test]
fn osv_pypi() {
    let advisories = parse_folder("osv-pypi/", Kind::Osv);
    assert_eq!(advisories.len(), 2_661);
    assert_eq!(distinct_packages(advisories.values()), 664);
    assert_eq!(advisories.values().filter(|a| a.withdrawn.is_some()).count(), 10);
    assert!(advisories.values().flat_map(|a| &a.affected).all(|a| a.namespace == "pypi" && a.scheme == Scheme::Pep440));

    let requests = &advisories["osv-pypi/vulns/requests/PYSEC-2018-28.yaml"];
    assert_eq!(requests.id, "PYSEC-2018-28");
    assert_eq!(requests.aliases, strings(&["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"]));
    assert_eq!(requests.published.as_deref(), Some("2018-10-09T17:29:00Z"));
    assert_eq!(requests.modified.as_deref(), Some("2021-06-16T00:03:24.800813Z"));
    assert!(requests.description.as_deref().is_some_and(|d| d.starts_with("The Requests package before 2.20.0")));
    assert_eq!(requests.references.len(), 10);
    let affected = only_affected(requests);
    assert_eq!(affected.package, "requests");
    // The GIT range (commit hashes) is dropped.
    assert_eq!(affected.ranges, [VersionRange::Events { events: vec![introduced("0"), fixed("2.20.0")] }]);
    assert_eq!((affected.fixed.as_slice(), affected.state), (&strings(&["2.20.0"])[..], FixState::Fixed));
    assert!(affected.versions.contains(&"2.19.1".to_owned()) && !affected.versions.contains(&"2.20.0".to_owned()));

    // A release list written `'0.10'` stays a string, not the number 0.1.
    let ajenti = only_affected(&advisories["osv-pypi/vulns/ajenti-panel/PYSEC-2018-109.yaml"]);
    assert_eq!(&ajenti.versions[..3], strings(&["0.10", "0.11", "0.12"]));
    assert_eq!(ajenti.state, FixState::NotFixed, "only `introduced: 0`");
    let py = only_affected(&advisories["osv-pypi/vulns/py/PYSEC-2022-42969.yaml"]);
    assert_eq!(events(&py.ranges[0]), [introduced("0"), RangeEvent::LastAffected("1.11.0".into())]);
    assert_eq!(py.state, FixState::Unknown);

    let pyyaml = only_affected(&advisories["osv-pypi/vulns/pyyaml/PYSEC-2021-142.yaml"]);
    assert_eq!((pyyaml.package.as_str(), pyyaml.fixed.as_slice()), ("pyyaml", &strings(&["5.4"])[..]));
    let django = &advisories["osv-pypi/vulns/django/PYSEC-2019-79.yaml"];
    assert!(django.aliases.contains(&"CVE-2019-12308".to_owned()));
    assert!(only_affected(django).fixed.contains(&"2.2.2".to_owned()));
}

#[test]
fn osv_go() {
    let advisories = parse_folder("osv-go/", Kind::Osv);
    assert_eq!(advisories.len(), 4_291);
    assert_eq!(distinct_packages(advisories.values()), 1_373);
    assert_eq!(advisories.values().filter(|a| a.withdrawn.is_some()).count(), 17);
    assert!(advisories.values().flat_map(|a| &a.affected).all(|a| a.namespace == "go" && a.scheme == Scheme::Go));

    let text = &advisories["osv-go/data/osv/GO-2022-1059.json"];
    assert_eq!(text.aliases, strings(&["CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"]));
    assert_eq!(text.published.as_deref(), Some("0001-01-01T00:00:00Z"), "kept as upstream writes it");
    assert_eq!(text.references.len(), 3);
    let affected = only_affected(text);
    assert_eq!(affected.package, "golang.org/x/text");
    assert_eq!(affected.ranges, [VersionRange::Events { events: vec![introduced("0"), fixed("0.3.8")] }]);
    assert_eq!((affected.fixed.as_slice(), affected.state), (&strings(&["0.3.8"])[..], FixState::Fixed));

    let net = &advisories["osv-go/data/osv/GO-2023-2102.json"];
    assert_eq!(net.related, strings(&["CVE-2023-44487"]));
    let [stdlib, x_net] = net.affected.as_slice() else { panic!("{:?}", net.affected) };
    assert_eq!((stdlib.package.as_str(), stdlib.fixed.as_slice()), ("stdlib", &strings(&["1.20.10", "1.21.3"])[..]));
    assert_eq!((x_net.package.as_str(), x_net.fixed.as_slice()), ("golang.org/x/net", &strings(&["0.17.0"])[..]));
}

#[test]
fn osv_ghsa_subset() {
    let advisories = parse_folder("ghsa-subset/", Kind::Osv);
    assert_eq!(advisories.len(), 16);
    assert!(
        advisories.values().all(|a| a.severity.is_some() && a.cvss.iter().all(|c| c.source.as_deref() == Some("ghsa")))
    );
    let by_id = |id: &str| advisories.values().find(|a| a.id == id).unwrap_or_else(|| panic!("{id} missing"));

    let node_fetch = by_id("GHSA-r683-j2x4-v87g");
    assert_eq!(node_fetch.aliases, strings(&["CVE-2022-0235"]));
    assert_eq!(node_fetch.severity, Some(Severity::High));
    assert_eq!(node_fetch.cwes, strings(&["CWE-173", "CWE-200", "CWE-601"]));
    assert_eq!(node_fetch.cvss[0].vector, "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H");
    assert_eq!(node_fetch.cvss[0].version, "3.0");
    // Both overlapping ranges are kept, each with its own fix.
    let [line_3, line_2] = node_fetch.affected.as_slice() else { panic!("{:?}", node_fetch.affected) };
    assert_eq!((line_3.namespace.as_str(), line_3.package.as_str()), ("npm", "node-fetch"));
    assert_eq!(line_3.ranges, [VersionRange::Events { events: vec![introduced("1.0"), fixed("3.1.1")] }]);
    assert_eq!(line_2.ranges, [VersionRange::Events { events: vec![introduced("0"), fixed("2.6.7")] }]);

    let log4j = by_id("GHSA-jfh8-c2jp-5v3q");
    assert_eq!(log4j.severity, Some(Severity::Critical));
    let log4j_core = log4j.affected.iter().find(|a| a.package == "org.apache.logging.log4j:log4j-core").unwrap();
    assert_eq!((log4j_core.namespace.as_str(), log4j_core.scheme), ("maven", Scheme::Maven));
    assert!(log4j_core.fixed.contains(&"2.15.0".to_owned()));

    let lodash = by_id("GHSA-jf85-cpcp-j695");
    assert_eq!(lodash.aliases, strings(&["CVE-2019-10744"]));
    let packages: Vec<(&str, &[String])> =
        lodash.affected.iter().map(|a| (a.package.as_str(), a.fixed.as_slice())).collect();
    assert_eq!(
        packages,
        [
            ("lodash", &strings(&["4.17.12"])[..]),
            ("lodash-es", &strings(&["4.17.14"])[..]),
            ("lodash-amd", &strings(&["4.17.13"])[..]),
            ("lodash.defaultsdeep", &strings(&["4.6.1"])[..]),
        ]
    );
}

#[test]
fn rustsec_osv_export() {
    let advisories = parse_folder("rustsec/osv/", Kind::Osv);
    assert_eq!(advisories.len(), 1_206);
    assert_eq!(advisories.values().filter(|a| a.withdrawn.is_some()).count(), 13);
    assert!(advisories.values().flat_map(|a| &a.cvss).all(|c| c.source.as_deref() == Some("rustsec")));

    let time = &advisories["rustsec/osv/crates/RUSTSEC-2020-0071.json"];
    assert_eq!(time.summary.as_deref(), Some("Potential segfault in the time crate"));
    assert_eq!(time.cvss[0].vector, "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H");
    let affected = only_affected(time);
    assert_eq!((affected.namespace.as_str(), affected.scheme), ("crates.io", Scheme::Cargo));
    // "patched >= 0.2.23, unaffected =0.2.0 ... =0.2.6" as eight intervals in one range.
    let events = events(&affected.ranges[0]);
    assert_eq!(events.len(), 16);
    assert_eq!(events[..2], [introduced("0.0.0-0"), fixed("0.2.0")]);
    assert_eq!(events[14..], [introduced("0.2.7-0"), fixed("0.2.23")]);
    assert_eq!(affected.fixed.last().map(String::as_str), Some("0.2.23"));

    let adler = &advisories["rustsec/osv/crates/RUSTSEC-2025-0056.json"];
    assert_eq!(adler.severity, Some(Severity::Negligible), "unmaintained, no CVE, no CVSS");
    assert_eq!(only_affected(adler).state, FixState::NotFixed);
    assert_eq!(time.severity, None);
}

#[test]
fn rustsec_native() {
    let advisories = parse_folder("rustsec/advisory-db/", Kind::RustSec);
    assert_eq!(advisories.len(), 1_225);
    let (toolchain, crates): (Vec<&Advisory>, Vec<&Advisory>) =
        advisories.values().partition(|a| only_affected(a).namespace == rustsec::TOOLCHAIN_NAMESPACE);
    assert_eq!((crates.len(), toolchain.len()), (1_205, 20));
    assert_eq!(distinct_packages(crates.iter().copied()), 908);
    assert_eq!(advisories.values().filter(|a| a.withdrawn.is_some()).count(), 13);
    assert!(advisories.values().all(|a| a.summary.is_some()));

    let time = &advisories["rustsec/advisory-db/crates/time/RUSTSEC-2020-0071.md"];
    assert_eq!(time.id, "RUSTSEC-2020-0071");
    assert_eq!(time.aliases, strings(&["CVE-2020-26235", "GHSA-wcg3-cvx6-7396"]));
    assert_eq!(time.published.as_deref(), Some("2020-11-18"));
    assert_eq!(time.summary.as_deref(), Some("Potential segfault in the time crate"));
    assert!(time.description.as_deref().is_some_and(|d| d.starts_with("### Impact")));
    assert_eq!((time.cvss[0].version.as_str(), time.cvss[0].source.as_deref()), ("3.1", Some("rustsec")));
    assert_eq!(time.references, strings(&["https://github.com/time-rs/time/issues/293"]));
    let affected = only_affected(time);
    assert_eq!((affected.namespace.as_str(), affected.package.as_str()), ("crates.io", "time"));
    let unaffected = strings(&[">= 0.2.23", "=0.2.0", "=0.2.1", "=0.2.2", "=0.2.3", "=0.2.4", "=0.2.5", "=0.2.6"]);
    assert_eq!(affected.ranges, [VersionRange::Requirements { affected: None, unaffected }]);
    assert_eq!((affected.fixed.as_slice(), affected.state), (&strings(&["0.2.23"])[..], FixState::Fixed));

    let smallvec = only_affected(&advisories["rustsec/advisory-db/crates/smallvec/RUSTSEC-2021-0003.md"]);
    // patched = [">= 0.6.14, < 1.0.0", ">= 1.6.1"]: one fix per release line.
    assert_eq!(smallvec.fixed, strings(&["0.6.14", "1.6.1"]));
    let regex = only_affected(&advisories["rustsec/advisory-db/crates/regex/RUSTSEC-2022-0013.md"]);
    assert_eq!(regex.fixed, strings(&["1.5.5"]));

    let std = &advisories["rustsec/advisory-db/rust/std/CVE-2021-31162.md"];
    let affected = only_affected(std);
    assert_eq!((affected.package.as_str(), affected.scheme), ("std", Scheme::Cargo));
    let unaffected = strings(&[">= 1.52.0", "< 1.48.0"]);
    assert_eq!(affected.ranges, [VersionRange::Requirements { affected: None, unaffected }]);
    assert_eq!(affected.fixed, strings(&["1.52.0"]));

    let adler = &advisories["rustsec/advisory-db/crates/adler/RUSTSEC-2025-0056.md"];
    assert_eq!(adler.severity, Some(Severity::Negligible));
    assert_eq!((only_affected(adler).state, only_affected(adler).ranges.len()), (FixState::NotFixed, 0));
}

#[test]
fn rubysec() {
    let advisories = parse_folder("rubysec/", Kind::RubySec);
    assert_eq!(advisories.len(), 1_234 + 147);
    let gems: Vec<&Advisory> = advisories.values().filter(|a| only_affected(a).namespace == "rubygems").collect();
    assert_eq!(gems.len(), 1_234);
    assert_eq!(distinct_packages(gems.iter().copied()), 465);
    // Every file is named by the id it gets, except seven named by their
    // GHSA id before a CVE was assigned.
    let renamed: Vec<&str> = advisories
        .iter()
        .filter(|(path, a)| !path.ends_with(&format!("/{}.yml", a.id)))
        .map(|(path, _)| path.as_str())
        .collect();
    assert_eq!(renamed.len(), 7, "{renamed:?}");
    assert!(renamed.iter().all(|path| path.contains("/GHSA-")));

    let nokogiri = &advisories["rubysec/gems/nokogiri/CVE-2019-5477.yml"];
    assert_eq!(nokogiri.id, "CVE-2019-5477");
    assert_eq!(nokogiri.aliases, strings(&["GHSA-cr5j-953j-xw5p"]));
    assert_eq!(nokogiri.published.as_deref(), Some("2019-08-11"));
    let scores: Vec<(&str, Option<f64>)> = nokogiri.cvss.iter().map(|c| (c.version.as_str(), c.base_score)).collect();
    assert_eq!(scores, [("2.0", Some(7.5)), ("3.x", Some(9.8))]);
    assert_eq!(nokogiri.references.len(), 3);
    let affected = only_affected(nokogiri);
    assert_eq!((affected.package.as_str(), affected.scheme), ("nokogiri", Scheme::RubyGems));
    assert_eq!(affected.ranges, [VersionRange::Requirements { affected: None, unaffected: strings(&[">= 1.10.4"]) }]);
    assert_eq!((affected.fixed.as_slice(), affected.state), (&strings(&["1.10.4"])[..], FixState::Fixed));

    let rack = only_affected(&advisories["rubysec/gems/rack/CVE-2022-30123.yml"]);
    assert_eq!(rack.fixed, strings(&["2.0.9.1", "2.1.4.1", "2.2.3.1"]));

    let kobako = &advisories["rubysec/gems/kobako/GHSA-7pwq-q9jf-539h.yml"];
    assert_eq!(
        (kobako.id.as_str(), kobako.aliases.as_slice()),
        ("CVE-2026-55107", &strings(&["GHSA-7pwq-q9jf-539h"])[..])
    );

    let ruby = &advisories["rubysec/rubies/ruby/CVE-2021-31810.yml"];
    let affected = only_affected(ruby);
    assert_eq!((affected.namespace.as_str(), affected.package.as_str()), (rubysec::INTERPRETER_NAMESPACE, "ruby"));
    assert_eq!(affected.fixed, strings(&["2.6.8", "2.7.4", "3.0.2"]));
}

#[test]
fn packagist() {
    let advisories = parse_folder("packagist-friendsofphp/", Kind::Packagist);
    assert_eq!(advisories.len(), 1_592);
    assert_eq!(distinct_packages(advisories.values()), 350);
    let ids: BTreeSet<&str> = advisories.values().map(|a| a.id.as_str()).collect();
    assert!(advisories.values().all(|a| a.id.starts_with("CVE-") || a.id.starts_with(packagist::ID_PREFIX)));
    // `cve: ~` in 238 files, no `cve` key in 194.
    assert_eq!(advisories.values().filter(|a| a.id.starts_with(packagist::ID_PREFIX)).count(), 238 + 194);
    assert!(ids.len() < advisories.len(), "a CVE can affect several packages, one file each");

    let symfony = &advisories["packagist-friendsofphp/symfony/symfony/CVE-2019-10909.yaml"];
    assert_eq!(
        symfony.summary.as_deref(),
        Some("CVE-2019-10909: Escape validation messages in the PHP templating engine")
    );
    assert_eq!(symfony.references, strings(&["https://symfony.com/cve-2019-10909"]));
    assert_eq!(symfony.published.as_deref(), Some("2019-04-16 11:40:42"));
    let affected = only_affected(symfony);
    assert_eq!((affected.package.as_str(), affected.scheme), ("symfony/symfony", Scheme::Composer));
    assert_eq!(affected.ranges.len(), 10);
    assert_eq!(
        affected.ranges[0],
        VersionRange::Requirements { affected: Some(">=2.7.0, <2.7.51".to_owned()), unaffected: Vec::new() }
    );
    // 3.0.x to 4.0.x end where the next branch starts: no fix on those lines.
    assert_eq!(affected.fixed, strings(&["2.7.51", "2.8.50", "3.4.26", "4.1.12", "4.2.7"]));

    let scramble = &advisories["packagist-friendsofphp/dedoc/scramble/2026-04-28.yaml"];
    assert_eq!(scramble.id, "FriendsOfPHP-dedoc/scramble/2026-04-28");
    assert_eq!(scramble.aliases, strings(&["GHSA-4rm2-28vj-fj39"]));
    assert_eq!(scramble.published.as_deref(), Some("2026-04-27 20:30:00"));
    assert_eq!(only_affected(scramble).fixed, strings(&["0.13.22"]));
}

#[test]
fn nodejs_security_wg() {
    let advisories = parse_folder("npm-nodejs-security-wg/", Kind::NodejsWg);
    let count = |prefix: &str| advisories.values().filter(|a| a.id.starts_with(prefix)).count();
    assert_eq!((count("NSWG-ECO-"), count("NSWG-COR-"), count("NSWG-DEP-")), (467, 171, 6));

    let lodash = &advisories["npm-nodejs-security-wg/vuln/npm/368.json"];
    assert_eq!(lodash.id, "NSWG-ECO-368");
    assert_eq!(lodash.aliases, strings(&["CVE-2018-3721"]));
    assert_eq!(lodash.summary.as_deref(), Some("lodash prototype pollution"));
    assert_eq!((lodash.published.as_deref(), lodash.modified.as_deref()), (Some("2018-02-12"), Some("2018-02-12")));
    assert_eq!(lodash.cvss[0].vector, "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L");
    assert_eq!((lodash.cvss[0].version.as_str(), lodash.cvss[0].base_score), ("3.0", Some(2.5)));
    let affected = only_affected(lodash);
    assert_eq!((affected.namespace.as_str(), affected.package.as_str()), ("npm", "lodash"));
    let expected = VersionRange::Requirements { affected: Some("<4.17.5".into()), unaffected: strings(&[">=4.17.5"]) };
    assert_eq!(affected.ranges, [expected]);
    assert_eq!((affected.fixed.as_slice(), affected.state), (&strings(&["4.17.5"])[..], FixState::Fixed));
    assert_eq!(only_affected(&advisories["npm-nodejs-security-wg/vuln/npm/493.json"]).fixed, strings(&["4.17.11"]));

    // `patched_versions: null` with "No fix is currently available".
    let harp = only_affected(&advisories["npm-nodejs-security-wg/vuln/npm/498.json"]);
    assert_eq!((harp.state, harp.fixed.len()), (FixState::NotFixed, 0));
    let mqtt = only_affected(&advisories["npm-nodejs-security-wg/vuln/npm/500.json"]);
    assert_eq!(mqtt.fixed, strings(&["3.5.1", "4.1.3", "5.6.1", "6.1.2"]));

    let core = &advisories["npm-nodejs-security-wg/vuln/core/1.json"];
    assert_eq!((core.id.as_str(), core.aliases.as_slice()), ("NSWG-COR-1", &strings(&["CVE-2017-1000381"])[..]));
    assert_eq!(core.severity, Some(Severity::High));
    assert_eq!(core.summary.as_deref(), Some("memory overread when parsing invalid NAPTR responses"));
    let node = only_affected(core);
    assert_eq!((node.namespace.as_str(), node.package.as_str()), (nodejs_wg::NODE_NAMESPACE, nodejs_wg::NODE_PACKAGE));
    assert_eq!(node.fixed, strings(&["8.1.4", "7.10.1", "4.8.4", "6.11.1"]));

    let assessment = &advisories["npm-nodejs-security-wg/vuln/deps/3.json"];
    assert_eq!(assessment.aliases, strings(&["CVE-2024-4761", "CVE-2024-4947", "CVE-2024-5274"]));
    let node = only_affected(assessment);
    assert_eq!(
        (node.state, node.note.as_deref()),
        (FixState::NotAffected, Some("vulnerable_code_not_in_execute_path"))
    );
}

#[test]
fn truncated_real_files_are_errors_naming_the_file() {
    // (file, parser, cut at these fractions of its length)
    let cases = [
        ("osv-go/data/osv/GO-2022-1059.json", Kind::Osv, [3, 2]),
        (
            "ghsa-subset/advisories/github-reviewed/2022/01/GHSA-r683-j2x4-v87g/GHSA-r683-j2x4-v87g.json",
            Kind::Osv,
            [3, 2],
        ),
        ("npm-nodejs-security-wg/vuln/npm/368.json", Kind::NodejsWg, [3, 2]),
        // Inside the TOML block: the Markdown after it has no shape to miss.
        ("rustsec/advisory-db/crates/time/RUSTSEC-2020-0071.md", Kind::RustSec, [10, 5]),
        // YAML cut inside a line; a cut at a line end can still be valid YAML.
        ("osv-pypi/vulns/requests/PYSEC-2018-28.yaml", Kind::Osv, [3, 2]),
        ("rubysec/gems/nokogiri/CVE-2019-5477.yml", Kind::RubySec, [3, 2]),
        ("packagist-friendsofphp/symfony/symfony/CVE-2019-10909.yaml", Kind::Packagist, [3, 2]),
    ];
    for (relative, kind, fractions) in cases {
        let bytes = read_bytes(&feeds_root().join(relative));
        let (_, _, parse) = PARSERS.iter().find(|(k, _, _)| *k == kind).copied().unwrap();
        for cut in fractions.map(|fraction| bytes.len() / fraction) {
            let error = parse(relative, &bytes[..cut]).expect_err(&format!("{relative} cut at {cut}"));
            assert!(error.to_string().starts_with(relative), "{error}");
        }
    }
}
