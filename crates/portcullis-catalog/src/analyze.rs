//! From an image source to an SBOM: read the tree once, detect the distro, run
//! every cataloger, and attribute each package to the layer that installed it.

use portcullis_image::source::ImageSource;
use portcullis_image::tree::{ContentSelector, FileTree, Progress};
use portcullis_image::{ImageError, Limits};
use portcullis_sbom::{Layer, Sbom, SchemaInfo, SourceInfo, ToolInfo};

use crate::context::CatalogContext;
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
    let cx = CatalogContext { tree: &tree, distro: distro.as_ref(), scope: options.scope, diff_ids: &diff_ids };
    let mut packages = Vec::new();
    packages.extend(dpkg::catalog::catalog(&cx)?);
    packages.extend(apk::catalog::catalog(&cx)?);
    packages.extend(rpm::catalog::catalog(&cx)?);
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
