//! Container image intake for Portcullis.
//!
//! Reads images from a registry (distribution API v2, no daemon), an OCI
//! layout directory or archive, a `docker save` archive or a plain directory,
//! and turns their layers into a [`tree::FileTree`]: the squashed view of the
//! final filesystem in which every file knows the layer that last wrote it, plus
//! each layer's own view for "all layers" analyses.
//!
//! Layers are streamed, never extracted: only the file contents that a caller
//! asks for through a [`tree::ContentSelector`] are held in memory.

pub mod cache;
pub mod digest;
pub mod error;
pub mod limits;
pub mod source;
pub mod tree;

pub use error::{ImageError, Result};
pub use limits::Limits;
pub use source::{ImageDescriptor, ImageSource, LayerStream, PlatformChoice, SourceOptions};
