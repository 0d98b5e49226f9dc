//! The Node.js Security Working Group's advisories
//! (<https://github.com/nodejs/security-wg>, `vuln/`), one JSON file per
//! advisory:
//!
//! * `vuln/npm/<n>.json`: npm packages (2014-2019), id `NSWG-ECO-<n>`;
//! * `vuln/core/<n>.json`: Node.js itself, id `NSWG-COR-<n>` (the ids the
//!   folder's README defines), in namespace [`NODE_NAMESPACE`], package
//!   [`NODE_PACKAGE`], with npm semver ranges of the node release;
//! * `vuln/deps/<n>.json`: the WG's assessments that a CVE in a library
//!   bundled into Node.js does not affect it: id `NSWG-DEP-<n>` (upstream
//!   has none), the CVEs as aliases, node [`FixState::NotAffected`].
//!
//! Each folder's `index.json` repeats its records and is not read.

use serde::Deserialize;

use portcullis_vulndb::{
    Advisory, Affected, Cvss, FixState, Record, Scheme, Severity, VersionRange, namespace, normalize_package_name,
};

use super::FormatError;
use super::osv::{
    cvss_version, directories, distinct, distinct_ids, file_stem, from_json, has_extension, non_blank,
    requirement_floor,
};

/// Namespace of the Node.js runtime.
pub const NODE_NAMESPACE: &str = "nodejs";
/// The runtime's package name in [`NODE_NAMESPACE`].
pub const NODE_PACKAGE: &str = "node";

/// Who scored the CVSS entries of this feed.
const SOURCE: &str = "nodejs-security-wg";

/// `patched_versions` of npm advisories with no fix (`<0.0.0` is npm's
/// convention for it; one advisory writes `<=0.0.0`).
const NO_PATCH: &[&str] = &["<0.0.0", "<=0.0.0"];

#[derive(Clone, Copy)]
enum Folder {
    Npm,
    Core,
    Deps,
}

/// `.../vuln/<folder>/<file>`.
fn folder(path: &str) -> Option<Folder> {
    let mut dirs = directories(path);
    let folder = match dirs.next()? {
        "npm" => Folder::Npm,
        "core" => Folder::Core,
        "deps" => Folder::Deps,
        _ => return None,
    };
    (dirs.next()? == "vuln").then_some(folder)
}

/// Whether `path` is one advisory: `vuln/{npm,core,deps}/<n>.json` holding
/// a JSON object (not the folders' `index.json`).
pub fn recognizes(path: &str, head: &[u8]) -> bool {
    has_extension(path, &["json"])
        && folder(path).is_some()
        && file_number(path).is_some()
        && head.trim_ascii_start().starts_with(b"{")
}

fn file_number(path: &str) -> Option<u64> {
    let stem = file_stem(path);
    if stem.is_empty() || !stem.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    let folder = folder(path).ok_or_else(|| {
        FormatError::invalid(path, "not under vuln/npm/, vuln/core/ or vuln/deps/: cannot tell its kind")
    })?;
    let number = || file_number(path).ok_or_else(|| FormatError::invalid(path, "the file name is not <number>.json"));
    let advisory = match folder {
        Folder::Npm => from_json::<EcosystemAdvisory>(path, bytes)?.into_advisory(),
        Folder::Core => {
            let number = number()?;
            from_json::<CoreAdvisory>(path, bytes)?.into_advisory(number)
        }
        Folder::Deps => {
            let number = number()?;
            from_json::<DependencyAssessment>(path, bytes)?.into_advisory(number)
        }
    };
    Ok(vec![Record::Advisory(Box::new(advisory))])
}

#[derive(Deserialize)]
struct EcosystemAdvisory {
    id: u64,
    title: String,
    overview: Option<String>,
    updated_at: Option<String>,
    publish_date: Option<String>,
    module_name: String,
    cves: Option<Vec<String>>,
    /// An npm range.
    vulnerable_versions: String,
    /// An npm range; null or `<0.0.0` when there is no fix.
    patched_versions: Option<String>,
    references: Option<Vec<String>>,
    cvss_vector: Option<String>,
    /// `-1` where unscored.
    cvss_score: Option<f64>,
}

#[derive(Deserialize)]
struct CoreAdvisory {
    cve: Vec<String>,
    /// npm ranges of node releases: `8.x || 7.x`, `^8.1.4 || ^7.10.1`.
    vulnerable: String,
    patched: Option<String>,
    /// One line.
    description: Option<String>,
    overview: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    /// `low` ... `critical`, or `unknown`.
    severity: Option<String>,
    publish_date: Option<String>,
    /// A CWE with its name: `CWE-400: Uncontrolled Resource Consumption`.
    #[serde(rename = "type")]
    weakness: Option<String>,
    /// A CVSS vector without its `CVSS:` prefix: `3.0/AV:N/...`.
    cvss: Option<String>,
    cvss_score: Option<f64>,
}

#[derive(Deserialize)]
struct DependencyAssessment {
    cve: Vec<String>,
    /// The CVE's description (of the library).
    description: Option<String>,
    /// Why Node.js is not affected.
    overview: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    /// `vulnerable_code_not_present`, `vulnerable_code_not_in_execute_path`.
    reason: String,
}

impl EcosystemAdvisory {
    fn into_advisory(self) -> Advisory {
        let id = format!("NSWG-ECO-{}", self.id);
        let cvss = self.cvss_vector.and_then(|vector| scored_vector(vector, self.cvss_score)).into_iter().collect();
        let package = normalize_package_name(namespace::NPM, &self.module_name);
        Advisory {
            aliases: distinct_ids(&id, self.cves.unwrap_or_default()),
            summary: non_blank(Some(self.title)),
            description: non_blank(self.overview),
            published: self.publish_date,
            modified: self.updated_at,
            cvss,
            references: distinct(self.references.unwrap_or_default()),
            affected: vec![npm_range_affected(
                namespace::NPM,
                package,
                &self.vulnerable_versions,
                self.patched_versions.as_deref(),
            )],
            id,
            ..Advisory::default()
        }
    }
}

impl CoreAdvisory {
    fn into_advisory(self, number: u64) -> Advisory {
        let id = format!("NSWG-COR-{number}");
        let cvss = self
            .cvss
            .map(|vector| if vector.starts_with("CVSS:") { vector } else { format!("CVSS:{vector}") })
            .and_then(|vector| scored_vector(vector, self.cvss_score))
            .into_iter()
            .collect();
        let cwes = self
            .weakness
            .as_deref()
            .and_then(|weakness| weakness.split(':').next())
            .map(str::trim)
            .filter(|cwe| cwe.starts_with("CWE-"))
            .map(str::to_owned)
            .into_iter()
            .collect();
        Advisory {
            aliases: distinct_ids(&id, self.cve),
            summary: non_blank(self.description),
            description: non_blank(self.overview),
            published: self.publish_date,
            severity: self.severity.as_deref().and_then(Severity::from_label),
            cvss,
            cwes,
            references: distinct(self.reference),
            affected: vec![npm_range_affected(
                NODE_NAMESPACE,
                NODE_PACKAGE.to_owned(),
                &self.vulnerable,
                self.patched.as_deref(),
            )],
            id,
            ..Advisory::default()
        }
    }
}

impl DependencyAssessment {
    fn into_advisory(self, number: u64) -> Advisory {
        let id = format!("NSWG-DEP-{number}");
        let affected = Affected {
            namespace: NODE_NAMESPACE.to_owned(),
            package: NODE_PACKAGE.to_owned(),
            scheme: Scheme::Npm,
            ranges: Vec::new(),
            versions: Vec::new(),
            state: FixState::NotAffected,
            fixed: Vec::new(),
            severity: None,
            note: Some(self.reason),
            cpe: None,
        };
        Advisory {
            aliases: distinct_ids(&id, self.cve),
            summary: non_blank(self.description),
            description: non_blank(self.overview),
            references: distinct(self.reference),
            affected: vec![affected],
            id,
            ..Advisory::default()
        }
    }
}

/// A CVSS entry from a vector and the score stated beside it (negative
/// scores mean "unscored").
fn scored_vector(vector: String, score: Option<f64>) -> Option<Cvss> {
    Some(Cvss {
        version: cvss_version(&vector)?,
        vector,
        base_score: score.filter(|score| *score >= 0.0),
        source: Some(SOURCE.to_owned()),
    })
}

/// A package affected within the `vulnerable` npm range except in the
/// `patched` one; the fixes are the lowest version of each `||` alternative
/// of `patched`.
fn npm_range_affected(namespace: &str, package: String, vulnerable: &str, patched: Option<&str>) -> Affected {
    let patched = patched.map(str::trim).filter(|patched| !patched.is_empty() && !NO_PATCH.contains(patched));
    let fixed = patched
        .map(|patched| {
            distinct(patched.split("||").filter_map(|alternative| requirement_floor(Scheme::Npm, alternative)))
        })
        .unwrap_or_default();
    Affected {
        namespace: namespace.to_owned(),
        package,
        scheme: Scheme::Npm,
        ranges: vec![VersionRange::Requirements {
            affected: Some(vulnerable.trim().to_owned()),
            unaffected: patched.map(str::to_owned).into_iter().collect(),
        }],
        versions: Vec::new(),
        state: if patched.is_some() { FixState::Fixed } else { FixState::NotFixed },
        fixed,
        severity: None,
        note: None,
        cpe: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(path: &str, text: &str) -> Advisory {
        crate::formats::single_advisory(parse(path, text.as_bytes()).unwrap())
    }

    #[test]
    fn npm_advisory_without_patch() {
        let text = r#"{"id": 7, "title": "T", "module_name": "left-pad", "cves": [], "vulnerable_versions": "*",
                       "patched_versions": "<0.0.0", "cvss_vector": null, "cvss_score": -1, "extra": 1}"#;
        let advisory = advisory("vuln/npm/7.json", text);
        assert_eq!((advisory.id.as_str(), advisory.cvss.len()), ("NSWG-ECO-7", 0));
        let affected = &advisory.affected[0];
        assert_eq!((affected.state, affected.fixed.len()), (FixState::NotFixed, 0));
        assert_eq!(affected.ranges, [VersionRange::Requirements { affected: Some("*".into()), unaffected: vec![] }]);
    }

    #[test]
    fn core_vector_gets_its_prefix_and_cwe_its_name_dropped() {
        let text = r#"{"cve": ["CVE-1"], "vulnerable": " 6.x", "patched": " ^6.7.0 || >= 7.1.0", "severity": "medium",
                       "type": "CWE-400: Uncontrolled Resource Consumption", "cvss": "3.0/AV:N/AC:H", "cvss_score": 5.9}"#;
        let advisory = advisory("security-wg/vuln/core/18.json", text);
        assert_eq!(advisory.id, "NSWG-COR-18");
        assert_eq!(advisory.cwes, ["CWE-400"]);
        assert_eq!(advisory.severity, Some(Severity::Medium));
        assert_eq!((advisory.cvss[0].vector.as_str(), advisory.cvss[0].base_score), ("CVSS:3.0/AV:N/AC:H", Some(5.9)));
        assert_eq!(advisory.affected[0].fixed, ["6.7.0", "7.1.0"]);
    }

    #[test]
    fn recognizes_advisories_not_indexes() {
        assert!(recognizes("vuln/npm/368.json", b"{\n  \"id\": 368"));
        assert!(recognizes("security-wg-main/vuln/deps/1.json", b"{"));
        assert!(!recognizes("vuln/npm/index.json", b"{\"1\":{"));
        assert!(!recognizes("vuln/README.md", b"# Node.js"));
        assert!(!recognizes("other/npm/1.json", b"{"));
    }

    #[test]
    fn garbled_files_are_errors_naming_the_file() {
        let cases = [
            ("vuln/npm/1.json", r#"{"id": 1, "title": "T", "module_name": "m", "vulnerable_versions": "<1"#),
            ("vuln/npm/2.json", r#"{"id": 2, "title": "T", "vulnerable_versions": "<1"}"#),
            ("vuln/core/x.json", r#"{"cve": [], "vulnerable": "1.x"}"#),
            ("elsewhere/3.json", r#"{}"#),
        ];
        for (path, text) in cases {
            let error = parse(path, text.as_bytes()).unwrap_err();
            assert!(error.to_string().starts_with(path), "{error}");
        }
    }
}
