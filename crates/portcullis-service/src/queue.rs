//! The work queue, kept in the catalog database so every process sharing it
//! shares the work.
//!
//! A job is *claimed* with a lease: the claimer owns it until the lease
//! expires, and renews it with [`Queue::heartbeat`] while working. A process
//! that dies stops renewing, so its job becomes claimable again once the lease
//! runs out (minutes, not Anchore's ten hours). Each claim counts an attempt;
//! a job that fails or loses its lease `max_attempts` times is marked
//! `failed` with the last reason. On PostgreSQL the claim uses
//! `FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait on each other
//! nor take the same job; SQLite has a single writer, which gives the same.
//!
//! Fair share: among claimable jobs, those of the account with the fewest
//! jobs currently leased go first, then the oldest.

use portcullis_sql::{Backend, Database, now_rfc3339};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use crate::error::ServiceError;
use crate::schema::{stored_count, stored_json};

/// The analysis queue's name.
pub const ANALYZE: &str = "images_to_analyze";

#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub queue: String,
    pub account: String,
    /// What the job is about (e.g. an image digest); one pending job per key.
    pub item_key: String,
    pub payload: serde_json::Value,
    /// Attempts including the current one.
    pub attempts: u32,
    pub max_attempts: u32,
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Back in the queue for another attempt.
    Retry,
    /// Out of attempts: the job is `failed`.
    GaveUp,
}

/// One row of the queue as the admin API lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueEntry {
    pub id: i64,
    pub queue: String,
    pub account: String,
    pub item_key: String,
    pub payload: serde_json::Value,
    /// `queued`, `leased`, `done`, `failed` or `cancelled`.
    pub state: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub lease_owner: Option<String>,
    pub lease_expires: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone)]
pub struct Queue {
    db: Database,
}

pub fn epoch_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Queue {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Adds a job unless one for the same `(queue, item_key)` is already
    /// queued or running. Returns whether it was added.
    pub async fn enqueue(
        &self,
        queue: &str,
        account: &str,
        item_key: &str,
        payload: &serde_json::Value,
        max_attempts: u32,
    ) -> Result<bool, ServiceError> {
        let now = now_rfc3339();
        let done = sqlx::query(
            "INSERT INTO work_queue (queue, account, item_key, payload, state, attempts, max_attempts, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6) ON CONFLICT DO NOTHING",
        )
        .bind(queue)
        .bind(account)
        .bind(item_key)
        .bind(payload.to_string())
        .bind(i64::from(max_attempts))
        .bind(&now)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims the next job of `queue` for `owner` for `lease_seconds`.
    pub async fn claim(&self, queue: &str, owner: &str, lease_seconds: u64) -> Result<Option<Job>, ServiceError> {
        let now = epoch_seconds();
        let lock = match self.db.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE work_queue SET state = 'leased', lease_owner = $1, lease_expires = $2, attempts = attempts + 1, updated_at = $3
             WHERE id = (
                SELECT q.id FROM work_queue q
                WHERE q.queue = $4 AND q.attempts < q.max_attempts
                  AND (q.state = 'queued' OR (q.state = 'leased' AND q.lease_expires < $5))
                ORDER BY (SELECT COUNT(*) FROM work_queue l
                          WHERE l.queue = q.queue AND l.account = q.account
                            AND l.state = 'leased' AND l.lease_expires >= $5),
                         q.id
                LIMIT 1 {lock})
             RETURNING id, queue, account, item_key, payload, attempts, max_attempts"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(owner)
            .bind(now + lease_seconds as i64)
            .bind(now_rfc3339())
            .bind(queue)
            .bind(now)
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// Extends the lease of a job still held by `owner`; `false` when the
    /// lease was lost (expired and taken over), so the caller must stop.
    pub async fn heartbeat(&self, job: &Job, owner: &str, lease_seconds: u64) -> Result<bool, ServiceError> {
        let done = on_lease(
            "UPDATE work_queue SET lease_expires = $5, updated_at = $4
             WHERE id = $1 AND state = 'leased' AND lease_owner = $2 AND attempts = $3",
            job,
            owner,
        )
        .bind(epoch_seconds() + lease_seconds as i64)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a job done; `false` when the lease had been lost meanwhile.
    pub async fn complete(&self, job: &Job, owner: &str) -> Result<bool, ServiceError> {
        let done = on_lease(
            "UPDATE work_queue SET state = 'done', lease_owner = NULL, lease_expires = NULL, updated_at = $4
             WHERE id = $1 AND state = 'leased' AND lease_owner = $2 AND attempts = $3",
            job,
            owner,
        )
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt: back to the queue, or `failed` when out of attempts.
    pub async fn fail(&self, job: &Job, owner: &str, reason: &str) -> Result<FailOutcome, ServiceError> {
        let outcome = if job.attempts >= job.max_attempts { FailOutcome::GaveUp } else { FailOutcome::Retry };
        let state = match outcome {
            FailOutcome::Retry => "queued",
            FailOutcome::GaveUp => "failed",
        };
        on_lease(
            "UPDATE work_queue SET state = $5, lease_owner = NULL, lease_expires = NULL, last_error = $6, updated_at = $4
             WHERE id = $1 AND lease_owner = $2 AND attempts = $3",
            job,
            owner,
        )
        .bind(state)
        .bind(reason)
        .execute(self.db.pool())
        .await?;
        Ok(outcome)
    }

    /// Jobs whose last allowed attempt lost its lease (the worker died on
    /// it): marks them `failed` and returns them so their owner can record
    /// the failure.
    pub async fn reap_abandoned(&self, queue: &str) -> Result<Vec<Job>, ServiceError> {
        let rows = sqlx::query(
            "UPDATE work_queue SET state = 'failed', lease_owner = NULL, lease_expires = NULL, updated_at = $1,
                last_error = 'the analyser working on it stopped responding (lease expired) on the last attempt'
             WHERE queue = $2 AND state = 'leased' AND lease_expires < $3 AND attempts >= max_attempts
             RETURNING id, queue, account, item_key, payload, attempts, max_attempts",
        )
        .bind(now_rfc3339())
        .bind(queue)
        .bind(epoch_seconds())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Drops pending jobs of `(queue, item_key)` (e.g. the image was deleted).
    pub async fn cancel(&self, queue: &str, account: &str, item_key: &str) -> Result<u64, ServiceError> {
        let done = sqlx::query(
            "UPDATE work_queue SET state = 'cancelled', lease_owner = NULL, lease_expires = NULL, updated_at = $1
             WHERE queue = $2 AND account = $3 AND item_key = $4 AND state IN ('queued', 'leased')",
        )
        .bind(now_rfc3339())
        .bind(queue)
        .bind(account)
        .bind(item_key)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// The newest entries, newest first: of one queue and/or in one state when given.
    pub async fn list(
        &self,
        queue: Option<&str>,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<QueueEntry>, ServiceError> {
        let mut conditions = Vec::new();
        if queue.is_some() {
            conditions.push(format!("queue = ${}", conditions.len() + 1));
        }
        if state.is_some() {
            conditions.push(format!("state = ${}", conditions.len() + 1));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM work_queue {filter} ORDER BY id DESC LIMIT ${}", conditions.len() + 1);
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in [queue, state].into_iter().flatten() {
            query = query.bind(value);
        }
        let rows = query.bind(limit).fetch_all(self.db.pool()).await?;
        rows.iter().map(entry_from_row).collect()
    }

    pub async fn get(&self, id: i64) -> Result<Option<QueueEntry>, ServiceError> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {ENTRY_COLUMNS} FROM work_queue WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    /// Queues a fresh copy (no attempts used) of a job that is over (done,
    /// failed, cancelled) or whose worker stopped renewing its lease; the old
    /// row stays as history, cancelled if it was still leased.
    pub async fn requeue(&self, id: i64) -> Result<Requeue, ServiceError> {
        let Some(job) = self.get(id).await? else { return Ok(Requeue::NotFound) };
        let now = epoch_seconds();
        if job.is_pending(now) {
            return Ok(Requeue::Pending(job));
        }
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "UPDATE work_queue SET state = 'cancelled', lease_owner = NULL, lease_expires = NULL, updated_at = $1,
                last_error = 'requeued after its lease expired'
             WHERE id = $2 AND state = 'leased' AND lease_expires < $3",
        )
        .bind(now_rfc3339())
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let copy = sqlx::query(
            "INSERT INTO work_queue (queue, account, item_key, payload, state, attempts, max_attempts, created_at, updated_at)
             SELECT queue, account, item_key, payload, 'queued', 0, max_attempts, $1, $1 FROM work_queue WHERE id = $2
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(now_rfc3339())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let pending = match copy {
            Some(row) => self.get(row.try_get("id")?).await?,
            None => {
                // Another job for the same item is pending (the queue keeps one).
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {ENTRY_COLUMNS} FROM work_queue WHERE queue = $1 AND item_key = $2
                     AND state IN ('queued', 'leased') ORDER BY id DESC LIMIT 1"
                )))
                .bind(&job.queue)
                .bind(&job.item_key)
                .fetch_optional(self.db.pool())
                .await?;
                return Ok(row.as_ref().map(entry_from_row).transpose()?.map_or(Requeue::NotFound, Requeue::Pending));
            }
        };
        Ok(pending.map_or(Requeue::NotFound, Requeue::Queued))
    }
}

impl QueueEntry {
    /// Waiting, or held by a worker whose lease is still running at `now` (epoch seconds).
    pub fn is_pending(&self, now: i64) -> bool {
        self.state == "queued" || (self.state == "leased" && self.lease_expires.is_some_and(|t| t >= now))
    }
}

/// What [`Queue::requeue`] did.
#[derive(Debug, Clone)]
pub enum Requeue {
    /// The new job.
    Queued(QueueEntry),
    /// Nothing: this job, or another for the same item, is still pending.
    Pending(QueueEntry),
    NotFound,
}

/// The statement `sql` about `job` as `owner` holds it: `$1` to `$3` are the
/// job, the owner and the attempt (so a lease that expired and was taken over
/// since matches nothing), `$4` the time of the update.
fn on_lease<'q>(
    sql: &'static str,
    job: &Job,
    owner: &'q str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sql).bind(job.id).bind(owner).bind(i64::from(job.attempts)).bind(now_rfc3339())
}

const ENTRY_COLUMNS: &str = "id, queue, account, item_key, payload, state, attempts, max_attempts, lease_owner, \
                             lease_expires, last_error, created_at, updated_at";

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<QueueEntry, ServiceError> {
    let Job { id, queue, account, item_key, payload, attempts, max_attempts } = job_from_row(row)?;
    Ok(QueueEntry {
        id,
        queue,
        account,
        item_key,
        payload,
        state: row.try_get("state")?,
        attempts,
        max_attempts,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires: row.try_get("lease_expires")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn job_from_row(row: &sqlx::any::AnyRow) -> Result<Job, ServiceError> {
    Ok(Job {
        id: row.try_get("id")?,
        queue: row.try_get("queue")?,
        account: row.try_get("account")?,
        item_key: row.try_get("item_key")?,
        payload: stored_json(row, "payload", "queue payload")?,
        attempts: stored_count(row, "attempts")?,
        max_attempts: stored_count(row, "max_attempts")?,
    })
}
