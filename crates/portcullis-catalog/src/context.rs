//! What a cataloger sees of an image: the file tree, the distro, the scope,
//! and helpers that turn paths into evidence locations.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use portcullis_image::tree::{ContentSelector, FileContent, FileTree};
use portcullis_sbom::{Distro, Location};

use crate::analyze::{AnalyzeError, Scope};

/// One parsed copy of a package database file.
struct DatabaseCopy<T> {
    path: String,
    layer: usize,
    records: Vec<T>,
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
            layer_index: (!self.diff_ids.is_empty()).then_some(layer),
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
}
