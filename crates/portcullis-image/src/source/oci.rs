//! The JSON documents shared by every image source: OCI / Docker schema-2
//! manifests, OCI indexes / Docker manifest lists, and image configs.
//!
//! Own serde types rather than `oci-spec`'s: Docker configs carry fields the OCI
//! config lacks (`Healthcheck`), and real-world documents have `null` where the
//! spec says array, which the strict types reject.

use std::collections::BTreeMap;

use portcullis_sbom::{Healthcheck, HistoryEntry, ImageConfig, ImageInfo};
use serde::Deserialize;

use super::{LayerDescriptor, Platform, PlatformChoice};
use crate::error::{ImageError, Result};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Media types we ask registries for, most preferred first.
pub const ACCEPTED_MANIFEST_TYPES: [&str; 4] = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: Option<String>,
    pub digest: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub platform: Option<DescriptorPlatform>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct DescriptorPlatform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl DescriptorPlatform {
    fn display(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{}", self.os, self.architecture, v),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    #[serde(default)]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default)]
    pub schema_version: Option<u32>,
    #[serde(default)]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default, deserialize_with = "null_as_default")]
    pub layers: Vec<Descriptor>,
}

/// A manifest-like document: either a single-image manifest or an index.
#[derive(Debug, Clone)]
pub enum ManifestDocument {
    Index(Index),
    Manifest(Manifest),
}

/// Parses a manifest or index, telling them apart by the declared media type
/// (registry `Content-Type`, descriptor `mediaType`), then by the document's own
/// `mediaType`, then by shape.
pub fn parse_manifest_document(
    bytes: &[u8],
    declared_media_type: Option<&str>,
    what: &str,
) -> Result<ManifestDocument> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default)]
        schema_version: Option<u32>,
        #[serde(default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
        #[serde(default)]
        config: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| ImageError::malformed(what, e))?;
    if probe.schema_version == Some(1) {
        return Err(ImageError::UnsupportedMediaType {
            what: what.to_owned(),
            media_type: "Docker schema 1 manifest (deprecated; re-push the image with a current client)".to_owned(),
        });
    }
    let media_type =
        declared_media_type.filter(|m| ACCEPTED_MANIFEST_TYPES.contains(m)).map(str::to_owned).or(probe.media_type);
    let is_index = match media_type.as_deref() {
        Some(OCI_INDEX | DOCKER_MANIFEST_LIST) => true,
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
        Some(other) if probe.manifests.is_none() && probe.config.is_none() => {
            return Err(ImageError::UnsupportedMediaType { what: what.to_owned(), media_type: other.to_owned() });
        }
        _ => probe.manifests.is_some(),
    };
    if is_index {
        Ok(ManifestDocument::Index(serde_json::from_slice(bytes).map_err(|e| ImageError::malformed(what, e))?))
    } else {
        Ok(ManifestDocument::Manifest(serde_json::from_slice(bytes).map_err(|e| ImageError::malformed(what, e))?))
    }
}

/// Picks the index entries matching `choice`. Entries whose platform is
/// `unknown/unknown` (attestations) are never images and are skipped.
pub fn select_platforms<'a>(index: &'a Index, choice: &PlatformChoice) -> Result<Vec<&'a Descriptor>> {
    let images: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| !matches!(&d.platform, Some(p) if p.os == "unknown" || p.architecture == "unknown"))
        .collect();
    let selected: Vec<&Descriptor> = match choice {
        PlatformChoice::All => images.clone(),
        PlatformChoice::One(wanted) => {
            let matching: Vec<&Descriptor> = images
                .iter()
                .copied()
                .filter(|d| d.platform.as_ref().is_some_and(|p| platform_matches(p, wanted)))
                .collect();
            // Prefer an exact variant match; with no variant asked for, take the first.
            matching
                .iter()
                .copied()
                .find(|d| d.platform.as_ref().is_some_and(|p| p.variant == wanted.variant))
                .or_else(|| matching.first().copied())
                .into_iter()
                .collect()
        }
    };
    if selected.is_empty() {
        let wanted = match choice {
            PlatformChoice::One(p) => p.to_string(),
            PlatformChoice::All => "any".to_owned(),
        };
        let available: Vec<String> = images
            .iter()
            .map(|d| d.platform.as_ref().map(|p| p.display()).unwrap_or_else(|| "unspecified".into()))
            .collect();
        return Err(ImageError::PlatformNotFound {
            wanted,
            available: if available.is_empty() { "no image entries".into() } else { available.join(", ") },
        });
    }
    Ok(selected)
}

fn platform_matches(have: &DescriptorPlatform, wanted: &Platform) -> bool {
    have.os == wanted.os
        && have.architecture == wanted.architecture
        && (wanted.variant.is_none() || have.variant == wanted.variant)
}

/// The image config blob (OCI `application/vnd.oci.image.config.v1+json` or
/// Docker `application/vnd.docker.container.image.v1+json`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub config: Option<RunConfig>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub history: Vec<History>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub entrypoint: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cmd: Vec<String>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub volumes: BTreeMap<String, serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub stop_signal: Option<String>,
    #[serde(default)]
    pub healthcheck: Option<DockerHealthcheck>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DockerHealthcheck {
    #[serde(default, deserialize_with = "null_as_default")]
    pub test: Vec<String>,
    #[serde(default)]
    pub interval: Option<i64>,
    #[serde(default)]
    pub timeout: Option<i64>,
    #[serde(default)]
    pub start_period: Option<i64>,
    #[serde(default)]
    pub retries: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RootFs {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub diff_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct History {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: Option<bool>,
}

pub fn parse_config(bytes: &[u8], what: &str) -> Result<ConfigFile> {
    serde_json::from_slice(bytes).map_err(|e| ImageError::malformed(what, e))
}

/// Where a manifest came from, for [`image_info`].
#[derive(Debug, Clone, Default)]
pub struct ManifestOrigin {
    pub manifest_digest: Option<String>,
    pub manifest_media_type: Option<String>,
    pub index_digest: Option<String>,
    pub references: Vec<String>,
}

/// Builds the recorded image metadata from a config blob.
pub fn image_info(origin: ManifestOrigin, config_digest: &str, config: &ConfigFile) -> ImageInfo {
    let run = config.config.clone().unwrap_or_default();
    let platform = match (&config.os, &config.architecture) {
        (Some(os), Some(arch)) => Some(match &config.variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        }),
        _ => None,
    };
    let mut next_layer = 0;
    let history = config
        .history
        .iter()
        .map(|h| {
            let empty = h.empty_layer.unwrap_or(false);
            let layer_index = (!empty).then(|| {
                next_layer += 1;
                next_layer - 1
            });
            HistoryEntry {
                created: h.created.clone(),
                created_by: h.created_by.clone(),
                comment: h.comment.clone(),
                empty_layer: empty,
                layer_index,
            }
        })
        .collect();
    ImageInfo {
        manifest_digest: origin.manifest_digest,
        index_digest: origin.index_digest,
        manifest_media_type: origin.manifest_media_type,
        config_digest: config_digest.to_owned(),
        references: origin.references,
        platform,
        created: config.created.clone(),
        config: ImageConfig {
            user: run.user.filter(|u| !u.is_empty()),
            env: run.env,
            entrypoint: run.entrypoint,
            cmd: run.cmd,
            working_dir: run.working_dir.filter(|w| !w.is_empty()),
            exposed_ports: run.exposed_ports.into_keys().collect(),
            volumes: run.volumes.into_keys().collect(),
            labels: run.labels,
            stop_signal: run.stop_signal,
            healthcheck: run.healthcheck.map(|h| Healthcheck {
                test: h.test,
                interval: h.interval,
                timeout: h.timeout,
                start_period: h.start_period,
                retries: h.retries,
            }),
        },
        history,
    }
}

/// Pairs the manifest's layer descriptors with the config's diff ids.
pub fn layer_descriptors(manifest: &Manifest, config: &ConfigFile) -> Result<Vec<LayerDescriptor>> {
    let diff_ids = config.rootfs.as_ref().map(|r| r.diff_ids.as_slice()).unwrap_or_default();
    if !diff_ids.is_empty() && diff_ids.len() != manifest.layers.len() {
        return Err(ImageError::malformed(
            "image",
            format!("manifest lists {} layers but the config has {} diff_ids", manifest.layers.len(), diff_ids.len()),
        ));
    }
    Ok(manifest
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer)| LayerDescriptor {
            digest: Some(layer.digest.clone()),
            diff_id: diff_ids.get(i).cloned(),
            media_type: layer.media_type.clone(),
            size: layer.size,
        })
        .collect())
}

fn null_as_default<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(platforms: &[(&str, &str, Option<&str>)]) -> Index {
        Index {
            media_type: Some(OCI_INDEX.into()),
            manifests: platforms
                .iter()
                .enumerate()
                .map(|(i, (os, arch, variant))| Descriptor {
                    media_type: Some(OCI_MANIFEST.into()),
                    digest: format!("sha256:{i:064}"),
                    size: Some(1),
                    platform: Some(DescriptorPlatform {
                        os: os.to_string(),
                        architecture: arch.to_string(),
                        variant: variant.map(str::to_owned),
                    }),
                    annotations: BTreeMap::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn selects_platforms() {
        let idx = index(&[
            ("linux", "arm", Some("v7")),
            ("linux", "arm64", Some("v8")),
            ("linux", "amd64", None),
            ("unknown", "unknown", None),
        ]);
        let pick = |p: &str| select_platforms(&idx, &PlatformChoice::One(Platform::parse(p).unwrap()));
        assert_eq!(pick("linux/amd64").unwrap()[0].digest, idx.manifests[2].digest);
        assert_eq!(pick("linux/arm64").unwrap()[0].digest, idx.manifests[1].digest);
        assert_eq!(pick("linux/arm/v7").unwrap()[0].digest, idx.manifests[0].digest);
        let err = pick("linux/s390x").unwrap_err().to_string();
        assert!(err.contains("linux/s390x") && err.contains("linux/arm/v7") && !err.contains("unknown"), "{err}");
        assert_eq!(select_platforms(&idx, &PlatformChoice::All).unwrap().len(), 3);
    }

    #[test]
    fn tells_index_from_manifest() {
        let manifest = br#"{"schemaVersion":2,"config":{"digest":"sha256:00","size":1},"layers":null}"#;
        assert!(matches!(parse_manifest_document(manifest, None, "m").unwrap(), ManifestDocument::Manifest(_)));
        let list = br#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(parse_manifest_document(list, None, "m").unwrap(), ManifestDocument::Index(_)));
        let schema1 = br#"{"schemaVersion":1,"fsLayers":[]}"#;
        assert!(matches!(parse_manifest_document(schema1, None, "m"), Err(ImageError::UnsupportedMediaType { .. })));
        assert!(matches!(parse_manifest_document(b"{nope", None, "m"), Err(ImageError::Malformed { .. })));
    }

    #[test]
    fn config_with_nulls_and_history() {
        let config = parse_config(
            br#"{"architecture":"amd64","os":"linux","config":{"Env":null,"User":"","ExposedPorts":{"80/tcp":{}},
                "Healthcheck":{"Test":["CMD","true"],"Interval":30000000000}},
                "rootfs":{"type":"layers","diff_ids":["sha256:a","sha256:b"]},
                "history":[{"created_by":"a"},{"created_by":"ENV","empty_layer":true},{"created_by":"b"}]}"#,
            "config",
        )
        .unwrap();
        let info = image_info(ManifestOrigin::default(), "sha256:c", &config);
        assert_eq!(info.platform.as_deref(), Some("linux/amd64"));
        assert_eq!(info.config.user, None);
        assert_eq!(info.config.exposed_ports, vec!["80/tcp"]);
        assert_eq!(info.config.healthcheck.as_ref().unwrap().interval, Some(30_000_000_000));
        let layers: Vec<Option<usize>> = info.history.iter().map(|h| h.layer_index).collect();
        assert_eq!(layers, vec![Some(0), None, Some(1)]);
    }
}
