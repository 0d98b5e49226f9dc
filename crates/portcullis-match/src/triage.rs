//! Setting findings aside: ignore rules (with a reason and an expiry date)
//! and OpenVEX statements.
//!
//! An ignore file is YAML (or JSON):
//!
//! ```yaml
//! ignore:
//!   - vulnerability: CVE-2023-29383      # an id or any alias
//!     package: login                      # name (binary or source), optional
//!     version: 1:4.13+dfsg1-1             # exact installed version, optional
//!     path: /usr/lib/python3/**           # glob on the package locations, optional
//!     reason: only reachable by local users, accepted by security team
//!     expires: 2027-01-31
//! ```
//!
//! Every rule needs a reason and an expiry date; a rule past its date no
//! longer applies and is reported, so accepted risks are reviewed. A rule must
//! name at least a vulnerability or a package.
//!
//! OpenVEX (v0.2.0, and the v0.0.x string form of `vulnerability`):
//! statements with status `not_affected` or `fixed` set matching findings
//! aside; `affected` and `under_investigation` change nothing. A statement
//! matches a finding when its vulnerability name or aliases meet the
//! finding's ids and one of its products (or their subcomponents) is the
//! package's purl (compared without qualifiers) or the image itself
//! (`pkg:oci/...` or a digest of the image) with no subcomponents listed.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use globset::Glob;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{Finding, IgnoredFinding, ScanResult};

#[derive(Debug, Error)]
pub enum TriageError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: invalid ignore file: {reason}")]
    InvalidIgnore { path: PathBuf, reason: String },
    #[error("{path}: invalid OpenVEX document: {reason}")]
    InvalidVex { path: PathBuf, reason: String },
}

/// One ignore rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`; the rule applies through the end of that day (UTC).
    pub expires: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreDocument {
    ignore: Vec<IgnoreRule>,
}

/// A loaded, validated ignore file.
#[derive(Debug, Clone)]
pub struct IgnoreFile {
    rules: Vec<(IgnoreRule, NaiveDate, Option<globset::GlobMatcher>)>,
}

impl IgnoreFile {
    pub fn load(path: &Path) -> Result<Self, TriageError> {
        let bytes = std::fs::read(path).map_err(|source| TriageError::Read { path: path.to_owned(), source })?;
        Self::parse(path, &bytes)
    }

    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, TriageError> {
        let invalid = |reason: String| TriageError::InvalidIgnore { path: path.to_owned(), reason };
        let document: IgnoreDocument = serde_norway::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        let mut rules = Vec::new();
        for (index, rule) in document.ignore.into_iter().enumerate() {
            let which = format!(
                "rule {} ({})",
                index + 1,
                rule.vulnerability.as_deref().or(rule.package.as_deref()).unwrap_or("?")
            );
            if rule.vulnerability.is_none() && rule.package.is_none() {
                return Err(invalid(format!("{which}: name a vulnerability, a package, or both")));
            }
            if rule.reason.trim().is_empty() {
                return Err(invalid(format!("{which}: `reason` must say why the finding is accepted")));
            }
            let expires = NaiveDate::parse_from_str(rule.expires.trim(), "%Y-%m-%d")
                .map_err(|e| invalid(format!("{which}: `expires` must be a date YYYY-MM-DD ({e})")))?;
            let glob = match &rule.path {
                Some(pattern) => Some(
                    Glob::new(pattern)
                        .map_err(|e| invalid(format!("{which}: invalid path glob {pattern:?}: {e}")))?
                        .compile_matcher(),
                ),
                None => None,
            };
            rules.push((rule, expires, glob));
        }
        Ok(Self { rules })
    }

    /// Sets aside the findings the live rules match; records expired rules.
    pub fn apply(&self, result: &mut ScanResult, today: NaiveDate) {
        let (live, expired): (Vec<_>, Vec<_>) = self.rules.iter().partition(|(_, expires, _)| today <= *expires);
        result.expired_rules.extend(expired.into_iter().map(|(rule, _, _)| rule.clone()));
        let findings = std::mem::take(&mut result.findings);
        for finding in findings {
            match live.iter().find(|(rule, _, glob)| rule_matches(rule, glob.as_ref(), &finding)) {
                Some((rule, _, _)) => result.ignored.push(IgnoredFinding {
                    finding,
                    by: "ignore-rule".to_owned(),
                    reason: format!("{} (until {})", rule.reason, rule.expires),
                }),
                None => result.findings.push(finding),
            }
        }
        result.refresh_summary();
    }
}

fn rule_matches(rule: &IgnoreRule, glob: Option<&globset::GlobMatcher>, finding: &Finding) -> bool {
    if let Some(id) = &rule.vulnerability
        && !finding_has_id(finding, id)
    {
        return false;
    }
    if let Some(name) = &rule.package
        && *name != finding.package.name
        && !finding.evidence.iter().any(|e| e.package == *name)
    {
        return false;
    }
    if let Some(version) = &rule.version
        && *version != finding.package.version
    {
        return false;
    }
    if let Some(glob) = glob
        && !finding.package.locations.iter().any(|location| glob.is_match(location))
    {
        return false;
    }
    true
}

fn finding_has_id(finding: &Finding, id: &str) -> bool {
    finding.id.eq_ignore_ascii_case(id) || finding.aliases.iter().any(|alias| alias.eq_ignore_ascii_case(id))
}

/// A loaded OpenVEX document.
#[derive(Debug, Clone)]
pub struct VexDocument {
    source: String,
    statements: Vec<VexStatement>,
}

#[derive(Debug, Clone)]
struct VexStatement {
    ids: Vec<String>,
    products: Vec<String>,
    /// Product ids that name the whole image (no subcomponents given).
    images: Vec<String>,
    status: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct RawVex {
    #[serde(rename = "@context")]
    context: String,
    statements: Vec<RawStatement>,
}

#[derive(Debug, Deserialize)]
struct RawStatement {
    vulnerability: RawVulnerability,
    #[serde(default)]
    products: Vec<RawProduct>,
    status: String,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    status_notes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawVulnerability {
    Name(String),
    Object {
        #[serde(default)]
        name: Option<String>,
        #[serde(default, rename = "@id")]
        id: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawProduct {
    Id(String),
    Object {
        #[serde(rename = "@id")]
        id: String,
        #[serde(default)]
        subcomponents: Vec<RawSubcomponent>,
    },
}

#[derive(Debug, Deserialize)]
struct RawSubcomponent {
    #[serde(rename = "@id")]
    id: String,
}

const VEX_STATUSES: [&str; 4] = ["not_affected", "affected", "fixed", "under_investigation"];

impl VexDocument {
    pub fn load(path: &Path) -> Result<Self, TriageError> {
        let bytes = std::fs::read(path).map_err(|source| TriageError::Read { path: path.to_owned(), source })?;
        Self::parse(path, &bytes)
    }

    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, TriageError> {
        let invalid = |reason: String| TriageError::InvalidVex { path: path.to_owned(), reason };
        let raw: RawVex = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if !raw.context.starts_with("https://openvex.dev/ns") {
            return Err(invalid(format!("@context {:?} is not an OpenVEX context", raw.context)));
        }
        let mut statements = Vec::new();
        for (index, statement) in raw.statements.into_iter().enumerate() {
            if !VEX_STATUSES.contains(&statement.status.as_str()) {
                return Err(invalid(format!(
                    "statement {}: unknown status {:?} (expected one of {})",
                    index + 1,
                    statement.status,
                    VEX_STATUSES.join(", ")
                )));
            }
            let ids: Vec<String> = match statement.vulnerability {
                RawVulnerability::Name(name) => vec![name],
                RawVulnerability::Object { name, id, aliases } => name.into_iter().chain(id).chain(aliases).collect(),
            };
            if ids.is_empty() {
                return Err(invalid(format!("statement {}: the vulnerability has no name", index + 1)));
            }
            let mut products = Vec::new();
            let mut images = Vec::new();
            for product in statement.products {
                match product {
                    RawProduct::Id(id) => images.push(id),
                    RawProduct::Object { id, subcomponents } if subcomponents.is_empty() => images.push(id),
                    RawProduct::Object { subcomponents, .. } => {
                        products.extend(subcomponents.into_iter().map(|s| s.id));
                    }
                }
            }
            let reason = [statement.justification, statement.impact_statement, statement.status_notes]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            statements.push(VexStatement { ids, products, images, status: statement.status, reason });
        }
        Ok(Self { source: path.display().to_string(), statements })
    }

    /// Sets aside findings a `not_affected` or `fixed` statement covers.
    /// `image_ids` are the names the scanned image goes by (references and digests).
    pub fn apply(&self, result: &mut ScanResult, image_ids: &[String]) {
        let findings = std::mem::take(&mut result.findings);
        for finding in findings {
            let statement = self.statements.iter().find(|s| {
                matches!(s.status.as_str(), "not_affected" | "fixed")
                    && s.ids.iter().any(|id| finding_has_id(&finding, id))
                    && (s.products.iter().chain(&s.images).any(|p| same_purl(p, &finding.package.purl))
                        || s.images.iter().any(|p| names_image(p, image_ids)))
            });
            match statement {
                Some(statement) => {
                    let detail =
                        if statement.reason.is_empty() { String::new() } else { format!(" ({})", statement.reason) };
                    result.ignored.push(IgnoredFinding {
                        finding,
                        by: "vex".to_owned(),
                        reason: format!("{}: {}{detail}", self.source, statement.status),
                    });
                }
                None => result.findings.push(finding),
            }
        }
        result.refresh_summary();
    }
}

/// Purls equal without qualifiers and subpath.
fn same_purl(a: &str, b: &str) -> bool {
    let strip = |p: &str| p.split(['?', '#']).next().unwrap_or(p).to_owned();
    a.starts_with("pkg:") && strip(a) == strip(b)
}

/// A product id names the image: an exact reference or digest, or a
/// `pkg:oci/...` purl whose digest is the image's.
fn names_image(product: &str, image_ids: &[String]) -> bool {
    image_ids.iter().any(|id| {
        !id.is_empty()
            && (product == id
                || product.contains(&format!("@{id}"))
                || product.contains(&format!("@{}", id.replace(':', "%3A"))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DatabaseStatus, FindingPackage, Summary};
    use portcullis_vulndb::{FixState, Severity};

    fn finding(id: &str, aliases: &[&str], name: &str, version: &str, purl: &str, location: &str) -> Finding {
        Finding {
            id: id.to_owned(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            package: FindingPackage {
                id: format!("x/{name}@{version}"),
                name: name.to_owned(),
                version: version.to_owned(),
                package_type: "python".to_owned(),
                purl: purl.to_owned(),
                locations: vec![location.to_owned()],
                layer_index: None,
            },
            origin: None,
            state: FixState::Fixed,
            fixed_in: vec![],
            severity: Severity::High,
            severity_source: "none".to_owned(),
            cvss: vec![],
            kev: None,
            epss: None,
            risk: 1.0,
            summary: None,
            description: None,
            published: None,
            urls: vec![],
            cwes: vec![],
            evidence: vec![],
        }
    }

    fn result() -> ScanResult {
        let mut r = ScanResult {
            findings: vec![
                finding(
                    "CVE-2018-18074",
                    &["PYSEC-2018-28", "GHSA-x84v-xcm2-53pg"],
                    "requests",
                    "2.19.1",
                    "pkg:pypi/requests@2.19.1",
                    "/usr/lib/python3/dist-packages/requests-2.19.1.dist-info/METADATA",
                ),
                finding(
                    "CVE-2019-11324",
                    &["PYSEC-2019-133"],
                    "urllib3",
                    "1.24.1",
                    "pkg:pypi/urllib3@1.24.1",
                    "/app/venv/urllib3-1.24.1.dist-info/METADATA",
                ),
            ],
            ignored: vec![],
            expired_rules: vec![],
            base_image: None,
            summary: Summary::default(),
            database: DatabaseStatus::default(),
        };
        r.refresh_summary();
        r
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn rules_match_by_alias_package_version_and_path_until_they_expire() {
        let yaml = b"ignore:\n  - vulnerability: GHSA-x84v-xcm2-53pg\n    reason: not reachable\n    expires: 2027-01-31\n  - package: urllib3\n    path: /app/**\n    version: 1.24.1\n    reason: vendored, patched\n    expires: 2026-01-01\n";
        let file = IgnoreFile::parse(Path::new("ignore.yaml"), yaml).unwrap();
        let mut r = result();
        file.apply(&mut r, day("2026-11-26"));
        assert_eq!(r.findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), vec!["CVE-2019-11324"]);
        assert_eq!(r.ignored[0].reason, "not reachable (until 2027-01-31)");
        assert_eq!(r.expired_rules.len(), 1, "the urllib3 rule expired on 2026-01-01");
        assert_eq!(r.summary.ignored, 1);
        let mut r = result();
        file.apply(&mut r, day("2025-12-31"));
        assert!(r.findings.is_empty());
        let mut r = result();
        file.apply(&mut r, day("2027-02-01"));
        assert_eq!(r.findings.len(), 2);
    }

    #[test]
    fn rules_without_reason_expiry_or_target_are_rejected() {
        for (yaml, needle) in [
            (&b"ignore:\n  - vulnerability: CVE-1\n    expires: 2027-01-01\n"[..], "reason"),
            (b"ignore:\n  - vulnerability: CVE-1\n    reason: x\n", "expires"),
            (b"ignore:\n  - vulnerability: CVE-1\n    reason: x\n    expires: next year\n", "YYYY-MM-DD"),
            (b"ignore:\n  - reason: x\n    expires: 2027-01-01\n", "name a vulnerability"),
            (
                b"ignore:\n  - vulnerability: CVE-1\n    reason: x\n    expires: 2027-01-01\n    packge: typo\n",
                "packge",
            ),
            (b"ignore:\n  - vulnerability: CVE-1\n    reason: x\n    expires: 2027-01-01\n    path: '[oops'\n", "glob"),
        ] {
            let err = IgnoreFile::parse(Path::new("i.yaml"), yaml).unwrap_err().to_string();
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }

    #[test]
    fn vex_not_affected_sets_findings_aside_by_purl_or_image() {
        let vex = br#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"me","timestamp":"2026-01-01T00:00:00Z","version":1,
            "statements":[
              {"vulnerability":{"name":"CVE-2018-18074"},"products":[{"@id":"pkg:oci/app@sha256%3Aabc","subcomponents":[{"@id":"pkg:pypi/requests@2.19.1"}]}],
               "status":"not_affected","justification":"vulnerable_code_not_in_execute_path"},
              {"vulnerability":{"name":"PYSEC-2019-133"},"products":[{"@id":"pkg:oci/app@sha256%3Aabc"}],"status":"under_investigation"}
            ]}"#;
        let doc = VexDocument::parse(Path::new("app.vex.json"), vex).unwrap();
        let mut r = result();
        doc.apply(&mut r, &["sha256:abc".to_owned()]);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.ignored[0].finding.id, "CVE-2018-18074");
        assert!(r.ignored[0].reason.contains("not_affected (vulnerable_code_not_in_execute_path)"));

        let whole_image = br#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
              {"vulnerability":"CVE-2019-11324","products":["pkg:oci/app@sha256%3Aabc"],"status":"fixed"}]}"#;
        let doc = VexDocument::parse(Path::new("v.json"), whole_image).unwrap();
        let mut r = result();
        doc.apply(&mut r, &["sha256:abc".to_owned()]);
        assert_eq!(r.ignored.len(), 1);
        let mut r = result();
        doc.apply(&mut r, &["sha256:other".to_owned()]);
        assert!(r.ignored.is_empty(), "another image's VEX does not apply");
    }

    #[test]
    fn invalid_vex_documents_are_rejected() {
        for (json, needle) in [
            (&br#"{"@context":"https://example.com","statements":[]}"#[..], "not an OpenVEX"),
            (br#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"maybe"}]}"#, "unknown status"),
            (br#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{},"status":"fixed"}]}"#, "no name"),
            (br#"{"@context":"https://openvex.dev/ns/v0.2.0","statem"#, "EOF"),
        ] {
            let err = VexDocument::parse(Path::new("v.json"), json).unwrap_err().to_string();
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }
}
