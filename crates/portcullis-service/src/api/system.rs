//! System routes: `/status`, `/system` and its services, error codes, feeds
//! (`/system/feeds...`) and the work queue (`/system/queue...`, admin).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use portcullis_api::{
    AnchoreErrorCode, FeedGroupMetadata, FeedMetadata, FeedSyncQuery, FeedSyncResult, FeedToggleQuery, ServiceStatus,
    StatusResponse, SystemStatus,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::query;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::queue::QueueEntry;
use crate::state::AppState;
use crate::{feeds, scheduler, system};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(system_status))
        .routes(routes!(list_services))
        .routes(routes!(services_named))
        .routes(routes!(service_on_host, delete_service))
        .routes(routes!(error_codes))
        .routes(routes!(list_feeds, sync_feeds))
        .routes(routes!(toggle_feed, delete_feed))
        .routes(routes!(toggle_group))
        .routes(routes!(list_queue))
        .routes(routes!(requeue))
}

/// This process: up when its database answers.
#[utoipa::path(get, path = "/status", tag = "system", responses((status = 200, body = StatusResponse), (status = 401)))]
async fn status(State(state): State<AppState>, _caller: Caller) -> Json<StatusResponse> {
    Json(system::status(&state).await)
}

/// Every registered service of every process sharing the database.
#[utoipa::path(get, path = "/system", tag = "system", responses((status = 200, body = SystemStatus), (status = 401)))]
async fn system_status(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<SystemStatus>> {
    Ok(Json(SystemStatus { service_states: system::services(&state, None, None).await? }))
}

#[utoipa::path(get, path = "/system/services", tag = "system",
    responses((status = 200, body = Vec<ServiceStatus>), (status = 401)))]
async fn list_services(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Vec<ServiceStatus>>> {
    Ok(Json(system::services(&state, None, None).await?))
}

/// The instances of one service (`apiext`, `policy_engine`, `analyzer`, `catalog`, `simplequeue`).
#[utoipa::path(get, path = "/system/services/{servicename}", tag = "system", params(("servicename" = String, Path)),
    responses((status = 200, body = Vec<ServiceStatus>), (status = 404)))]
async fn services_named(
    State(state): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<ServiceStatus>>> {
    let found = system::services(&state, Some(&name), None).await?;
    if found.is_empty() {
        return Err(ApiError::not_found(format!("no service {name:?} is registered")));
    }
    Ok(Json(found))
}

#[utoipa::path(get, path = "/system/services/{servicename}/{hostid}", tag = "system",
    params(("servicename" = String, Path), ("hostid" = String, Path)),
    responses((status = 200, body = Vec<ServiceStatus>), (status = 404)))]
async fn service_on_host(
    State(state): State<AppState>,
    _caller: Caller,
    Path((name, host)): Path<(String, String)>,
) -> ApiResult<Json<Vec<ServiceStatus>>> {
    let found = system::services(&state, Some(&name), Some(&host)).await?;
    if found.is_empty() {
        return Err(ApiError::not_found(format!("no service {name:?} is registered on host {host:?}")));
    }
    Ok(Json(found))
}

/// Removes the record of a service that is down (its process died).
#[utoipa::path(delete, path = "/system/services/{servicename}/{hostid}", tag = "system",
    params(("servicename" = String, Path), ("hostid" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409, description = "the service is up")))]
async fn delete_service(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, host)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    system::delete_service(&state, &name, &host).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The `error_type` values error answers carry.
#[utoipa::path(get, path = "/system/error_codes", tag = "system",
    responses((status = 200, body = Vec<AnchoreErrorCode>), (status = 401)))]
async fn error_codes(_caller: Caller) -> Json<Vec<AnchoreErrorCode>> {
    Json(system::error_codes())
}

/// Feeds (sources of vulnerability data) and their groups, with record
/// counts and last sync; configured feeds not synced yet have no groups.
#[utoipa::path(get, path = "/system/feeds", tag = "feeds", responses((status = 200, body = Vec<FeedMetadata>), (status = 401)))]
async fn list_feeds(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Vec<FeedMetadata>>> {
    Ok(Json(feeds::list(&state).await?))
}

/// Syncs the enabled feeds now and answers with the result (`flush=true`
/// parses every file again); `sync=false` only makes the scheduled sync due.
#[utoipa::path(post, path = "/system/feeds", tag = "feeds", params(FeedSyncQuery),
    responses((status = 200, body = Vec<FeedSyncResult>), (status = 202, description = "sync=false: scheduled"),
        (status = 400), (status = 403), (status = 409, description = "a sync is already running")))]
async fn sync_feeds(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<FeedSyncQuery>, QueryRejection>,
) -> ApiResult<(StatusCode, Json<Vec<FeedSyncResult>>)> {
    caller.require_admin()?;
    let params = query(params)?;
    let flush = params.flush.unwrap_or(false);
    if params.sync == Some(false) {
        if flush {
            return Err(ApiError::bad_request("flush=true needs sync=true: a scheduled sync never flushes"));
        }
        if !state.config.feeds.enabled {
            return Err(ApiError::bad_request(
                "the scheduled feed sync is off (feeds.enabled: false): sync now with sync=true",
            ));
        }
        scheduler::trigger(&state, feeds::FEED_SYNC_SCHEDULE).await?;
        return Ok((StatusCode::ACCEPTED, Json(Vec::new())));
    }
    Ok((StatusCode::OK, Json(feeds::sync_now(&state, flush).await?)))
}

fn enabled_flag(params: Result<Query<FeedToggleQuery>, QueryRejection>) -> ApiResult<bool> {
    query(params)?.enabled.ok_or_else(|| ApiError::bad_request("the query parameter enabled=true|false is required"))
}

/// Enables or disables a feed; a disabled feed is left out of syncs.
#[utoipa::path(put, path = "/system/feeds/{feed}", tag = "feeds", params(("feed" = String, Path), FeedToggleQuery),
    responses((status = 200, body = FeedMetadata), (status = 400), (status = 403), (status = 404)))]
async fn toggle_feed(
    State(state): State<AppState>,
    caller: Caller,
    Path(feed): Path<String>,
    params: Result<Query<FeedToggleQuery>, QueryRejection>,
) -> ApiResult<Json<FeedMetadata>> {
    caller.require_admin()?;
    let enabled = enabled_flag(params)?;
    Ok(Json(feeds::set_feed_enabled(&state, &feed, enabled).await?))
}

/// Deletes the data of a disabled feed.
#[utoipa::path(delete, path = "/system/feeds/{feed}", tag = "feeds", params(("feed" = String, Path)),
    responses((status = 204), (status = 400, description = "the feed is enabled"), (status = 403), (status = 404),
        (status = 409, description = "a sync is running")))]
async fn delete_feed(State(state): State<AppState>, caller: Caller, Path(feed): Path<String>) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    feeds::delete_feed(&state, &feed).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records a group toggle, shown by `GET /system/feeds`; the group's data is
/// still synced with its feed (a feed is synced as a whole).
#[utoipa::path(put, path = "/system/feeds/{feed}/{group}", tag = "feeds",
    params(("feed" = String, Path), ("group" = String, Path), FeedToggleQuery),
    responses((status = 200, body = FeedGroupMetadata), (status = 400), (status = 403), (status = 404)))]
async fn toggle_group(
    State(state): State<AppState>,
    caller: Caller,
    Path((feed, group)): Path<(String, String)>,
    params: Result<Query<FeedToggleQuery>, QueryRejection>,
) -> ApiResult<Json<FeedGroupMetadata>> {
    caller.require_admin()?;
    let enabled = enabled_flag(params)?;
    Ok(Json(feeds::set_group_enabled(&state, &feed, &group, enabled).await?))
}

const QUEUE_STATES: [&str; 5] = ["queued", "leased", "done", "failed", "cancelled"];
const QUEUE_LIMIT_DEFAULT: u32 = 100;
const QUEUE_LIMIT_MAX: u32 = 1000;

/// Query string of `GET /system/queue`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct QueueQuery {
    /// One queue, e.g. `images_to_analyze`; all when absent.
    #[serde(default)]
    queue: Option<String>,
    /// `queued`, `leased`, `done`, `failed` or `cancelled`; all when absent.
    #[serde(default)]
    state: Option<String>,
    /// At most this many jobs, newest first (default 100, at most 1000).
    #[serde(default)]
    limit: Option<u32>,
}

/// Jobs of the work queue, newest first.
#[utoipa::path(get, path = "/system/queue", tag = "system", params(QueueQuery),
    responses((status = 200, body = Vec<QueueEntry>), (status = 400), (status = 403)))]
async fn list_queue(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<QueueQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<QueueEntry>>> {
    caller.require_admin()?;
    let params = query(params)?;
    if let Some(wanted) = params.state.as_deref().filter(|s| !QUEUE_STATES.contains(s)) {
        return Err(ApiError::bad_request(format!(
            "unknown job state {wanted:?}: the states are {}",
            QUEUE_STATES.join(", ")
        )));
    }
    let limit = params.limit.unwrap_or(QUEUE_LIMIT_DEFAULT);
    if !(1..=QUEUE_LIMIT_MAX).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be 1 to {QUEUE_LIMIT_MAX}, not {limit}")));
    }
    let jobs = state.queue.list(params.queue.as_deref(), params.state.as_deref(), i64::from(limit)).await?;
    Ok(Json(jobs))
}

/// Queues a failed, cancelled, finished or abandoned job again with fresh
/// attempts; an image analysis also sets the image back to `not_analyzed`.
#[utoipa::path(post, path = "/system/queue/{id}/requeue", tag = "system", params(("id" = i64, Path)),
    responses((status = 200, body = QueueEntry, description = "the new job"), (status = 403), (status = 404),
        (status = 409, description = "the job is still queued or running")))]
async fn requeue(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<QueueEntry>> {
    caller.require_admin()?;
    let id: i64 = id.parse().map_err(|_| ApiError::bad_request(format!("job id {id:?} is not a number")))?;
    Ok(Json(system::requeue(&state, id).await?))
}
