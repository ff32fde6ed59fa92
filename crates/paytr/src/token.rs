//! PayTR's card-storage tokens (`utoken`, `ctoken`): secrets that never reach a log.

use sha2::{Digest, Sha256};
use std::fmt;

/// A `utoken` or `ctoken`. `Debug` and [`Token::hint`] show only a short hash, so a token can
/// be correlated in logs without being printed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The full value, for the places that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first 8 hex digits of the token's SHA-256: enough to correlate, useless to replay.
    pub fn hint(&self) -> String {
        short_hash(&self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(#{})", self.hint())
    }
}

/// First 8 hex digits of SHA-256, for logging a secret's identity but not its value.
pub fn short_hash(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes())[..4])
}

/// Bytes as lowercase hex digits (one allocation; digests are hashed on every request).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_token() {
        let token = Token::new("UT3f9a0c1d2e");
        let shown = format!("{token:?}");
        assert!(!shown.contains("UT3f9a0c1d2e"), "{shown}");
        assert_eq!(token.hint().len(), 8);
        assert_eq!(token.expose(), "UT3f9a0c1d2e");
    }

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff, 0x5c]), "000fa0ff5c");
        assert_eq!(hex(&[]), "");
        // SHA-256("abc"), the FIPS 180-2 example.
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
