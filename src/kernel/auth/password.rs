//! Passwords: Argon2id hashes computed off the async runtime with bounded concurrency,
//! and the strength rule (12 characters or more, judged by zxcvbn; no composition rules).

use std::fmt;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

/// A password as typed. It cannot print.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(raw: String) -> Self {
        Self(raw)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must have at least 12 characters")]
    TooShort,
    #[error("the password is too easy to guess; a few unrelated words make a strong one")]
    Guessable,
}

/// A new password worth storing: long enough and hard to guess, also given the
/// account's own email and name (which an attacker would try first).
pub fn check_strength(password: &Password, context: &[&str]) -> Result<(), WeakPassword> {
    if password.0.chars().count() < 12 {
        return Err(WeakPassword::TooShort);
    }
    let score = zxcvbn::zxcvbn(&password.0, context).score();
    if (score as u8) < 3 {
        return Err(WeakPassword::Guessable);
    }
    Ok(())
}

/// At most this many hashes run at once: each takes ~19 MiB and a core for a while.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

/// A hash of a password nobody has, verified when the email is unknown so that an
/// unknown email takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_blocking("a password that no account has, only for timing").unwrap_or_default()
});

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())?
        .to_string())
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

pub async fn hash(password: &Password) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    let password = password.clone();
    let hashed = tokio::task::spawn_blocking(move || hash_blocking(&password.0)).await?;
    hashed.map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// Whether `password` matches `hash`; with no hash (unknown account) it spends the
/// same time and answers no.
pub async fn verify(password: &Password, hash: Option<&str>) -> anyhow::Result<bool> {
    let _permit = HASHING.acquire().await?;
    let password = password.clone();
    let (hash, real) = match hash {
        Some(h) => (h.to_owned(), true),
        None => (DUMMY_HASH.clone(), false),
    };
    let matched = tokio::task::spawn_blocking(move || verify_blocking(&password.0, &hash)).await?;
    Ok(real && matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_guessable_passwords_are_refused() {
        let weak = |s: &str| check_strength(&Password::new(s.to_owned()), &["ana@example.org"]);
        assert_eq!(weak("short"), Err(WeakPassword::TooShort));
        assert_eq!(weak("password1234"), Err(WeakPassword::Guessable));
        assert_eq!(weak("ana@example.org1"), Err(WeakPassword::Guessable));
        assert_eq!(weak("lantern orchard velvet canyon"), Ok(()));
    }

    #[test]
    fn passwords_never_print() {
        assert!(!format!("{:?}", Password::new("hunter2-hunter2".into())).contains("hunter2"));
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let password = Password::new("lantern orchard velvet canyon".into());
        let hashed = hash(&password).await.unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify(&password, Some(&hashed)).await.unwrap());
        assert!(
            !verify(&Password::new("other".into()), Some(&hashed))
                .await
                .unwrap()
        );
        assert!(!verify(&password, None).await.unwrap());
    }
}
