//! Image sources: where an image's manifest, config and layers come from.
//!
//! Each scheme has its own module. All of them produce an [`ImageSource`], whose
//! layers are opened as byte streams (compressed or not) that verify their
//! digest when read to the end; [`crate::tree`] does the rest the same way for
//! every source.

use std::io::Read;
use std::path::{Path, PathBuf};

use portcullis_sbom::ImageInfo;

use crate::error::{ImageError, Result};
use crate::limits::Limits;

mod archive;
pub mod dir;
pub mod docker_archive;
pub mod oci;
pub mod oci_archive;
pub mod oci_layout;
pub mod registry;

/// How the user addressed the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Registry,
    OciDir,
    OciArchive,
    DockerArchive,
    Dir,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Registry => "registry",
            Scheme::OciDir => "oci-dir",
            Scheme::OciArchive => "oci-archive",
            Scheme::DockerArchive => "docker-archive",
            Scheme::Dir => "dir",
        }
    }

    fn parse(scheme: &str) -> Option<Scheme> {
        Some(match scheme {
            "registry" | "docker" => Scheme::Registry,
            "oci-dir" | "oci" => Scheme::OciDir,
            "oci-archive" => Scheme::OciArchive,
            "docker-archive" => Scheme::DockerArchive,
            "dir" => Scheme::Dir,
            _ => return None,
        })
    }
}

/// A platform as written in OCI indexes: `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn parse(text: &str) -> Result<Platform> {
        let parts: Vec<&str> = text.split('/').collect();
        let invalid = || ImageError::InvalidPlatform { platform: text.to_owned() };
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => {
                Ok(Platform { os: os.to_string(), architecture: arch.to_string(), variant: None })
            }
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Platform { os: os.to_string(), architecture: arch.to_string(), variant: Some(variant.to_string()) })
            }
            _ => Err(invalid()),
        }
    }

    pub fn linux_amd64() -> Platform {
        Platform { os: "linux".into(), architecture: "amd64".into(), variant: None }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// Which entries of a manifest list / OCI index to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformChoice {
    One(Platform),
    All,
}

impl Default for PlatformChoice {
    fn default() -> Self {
        PlatformChoice::One(Platform::linux_amd64())
    }
}

/// Credentials given explicitly (flags or environment); they take precedence
/// over `~/.docker/config.json`.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Registries (`host[:port]`) to talk to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Explicit credentials, used for every registry.
    pub credentials: Option<Credentials>,
    /// Docker config file to read credentials from; defaults to
    /// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    pub platform: PlatformChoice,
    pub registry: RegistryOptions,
    pub limits: Limits,
}

/// One layer as described by the manifest (or the directory for `dir:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerDescriptor {
    /// Digest of the stored blob.
    pub digest: Option<String>,
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    pub size: Option<u64>,
}

/// Everything known about an image before its layers are read.
#[derive(Debug, Clone)]
pub struct ImageDescriptor {
    pub scheme: Scheme,
    /// The user's input without the scheme.
    pub input: String,
    /// `None` for `dir:` sources.
    pub image: Option<ImageInfo>,
    pub layers: Vec<LayerDescriptor>,
}

impl ImageDescriptor {
    /// Layer `index` as the manifest describes it.
    pub fn layer(&self, index: usize) -> Result<&LayerDescriptor> {
        self.layers.get(index).ok_or_else(|| ImageError::malformed("image", format!("no layer {index}")))
    }

    /// Layer `index` with its blob digest parsed.
    pub(crate) fn layer_blob(&self, index: usize) -> Result<(&LayerDescriptor, crate::digest::Digest)> {
        let layer = self.layer(index)?;
        let digest = crate::digest::Digest::parse(layer.digest.as_deref().unwrap_or_default())?;
        Ok((layer, digest))
    }
}

/// The bytes of one layer.
pub enum LayerStream {
    /// A tar stream, possibly gzip- or zstd-compressed (detected from its first
    /// bytes). The reader fails with an error when its digest does not match at EOF.
    Tar(Box<dyn Read + Send>),
    /// An unpacked root filesystem on disk.
    Directory(PathBuf),
}

/// An image whose layers can be (re)opened.
pub trait ImageSource: Send + Sync {
    fn descriptor(&self) -> &ImageDescriptor;
    /// Opens layer `index` (0 = base). Layers may be opened more than once and
    /// from several threads at the same time.
    fn open_layer(&self, index: usize) -> Result<LayerStream>;
}

/// Opens `input` (`scheme:rest`, or a bare path/reference to auto-detect) and
/// returns one source per selected platform.
pub fn open(input: &str, options: &SourceOptions) -> Result<Vec<Box<dyn ImageSource>>> {
    let (scheme, rest) = split_scheme(input)?;
    let rest = rest.to_owned();
    Ok(match scheme {
        Scheme::Registry => {
            registry::open(&rest, options)?.into_iter().map(|image| Box::new(image) as Box<dyn ImageSource>).collect()
        }
        Scheme::OciDir => oci_layout::open(Path::new(&rest), options)?
            .into_iter()
            .map(|image| Box::new(image) as Box<dyn ImageSource>)
            .collect(),
        Scheme::OciArchive => oci_archive::open(Path::new(&rest), options)?
            .into_iter()
            .map(|image| Box::new(image) as Box<dyn ImageSource>)
            .collect(),
        Scheme::DockerArchive => vec![Box::new(docker_archive::open(Path::new(&rest), options)?)],
        Scheme::Dir => vec![Box::new(dir::open(Path::new(&rest))?)],
    })
}

/// Splits `scheme:rest`, detecting the scheme when it is omitted.
///
/// Only the known scheme names count as schemes: `ubuntu:22.04` and
/// `localhost:5000/app` are image references, not schemes.
pub fn split_scheme(input: &str) -> Result<(Scheme, &str)> {
    if let Some((prefix, rest)) = input.split_once(':')
        && let Some(scheme) = Scheme::parse(prefix)
    {
        return Ok((scheme, rest));
    }
    Ok((detect(input)?, input))
}

/// Decides the scheme of an input given without one.
fn detect(input: &str) -> Result<Scheme> {
    let path = Path::new(input);
    if path.is_dir() {
        if path.join("oci-layout").is_file() {
            return Ok(Scheme::OciDir);
        }
        return Ok(Scheme::Dir);
    }
    if path.is_file() {
        return archive_kind(path);
    }
    if looks_like_reference(input) {
        return Ok(Scheme::Registry);
    }
    Err(ImageError::UnknownSource { input: input.to_owned() })
}

/// Tells an OCI archive from a `docker save` archive by their top-level files.
fn archive_kind(path: &Path) -> Result<Scheme> {
    let file = std::fs::File::open(path).map_err(|e| ImageError::io(format!("opening {}", path.display()), e))?;
    let mut archive = tar::Archive::new(file);
    let entries = archive.entries().map_err(|e| ImageError::io(format!("reading {}", path.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ImageError::io(format!("reading {}", path.display()), e))?;
        let name = entry.path().map(|p| p.to_string_lossy().trim_start_matches("./").to_owned()).unwrap_or_default();
        match name.as_str() {
            "oci-layout" | "index.json" => return Ok(Scheme::OciArchive),
            "manifest.json" | "repositories" => return Ok(Scheme::DockerArchive),
            _ => {}
        }
    }
    Err(ImageError::malformed(
        format!("archive {}", path.display()),
        "neither an OCI archive (no oci-layout/index.json) nor a docker archive (no manifest.json)",
    ))
}

fn looks_like_reference(input: &str) -> bool {
    !input.is_empty()
        && !input.starts_with('/')
        && !input.starts_with('.')
        && input.chars().all(|c| c.is_ascii_alphanumeric() || "._-/:@+".contains(c))
}
