//! `oci-archive:` sources: a tar of an OCI image layout, read in place.

use std::path::Path;
use std::sync::Arc;

use super::archive::TarIndex;
use super::oci_layout::{self, LayoutImage};
use super::{Scheme, SourceOptions};
use crate::error::Result;

pub fn open(path: &Path, options: &SourceOptions) -> Result<Vec<LayoutImage>> {
    let (file, tag) = oci_layout::split_tag(path);
    let index = TarIndex::open(&file)?;
    let input = path.display().to_string();
    oci_layout::open_store(Arc::new(index), tag.as_deref(), Scheme::OciArchive, &input, options)
}
