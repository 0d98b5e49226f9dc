//! The event log: what happened to images, feeds and notifications, per
//! account (Anchore's `/events`). Recording an event never fails the work
//! that caused it: a failed insert is logged and dropped.

use chrono::{DateTime, SubsecRound, Utc};
use portcullis_api::{Event, EventResource, EventResponse, EventSource};

use crate::state::AppState;

/// The `source.servicename` of every event (one binary runs every role).
pub const SERVICE_NAME: &str = "portcullis";

/// One event to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub account: &'a str,
    /// Anchore's dotted type, e.g. `user.image.analysis.completed`.
    pub event_type: &'a str,
    /// `info` or `error`.
    pub level: &'a str,
    /// `image_digest`, `image_tag`, `feeds`, ...
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub message: String,
    pub details: serde_json::Value,
}

impl NewEvent<'_> {
    /// The event as stored with `id`, as `GET /events/{id}` shows it.
    pub fn response(&self, id: String, host_id: &str, created_at: DateTime<Utc>) -> EventResponse {
        EventResponse {
            generated_uuid: id,
            created_at,
            event: Event {
                category: self.event_type.rsplit_once('.').map(|(category, _)| category.to_owned()),
                kind: self.event_type.to_owned(),
                level: self.level.to_owned(),
                message: self.message.clone(),
                details: self.details.clone(),
                timestamp: created_at,
                resource: EventResource {
                    user_id: self.account.to_owned(),
                    id: self.resource_id.to_owned(),
                    kind: self.resource_type.to_owned(),
                },
                source: EventSource {
                    servicename: SERVICE_NAME.to_owned(),
                    hostid: host_id.to_owned(),
                    base_url: None,
                    request_id: None,
                },
            },
        }
    }
}

/// Stores the event, then forwards it as an `event_log` notification when
/// the configuration asks for that.
pub async fn record(state: &AppState, event: NewEvent<'_>) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    // Whole seconds, as every stored time is (the sequence keeps the order).
    let now = Utc::now();
    let created_at = now.trunc_subsecs(0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let inserted = sqlx::query(
        "INSERT INTO events (id, account, event_type, level, resource_type, resource_id, message, details, host_id,
                             created_at, created_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(event.account)
    .bind(event.event_type)
    .bind(event.level)
    .bind(event.resource_type)
    .bind(event.resource_id)
    .bind(&event.message)
    .bind(event.details.to_string())
    .bind(&state.host_id)
    .bind(&created_at)
    .bind(now.timestamp_micros())
    .execute(state.db.pool())
    .await;
    if let Err(error) = inserted {
        tracing::warn!(%error, event_type = event.event_type, "cannot record an event");
        return;
    }
    tracing::debug!(event_type = event.event_type, resource = event.resource_id, "event");
    // Most services forward nothing: build the event document only when it may go out.
    if !state.config.event_log.notification.forwards(event.level) {
        return;
    }
    let response = event.response(id, &state.host_id, now.trunc_subsecs(0));
    if let Err(error) = crate::notifications::forward_event(state, event.account, &response).await {
        tracing::warn!(%error, event_type = event.event_type, "cannot forward an event as a notification");
    }
}
