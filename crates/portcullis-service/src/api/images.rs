//! Image routes: add, list, get, delete, content, metadata, vulnerabilities,
//! the native SBOM, and the tag summary.

use std::io::Write as _;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_api::{
    AddImageQuery, AnalysisStatus, AnchoreImage, AnchoreImageTagSummary, ContentResponse, DeleteImageQuery,
    DeleteImageResponse, DeleteImageStatus, ImageAnalysisRequest, ImageStatus, ListImagesQuery, MetadataResponse,
    VulnerabilityQuery, VulnerabilityResponse, VulnerabilityType,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images::content::{self, CONTENT_TYPES, ContentListing, METADATA_TYPES};
use crate::images::{self, Deleted, ImageFilter, ImageRow};
use crate::state::{AppState, bucket};
use crate::vulns;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_image, list_images, delete_images))
        .routes(routes!(get_image, delete_image))
        .routes(routes!(get_image_by_id))
        .routes(routes!(content_types))
        .routes(routes!(get_content))
        .routes(routes!(get_content_by_id))
        .routes(routes!(metadata_types))
        .routes(routes!(get_metadata))
        .routes(routes!(vuln_types))
        .routes(routes!(get_vulns))
        .routes(routes!(get_vulns_by_id))
        .routes(routes!(native_sbom))
        .routes(routes!(tag_summaries))
}

/// A query string as an Anchore-shaped 400 when it does not parse.
pub(super) fn query<T>(query: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    query.map(|Query(query)| query).map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

fn not_found(digest: &str) -> ApiError {
    ApiError::not_found(format!("image {digest} not found"))
}

/// The image's row, 404 when the account has no such image.
async fn row(state: &AppState, account: &str, digest: &str) -> ApiResult<ImageRow> {
    images::image_row(state, account, digest).await?.ok_or_else(|| not_found(digest))
}

/// The row of an analysed image; 404 saying the status otherwise.
async fn analysed(state: &AppState, account: &str, digest: &str) -> ApiResult<ImageRow> {
    let row = row(state, account, digest).await?;
    if row.analysis_status != AnalysisStatus::Analyzed {
        return Err(ApiError::not_found(format!(
            "image {digest} is not analyzed yet (analysis_status: {})",
            row.analysis_status
        ))
        .with_detail(serde_json::json!({"analysis_status": row.analysis_status})));
    }
    Ok(row)
}

async fn digest_by_id(state: &AppState, account: &str, image_id: &str) -> ApiResult<String> {
    images::digest_for_image_id(state, account, image_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no image with image id {image_id}")))
}

/// Adds an image by tag or digest (looked up in its registry first) and
/// queues its analysis, or restores one from the analysis archive
/// (`source.archive`). Returns a one-element list.
#[utoipa::path(post, path = "/images", tag = "images", params(AddImageQuery), request_body = ImageAnalysisRequest,
    responses((status = 200, body = Vec<AnchoreImage>), (status = 400, description = "invalid request, or the registry refused"),
        (status = 404, description = "the registry has no such image, or no archived analysis to restore"),
        (status = 409, description = "a Dockerfile for a known image needs force, or the image to restore exists"),
        (status = 422, description = "the archived analysis to restore is corrupt")))]
async fn add_image(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<AddImageQuery>, QueryRejection>,
    body: Bytes,
) -> ApiResult<Json<Vec<AnchoreImage>>> {
    let params = query(params)?;
    let request: ImageAnalysisRequest = serde_json::from_slice(&body)
        .map_err(|error| ApiError::bad_request(format!("the request body is not valid: {error}")))?;
    let image = images::add_image(&state, &caller.account, &request, params.force.unwrap_or(false)).await?;
    // A restore from the analysis archive names no tag to subscribe to.
    if request.source.as_ref().is_some_and(|source| source.archive.is_some()) {
        return Ok(Json(vec![image]));
    }
    let fulltag = images::requested_tag(&request)?;
    crate::subscriptions::create_tag_subscriptions(
        &state,
        &caller.account,
        &fulltag,
        params.autosubscribe.unwrap_or(false),
    )
    .await?;
    Ok(Json(vec![image]))
}

/// The account's images, newest first (`page`/`limit` are an extension).
#[utoipa::path(get, path = "/images", tag = "images", params(ListImagesQuery),
    responses((status = 200, body = Vec<AnchoreImage>), (status = 400, description = "invalid filter")))]
async fn list_images(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ListImagesQuery>, QueryRejection>,
) -> ApiResult<super::Paged<AnchoreImage>> {
    let params = query(params)?;
    let image_status = match params.image_status.as_deref().unwrap_or("active") {
        "all" => None,
        "active" => Some(ImageStatus::Active),
        "inactive" => Some(ImageStatus::Inactive),
        "deleting" => Some(ImageStatus::Deleting),
        other => {
            return Err(ApiError::bad_request(format!(
                "image_status {other:?}: expected active, inactive, deleting or all"
            )));
        }
    };
    let page = (params.page.is_some() || params.limit.is_some())
        .then_some(portcullis_api::Page { page: params.page, limit: params.limit });
    // One row more than the page tells whether another page follows.
    let window = page.map(|page| (page.offset(100), u64::from(page.size(100)) + 1));
    let filter = ImageFilter {
        fulltag: params.fulltag.clone(),
        history: params.history.unwrap_or(false),
        image_status,
        analysis_status: params.analysis_status,
        window,
    };
    let mut found = images::list_images(&state, &caller.account, &filter).await?;
    let next = page.map(|page| {
        let size = usize::try_from(page.size(100)).unwrap_or(usize::MAX);
        let more = found.len() > size;
        found.truncate(size);
        more
    });
    Ok(super::Paged(found, next))
}

/// Query string of `DELETE /images`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct BulkDeleteQuery {
    /// Comma-separated digests.
    #[serde(rename = "imageDigests")]
    image_digests: String,
    #[serde(default, deserialize_with = "portcullis_api::query_bool::option")]
    force: Option<bool>,
}

fn delete_response(digest: &str, outcome: &Deleted) -> DeleteImageResponse {
    let (status, detail) = match outcome {
        Deleted::Deleted => (DeleteImageStatus::Deleting, None),
        Deleted::NotFound => (DeleteImageStatus::NotFound, Some("no such image".to_owned())),
        Deleted::Analyzing | Deleted::Subscribed(_) => (DeleteImageStatus::DeleteFailed, Some(refusal(outcome))),
    };
    DeleteImageResponse { digest: digest.to_owned(), status, detail }
}

/// Deletes several images; one result per digest.
#[utoipa::path(delete, path = "/images", tag = "images", params(BulkDeleteQuery),
    responses((status = 200, body = Vec<DeleteImageResponse>), (status = 400, description = "no digests")))]
async fn delete_images(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<BulkDeleteQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<DeleteImageResponse>>> {
    let params = query(params)?;
    let digests: Vec<&str> = params.image_digests.split(',').map(str::trim).filter(|d| !d.is_empty()).collect();
    if digests.is_empty() {
        return Err(ApiError::bad_request("imageDigests must list at least one digest"));
    }
    let mut results = Vec::new();
    for digest in digests {
        let outcome = images::delete_image(&state, &caller.account, digest, params.force.unwrap_or(false)).await?;
        results.push(delete_response(digest, &outcome));
    }
    Ok(Json(results))
}

/// One image, as a one-element list.
#[utoipa::path(get, path = "/images/{digest}", tag = "images", params(("digest" = String, Path)),
    responses((status = 200, body = Vec<AnchoreImage>), (status = 404, description = "no such image")))]
async fn get_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Vec<AnchoreImage>>> {
    let image = images::get_image(&state, &caller.account, &digest).await?.ok_or_else(|| not_found(&digest))?;
    Ok(Json(vec![image]))
}

/// Deletes an image: rows, documents and any pending analysis. Refused
/// (409) while it is being analysed unless `force`.
#[utoipa::path(delete, path = "/images/{digest}", tag = "images", params(("digest" = String, Path), DeleteImageQuery),
    responses((status = 200, body = DeleteImageResponse), (status = 404, description = "no such image"),
        (status = 409, description = "being analyzed")))]
async fn delete_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
    params: Result<Query<DeleteImageQuery>, QueryRejection>,
) -> ApiResult<Json<DeleteImageResponse>> {
    let params = query(params)?;
    let outcome = images::delete_image(&state, &caller.account, &digest, params.force.unwrap_or(false)).await?;
    match outcome {
        Deleted::Deleted => Ok(Json(delete_response(&digest, &outcome))),
        Deleted::NotFound => Err(not_found(&digest)),
        Deleted::Analyzing | Deleted::Subscribed(_) => {
            Err(ApiError::conflict(format!("image {digest}: {}", refusal(&outcome))))
        }
    }
}

/// Why a delete without `force` was refused.
fn refusal(outcome: &Deleted) -> String {
    match outcome {
        Deleted::Subscribed(tags) => format!(
            "the image is the current image of {} with active subscriptions; delete with force=true to \
             deactivate them and delete it",
            tags.join(", ")
        ),
        _ => "the image is being analyzed; delete with force=true to cancel the analysis".to_owned(),
    }
}

/// One image by its image id (the config digest).
#[utoipa::path(get, path = "/images/by_id/{imageId}", tag = "images", params(("imageId" = String, Path)),
    responses((status = 200, body = Vec<AnchoreImage>), (status = 404, description = "no such image")))]
async fn get_image_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path(image_id): Path<String>,
) -> ApiResult<Json<Vec<AnchoreImage>>> {
    let digest = digest_by_id(&state, &caller.account, &image_id).await?;
    get_image(State(state), caller, Path(digest)).await
}

/// The content types of an image.
#[utoipa::path(get, path = "/images/{digest}/content", tag = "images", params(("digest" = String, Path)),
    responses((status = 200, body = Vec<String>), (status = 404, description = "no such image")))]
async fn content_types(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Vec<&'static str>>> {
    row(&state, &caller.account, &digest).await?;
    Ok(Json(CONTENT_TYPES.to_vec()))
}

async fn content_of(state: &AppState, account: &str, digest: &str, kind: &str) -> ApiResult<Json<serde_json::Value>> {
    if !CONTENT_TYPES.contains(&kind) {
        return Err(ApiError::bad_request(format!(
            "unknown content type {kind:?}; the types are {}",
            CONTENT_TYPES.join(", ")
        )));
    }
    analysed(state, account, digest).await?;
    let listing: ContentListing =
        state.docs.get_json(account, bucket::IMAGE_CONTENT, digest).await?.ok_or_else(|| {
            ApiError::not_found(format!("the content of image {digest} is missing from the object store"))
        })?;
    let records = content::records(&listing, kind).unwrap_or_default();
    Ok(Json(
        serde_json::to_value(ContentResponse {
            image_digest: digest.to_owned(),
            content_type: kind.to_owned(),
            content: records,
        })
        .unwrap_or_default(),
    ))
}

/// One content type of an analysed image (`os`, `files`, `python`, ...).
#[utoipa::path(get, path = "/images/{digest}/content/{ctype}", tag = "images",
    params(("digest" = String, Path), ("ctype" = String, Path)),
    responses((status = 200, description = "ContentResponse"), (status = 400, description = "unknown type"),
        (status = 404, description = "no such image, or not analyzed yet")))]
async fn get_content(
    State(state): State<AppState>,
    caller: Caller,
    Path((digest, kind)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    content_of(&state, &caller.account, &digest, &kind).await
}

/// One content type of an analysed image, by image id.
#[utoipa::path(get, path = "/images/by_id/{imageId}/content/{ctype}", tag = "images",
    params(("imageId" = String, Path), ("ctype" = String, Path)),
    responses((status = 200, description = "ContentResponse"), (status = 404, description = "no such image")))]
async fn get_content_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path((image_id, kind)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let digest = digest_by_id(&state, &caller.account, &image_id).await?;
    content_of(&state, &caller.account, &digest, &kind).await
}

/// The metadata types of an image.
#[utoipa::path(get, path = "/images/{digest}/metadata", tag = "images", params(("digest" = String, Path)),
    responses((status = 200, body = Vec<String>), (status = 404, description = "no such image")))]
async fn metadata_types(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Vec<&'static str>>> {
    row(&state, &caller.account, &digest).await?;
    Ok(Json(METADATA_TYPES.to_vec()))
}

/// `manifest`, `docker_history` or `dockerfile` of an analysed image, base64.
#[utoipa::path(get, path = "/images/{digest}/metadata/{mtype}", tag = "images",
    params(("digest" = String, Path), ("mtype" = String, Path)),
    responses((status = 200, body = MetadataResponse), (status = 400, description = "unknown type"),
        (status = 404, description = "no such image, or not analyzed yet")))]
async fn get_metadata(
    State(state): State<AppState>,
    caller: Caller,
    Path((digest, kind)): Path<(String, String)>,
) -> ApiResult<Json<MetadataResponse>> {
    if !METADATA_TYPES.contains(&kind.as_str()) {
        return Err(ApiError::bad_request(format!(
            "unknown metadata type {kind:?}; the types are {}",
            METADATA_TYPES.join(", ")
        )));
    }
    let account = caller.account.as_str();
    analysed(&state, account, &digest).await?;
    let missing = || ApiError::not_found(format!("the analysis of image {digest} is missing from the object store"));
    let bytes = if kind == "manifest" {
        state.docs.get(account, bucket::MANIFEST, &digest).await?.ok_or_else(missing)?
    } else {
        let sbom = images::load_sbom(&state, account, &digest).await?.ok_or_else(missing)?;
        if kind == "dockerfile" {
            sbom.dockerfile.map(|d| d.text.into_bytes()).unwrap_or_default()
        } else {
            let history: Vec<serde_json::Value> = sbom
                .source
                .image
                .map(|image| image.history)
                .unwrap_or_default()
                .into_iter()
                .map(|entry| {
                    serde_json::json!({
                        "Created": entry.created, "CreatedBy": entry.created_by,
                        "Comment": entry.comment, "EmptyLayer": entry.empty_layer,
                    })
                })
                .collect();
            serde_json::to_vec(&history).unwrap_or_default()
        }
    };
    Ok(Json(MetadataResponse { image_digest: digest, metadata_type: kind, metadata: STANDARD.encode(bytes) }))
}

/// The vulnerability types of an image.
#[utoipa::path(get, path = "/images/{digest}/vuln", tag = "images", params(("digest" = String, Path)),
    responses((status = 200, body = Vec<String>), (status = 404, description = "no such image")))]
async fn vuln_types(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Vec<&'static str>>> {
    row(&state, &caller.account, &digest).await?;
    Ok(Json(VulnerabilityType::ALL.iter().map(|kind| kind.as_str()).collect()))
}

async fn vulns_of(
    state: &AppState,
    account: &str,
    digest: &str,
    kind: &str,
    params: &VulnerabilityQuery,
) -> ApiResult<Json<VulnerabilityResponse>> {
    let kind = VulnerabilityType::parse(kind).ok_or_else(|| {
        ApiError::bad_request(format!("unknown vulnerability type {kind:?}; the types are os, non-os, all"))
    })?;
    analysed(state, account, digest).await?;
    if vulns::data_stamp(state).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no vulnerability data has been synced yet: sync the feeds (POST /system/feeds?sync=true)",
        ));
    }
    let result = if params.force_refresh.unwrap_or(false) {
        vulns::recompute(state, account, digest).await?
    } else {
        vulns::scan_result(state, account, digest).await?
    }
    .ok_or_else(|| not_found(digest))?;
    Ok(Json(VulnerabilityResponse {
        image_digest: digest.to_owned(),
        vulnerability_type: kind,
        vulnerabilities: vulns::anchore_listing(&result, kind, params.vendor_only.unwrap_or(true)),
    }))
}

/// The vulnerabilities of an analysed image: `os`, `non-os` or `all`.
/// `vendor_only` (default true) hides what the vendor will not fix.
#[utoipa::path(get, path = "/images/{digest}/vuln/{vtype}", tag = "images",
    params(("digest" = String, Path), ("vtype" = String, Path), VulnerabilityQuery),
    responses((status = 200, body = VulnerabilityResponse), (status = 400, description = "unknown type"),
        (status = 404, description = "no such image, or not analyzed yet"),
        (status = 503, description = "no vulnerability data synced yet")))]
async fn get_vulns(
    State(state): State<AppState>,
    caller: Caller,
    Path((digest, kind)): Path<(String, String)>,
    params: Result<Query<VulnerabilityQuery>, QueryRejection>,
) -> ApiResult<Json<VulnerabilityResponse>> {
    let params = query(params)?;
    vulns_of(&state, &caller.account, &digest, &kind, &params).await
}

/// The vulnerabilities of an analysed image, by image id.
#[utoipa::path(get, path = "/images/by_id/{imageId}/vuln/{vtype}", tag = "images",
    params(("imageId" = String, Path), ("vtype" = String, Path), VulnerabilityQuery),
    responses((status = 200, body = VulnerabilityResponse), (status = 404, description = "no such image")))]
async fn get_vulns_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path((image_id, kind)): Path<(String, String)>,
    params: Result<Query<VulnerabilityQuery>, QueryRejection>,
) -> ApiResult<Json<VulnerabilityResponse>> {
    let params = query(params)?;
    let digest = digest_by_id(&state, &caller.account, &image_id).await?;
    vulns_of(&state, &caller.account, &digest, &kind, &params).await
}

/// The native SBOM (portcullis JSON, `docs/sbom-json.md`), gzip-compressed.
#[utoipa::path(get, path = "/images/{digest}/sboms/native", tag = "images", params(("digest" = String, Path)),
    responses((status = 200, content_type = "application/gzip", description = "gzip of the SBOM JSON"),
        (status = 404, description = "no such image, or not analyzed yet")))]
async fn native_sbom(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<impl IntoResponse> {
    analysed(&state, &caller.account, &digest).await?;
    let bytes =
        state.docs.get(&caller.account, bucket::SBOM, &digest).await?.ok_or_else(|| {
            ApiError::not_found(format!("the SBOM of image {digest} is missing from the object store"))
        })?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let gzipped = encoder
        .write_all(&bytes)
        .and_then(|()| encoder.finish())
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("compressing the SBOM: {e}")))?;
    let disposition = format!("attachment; filename=\"{}.sbom.json.gz\"", digest.replace(':', "-"));
    Ok(([(header::CONTENT_TYPE, "application/gzip".to_owned()), (header::CONTENT_DISPOSITION, disposition)], gzipped))
}

/// Every tag of the account with its image (times in epoch seconds).
#[utoipa::path(get, path = "/summaries/imagetags", tag = "images",
    responses((status = 200, body = Vec<AnchoreImageTagSummary>)))]
async fn tag_summaries(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<AnchoreImageTagSummary>>> {
    let seconds = |text: &str| -> ApiResult<i64> { Ok(crate::schema::stored_time(text)?.timestamp()) };
    let mut summaries = Vec::new();
    for (tag, image) in images::tag_summaries(&state, &caller.account).await? {
        summaries.push(AnchoreImageTagSummary {
            image_digest: image.digest.clone(),
            parent_digest: image.parent_digest.clone(),
            image_id: image.image_id.clone(),
            analysis_status: image.analysis_status,
            image_status: image.image_status,
            fulltag: tag.fulltag(),
            created_at: seconds(&image.created_at)?,
            analyzed_at: image.analyzed_at.as_deref().map(seconds).transpose()?,
            tag_detected_at: seconds(&tag.tag_detected_at)?,
        });
    }
    Ok(Json(summaries))
}
