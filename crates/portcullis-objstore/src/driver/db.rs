//! `db`: the bytes in the `objstore_blobs` table of the service database.

use portcullis_sql::Database;
use serde::Deserialize;
use sqlx::Row;

use crate::error::{Result, db_error};

pub(crate) const SCHEME: &str = "db://";

/// The `db` driver takes no options.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DbConfig {}

pub(crate) struct DbDriver {
    db: Database,
}

impl DbDriver {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }

    pub(crate) async fn put(&self, data: &[u8]) -> Result<String> {
        let url = format!("{SCHEME}objstore_blobs/{}", uuid::Uuid::new_v4().simple());
        sqlx::query("INSERT INTO objstore_blobs (url, data) VALUES ($1, $2)")
            .bind(&url)
            .bind(data)
            .execute(self.db.pool())
            .await
            .map_err(db_error("store a document"))?;
        Ok(url)
    }

    pub(crate) async fn get(&self, url: &str) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT data FROM objstore_blobs WHERE url = $1")
            .bind(url)
            .fetch_optional(self.db.pool())
            .await
            .map_err(db_error("read a document"))?;
        row.map(|row| row.try_get::<Vec<u8>, _>("data")).transpose().map_err(db_error("read a document"))
    }

    pub(crate) async fn delete(&self, url: &str) -> Result<()> {
        sqlx::query("DELETE FROM objstore_blobs WHERE url = $1")
            .bind(url)
            .execute(self.db.pool())
            .await
            .map_err(db_error("delete a document"))?;
        Ok(())
    }
}
