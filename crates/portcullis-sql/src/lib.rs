//! One way to open a relational database and migrate it, shared by every
//! Portcullis component that keeps structured data.
//!
//! A *location* is a file path or `sqlite://PATH` (the embedded default), or a
//! `postgres://` / `postgresql://` URL. Everything goes through sqlx's `Any`
//! driver, so callers write SQL once: `$N` placeholders (both engines accept
//! them) and only the column types both share (TEXT, BIGINT, DOUBLE PRECISION).
//! Where the dialects really differ a [`Migration`] carries one text for each.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

/// Why a database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("cannot create the directory {path} for the database: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the database {location}: {source}")]
    Open { location: String, source: sqlx::Error },
    #[error("database {location}: migration {migration} failed: {source}")]
    Migrate { location: String, migration: String, source: sqlx::Error },
    #[error("unsupported database URL {0:?}: use a file path, sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
}

/// Which engine is behind a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One schema step of a component, recorded by name once applied.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub name: &'static str,
    /// `;`-separated statements for SQLite.
    pub sqlite: &'static str,
    /// `;`-separated statements for PostgreSQL (often the same text).
    pub postgres: &'static str,
}

impl Migration {
    /// A migration whose SQL is the same on both engines.
    pub const fn portable(name: &'static str, sql: &'static str) -> Self {
        Self { name, sqlite: sql, postgres: sql }
    }
}

/// Connection-pool sizing for [`Database::open_with`].
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    pub sqlite: u32,
    pub postgres: u32,
}

impl Default for PoolSize {
    fn default() -> Self {
        // SQLite has one writer anyway; WAL lets readers go on meanwhile.
        Self { sqlite: 4, postgres: 8 }
    }
}

/// An open connection pool and the engine behind it.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    location: String,
}

impl Database {
    /// Opens (creating a SQLite file and its directory if needed) the database at `location`.
    pub async fn open(location: &str) -> Result<Self, SqlError> {
        Self::open_with(location, PoolSize::default()).await
    }

    pub async fn open_with(location: &str, size: PoolSize) -> Result<Self, SqlError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = connection_url(location)?;
        let open_error = |source| SqlError::Open { location: location.to_owned(), source };
        let options = AnyConnectOptions::from_str(&url).map_err(open_error)?;
        let pool_options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                pool_options
                    .max_connections(size.sqlite)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                            sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
                            sqlx::query("PRAGMA busy_timeout = 30000").execute(&mut *conn).await?;
                            sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
            }
            Backend::Postgres => pool_options.max_connections(size.postgres).connect_with(options).await,
        }
        .map_err(open_error)?;
        Ok(Self { pool, backend, location: location.to_owned() })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The location the database was opened with (a path or URL).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Applies the pending `migrations` of one component, in order, each in
    /// its own transaction, recording them in the table `ledger`
    /// (e.g. `vuln_migrations`). Safe to run from several processes at once.
    pub async fn migrate(&self, ledger: &str, migrations: &[Migration]) -> Result<(), SqlError> {
        let fail = |migration: &str| {
            let migration = migration.to_owned();
            move |source| SqlError::Migrate { location: self.location.clone(), migration: migration.clone(), source }
        };
        // `ledger` is a constant of the calling component, never input.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS {ledger} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )))
        .execute(&self.pool)
        .await
        .map_err(fail(ledger))?;
        for migration in migrations {
            let err = fail(migration.name);
            let mut tx = self.pool.begin().await.map_err(&err)?;
            let applied = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT name FROM {ledger} WHERE name = $1")))
                .bind(migration.name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(&err)?;
            if applied.is_some() {
                continue;
            }
            let sql = match self.backend {
                Backend::Sqlite => migration.sqlite,
                Backend::Postgres => migration.postgres,
            };
            for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                sqlx::query(statement).execute(&mut *tx).await.map_err(&err)?;
            }
            // Two processes may race to migrate a fresh PostgreSQL database;
            // the primary key makes the loser's transaction fail cleanly.
            sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO {ledger} (name, applied_at) VALUES ($1, $2)")))
                .bind(migration.name)
                .bind(now_rfc3339())
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            tx.commit().await.map_err(&err)?;
            tracing::debug!(location = %self.location, migration = migration.name, "applied migration");
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The current time as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn connection_url(location: &str) -> Result<(String, Backend), SqlError> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        return Ok((location.to_owned(), Backend::Postgres));
    }
    let path = match location.strip_prefix("sqlite://") {
        Some(path) => path,
        None if location.contains("://") => return Err(SqlError::UnsupportedUrl(location.to_owned())),
        None => location,
    };
    let path = Path::new(path);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| SqlError::CreateDir { path: parent.to_owned(), source })?;
    }
    Ok((format!("sqlite://{}?mode=rwc", path.display()), Backend::Sqlite))
}
