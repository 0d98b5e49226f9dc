//! Webhook administration: a test delivery (`POST /system/webhooks/{type}/test`,
//! Anchore's), and the notification queue with its dead letters
//! (`/system/notifications`, Portcullis'). All admin-only.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use portcullis_api::SubscriptionType;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::query;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::notifications::{self, NotificationRecord};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(test_webhook))
        .routes(routes!(list_notifications))
        .routes(routes!(get_notification))
        .routes(routes!(retry_notification))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TestQuery {
    /// The notification shape to send: `tag_update` (default),
    /// `analysis_update`, `policy_eval` or `vuln_update`.
    notification_type: Option<String>,
}

/// What a test delivery came to.
#[derive(Debug, Serialize, ToSchema)]
struct TestResult {
    webhook_type: String,
    notification_type: String,
    /// The URL posted to (placeholders substituted).
    url: String,
    /// The receiver's HTTP status.
    status_code: Option<u16>,
    delivered: bool,
}

/// Sends a synthetic notification to the endpoint configured under
/// `webhook_type` (`general` or a notification type) now, once, and reports
/// what the receiver answered.
#[utoipa::path(post, path = "/system/webhooks/{webhook_type}/test", tag = "system",
    params(("webhook_type" = String, Path), TestQuery),
    responses((status = 200, body = TestResult), (status = 400, description = "no such webhook configured, or unknown type"),
        (status = 403, description = "not an admin"), (status = 502, description = "the receiver failed or is unreachable")))]
async fn test_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_type): Path<String>,
    params: Result<Query<TestQuery>, QueryRejection>,
) -> ApiResult<Json<TestResult>> {
    caller.require_admin()?;
    let params = query(params)?;
    let type_name = params.notification_type.unwrap_or_else(|| "tag_update".to_owned());
    let kind =
        SubscriptionType::parse(&type_name).filter(|kind| *kind != SubscriptionType::RepoUpdate).ok_or_else(|| {
            ApiError::bad_request(format!(
                "notification_type={type_name:?}: expected tag_update, analysis_update, policy_eval or vuln_update"
            ))
        })?;
    let endpoint = notifications::named_endpoint(&state.config.webhooks, &webhook_type).ok_or_else(|| {
        ApiError::bad_request(format!("No Webhook Configuration found for type={webhook_type}"))
            .with_detail(serde_json::json!({"configured": state.config.webhooks.endpoints.keys().collect::<Vec<_>>()}))
    })?;
    let attempt = notifications::send_test(&state, &endpoint, &caller.account, kind).await?;
    let result = TestResult {
        webhook_type,
        notification_type: type_name,
        url: attempt.url,
        status_code: attempt.status,
        delivered: attempt.error.is_none(),
    };
    match attempt.error {
        None => Ok(Json(result)),
        Some(error) => {
            Err(ApiError::new(StatusCode::BAD_GATEWAY, format!("the test notification was not delivered: {error}"))
                .with_detail(serde_json::to_value(&result).unwrap_or_default()))
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct NotificationsQuery {
    /// `pending`, `delivered` or `dead`; every state when absent.
    state: Option<String>,
    /// Only this account's notifications.
    account: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    limit: Option<u32>,
}

/// Stored notifications (pending, delivered in the last week, dead), newest first.
#[utoipa::path(get, path = "/system/notifications", tag = "system", params(NotificationsQuery),
    responses((status = 200, body = Vec<NotificationRecord>), (status = 400, description = "unknown state"),
        (status = 403, description = "not an admin")))]
async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<NotificationsQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<NotificationRecord>>> {
    caller.require_admin()?;
    let params = query(params)?;
    if let Some(wanted) = &params.state
        && !["pending", "delivered", "dead"].contains(&wanted.as_str())
    {
        return Err(ApiError::bad_request(format!("state={wanted:?}: the states are pending, delivered and dead")));
    }
    let limit = i64::from(params.limit.filter(|&l| l > 0).unwrap_or(100).min(1000));
    Ok(Json(notifications::list(&state, params.state.as_deref(), params.account.as_deref(), limit).await?))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("notification {id} not found"))
}

/// One stored notification.
#[utoipa::path(get, path = "/system/notifications/{notification_id}", tag = "system",
    params(("notification_id" = String, Path)),
    responses((status = 200, body = NotificationRecord), (status = 403, description = "not an admin"),
        (status = 404, description = "no such notification")))]
async fn get_notification(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NotificationRecord>> {
    caller.require_admin()?;
    Ok(Json(notifications::get(&state, &id).await?.ok_or_else(|| not_found(&id))?))
}

/// Queues a dead (or delivered) notification again, with a fresh retry window.
#[utoipa::path(post, path = "/system/notifications/{notification_id}/retry", tag = "system",
    params(("notification_id" = String, Path)),
    responses((status = 200, body = NotificationRecord), (status = 403, description = "not an admin"),
        (status = 404, description = "no such notification"), (status = 409, description = "it is still pending")))]
async fn retry_notification(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NotificationRecord>> {
    caller.require_admin()?;
    match notifications::replay(&state, &id).await? {
        None => Err(not_found(&id)),
        Some(false) => Err(ApiError::conflict(format!("notification {id} is still pending; it will be retried"))),
        Some(true) => Ok(Json(notifications::get(&state, &id).await?.ok_or_else(|| not_found(&id))?)),
    }
}
