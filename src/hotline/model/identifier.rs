//! What identifies a person or place in a case, normalized so that the same phone,
//! email, name, address, website or plate written differently is recognized.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contact::normalize_phone;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Phone,
    Email,
    Name,
    Address,
    Website,
    Plate,
}

impl Kind {
    /// The blind index's kind. A phone shares the callers' numbers' kind, so a case's
    /// number is found when that number calls.
    pub fn index_kind(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "case-email",
            Self::Name => "case-name",
            Self::Address => "case-address",
            Self::Website => "case-website",
            Self::Plate => "case-plate",
        }
    }
}

/// Words, lowercased, without punctuation, one space apart.
fn words(raw: &str) -> String {
    raw.to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The value as compared, or `None` when it is not one of its kind.
pub fn normalize(kind: Kind, raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().count() > 500 {
        return None;
    }
    let normalized = match kind {
        Kind::Phone => normalize_phone(raw)?,
        Kind::Email => {
            let email = raw.to_lowercase();
            let (local, domain) = email.split_once('@')?;
            if local.is_empty() || !domain.contains('.') || email.contains(char::is_whitespace) {
                return None;
            }
            email
        }
        Kind::Name | Kind::Address => words(raw),
        Kind::Website => {
            let lower = raw.to_lowercase();
            let bare = lower
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_start_matches("www.")
                .trim_end_matches('/');
            if !bare.contains('.') || bare.contains(char::is_whitespace) {
                return None;
            }
            bare.to_owned()
        }
        Kind::Plate => raw
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_uppercase(),
    };
    (!normalized.is_empty()).then_some(normalized)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_same_identifier_written_differently_is_the_same() {
        let same = |kind, a, b| assert_eq!(normalize(kind, a), normalize(kind, b), "{a} / {b}");
        same(Kind::Phone, "(559) 555-0101", "+1 559 555 0101");
        same(Kind::Email, "Boss@Farm.example ", "boss@farm.example");
        same(Kind::Name, "José  Ramírez-Soto", "josé ramírez soto");
        same(Kind::Website, "https://www.ads.example/x/", "ads.example/x");
        same(Kind::Plate, "7abc 123", "7ABC-123");
        assert_eq!(normalize(Kind::Email, "not an email"), None);
        assert_eq!(normalize(Kind::Website, "nothing"), None);
        assert_eq!(normalize(Kind::Phone, "12"), None);
    }

    proptest! {
        #[test]
        fn normalizing_twice_changes_nothing(raw in "\\PC{0,60}") {
            for kind in [Kind::Name, Kind::Address, Kind::Plate, Kind::Website, Kind::Email] {
                if let Some(once) = normalize(kind, &raw) {
                    prop_assert_eq!(normalize(kind, &once), Some(once.clone()));
                }
            }
        }
    }
}
