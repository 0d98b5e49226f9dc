//! Throw-away databases on the machine's real PostgreSQL server.
//!
//! The server is the one the test machine runs (127.0.0.1:5432, trust auth);
//! `PORTCULLIS_TEST_POSTGRES` overrides the server URL (without a database
//! name). Each [`TempDatabase`] is a fresh database dropped on drop, so tests
//! run in parallel without seeing each other's rows. Databases are created
//! with `psql`, keeping this crate free of a database driver.

use std::env;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A database that exists for the lifetime of the value.
pub struct TempDatabase {
    server: String,
    name: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TempDatabase {
    /// Creates a new, empty database. Panics with instructions when the
    /// server cannot be reached: the tests need a real PostgreSQL.
    pub fn create() -> Self {
        let server = server_url();
        let name = format!(
            "portcullis_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
        );
        psql(&server, &format!("CREATE DATABASE {name}"));
        Self { server, name }
    }

    /// `postgres://.../<name>` for the database.
    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // WITH (FORCE) ends the pool connections the test may leave open.
        let _ = Command::new("psql")
            .arg(format!("{}/postgres", self.server))
            .args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)])
            .output();
    }
}

/// The PostgreSQL server URL the tests use, without a database name.
pub fn server_url() -> String {
    env::var("PORTCULLIS_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

fn psql(server: &str, sql: &str) {
    let output = Command::new("psql")
        .arg(format!("{server}/postgres"))
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap_or_else(|e| panic!("cannot run psql (install postgresql-client): {e}"));
    assert!(
        output.status.success(),
        "PostgreSQL at {server} refused {sql:?}: {}\nthe tests need a PostgreSQL server (set PORTCULLIS_TEST_POSTGRES)",
        String::from_utf8_lossy(&output.stderr)
    );
}
