//! The `vulnerabilities` gate on a scan of a Debian 12 image with an npm
//! app, a Java app and a Python package. The findings are written as the
//! matcher reports them, from the shared feed records: Debian tracker
//! (CVE-2023-29383 `<no-dsa>` for bookworm, CVE-2022-48303 fixed in
//! 1.34+dfsg-1.2+deb12u1, urgency unimportant), NVD (the CVSS vectors, scores
//! and publication dates of CVE-2023-29383, CVE-2022-48303, CVE-2021-44906 and
//! CVE-2018-18074) and GHSA (CVE-2021-44228, CVE-2021-44906 vectors).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use portcullis_match::{DatabaseSource, DatabaseStatus, Finding, FindingPackage, Origin, ScanResult, Summary};
use portcullis_policy::gates::vulnerabilities::evaluate;
use portcullis_policy::gates::{EvalContext, GateError, MatchedPackage, TriggerMatch, default_trigger_id};
use portcullis_policy::params::Params;
use portcullis_sbom::{Distro, Sbom, SchemaInfo, SourceInfo, ToolInfo};
use portcullis_vulndb::{Cvss, FixState, Severity};

fn now() -> DateTime<Utc> {
    "2024-06-01T00:00:00Z".parse().unwrap()
}

fn sbom() -> Sbom {
    Sbom {
        schema: SchemaInfo::default(),
        tool: ToolInfo { name: "portcullis".into(), version: "test".into() },
        source: SourceInfo {
            scheme: "registry".into(),
            input: "docker.io/library/app:1".into(),
            scope: "squashed".into(),
            image: None,
        },
        distro: Some(Distro { id: "debian".into(), version_id: Some("12".into()), ..Distro::default() }),
        layers: Vec::new(),
        packages: Vec::new(),
        files: Vec::new(),
        secrets: Vec::new(),
        content_matches: Vec::new(),
        retrieved_files: Vec::new(),
        dockerfile: None,
    }
}

fn cvss(source: &str, vector: &str, base_score: Option<f64>) -> Cvss {
    Cvss { version: "3.1".into(), vector: vector.into(), base_score, source: Some(source.into()) }
}

struct Package<'a> {
    name: &'a str,
    version: &'a str,
    package_type: &'a str,
    location: &'a str,
    layer_index: Option<usize>,
}

#[allow(clippy::too_many_arguments)]
fn finding(
    id: &str,
    aliases: &[&str],
    package: Package<'_>,
    state: FixState,
    fixed_in: &[&str],
    severity: Severity,
    cvss: Vec<Cvss>,
    published: &str,
    url: &str,
) -> Finding {
    Finding {
        id: id.into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        package: FindingPackage {
            id: format!("{}/{}@{}", package.package_type, package.name, package.version),
            name: package.name.into(),
            version: package.version.into(),
            package_type: package.package_type.into(),
            purl: format!("pkg:{}/{}@{}", package.package_type, package.name, package.version),
            locations: vec![package.location.into()],
            layer_index: package.layer_index,
        },
        origin: None,
        state,
        fixed_in: fixed_in.iter().map(|v| v.to_string()).collect(),
        severity,
        severity_source: "vendor:test".into(),
        cvss,
        kev: None,
        epss: None,
        risk: 0.0,
        summary: None,
        description: None,
        published: Some(published.into()),
        urls: vec![url.into()],
        cwes: Vec::new(),
        evidence: Vec::new(),
    }
}

fn scan() -> ScanResult {
    let findings = vec![
        finding(
            "CVE-2023-29383",
            &[],
            Package {
                name: "login",
                version: "1:4.13+dfsg1-1",
                package_type: "deb",
                location: "/var/lib/dpkg/status",
                layer_index: Some(0),
            },
            FixState::WontFix,
            &[],
            Severity::Low,
            vec![cvss("nvd", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:L/A:N", Some(3.3))],
            "2023-04-14T22:15:07.680",
            "https://security-tracker.debian.org/tracker/CVE-2023-29383",
        ),
        finding(
            "CVE-2022-48303",
            &[],
            Package {
                name: "tar",
                version: "1.34+dfsg-1.2",
                package_type: "deb",
                location: "/var/lib/dpkg/status",
                layer_index: Some(0),
            },
            FixState::Fixed,
            &["1.34+dfsg-1.2+deb12u1"],
            Severity::Negligible,
            vec![cvss("nvd", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", Some(5.5))],
            "2023-01-30T04:15:08.030",
            "https://security-tracker.debian.org/tracker/CVE-2022-48303",
        ),
        finding(
            "CVE-2021-44906",
            &["GHSA-xvch-5gv4-984h"],
            Package {
                name: "minimist",
                version: "1.2.5",
                package_type: "npm",
                location: "/app/node_modules/minimist/package.json",
                layer_index: Some(3),
            },
            FixState::Fixed,
            &["1.2.6"],
            Severity::Critical,
            vec![
                cvss("nvd", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some(9.8)),
                cvss("ghsa", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None),
            ],
            "2022-03-17T16:15:07.510",
            "https://nvd.nist.gov/vuln/detail/CVE-2021-44906",
        ),
        finding(
            "CVE-2021-44228",
            &["GHSA-jfh8-c2jp-5v3q"],
            Package {
                name: "log4j-core",
                version: "2.14.1",
                package_type: "java-archive",
                location: "/app/lib/log4j-core-2.14.1.jar",
                layer_index: Some(3),
            },
            FixState::Fixed,
            &["2.15.0"],
            Severity::Critical,
            vec![cvss("ghsa", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", None)],
            "2021-12-10T00:40:56Z",
            "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q",
        ),
        finding(
            "CVE-2018-18074",
            &["GHSA-x84v-xcm2-53pg", "PYSEC-2018-28"],
            Package {
                name: "requests",
                version: "2.19.1",
                package_type: "python",
                location: "/usr/lib/python3/dist-packages/requests-2.19.1.dist-info/METADATA",
                layer_index: None,
            },
            FixState::Fixed,
            &["2.20.0"],
            Severity::High,
            vec![cvss("nvd", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", Some(7.5))],
            "2018-10-09T17:29:01.897",
            "https://nvd.nist.gov/vuln/detail/CVE-2018-18074",
        ),
    ];
    ScanResult {
        findings,
        ignored: Vec::new(),
        expired_rules: Vec::new(),
        base_image: None,
        summary: Summary::default(),
        database: DatabaseStatus {
            location: "/tmp/vulndb.sqlite".into(),
            sources: vec![
                DatabaseSource {
                    name: "debian".into(),
                    upstream_date: None,
                    synced_at: "2024-05-20T00:00:00Z".into(),
                    advisories: 20,
                },
                DatabaseSource {
                    name: "ghsa".into(),
                    upstream_date: None,
                    synced_at: "2024-05-30T06:00:00Z".into(),
                    advisories: 16,
                },
            ],
        },
    }
}

fn params(pairs: &[(&str, &str)]) -> Params {
    Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>())
}

fn run(
    trigger: &str,
    pairs: &[(&str, &str)],
    scan: Option<&ScanResult>,
    base_layers: Option<usize>,
) -> Vec<TriggerMatch> {
    let sbom = sbom();
    let ctx = EvalContext { sbom: &sbom, scan, now: now(), base_layers };
    evaluate(trigger, &params(pairs), &ctx).unwrap()
}

fn package_ids(pairs: &[(&str, &str)]) -> Vec<String> {
    package_ids_with_base(pairs, None)
}

fn package_ids_with_base(pairs: &[(&str, &str)], base_layers: Option<usize>) -> Vec<String> {
    let scan = scan();
    run("package", pairs, Some(&scan), base_layers).into_iter().map(|m| m.trigger_id).collect()
}

const ALL_ABOVE_UNKNOWN: [(&str, &str); 1] = [("package_type", "all")];

#[test]
fn severity_comparison_and_anchore_trigger_ids() {
    // > medium: the two criticals and the high. Ids: npm → the directory above
    // package.json, java → the jar file name, python → name-version.
    assert_eq!(
        package_ids(&[("package_type", "all"), ("severity_comparison", ">"), ("severity", "medium")]),
        ["CVE-2021-44906+minimist", "CVE-2021-44228+log4j-core-2.14.1.jar", "CVE-2018-18074+requests-2.19.1"]
    );
    // `=` and `<=`.
    assert_eq!(
        package_ids(&[("package_type", "all"), ("severity_comparison", "="), ("severity", "high")]),
        ["CVE-2018-18074+requests-2.19.1"]
    );
    // <= low skips the wont-fix `login` (vendor_only defaults to true).
    assert_eq!(
        package_ids(&[("package_type", "all"), ("severity_comparison", "<="), ("severity", "low")]),
        ["CVE-2022-48303+tar"]
    );
    // Defaults: severity unknown, comparison `>`: everything not wont-fix.
    assert_eq!(package_ids(&ALL_ABOVE_UNKNOWN).len(), 4);
    // Nothing above critical.
    assert!(package_ids(&[("package_type", "all"), ("severity", "critical")]).is_empty());
}

#[test]
fn package_classes_vendor_only_and_fix_availability() {
    assert_eq!(package_ids(&[("package_type", "os")]), ["CVE-2022-48303+tar"]);
    // OS packages are named by package name only.
    assert_eq!(
        package_ids(&[("package_type", "os"), ("vendor_only", "false")]),
        ["CVE-2023-29383+login", "CVE-2022-48303+tar"]
    );
    assert_eq!(package_ids(&[("package_type", "non-os")]).len(), 3);
    assert_eq!(
        package_ids(&[("package_type", "os"), ("vendor_only", "false"), ("fix_available", "false")]),
        ["CVE-2023-29383+login"]
    );
    assert_eq!(
        package_ids(&[("package_type", "os"), ("vendor_only", "false"), ("fix_available", "true")]),
        ["CVE-2022-48303+tar"]
    );
}

#[test]
fn messages_and_packages_follow_anchore() {
    let scan = scan();
    let os = run("package", &[("package_type", "os")], Some(&scan), None);
    assert_eq!(
        os[0].message,
        "NEGLIGIBLE Vulnerability found in os package type (dpkg) - tar (fixed in: 1.34+dfsg-1.2+deb12u1)\
         (CVE-2022-48303 - https://security-tracker.debian.org/tracker/CVE-2022-48303)"
    );
    assert_eq!(
        os[0].package,
        Some(MatchedPackage {
            name: "tar".into(),
            version: "1.34+dfsg-1.2".into(),
            path: Some("/var/lib/dpkg/status".into()),
            origin: None,
        })
    );
    let java = run(
        "package",
        &[("package_type", "non-os"), ("severity", "critical"), ("severity_comparison", "=")],
        Some(&scan),
        None,
    );
    assert_eq!(
        java[1].message,
        "CRITICAL Vulnerability found in non-os package type (java) - /app/lib/log4j-core-2.14.1.jar \
         (fixed in: 2.15.0)(CVE-2021-44228 - https://github.com/advisories/GHSA-jfh8-c2jp-5v3q)"
    );
    // The NVD score compared is shown, as Anchore does.
    let scored = run("package", &[("package_type", "all"), ("cvss_v3_base_score", "9.0")], Some(&scan), None);
    assert_eq!(
        scored[0].message,
        "CRITICAL Vulnerability found in non-os package type (npm) - /app/node_modules/minimist/package.json \
         (fixed in: 1.2.6)(cvss_v3_base_score=9.8)(CVE-2021-44906 - https://nvd.nist.gov/vuln/detail/CVE-2021-44906)"
    );
}

#[test]
fn nvd_and_vendor_cvss_thresholds() {
    // NVD base >= 9.0 (default comparison): minimist (9.8); log4j has no NVD score.
    assert_eq!(package_ids(&[("package_type", "all"), ("cvss_v3_base_score", "9.0")]), ["CVE-2021-44906+minimist"]);
    // Vendor (GHSA) scores, computed from the vectors: minimist 9.8, log4j 10.0.
    assert_eq!(
        package_ids(&[("package_type", "all"), ("vendor_cvss_v3_base_score", "9.0")]),
        ["CVE-2021-44906+minimist", "CVE-2021-44228+log4j-core-2.14.1.jar"]
    );
    assert_eq!(
        package_ids(&[
            ("package_type", "all"),
            ("vendor_cvss_v3_base_score", "10.0"),
            ("vendor_cvss_v3_base_score_comparison", "=")
        ]),
        ["CVE-2021-44228+log4j-core-2.14.1.jar"]
    );
    // NVD exploitability 3.9 for both network/no-interaction vectors.
    assert_eq!(
        package_ids(&[("package_type", "all"), ("cvss_v3_exploitability_score", "3.9")]),
        ["CVE-2021-44906+minimist", "CVE-2018-18074+requests-2.19.1"]
    );
    // NVD impact: 5.9 (minimist) > 5.0; requests is 3.6, tar 3.6.
    assert_eq!(
        package_ids(&[
            ("package_type", "all"),
            ("cvss_v3_impact_score", "5.0"),
            ("cvss_v3_impact_score_comparison", ">")
        ]),
        ["CVE-2021-44906+minimist"]
    );
    // A finding without an NVD score compares as -1.0, as in Anchore: `< 4.0`
    // catches login (3.3, with vendor_only off) and log4j (no NVD score).
    assert_eq!(
        package_ids(&[
            ("package_type", "all"),
            ("vendor_only", "false"),
            ("cvss_v3_base_score", "4.0"),
            ("cvss_v3_base_score_comparison", "<")
        ]),
        ["CVE-2023-29383+login", "CVE-2021-44228+log4j-core-2.14.1.jar"]
    );
}

#[test]
fn age_path_and_base_image_filters() {
    // 1000 days before 2024-06-01 is 2021-09-05: only requests (2018) is older.
    let scan = scan();
    let old = run("package", &[("package_type", "all"), ("max_days_since_creation", "1000")], Some(&scan), None);
    assert_eq!(old.len(), 1);
    assert!(old[0].message.contains("(max_days_since_creation=2018-10-09)"), "{}", old[0].message);
    // 900 days: log4j (2021-12-10, 904 days old) too.
    assert_eq!(package_ids(&[("package_type", "all"), ("max_days_since_creation", "900")]).len(), 2);
    // Python's re.match: anchored at the start only, so "/app/" excludes
    // everything under /app; OS packages are never excluded by path.
    assert_eq!(
        package_ids(&[("package_type", "all"), ("package_path_exclude", "/app/")]),
        ["CVE-2022-48303+tar", "CVE-2018-18074+requests-2.19.1"]
    );
    assert_eq!(package_ids(&[("package_type", "non-os"), ("package_path_exclude", "node_modules")]).len(), 3);
    // Base image = layers 0..3: tar (layer 0) is skipped; requests (unknown layer) stays.
    let ignore_base = [("package_type", "all"), ("ignore_base_image_findings", "true")];
    assert_eq!(
        package_ids_with_base(&ignore_base, Some(3)),
        ["CVE-2021-44906+minimist", "CVE-2021-44228+log4j-core-2.14.1.jar", "CVE-2018-18074+requests-2.19.1"]
    );
    assert_eq!(package_ids_with_base(&ignore_base, None).len(), 4);
    assert_eq!(package_ids_with_base(&ALL_ABOVE_UNKNOWN, Some(3)).len(), 4);
    // Every match says where its package came from once the base is known.
    let origins = |base_layers| -> Vec<(String, Option<Origin>)> {
        run("package", &ALL_ABOVE_UNKNOWN, Some(&scan), base_layers)
            .into_iter()
            .map(|m| (m.trigger_id, m.package.and_then(|p| p.origin)))
            .collect()
    };
    assert_eq!(
        origins(Some(3)),
        [
            ("CVE-2022-48303+tar".to_owned(), Some(Origin::Base)),
            ("CVE-2021-44906+minimist".to_owned(), Some(Origin::Own)),
            ("CVE-2021-44228+log4j-core-2.14.1.jar".to_owned(), Some(Origin::Own)),
            ("CVE-2018-18074+requests-2.19.1".to_owned(), None),
        ]
    );
    assert!(origins(None).iter().all(|(_, origin)| origin.is_none()));
}

#[test]
fn invalid_parameters_are_errors() {
    let scan = scan();
    let sbom = sbom();
    let ctx = EvalContext { sbom: &sbom, scan: Some(&scan), now: now(), base_layers: None };
    let bad_regex = evaluate("package", &params(&[("package_type", "all"), ("package_path_exclude", "(")]), &ctx);
    assert!(matches!(bad_regex, Err(GateError::Param(ref e)) if e.name == "package_path_exclude"), "{bad_regex:?}");
    let bad_cmp = evaluate("package", &params(&[("package_type", "all"), ("severity_comparison", "=>")]), &ctx);
    assert!(matches!(bad_cmp, Err(GateError::Param(ref e)) if e.name == "severity_comparison"), "{bad_cmp:?}");
    assert!(matches!(evaluate("nope", &params(&[]), &ctx), Err(GateError::UnknownTrigger { .. })));
}

#[test]
fn without_a_scan_package_never_fires_and_data_is_unavailable() {
    assert!(run("package", &ALL_ABOVE_UNKNOWN, None, None).is_empty());
    let unavailable = run("vulnerability_data_unavailable", &[], None, None);
    assert_eq!(unavailable.len(), 1);
    assert_eq!(
        unavailable[0].message,
        "Distro-specific feed data not found for distro namespace: debian:12. Cannot perform CVE scan OS/distro packages"
    );
    let scan = scan();
    assert!(run("vulnerability_data_unavailable", &[], Some(&scan), None).is_empty());
    let mut empty_db = scan.clone();
    empty_db.database.sources.clear();
    assert_eq!(run("vulnerability_data_unavailable", &[], Some(&empty_db), None).len(), 1);
}

#[test]
fn stale_feed_data_uses_the_newest_sync() {
    let scan = scan();
    // Newest sync 2024-05-30T06:00Z; now 2024-06-01T00:00Z: 1.75 days old.
    assert!(run("stale_feed_data", &[("max_days_since_sync", "2")], Some(&scan), None).is_empty());
    let stale = run("stale_feed_data", &[("max_days_since_sync", "1")], Some(&scan), None);
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].message, "The vulnerability feed for this image distro is older than MAXAGE (1) days");
    // md5("vulnerabilities" + "stale_feed_data" + message), computed with Python's hashlib.
    assert_eq!(stale[0].trigger_id, "39e866cb3781743d7b9cabfb20ab59a3");
    assert_eq!(stale[0].trigger_id, default_trigger_id("vulnerabilities", "stale_feed_data", &stale[0].message));
    // Never synced: stale, as in Anchore.
    assert_eq!(run("stale_feed_data", &[("max_days_since_sync", "30")], None, None).len(), 1);
}

#[test]
fn blacklist_matches_ids_and_aliases() {
    let scan = scan();
    let ids = [("vulnerability_ids", "GHSA-xvch-5gv4-984h, CVE-2023-29383, CVE-2099-0001")];
    let found = run("blacklist", &ids, Some(&scan), None);
    // CVE-2023-29383 is wont-fix: skipped with vendor_only (default true).
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "Blacklisted vulnerabilities detected: ['GHSA-xvch-5gv4-984h']");
    assert_eq!(found[0].trigger_id, "a57649df677d23bbae6e9cfac6f27d13");
    let all = run("blacklist", &[ids[0], ("vendor_only", "false")], Some(&scan), None);
    assert_eq!(all[0].message, "Blacklisted vulnerabilities detected: ['GHSA-xvch-5gv4-984h', 'CVE-2023-29383']");
    assert!(run("blacklist", &[("vulnerability_ids", "CVE-2099-0001")], Some(&scan), None).is_empty());
}
