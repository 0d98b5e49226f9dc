//! The event log (`/events`, `/event_types`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

/// Anchore's `EventsList`: one page of events, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventsList {
    pub results: Vec<EventResponse>,
    /// More events exist on `page + 1` (`anchore-cli` tests `is True`).
    pub next_page: bool,
    /// How many events this page holds.
    pub item_count: u64,
    pub page: u32,
}

/// Anchore's `EventResponse`: a stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventResponse {
    /// The event id.
    pub generated_uuid: String,
    pub created_at: DateTime<Utc>,
    pub event: Event,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Fully qualified type, `user.image.analysis.completed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The type's first components, `user.image.analysis`.
    #[serde(default)]
    pub category: Option<String>,
    /// `info` or `error`.
    pub level: String,
    pub message: String,
    pub details: serde_json::Value,
    pub timestamp: DateTime<Utc>,
    pub resource: EventResource,
    pub source: EventSource,
}

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventResource {
    /// The owning account.
    pub user_id: String,
    /// An image digest, a tag, a feed name...
    pub id: String,
    /// `image_digest`, `image_tag`, `feeds`, ...
    #[serde(rename = "type")]
    pub kind: String,
}

/// The service instance that recorded an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventSource {
    pub servicename: String,
    pub hostid: String,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// Query string of `GET /events` (filters and the page) and `DELETE /events`
/// (only `since`, `before` and `level` apply).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events of this fully qualified type or category prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_servicename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_hostid: Option<String>,
    /// `info` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Only events before this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Anchore's `EventCategory` (`GET /event_types` returns a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventCategory {
    pub category: String,
    pub description: String,
    pub subcategories: Vec<EventSubcategory>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventSubcategory {
    pub name: String,
    pub description: String,
    pub events: Vec<EventDescription>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventDescription {
    /// The last component of the type.
    pub name: String,
    /// The fully qualified type.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub resource_type: String,
}
