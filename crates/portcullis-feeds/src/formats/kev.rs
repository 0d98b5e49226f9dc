//! CISA Known Exploited Vulnerabilities catalog, `known_exploited_vulnerabilities.json`
//! (`{catalogVersion, dateReleased, count, vulnerabilities: [{cveID, vendorProject, product,
//! vulnerabilityName, dateAdded, dueDate, knownRansomwareCampaignUse, requiredAction, ...}]}`).
//! The CSV export and the JSON schema published beside it are not read.

use portcullis_vulndb::{KevEntry, Record};
use serde::Deserialize;

use super::FormatError;

pub fn recognizes(path: &str, head: &[u8]) -> bool {
    let head = String::from_utf8_lossy(head);
    // The schema describes the same property names, under `$schema`.
    path.ends_with(".json")
        && head.contains("\"catalogVersion\"")
        && head.contains("\"vulnerabilities\"")
        && !head.contains("\"$schema\"")
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    let catalog: Catalog =
        serde_json::from_slice(bytes).map_err(|source| FormatError::Json { path: path.to_owned(), source })?;
    if let Some(count) = catalog.count.filter(|count| *count != catalog.vulnerabilities.len()) {
        return Err(FormatError::invalid(
            path,
            format!("count says {count} entries, vulnerabilities holds {}", catalog.vulnerabilities.len()),
        ));
    }
    catalog
        .vulnerabilities
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            if !entry.cve_id.starts_with("CVE-") {
                return Err(FormatError::invalid(
                    path,
                    format!("entry {index}: cveID {:?} is not a CVE id", entry.cve_id),
                ));
            }
            Ok(Record::Kev(KevEntry {
                cve: entry.cve_id,
                vendor: entry.vendor_project,
                product: entry.product,
                name: entry.vulnerability_name,
                date_added: entry.date_added,
                due_date: entry.due_date,
                ransomware: entry.known_ransomware_campaign_use,
                required_action: entry.required_action,
            }))
        })
        .collect()
}

#[derive(Deserialize)]
struct Catalog {
    #[serde(default)]
    count: Option<usize>,
    vulnerabilities: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: String,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
    #[serde(default)]
    required_action: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = r#"{"cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2",
        "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability", "dateAdded": "2021-12-10",
        "shortDescription": "...", "requiredAction": "Apply updates.", "dueDate": "2021-12-24",
        "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": ["CWE-20"]}"#;

    #[test]
    fn entries_and_count() {
        let json = format!(
            r#"{{"title": "CISA Catalog", "catalogVersion": "2025.08.25", "count": 1, "vulnerabilities": [{ENTRY}]}}"#
        );
        assert!(recognizes("known_exploited_vulnerabilities.json", json.as_bytes()));
        assert!(!recognizes(
            "known_exploited_vulnerabilities_schema.json",
            br#"{"$schema": "x", "properties": {"catalogVersion": {}, "vulnerabilities": {}}}"#
        ));
        let records = parse("kev.json", json.as_bytes()).unwrap();
        let [Record::Kev(entry)] = records.as_slice() else { panic!("{records:?}") };
        assert_eq!((entry.cve.as_str(), entry.date_added.as_str()), ("CVE-2021-44228", "2021-12-10"));
        assert_eq!((entry.vendor.as_str(), entry.product.as_str()), ("Apache", "Log4j2"));
        assert_eq!((entry.due_date.as_deref(), entry.ransomware.as_deref()), (Some("2021-12-24"), Some("Known")));
    }

    #[test]
    fn short_or_garbled_catalogs_are_errors() {
        let short = format!(r#"{{"catalogVersion": "x", "count": 2, "vulnerabilities": [{ENTRY}]}}"#);
        let error = parse("kev.json", short.as_bytes()).unwrap_err().to_string();
        assert!(error.starts_with("kev.json: ") && error.contains("count says 2"), "{error}");
        let truncated = &ENTRY[..ENTRY.len() / 2];
        let truncated = format!(r#"{{"catalogVersion": "x", "vulnerabilities": [{truncated}"#);
        assert!(matches!(parse("kev.json", truncated.as_bytes()), Err(FormatError::Json { .. })));
    }
}
