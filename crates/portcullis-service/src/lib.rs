//! The Portcullis service: a persistent catalog of analysed images behind an
//! Anchore Engine v1-compatible API.
//!
//! One process may take every role (the default) or some of them
//! ([`config::Role`]); processes sharing one database and object store split
//! the work through the database-backed [`queue`]. Data flows one way:
//! image → SBOM → matches → policy verdict → stored and notified.

pub mod accounts;
pub mod analyzer;
pub mod api;
pub mod archive;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod error;
pub mod evaluations;
pub mod events;
pub mod feeds;
pub mod images;
pub mod metrics;
pub mod notifications;
pub mod policies;
pub mod queue;
pub mod registries;
pub mod scheduler;
pub mod schema;
pub mod state;
pub mod subscriptions;
pub mod system;
pub mod vulns;
pub mod watchers;

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use portcullis_objstore::DocumentStore;
use portcullis_sql::{Database, PoolSize};
use portcullis_vulndb::VulnStore;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{Role, ServiceConfig};
use crate::crypto::Cipher;
use crate::queue::Queue;
use crate::state::{AppState, Shared};

pub use crate::error::ServiceError;

/// A started service: its API listener (when it has the api role) and its
/// background tasks.
pub struct Service {
    state: AppState,
    local_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// The admin password generated on first start, to show once.
    pub generated_admin_password: Option<String>,
}

impl Service {
    /// Opens the databases and object store (migrating them), creates the
    /// admin account on first start, binds the API and starts the roles'
    /// background tasks.
    pub async fn start(config: ServiceConfig, admin_password: Option<String>) -> Result<Service, ServiceError> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServiceError::Io {
            context: format!("creating the data directory {}", config.data_dir.display()),
            source,
        })?;
        let workers = u32::try_from(config.analyzer.workers).unwrap_or(u32::MAX);
        let db = Database::open_with(
            &config.database_location(),
            PoolSize { sqlite: 8, postgres: 16u32.saturating_add(workers) },
        )
        .await?;
        db.migrate(schema::LEDGER, schema::MIGRATIONS).await?;
        let docs = DocumentStore::open(&config.object_store, &db).await?;
        let vulndb = VulnStore::open(&config.vulndb_location()).await?;
        let cipher = Cipher::load(config.secret_key.as_deref(), &config.data_dir.join("secret.key"))?;
        let generated_admin_password = auth::bootstrap_admin(&db, admin_password).await?;
        let host_id = format!("{}-{}-{}", hostname(), std::process::id(), auth::random_secret(4)?);
        let state = AppState::new(Shared {
            queue: Queue::new(db.clone()),
            db,
            docs,
            vulndb,
            cipher,
            host_id,
            started: Instant::now(),
            metrics: metrics::handle(),
            login_cache: Mutex::new(Default::default()),
            config,
        });
        let (shutdown, stop) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let local_addr = if state.config.has_role(Role::Api) {
            let listener = tokio::net::TcpListener::bind(state.config.listen).await.map_err(|source| {
                ServiceError::Io { context: format!("listening on {}", state.config.listen), source }
            })?;
            let addr =
                listener.local_addr().map_err(|source| ServiceError::Io { context: "listener".into(), source })?;
            let app = api::router(state.clone());
            let mut stop = stop.clone();
            tasks.spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|stopped| *stopped).await;
                    })
                    .await;
                if let Err(error) = served {
                    tracing::error!(%error, "the API server stopped");
                }
            });
            tracing::info!(%addr, "API listening");
            Some(addr)
        } else {
            None
        };
        // Every process registers its services before it takes any work, so
        // `GET /system` lists it as soon as it is up.
        let base_url = local_addr.map(|addr| format!("http://{addr}")).unwrap_or_default();
        system::register(&state, &base_url).await?;
        tasks.spawn(system::heartbeat(state.clone(), base_url, stop.clone()));
        if state.config.has_role(Role::Analyzer) {
            analyzer::spawn(&state, stop.clone(), &mut tasks);
        }
        if state.config.has_role(Role::Scheduler) {
            tasks.spawn(scheduler::run(state.clone(), scheduler::watchers(), stop.clone()));
        }
        Ok(Service { state, local_addr, shutdown, tasks, generated_admin_password })
    }

    /// Where the API listens (when this process has the api role).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting work, lets running tasks finish their step, and waits for them.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.state.db.close().await;
    }

    /// Runs until SIGINT/SIGTERM, then shuts down.
    pub async fn run_until_signal(self) -> Result<(), ServiceError> {
        let ctrl_c = tokio::signal::ctrl_c();
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|source| ServiceError::Io { context: "installing the SIGTERM handler".into(), source })?;
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
        self.shutdown().await;
        Ok(())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
