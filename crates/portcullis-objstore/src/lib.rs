//! Document storage for the service: image manifests, SBOMs, analysis
//! results, vulnerability reports, policy evaluations and bundles, addressed
//! by (account, bucket, key) as in Anchore Engine's object store.
//!
//! Metadata rows live in the service database (`objstore_documents`): where
//! the bytes are (a URL whose scheme names the driver), their sha256 and
//! sizes, whether they are compressed. The bytes go to the configured driver:
//! `db` (a table of the same database), `localfs`, `s3` or `swift`. Every put
//! writes a new object and then switches the row to it, so readers see the
//! old or the new document, never a mix, and a failed put changes nothing.
//! Reads follow the URL of the row, so documents written by an earlier driver
//! stay readable (`db://` and `file://` always; `s3://` and `swift://` while
//! that bucket or container is configured). [`migrate`] moves documents
//! between drivers. See docs/object-storage.md.

use std::io::{Read, Write};
use std::sync::Arc;

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use portcullis_sql::Database;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

mod config;
mod driver;
mod error;
mod meta;
mod migrate;

pub use config::{CompressionConfig, DriverConfig, ObjectStoreConfig};
pub use driver::DRIVERS;
pub use error::ObjectStoreError;
pub use meta::DocumentMeta;
pub use migrate::{MigrateFailure, MigrateOptions, MigrateProgress, MigrateReport, migrate};

use driver::{DocName, Driver};
use error::Result;

/// Anchore compresses with zlib level 3: most of the gain for little CPU.
const ZLIB_LEVEL: u32 = 3;

/// A handle on the configured document store; cheap to clone.
#[derive(Clone)]
pub struct DocumentStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    compression: CompressionConfig,
    driver: Driver,
    /// Readers of the URLs every store can follow, whatever it is configured with.
    db_reader: Driver,
    file_reader: Driver,
}

/// Runs this crate's migrations on `db`.
async fn prepare(db: &Database) -> Result<()> {
    db.migrate(meta::LEDGER, meta::MIGRATIONS).await?;
    Ok(())
}

/// Builds and probes the driver `config` names.
async fn open_driver(config: &ObjectStoreConfig, db: &Database) -> Result<Driver> {
    let driver = Driver::build(&config.storage_driver, db).await?;
    driver.probe().await?;
    Ok(driver)
}

impl DocumentStore {
    /// Migrates `db`, builds the driver and probes it (put, get and delete of
    /// a probe object), so that a bad configuration fails here with a precise
    /// error: bad credentials, unreachable endpoint, missing bucket...
    pub async fn open(config: &ObjectStoreConfig, db: &Database) -> Result<Self> {
        prepare(db).await?;
        let driver = open_driver(config, db).await?;
        tracing::debug!(driver = driver.name(), "object storage ready");
        Ok(Self {
            inner: Arc::new(Inner {
                db: db.clone(),
                compression: config.compression.clone(),
                driver,
                db_reader: Driver::db_reader(db),
                file_reader: Driver::file_reader(),
            }),
        })
    }

    pub fn driver_name(&self) -> &str {
        self.inner.driver.name()
    }

    /// Stores `data` under (account, bucket, key), replacing any previous document.
    pub async fn put(&self, account: &str, bucket: &str, key: &str, data: &[u8]) -> Result<DocumentMeta> {
        check_name(account, bucket, key)?;
        let (stored, compressed) = self.encode(data);
        let digest = sha256(&stored);
        let name = DocName { account, bucket, key };
        let url = self.inner.driver.put(&name, &stored).await?;
        let version = meta::NewVersion {
            url: &url,
            digest: &digest,
            compressed,
            size: data.len() as u64,
            stored_size: stored.len() as u64,
        };
        match meta::replace(&self.inner.db, account, bucket, key, &version).await {
            Ok((meta, replaced)) => {
                if let Some(old) = replaced {
                    self.discard(&old).await;
                }
                Ok(meta)
            }
            Err(error) => {
                self.discard(&url).await;
                Err(error)
            }
        }
    }

    /// Stores `value` as JSON.
    pub async fn put_json<T: Serialize + ?Sized>(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
        value: &T,
    ) -> Result<DocumentMeta> {
        let json = serde_json::to_vec(value).map_err(|source| ObjectStoreError::Json {
            account: account.to_owned(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            source,
        })?;
        self.put(account, bucket, key, &json).await
    }

    /// The document, checked against its digest; `None` if there is none.
    pub async fn get(&self, account: &str, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let mut seen_url = None;
        loop {
            let Some(doc) = meta::get(&self.inner.db, account, bucket, key).await? else {
                return Ok(None);
            };
            let driver = self.driver_for(&doc)?;
            if let Some(stored) = driver.get(&doc.url).await? {
                return decode(&doc, stored).map(Some);
            }
            // A concurrent put may have replaced (and deleted) the version we
            // looked up: read the row again, and give up only if it still
            // names the same missing object.
            if seen_url.as_ref() == Some(&doc.url) {
                return Err(ObjectStoreError::Missing {
                    account: doc.account,
                    bucket: doc.bucket,
                    key: doc.key,
                    url: doc.url,
                });
            }
            seen_url = Some(doc.url);
        }
    }

    /// The document parsed from JSON; `None` if there is none.
    pub async fn get_json<T: DeserializeOwned>(&self, account: &str, bucket: &str, key: &str) -> Result<Option<T>> {
        let Some(bytes) = self.get(account, bucket, key).await? else { return Ok(None) };
        serde_json::from_slice(&bytes).map(Some).map_err(|source| ObjectStoreError::Json {
            account: account.to_owned(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            source,
        })
    }

    pub async fn exists(&self, account: &str, bucket: &str, key: &str) -> Result<bool> {
        Ok(meta::get(&self.inner.db, account, bucket, key).await?.is_some())
    }

    /// The metadata of one document.
    pub async fn meta(&self, account: &str, bucket: &str, key: &str) -> Result<Option<DocumentMeta>> {
        meta::get(&self.inner.db, account, bucket, key).await
    }

    /// Deletes the document; false if there was none.
    pub async fn delete(&self, account: &str, bucket: &str, key: &str) -> Result<bool> {
        match meta::delete(&self.inner.db, account, bucket, key).await? {
            Some(url) => {
                self.discard(&url).await;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Every document's metadata, or those of one account and/or bucket,
    /// ordered by account, bucket and key.
    pub async fn list(&self, account: Option<&str>, bucket: Option<&str>) -> Result<Vec<DocumentMeta>> {
        meta::list(&self.inner.db, account, bucket).await
    }

    /// The driver that reads `url`: the configured one if it holds it, else
    /// the readers every store has for `db://` and `file://`.
    fn reader(&self, url: &str) -> Option<&Driver> {
        let inner = &self.inner;
        if inner.driver.owns(url) {
            Some(&inner.driver)
        } else if url.starts_with("db://") {
            Some(&inner.db_reader)
        } else if url.starts_with("file://") {
            Some(&inner.file_reader)
        } else {
            None
        }
    }

    fn driver_for(&self, doc: &DocumentMeta) -> Result<&Driver> {
        self.reader(&doc.url).ok_or_else(|| ObjectStoreError::DriverUnavailable {
            account: doc.account.clone(),
            bucket: doc.bucket.clone(),
            key: doc.key.clone(),
            url: doc.url.clone(),
            scheme: doc.url.split("://").next().unwrap_or_default().to_owned(),
        })
    }

    /// Deletes a version no row points to any more.
    async fn discard(&self, url: &str) {
        match self.reader(url) {
            Some(driver) => driver.discard(url).await,
            None => tracing::warn!(%url, "no configured driver can delete the replaced object; it stays behind"),
        }
    }

    fn encode(&self, data: &[u8]) -> (Vec<u8>, bool) {
        let compression = &self.inner.compression;
        if !compression.enabled || (data.len() as u64) < compression.min_size_kbytes.saturating_mul(1024) {
            return (data.to_vec(), false);
        }
        let mut encoder = ZlibEncoder::new(Vec::with_capacity(data.len() / 4), Compression::new(ZLIB_LEVEL));
        // Writing to a Vec does not fail; if it ever did, the data is stored as it is.
        let compressed = encoder.write_all(data).and_then(|()| encoder.finish());
        match compressed {
            // Incompressible data is kept as it is.
            Ok(compressed) if compressed.len() < data.len() => (compressed, true),
            _ => (data.to_vec(), false),
        }
    }
}

fn check_name(account: &str, bucket: &str, key: &str) -> Result<()> {
    for (what, value) in [("account", account), ("bucket", bucket), ("key", key)] {
        if value.is_empty() {
            return Err(ObjectStoreError::InvalidName(format!("the {what} is empty")));
        }
        if value.contains('\0') {
            return Err(ObjectStoreError::InvalidName(format!("the {what} {value:?} holds a NUL character")));
        }
    }
    Ok(())
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Checks the stored bytes against the row's digest, then inflates them if needed.
fn decode(doc: &DocumentMeta, stored: Vec<u8>) -> Result<Vec<u8>> {
    let actual = sha256(&stored);
    if actual != doc.digest {
        return Err(ObjectStoreError::Integrity {
            account: doc.account.clone(),
            bucket: doc.bucket.clone(),
            key: doc.key.clone(),
            expected: doc.digest.clone(),
            actual,
        });
    }
    if !doc.compressed {
        return Ok(stored);
    }
    let mut data = Vec::new();
    ZlibDecoder::new(stored.as_slice()).read_to_end(&mut data).map_err(|source| ObjectStoreError::Corrupt {
        account: doc.account.clone(),
        bucket: doc.bucket.clone(),
        key: doc.key.clone(),
        source,
    })?;
    Ok(data)
}
