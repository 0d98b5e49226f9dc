//! The matcher against a real SQLite store holding hand-made records: the
//! rules that real feeds exercise only by chance (withdrawn and rejected
//! records, CPE matching only for binaries, owned packages, EPSS and KEV,
//! merging across feeds).

use portcullis_match::match_sbom;
use portcullis_sbom::{Package, PackageType, Sbom, SourcePackage};
use portcullis_vulndb::{
    Advisory, Affected, Cvss, EpssEntry, FileSummary, FixState, KevEntry, RangeEvent, Record, Scheme, Severity,
    SourceInfo, VersionRange, VulnStore,
};
use serde_json::json;

fn affected(namespace: &str, package: &str, scheme: Scheme, fixed: &str) -> Affected {
    Affected {
        namespace: namespace.to_owned(),
        package: package.to_owned(),
        scheme,
        ranges: vec![VersionRange::Events {
            events: vec![RangeEvent::Introduced("0".to_owned()), RangeEvent::Fixed(fixed.to_owned())],
        }],
        versions: Vec::new(),
        state: FixState::Fixed,
        fixed: vec![fixed.to_owned()],
        severity: None,
        note: None,
        cpe: None,
    }
}

fn advisory(id: &str, aliases: &[&str], affected: Vec<Affected>) -> Advisory {
    Advisory {
        id: id.to_owned(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        affected,
        ..Advisory::default()
    }
}

async fn store_with(dir: &std::path::Path, records: Vec<(&str, Vec<Record>)>) -> VulnStore {
    let store = VulnStore::open(dir.join("db.sqlite").to_str().unwrap()).await.unwrap();
    let mut tx = store.begin_sync().await.unwrap();
    for (path, records) in records {
        let file = FileSummary { path: path.to_owned(), digest: format!("sha256:{path}"), ..FileSummary::default() };
        tx.replace_file("test", &file, &records).await.unwrap();
    }
    tx.set_source(&SourceInfo {
        name: "test".to_owned(),
        synced_at: "2026-11-26T00:00:00Z".to_owned(),
        ..SourceInfo::default()
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    store
}

fn sbom(packages: Vec<Package>) -> Sbom {
    let mut sbom: Sbom = serde_json::from_value(json!({
        "schema": {"version": portcullis_sbom::SCHEMA_VERSION, "url": portcullis_sbom::SCHEMA_URL},
        "tool": {"name": "portcullis", "version": "test"},
        "source": {"scheme": "dir", "input": "/x", "scope": "squashed", "image": null},
        "distro": {"id": "debian", "version_id": "12", "version_codename": "bookworm", "id_like": [], "name": null,
                   "pretty_name": null, "cpe_name": null, "source_file": "/etc/os-release"},
        "layers": [],
        "packages": [],
    }))
    .unwrap();
    sbom.packages = packages;
    sbom
}

fn package(package_type: PackageType, name: &str, version: &str) -> Package {
    Package::new(package_type, name, version, None, format!("pkg:x/{name}@{version}"))
}

#[tokio::test]
async fn withdrawn_rejected_cpe_owner_kev_and_epss_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut withdrawn = advisory("GHSA-gone", &[], vec![affected("pypi", "requests", Scheme::Pep440, "9.0")]);
    withdrawn.withdrawn = Some("2024-01-01T00:00:00Z".to_owned());
    // NVD rejected this CVE: the GHSA that aliases it must not be reported either.
    let mut rejected_cve = advisory("CVE-2099-0001", &[], Vec::new());
    rejected_cve.withdrawn = Some("2024-02-02".to_owned());
    let mut nvd_tar = advisory(
        "CVE-2022-48303",
        &[],
        vec![Affected {
            ranges: vec![VersionRange::Events {
                events: vec![RangeEvent::Introduced("0".to_owned()), RangeEvent::LastAffected("1.34".to_owned())],
            }],
            state: FixState::Unknown,
            fixed: Vec::new(),
            cpe: Some("cpe:2.3:a:gnu:tar:*:*:*:*:*:*:*:*".to_owned()),
            ..affected("cpe", "gnu:tar", Scheme::Generic, "0")
        }],
    );
    nvd_tar.cvss = vec![Cvss {
        version: "3.1".to_owned(),
        vector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H".to_owned(),
        base_score: Some(5.5),
        source: Some("nvd".to_owned()),
    }];
    let requests_cpe =
        advisory("CVE-2018-18074", &[], vec![affected("cpe", "python:requests", Scheme::Generic, "2.20.0")]);
    let mut ghsa = advisory(
        "GHSA-x84v-xcm2-53pg",
        &["CVE-2018-18074"],
        vec![affected("pypi", "requests", Scheme::Pep440, "2.20.0")],
    );
    ghsa.severity = Some(Severity::Medium);
    let pysec =
        advisory("PYSEC-2018-28", &["CVE-2018-18074"], vec![affected("pypi", "requests", Scheme::Pep440, "2.20.0")]);
    let ghsa_rejected =
        advisory("GHSA-rej", &["CVE-2099-0001"], vec![affected("pypi", "requests", Scheme::Pep440, "3.0")]);
    let owned = advisory("GHSA-owned", &[], vec![affected("npm", "semver", Scheme::Npm, "9.9.9")]);
    let store = store_with(
        dir.path(),
        vec![
            ("a.json", vec![Record::Advisory(Box::new(withdrawn)), Record::Advisory(Box::new(rejected_cve))]),
            ("nvd.json", vec![Record::Advisory(Box::new(nvd_tar)), Record::Advisory(Box::new(requests_cpe))]),
            ("ghsa.json", vec![Record::Advisory(Box::new(ghsa)), Record::Advisory(Box::new(ghsa_rejected))]),
            ("pysec.yaml", vec![Record::Advisory(Box::new(pysec)), Record::Advisory(Box::new(owned))]),
            (
                "enrich.csv",
                vec![
                    Record::Epss(EpssEntry {
                        cve: "CVE-2018-18074".to_owned(),
                        score: 0.02,
                        percentile: 0.8,
                        date: None,
                    }),
                    Record::Kev(KevEntry {
                        cve: "CVE-2022-48303".to_owned(),
                        vendor: "GNU".to_owned(),
                        product: "tar".to_owned(),
                        name: "test".to_owned(),
                        date_added: "2026-01-01".to_owned(),
                        due_date: None,
                        ransomware: None,
                        required_action: None,
                    }),
                ],
            ),
        ],
    )
    .await;

    let requests = package(PackageType::Python, "requests", "2.19.1");
    let mut tar_binary = package(PackageType::Binary, "tar", "1.34");
    tar_binary.metadata.insert("cpes".to_owned(), json!(["cpe:2.3:a:gnu:tar:1.34:*:*:*:*:*:*:*"]));
    let mut owned_npm = package(PackageType::Npm, "semver", "7.0.0");
    owned_npm.owner = Some("deb/node-semver@7.0.0".to_owned());
    let mut deb = package(PackageType::Deb, "tar", "1.34+dfsg-1.2");
    deb.source = Some(SourcePackage { name: "tar".to_owned(), version: None });
    let result = match_sbom(&store, &sbom(vec![requests, tar_binary, owned_npm, deb])).await.unwrap();

    let ids: Vec<(&str, &str)> = result.findings.iter().map(|f| (f.package.name.as_str(), f.id.as_str())).collect();
    // requests: GHSA and PYSEC merged into its CVE; the withdrawn GHSA and the
    // GHSA of a rejected CVE are gone; no CPE match for a Python package.
    // tar binary: the NVD CPE range (last_affected 1.34). The owned npm
    // package and the deb (no Debian records here) have none.
    assert_eq!(ids, vec![("tar", "CVE-2022-48303"), ("requests", "CVE-2018-18074")], "{:#?}", result.findings);
    let requests = &result.findings[1];
    assert_eq!(requests.aliases, vec!["GHSA-x84v-xcm2-53pg", "PYSEC-2018-28"]);
    assert_eq!(requests.evidence.len(), 2);
    assert_eq!(requests.fixed_in, vec!["2.20.0"]);
    assert_eq!((requests.severity, requests.severity_source.as_str()), (Severity::Medium, "vendor:test"));
    assert_eq!(requests.epss.as_ref().unwrap().score, 0.02);
    let tar = &result.findings[0];
    assert_eq!(tar.package.package_type, "binary");
    assert_eq!(tar.evidence[0].namespace, "cpe");
    assert_eq!(tar.evidence[0].comparison, "0 <= 1.34 <= 1.34 (last affected)");
    assert_eq!(tar.state, FixState::Unknown);
    assert_eq!((tar.severity, tar.severity_source.as_str()), (Severity::Medium, "cvss:nvd"));
    assert!(tar.kev.is_some());
    assert_eq!(tar.risk, 55.0, "KEV: impact 0.55 x threat 1");
    assert_eq!(result.summary.packages, 4);
    assert_eq!(result.summary.kev, 1);
}
