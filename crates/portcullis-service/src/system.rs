//! What runs where, and the admin's levers on it: service registration and
//! heartbeats (the `services` table behind `GET /system`), the status of
//! this process, the error names the API uses, and re-queueing a job.
//!
//! Each process registers one row per Anchore service its roles stand for
//! (see [`service_names`]) and refreshes them every [`HEARTBEAT`]; a row not
//! refreshed for three heartbeats is reported down. A process that stops
//! cleanly removes its rows; one that dies leaves them, down, until an admin
//! deletes them (as in Anchore).

use std::time::Duration;

use portcullis_api::{AnalysisStatus, AnchoreErrorCode, ServiceStatus, StatusResponse};
use portcullis_sql::now_rfc3339;
use sqlx::Row;
use tokio::sync::watch;

use crate::config::Role;
use crate::error::{ApiError, ApiResult, ServiceError};
use crate::queue::{self, QueueEntry, Requeue, epoch_seconds};
use crate::state::AppState;

/// How often a process refreshes its `services` rows.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Missed heartbeats after which a service is reported down.
const MISSED_HEARTBEATS: i64 = 3;

/// The Anchore services a role stands for. anchore-cli's `system wait`
/// waits for catalog, apiext, policy_engine, simplequeue and analyzer by
/// default: the API process also evaluates policies and matches
/// vulnerabilities (Anchore's policy engine), and the scheduler runs the
/// watchers (catalog) and keeps the database-backed queue (simplequeue).
pub fn service_names(role: Role) -> &'static [&'static str] {
    match role {
        Role::Api => &["apiext", "policy_engine"],
        Role::Analyzer => &["analyzer"],
        Role::Scheduler => &["catalog", "simplequeue"],
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Api => "api",
        Role::Analyzer => "analyzer",
        Role::Scheduler => "scheduler",
    }
}

fn db_version() -> String {
    crate::schema::MIGRATIONS.len().to_string()
}

/// Registers (or refreshes) this process's services.
pub async fn register(state: &AppState, base_url: &str) -> Result<(), ServiceError> {
    let roles: Vec<&str> = state.config.roles.iter().map(|&role| role_name(role)).collect();
    let roles = roles.join(",");
    let now = now_rfc3339();
    let seq = chrono::Utc::now().timestamp_micros();
    for &role in &state.config.roles {
        for name in service_names(role) {
            sqlx::query(
                "INSERT INTO services (servicename, host_id, roles, version, base_url, registered_at, heartbeat_at,
                                       heartbeat_seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
                 ON CONFLICT (servicename, host_id) DO UPDATE SET heartbeat_at = $6, heartbeat_seq = $7",
            )
            .bind(*name)
            .bind(&state.host_id)
            .bind(&roles)
            .bind(env!("CARGO_PKG_VERSION"))
            .bind(base_url)
            .bind(&now)
            .bind(seq)
            .execute(state.db.pool())
            .await?;
        }
    }
    Ok(())
}

/// Refreshes this process's rows every [`HEARTBEAT`] until `stop`, then removes them.
pub async fn heartbeat(state: AppState, base_url: String, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(HEARTBEAT) => {}
            // A dropped sender (the service value is gone) means stop too.
            changed = stop.changed() => if changed.is_err() { break; },
        }
        if *stop.borrow() {
            break;
        }
        if let Err(error) = register(&state, &base_url).await {
            tracing::warn!(%error, "cannot record the service heartbeat");
        }
    }
    let removed =
        sqlx::query("DELETE FROM services WHERE host_id = $1").bind(&state.host_id).execute(state.db.pool()).await;
    if let Err(error) = removed {
        tracing::warn!(%error, "cannot deregister the services of this process");
    }
}

/// Registered services, optionally of one name and host, by name then host.
pub async fn services(
    state: &AppState,
    name: Option<&str>,
    host: Option<&str>,
) -> Result<Vec<ServiceStatus>, ServiceError> {
    let rows = sqlx::query(
        "SELECT servicename, host_id, roles, version, base_url, registered_at, heartbeat_at, heartbeat_seq
         FROM services ORDER BY servicename, host_id",
    )
    .fetch_all(state.db.pool())
    .await?;
    let stale_before = chrono::Utc::now().timestamp_micros() - MISSED_HEARTBEATS * HEARTBEAT.as_micros() as i64;
    let mut out = Vec::new();
    for row in &rows {
        let servicename: String = row.try_get("servicename")?;
        let hostid: String = row.try_get("host_id")?;
        if name.is_some_and(|n| n != servicename) || host.is_some_and(|h| h != hostid) {
            continue;
        }
        let heartbeat_at: String = row.try_get("heartbeat_at")?;
        let up = row.try_get::<i64, _>("heartbeat_seq")? >= stale_before;
        let message = if up { "available".to_owned() } else { format!("no heartbeat since {heartbeat_at}") };
        let version: String = row.try_get("version")?;
        let roles: String = row.try_get("roles")?;
        out.push(ServiceStatus {
            hostid,
            servicename,
            base_url: row.try_get("base_url")?,
            status: up,
            status_message: message.clone(),
            service_detail: StatusResponse {
                available: up,
                busy: false,
                up,
                message,
                version: version.clone(),
                db_version: db_version(),
                detail: serde_json::json!({
                    "roles": roles.split(',').collect::<Vec<_>>(),
                    "registered_at": row.try_get::<String, _>("registered_at")?,
                    "last_heartbeat": heartbeat_at,
                }),
            },
            version,
        });
    }
    Ok(out)
}

/// Removes a service record that is down (a process that died); a live
/// one would register again at its next heartbeat.
pub async fn delete_service(state: &AppState, name: &str, host: &str) -> ApiResult<()> {
    let found = services(state, Some(name), Some(host)).await?;
    let Some(service) = found.first() else {
        return Err(ApiError::not_found(format!("no service {name:?} is registered on host {host:?}")));
    };
    if service.status {
        return Err(ApiError::conflict(format!(
            "service {name:?} on host {host:?} is up (it sent a heartbeat within {} s); stop that process first",
            MISSED_HEARTBEATS * HEARTBEAT.as_secs() as i64
        )));
    }
    sqlx::query("DELETE FROM services WHERE servicename = $1 AND host_id = $2")
        .bind(name)
        .bind(host)
        .execute(state.db.pool())
        .await?;
    tracing::info!(service = %name, %host, "service record deleted");
    Ok(())
}

/// This process's status (`GET /status`): up when its database answers.
pub async fn status(state: &AppState) -> StatusResponse {
    let (up, message) = match sqlx::query("SELECT 1").execute(state.db.pool()).await {
        Ok(_) => (true, "all good".to_owned()),
        Err(error) => (false, format!("the database does not answer: {error}")),
    };
    let roles: Vec<&str> = state.config.roles.iter().map(|&role| role_name(role)).collect();
    StatusResponse {
        available: up,
        busy: false,
        up,
        message,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        db_version: db_version(),
        detail: serde_json::json!({
            "host_id": state.host_id,
            "roles": roles,
            "uptime_seconds": state.started.elapsed().as_secs(),
        }),
    }
}

/// The `error_type` values of error answers, with what each means.
pub const ERROR_CODES: &[(&str, &str)] = &[
    (
        "ValidationError",
        "The request is malformed or a value in it is invalid (HTTP 400 or 422); the message names it.",
    ),
    ("Unauthorized", "No credentials, wrong credentials, or the user's account is disabled (HTTP 401)."),
    ("AccessDenied", "The user may not do this: it needs an admin account, or acts for another account (HTTP 403)."),
    (
        "ResourceNotFound",
        "The image, account, user, feed or other resource named in the request does not exist (HTTP 404).",
    ),
    ("ConflictingRequest", "The request conflicts with the current state: it already exists, or is busy (HTTP 409)."),
    ("RequestTooLarge", "The request body is larger than max_request_bytes (HTTP 413)."),
    ("InternalError", "The service failed (database, object store, ...); the message says why (HTTP 5xx)."),
];

pub fn error_codes() -> Vec<AnchoreErrorCode> {
    ERROR_CODES
        .iter()
        .map(|(name, description)| AnchoreErrorCode {
            name: (*name).to_owned(),
            description: (*description).to_owned(),
        })
        .collect()
}

fn still_pending(job: &QueueEntry) -> ApiError {
    let holder = match (&job.state[..], &job.lease_owner) {
        ("leased", Some(owner)) => format!("being worked on by {owner}"),
        _ => "waiting in the queue".to_owned(),
    };
    ApiError::conflict(format!("job {} for {} is {holder}: nothing to requeue", job.id, job.item_key))
        .with_detail(serde_json::to_value(job).unwrap_or_default())
}

/// Queues job `id` again with fresh attempts (an admin's retry of a failed
/// or abandoned job). For an image analysis the image goes back to
/// `not_analyzed` first, so the analyser that takes the job finds it so.
pub async fn requeue(state: &AppState, id: i64) -> ApiResult<QueueEntry> {
    let job =
        state.queue.get(id).await?.ok_or_else(|| ApiError::not_found(format!("queue job {id} does not exist")))?;
    if job.is_pending(epoch_seconds()) {
        return Err(still_pending(&job));
    }
    if job.queue == queue::ANALYZE {
        let digest = job.payload.get("digest").and_then(|d| d.as_str()).ok_or_else(|| {
            ApiError::from(ServiceError::Other(format!("analysis job {id} names no image digest: {}", job.payload)))
        })?;
        if crate::images::image_row(state, &job.account, digest).await?.is_none() {
            return Err(ApiError::not_found(format!(
                "image {digest} of account {:?} no longer exists: nothing to analyse",
                job.account
            )));
        }
        crate::images::set_status(state, &job.account, digest, AnalysisStatus::NotAnalyzed).await?;
    }
    match state.queue.requeue(id).await? {
        Requeue::Queued(new_job) => {
            tracing::info!(job = id, new_job = new_job.id, queue = %new_job.queue, item = %new_job.item_key, "job requeued");
            Ok(new_job)
        }
        Requeue::Pending(other) => Err(still_pending(&other)),
        Requeue::NotFound => Err(ApiError::not_found(format!("queue job {id} does not exist"))),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn every_error_type_is_described() {
        for status in [400, 401, 403, 404, 409, 413, 422, 500, 502, 503] {
            let status = StatusCode::from_u16(status).unwrap();
            let error_type = ApiError::new(status, "x").error_type;
            assert!(ERROR_CODES.iter().any(|(name, _)| *name == error_type), "{status}: {error_type}");
        }
    }

    #[test]
    fn every_role_stands_for_services() {
        let all: Vec<&str> = [Role::Api, Role::Analyzer, Role::Scheduler]
            .into_iter()
            .flat_map(|role| service_names(role).to_vec())
            .collect();
        for anchore_default in ["catalog", "apiext", "policy_engine", "simplequeue", "analyzer"] {
            assert!(all.contains(&anchore_default), "{anchore_default}");
        }
    }
}
