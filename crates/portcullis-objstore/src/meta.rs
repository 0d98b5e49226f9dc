//! The metadata table: one row per document, naming where its bytes are.

use portcullis_sql::{Database, Migration, now_rfc3339};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Row, SqlSafeStr};

use crate::error::{Result, db_error};

pub(crate) const LEDGER: &str = "objstore_migrations";

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        "0001_documents",
        "CREATE TABLE objstore_documents (
            account TEXT NOT NULL,
            bucket TEXT NOT NULL,
            object_key TEXT NOT NULL,
            url TEXT NOT NULL,
            digest TEXT NOT NULL,
            compressed BIGINT NOT NULL,
            size BIGINT NOT NULL,
            stored_size BIGINT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (account, bucket, object_key)
        )",
    ),
    // The `db` driver's bytes. Keyed by URL, not by document, so that a new
    // version is written beside the old one and the metadata row switches
    // between them atomically.
    Migration {
        name: "0002_blobs",
        sqlite: "CREATE TABLE objstore_blobs (url TEXT PRIMARY KEY, data BLOB NOT NULL)",
        postgres: "CREATE TABLE objstore_blobs (url TEXT PRIMARY KEY, data BYTEA NOT NULL)",
    },
];

/// What is known of one stored document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentMeta {
    pub account: String,
    pub bucket: String,
    pub key: String,
    /// Where the bytes are; the scheme names the driver (`db://`, `file://`, `s3://`, `swift://`).
    pub url: String,
    /// `sha256:<hex>` of the stored (possibly compressed) bytes.
    pub digest: String,
    pub compressed: bool,
    /// Size of the document as given to `put`.
    pub size: u64,
    /// Size of the stored bytes.
    pub stored_size: u64,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
}

/// The columns of a new version of a document.
pub(crate) struct NewVersion<'a> {
    pub url: &'a str,
    pub digest: &'a str,
    pub compressed: bool,
    pub size: u64,
    pub stored_size: u64,
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

const COLUMNS: &str = "account, bucket, object_key, url, digest, compressed, size, stored_size, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<DocumentMeta, sqlx::Error> {
    Ok(DocumentMeta {
        account: row.try_get("account")?,
        bucket: row.try_get("bucket")?,
        key: row.try_get("object_key")?,
        url: row.try_get("url")?,
        digest: row.try_get("digest")?,
        compressed: row.try_get::<i64, _>("compressed")? != 0,
        size: u64::try_from(row.try_get::<i64, _>("size")?).unwrap_or_default(),
        stored_size: u64::try_from(row.try_get::<i64, _>("stored_size")?).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The statement `sql` over one document, its key bound to `$1` to `$3`.
fn on_document<'q>(sql: impl SqlSafeStr, account: &'q str, bucket: &'q str, key: &'q str) -> AnyQuery<'q> {
    sqlx::query(sql).bind(account).bind(bucket).bind(key)
}

/// The statement `sql` writing a whole version of one document: the key as
/// in [`on_document`], then `new`'s columns at `$4` to `$8` and `now` at `$9`.
fn write_version<'q>(
    sql: impl SqlSafeStr,
    account: &'q str,
    bucket: &'q str,
    key: &'q str,
    new: &NewVersion<'q>,
    now: &'q str,
) -> AnyQuery<'q> {
    on_document(sql, account, bucket, key)
        .bind(new.url)
        .bind(new.digest)
        .bind(i64::from(new.compressed))
        .bind(to_i64(new.size))
        .bind(to_i64(new.stored_size))
        .bind(now)
}

pub(crate) async fn get(db: &Database, account: &str, bucket: &str, key: &str) -> Result<Option<DocumentMeta>> {
    let select =
        format!("SELECT {COLUMNS} FROM objstore_documents WHERE account = $1 AND bucket = $2 AND object_key = $3");
    let row = on_document(sqlx::AssertSqlSafe(select), account, bucket, key)
        .fetch_optional(db.pool())
        .await
        .map_err(db_error("read a document's metadata"))?;
    row.as_ref().map(from_row).transpose().map_err(db_error("read a document's metadata"))
}

/// Points the document at a new version, returning the metadata and the URL
/// of the version it replaced. The row is locked between reading the old URL
/// and writing the new one, so concurrent puts of one key each learn exactly
/// the version they replaced (and delete only that one).
pub(crate) async fn replace(
    db: &Database,
    account: &str,
    bucket: &str,
    key: &str,
    new: &NewVersion<'_>,
) -> Result<(DocumentMeta, Option<String>)> {
    let fail = db_error("record a document's metadata");
    let now = now_rfc3339();
    let meta = |created_at: String| DocumentMeta {
        account: account.to_owned(),
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        url: new.url.to_owned(),
        digest: new.digest.to_owned(),
        compressed: new.compressed,
        size: new.size,
        stored_size: new.stored_size,
        created_at,
        updated_at: now.clone(),
    };
    loop {
        let mut tx = db.pool().begin().await.map_err(&fail)?;
        let insert = sqlx::AssertSqlSafe(format!(
            "INSERT INTO objstore_documents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
             ON CONFLICT (account, bucket, object_key) DO NOTHING"
        ));
        let inserted = write_version(insert, account, bucket, key, new, &now).execute(&mut *tx).await.map_err(&fail)?;
        if inserted.rows_affected() == 1 {
            tx.commit().await.map_err(&fail)?;
            return Ok((meta(now.clone()), None));
        }
        // A no-op update takes the row lock (PostgreSQL; SQLite's writer lock
        // is already held), so the URL read next cannot change under us.
        let locked = on_document(
            "UPDATE objstore_documents SET url = url WHERE account = $1 AND bucket = $2 AND object_key = $3",
            account,
            bucket,
            key,
        )
        .execute(&mut *tx)
        .await
        .map_err(&fail)?;
        if locked.rows_affected() == 0 {
            // Deleted between the insert attempt and the lock: start again.
            continue;
        }
        let old = on_document(
            "SELECT url, created_at FROM objstore_documents WHERE account = $1 AND bucket = $2 AND object_key = $3",
            account,
            bucket,
            key,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(&fail)?;
        let old_url: String = old.try_get("url").map_err(&fail)?;
        let created_at: String = old.try_get("created_at").map_err(&fail)?;
        let update = "UPDATE objstore_documents SET url = $4, digest = $5, compressed = $6, size = $7,
             stored_size = $8, updated_at = $9 WHERE account = $1 AND bucket = $2 AND object_key = $3";
        write_version(update, account, bucket, key, new, &now).execute(&mut *tx).await.map_err(&fail)?;
        tx.commit().await.map_err(&fail)?;
        return Ok((meta(created_at), Some(old_url)));
    }
}

/// Deletes the row, returning the URL its bytes were at.
pub(crate) async fn delete(db: &Database, account: &str, bucket: &str, key: &str) -> Result<Option<String>> {
    let row = on_document(
        "DELETE FROM objstore_documents WHERE account = $1 AND bucket = $2 AND object_key = $3 RETURNING url",
        account,
        bucket,
        key,
    )
    .fetch_optional(db.pool())
    .await
    .map_err(db_error("delete a document's metadata"))?;
    row.map(|row| row.try_get("url")).transpose().map_err(db_error("delete a document's metadata"))
}

/// Moves a document to `new_url` if it is still at `old_url` (same bytes,
/// another place). False when the document changed or went meanwhile.
pub(crate) async fn move_url(db: &Database, doc: &DocumentMeta, new_url: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE objstore_documents SET url = $5 WHERE account = $1 AND bucket = $2 AND object_key = $3 AND url = $4",
    )
    .bind(&doc.account)
    .bind(&doc.bucket)
    .bind(&doc.key)
    .bind(&doc.url)
    .bind(new_url)
    .execute(db.pool())
    .await
    .map_err(db_error("move a document"))?;
    Ok(done.rows_affected() == 1)
}

/// Every document, or those of one account and/or bucket, ordered by name.
pub(crate) async fn list(db: &Database, account: Option<&str>, bucket: Option<&str>) -> Result<Vec<DocumentMeta>> {
    let mut conditions = Vec::new();
    if account.is_some() {
        conditions.push(format!("account = ${}", conditions.len() + 1));
    }
    if bucket.is_some() {
        conditions.push(format!("bucket = ${}", conditions.len() + 1));
    }
    let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
    let sql = format!("SELECT {COLUMNS} FROM objstore_documents{filter}");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for value in [account, bucket].into_iter().flatten() {
        query = query.bind(value);
    }
    let rows = query.fetch_all(db.pool()).await.map_err(db_error("list documents"))?;
    let mut docs: Vec<DocumentMeta> =
        rows.iter().map(from_row).collect::<Result<_, _>>().map_err(db_error("list documents"))?;
    // Sorted here: PostgreSQL's ORDER BY follows the database's locale, SQLite's the bytes.
    docs.sort_by(|a, b| (&a.account, &a.bucket, &a.key).cmp(&(&b.account, &b.bucket, &b.key)));
    Ok(docs)
}
