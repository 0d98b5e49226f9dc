//! `docker-archive:` sources: the tarball written by `docker save` / `skopeo
//! copy docker-archive:`. Its `manifest.json` names the config and the layer
//! members; layers are usually uncompressed tars named after their diff id.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::archive::TarIndex;
use super::oci::{self, ManifestOrigin};
use super::oci_layout::split_tag;
use super::{ImageDescriptor, ImageSource, LayerDescriptor, LayerStream, Scheme, SourceOptions};
use crate::digest::{Digest, VerifyingReader};
use crate::error::{ImageError, Result};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

pub struct DockerArchiveImage {
    archive: TarIndex,
    members: Vec<String>,
    descriptor: ImageDescriptor,
}

/// Opens `PATH` or `PATH:REPO:TAG` (an archive holding several images).
pub fn open(path: &Path, options: &SourceOptions) -> Result<DockerArchiveImage> {
    let (file, wanted) = split_reference(path);
    let archive = TarIndex::open(&file)?;
    let limit = options.limits.max_document_size;
    let what = format!("manifest.json in {}", file.display());
    let manifest: Vec<ManifestEntry> = serde_json::from_slice(&archive.read_member("manifest.json", limit)?)
        .map_err(|e| ImageError::malformed(&what, e))?;
    let tags = |e: &ManifestEntry| e.repo_tags.clone().unwrap_or_default();
    let entry = match (&wanted, manifest.len()) {
        (_, 0) => return Err(ImageError::malformed(&what, "lists no images")),
        (None, 1) => &manifest[0],
        (None, _) => {
            let all: Vec<String> = manifest.iter().flat_map(tags).collect();
            return Err(ImageError::malformed(
                &what,
                format!(
                    "holds {} images; pick one with docker-archive:PATH:REPO:TAG ({})",
                    manifest.len(),
                    all.join(", ")
                ),
            ));
        }
        (Some(wanted), _) => manifest
            .iter()
            .find(|e| tags(e).iter().any(|t| t == wanted || t.ends_with(&format!("/{wanted}"))))
            .ok_or_else(|| ImageError::malformed(&what, format!("no image tagged {wanted:?}")))?,
    };
    let config_bytes = archive.read_member(&entry.config, limit)?;
    let config_digest = match digest_from_member_name(&entry.config) {
        Some(digest) => {
            digest.verify(&format!("config {}", entry.config), &config_bytes)?;
            digest
        }
        None => Digest::sha256_of(&config_bytes),
    };
    let config = oci::parse_config(&config_bytes, &format!("config {}", entry.config))?;
    let diff_ids = config.rootfs.as_ref().map(|r| r.diff_ids.clone()).unwrap_or_default();
    if diff_ids.len() != entry.layers.len() {
        return Err(ImageError::malformed(
            &what,
            format!("lists {} layers but the config has {} diff_ids", entry.layers.len(), diff_ids.len()),
        ));
    }
    let layers = entry
        .layers
        .iter()
        .zip(&diff_ids)
        .map(|(member, diff_id)| LayerDescriptor {
            digest: digest_from_member_name(member).map(|d| d.to_string()),
            diff_id: Some(diff_id.clone()),
            media_type: None,
            size: None,
        })
        .collect();
    let origin = ManifestOrigin { references: tags(entry), ..ManifestOrigin::default() };
    let image = oci::image_info(origin, &config_digest.to_string(), &config);
    Ok(DockerArchiveImage {
        archive,
        members: entry.layers.clone(),
        descriptor: ImageDescriptor {
            scheme: Scheme::DockerArchive,
            input: path.display().to_string(),
            image: Some(image),
            layers,
        },
    })
}

/// `PATH:REPO:TAG` → (PATH, REPO:TAG) when PATH exists and the whole does not.
fn split_reference(path: &Path) -> (std::path::PathBuf, Option<String>) {
    if !path.exists()
        && let Some(text) = path.to_str()
    {
        // The reference itself contains a colon (repo:tag), so try each split.
        for (i, _) in text.match_indices(':') {
            let (file, rest) = (&text[..i], &text[i + 1..]);
            if Path::new(file).is_file() {
                return (file.into(), Some(rest.to_owned()));
            }
        }
    }
    let (file, tag) = split_tag(path);
    (file, tag)
}

/// Newer `docker save` writes blobs as `blobs/sha256/<hex>`; older ones
/// `<hex>.json` configs. Both names are digests we can check against.
fn digest_from_member_name(member: &str) -> Option<Digest> {
    if let Some(hex) = member.strip_prefix("blobs/sha256/") {
        return Digest::parse(&format!("sha256:{hex}")).ok();
    }
    let stem = member.strip_suffix(".json")?;
    Digest::parse(&format!("sha256:{stem}")).ok()
}

impl ImageSource for DockerArchiveImage {
    fn descriptor(&self) -> &ImageDescriptor {
        &self.descriptor
    }

    fn open_layer(&self, index: usize) -> Result<LayerStream> {
        let layer = self.descriptor.layer(index)?;
        let member =
            self.members.get(index).ok_or_else(|| ImageError::malformed("image", format!("no layer {index}")))?;
        let (mut reader, _) = self.archive.open_member(member)?;
        // Uncompressed members are checked against the diff id; compressed ones
        // against the blob digest in their name, when they have one.
        let mut head = [0u8; 4];
        let mut filled = 0;
        while filled < head.len() {
            match reader.read(&mut head[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Err(ImageError::io(format!("reading layer {member}"), e)),
            }
        }
        let compressed = head[..filled].starts_with(&[0x1f, 0x8b]) || head[..filled] == [0x28, 0xb5, 0x2f, 0xfd];
        let expected = if compressed { layer.digest.as_deref() } else { layer.diff_id.as_deref() };
        let stream: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head[..filled].to_vec()).chain(reader));
        Ok(LayerStream::Tar(match expected {
            Some(digest) => {
                Box::new(VerifyingReader::new(stream, Digest::parse(digest)?, format!("layer {index} ({member})")))
            }
            None => stream,
        }))
    }
}
