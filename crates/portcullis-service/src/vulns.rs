//! Vulnerability reports of analysed images.
//!
//! A report is the matcher's [`ScanResult`] stored in the
//! `vulnerability_scan` bucket, plus one `image_vulns` row per finding (for
//! the `/query` routes) and an `image_reports` row with the *stamp* of the
//! vulnerability data it was computed against: the sources' names and
//! content digests. A report whose stamp differs from the data's current
//! one is recomputed on read and by [`refresh_reports`] after a sync.

use portcullis_api::{CvssData, CvssScores, NONE, Vulnerability, VulnerabilityType};
use portcullis_match::{Finding, ScanResult};
use portcullis_sbom::Sbom;
use portcullis_sql::now_rfc3339;
use portcullis_vulndb::FixState;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use crate::error::ServiceError;
use crate::images::{self, content};
use crate::state::{AppState, bucket};

/// The vulnerability data's identity: equal stamps mean equal data. `None`
/// when no data was synced yet.
pub async fn data_stamp(state: &AppState) -> Result<Option<String>, ServiceError> {
    let sources = state.vulndb.sources().await?;
    if sources.is_empty() {
        return Ok(None);
    }
    Ok(Some(sources.iter().map(|s| format!("{}={}", s.name, s.digest)).collect::<Vec<_>>().join(",")))
}

/// Matches `sbom` against the current data; `None` when no data was synced.
pub async fn compute(state: &AppState, sbom: &Sbom) -> Result<Option<(ScanResult, String)>, ServiceError> {
    let Some(stamp) = data_stamp(state).await? else { return Ok(None) };
    let result = portcullis_match::match_sbom(&state.vulndb, sbom).await.map_err(|error| match error {
        portcullis_match::MatchError::Store(store) => ServiceError::from(store),
        other => ServiceError::Other(other.to_string()),
    })?;
    Ok(Some((result, stamp)))
}

/// Writes the index rows and the stamp of a report inside `tx` (the report
/// document must already be stored).
pub async fn write_index(
    tx: &mut Transaction<'static, Any>,
    account: &str,
    digest: &str,
    result: &ScanResult,
    stamp: &str,
) -> Result<(), ServiceError> {
    for table in ["image_vulns", "image_reports"] {
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE account = $1 AND digest = $2")))
            .bind(account)
            .bind(digest)
            .execute(&mut **tx)
            .await?;
    }
    let rows: Vec<Vec<images::Value>> = result
        .findings
        .iter()
        .map(|finding| {
            vec![
                account.into(),
                digest.into(),
                finding.id.as_str().into(),
                finding.evidence.first().map(|e| e.namespace.as_str()).unwrap_or(NONE).into(),
                severity_label(finding).into(),
                finding.package.name.as_str().into(),
                finding.package.version.as_str().into(),
                content::anchore_type(&finding.package.package_type).into(),
                images::Value::Int(i64::from(finding.state == FixState::WontFix)),
            ]
        })
        .collect();
    images::insert_rows(
        tx,
        "image_vulns",
        &[
            "account",
            "digest",
            "vuln_id",
            "namespace",
            "severity",
            "package_name",
            "package_version",
            "package_type",
            "will_not_fix",
        ],
        rows,
    )
    .await?;
    sqlx::query("INSERT INTO image_reports (account, digest, db_stamp, computed_at) VALUES ($1, $2, $3, $4)")
        .bind(account)
        .bind(digest)
        .bind(stamp)
        .bind(now_rfc3339())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Computes and stores the report of an analysed image; `None` when no
/// vulnerability data was synced yet.
pub async fn recompute(state: &AppState, account: &str, digest: &str) -> Result<Option<ScanResult>, ServiceError> {
    let Some(sbom) = images::load_sbom(state, account, digest).await? else { return Ok(None) };
    let Some((result, stamp)) = compute(state, &sbom).await? else { return Ok(None) };
    state.docs.put_json(account, bucket::VULNERABILITY_SCAN, digest, &result).await?;
    let mut tx = state.db.pool().begin().await?;
    // The image may have been deleted meanwhile: then write nothing.
    let present = sqlx::query("SELECT digest FROM images WHERE account = $1 AND digest = $2")
        .bind(account)
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if present {
        write_index(&mut tx, account, digest, &result, &stamp).await?;
    }
    tx.commit().await?;
    Ok(Some(result))
}

async fn stored_stamp(state: &AppState, account: &str, digest: &str) -> Result<Option<String>, ServiceError> {
    let row = sqlx::query("SELECT db_stamp FROM image_reports WHERE account = $1 AND digest = $2")
        .bind(account)
        .bind(digest)
        .fetch_optional(state.db.pool())
        .await?;
    Ok(row.map(|r| r.try_get("db_stamp")).transpose()?)
}

/// The vulnerability report of an analysed image: the stored one when the
/// data has not changed since, else matched now (and stored). `None` when
/// the image is not analysed (or unknown).
pub async fn scan_result(state: &AppState, account: &str, digest: &str) -> Result<Option<ScanResult>, ServiceError> {
    let Some(row) = images::image_row(state, account, digest).await? else { return Ok(None) };
    if row.analysis_status != portcullis_api::AnalysisStatus::Analyzed {
        return Ok(None);
    }
    let current = data_stamp(state).await?;
    if current.is_some()
        && current == stored_stamp(state, account, digest).await?
        && let Some(result) = state.docs.get_json::<ScanResult>(account, bucket::VULNERABILITY_SCAN, digest).await?
    {
        return Ok(Some(result));
    }
    if current.is_none() {
        return Err(ServiceError::Other(
            "no vulnerability data has been synced yet: sync the feeds (POST /system/feeds?sync=true)".into(),
        ));
    }
    recompute(state, account, digest).await
}

/// Re-matches every analysed image whose report predates the current
/// vulnerability data; returns how many reports changed (different
/// findings). Called after each feed sync.
pub async fn refresh_reports(state: &AppState) -> Result<usize, ServiceError> {
    let Some(stamp) = data_stamp(state).await? else { return Ok(0) };
    let rows = sqlx::query(
        "SELECT i.account, i.digest FROM images i
         LEFT JOIN image_reports r ON r.account = i.account AND r.digest = i.digest
         WHERE i.analysis_status = 'analyzed' AND (r.db_stamp IS NULL OR r.db_stamp <> $1)
         ORDER BY i.account, i.created_seq",
    )
    .bind(&stamp)
    .fetch_all(state.db.pool())
    .await?;
    let mut changed = 0;
    for row in rows {
        let account: String = row.try_get("account")?;
        let digest: String = row.try_get("digest")?;
        let before = state.docs.get_json::<ScanResult>(&account, bucket::VULNERABILITY_SCAN, &digest).await?;
        match recompute(state, &account, &digest).await {
            Ok(Some(after)) => {
                if before.is_none_or(|before| finding_keys(&before) != finding_keys(&after)) {
                    changed += 1;
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, account, digest, "cannot refresh a vulnerability report"),
        }
    }
    tracing::info!(changed, "vulnerability reports refreshed");
    Ok(changed)
}

fn finding_keys(result: &ScanResult) -> Vec<(String, String, String, Vec<String>)> {
    let mut keys: Vec<_> = result
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.package.id.clone(), format!("{:?}", f.severity), f.fixed_in.clone()))
        .collect();
    keys.sort();
    keys
}

/// Anchore's capitalised severity (`High`).
pub fn severity_label(finding: &Finding) -> String {
    let text = finding.severity.as_str();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => "Unknown".to_owned(),
    }
}

fn is_os(package_type: &str) -> bool {
    matches!(package_type, "deb" | "rpm" | "apk")
}

/// The findings of `kind`, as Anchore lists them; `vendor_only` drops the
/// ones the vendor will not fix.
pub fn anchore_listing(result: &ScanResult, kind: VulnerabilityType, vendor_only: bool) -> Vec<Vulnerability> {
    result
        .findings
        .iter()
        .filter(|f| match kind {
            VulnerabilityType::Os => is_os(&f.package.package_type),
            VulnerabilityType::NonOs => !is_os(&f.package.package_type),
            VulnerabilityType::All => true,
        })
        .filter(|f| !(vendor_only && f.state == FixState::WontFix))
        .map(anchore_vulnerability)
        .collect()
}

fn none_if_empty(text: Option<&str>) -> String {
    text.filter(|t| !t.is_empty()).unwrap_or(NONE).to_owned()
}

fn anchore_vulnerability(finding: &Finding) -> Vulnerability {
    let package = &finding.package;
    let url = finding.urls.first().cloned().unwrap_or_else(|| {
        if finding.id.starts_with("CVE-") {
            format!("https://nvd.nist.gov/vuln/detail/{}", finding.id)
        } else {
            NONE.to_owned()
        }
    });
    let (nvd, vendor) = split_by_scorer(&finding.cvss);
    Vulnerability {
        vuln: finding.id.clone(),
        severity: severity_label(finding),
        url,
        fix: if finding.fixed_in.is_empty() { NONE.to_owned() } else { finding.fixed_in.join(",") },
        will_not_fix: finding.state == FixState::WontFix,
        package: format!("{}-{}", package.name, package.version),
        package_name: package.name.clone(),
        package_version: package.version.clone(),
        package_type: content::anchore_type(&package.package_type).to_owned(),
        package_path: none_if_empty(package.locations.first().map(String::as_str)),
        package_cpe: NONE.to_owned(),
        package_cpe23: NONE.to_owned(),
        feed: "vulnerabilities".to_owned(),
        feed_group: none_if_empty(finding.evidence.first().map(|e| e.namespace.as_str())),
        nvd_data: cvss_data(&finding.id, &nvd),
        vendor_data: cvss_data(&finding.id, &vendor),
    }
}

/// NVD's scores, then everyone else's (Anchore's `nvd_data` and `vendor_data`).
pub fn split_by_scorer(
    scores: &[portcullis_vulndb::Cvss],
) -> (Vec<&portcullis_vulndb::Cvss>, Vec<&portcullis_vulndb::Cvss>) {
    scores.iter().partition(|c| c.source.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("nvd")))
}

/// One entry per source with the best v2 and v3 base scores it gives.
pub fn cvss_data(id: &str, scores: &[&portcullis_vulndb::Cvss]) -> Vec<CvssData> {
    let mut by_source: Vec<(String, CvssData)> = Vec::new();
    for score in scores {
        let source = score.source.clone().unwrap_or_default();
        let index = match by_source.iter().position(|(s, _)| *s == source) {
            Some(index) => index,
            None => {
                by_source.push((
                    source,
                    CvssData { id: id.to_owned(), cvss_v2: CvssScores::UNKNOWN, cvss_v3: CvssScores::UNKNOWN },
                ));
                by_source.len() - 1
            }
        };
        let Some(base) = score.base_score else { continue };
        let entry = &mut by_source[index].1;
        // Anchore's shape has no place for CVSS 4 scores.
        let slot = match score.version.chars().next() {
            Some('2') => &mut entry.cvss_v2,
            Some('3') => &mut entry.cvss_v3,
            _ => continue,
        };
        if base > slot.base_score {
            *slot = CvssScores::base(base);
        }
    }
    by_source.into_iter().map(|(_, data)| data).collect()
}
