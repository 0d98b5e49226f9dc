//! Read-only reader of the Berkeley DB **hash** files rpm 4 up to 4.16 used
//! for `/var/lib/rpm/Packages`.
//!
//! Rather than walking bucket chains, every page up to `last_pgno` is visited
//! once and the data items of hash pages are collected: deleted pages are
//! re-typed `P_INVALID` by Berkeley DB, so a linear scan sees exactly the live
//! items and cannot loop. Only overflow chains are followed, with a visited
//! set.

use std::collections::HashSet;

/// Magic numbers of the Berkeley DB access methods (meta page, offset 12).
pub const HASH_MAGIC: u32 = 0x0006_1561;
pub const BTREE_MAGIC: u32 = 0x0005_3162;
pub const QUEUE_MAGIC: u32 = 0x0004_2253;
pub const HEAP_MAGIC: u32 = 0x0007_4582;

const MAGIC_OFFSET: usize = 12;
const PAGE_HEADER_LEN: usize = 26;

const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;

const H_KEYDATA: u8 = 1;
const H_DUPLICATE: u8 = 2;
const H_OFFPAGE: u8 = 3;
const H_OFFDUP: u8 = 4;

const DBMETA_CHKSUM: u8 = 0x01;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BdbError {
    #[error("file is {len} bytes, too short for a Berkeley DB meta page")]
    TooShort { len: usize },
    #[error("not a Berkeley DB file (magic {magic:#010x})")]
    BadMagic { magic: u32 },
    #[error("Berkeley DB {kind} databases are not supported; rpm's Packages is a hash database")]
    UnsupportedType { kind: &'static str },
    #[error("Berkeley DB meta page has type {found}, expected the hash meta page type 8")]
    BadMetaPageType { found: u8 },
    #[error("encrypted Berkeley DB databases are not supported")]
    Encrypted,
    #[error("checksummed Berkeley DB databases are not supported")]
    Checksummed,
    #[error("invalid Berkeley DB page size {size}")]
    BadPageSize { size: u32 },
    #[error("page {pgno} lies beyond the end of the file ({pages} whole pages)")]
    PageOutOfRange { pgno: u32, pages: usize },
    #[error("page {pgno}: item {index} has offset {offset} outside the page")]
    BadItemOffset { pgno: u32, index: usize, offset: usize },
    #[error("page {pgno}: {entries} index entries do not fit in the page")]
    BadEntryCount { pgno: u32, entries: usize },
    #[error("page {pgno}: expected an overflow page, found type {found}")]
    NotOverflowPage { pgno: u32, found: u8 },
    #[error("overflow chain revisits page {pgno}")]
    PageLoop { pgno: u32 },
    #[error("overflow item declares {declared} bytes but its chain holds {found}")]
    OverflowLength { declared: u32, found: usize },
}

#[derive(Debug, Clone, Copy)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let b: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }

    fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }
}

fn kind_of_magic(magic: u32) -> Option<&'static str> {
    match magic {
        BTREE_MAGIC => Some("btree"),
        QUEUE_MAGIC => Some("queue"),
        HEAP_MAGIC => Some("heap"),
        HASH_MAGIC => Some("hash"),
        _ => None,
    }
}

/// Identifies a Berkeley DB file of any access method, in either byte order,
/// returning the access-method name.
pub fn detect(bytes: &[u8]) -> Option<&'static str> {
    let le = Endian::Little.u32(bytes, MAGIC_OFFSET)?;
    let be = Endian::Big.u32(bytes, MAGIC_OFFSET)?;
    kind_of_magic(le).or_else(|| kind_of_magic(be))
}

struct Db<'a> {
    bytes: &'a [u8],
    endian: Endian,
    page_size: usize,
}

impl<'a> Db<'a> {
    fn page(&self, pgno: u32) -> Result<&'a [u8], BdbError> {
        let pages = self.bytes.len() / self.page_size;
        let start = (pgno as usize).checked_mul(self.page_size);
        start
            .and_then(|s| self.bytes.get(s..s.checked_add(self.page_size)?))
            .ok_or(BdbError::PageOutOfRange { pgno, pages })
    }

    /// The byte range of hash-page item `index`: items grow down from the end
    /// of the page, so an item ends where the previous one starts.
    fn item(&self, pgno: u32, page: &'a [u8], index: usize) -> Result<&'a [u8], BdbError> {
        let slot = PAGE_HEADER_LEN + index * 2;
        let bad = |offset| BdbError::BadItemOffset { pgno, index, offset };
        let start = usize::from(self.endian.u16(page, slot).ok_or(bad(slot))?);
        let end = if index == 0 {
            self.page_size
        } else {
            usize::from(self.endian.u16(page, slot - 2).ok_or(bad(slot - 2))?)
        };
        let index_end = PAGE_HEADER_LEN + (index + 1) * 2;
        if start < index_end || start >= end || end > page.len() {
            return Err(bad(start));
        }
        Ok(&page[start..end])
    }

    fn overflow(&self, first: u32, declared: u32) -> Result<Vec<u8>, BdbError> {
        let total = declared as usize;
        // A chain cannot hold more bytes than the file, whatever tlen claims.
        let mut out = Vec::with_capacity(total.min(self.bytes.len()));
        let mut visited = HashSet::new();
        let mut pgno = first;
        while out.len() < total {
            if pgno == 0 {
                break;
            }
            if !visited.insert(pgno) {
                return Err(BdbError::PageLoop { pgno });
            }
            let page = self.page(pgno)?;
            if page[25] != P_OVERFLOW {
                return Err(BdbError::NotOverflowPage { pgno, found: page[25] });
            }
            // On overflow pages the hf_offset field holds the bytes used.
            let used = usize::from(self.endian.u16(page, 22).unwrap_or(0));
            let avail = page.len() - PAGE_HEADER_LEN;
            let take = used.min(avail).min(total - out.len());
            out.extend_from_slice(&page[PAGE_HEADER_LEN..PAGE_HEADER_LEN + take]);
            pgno = self.endian.u32(page, 16).unwrap_or(0);
        }
        if out.len() != total {
            return Err(BdbError::OverflowLength { declared, found: out.len() });
        }
        Ok(out)
    }

    /// The bytes of a key or data item, following it off-page if needed.
    /// `None` for duplicate sets, which rpm's Packages database never has.
    fn resolve(&self, pgno: u32, index: usize, item: &'a [u8]) -> Result<Option<Vec<u8>>, BdbError> {
        match item.first().copied() {
            Some(H_KEYDATA) => Ok(Some(item[1..].to_vec())),
            Some(H_OFFPAGE) => {
                let (Some(next), Some(tlen)) = (self.endian.u32(item, 4), self.endian.u32(item, 8)) else {
                    return Err(BdbError::BadItemOffset { pgno, index, offset: item.len() });
                };
                self.overflow(next, tlen).map(Some)
            }
            Some(H_DUPLICATE | H_OFFDUP) => {
                tracing::warn!(pgno, index, "skipping duplicate-set item in rpm Berkeley DB");
                Ok(None)
            }
            _ => Err(BdbError::BadItemOffset { pgno, index, offset: 0 }),
        }
    }
}

/// Returns every data item (header blob) stored in a Berkeley DB hash file,
/// in page order, except rpm's key-0 record (the last-used instance number).
pub fn read_values(bytes: &[u8]) -> Result<Vec<Vec<u8>>, BdbError> {
    if bytes.len() < 512 {
        return Err(BdbError::TooShort { len: bytes.len() });
    }
    let le = Endian::Little.u32(bytes, MAGIC_OFFSET).unwrap_or(0);
    let be = Endian::Big.u32(bytes, MAGIC_OFFSET).unwrap_or(0);
    let endian = if kind_of_magic(le).is_some() {
        Endian::Little
    } else if kind_of_magic(be).is_some() {
        Endian::Big
    } else {
        return Err(BdbError::BadMagic { magic: le });
    };
    let magic = endian.u32(bytes, MAGIC_OFFSET).unwrap_or(0);
    if magic != HASH_MAGIC {
        return Err(BdbError::UnsupportedType { kind: kind_of_magic(magic).unwrap_or("unknown") });
    }
    if bytes[25] != P_HASHMETA {
        return Err(BdbError::BadMetaPageType { found: bytes[25] });
    }
    if bytes[24] != 0 {
        return Err(BdbError::Encrypted);
    }
    if bytes[26] & DBMETA_CHKSUM != 0 {
        return Err(BdbError::Checksummed);
    }
    let page_size = endian.u32(bytes, 20).unwrap_or(0);
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(BdbError::BadPageSize { size: page_size });
    }
    let db = Db { bytes, endian, page_size: page_size as usize };
    let last_pgno = endian.u32(bytes, 32).unwrap_or(0);

    let mut values = Vec::new();
    for pgno in 1..=last_pgno {
        let page = db.page(pgno)?;
        if !matches!(page[25], P_HASH | P_HASH_UNSORTED) {
            continue;
        }
        let entries = usize::from(endian.u16(page, 20).unwrap_or(0));
        if PAGE_HEADER_LEN + entries * 2 > db.page_size {
            return Err(BdbError::BadEntryCount { pgno, entries });
        }
        for pair in (0..entries / 2).map(|i| i * 2) {
            let key = db.item(pgno, page, pair)?;
            let is_key_zero = key.len() == 5 && key[0] == H_KEYDATA && key[1..].iter().all(|&b| b == 0);
            if is_key_zero {
                continue;
            }
            let data = db.item(pgno, page, pair + 1)?;
            if let Some(value) = db.resolve(pgno, pair + 1, data)? {
                values.push(value);
            }
        }
    }
    Ok(values)
}
