//! Zipped eggs (`*.egg` files, setuptools `easy_install`): a zip archive
//! whose `EGG-INFO/PKG-INFO` member is the distribution's core metadata.

use std::io::{Cursor, Read};

use super::{PythonError, PythonMetadata, parse_metadata, record::parse_top_level};

/// The member holding the metadata.
pub const EGG_PKG_INFO: &str = "EGG-INFO/PKG-INFO";
/// Import names, as in an `.egg-info` directory.
pub const EGG_TOP_LEVEL: &str = "EGG-INFO/top_level.txt";

/// Caps on what an egg may make this reader inflate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EggLimits {
    /// Largest uncompressed size accepted for a metadata member, declared
    /// or actual: the zip header's claim is checked before inflating, and
    /// inflation stops one byte past the limit in case it lied.
    pub max_member_size: u64,
}

impl Default for EggLimits {
    fn default() -> Self {
        Self { max_member_size: 64 << 20 }
    }
}

/// Reads the metadata of a zipped egg: `EGG-INFO/PKG-INFO`, plus
/// `EGG-INFO/top_level.txt` into [`PythonMetadata::top_level`] when present.
pub fn parse_egg(bytes: &[u8], limits: &EggLimits) -> Result<PythonMetadata, PythonError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| PythonError::Zip(e.to_string()))?;
    let pkg_info = read_member(&mut archive, EGG_PKG_INFO, limits)?.ok_or(PythonError::EggWithoutMetadata)?;
    let mut meta = parse_metadata(&pkg_info)?;
    // top_level.txt is optional evidence: a damaged one must not hide the package.
    if let Ok(Some(top_level)) = read_member(&mut archive, EGG_TOP_LEVEL, limits) {
        meta.top_level = parse_top_level(&top_level);
    }
    Ok(meta)
}

fn read_member(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limits: &EggLimits,
) -> Result<Option<Vec<u8>>, PythonError> {
    let member = match archive.by_name(name) {
        Ok(member) => member,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(PythonError::Zip(format!("{name}: {e}"))),
    };
    let declared = member.size();
    if declared > limits.max_member_size {
        return Err(PythonError::EggMemberTooLarge {
            member: name.to_owned(),
            size: declared,
            limit: limits.max_member_size,
        });
    }
    let mut out = Vec::new();
    member
        .take(limits.max_member_size.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| PythonError::Zip(format!("{name}: {e}")))?;
    if out.len() as u64 > limits.max_member_size {
        return Err(PythonError::EggMemberTooLarge {
            member: name.to_owned(),
            size: out.len() as u64,
            limit: limits.max_member_size,
        });
    }
    Ok(Some(out))
}
