//! Content digests (`sha256:<hex>`) and a reader that verifies one at EOF.

use std::io::{self, Read};

use aws_lc_rs::digest::{Context, SHA256, SHA512};

use crate::error::{ImageError, Result};

/// A parsed, validated `algorithm:hex` digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Algorithm {
    Sha256,
    Sha512,
}

impl Digest {
    pub fn parse(text: &str) -> Result<Digest> {
        let invalid = || ImageError::InvalidDigest { digest: text.to_owned() };
        let (algorithm, hex) = text.split_once(':').ok_or_else(invalid)?;
        let (algorithm, len) = match algorithm {
            "sha256" => (Algorithm::Sha256, 64),
            "sha512" => (Algorithm::Sha512, 128),
            _ => return Err(invalid()),
        };
        if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(invalid());
        }
        Ok(Digest { algorithm, hex: hex.to_owned() })
    }

    /// The sha256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Digest {
        Digest { algorithm: Algorithm::Sha256, hex: hex::encode(aws_lc_rs::digest::digest(&SHA256, data)) }
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    pub fn algorithm(&self) -> &'static str {
        match self.algorithm {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Checks `data` against this digest.
    pub fn verify(&self, what: &str, data: &[u8]) -> Result<()> {
        let mut hasher = Hasher::new(self.algorithm);
        hasher.update(data);
        self.check(what, hasher.finish())
    }

    fn check(&self, what: &str, actual_hex: String) -> Result<()> {
        if actual_hex == self.hex {
            Ok(())
        } else {
            Err(ImageError::DigestMismatch {
                what: what.to_owned(),
                expected: self.to_string(),
                actual: format!("{}:{}", self.algorithm(), actual_hex),
            })
        }
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.algorithm(), self.hex)
    }
}

struct Hasher(Context);

impl Hasher {
    fn new(algorithm: Algorithm) -> Self {
        Hasher(Context::new(match algorithm {
            Algorithm::Sha256 => &SHA256,
            Algorithm::Sha512 => &SHA512,
        }))
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finish(self) -> String {
        hex::encode(self.0.finish())
    }
}

/// Passes bytes through while hashing them; at EOF it compares the digest and
/// turns a mismatch into an `io::Error` (kind `InvalidData`) carrying the
/// [`ImageError::DigestMismatch`], so no consumer can see a complete stream of
/// bytes that do not match their digest.
pub struct VerifyingReader<R> {
    inner: R,
    expected: Digest,
    what: String,
    hasher: Option<Hasher>,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest, what: impl Into<String>) -> Self {
        let hasher = Some(Hasher::new(expected.algorithm));
        VerifyingReader { inner, expected, what: what.into(), hasher }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            if let Some(hasher) = self.hasher.as_mut() {
                hasher.update(&buf[..n]);
            }
        } else if !buf.is_empty()
            && let Some(hasher) = self.hasher.take()
        {
            self.expected
                .check(&self.what, hasher.finish())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let d = Digest::sha256_of(b"abc");
        assert_eq!(d.to_string(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        for bad in [
            "sha256:abc",
            "md5:00",
            "sha256",
            "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        ] {
            assert!(matches!(Digest::parse(bad), Err(ImageError::InvalidDigest { .. })), "{bad}");
        }
    }

    #[test]
    fn verifying_reader_fails_at_eof_on_mismatch() {
        let expected = Digest::sha256_of(b"hello");
        let mut ok = VerifyingReader::new(&b"hello"[..], expected.clone(), "blob");
        let mut out = Vec::new();
        ok.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello");

        let mut bad = VerifyingReader::new(&b"hellO"[..], expected, "blob");
        let err = bad.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("digest mismatch for blob"), "{err}");
    }
}
