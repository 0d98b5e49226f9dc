//! rpm header blobs as rpmdb stores them: no lead and no header magic, just
//! `il` (index entry count) and `dl` (data length) as big-endian `u32`s, then
//! `il` 16-byte index entries `(tag, type, offset, count)` and `dl` bytes of
//! data that the offsets point into.

use std::collections::HashMap;

use super::{RpmFile, RpmPackage};

pub const TAG_SIGMD5: u32 = 261;
pub const TAG_NAME: u32 = 1000;
pub const TAG_VERSION: u32 = 1001;
pub const TAG_RELEASE: u32 = 1002;
pub const TAG_EPOCH: u32 = 1003;
pub const TAG_BUILDTIME: u32 = 1006;
pub const TAG_INSTALLTIME: u32 = 1008;
pub const TAG_SIZE: u32 = 1009;
pub const TAG_VENDOR: u32 = 1011;
pub const TAG_LICENSE: u32 = 1014;
pub const TAG_ARCH: u32 = 1022;
pub const TAG_OLDFILENAMES: u32 = 1027;
pub const TAG_FILESIZES: u32 = 1028;
pub const TAG_FILEMODES: u32 = 1030;
pub const TAG_FILEDIGESTS: u32 = 1035;
pub const TAG_SOURCERPM: u32 = 1044;
pub const TAG_DIRINDEXES: u32 = 1116;
pub const TAG_BASENAMES: u32 = 1117;
pub const TAG_DIRNAMES: u32 = 1118;
pub const TAG_LONGFILESIZES: u32 = 5008;
pub const TAG_LONGSIZE: u32 = 5009;
pub const TAG_FILEDIGESTALGO: u32 = 5011;
pub const TAG_MODULARITYLABEL: u32 = 5096;

const TYPE_INT16: u32 = 3;
const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_BIN: u32 = 7;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own sanity limits (`hdrchkTags`, `hdrchkData` in header.c): anything
/// beyond them is not a header rpm would have written.
pub const MAX_ENTRIES: u32 = 0xffff;
pub const MAX_DATA_LEN: u32 = 0x0fff_ffff;

const ENTRY_LEN: usize = 16;
const PREAMBLE_LEN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("header blob is {len} bytes, shorter than the 8-byte preamble")]
    TooShort { len: usize },
    #[error("header declares {count} index entries (limit {MAX_ENTRIES})")]
    TooManyEntries { count: u32 },
    #[error("header declares {len} data bytes (limit {MAX_DATA_LEN})")]
    DataTooLarge { len: u32 },
    #[error("header blob is truncated: needs {needed} bytes, has {len}")]
    Truncated { needed: usize, len: usize },
    #[error("tag {tag}: offset {offset} is outside the {data_len}-byte data store")]
    OffsetOutOfRange { tag: u32, offset: i32, data_len: usize },
    #[error("tag {tag}: {count} values of type {ty} at offset {offset} overrun the {data_len}-byte data store")]
    ValueOutOfRange { tag: u32, ty: u32, offset: usize, count: u32, data_len: usize },
    #[error("tag {tag}: string is not NUL-terminated inside the data store")]
    UnterminatedString { tag: u32 },
    #[error("tag {tag}: unexpected type {found}")]
    UnexpectedType { tag: u32, found: u32 },
    #[error("required tag {tag} is missing or empty")]
    MissingTag { tag: u32 },
    #[error("tag {tag} has {found} values but the package has {expected} files")]
    FileCountMismatch { tag: u32, expected: usize, found: usize },
    #[error("file {file}: directory index {index} is out of range ({dirs} directories)")]
    DirIndexOutOfRange { file: usize, index: u32, dirs: usize },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    ty: u32,
    offset: usize,
    count: u32,
}

/// A parsed header: the index plus a borrowed view of the data store.
#[derive(Debug)]
pub struct Header<'a> {
    entries: HashMap<u32, Entry>,
    data: &'a [u8],
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl<'a> Header<'a> {
    pub fn parse(blob: &'a [u8]) -> Result<Self, HeaderError> {
        let (Some(il), Some(dl)) = (be_u32(blob, 0), be_u32(blob, 4)) else {
            return Err(HeaderError::TooShort { len: blob.len() });
        };
        if il > MAX_ENTRIES {
            return Err(HeaderError::TooManyEntries { count: il });
        }
        if dl > MAX_DATA_LEN {
            return Err(HeaderError::DataTooLarge { len: dl });
        }
        // Both limits keep this far from overflow, even on 32-bit targets.
        let index_len = il as usize * ENTRY_LEN;
        let needed = PREAMBLE_LEN + index_len + dl as usize;
        if blob.len() < needed {
            return Err(HeaderError::Truncated { needed, len: blob.len() });
        }
        let index = &blob[PREAMBLE_LEN..PREAMBLE_LEN + index_len];
        let data = &blob[PREAMBLE_LEN + index_len..needed];

        let mut entries = HashMap::with_capacity(il as usize);
        for raw in index.chunks_exact(ENTRY_LEN) {
            let field = |i: usize| u32::from_be_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
            let (tag, ty, offset, count) = (field(0), field(4), field(8) as i32, field(12));
            let offset_ok = usize::try_from(offset).ok().filter(|&o| o <= data.len());
            let Some(offset) = offset_ok else {
                return Err(HeaderError::OffsetOutOfRange { tag, offset, data_len: data.len() });
            };
            // A later entry for the same tag is a "dribble" entry that rpm
            // lets override the one inside the immutable region.
            entries.insert(tag, Entry { ty, offset, count });
        }
        Ok(Self { entries, data })
    }

    pub fn has(&self, tag: u32) -> bool {
        self.entries.contains_key(&tag)
    }

    fn extent(&self, tag: u32, entry: Entry, elem: usize) -> Result<&'a [u8], HeaderError> {
        let out_of_range = || HeaderError::ValueOutOfRange {
            tag,
            ty: entry.ty,
            offset: entry.offset,
            count: entry.count,
            data_len: self.data.len(),
        };
        let len = (entry.count as usize).checked_mul(elem).ok_or_else(out_of_range)?;
        let end = entry.offset.checked_add(len).ok_or_else(out_of_range)?;
        self.data.get(entry.offset..end).ok_or_else(out_of_range)
    }

    /// Reads `count` NUL-terminated strings starting at the entry's offset.
    fn strings_at(&self, tag: u32, entry: Entry, count: u32) -> Result<Vec<String>, HeaderError> {
        let mut rest = self.data.get(entry.offset..).ok_or(HeaderError::OffsetOutOfRange {
            tag,
            offset: entry.offset as i32,
            data_len: self.data.len(),
        })?;
        // Each string takes at least its terminator, so the data length bounds
        // the allocation whatever count claims.
        let mut out = Vec::with_capacity((count as usize).min(rest.len()));
        for _ in 0..count {
            let nul = rest.iter().position(|&b| b == 0).ok_or(HeaderError::UnterminatedString { tag })?;
            out.push(String::from_utf8_lossy(&rest[..nul]).into_owned());
            rest = &rest[nul + 1..];
        }
        Ok(out)
    }

    /// A single string: `STRING`, or the first (default-locale) value of an
    /// `I18NSTRING`.
    pub fn string(&self, tag: u32) -> Result<Option<String>, HeaderError> {
        let Some(&entry) = self.entries.get(&tag) else {
            return Ok(None);
        };
        match entry.ty {
            TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY if entry.count > 0 => {
                Ok(self.strings_at(tag, entry, 1)?.into_iter().next())
            }
            TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY => Ok(None),
            found => Err(HeaderError::UnexpectedType { tag, found }),
        }
    }

    pub fn string_array(&self, tag: u32) -> Result<Option<Vec<String>>, HeaderError> {
        let Some(&entry) = self.entries.get(&tag) else {
            return Ok(None);
        };
        match entry.ty {
            TYPE_STRING_ARRAY | TYPE_I18NSTRING => self.strings_at(tag, entry, entry.count).map(Some),
            TYPE_STRING => self.strings_at(tag, entry, 1).map(Some),
            found => Err(HeaderError::UnexpectedType { tag, found }),
        }
    }

    pub fn u16_array(&self, tag: u32) -> Result<Option<Vec<u16>>, HeaderError> {
        let Some(&entry) = self.entries.get(&tag) else {
            return Ok(None);
        };
        if entry.ty != TYPE_INT16 {
            return Err(HeaderError::UnexpectedType { tag, found: entry.ty });
        }
        let bytes = self.extent(tag, entry, 2)?;
        Ok(Some(bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect()))
    }

    pub fn u32_array(&self, tag: u32) -> Result<Option<Vec<u32>>, HeaderError> {
        let Some(&entry) = self.entries.get(&tag) else {
            return Ok(None);
        };
        if entry.ty != TYPE_INT32 {
            return Err(HeaderError::UnexpectedType { tag, found: entry.ty });
        }
        let bytes = self.extent(tag, entry, 4)?;
        Ok(Some(bytes.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect()))
    }

    /// `INT32` or `INT64` values widened to `u64` (rpm keeps sizes in either).
    pub fn u64_array(&self, tag: u32) -> Result<Option<Vec<u64>>, HeaderError> {
        let Some(&entry) = self.entries.get(&tag) else {
            return Ok(None);
        };
        match entry.ty {
            TYPE_INT32 => Ok(self.u32_array(tag)?.map(|v| v.into_iter().map(u64::from).collect())),
            TYPE_INT64 => {
                let bytes = self.extent(tag, entry, 8)?;
                let mut out = Vec::with_capacity(bytes.len() / 8);
                for c in bytes.chunks_exact(8) {
                    out.push(u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
                }
                Ok(Some(out))
            }
            found => Err(HeaderError::UnexpectedType { tag, found }),
        }
    }

    pub fn u32(&self, tag: u32) -> Result<Option<u32>, HeaderError> {
        Ok(self.u32_array(tag)?.and_then(|v| v.first().copied()))
    }

    pub fn u64(&self, tag: u32) -> Result<Option<u64>, HeaderError> {
        Ok(self.u64_array(tag)?.and_then(|v| v.first().copied()))
    }

    pub fn bin(&self, tag: u32) -> Result<Option<&'a [u8]>, HeaderError> {
        let Some(&entry) = self.entries.get(&tag) else {
            return Ok(None);
        };
        if entry.ty != TYPE_BIN {
            return Err(HeaderError::UnexpectedType { tag, found: entry.ty });
        }
        self.extent(tag, entry, 1).map(Some)
    }
}

/// Name of an rpm (OpenPGP) hash algorithm id as used in `FILEDIGESTALGO`.
pub fn digest_algorithm_name(id: u32) -> String {
    match id {
        1 => "md5".to_owned(),
        2 => "sha1".to_owned(),
        3 => "ripemd160".to_owned(),
        5 => "md2".to_owned(),
        6 => "tiger192".to_owned(),
        7 => "haval-5-160".to_owned(),
        8 => "sha256".to_owned(),
        9 => "sha384".to_owned(),
        10 => "sha512".to_owned(),
        11 => "sha224".to_owned(),
        other => format!("pgphashalgo{other}"),
    }
}

fn check_len<T>(values: &Option<Vec<T>>, tag: u32, expected: usize) -> Result<(), HeaderError> {
    match values {
        Some(v) if v.len() != expected => Err(HeaderError::FileCountMismatch { tag, expected, found: v.len() }),
        _ => Ok(()),
    }
}

fn file_list(h: &Header<'_>) -> Result<Vec<RpmFile>, HeaderError> {
    let paths = if let Some(basenames) = h.string_array(TAG_BASENAMES)? {
        let dirnames = h.string_array(TAG_DIRNAMES)?.unwrap_or_default();
        let dirindexes = h.u32_array(TAG_DIRINDEXES)?.unwrap_or_default();
        if dirindexes.len() != basenames.len() {
            return Err(HeaderError::FileCountMismatch {
                tag: TAG_DIRINDEXES,
                expected: basenames.len(),
                found: dirindexes.len(),
            });
        }
        let mut paths = Vec::with_capacity(basenames.len());
        for (file, (base, &index)) in basenames.iter().zip(&dirindexes).enumerate() {
            let dir = dirnames.get(index as usize).ok_or(HeaderError::DirIndexOutOfRange {
                file,
                index,
                dirs: dirnames.len(),
            })?;
            paths.push(format!("{dir}{base}"));
        }
        paths
    } else {
        h.string_array(TAG_OLDFILENAMES)?.unwrap_or_default()
    };
    let n = paths.len();
    if n == 0 {
        return Ok(Vec::new());
    }

    let digests = h.string_array(TAG_FILEDIGESTS)?;
    let sizes = match h.u64_array(TAG_LONGFILESIZES)? {
        Some(long) => Some(long),
        None => h.u64_array(TAG_FILESIZES)?,
    };
    let modes = h.u16_array(TAG_FILEMODES)?;
    check_len(&digests, TAG_FILEDIGESTS, n)?;
    check_len(&sizes, TAG_FILESIZES, n)?;
    check_len(&modes, TAG_FILEMODES, n)?;
    // rpm < 4.6 wrote no FILEDIGESTALGO and always used md5.
    let algo = digest_algorithm_name(h.u32(TAG_FILEDIGESTALGO)?.unwrap_or(1));

    Ok(paths
        .into_iter()
        .enumerate()
        .map(|(i, path)| RpmFile {
            path,
            digest: digests
                .as_ref()
                .and_then(|d| d.get(i))
                .filter(|hex| !hex.is_empty())
                .map(|hex| format!("{algo}:{hex}")),
            size: sizes.as_ref().and_then(|s| s.get(i).copied()),
            mode: modes.as_ref().and_then(|m| m.get(i).copied()),
        })
        .collect())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

fn required(h: &Header<'_>, tag: u32) -> Result<String, HeaderError> {
    h.string(tag)?.filter(|s| !s.is_empty()).ok_or(HeaderError::MissingTag { tag })
}

/// rpmbuild writes tags like VENDOR even when the spec leaves them empty;
/// an empty value says no more than an absent one.
fn optional(h: &Header<'_>, tag: u32) -> Result<Option<String>, HeaderError> {
    Ok(h.string(tag)?.filter(|s| !s.is_empty()))
}

/// Parses one header blob into a package.
pub fn parse_package(blob: &[u8]) -> Result<RpmPackage, HeaderError> {
    let h = Header::parse(blob)?;
    let size = match h.u64(TAG_SIZE)? {
        Some(size) => Some(size),
        None => h.u64(TAG_LONGSIZE)?,
    };
    Ok(RpmPackage {
        name: required(&h, TAG_NAME)?,
        epoch: h.u32(TAG_EPOCH)?,
        version: required(&h, TAG_VERSION)?,
        // rpm accepts an empty release; only a missing one is broken.
        release: h.string(TAG_RELEASE)?.ok_or(HeaderError::MissingTag { tag: TAG_RELEASE })?,
        arch: optional(&h, TAG_ARCH)?,
        source_rpm: optional(&h, TAG_SOURCERPM)?,
        size,
        license: optional(&h, TAG_LICENSE)?,
        vendor: optional(&h, TAG_VENDOR)?,
        modularity_label: optional(&h, TAG_MODULARITYLABEL)?,
        sigmd5: h.bin(TAG_SIGMD5)?.filter(|b| !b.is_empty()).map(hex),
        build_time: h.u64(TAG_BUILDTIME)?,
        install_time: h.u64(TAG_INSTALLTIME)?,
        files: file_list(&h)?,
    })
}
