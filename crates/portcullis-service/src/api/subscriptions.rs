//! Subscription routes (`/subscriptions`): what each account watches and is
//! notified about. `anchore-cli subscription activate|deactivate` looks a
//! subscription up by key and type, then PUTs `{active, subscription_key,
//! subscription_type}` to it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use portcullis_api::{Subscription, SubscriptionQuery, SubscriptionRequest, SubscriptionUpdate};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{PageQuery, Paged, json_body, paginate, query};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::subscriptions::{self, SubscriptionError};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_subscriptions, add_subscription)).routes(routes!(
        get_subscription,
        update_subscription,
        delete_subscription
    ))
}

impl From<SubscriptionError> for ApiError {
    fn from(error: SubscriptionError) -> Self {
        match error {
            SubscriptionError::Duplicate { .. } => ApiError::conflict(error.to_string()),
            SubscriptionError::Invalid(message) => ApiError::bad_request(message),
            SubscriptionError::Service(error) => error.into(),
        }
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("subscription {id} not found"))
}

/// The account's subscriptions, optionally of one key and/or type.
#[utoipa::path(get, path = "/subscriptions", tag = "subscriptions", params(SubscriptionQuery, portcullis_api::Page),
    responses((status = 200, body = Vec<Subscription>), (status = 400, description = "unknown type"),
        (status = 401, description = "not authenticated")))]
async fn list_subscriptions(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<SubscriptionQuery>, QueryRejection>,
    page: PageQuery,
) -> ApiResult<Paged<Subscription>> {
    let params = query(params)?;
    let found =
        subscriptions::list(&state, &caller.account, params.subscription_key.as_deref(), params.subscription_type)
            .await?;
    paginate(found, page)
}

/// Adds a subscription (active unless `active: false`); one per key and type.
#[utoipa::path(post, path = "/subscriptions", tag = "subscriptions", request_body = SubscriptionRequest,
    responses((status = 200, body = Vec<Subscription>), (status = 400, description = "invalid type or key"),
        (status = 409, description = "a subscription of this key and type exists")))]
async fn add_subscription(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Vec<Subscription>>> {
    let request: SubscriptionRequest = json_body(&body)?;
    let created = subscriptions::create(
        &state,
        &caller.account,
        request.subscription_type,
        &request.subscription_key,
        request.subscription_value.as_deref(),
        request.active.unwrap_or(true),
    )
    .await?;
    Ok(Json(vec![created]))
}

/// One subscription (a list of one, as Anchore answers).
#[utoipa::path(get, path = "/subscriptions/{subscription_id}", tag = "subscriptions",
    params(("subscription_id" = String, Path)),
    responses((status = 200, body = Vec<Subscription>), (status = 404, description = "no such subscription in the account")))]
async fn get_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Subscription>>> {
    let found = subscriptions::get(&state, &caller.account, &id).await?.ok_or_else(|| not_found(&id))?;
    Ok(Json(vec![found]))
}

/// Activates or deactivates a subscription, or replaces its value. A key or
/// type in the body must be the subscription's own.
#[utoipa::path(put, path = "/subscriptions/{subscription_id}", tag = "subscriptions",
    params(("subscription_id" = String, Path)), request_body = SubscriptionUpdate,
    responses((status = 200, body = Vec<Subscription>), (status = 400, description = "key or type differ"),
        (status = 404, description = "no such subscription in the account")))]
async fn update_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Vec<Subscription>>> {
    let update: SubscriptionUpdate = json_body(&body)?;
    let existing = subscriptions::get(&state, &caller.account, &id).await?.ok_or_else(|| not_found(&id))?;
    if update.subscription_key.as_ref().is_some_and(|key| key != &existing.subscription_key)
        || update.subscription_type.is_some_and(|kind| kind != existing.subscription_type)
    {
        return Err(ApiError::bad_request(format!(
            "subscription {id} is the {} subscription of {:?}; its key and type cannot be changed",
            existing.subscription_type, existing.subscription_key
        )));
    }
    let updated =
        subscriptions::update(&state, &caller.account, &id, update.active, update.subscription_value.as_deref())
            .await?
            .ok_or_else(|| not_found(&id))?;
    Ok(Json(vec![updated]))
}

/// Deletes a subscription (active or not).
#[utoipa::path(delete, path = "/subscriptions/{subscription_id}", tag = "subscriptions",
    params(("subscription_id" = String, Path)),
    responses((status = 200, description = "deleted"), (status = 404, description = "no such subscription in the account")))]
async fn delete_subscription(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<()> {
    if subscriptions::delete(&state, &caller.account, &id).await? { Ok(()) } else { Err(not_found(&id)) }
}
