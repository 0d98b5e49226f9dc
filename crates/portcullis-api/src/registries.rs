//! Registry credentials (`/registries`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

/// Anchore's `RegistryConfiguration`: stored credentials, without the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryConfiguration {
    /// `host[:port]`, optionally with a repository and a trailing `*`.
    pub registry: String,
    #[serde(default)]
    pub registry_name: Option<String>,
    pub registry_user: String,
    /// `docker_v2` or `awsecr`.
    pub registry_type: String,
    /// Verify the registry's TLS certificate.
    pub registry_verify: bool,
    #[serde(rename = "userId")]
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    /// The swagger spells it `last_upated`; the engine and `anchore-cli` use this.
    #[serde(alias = "last_upated")]
    pub last_updated: DateTime<Utc>,
}

/// Body of `POST /registries` and `PUT /registries/{registry}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryConfigurationRequest {
    pub registry: String,
    #[serde(default)]
    pub registry_name: Option<String>,
    pub registry_user: String,
    pub registry_pass: String,
    /// `docker_v2` when absent.
    #[serde(default)]
    pub registry_type: Option<String>,
    #[serde(default = "verify_by_default")]
    pub registry_verify: bool,
}

fn verify_by_default() -> bool {
    true
}

/// Query string of `POST /registries` and `PUT /registries/{registry}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistryQuery {
    /// Log in to the registry before saving (default true).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub validate: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_as_anchore_cli_sends_it() {
        let request: RegistryConfigurationRequest = serde_json::from_value(json!({
            "registry":"localhost:5000","registry_user":"u","registry_pass":"p",
            "registry_type":null,"registry_verify":false,"registry_name":null}))
        .unwrap();
        assert_eq!(request.registry_type, None);
        assert!(!request.registry_verify);
    }

    #[test]
    fn swagger_typo_accepted() {
        let record: RegistryConfiguration = serde_json::from_value(json!({
            "registry":"r","registry_name":null,"registry_user":"u","registry_type":"docker_v2",
            "registry_verify":true,"userId":"admin","created_at":"2024-01-02T03:04:05Z",
            "last_upated":"2024-01-02T03:04:05Z"}))
        .unwrap();
        assert_eq!(serde_json::to_value(&record).unwrap()["last_updated"], "2024-01-02T03:04:05Z");
    }
}
