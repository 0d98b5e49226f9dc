//! `registry:` sources: the OCI distribution API v2.

use super::{ImageDescriptor, ImageSource, LayerStream, SourceOptions};
use crate::error::{ImageError, Result};

pub struct RegistryImage {
    descriptor: ImageDescriptor,
}

pub fn open(reference: &str, _options: &SourceOptions) -> Result<Vec<RegistryImage>> {
    Err(ImageError::Registry { registry: reference.to_owned(), message: "not implemented yet".into() })
}

impl ImageSource for RegistryImage {
    fn descriptor(&self) -> &ImageDescriptor {
        &self.descriptor
    }

    fn open_layer(&self, index: usize) -> Result<LayerStream> {
        Err(ImageError::Registry { registry: index.to_string(), message: "not implemented yet".into() })
    }
}
