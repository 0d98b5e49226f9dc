//! A realistic scan of a small Debian 12 image with Python packages, written
//! by hand: report rendering is pure formatting, so the inputs need the shape
//! of real results, not a real match. Checked against the shared feed
//! snapshot: the Debian states and fix versions of CVE-2024-0727,
//! CVE-2023-45853, CVE-2023-29383 and CVE-2011-3374, the KEV entry of
//! CVE-2023-4911, NVD's scores, CWE and (offset-less) publication time of
//! CVE-2018-18074, CISA ADP's score and CVE 5 publication time of
//! CVE-2023-45853, PyPA's PYSEC-2020-96. Other scores are illustrative and
//! EPSS values are made up.

#![allow(dead_code)]

use portcullis_match::{
    DatabaseSource, DatabaseStatus, Evidence, Finding, FindingPackage, Gate, GateResult, IgnoreRule, IgnoredFinding,
    ScanResult, Summary, risk,
};
use portcullis_sbom::{
    Distro, ImageInfo, Layer, Location, Package, PackageType, Sbom, SchemaInfo, SourceInfo, SourcePackage, ToolInfo,
};
use portcullis_vulndb::{Cvss, EpssEntry, FixState, KevEntry, Severity};

pub const IMAGE: &str = "registry.example.com/shop/api:1.4";

fn location(path: &str, layer: usize) -> Location {
    Location { path: path.to_owned(), layer_index: Some(layer), layer_diff_id: Some(format!("sha256:{layer:064x}")) }
}

fn deb(name: &str, version: &str, source: Option<&str>) -> Package {
    let escaped = version.replace(':', "%3A").replace('+', "%2B");
    let upstream = source.map(|s| format!("&upstream={s}")).unwrap_or_default();
    let purl = format!("pkg:deb/debian/{name}@{escaped}?arch=amd64&distro=debian-12{upstream}");
    let mut package = Package::new(PackageType::Deb, name, version, Some("amd64"), purl);
    package.source = source.map(|s| SourcePackage { name: s.to_owned(), version: None });
    package.locations = vec![location("/var/lib/dpkg/status", 0)];
    package.introduced_in_layer = Some(0);
    package.found_by = Some("dpkg".to_owned());
    package
}

fn python(name: &str, version: &str, path: &str) -> Package {
    let purl = format!("pkg:pypi/{}@{version}", name.to_ascii_lowercase());
    let mut package = Package::new(PackageType::Python, name, version, None, purl);
    package.locations = vec![location(path, 1)];
    package.introduced_in_layer = Some(1);
    package.found_by = Some("python".to_owned());
    package
}

pub fn sbom() -> Sbom {
    let mut busybox = Package::new(PackageType::Binary, "busybox", "1.35.0", None, "pkg:generic/busybox@1.35.0".into());
    // A package known only from its name (e.g. read from another tool's SBOM): no location.
    busybox.found_by = Some("binary-classifier".to_owned());
    let packages = vec![
        deb("apt", "2.6.1", None),
        deb("bsdutils", "1:2.38.1-5+b1", Some("util-linux")),
        busybox,
        python("Jinja2", "2.10", "/opt/my app/Jinja2-2.10.dist-info/METADATA"),
        deb("libc6", "2.36-9+deb12u1", Some("glibc")),
        deb("libssl3", "3.0.9-1", Some("openssl")),
        deb("login", "1:4.13+dfsg1-1", Some("shadow")),
        deb("openssl", "3.0.9-1", None),
        python("PyYAML", "5.3", "/usr/local/lib/python3.11/site-packages/PyYAML-5.3.dist-info/METADATA"),
        python("requests", "2.19.1", "/usr/local/lib/python3.11/site-packages/requests-2.19.1.dist-info/METADATA"),
        deb("zlib1g", "1:1.2.13.dfsg-1", Some("zlib")),
    ];
    Sbom {
        schema: SchemaInfo::default(),
        tool: ToolInfo { name: "portcullis".to_owned(), version: "0.1.0".to_owned() },
        source: SourceInfo {
            scheme: "registry".to_owned(),
            input: IMAGE.to_owned(),
            scope: "squashed".to_owned(),
            image: Some(ImageInfo {
                manifest_digest: Some(format!("sha256:{}", "a1".repeat(32))),
                config_digest: format!("sha256:{}", "c0".repeat(32)),
                references: vec![IMAGE.to_owned()],
                platform: Some("linux/amd64".to_owned()),
                ..ImageInfo::default()
            }),
        },
        distro: Some(Distro {
            id: "debian".to_owned(),
            version_id: Some("12".to_owned()),
            version_codename: Some("bookworm".to_owned()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_owned()),
            source_file: "/etc/os-release".to_owned(),
            ..Distro::default()
        }),
        layers: (0..2)
            .map(|index| Layer {
                index,
                digest: Some(format!("sha256:{:064x}", index + 100)),
                diff_id: Some(format!("sha256:{index:064x}")),
                media_type: Some("application/vnd.oci.image.layer.v1.tar+gzip".to_owned()),
                size: Some(1000),
                uncompressed_size: 4000,
                file_count: 10,
            })
            .collect(),
        packages,
        files: Vec::new(),
        secrets: Vec::new(),
        content_matches: Vec::new(),
        retrieved_files: Vec::new(),
        dockerfile: None,
    }
}

pub fn cvss(version: &str, vector: &str, score: Option<f64>, source: &str) -> Cvss {
    Cvss { version: version.to_owned(), vector: vector.to_owned(), base_score: score, source: Some(source.to_owned()) }
}

/// A finding about the SBOM package `name`, with nothing else set.
pub fn finding(sbom: &Sbom, id: &str, name: &str, severity: Severity, state: FixState, fixed_in: &[&str]) -> Finding {
    let package = sbom.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no package {name}"));
    finding_for(package, id, severity, state, fixed_in)
}

/// A finding about `package`, with nothing else set.
pub fn finding_for(package: &Package, id: &str, severity: Severity, state: FixState, fixed_in: &[&str]) -> Finding {
    let source = if package.package_type == PackageType::Python { "osv-pypi" } else { "debian-tracker" };
    Finding {
        id: id.to_owned(),
        aliases: Vec::new(),
        package: FindingPackage {
            id: package.id.clone(),
            name: package.name.clone(),
            version: package.version.clone(),
            package_type: package.package_type.as_str().to_owned(),
            purl: package.purl.clone(),
            locations: package.locations.iter().map(|l| l.path.clone()).collect(),
            layer_index: package.introduced_in_layer,
        },
        origin: None,
        state,
        fixed_in: fixed_in.iter().map(|v| v.to_string()).collect(),
        severity,
        severity_source: "none".to_owned(),
        cvss: Vec::new(),
        kev: None,
        epss: None,
        risk: 0.0,
        summary: None,
        description: None,
        published: None,
        urls: Vec::new(),
        cwes: Vec::new(),
        evidence: vec![Evidence {
            record: id.to_owned(),
            source: source.to_owned(),
            namespace: if source == "osv-pypi" { "pypi".to_owned() } else { "debian:12".to_owned() },
            package: package.source.as_ref().map_or(package.name.to_lowercase(), |s| s.name.clone()),
            version: package.version.clone(),
            scheme: if source == "osv-pypi" { "pep440".to_owned() } else { "dpkg".to_owned() },
            constraint: fixed_in.first().map_or("<unfixed>".to_owned(), |f| format!("< {f}")),
            comparison: fixed_in
                .first()
                .map_or("no fix: every version affected".to_owned(), |f| format!("{} < {f} (fixed)", package.version)),
        }],
    }
}

fn epss(cve: &str, score: f64, percentile: f64) -> Option<EpssEntry> {
    Some(EpssEntry { cve: cve.to_owned(), score, percentile, date: Some("2026-11-25".to_owned()) })
}

fn scored(mut finding: Finding) -> Finding {
    finding.risk = risk::score(&finding);
    finding
}

/// The eight findings (risk order), three ignored ones and an expired rule.
pub fn scan_result(sbom: &Sbom) -> ScanResult {
    let mut looney = finding(sbom, "CVE-2023-4911", "libc6", Severity::High, FixState::Fixed, &["2.36-9+deb12u3"]);
    looney.aliases = vec!["DSA-5514-1".to_owned()];
    looney.severity_source = "cvss:nvd".to_owned();
    looney.cvss = vec![cvss("3.1", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", Some(7.8), "nvd")];
    looney.kev = Some(KevEntry {
        cve: "CVE-2023-4911".to_owned(),
        vendor: "GNU".to_owned(),
        product: "GNU C Library".to_owned(),
        name: "GNU C Library Buffer Overflow Vulnerability".to_owned(),
        date_added: "2023-11-21".to_owned(),
        due_date: Some("2023-12-12".to_owned()),
        ransomware: Some("Unknown".to_owned()),
        required_action: None,
    });
    looney.epss = epss("CVE-2023-4911", 0.6543, 0.9812);
    looney.summary =
        Some("buffer overflow in dynamic loader's processing of the GLIBC_TUNABLES environment variable".to_owned());
    looney.published = Some("2023-10-03T18:15:09.953".to_owned());
    looney.urls = vec![
        "https://www.qualys.com/2023/10/03/cve-2023-4911/looney-tunables-local-privilege-escalation-glibc-ld-so.txt"
            .to_owned(),
        "https://sourceware.org/git/?p=glibc.git;a=commit;h=1056e5b4c3f2d90ed2b4a55f96add28da2f4c8fa".to_owned(),
    ];
    looney.cwes = vec!["CWE-122".to_owned()];

    let mut pyyaml = finding(sbom, "CVE-2020-1747", "PyYAML", Severity::Critical, FixState::Fixed, &["5.3.1"]);
    pyyaml.aliases = vec!["GHSA-6757-jp84-gxfx".to_owned(), "PYSEC-2020-96".to_owned()];
    pyyaml.evidence[0].record = "PYSEC-2020-96".to_owned();
    pyyaml.severity_source = "cvss:nvd".to_owned();
    pyyaml.cvss = vec![
        cvss("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some(9.8), "nvd"),
        cvss("2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P", Some(7.5), "nvd"),
    ];
    pyyaml.epss = epss("CVE-2020-1747", 0.0123, 0.79);
    pyyaml.description = Some(
        "A vulnerability was discovered in the PyYAML library in versions before 5.3.1, where it is susceptible to \
         arbitrary code execution when it processes untrusted YAML files through the full_load method or with the \
         FullLoader loader."
            .to_owned(),
    );
    pyyaml.published = Some("2020-03-24T15:15:00Z".to_owned());
    pyyaml.urls = vec![
        "https://github.com/yaml/pyyaml/pull/386".to_owned(),
        "https://bugzilla.redhat.com/show_bug.cgi?id=CVE-2020-1747".to_owned(),
    ];
    pyyaml.cwes = vec!["CWE-20".to_owned()];

    let mut minizip = finding(sbom, "CVE-2023-45853", "zlib1g", Severity::Critical, FixState::NotFixed, &[]);
    minizip.severity_source = "cvss:nvd".to_owned();
    minizip.cvss = vec![
        cvss("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some(9.8), "nvd"),
        cvss("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", Some(8.8), "cisa-adp"),
    ];
    minizip.epss = epss("CVE-2023-45853", 0.0041, 0.73);
    minizip.summary =
        Some("MiniZip in zlib through 1.3 has an integer overflow and resultant heap-based buffer overflow".to_owned());
    minizip.published = Some("2023-10-14T00:00:00".to_owned());
    minizip.cwes = vec!["CWE-190".to_owned(), "NVD-CWE-Other".to_owned()];
    minizip.urls = vec!["https://github.com/madler/zlib/pull/843".to_owned()];

    let pkcs12 = |name: &str| {
        let mut f = finding(sbom, "CVE-2024-0727", name, Severity::Medium, FixState::Fixed, &["3.0.13-1~deb12u1"]);
        f.severity_source = "cvss:nvd".to_owned();
        f.cvss = vec![cvss("3.1", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", Some(5.5), "nvd")];
        f.epss = epss("CVE-2024-0727", 0.0009, 0.38);
        f.summary = Some("Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash".to_owned());
        f.published = Some("2024-01-26T09:15:07.837Z".to_owned());
        f.urls = vec!["https://www.openssl.org/news/secadv/20240125.txt".to_owned()];
        f
    };

    let mut wall = finding(sbom, "CVE-2022-0563", "bsdutils", Severity::Low, FixState::WontFix, &[]);
    wall.severity_source = "vendor:debian-tracker".to_owned();
    wall.cvss = vec![cvss("3.1", "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N", Some(5.5), "nvd")];
    wall.summary = Some("chfn and chsh in util-linux may leak root-owned file contents".to_owned());

    let mut jinja = finding(sbom, "CVE-2019-10906", "Jinja2", Severity::High, FixState::Fixed, &["2.10.1"]);
    jinja.aliases = vec!["GHSA-462w-v97r-4m45".to_owned(), "PYSEC-2019-217".to_owned()];
    jinja.evidence[0].record = "PYSEC-2019-217".to_owned();
    jinja.severity_source = "cvss:nvd".to_owned();
    jinja.cvss = vec![cvss("3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N", Some(8.6), "nvd")];
    jinja.summary = Some("str.format_map allows a sandbox escape | <script> & \"quotes\"".to_owned());
    jinja.urls = vec!["not a url".to_owned(), "https://palletsprojects.com/blog/jinja-2-10-1-released".to_owned()];

    let mut busybox = finding(sbom, "CVE-2022-48174", "busybox", Severity::High, FixState::Unknown, &[]);
    busybox.severity_source = "vendor:ghsa".to_owned();
    busybox.cvss = vec![cvss("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", None, "cna")];
    busybox.evidence.clear();

    let mut findings: Vec<Finding> =
        [looney, pyyaml, minizip, pkcs12("openssl"), pkcs12("libssl3"), wall, jinja, busybox]
            .into_iter()
            .map(scored)
            .collect();
    findings.sort_by(risk::order);

    let mut shadow = finding(sbom, "CVE-2023-29383", "login", Severity::Low, FixState::WontFix, &[]);
    shadow.severity_source = "vendor:debian-tracker".to_owned();
    shadow.cvss = vec![cvss("3.1", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:L/A:N", Some(3.3), "nvd")];
    let mut apt_key = finding(sbom, "CVE-2011-3374", "apt", Severity::Negligible, FixState::NotFixed, &[]);
    apt_key.severity_source = "vendor:debian-tracker".to_owned();
    let mut redirect = finding(sbom, "CVE-2018-18074", "requests", Severity::High, FixState::Fixed, &["2.20.0"]);
    redirect.aliases = vec!["GHSA-x84v-xcm2-53pg".to_owned(), "PYSEC-2018-28".to_owned()];
    redirect.severity_source = "cvss:nvd".to_owned();
    redirect.cvss = vec![
        cvss("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", Some(7.5), "nvd"),
        cvss("2.0", "AV:N/AC:L/Au:N/C:P/I:N/A:N", Some(5.0), "nvd"),
    ];
    redirect.cwes = vec!["CWE-522".to_owned()];
    redirect.published = Some("2018-10-09T17:29:01.897".to_owned());
    let ignored = vec![
        IgnoredFinding {
            finding: scored(shadow),
            by: "ignore-rule".to_owned(),
            reason: "only reachable by local users, accepted by security team (until 2027-01-31)".to_owned(),
        },
        IgnoredFinding {
            finding: scored(apt_key),
            by: "vex".to_owned(),
            reason: "app.vex.json: not_affected (vulnerable_code_not_in_execute_path)".to_owned(),
        },
        IgnoredFinding { finding: scored(redirect), by: "vex".to_owned(), reason: "app.vex.json: fixed".to_owned() },
    ];
    let mut result = ScanResult {
        findings,
        ignored,
        expired_rules: vec![IgnoreRule {
            vulnerability: Some("CVE-2019-11324".to_owned()),
            package: Some("urllib3".to_owned()),
            version: None,
            path: None,
            reason: "vendored copy, patched".to_owned(),
            expires: "2026-01-01".to_owned(),
        }],
        base_image: None,
        summary: Summary { packages: sbom.packages.len() as u64, ..Summary::default() },
        database: DatabaseStatus {
            location: "/var/cache/portcullis/vulndb.sqlite".to_owned(),
            sources: vec![
                DatabaseSource {
                    name: "debian-tracker".to_owned(),
                    upstream_date: None,
                    synced_at: "2026-11-26T08:00:00Z".to_owned(),
                    advisories: 51234,
                },
                DatabaseSource {
                    name: "osv-pypi".to_owned(),
                    upstream_date: Some("2026-11-25T23:10:00Z".to_owned()),
                    synced_at: "2026-11-26T08:00:05Z".to_owned(),
                    advisories: 2661,
                },
            ],
        },
    };
    result.refresh_summary();
    result
}

/// Fail on high or worse with a fix: the libc6, PyYAML and Jinja2 findings.
pub fn gate(result: &ScanResult) -> GateResult {
    Gate { fail_on: Severity::High, only_fixed: true }.evaluate(&result.findings)
}

/// The same image with every finding gone.
pub fn clean_result(sbom: &Sbom) -> ScanResult {
    let mut result = scan_result(sbom);
    result.findings.clear();
    result.ignored.clear();
    result.expired_rules.clear();
    result.refresh_summary();
    result
}

/// syft's CycloneDX document of the `deb-python` lab image, kept with the
/// SBOM crate's tests (syft lists PyYAML twice, from `requirements.txt` and
/// from its `METADATA`; the reader merges the two into one package).
pub fn syft_deb_python() -> Sbom {
    use std::io::Read;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../portcullis-sbom/tests/data/syft-deb-python/cyclonedx.json.gz");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_end(&mut bytes).unwrap();
    portcullis_sbom::format::read(&bytes).unwrap()
}
