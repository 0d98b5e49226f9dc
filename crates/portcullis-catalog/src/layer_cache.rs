//! Per-layer results kept between analyses, so images sharing layers (a
//! common base) read, decompress, hash and inspect each shared layer once.
//!
//! What the first pass over a layer yields, its [`LayerFiles`] and the
//! inspector's findings for its files, depends only on the layer's bytes and
//! on the pass's settings: the content selector, the inspector's options, the
//! limits and the code. An entry is therefore keyed by the layer's diff id and
//! a fingerprint of those settings, and a layer found in the cache is not
//! opened at all. Everything after the first pass (squashing, catalogers,
//! layer attribution) runs as without a cache, so the SBOM is the same.
//!
//! Trust: entries are written only under the diff id computed from the bytes
//! actually read, never under the one an image declares, so no image can
//! plant results for another image's layers. A lookup uses the declared diff
//! id, which is what container runtimes check a layer against before running it.
//!
//! Encoding: postcard (compact, varint lengths, no field names), compressed
//! by the store; measured against bincode in `docs/benchmarks.md`. The SBOM
//! package type is JSON-shaped (free-form metadata), so the few packages
//! found inside files are kept as JSON text within the entry.

use std::collections::{BTreeSet, HashMap};

use portcullis_image::ImageDescriptor;
use portcullis_image::Limits;
use portcullis_image::cache::{ResultCache, build_identity};
use portcullis_image::digest::Digest;
use portcullis_image::tree::{FileTree, LayerFiles};
use serde::{Deserialize, Serialize};

use crate::content::files::DigestOptions;
use crate::content::secrets::ContentScanner;
use crate::inspect::{FileFindings, InspectOptions};
use crate::lang::java::JavaLimits;

/// Bump whenever what an entry holds, or what the first pass puts in it,
/// changes meaning; old entries then stop matching and age out.
const FORMAT_VERSION: u32 = 1;

/// Findings of the per-file pass by (layer index, path).
pub(crate) type Findings = HashMap<(usize, Box<str>), FileFindings>;

/// One entry: the layer's own view and the findings of its files.
#[derive(Serialize, Deserialize)]
struct CachedLayer<L, F> {
    files: L,
    findings: Vec<F>,
}

/// Layers of one image found in the cache.
#[derive(Default)]
pub(crate) struct Reused {
    pub layers: Vec<LayerFiles>,
    pub findings: Findings,
    pub indexes: BTreeSet<usize>,
}

/// The cache as seen by one analysis: its settings' fingerprint fixed.
pub(crate) struct LayerReuse<'a> {
    cache: &'a dyn ResultCache,
    fingerprint: String,
}

impl<'a> LayerReuse<'a> {
    /// `patterns` are those of the content selector.
    pub fn new(cache: &'a dyn ResultCache, patterns: &[&str], limits: &Limits, inspect: &InspectOptions) -> Self {
        LayerReuse { cache, fingerprint: fingerprint(patterns, limits, inspect) }
    }

    fn key(&self, diff_id: &str) -> Option<String> {
        let digest = Digest::parse(diff_id).ok()?;
        Some(format!("{}-{}-{}", digest.algorithm(), digest.hex(), self.fingerprint))
    }

    /// The layers of `descriptor` the cache has, placed at their indexes.
    pub fn load(&self, descriptor: &ImageDescriptor) -> Reused {
        let mut reused = Reused::default();
        for (index, layer) in descriptor.layers.iter().enumerate() {
            let Some(diff_id) = layer.diff_id.as_deref() else { continue };
            let Some(key) = self.key(diff_id) else { continue };
            let Some(bytes) = self.cache.get(&key) else { continue };
            match decode(&bytes, diff_id) {
                Ok(CachedLayer { mut files, findings }) => {
                    files.index = index;
                    reused.findings.extend(findings.into_iter().map(|(path, found)| ((index, path), found)));
                    reused.layers.push(files);
                    reused.indexes.insert(index);
                }
                Err(error) => {
                    tracing::warn!(layer = index, diff_id, %error, "unusable cached layer result; reading the layer")
                }
            }
        }
        tracing::debug!(
            reused = reused.indexes.len(),
            layers = descriptor.layers.len(),
            "layer results from the cache"
        );
        reused
    }

    /// Stores the layers of `tree` that were read (not in `reused`) with
    /// their findings, under the diff ids computed while reading them.
    pub fn save(&self, descriptor: &ImageDescriptor, tree: &FileTree, findings: &Findings, reused: &BTreeSet<usize>) {
        let mut by_layer: HashMap<usize, Vec<(&str, &FileFindings)>> = HashMap::new();
        for ((layer, path), found) in findings {
            if !reused.contains(layer) {
                by_layer.entry(*layer).or_default().push((path, found));
            }
        }
        for files in tree.layers().iter().filter(|l| !reused.contains(&l.index)) {
            let Some(diff_id) = files.diff_id.as_deref() else { continue };
            let declared = descriptor.layers.get(files.index).and_then(|l| l.diff_id.as_deref());
            if declared.is_some_and(|declared| declared != diff_id) {
                tracing::warn!(
                    layer = files.index,
                    declared,
                    computed = diff_id,
                    "the layer's diff id is not the one the image config declares"
                );
            }
            let Some(key) = self.key(diff_id) else { continue };
            let entry = CachedLayer { files, findings: by_layer.remove(&files.index).unwrap_or_default() };
            match postcard::to_stdvec(&entry) {
                Ok(bytes) => self.cache.put(&key, &bytes),
                Err(error) => tracing::warn!(layer = files.index, %error, "cannot encode a layer result"),
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum DecodeError {
    #[error(transparent)]
    Postcard(#[from] postcard::Error),
    #[error("{0} bytes after the entry")]
    Trailing(usize),
    #[error("the entry is for layer {found:?}")]
    OtherLayer { found: Option<String> },
}

fn decode(bytes: &[u8], diff_id: &str) -> Result<CachedLayer<LayerFiles, (Box<str>, FileFindings)>, DecodeError> {
    let (entry, rest): (CachedLayer<LayerFiles, (Box<str>, FileFindings)>, _) = postcard::take_from_bytes(bytes)?;
    if !rest.is_empty() {
        return Err(DecodeError::Trailing(rest.len()));
    }
    if entry.files.diff_id.as_deref() != Some(diff_id) {
        return Err(DecodeError::OtherLayer { found: entry.files.diff_id });
    }
    Ok(entry)
}

/// A short digest of everything besides the layer's bytes that decides what
/// the first pass yields. Options are destructured so that a new field fails
/// to compile here until it is accounted for.
fn fingerprint(patterns: &[&str], limits: &Limits, inspect: &InspectOptions) -> String {
    let InspectOptions { digests, secrets, content_search, max_binary_size, java } = inspect;
    let DigestOptions { sha1, md5 } = digests;
    let JavaLimits { max_depth, max_total_uncompressed, max_member_size, max_metadata_size } = java;
    let mut patterns = patterns.to_vec();
    patterns.sort_unstable();
    patterns.dedup();
    let limits = serde_json::to_string(limits).unwrap_or_default();
    let text = format!(
        "format {FORMAT_VERSION}\ncatalog {}\nbuild {}\npatterns {patterns:?}\nlimits {limits}\n\
         digests sha1={sha1} md5={md5}\nsecrets {}\ncontent_search {}\nmax_binary_size {max_binary_size}\n\
         java {max_depth} {max_total_uncompressed} {max_member_size} {max_metadata_size}\n",
        env!("CARGO_PKG_VERSION"),
        build_identity(),
        scanner_fingerprint(secrets.as_ref()),
        scanner_fingerprint(content_search.as_ref()),
    );
    let digest = Digest::sha256_of(text.as_bytes());
    digest.hex().get(..16).unwrap_or(digest.hex()).to_owned()
}

fn scanner_fingerprint(scanner: Option<&ContentScanner>) -> String {
    let Some(scanner) = scanner else { return "off".to_owned() };
    let rules: Vec<(&str, &str)> = scanner.rules().iter().map(|r| (r.name.as_str(), r.pattern.as_str())).collect();
    format!("max={} skip_binary={} rules={rules:?}", scanner.max_file_size, scanner.skip_binary)
}

/// Packages as one JSON string: their metadata is free-form JSON, which
/// formats without field names cannot carry.
pub(crate) mod packages_as_json {
    use portcullis_sbom::Package;
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(packages: &[Package], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&serde_json::to_string(packages).map_err(S::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Package>, D::Error> {
        let text = String::deserialize(deserializer)?;
        serde_json::from_str(&text).map_err(D::Error::custom)
    }
}
