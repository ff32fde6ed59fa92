//! Sealing card-storage tokens at rest: the database holds `utoken`s only encrypted
//! (XChaCha20-Poly1305 with a key from `DATA_KEY`), never in the clear.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Encrypts and decrypts tokens with one key.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([REDACTED])")
    }
}

impl Sealer {
    /// The key is SHA-256 of the secret text, so any length of random text works.
    pub fn new(secret: &str) -> Self {
        let key = Sha256::digest(secret.as_bytes());
        Self {
            cipher: XChaCha20Poly1305::new(&key),
        }
    }

    /// `v1.` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and nonce cannot fail.
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("v1.{}", STANDARD_NO_PAD.encode(bytes))
    }

    /// `None` when the text was sealed with another key or was tampered with.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD_NO_PAD.decode(sealed.strip_prefix("v1.")?).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, body) = bytes.split_at(24);
        let plain = self.cipher.decrypt(XNonce::from_slice(nonce), body).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_only_with_the_same_key() {
        let sealer = Sealer::new("a secret of the data key");
        let sealed = sealer.seal("UT3f9a0c1d2e");
        assert!(!sealed.contains("UT3f9a0c1d2e"));
        assert_ne!(
            sealed,
            sealer.seal("UT3f9a0c1d2e"),
            "a fresh nonce each time"
        );
        assert_eq!(sealer.open(&sealed).as_deref(), Some("UT3f9a0c1d2e"));
        assert_eq!(Sealer::new("another key").open(&sealed), None);
        assert_eq!(sealer.open("v1.AAAA"), None);
        assert_eq!(sealer.open("garbage"), None);
    }
}
