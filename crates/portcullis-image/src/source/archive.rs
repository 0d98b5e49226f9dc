//! Random access to the members of an uncompressed tar file (`docker save`
//! archives and OCI archives), so that layers can be streamed straight out of
//! the archive, in parallel, without unpacking it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{ImageError, Result};

#[derive(Debug, Clone)]
enum Member {
    File { offset: u64, size: u64 },
    Link { target: String },
}

/// The member table of a tar file.
#[derive(Debug)]
pub struct TarIndex {
    path: PathBuf,
    members: HashMap<String, Member>,
}

impl TarIndex {
    pub fn open(path: &Path) -> Result<TarIndex> {
        let context = || format!("reading archive {}", path.display());
        let file = File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ImageError::NotFound { path: path.to_owned() },
            _ => ImageError::io(context(), e),
        })?;
        let mut magic = [0u8; 4];
        let mut probe = &file;
        let n = probe.read(&mut magic).map_err(|e| ImageError::io(context(), e))?;
        if n >= 2 && magic[..2] == [0x1f, 0x8b] || n == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
            return Err(ImageError::malformed(
                format!("archive {}", path.display()),
                "the archive itself is compressed; decompress it first (e.g. gunzip / zstd -d)",
            ));
        }
        let file = File::open(path).map_err(|e| ImageError::io(context(), e))?;
        let mut archive = tar::Archive::new(file);
        let mut members = HashMap::new();
        for entry in archive.entries().map_err(|e| ImageError::io(context(), e))? {
            let entry = entry.map_err(|e| ImageError::malformed(format!("archive {}", path.display()), e))?;
            let name = normalize(&entry.path().map_err(|e| ImageError::io(context(), e))?.to_string_lossy());
            let kind = entry.header().entry_type();
            let member = if kind.is_symlink() || kind.is_hard_link() {
                let target = entry.link_name().map_err(|e| ImageError::io(context(), e))?.unwrap_or_default();
                let target = target.to_string_lossy();
                let target = if kind.is_symlink() { join_relative(&name, &target) } else { normalize(&target) };
                Member::Link { target }
            } else if kind.is_file() {
                Member::File { offset: entry.raw_file_position(), size: entry.size() }
            } else {
                continue;
            };
            members.insert(name, member);
        }
        Ok(TarIndex { path: path.to_owned(), members })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn contains(&self, name: &str) -> bool {
        self.locate(name).is_some()
    }

    fn locate(&self, name: &str) -> Option<(u64, u64)> {
        let mut name = normalize(name);
        // A few hops at most: docker save links duplicate layers to one copy.
        for _ in 0..8 {
            match self.members.get(&name)? {
                Member::File { offset, size } => return Some((*offset, *size)),
                Member::Link { target } => name = target.clone(),
            }
        }
        None
    }

    /// Opens member `name` as a reader over its bytes.
    pub fn open_member(&self, name: &str) -> Result<(Box<dyn Read + Send>, u64)> {
        let (offset, size) = self.locate(name).ok_or_else(|| {
            ImageError::malformed(format!("archive {}", self.path.display()), format!("member {name:?} is missing"))
        })?;
        let context = || format!("reading {name} from {}", self.path.display());
        let mut file = File::open(&self.path).map_err(|e| ImageError::io(context(), e))?;
        file.seek(SeekFrom::Start(offset)).map_err(|e| ImageError::io(context(), e))?;
        Ok((Box::new(file.take(size)), size))
    }

    /// Reads a whole member of at most `limit` bytes.
    pub fn read_member(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let (mut reader, size) = self.open_member(name)?;
        if size > limit {
            return Err(ImageError::DocumentTooLarge { what: name.to_owned(), size, limit });
        }
        let mut out = Vec::with_capacity(size as usize);
        reader.read_to_end(&mut out).map_err(|e| ImageError::io(format!("reading {name}"), e))?;
        Ok(out)
    }
}

fn normalize(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn join_relative(from: &str, target: &str) -> String {
    if target.starts_with('/') {
        return normalize(target);
    }
    match from.rsplit_once('/') {
        Some((dir, _)) => normalize(&format!("{dir}/{target}")),
        None => normalize(target),
    }
}
