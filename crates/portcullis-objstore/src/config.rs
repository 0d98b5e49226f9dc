//! The `object_store` section of the configuration, in Anchore Engine's shape:
//!
//! ```yaml
//! compression: {enabled: false, min_size_kbytes: 100}
//! storage_driver:
//!   name: db | localfs | s3 | swift
//!   config: {}
//! ```
//!
//! Anchore's legacy keys `archive_driver`, `use_db` and `archive_data_dir`
//! are understood too, and a YAML file may hold either the bare section or a
//! whole Anchore configuration (`services: catalog: object_store:`).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ObjectStoreError, Result};

/// Which driver stores the documents, and whether they are compressed.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
#[serde(try_from = "RawSection")]
pub struct ObjectStoreConfig {
    pub compression: CompressionConfig,
    pub storage_driver: DriverConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CompressionConfig {
    #[serde(default)]
    pub enabled: bool,
    /// Documents at least this large (in KiB) are compressed when `enabled`.
    #[serde(default = "default_min_size_kbytes")]
    pub min_size_kbytes: u64,
}

impl Default for CompressionConfig {
    fn default() -> Self {
        Self { enabled: false, min_size_kbytes: default_min_size_kbytes() }
    }
}

fn default_min_size_kbytes() -> u64 {
    100
}

/// A driver name and its options, checked when the driver is built.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DriverConfig {
    pub name: String,
    #[serde(default)]
    pub config: Map<String, Value>,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self { name: "db".to_owned(), config: Map::new() }
    }
}

impl DriverConfig {
    /// The options as the typed configuration of one driver; unknown keys are errors.
    pub(crate) fn typed<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(Value::Object(self.config.clone()))
            .map_err(|e| ObjectStoreError::Config(format!("storage_driver.config of the {} driver: {e}", self.name)))
    }
}

/// What the section may hold, legacy keys included, before they are folded
/// into a [`DriverConfig`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    #[serde(default)]
    compression: CompressionConfig,
    storage_driver: Option<DriverConfig>,
    archive_driver: Option<String>,
    use_db: Option<bool>,
    archive_data_dir: Option<PathBuf>,
}

impl TryFrom<RawSection> for ObjectStoreConfig {
    type Error = String;

    fn try_from(raw: RawSection) -> Result<Self, String> {
        let legacy = raw.archive_driver.is_some() || raw.use_db.is_some() || raw.archive_data_dir.is_some();
        let storage_driver = match raw.storage_driver {
            Some(_) if legacy => {
                return Err(
                    "give either storage_driver or the legacy archive_driver/use_db/archive_data_dir, not both".into(),
                );
            }
            Some(driver) => driver,
            None => {
                let name = match (raw.archive_driver, raw.use_db, &raw.archive_data_dir) {
                    (Some(name), ..) => name,
                    (None, Some(true), _) | (None, None, None) => "db".to_owned(),
                    (None, _, Some(_)) | (None, Some(false), None) => "localfs".to_owned(),
                };
                let mut config = Map::new();
                if let Some(dir) = raw.archive_data_dir {
                    config.insert("archive_data_dir".into(), Value::String(dir.display().to_string()));
                }
                DriverConfig { name, config }
            }
        };
        Ok(Self { compression: raw.compression, storage_driver })
    }
}

impl ObjectStoreConfig {
    /// Reads a YAML document holding the bare section, `object_store:` at the
    /// top, or a whole Anchore configuration (`services: catalog:
    /// object_store:`, or its legacy name `archive:`).
    pub fn from_yaml(text: &str) -> Result<Self> {
        let document: Value =
            serde_norway::from_str(text).map_err(|e| ObjectStoreError::Config(format!("invalid YAML: {e}")))?;
        let section = match &document {
            Value::Object(top) if top.contains_key("services") => {
                let catalog = top.get("services").and_then(|s| s.get("catalog")).ok_or_else(|| {
                    ObjectStoreError::Config("the file has `services` but no `services.catalog` section".into())
                })?;
                catalog.get("object_store").or_else(|| catalog.get("archive")).ok_or_else(|| {
                    ObjectStoreError::Config(
                        "the file has no services.catalog.object_store (or legacy archive) section".into(),
                    )
                })?
            }
            Value::Object(top) => top.get("object_store").unwrap_or(&document),
            Value::Null => return Err(ObjectStoreError::Config("the file is empty".into())),
            _ => return Err(ObjectStoreError::Config("expected a mapping (the object_store section)".into())),
        };
        serde_json::from_value(section.clone()).map_err(|e| ObjectStoreError::Config(e.to_string()))
    }

    /// [`Self::from_yaml`] on the contents of `path`.
    pub fn from_yaml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ObjectStoreError::ReadConfig { path: path.to_owned(), source })?;
        Self::from_yaml(&text).map_err(|e| match e {
            ObjectStoreError::Config(message) => ObjectStoreError::Config(format!("{}: {message}", path.display())),
            other => other,
        })
    }

    /// A configuration with `driver` and its options, compression off.
    pub fn with_driver(name: &str, config: Value) -> Self {
        let config = match config {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Self {
            compression: CompressionConfig::default(),
            storage_driver: DriverConfig { name: name.to_owned(), config },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_nested_and_legacy_sections() {
        let bare = ObjectStoreConfig::from_yaml(
            "compression: {enabled: true, min_size_kbytes: 2}\nstorage_driver: {name: localfs, config: {archive_data_dir: /x}}",
        )
        .unwrap();
        assert!(bare.compression.enabled);
        assert_eq!(bare.compression.min_size_kbytes, 2);
        assert_eq!(bare.storage_driver.name, "localfs");

        let nested = ObjectStoreConfig::from_yaml(
            "services:\n  catalog:\n    object_store:\n      storage_driver:\n        name: s3\n        config: {bucket: b}\n",
        )
        .unwrap();
        assert_eq!(nested.storage_driver.name, "s3");
        assert!(!nested.compression.enabled);
        assert_eq!(nested.compression.min_size_kbytes, 100);

        let legacy = ObjectStoreConfig::from_yaml("services: {catalog: {archive: {archive_data_dir: /data}}}").unwrap();
        assert_eq!(legacy.storage_driver.name, "localfs");
        assert_eq!(legacy.storage_driver.config["archive_data_dir"], "/data");
        assert_eq!(ObjectStoreConfig::from_yaml("use_db: true").unwrap().storage_driver.name, "db");
        assert_eq!(ObjectStoreConfig::from_yaml("{}").unwrap(), ObjectStoreConfig::default());
    }

    #[test]
    fn bad_sections_are_precise() {
        let error = |text: &str| ObjectStoreConfig::from_yaml(text).unwrap_err().to_string();
        assert!(error("storage_driver: [").contains("invalid YAML"));
        assert!(error("").contains("empty"));
        assert!(error("services: {catalog: {}}").contains("services.catalog.object_store"));
        assert!(error("storage_drivr: {name: db}").contains("unknown field `storage_drivr`"));
        assert!(error("storage_driver: {name: db}\nuse_db: true").contains("not both"));
    }
}
