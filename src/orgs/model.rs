//! Organization types and rules, without I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::typed_id!(
    /// An organization taking part in the program.
    OrgId
);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// One of the program's national grantees running a network of sub-awardees.
    NationalGrantee,
    /// An NGO paid per victim served under a national grantee.
    SubAwardee,
    LawEnforcement,
    /// A Rescue & Restore coalition.
    Coalition,
    /// A federal office such as the one that issues certification letters.
    FederalAgency,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [
        Self::NationalGrantee,
        Self::SubAwardee,
        Self::LawEnforcement,
        Self::Coalition,
        Self::FederalAgency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NationalGrantee => "national_grantee",
            Self::SubAwardee => "sub_awardee",
            Self::LawEnforcement => "law_enforcement",
            Self::Coalition => "coalition",
            Self::FederalAgency => "federal_agency",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A name as people read it: trimmed, 1 to 200 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgName(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrgRuleError {
    #[error("the name must have 1 to 200 characters and no control characters")]
    Name,
    #[error("the state must be a two-letter U.S. state or territory code such as TX")]
    State,
    #[error("a sub-awardee must name the national grantee it belongs to")]
    MissingParent,
}

impl OrgName {
    pub fn parse(raw: &str) -> Result<Self, OrgRuleError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(OrgRuleError::Name);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The postal codes of the 50 states, DC and the territories.
const STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC", "PR", "GU", "VI", "AS", "MP",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateCode(&'static str);

impl StateCode {
    pub fn parse(raw: &str) -> Result<Self, OrgRuleError> {
        let upper = raw.trim().to_ascii_uppercase();
        STATES
            .iter()
            .find(|s| **s == upper)
            .map(|s| Self(s))
            .ok_or(OrgRuleError::State)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// A new organization, already checked.
#[derive(Clone, Debug)]
pub struct NewOrganization {
    pub name: OrgName,
    pub kind: OrgKind,
    pub parent: Option<OrgId>,
    pub city: String,
    pub state: StateCode,
    pub latitude: f64,
    pub longitude: f64,
}

impl NewOrganization {
    /// An organization in a gazetteer place, which gives its city and coordinates.
    pub fn at(
        name: OrgName,
        kind: OrgKind,
        parent: Option<OrgId>,
        state: StateCode,
        place: &crate::kernel::places::Place,
    ) -> Self {
        Self {
            name,
            kind,
            parent,
            city: place.name.clone(),
            state,
            latitude: place.latitude,
            longitude: place.longitude,
        }
    }

    pub fn check(&self) -> Result<(), OrgRuleError> {
        if self.kind == OrgKind::SubAwardee && self.parent.is_none() {
            return Err(OrgRuleError::MissingParent);
        }
        Ok(())
    }
}

/// An organization as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    /// The national grantee a sub-awardee belongs to.
    pub parent_id: Option<OrgId>,
    pub city: String,
    /// Two-letter state code.
    pub state: String,
    pub latitude: f64,
    pub longitude: f64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn state_codes_are_checked() {
        assert_eq!(StateCode::parse("tx").unwrap().as_str(), "TX");
        assert_eq!(StateCode::parse("XX"), Err(OrgRuleError::State));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in OrgKind::ALL {
            assert_eq!(OrgKind::parse(kind.as_str()), Some(kind));
        }
    }

    proptest! {
        #[test]
        fn accepted_names_are_trimmed_and_bounded(raw in "\\PC{0,250}") {
            if let Ok(name) = OrgName::parse(&raw) {
                prop_assert_eq!(name.as_str(), raw.trim());
                prop_assert!(!name.as_str().is_empty());
                prop_assert!(name.as_str().chars().count() <= 200);
            }
        }

        #[test]
        fn control_characters_are_refused(prefix in "[a-z]{1,5}", c in proptest::char::range('\u{0}', '\u{1f}')) {
            let raw = format!("{prefix}{c}{prefix}");
            prop_assert!(OrgName::parse(&raw).is_err());
        }
    }
}
