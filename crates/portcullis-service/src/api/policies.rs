//! Policy routes: bundles (`/policies`), the evaluation of an image
//! (`/images/{digest}/check`, `/images/by_id/{imageId}/check`) and the gate
//! catalog (`/system/policy_spec`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use portcullis_api::{
    GateSpec, PolicyBundleRecord, PolicyCheckQuery, PolicyCheckResult, PolicyEvaluationDetail, PolicyEvaluationRecord,
    PolicyQuery,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{PageQuery, Paged, json_body, paginate, query};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::evaluations::{self, StoredEvaluation};
use crate::policies::{self, Update};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, add_policy))
        .routes(routes!(get_policy, update_policy, delete_policy))
        .routes(routes!(check_image))
        .routes(routes!(check_image_by_id))
        .routes(routes!(policy_spec))
}

async fn with_detail(state: &AppState, record: PolicyBundleRecord, detail: bool) -> ApiResult<PolicyBundleRecord> {
    if detail { Ok(policies::with_document(state, record).await?) } else { Ok(record) }
}

/// The account's policy bundles (its first call installs the default bundle).
#[utoipa::path(get, path = "/policies", tag = "policies", params(PolicyQuery, portcullis_api::Page),
    responses((status = 200, body = Vec<PolicyBundleRecord>), (status = 401, description = "not authenticated")))]
async fn list_policies(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<PolicyQuery>, QueryRejection>,
    page: PageQuery,
) -> ApiResult<Paged<PolicyBundleRecord>> {
    let params = query(params)?;
    let mut records = Vec::new();
    for record in policies::list(&state, &caller.account).await? {
        records.push(with_detail(&state, record, params.detail.unwrap_or(false)).await?);
    }
    paginate(records, page)
}

/// Adds a bundle (JSON or YAML, v1 or v2 naming), inactive; a bundle with
/// the id of an existing one replaces its document.
#[utoipa::path(post, path = "/policies", tag = "policies", params(PolicyQuery),
    request_body(content = serde_json::Value, description = "the policy bundle"),
    responses((status = 200, body = PolicyBundleRecord),
        (status = 400, description = "invalid bundle; `detail.validation_details` lists each problem with its location")))]
async fn add_policy(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<PolicyQuery>, QueryRejection>,
    body: Bytes,
) -> ApiResult<Json<PolicyBundleRecord>> {
    let params = query(params)?;
    let bundle = policies::validate(&body)?;
    let record = policies::add(&state, &caller.account, &bundle).await?;
    Ok(Json(with_detail(&state, record, params.detail.unwrap_or(false)).await?))
}

/// One bundle, as a one-element list.
#[utoipa::path(get, path = "/policies/{policyId}", tag = "policies",
    params(("policyId" = String, Path, description = "the bundle id"), PolicyQuery),
    responses((status = 200, body = Vec<PolicyBundleRecord>), (status = 404, description = "no such bundle in the account")))]
async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(policy_id): Path<String>,
    params: Result<Query<PolicyQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<PolicyBundleRecord>>> {
    let params = query(params)?;
    let record = policies::get(&state, &caller.account, &policy_id).await?;
    Ok(Json(vec![with_detail(&state, record, params.detail.unwrap_or(false)).await?]))
}

/// What a `PUT /policies/{id}` body may carry (anchore-cli sends back the
/// whole record it read, with `active` set).
#[derive(Debug, Deserialize)]
struct UpdateBody {
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    policybundle: Option<serde_json::Value>,
}

/// Activates a bundle (`active: true`) and/or replaces its document
/// (`policybundle`). The active bundle cannot be deactivated.
#[utoipa::path(put, path = "/policies/{policyId}", tag = "policies",
    params(("policyId" = String, Path, description = "the bundle id"), PolicyQuery),
    request_body(content = PolicyBundleRecord),
    responses((status = 200, body = Vec<PolicyBundleRecord>), (status = 400, description = "invalid body or bundle"),
        (status = 404, description = "no such bundle in the account"),
        (status = 409, description = "deactivating the active bundle")))]
async fn update_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(policy_id): Path<String>,
    params: Result<Query<PolicyQuery>, QueryRejection>,
    body: Bytes,
) -> ApiResult<Json<Vec<PolicyBundleRecord>>> {
    let params = query(params)?;
    let request: UpdateBody = json_body(&body)?;
    let bundle = match &request.policybundle {
        Some(document) => {
            let bytes = serde_json::to_vec(document)
                .map_err(|error| ApiError::bad_request(format!("the policybundle cannot be read: {error}")))?;
            Some(policies::validate(&bytes)?)
        }
        None => None,
    };
    let update = Update { active: params.active.or(request.active), bundle };
    let record = policies::update(&state, &caller.account, &policy_id, update).await?;
    Ok(Json(vec![with_detail(&state, record, params.detail.unwrap_or(false)).await?]))
}

/// Deletes an inactive bundle.
#[utoipa::path(delete, path = "/policies/{policyId}", tag = "policies",
    params(("policyId" = String, Path, description = "the bundle id")),
    responses((status = 200, description = "deleted"), (status = 404, description = "no such bundle in the account"),
        (status = 409, description = "the bundle is the active one")))]
async fn delete_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(policy_id): Path<String>,
) -> ApiResult<StatusCode> {
    policies::delete(&state, &caller.account, &policy_id).await?;
    Ok(StatusCode::OK)
}

/// Evaluates the image as `tag` now (stored unless `interactive`), with the
/// active bundle or `policyId`; `history` adds the stored evaluations.
#[utoipa::path(get, path = "/images/{digest}/check", tag = "policies",
    params(("digest" = String, Path, description = "the image's manifest digest"), PolicyCheckQuery),
    responses((status = 200, body = Vec<PolicyCheckResult>),
        (status = 400, description = "no or a malformed tag, or a base_digest that is not an analysed image of the account"),
        (status = 404, description = "unknown image, image not analyzed (`detail.analysis_status`), or unknown policyId")))]
async fn check_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
    params: Result<Query<PolicyCheckQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<PolicyCheckResult>>> {
    check(&state, &caller.account, &digest, query(params)?).await
}

/// [`check_image`] for the image with this image id (config digest).
#[utoipa::path(get, path = "/images/by_id/{imageId}/check", tag = "policies",
    params(("imageId" = String, Path, description = "the image id (config digest hex)"), PolicyCheckQuery),
    responses((status = 200, body = Vec<PolicyCheckResult>),
        (status = 400, description = "no or a malformed tag, or a base_digest that is not an analysed image of the account"),
        (status = 404, description = "unknown image id, image not analyzed, or unknown policyId")))]
async fn check_image_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path(image_id): Path<String>,
    params: Result<Query<PolicyCheckQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<PolicyCheckResult>>> {
    let params = query(params)?;
    let digest = crate::images::digest_for_image_id(&state, &caller.account, &image_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no image with id {image_id}")))?;
    check(&state, &caller.account, &digest, params).await
}

async fn check(
    state: &AppState,
    account: &str,
    digest: &str,
    params: PolicyCheckQuery,
) -> ApiResult<Json<Vec<PolicyCheckResult>>> {
    if params.tag.trim().is_empty() {
        return Err(ApiError::bad_request("the tag query parameter is required"));
    }
    let detail = params.detail.unwrap_or(false);
    let interactive = params.interactive.unwrap_or(false);
    let choices = evaluations::Choices {
        policy_id: params.policy_id.as_deref(),
        base_digest: params.base_digest.as_deref(),
        store: !interactive,
    };
    let (fresh, document) = evaluations::evaluate(state, account, digest, &params.tag, choices).await?;
    let mut records = vec![record(&fresh, detail.then_some(document))];
    if params.history.unwrap_or(false) {
        for stored in evaluations::history(state, account, digest, &params.tag).await? {
            if stored.eval_id == fresh.eval_id {
                continue;
            }
            let document = if detail { Some(evaluations::document(state, &stored).await?) } else { None };
            records.push(record(&stored, document));
        }
    }
    let mut result = PolicyCheckResult::default();
    result.0.entry(digest.to_owned()).or_default().insert(params.tag, records);
    Ok(Json(vec![result]))
}

fn record(stored: &StoredEvaluation, document: Option<portcullis_api::PolicyEvaluation>) -> PolicyEvaluationRecord {
    PolicyEvaluationRecord {
        status: evaluations::status_name(stored.status).to_owned(),
        policy_id: stored.policy_id.clone(),
        last_evaluation: stored.created_at,
        detail: document.map(|result| PolicyEvaluationDetail { policy: result.bundle.clone(), result }),
    }
}

/// Every gate, trigger and parameter bundles may use (end-of-life gates included, marked `eol`).
#[utoipa::path(get, path = "/system/policy_spec", tag = "policies",
    responses((status = 200, body = Vec<GateSpec>), (status = 401, description = "not authenticated")))]
async fn policy_spec(_caller: Caller) -> Json<Vec<GateSpec>> {
    Json(policies::spec())
}
