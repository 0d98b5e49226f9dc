//! The analysis archive (Anchore's `/archives`): an analysed image packed
//! into one tar.gz in the `analysis_archive` bucket (`<digest>.tar.gz`), so
//! its working copy can be deleted and restored later exactly as it was.
//!
//! The tarball holds `manifest.json` (format version, the image row, its
//! tags, the policy evaluation rows, the vulnerability data stamp of its
//! report, and the sha256 of every other entry), `documents/<bucket>` for
//! each stored document of the image (SBOM, manifest, content listing,
//! vulnerability report) and `evaluations/<evalId>.json` for each stored
//! policy evaluation. A row of `archived_images` (with the tags in
//! `archived_image_tags`) goes `archiving` → `archived`; a failed archive
//! leaves neither row nor object behind.
//!
//! The `archive_tasks` watcher applies the archive rules ([`rules`]) to
//! every enabled account.

pub mod rules;

use std::collections::BTreeMap;
use std::io::Read as _;

use chrono::Utc;
use portcullis_api::{
    AccountState, AnalysisArchiveRulesSummary, AnalysisArchiveSummary, AnalysisArchiveTransitionRule as Rule,
    AnalysisStatus, AnchoreImage, ArchiveStatus, ArchiveStatusSummary, ArchiveSummary, ArchiveTransition,
    ArchivedAnalysis, TagEntry,
};
use portcullis_match::ScanResult;
use portcullis_sbom::Sbom;
use portcullis_sql::now_rfc3339;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{ApiError, ServiceError};
use crate::events::{self, NewEvent};
use crate::images::{self, ImageRow, TagRow};
use crate::scheduler::{Watcher, WatcherFuture};
use crate::schema::{stored_json, stored_time};
use crate::state::{AppState, bucket};
use rules::TaggedImage;

/// The watcher applying the archive rules (and its cycle timer key).
pub const ARCHIVE_TASKS: &str = "archive_tasks";

/// Version of the tarball layout, checked on restore.
const FORMAT_VERSION: u32 = 1;

const MANIFEST_ENTRY: &str = "manifest.json";

/// Most bytes a tarball may unpack to: a damaged object must not exhaust memory.
const MAX_UNPACKED_BYTES: u64 = 4 << 30;

/// Why an archive operation on one image failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("image {0} not found")]
    ImageNotFound(String),
    #[error("image {digest} is {status}: only analyzed images can be archived")]
    NotAnalyzed { digest: String, status: &'static str },
    #[error("image {0} is not in the analysis archive")]
    NotArchived(String),
    #[error("image {0} exists; only a deleted image can be restored from the analysis archive")]
    ImageExists(String),
    #[error("the archived analysis of {digest} is {}; {hint}", status.as_str())]
    Busy { digest: String, status: ArchiveStatus, hint: &'static str },
    #[error("the archived analysis of {digest} cannot be restored: {reason}")]
    Corrupt { digest: String, reason: String },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for ArchiveError {
    fn from(error: sqlx::Error) -> Self {
        ArchiveError::Service(error.into())
    }
}

impl From<portcullis_objstore::ObjectStoreError> for ArchiveError {
    fn from(error: portcullis_objstore::ObjectStoreError) -> Self {
        ArchiveError::Service(error.into())
    }
}

impl From<ArchiveError> for ApiError {
    fn from(error: ArchiveError) -> Self {
        match error {
            ArchiveError::ImageNotFound(_) | ArchiveError::NotArchived(_) => ApiError::not_found(error.to_string()),
            ArchiveError::NotAnalyzed { status, .. } => {
                ApiError::conflict(error.to_string()).with_detail(serde_json::json!({ "analysis_status": status }))
            }
            ArchiveError::ImageExists(_) => ApiError::conflict(error.to_string()),
            ArchiveError::Busy { status, .. } => {
                ApiError::conflict(error.to_string()).with_detail(serde_json::json!({ "archive_status": status }))
            }
            ArchiveError::Corrupt { .. } => {
                ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
                    .with_detail(serde_json::json!({ "error_code": "archive_corrupt" }))
            }
            ArchiveError::Service(inner) => inner.into(),
        }
    }
}

fn corrupt(digest: &str, reason: impl Into<String>) -> ArchiveError {
    ArchiveError::Corrupt { digest: digest.to_owned(), reason: reason.into() }
}

/// The object key of an image's tarball.
fn object_key(digest: &str) -> String {
    format!("{digest}.tar.gz")
}

/// A `policy_evaluations` row of the image, as the tarball keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct EvaluationRow {
    eval_id: String,
    tag: String,
    policy_id: String,
    bundle_digest: String,
    final_action: String,
    status: String,
    created_at: String,
    created_seq: i64,
}

/// `manifest.json` of a tarball.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format_version: u32,
    image_digest: String,
    image_id: Option<String>,
    archived_at: String,
    image: ImageRow,
    tags: Vec<TagRow>,
    evaluations: Vec<EvaluationRow>,
    /// The vulnerability data stamp the archived report was computed against.
    report_stamp: Option<String>,
    /// `sha256:<hex>` of every other entry, by path.
    entries: BTreeMap<String, String>,
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)))
}

fn document_entry(name: &str) -> String {
    format!("documents/{name}")
}

fn evaluation_entry(eval_id: &str) -> String {
    format!("evaluations/{eval_id}.json")
}

/// Packs the manifest (listing the entries' digests) and the entries.
fn pack(mut manifest: Manifest, entries: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    manifest.entries = entries.iter().map(|(path, bytes)| (path.clone(), sha256(bytes))).collect();
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for (path, bytes) in
        std::iter::once((MANIFEST_ENTRY, &manifest_bytes)).chain(entries.iter().map(|(p, b)| (p.as_str(), b)))
    {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, path, bytes.as_slice())?;
    }
    builder.into_inner()?.finish()
}

/// The entries of a tarball, by path.
fn unpack(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let decoder = flate2::read::GzDecoder::new(bytes).take(MAX_UNPACKED_BYTES);
    let mut archive = tar::Archive::new(decoder);
    let mut entries = BTreeMap::new();
    let unreadable = |error: std::io::Error| format!("not a readable tar.gz: {error}");
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let path = entry.path().map_err(unreadable)?.to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(unreadable)?;
        if entries.insert(path.clone(), data).is_some() {
            return Err(format!("the entry {path} appears twice"));
        }
    }
    Ok(entries)
}

/// A tarball checked against itself and the digest it should hold.
struct Unpacked {
    manifest: Manifest,
    /// (bucket, bytes) of the image's documents.
    documents: Vec<(&'static str, Vec<u8>)>,
    /// Each evaluation row with its document.
    evaluations: Vec<(EvaluationRow, Vec<u8>)>,
    sbom: Sbom,
    /// The report with the stamp it was computed against.
    report: Option<(ScanResult, String)>,
}

/// Unpacks and validates a tarball of `digest`: every entry listed with a
/// matching sha256 and none else, the image's digest everywhere, and the
/// SBOM and report readable.
fn open_tarball(digest: &str, bytes: &[u8]) -> Result<Unpacked, String> {
    let mut entries = unpack(bytes)?;
    let manifest_bytes = entries.remove(MANIFEST_ENTRY).ok_or("it has no manifest.json")?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|error| format!("manifest.json is unreadable: {error}"))?;
    if manifest.format_version != FORMAT_VERSION {
        return Err(format!("format version {} is not {FORMAT_VERSION}", manifest.format_version));
    }
    if manifest.image_digest != digest || manifest.image.digest != digest {
        return Err(format!("it holds the image {}, not {digest}", manifest.image.digest));
    }
    if let Some(tag) = manifest.tags.iter().find(|tag| tag.digest != digest) {
        return Err(format!("the tag {} names the image {}", tag.fulltag(), tag.digest));
    }
    if manifest.image.analysis_status != AnalysisStatus::Analyzed {
        return Err(format!("the archived image is {}", manifest.image.analysis_status));
    }
    let listed: Vec<&String> = manifest.entries.keys().collect();
    let present: Vec<&String> = entries.keys().collect();
    if listed != present {
        return Err(format!("the manifest lists {listed:?} but the tarball holds {present:?}"));
    }
    for (path, expected) in &manifest.entries {
        let actual = entries.get(path).map(|bytes| sha256(bytes)).unwrap_or_default();
        if &actual != expected {
            return Err(format!("{path} has the digest {actual}, not {expected}"));
        }
    }
    let mut documents = Vec::new();
    for name in images::IMAGE_BUCKETS {
        if let Some(bytes) = entries.remove(&document_entry(name)) {
            documents.push((name, bytes));
        }
    }
    let mut evaluations = Vec::new();
    for row in &manifest.evaluations {
        let bytes = entries
            .remove(&evaluation_entry(&row.eval_id))
            .ok_or_else(|| format!("the document of evaluation {} is missing", row.eval_id))?;
        evaluations.push((row.clone(), bytes));
    }
    if let Some(path) = entries.keys().next() {
        return Err(format!("unexpected entry {path}"));
    }
    let document = |name: &str| documents.iter().find(|(bucket, _)| *bucket == name).map(|(_, bytes)| bytes);
    let sbom_bytes = document(bucket::SBOM).ok_or("it has no SBOM")?;
    let sbom = Sbom::from_json(&String::from_utf8_lossy(sbom_bytes))
        .map_err(|error| format!("the SBOM is unreadable: {error}"))?;
    if let Some(other) = sbom.source.image.as_ref().and_then(|image| image.manifest_digest.as_deref())
        && other != digest
    {
        return Err(format!("the SBOM describes the image {other}"));
    }
    let report = match (document(bucket::VULNERABILITY_SCAN), &manifest.report_stamp) {
        (Some(bytes), Some(stamp)) => Some((
            serde_json::from_slice(bytes)
                .map_err(|error| format!("the vulnerability report is unreadable: {error}"))?,
            stamp.clone(),
        )),
        _ => None,
    };
    Ok(Unpacked { manifest, documents, evaluations, sbom, report })
}

// ---- rows -------------------------------------------------------------------

/// One row of `archived_images`.
#[derive(Debug, Clone)]
struct ArchivedRow {
    digest: String,
    status: ArchiveStatus,
    archive_size_bytes: i64,
    record: AnchoreImage,
    analyzed_at: Option<String>,
    created_at: String,
    last_updated: String,
}

const ARCHIVED_COLUMNS: &str =
    "digest, status, archive_size_bytes, image_record, analyzed_at, created_at, last_updated";

fn archived_from_row(row: &AnyRow) -> Result<ArchivedRow, ServiceError> {
    let status: String = row.try_get("status")?;
    Ok(ArchivedRow {
        digest: row.try_get("digest")?,
        status: serde_json::from_value(serde_json::Value::String(status.clone()))
            .map_err(|source| ServiceError::Corrupt { what: format!("archive status {status:?}"), source })?,
        archive_size_bytes: row.try_get("archive_size_bytes")?,
        record: stored_json(row, "image_record", "archived image record")?,
        analyzed_at: row.try_get("analyzed_at")?,
        created_at: row.try_get("created_at")?,
        last_updated: row.try_get("last_updated")?,
    })
}

async fn archived_row(state: &AppState, account: &str, digest: &str) -> Result<Option<ArchivedRow>, ServiceError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ARCHIVED_COLUMNS} FROM archived_images WHERE account = $1 AND digest = $2"
    )))
    .bind(account)
    .bind(digest)
    .fetch_optional(state.db.pool())
    .await?;
    row.as_ref().map(archived_from_row).transpose()
}

/// The archived tags of `digest` (all of the account's when `None`).
async fn archived_tags(state: &AppState, account: &str, digest: Option<&str>) -> Result<Vec<TagRow>, ServiceError> {
    let rows = sqlx::query(
        "SELECT digest, registry, repository, tag, detected_at FROM archived_image_tags
         WHERE account = $1 AND ($2 = '' OR digest = $2) ORDER BY registry, repository, tag",
    )
    .bind(account)
    .bind(digest.unwrap_or_default())
    .fetch_all(state.db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(TagRow {
                digest: row.try_get("digest")?,
                registry: row.try_get("registry")?,
                repository: row.try_get("repository")?,
                tag: row.try_get("tag")?,
                tag_detected_at: row.try_get("detected_at")?,
            })
        })
        .collect()
}

fn to_analysis(row: &ArchivedRow, tags: &[TagRow]) -> Result<ArchivedAnalysis, ServiceError> {
    Ok(ArchivedAnalysis {
        image_digest: row.digest.clone(),
        parent_digest: row.record.parent_digest.clone(),
        annotations: row.record.annotations.clone(),
        status: row.status,
        image_detail: tags
            .iter()
            .filter(|tag| tag.digest == row.digest)
            .map(|tag| {
                Ok(TagEntry {
                    pullstring: tag.fulltag(),
                    registry: tag.registry.clone(),
                    repository: tag.repository.clone(),
                    tag: tag.tag.clone(),
                    detected_at: Some(stored_time(&tag.tag_detected_at)?),
                })
            })
            .collect::<Result<_, ServiceError>>()?,
        analyzed_at: row.analyzed_at.as_deref().map(stored_time).transpose()?,
        created_at: stored_time(&row.created_at)?,
        last_updated: stored_time(&row.last_updated)?,
        archive_size_bytes: u64::try_from(row.archive_size_bytes).unwrap_or(0),
    })
}

/// The account's archived images, newest archive first.
pub async fn list(state: &AppState, account: &str) -> Result<Vec<ArchivedAnalysis>, ServiceError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ARCHIVED_COLUMNS} FROM archived_images WHERE account = $1 ORDER BY created_seq DESC, digest"
    )))
    .bind(account)
    .fetch_all(state.db.pool())
    .await?;
    let tags = archived_tags(state, account, None).await?;
    rows.iter().map(|row| to_analysis(&archived_from_row(row)?, &tags)).collect()
}

/// One archived image of the account.
pub async fn get(state: &AppState, account: &str, digest: &str) -> Result<Option<ArchivedAnalysis>, ServiceError> {
    let Some(row) = archived_row(state, account, digest).await? else { return Ok(None) };
    let tags = archived_tags(state, account, Some(digest)).await?;
    Ok(Some(to_analysis(&row, &tags)?))
}

/// `GET /archives`: Anchore's summary, plus images and bytes per status.
pub async fn summary(state: &AppState, account: &str) -> Result<ArchiveSummary, ServiceError> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n, CAST(SUM(archive_size_bytes) AS BIGINT) AS bytes, MAX(last_updated) AS newest
         FROM archived_images WHERE account = $1 GROUP BY status",
    )
    .bind(account)
    .fetch_all(state.db.pool())
    .await?;
    let mut images = AnalysisArchiveSummary {
        total_image_count: 0,
        total_tag_count: 0,
        total_data_bytes: 0,
        last_updated: None,
        by_status: BTreeMap::new(),
    };
    for row in rows {
        let status: String = row.try_get("status")?;
        let status: ArchiveStatus = serde_json::from_value(serde_json::Value::String(status.clone()))
            .map_err(|source| ServiceError::Corrupt { what: format!("archive status {status:?}"), source })?;
        let counted = ArchiveStatusSummary { image_count: count(&row, "n")?, data_bytes: count(&row, "bytes")? };
        let newest: String = row.try_get("newest")?;
        images.total_image_count += counted.image_count;
        images.total_data_bytes += counted.data_bytes;
        images.last_updated = images.last_updated.max(Some(stored_time(&newest)?));
        images.by_status.insert(status, counted);
    }
    let tags = sqlx::query("SELECT COUNT(*) AS n FROM archived_image_tags WHERE account = $1")
        .bind(account)
        .fetch_one(state.db.pool())
        .await?;
    images.total_tag_count = count(&tags, "n")?;
    let visible = rules::list(state, account, true).await?;
    let rules = AnalysisArchiveRulesSummary {
        count: visible.len() as u64,
        last_updated: visible.iter().filter_map(|rule| rule.last_updated).max(),
    };
    Ok(ArchiveSummary { images, rules })
}

fn count(row: &AnyRow, column: &str) -> Result<u64, ServiceError> {
    Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
}

// ---- archive ----------------------------------------------------------------

/// What archiving one image did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    pub status: ArchiveStatus,
    pub detail: Option<String>,
}

/// Checks that the image can be archived (it exists and is analysed).
pub async fn check_archivable(state: &AppState, account: &str, digest: &str) -> Result<ImageRow, ArchiveError> {
    let row = images::image_row(state, account, digest)
        .await?
        .ok_or_else(|| ArchiveError::ImageNotFound(digest.to_owned()))?;
    if row.analysis_status != AnalysisStatus::Analyzed {
        return Err(ArchiveError::NotAnalyzed { digest: digest.to_owned(), status: row.analysis_status.as_str() });
    }
    Ok(row)
}

/// Archives an analysed image and keeps its working copy. An image already
/// in the archive is left as it is (its status says so).
pub async fn archive_image(state: &AppState, account: &str, digest: &str) -> Result<Archived, ArchiveError> {
    let row = check_archivable(state, account, digest).await?;
    let tags = images::tags_of(state, account, std::slice::from_ref(&row.digest)).await?;
    let record = images::to_record(&row, &tags)?;
    let now = now_rfc3339();
    let mut tx = state.db.pool().begin().await?;
    let claimed = sqlx::query(
        "INSERT INTO archived_images (account, digest, status, archive_size_bytes, image_record, analyzed_at,
                                      created_at, created_seq, last_updated)
         VALUES ($1, $2, 'archiving', 0, $3, $4, $5, $6, $5)
         ON CONFLICT (account, digest) DO NOTHING",
    )
    .bind(account)
    .bind(digest)
    .bind(serde_json::to_string(&record).map_err(|e| ServiceError::Other(format!("encoding an image record: {e}")))?)
    .bind(&row.analyzed_at)
    .bind(&now)
    .bind(Utc::now().timestamp_micros())
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        tx.rollback().await?;
        let status = archived_row(state, account, digest).await?.map_or(ArchiveStatus::Deleted, |row| row.status);
        return Ok(Archived { status, detail: Some(format!("already in the archive ({})", status.as_str())) });
    }
    for tag in &tags {
        sqlx::query(
            "INSERT INTO archived_image_tags (account, digest, registry, repository, tag, detected_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account)
        .bind(digest)
        .bind(&tag.registry)
        .bind(&tag.repository)
        .bind(&tag.tag)
        .bind(&tag.tag_detected_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    match write_tarball(state, account, row, tags).await {
        Ok(size) => {
            tracing::info!(account, digest, size, "image archived");
            Ok(Archived { status: ArchiveStatus::Archived, detail: None })
        }
        Err(error) => {
            tracing::warn!(account, digest, %error, "archiving failed; removing what was written");
            if let Err(cleanup) = remove(state, account, digest).await {
                tracing::error!(account, digest, error = %cleanup, "cannot remove a failed archive");
            }
            events::record(
                state,
                NewEvent {
                    account,
                    event_type: "user.image.archive.failed",
                    level: "error",
                    resource_type: "image_digest",
                    resource_id: digest,
                    message: format!("archiving {digest} failed: {error}"),
                    details: serde_json::json!({}),
                },
            )
            .await;
            Err(error)
        }
    }
}

/// Builds and stores the tarball, then marks the row `archived`; the size.
async fn write_tarball(state: &AppState, account: &str, row: ImageRow, tags: Vec<TagRow>) -> Result<u64, ArchiveError> {
    let digest = row.digest.clone();
    let mut entries = Vec::new();
    for name in images::IMAGE_BUCKETS {
        if let Some(bytes) = state.docs.get(account, name, &digest).await? {
            entries.push((document_entry(name), bytes));
        }
    }
    let evaluations = evaluation_rows(state, account, &digest).await?;
    for evaluation in &evaluations {
        let bytes =
            state.docs.get(account, bucket::POLICY_EVALUATIONS, &evaluation.eval_id).await?.ok_or_else(|| {
                ServiceError::Other(format!("the document of policy evaluation {} is missing", evaluation.eval_id))
            })?;
        entries.push((evaluation_entry(&evaluation.eval_id), bytes));
    }
    let stamp = sqlx::query("SELECT db_stamp FROM image_reports WHERE account = $1 AND digest = $2")
        .bind(account)
        .bind(&digest)
        .fetch_optional(state.db.pool())
        .await?
        .map(|row| row.try_get::<String, _>("db_stamp"))
        .transpose()?;
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        image_digest: digest.clone(),
        image_id: row.image_id.clone(),
        archived_at: now_rfc3339(),
        image: row,
        tags,
        evaluations,
        report_stamp: stamp,
        entries: BTreeMap::new(),
    };
    let tarball = tokio::task::spawn_blocking(move || pack(manifest, &entries))
        .await
        .map_err(|error| ServiceError::Other(format!("the archive task failed: {error}")))?
        .map_err(|error| ServiceError::Other(format!("packing the archive: {error}")))?;
    let size = tarball.len() as u64;
    state.docs.put(account, bucket::ANALYSIS_ARCHIVE, &object_key(&digest), &tarball).await?;
    let done = sqlx::query(
        "UPDATE archived_images SET status = 'archived', archive_size_bytes = $1, last_updated = $2
         WHERE account = $3 AND digest = $4 AND status = 'archiving'",
    )
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(now_rfc3339())
    .bind(account)
    .bind(&digest)
    .execute(state.db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(ServiceError::Other("the archive row was removed while archiving".into()).into());
    }
    Ok(size)
}

async fn evaluation_rows(state: &AppState, account: &str, digest: &str) -> Result<Vec<EvaluationRow>, ServiceError> {
    let rows = sqlx::query(
        "SELECT eval_id, tag, policy_id, bundle_digest, final_action, status, created_at, created_seq
         FROM policy_evaluations WHERE account = $1 AND digest = $2 ORDER BY created_seq, eval_id",
    )
    .bind(account)
    .bind(digest)
    .fetch_all(state.db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(EvaluationRow {
                eval_id: row.try_get("eval_id")?,
                tag: row.try_get("tag")?,
                policy_id: row.try_get("policy_id")?,
                bundle_digest: row.try_get("bundle_digest")?,
                final_action: row.try_get("final_action")?,
                status: row.try_get("status")?,
                created_at: row.try_get("created_at")?,
                created_seq: row.try_get("created_seq")?,
            })
        })
        .collect()
}

/// Removes the tarball, then the rows.
async fn remove(state: &AppState, account: &str, digest: &str) -> Result<(), ServiceError> {
    state.docs.delete(account, bucket::ANALYSIS_ARCHIVE, &object_key(digest)).await?;
    let mut tx = state.db.pool().begin().await?;
    for table in ["archived_image_tags", "archived_images"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE account = $1 AND digest = $2")))
            .bind(account)
            .bind(digest)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

// ---- delete -----------------------------------------------------------------

/// `DELETE /archives/images/{digest}`: removes the tarball and the rows. An
/// image still `archiving` needs `force`. Returns the record as it was, with
/// the status `deleted`.
pub async fn delete_archived(
    state: &AppState,
    account: &str,
    digest: &str,
    force: bool,
) -> Result<ArchivedAnalysis, ArchiveError> {
    let mut analysis =
        get(state, account, digest).await?.ok_or_else(|| ArchiveError::NotArchived(digest.to_owned()))?;
    if analysis.status == ArchiveStatus::Archiving && !force {
        return Err(ArchiveError::Busy {
            digest: digest.to_owned(),
            status: analysis.status,
            hint: "delete it with force=true to abandon the archiving",
        });
    }
    // A delete that fails midway stays visible as `deleting` and can be repeated.
    sqlx::query("UPDATE archived_images SET status = 'deleting', last_updated = $1 WHERE account = $2 AND digest = $3")
        .bind(now_rfc3339())
        .bind(account)
        .bind(digest)
        .execute(state.db.pool())
        .await?;
    remove(state, account, digest).await?;
    tracing::info!(account, digest, "archived image deleted");
    analysis.status = ArchiveStatus::Deleted;
    Ok(analysis)
}

// ---- restore ----------------------------------------------------------------

/// `POST /images` with `source.archive`: recreates the image (row, tags,
/// documents, package and vulnerability index, evaluations) from its
/// tarball. The archived copy stays. Nothing is written unless the whole
/// tarball checks out.
pub async fn restore(state: &AppState, account: &str, digest: &str) -> Result<AnchoreImage, ArchiveError> {
    if images::image_row(state, account, digest).await?.is_some() {
        return Err(ArchiveError::ImageExists(digest.to_owned()));
    }
    let archived =
        archived_row(state, account, digest).await?.ok_or_else(|| ArchiveError::NotArchived(digest.to_owned()))?;
    if archived.status != ArchiveStatus::Archived {
        return Err(ArchiveError::Busy {
            digest: digest.to_owned(),
            status: archived.status,
            hint: "only an archived image can be restored",
        });
    }
    let bytes = state
        .docs
        .get(account, bucket::ANALYSIS_ARCHIVE, &object_key(digest))
        .await?
        .ok_or_else(|| corrupt(digest, "its tarball is missing from the object store"))?;
    let wanted = digest.to_owned();
    let unpacked = tokio::task::spawn_blocking(move || open_tarball(&wanted, &bytes))
        .await
        .map_err(|error| ServiceError::Other(format!("the restore task failed: {error}")))?
        .map_err(|reason| corrupt(digest, reason))?;
    let mut written: Vec<(&'static str, String)> = Vec::new();
    let stored = store_restored(state, account, &unpacked, &mut written).await;
    if let Err(error) = stored {
        // Documents without rows are invisible; remove them unless a
        // concurrent add now owns the image.
        if images::image_row(state, account, digest).await?.is_none() {
            for (name, key) in &written {
                if let Err(cleanup) = state.docs.delete(account, name, key).await {
                    tracing::warn!(account, digest, bucket = name, error = %cleanup, "cannot remove a restored document");
                }
            }
        }
        return Err(error);
    }
    tracing::info!(account, digest, evaluations = unpacked.evaluations.len(), "image restored from the archive");
    images::get_image(state, account, digest)
        .await?
        .ok_or_else(|| ServiceError::Other(format!("image {digest} was deleted while being restored")).into())
}

/// Writes the documents (recording each in `written`), then every row in one transaction.
async fn store_restored(
    state: &AppState,
    account: &str,
    unpacked: &Unpacked,
    written: &mut Vec<(&'static str, String)>,
) -> Result<(), ArchiveError> {
    let image = &unpacked.manifest.image;
    let digest = image.digest.as_str();
    for (name, bytes) in &unpacked.documents {
        state.docs.put(account, name, digest, bytes).await?;
        written.push((name, digest.to_owned()));
    }
    for (row, bytes) in &unpacked.evaluations {
        state.docs.put(account, bucket::POLICY_EVALUATIONS, &row.eval_id, bytes).await?;
        written.push((bucket::POLICY_EVALUATIONS, row.eval_id.clone()));
    }
    let micros = |text: &str| -> Result<i64, ServiceError> { Ok(stored_time(text)?.timestamp_micros()) };
    let mut tx = state.db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO images (account, digest, parent_digest, image_id, analysis_status, image_status, annotations,
                             dockerfile, pull_reference, arch, distro, distro_version, image_size, layer_count,
                             failure, created_at, created_seq, last_updated, analyzed_at, analyzed_seq, record_version)
         VALUES ($1, $2, $3, $4, 'analyzed', 'active', $5, $6, $7, $8, $9, $10, $11, $12, NULL, $13, $14, $15, $16,
                 $17, $18)",
    )
    .bind(account)
    .bind(digest)
    .bind(&image.parent_digest)
    .bind(&image.image_id)
    .bind(serde_json::to_string(&image.annotations).unwrap_or_else(|_| "{}".into()))
    .bind(&image.dockerfile)
    .bind(&image.pull_reference)
    .bind(&image.arch)
    .bind(&image.distro)
    .bind(&image.distro_version)
    .bind(image.image_size)
    .bind(image.layer_count)
    .bind(&image.created_at)
    .bind(micros(&image.created_at)?)
    .bind(now_rfc3339())
    .bind(&image.analyzed_at)
    .bind(image.analyzed_at.as_deref().map(micros).transpose()?)
    .bind(image.record_version + 1)
    .execute(&mut *tx)
    .await?;
    for tag in &unpacked.manifest.tags {
        sqlx::query(
            "INSERT INTO image_tags (account, digest, registry, repository, tag, tag_detected_at, detected_seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(account)
        .bind(digest)
        .bind(&tag.registry)
        .bind(&tag.repository)
        .bind(&tag.tag)
        .bind(&tag.tag_detected_at)
        .bind(micros(&tag.tag_detected_at)?)
        .execute(&mut *tx)
        .await?;
    }
    images::write_package_index(&mut tx, account, digest, &unpacked.sbom).await?;
    if let Some((report, stamp)) = &unpacked.report {
        crate::vulns::write_index(&mut tx, account, digest, report, stamp).await?;
    }
    for (row, _) in &unpacked.evaluations {
        sqlx::query(
            "INSERT INTO policy_evaluations (eval_id, account, digest, tag, policy_id, bundle_digest, final_action,
                                             status, created_at, created_seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&row.eval_id)
        .bind(account)
        .bind(digest)
        .bind(&row.tag)
        .bind(&row.policy_id)
        .bind(&row.bundle_digest)
        .bind(&row.final_action)
        .bind(&row.status)
        .bind(&row.created_at)
        .bind(row.created_seq)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

// ---- rules task -----------------------------------------------------------

/// The `archive_tasks` watcher, for [`crate::scheduler::watchers`].
pub fn watcher() -> Watcher {
    Watcher {
        name: ARCHIVE_TASKS,
        interval: |timers| timers.archive_tasks,
        max_runtime_seconds: 3600,
        run: |state| -> WatcherFuture { Box::pin(async move { run_rules(&state).await }) },
    }
}

/// Applies the archive rules to every enabled account, as Anchore does: the
/// global archive rules, then the account's own archive rules, then the
/// delete rules against the archived images (aged by when they were archived).
pub async fn run_rules(state: &AppState) -> Result<(), ServiceError> {
    for account in crate::accounts::list_accounts(state, Some(AccountState::Enabled)).await? {
        let account = account.name.as_str();
        let visible = rules::list(state, account, true).await?;
        let (global, own): (Vec<Rule>, Vec<Rule>) = visible
            .iter()
            .filter(|rule| rule.transition == ArchiveTransition::Archive)
            .cloned()
            .partition(|rule| rule.system_global);
        for set in [global, own] {
            for digest in candidates(state, account, &set, ArchiveTransition::Archive).await? {
                archive_by_rule(state, account, &digest).await?;
            }
        }
        let delete: Vec<Rule> =
            visible.into_iter().filter(|rule| rule.transition == ArchiveTransition::Delete).collect();
        for digest in candidates(state, account, &delete, ArchiveTransition::Delete).await? {
            match delete_archived(state, account, &digest, false).await {
                Ok(_) => tracing::info!(account, %digest, "archived image deleted by an archive rule"),
                Err(ArchiveError::Service(error)) => return Err(error),
                Err(error) => {
                    tracing::warn!(account, %digest, %error, "an archive rule cannot delete an archived image")
                }
            }
        }
    }
    Ok(())
}

/// A rule-driven archive: archived (or found archived), the working copy goes.
async fn archive_by_rule(state: &AppState, account: &str, digest: &str) -> Result<(), ServiceError> {
    match archive_image(state, account, digest).await {
        Ok(Archived { status: ArchiveStatus::Archived, .. }) => {
            images::delete_image(state, account, digest, true).await?;
            tracing::info!(account, digest, "image archived by an archive rule");
            Ok(())
        }
        Ok(other) => {
            tracing::info!(account, digest, status = other.status.as_str(), "left as it is by an archive rule");
            Ok(())
        }
        Err(ArchiveError::Service(error)) => Err(error),
        // Recorded as an event by archive_image (or no longer archivable).
        Err(error) => {
            tracing::warn!(account, digest, %error, "an archive rule cannot archive an image");
            Ok(())
        }
    }
}

/// The digests one rule set moves now in `account`: analysed working images
/// for archive rules, archived images for delete rules.
pub async fn candidates(
    state: &AppState,
    account: &str,
    set: &[Rule],
    transition: ArchiveTransition,
) -> Result<Vec<String>, ServiceError> {
    if set.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let tagged = match transition {
        ArchiveTransition::Archive => {
            tagged_images(
                state,
                "SELECT t.digest, t.registry, t.repository, t.tag, t.tag_detected_at AS detected_at,
                        i.analyzed_at AS reference_time
                 FROM image_tags t JOIN images i ON i.account = t.account AND i.digest = t.digest
                 WHERE t.account = $1 AND i.analysis_status = 'analyzed'",
                account,
            )
            .await?
        }
        ArchiveTransition::Delete => {
            tagged_images(
                state,
                "SELECT t.digest, t.registry, t.repository, t.tag, t.detected_at, a.created_at AS reference_time
                 FROM archived_image_tags t JOIN archived_images a ON a.account = t.account AND a.digest = t.digest
                 WHERE t.account = $1 AND a.status = 'archived'",
                account,
            )
            .await?
        }
    };
    let mut digests = rules::select(set, &tagged, now);
    if transition == ArchiveTransition::Archive
        && let Some(max) = set.iter().filter_map(|rule| rule.max_images_per_account).min()
    {
        let rows =
            sqlx::query("SELECT digest, analyzed_at FROM images WHERE account = $1 AND analysis_status = 'analyzed'")
                .bind(account)
                .fetch_all(state.db.pool())
                .await?;
        let analysed = rows
            .iter()
            .map(|row| {
                let analyzed_at: Option<String> = row.try_get("analyzed_at")?;
                Ok((row.try_get("digest")?, analyzed_at.as_deref().map(stored_time).transpose()?))
            })
            .collect::<Result<Vec<_>, ServiceError>>()?;
        digests.extend(rules::over_limit(max, &analysed));
        digests.sort();
        digests.dedup();
    }
    Ok(digests)
}

async fn tagged_images(state: &AppState, sql: &'static str, account: &str) -> Result<Vec<TaggedImage>, ServiceError> {
    let rows = sqlx::query(sql).bind(account).fetch_all(state.db.pool()).await?;
    rows.iter()
        .map(|row| {
            let detected_at: String = row.try_get("detected_at")?;
            let reference_time: Option<String> = row.try_get("reference_time")?;
            Ok(TaggedImage {
                digest: row.try_get("digest")?,
                registry: row.try_get("registry")?,
                repository: row.try_get("repository")?,
                tag: row.try_get("tag")?,
                detected_at: stored_time(&detected_at)?,
                reference_time: reference_time.as_deref().map(stored_time).transpose()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tarball_that_is_not_gzip_is_refused_with_the_reason() {
        let error = open_tarball("sha256:aa", b"not a tarball").err().unwrap();
        assert!(error.contains("not a readable tar.gz"), "{error}");
    }
}
