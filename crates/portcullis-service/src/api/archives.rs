//! Analysis archive routes (`/archives`): the summary, archived images
//! (archive, list, get, delete) and archive rules. Restoring is
//! `POST /images` with `source.archive` (see the image routes).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use portcullis_api::{
    AnalysisArchiveAddResult, AnalysisArchiveTransitionRule, ArchiveRulePreview, ArchiveRulesQuery, ArchiveSummary,
    ArchivedAnalysis, DeleteArchivedImageQuery,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{json_body, query};
use crate::archive::{self, ArchiveError, rules};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Most digests one `POST /archives/images` may name, as in Anchore.
const MAX_DIGESTS: usize = 100;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(archive_summary))
        .routes(routes!(list_archived, archive_images))
        .routes(routes!(get_archived, delete_archived))
        .routes(routes!(list_rules, add_rule))
        .routes(routes!(get_rule, delete_rule))
        .routes(routes!(preview_rule))
}

/// The account's archive: images, tags and bytes (also per status) and rules.
#[utoipa::path(get, path = "/archives", tag = "archives",
    responses((status = 200, body = ArchiveSummary), (status = 401, description = "not authenticated")))]
async fn archive_summary(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ArchiveSummary>> {
    Ok(Json(archive::summary(&state, &caller.account).await?))
}

/// The account's archived images, newest archive first.
#[utoipa::path(get, path = "/archives/images", tag = "archives",
    responses((status = 200, body = Vec<ArchivedAnalysis>), (status = 401, description = "not authenticated")))]
async fn list_archived(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<ArchivedAnalysis>>> {
    Ok(Json(archive::list(&state, &caller.account).await?))
}

/// Archives analysed images (a list of 1 to 100 digests), keeping their
/// working copies. Every digest is checked first: an unknown image (404) or
/// one not analysed (409) archives nothing. Then one result per digest:
/// `archived`, or `error` with the reason in `detail`.
#[utoipa::path(post, path = "/archives/images", tag = "archives", request_body = Vec<String>,
    responses((status = 200, body = Vec<AnalysisArchiveAddResult>),
        (status = 400, description = "not a list of 1 to 100 digests"),
        (status = 404, description = "no such image"), (status = 409, description = "an image is not analyzed")))]
async fn archive_images(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Vec<AnalysisArchiveAddResult>>> {
    let mut digests: Vec<String> = json_body(&body)?;
    if digests.is_empty() || digests.len() > MAX_DIGESTS {
        return Err(ApiError::bad_request(format!(
            "the body must list 1 to {MAX_DIGESTS} image digests, not {}",
            digests.len()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    digests.retain(|digest| seen.insert(digest.clone()));
    for digest in &digests {
        archive::check_archivable(&state, &caller.account, digest).await?;
    }
    let mut results = Vec::new();
    for digest in digests {
        let result = match archive::archive_image(&state, &caller.account, &digest).await {
            Ok(archived) => AnalysisArchiveAddResult {
                digest,
                status: archived.status.as_str().to_owned(),
                detail: archived.detail,
            },
            // The failed attempt was undone (and recorded as an event); the other digests go on.
            Err(error) => {
                AnalysisArchiveAddResult { status: "error".to_owned(), detail: Some(error.to_string()), digest }
            }
        };
        results.push(result);
    }
    Ok(Json(results))
}

fn not_archived(digest: &str) -> ApiError {
    ArchiveError::NotArchived(digest.to_owned()).into()
}

/// One archived image.
#[utoipa::path(get, path = "/archives/images/{digest}", tag = "archives", params(("digest" = String, Path)),
    responses((status = 200, body = ArchivedAnalysis), (status = 404, description = "not in the archive")))]
async fn get_archived(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<ArchivedAnalysis>> {
    Ok(Json(archive::get(&state, &caller.account, &digest).await?.ok_or_else(|| not_archived(&digest))?))
}

/// Deletes an archived image (its tarball and rows); one still `archiving`
/// needs `force`. Answers the record with the status `deleted`.
#[utoipa::path(delete, path = "/archives/images/{digest}", tag = "archives",
    params(("digest" = String, Path), DeleteArchivedImageQuery),
    responses((status = 200, body = ArchivedAnalysis), (status = 404, description = "not in the archive"),
        (status = 409, description = "still archiving (use force)")))]
async fn delete_archived(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
    params: Result<Query<DeleteArchivedImageQuery>, QueryRejection>,
) -> ApiResult<Json<ArchivedAnalysis>> {
    let force = query(params)?.force.unwrap_or(false);
    Ok(Json(archive::delete_archived(&state, &caller.account, &digest, force).await?))
}

/// The account's archive rules, and the global ones unless `system_global=false`.
#[utoipa::path(get, path = "/archives/rules", tag = "archives", params(ArchiveRulesQuery),
    responses((status = 200, body = Vec<AnalysisArchiveTransitionRule>), (status = 400, description = "bad query")))]
async fn list_rules(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ArchiveRulesQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<AnalysisArchiveTransitionRule>>> {
    let include_global = query(params)?.system_global.unwrap_or(true);
    Ok(Json(rules::list(&state, &caller.account, include_global).await?))
}

/// Adds an archive rule. Only admins may set `system_global`;
/// `max_images_per_account` only on a global archive rule without selector
/// or exclude, and only one such rule may exist.
#[utoipa::path(post, path = "/archives/rules", tag = "archives", request_body = AnalysisArchiveTransitionRule,
    responses((status = 200, body = AnalysisArchiveTransitionRule),
        (status = 400, description = "invalid rule; `detail.field` names the field"),
        (status = 403, description = "system_global by a non-admin")))]
async fn add_rule(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<AnalysisArchiveTransitionRule>> {
    let rule: AnalysisArchiveTransitionRule = json_body(&body)?;
    Ok(Json(rules::create(&state, &caller.account, caller.is_admin, &rule).await?))
}

fn rule_not_found(rule_id: &str) -> ApiError {
    rules::RuleError::NotFound(rule_id.to_owned()).into()
}

/// One archive rule: the account's own, or a global one.
#[utoipa::path(get, path = "/archives/rules/{rule_id}", tag = "archives", params(("rule_id" = String, Path)),
    responses((status = 200, body = AnalysisArchiveTransitionRule), (status = 404, description = "no such rule")))]
async fn get_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(rule_id): Path<String>,
) -> ApiResult<Json<AnalysisArchiveTransitionRule>> {
    Ok(Json(rules::get(&state, &caller.account, &rule_id).await?.ok_or_else(|| rule_not_found(&rule_id))?))
}

/// Deletes one of the account's archive rules.
#[utoipa::path(delete, path = "/archives/rules/{rule_id}", tag = "archives", params(("rule_id" = String, Path)),
    responses((status = 200, description = "deleted"), (status = 403, description = "another account's global rule"),
        (status = 404, description = "no such rule")))]
async fn delete_rule(State(state): State<AppState>, caller: Caller, Path(rule_id): Path<String>) -> ApiResult<()> {
    Ok(rules::delete(&state, &caller.account, &rule_id).await?)
}

/// Extension: the digests the rule alone would archive (or delete) in the
/// caller's account if the rules ran now. Changes nothing.
#[utoipa::path(get, path = "/archives/rules/{rule_id}/preview", tag = "archives", params(("rule_id" = String, Path)),
    responses((status = 200, body = ArchiveRulePreview), (status = 404, description = "no such rule")))]
async fn preview_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(rule_id): Path<String>,
) -> ApiResult<Json<ArchiveRulePreview>> {
    let rule = rules::get(&state, &caller.account, &rule_id).await?.ok_or_else(|| rule_not_found(&rule_id))?;
    let transition = rule.transition;
    let digests = archive::candidates(&state, &caller.account, std::slice::from_ref(&rule), transition).await?;
    Ok(Json(ArchiveRulePreview { rule_id, transition, account: caller.account, digests }))
}
