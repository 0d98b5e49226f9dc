//! Secrets at rest (registry passwords): AES-256-GCM with a random nonce per
//! value, stored as `v1:<base64(nonce || ciphertext || tag)>`.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::ServiceError;

const PREFIX: &str = "v1:";

pub struct Cipher {
    key: LessSafeKey,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    /// The key from `hex` (64 hex digits), else from `key_file`, which is
    /// created with a fresh random key (mode 0600) when missing.
    pub fn load(hex_key: Option<&str>, key_file: &Path) -> Result<Self, ServiceError> {
        let text = match hex_key {
            Some(text) => text.trim().to_owned(),
            None => match std::fs::read_to_string(key_file) {
                Ok(text) => text.trim().to_owned(),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    let mut key = [0u8; 32];
                    SystemRandom::new()
                        .fill(&mut key)
                        .map_err(|_| ServiceError::Other("the system random generator failed".into()))?;
                    let text = hex::encode(key);
                    write_private(key_file, &text)?;
                    tracing::info!(path = %key_file.display(), "created the key that encrypts registry credentials");
                    text
                }
                Err(source) => {
                    return Err(ServiceError::Io { context: format!("reading {}", key_file.display()), source });
                }
            },
        };
        let bytes = hex::decode(&text)
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| ServiceError::Config("the secret key must be 64 hex digits (32 bytes)".into()))?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, ServiceError> {
        let key =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| ServiceError::Config("invalid secret key".into()))?;
        Ok(Self { key: LessSafeKey::new(key) })
    }

    pub fn encrypt(&self, plaintext: &str) -> Result<String, ServiceError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| ServiceError::Other("the system random generator failed".into()))?;
        let mut sealed = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut sealed)
            .map_err(|_| ServiceError::Other("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, ServiceError> {
        let undecryptable =
            || ServiceError::Other("a stored secret cannot be decrypted: was the service's secret key changed?".into());
        let bytes = stored.strip_prefix(PREFIX).and_then(|b| STANDARD.decode(b).ok()).ok_or_else(undecryptable)?;
        if bytes.len() < NONCE_LEN {
            return Err(undecryptable());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| undecryptable())?;
        let mut sealed = sealed.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::empty(), &mut sealed).map_err(|_| undecryptable())?;
        String::from_utf8(plain.to_vec()).map_err(|_| undecryptable())
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), ServiceError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| ServiceError::Io { context: format!("writing {}", path.display()), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces_and_wrong_key_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let cipher = Cipher::load(None, &path).unwrap();
        let a = cipher.encrypt("s3cret").unwrap();
        let b = cipher.encrypt("s3cret").unwrap();
        assert_ne!(a, b, "each value gets its own nonce");
        assert!(!a.contains("s3cret"));
        assert_eq!(cipher.decrypt(&a).unwrap(), "s3cret");
        // The key file is reused on the next start.
        assert_eq!(Cipher::load(None, &path).unwrap().decrypt(&b).unwrap(), "s3cret");
        let other = Cipher::load(Some(&"11".repeat(32)), &path).unwrap();
        assert!(other.decrypt(&a).unwrap_err().to_string().contains("cannot be decrypted"));
        assert!(Cipher::load(Some("abc"), &path).is_err());
    }
}
