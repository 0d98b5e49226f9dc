//! Per-file facts for [`portcullis_sbom::FileRecord`]: the executable format
//! told from the first bytes, and digests computed while a file streams by.
//!
//! Both run on every regular file of an image, so neither allocates per
//! chunk. SHA-256 comes from AWS-LC (the TLS stack's crypto library), whose
//! assembly uses SHA-NI, AVX2 or ARMv8 crypto instructions as the CPU allows:
//! on CPUs without SHA extensions it is about twice as fast as portable code,
//! and it was 60% of an analysis's CPU time there. The opt-in SHA-1 and MD5
//! come from RustCrypto's `sha1`/`md-5`.

use aws_lc_rs::digest::{Context, SHA256};
use md5::Md5;
use sha1::{Digest, Sha1};

/// How many leading bytes [`executable_format`] wants to see: enough for a PE
/// header behind the usual DOS stubs (`e_lfanew` is typically 0x80–0x200).
pub const FORMAT_PROBE_LEN: usize = 4096;

/// `elf`, `pe` or `macho` when `head` (the start of a file; see
/// [`FORMAT_PROBE_LEN`]) is an executable image or object of that format.
///
/// A PE file must show its `PE\0\0` signature at `e_lfanew` within `head`, so
/// DOS programs and text starting with `MZ` are not PE. `0xCAFEBABE` is both
/// the Mach-O universal (fat) magic and the Java class-file magic; as in
/// `file(1)`, a small architecture count means fat Mach-O and anything from 45
/// up (the first class-file major version) means Java.
pub fn executable_format(head: &[u8]) -> Option<&'static str> {
    let magic: [u8; 4] = head.get(..4)?.try_into().ok()?;
    match magic {
        [0x7f, b'E', b'L', b'F'] => Some("elf"),
        // 32- and 64-bit, either byte order.
        [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] => Some("macho"),
        // Universal binaries are big-endian on disk; 0xCAFEBABF is the 64-bit
        // variant, which Java never uses.
        [0xca, 0xfe, 0xba, 0xbf] => Some("macho"),
        [0xca, 0xfe, 0xba, 0xbe] => {
            let count = u32::from_be_bytes(head.get(4..8)?.try_into().ok()?);
            (1..45).contains(&count).then_some("macho")
        }
        [b'M', b'Z', ..] => {
            let offset = u32::from_le_bytes(head.get(0x3c..0x40)?.try_into().ok()?) as usize;
            let signature = head.get(offset..offset.checked_add(4)?)?;
            (signature == b"PE\0\0").then_some("pe")
        }
        _ => None,
    }
}

/// Which digests besides SHA-256 to compute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DigestOptions {
    pub sha1: bool,
    pub md5: bool,
}

/// Digests of one file, `algorithm:hex` as [`portcullis_sbom::FileRecord`] and
/// package file lists write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    /// `sha256:<64 hex>`.
    pub sha256: String,
    /// `sha1:<40 hex>` when asked for.
    pub sha1: Option<String>,
    /// `md5:<32 hex>` when asked for.
    pub md5: Option<String>,
}

/// Streaming digests: feed the chunks of one file in order, then
/// [`FileDigester::finish`].
#[derive(Clone)]
pub struct FileDigester {
    sha256: Context,
    sha1: Option<Sha1>,
    md5: Option<Md5>,
    len: u64,
}

impl FileDigester {
    pub fn new(options: DigestOptions) -> Self {
        Self {
            sha256: Context::new(&SHA256),
            sha1: options.sha1.then(Sha1::new),
            md5: options.md5.then(Md5::new),
            len: 0,
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.sha256.update(chunk);
        if let Some(sha1) = &mut self.sha1 {
            sha1.update(chunk);
        }
        if let Some(md5) = &mut self.md5 {
            md5.update(chunk);
        }
        self.len += chunk.len() as u64;
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(self) -> FileDigests {
        FileDigests {
            sha256: prefixed("sha256", self.sha256.finish().as_ref()),
            sha1: self.sha1.map(|d| prefixed("sha1", &d.finalize())),
            md5: self.md5.map(|d| prefixed("md5", &d.finalize())),
        }
    }
}

/// One-shot digests of a whole buffer.
pub fn digest(bytes: &[u8], options: DigestOptions) -> FileDigests {
    let mut digester = FileDigester::new(options);
    digester.update(bytes);
    digester.finish()
}

fn prefixed(algorithm: &str, bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(algorithm.len() + 1 + bytes.len() * 2);
    out.push_str(algorithm);
    out.push(':');
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let all = DigestOptions { sha1: true, md5: true };
        let d = digest(b"abc", all);
        assert_eq!(d.sha256, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(d.sha1.as_deref(), Some("sha1:a9993e364706816aba3e25717850c26c9cd0d89d"));
        assert_eq!(d.md5.as_deref(), Some("md5:900150983cd24fb0d6963f7d28e17f72"));
        let empty = digest(b"", DigestOptions::default());
        assert_eq!(empty.sha256, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!((empty.sha1, empty.md5), (None, None));
    }

    #[test]
    fn chunking_does_not_change_the_digest() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let all = DigestOptions { sha1: true, md5: true };
        let whole = digest(&data, all);
        for size in [1, 63, 64, 65, 4096, 99_999] {
            let mut d = FileDigester::new(all);
            for chunk in data.chunks(size) {
                d.update(chunk);
            }
            assert_eq!(d.len(), data.len() as u64);
            assert_eq!(d.finish(), whole, "chunk size {size}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(executable_format(b"\x7fELF\x02\x01\x01"), Some("elf"));
        assert_eq!(executable_format(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]), Some("macho"));
        assert_eq!(executable_format(&[0xfe, 0xed, 0xfa, 0xce]), Some("macho"));
        assert_eq!(executable_format(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]), Some("macho"));
        // Java class file, major version 61.
        assert_eq!(executable_format(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 61]), None);
        let mut pe = vec![0u8; 0x100];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        assert_eq!(executable_format(&pe), Some("pe"));
        // A DOS program, a truncated head, a bogus offset, text.
        pe[0x80..0x84].copy_from_slice(b"NE\0\0");
        assert_eq!(executable_format(&pe), None);
        assert_eq!(executable_format(&pe[..0x50]), None);
        pe[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(executable_format(&pe), None);
        assert_eq!(executable_format(b"MZ is a text"), None);
        assert_eq!(executable_format(b"#!/bin/sh\n"), None);
        assert_eq!(executable_format(b"\x7fEL"), None);
        assert_eq!(executable_format(b""), None);
    }
}
