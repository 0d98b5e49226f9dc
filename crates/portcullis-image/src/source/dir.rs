//! `dir:` sources: an unpacked root filesystem, read as a single layer.

use std::path::Path;

use super::{ImageDescriptor, ImageSource, LayerDescriptor, LayerStream, Scheme};
use crate::error::{ImageError, Result};

pub struct DirImage {
    root: std::path::PathBuf,
    descriptor: ImageDescriptor,
}

pub fn open(path: &Path) -> Result<DirImage> {
    if !path.is_dir() {
        return Err(ImageError::NotFound { path: path.to_owned() });
    }
    Ok(DirImage {
        root: path.to_owned(),
        descriptor: ImageDescriptor {
            scheme: Scheme::Dir,
            input: path.display().to_string(),
            image: None,
            layers: vec![LayerDescriptor::default()],
        },
    })
}

impl ImageSource for DirImage {
    fn descriptor(&self) -> &ImageDescriptor {
        &self.descriptor
    }

    fn open_layer(&self, _index: usize) -> Result<LayerStream> {
        Ok(LayerStream::Directory(self.root.clone()))
    }
}
