//! The database URL, a secret: it may carry a password, so it never prints whole.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Backend;

/// A `sqlite://PATH` or `postgres://…` URL. `Debug` and `Display` hide the password.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct DatabaseUrl(String);

#[derive(Debug, thiserror::Error)]
#[error(
    "the database URL must start with sqlite:// or postgres:// (or postgresql://); got one starting with {scheme:?}"
)]
pub struct UnsupportedScheme {
    scheme: String,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, UnsupportedScheme> {
        let raw = raw.trim();
        let scheme = raw.split_once(':').map_or(raw, |(s, _)| s);
        match scheme {
            "sqlite" | "postgres" | "postgresql" => Ok(Self(raw.to_owned())),
            other => Err(UnsupportedScheme {
                scheme: other.chars().take(16).collect(),
            }),
        }
    }

    /// A SQLite database file, created if missing.
    pub fn sqlite_file(path: &std::path::Path) -> Self {
        Self(format!("sqlite://{}?mode=rwc", path.display()))
    }

    pub fn backend(&self) -> Backend {
        if self.0.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// The full URL, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn redacted(&self) -> String {
        // scheme://user:password@host → scheme://user:***@host
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let Some((userinfo, host)) = rest.split_once('@') else {
            return self.0.clone();
        };
        match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => self.0.clone(),
        }
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = UnsupportedScheme;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DatabaseUrl> for String {
    fn from(value: DatabaseUrl) -> Self {
        value.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.redacted())
            .finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_prints() {
        let url = DatabaseUrl::parse("postgres://atip:s3cret-pw@db.internal:5432/atip").unwrap();
        assert!(!format!("{url}").contains("s3cret-pw"));
        assert!(!format!("{url:?}").contains("s3cret-pw"));
        assert_eq!(url.to_string(), "postgres://atip:***@db.internal:5432/atip");
        assert!(url.expose().contains("s3cret-pw"));
    }

    #[test]
    fn unknown_schemes_are_refused_by_name() {
        let err = DatabaseUrl::parse("mysql://root@localhost/x").unwrap_err();
        assert!(err.to_string().contains("\"mysql\""));
    }

    proptest::proptest! {
        #[test]
        fn no_password_survives_redaction(pw in "[A-Z0-9]{6,20}") {
            let url = DatabaseUrl::parse(&format!("postgres://u:{pw}@h/d")).unwrap();
            proptest::prop_assert!(!url.to_string().contains(&pw));
        }
    }
}
