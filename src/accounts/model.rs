//! Account rules without I/O.

use std::time::Duration;

use crate::kernel::auth::Role;
use crate::kernel::auth::password::Password;
use crate::orgs::model::OrgId;

/// A sign-in email: trimmed, lower-case, one `@` with text on both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an email address")]
pub struct BadEmail;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, BadEmail> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.contains('@')
            });
        if valid {
            Ok(Self(email))
        } else {
            Err(BadEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form: `+`, then 8 to 15 digits. Spaces, dashes, dots and
/// brackets are dropped; a 10-digit number is taken as a U.S. one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a phone number; write it with its country code, such as +1 555 123 4567")]
pub struct BadPhone;

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, BadPhone> {
        let trimmed = raw.trim();
        let plus = trimmed.starts_with('+');
        let mut digits = String::new();
        for c in trimmed.trim_start_matches('+').chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(BadPhone),
            }
        }
        let e164 = match (plus, digits.len()) {
            (false, 10) => format!("+1{digits}"),
            (true, 8..=15) => format!("+{digits}"),
            _ => return Err(BadPhone),
        };
        Ok(Self(e164))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Locked,
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Locked => "locked",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Locked, Self::Disabled]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// An account to create.
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub display_name: String,
    /// An on-call phone number, E.164 (`+15551234567`).
    pub phone: Option<Phone>,
    pub roles: Vec<Role>,
    pub organization: Option<OrgId>,
    pub password: Password,
}

/// After this many failed sign-ins in a row, each attempt waits longer.
pub const SLOW_DOWN_AFTER: i64 = 5;
/// After this many, the account locks until an administrator unlocks it.
pub const LOCK_AFTER: i64 = 20;

/// How long an account with `failures` failed sign-ins in a row must wait after the
/// last one: nothing for the first few, then 1 s, 2 s, 4 s … up to 15 minutes.
pub fn wait_after(failures: i64) -> Duration {
    if failures < SLOW_DOWN_AFTER {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(failures - SLOW_DOWN_AFTER)
        .unwrap_or(u32::MAX)
        .min(10);
    Duration::from_secs(1 << doublings).min(Duration::from_mins(15))
}

/// Session lifetimes.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
    /// How long a checked session is relied on before it is read again.
    pub recheck: Duration,
    pub secure_cookies: bool,
    /// Whether roles that read personal data must use a second factor (off only in
    /// `atip demo`, which says so on every page).
    pub require_mfa: bool,
}

impl SessionPolicy {
    /// `__Host-` cookies must be Secure; on plain-http localhost the prefix is dropped.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-atip_session"
        } else {
            "atip_session"
        }
    }
}

/// A staff account an administrator invites: the person sets its password.
#[derive(Debug)]
pub struct NewInvitation {
    pub email: Email,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub organization: Option<OrgId>,
}

/// What is wrong with an invitation form, by field.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvitationField {
    #[error("email: not an email address")]
    Email,
    #[error("display_name: give the person's name (at most 200 characters)")]
    DisplayName,
    #[error("role: choose at least one known role")]
    Role,
    #[error("organization: not an organization id")]
    Organization,
}

impl NewInvitation {
    /// `roles` are role identifiers; `organization` is empty for none.
    pub fn parse(
        email: &str,
        display_name: &str,
        roles: &[&str],
        organization: &str,
    ) -> Result<Self, InvitationField> {
        let email = Email::parse(email).map_err(|_| InvitationField::Email)?;
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 200 {
            return Err(InvitationField::DisplayName);
        }
        let roles = roles
            .iter()
            .map(|r| Role::parse(r).ok_or(InvitationField::Role))
            .collect::<Result<Vec<_>, _>>()?;
        if roles.is_empty() {
            return Err(InvitationField::Role);
        }
        let organization = match organization.trim() {
            "" => None,
            o => Some(o.parse().map_err(|_| InvitationField::Organization)?),
        };
        Ok(Self {
            email,
            display_name: display_name.to_owned(),
            roles,
            organization,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn an_invitation_form_names_the_first_field_that_is_wrong() {
        let org = OrgId::new().to_string();
        let ok = NewInvitation::parse(" A@B.org ", " Ana ", &["analyst"], "").unwrap();
        assert_eq!(
            (ok.email.as_str(), ok.display_name.as_str()),
            ("a@b.org", "Ana")
        );
        assert_eq!(ok.organization, None);
        let scoped = NewInvitation::parse("a@b.org", "Ana", &["provider-admin"], &org).unwrap();
        assert_eq!(scoped.organization.map(|o| o.to_string()), Some(org));
        let err = |e, n, r: &[&str], o| NewInvitation::parse(e, n, r, o).unwrap_err();
        assert_eq!(err("nope", "Ana", &["analyst"], ""), InvitationField::Email);
        assert_eq!(
            err("a@b.org", "  ", &["analyst"], ""),
            InvitationField::DisplayName
        );
        let long = "x".repeat(201);
        assert_eq!(
            err("a@b.org", &long, &["analyst"], ""),
            InvitationField::DisplayName
        );
        assert_eq!(err("a@b.org", "Ana", &[], ""), InvitationField::Role);
        assert_eq!(err("a@b.org", "Ana", &["root"], ""), InvitationField::Role);
        assert_eq!(
            err("a@b.org", "Ana", &["analyst"], "acme"),
            InvitationField::Organization
        );
    }

    proptest! {
        #[test]
        fn any_invitation_form_parses_or_names_a_field(
            email in ".{0,40}", name in ".{0,250}", role in ".{0,20}", org in ".{0,40}"
        ) {
            // Never panics; a success keeps only what the rules allow.
            if let Ok(new) = NewInvitation::parse(&email, &name, &[&role], &org) {
                prop_assert!(!new.display_name.is_empty() && new.display_name.chars().count() <= 200);
                prop_assert_eq!(new.roles.len(), 1);
            }
        }
    }

    #[test]
    fn emails_are_normalized() {
        assert_eq!(
            Email::parse("  Ana.Ruiz@Example.ORG ").unwrap().as_str(),
            "ana.ruiz@example.org"
        );
        for bad in [
            "",
            "ana",
            "@example.org",
            "ana@",
            "ana@example",
            "a b@example.org",
            "a@b@example.org",
        ] {
            assert_eq!(Email::parse(bad), Err(BadEmail), "{bad}");
        }
    }

    #[test]
    fn the_wait_grows_after_five_failures() {
        assert_eq!(wait_after(4), Duration::ZERO);
        assert_eq!(wait_after(5), Duration::from_secs(1));
        assert_eq!(wait_after(7), Duration::from_secs(4));
        assert_eq!(wait_after(100), Duration::from_mins(15));
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(
            Phone::parse("(555) 123-4567").unwrap().as_str(),
            "+15551234567"
        );
        assert_eq!(
            Phone::parse("+52 55 1234 5678").unwrap().as_str(),
            "+525512345678"
        );
        assert_eq!(Phone::parse("12345"), Err(BadPhone));
        assert_eq!(Phone::parse("555-CALL-NOW"), Err(BadPhone));
    }

    proptest! {
        #[test]
        fn parsed_phones_are_plus_and_digits(raw in "\\PC{0,30}") {
            if let Ok(phone) = Phone::parse(&raw) {
                prop_assert!(phone.as_str().starts_with('+'));
                prop_assert!(phone.as_str()[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert!((9..=16).contains(&phone.as_str().len()));
            }
        }

        #[test]
        fn parsed_emails_are_lower_case_and_trimmed(raw in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&raw) {
                prop_assert_eq!(email.as_str(), raw.trim().to_lowercase());
                prop_assert!(email.as_str().contains('@'));
            }
        }
    }
}
