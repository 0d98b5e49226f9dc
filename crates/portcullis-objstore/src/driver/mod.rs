//! The places documents' bytes can live. Every put writes a new, uniquely
//! named object and returns its URL; nothing is ever overwritten in place, so
//! the metadata row can switch versions atomically and a failed put leaves
//! the previous version whole.

use portcullis_sql::Database;

use crate::config::DriverConfig;
use crate::error::{ObjectStoreError, Result};

mod db;
mod localfs;
mod s3;
mod swift;

/// The drivers `storage_driver.name` may name, with a one-line description.
pub const DRIVERS: &[(&str, &str)] = &[
    ("db", "documents in a table of the service database (default)"),
    ("localfs", "files under a directory (archive_data_dir)"),
    ("s3", "an S3 or S3-compatible bucket"),
    ("swift", "an OpenStack Swift container (tempauth v1)"),
];

/// Which document a new object holds; drivers that keep names readable use it.
pub(crate) struct DocName<'a> {
    pub account: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
}

pub(crate) enum Driver {
    Db(db::DbDriver),
    LocalFs(localfs::LocalFsDriver),
    S3(s3::S3Driver),
    Swift(swift::SwiftDriver),
}

impl Driver {
    /// Builds the driver `config` names (creating its bucket, container or
    /// directory when asked), without probing it.
    pub(crate) async fn build(config: &DriverConfig, db: &Database) -> Result<Self> {
        Ok(match config.name.as_str() {
            "db" => {
                let _: db::DbConfig = config.typed()?;
                Driver::Db(db::DbDriver::new(db.clone()))
            }
            "localfs" => Driver::LocalFs(localfs::LocalFsDriver::new(config.typed()?).await?),
            "s3" => Driver::S3(s3::S3Driver::new(config.typed()?).await?),
            "swift" => Driver::Swift(swift::SwiftDriver::new(config.typed()?).await?),
            other => return Err(ObjectStoreError::UnknownDriver { name: other.to_owned() }),
        })
    }

    /// Readers for the URLs that need no configuration: `db://` (the same
    /// database) and `file://` (absolute paths).
    pub(crate) fn db_reader(db: &Database) -> Self {
        Driver::Db(db::DbDriver::new(db.clone()))
    }

    pub(crate) fn file_reader() -> Self {
        Driver::LocalFs(localfs::LocalFsDriver::reader())
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Driver::Db(_) => "db",
            Driver::LocalFs(_) => "localfs",
            Driver::S3(_) => "s3",
            Driver::Swift(_) => "swift",
        }
    }

    /// Whether `url` names an object this driver (with its configuration) holds.
    pub(crate) fn owns(&self, url: &str) -> bool {
        match self {
            Driver::Db(_) => url.starts_with(db::SCHEME),
            Driver::LocalFs(d) => d.owns(url),
            Driver::S3(d) => d.owns(url),
            Driver::Swift(d) => d.owns(url),
        }
    }

    /// Stores `data` as a new object and returns its URL.
    pub(crate) async fn put(&self, name: &DocName<'_>, data: &[u8]) -> Result<String> {
        match self {
            Driver::Db(d) => d.put(data).await,
            Driver::LocalFs(d) => d.put(name, data).await,
            Driver::S3(d) => d.put(name, data).await,
            Driver::Swift(d) => d.put(name, data).await,
        }
    }

    /// The object at `url`, `None` if there is none.
    pub(crate) async fn get(&self, url: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Driver::Db(d) => d.get(url).await,
            Driver::LocalFs(d) => d.get(url).await,
            Driver::S3(d) => d.get(url).await,
            Driver::Swift(d) => d.get(url).await,
        }
    }

    /// Removes the object at `url`; an absent object is not an error.
    pub(crate) async fn delete(&self, url: &str) -> Result<()> {
        match self {
            Driver::Db(d) => d.delete(url).await,
            Driver::LocalFs(d) => d.delete(url).await,
            Driver::S3(d) => d.delete(url).await,
            Driver::Swift(d) => d.delete(url).await,
        }
    }

    /// Deletes an object nothing points to any more. A failure only leaves an
    /// orphan behind, never loses a document, so it is logged, not returned.
    pub(crate) async fn discard(&self, url: &str) {
        if let Err(error) = self.delete(url).await {
            tracing::warn!(%url, %error, "cannot delete an unreferenced object; it stays behind");
        }
    }

    /// Puts, reads back and deletes a probe object, as Anchore does at
    /// start-up, so that a bad configuration fails now and not at the first
    /// document.
    pub(crate) async fn probe(&self) -> Result<()> {
        let wrap = |source| ObjectStoreError::Probe { driver: self.name(), source: Box::new(source) };
        let name = DocName { account: "_portcullis", bucket: "probe", key: "startup-check" };
        let payload = b"portcullis object storage probe";
        let url = self.put(&name, payload).await.map_err(wrap)?;
        let read = self.get(&url).await.map_err(wrap);
        let deleted = self.delete(&url).await.map_err(wrap);
        match read? {
            Some(bytes) if bytes == payload => {}
            other => {
                return Err(wrap(ObjectStoreError::Backend {
                    driver: self.name(),
                    operation: "read back",
                    location: url,
                    detail: match other {
                        Some(_) => "the bytes differ from those written".into(),
                        None => "the object just written is not there".into(),
                    },
                }));
            }
        }
        deleted
    }
}

/// `{prefix}{account}/{bucket}/{key}.{version}`: Anchore's object name, plus
/// a version that makes every put a new object.
pub(crate) fn versioned_object_name(prefix: &str, name: &DocName<'_>) -> String {
    format!("{prefix}{}/{}/{}.{}", name.account, name.bucket, name.key, uuid::Uuid::new_v4().simple())
}
