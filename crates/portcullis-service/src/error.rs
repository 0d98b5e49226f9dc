//! Errors: [`ServiceError`] for start-up and background work, [`ApiError`]
//! for HTTP answers in Anchore's error shape.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why the service (or one of its background tasks) cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Sql(#[from] portcullis_sql::SqlError),
    #[error("database: {0}")]
    Query(#[from] sqlx::Error),
    // Boxed: these carry whole locations and keys, and every Result of the
    // service would otherwise be as large as they are.
    #[error(transparent)]
    ObjectStore(Box<portcullis_objstore::ObjectStoreError>),
    #[error(transparent)]
    VulnStore(Box<portcullis_vulndb::StoreError>),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("stored document {what} is unreadable: {source}")]
    Corrupt { what: String, source: serde_json::Error },
    #[error("{0}")]
    Other(String),
}

impl From<portcullis_objstore::ObjectStoreError> for ServiceError {
    fn from(error: portcullis_objstore::ObjectStoreError) -> Self {
        ServiceError::ObjectStore(Box::new(error))
    }
}

impl From<portcullis_vulndb::StoreError> for ServiceError {
    fn from(error: portcullis_vulndb::StoreError) -> Self {
        ServiceError::VulnStore(Box::new(error))
    }
}

/// An HTTP error as Anchore answers it: `{code, error_type, message, detail, httpcode}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error_type: &'static str,
    pub message: String,
    pub detail: serde_json::Value,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let error_type = match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "ValidationError",
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::FORBIDDEN => "AccessDenied",
            StatusCode::NOT_FOUND => "ResourceNotFound",
            StatusCode::CONFLICT => "ConflictingRequest",
            StatusCode::PAYLOAD_TOO_LARGE => "RequestTooLarge",
            _ => "InternalError",
        };
        Self { status, error_type, message: message.into(), detail: serde_json::json!({}) }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication required: HTTP basic credentials or a bearer token")
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        // The message goes to the log in full; clients get it too, since it
        // names no secret (credentials are never part of an error text).
        tracing::error!(%error, "request failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ServiceError::from(error).into()
    }
}

impl From<portcullis_objstore::ObjectStoreError> for ApiError {
    fn from(error: portcullis_objstore::ObjectStoreError) -> Self {
        ServiceError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "code": self.status.as_u16(),
            "httpcode": self.status.as_u16(),
            "error_type": self.error_type,
            "message": self.message,
            "detail": self.detail,
        });
        (self.status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
