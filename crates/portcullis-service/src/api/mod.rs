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

mod accounts;
mod archives;
mod events;
mod images;
mod policies;
mod query;
mod registries;
mod repositories;
mod subscriptions;
mod system;
mod webhooks;

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
        .merge(policies::routes())
        .merge(accounts::routes())
        .merge(system::routes())
        .merge(subscriptions::routes())
        .merge(repositories::routes())
        .merge(events::routes())
        .merge(webhooks::routes())
        .merge(images::routes())
        .merge(registries::routes())
        .merge(query::routes())
        .merge(archives::routes())
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
        .layer(axum::middleware::from_fn(track_request))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_request_bytes))
        .with_state(state)
}

/// A query string, as an Anchore-shaped 400 when it does not parse.
pub(crate) fn query<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<T> {
    query.map(|axum::extract::Query(query)| query).map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

/// Parameters of the routes whose Anchore answer is a bare list.
pub(crate) type PageQuery =
    Result<axum::extract::Query<portcullis_api::Page>, axum::extract::rejection::QueryRejection>;

/// A bare-list answer, as Anchore gives it, that `page`/`limit` may cut
/// into pages: without them the whole list; with them one page (100 items
/// unless `limit` says otherwise) and the header `x-next-page: true|false`.
pub(crate) struct Paged<T>(Vec<T>, Option<bool>);

pub(crate) fn paginate<T>(items: Vec<T>, page: PageQuery) -> ApiResult<Paged<T>> {
    let page = query(page)?;
    if page.page.is_none() && page.limit.is_none() {
        return Ok(Paged(items, None));
    }
    let size = usize::try_from(page.size(100)).unwrap_or(usize::MAX);
    let offset = usize::try_from(page.offset(100)).unwrap_or(usize::MAX);
    let total = items.len();
    let items = items.into_iter().skip(offset).take(size).collect();
    Ok(Paged(items, Some(offset.saturating_add(size) < total)))
}

impl<T: serde::Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> axum::response::Response {
        match self.1 {
            Some(next) => ([("x-next-page", if next { "true" } else { "false" })], Json(self.0)).into_response(),
            None => Json(self.0).into_response(),
        }
    }
}

/// A JSON body, whatever the request's content type says, as an
/// Anchore-shaped 400 when it does not parse.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("the request body is not valid: {error}")))
}

/// Access check: answers 200 to any authenticated caller.
#[utoipa::path(get, path = "/", tag = "meta", responses((status = 200, description = "authenticated")))]
async fn root(_caller: Caller) -> &'static str {
    "v1"
}

/// Counts requests and their latency per route template (not per concrete
/// path, so digests do not explode the label set).
async fn track_request(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("portcullis_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("portcullis_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
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
