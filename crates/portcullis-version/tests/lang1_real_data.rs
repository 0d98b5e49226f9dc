//! The PEP 440, npm, Cargo and Go schemes on the real advisory feeds: every
//! version and requirement they contain, OSV ranges checked for order, the
//! feeds' own version lists and exports checked against our verdicts, the
//! npm and PyPI data also against node-semver and packaging, and the
//! vulnerable releases of the feeds' README worked out by hand.

mod lang1_support;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lang1_support::{
    Evaluation, Rng, assert_agreement, compare_outcome, run_node_semver, run_packaging, satisfies_outcome,
};
use portcullis_testkit::data::feed;
use portcullis_version::{VersionError, cargo, golang, npm, pep440};
use serde_json::Value;

type Compare = fn(&str, &str) -> Result<Ordering, VersionError>;

fn files_under(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|found| found == extension) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A YAML scalar as text (the PyPA files quote versions, but a bare `2` would be a number).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The `(kind, version)` events of an OSV range, in file order.
fn events(range: &Value) -> Vec<(String, String)> {
    range["events"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|event| event.as_object().unwrap().iter().map(|(kind, version)| (kind.clone(), scalar(version))))
        .collect()
}

/// OSV's evaluation of one range: its events sorted by the scheme's order (the
/// PyPA data does not keep them sorted), then the last one at or below the version decides.
fn osv_affected(version: &str, events: &[(String, String)], compare: Compare) -> Result<bool, VersionError> {
    for (_, bound) in events.iter().filter(|(_, bound)| bound != "0") {
        compare(bound, bound)?;
    }
    let mut sorted = events.to_vec();
    sorted.sort_by(|(_, a), (_, b)| match (a.as_str(), b.as_str()) {
        ("0", "0") => Ordering::Equal,
        ("0", _) => Ordering::Less,
        (_, "0") => Ordering::Greater,
        _ => compare(a, b).unwrap_or(Ordering::Equal),
    });
    let mut affected = false;
    for (kind, bound) in &sorted {
        let ordering = if bound == "0" { Ordering::Greater } else { compare(version, bound)? };
        match kind.as_str() {
            "introduced" if ordering.is_ge() => affected = true,
            "fixed" if ordering.is_ge() => affected = false,
            "last_affected" if ordering.is_gt() => affected = false,
            _ => {}
        }
    }
    Ok(affected)
}

/// Out-of-order events of a range, per our ordering (Go's and RustSec's exports keep them sorted).
fn unordered_events(events: &[(String, String)], compare: Compare) -> Vec<String> {
    let versions: Vec<&str> = events.iter().map(|(_, version)| version.as_str()).filter(|v| *v != "0").collect();
    versions
        .windows(2)
        .filter_map(|pair| match compare(pair[0], pair[1]) {
            Ok(Ordering::Greater) => Some(format!("{} > {}", pair[0], pair[1])),
            Ok(_) => None,
            Err(error) => Some(error.to_string()),
        })
        .collect()
}

/// The OSV advisory `id.json` (or `.yaml`) under `feed_dir`.
fn advisory(feed_dir: &str, id: &str) -> Value {
    let root = feed(feed_dir);
    let path = files_under(&root, "json")
        .into_iter()
        .find(|path| path.file_stem().is_some_and(|stem| stem == id))
        .unwrap_or_else(|| panic!("{id} not found under {}", root.display()));
    read_json(&path)
}

/// Whether `version` of `package` falls in the advisory's ranges for it.
fn advisory_affects(advisory: &Value, package: &str, version: &str, compare: Compare) -> bool {
    advisory["affected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|affected| affected["package"]["name"] == package)
        .flat_map(|affected| affected["ranges"].as_array().unwrap())
        .any(|range| osv_affected(version, &events(range), compare).unwrap())
}

struct PypiAffected {
    id: String,
    ranges: Vec<Vec<(String, String)>>,
    versions: Vec<String>,
}

fn pypi_records() -> Vec<PypiAffected> {
    let mut records = Vec::new();
    for path in files_under(&feed("osv-pypi/vulns"), "yaml") {
        let record: Value = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for affected in record["affected"].as_array().into_iter().flatten() {
            assert_eq!(affected["package"]["ecosystem"], "PyPI", "{}", path.display());
            records.push(PypiAffected {
                id: scalar(&record["id"]),
                ranges: affected["ranges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|range| range["type"] == "ECOSYSTEM")
                    .map(events)
                    .collect(),
                versions: affected["versions"].as_array().into_iter().flatten().map(scalar).collect(),
            });
        }
    }
    records
}

#[test]
fn pypi_ranges_contain_their_listed_versions() {
    let records = pypi_records();
    let (mut checked, mut legacy, mut problems) = (0, BTreeSet::new(), Vec::new());
    for record in &records {
        for version in &record.versions {
            if pep440::compare(version, "0").is_err() {
                legacy.insert(version.clone());
                continue;
            }
            checked += 1;
            let inside = record.ranges.iter().any(|range| osv_affected(version, range, pep440::compare) == Ok(true));
            if !record.ranges.is_empty() && !inside {
                problems.push(format!("{}: listed version {version} is outside its ranges", record.id));
            }
        }
    }
    // Upstream inconsistencies, checked by hand against packaging: django lists 3.2a1 (below
    // `introduced: 3.2` in PEP 440), gevent lists its `fixed` release 23.9.0, and wagtail puts
    // two overlapping intervals in one range ([0, 2.11.6) and [2.11, 2.11.7)), which OSV's
    // evaluation of one range does not allow.
    let mut upstream = vec![
        "PYSEC-2021-114: listed version 2.11.6 is outside its ranges".to_owned(),
        "PYSEC-2023-177: listed version 23.9.0 is outside its ranges".to_owned(),
        "PYSEC-2023-177: listed version 23.9.0.post1 is outside its ranges".to_owned(),
    ];
    for release in ["3.2", "4.2"] {
        for pre in ["a1", "b1", "rc1"] {
            upstream.push(format!("PYSEC-2023-61: listed version {release}{pre} is outside its ranges"));
        }
    }
    problems.sort();
    upstream.sort();
    assert_eq!(problems, upstream);
    assert!(checked > 50_000, "only {checked} listed versions");
    // Pre-PEP 440 releases that PyPI still lists are refused, not guessed at.
    assert!(legacy.len() < 100, "{legacy:?}");
}

#[test]
fn pypi_versions_order_and_match_like_packaging() {
    let records = pypi_records();
    let mut rng = Rng::new(0x5059_5049);
    let distinct: Vec<String> = records
        .iter()
        .flat_map(|record| record.versions.iter().chain(record.ranges.iter().flatten().map(|(_, version)| version)))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Each version against its neighbour in text order (often a near relative) and against a random one.
    let compare_cases: Vec<(String, String)> = distinct
        .windows(2)
        .flat_map(|pair| [(pair[0].clone(), pair[1].clone()), (pair[0].clone(), rng.pick(&distinct))])
        .collect();
    // Each range as the specifier set `>=introduced,<fixed`, against listed versions and the bounds themselves.
    let mut satisfies_cases = Vec::new();
    for record in &records {
        for range in &record.ranges {
            let clauses: Vec<String> = range
                .iter()
                .filter(|(_, version)| version != "0")
                .map(|(kind, version)| match kind.as_str() {
                    "introduced" => format!(">={version}"),
                    "fixed" => format!("<{version}"),
                    _ => format!("<={version}"),
                })
                .collect();
            if clauses.is_empty() || range.len() > 2 {
                continue;
            }
            let specifier = clauses.join(",");
            let mut candidates: Vec<String> = range.iter().map(|(_, version)| version.clone()).collect();
            if !record.versions.is_empty() {
                candidates.extend((0..3).map(|_| rng.pick(&record.versions)));
            }
            satisfies_cases.extend(candidates.into_iter().map(|version| (version, specifier.clone())));
        }
    }

    let ours_compare: Vec<String> = compare_cases.iter().map(|(a, b)| compare_outcome(pep440::compare(a, b))).collect();
    let ours_satisfies: Vec<String> =
        satisfies_cases.iter().map(|(v, s)| satisfies_outcome(pep440::satisfies(v, s))).collect();
    let (reference_compare, reference_satisfies) = run_packaging(&compare_cases, &satisfies_cases);
    assert_agreement(&[
        Evaluation {
            what: "PyPI feed versions",
            cases: &compare_cases,
            ours: &ours_compare,
            reference: &reference_compare,
        },
        Evaluation {
            what: "PyPI feed ranges",
            cases: &satisfies_cases,
            ours: &ours_satisfies,
            reference: &reference_satisfies,
        },
    ]);
    assert!(compare_cases.len() > 20_000 && satisfies_cases.len() > 5_000);
}

/// The README's PyPI examples: (package, version, advisory, affected).
#[test]
fn pypi_readme_verdicts() {
    let cases = [
        ("requests", "2.19.1", "PYSEC-2018-28", true),
        ("requests", "2.20.0", "PYSEC-2018-28", false),
        ("urllib3", "1.24.1", "PYSEC-2019-133", true),
        ("urllib3", "1.24.2", "PYSEC-2019-133", false),
        ("django", "2.2", "PYSEC-2019-79", true),
        ("django", "2.2.0", "PYSEC-2019-79", true),
        ("django", "2.2.2", "PYSEC-2019-79", false),
        ("pyyaml", "5.3", "PYSEC-2020-96", true),
        ("pyyaml", "5.3.1", "PYSEC-2020-96", false),
        ("pyyaml", "5.3.1", "PYSEC-2021-142", true),
        ("pyyaml", "5.4", "PYSEC-2021-142", false),
        ("jinja2", "2.10", "PYSEC-2019-217", true),
        ("jinja2", "2.10.1", "PYSEC-2019-217", false),
    ];
    for (package, version, id, expected) in cases {
        let path = feed(&format!("osv-pypi/vulns/{package}/{id}.yaml"));
        let record: Value = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let affected = record["affected"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|affected| affected["ranges"].as_array().unwrap())
            .filter(|range| range["type"] == "ECOSYSTEM")
            .any(|range| osv_affected(version, &events(range), pep440::compare).unwrap());
        assert_eq!(affected, expected, "{package} {version} {id}");
    }
}

/// The full versions a range names (`>=1.2.3 <2 || ^3.0.0-rc.1` gives 1.2.3 and 3.0.0-rc.1). Partial
/// ones (`2`) are left out: node-semver rejects them as versions and we read them as `2.0.0`.
fn versions_in(range: &str) -> Vec<String> {
    range
        .split(|c: char| c.is_whitespace() || "<>=^~|".contains(c))
        .map(|word| word.trim_start_matches('v'))
        .filter(|word| word.starts_with(|c: char| c.is_ascii_digit()) && word.matches('.').count() >= 2)
        .map(str::to_owned)
        .collect()
}

/// Candidates around a version: itself, the next patch, the previous patch and a pre-release of it.
fn neighbours(version: &str) -> Vec<String> {
    let mut candidates = vec![version.to_owned()];
    let core = version.split(['-', '+']).next().unwrap_or_default();
    if let [major, minor, patch] = core.split('.').collect::<Vec<_>>()[..]
        && let Ok(patch) = patch.parse::<u64>()
    {
        candidates.push(format!("{major}.{minor}.{}", patch + 1));
        candidates.push(format!("{major}.{minor}.{}", patch.saturating_sub(1)));
        candidates.push(format!("{major}.{minor}.{patch}-beta.1"));
    }
    candidates
}

/// The Node.js security WG's npm, core and dependency advisories: every range, against the
/// versions it names and their neighbours, and those versions against each other.
#[test]
fn npm_advisory_ranges_agree_with_node_semver() {
    let mut ranges = BTreeSet::new();
    for path in files_under(&feed("npm-nodejs-security-wg/vuln"), "json") {
        if path.file_name().is_some_and(|name| name == "index.json") {
            continue;
        }
        let advisory = read_json(&path);
        for field in ["vulnerable_versions", "patched_versions", "vulnerable", "patched"] {
            if let Some(range) = advisory[field].as_str() {
                ranges.insert(range.to_owned());
            }
        }
    }
    let common = ["0.0.1", "1.0.0", "2.5.0", "4.17.4", "10.0.0-rc.1", "12.18.3", "14.0.0"];
    let mut satisfies_cases = Vec::new();
    let mut versions = BTreeSet::new();
    for range in &ranges {
        let candidates: BTreeSet<String> = versions_in(range)
            .iter()
            .flat_map(|version| neighbours(version))
            .chain(common.iter().map(|version| version.to_string()))
            .collect();
        versions.extend(candidates.iter().cloned());
        satisfies_cases.extend(candidates.into_iter().map(|version| (version, range.clone())));
    }
    let versions: Vec<String> = versions.into_iter().collect();
    let mut rng = Rng::new(0x4E4F_4445);
    let compare_cases: Vec<(String, String)> =
        versions.iter().map(|version| (version.clone(), rng.pick(&versions))).collect();

    let ours_compare: Vec<String> = compare_cases.iter().map(|(a, b)| compare_outcome(npm::compare(a, b))).collect();
    let ours_satisfies: Vec<String> =
        satisfies_cases.iter().map(|(v, r)| satisfies_outcome(npm::satisfies(v, r))).collect();
    let (reference_compare, reference_satisfies) = run_node_semver(&compare_cases, &satisfies_cases);
    assert_agreement(&[
        Evaluation {
            what: "npm advisory versions",
            cases: &compare_cases,
            ours: &ours_compare,
            reference: &reference_compare,
        },
        Evaluation {
            what: "npm advisory ranges",
            cases: &satisfies_cases,
            ours: &ours_satisfies,
            reference: &reference_satisfies,
        },
    ]);
    assert!(ranges.len() > 500 && satisfies_cases.len() > 5_000, "{} ranges", ranges.len());
}

/// The README's npm examples, from GitHub's advisories and the legacy npm data.
#[test]
fn npm_readme_verdicts() {
    let cases = [
        ("lodash", "4.17.4", "GHSA-jf85-cpcp-j695", true),
        ("lodash", "4.17.12", "GHSA-jf85-cpcp-j695", false),
        ("lodash", "4.17.4", "GHSA-35jh-r3h4-6jhm", true),
        ("lodash", "4.17.21", "GHSA-35jh-r3h4-6jhm", false),
        ("lodash", "4.17.4", "GHSA-p6mc-m468-83gw", true),
        ("minimist", "1.2.0", "GHSA-vh95-rmgr-6w4m", true),
        ("minimist", "1.2.3", "GHSA-vh95-rmgr-6w4m", false),
        ("minimist", "1.2.0", "GHSA-xvch-5gv4-984h", true),
        ("minimist", "1.2.6", "GHSA-xvch-5gv4-984h", false),
        ("jquery", "3.4.1", "GHSA-gxr4-xjj5-5px2", true),
        ("jquery", "1.1.0", "GHSA-gxr4-xjj5-5px2", false),
        ("axios", "0.21.0", "GHSA-4w2v-q235-vp99", true),
        ("express", "4.18.2", "GHSA-rv95-896h-c2vc", true),
        ("express", "5.0.0-beta.1", "GHSA-rv95-896h-c2vc", true),
        ("express", "5.0.0", "GHSA-rv95-896h-c2vc", false),
        ("handlebars", "4.7.6", "GHSA-f2jv-r9rf-7988", true),
        // Two overlapping ranges, one starting at "1.0" (read as 1.0.0).
        ("node-fetch", "2.6.1", "GHSA-r683-j2x4-v87g", true),
        ("node-fetch", "2.6.7", "GHSA-r683-j2x4-v87g", true),
        ("node-fetch", "3.1.1", "GHSA-r683-j2x4-v87g", false),
        ("moment", "2.29.1", "GHSA-8hfj-j24r-96c4", true),
    ];
    for (package, version, id, expected) in cases {
        let advisory = advisory("ghsa-subset", id);
        for affected in advisory["affected"].as_array().unwrap() {
            for range in affected["ranges"].as_array().unwrap() {
                assert_eq!(unordered_events(&events(range), npm::compare), Vec::<String>::new(), "{id}");
            }
        }
        assert_eq!(advisory_affects(&advisory, package, version, npm::compare), expected, "{package} {version} {id}");
    }
    // NSWG-ECO-368: lodash `vulnerable_versions: <4.17.5`, `patched_versions: >=4.17.5`.
    let legacy = read_json(&feed("npm-nodejs-security-wg/vuln/npm/368.json"));
    let (vulnerable, patched) =
        (legacy["vulnerable_versions"].as_str().unwrap(), legacy["patched_versions"].as_str().unwrap());
    assert_eq!((npm::satisfies("4.17.4", vulnerable), npm::satisfies("4.17.4", patched)), (Ok(true), Ok(false)));
    assert_eq!((npm::satisfies("4.17.5", vulnerable), npm::satisfies("4.17.5", patched)), (Ok(false), Ok(true)));
}

/// `[versions] patched` and `unaffected` of a RustSec advisory (the TOML block of its Markdown).
fn rustsec_requirements(path: &Path) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let block = text.split("```toml").nth(1).and_then(|rest| rest.split("```").next()).unwrap();
    let advisory: toml::Table = block.parse().unwrap();
    let list = |field: &str| -> Vec<String> {
        advisory
            .get("versions")
            .and_then(|versions| versions.get(field))
            .and_then(|list| list.as_array())
            .map(|list| list.iter().map(|requirement| requirement.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    (list("patched"), list("unaffected"))
}

/// RustSec's rule: a release is vulnerable unless a `patched` or `unaffected` requirement matches it.
fn rustsec_vulnerable(version: &str, patched: &[String], unaffected: &[String]) -> Result<bool, VersionError> {
    for requirement in patched.iter().chain(unaffected) {
        if cargo::satisfies(version, requirement)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Every requirement of the native advisories parses, and at every event of the
/// official OSV export (made by the rustsec crate), our verdict is the export's.
#[test]
fn rustsec_requirements_agree_with_the_osv_export() {
    let mut problems = Vec::new();
    let (mut requirements, mut points) = (0, 0);
    let advisories = files_under(&feed("rustsec/advisory-db/crates"), "md");
    for path in &advisories {
        let (patched, unaffected) = rustsec_requirements(path);
        for requirement in patched.iter().chain(&unaffected) {
            requirements += 1;
            if let Err(error) = cargo::satisfies("0.0.0", requirement) {
                problems.push(format!("{}: {error}", path.display()));
            }
        }
        let id = path.file_stem().unwrap().to_str().unwrap();
        let export = feed("rustsec/osv/crates").join(format!("{id}.json"));
        if !export.exists() {
            continue;
        }
        for affected in read_json(&export)["affected"].as_array().unwrap() {
            for range in affected["ranges"].as_array().unwrap() {
                let events = events(range);
                problems.extend(unordered_events(&events, cargo::compare).into_iter().map(|p| format!("{id}: {p}")));
                for (kind, version) in &events {
                    // The exporter writes `> 0.7.19` as `fixed: 0.7.20-0`, which also clears 0.7.20's
                    // pre-releases; Cargo's matching (ours) leaves them vulnerable. At 0.7.20 both agree.
                    let version = match version.strip_suffix("-0") {
                        Some(release) if kind == "fixed" => release,
                        _ => version,
                    };
                    points += 1;
                    let ours = rustsec_vulnerable(version, &patched, &unaffected);
                    let export = osv_affected(version, &events, cargo::compare);
                    if ours != export {
                        problems.push(format!("{id} at {version}: ours {ours:?}, OSV export {export:?}"));
                    }
                }
            }
        }
    }
    // RUSTSEC-2020-0055 says `unaffected = ["> 0"]`: Cargo reads `>0` as `>=1.0.0`, the
    // exporter as `>0.0.0`, so they part at 0.0.1 (cargo-audit, on semver's matching, agrees with us).
    assert_eq!(problems, ["RUSTSEC-2020-0055 at 0.0.1: ours Ok(true), OSV export Ok(false)"]);
    assert!(advisories.len() > 900 && requirements > 1_000 && points > 2_000, "{requirements} {points}");
}

#[test]
fn rustsec_readme_verdicts() {
    let cases = [
        ("time", "RUSTSEC-2020-0071", "0.1.43", true),
        ("time", "RUSTSEC-2020-0071", "0.2.0", false),
        ("time", "RUSTSEC-2020-0071", "0.2.7", true),
        ("time", "RUSTSEC-2020-0071", "0.2.23", false),
        ("smallvec", "RUSTSEC-2021-0003", "1.6.0", true),
        ("smallvec", "RUSTSEC-2021-0003", "1.6.1", false),
        ("regex", "RUSTSEC-2022-0013", "1.5.4", true),
        ("regex", "RUSTSEC-2022-0013", "1.5.5", false),
    ];
    for (krate, id, version, expected) in cases {
        let (patched, unaffected) = rustsec_requirements(&feed(&format!("rustsec/advisory-db/crates/{krate}/{id}.md")));
        assert_eq!(rustsec_vulnerable(version, &patched, &unaffected), Ok(expected), "{krate} {version} {id}");
    }
}

/// Every version of the Go database parses and every range is in ascending order.
#[test]
fn go_ranges_are_ordered() {
    let (mut problems, mut by_package) = (Vec::new(), BTreeMap::<&str, usize>::new());
    for path in files_under(&feed("osv-go/data/osv"), "json") {
        let record = read_json(&path);
        for affected in record["affected"].as_array().unwrap() {
            let package = match affected["package"]["name"].as_str().unwrap() {
                "stdlib" => "stdlib",
                "toolchain" => "toolchain",
                _ => "modules",
            };
            for range in affected["ranges"].as_array().unwrap() {
                let events = events(range);
                *by_package.entry(package).or_default() += events.len();
                problems.extend(
                    unordered_events(&events, golang::compare).into_iter().map(|p| format!("{}: {p}", path.display())),
                );
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert!(by_package["modules"] > 10_000 && by_package["stdlib"] > 300, "{by_package:?}");
}

#[test]
fn go_readme_verdicts() {
    let cases = [
        ("golang.org/x/net", "v0.7.0", "GO-2023-2102", true),
        ("golang.org/x/net", "v0.17.0", "GO-2023-2102", false),
        ("golang.org/x/text", "v0.3.7", "GO-2022-1059", true),
        ("golang.org/x/text", "v0.3.8", "GO-2022-1059", false),
        // GO-2023-2102's stdlib ranges are [0, 1.20.10) and [1.21.0-0, 1.21.3), SBOMs say `go1.21.2`.
        ("stdlib", "go1.20.9", "GO-2023-2102", true),
        ("stdlib", "go1.20.10", "GO-2023-2102", false),
        ("stdlib", "go1.21rc2", "GO-2023-2102", true),
        ("stdlib", "go1.21.2", "GO-2023-2102", true),
        ("stdlib", "go1.21.3", "GO-2023-2102", false),
        ("stdlib", "go1.22", "GO-2023-2102", false),
    ];
    for (package, version, id, expected) in cases {
        let advisory = advisory("osv-go/data/osv", id);
        assert_eq!(
            advisory_affects(&advisory, package, version, golang::compare),
            expected,
            "{package} {version} {id}"
        );
    }
}
