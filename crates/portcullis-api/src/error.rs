//! The error body every route returns with a non-2xx status.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Anchore's `ApiErrorResponse`.
///
/// Anchore's newer routes send `{code, error_type, message, detail}` and its
/// older ones `{message, httpcode, detail}`; `anchore-cli` prints `message`,
/// `httpcode` and `detail`, so Portcullis always sends all five.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiErrorResponse {
    /// The HTTP status code.
    #[serde(default)]
    pub code: u16,
    /// A stable, machine-readable error name (`not_found`, `invalid_request`, ...).
    #[serde(default)]
    pub error_type: String,
    /// What went wrong, for a person.
    #[serde(default)]
    pub message: String,
    /// Error-specific detail (validation errors, the conflicting record...).
    #[serde(default)]
    pub detail: serde_json::Value,
    /// The HTTP status code again, for `anchore-cli`'s "HTTP Code" line.
    #[serde(default)]
    pub httpcode: u16,
}

impl ApiErrorResponse {
    /// An error with an empty detail.
    pub fn new(status: u16, error_type: impl Into<String>, message: impl Into<String>) -> Self {
        ApiErrorResponse {
            code: status,
            error_type: error_type.into(),
            message: message.into(),
            detail: serde_json::Value::Object(serde_json::Map::new()),
            httpcode: status,
        }
    }

    /// The same error with `detail` set.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

impl std::fmt::Display for ApiErrorResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        let empty_detail = match &self.detail {
            serde_json::Value::Null => true,
            serde_json::Value::Object(map) => map.is_empty(),
            serde_json::Value::String(text) => text.is_empty(),
            _ => false,
        };
        if !empty_detail {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// One entry of `GET /system/error_codes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnchoreErrorCode {
    pub name: String,
    pub description: String,
}
