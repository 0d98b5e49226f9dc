//! Upstream vulnerability feeds: one parser per format in [`formats`], and the
//! [`sync`] that fills a store from directories, archives and URLs.

pub mod download;
pub mod formats;
pub mod sync;

pub use sync::{SourceOutcome, SourceSpec, SyncOptions, SyncProgress, SyncReport, default_sources, sync};
