//! What a cataloger sees of an image: the file tree, the distro, the scope,
//! and helpers that turn paths into evidence locations.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use portcullis_image::tree::{ContentSelector, FileContent, FileTree};
use portcullis_sbom::{Distro, Location, Package};

use crate::analyze::{AnalyzeError, Scope};

/// One parsed copy of a package database file.
struct DatabaseCopy<T> {
    path: String,
    layer: usize,
    records: Vec<T>,
}

/// One file a cataloger reads, with where it came from.
pub struct Document {
    /// The path the file was found at (symlinks not resolved).
    pub path: String,
    pub layer: usize,
    pub data: Arc<[u8]>,
    pub location: Location,
}

/// The tree and facts shared by every cataloger of one analysis.
pub struct CatalogContext<'a> {
    pub(crate) tree: &'a FileTree,
    pub(crate) distro: Option<&'a Distro>,
    pub(crate) scope: Scope,
    pub(crate) diff_ids: &'a [Option<String>],
}

impl CatalogContext<'_> {
    pub fn location(&self, path: &str, layer: usize) -> Location {
        Location {
            path: path.to_owned(),
            // A `dir:` source is one pseudo-layer without a diff id: no layer to name.
            layer_index: self.diff_ids.iter().any(Option::is_some).then_some(layer),
            layer_diff_id: self.diff_ids.get(layer).cloned().flatten(),
        }
    }

    /// Reads and parses every copy of the database at `path` that the scope
    /// covers, and yields each record once with the copy it was read from and
    /// the layer that introduced it.
    ///
    /// Squashed: the records of the final copy; a record was introduced by the
    /// earliest layer from which every later copy still holds it unchanged
    /// (`key` decides "unchanged", e.g. name + version + arch). All layers:
    /// every record of every copy, first occurrence wins.
    pub fn database<T, K: Ord + Clone>(
        &self,
        path: &str,
        parse: impl Fn(&[u8]) -> Result<Vec<T>, String>,
        key: impl Fn(&T) -> K,
    ) -> Result<Vec<(T, Location, usize)>, AnalyzeError> {
        let Some(resolved) = self.tree.resolve(path)? else { return Ok(Vec::new()) };
        let copies = self.tree.layer_copies(&resolved);
        let parse_copy = |layer: usize, data: &Arc<[u8]>| {
            parse(data)
                .map(|records| DatabaseCopy { path: resolved.clone(), layer, records })
                .map_err(|message| AnalyzeError::Database { path: resolved.clone(), layer, message })
        };
        match self.scope {
            Scope::Squashed => {
                let Some(final_copy) = self.tree.read(&resolved)? else { return Ok(Vec::new()) };
                let last = parse_copy(final_copy.layer, &final_copy.data)?;
                // Walk back through earlier copies while they still hold the record.
                let mut introduced: BTreeMap<K, usize> = last.records.iter().map(|r| (key(r), last.layer)).collect();
                let mut alive: Vec<K> = introduced.keys().cloned().collect();
                for (layer, data) in copies.iter().rev().filter(|(layer, _)| *layer < last.layer) {
                    let Some(data) = data else { break };
                    let Ok(earlier) = parse_copy(*layer, data) else { break };
                    let present: BTreeSet<K> = earlier.records.iter().map(&key).collect();
                    alive.retain(|k| present.contains(k));
                    for k in &alive {
                        introduced.insert(k.clone(), *layer);
                    }
                    if alive.is_empty() {
                        break;
                    }
                }
                let location = self.location(&last.path, last.layer);
                Ok(last
                    .records
                    .into_iter()
                    .map(|r| {
                        let layer = introduced.get(&key(&r)).copied().unwrap_or(last.layer);
                        (r, location.clone(), layer)
                    })
                    .collect())
            }
            Scope::AllLayers => {
                let mut seen = BTreeMap::new();
                let mut out = Vec::new();
                for (layer, data) in &copies {
                    let Some(data) = data else { continue };
                    let copy = parse_copy(*layer, data)?;
                    let location = self.location(&copy.path, copy.layer);
                    for record in copy.records {
                        if seen.insert(key(&record), ()).is_none() {
                            out.push((record, location.clone(), copy.layer));
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// Paths of the squashed view (or of any layer, for all-layers) matching a glob.
    pub fn matching_paths(&self, pattern: &str) -> Result<Vec<String>, AnalyzeError> {
        let selector = ContentSelector::new(&[pattern])?;
        let mut paths: Vec<String> = match self.scope {
            Scope::Squashed => self.tree.glob(&selector).map(str::to_owned).collect(),
            Scope::AllLayers => self
                .tree
                .layers()
                .iter()
                .flat_map(|l| l.entries().map(|(p, _)| p))
                .filter(|p| selector.matches(p))
                .map(str::to_owned)
                .collect(),
        };
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    /// The content of a supporting file (file list, copyright) and where it came from.
    pub fn supporting_file(&self, path: &str) -> Option<(Arc<[u8]>, Location)> {
        let content = self.tree.read(path).ok().flatten().or_else(|| {
            // All-layers scope: a file deleted later still documents the package.
            (self.scope == Scope::AllLayers)
                .then(|| self.tree.layer_copies(path).into_iter().rev().find_map(|(layer, data)| Some((layer, data?))))
                .flatten()
                .map(|(layer, data)| FileContent { path: path.to_owned(), layer, data })
        })?;
        let location = self.location(&content.path, content.layer);
        Some((content.data, location))
    }

    /// Every file matching `patterns` that the scope covers, with its content:
    /// the squashed view's files, or every layer's copy for all-layers.
    pub fn documents(&self, patterns: &[&str]) -> Result<Vec<Document>, AnalyzeError> {
        let selector = ContentSelector::new(patterns)?;
        let mut out = Vec::new();
        match self.scope {
            Scope::Squashed => {
                for path in self.tree.glob(&selector) {
                    if let Ok(Some(content)) = self.tree.read(path) {
                        out.push(self.document(path, content.layer, content.data));
                    }
                }
            }
            Scope::AllLayers => {
                for layer in self.tree.layers() {
                    for (path, _) in layer.entries().filter(|(p, _)| selector.matches(p)) {
                        if let Some(data) = layer.content(path) {
                            out.push(self.document(path, layer.index, data));
                        }
                    }
                }
                out.sort_by(|a, b| (&a.path, a.layer).cmp(&(&b.path, b.layer)));
            }
        }
        Ok(out)
    }

    fn document(&self, path: &str, layer: usize, data: Arc<[u8]>) -> Document {
        Document { path: path.to_owned(), layer, location: self.location(path, layer), data }
    }

    /// Whether `path` exists in the squashed view (following symlinks).
    pub fn exists(&self, path: &str) -> bool {
        self.tree.resolve(path).ok().flatten().is_some()
    }

    /// Packages from self-contained files: `parse` turns one file into
    /// packages, which get the file as location and its layer as the one
    /// that introduced them. A file that does not parse is logged and
    /// skipped: one broken manifest must not hide the rest of the image.
    pub fn per_file<E: std::fmt::Display>(
        &self,
        patterns: &[&str],
        parse: impl Fn(&Document) -> Result<Vec<Package>, E>,
    ) -> Result<Vec<Package>, AnalyzeError> {
        let mut packages = Vec::new();
        for doc in self.documents(patterns)? {
            match parse(&doc) {
                Ok(found) => packages.extend(found.into_iter().map(|mut package| {
                    package.locations = vec![doc.location.clone()];
                    package.introduced_in_layer = Some(doc.layer);
                    package
                })),
                Err(error) => tracing::warn!(path = doc.path, %error, "unreadable package file"),
            }
        }
        Ok(packages)
    }
}
