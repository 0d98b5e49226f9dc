//! NVD CVE API 2.0 records, in the three shapes they come in: one `cve` object per file
//! (fkie-cad/nvd-json-data-feeds' repository layout), an API response page or NVD 2.0 feed
//! (`{"resultsPerPage": .., "vulnerabilities": [{"cve": {..}}]}`) and fkie-cad's yearly
//! release files (`{"cve_items": [{..}]}`).
//!
//! Configurations become `cpe` Affected entries, one per vulnerable `cpeMatch`, package
//! `vendor:product` and the full criteria in [`Affected::cpe`]. Matches with
//! `vulnerable: false` are the platform half of an AND configuration ("running on") and
//! describe nothing installed, so only the vulnerable parts are kept. Versions:
//!
//! * `versionStart*`/`versionEnd*` bounds become [`VersionRange::Events`]: `introduced` the
//!   start (or `0`), then `fixed` for an excluded end or `last_affected` for an included one.
//!   Events cannot start after a version, so an excluded start becomes
//!   [`VersionRange::Requirements`] in the generic operator-list syntax (`> 1.0, <= 2.0`);
//! * otherwise a concrete CPE version field is the one affected version;
//! * `*` (any) or `-` (not applicable) means every version.
//!
//! NVD says which versions are affected, not what fixes them: the state is always
//! [`FixState::Unknown`] and `fixed` stays empty (an excluded end bound is often simply the
//! next release).

use std::collections::HashSet;

use portcullis_vulndb::{
    Advisory, Affected, Cvss, FixState, RangeEvent, Record, Scheme, VersionRange, namespace, normalize_package_name,
};
use serde::Deserialize;

use super::FormatError;

pub fn recognizes(path: &str, head: &[u8]) -> bool {
    let head = String::from_utf8_lossy(head);
    path.ends_with(".json")
        && ["\"sourceIdentifier\"", "\"vulnStatus\"", "\"resultsPerPage\"", "\"cve_items\"", "\"NVD_CVE\""]
            .iter()
            .any(|marker| head.contains(marker))
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    let document: Document =
        serde_json::from_slice(bytes).map_err(|source| FormatError::Json { path: path.to_owned(), source })?;
    let cves: Vec<Cve> = match (document.vulnerabilities, document.cve_items) {
        (Some(page), None) => page.into_iter().map(|item| item.cve).collect(),
        (None, Some(items)) => items,
        (None, None) if !document.single.id.is_empty() => vec![document.single],
        (None, None) => {
            return Err(FormatError::invalid(path, "no `id`, `vulnerabilities` or `cve_items`: not an NVD record"));
        }
        (Some(_), Some(_)) => return Err(FormatError::invalid(path, "both `vulnerabilities` and `cve_items`")),
    };
    cves.into_iter()
        .map(|cve| {
            let id = cve.id.clone();
            advisory(cve).map(|advisory| Record::Advisory(Box::new(advisory))).map_err(|reason| {
                FormatError::invalid(path, if id.is_empty() { reason } else { format!("{id}: {reason}") })
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    vulnerabilities: Option<Vec<PageItem>>,
    #[serde(default)]
    cve_items: Option<Vec<Cve>>,
    /// A file that is one `cve` object.
    #[serde(flatten)]
    single: Cve,
}

#[derive(Deserialize)]
struct PageItem {
    cve: Cve,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Cve {
    #[serde(default)]
    id: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    vuln_status: Option<String>,
    #[serde(default)]
    descriptions: Vec<LangText>,
    #[serde(default)]
    metrics: Metrics,
    #[serde(default)]
    weaknesses: Vec<Weakness>,
    #[serde(default)]
    configurations: Vec<Configuration>,
    #[serde(default)]
    references: Vec<Reference>,
}

/// A text in one language (NVD `descriptions`, CVE 5 `descriptions`).
#[derive(Deserialize)]
pub(super) struct LangText {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    value: String,
}

/// The English text (`en`, `en-US`...), else the first one.
pub(super) fn english(texts: &[LangText]) -> Option<String> {
    let is_english =
        |text: &&LangText| text.lang.split(['-', '_']).next().is_some_and(|lang| lang.eq_ignore_ascii_case("en"));
    texts
        .iter()
        .find(is_english)
        .or_else(|| texts.first())
        .map(|text| text.value.trim().to_owned())
        .filter(|text| !text.is_empty())
}

#[derive(Deserialize, Default)]
struct Metrics {
    #[serde(rename = "cvssMetricV2", default)]
    v2: Vec<Metric>,
    #[serde(rename = "cvssMetricV30", default)]
    v30: Vec<Metric>,
    #[serde(rename = "cvssMetricV31", default)]
    v31: Vec<Metric>,
    #[serde(rename = "cvssMetricV40", default)]
    v40: Vec<Metric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    #[serde(default)]
    source: Option<String>,
    #[serde(rename = "type", default)]
    metric_type: Option<String>,
    cvss_data: CvssData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssData {
    #[serde(default)]
    version: Option<String>,
    vector_string: String,
    #[serde(default)]
    base_score: Option<f64>,
}

#[derive(Deserialize)]
struct Weakness {
    #[serde(default)]
    description: Vec<LangText>,
}

#[derive(Deserialize)]
struct Configuration {
    #[serde(default)]
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    cpe_match: Vec<CpeMatch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CpeMatch {
    vulnerable: bool,
    criteria: String,
    #[serde(default)]
    version_start_including: Option<String>,
    #[serde(default)]
    version_start_excluding: Option<String>,
    #[serde(default)]
    version_end_including: Option<String>,
    #[serde(default)]
    version_end_excluding: Option<String>,
}

#[derive(Deserialize)]
struct Reference {
    url: String,
}

const NVD_SOURCE: &str = "nvd@nist.gov";

fn advisory(cve: Cve) -> Result<Advisory, String> {
    if cve.id.trim().is_empty() {
        return Err("record without an id".to_owned());
    }
    let mut advisory = Advisory {
        id: cve.id.trim().to_owned(),
        description: english(&cve.descriptions),
        withdrawn: cve.vuln_status.as_deref().filter(|status| *status == "Rejected").map(|_| {
            cve.last_modified.clone().or_else(|| cve.published.clone()).unwrap_or_else(|| "Rejected".to_owned())
        }),
        published: cve.published,
        modified: cve.last_modified,
        ..Advisory::default()
    };
    let metrics =
        [("2.0", &cve.metrics.v2), ("3.0", &cve.metrics.v30), ("3.1", &cve.metrics.v31), ("4.0", &cve.metrics.v40)];
    for (version, list) in metrics {
        for metric in list {
            let primary_nvd =
                metric.metric_type.as_deref() == Some("Primary") && metric.source.as_deref() == Some(NVD_SOURCE);
            advisory.cvss.push(Cvss {
                version: metric.cvss_data.version.clone().unwrap_or_else(|| version.to_owned()),
                vector: metric.cvss_data.vector_string.clone(),
                base_score: metric.cvss_data.base_score,
                source: if primary_nvd { Some("nvd".to_owned()) } else { metric.source.clone() },
            });
        }
    }
    for weakness in &cve.weaknesses {
        for text in &weakness.description {
            // `NVD-CWE-noinfo` / `NVD-CWE-Other` say there is no CWE.
            if text.value.starts_with("CWE-") && !advisory.cwes.contains(&text.value) {
                advisory.cwes.push(text.value.clone());
            }
        }
    }
    let mut seen_references = HashSet::new();
    advisory.references = cve
        .references
        .into_iter()
        .map(|reference| reference.url)
        .filter(|url| seen_references.insert(url.clone()))
        .collect();
    for node in cve.configurations.iter().flat_map(|configuration| &configuration.nodes) {
        // A negated node matches everything but its CPEs: no package to name.
        if node.negate {
            continue;
        }
        for cpe_match in node.cpe_match.iter().filter(|cpe_match| cpe_match.vulnerable) {
            let affected = cpe_affected(cpe_match)?;
            if !advisory.affected.contains(&affected) {
                advisory.affected.push(affected);
            }
        }
    }
    Ok(advisory)
}

fn cpe_affected(cpe_match: &CpeMatch) -> Result<Affected, String> {
    let criteria = cpe_match.criteria.trim();
    let fields = cpe_fields(criteria)?;
    let (vendor, product, version) = match fields.as_slice() {
        [_cpe, _spec, _part, vendor, product, version, ..] => (vendor, product, version),
        _ => return Err(format!("CPE {criteria:?} has fewer than 6 fields")),
    };
    let package = normalize_package_name(namespace::CPE, &format!("{vendor}:{product}"));
    let mut ranges = Vec::new();
    let mut versions = Vec::new();
    let non_empty =
        |bound: &Option<String>| bound.as_deref().map(str::trim).filter(|bound| !bound.is_empty()).map(str::to_owned);
    let start_including = non_empty(&cpe_match.version_start_including);
    let start_excluding = non_empty(&cpe_match.version_start_excluding);
    let end_including = non_empty(&cpe_match.version_end_including);
    let end_excluding = non_empty(&cpe_match.version_end_excluding);
    if let Some(start) = start_excluding {
        let mut requirements = vec![format!("> {start}")];
        requirements
            .extend(end_excluding.map(|end| format!("< {end}")).or(end_including.map(|end| format!("<= {end}"))));
        ranges.push(VersionRange::Requirements { affected: Some(requirements.join(", ")), unaffected: Vec::new() });
    } else if start_including.is_some() || end_including.is_some() || end_excluding.is_some() {
        let mut events = vec![RangeEvent::Introduced(start_including.unwrap_or_else(|| "0".to_owned()))];
        events.extend(end_excluding.map(RangeEvent::Fixed).or(end_including.map(RangeEvent::LastAffected)));
        ranges.push(VersionRange::Events { events });
    } else if version != "*" && version != "-" && !version.is_empty() {
        versions.push(version.clone());
    }
    Ok(Affected {
        namespace: namespace::CPE.to_owned(),
        package,
        scheme: Scheme::Generic,
        ranges,
        versions,
        state: FixState::Unknown,
        fixed: Vec::new(),
        severity: None,
        note: None,
        cpe: Some(criteria.to_owned()),
    })
}

/// The fields of a CPE 2.3 formatted string, split at unescaped `:` and unescaped
/// (`\:` -> `:`, `\\` -> `\`, `\.` -> `.`).
fn cpe_fields(criteria: &str) -> Result<Vec<String>, String> {
    if !criteria.starts_with("cpe:2.3:") {
        return Err(format!("{criteria:?} is not a CPE 2.3 formatted string"));
    }
    let mut fields = vec![String::new()];
    let mut chars = criteria.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => fields.last_mut().into_iter().for_each(|field| field.push(escaped)),
                None => return Err(format!("CPE {criteria:?} ends with a lone backslash")),
            },
            ':' => fields.push(String::new()),
            other => fields.last_mut().into_iter().for_each(|field| field.push(other)),
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> Advisory {
        match parse("CVE-x.json", json.as_bytes()).unwrap().as_slice() {
            [Record::Advisory(advisory)] => (**advisory).clone(),
            other => panic!("{other:?}"),
        }
    }

    fn cpe_match(extra: &str) -> String {
        format!(
            r#"{{"id": "CVE-2030-1", "vulnStatus": "Analyzed", "configurations": [{{"operator": "AND", "nodes": [
                {{"operator": "OR", "negate": false, "cpeMatch": [{{"vulnerable": true, "criteria": "cpe:2.3:a:foo\\:bar:baz\\\\qux:*:*:*:*:*:*:*:*"{extra}}}]}},
                {{"operator": "OR", "negate": false, "cpeMatch": [{{"vulnerable": false, "criteria": "cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*"}}]}}
            ]}}]}}"#
        )
    }

    #[test]
    fn cpe_ranges() {
        let cases: [(&str, Vec<VersionRange>); 5] = [
            (
                r#", "versionEndExcluding": "1.2.6""#,
                vec![VersionRange::Events {
                    events: vec![RangeEvent::Introduced("0".into()), RangeEvent::Fixed("1.2.6".into())],
                }],
            ),
            (
                r#", "versionStartIncluding": "1.0", "versionEndIncluding": "1.34""#,
                vec![VersionRange::Events {
                    events: vec![RangeEvent::Introduced("1.0".into()), RangeEvent::LastAffected("1.34".into())],
                }],
            ),
            (
                r#", "versionStartIncluding": "2.0""#,
                vec![VersionRange::Events { events: vec![RangeEvent::Introduced("2.0".into())] }],
            ),
            (
                r#", "versionStartExcluding": "1.0", "versionEndIncluding": "2.0""#,
                vec![VersionRange::Requirements { affected: Some("> 1.0, <= 2.0".into()), unaffected: vec![] }],
            ),
            ("", vec![]),
        ];
        for (extra, ranges) in cases {
            let advisory = one(&cpe_match(extra));
            assert_eq!(advisory.affected.len(), 1, "the non-vulnerable platform is dropped: {extra}");
            let affected = &advisory.affected[0];
            assert_eq!(affected.package, "foo:bar:baz\\qux");
            assert_eq!(
                (affected.namespace.as_str(), affected.scheme, affected.state),
                ("cpe", Scheme::Generic, FixState::Unknown)
            );
            assert_eq!(affected.ranges, ranges, "{extra}");
            assert!(affected.versions.is_empty() && affected.fixed.is_empty());
        }
    }

    #[test]
    fn concrete_cpe_version_and_rejection() {
        let json = r#"{"id": "CVE-2030-2", "vulnStatus": "Rejected", "published": "2030-01-01T00:00:00.000", "lastModified": "2030-02-01T00:00:00.000",
            "configurations": [{"nodes": [{"operator": "OR", "negate": false, "cpeMatch": [
                {"vulnerable": true, "criteria": "cpe:2.3:a:shadow_project:shadow:4.13:*:*:*:*:*:*:*"},
                {"vulnerable": true, "criteria": "cpe:2.3:a:shadow_project:shadow:4.13:*:*:*:*:*:*:*"}]}]}]}"#;
        let advisory = one(json);
        assert_eq!(advisory.withdrawn.as_deref(), Some("2030-02-01T00:00:00.000"));
        assert_eq!(advisory.affected.len(), 1, "duplicates are merged");
        assert_eq!(advisory.affected[0].versions, ["4.13"]);
        assert_eq!(advisory.affected[0].cpe.as_deref(), Some("cpe:2.3:a:shadow_project:shadow:4.13:*:*:*:*:*:*:*"));
    }

    #[test]
    fn pages_and_release_files() {
        let page = r#"{"resultsPerPage": 2, "startIndex": 0, "totalResults": 2, "format": "NVD_CVE", "version": "2.0",
            "vulnerabilities": [{"cve": {"id": "CVE-2030-3", "descriptions": [{"lang": "es", "value": "hola"}, {"lang": "en", "value": "hello"}],
                "metrics": {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8}},
                                              {"source": "security@example.org", "type": "Secondary", "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 8.4}}]},
                "weaknesses": [{"source": "nvd@nist.gov", "type": "Primary", "description": [{"lang": "en", "value": "NVD-CWE-Other"}, {"lang": "en", "value": "CWE-79"}]}]}},
              {"cve": {"id": "CVE-2030-4"}}]}"#;
        assert!(recognizes("page-0.json", page.as_bytes()));
        let records = parse("page-0.json", page.as_bytes()).unwrap();
        assert_eq!(records.len(), 2);
        let Record::Advisory(first) = &records[0] else { panic!() };
        assert_eq!(first.description.as_deref(), Some("hello"));
        assert_eq!(first.cwes, ["CWE-79"]);
        assert_eq!(first.cvss[0].source.as_deref(), Some("nvd"));
        assert_eq!(first.cvss[1].source.as_deref(), Some("security@example.org"));
        assert_eq!(first.cvss[1].base_score, Some(8.4));

        let release = r#"{"timestamp": "2030-01-01T00:00:00", "cve_count": 1, "feed_name": "CVE-2030", "cve_items": [{"id": "CVE-2030-5"}]}"#;
        assert!(recognizes("CVE-2030.json", release.as_bytes()));
        assert_eq!(parse("CVE-2030.json", release.as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn garbled_records_are_errors() {
        assert!(matches!(parse("x.json", br#"{"id": "CVE-2030-1", "descriptions": ["#), Err(FormatError::Json { .. })));
        let bad_cpe = r#"{"id": "CVE-2030-1", "configurations": [{"nodes": [{"cpeMatch": [{"vulnerable": true, "criteria": "cpe:2.3:a:x"}]}]}]}"#;
        let error = parse("x.json", bad_cpe.as_bytes()).unwrap_err().to_string();
        assert!(error.starts_with("x.json: CVE-2030-1: "), "{error}");
        assert!(parse("x.json", b"{}").is_err());
        assert!(parse("x.json", br#"{"vulnerabilities": [{"cve": {}}]}"#).is_err());
    }
}
