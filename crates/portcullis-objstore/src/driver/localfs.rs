//! `localfs`: one file per version under a directory,
//! `{dir}/{account}/{bucket}/{xx}/{version}` (names percent-encoded), written
//! to a temporary name and renamed so a crash never leaves a partial file
//! under a final name.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::DocName;
use crate::error::{ObjectStoreError, Result};

const SCHEME: &str = "file://";
const DRIVER: &str = "localfs";

/// Everything but letters, digits, `-` and `_` is encoded, so a name can be
/// neither `.`/`..` nor hold a separator.
const NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LocalFsConfig {
    /// Anchore's key; `directory` is accepted too.
    #[serde(alias = "directory")]
    archive_data_dir: PathBuf,
}

pub(crate) struct LocalFsDriver {
    /// `None` for the reader of `file://` URLs that any store has.
    root: Option<PathBuf>,
}

fn io_error(operation: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ObjectStoreError {
    let path = path.to_owned();
    move |source| ObjectStoreError::Io { driver: DRIVER, operation, path, source }
}

impl LocalFsDriver {
    pub(crate) async fn new(config: LocalFsConfig) -> Result<Self> {
        let dir = config.archive_data_dir;
        tokio::fs::create_dir_all(&dir).await.map_err(io_error("create the directory", &dir))?;
        // Absolute, so that the URLs stay valid whatever the working directory.
        let root = tokio::fs::canonicalize(&dir).await.map_err(io_error("resolve the directory", &dir))?;
        Ok(Self { root: Some(root) })
    }

    pub(crate) fn reader() -> Self {
        Self { root: None }
    }

    pub(crate) fn owns(&self, url: &str) -> bool {
        match (&self.root, url.strip_prefix(SCHEME)) {
            (Some(root), Some(path)) => Path::new(path).starts_with(root),
            _ => false,
        }
    }

    fn path_of(url: &str) -> Result<&Path> {
        url.strip_prefix(SCHEME).map(Path::new).ok_or_else(|| ObjectStoreError::Backend {
            driver: DRIVER,
            operation: "read",
            location: url.to_owned(),
            detail: "not a file:// URL".into(),
        })
    }

    pub(crate) async fn put(&self, name: &DocName<'_>, data: &[u8]) -> Result<String> {
        let Some(root) = &self.root else {
            return Err(ObjectStoreError::Config("the localfs driver has no archive_data_dir".into()));
        };
        let version = uuid::Uuid::new_v4().simple().to_string();
        let dir = root
            .join(utf8_percent_encode(name.account, NAME).to_string())
            .join(utf8_percent_encode(name.bucket, NAME).to_string())
            .join(&version[..2]);
        tokio::fs::create_dir_all(&dir).await.map_err(io_error("create the directory", &dir))?;
        let path = dir.join(&version);
        let partial = dir.join(format!(".{version}.partial"));
        let written = async {
            let mut file = tokio::fs::File::create(&partial).await?;
            file.write_all(data).await?;
            file.sync_all().await
        }
        .await;
        if let Err(source) = written {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(io_error("write", &partial)(source));
        }
        tokio::fs::rename(&partial, &path).await.map_err(io_error("rename into place", &path))?;
        Ok(format!("{SCHEME}{}", path.display()))
    }

    pub(crate) async fn get(&self, url: &str) -> Result<Option<Vec<u8>>> {
        let path = Self::path_of(url)?;
        match tokio::fs::read(path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", path)(e)),
        }
    }

    pub(crate) async fn delete(&self, url: &str) -> Result<()> {
        let path = Self::path_of(url)?;
        match tokio::fs::remove_file(path).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(io_error("delete", path)(e)),
            _ => Ok(()),
        }
    }
}
