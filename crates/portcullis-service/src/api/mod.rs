//! The HTTP API: Anchore Engine's v1 routes under `/v1`, plus `/health`,
//! `/version`, `/metrics` and the OpenAPI document.
//!
//! Each route group is one module exposing `routes()`; handlers carry
//! `#[utoipa::path]` so the OpenAPI document is generated from the code that
//! serves it.

use axum::Json;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The Anchore API version whose shapes the routes keep; anchore-cli reads
/// it from `/v1/swagger.json` to pick request forms.
pub const ANCHORE_API_VERSION: &str = "0.1.20";

#[derive(OpenApi)]
#[openapi(info(title = "Portcullis API", description = "Anchore Engine v1-compatible API of Portcullis"))]
struct ApiDoc;

/// The whole application router.
pub fn router(state: AppState) -> axum::Router {
    let (v1, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(root))
        .routes(routes!(oauth_token))
        .split_for_parts();
    openapi.info.version = ANCHORE_API_VERSION.to_owned();
    openapi.servers = Some(vec![utoipa::openapi::Server::new("/v1")]);
    let document = std::sync::Arc::new(openapi);
    let doc = {
        let document = document.clone();
        move || {
            let document = document.clone();
            async move { Json(document.as_ref().clone()) }
        }
    };
    let v1 = v1
        .route("/swagger.json", get(doc.clone()))
        .route("/openapi.json", get(doc.clone()))
        .route("/health", get(health))
        .route("/version", get(version));
    axum::Router::new()
        .nest("/v1", v1)
        // Nesting matches `/v1` only; clients also ask for `/v1/`.
        .route("/v1/", get(root))
        .route("/health", get(health))
        .route("/version", get(version))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(doc))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_request_bytes))
        .with_state(state)
}

/// Access check: answers 200 to any authenticated caller.
#[utoipa::path(get, path = "/", tag = "meta", responses((status = 200, description = "authenticated")))]
async fn root(_caller: Caller) -> &'static str {
    "v1"
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query("SELECT 1").execute(state.db.pool()).await {
        Ok(_) => (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "unavailable", "detail": format!("database: {error}")})),
        ),
    }
}

async fn version() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "service": {"version": env!("CARGO_PKG_VERSION")},
        "api": {"version": ANCHORE_API_VERSION},
        "db": {"schema_version": crate::schema::MIGRATIONS.len().to_string()},
    }))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    crate::metrics::refresh_gauges(&state).await;
    let body = state.metrics.as_ref().map(|handle| handle.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

#[derive(Debug, Deserialize)]
struct TokenRequest {
    #[serde(default)]
    grant_type: Option<String>,
    username: String,
    password: String,
}

/// Exchanges a username and password for a bearer token (OAuth2 password grant).
#[utoipa::path(post, path = "/oauth/token", tag = "meta",
    responses((status = 200, description = "`{access_token, token_type: bearer, expires_in}`"), (status = 401, description = "bad credentials")))]
async fn oauth_token(State(state): State<AppState>, Form(request): Form<TokenRequest>) -> ApiResult<impl IntoResponse> {
    if request.grant_type.as_deref().is_some_and(|g| g != "password") {
        return Err(ApiError::bad_request("only grant_type=password is supported"));
    }
    let token = auth::issue_token(&state, &request.username, &request.password)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "invalid credentials"))?;
    Ok(Json(serde_json::json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": auth::TOKEN_TTL_SECONDS,
    })))
}
