//! The apk, rpm and generic schemes on real data: every version of the shared
//! feeds and package databases that these schemes apply to, and a few
//! vulnerability verdicts worked out by hand from that data. (The dpkg scheme
//! gets its real data in `dpkg_reference.rs`, where dpkg itself checks it.)

mod os_support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use portcullis_version::{Scheme, VersionError, apk, generic, rpm};

/// The secfixes of one alpine-secdb file: package name to fixed versions, in file order.
///
/// A line-based reading of the upstream YAML, enough for its regular layout:
/// `- pkg:` / `name:` / `secfixes:` then `version:` keys, each followed by a
/// list of CVEs (`- CVE-...`).
fn secfixes(path: &Path) -> BTreeMap<String, Vec<String>> {
    let mut packages: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut package = None;
    let mut secfixes_indent = None;
    for line in os_support::read(path).lines() {
        let indent = line.len() - line.trim_start().len();
        let content = line.trim();
        if secfixes_indent.is_some_and(|block| indent <= block) {
            secfixes_indent = None;
        }
        if let Some(name) = content.strip_prefix("name: ") {
            package = Some(name.to_owned());
        } else if content == "secfixes:" {
            secfixes_indent = Some(indent);
        } else if secfixes_indent.is_some()
            && !content.starts_with("- ")
            && let Some(key) = content.strip_suffix(':')
        {
            let name = package.clone().unwrap_or_else(|| panic!("secfixes before a name in {}", path.display()));
            packages.entry(name).or_default().push(key.trim_matches(['"', '\'']).to_owned());
        }
    }
    packages
}

fn secdb_files() -> Vec<PathBuf> {
    let root = os_support::feed("alpine-secdb");
    let mut files: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .flat_map(|branch| fs::read_dir(branch.unwrap().path()).unwrap())
        .map(|file| file.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 18, "alpine-secdb has 9 branches of main and community");
    files
}

/// Fixed versions in alpine-secdb that apk-tools 2.12+ refuses too (typos
/// such as `0.8.21.r2`, Debian-style revisions such as `2.7.16-33`, and
/// `6.6.2p1-r0`, a number after the letter, which older apk accepted).
const SECDB_INVALID: [&str; 15] = [
    "0.12.5.-r0",
    "0.8.21.r2",
    "1.0.4.-r0",
    "1.11-20-r0",
    "1.18.-r2",
    "1.7.5.-r1",
    "10.2.22.r0",
    "10.2.24.r0",
    "10.2.26.r0",
    "2.15.r-r1",
    "2.7.16-33",
    "4.10-1-r1",
    "4.8.0.-r1",
    "57-1-r2",
    "6.6.2p1-r0",
];

#[test]
fn every_alpine_secdb_fixed_version_is_valid_but_the_known_typos() {
    let versions: BTreeSet<String> =
        secdb_files().iter().flat_map(|file| secfixes(file).into_values().flatten()).collect();
    // The same count as a shell pipeline over the same files (grep/sed/sort -u).
    assert_eq!(versions.len(), 1409);
    let rejected: BTreeSet<&str> = versions
        .iter()
        .filter(|version| match apk::compare(version, version) {
            Ok(order) => {
                assert!(order.is_eq());
                false
            }
            Err(VersionError::InvalidVersion { .. }) => true,
            Err(other) => panic!("{other}"),
        })
        .map(String::as_str)
        .collect();
    assert_eq!(rejected, BTreeSet::from(SECDB_INVALID));
}

/// The Alpine 3.4 fixture's installed packages against Alpine 3.4's secdb:
/// a package is vulnerable to a fix whose version is above the installed one.
/// The expected lists were worked out by hand; they need numeric revisions
/// (`-r9 < -r13`), numeric components (`1.2.8 < 1.2.11`) and letters (`h < i`).
#[test]
fn alpine_3_4_packages_against_alpine_3_4_secfixes() {
    let secdb = secfixes(&os_support::feed("alpine-secdb/v3.4/main.yaml"));
    let installed = os_support::read(&os_support::fixture("apk/alpine-3.4-edited-trivy/lib/apk/db/installed"));
    // Stanzas are separated by blank lines; `o:` is the origin, the name secdb uses.
    let field =
        |stanza: &str, prefix: &str| stanza.lines().find_map(|line| line.strip_prefix(prefix)).map(str::to_owned);
    let packages: BTreeMap<String, (Option<String>, Option<String>)> = installed
        .split("\n\n")
        .filter_map(|stanza| Some((field(stanza, "P:")?, (field(stanza, "V:"), field(stanza, "o:")))))
        .collect();
    let installed_version = |name: &str| packages[name].0.clone().unwrap();
    let unfixed = |name: &str| -> Vec<String> {
        let (version, origin) = &packages[name];
        let version = version.as_deref().unwrap();
        secdb[origin.as_deref().unwrap_or(name)]
            .iter()
            .filter(|fixed| Scheme::Apk.satisfies(version, &format!("< {fixed}")).unwrap())
            .cloned()
            .collect()
    };
    assert_eq!(installed_version("musl"), "1.1.14-r10");
    assert_eq!(unfixed("musl"), ["1.1.14-r13", "1.1.14-r16"]);
    assert_eq!(installed_version("busybox"), "1.24.2-r9");
    assert_eq!(unfixed("busybox"), ["1.24.2-r13", "1.24.2-r12"]);
    assert_eq!(installed_version("zlib"), "1.2.8-r2");
    assert_eq!(unfixed("zlib"), ["1.2.11-r0"]);
    assert_eq!(installed_version("libcrypto1.0"), "1.0.2h-r1");
    assert_eq!(
        unfixed("libcrypto1.0"),
        [
            "1.0.2h-r2",
            "1.0.2h-r3",
            "1.0.2h-r4",
            "1.0.2i-r0",
            "1.0.2j-r0",
            "1.0.2k-r0",
            "1.0.2m-r0",
            "1.0.2n-r0",
            "1.0.2o-r0",
            "1.0.2o-r1",
            "1.0.2o-r2",
            "1.0.2q-r0"
        ]
    );
}

#[test]
fn every_installed_apk_version_is_valid() {
    let databases = [
        "alpine-3.14-minirootfs-plus-openrc-boost",
        "alpine-3.16-base",
        "alpine-3.19-bash-subset",
        "alpine-3.4-edited-trivy",
        "alpine-3.6-base",
        "edge-cases/empty-deps-and-provides",
        "edge-cases/extra-file-attributes-openjdk8",
        "edge-cases/no-origin",
        "edge-cases/noarch",
        "edge-cases/single-alpine-baselayout-3.2.0-r6",
        "edge-cases/single-musl-utils",
    ];
    for database in databases {
        let path = os_support::fixture(&format!("apk/{database}/lib/apk/db/installed"));
        for version in os_support::field_values(&path, "V:") {
            assert_eq!(apk::compare(&version, &version), Ok(std::cmp::Ordering::Equal), "{database}: {version}");
        }
    }
}

/// Every file under `root`, recursively.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { folders.push(path) } else { files.push(path) }
        }
    }
    files
}

/// The values of `"key": "value"` pairs in JSON text (values without escapes, which is all we look for).
fn json_strings<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    let quoted_key = format!("\"{key}\"");
    text.match_indices(&quoted_key)
        .filter_map(|(at, _)| {
            let rest = text[at + quoted_key.len()..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
            rest.split('"').next()
        })
        .collect()
}

/// Red Hat writes rpm EVRs with an explicit epoch (`0:1.19.13-6.el7_9`) in CVE records.
#[test]
fn every_red_hat_evr_of_the_cve_records_is_valid() {
    let mut evrs = BTreeSet::new();
    for file in files_under(&os_support::feed("cve-vulnrichment")) {
        if file.extension().is_none_or(|extension| extension != "json") {
            continue;
        }
        let text = os_support::read(&file);
        for key in ["version", "lessThan", "lessThanOrEqual"] {
            evrs.extend(
                json_strings(&text, key)
                    .into_iter()
                    .filter(|value| {
                        value
                            .split_once(':')
                            .is_some_and(|(epoch, _)| epoch.bytes().all(|b| b.is_ascii_digit()) && !epoch.is_empty())
                    })
                    .map(str::to_owned),
            );
        }
    }
    assert_eq!(evrs.len(), 126, "the same count as grep over the same files");
    for evr in &evrs {
        assert_eq!(rpm::compare(evr, evr), Ok(std::cmp::Ordering::Equal), "{evr}");
    }
    // Two of them: numeric segments compare by value (13 > 9), not as text.
    assert_eq!(rpm::compare("0:1.21.13-4.el9_4", "0:1.21.9-2.el9_4"), Ok(std::cmp::Ordering::Greater));
}

/// CBL-Mariner's container manifest: `name<TAB>version-release<TAB>...<TAB>epoch<TAB>...`.
#[test]
fn mariner_manifest_packages_against_hand_made_requirements() {
    let path =
        os_support::fixture("rpm-manifest/cbl-mariner-2.0-distroless-base/var/lib/rpmmanifest/container-manifest-2");
    let packages: BTreeMap<String, String> = os_support::read(&path)
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[0].to_owned(), format!("{}:{}", fields[8], fields[1]))
        })
        .collect();
    assert_eq!(packages.len(), 12);
    for evr in packages.values() {
        assert_eq!(rpm::compare(evr, evr), Ok(std::cmp::Ordering::Equal), "{evr}");
    }
    let openssl = &packages["openssl"];
    assert_eq!(openssl, "0:1.1.1k-15.cm2");
    assert_eq!(Scheme::Rpm.satisfies(openssl, "< 1.1.1k-16.cm2"), Ok(true));
    assert_eq!(Scheme::Rpm.satisfies(openssl, "< 1.1.1l"), Ok(true));
    // No release in the requirement: the release does not count, as in rpm.
    assert_eq!(Scheme::Rpm.satisfies(openssl, "< 1.1.1k"), Ok(false));
    assert_eq!(Scheme::Rpm.satisfies(openssl, "<= 1.1.1k"), Ok(true));
    let certificates = &packages["prebuilt-ca-certificates-base"];
    assert_eq!(certificates, "1:2.0.0-3.cm2");
    // The epoch outranks any version without one.
    assert_eq!(Scheme::Rpm.satisfies(certificates, "< 20.0.0"), Ok(false));
    assert_eq!(Scheme::Rpm.satisfies(certificates, "< 1:2.0.1"), Ok(true));
}

/// NVD's CPE version fields and version bounds; `*` (ANY) is not a version.
#[test]
fn nvd_versions_and_the_readme_verdicts() {
    let mut versions = BTreeSet::new();
    for file in files_under(&os_support::feed("nvd-subset")) {
        let text = os_support::read(&file);
        for criteria in json_strings(&text, "criteria") {
            versions.insert(criteria.split(':').nth(5).unwrap().to_owned());
        }
        for key in ["versionStartIncluding", "versionStartExcluding", "versionEndIncluding", "versionEndExcluding"] {
            versions.extend(json_strings(&text, key).into_iter().map(str::to_owned));
        }
    }
    let expected: BTreeSet<String> =
        ["*", "1.2.6", "1.34", "14.04", "15.1", "16.04", "18.04", "18.10", "2.20.0", "37", "38", "4.13", "7.0"]
            .map(str::to_owned)
            .into();
    assert_eq!(versions, expected);
    for version in &versions {
        let result = generic::compare(version, version);
        if version == "*" {
            assert!(result.is_err());
        } else {
            assert_eq!(result, Ok(std::cmp::Ordering::Equal), "{version}");
        }
    }
    // The feeds README's verdicts for these records.
    assert_eq!(Scheme::Generic.satisfies("1.34", "<= 1.34"), Ok(true)); // tar, CVE-2022-48303
    assert_eq!(Scheme::Generic.satisfies("2.19.1", "< 2.20.0"), Ok(true)); // requests, CVE-2018-18074
    assert_eq!(Scheme::Generic.satisfies("2.20.0", "< 2.20.0"), Ok(false));
    assert_eq!(Scheme::Generic.satisfies("1.2.0", "< 1.2.6"), Ok(true)); // minimist, CVE-2021-44906
    assert_eq!(Scheme::Generic.satisfies("18.04", "= 18.04"), Ok(true));
}
