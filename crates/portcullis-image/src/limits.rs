use serde::{Deserialize, Serialize};

/// Bounds that protect the reader from hostile or broken images.
///
/// Every limit is checked while streaming, before the offending data is held in
/// memory; exceeding one aborts the analysis with an [`crate::ImageError`] that
/// names the limit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Limits {
    /// Largest size a single tar entry may declare.
    pub max_file_size: u64,
    /// Largest uncompressed size of one layer.
    pub max_layer_size: u64,
    /// Largest ratio of uncompressed to stored bytes, checked once a layer has
    /// produced more than [`Limits::ratio_check_after`] bytes.
    pub max_compression_ratio: u64,
    /// Uncompressed bytes below which the compression ratio is not checked
    /// (small layers of zeros legitimately compress very well).
    pub ratio_check_after: u64,
    /// Largest number of entries in one layer.
    pub max_entries: u64,
    /// Longest entry path, in bytes.
    pub max_path_length: usize,
    /// Largest file content a cataloger may ask to hold in memory; larger
    /// files are indexed but their content is not captured.
    pub max_captured_file_size: u64,
    /// Largest manifest, index or config document accepted.
    pub max_document_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 32 << 30,
            max_layer_size: 64 << 30,
            max_compression_ratio: 250,
            ratio_check_after: 256 << 20,
            max_entries: 4_000_000,
            max_path_length: 4096,
            max_captured_file_size: 256 << 20,
            max_document_size: 8 << 20,
        }
    }
}
