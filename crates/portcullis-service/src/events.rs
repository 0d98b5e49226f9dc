//! The event log: what happened to images, feeds and notifications, per
//! account (Anchore's `/events`). Recording an event never fails the work
//! that caused it: a failed insert is logged and dropped.

use portcullis_sql::now_rfc3339;

use crate::state::AppState;

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

pub async fn record(state: &AppState, event: NewEvent<'_>) {
    let id = uuid::Uuid::new_v4().simple().to_string();
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
    .bind(now_rfc3339())
    .bind(chrono::Utc::now().timestamp_micros())
    .execute(state.db.pool())
    .await;
    match inserted {
        Ok(_) => tracing::debug!(event_type = event.event_type, resource = event.resource_id, "event"),
        Err(error) => tracing::warn!(%error, event_type = event.event_type, "cannot record an event"),
    }
}
