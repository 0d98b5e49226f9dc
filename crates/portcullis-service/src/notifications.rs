//! Webhook notifications: queued in the `notifications` table by [`notify`],
//! delivered by the `notifications` watcher, retried with exponential
//! backoff until `webhooks.notification_retry_timeout`, then dead-lettered
//! (kept with state `dead`, listed and replayed through the admin API).
//!
//! What is POSTed is Anchore's queue record (`{queueId, userId, dataId, ...,
//! data: {notification_user, notification_user_email, notification_type,
//! notification_payload}}`), so existing receivers keep working. Unlike
//! Anchore a notification goes to one endpoint: the one configured for its
//! type, else `general`, never both. With `webhooks.hmac_secret` every
//! delivery carries `X-Portcullis-Signature: sha256=<hex HMAC-SHA256 of the
//! body>`; `X-Portcullis-Delivery` carries the notification id, the same on
//! every attempt, so receivers can drop repeats (delivery is at least once).

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use aws_lc_rs::hmac;
use portcullis_api::SubscriptionType;
use portcullis_sql::now_rfc3339;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tokio::task::JoinSet;

use crate::config::WebhooksConfig;
use crate::error::ServiceError;
use crate::events::{self, NewEvent};
use crate::schema::{stored_count, stored_json};
use crate::state::AppState;
use crate::subscriptions;

/// Anchore waits 30 s; a receiver down for a deploy or a restart needs longer.
pub const DEFAULT_RETRY_TIMEOUT_SECONDS: u64 = 3600;
const FIRST_BACKOFF_SECONDS: i64 = 5;
const MAX_BACKOFF_SECONDS: i64 = 600;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries attempted per watcher run.
const BATCH: i64 = 200;
/// Delivered notifications are kept this long for inspection, then pruned.
const KEEP_DELIVERED_SECONDS: i64 = 7 * 24 * 3600;
pub const SIGNATURE_HEADER: &str = "X-Portcullis-Signature";
pub const DELIVERY_HEADER: &str = "X-Portcullis-Delivery";
/// The endpoint used when a type has none of its own.
const GENERAL: &str = "general";
/// The notification type of forwarded events (Anchore's).
pub const EVENT_LOG: &str = "event_log";
/// The `resource_type` of the events notifications record about themselves.
const NOTIFICATION_RESOURCE: &str = "notification";
const MICROS: i64 = 1_000_000;

/// Where and how one notification type is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The config key it came from (`general` or the type).
    pub name: String,
    /// The URL template, with `<userId>` and `<notification_type>` placeholders.
    pub url: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub verify_tls: bool,
}

impl Endpoint {
    pub fn url_for(&self, account: &str, notification_type: &str) -> String {
        self.url.replace("<userId>", account).replace("<notification_type>", notification_type)
    }
}

/// The endpoint configured under `name` exactly (no fallback), with the
/// section's defaults for credentials and TLS verification.
pub fn named_endpoint(config: &WebhooksConfig, name: &str) -> Option<Endpoint> {
    let endpoint = config.endpoints.get(name).filter(|e| !e.url.trim().is_empty())?;
    Some(Endpoint {
        name: name.to_owned(),
        url: endpoint.url.trim().to_owned(),
        user: endpoint.webhook_user.clone().or_else(|| config.webhook_user.clone()),
        password: endpoint.webhook_pass.clone().or_else(|| config.webhook_pass.clone()),
        verify_tls: endpoint.ssl_verify.or(config.ssl_verify).unwrap_or(true),
    })
}

/// The endpoint a notification type goes to: its own, else `general`.
pub fn endpoint_for(config: &WebhooksConfig, notification_type: &str) -> Option<Endpoint> {
    named_endpoint(config, notification_type).or_else(|| named_endpoint(config, GENERAL))
}

/// When retrying a notification first queued (or replayed) at `now` stops, in epoch micros.
fn retry_deadline(config: &WebhooksConfig, now: i64) -> i64 {
    let timeout = i64::try_from(config.notification_retry_timeout.unwrap_or(DEFAULT_RETRY_TIMEOUT_SECONDS))
        .unwrap_or(i64::MAX / MICROS);
    now.saturating_add(timeout.saturating_mul(MICROS))
}

/// Adds the fields every notification payload carries: who it is for, what
/// it is about and its id.
fn address(
    payload: &mut serde_json::Map<String, serde_json::Value>,
    account: &str,
    notification_type: &str,
    subscription_key: &str,
    id: &str,
) {
    payload.insert("userId".into(), account.into());
    payload.insert("subscription_key".into(), subscription_key.into());
    payload.insert("subscription_type".into(), notification_type.into());
    payload.insert("notificationId".into(), id.into());
}

/// The wait after the `attempts`-th failed attempt: 5 s, 10 s, 20 s, ... up to 10 minutes.
pub fn backoff_seconds(attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(16);
    (FIRST_BACKOFF_SECONDS << doublings).min(MAX_BACKOFF_SECONDS)
}

/// Queues a notification of `kind` about `subscription_key` (a full tag)
/// when the account's subscription of that type and key is active and a
/// webhook would receive it. `payload` is the type's object (`last_eval`,
/// `curr_eval`, `annotations`, ...); `userId`, `subscription_key`,
/// `subscription_type` and `notificationId` are added. Returns the
/// notification id, `None` when nothing was queued.
pub async fn notify(
    state: &AppState,
    account: &str,
    kind: SubscriptionType,
    subscription_key: &str,
    payload: serde_json::Value,
) -> Result<Option<String>, ServiceError> {
    if endpoint_for(&state.config.webhooks, kind.as_str()).is_none() {
        tracing::debug!(account, %kind, subscription_key, "no webhook configured for this type; not queued");
        return Ok(None);
    }
    if !subscriptions::is_active(state, account, kind, subscription_key).await? {
        tracing::debug!(account, %kind, subscription_key, "subscription not active; not queued");
        return Ok(None);
    }
    enqueue(state, account, kind.as_str(), subscription_key, payload).await.map(Some)
}

/// Forwards a recorded event as an `event_log` notification (keyed by its
/// type) when `event_log.notification` asks for events of its level and a
/// webhook would receive it. `event` is the event as `GET /events/{id}`
/// shows it. Events about notifications are not forwarded: a failing
/// endpoint would otherwise feed itself.
pub async fn forward_event(
    state: &AppState,
    account: &str,
    event: &portcullis_api::EventResponse,
) -> Result<Option<String>, ServiceError> {
    let wanted = &state.config.event_log.notification;
    if !wanted.forwards(&event.event.level) || event.event.resource.kind == NOTIFICATION_RESOURCE {
        return Ok(None);
    }
    if endpoint_for(&state.config.webhooks, EVENT_LOG).is_none() {
        tracing::debug!(account, "no webhook configured for event_log; event not forwarded");
        return Ok(None);
    }
    let payload = serde_json::to_value(event)
        .map_err(|error| ServiceError::Other(format!("cannot serialise event {}: {error}", event.generated_uuid)))?;
    enqueue(state, account, EVENT_LOG, &event.event.kind, payload).await.map(Some)
}

/// Stores a notification of `notification_type` for delivery and wakes the
/// deliverer. `payload` must be a JSON object; the addressing fields are added.
async fn enqueue(
    state: &AppState,
    account: &str,
    notification_type: &str,
    subscription_key: &str,
    payload: serde_json::Value,
) -> Result<String, ServiceError> {
    let kind = notification_type;
    let serde_json::Value::Object(mut payload) = payload else {
        return Err(ServiceError::Other(format!("a {kind} notification payload must be a JSON object")));
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    address(&mut payload, account, kind, subscription_key, &id);
    let now = now_micros();
    let deadline = retry_deadline(&state.config.webhooks, now);
    let stamp = now_rfc3339();
    sqlx::query(
        "INSERT INTO notifications (id, account, notification_type, subscription_key, payload, state, attempts,
                                    next_attempt_seq, deadline_seq, created_at, created_seq, last_updated)
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $8, $6, $8)",
    )
    .bind(&id)
    .bind(account)
    .bind(kind)
    .bind(subscription_key)
    .bind(serde_json::Value::Object(payload).to_string())
    .bind(now)
    .bind(deadline)
    .bind(&stamp)
    .execute(state.db.pool())
    .await?;
    metrics::counter!("portcullis_notifications_queued_total", "type" => kind.to_owned()).increment(1);
    tracing::info!(account, kind, subscription_key, id, "notification queued");
    // Deliver on the next scheduler tick rather than at the next cycle.
    crate::scheduler::trigger(state, crate::watchers::NOTIFICATIONS).await?;
    Ok(id)
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A stored notification, as the admin API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationRecord {
    pub id: String,
    #[serde(rename = "userId")]
    pub account: String,
    pub notification_type: String,
    pub subscription_key: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: u32,
    /// When the next attempt is due (pending ones).
    pub next_attempt_at: Option<String>,
    /// When retrying stops and the notification is dead-lettered.
    pub retry_until: Option<String>,
    /// HTTP status of the last attempt (absent when it did not get an answer).
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// The URL of the last attempt.
    pub last_url: Option<String>,
    pub created_at: String,
    pub last_updated: String,
    pub delivered_at: Option<String>,
    /// The `notification_payload` sent.
    pub payload: serde_json::Value,
}

const RECORD_COLUMNS: &str = "id, account, notification_type, subscription_key, payload, state, attempts, \
    next_attempt_seq, deadline_seq, last_status, last_error, last_url, created_at, created_seq, last_updated, delivered_at";

fn micros_to_rfc3339(micros: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(micros).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn record_from_row(row: &AnyRow) -> Result<NotificationRecord, ServiceError> {
    let state: String = row.try_get("state")?;
    let pending = state == "pending";
    Ok(NotificationRecord {
        id: row.try_get("id")?,
        account: row.try_get("account")?,
        notification_type: row.try_get("notification_type")?,
        subscription_key: row.try_get("subscription_key")?,
        payload: stored_json(row, "payload", "notification payload")?,
        attempts: stored_count(row, "attempts")?,
        next_attempt_at: pending
            .then(|| row.try_get::<i64, _>("next_attempt_seq"))
            .transpose()?
            .and_then(micros_to_rfc3339),
        retry_until: pending.then(|| row.try_get::<i64, _>("deadline_seq")).transpose()?.and_then(micros_to_rfc3339),
        last_status: row.try_get::<Option<i64>, _>("last_status")?.and_then(|s| u16::try_from(s).ok()),
        last_error: row.try_get("last_error")?,
        last_url: row.try_get("last_url")?,
        created_at: row.try_get("created_at")?,
        last_updated: row.try_get("last_updated")?,
        delivered_at: row.try_get("delivered_at")?,
        state,
    })
}

/// Notifications in one state (every state when `None`), optionally of one
/// account, newest first.
pub async fn list(
    state: &AppState,
    record_state: Option<&str>,
    account: Option<&str>,
    limit: i64,
) -> Result<Vec<NotificationRecord>, ServiceError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RECORD_COLUMNS} FROM notifications WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR account = $2)
         ORDER BY created_seq DESC, id LIMIT $3"
    )))
    .bind(record_state)
    .bind(account)
    .bind(limit)
    .fetch_all(state.db.pool())
    .await?;
    rows.iter().map(record_from_row).collect()
}

pub async fn get(state: &AppState, id: &str) -> Result<Option<NotificationRecord>, ServiceError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RECORD_COLUMNS} FROM notifications WHERE id = $1")))
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    row.as_ref().map(record_from_row).transpose()
}

/// Puts a dead (or delivered) notification back in the queue with a fresh
/// retry window. `None` when there is no such notification, `Some(false)`
/// when it is still pending.
pub async fn replay(state: &AppState, id: &str) -> Result<Option<bool>, ServiceError> {
    let now = now_micros();
    let deadline = retry_deadline(&state.config.webhooks, now);
    let done = sqlx::query(
        "UPDATE notifications SET state = 'pending', next_attempt_seq = $1, deadline_seq = $2, last_updated = $3
         WHERE id = $4 AND state <> 'pending'",
    )
    .bind(now)
    .bind(deadline)
    .bind(now_rfc3339())
    .bind(id)
    .execute(state.db.pool())
    .await?;
    if done.rows_affected() == 1 {
        crate::scheduler::trigger(state, crate::watchers::NOTIFICATIONS).await?;
        return Ok(Some(true));
    }
    Ok(get(state, id).await?.map(|_| false))
}

/// One pending delivery as the watcher loads it.
struct Due {
    id: String,
    account: String,
    email: Option<String>,
    notification_type: String,
    payload: serde_json::Value,
    attempts: u32,
    deadline: i64,
    created_seq: i64,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub url: String,
    pub status: Option<u16>,
    /// `None` when the receiver answered 2xx.
    pub error: Option<String>,
}

/// The notifications watcher: attempts every due delivery once.
pub async fn deliver_due(state: AppState) -> Result<(), ServiceError> {
    let now = now_micros();
    let rows = sqlx::query(
        "SELECT n.id, n.account, a.email, n.notification_type, n.payload, n.attempts, n.deadline_seq, n.created_seq
         FROM notifications n LEFT JOIN accounts a ON a.name = n.account
         WHERE n.state = 'pending' AND n.next_attempt_seq <= $1 ORDER BY n.next_attempt_seq, n.id LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(state.db.pool())
    .await?;
    // Grouped by endpoint: one endpoint's deliveries go in order, different
    // endpoints in parallel, and an endpoint that fails is not tried again in
    // this run (its other deliveries wait with it, backing off per endpoint).
    let mut by_endpoint: BTreeMap<String, (Endpoint, Vec<Due>)> = BTreeMap::new();
    for row in &rows {
        let due = due_from_row(row)?;
        match endpoint_for(&state.config.webhooks, &due.notification_type) {
            Some(endpoint) => {
                let url = endpoint.url_for(&due.account, &due.notification_type);
                by_endpoint.entry(url).or_insert_with(|| (endpoint, Vec::new())).1.push(due);
            }
            None => {
                let attempt = Attempt {
                    url: String::new(),
                    status: None,
                    error: Some(format!("no webhook is configured for {} (nor general)", due.notification_type)),
                };
                let _ = record_attempt(&state, &due, &attempt).await?;
            }
        }
    }
    let mut tasks = JoinSet::new();
    for (_, (endpoint, deliveries)) in by_endpoint {
        let state = state.clone();
        tasks.spawn(async move { deliver_to_endpoint(&state, &endpoint, deliveries).await });
    }
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(|e| ServiceError::Other(format!("a delivery task failed: {e}"))).and_then(|r| r);
        if let Err(error) = result {
            tracing::warn!(%error, "notification delivery");
            first_error.get_or_insert(error);
        }
    }
    prune_delivered(&state).await?;
    first_error.map_or(Ok(()), Err)
}

async fn deliver_to_endpoint(state: &AppState, endpoint: &Endpoint, deliveries: Vec<Due>) -> Result<(), ServiceError> {
    let mut failed: Option<(i64, Attempt)> = None;
    for due in deliveries {
        if let Some((next, failure)) = &failed {
            // Not attempted: it waits as long as the one that just failed.
            postpone(state, &due, *next, failure).await?;
            continue;
        }
        let attempt = send(state, endpoint, &due).await;
        match record_attempt(state, &due, &attempt).await? {
            Outcome::Delivered => {}
            Outcome::Retry(next) => failed = Some((next, attempt)),
            Outcome::Dead => failed = Some((now_micros().saturating_add(FIRST_BACKOFF_SECONDS * MICROS), attempt)),
        }
    }
    Ok(())
}

fn due_from_row(row: &AnyRow) -> Result<Due, ServiceError> {
    Ok(Due {
        id: row.try_get("id")?,
        account: row.try_get("account")?,
        email: row.try_get("email")?,
        notification_type: row.try_get("notification_type")?,
        payload: stored_json(row, "payload", "notification payload")?,
        attempts: stored_count(row, "attempts")?,
        deadline: row.try_get("deadline_seq")?,
        created_seq: row.try_get("created_seq")?,
    })
}

/// Anchore's queue record around a notification, as POSTed.
fn body(due: &Due, attempt_number: u32) -> serde_json::Value {
    let seconds = |micros: i64| micros / MICROS;
    serde_json::json!({
        "queueId": due.notification_type,
        "userId": due.account,
        "dataId": due.id,
        "created_at": seconds(due.created_seq),
        "last_updated": chrono::Utc::now().timestamp(),
        "record_state_key": "active",
        "record_state_val": null,
        "tries": attempt_number,
        "max_tries": seconds(due.deadline),
        "data": {
            "notification_user": due.account,
            "notification_user_email": due.email,
            "notification_type": due.notification_type,
            "notification_payload": due.payload,
        },
    })
}

/// `sha256=<hex>` of the body under the shared secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

fn http_client(verify_tls: bool) -> Result<&'static reqwest::Client, String> {
    static VERIFYING: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    static TRUSTING: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    let cell = if verify_tls { &VERIFYING } else { &TRUSTING };
    cell.get_or_init(|| {
        reqwest::Client::builder()
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .tls_danger_accept_invalid_certs(!verify_tls)
            // A webhook answers; following redirects could send the payload
            // (and credentials) somewhere nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

async fn send(state: &AppState, endpoint: &Endpoint, due: &Due) -> Attempt {
    let url = endpoint.url_for(&due.account, &due.notification_type);
    let body = body(due, due.attempts.saturating_add(1));
    post(state, endpoint, url, &due.id, &body).await
}

/// POSTs one JSON body to an endpoint (signed when a secret is configured).
pub async fn post(state: &AppState, endpoint: &Endpoint, url: String, id: &str, body: &serde_json::Value) -> Attempt {
    let client = match http_client(endpoint.verify_tls) {
        Ok(client) => client,
        Err(error) => return Attempt { url, status: None, error: Some(error) },
    };
    let bytes = body.to_string().into_bytes();
    let mut request =
        client.post(&url).header(reqwest::header::CONTENT_TYPE, "application/json").header(DELIVERY_HEADER, id);
    if let Some(secret) = state.config.webhooks.hmac_secret.as_deref().filter(|s| !s.is_empty()) {
        request = request.header(SIGNATURE_HEADER, signature(secret, &bytes));
    }
    if let Some(user) = &endpoint.user {
        request = request.basic_auth(user, endpoint.password.as_ref());
    }
    match request.body(bytes).send().await {
        Ok(response) if response.status().is_success() => {
            Attempt { url, status: Some(response.status().as_u16()), error: None }
        }
        Ok(response) => {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            let said: String = text.chars().take(200).collect();
            let error = if said.trim().is_empty() {
                format!("the webhook answered {status}")
            } else {
                format!("the webhook answered {status}: {}", said.trim())
            };
            Attempt { url, status: Some(status.as_u16()), error: Some(error) }
        }
        Err(error) => Attempt { url, status: None, error: Some(error_chain(&error)) },
    }
}

fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// What became of a delivery after an attempt.
enum Outcome {
    Delivered,
    /// Failed; next attempt at these epoch micros.
    Retry(i64),
    /// Failed after the retry window: dead-lettered.
    Dead,
}

/// Stores an attempt's outcome: delivered, scheduled again with backoff, or
/// dead once the retry window has passed.
async fn record_attempt(state: &AppState, due: &Due, attempt: &Attempt) -> Result<Outcome, ServiceError> {
    let attempts = due.attempts.saturating_add(1);
    let now = now_micros();
    let stamp = now_rfc3339();
    let status = attempt.status.map(i64::from);
    let Some(error) = &attempt.error else {
        sqlx::query(
            "UPDATE notifications SET state = 'delivered', attempts = $1, last_status = $2, last_error = NULL,
                                      last_url = $3, last_updated = $4, delivered_at = $4
             WHERE id = $5",
        )
        .bind(i64::from(attempts))
        .bind(status)
        .bind(&attempt.url)
        .bind(&stamp)
        .bind(&due.id)
        .execute(state.db.pool())
        .await?;
        metrics::counter!("portcullis_notifications_delivered_total", "type" => due.notification_type.clone())
            .increment(1);
        tracing::info!(id = due.id, url = attempt.url, attempts, "notification delivered");
        return Ok(Outcome::Delivered);
    };
    metrics::counter!("portcullis_notification_attempts_failed_total", "type" => due.notification_type.clone())
        .increment(1);
    // Past the deadline the notification is dead-lettered; before it, the
    // next attempt is at the deadline at the latest rather than skipped.
    let next = (now < due.deadline)
        .then(|| now.saturating_add(backoff_seconds(attempts).saturating_mul(MICROS)).min(due.deadline));
    sqlx::query(
        "UPDATE notifications SET state = COALESCE($1, state), attempts = $2,
                                  next_attempt_seq = COALESCE($3, next_attempt_seq), last_status = $4,
                                  last_error = $5, last_url = $6, last_updated = $7
         WHERE id = $8",
    )
    .bind(next.is_none().then_some("dead"))
    .bind(i64::from(attempts))
    .bind(next)
    .bind(status)
    .bind(error)
    .bind(&attempt.url)
    .bind(&stamp)
    .bind(&due.id)
    .execute(state.db.pool())
    .await?;
    if let Some(next) = next {
        tracing::info!(id = due.id, url = attempt.url, attempts, %error, "notification delivery failed; will retry");
        return Ok(Outcome::Retry(next));
    }
    tracing::warn!(id = due.id, url = attempt.url, attempts, %error, "notification dead-lettered");
    events::record(
        state,
        NewEvent {
            account: &due.account,
            event_type: "user.notification.dead_lettered",
            level: "error",
            resource_type: NOTIFICATION_RESOURCE,
            resource_id: &due.id,
            message: format!(
                "a {} notification could not be delivered after {attempts} attempts: {error}",
                due.notification_type
            ),
            details: serde_json::json!({"notification_type": due.notification_type, "url": attempt.url,
                "attempts": attempts, "last_status": attempt.status}),
        },
    )
    .await;
    Ok(Outcome::Dead)
}

/// Moves a delivery that was not attempted (its endpoint just failed) to
/// `next`, without counting an attempt.
async fn postpone(state: &AppState, due: &Due, next: i64, failure: &Attempt) -> Result<(), ServiceError> {
    sqlx::query("UPDATE notifications SET next_attempt_seq = $1, last_error = $2, last_updated = $3 WHERE id = $4")
        .bind(next.min(due.deadline.max(now_micros())))
        .bind(failure.error.as_deref().map(|e| format!("not attempted: the endpoint had just failed ({e})")))
        .bind(now_rfc3339())
        .bind(&due.id)
        .execute(state.db.pool())
        .await?;
    Ok(())
}

async fn prune_delivered(state: &AppState) -> Result<(), ServiceError> {
    let cutoff = now_micros().saturating_sub(KEEP_DELIVERED_SECONDS.saturating_mul(MICROS));
    sqlx::query("DELETE FROM notifications WHERE state = 'delivered' AND created_seq < $1")
        .bind(cutoff)
        .execute(state.db.pool())
        .await?;
    Ok(())
}

/// The synthetic notification `POST /system/webhooks/{type}/test` sends.
pub async fn send_test(
    state: &AppState,
    endpoint: &Endpoint,
    account: &str,
    kind: SubscriptionType,
) -> Result<Attempt, ServiceError> {
    let email: Option<String> = sqlx::query("SELECT email FROM accounts WHERE name = $1")
        .bind(account)
        .fetch_optional(state.db.pool())
        .await?
        .map(|row| row.try_get("email"))
        .transpose()?
        .flatten();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let key = "docker.io/library/alpine:latest";
    let digest = format!("sha256:{}", "0".repeat(64));
    let mut payload = match kind {
        SubscriptionType::TagUpdate => serde_json::json!({"last_eval": [], "curr_eval": [digest]}),
        SubscriptionType::AnalysisUpdate => serde_json::json!({
            "last_eval": {"imageDigest": digest, "analysis_status": "analyzing", "annotations": {}},
            "curr_eval": {"imageDigest": digest, "analysis_status": "analyzed", "annotations": {}}}),
        SubscriptionType::PolicyEval => serde_json::json!({
            "last_eval": {"image_digest": digest, "status": "pass", "final_action": "go"},
            "curr_eval": {"image_digest": digest, "status": "fail", "final_action": "stop"}}),
        SubscriptionType::VulnUpdate => serde_json::json!({"imageDigest": digest,
            "diff_vulnerability_result": {"added": [], "updated": [], "removed": []}}),
        SubscriptionType::RepoUpdate => serde_json::json!({}),
    };
    if let serde_json::Value::Object(fields) = &mut payload {
        address(fields, account, kind.as_str(), key, &id);
        fields.insert("annotations".into(), serde_json::json!({}));
        fields.insert("test".into(), true.into());
    }
    let now = now_micros();
    let due = Due {
        id,
        account: account.to_owned(),
        email,
        notification_type: kind.as_str().to_owned(),
        payload,
        attempts: 0,
        deadline: now,
        created_seq: now,
    };
    let url = endpoint.url_for(account, kind.as_str());
    Ok(post(state, endpoint, url, &due.id, &body(&due, 1)).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WebhookEndpoint;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let waits: Vec<i64> = (1..=9).map(backoff_seconds).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 600, 600]);
        assert_eq!(backoff_seconds(u32::MAX), 600);
    }

    #[test]
    fn a_type_endpoint_wins_over_general_and_inherits_defaults() {
        let mut config = WebhooksConfig {
            webhook_user: Some("u".into()),
            webhook_pass: Some("p".into()),
            ssl_verify: Some(false),
            ..Default::default()
        };
        config.endpoints.insert(
            "general".into(),
            WebhookEndpoint { url: "http://g/<userId>/<notification_type>".into(), ..Default::default() },
        );
        config.endpoints.insert(
            "policy_eval".into(),
            WebhookEndpoint {
                url: "http://p".into(),
                webhook_user: Some("x".into()),
                ssl_verify: Some(true),
                ..Default::default()
            },
        );
        let general = endpoint_for(&config, "tag_update").unwrap();
        assert_eq!(general.name, "general");
        assert_eq!(general.url_for("acct", "tag_update"), "http://g/acct/tag_update");
        assert_eq!(
            (general.user.as_deref(), general.password.as_deref(), general.verify_tls),
            (Some("u"), Some("p"), false)
        );
        let own = endpoint_for(&config, "policy_eval").unwrap();
        assert_eq!(
            (own.url.as_str(), own.user.as_deref(), own.password.as_deref(), own.verify_tls),
            ("http://p", Some("x"), Some("p"), true)
        );
        config.endpoints.remove("general");
        assert_eq!(endpoint_for(&config, "tag_update"), None);
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
