//! CVE Record Format 5.x (cve.org's cvelistV5, CISA vulnrichment): `cveMetadata` and the
//! CNA and ADP containers.
//!
//! These records supply descriptions, CVSS and CWEs for CVE ids; they carry **no affected
//! entries**. The CNA's `affected[]` names vendors and products in free text
//! (`"Oracle Corporation"`, `"MySQL Server"`, `"5.7.28 and prior"`) with no package
//! namespace or version scheme, too loose to match installed packages against; the
//! ecosystem and distro feeds describe the same CVEs precisely.
//!
//! CVSS sources: the container's `providerMetadata.shortName` (the CNA's, or an ADP's),
//! with CISA's ADP written `cisa-adp`.

use portcullis_vulndb::{Advisory, Cvss, Record};
use serde::Deserialize;

use super::FormatError;
use super::nvd::{LangText, english};

pub fn recognizes(path: &str, head: &[u8]) -> bool {
    let head = String::from_utf8_lossy(head);
    path.ends_with(".json")
        && (head.contains("\"CVE_RECORD\"")
            || head.contains("\"cveMetadata\"")
            || (head.contains("\"containers\"") && head.contains("\"cna\"")))
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    let record: CveRecord =
        serde_json::from_slice(bytes).map_err(|source| FormatError::Json { path: path.to_owned(), source })?;
    let metadata = record.cve_metadata;
    let id = metadata.cve_id.trim().to_owned();
    if id.is_empty() {
        return Err(FormatError::invalid(path, "cveMetadata.cveId is empty"));
    }
    let withdrawn = match metadata.state.as_str() {
        "PUBLISHED" => None,
        "REJECTED" => Some(
            metadata
                .date_rejected
                .clone()
                .or_else(|| metadata.date_updated.clone())
                .unwrap_or_else(|| "REJECTED".to_owned()),
        ),
        other => return Err(FormatError::invalid(path, format!("{id}: unknown cveMetadata.state {other:?}"))),
    };
    let cna = record.containers.cna;
    let mut advisory = Advisory {
        id,
        summary: cna.title.clone().filter(|title| !title.trim().is_empty()),
        description: english(&cna.descriptions),
        published: metadata.date_published,
        modified: metadata.date_updated,
        withdrawn,
        ..Advisory::default()
    };
    for container in std::iter::once(&cna).chain(&record.containers.adp) {
        add_container(&mut advisory, container);
    }
    Ok(vec![Record::Advisory(Box::new(advisory))])
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CveRecord {
    cve_metadata: Metadata,
    containers: Containers,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    cve_id: String,
    state: String,
    #[serde(default)]
    date_published: Option<String>,
    #[serde(default)]
    date_updated: Option<String>,
    #[serde(default)]
    date_rejected: Option<String>,
}

#[derive(Deserialize)]
struct Containers {
    cna: Container,
    #[serde(default)]
    adp: Vec<Container>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    #[serde(default)]
    provider_metadata: ProviderMetadata,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    descriptions: Vec<LangText>,
    #[serde(default)]
    metrics: Vec<Metric>,
    #[serde(default)]
    problem_types: Vec<ProblemType>,
    #[serde(default)]
    references: Vec<Reference>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ProviderMetadata {
    #[serde(default)]
    short_name: Option<String>,
}

#[derive(Deserialize)]
struct Metric {
    #[serde(rename = "cvssV4_0", default)]
    v4_0: Option<CvssScore>,
    #[serde(rename = "cvssV3_1", default)]
    v3_1: Option<CvssScore>,
    #[serde(rename = "cvssV3_0", default)]
    v3_0: Option<CvssScore>,
    #[serde(rename = "cvssV2_0", default)]
    v2_0: Option<CvssScore>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssScore {
    vector_string: String,
    #[serde(default)]
    base_score: Option<f64>,
}

#[derive(Deserialize)]
struct ProblemType {
    #[serde(default)]
    descriptions: Vec<ProblemDescription>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProblemDescription {
    #[serde(default)]
    cwe_id: Option<String>,
}

#[derive(Deserialize)]
struct Reference {
    url: String,
}

fn add_container(advisory: &mut Advisory, container: &Container) {
    let source = container
        .provider_metadata
        .short_name
        .as_deref()
        .map(|name| if name.eq_ignore_ascii_case("CISA-ADP") { "cisa-adp".to_owned() } else { name.to_owned() });
    for metric in &container.metrics {
        let scores = [("4.0", &metric.v4_0), ("3.1", &metric.v3_1), ("3.0", &metric.v3_0), ("2.0", &metric.v2_0)];
        for (version, score) in scores {
            if let Some(score) = score {
                advisory.cvss.push(Cvss {
                    version: version.to_owned(),
                    vector: score.vector_string.clone(),
                    base_score: score.base_score,
                    source: source.clone(),
                });
            }
        }
    }
    let cwes =
        container.problem_types.iter().flat_map(|problem| &problem.descriptions).filter_map(|d| d.cwe_id.as_ref());
    for cwe in cwes {
        if cwe.starts_with("CWE-") && !advisory.cwes.contains(cwe) {
            advisory.cwes.push(cwe.clone());
        }
    }
    for reference in &container.references {
        if !advisory.references.contains(&reference.url) {
            advisory.references.push(reference.url.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_advisory(path: &str, json: &str) -> Advisory {
        match parse(path, json.as_bytes()).unwrap().as_slice() {
            [Record::Advisory(advisory)] => (**advisory).clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cna_and_adp_containers() {
        let json = r#"{"dataType": "CVE_RECORD", "dataVersion": "5.1",
          "cveMetadata": {"cveId": "CVE-2030-1", "state": "PUBLISHED", "datePublished": "2030-01-01T00:00:00.000Z", "dateUpdated": "2030-02-01T00:00:00.000Z"},
          "containers": {
            "cna": {"providerMetadata": {"orgId": "x", "shortName": "atlassian"}, "title": "Broken access",
              "descriptions": [{"lang": "en", "value": "A flaw."}],
              "affected": [{"vendor": "Atlassian", "product": "Confluence", "versions": [{"version": "8.0.0", "status": "affected"}]}],
              "metrics": [{"cvssV3_0": {"version": "3.0", "baseScore": 10, "vectorString": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}}, {"other": {"type": "x"}}],
              "problemTypes": [{"descriptions": [{"lang": "en", "type": "text", "description": "BASM"}]}],
              "references": [{"url": "https://example.org/a"}]},
            "adp": [{"providerMetadata": {"shortName": "CISA-ADP"},
              "metrics": [{"cvssV3_1": {"baseScore": 9.8, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],
              "problemTypes": [{"descriptions": [{"lang": "en", "type": "CWE", "cweId": "CWE-20", "description": "CWE-20 Improper Input Validation"}]}],
              "references": [{"url": "https://example.org/a"}, {"url": "https://example.org/b"}]}]}}"#;
        assert!(recognizes("2030/1xxx/CVE-2030-1.json", json.as_bytes()));
        let advisory = only_advisory("CVE-2030-1.json", json);
        assert_eq!(advisory.summary.as_deref(), Some("Broken access"));
        assert_eq!(advisory.description.as_deref(), Some("A flaw."));
        assert!(advisory.affected.is_empty(), "CNA affected text is not matchable");
        assert_eq!(advisory.cwes, ["CWE-20"]);
        assert_eq!(advisory.references, ["https://example.org/a", "https://example.org/b"]);
        let scores: Vec<(&str, Option<f64>, Option<&str>)> =
            advisory.cvss.iter().map(|cvss| (cvss.version.as_str(), cvss.base_score, cvss.source.as_deref())).collect();
        assert_eq!(scores, [("3.0", Some(10.0), Some("atlassian")), ("3.1", Some(9.8), Some("cisa-adp"))]);
        assert_eq!(advisory.withdrawn, None);
    }

    #[test]
    fn rejected_and_garbled() {
        let rejected = r#"{"cveMetadata": {"cveId": "CVE-2030-2", "state": "REJECTED", "dateRejected": "2030-03-01T00:00:00Z", "dateUpdated": "2030-03-02T00:00:00Z"},
          "containers": {"cna": {"providerMetadata": {"orgId": "x"}, "rejectedReasons": [{"lang": "en", "value": "dup"}]}}}"#;
        let advisory = only_advisory("r.json", rejected);
        assert_eq!(advisory.withdrawn.as_deref(), Some("2030-03-01T00:00:00Z"));
        assert!(matches!(parse("t.json", br#"{"cveMetadata": {"cveId": "CVE-1", "#), Err(FormatError::Json { .. })));
        let odd_state = r#"{"cveMetadata": {"cveId": "CVE-2030-3", "state": "RESERVED"}, "containers": {"cna": {}}}"#;
        let error = parse("o.json", odd_state.as_bytes()).unwrap_err().to_string();
        assert!(error.starts_with("o.json: ") && error.contains("RESERVED"), "{error}");
    }
}
