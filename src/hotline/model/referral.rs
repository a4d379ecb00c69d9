//! A referral made from a contact: to which directory service, how, and what came of it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Urgency {
    Urgent,
    NonUrgent,
}

/// Information given to the caller, or a warm transfer (the advocate first speaks with
/// the partner, who says whether it can take the person).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Information,
    WarmTransfer,
}

/// The partner's answer on a warm transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Capacity {
    Accepted,
    NoCapacity,
    NoAnswer,
}

/// What came of a referral, learned at follow-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReferralOutcome {
    Reached,
    Served,
    Declined,
    Unreachable,
}

/// A referral as sent.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralForm {
    /// The directory service referred to (its HSDS id).
    pub service_id: String,
    pub urgency: Urgency,
    pub kind: Kind,
    /// Required for a warm transfer.
    #[serde(default)]
    pub partner_capacity: Option<Capacity>,
    /// When to ask the caller or the partner how it went (a date, YYYY-MM-DD).
    #[serde(default)]
    pub follow_up_due: Option<String>,
    /// What was said (sealed).
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewReferral {
    pub service_id: String,
    pub urgency: Urgency,
    pub kind: Kind,
    pub partner_capacity: Option<Capacity>,
    pub follow_up_due: Option<jiff::civil::Date>,
    pub notes: Option<String>,
}

impl ReferralForm {
    /// The referral, or the field that is wrong and why.
    pub fn parse(&self) -> Result<NewReferral, (&'static str, &'static str)> {
        let service_id = self.service_id.trim();
        if service_id.is_empty() || service_id.len() > 100 {
            return Err(("service_id", "name a directory service"));
        }
        if self.kind == Kind::WarmTransfer && self.partner_capacity.is_none() {
            return Err((
                "partner_capacity",
                "record the partner's answer on a warm transfer",
            ));
        }
        if self.kind == Kind::Information && self.partner_capacity.is_some() {
            return Err(("partner_capacity", "only a warm transfer has one"));
        }
        let follow_up_due = match self.follow_up_due.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                raw.parse::<jiff::civil::Date>()
                    .map_err(|_| ("follow_up_due", "is not a date such as 2026-12-01"))?,
            ),
        };
        let notes = self
            .notes
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if notes.is_some_and(|n| n.chars().count() > 5_000) {
            return Err(("notes", "is too long"));
        }
        Ok(NewReferral {
            service_id: service_id.to_owned(),
            urgency: self.urgency,
            kind: self.kind,
            partner_capacity: self.partner_capacity,
            follow_up_due,
            notes: notes.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: Kind, capacity: Option<Capacity>) -> ReferralForm {
        ReferralForm {
            service_id: "22222222-aaaa-4222-8222-222222222222".into(),
            urgency: Urgency::Urgent,
            kind,
            partner_capacity: capacity,
            follow_up_due: Some("2026-12-01".into()),
            notes: None,
        }
    }

    #[test]
    fn a_warm_transfer_records_the_partners_answer() {
        assert!(
            form(Kind::WarmTransfer, Some(Capacity::Accepted))
                .parse()
                .is_ok()
        );
        assert_eq!(
            form(Kind::WarmTransfer, None).parse().unwrap_err().0,
            "partner_capacity"
        );
        assert_eq!(
            form(Kind::Information, Some(Capacity::NoAnswer))
                .parse()
                .unwrap_err()
                .0,
            "partner_capacity"
        );
        let late = ReferralForm {
            follow_up_due: Some("next week".into()),
            ..form(Kind::Information, None)
        };
        assert_eq!(late.parse().unwrap_err().0, "follow_up_due");
    }
}
