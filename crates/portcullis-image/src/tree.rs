//! The file tree of an image: every layer's own index, and the squashed view.
//!
//! [`FileTree::build`] streams all layers in parallel (decompressing on the
//! fly, never extracting), records every entry's metadata, and keeps in memory
//! only the contents of files matched by a [`ContentSelector`]. Layers are then
//! applied in order with OCI whiteouts into the squashed view, where each path
//! maps to the layer that last wrote it. Each layer's own index stays
//! available, so content that a later layer deleted can still be examined.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest::{Context, SHA256};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{ImageError, Result};
use crate::limits::Limits;
use crate::source::{ImageSource, LayerStream};

/// What kind of filesystem object an entry is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    File,
    Dir,
    /// Target as written in the link (relative or absolute).
    Symlink(Box<str>),
    /// Absolute path (inside the image) of the file this entry is a hard link to.
    Hardlink(Box<str>),
    CharDevice,
    BlockDevice,
    Fifo,
}

/// Metadata of one file as a layer records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: EntryKind,
    /// Permission bits including setuid/setgid/sticky (`0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: u64,
}

/// Glob patterns naming the files whose contents should be kept in memory.
///
/// Patterns are absolute image paths; `*` does not cross `/`, `**` does.
/// Literal patterns (no wildcard) are also resolved through symlinks after
/// squashing, so `/etc/os-release` is found when it links elsewhere.
#[derive(Debug, Clone)]
pub struct ContentSelector {
    set: GlobSet,
    literals: Vec<String>,
}

impl ContentSelector {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<ContentSelector> {
        let mut builder = GlobSetBuilder::new();
        let mut literals = Vec::new();
        for pattern in patterns {
            let pattern = pattern.as_ref();
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| ImageError::malformed(format!("glob pattern {pattern:?}"), e))?;
            builder.add(glob);
            if !pattern.contains(['*', '?', '[', '{']) {
                literals.push(pattern.to_owned());
            }
        }
        let set = builder.build().map_err(|e| ImageError::malformed("glob patterns", e))?;
        Ok(ContentSelector { set, literals })
    }

    /// A selector that keeps no content.
    pub fn none() -> ContentSelector {
        ContentSelector { set: GlobSet::empty(), literals: Vec::new() }
    }

    pub fn matches(&self, path: &str) -> bool {
        self.set.is_match(path)
    }
}

/// Receives progress while layers are read. Implementations must be cheap:
/// `layer_bytes` is called for every buffer read.
pub trait Progress: Send + Sync {
    /// `size` is the stored (usually compressed) size when known.
    fn layer_started(&self, _index: usize, _size: Option<u64>) {}
    fn layer_bytes(&self, _index: usize, _bytes: u64) {}
    fn layer_finished(&self, _index: usize) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {}

/// Sees the content of regular files while layers stream by, for analyses
/// that need every file (digests, secret search, binaries) but must not hold
/// them all in memory. Results are the inspector's to keep, keyed by layer
/// and path; the tree only provides the bytes.
pub trait FileInspector: Sync {
    /// Whether to read this regular file; called for every regular file of
    /// every layer, so it must be cheap.
    fn wants(&self, path: &str, entry: &Entry) -> bool;
    /// Reads a wanted file. `reader` yields exactly the file's bytes; what the
    /// inspector leaves unread is skipped. Errors from `reader` (a corrupt
    /// layer) must be returned; the inspector's own failures must not.
    fn inspect(&self, layer: usize, path: &str, entry: &Entry, reader: &mut dyn Read) -> io::Result<()>;
}

/// An inspector that reads nothing.
pub struct NoInspector;

impl FileInspector for NoInspector {
    fn wants(&self, _path: &str, _entry: &Entry) -> bool {
        false
    }

    fn inspect(&self, _layer: usize, _path: &str, _entry: &Entry, _reader: &mut dyn Read) -> io::Result<()> {
        Ok(())
    }
}

/// What to do with file contents during one pass over layers.
struct Capture<'a> {
    selector: &'a ContentSelector,
    /// Exact paths to capture besides the selector's (second pass).
    wanted: &'a HashSet<String>,
    inspector: &'a dyn FileInspector,
    limits: &'a Limits,
    /// Whether to compute each layer's diff id (a second hash of every byte).
    diff_ids: bool,
}

impl Capture<'_> {
    fn keeps(&self, path: &str, size: u64) -> bool {
        size <= self.limits.max_captured_file_size && (self.selector.matches(path) || self.wanted.contains(path))
    }

    /// Captures and/or inspects one regular file whose bytes `reader` yields.
    fn take(&self, layer: &mut LayerFiles, path: &str, entry: &Entry, reader: &mut dyn Read) -> io::Result<()> {
        let keep = self.keeps(path, entry.size);
        let inspect = self.inspector.wants(path, entry);
        if keep {
            let mut data = Vec::with_capacity(entry.size as usize);
            reader.read_to_end(&mut data)?;
            if inspect {
                self.inspector.inspect(layer.index, path, entry, &mut data.as_slice())?;
            }
            layer.contents.insert(path.into(), data.into());
        } else if inspect {
            self.inspector.inspect(layer.index, path, entry, reader)?;
        }
        Ok(())
    }
}

/// One layer's own view: what it added, changed and deleted.
///
/// What a first pass reads from a layer depends only on the layer's bytes, the
/// selector, the inspector and the limits, so it can be serialised and reused
/// by [`FileTree::build_reusing`] for any image containing the same layer. The
/// position in the image and the contents a second pass fetched for links from
/// other layers are not part of it and are not serialised.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct LayerFiles {
    #[serde(skip)]
    pub index: usize,
    /// `sha256:<hex>` of the uncompressed tar as read, i.e. the layer's diff id
    /// computed rather than declared, by [`FileTree::build_reusing`] only;
    /// `None` for directories and for a compressed stream with undecodable
    /// data after the tar.
    pub diff_id: Option<String>,
    entries: HashMap<Box<str>, Entry>,
    /// Paths this layer deletes from the layers below (`.wh.NAME`).
    whiteouts: Vec<Box<str>>,
    /// Directories whose lower-layer content this layer hides (`.wh..wh..opq`).
    opaque_dirs: Vec<Box<str>>,
    #[serde(with = "byte_map")]
    contents: HashMap<Box<str>, Arc<[u8]>>,
    /// Contents captured by the second pass: which are needed depends on the
    /// other layers' links, so they belong to this image, not to the layer.
    #[serde(skip)]
    linked: HashMap<Box<str>, Arc<[u8]>>,
    /// Bytes of uncompressed tar read.
    pub uncompressed_size: u64,
}

impl LayerFiles {
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(path, entry)| (path.as_ref(), entry))
    }

    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    pub fn whiteouts(&self) -> impl Iterator<Item = &str> {
        self.whiteouts.iter().map(AsRef::as_ref)
    }

    pub fn opaque_dirs(&self) -> impl Iterator<Item = &str> {
        self.opaque_dirs.iter().map(AsRef::as_ref)
    }

    /// Content of `path` as this layer wrote it, if it was captured.
    pub fn content(&self, path: &str) -> Option<Arc<[u8]>> {
        if let Some(content) = self.captured(path) {
            return Some(content);
        }
        match &self.entries.get(path)?.kind {
            EntryKind::Hardlink(target) => self.captured(target),
            _ => None,
        }
    }

    fn captured(&self, path: &str) -> Option<Arc<[u8]>> {
        self.contents.get(path).or_else(|| self.linked.get(path)).cloned()
    }

    pub fn file_count(&self) -> u64 {
        self.entries.len() as u64
    }
}

/// Serde for captured contents: each value as one byte string, which compact
/// formats write as a length and the raw bytes (not a sequence of numbers).
mod byte_map {
    use std::collections::HashMap;
    use std::fmt;
    use std::sync::Arc;

    use serde::de::{Deserializer, SeqAccess, Visitor};
    use serde::ser::Serializer;
    use serde::{Deserialize, Serialize};

    type Contents = HashMap<Box<str>, Arc<[u8]>>;

    struct Bytes<'a>(&'a [u8]);

    impl Serialize for Bytes<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(self.0)
        }
    }

    struct ByteBuf(Vec<u8>);

    impl<'de> Deserialize<'de> for ByteBuf {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_byte_buf(ByteBufVisitor)
        }
    }

    struct ByteBufVisitor;

    impl<'de> Visitor<'de> for ByteBufVisitor {
        type Value = ByteBuf;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a byte string")
        }

        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<ByteBuf, E> {
            Ok(ByteBuf(v.to_vec()))
        }

        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<ByteBuf, E> {
            Ok(ByteBuf(v))
        }

        // Self-describing formats without a byte type (JSON) write a sequence.
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ByteBuf, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(byte) = seq.next_element()? {
                out.push(byte);
            }
            Ok(ByteBuf(out))
        }
    }

    pub fn serialize<S: Serializer>(map: &Contents, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(map.iter().map(|(path, data)| (path, Bytes(data))))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Contents, D::Error> {
        let map = HashMap::<Box<str>, ByteBuf>::deserialize(deserializer)?;
        Ok(map.into_iter().map(|(path, data)| (path, Arc::from(data.0))).collect())
    }
}

/// The squashed file tree of an image, with every layer's own view beside it.
#[derive(Debug)]
pub struct FileTree {
    layers: Vec<LayerFiles>,
    squashed: BTreeMap<Box<str>, usize>,
}

const MAX_SYMLINK_HOPS: usize = 40;

impl FileTree {
    /// Reads every layer of `source` and squashes them.
    pub fn build(
        source: &dyn ImageSource,
        selector: &ContentSelector,
        limits: &Limits,
        progress: &dyn Progress,
    ) -> Result<FileTree> {
        FileTree::build_inspected(source, selector, &NoInspector, limits, progress)
    }

    /// [`FileTree::build`], showing every file `inspector` wants to it on the way.
    pub fn build_inspected(
        source: &dyn ImageSource,
        selector: &ContentSelector,
        inspector: &dyn FileInspector,
        limits: &Limits,
        progress: &dyn Progress,
    ) -> Result<FileTree> {
        let capture = Capture { selector, wanted: &HashSet::new(), inspector, limits, diff_ids: false };
        FileTree::build_with(source, Vec::new(), &capture, progress)
    }

    /// [`FileTree::build_inspected`] with some layers already read: each of
    /// `known` (placed by its `index`) must be what reading that layer with the
    /// same selector, inspector and limits gives, and its layer is not opened.
    /// Only the other layers are read and shown to `inspector`, and their
    /// diff ids computed, to store them under. Contents that links from other
    /// layers reach in a known layer, outside the selector, are still read
    /// from the source.
    pub fn build_reusing(
        source: &dyn ImageSource,
        known: Vec<LayerFiles>,
        selector: &ContentSelector,
        inspector: &dyn FileInspector,
        limits: &Limits,
        progress: &dyn Progress,
    ) -> Result<FileTree> {
        let capture = Capture { selector, wanted: &HashSet::new(), inspector, limits, diff_ids: true };
        FileTree::build_with(source, known, &capture, progress)
    }

    fn build_with(
        source: &dyn ImageSource,
        known: Vec<LayerFiles>,
        capture: &Capture<'_>,
        progress: &dyn Progress,
    ) -> Result<FileTree> {
        let descriptor = source.descriptor();
        let layer_count = descriptor.layers.len();
        // Squashing needs exactly one layer per index.
        let mut placed: BTreeMap<usize, LayerFiles> = BTreeMap::new();
        for layer in known.into_iter().filter(|l| l.index < layer_count) {
            placed.entry(layer.index).or_insert(layer);
        }
        for &index in placed.keys() {
            progress.layer_started(index, descriptor.layers.get(index).and_then(|l| l.size));
            progress.layer_finished(index);
        }
        let missing: Vec<usize> = (0..layer_count).filter(|i| !placed.contains_key(i)).collect();
        let mut layers = read_layers(source, missing, capture, progress)?;
        layers.extend(placed.into_values());
        layers.sort_by_key(|l| l.index);
        let mut tree = FileTree::squash(layers);
        tree.fetch_missing(source, capture.selector, capture.limits)?;
        Ok(tree)
    }

    /// Applies layers (sorted by index) in order.
    pub fn squash(layers: Vec<LayerFiles>) -> FileTree {
        let mut squashed: BTreeMap<Box<str>, usize> = BTreeMap::new();
        for layer in &layers {
            for dir in &layer.opaque_dirs {
                remove_descendants(&mut squashed, dir);
            }
            for path in &layer.whiteouts {
                squashed.remove(path);
                remove_descendants(&mut squashed, path);
            }
            for (path, entry) in &layer.entries {
                if entry.kind != EntryKind::Dir {
                    // A file replacing a directory hides everything below it.
                    remove_descendants(&mut squashed, path);
                }
                squashed.insert(path.clone(), layer.index);
            }
        }
        FileTree { layers, squashed }
    }

    pub fn layers(&self) -> &[LayerFiles] {
        &self.layers
    }

    /// Number of paths in the squashed view.
    pub fn len(&self) -> usize {
        self.squashed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.squashed.is_empty()
    }

    /// Every path of the squashed view with its entry and the layer that wrote it.
    pub fn squashed(&self) -> impl Iterator<Item = (&str, &Entry, usize)> {
        self.squashed.iter().filter_map(|(path, &layer)| {
            let entry = self.layers.get(layer)?.entries.get(path)?;
            Some((path.as_ref(), entry, layer))
        })
    }

    /// The squashed entry at `path`, without following symlinks.
    pub fn entry(&self, path: &str) -> Option<(&Entry, usize)> {
        let &layer = self.squashed.get(path)?;
        Some((self.layers.get(layer)?.entries.get(path)?, layer))
    }

    /// Squashed paths matching `selector`.
    pub fn glob<'a>(&'a self, selector: &'a ContentSelector) -> impl Iterator<Item = &'a str> + 'a {
        self.squashed.keys().map(AsRef::as_ref).filter(|p| selector.matches(p))
    }

    /// Resolves symlinks in every component of `path`, never leaving the image
    /// root (`..` at the root stays at the root, as in a chroot). Returns `None`
    /// when some component does not exist.
    pub fn resolve(&self, path: &str) -> Result<Option<String>> {
        let mut pending: Vec<String> = components(path).rev().map(str::to_owned).collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            resolved.push(component);
            let candidate = join(&resolved);
            let Some((entry, _)) = self.entry(&candidate) else {
                // Tars need not list parent directories: a path with
                // descendants is an implicit directory.
                if !pending.is_empty() && self.has_descendants(&candidate) {
                    continue;
                }
                return Ok(None);
            };
            if let EntryKind::Symlink(target) = &entry.kind {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(ImageError::SymlinkLoop { path: path.to_owned() });
                }
                resolved.pop();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(components(target).rev().map(str::to_owned));
            }
        }
        Ok(Some(join(&resolved)))
    }

    fn has_descendants(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.squashed
            .range::<str, _>((std::ops::Bound::Included(prefix.as_str()), std::ops::Bound::Unbounded))
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    /// The content of `path` in the squashed view (following symlinks), with
    /// the resolved path and the layer that wrote it. `None` when the file does
    /// not exist, is not a regular file, or its content was not selected.
    pub fn read(&self, path: &str) -> Result<Option<FileContent>> {
        let Some(resolved) = self.resolve(path)? else {
            return Ok(None);
        };
        Ok(self.content_at(&resolved))
    }

    fn content_at(&self, resolved: &str) -> Option<FileContent> {
        let (entry, layer) = self.entry(resolved)?;
        let data = match &entry.kind {
            EntryKind::File => self.layers.get(layer)?.content(resolved)?,
            EntryKind::Hardlink(target) => match self.layers.get(layer)?.content(resolved) {
                Some(data) => data,
                // The link's target may live in a lower layer.
                None => return self.content_at(target).map(|c| FileContent { path: resolved.to_owned(), ..c }),
            },
            _ => return None,
        };
        Some(FileContent { path: resolved.to_owned(), layer, data })
    }

    /// Every layer's own copy of `path` (exact path, no link following), in
    /// layer order: the all-layers view of one file.
    pub fn layer_copies(&self, path: &str) -> Vec<(usize, Option<Arc<[u8]>>)> {
        self.layers.iter().filter(|l| l.entries.contains_key(path)).map(|l| (l.index, l.content(path))).collect()
    }

    /// Re-reads layers to capture selected files whose content the first pass
    /// could not know it needed (a selected symlink pointing to an unselected
    /// file, a literal path reached through a symlinked directory, a hard link
    /// to an earlier entry).
    fn fetch_missing(&mut self, source: &dyn ImageSource, selector: &ContentSelector, limits: &Limits) -> Result<()> {
        let mut wanted: BTreeMap<usize, HashSet<String>> = BTreeMap::new();
        let candidates: Vec<String> =
            self.glob(selector).map(str::to_owned).chain(selector.literals.iter().cloned()).collect();
        for path in candidates {
            // A dangling link or a loop is the image's problem, not a reason to fail.
            let Ok(Some(mut resolved)) = self.resolve(&path) else { continue };
            // Follow hard links down to the entry that carries the data.
            for _ in 0..MAX_SYMLINK_HOPS {
                let Some((entry, layer)) = self.entry(&resolved) else { break };
                let Some(layer_files) = self.layers.get(layer) else { break };
                if layer_files.content(&resolved).is_some() {
                    break;
                }
                match &entry.kind {
                    EntryKind::File if entry.size <= limits.max_captured_file_size => {
                        wanted.entry(layer).or_default().insert(resolved.clone());
                        break;
                    }
                    EntryKind::Hardlink(target) if !layer_files.entries.contains_key(target) => {
                        resolved = target.to_string();
                    }
                    EntryKind::Hardlink(target) => {
                        wanted.entry(layer).or_default().insert(target.to_string());
                        break;
                    }
                    _ => break,
                }
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        tracing::debug!(layers = wanted.len(), "second pass for contents reached through links");
        let indexes: Vec<usize> = wanted.keys().copied().collect();
        let all_wanted: HashSet<String> = wanted.into_values().flatten().collect();
        let none = ContentSelector::none();
        let capture =
            Capture { selector: &none, wanted: &all_wanted, inspector: &NoInspector, limits, diff_ids: false };
        let refetched = read_layers(source, indexes, &capture, &NoProgress)?;
        for fetched in refetched {
            if let Some(layer) = self.layers.get_mut(fetched.index) {
                layer.linked.extend(fetched.contents);
            }
        }
        Ok(())
    }
}

/// A file's content as read from the tree.
#[derive(Debug, Clone)]
pub struct FileContent {
    /// The path after resolving symlinks.
    pub path: String,
    pub layer: usize,
    pub data: Arc<[u8]>,
}

fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

fn join(components: &[String]) -> String {
    if components.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::new();
    for component in components {
        out.push('/');
        out.push_str(component);
    }
    out
}

fn remove_descendants(map: &mut BTreeMap<Box<str>, usize>, dir: &str) {
    let prefix = if dir == "/" { "/".to_owned() } else { format!("{dir}/") };
    let doomed: Vec<Box<str>> = map
        .range::<str, _>((std::ops::Bound::Included(prefix.as_str()), std::ops::Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    for key in doomed {
        map.remove(&key);
    }
}

/// Reads the given layers, several at a time.
fn read_layers(
    source: &dyn ImageSource,
    indexes: Vec<usize>,
    capture: &Capture<'_>,
    progress: &dyn Progress,
) -> Result<Vec<LayerFiles>> {
    // Layer reading is decompression-bound on local sources and network-bound
    // on registries; a few more workers than cores keeps both busy.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let workers = indexes.len().min(cores.max(4));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Result<LayerFiles>>> = Mutex::new(Vec::with_capacity(indexes.len()));
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let slot = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&index) = indexes.get(slot) else { break };
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let size = source.descriptor().layers.get(index).and_then(|l| l.size);
                    progress.layer_started(index, size);
                    let result = source.open_layer(index).and_then(|stream| match stream {
                        LayerStream::Tar(reader) => read_tar_layer(index, reader, capture, progress),
                        LayerStream::Directory(root) => read_directory(&root, capture),
                    });
                    progress.layer_finished(index);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut results) = results.lock() {
                        results.push(result);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut layers = Vec::with_capacity(results.len());
    let mut first_error: Option<(usize, ImageError)> = None;
    for result in results {
        match result {
            Ok(layer) => layers.push(layer),
            Err(error) => {
                // Report the lowest-numbered failing layer, whatever thread order was.
                let index = layer_of(&error);
                if first_error.as_ref().is_none_or(|(i, _)| index < *i) {
                    first_error = Some((index, error));
                }
            }
        }
    }
    match first_error {
        Some((_, error)) => Err(error),
        None => Ok(layers),
    }
}

fn layer_of(error: &ImageError) -> usize {
    match error {
        ImageError::PathTraversal { layer, .. }
        | ImageError::LinkEscape { layer, .. }
        | ImageError::EntryTooLarge { layer, .. }
        | ImageError::LayerTooLarge { layer, .. }
        | ImageError::DecompressionBomb { layer, .. }
        | ImageError::TooManyEntries { layer, .. }
        | ImageError::PathTooLong { layer, .. }
        | ImageError::BadTar { layer, .. } => *layer,
        _ => usize::MAX,
    }
}

/// Shared between the byte-counting readers and the tar loop: the first limit
/// violation or digest mismatch seen inside `Read::read`, which can only
/// return an `io::Error`, is parked here so the caller reports the real cause.
#[derive(Default)]
struct Violation(Mutex<Option<ImageError>>);

impl Violation {
    fn raise(&self, error: ImageError) -> io::Error {
        let message = error.to_string();
        if let Ok(mut slot) = self.0.lock()
            && slot.is_none()
        {
            *slot = Some(error);
        }
        io::Error::new(io::ErrorKind::InvalidData, message)
    }

    fn take(&self) -> Option<ImageError> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Counts the stored (usually compressed) bytes and reports progress.
struct StoredCounter<'a, R> {
    inner: R,
    stored: &'a Cell<u64>,
    index: usize,
    progress: &'a dyn Progress,
}

impl<R: Read> Read for StoredCounter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.stored.set(self.stored.get() + n as u64);
        self.progress.layer_bytes(self.index, n as u64);
        Ok(n)
    }
}

/// Enforces the layer size and compression-ratio limits on the decompressed
/// stream, and hashes it into the layer's diff id.
struct UncompressedLimiter<'a, R> {
    inner: R,
    count: u64,
    hasher: Option<Context>,
    stored: &'a dyn Fn() -> u64,
    compressed: bool,
    index: usize,
    limits: &'a Limits,
    violation: &'a Violation,
}

impl<R: Read> Read for UncompressedLimiter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        if self.count > self.limits.max_layer_size {
            return Err(self
                .violation
                .raise(ImageError::LayerTooLarge { layer: self.index, limit: self.limits.max_layer_size }));
        }
        if self.compressed && self.count > self.limits.ratio_check_after {
            let stored = (self.stored)().max(1);
            if self.count / stored > self.limits.max_compression_ratio {
                return Err(self.violation.raise(ImageError::DecompressionBomb {
                    layer: self.index,
                    ratio: self.limits.max_compression_ratio,
                }));
            }
        }
        Ok(n)
    }
}

/// Wraps the raw stream so an error it raises (e.g. a digest mismatch found
/// at EOF) is kept verbatim.
struct SourceErrors<'a, R> {
    inner: R,
    index: usize,
    violation: &'a Violation,
}

impl<R: Read> Read for SourceErrors<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let message = e.to_string();
            let error = match e.into_inner().map(|inner| inner.downcast::<ImageError>()) {
                Some(Ok(image_error)) => *image_error,
                Some(Err(other)) => ImageError::io(format!("reading layer {}", self.index), io::Error::other(other)),
                None => ImageError::io(format!("reading layer {}", self.index), io::Error::other(message)),
            };
            self.violation.raise(error)
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

fn read_tar_layer(
    index: usize,
    reader: Box<dyn Read + Send>,
    capture: &Capture<'_>,
    progress: &dyn Progress,
) -> Result<LayerFiles> {
    let limits = capture.limits;
    let violation = Violation::default();
    let stored = Cell::new(0u64);
    let counted = StoredCounter {
        inner: SourceErrors { inner: reader, index, violation: &violation },
        stored: &stored,
        index,
        progress,
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, counted);
    let head = buffered
        .fill_buf()
        .map_err(|e| violation.take().unwrap_or_else(|| ImageError::io(format!("reading layer {index}"), e)))?;
    let compression = detect_compression(head);
    let result = {
        let stored_now = || stored.get();
        let buffered_ref = &mut buffered;
        let decoder: Box<dyn Read + '_> = match compression {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered_ref)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(buffered_ref)
                    .map_err(|e| ImageError::io(format!("layer {index}: starting zstd"), e))?,
            ),
            Compression::None => Box::new(buffered_ref),
        };
        let mut limiter = UncompressedLimiter {
            inner: decoder,
            count: 0,
            hasher: capture.diff_ids.then(|| Context::new(&SHA256)),
            stored: &stored_now,
            compressed: compression != Compression::None,
            index,
            limits,
            violation: &violation,
        };
        index_tar(index, &mut limiter, capture, &violation).and_then(|mut layer| {
            if capture.diff_ids {
                layer.diff_id = drain_for_diff_id(&mut limiter, &violation)?;
            }
            Ok(layer)
        })
    };
    let mut layer = result?;
    // Read whatever follows the end-of-archive marker so the digest is checked over the whole blob.
    io::copy(&mut buffered, &mut io::sink())
        .map_err(|e| violation.take().unwrap_or_else(|| ImageError::io(format!("reading layer {index}"), e)))?;
    if let Some(error) = violation.take() {
        return Err(error);
    }
    layer.index = index;
    Ok(layer)
}

/// Reads what the tar reader left of the uncompressed stream (the zero blocks
/// after the end-of-archive marker), so the digest covers the whole tar.
/// Undecodable data after the tar leaves the layer without a diff id, as it
/// did not stop the analysis before; limits and the blob's digest still apply.
fn drain_for_diff_id<R: Read>(
    limiter: &mut UncompressedLimiter<'_, R>,
    violation: &Violation,
) -> Result<Option<String>> {
    match io::copy(limiter, &mut io::sink()) {
        Ok(_) => Ok(limiter.hasher.take().map(|hasher| format!("sha256:{}", hex::encode(hasher.finish())))),
        Err(e) => match violation.take() {
            Some(error) => Err(error),
            None => {
                tracing::debug!(layer = limiter.index, error = %e, "undecodable data after the tar; no diff id");
                Ok(None)
            }
        },
    }
}

fn index_tar<R: Read>(
    index: usize,
    reader: &mut UncompressedLimiter<'_, R>,
    capture: &Capture<'_>,
    violation: &Violation,
) -> Result<LayerFiles> {
    let limits = capture.limits;
    let fail =
        |e: io::Error| violation.take().unwrap_or_else(|| ImageError::BadTar { layer: index, reason: e.to_string() });
    let mut archive = tar::Archive::new(reader);
    let mut layer = LayerFiles { index, ..LayerFiles::default() };
    for entry in archive.entries().map_err(fail)? {
        let mut entry = entry.map_err(fail)?;
        if layer.entries.len() as u64 >= limits.max_entries {
            return Err(ImageError::TooManyEntries { layer: index, limit: limits.max_entries });
        }
        let raw_path = entry.path_bytes();
        if raw_path.len() > limits.max_path_length {
            let prefix = String::from_utf8_lossy(&raw_path[..64.min(raw_path.len())]).into_owned();
            return Err(ImageError::PathTooLong { layer: index, limit: limits.max_path_length, prefix });
        }
        let raw = String::from_utf8_lossy(&raw_path).into_owned();
        let Some(path) =
            normalize_entry_path(&raw).ok_or_else(|| ImageError::PathTraversal { layer: index, path: raw.clone() })?
        else {
            continue; // the archive root itself
        };
        let header = entry.header();
        let size = header.size().map_err(fail)?;
        let entry_type = header.entry_type();
        if size > limits.max_file_size && entry_type.is_file() {
            return Err(ImageError::EntryTooLarge { layer: index, path, size, limit: limits.max_file_size });
        }
        let file_name = path.rsplit('/').next().unwrap_or_default();
        if let Some(hidden) = file_name.strip_prefix(".wh.") {
            let parent = parent_of(&path);
            if hidden == ".wh..opq" {
                layer.opaque_dirs.push(parent.into());
            } else {
                layer.whiteouts.push(child_of(&parent, hidden).into());
            }
            continue;
        }
        let kind = match entry_type {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink => {
                let target =
                    entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default();
                EntryKind::Symlink(target.into())
            }
            tar::EntryType::Link => {
                let target =
                    entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default();
                match normalize_entry_path(&target) {
                    Some(Some(target)) => EntryKind::Hardlink(target.into()),
                    _ => return Err(ImageError::LinkEscape { layer: index, path, target }),
                }
            }
            tar::EntryType::Char => EntryKind::CharDevice,
            tar::EntryType::Block => EntryKind::BlockDevice,
            tar::EntryType::Fifo => EntryKind::Fifo,
            // PAX/GNU extension headers are consumed by the tar crate; anything else carries no file.
            _ => continue,
        };
        let header = entry.header();
        let record = Entry {
            mode: header.mode().unwrap_or(0) & 0o7777,
            uid: header.uid().unwrap_or(0),
            gid: header.gid().unwrap_or(0),
            mtime: header.mtime().unwrap_or(0),
            size: if kind == EntryKind::File { size } else { 0 },
            kind,
        };
        if record.kind == EntryKind::File {
            capture.take(&mut layer, &path, &record, &mut entry).map_err(fail)?;
        }
        layer.entries.insert(path.into(), record);
    }
    layer.uncompressed_size = archive.into_inner().count;
    Ok(layer)
}

/// Turns a tar member name into an absolute image path. `Some(None)` is the
/// root itself; `None` means the name is absolute or climbs out with `..`.
fn normalize_entry_path(raw: &str) -> Option<Option<String>> {
    if raw.starts_with('/') {
        return None;
    }
    let mut out = String::with_capacity(raw.len() + 1);
    for component in raw.split('/') {
        match component {
            "" | "." => {}
            ".." => return None,
            other => {
                out.push('/');
                out.push_str(other);
            }
        }
    }
    Some(if out.is_empty() { None } else { Some(out) })
}

fn parent_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".to_owned(),
        Some((parent, _)) => parent.to_owned(),
    }
}

fn child_of(parent: &str, name: &str) -> String {
    if parent == "/" { format!("/{name}") } else { format!("{parent}/{name}") }
}

/// Indexes an unpacked root filesystem as one layer, without following symlinks.
fn read_directory(root: &Path, capture: &Capture<'_>) -> Result<LayerFiles> {
    let limits = capture.limits;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    let mut layer = LayerFiles::default();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, image_dir)) = stack.pop() {
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if dir != root => {
                tracing::warn!(dir = %dir.display(), error = %e, "skipping unreadable directory");
                continue;
            }
            Err(e) => return Err(ImageError::io(format!("reading {}", dir.display()), e)),
        };
        for item in listing {
            let item = item.map_err(|e| ImageError::io(format!("reading {}", dir.display()), e))?;
            let name = item.file_name().to_string_lossy().into_owned();
            let image_path = format!("{image_dir}/{name}");
            let meta = match item.path().symlink_metadata() {
                Ok(meta) => meta,
                Err(e) => {
                    tracing::warn!(path = %item.path().display(), error = %e, "skipping unreadable entry");
                    continue;
                }
            };
            if layer.entries.len() as u64 >= limits.max_entries {
                return Err(ImageError::TooManyEntries { layer: 0, limit: limits.max_entries });
            }
            let file_type = meta.file_type();
            let kind = if file_type.is_dir() {
                stack.push((item.path(), image_path.clone()));
                EntryKind::Dir
            } else if file_type.is_symlink() {
                let target =
                    std::fs::read_link(item.path()).map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
                EntryKind::Symlink(target.into())
            } else if file_type.is_file() {
                EntryKind::File
            } else if file_type.is_char_device() {
                EntryKind::CharDevice
            } else if file_type.is_block_device() {
                EntryKind::BlockDevice
            } else if file_type.is_fifo() {
                EntryKind::Fifo
            } else {
                continue; // sockets
            };
            let size = if kind == EntryKind::File { meta.len() } else { 0 };
            let record = Entry {
                kind,
                mode: meta.mode() & 0o7777,
                uid: meta.uid().into(),
                gid: meta.gid().into(),
                size,
                mtime: meta.mtime().max(0) as u64,
            };
            if record.kind == EntryKind::File
                && (capture.keeps(&image_path, size) || capture.inspector.wants(&image_path, &record))
            {
                // A file that vanished or cannot be read is skipped, as a
                // scanner of a live directory must expect.
                let taken = std::fs::File::open(item.path())
                    .and_then(|mut file| capture.take(&mut layer, &image_path, &record, &mut file));
                if let Err(e) = taken {
                    tracing::warn!(path = %item.path().display(), error = %e, "cannot read file");
                }
            }
            layer.uncompressed_size += size;
            layer.entries.insert(image_path.into(), record);
        }
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_entry_paths() {
        assert_eq!(normalize_entry_path("./etc/passwd"), Some(Some("/etc/passwd".into())));
        assert_eq!(normalize_entry_path("usr//bin/"), Some(Some("/usr/bin".into())));
        assert_eq!(normalize_entry_path("./"), Some(None));
        assert_eq!(normalize_entry_path("../etc/passwd"), None);
        assert_eq!(normalize_entry_path("a/../../b"), None);
        assert_eq!(normalize_entry_path("/etc/passwd"), None);
    }

    fn file(layer: &mut LayerFiles, path: &str, content: &str) {
        layer.entries.insert(
            path.into(),
            Entry { kind: EntryKind::File, mode: 0o644, uid: 0, gid: 0, size: content.len() as u64, mtime: 0 },
        );
        layer.contents.insert(path.into(), content.as_bytes().into());
    }

    fn link(layer: &mut LayerFiles, path: &str, target: &str) {
        layer.entries.insert(
            path.into(),
            Entry { kind: EntryKind::Symlink(target.into()), mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 0 },
        );
    }

    fn dir(layer: &mut LayerFiles, path: &str) {
        layer
            .entries
            .insert(path.into(), Entry { kind: EntryKind::Dir, mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 });
    }

    #[test]
    fn squashes_with_whiteouts_and_opaque_dirs() {
        let mut base = LayerFiles { index: 0, ..Default::default() };
        dir(&mut base, "/app");
        file(&mut base, "/app/a", "a0");
        file(&mut base, "/app/b", "b0");
        dir(&mut base, "/static");
        file(&mut base, "/static/old.js", "old");
        dir(&mut base, "/gone");
        file(&mut base, "/gone/x", "x");
        let mut top = LayerFiles { index: 1, ..Default::default() };
        file(&mut top, "/app/a", "a1");
        top.whiteouts.push("/app/b".into());
        top.whiteouts.push("/gone".into());
        top.opaque_dirs.push("/static".into());
        dir(&mut top, "/static");
        file(&mut top, "/static/new.js", "new");
        let tree = FileTree::squash(vec![base, top]);
        let read = |p: &str| tree.read(p).unwrap().map(|c| (String::from_utf8_lossy(&c.data).into_owned(), c.layer));
        assert_eq!(read("/app/a"), Some(("a1".into(), 1)));
        assert_eq!(read("/app/b"), None);
        assert_eq!(read("/gone/x"), None);
        assert!(tree.entry("/gone").is_none());
        assert_eq!(read("/static/old.js"), None);
        assert_eq!(read("/static/new.js"), Some(("new".into(), 1)));
        // The all-layers view still has the deleted content.
        assert_eq!(tree.layer_copies("/app/b").len(), 1);
        assert_eq!(tree.layer_copies("/app/a").len(), 2);
    }

    #[test]
    fn resolves_symlinks_inside_the_root() {
        let mut layer = LayerFiles { index: 0, ..Default::default() };
        dir(&mut layer, "/usr");
        dir(&mut layer, "/usr/lib");
        file(&mut layer, "/usr/lib/os-release", "ID=debian");
        dir(&mut layer, "/etc");
        link(&mut layer, "/etc/os-release", "../usr/lib/os-release");
        link(&mut layer, "/lib", "usr/lib");
        link(&mut layer, "/escape", "../../../../usr/lib/os-release");
        link(&mut layer, "/loop1", "/loop2");
        link(&mut layer, "/loop2", "loop1");
        let tree = FileTree::squash(vec![layer]);
        assert_eq!(tree.resolve("/etc/os-release").unwrap().as_deref(), Some("/usr/lib/os-release"));
        assert_eq!(tree.resolve("/lib/os-release").unwrap().as_deref(), Some("/usr/lib/os-release"));
        // Climbing above the root stays at the root, as in a chroot.
        assert_eq!(tree.resolve("/escape").unwrap().as_deref(), Some("/usr/lib/os-release"));
        assert!(matches!(tree.resolve("/loop1"), Err(ImageError::SymlinkLoop { .. })));
        assert_eq!(tree.resolve("/nope/x").unwrap(), None);
        assert_eq!(tree.read("/etc/os-release").unwrap().unwrap().data.as_ref(), b"ID=debian");
    }

    #[test]
    fn selector_globs_do_not_cross_directories() {
        let selector = ContentSelector::new(&["/var/lib/dpkg/info/*.list", "/usr/**/METADATA"]).unwrap();
        assert!(selector.matches("/var/lib/dpkg/info/bash.list"));
        assert!(!selector.matches("/var/lib/dpkg/info/sub/bash.list"));
        assert!(selector.matches("/usr/lib/python3/dist-packages/x.dist-info/METADATA"));
        assert!(ContentSelector::new(&["/a/[b"]).is_err());
    }
}
