//! The image catalog: adding images (registry lookup, rows, queueing),
//! reading and deleting them, and storing an analysis.
//!
//! A row of `images` is the image (manifest digest) in one account; each
//! tag that pointed at it is a row of `image_tags`. Bulky results live in
//! the document store under (account, bucket, digest): the native SBOM, the
//! manifest, the content listing and the vulnerability report.

pub mod content;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use portcullis_api::{
    AnalysisStatus, AnchoreImage, Annotations, ImageAnalysisRequest, ImageContent, ImageContentMetadata, ImageDetail,
    ImageStatus,
};
use portcullis_image::ImageError;
use portcullis_image::source::registry::{self, Reference};
use portcullis_image::source::{ImageSource as _, SourceOptions};
use portcullis_sbom::Sbom;
use portcullis_sql::now_rfc3339;
use sqlx::{AssertSqlSafe, Row};

use crate::error::{ApiError, ServiceError};
use crate::queue;
use crate::registries;
use crate::schema::stored_time;
use crate::state::{AppState, bucket};

/// One row of `images` (serialized into analysis archives).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ImageRow {
    pub account: String,
    pub digest: String,
    pub parent_digest: Option<String>,
    pub image_id: Option<String>,
    pub analysis_status: AnalysisStatus,
    pub image_status: ImageStatus,
    pub annotations: Annotations,
    /// The base64 Dockerfile supplied at add time.
    pub dockerfile: Option<String>,
    /// `registry/repository@digest`: what the analyzer pulls.
    pub pull_reference: String,
    pub arch: Option<String>,
    pub distro: Option<String>,
    pub distro_version: Option<String>,
    pub image_size: Option<i64>,
    pub layer_count: Option<i64>,
    pub failure: Option<String>,
    pub created_at: String,
    pub last_updated: String,
    pub analyzed_at: Option<String>,
    pub record_version: i64,
}

/// One row of `image_tags` (serialized into analysis archives).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TagRow {
    pub digest: String,
    pub registry: String,
    pub repository: String,
    pub tag: String,
    pub tag_detected_at: String,
}

impl TagRow {
    pub fn fulltag(&self) -> String {
        format!("{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

const IMAGE_COLUMNS: &str = "account, digest, parent_digest, image_id, analysis_status, image_status, annotations, \
    dockerfile, pull_reference, arch, distro, distro_version, image_size, layer_count, failure, created_at, \
    last_updated, analyzed_at, record_version";

/// Reads a status column, stored as the enum's serde name; `what` names it in the error.
fn status_from_row<T: serde::de::DeserializeOwned>(
    row: &sqlx::any::AnyRow,
    column: &str,
    what: &str,
) -> Result<T, ServiceError> {
    let text: String = row.try_get(column)?;
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map_err(|source| ServiceError::Corrupt { what: format!("{what} {text:?}"), source })
}

fn image_from_row(row: &sqlx::any::AnyRow) -> Result<ImageRow, ServiceError> {
    Ok(ImageRow {
        account: row.try_get("account")?,
        digest: row.try_get("digest")?,
        parent_digest: row.try_get("parent_digest")?,
        image_id: row.try_get("image_id")?,
        analysis_status: status_from_row(row, "analysis_status", "analysis status")?,
        image_status: status_from_row(row, "image_status", "image status")?,
        annotations: crate::schema::stored_json(row, "annotations", "image annotations")?,
        dockerfile: row.try_get("dockerfile")?,
        pull_reference: row.try_get("pull_reference")?,
        arch: row.try_get("arch")?,
        distro: row.try_get("distro")?,
        distro_version: row.try_get("distro_version")?,
        image_size: row.try_get("image_size")?,
        layer_count: row.try_get("layer_count")?,
        failure: row.try_get("failure")?,
        created_at: row.try_get("created_at")?,
        last_updated: row.try_get("last_updated")?,
        analyzed_at: row.try_get("analyzed_at")?,
        record_version: row.try_get("record_version")?,
    })
}

fn tag_from_row(row: &sqlx::any::AnyRow) -> Result<TagRow, ServiceError> {
    Ok(TagRow {
        digest: row.try_get("digest")?,
        registry: row.try_get("registry")?,
        repository: row.try_get("repository")?,
        tag: row.try_get("tag")?,
        tag_detected_at: row.try_get("tag_detected_at")?,
    })
}

/// The row of `digest` in `account`.
pub async fn image_row(state: &AppState, account: &str, digest: &str) -> Result<Option<ImageRow>, ServiceError> {
    let row =
        sqlx::query(AssertSqlSafe(format!("SELECT {IMAGE_COLUMNS} FROM images WHERE account = $1 AND digest = $2")))
            .bind(account)
            .bind(digest)
            .fetch_optional(state.db.pool())
            .await?;
    row.as_ref().map(image_from_row).transpose()
}

/// `$first, $first+1, ...` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// The tags of `digests` in `account`, newest detection first.
pub async fn tags_of(state: &AppState, account: &str, digests: &[String]) -> Result<Vec<TagRow>, ServiceError> {
    let mut tags = Vec::new();
    // Bounded IN lists keep both engines far below their parameter limits.
    for chunk in digests.chunks(500) {
        let sql = format!(
            "SELECT digest, registry, repository, tag, tag_detected_at FROM image_tags
             WHERE account = $1 AND digest IN ({}) ORDER BY detected_seq DESC, registry, repository, tag",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account);
        for digest in chunk {
            query = query.bind(digest);
        }
        for row in query.fetch_all(state.db.pool()).await? {
            tags.push(tag_from_row(&row)?);
        }
    }
    Ok(tags)
}

/// The API record of `row` with its `tags`.
pub fn to_record(row: &ImageRow, tags: &[TagRow]) -> Result<AnchoreImage, ServiceError> {
    let created_at = stored_time(&row.created_at)?;
    let last_updated = stored_time(&row.last_updated)?;
    let analyzed_at = row.analyzed_at.as_deref().map(stored_time).transpose()?;
    let metadata = (row.analysis_status == AnalysisStatus::Analyzed).then(|| ImageContentMetadata {
        arch: row.arch.clone().unwrap_or_default(),
        distro: row.distro.clone().unwrap_or_default(),
        distro_version: row.distro_version.clone().unwrap_or_default(),
        dockerfile_mode: if row.dockerfile.is_some() { "Actual" } else { "Guessed" }.to_owned(),
        image_size: row.image_size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
        layer_count: row.layer_count.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
    });
    let image_detail = tags
        .iter()
        .filter(|tag| tag.digest == row.digest)
        .map(|tag| {
            Ok(ImageDetail {
                registry: tag.registry.clone(),
                repo: tag.repository.clone(),
                tag: tag.tag.clone(),
                fulltag: tag.fulltag(),
                fulldigest: format!("{}/{}@{}", tag.registry, tag.repository, row.digest),
                digest: row.digest.clone(),
                image_digest: row.digest.clone(),
                image_id: row.image_id.clone(),
                user_id: row.account.clone(),
                dockerfile: row.dockerfile.clone(),
                tag_detected_at: stored_time(&tag.tag_detected_at)?,
                created_at,
                last_updated,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    Ok(AnchoreImage {
        image_digest: row.digest.clone(),
        parent_digest: row.parent_digest.clone(),
        user_id: row.account.clone(),
        analysis_status: row.analysis_status,
        image_status: row.image_status,
        image_type: "docker".to_owned(),
        created_at,
        last_updated,
        analyzed_at,
        record_version: Some(row.record_version.to_string()),
        annotations: row.annotations.clone(),
        image_content: ImageContent { metadata },
        image_detail,
        analysis_error: row.failure.clone().filter(|_| row.analysis_status == AnalysisStatus::AnalysisFailed),
    })
}

/// The image `digest` of `account`, as the API shows it.
pub async fn get_image(state: &AppState, account: &str, digest: &str) -> Result<Option<AnchoreImage>, ServiceError> {
    let Some(row) = image_row(state, account, digest).await? else { return Ok(None) };
    let tags = tags_of(state, account, std::slice::from_ref(&row.digest)).await?;
    Ok(Some(to_record(&row, &tags)?))
}

/// Filters of [`list_images`].
#[derive(Debug, Clone, Default)]
pub struct ImageFilter {
    /// Only images that carry this tag (`registry/repo:tag`).
    pub fulltag: Option<String>,
    /// With `fulltag`: every digest the tag has had, not just the latest.
    pub history: bool,
    /// `None` = every image status.
    pub image_status: Option<ImageStatus>,
    pub analysis_status: Option<AnalysisStatus>,
    /// `(offset, limit)`.
    pub window: Option<(u64, u64)>,
}

/// The account's images, newest first.
pub async fn list_images(
    state: &AppState,
    account: &str,
    filter: &ImageFilter,
) -> Result<Vec<AnchoreImage>, ServiceError> {
    let mut sql = format!("SELECT {IMAGE_COLUMNS} FROM images WHERE account = $1");
    let mut binds: Vec<String> = vec![account.to_owned()];
    if let Some(status) = filter.image_status {
        binds.push(image_status_str(status).to_owned());
        sql.push_str(&format!(" AND image_status = ${}", binds.len()));
    }
    if let Some(status) = filter.analysis_status {
        binds.push(status.as_str().to_owned());
        sql.push_str(&format!(" AND analysis_status = ${}", binds.len()));
    }
    if let Some(fulltag) = &filter.fulltag {
        let Ok(tag) = TagName::parse(fulltag) else { return Ok(Vec::new()) };
        if filter.history {
            binds.extend([tag.registry, tag.repository, tag.tag]);
            let n = binds.len();
            sql.push_str(&format!(
                " AND digest IN (SELECT digest FROM image_tags WHERE account = $1 AND registry = ${} AND repository = ${} AND tag = ${n})",
                n - 2,
                n - 1
            ));
        } else {
            let Some(latest) = latest_digest_for_tag(state, account, fulltag).await? else { return Ok(Vec::new()) };
            binds.push(latest);
            sql.push_str(&format!(" AND digest = ${}", binds.len()));
        }
    }
    sql.push_str(" ORDER BY created_seq DESC, digest");
    if let Some((offset, limit)) = filter.window {
        sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for bind in &binds {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(state.db.pool()).await?;
    let rows: Vec<ImageRow> = rows.iter().map(image_from_row).collect::<Result<_, _>>()?;
    let digests: Vec<String> = rows.iter().map(|r| r.digest.clone()).collect();
    let tags = tags_of(state, account, &digests).await?;
    rows.iter().map(|row| to_record(row, &tags)).collect()
}

fn image_status_str(status: ImageStatus) -> &'static str {
    match status {
        ImageStatus::Active => "active",
        ImageStatus::Inactive => "inactive",
        ImageStatus::Deleting => "deleting",
    }
}

/// A tag split as stored: `registry`, `repository`, `tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagName {
    pub registry: String,
    pub repository: String,
    pub tag: String,
}

impl TagName {
    /// Parses a full tag with Docker's normalisation (`nginx` →
    /// `docker.io/library/nginx:latest`).
    pub fn parse(fulltag: &str) -> Result<TagName, ImageError> {
        let reference = Reference::parse(fulltag)?;
        Self::of(&reference, fulltag)
    }

    fn of(reference: &Reference, shown: &str) -> Result<TagName, ImageError> {
        match (&reference.tag, &reference.digest) {
            (Some(tag), None) => Ok(TagName {
                registry: reference.registry.clone(),
                repository: reference.repository.clone(),
                tag: tag.clone(),
            }),
            _ => Err(ImageError::InvalidReference {
                reference: shown.to_owned(),
                reason: "expected a tag (registry/repository:tag), not a digest".to_owned(),
            }),
        }
    }

    pub fn fulltag(&self) -> String {
        format!("{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

/// The digest `fulltag` pointed at most recently in `account`.
pub async fn latest_digest_for_tag(
    state: &AppState,
    account: &str,
    fulltag: &str,
) -> Result<Option<String>, ServiceError> {
    let Ok(tag) = TagName::parse(fulltag) else { return Ok(None) };
    let row = sqlx::query(
        "SELECT digest FROM image_tags WHERE account = $1 AND registry = $2 AND repository = $3 AND tag = $4
         ORDER BY detected_seq DESC LIMIT 1",
    )
    .bind(account)
    .bind(&tag.registry)
    .bind(&tag.repository)
    .bind(&tag.tag)
    .fetch_optional(state.db.pool())
    .await?;
    Ok(row.map(|r| r.try_get("digest")).transpose()?)
}

/// The stored native SBOM of an analysed image.
pub async fn load_sbom(state: &AppState, account: &str, digest: &str) -> Result<Option<Sbom>, ServiceError> {
    let Some(bytes) = state.docs.get(account, bucket::SBOM, digest).await? else { return Ok(None) };
    let text = String::from_utf8_lossy(&bytes);
    Sbom::from_json(&text)
        .map(Some)
        .map_err(|e| ServiceError::Other(format!("stored SBOM of {digest} is unreadable: {e}")))
}

/// What an add request asks for, validated.
#[derive(Debug, Clone)]
struct AddPlan {
    /// What to look up in the registry (a tag or a digest reference).
    lookup: Reference,
    /// The tag to record.
    tag: TagName,
    /// The base64 Dockerfile, checked to decode.
    dockerfile: Option<String>,
    created_at: Option<DateTime<Utc>>,
    annotations: Annotations,
}

fn bad_reference(error: ImageError) -> ApiError {
    ApiError::bad_request(error.to_string())
}

impl AddPlan {
    fn from_request(request: &ImageAnalysisRequest) -> Result<AddPlan, ApiError> {
        let annotations = request.annotations.clone().unwrap_or_default();
        let (lookup, tag, dockerfile, created_at) = match &request.source {
            Some(source) => {
                if source.import.is_some() {
                    return Err(ApiError::bad_request(
                        "source.import is not supported by this server; add images by tag or digest",
                    ));
                }
                match (&source.tag, &source.digest) {
                    (Some(tag), None) => {
                        let reference = Reference::parse(&tag.pullstring).map_err(bad_reference)?;
                        let name = TagName::of(&reference, &tag.pullstring).map_err(bad_reference)?;
                        (reference, name, tag.dockerfile.clone(), None)
                    }
                    (None, Some(digest)) => {
                        let reference = Reference::parse(&digest.pullstring).map_err(bad_reference)?;
                        if reference.digest.is_none() {
                            return Err(ApiError::bad_request(format!(
                                "source.digest.pullstring {:?} must name a digest (registry/repository@sha256:...)",
                                digest.pullstring
                            )));
                        }
                        let name = TagName::parse(&digest.tag).map_err(bad_reference)?;
                        check_same_repository(&reference, &name)?;
                        (reference, name, digest.dockerfile.clone(), digest.creation_timestamp_override)
                    }
                    (Some(_), Some(_)) => {
                        return Err(ApiError::bad_request("give one of source.tag and source.digest, not both"));
                    }
                    (None, None) => {
                        return Err(ApiError::bad_request("source needs one of tag, digest"));
                    }
                }
            }
            None => {
                let Some(tag_text) = &request.tag else {
                    return Err(ApiError::bad_request("the request needs source.tag, source.digest or a legacy tag"));
                };
                let tag_ref = Reference::parse(tag_text).map_err(bad_reference)?;
                let name = TagName::of(&tag_ref, tag_text).map_err(bad_reference)?;
                match &request.digest {
                    Some(digest) => {
                        let pull = if digest.contains('@') {
                            digest.clone()
                        } else {
                            format!("{}/{}@{digest}", name.registry, name.repository)
                        };
                        let reference = Reference::parse(&pull).map_err(bad_reference)?;
                        check_same_repository(&reference, &name)?;
                        (reference, name, request.dockerfile.clone(), request.created_at)
                    }
                    None => (tag_ref, name, request.dockerfile.clone(), None),
                }
            }
        };
        if let Some(text) = &dockerfile {
            STANDARD
                .decode(text.trim())
                .map_err(|e| ApiError::bad_request(format!("the dockerfile must be base64-encoded: {e}")))?;
        }
        Ok(AddPlan { lookup, tag, dockerfile, created_at, annotations })
    }
}

fn check_same_repository(reference: &Reference, tag: &TagName) -> Result<(), ApiError> {
    if reference.registry != tag.registry || reference.repository != tag.repository {
        return Err(ApiError::bad_request(format!(
            "the digest pull string ({}/{}) and the tag ({}) must name the same registry and repository",
            reference.registry,
            reference.repository,
            tag.fulltag()
        )));
    }
    Ok(())
}

/// The full tag an add request records (`registry/repository:tag`).
pub fn requested_tag(request: &ImageAnalysisRequest) -> Result<String, ApiError> {
    Ok(AddPlan::from_request(request)?.tag.fulltag())
}

/// What the registry said about an image.
#[derive(Debug, Clone)]
struct Resolved {
    manifest_digest: String,
    index_digest: Option<String>,
    compressed_size: u64,
}

/// A registry failure as a precise client error: nothing was written.
fn registry_failure(error: ImageError, shown: &str) -> ApiError {
    let status = match &error {
        ImageError::Registry { message, .. } if message.starts_with("not found") => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    let kind = match &error {
        ImageError::Unreachable { .. } => "registry_unreachable",
        ImageError::Unauthorized { .. } => "registry_unauthorized",
        ImageError::Registry { .. } if status == StatusCode::NOT_FOUND => "image_not_found",
        _ => "registry_lookup_failed",
    };
    ApiError::new(status, format!("cannot look up {shown} in its registry: {error}"))
        .with_detail(serde_json::json!({"error_code": kind, "image": shown}))
}

/// Resolves `reference` to its manifest digest with the account's credentials.
async fn resolve(state: &AppState, account: &str, reference: &Reference) -> Result<Resolved, ApiError> {
    let shown = reference.to_string();
    let access =
        registries::credentials_for(state, account, &format!("{}/{}", reference.registry, reference.repository))
            .await?;
    let options = SourceOptions {
        registry: registries::registry_options(state, &reference.registry, access.as_ref()),
        ..SourceOptions::default()
    };
    let text = shown.clone();
    // The registry client is blocking reqwest: never on a runtime thread.
    let opened = tokio::task::spawn_blocking(move || registry::open(&text, &options))
        .await
        .map_err(|e| ServiceError::Other(format!("registry lookup task failed: {e}")))?;
    let images = opened.map_err(|e| registry_failure(e, &shown))?;
    let Some(image) = images.first() else {
        return Err(ApiError::bad_request(format!("{shown}: the registry listed no image for linux/amd64")));
    };
    let descriptor = image.descriptor();
    let info =
        descriptor.image.as_ref().ok_or_else(|| ServiceError::Other("registry image without metadata".into()))?;
    let manifest_digest =
        info.manifest_digest.clone().ok_or_else(|| ServiceError::Other("registry image without a digest".into()))?;
    Ok(Resolved {
        manifest_digest,
        index_digest: info.index_digest.clone(),
        compressed_size: descriptor.layers.iter().filter_map(|l| l.size).sum(),
    })
}

/// `POST /images`: looks the image up in its registry, records it and its
/// tag, and queues its analysis (again, with `force` or after a failure).
pub async fn add_image(
    state: &AppState,
    account: &str,
    request: &ImageAnalysisRequest,
    force: bool,
) -> Result<AnchoreImage, ApiError> {
    if let Some(archive) = request.source.as_ref().and_then(|source| source.archive.as_ref()) {
        return Ok(crate::archive::restore(state, account, &archive.digest).await?);
    }
    let plan = AddPlan::from_request(request)?;
    let resolved = resolve(state, account, &plan.lookup).await?;
    if let Some(wanted) = &plan.lookup.digest
        && wanted != &resolved.manifest_digest
        && Some(wanted) != resolved.index_digest.as_ref()
    {
        return Err(ApiError::bad_request(format!(
            "the registry resolved {} to {}, not the requested digest",
            plan.lookup, resolved.manifest_digest
        )));
    }
    let limit_mb = state.config.analyzer.max_compressed_image_size_mb;
    if limit_mb > 0 && resolved.compressed_size > limit_mb.saturating_mul(1024 * 1024) {
        return Err(ApiError::bad_request(format!(
            "the image is {} bytes compressed, above analyzer.max_compressed_image_size_mb ({limit_mb} MiB)",
            resolved.compressed_size
        )));
    }
    let digest = resolved.manifest_digest.clone();
    let existing = image_row(state, account, &digest).await?;
    if existing.is_some() && plan.dockerfile.is_some() && !force {
        return Err(ApiError::conflict(format!(
            "image {digest} was already added; supplying a Dockerfile for it needs force=true"
        )));
    }
    let now = now_rfc3339();
    let now_micros = Utc::now().timestamp_micros();
    let mut tx = state.db.pool().begin().await?;
    let queue_it = match &existing {
        None => {
            let created_at = plan.created_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            let created_seq = plan.created_at.map_or(now_micros, |t| t.timestamp_micros());
            sqlx::query(
                "INSERT INTO images (account, digest, parent_digest, analysis_status, image_status, annotations, dockerfile,
                                     pull_reference, created_at, created_seq, last_updated, record_version)
                 VALUES ($1, $2, $3, 'not_analyzed', 'active', $4, $5, $6, $7, $8, $9, 1)",
            )
            .bind(account)
            .bind(&digest)
            .bind(&resolved.index_digest)
            .bind(serde_json::to_string(&plan.annotations).unwrap_or_else(|_| "{}".into()))
            .bind(&plan.dockerfile)
            .bind(format!("{}/{}@{digest}", plan.tag.registry, plan.tag.repository))
            .bind(created_at.as_deref().unwrap_or(&now))
            .bind(created_seq)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            true
        }
        Some(row) => {
            let mut annotations = row.annotations.clone();
            annotations.extend(plan.annotations.clone());
            let reset = force || row.analysis_status == AnalysisStatus::AnalysisFailed;
            let status = if reset { AnalysisStatus::NotAnalyzed } else { row.analysis_status };
            sqlx::query(
                "UPDATE images SET annotations = $1, dockerfile = COALESCE($2, dockerfile), analysis_status = $3,
                        failure = CASE WHEN $4 = 1 THEN NULL ELSE failure END, image_status = 'active',
                        last_updated = $5, record_version = record_version + 1
                 WHERE account = $6 AND digest = $7",
            )
            .bind(serde_json::to_string(&annotations).unwrap_or_else(|_| "{}".into()))
            .bind(&plan.dockerfile)
            .bind(status.as_str())
            .bind(i64::from(reset))
            .bind(&now)
            .bind(account)
            .bind(&digest)
            .execute(&mut *tx)
            .await?;
            reset
        }
    };
    sqlx::query(
        "INSERT INTO image_tags (account, digest, registry, repository, tag, tag_detected_at, detected_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (account, digest, registry, repository, tag)
         DO UPDATE SET tag_detected_at = $6, detected_seq = $7",
    )
    .bind(account)
    .bind(&digest)
    .bind(&plan.tag.registry)
    .bind(&plan.tag.repository)
    .bind(&plan.tag.tag)
    .bind(&now)
    .bind(now_micros)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if queue_it {
        if force {
            // A forced re-add replaces a pending or running attempt.
            state.queue.cancel(queue::ANALYZE, account, &job_key(account, &digest)).await?;
        }
        enqueue_analysis(state, account, &digest).await?;
    }
    tracing::info!(account, %digest, tag = %plan.tag.fulltag(), queued = queue_it, "image added");
    get_image(state, account, &digest)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("image {digest} was deleted while being added")))
}

/// The queue key of an image's analysis: the queue keeps one pending job
/// per key across accounts, and two accounts may add the same digest.
pub fn job_key(account: &str, digest: &str) -> String {
    format!("{account}/{digest}")
}

/// Queues the analysis of `digest` (already recorded) unless one is pending,
/// and sets it `not_analyzed`. Returns whether a job was added.
pub async fn enqueue_analysis(state: &AppState, account: &str, digest: &str) -> Result<bool, ServiceError> {
    sqlx::query(
        "UPDATE images SET analysis_status = 'not_analyzed', failure = NULL, last_updated = $1
         WHERE account = $2 AND digest = $3 AND analysis_status <> 'analyzing'",
    )
    .bind(now_rfc3339())
    .bind(account)
    .bind(digest)
    .execute(state.db.pool())
    .await?;
    state
        .queue
        .enqueue(
            queue::ANALYZE,
            account,
            &job_key(account, digest),
            &serde_json::json!({"digest": digest}),
            state.config.analyzer.max_attempts,
        )
        .await
}

/// Outcome of [`delete_image`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    Deleted,
    NotFound,
    /// Refused: the image is being analysed (and `force` was not given).
    Analyzing,
    /// Refused: the image is the current digest of these tags, which have
    /// active subscriptions (and `force` was not given).
    Subscribed(Vec<String>),
}

/// Removes an image: its rows, pending analysis and documents.
pub async fn delete_image(state: &AppState, account: &str, digest: &str, force: bool) -> Result<Deleted, ServiceError> {
    let Some(row) = image_row(state, account, digest).await? else { return Ok(Deleted::NotFound) };
    if row.analysis_status == AnalysisStatus::Analyzing && !force {
        return Ok(Deleted::Analyzing);
    }
    // As in Anchore: the current image of a watched tag is kept unless
    // forced, and forcing switches those subscriptions off.
    let mut watched = Vec::new();
    for tag in tags_of(state, account, &[digest.to_owned()]).await? {
        let fulltag = tag.fulltag();
        if latest_digest_for_tag(state, account, &fulltag).await?.as_deref() != Some(digest) {
            continue;
        }
        let active: Vec<_> = crate::subscriptions::list(state, account, Some(&fulltag), None)
            .await?
            .into_iter()
            .filter(|s| s.active)
            .collect();
        if active.is_empty() {
            continue;
        }
        if force {
            for subscription in active {
                crate::subscriptions::update(state, account, &subscription.subscription_id, Some(false), None).await?;
            }
        } else {
            watched.push(fulltag);
        }
    }
    if !watched.is_empty() {
        return Ok(Deleted::Subscribed(watched));
    }
    state.queue.cancel(queue::ANALYZE, account, &job_key(account, digest)).await?;
    let mut tx = state.db.pool().begin().await?;
    for table in ["images", "image_tags", "image_packages", "image_vulns", "image_reports"] {
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE account = $1 AND digest = $2")))
            .bind(account)
            .bind(digest)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    crate::evaluations::delete_for_image(state, account, digest).await?;
    // Rows first: once they are gone nothing reads the documents, so a
    // document that fails to go away is an orphan, never a half image.
    for name in IMAGE_BUCKETS {
        if let Err(error) = state.docs.delete(account, name, digest).await {
            tracing::warn!(%error, account, digest, bucket = name, "cannot delete an image document");
        }
    }
    tracing::info!(account, digest, "image deleted");
    Ok(Deleted::Deleted)
}

/// Every bucket holding a document keyed by the image digest.
pub const IMAGE_BUCKETS: [&str; 5] =
    [bucket::MANIFEST, bucket::SBOM, bucket::IMAGE_CONTENT, bucket::VULNERABILITY_SCAN, bucket::ANALYSIS];

/// The image whose image id (config digest hex) is `image_id`.
pub async fn digest_for_image_id(
    state: &AppState,
    account: &str,
    image_id: &str,
) -> Result<Option<String>, ServiceError> {
    let row = sqlx::query("SELECT digest FROM images WHERE account = $1 AND image_id = $2 ORDER BY created_seq DESC")
        .bind(account)
        .bind(image_id.strip_prefix("sha256:").unwrap_or(image_id))
        .fetch_optional(state.db.pool())
        .await?;
    Ok(row.map(|r| r.try_get("digest")).transpose()?)
}

/// Every tag of the account with its image, for `/summaries/imagetags`.
pub async fn tag_summaries(state: &AppState, account: &str) -> Result<Vec<(TagRow, ImageRow)>, ServiceError> {
    let images = list_images_rows(state, account).await?;
    let digests: Vec<String> = images.iter().map(|r| r.digest.clone()).collect();
    let tags = tags_of(state, account, &digests).await?;
    Ok(tags
        .into_iter()
        .filter_map(|tag| images.iter().find(|image| image.digest == tag.digest).map(|image| (tag, image.clone())))
        .collect())
}

async fn list_images_rows(state: &AppState, account: &str) -> Result<Vec<ImageRow>, ServiceError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {IMAGE_COLUMNS} FROM images WHERE account = $1 ORDER BY created_seq DESC"
    )))
    .bind(account)
    .fetch_all(state.db.pool())
    .await?;
    rows.iter().map(image_from_row).collect()
}

/// A value bound into a batch insert.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Int(i64),
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

/// Rows per multi-row INSERT, far below both engines' parameter limits.
const INSERT_BATCH_ROWS: usize = 200;

/// Inserts `rows` into `table` in batches inside `tx`.
pub async fn insert_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), ServiceError> {
    for batch in rows.chunks(INSERT_BATCH_ROWS) {
        let values: Vec<String> =
            (0..batch.len()).map(|row| format!("({})", placeholders(row * columns.len() + 1, columns.len()))).collect();
        let sql = format!("INSERT INTO {table} ({}) VALUES {}", columns.join(", "), values.join(", "));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in batch.iter().flatten() {
            query = match value {
                Value::Text(text) => query.bind(text.clone()),
                Value::Int(number) => query.bind(*number),
            };
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// What an analysis produced, ready to store.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub sbom: Sbom,
    /// The image manifest document (`manifest_data`).
    pub manifest: serde_json::Value,
}

/// Stores a finished analysis: the documents first (SBOM, manifest,
/// content listing, vulnerability report when there is vulnerability
/// data), then, in one transaction, the image row (`analyzed`), its package
/// index and its report index. Returns `false` (and writes no row) when the
/// image was deleted meanwhile.
pub async fn store_analysis(
    state: &AppState,
    account: &str,
    digest: &str,
    analysis: &Analysis,
) -> Result<bool, ServiceError> {
    let sbom = &analysis.sbom;
    state.docs.put(account, bucket::SBOM, digest, sbom.to_json().as_bytes()).await?;
    state.docs.put_json(account, bucket::MANIFEST, digest, &analysis.manifest).await?;
    state.docs.put_json(account, bucket::IMAGE_CONTENT, digest, &content::listing(sbom)).await?;
    let report = crate::vulns::compute(state, sbom).await?;
    if let Some((result, _)) = &report {
        state.docs.put_json(account, bucket::VULNERABILITY_SCAN, digest, result).await?;
    }
    let info = sbom.source.image.as_ref();
    let image_id = info.map(|i| i.config_digest.strip_prefix("sha256:").unwrap_or(&i.config_digest).to_owned());
    let arch = info.and_then(|i| i.platform.as_deref()).map(|p| p.split('/').nth(1).unwrap_or(p).to_owned());
    let size: u64 = sbom.layers.iter().filter_map(|l| l.size).sum();
    let now = now_rfc3339();
    let mut tx = state.db.pool().begin().await?;
    let updated = sqlx::query(
        "UPDATE images SET analysis_status = 'analyzed', image_id = $1, arch = $2, distro = $3, distro_version = $4,
                image_size = $5, layer_count = $6, failure = NULL, analyzed_at = $7, analyzed_seq = $8,
                last_updated = $7, record_version = record_version + 1
         WHERE account = $9 AND digest = $10",
    )
    .bind(&image_id)
    .bind(&arch)
    .bind(sbom.distro.as_ref().map(|d| d.id.clone()))
    .bind(sbom.distro.as_ref().and_then(|d| d.version_id.clone()))
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(i64::try_from(sbom.layers.len()).unwrap_or(i64::MAX))
    .bind(&now)
    .bind(Utc::now().timestamp_micros())
    .bind(account)
    .bind(digest)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    write_package_index(&mut tx, account, digest, sbom).await?;
    if let Some((result, stamp)) = &report {
        crate::vulns::write_index(&mut tx, account, digest, result, stamp).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Replaces the `image_packages` rows of an image with those of `sbom`, inside `tx`.
pub async fn write_package_index(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account: &str,
    digest: &str,
    sbom: &Sbom,
) -> Result<(), ServiceError> {
    sqlx::query("DELETE FROM image_packages WHERE account = $1 AND digest = $2")
        .bind(account)
        .bind(digest)
        .execute(&mut **tx)
        .await?;
    let rows = sbom
        .packages
        .iter()
        .map(|p| {
            vec![
                account.into(),
                digest.into(),
                p.name.as_str().into(),
                p.version.as_str().into(),
                content::anchore_type(p.package_type.as_str()).into(),
            ]
        })
        .collect();
    insert_rows(tx, "image_packages", &["account", "digest", "name", "version", "package_type"], rows).await
}

/// Marks an image's analysis failed with `reason`.
pub async fn mark_failed(state: &AppState, account: &str, digest: &str, reason: &str) -> Result<(), ServiceError> {
    sqlx::query(
        "UPDATE images SET analysis_status = 'analysis_failed', failure = $1, last_updated = $2,
                record_version = record_version + 1
         WHERE account = $3 AND digest = $4",
    )
    .bind(reason)
    .bind(now_rfc3339())
    .bind(account)
    .bind(digest)
    .execute(state.db.pool())
    .await?;
    Ok(())
}

/// Sets an image's analysis status (`analyzing` when a worker takes it,
/// `not_analyzed` when it goes back to the queue).
pub async fn set_status(
    state: &AppState,
    account: &str,
    digest: &str,
    status: AnalysisStatus,
) -> Result<(), ServiceError> {
    sqlx::query("UPDATE images SET analysis_status = $1, last_updated = $2 WHERE account = $3 AND digest = $4")
        .bind(status.as_str())
        .bind(now_rfc3339())
        .bind(account)
        .bind(digest)
        .execute(state.db.pool())
        .await?;
    Ok(())
}
