//! Every scan report format on a realistic scan (see `common`), checked field
//! by field; SARIF and CycloneDX also against their official schemas.

mod common;
#[path = "common/xml.rs"]
mod xml;

use std::collections::{BTreeMap, HashMap};

use portcullis_match::{BaseImage, Finding, GateResult, Origin, ScanResult};
use portcullis_report::{SCAN_SCHEMA_URL, ScanFormat, ScanReport, render};
use portcullis_sbom::Sbom;
use serde_json::Value;
use sha2::{Digest, Sha256};
use xml::{Element, parse_xml};

struct Scan {
    sbom: Sbom,
    result: ScanResult,
    gate: GateResult,
}

fn scan() -> Scan {
    let sbom = common::sbom();
    let result = common::scan_result(&sbom);
    let gate = common::gate(&result);
    Scan { sbom, result, gate }
}

impl Scan {
    fn render(&self, format: ScanFormat, with_gate: bool) -> String {
        let report = ScanReport { sbom: &self.sbom, result: &self.result, gate: with_gate.then_some(&self.gate) };
        render(&report, format).unwrap_or_else(|e| panic!("{format}: {e}"))
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

#[test]
fn the_fixture_is_ordered_by_risk_as_the_matcher_orders_it() {
    let scan = scan();
    let order: Vec<(&str, &str, f64)> =
        scan.result.findings.iter().map(|f| (f.id.as_str(), f.package.name.as_str(), f.risk)).collect();
    // Risk by hand (risk.rs): 100 x impact x (0.25 + 0.75 x threat).
    // libc6: 7.8, in KEV -> 78.0; PyYAML: 9.8, EPSS 0.0123 -> 25.4; zlib1g: 9.8, EPSS 0.0041 -> 24.8;
    // Jinja2: 8.6 -> 21.5; busybox: no score, high -> 0.8 x 0.25 = 20.0; then the 5.5s.
    assert_eq!(
        &order[..5],
        &[
            ("CVE-2023-4911", "libc6", 78.0),
            ("CVE-2020-1747", "PyYAML", 25.4),
            ("CVE-2023-45853", "zlib1g", 24.8),
            ("CVE-2019-10906", "Jinja2", 21.5),
            ("CVE-2022-48174", "busybox", 20.0),
        ]
    );
    let rest: Vec<(&str, &str)> = order[5..].iter().map(|(id, name, _)| (*id, *name)).collect();
    assert_eq!(rest, [("CVE-2024-0727", "libssl3"), ("CVE-2024-0727", "openssl"), ("CVE-2022-0563", "bsdutils")]);
    assert_eq!(scan.gate.failing.len(), 3, "{:?}", scan.gate);
    assert!(!scan.gate.passed);
}

#[test]
fn format_names_parse_and_print() {
    let names: Vec<String> = ScanFormat::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["table", "json", "sarif", "cyclonedx-json", "junit"]);
    for format in ScanFormat::ALL {
        assert_eq!(format.name().parse::<ScanFormat>().unwrap(), format);
        assert_eq!(format.name().to_uppercase().parse::<ScanFormat>().unwrap(), format);
    }
    assert_eq!(" sarif ".parse::<ScanFormat>().unwrap(), ScanFormat::Sarif);
    let error = "spdx-json".parse::<ScanFormat>().unwrap_err().to_string();
    assert_eq!(
        error,
        "unknown scan report format `spdx-json` (known formats: table, json, sarif, cyclonedx-json, junit)"
    );
}

#[test]
fn table_lists_findings_in_order_then_summary_warnings_and_gate() {
    let scan = scan();
    let text = scan.render(ScanFormat::Table, true);
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["ID", "SEVERITY", "PACKAGE", "VERSION", "FIXED", "IN", "STATE", "RISK", "EXPLOITED"]);
    let rows: Vec<Vec<&str>> = lines[1..9].iter().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["CVE-2023-4911", "high", "libc6", "2.36-9+deb12u1", "2.36-9+deb12u3", "fixed", "78.0", "KEV"]);
    assert_eq!(rows[1], ["CVE-2020-1747", "critical", "PyYAML", "5.3", "5.3.1", "fixed", "25.4", "epss", "0.01"]);
    // No fix: the FIXED IN column is blank; an EPSS of 0.0041 would round to a misleading 0.00.
    assert_eq!(
        rows[2],
        ["CVE-2023-45853", "critical", "zlib1g", "1:1.2.13.dfsg-1", "not-fixed", "24.8", "epss", "<0.01"]
    );
    assert_eq!(rows[4], ["CVE-2022-48174", "high", "busybox", "1.35.0", "unknown", "20.0"]);
    assert_eq!(rows[7][..6], ["CVE-2022-0563", "low", "bsdutils", "1:2.38.1-5+b1", "wont-fix", "13.8"][..6]);
    // Columns line up: every row's RISK starts where the header's does.
    let risk_column = lines[0].find("RISK").unwrap();
    assert!(lines[1..9].iter().all(|l| l[risk_column..].starts_with(|c: char| c.is_ascii_digit())), "{text}");
    assert_eq!(
        lines[9],
        "8 findings: 2 critical, 3 high, 2 medium, 1 low; 5 fixable; 1 in KEV; 3 ignored; 11 packages"
    );
    assert_eq!(
        lines[10],
        "warning: the ignore rule for CVE-2019-11324, package urllib3 expired on 2026-01-01 and no longer applies \
         (reason: vendored copy, patched)"
    );
    assert_eq!(
        lines[11],
        "gate: FAILED: 3 finding(s) with a fix at or above high: CVE-2023-4911 (high in libc6), \
         CVE-2020-1747 (critical in PyYAML), CVE-2019-10906 (high in Jinja2)"
    );
    assert_eq!(lines.len(), 12);
    assert!(text.ends_with('\n'));
    assert!(!scan.render(ScanFormat::Table, false).contains("gate:"));
}

#[test]
fn table_of_a_clean_scan_is_one_summary_line_and_the_verdict() {
    let sbom = common::sbom();
    let mut result = common::clean_result(&sbom);
    let gate = common::gate(&result);
    let report = ScanReport { sbom: &sbom, result: &result, gate: Some(&gate) };
    assert_eq!(
        render(&report, ScanFormat::Table).unwrap(),
        "no vulnerabilities found in 11 packages\ngate: passed: no finding with a fix at or above high\n"
    );
    result.ignored = common::scan_result(&sbom).ignored;
    result.summary.packages = 1;
    result.summary.packages_unmatchable = 2;
    result.refresh_summary();
    let report = ScanReport { sbom: &sbom, result: &result, gate: None };
    assert_eq!(
        render(&report, ScanFormat::Table).unwrap(),
        "no vulnerabilities found in 1 package; 3 ignored; 2 packages with a version that could not be read \
         (not matched)\n"
    );
    let mut one = common::scan_result(&sbom);
    one.findings.truncate(1);
    one.ignored.clear();
    one.expired_rules.clear();
    one.refresh_summary();
    let report = ScanReport { sbom: &sbom, result: &one, gate: None };
    let text = render(&report, ScanFormat::Table).unwrap();
    assert_eq!(text.lines().last(), Some("1 finding: 1 high; 1 fixable; 1 in KEV; 11 packages"));
}

#[test]
fn json_document_has_every_top_level_field_and_reads_back() {
    let scan = scan();
    let doc = json(&scan.render(ScanFormat::Json, true));
    let keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = [
        "schema",
        "tool",
        "source",
        "distro",
        "base_image",
        "database",
        "summary",
        "gate",
        "findings",
        "ignored",
        "expired_rules",
    ];
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(doc["schema"]["version"], "1.1");
    assert_eq!(doc["schema"]["url"], SCAN_SCHEMA_URL);
    assert_eq!(doc["tool"]["name"], "portcullis");
    assert_eq!(doc["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["source"]["input"], common::IMAGE);
    assert_eq!(doc["source"]["image"]["references"][0], common::IMAGE);
    assert_eq!(doc["distro"]["version_codename"], "bookworm");
    assert_eq!(doc["base_image"], Value::Null, "not known: no origins either");
    assert!(doc["findings"].as_array().unwrap().iter().all(|f| f.get("origin").is_none()));
    assert!(doc["summary"].get("by_origin").is_none());
    assert_eq!(doc["database"]["sources"][1]["name"], "osv-pypi");
    assert_eq!(doc["summary"]["by_severity"]["critical"], 2);
    assert_eq!(doc["summary"]["fixable"], 5);
    assert_eq!(doc["gate"]["passed"], false);
    assert_eq!(doc["gate"]["failing"][0], "CVE-2023-4911 deb/libc6@2.36-9+deb12u1?arch=amd64");
    assert_eq!(doc["findings"][0]["kev"]["date_added"], "2023-11-21");
    assert_eq!(doc["findings"][0]["package"]["type"], "deb");
    assert_eq!(doc["findings"][0]["state"], "fixed");
    assert_eq!(doc["findings"][2]["state"], "not-fixed");
    assert_eq!(doc["ignored"][1]["by"], "vex");
    assert_eq!(doc["expired_rules"][0]["expires"], "2026-01-01");
    // The findings are the matcher's own types: they read back unchanged.
    let findings: Vec<Finding> = serde_json::from_value(doc["findings"].clone()).unwrap();
    assert_eq!(findings, scan.result.findings);

    let sbom = common::sbom();
    let mut bare = common::clean_result(&sbom);
    bare.database.sources.clear();
    let mut no_distro = sbom.clone();
    no_distro.distro = None;
    let doc = json(&render(&ScanReport { sbom: &no_distro, result: &bare, gate: None }, ScanFormat::Json).unwrap());
    assert_eq!(doc["distro"], Value::Null);
    assert_eq!(doc["gate"], Value::Null);
    for list in ["findings", "ignored", "expired_rules"] {
        assert_eq!(doc[list], Value::Array(vec![]), "{list} is always present");
    }
}

/// The fixture's debs came with layer 0, its Python packages with layer 1.
fn scan_on_a_known_base() -> Scan {
    let mut scan = scan();
    scan.result.set_base_image(BaseImage { layers: 1, reference: Some("docker.io/library/debian:12".to_owned()) });
    scan
}

#[test]
fn findings_from_a_known_base_image_are_marked_and_counted() {
    let scan = scan_on_a_known_base();
    // busybox, known by name only, has no layer: its origin is unknown.
    let origin = |finding: &Finding| match finding.package.package_type.as_str() {
        "deb" => Some(Origin::Base),
        "python" => Some(Origin::Own),
        _ => None,
    };
    assert!(scan.result.findings.iter().all(|f| f.origin == origin(f)));
    assert!(scan.result.ignored.iter().all(|i| i.finding.origin == origin(&i.finding)));

    let text = scan.render(ScanFormat::Table, false);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].split_whitespace().eq([
            "ID",
            "SEVERITY",
            "PACKAGE",
            "VERSION",
            "FIXED",
            "IN",
            "STATE",
            "RISK",
            "EXPLOITED",
            "ORIGIN"
        ]),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("CVE-2023-4911") && lines[1].ends_with(" base"), "{}", lines[1]);
    assert!(lines[2].starts_with("CVE-2020-1747") && lines[2].ends_with(" own"), "{}", lines[2]);
    assert!(lines[5].starts_with("CVE-2022-48174") && lines[5].ends_with(" -"), "busybox: {}", lines[5]);
    assert_eq!(
        lines[9],
        "8 findings (5 from the base image, 2 added by this image, 1 of unknown origin): 2 critical, 3 high, \
         2 medium, 1 low; 5 fixable; 1 in KEV; 3 ignored; 11 packages"
    );

    let doc = json(&scan.render(ScanFormat::Json, false));
    assert_eq!(doc["base_image"], serde_json::json!({"layers": 1, "reference": "docker.io/library/debian:12"}));
    assert_eq!(doc["summary"]["by_origin"], serde_json::json!({"base": 5, "own": 2}));
    assert!(doc["findings"][4].get("origin").is_none(), "busybox");
    assert_eq!(doc["findings"][0]["origin"], "base");
    assert_eq!(doc["findings"][1]["origin"], "own");
    assert_eq!(doc["ignored"][0]["finding"]["origin"], "base", "login, ignored");
    assert_eq!(doc["ignored"][2]["finding"]["origin"], "own", "requests, ignored");
    let findings: Vec<Finding> = serde_json::from_value(doc["findings"].clone()).unwrap();
    assert_eq!(findings, scan.result.findings, "origins read back");

    let sarif = scan.render(ScanFormat::Sarif, false);
    portcullis_testkit::schema::validate_sarif(&sarif);
    let log = json(&sarif);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results[0]["properties"]["origin"], "base");
    assert_eq!(results[1]["properties"]["origin"], "own");
}

#[test]
fn sarif_is_valid_and_has_what_github_needs() {
    let scan = scan();
    let text = scan.render(ScanFormat::Sarif, true);
    portcullis_testkit::schema::validate_sarif(&text);
    let log = json(&text);
    assert_eq!(log["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "portcullis");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["informationUri"], "https://github.com/portcullis-scan/portcullis");
    let rules = driver["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        rule_ids,
        [
            "CVE-2023-4911",
            "CVE-2020-1747",
            "CVE-2023-45853",
            "CVE-2019-10906",
            "CVE-2022-48174",
            "CVE-2024-0727",
            "CVE-2022-0563"
        ],
        "one rule per id, riskiest first"
    );
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    // The best CVSS base score; without one, the middle of the severity's band.
    let severities: Vec<&str> = rules.iter().map(|r| r["properties"]["security-severity"].as_str().unwrap()).collect();
    assert_eq!(severities, ["7.8", "9.8", "9.8", "8.6", "8.0", "5.5", "5.5"]);
    assert_eq!(strings(&rule("CVE-2022-0563")["properties"]["tags"]), ["security", "vulnerability", "low"]);
    let pkcs12 = rule("CVE-2024-0727");
    assert_eq!(
        pkcs12["shortDescription"]["text"],
        "CVE-2024-0727 in libssl3, openssl: Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash"
    );
    assert_eq!(pkcs12["helpUri"], "https://www.openssl.org/news/secadv/20240125.txt");
    let markdown = pkcs12["help"]["markdown"].as_str().unwrap();
    assert!(markdown.contains("| libssl3 | 3.0.9-1 | 3.0.13-1~deb12u1 | medium |"), "{markdown}");
    assert!(markdown.contains("| openssl | 3.0.9-1 | 3.0.13-1~deb12u1 | medium |"), "{markdown}");
    let text_help = pkcs12["help"]["text"].as_str().unwrap();
    assert!(text_help.contains("libssl3 3.0.9-1: fixed in 3.0.13-1~deb12u1; medium"), "{text_help}");
    // Without a summary the description is the full description, and the short one names the packages.
    let pyyaml = rule("CVE-2020-1747");
    assert_eq!(pyyaml["shortDescription"]["text"], "CVE-2020-1747 in PyYAML");
    assert!(
        pyyaml["fullDescription"]["text"].as_str().unwrap().starts_with("A vulnerability was discovered in the PyYAML")
    );
    // Markup in a summary is escaped in Markdown; a malformed URL is skipped.
    let jinja = rule("CVE-2019-10906");
    assert!(
        jinja["help"]["markdown"]
            .as_str()
            .unwrap()
            .starts_with("str.format\\_map allows a sandbox escape \\| \\<script\\> & \"quotes\"\n\n| Package |")
    );
    assert_eq!(jinja["helpUri"], "https://palletsprojects.com/blog/jinja-2-10-1-released");
    assert!(rule("CVE-2022-48174").get("helpUri").is_none());
    assert_eq!(rule("CVE-2022-48174")["fullDescription"]["text"], "CVE-2022-48174 in busybox");

    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    for (result, finding) in results.iter().zip(&scan.result.findings) {
        assert_eq!(result["ruleId"], finding.id.as_str());
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], finding.id.as_str(), "ruleIndex points at the rule");
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/') && !uri.contains(' ') && !uri.contains(':'), "{uri} is a relative reference");
        assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
        assert_eq!(result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], finding.package.purl.as_str());
        assert_eq!(result["locations"][0]["logicalLocations"][0]["kind"], "package");
        let expected = hex::encode(Sha256::digest(format!("{} {}", finding.id, finding.package.id).as_bytes()));
        assert_eq!(result["partialFingerprints"]["portcullisFinding/v1"], expected.as_str());
    }
    let levels: Vec<&str> = results.iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["error", "error", "error", "error", "error", "warning", "warning", "note"]);
    assert_eq!(
        results[0]["message"]["text"],
        "CVE-2023-4911 in libc6 2.36-9+deb12u1 (deb), fixed in 2.36-9+deb12u3; found at /var/lib/dpkg/status"
    );
    assert_eq!(
        results[2]["message"]["text"],
        "CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1 (deb), no fix yet; found at /var/lib/dpkg/status"
    );
    let uri_of = |i: usize| results[i]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
    assert_eq!(uri_of(0), "var/lib/dpkg/status");
    assert_eq!(uri_of(3), "opt/my%20app/Jinja2-2.10.dist-info/METADATA");
    assert_eq!(uri_of(4), "busybox", "no location: the purl's name");
    assert_eq!(results[4]["message"]["text"], "CVE-2022-48174 in busybox 1.35.0 (binary), fix state unknown");
}

#[test]
fn sarif_of_a_clean_scan_is_valid() {
    let sbom = common::sbom();
    let result = common::clean_result(&sbom);
    let text = render(&ScanReport { sbom: &sbom, result: &result, gate: None }, ScanFormat::Sarif).unwrap();
    portcullis_testkit::schema::validate_sarif(&text);
    let log = json(&text);
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
    assert_eq!(log["runs"][0]["tool"]["driver"]["rules"], Value::Array(vec![]));
}

#[test]
fn an_invalid_sarif_log_fails_validation() {
    let outcome = std::panic::catch_unwind(|| {
        portcullis_testkit::schema::validate_sarif(r#"{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}"#)
    });
    assert!(outcome.is_err(), "a driver without a name must be refused");
}

/// Components of a CycloneDX document by bom-ref: (purl, portcullis:id).
fn components_by_ref(bom: &Value) -> HashMap<&str, (&str, &str)> {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "library")
        .map(|c| {
            let id = c["properties"].as_array().unwrap().iter().find(|p| p["name"] == "portcullis:id").unwrap();
            (c["bom-ref"].as_str().unwrap(), (c["purl"].as_str().unwrap(), id["value"].as_str().unwrap()))
        })
        .collect()
}

#[test]
fn cyclonedx_embeds_the_vulnerabilities_and_is_valid() {
    let scan = scan();
    let text = scan.render(ScanFormat::CycloneDxJson, true);
    portcullis_testkit::schema::validate(&[("cyclonedx-json", "scan report".to_owned(), text.clone())]);
    let bom = json(&text);
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["components"].as_array().unwrap().len(), 12, "the distro and the 11 packages");
    let vulnerabilities = bom["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulnerabilities.len(), 11, "8 findings and 3 ignored ones");
    let components = components_by_ref(&bom);
    let all = scan.result.findings.iter().chain(scan.result.ignored.iter().map(|i| &i.finding));
    let mut refs = std::collections::HashSet::new();
    for (v, finding) in vulnerabilities.iter().zip(all) {
        assert_eq!(v["id"], finding.id.as_str());
        assert!(refs.insert(v["bom-ref"].as_str().unwrap()), "bom-refs are unique");
        let affects = v["affects"].as_array().unwrap();
        assert_eq!(affects.len(), 1);
        let (purl, package_id) = components[affects[0]["ref"].as_str().unwrap()];
        assert_eq!((purl, package_id), (finding.package.purl.as_str(), finding.package.id.as_str()));
        assert_eq!(affects[0]["versions"][0]["version"], finding.package.version.as_str());
        assert_eq!(affects[0]["versions"][0]["status"], "affected");
    }
    let by_key: BTreeMap<(String, String), &Value> = vulnerabilities
        .iter()
        .map(|v| {
            let (_, package) = components[v["affects"][0]["ref"].as_str().unwrap()];
            ((v["id"].as_str().unwrap().to_owned(), package.to_owned()), v)
        })
        .collect();
    let get = |id: &str, package: &str| {
        *by_key.iter().find(|((i, p), _)| i == id && p.contains(package)).map(|(_, v)| v).unwrap()
    };

    let looney = get("CVE-2023-4911", "libc6");
    assert_eq!(looney["bom-ref"], "vulnerability:CVE-2023-4911:deb/libc6@2.36-9+deb12u1?arch=amd64");
    assert_eq!(looney["source"]["name"], "debian-tracker");
    assert_eq!(looney["source"]["url"], "https://security-tracker.debian.org/tracker/CVE-2023-4911");
    assert_eq!(
        looney["references"],
        json(
            r#"[{"id":"DSA-5514-1","source":{"name":"Debian Security Tracker","url":"https://security-tracker.debian.org/tracker/DSA-5514-1"}}]"#
        )
    );
    assert_eq!(
        looney["ratings"],
        json(
            r#"[{"source":{"name":"nvd"},"score":7.8,"severity":"high","method":"CVSSv31","vector":"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}]"#
        )
    );
    assert_eq!(looney["cwes"], json("[122]"));
    assert_eq!(looney["recommendation"], "Upgrade libc6 to 2.36-9+deb12u3");
    assert_eq!(looney["published"], "2023-10-03T18:15:09.953Z", "NVD's offset-less time, as UTC");
    assert_eq!(looney["advisories"].as_array().unwrap().len(), 2);
    assert!(looney.get("analysis").is_none());
    assert!(looney.get("detail").is_none(), "only a summary");
    let properties: BTreeMap<&str, &str> = looney["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert_eq!(properties["portcullis:risk"], "78.0");
    assert_eq!(properties["portcullis:kev:date_added"], "2023-11-21");
    assert_eq!(properties["portcullis:epss:score"], "0.6543");

    let pyyaml = get("CVE-2020-1747", "PyYAML");
    assert_eq!(pyyaml["source"], json(r#"{"name":"osv-pypi","url":"https://osv.dev/vulnerability/PYSEC-2020-96"}"#));
    let aliases: Vec<(&str, &str)> = pyyaml["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["source"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(aliases, [("GHSA-6757-jp84-gxfx", "GitHub Advisories"), ("PYSEC-2020-96", "OSV")]);
    let methods: Vec<(&str, &str)> = pyyaml["ratings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["method"].as_str().unwrap(), r["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(methods, [("CVSSv31", "critical"), ("CVSSv2", "high")], "v2 7.5 is high in v2's bands");
    assert!(pyyaml["description"].as_str().unwrap().starts_with("A vulnerability was discovered"));

    let minizip = get("CVE-2023-45853", "zlib1g");
    assert_eq!(minizip["cwes"], json("[190]"), "NVD-CWE-Other is no CWE number");
    assert!(minizip.get("recommendation").is_none(), "no fix");
    assert_eq!(minizip["published"], "2023-10-14T00:00:00Z");
    assert_eq!(minizip["ratings"][1]["source"]["name"], "cisa-adp");
    assert_eq!(minizip["ratings"][1]["score"], 8.8);

    // A vendor severity is a rating of its own, beside the CVSS it disagrees with.
    let wall = get("CVE-2022-0563", "bsdutils");
    assert_eq!(wall["ratings"][1], json(r#"{"source":{"name":"debian-tracker"},"severity":"low","method":"other"}"#));
    // A vector without a score: no score, no severity.
    let busybox = get("CVE-2022-48174", "busybox");
    assert_eq!(
        busybox["ratings"][0],
        json(
            r#"{"source":{"name":"cna"},"method":"CVSSv4","vector":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}"#
        )
    );
    assert_eq!(busybox["source"], json(r#"{"name":"NVD","url":"https://nvd.nist.gov/vuln/detail/CVE-2022-48174"}"#));
    // Jinja2's malformed reference is left out.
    assert_eq!(
        get("CVE-2019-10906", "Jinja2")["advisories"],
        json(r#"[{"url":"https://palletsprojects.com/blog/jinja-2-10-1-released"}]"#)
    );

    let shadow = get("CVE-2023-29383", "login");
    assert_eq!(
        shadow["analysis"],
        json(
            r#"{"state":"exploitable","response":["will_not_fix"],"detail":"only reachable by local users, accepted by security team (until 2027-01-31)"}"#
        )
    );
    let apt = get("CVE-2011-3374", "apt");
    assert_eq!(apt["analysis"]["state"], "not_affected");
    assert_eq!(apt["analysis"]["detail"], "app.vex.json: not_affected (vulnerable_code_not_in_execute_path)");
    assert_eq!(apt["ratings"], json(r#"[{"source":{"name":"debian-tracker"},"severity":"info","method":"other"}]"#));
    let requests = get("CVE-2018-18074", "requests");
    assert_eq!(requests["analysis"]["state"], "resolved");
    assert_eq!(requests["published"], "2018-10-09T17:29:01.897Z");
}

#[test]
fn cyclonedx_of_a_clean_scan_is_the_plain_sbom() {
    let sbom = common::sbom();
    let result = common::clean_result(&sbom);
    let text = render(&ScanReport { sbom: &sbom, result: &result, gate: None }, ScanFormat::CycloneDxJson).unwrap();
    portcullis_testkit::schema::validate(&[("cyclonedx-json", "clean scan".to_owned(), text.clone())]);
    assert!(json(&text).get("vulnerabilities").is_none());
}

#[test]
fn cyclonedx_refuses_a_finding_about_a_package_the_sbom_lacks() {
    let mut scan = scan();
    scan.sbom.packages.retain(|p| p.name != "zlib1g");
    let report = ScanReport { sbom: &scan.sbom, result: &scan.result, gate: None };
    let error = render(&report, ScanFormat::CycloneDxJson).unwrap_err().to_string();
    assert_eq!(
        error,
        "finding CVE-2023-45853 is about package deb/zlib1g@1:1.2.13.dfsg-1?arch=amd64 \
         (pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib), which the SBOM does not list"
    );
}

#[test]
fn junit_fails_what_the_gate_fails_and_skips_the_ignored() {
    let scan = scan();
    let text = scan.render(ScanFormat::Junit, true);
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"), "{text}");
    let root = parse_xml(&text);
    assert_eq!(root.name, "testsuites");
    assert_eq!(
        (root.attr("tests"), root.attr("failures"), root.attr("errors"), root.attr("skipped")),
        ("11", "3", "0", "3")
    );
    let suites: Vec<&Element> = root.named("testsuite").collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.attr("name"), common::IMAGE);
    assert_eq!((suite.attr("tests"), suite.attr("failures"), suite.attr("skipped")), ("11", "3", "3"));
    let properties: Vec<(&str, &str)> = suite
        .named("properties")
        .flat_map(|p| p.named("property"))
        .map(|p| (p.attr("name"), p.attr("value")))
        .collect();
    assert_eq!(properties[1].0, "portcullis.gate");
    assert!(properties[1].1.starts_with("FAILED: 3 finding(s) with a fix at or above high"));
    let cases: Vec<&Element> = suite.named("testcase").collect();
    assert_eq!(cases.len(), 11);
    assert_eq!(
        cases[0].attr("classname"),
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12&upstream=glibc"
    );
    assert_eq!(cases[0].attr("name"), "CVE-2023-4911 in libc6@2.36-9+deb12u1");
    assert_eq!(cases[0].attr("time"), "0");
    let failure = cases[0].named("failure").next().unwrap();
    assert_eq!(failure.attr("type"), "high");
    assert_eq!(
        failure.attr("message"),
        "CVE-2023-4911 in libc6 2.36-9+deb12u1 (deb), fixed in 2.36-9+deb12u3; found at /var/lib/dpkg/status"
    );
    assert!(
        failure.text.contains("exploitation: in CISA KEV since 2023-11-21; EPSS 0.6543 (percentile 0.9812)"),
        "{}",
        failure.text
    );
    assert!(failure.text.contains("matched: CVE-2023-4911 (debian-tracker): 2.36-9+deb12u1 < 2.36-9+deb12u3 (fixed)"));
    let failed: Vec<&str> = cases.iter().filter(|c| c.named("failure").count() == 1).map(|c| c.attr("name")).collect();
    assert_eq!(
        failed,
        ["CVE-2023-4911 in libc6@2.36-9+deb12u1", "CVE-2020-1747 in PyYAML@5.3", "CVE-2019-10906 in Jinja2@2.10"]
    );
    // A finding the gate lets through passes, with its details as output.
    let zlib = cases[2];
    assert_eq!(zlib.attr("name"), "CVE-2023-45853 in zlib1g@1:1.2.13.dfsg-1");
    assert_eq!(zlib.named("failure").count(), 0);
    assert!(zlib.named("system-out").next().unwrap().text.contains("fix: no fix yet"));
    // Markup and quotes in text survive the round trip.
    let jinja = cases[3].named("failure").next().unwrap();
    assert!(
        jinja.text.contains("summary: str.format_map allows a sandbox escape | <script> & \"quotes\""),
        "{}",
        jinja.text
    );
    let skipped: Vec<(&str, &str)> =
        cases.iter().filter_map(|c| c.named("skipped").next().map(|s| (c.attr("name"), s.attr("message")))).collect();
    assert_eq!(
        skipped,
        [
            (
                "CVE-2023-29383 in login@1:4.13+dfsg1-1",
                "ignored (ignore-rule): only reachable by local users, accepted by security team (until 2027-01-31)"
            ),
            (
                "CVE-2011-3374 in apt@2.6.1",
                "ignored (vex): app.vex.json: not_affected (vulnerable_code_not_in_execute_path)"
            ),
            ("CVE-2018-18074 in requests@2.19.1", "ignored (vex): app.vex.json: fixed"),
        ]
    );
}

#[test]
fn junit_without_a_gate_fails_every_finding() {
    let scan = scan();
    let root = parse_xml(&scan.render(ScanFormat::Junit, false));
    assert_eq!((root.attr("tests"), root.attr("failures"), root.attr("skipped")), ("11", "8", "3"));
    let suite = root.named("testsuite").next().unwrap();
    let types: Vec<&str> = suite.named("testcase").flat_map(|c| c.named("failure")).map(|f| f.attr("type")).collect();
    assert_eq!(types, ["high", "critical", "critical", "high", "high", "medium", "medium", "low"]);
    let properties: Vec<&str> =
        suite.named("properties").flat_map(|p| p.named("property")).map(|p| p.attr("name")).collect();
    assert_eq!(properties, ["portcullis.version"]);
}

#[test]
fn junit_of_a_clean_scan_is_one_passing_case() {
    let sbom = common::sbom();
    let result = common::clean_result(&sbom);
    let text = render(&ScanReport { sbom: &sbom, result: &result, gate: None }, ScanFormat::Junit).unwrap();
    let root = parse_xml(&text);
    assert_eq!((root.attr("tests"), root.attr("failures"), root.attr("skipped")), ("1", "0", "0"));
    let case = root.named("testsuite").next().unwrap().named("testcase").next().unwrap();
    assert_eq!(case.attr("name"), "no vulnerabilities found");
    assert_eq!(case.named("system-out").next().unwrap().text, "no vulnerabilities found in 11 packages");
}

#[test]
fn junit_escapes_markup_and_replaces_characters_xml_cannot_carry() {
    let mut scan = scan();
    scan.sbom.source.image = None;
    scan.sbom.source.input = "/srv/a&b <\"rootfs\">".to_owned();
    scan.result.ignored[0].reason = "line one\nline two\u{1} & <tag> \"q\" 'a'".to_owned();
    let text = scan.render(ScanFormat::Junit, false);
    assert!(!text.contains('\u{1}'), "a control character is not XML");
    let root = parse_xml(&text);
    let suite = root.named("testsuite").next().unwrap();
    assert_eq!(suite.attr("name"), "/srv/a&b <\"rootfs\">");
    let message = suite.named("testcase").find_map(|c| c.named("skipped").next()).unwrap().attr("message");
    assert_eq!(
        message, "ignored (ignore-rule): line one\nline two\u{FFFD} & <tag> \"q\" 'a'",
        "line breaks survive in attributes"
    );
}

#[test]
fn reports_on_a_real_sbom_attribute_each_finding_to_its_own_package() {
    use portcullis_vulndb::{FixState, Severity};
    let mut sbom = common::syft_deb_python();
    // Two packages with one purl, as a lockfile entry and an installed copy
    // kept apart would be: a finding must affect only its own.
    let pyyaml = sbom.packages.iter().find(|p| p.name == "pyyaml").unwrap().clone();
    assert_eq!(pyyaml.locations[0].path, "/app/requirements.txt");
    let mut installed = pyyaml.clone();
    installed.id.push_str("#installed");
    installed.locations.remove(0);
    sbom.packages.push(installed);
    let vulnerable: Vec<&portcullis_sbom::Package> =
        sbom.packages.iter().filter(|p| matches!(p.name.as_str(), "pyyaml" | "urllib3" | "openssl")).collect();
    assert_eq!(vulnerable.len(), 4, "{vulnerable:#?}");
    let findings: Vec<Finding> = vulnerable
        .iter()
        .map(|package| {
            let (id, fixed) = match package.name.as_str() {
                "pyyaml" => ("CVE-2020-14343", "5.4"),
                "urllib3" => ("CVE-2019-11324", "1.24.2"),
                _ => ("CVE-2025-9230", "3.0.17-1~deb12u3"),
            };
            common::finding_for(package, id, Severity::High, FixState::Fixed, &[fixed])
        })
        .collect();
    let mut result = ScanResult {
        findings,
        ignored: Vec::new(),
        expired_rules: Vec::new(),
        base_image: None,
        summary: portcullis_match::Summary { packages: sbom.packages.len() as u64, ..Default::default() },
        database: portcullis_match::DatabaseStatus::default(),
    };
    result.refresh_summary();
    let report = ScanReport { sbom: &sbom, result: &result, gate: None };

    let cyclonedx = render(&report, ScanFormat::CycloneDxJson).unwrap();
    portcullis_testkit::schema::validate(&[("cyclonedx-json", "syft deb-python scan".to_owned(), cyclonedx.clone())]);
    let bom = json(&cyclonedx);
    let components = components_by_ref(&bom);
    let vulnerabilities = bom["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulnerabilities.len(), result.findings.len());
    for (v, finding) in vulnerabilities.iter().zip(&result.findings) {
        let refs: Vec<&str> = v["affects"].as_array().unwrap().iter().map(|a| a["ref"].as_str().unwrap()).collect();
        assert_eq!(refs.len(), 1, "{refs:?}");
        assert_eq!(components[refs[0]].1, finding.package.id.as_str(), "by package id, not just purl");
    }

    let sarif = render(&report, ScanFormat::Sarif).unwrap();
    portcullis_testkit::schema::validate_sarif(&sarif);
    let log = json(&sarif);
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap())
        .collect();
    assert!(uris.contains(&"app/requirements.txt"), "{uris:?}");
    assert!(uris.contains(&"usr/local/lib/python3.11/site-packages/pyyaml-5.3.dist-info/METADATA"), "{uris:?}");

    let table = render(&report, ScanFormat::Table).unwrap();
    let last = table.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "{} findings: {} high; {} fixable; {} packages",
            vulnerable.len(),
            vulnerable.len(),
            vulnerable.len(),
            sbom.packages.len()
        )
    );
    let junit = parse_xml(&render(&report, ScanFormat::Junit).unwrap());
    assert_eq!(junit.attr("failures"), vulnerable.len().to_string());
    assert_eq!(junit.named("testsuite").next().unwrap().attr("name"), "deb-python-subset");
}
