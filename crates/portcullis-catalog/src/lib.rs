//! Catalogers: find what is installed in an image.
//!
//! Each ecosystem has its own module with one parser per file format; the
//! parsers are pure functions over bytes so they can be tested on the real
//! fixtures in `../shared/fixtures/`. [`analyze`] wires them to an image's
//! file tree and attributes every package to the layer that installed it.

pub mod binary;
pub mod content;
pub mod distro;
pub mod lang;
pub mod os;

mod analyze;
mod context;
mod inspect;
mod layer_cache;
mod relate;

pub use analyze::{AnalyzeError, AnalyzeOptions, Scope, analyze, analyze_with_cache, cataloger_files};
pub use inspect::InspectOptions;
