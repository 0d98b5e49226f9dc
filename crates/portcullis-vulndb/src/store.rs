//! The vulnerability store: SQLite (the embedded default) or PostgreSQL,
//! through one code path.
//!
//! Feed data is kept per *source* (one upstream feed, e.g. `osv-pypi`) and per
//! *file* within it, so a sync only rewrites the files whose digest changed.
//! All writes of one sync happen in one transaction ([`SyncTransaction`]):
//! readers keep seeing the previous data until it commits, and an interrupted
//! or failed sync leaves the previous data in place.
//!
//! Queries use `$N` placeholders, which both SQLite and PostgreSQL accept, and
//! only the column types both share (TEXT, BIGINT, DOUBLE PRECISION).

use std::collections::BTreeMap;

use portcullis_sql::{Database, Migration};
use serde::{Deserialize, Serialize};
// Dynamic SQL here only splices table names from constants and `$N`
// placeholders; every value is bound.
use sqlx::{AnyPool, AssertSqlSafe, Row};

use crate::model::{Advisory, Affected, EpssEntry, KevEntry, Record};

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("vulnerability database: {0}")]
    Sql(#[from] portcullis_sql::SqlError),
    #[error("vulnerability database {location}: {source}")]
    Query { location: String, source: sqlx::Error },
    #[error(
        "vulnerability database {location}: stored record {what} is unreadable ({source}); run `portcullis feeds sync` again"
    )]
    Corrupt { location: String, what: String, source: serde_json::Error },
}

pub use portcullis_sql::Backend;

/// Provenance of one synced source, as `portcullis feeds list` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Stable name of the source, e.g. `osv-pypi`, `kev`, `debian-tracker`.
    pub name: String,
    /// Where it was last read from (a path or URL).
    pub location: String,
    /// Formats seen in it, e.g. `osv`, `debian-tracker-json`.
    pub formats: Vec<String>,
    /// The newest upstream date found in the data (record modification or
    /// catalogue date), when the data states one.
    pub upstream_date: Option<String>,
    /// `sha256:` over the sorted (path, file digest) list: equal digests mean equal data.
    pub digest: String,
    pub files: u64,
    pub advisories: u64,
    pub kev: u64,
    pub epss: u64,
    /// When this source was last synced (RFC 3339, UTC).
    pub synced_at: String,
    /// The same figures per feed within the source (the first directory of
    /// each file's path, `.` for files at the top), so a mirror of several
    /// upstream feeds shows each one's date and counts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub feeds: BTreeMap<String, FeedSummary>,
    /// HTTP validators (ETag, Last-Modified) of URL sources, for conditional requests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub validators: BTreeMap<String, String>,
}

/// Figures of one feed within a source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedSummary {
    pub formats: Vec<String>,
    pub upstream_date: Option<String>,
    pub files: u64,
    pub advisories: u64,
    pub kev: u64,
    pub epss: u64,
}

/// What one file of a source contributed at its last sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Path relative to the source root (or the archive member name).
    pub path: String,
    /// `sha256:...` of the content, or `crc32:...` for archive members.
    pub digest: String,
    /// The format that read it; `None` for files no parser recognised.
    pub format: Option<String>,
    pub advisories: u64,
    pub kev: u64,
    pub epss: u64,
    /// Newest record date in the file.
    pub upstream_date: Option<String>,
}

/// One affected entry found for a package lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct AffectedRow {
    pub source: String,
    /// The file of the source the record came from (two files may hold
    /// copies of one advisory, e.g. RustSec's native and OSV forms).
    pub path: String,
    pub advisory_id: String,
    pub affected: Affected,
}

/// One stored copy of an advisory.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAdvisory {
    pub source: String,
    pub advisory: Advisory,
}

/// Schema migrations, applied in order and recorded in `vuln_migrations`.
/// Each entry holds the SQLite and the PostgreSQL text (they differ only
/// where the dialects do).
const MIGRATIONS: &[Migration] = &[Migration::portable("0001_initial", SCHEMA_V1)];

const SCHEMA_V1: &str = "
CREATE TABLE vuln_source (
    name TEXT PRIMARY KEY,
    info TEXT NOT NULL
);
CREATE TABLE vuln_file (
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    digest TEXT NOT NULL,
    format TEXT,
    advisories BIGINT NOT NULL,
    kev BIGINT NOT NULL,
    epss BIGINT NOT NULL,
    upstream_date TEXT,
    PRIMARY KEY (source, path)
);
CREATE TABLE vuln_advisory (
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    id TEXT NOT NULL,
    withdrawn BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX vuln_advisory_id ON vuln_advisory (id);
CREATE INDEX vuln_advisory_file ON vuln_advisory (source, path);
CREATE TABLE vuln_affected (
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    package TEXT NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX vuln_affected_lookup ON vuln_affected (namespace, package);
CREATE INDEX vuln_affected_file ON vuln_affected (source, path);
CREATE TABLE vuln_kev (
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    cve TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX vuln_kev_cve ON vuln_kev (cve);
CREATE INDEX vuln_kev_file ON vuln_kev (source, path);
CREATE TABLE vuln_epss (
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    cve TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    percentile DOUBLE PRECISION NOT NULL,
    score_date TEXT
);
CREATE INDEX vuln_epss_cve ON vuln_epss (cve);
CREATE INDEX vuln_epss_file ON vuln_epss (source, path);
";

/// Rows per multi-row INSERT: far below both engines' parameter limits
/// (SQLite 32766, PostgreSQL 65535) while cutting round trips by two orders.
const INSERT_BATCH_ROWS: usize = 200;

/// An open vulnerability store.
#[derive(Debug, Clone)]
pub struct VulnStore {
    pool: AnyPool,
    db: Database,
}

impl VulnStore {
    /// Opens (creating if needed) the store at `location`: a file path or
    /// `sqlite://PATH` for SQLite, `postgres://...` / `postgresql://...` for
    /// PostgreSQL. Pending migrations run first.
    pub async fn open(location: &str) -> Result<Self, StoreError> {
        let db = Database::open(location).await?;
        db.migrate("vuln_migrations", MIGRATIONS).await?;
        Ok(Self { pool: db.pool().clone(), db })
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The location the store was opened with (a path or URL).
    pub fn location(&self) -> &str {
        self.db.location()
    }

    fn query_error(&self) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        |source| StoreError::Query { location: self.location().to_owned(), source }
    }

    fn corrupt(&self, what: String) -> impl FnOnce(serde_json::Error) -> StoreError + '_ {
        move |source| StoreError::Corrupt { location: self.location().to_owned(), what, source }
    }

    /// Every synced source, by name.
    pub async fn sources(&self) -> Result<Vec<SourceInfo>, StoreError> {
        let rows = sqlx::query("SELECT name, info FROM vuln_source ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(self.query_error())?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get(0).map_err(self.query_error())?;
                let info: String = row.try_get(1).map_err(self.query_error())?;
                serde_json::from_str(&info).map_err(self.corrupt(format!("source {name}")))
            })
            .collect()
    }

    /// Every stored file of `source`, with what it contributed.
    pub async fn files(&self, source: &str) -> Result<Vec<FileSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT path, digest, format, advisories, kev, epss, upstream_date FROM vuln_file WHERE source = $1",
        )
        .bind(source)
        .fetch_all(&self.pool)
        .await
        .map_err(self.query_error())?;
        let err = self.query_error();
        let count = |value: i64| u64::try_from(value).unwrap_or(0);
        rows.iter()
            .map(|row| {
                Ok(FileSummary {
                    path: row.try_get(0).map_err(&err)?,
                    digest: row.try_get(1).map_err(&err)?,
                    format: row.try_get(2).map_err(&err)?,
                    advisories: count(row.try_get(3).map_err(&err)?),
                    kev: count(row.try_get(4).map_err(&err)?),
                    epss: count(row.try_get(5).map_err(&err)?),
                    upstream_date: row.try_get(6).map_err(&err)?,
                })
            })
            .collect()
    }

    /// Starts the single transaction a sync writes through.
    pub async fn begin_sync(&self) -> Result<SyncTransaction<'_>, StoreError> {
        let tx = self.pool.begin().await.map_err(self.query_error())?;
        Ok(SyncTransaction { store: self, tx })
    }

    /// Every affected entry for the given packages of one namespace.
    pub async fn affected(&self, namespace: &str, packages: &[String]) -> Result<Vec<AffectedRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in packages.chunks(INSERT_BATCH_ROWS) {
            let placeholders = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT source, path, advisory_id, entry FROM vuln_affected WHERE namespace = $1 AND package IN ({placeholders})"
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(namespace);
            for package in chunk {
                query = query.bind(package.as_str());
            }
            let rows = query.fetch_all(&self.pool).await.map_err(self.query_error())?;
            for row in rows {
                let source: String = row.try_get(0).map_err(self.query_error())?;
                let path: String = row.try_get(1).map_err(self.query_error())?;
                let advisory_id: String = row.try_get(2).map_err(self.query_error())?;
                let entry: String = row.try_get(3).map_err(self.query_error())?;
                let affected = serde_json::from_str(&entry)
                    .map_err(self.corrupt(format!("{advisory_id} (affected entry from {source})")))?;
                out.push(AffectedRow { source, path, advisory_id, affected });
            }
        }
        Ok(out)
    }

    /// Every stored copy of the advisories with these ids, withdrawn ones included.
    pub async fn advisories(&self, ids: &[String]) -> Result<Vec<StoredAdvisory>, StoreError> {
        let rows = self.rows_by_key("SELECT source, doc FROM vuln_advisory WHERE id IN", ids).await?;
        rows.iter()
            .map(|row| {
                let source: String = row.try_get(0).map_err(self.query_error())?;
                let doc: String = row.try_get(1).map_err(self.query_error())?;
                let advisory = serde_json::from_str(&doc).map_err(self.corrupt(format!("advisory from {source}")))?;
                Ok(StoredAdvisory { source, advisory })
            })
            .collect()
    }

    /// KEV entries for these CVE ids.
    pub async fn kev(&self, cves: &[String]) -> Result<Vec<KevEntry>, StoreError> {
        let rows = self.rows_by_key("SELECT doc FROM vuln_kev WHERE cve IN", cves).await?;
        rows.iter()
            .map(|row| {
                let doc: String = row.try_get(0).map_err(self.query_error())?;
                serde_json::from_str(&doc).map_err(self.corrupt("KEV entry".to_owned()))
            })
            .collect()
    }

    /// EPSS scores for these CVE ids.
    pub async fn epss(&self, cves: &[String]) -> Result<Vec<EpssEntry>, StoreError> {
        let rows =
            self.rows_by_key("SELECT cve, score, percentile, score_date FROM vuln_epss WHERE cve IN", cves).await?;
        rows.iter()
            .map(|row| {
                Ok(EpssEntry {
                    cve: row.try_get(0).map_err(self.query_error())?,
                    score: row.try_get(1).map_err(self.query_error())?,
                    percentile: row.try_get(2).map_err(self.query_error())?,
                    date: row.try_get(3).map_err(self.query_error())?,
                })
            })
            .collect()
    }

    async fn rows_by_key(&self, select_in: &str, keys: &[String]) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in keys.chunks(INSERT_BATCH_ROWS) {
            let placeholders = (0..chunk.len()).map(|i| format!("${}", i + 1)).collect::<Vec<_>>().join(", ");
            let sql = format!("{select_in} ({placeholders})");
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for key in chunk {
                query = query.bind(key.as_str());
            }
            out.extend(query.fetch_all(&self.pool).await.map_err(self.query_error())?);
        }
        Ok(out)
    }

    /// Row counts of the data tables: (advisories, affected entries, KEV, EPSS).
    pub async fn counts(&self) -> Result<StoreCounts, StoreError> {
        let mut counts = [0i64; 4];
        for (slot, table) in counts.iter_mut().zip(["vuln_advisory", "vuln_affected", "vuln_kev", "vuln_epss"]) {
            let row = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&self.pool)
                .await
                .map_err(self.query_error())?;
            *slot = row.try_get(0).map_err(self.query_error())?;
        }
        let [advisories, affected, kev, epss] = counts.map(|n| u64::try_from(n).unwrap_or(0));
        Ok(StoreCounts { advisories, affected, kev, epss })
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Row counts of the store's data tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    pub advisories: u64,
    pub affected: u64,
    pub kev: u64,
    pub epss: u64,
}

/// The writes of one sync. Dropping it without [`SyncTransaction::commit`]
/// rolls everything back.
pub struct SyncTransaction<'a> {
    store: &'a VulnStore,
    tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl SyncTransaction<'_> {
    /// Removes everything a file of a source contributed.
    pub async fn remove_file(&mut self, source: &str, path: &str) -> Result<(), StoreError> {
        let err = self.store.query_error();
        for table in ["vuln_advisory", "vuln_affected", "vuln_kev", "vuln_epss", "vuln_file"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE source = $1 AND path = $2")))
                .bind(source)
                .bind(path)
                .execute(&mut *self.tx)
                .await
                .map_err(&err)?;
        }
        Ok(())
    }

    /// Removes a whole source (its files, records and provenance).
    pub async fn remove_source(&mut self, source: &str) -> Result<(), StoreError> {
        let err = self.store.query_error();
        for table in ["vuln_advisory", "vuln_affected", "vuln_kev", "vuln_epss", "vuln_file"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE source = $1")))
                .bind(source)
                .execute(&mut *self.tx)
                .await
                .map_err(&err)?;
        }
        sqlx::query("DELETE FROM vuln_source WHERE name = $1")
            .bind(source)
            .execute(&mut *self.tx)
            .await
            .map_err(&err)?;
        Ok(())
    }

    /// Replaces what a file contributed with `records`, and records its summary.
    pub async fn replace_file(
        &mut self,
        source: &str,
        file: &FileSummary,
        records: &[Record],
    ) -> Result<(), StoreError> {
        let path = file.path.as_str();
        self.remove_file(source, path).await?;
        let mut advisories = Vec::new();
        let mut affected = Vec::new();
        let mut kev = Vec::new();
        let mut epss = Vec::new();
        for record in records {
            match record {
                Record::Advisory(advisory) => {
                    let doc = serde_json::to_string(advisory).map_err(self.store.corrupt(advisory.id.clone()))?;
                    let withdrawn = i64::from(advisory.withdrawn.is_some());
                    for entry in &advisory.affected {
                        let entry_doc =
                            serde_json::to_string(entry).map_err(self.store.corrupt(advisory.id.clone()))?;
                        affected.push(vec![
                            Value::Text(advisory.id.clone()),
                            Value::Text(entry.namespace.clone()),
                            Value::Text(entry.package.clone()),
                            Value::Text(entry_doc),
                        ]);
                    }
                    advisories.push(vec![Value::Text(advisory.id.clone()), Value::Int(withdrawn), Value::Text(doc)]);
                }
                Record::Kev(entry) => {
                    let doc = serde_json::to_string(entry).map_err(self.store.corrupt(entry.cve.clone()))?;
                    kev.push(vec![Value::Text(entry.cve.clone()), Value::Text(doc)]);
                }
                Record::Epss(entry) => epss.push(vec![
                    Value::Text(entry.cve.clone()),
                    Value::Float(entry.score),
                    Value::Float(entry.percentile),
                    Value::OptText(entry.date.clone()),
                ]),
            }
        }
        self.insert(source, path, "vuln_advisory (source, path, id, withdrawn, doc)", advisories).await?;
        self.insert(source, path, "vuln_affected (source, path, advisory_id, namespace, package, entry)", affected)
            .await?;
        self.insert(source, path, "vuln_kev (source, path, cve, doc)", kev).await?;
        self.insert(source, path, "vuln_epss (source, path, cve, score, percentile, score_date)", epss).await?;
        let count = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        let file_row = vec![
            Value::Text(file.digest.clone()),
            Value::OptText(file.format.clone()),
            count(file.advisories),
            count(file.kev),
            count(file.epss),
            Value::OptText(file.upstream_date.clone()),
        ];
        self.insert(
            source,
            path,
            "vuln_file (source, path, digest, format, advisories, kev, epss, upstream_date)",
            vec![file_row],
        )
        .await
    }

    /// Multi-row INSERT of `rows`, each prefixed with (source, path).
    async fn insert(
        &mut self,
        source: &str,
        path: &str,
        target: &str,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), StoreError> {
        let err = self.store.query_error();
        for chunk in rows.chunks(INSERT_BATCH_ROWS) {
            let mut sql = format!("INSERT INTO {target} VALUES ");
            let mut n = 0;
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for j in 0..row.len() + 2 {
                    if j > 0 {
                        sql.push_str(", ");
                    }
                    n += 1;
                    sql.push_str(&format!("${n}"));
                }
                sql.push(')');
            }
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for row in chunk {
                query = query.bind(source).bind(path);
                for value in row {
                    query = match value {
                        Value::Text(text) => query.bind(text.as_str()),
                        Value::OptText(text) => query.bind(text.as_deref()),
                        Value::Int(int) => query.bind(*int),
                        Value::Float(float) => query.bind(*float),
                    };
                }
            }
            query.execute(&mut *self.tx).await.map_err(&err)?;
        }
        Ok(())
    }

    /// Records (or replaces) a source's provenance.
    pub async fn set_source(&mut self, info: &SourceInfo) -> Result<(), StoreError> {
        let err = self.store.query_error();
        let doc = serde_json::to_string(info).map_err(self.store.corrupt(info.name.clone()))?;
        sqlx::query("DELETE FROM vuln_source WHERE name = $1")
            .bind(&info.name)
            .execute(&mut *self.tx)
            .await
            .map_err(&err)?;
        sqlx::query("INSERT INTO vuln_source (name, info) VALUES ($1, $2)")
            .bind(&info.name)
            .bind(doc)
            .execute(&mut *self.tx)
            .await
            .map_err(&err)?;
        Ok(())
    }

    /// Makes every write of this sync visible at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        let err = self.store.query_error();
        self.tx.commit().await.map_err(err)
    }
}

enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Float(f64),
}

pub use portcullis_sql::now_rfc3339;
