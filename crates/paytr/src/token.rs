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
    let digest = Sha256::digest(value.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
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
}
