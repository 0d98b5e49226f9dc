//! `oci-dir:` sources: an OCI image layout directory (`oci-layout`,
//! `index.json`, `blobs/<alg>/<hex>`). [`super::oci_archive`] reuses this over
//! a tar of the same layout.
//!
//! A reference may name a tag inside the layout, skopeo-style:
//! `oci-dir:PATH:TAG` selects the index entry annotated
//! `org.opencontainers.image.ref.name=TAG`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::archive::TarIndex;
use super::oci::{self, Descriptor, ManifestDocument, ManifestOrigin};
use super::{ImageDescriptor, ImageSource, LayerStream, Scheme, SourceOptions};
use crate::digest::{Digest, VerifyingReader};
use crate::error::{ImageError, Result};

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Where the files of a layout live.
pub(crate) trait LayoutStore: Send + Sync {
    fn describe(&self) -> String;
    fn exists(&self, name: &str) -> bool;
    fn open(&self, name: &str) -> Result<Box<dyn Read + Send>>;
    fn read(&self, name: &str, limit: u64) -> Result<Vec<u8>>;
}

pub(crate) struct DirStore(pub PathBuf);

impl LayoutStore for DirStore {
    fn describe(&self) -> String {
        self.0.display().to_string()
    }

    fn exists(&self, name: &str) -> bool {
        self.0.join(name).is_file()
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send>> {
        let path = self.0.join(name);
        let file = File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ImageError::NotFound { path: path.clone() },
            _ => ImageError::io(format!("opening {}", path.display()), e),
        })?;
        Ok(Box::new(file))
    }

    fn read(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let path = self.0.join(name);
        let size = std::fs::metadata(&path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ImageError::NotFound { path: path.clone() },
                _ => ImageError::io(format!("reading {}", path.display()), e),
            })?
            .len();
        if size > limit {
            return Err(ImageError::DocumentTooLarge { what: path.display().to_string(), size, limit });
        }
        std::fs::read(&path).map_err(|e| ImageError::io(format!("reading {}", path.display()), e))
    }
}

impl LayoutStore for TarIndex {
    fn describe(&self) -> String {
        self.path().display().to_string()
    }

    fn exists(&self, name: &str) -> bool {
        self.contains(name)
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send>> {
        Ok(self.open_member(name)?.0)
    }

    fn read(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        self.read_member(name, limit)
    }
}

/// One image of an OCI layout.
pub struct LayoutImage {
    store: Arc<dyn LayoutStore>,
    descriptor: ImageDescriptor,
}

pub fn open(path: &Path, options: &SourceOptions) -> Result<Vec<LayoutImage>> {
    let (dir, tag) = split_tag(path);
    if !dir.is_dir() {
        return Err(ImageError::NotFound { path: dir });
    }
    let input = path.display().to_string();
    open_store(Arc::new(DirStore(dir)), tag.as_deref(), Scheme::OciDir, &input, options)
}

/// `PATH:TAG` when `PATH:TAG` itself does not exist but `PATH` does.
pub(crate) fn split_tag(path: &Path) -> (PathBuf, Option<String>) {
    if !path.exists()
        && let Some(text) = path.to_str()
        && let Some((base, tag)) = text.rsplit_once(':')
        && !tag.contains('/')
        && Path::new(base).exists()
    {
        return (PathBuf::from(base), Some(tag.to_owned()));
    }
    (path.to_owned(), None)
}

pub(crate) fn open_store(
    store: Arc<dyn LayoutStore>,
    tag: Option<&str>,
    scheme: Scheme,
    input: &str,
    options: &SourceOptions,
) -> Result<Vec<LayoutImage>> {
    let limit = options.limits.max_document_size;
    if !store.exists("oci-layout") {
        return Err(ImageError::malformed(
            format!("OCI layout {}", store.describe()),
            "no oci-layout file; is this an OCI image layout?",
        ));
    }
    let index_bytes = store.read("index.json", limit)?;
    let index = match oci::parse_manifest_document(&index_bytes, Some(oci::OCI_INDEX), "index.json")? {
        ManifestDocument::Index(index) => index,
        ManifestDocument::Manifest(_) => {
            return Err(ImageError::malformed("index.json", "is a manifest, not an index"));
        }
    };
    let candidates: Vec<&Descriptor> = match tag {
        Some(tag) => index.manifests.iter().filter(|d| d.annotations.get(REF_NAME).is_some_and(|r| r == tag)).collect(),
        None => index.manifests.iter().collect(),
    };
    let refs_in_layout = || {
        let names: Vec<&str> =
            index.manifests.iter().filter_map(|d| d.annotations.get(REF_NAME)).map(String::as_str).collect();
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    };
    let entry = match candidates.as_slice() {
        [] => {
            return Err(ImageError::malformed(
                format!("OCI layout {}", store.describe()),
                match tag {
                    Some(tag) => format!("no image tagged {tag:?}; tags present: {}", refs_in_layout()),
                    None => "index.json lists no images".to_owned(),
                },
            ));
        }
        [one] => (*one).clone(),
        many if many.iter().all(|d| d.platform.is_some()) => {
            // A layout whose top-level index is itself multi-platform.
            let chosen = oci::select_platforms(&index, &options.platform)?;
            let reference = tag.map(str::to_owned);
            return chosen
                .into_iter()
                .map(|d| load_manifest(&store, d, None, scheme, input, reference.clone(), options))
                .collect();
        }
        _ => {
            return Err(ImageError::malformed(
                format!("OCI layout {}", store.describe()),
                format!(
                    "holds several images; pick one with {}:PATH:TAG (tags: {})",
                    scheme.as_str(),
                    refs_in_layout()
                ),
            ));
        }
    };
    let reference = entry.annotations.get(REF_NAME).cloned();
    let bytes = read_blob(store.as_ref(), &entry.digest, limit)?;
    match oci::parse_manifest_document(&bytes, entry.media_type.as_deref(), &format!("manifest {}", entry.digest))? {
        ManifestDocument::Index(nested) => {
            let chosen = oci::select_platforms(&nested, &options.platform)?;
            chosen
                .into_iter()
                .map(|d| {
                    load_manifest(&store, d, Some(entry.digest.clone()), scheme, input, reference.clone(), options)
                })
                .collect()
        }
        ManifestDocument::Manifest(_) => {
            Ok(vec![load_manifest(&store, &entry, None, scheme, input, reference, options)?])
        }
    }
}

fn load_manifest(
    store: &Arc<dyn LayoutStore>,
    entry: &Descriptor,
    index_digest: Option<String>,
    scheme: Scheme,
    input: &str,
    reference: Option<String>,
    options: &SourceOptions,
) -> Result<LayoutImage> {
    let limit = options.limits.max_document_size;
    let what = format!("manifest {}", entry.digest);
    let bytes = read_blob(store.as_ref(), &entry.digest, limit)?;
    let manifest = match oci::parse_manifest_document(&bytes, entry.media_type.as_deref(), &what)? {
        ManifestDocument::Manifest(m) => m,
        ManifestDocument::Index(_) => return Err(ImageError::malformed(what, "nested index inside an index")),
    };
    let config_bytes = read_blob(store.as_ref(), &manifest.config.digest, limit)?;
    let config = oci::parse_config(&config_bytes, &format!("config {}", manifest.config.digest))?;
    let layers = oci::layer_descriptors(&manifest, &config)?;
    let origin = ManifestOrigin {
        manifest_digest: Some(entry.digest.clone()),
        manifest_media_type: manifest.media_type.clone().or_else(|| entry.media_type.clone()),
        index_digest,
        references: reference.into_iter().collect(),
    };
    let image = oci::image_info(origin, &manifest.config.digest, &config);
    Ok(LayoutImage {
        store: Arc::clone(store),
        descriptor: ImageDescriptor { scheme, input: input.to_owned(), image: Some(image), layers },
    })
}

fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}

/// Reads a small blob and checks its digest.
fn read_blob(store: &dyn LayoutStore, digest: &str, limit: u64) -> Result<Vec<u8>> {
    let parsed = Digest::parse(digest)?;
    let bytes = store.read(&blob_path(&parsed), limit)?;
    parsed.verify(&format!("blob {digest}"), &bytes)?;
    Ok(bytes)
}

impl ImageSource for LayoutImage {
    fn descriptor(&self) -> &ImageDescriptor {
        &self.descriptor
    }

    fn open_layer(&self, index: usize) -> Result<LayerStream> {
        let (_, digest) = self.descriptor.layer_blob(index)?;
        let reader = self.store.open(&blob_path(&digest))?;
        let what = format!("layer {index} ({digest})");
        Ok(LayerStream::Tar(Box::new(VerifyingReader::new(reader, digest, what))))
    }
}
