//! Moving documents from one driver to another (`portcullis objectstorage
//! migrate`), one document at a time: copy, read back and verify, switch the
//! metadata row, then delete the source copy. Each step leaves every document
//! readable, so a run that stops half-way is finished by running it again.

use portcullis_sql::Database;
use serde::Serialize;

use crate::config::ObjectStoreConfig;
use crate::driver::{DocName, Driver};
use crate::error::{ObjectStoreError, Result};
use crate::meta::{self, DocumentMeta};
use crate::{open_driver, prepare, sha256};

#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// Delete each source copy once the document has moved (Anchore's
    /// default; `--nodelete` turns it off).
    pub delete_source: bool,
    /// Only the documents of these buckets; empty means all.
    pub buckets: Vec<String>,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        Self { delete_source: true, buckets: Vec::new() }
    }
}

/// Reported after each document.
#[derive(Clone, Debug)]
pub struct MigrateProgress {
    pub done: usize,
    pub total: usize,
    pub account: String,
    pub bucket: String,
    pub key: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MigrateReport {
    /// Documents considered (after the bucket filter).
    pub total: usize,
    /// Moved by this run.
    pub migrated: usize,
    /// Already held by the destination (a previous run, or the same store).
    pub already_migrated: usize,
    /// Held by neither driver (written by a third configuration); left alone.
    pub skipped: usize,
    /// Replaced or deleted by someone else while being moved; left as they are now.
    pub changed_meanwhile: usize,
    /// Stored bytes copied.
    pub bytes: u64,
    pub failures: Vec<MigrateFailure>,
}

/// A document that could not be moved; it stays where it was.
#[derive(Clone, Debug, Serialize)]
pub struct MigrateFailure {
    pub account: String,
    pub bucket: String,
    pub key: String,
    pub url: String,
    pub error: String,
}

enum Outcome {
    Migrated(u64),
    AlreadyMigrated,
    Skipped,
    ChangedMeanwhile,
}

/// Moves the documents of `options.buckets` (all by default) from the driver
/// `from` configures to the one `to` configures. Both drivers are probed
/// first, so a bad configuration fails before anything moves. Documents that
/// fail are listed in the report and stay readable where they were.
pub async fn migrate(
    db: &Database,
    from: &ObjectStoreConfig,
    to: &ObjectStoreConfig,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(&MigrateProgress),
) -> Result<MigrateReport> {
    prepare(db).await?;
    let source = open_driver(from, db).await?;
    let destination = open_driver(to, db).await?;
    let docs: Vec<DocumentMeta> = meta::list(db, None, None)
        .await?
        .into_iter()
        .filter(|doc| options.buckets.is_empty() || options.buckets.contains(&doc.bucket))
        .collect();
    let mut report = MigrateReport { total: docs.len(), ..MigrateReport::default() };
    for (index, doc) in docs.iter().enumerate() {
        match move_one(db, &source, &destination, doc, options.delete_source).await {
            Ok(Outcome::Migrated(bytes)) => {
                report.migrated += 1;
                report.bytes += bytes;
            }
            Ok(Outcome::AlreadyMigrated) => report.already_migrated += 1,
            Ok(Outcome::Skipped) => {
                tracing::warn!(url = %doc.url, "document held by neither driver; left where it is");
                report.skipped += 1;
            }
            Ok(Outcome::ChangedMeanwhile) => report.changed_meanwhile += 1,
            Err(error) => report.failures.push(MigrateFailure {
                account: doc.account.clone(),
                bucket: doc.bucket.clone(),
                key: doc.key.clone(),
                url: doc.url.clone(),
                error: error.to_string(),
            }),
        }
        progress(&MigrateProgress {
            done: index + 1,
            total: docs.len(),
            account: doc.account.clone(),
            bucket: doc.bucket.clone(),
            key: doc.key.clone(),
        });
    }
    Ok(report)
}

async fn move_one(
    db: &Database,
    source: &Driver,
    destination: &Driver,
    doc: &DocumentMeta,
    delete_source: bool,
) -> Result<Outcome> {
    if destination.owns(&doc.url) {
        return Ok(Outcome::AlreadyMigrated);
    }
    if !source.owns(&doc.url) {
        return Ok(Outcome::Skipped);
    }
    let stored = source.get(&doc.url).await?.ok_or_else(|| ObjectStoreError::Missing {
        account: doc.account.clone(),
        bucket: doc.bucket.clone(),
        key: doc.key.clone(),
        url: doc.url.clone(),
    })?;
    let integrity = |actual: String| ObjectStoreError::Integrity {
        account: doc.account.clone(),
        bucket: doc.bucket.clone(),
        key: doc.key.clone(),
        expected: doc.digest.clone(),
        actual,
    };
    // A corrupt source is reported, never spread to the destination.
    let actual = sha256(&stored);
    if actual != doc.digest {
        return Err(integrity(actual));
    }
    let name = DocName { account: &doc.account, bucket: &doc.bucket, key: &doc.key };
    let new_url = destination.put(&name, &stored).await?;
    let copied = destination.get(&new_url).await.map(|bytes| bytes.map(|b| sha256(&b)));
    if copied.as_ref().ok().and_then(Option::as_ref) != Some(&doc.digest) {
        destination.discard(&new_url).await;
        return Err(match copied {
            Err(error) => error,
            Ok(Some(actual)) => integrity(actual),
            Ok(None) => ObjectStoreError::Missing {
                account: doc.account.clone(),
                bucket: doc.bucket.clone(),
                key: doc.key.clone(),
                url: new_url,
            },
        });
    }
    if !meta::move_url(db, doc, &new_url).await? {
        destination.discard(&new_url).await;
        return Ok(Outcome::ChangedMeanwhile);
    }
    if delete_source {
        source.discard(&doc.url).await;
    }
    Ok(Outcome::Migrated(stored.len() as u64))
}
