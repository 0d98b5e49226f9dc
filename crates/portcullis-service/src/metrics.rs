//! Prometheus metrics: counters bumped where things happen, gauges read from
//! the database when `/metrics` is scraped (so every process reports the
//! shared queue, not only its own part).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::Row;

use crate::state::AppState;

/// The process-wide recorder (metrics has one global recorder; several
/// in-process services, as in tests, share it).
pub fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .clone()
}

/// Updates the gauges that mirror database state.
pub async fn refresh_gauges(state: &AppState) {
    let rows = sqlx::query("SELECT queue, state, COUNT(*) AS n FROM work_queue GROUP BY queue, state")
        .fetch_all(state.db.pool())
        .await;
    if let Ok(rows) = rows {
        for row in rows {
            let (Ok(queue), Ok(job_state), Ok(n)) =
                (row.try_get::<String, _>("queue"), row.try_get::<String, _>("state"), row.try_get::<i64, _>("n"))
            else {
                continue;
            };
            metrics::gauge!("portcullis_queue_jobs", "queue" => queue, "state" => job_state).set(n as f64);
        }
    }
    let rows = sqlx::query("SELECT analysis_status, COUNT(*) AS n FROM images GROUP BY analysis_status")
        .fetch_all(state.db.pool())
        .await;
    if let Ok(rows) = rows {
        for row in rows {
            let (Ok(status), Ok(n)) = (row.try_get::<String, _>("analysis_status"), row.try_get::<i64, _>("n")) else {
                continue;
            };
            metrics::gauge!("portcullis_images", "analysis_status" => status).set(n as f64);
        }
    }
    metrics::gauge!("portcullis_uptime_seconds").set(state.started.elapsed().as_secs_f64());
}
