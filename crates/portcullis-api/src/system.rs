//! System status (`/system`, `/status`, `/version`), feeds (`/system/feeds`)
//! and the policy gate catalogue (`/system/policy_spec`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

/// Anchore's `SystemStatusResponse` (`GET /system`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SystemStatus {
    pub service_states: Vec<ServiceStatus>,
}

/// Anchore's `Service`: one running service instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceStatus {
    /// The host (instance) id.
    pub hostid: String,
    /// `apiext`, `catalog`, `analyzer`, `policy_engine`, ...
    pub servicename: String,
    pub base_url: String,
    /// Up and reachable.
    pub status: bool,
    /// `registered`/`available` when up, the reason otherwise.
    pub status_message: String,
    pub service_detail: StatusResponse,
    pub version: String,
}

/// Anchore's `StatusResponse` (`GET /status` and each service's detail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    pub available: bool,
    pub busy: bool,
    pub up: bool,
    pub message: String,
    /// The code version.
    pub version: String,
    /// The database schema version.
    pub db_version: String,
    #[serde(default)]
    pub detail: serde_json::Value,
}

/// Anchore's `ServiceVersion` (`GET /version`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceVersion {
    pub service: VersionOf,
    pub api: VersionOf,
    pub db: SchemaVersion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VersionOf {
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SchemaVersion {
    pub schema_version: String,
}

/// Anchore's `FeedMetadata`: one feed (`vulnerabilities`, `nvdv2`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedMetadata {
    pub name: String,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_full_sync: Option<DateTime<Utc>>,
    /// `anchore-cli` prints `(disabled)` after a disabled feed.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    pub groups: Vec<FeedGroupMetadata>,
}

/// Anchore's `FeedGroupMetadata`: one group of a feed (`debian:12`, `github:python`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedGroupMetadata {
    pub name: String,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// `null` until synced (`anchore-cli` prints "pending").
    #[serde(default)]
    pub last_sync: Option<DateTime<Utc>>,
    pub record_count: u64,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// Anchore's `FeedSyncResult` (`POST /system/feeds?sync=true` returns a list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedSyncResult {
    pub feed: String,
    pub status: SyncStatus,
    pub total_time_seconds: f64,
    pub groups: Vec<GroupSyncResult>,
}

/// Anchore's `GroupSyncResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GroupSyncResult {
    pub group: String,
    pub status: SyncStatus,
    pub updated_record_count: u64,
    pub updated_image_count: u64,
    pub total_time_seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    Success,
    Failure,
}

/// Query string of `POST /system/feeds`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedSyncQuery {
    /// Drop the stored data and sync from scratch.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub flush: Option<bool>,
    /// Sync now and wait for the result.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub sync: Option<bool>,
}

/// Query string of `PUT /system/feeds/{feed}[/{group}]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedToggleQuery {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub enabled: Option<bool>,
}

/// Anchore's `GateSpec`: one gate of `GET /system/policy_spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GateSpec {
    pub name: String,
    pub description: String,
    /// `active`, `deprecated` or `eol`.
    pub state: String,
    #[serde(default)]
    pub superceded_by: Option<String>,
    pub triggers: Vec<TriggerSpec>,
}

/// Anchore's `TriggerSpec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TriggerSpec {
    pub name: String,
    pub description: String,
    pub state: String,
    #[serde(default)]
    pub superceded_by: Option<String>,
    pub parameters: Vec<TriggerParamSpec>,
}

/// Anchore's `TriggerParamSpec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TriggerParamSpec {
    pub name: String,
    pub description: String,
    pub required: bool,
    #[serde(default)]
    pub example: Option<String>,
    pub state: String,
    #[serde(default)]
    pub superceded_by: Option<String>,
    /// A JSON schema the value must satisfy, when there is one.
    #[serde(default)]
    pub validator: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn feed_enabled_defaults_to_true() {
        let feed: FeedMetadata = serde_json::from_value(json!({
            "name":"vulnerabilities","groups":[{"name":"debian:12","record_count":3,"last_sync":null}]}))
        .unwrap();
        assert!(feed.enabled && feed.groups[0].enabled);
        assert_eq!(feed.groups[0].last_sync, None);
    }
}
