//! Human output, laid out as `anchore-cli` prints it: `Key: value` blocks and
//! plain column tables.

use comfy_table::{Table, presets::NOTHING};
use portcullis_api::*;
use serde_json::Value;

/// A plain table (no borders), like `anchore-cli`'s PLAIN_COLUMNS.
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_style(NOTHING);
    table.set_header(header.iter().copied());
    for row in rows {
        table.add_row(row);
    }
    let mut text = table.to_string().lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    text.push('\n');
    text
}

/// `Key: value` lines followed by a blank line.
pub fn block(pairs: &[(&str, String)]) -> String {
    let mut text = String::new();
    for (key, value) in pairs {
        text.push_str(&format!("{key}: {value}\n"));
    }
    text.push('\n');
    text
}

/// Python's `str()` of an optional value: `None` when absent.
pub fn or_none<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "None".to_owned(), |value| value.to_string())
}

pub fn images_detail(images: &[AnchoreImage]) -> String {
    let mut text = String::new();
    for image in images {
        let mut pairs = vec![("Image Digest", image.image_digest.clone())];
        if let Some(parent) = image.parent_digest.as_ref().filter(|parent| !parent.is_empty()) {
            pairs.push(("Parent Digest", parent.clone()));
        }
        pairs.push(("Analysis Status", image.analysis_status.to_string()));
        pairs.push(("Image Type", image.image_type.clone()));
        pairs.push(("Analyzed At", or_none(image.analyzed_at.map(|at| at.to_rfc3339()))));
        pairs.push(("Image ID", or_none(image.image_detail.first().and_then(|detail| detail.image_id.clone()))));
        if let Some(metadata) = &image.image_content.metadata {
            pairs.push(("Dockerfile Mode", metadata.dockerfile_mode.clone()));
            pairs.push(("Distro", metadata.distro.clone()));
            pairs.push(("Distro Version", metadata.distro_version.clone()));
            pairs.push(("Size", metadata.image_size.to_string()));
            pairs.push(("Architecture", metadata.arch.clone()));
            pairs.push(("Layer Count", metadata.layer_count.to_string()));
        }
        if !image.annotations.is_empty() {
            let annotations: Vec<String> = image.annotations.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.push(("Annotations", annotations.join(", ")));
        }
        text.push_str(&block(&pairs));
        for detail in &image.image_detail {
            text.push_str(&block(&[
                ("Full Tag", detail.fulltag.clone()),
                ("Tag Detected At", detail.tag_detected_at.to_rfc3339()),
            ]));
        }
    }
    text
}

/// `image list`: one row per (tag, digest), only each tag's newest digest
/// unless `show_all`.
pub fn images_list(images: &[AnchoreImage], full: bool, show_all: bool) -> String {
    let mut rows: Vec<(String, &AnchoreImage, &ImageDetail)> = Vec::new();
    for image in images {
        for detail in &image.image_detail {
            rows.push((format!("{}/{}:{}", detail.registry, detail.repo, detail.tag), image, detail));
        }
    }
    if !show_all {
        let mut newest: std::collections::BTreeMap<&str, &ImageDetail> = Default::default();
        for (_, _, detail) in &rows {
            let slot = newest.entry(detail.fulltag.as_str()).or_insert(detail);
            if detail.created_at >= slot.created_at {
                *slot = detail;
            }
        }
        rows.retain(|(_, _, detail)| newest.get(detail.fulltag.as_str()).is_some_and(|n| std::ptr::eq(*n, *detail)));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut header = vec!["Full Tag", "Image Digest", "Analysis Status"];
    if full {
        header.push("Image ID");
    }
    let mut seen = std::collections::BTreeSet::new();
    let body = rows.into_iter().filter_map(|(tag, image, detail)| {
        let mut row = vec![tag, image.image_digest.clone(), image.analysis_status.to_string()];
        if full {
            row.push(or_none(detail.image_id.clone()));
        }
        seen.insert(row.clone()).then_some(row)
    });
    table(&header, body.collect::<Vec<_>>())
}

/// Severity order for sorting, most severe first.
fn severity_rank(severity: &str) -> u8 {
    match severity.to_ascii_lowercase().as_str() {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        "negligible" => 4,
        _ => 5,
    }
}

pub fn vulnerabilities(report: &VulnerabilityResponse) -> String {
    let mut items: Vec<&Vulnerability> = report.vulnerabilities.iter().collect();
    items.sort_by(|a, b| {
        (severity_rank(&a.severity), &a.vuln, &a.package).cmp(&(severity_rank(&b.severity), &b.vuln, &b.package))
    });
    let rows = items.into_iter().map(|item| {
        let cves: Vec<&str> = item.nvd_data.iter().map(|data| data.id.as_str()).filter(|id| !id.is_empty()).collect();
        vec![
            item.vuln.clone(),
            item.package.clone(),
            item.severity.clone(),
            item.fix.clone(),
            cves.join(","),
            item.url.clone(),
            item.package_type.clone(),
            item.feed_group.clone(),
            item.package_path.clone(),
        ]
    });
    table(
        &[
            "Vulnerability ID",
            "Package",
            "Severity",
            "Fix",
            "CVE Refs",
            "Vulnerability URL",
            "Type",
            "Feed Group",
            "Package Path",
        ],
        rows.collect::<Vec<_>>(),
    )
}

/// The list of available types (`image vuln|content|metadata IMAGE`).
pub fn available(types: &[String]) -> String {
    types.iter().map(|kind| format!("{kind}: available\n")).collect()
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "None".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items.iter().map(|item| cell(Some(item))).collect::<Vec<_>>().join(" "),
        Some(other) => other.to_string(),
    }
}

/// `image content IMAGE TYPE`, decoded generically so every type prints.
pub fn content(kind: &str, content: &Value) -> String {
    use base64::Engine;
    if let Value::String(encoded) = content {
        return base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default();
    }
    let items = content.as_array().map(Vec::as_slice).unwrap_or_default();
    let pick = |item: &Value, keys: &[&str]| keys.iter().map(|key| cell(item.get(key))).collect::<Vec<_>>();
    let (header, keys): (Vec<&str>, Vec<&str>) = match kind {
        "os" => (vec!["Package", "Version", "Licenses"], vec!["package", "version", "licenses"]),
        "files" => (vec!["Filename", "Size"], vec!["filename", "size"]),
        "java" => (
            vec!["Package", "Specification-Version", "Implementation-Version", "Location"],
            vec!["package", "specification-version", "implementation-version", "location"],
        ),
        "malware" => {
            let rows = items.iter().flat_map(|scan| {
                let scanner = cell(scan.get("scanner"));
                let findings = scan.get("findings").and_then(Value::as_array).cloned().unwrap_or_default();
                findings.into_iter().map(move |finding| {
                    vec![scanner.clone(), cell(finding.get("signature")), cell(finding.get("path"))]
                })
            });
            return table(&["Scanner", "Matched Signature", "Path"], rows.collect::<Vec<_>>());
        }
        _ => match items.first().and_then(Value::as_object) {
            Some(first) if !(first.contains_key("package") && first.contains_key("location")) => {
                let keys: Vec<&str> = first.keys().map(String::as_str).collect();
                let rows = items.iter().map(|item| pick(item, &keys));
                return table(&keys, rows.collect::<Vec<_>>());
            }
            _ => (vec!["Package", "Version", "Location"], vec!["package", "version", "location"]),
        },
    };
    let mut rows: Vec<Vec<String>> = items.iter().map(|item| pick(item, &keys)).collect();
    if kind == "files" {
        rows.sort_by_key(|row| std::cmp::Reverse(row[1].parse::<u64>().unwrap_or(0)));
    } else {
        rows.sort();
    }
    table(&header, rows)
}

pub fn metadata(response: &MetadataResponse) -> String {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&response.metadata)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| response.metadata.clone());
    format!("Image Digest: {}\nMetadata: {decoded}\nMetadata Type: {}\n", response.image_digest, response.metadata_type)
}

/// `evaluate check`: one block per (digest, tag) and, with `detail`, the gate table.
pub fn check(results: &[PolicyCheckResult], detail: bool) -> String {
    let mut text = String::new();
    for result in results {
        for (digest, tags) in &result.0 {
            for (tag, evaluations) in tags {
                let Some(evaluation) = evaluations.first() else {
                    text.push_str(&block(&[
                        ("Image Digest", digest.clone()),
                        ("Full Tag", tag.clone()),
                        ("Status", "no_eval_available".to_owned()),
                    ]));
                    continue;
                };
                let document = evaluation.detail.as_ref().filter(|_| detail).map(|detail| &detail.result);
                let mut pairs = vec![("Image Digest", digest.clone()), ("Full Tag", tag.clone())];
                if let Some(document) = document {
                    pairs.push(("Image ID", document.image_id.clone()));
                }
                pairs.push(("Status", evaluation.status.clone()));
                pairs.push(("Last Eval", evaluation.last_evaluation.to_rfc3339()));
                pairs.push(("Policy ID", evaluation.policy_id.clone()));
                if let Some(document) = document {
                    pairs.push(("Final Action", document.final_action.clone()));
                    pairs.push(("Final Action Reason", document.final_action_reason.clone()));
                }
                let mut section = block(&pairs);
                if let Some(gates) = document.and_then(|document| document.result.images.get(&document.image_id)) {
                    let rows = gates.result.rows.iter().map(|row| {
                        let status = match row.get(7) {
                            Some(Value::Object(item)) => format!("whitelisted({})", cell(item.get("whitelist_name"))),
                            _ => cell(row.get(6)),
                        };
                        vec![cell(row.get(3)), cell(row.get(4)), cell(row.get(5)), status]
                    });
                    section.push_str(&table(&["Gate", "Trigger", "Detail", "Status"], rows.collect::<Vec<_>>()));
                    section.push('\n');
                }
                text.push_str(&section);
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image() -> AnchoreImage {
        serde_json::from_value(json!({
            "imageDigest": "sha256:ab", "parentDigest": null, "userId": "admin", "analysis_status": "analyzed",
            "image_status": "active", "image_type": "docker", "created_at": "2024-01-02T03:04:05Z",
            "last_updated": "2024-01-02T03:04:05Z", "analyzed_at": "2024-01-02T03:05:00Z",
            "annotations": {"team": "web"},
            "image_content": {"metadata": {"arch": "amd64", "distro": "debian", "distro_version": "12",
                "dockerfile_mode": "Guessed", "image_size": 123, "layer_count": 3}},
            "image_detail": [{"registry": "docker.io", "repo": "library/nginx", "tag": "1.25",
                "fulltag": "docker.io/library/nginx:1.25", "fulldigest": "docker.io/library/nginx@sha256:ab",
                "digest": "sha256:ab", "imageDigest": "sha256:ab", "imageId": "c0ffee", "userId": "admin",
                "dockerfile": null, "tag_detected_at": "2024-01-02T03:04:05Z",
                "created_at": "2024-01-02T03:04:05Z", "last_updated": "2024-01-02T03:04:05Z"}]}))
        .unwrap()
    }

    #[test]
    fn image_get_block() {
        let text = images_detail(&[image()]);
        assert!(text.starts_with("Image Digest: sha256:ab\nAnalysis Status: analyzed\nImage Type: docker\n"), "{text}");
        for line in ["Image ID: c0ffee", "Distro Version: 12", "Layer Count: 3", "Annotations: team=web"] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(text.contains("Full Tag: docker.io/library/nginx:1.25\nTag Detected At: 2024-01-02T03:04:05+00:00\n"));
    }

    #[test]
    fn image_list_rows() {
        let text = images_list(&[image()], true, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("Full Tag") && lines[0].contains("Image ID"), "{text}");
        assert!(
            lines.iter().any(|line| line.contains("docker.io/library/nginx:1.25")
                && line.contains("sha256:ab")
                && line.contains("analyzed")
                && line.contains("c0ffee")),
            "{text}"
        );
    }

    #[test]
    fn vulnerability_table_most_severe_first() {
        let item = |id: &str, severity: &str| {
            json!({"vuln": id, "severity": severity, "url": "u", "fix": "None", "package": "p-1",
                "package_name": "p", "package_version": "1", "package_type": "dpkg", "package_path": "/var/lib/dpkg/status",
                "package_cpe": "None", "package_cpe23": "None", "feed": "vulnerabilities", "feed_group": "debian:12",
                "nvd_data": [{"id": id, "cvss_v2": {"base_score": -1.0, "exploitability_score": -1.0, "impact_score": -1.0},
                    "cvss_v3": {"base_score": 9.8, "exploitability_score": -1.0, "impact_score": -1.0}}],
                "vendor_data": []})
        };
        let report: VulnerabilityResponse = serde_json::from_value(json!({"imageDigest": "sha256:ab",
            "vulnerability_type": "all", "vulnerabilities": [item("CVE-2", "Low"), item("CVE-1", "Critical")]}))
        .unwrap();
        let text = vulnerabilities(&report);
        let critical = text.find("CVE-1").unwrap();
        let low = text.find("CVE-2").unwrap();
        assert!(critical < low, "{text}");
        assert!(text.lines().next().unwrap().contains("CVE Refs"), "{text}");
    }

    #[test]
    fn content_tables_and_base64_documents() {
        let os = json!([{"package": "zlib", "version": "1.2", "licenses": ["Zlib"], "location": "/x"},
            {"package": "bash", "version": "5.2", "licenses": ["GPL-3.0", "BSD"], "location": "/y"}]);
        let text = content("os", &os);
        assert!(text.find("bash").unwrap() < text.find("zlib").unwrap(), "sorted by package: {text}");
        assert!(text.contains("GPL-3.0 BSD"), "{text}");
        assert_eq!(content("dockerfile", &json!("RlJPTSBzY3JhdGNoCg==")), "FROM scratch\n");
        let other = content("binary", &json!([{"name": "x", "kind": "y"}]));
        assert!(other.lines().next().unwrap().contains("name"), "generic columns: {other}");
    }

    #[test]
    fn check_detail_table_marks_allowlisted_rows() {
        let row = json!(["c0ffee", "docker.io/a:1", "CVE-1+zlib", "vulnerabilities", "package", "HIGH found", "stop",
            {"whitelist_name": "ok-list", "whitelist_id": "w", "matched_rule_id": "r"}, "p1"]);
        let gates = json!({"c0ffee": {"result": {"header": GateTable::HEADER, "row_count": 1, "final_action": "go",
            "rows": [row]}}});
        let document = json!({
            "user_id": "admin", "image_id": "c0ffee", "image_digest": "sha256:ab", "tag": "docker.io/a:1",
            "bundle": {}, "matched_mapping_rule": false, "matched_whitelisted_images_rule": false,
            "matched_blacklisted_images_rule": false, "final_action": "go",
            "final_action_reason": "policy_evaluation", "status": "pass", "created_at": 1, "last_modified": 1,
            "result": gates});
        let record = json!({"status": "pass", "policyId": "p1", "last_evaluation": "2024-01-02T03:04:05Z",
            "detail": {"policy": {}, "result": document}});
        let results: Vec<PolicyCheckResult> =
            serde_json::from_value(json!([{"sha256:ab": {"docker.io/a:1": [record]}}])).unwrap();
        let text = check(&results, true);
        for line in ["Image ID: c0ffee", "Status: pass", "Final Action: go", "whitelisted(ok-list)"] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        let brief = check(&results, false);
        assert!(!brief.contains("Gate") && brief.contains("Policy ID: p1"), "{brief}");
    }
}
