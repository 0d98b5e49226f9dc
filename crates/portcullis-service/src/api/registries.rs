//! Registry credential routes (`/registries`). The registry in the path is
//! URL-quoted (it may hold `/` and a trailing `*`); passwords are never
//! returned.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use portcullis_api::{RegistryConfiguration, RegistryConfigurationRequest, RegistryQuery};
use portcullis_image::source::registry;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::images::query;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ServiceError};
use crate::registries::{self, DOCKER_V2, NewRegistry, RegistryAccess};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_registries, add_registry)).routes(routes!(
        get_registry,
        update_registry,
        delete_registry
    ))
}

fn not_found(registry: &str) -> ApiError {
    ApiError::not_found(format!("no credentials stored for registry {registry:?}"))
}

fn parse_request(body: &[u8]) -> ApiResult<RegistryConfigurationRequest> {
    let request: RegistryConfigurationRequest = serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("the request body is not valid: {error}")))?;
    let registry = request.registry.trim();
    if registry.is_empty() || registry.contains(char::is_whitespace) || registry.contains("://") {
        return Err(ApiError::bad_request(format!(
            "registry {:?} must be host[:port], optionally with /repository and a trailing *",
            request.registry
        )));
    }
    if request.registry_type.as_deref().is_some_and(|t| t != DOCKER_V2) {
        return Err(ApiError::bad_request(format!(
            "registry_type {:?} is not supported; only docker_v2 is",
            request.registry_type.as_deref().unwrap_or_default()
        )));
    }
    Ok(request)
}

/// Logs in to the registry (`GET /v2/`) with the given credentials.
async fn validate(state: &AppState, request: &RegistryConfigurationRequest) -> ApiResult<()> {
    let host = registries::record_host(&request.registry).to_owned();
    let access = RegistryAccess {
        registry: request.registry.clone(),
        username: request.registry_user.clone(),
        password: request.registry_pass.clone(),
        verify: request.registry_verify,
    };
    let options = registries::registry_options(state, &host, Some(&access));
    let target = host.clone();
    let pinged = tokio::task::spawn_blocking(move || registry::ping(&target, &options))
        .await
        .map_err(|e| ServiceError::Other(format!("registry validation task failed: {e}")))?;
    pinged.map_err(|error| {
        ApiError::bad_request(format!("cannot validate the credentials against registry {host}: {error}"))
            .with_detail(serde_json::json!({"error_code": "registry_validation_failed", "registry": host}))
    })
}

async fn save(
    state: &AppState,
    caller: &Caller,
    request: &RegistryConfigurationRequest,
    validate_first: bool,
    replace: bool,
) -> ApiResult<Json<Vec<RegistryConfiguration>>> {
    if validate_first {
        validate(state, request).await?;
    }
    let new = NewRegistry {
        registry: request.registry.trim(),
        registry_name: request.registry_name.as_deref(),
        user: &request.registry_user,
        password: &request.registry_pass,
        registry_type: request.registry_type.as_deref().unwrap_or(DOCKER_V2),
        verify: request.registry_verify,
    };
    if !registries::save(state, &caller.account, &new, replace).await? {
        return Err(if replace {
            not_found(new.registry)
        } else {
            ApiError::conflict(format!("registry {:?} already exists; update it with PUT", new.registry))
        });
    }
    let stored = registries::get(state, &caller.account, new.registry).await?.ok_or_else(|| not_found(new.registry))?;
    tracing::info!(account = %caller.account, registry = new.registry, "registry credentials saved");
    Ok(Json(vec![stored.to_api()?]))
}

/// The account's registry credentials (without passwords).
#[utoipa::path(get, path = "/registries", tag = "registries", params(portcullis_api::Page),
    responses((status = 200, body = Vec<RegistryConfiguration>), (status = 401, description = "not authenticated")))]
async fn list_registries(
    State(state): State<AppState>,
    caller: Caller,
    page: super::PageQuery,
) -> ApiResult<super::Paged<RegistryConfiguration>> {
    let records = registries::list(&state, &caller.account).await?;
    super::paginate(records.iter().map(|r| r.to_api()).collect::<Result<_, _>>()?, page)
}

/// Stores credentials for a registry; with `validate` (default true) they
/// are checked against the registry's `/v2/` first.
#[utoipa::path(post, path = "/registries", tag = "registries", params(RegistryQuery),
    request_body = RegistryConfigurationRequest,
    responses((status = 200, body = Vec<RegistryConfiguration>), (status = 400, description = "invalid, or validation failed"),
        (status = 409, description = "already exists")))]
async fn add_registry(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<RegistryQuery>, QueryRejection>,
    body: Bytes,
) -> ApiResult<Json<Vec<RegistryConfiguration>>> {
    let params = query(params)?;
    let request = parse_request(&body)?;
    save(&state, &caller, &request, params.validate.unwrap_or(true), false).await
}

/// One registry's credentials (a one-element list).
#[utoipa::path(get, path = "/registries/{registry}", tag = "registries", params(("registry" = String, Path)),
    responses((status = 200, body = Vec<RegistryConfiguration>), (status = 404, description = "not found")))]
async fn get_registry(
    State(state): State<AppState>,
    caller: Caller,
    Path(registry): Path<String>,
) -> ApiResult<Json<Vec<RegistryConfiguration>>> {
    let stored = registries::get(&state, &caller.account, &registry).await?.ok_or_else(|| not_found(&registry))?;
    Ok(Json(vec![stored.to_api()?]))
}

/// Replaces a registry's credentials.
#[utoipa::path(put, path = "/registries/{registry}", tag = "registries", params(("registry" = String, Path), RegistryQuery),
    request_body = RegistryConfigurationRequest,
    responses((status = 200, body = Vec<RegistryConfiguration>), (status = 400, description = "invalid, or validation failed"),
        (status = 404, description = "not found")))]
async fn update_registry(
    State(state): State<AppState>,
    caller: Caller,
    Path(registry): Path<String>,
    params: Result<Query<RegistryQuery>, QueryRejection>,
    body: Bytes,
) -> ApiResult<Json<Vec<RegistryConfiguration>>> {
    let params = query(params)?;
    let request = parse_request(&body)?;
    if request.registry.trim() != registry {
        return Err(ApiError::bad_request(format!(
            "the body names registry {:?} but the path {registry:?}",
            request.registry
        )));
    }
    if registries::get(&state, &caller.account, &registry).await?.is_none() {
        return Err(not_found(&registry));
    }
    save(&state, &caller, &request, params.validate.unwrap_or(true), true).await
}

/// Deletes a registry's credentials.
#[utoipa::path(delete, path = "/registries/{registry}", tag = "registries", params(("registry" = String, Path)),
    responses((status = 200, description = "deleted"), (status = 404, description = "not found")))]
async fn delete_registry(
    State(state): State<AppState>,
    caller: Caller,
    Path(registry): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    if !registries::delete(&state, &caller.account, &registry).await? {
        return Err(not_found(&registry));
    }
    Ok(Json(serde_json::json!([])))
}
