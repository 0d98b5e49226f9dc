//! From an image source to an SBOM: read the tree once, detect the distro, run
//! every cataloger, and attribute each package to the layer that installed it.

use portcullis_image::cache::ResultCache;
use portcullis_image::source::ImageSource;
use portcullis_image::tree::{ContentSelector, Entry, EntryKind, FileTree, Progress};
use portcullis_image::{ImageError, Limits};
use portcullis_sbom::{ContentMatch, Dockerfile, FileRecord, Layer, Sbom, SchemaInfo, SourceInfo, ToolInfo};

use crate::binary::classifiers;
use crate::content::dockerfile;
use crate::content::retrieve::{DEFAULT_RETRIEVE_MAX, DEFAULT_RETRIEVE_PATHS, retrieve};
use crate::context::CatalogContext;
use crate::distro;
use crate::inspect::{FileFindings, InspectOptions, Inspector};
use crate::lang::{dotnet, java, javascript, php, python, ruby, rust};
use crate::layer_cache::LayerReuse;
use crate::os::{apk, dpkg, rpm};
use crate::relate;

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

/// Everything an analysis can be asked to do.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    pub scope: Scope,
    pub limits: Limits,
    /// The per-file pass: digests, secret and content search, binaries.
    pub inspect: InspectOptions,
    /// Files whose text is kept in the SBOM for policies (`/etc/passwd` by default).
    pub retrieve_files: Vec<String>,
    /// Bytes kept per retrieved file.
    pub retrieve_max: usize,
    /// A Dockerfile supplied by the user; otherwise one is rebuilt from the history.
    pub dockerfile: Option<Dockerfile>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            scope: Scope::default(),
            limits: Limits::default(),
            inspect: InspectOptions::default(),
            retrieve_files: DEFAULT_RETRIEVE_PATHS.iter().map(|p| (*p).to_owned()).collect(),
            retrieve_max: DEFAULT_RETRIEVE_MAX,
            dockerfile: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{path} (layer {layer}): {message}")]
    Database { path: String, layer: usize, message: String },
}

/// What each cataloger reads, as published in `docs/catalogers.md`: glob
/// patterns of files held in memory, or, for catalogers of self-contained
/// files that see every file as it streams by, the files they pick.
pub fn cataloger_files() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut classifier_globs: Vec<&str> =
        classifiers::classifiers().iter().flat_map(|c| c.file_globs.iter().copied()).collect();
    classifier_globs.sort_unstable();
    classifier_globs.dedup();
    vec![
        ("distro", distro::DISTRO_FILES.to_vec()),
        ("dpkg", dpkg::PATTERNS.to_vec()),
        ("apk", apk::PATTERNS.to_vec()),
        ("rpm", rpm::DATABASE_PATHS.iter().chain(rpm::MANIFEST_PATHS).copied().collect()),
        ("python", python::PATTERNS.to_vec()),
        ("npm", javascript::PATTERNS.to_vec()),
        ("ruby", ruby::PATTERNS.to_vec()),
        ("php-composer", php::PATTERNS.to_vec()),
        ("dotnet-deps", dotnet::PATTERNS.to_vec()),
        ("rust-cargo-lock", rust::PATTERNS.to_vec()),
        ("java (streamed)", java::PATTERNS.to_vec()),
        ("go-module-binary, rust-cargo-auditable (streamed)", vec!["every ELF, PE or Mach-O executable"]),
        ("binary-classifier (streamed, file names)", classifier_globs),
    ]
}

/// The glob patterns whose contents the tree must hold for the catalogers
/// (the streamed catalogers need none).
fn held_patterns() -> Vec<&'static str> {
    [
        distro::DISTRO_FILES,
        dpkg::PATTERNS,
        apk::PATTERNS,
        rpm::DATABASE_PATHS,
        rpm::MANIFEST_PATHS,
        python::PATTERNS,
        javascript::PATTERNS,
        ruby::PATTERNS,
        php::PATTERNS,
        dotnet::PATTERNS,
        rust::PATTERNS,
    ]
    .concat()
}

/// Analyses one image into an SBOM.
pub fn analyze(
    source: &dyn ImageSource,
    options: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Sbom, AnalyzeError> {
    analyze_with_cache(source, options, None, progress)
}

/// [`analyze`], taking the first pass over each layer (its files, captured
/// contents and per-file findings) from `cache` when it is there, without
/// opening the layer, and adding to `cache` the layers it reads. The SBOM is
/// the one [`analyze`] gives.
pub fn analyze_with_cache(
    source: &dyn ImageSource,
    options: &AnalyzeOptions,
    cache: Option<&dyn ResultCache>,
    progress: &dyn Progress,
) -> Result<Sbom, AnalyzeError> {
    // Retrieved files are named by path, not by pattern.
    let retrieve_patterns: Vec<String> = options.retrieve_files.iter().map(|p| globset::escape(p)).collect();
    let mut patterns: Vec<&str> = held_patterns();
    patterns.extend(retrieve_patterns.iter().map(String::as_str));
    let selector = ContentSelector::new(&patterns)?;
    let inspector = Inspector::new(&options.inspect);
    let descriptor = source.descriptor();
    let (tree, mut findings) = match cache {
        None => {
            let tree = FileTree::build_inspected(source, &selector, &inspector, &options.limits, progress)?;
            (tree, inspector.into_results())
        }
        Some(cache) => {
            let reuse = LayerReuse::new(cache, &patterns, &options.limits, &options.inspect);
            let reused = reuse.load(descriptor);
            let tree =
                FileTree::build_reusing(source, reused.layers, &selector, &inspector, &options.limits, progress)?;
            let mut findings = inspector.into_results();
            reuse.save(descriptor, &tree, &findings, &reused.indexes);
            findings.extend(reused.findings);
            (tree, findings)
        }
    };
    let read = |path: &str| tree.read(path).ok().flatten().map(|c| c.data.to_vec());
    let exists = |path: &str| tree.resolve(path).ok().flatten().is_some();
    let distro = distro::detect(&read, &exists);
    let diff_ids: Vec<Option<String>> = descriptor.layers.iter().map(|l| l.diff_id.clone()).collect();
    let cx = CatalogContext { tree: &tree, distro: distro.as_ref(), scope: options.scope, diff_ids: &diff_ids };

    let mut packages = Vec::new();
    packages.extend(dpkg::catalog::catalog(&cx)?);
    packages.extend(apk::catalog::catalog(&cx)?);
    packages.extend(rpm::catalog::catalog(&cx)?);
    packages.extend(python::catalog::catalog(&cx)?);
    packages.extend(javascript::catalog::catalog(&cx)?);
    packages.extend(cx.per_file(ruby::PATTERNS, |d| ruby::parse_gemspec(&d.data).map(|g| vec![ruby::to_package(&g)]))?);
    packages.extend(cx.per_file(php::PATTERNS, |d| {
        php::parse_installed_json(&d.data).map(|i| i.packages.iter().map(php::to_package).collect())
    })?);
    packages.extend(
        cx.per_file(dotnet::PATTERNS, |d| dotnet::parse_deps_json(&d.data).map(|j| dotnet::to_packages(&j, &d.path)))?,
    );
    packages.extend(cx.per_file(rust::PATTERNS, |d| rust::parse_cargo_lock(&d.data))?);

    let view = file_view(&tree, options.scope);
    let mut files = Vec::with_capacity(view.len());
    let mut secrets = Vec::new();
    let mut content_matches = Vec::new();
    for (path, entry, layer) in &view {
        // Taken, not borrowed: each finding is used once, and memory is freed as we go.
        let found = findings.remove(&(*layer, Box::from(*path)));
        let location = cx.location(path, *layer);
        files.push(file_record(path, entry, location.layer_index, found.as_ref()));
        let Some(found) = found else { continue };
        let matches = |list: Vec<(String, u64)>| {
            list.into_iter().map(|(rule, line)| ContentMatch {
                rule,
                path: (*path).to_owned(),
                line,
                layer_index: location.layer_index,
            })
        };
        secrets.extend(matches(found.secrets));
        content_matches.extend(matches(found.content_matches));
        for mut package in found.packages {
            package.locations = vec![location.clone()];
            package.introduced_in_layer = Some(*layer);
            packages.push(package);
        }
    }
    // Findings of files the view does not show (overwritten in a later layer).
    drop(findings);

    let canonical = |path: &str| canonical_path(&tree, path);
    let packages = relate::merge_duplicates(packages);
    let mut packages = relate::relate_to_os_packages(packages, &canonical);
    packages.sort_by(|a, b| (&a.name, &a.version, &a.id).cmp(&(&b.name, &b.version, &b.id)));
    relate::mark_file_owners(&mut files, &packages, &canonical);

    let retrieved_files = options
        .retrieve_files
        .iter()
        .filter_map(|path| {
            let content = tree.read(path).ok().flatten()?;
            let mut file = retrieve(path, &content.data, options.retrieve_max);
            file.layer_index = cx.location(path, content.layer).layer_index;
            Some(file)
        })
        .collect();
    let dockerfile = options
        .dockerfile
        .clone()
        .or_else(|| descriptor.image.as_ref().map(|image| dockerfile::guessed(&image.history, &image.config)));
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
        files,
        secrets,
        content_matches,
        retrieved_files,
        dockerfile,
    })
}

/// `path` with symlinks in its directories resolved (the file name itself is
/// kept: a symlink is a file of its own). Unresolvable paths stay as they are.
fn canonical_path(tree: &FileTree, path: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, name)) if !dir.is_empty() => match tree.resolve(dir) {
            Ok(Some(resolved)) if resolved == "/" => format!("/{name}"),
            Ok(Some(resolved)) => format!("{resolved}/{name}"),
            _ => path.to_owned(),
        },
        _ => path.to_owned(),
    }
}

/// The files the scope covers: the squashed view, or every layer's entries.
fn file_view(tree: &FileTree, scope: Scope) -> Vec<(&str, &Entry, usize)> {
    match scope {
        Scope::Squashed => tree.squashed().collect(),
        Scope::AllLayers => {
            let mut all: Vec<(&str, &Entry, usize)> = tree
                .layers()
                .iter()
                .flat_map(|layer| layer.entries().map(move |(path, entry)| (path, entry, layer.index)))
                .collect();
            // Layer indexes are hash maps: sort for reproducible output.
            all.sort_by(|a, b| (a.0, a.2).cmp(&(b.0, b.2)));
            all
        }
    }
}

fn file_record(path: &str, entry: &Entry, layer_index: Option<usize>, found: Option<&FileFindings>) -> FileRecord {
    let (kind, link_target) = match &entry.kind {
        EntryKind::File => ("file", None),
        EntryKind::Dir => ("dir", None),
        EntryKind::Symlink(target) => ("symlink", Some(target.to_string())),
        EntryKind::Hardlink(target) => ("hardlink", Some(target.to_string())),
        EntryKind::CharDevice => ("char-device", None),
        EntryKind::BlockDevice => ("block-device", None),
        EntryKind::Fifo => ("fifo", None),
    };
    FileRecord {
        path: path.to_owned(),
        kind: kind.to_owned(),
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        size: entry.size,
        link_target,
        sha256: found.and_then(|f| f.sha256.clone()),
        sha1: found.and_then(|f| f.sha1.clone()),
        md5: found.and_then(|f| f.md5.clone()),
        executable_format: found.and_then(|f| f.executable_format.clone()),
        layer_index,
        owners: Vec::new(),
    }
}
