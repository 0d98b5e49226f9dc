use std::path::PathBuf;

/// Everything that can go wrong while reading an image.
///
/// Variants name the offending input (path, digest, layer) so that the message
/// alone tells a user what to fix; none of them is raised for a well-formed image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot tell what kind of image source {input:?} is; prefix it with one of registry:, oci-dir:, oci-archive:, docker-archive:, dir:"
    )]
    UnknownSource { input: String },
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },
    #[error("invalid platform {platform:?}: expected os/arch or os/arch/variant, e.g. linux/arm64/v8")]
    InvalidPlatform { platform: String },
    #[error("{path}: not found")]
    NotFound { path: PathBuf },
    #[error("malformed {what}: {reason}")]
    Malformed { what: String, reason: String },
    #[error("unsupported media type {media_type:?} for {what}")]
    UnsupportedMediaType { what: String, media_type: String },
    #[error("no image for platform {wanted} in the index; it has: {available}")]
    PlatformNotFound { wanted: String, available: String },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: String, actual: String },
    #[error("invalid digest {digest:?}: expected sha256:<64 hex digits> or sha512:<128 hex digits>")]
    InvalidDigest { digest: String },
    #[error("layer {layer}: entry {path:?} escapes the image root (absolute or '..' path)")]
    PathTraversal { layer: usize, path: String },
    #[error("layer {layer}: hard link {path:?} points outside the image or to a missing entry: {target:?}")]
    LinkEscape { layer: usize, path: String, target: String },
    #[error("too many levels of symbolic links while resolving {path:?}")]
    SymlinkLoop { path: String },
    #[error("layer {layer}: entry {path:?} declares {size} bytes, above the limit of {limit} (limits.max_file_size)")]
    EntryTooLarge { layer: usize, path: String, size: u64, limit: u64 },
    #[error("layer {layer}: more than {limit} bytes once decompressed (limits.max_layer_size)")]
    LayerTooLarge { layer: usize, limit: u64 },
    #[error(
        "layer {layer}: decompresses to more than {ratio}x its stored size (limits.max_compression_ratio); refusing a likely decompression bomb"
    )]
    DecompressionBomb { layer: usize, ratio: u64 },
    #[error("layer {layer}: more than {limit} entries (limits.max_entries)")]
    TooManyEntries { layer: usize, limit: u64 },
    #[error("layer {layer}: entry path longer than {limit} bytes: {prefix:?}...")]
    PathTooLong { layer: usize, limit: usize, prefix: String },
    #[error("{what} is {size} bytes, above the limit of {limit}")]
    DocumentTooLarge { what: String, size: u64, limit: u64 },
    #[error("layer {layer}: not a valid tar stream: {reason}")]
    BadTar { layer: usize, reason: String },
    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },
    #[error("registry {registry}: authentication failed{}: {message}", for_repository(.repository))]
    Unauthorized { registry: String, repository: String, message: String },
    #[error("registry {registry} is unreachable: {message}")]
    Unreachable { registry: String, message: String },
    #[error("credentials: {0}")]
    Credentials(String),
}

impl ImageError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ImageError::Io { context: context.into(), source }
    }

    pub(crate) fn malformed(what: impl Into<String>, reason: impl ToString) -> Self {
        ImageError::Malformed { what: what.into(), reason: reason.to_string() }
    }
}

pub type Result<T, E = ImageError> = std::result::Result<T, E>;

/// " for REPO", or nothing for registry-wide requests (the `/v2/` login check).
fn for_repository(repository: &str) -> String {
    if repository.is_empty() { String::new() } else { format!(" for {repository}") }
}
