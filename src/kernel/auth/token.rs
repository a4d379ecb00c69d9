//! Random secrets (session tokens, CSRF tokens) and their stored form.

use sha2::{Digest, Sha256};

/// 32 random bytes from the operating system, as hex.
pub fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the operating system gave no randomness: {e}"))?;
    Ok(hex::encode(bytes))
}

/// What the database keeps instead of a token: its SHA-256, as hex. Tokens are 256
/// random bits, so a fast hash is enough (no password-style stretching needed).
pub fn stored_form(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
