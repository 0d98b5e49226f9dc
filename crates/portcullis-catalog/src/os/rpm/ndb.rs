//! Reader of rpm's native "ndb" package store (`Packages.db`, used by SUSE).
//!
//! Layout (all little-endian): a 32-byte `RpmP` header, then `slotnpages`
//! 4 KiB pages of 16-byte slots `(magic "Slot", pkgidx, blkoff, blkcnt)`; each
//! used slot points at a blob of `blkcnt` 16-byte blocks starting at block
//! `blkoff`: a `BlbS` head `(magic, pkgidx, timestamp, bloblen)`, the header
//! blob, zero padding, and a `BlbE` tail `(adler32, bloblen, magic)` ending
//! the last block.

pub const MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_HEAD_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const BLOB_TAIL_MAGIC: u32 = u32::from_le_bytes(*b"BlbE");

const HEADER_LEN: usize = 32;
const SLOT_LEN: usize = 16;
const BLOCK_LEN: usize = 16;
const PAGE_LEN: usize = 4096;
const BLOB_HEAD_LEN: usize = 16;
const BLOB_TAIL_LEN: usize = 12;
/// go-rpmdb's sanity cap: 2048 slot pages is over half a million packages.
const MAX_SLOT_PAGES: u32 = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NdbError {
    #[error("file is {len} bytes, too short for an ndb header")]
    TooShort { len: usize },
    #[error("not an ndb package database (no RpmP magic)")]
    BadMagic,
    #[error("unsupported ndb version {version}")]
    BadVersion { version: u32 },
    #[error("ndb header declares {pages} slot pages (limit {MAX_SLOT_PAGES})")]
    TooManySlotPages { pages: u32 },
    #[error("ndb slot pages end at byte {needed}, past the end of the {len}-byte file")]
    SlotsTruncated { needed: usize, len: usize },
    #[error("slot {slot}: bad magic")]
    BadSlotMagic { slot: usize },
    #[error("slot {slot}: invalid entry (pkgidx {pkgidx}, blkoff {blkoff}, blkcnt {blkcnt})")]
    BadSlot { slot: usize, pkgidx: u32, blkoff: u32, blkcnt: u32 },
    #[error("package {pkgidx}: blob at block {blkoff} (+{blkcnt}) lies outside the {len}-byte file")]
    BlobOutOfRange { pkgidx: u32, blkoff: u32, blkcnt: u32, len: usize },
    #[error("package {pkgidx}: bad blob {which} magic")]
    BadBlobMagic { pkgidx: u32, which: &'static str },
    #[error("package {pkgidx}: blob belongs to package {found}")]
    BlobPackageMismatch { pkgidx: u32, found: u32 },
    #[error("package {pkgidx}: blob length {bloblen} does not match its {blkcnt} blocks")]
    BlobLengthMismatch { pkgidx: u32, bloblen: u32, blkcnt: u32 },
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    // Every caller has already checked that `at + 4` is in bounds.
    bytes.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Returns the header blobs of every used slot, in slot order.
pub fn read_blobs(bytes: &[u8]) -> Result<Vec<&[u8]>, NdbError> {
    if bytes.len() < HEADER_LEN {
        return Err(NdbError::TooShort { len: bytes.len() });
    }
    if &bytes[..4] != MAGIC {
        return Err(NdbError::BadMagic);
    }
    let version = le_u32(bytes, 4);
    if version != 0 {
        return Err(NdbError::BadVersion { version });
    }
    let slot_pages = le_u32(bytes, 12);
    if slot_pages > MAX_SLOT_PAGES {
        return Err(NdbError::TooManySlotPages { pages: slot_pages });
    }
    let slots_end = slot_pages as usize * PAGE_LEN;
    if slots_end > bytes.len() {
        return Err(NdbError::SlotsTruncated { needed: slots_end, len: bytes.len() });
    }
    // Blobs can only start after the slot pages.
    let min_blkoff = slots_end / BLOCK_LEN;

    let mut blobs = Vec::new();
    // With no slot pages there are no slots (rpm treats it as an empty database).
    let slots = bytes.get(HEADER_LEN..slots_end).unwrap_or_default();
    for (slot, raw) in slots.chunks_exact(SLOT_LEN).enumerate() {
        if le_u32(raw, 0) != SLOT_MAGIC {
            return Err(NdbError::BadSlotMagic { slot });
        }
        let (pkgidx, blkoff, blkcnt) = (le_u32(raw, 4), le_u32(raw, 8), le_u32(raw, 12));
        if blkoff == 0 {
            continue; // free slot
        }
        if pkgidx == 0 || blkcnt == 0 || (blkoff as usize) < min_blkoff {
            return Err(NdbError::BadSlot { slot, pkgidx, blkoff, blkcnt });
        }
        blobs.push(read_blob(bytes, pkgidx, blkoff, blkcnt)?);
    }
    Ok(blobs)
}

fn read_blob(bytes: &[u8], pkgidx: u32, blkoff: u32, blkcnt: u32) -> Result<&[u8], NdbError> {
    let out_of_range = NdbError::BlobOutOfRange { pkgidx, blkoff, blkcnt, len: bytes.len() };
    let start = (blkoff as usize).checked_mul(BLOCK_LEN).ok_or(out_of_range.clone())?;
    let len = (blkcnt as usize).checked_mul(BLOCK_LEN).ok_or(out_of_range.clone())?;
    let end = start.checked_add(len).ok_or(out_of_range.clone())?;
    let blob = bytes.get(start..end).ok_or(out_of_range)?;
    if blob.len() < BLOB_HEAD_LEN + BLOB_TAIL_LEN {
        return Err(NdbError::BlobLengthMismatch { pkgidx, bloblen: 0, blkcnt });
    }
    if le_u32(blob, 0) != BLOB_HEAD_MAGIC {
        return Err(NdbError::BadBlobMagic { pkgidx, which: "head" });
    }
    let found = le_u32(blob, 4);
    if found != pkgidx {
        return Err(NdbError::BlobPackageMismatch { pkgidx, found });
    }
    let bloblen = le_u32(blob, 12);
    let expected_blocks = (BLOB_HEAD_LEN + bloblen as usize + BLOB_TAIL_LEN).div_ceil(BLOCK_LEN);
    if expected_blocks != blkcnt as usize {
        return Err(NdbError::BlobLengthMismatch { pkgidx, bloblen, blkcnt });
    }
    let tail = blob.len() - BLOB_TAIL_LEN;
    if le_u32(blob, tail + 8) != BLOB_TAIL_MAGIC {
        return Err(NdbError::BadBlobMagic { pkgidx, which: "tail" });
    }
    if le_u32(blob, tail + 4) != bloblen {
        return Err(NdbError::BlobLengthMismatch { pkgidx, bloblen, blkcnt });
    }
    // rpm itself skips the adler32 check when reading a blob; so do we.
    Ok(&blob[BLOB_HEAD_LEN..BLOB_HEAD_LEN + bloblen as usize])
}
