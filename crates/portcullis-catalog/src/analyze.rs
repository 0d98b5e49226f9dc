//! From an image source to an SBOM: read the tree once, detect the distro, run
//! every cataloger, and attribute each package to the layer that installed it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use portcullis_image::source::ImageSource;
use portcullis_image::tree::{ContentSelector, FileTree, Progress};
use portcullis_image::{ImageError, Limits};
use portcullis_sbom::{Distro, Layer, Location, Package, Sbom, SchemaInfo, SourceInfo, ToolInfo};

use crate::distro;
use crate::os::{apk, dpkg, rpm};

/// Which files the catalogers look at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// The final filesystem, as a container would see it.
    #[default]
    Squashed,
    /// Every layer's files, including those a later layer deleted or replaced.
    AllLayers,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Squashed => "squashed",
            Scope::AllLayers => "all-layers",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    pub scope: Scope,
    pub limits: Limits,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{path} (layer {layer}): {message}")]
    Database { path: String, layer: usize, message: String },
}

/// The files each cataloger reads, as published in `docs/catalogers.md`.
pub fn cataloger_files() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("distro", distro::DISTRO_FILES.to_vec()),
        ("dpkg", dpkg::PATTERNS.to_vec()),
        ("apk", apk::PATTERNS.to_vec()),
        ("rpm", rpm::DATABASE_PATHS.iter().chain(rpm::MANIFEST_PATHS).copied().collect()),
    ]
}

/// Analyses one image into an SBOM.
pub fn analyze(
    source: &dyn ImageSource,
    options: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Sbom, AnalyzeError> {
    let patterns: Vec<&str> = cataloger_files().into_iter().flat_map(|(_, files)| files).collect();
    let selector = ContentSelector::new(&patterns)?;
    let tree = FileTree::build(source, &selector, &options.limits, progress)?;
    let descriptor = source.descriptor();
    let read = |path: &str| tree.read(path).ok().flatten().map(|c| c.data.to_vec());
    let exists = |path: &str| tree.resolve(path).ok().flatten().is_some();
    let distro = distro::detect(&read, &exists);
    let diff_ids: Vec<Option<String>> = descriptor.layers.iter().map(|l| l.diff_id.clone()).collect();
    let catalog = Catalog { tree: &tree, distro: distro.as_ref(), scope: options.scope, diff_ids: &diff_ids };
    let mut packages = Vec::new();
    packages.extend(catalog.dpkg()?);
    packages.extend(catalog.apk()?);
    packages.extend(catalog.rpm()?);
    packages.sort_by(|a, b| (&a.name, &a.version, &a.id).cmp(&(&b.name, &b.version, &b.id)));
    let layers = descriptor
        .layers
        .iter()
        .zip(tree.layers())
        .map(|(desc, files)| Layer {
            index: files.index,
            digest: desc.digest.clone(),
            diff_id: desc.diff_id.clone(),
            media_type: desc.media_type.clone(),
            size: desc.size,
            uncompressed_size: files.uncompressed_size,
            file_count: files.file_count(),
        })
        .collect();
    Ok(Sbom {
        schema: SchemaInfo::default(),
        tool: ToolInfo { name: "portcullis".into(), version: env!("CARGO_PKG_VERSION").into() },
        source: SourceInfo {
            scheme: descriptor.scheme.as_str().into(),
            input: descriptor.input.clone(),
            scope: options.scope.as_str().into(),
            image: descriptor.image.clone(),
        },
        distro,
        layers,
        packages,
        files: Vec::new(),
        secrets: Vec::new(),
        content_matches: Vec::new(),
        retrieved_files: Vec::new(),
        dockerfile: None,
    })
}

/// One parsed copy of a package database file.
struct DatabaseCopy<T> {
    path: String,
    layer: usize,
    records: Vec<T>,
}

struct Catalog<'a> {
    tree: &'a FileTree,
    distro: Option<&'a Distro>,
    scope: Scope,
    diff_ids: &'a [Option<String>],
}

impl Catalog<'_> {
    fn location(&self, path: &str, layer: usize) -> Location {
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
    fn database<T, K: Ord + Clone>(
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
                    let present: std::collections::BTreeSet<K> = earlier.records.iter().map(&key).collect();
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
    fn matching_paths(&self, pattern: &str) -> Result<Vec<String>, AnalyzeError> {
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
    fn supporting_file(&self, path: &str) -> Option<(Arc<[u8]>, Location)> {
        let content = self.tree.read(path).ok().flatten().or_else(|| {
            // All-layers scope: a file deleted later still documents the package.
            (self.scope == Scope::AllLayers)
                .then(|| self.tree.layer_copies(path).into_iter().rev().find_map(|(layer, data)| Some((layer, data?))))
                .flatten()
                .map(|(layer, data)| portcullis_image::tree::FileContent { path: path.to_owned(), layer, data })
        })?;
        let location = self.location(&content.path, content.layer);
        Some((content.data, location))
    }

    fn dpkg(&self) -> Result<Vec<Package>, AnalyzeError> {
        let mut databases = vec![dpkg::STATUS_FILE.to_owned()];
        databases
            .extend(self.matching_paths(dpkg::STATUS_D_PATTERN)?.into_iter().filter(|p| dpkg::is_status_d_entry(p)));
        let mut packages = Vec::new();
        let key = |e: &dpkg::DpkgEntry| (e.name.clone(), e.version.clone(), e.architecture.clone());
        let mut seen = HashMap::new();
        let parse = |data: &[u8]| {
            dpkg::parse_status(data)
                .map(|entries| entries.into_iter().filter(|e| e.installed).collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        };
        for database in databases {
            for (entry, location, layer) in self.database(&database, parse, key)? {
                if seen.insert(key(&entry), ()).is_some() {
                    continue;
                }
                packages.push(self.dpkg_package(entry, location, layer));
            }
        }
        Ok(packages)
    }

    fn dpkg_package(&self, entry: dpkg::DpkgEntry, location: Location, layer: usize) -> Package {
        let mut locations = vec![location];
        let mut list = Vec::new();
        let mut md5sums = Vec::new();
        let stems = dpkg::info_file_stems(&entry.name, entry.architecture.as_deref());
        let [plain, with_arch] = &stems;
        // Distroless keeps md5sums beside the status files; classic images under info/.
        let candidates = [
            format!("/var/lib/dpkg/info/{with_arch}.md5sums"),
            format!("/var/lib/dpkg/info/{plain}.md5sums"),
            format!("/var/lib/dpkg/status.d/{plain}.md5sums"),
        ];
        if let Some((data, location)) = candidates.iter().find_map(|path| self.supporting_file(path)) {
            md5sums = dpkg::parse_md5sums(&data);
            locations.push(location);
        }
        let lists = [format!("/var/lib/dpkg/info/{with_arch}.list"), format!("/var/lib/dpkg/info/{plain}.list")];
        if let Some((data, location)) = lists.iter().find_map(|path| self.supporting_file(path)) {
            list = dpkg::parse_file_list(&data);
            locations.push(location);
        }
        let files = dpkg::owned_files(&entry, &list, &md5sums);
        let mut licenses = Vec::new();
        if let Some((data, location)) = self.supporting_file(&format!("/usr/share/doc/{}/copyright", entry.name)) {
            licenses = dpkg::copyright_licenses(&data);
            locations.push(location);
        }
        let mut package = dpkg::to_package(&entry, files, licenses, self.distro);
        package.locations = locations;
        package.introduced_in_layer = Some(layer);
        package
    }

    fn apk(&self) -> Result<Vec<Package>, AnalyzeError> {
        let parse = |data: &[u8]| apk::parse_installed(data).map_err(|e| e.to_string());
        let key = |e: &apk::ApkEntry| (e.name.clone(), e.version.clone(), e.arch.clone());
        Ok(self
            .database(apk::INSTALLED_DB, parse, key)?
            .into_iter()
            .map(|(entry, location, layer)| {
                let mut package = apk::to_package(&entry, self.distro);
                package.locations = vec![location];
                package.introduced_in_layer = Some(layer);
                package
            })
            .collect())
    }

    fn rpm(&self) -> Result<Vec<Package>, AnalyzeError> {
        let mut packages = Vec::new();
        let mut seen = HashMap::new();
        let key = |p: &rpm::RpmPackage| (p.name.clone(), p.epoch, p.version.clone(), p.release.clone(), p.arch.clone());
        let parse_db = |data: &[u8]| rpm::parse_database(data).map_err(|e| e.to_string());
        let parse_manifest = |data: &[u8]| rpm::parse_manifest(data).map_err(|e| e.to_string());
        let mut found = Vec::new();
        for path in rpm::DATABASE_PATHS {
            found.extend(self.database(path, parse_db, key)?);
        }
        if found.is_empty() {
            for path in rpm::MANIFEST_PATHS {
                found.extend(self.database(path, parse_manifest, key)?);
            }
        }
        for (record, location, layer) in found {
            if record.is_pseudo() || seen.insert(key(&record), ()).is_some() {
                continue;
            }
            let mut package = rpm::to_package(&record, self.distro);
            package.locations = vec![location];
            package.introduced_in_layer = Some(layer);
            packages.push(package);
        }
        Ok(packages)
    }
}
