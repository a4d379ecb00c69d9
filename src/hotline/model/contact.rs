//! A hotline contact as the console or the API sends it, parsed into what is stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the contact reached the hotline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Phone,
    Sms,
    WebChat,
    Email,
    WebForm,
    Tty,
    WalkIn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// Who is calling, as the advocate understands it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CallerType {
    PotentialVictim,
    FamilyOrFriend,
    CommunityMember,
    ServiceProvider,
    LawEnforcement,
    Government,
    Business,
    EducatorOrStudent,
    Media,
    Other,
}

/// Why they called (one or more).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    Crisis,
    Tip,
    ReferralRequest,
    ResourceRequest,
    TechnicalAssistance,
    GeneralInformation,
    NotTraffickingRelated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    InformationGiven,
    ReferralMade,
    ReportMade,
    FollowUpPlanned,
    CallerDisconnected,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TraffickingType {
    Sex,
    Labor,
    Both,
    Unknown,
}

/// Codes as stored: the serde names, so the API and the database say the same word.
pub fn code<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A stored code back into its value.
pub fn from_code<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

/// A contact as sent; [`ContactForm::parse`] makes it a [`NewContact`].
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactForm {
    pub channel: Channel,
    pub direction: Direction,
    /// When the contact began (RFC 3339).
    pub started_at: String,
    /// When it ended (RFC 3339), if it has.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// The language spoken (ISO 639-1, e.g. `en`, `es`).
    pub language: String,
    /// Whether an interpreter was used.
    #[serde(default)]
    pub interpreter: bool,
    pub caller_type: CallerType,
    /// Approximately where the caller is: a city and a two-letter state.
    #[serde(default)]
    pub caller_city: Option<String>,
    #[serde(default)]
    pub caller_state: Option<String>,
    /// How they heard of the hotline (for campaign attribution).
    #[serde(default)]
    pub heard_from: Option<String>,
    pub reasons: Vec<Reason>,
    /// What happened, in the advocate's words (sealed).
    #[serde(default)]
    pub narrative: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    /// The number the caller called from or gave (sealed; a later contact from it is
    /// matched to this one).
    #[serde(default)]
    pub caller_phone: Option<String>,
    /// Whether it is safe to call back, and to leave a voicemail.
    #[serde(default)]
    pub safe_to_call: Option<bool>,
    #[serde(default)]
    pub voicemail_ok: Option<bool>,
    /// A word the caller uses to say they cannot talk (sealed).
    #[serde(default)]
    pub code_word: Option<String>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// The case this contact is about, if it is known already.
    #[serde(default)]
    pub case_id: Option<String>,
    /// Or: open a new case of this type for it.
    #[serde(default)]
    pub new_case: Option<TraffickingType>,
}

/// What a contact says, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct NewContact {
    pub channel: Channel,
    pub direction: Direction,
    pub started_at: jiff::Timestamp,
    pub ended_at: Option<jiff::Timestamp>,
    pub language: String,
    pub interpreter: bool,
    pub caller_type: CallerType,
    pub caller_city: Option<String>,
    pub caller_state: Option<String>,
    pub heard_from: Option<String>,
    pub reasons: Vec<Reason>,
    pub narrative: Option<String>,
    pub notes: Option<String>,
    pub caller_phone: Option<String>,
    pub safe_to_call: Option<bool>,
    pub voicemail_ok: Option<bool>,
    pub code_word: Option<String>,
    pub outcome: Option<Outcome>,
    pub case: CaseLink,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseLink {
    None,
    Existing(String),
    New(TraffickingType),
}

/// What is wrong with a form: field and reason.
pub type Refusals = BTreeMap<&'static str, &'static str>;

/// The longest narrative or note.
pub const TEXT_MAX: usize = 50_000;
const SHORT_MAX: usize = 200;

/// Trims; empty is none; too long is refused.
fn text(
    value: Option<&String>,
    field: &'static str,
    max: usize,
    refusals: &mut Refusals,
) -> Option<String> {
    let value = value.map(|v| v.trim()).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        refusals.insert(field, "is too long");
        return None;
    }
    Some(value.to_owned())
}

fn timestamp(value: &str, field: &'static str, refusals: &mut Refusals) -> Option<jiff::Timestamp> {
    let parsed = value.trim().parse::<jiff::Timestamp>().ok();
    if parsed.is_none() {
        refusals.insert(field, "is not a time such as 2026-11-29T03:12:00Z");
    }
    parsed
}

/// A phone number as compared: its digits, without a leading US country code; `None`
/// when there are too few or too many digits to be a number.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let digits = match digits.strip_prefix('1') {
        Some(rest) if digits.len() == 11 => rest.to_owned(),
        _ => digits,
    };
    (5..=15).contains(&digits.len()).then_some(digits)
}

/// A number as a text provider takes it (E.164): as given after a `+`, or a ten-digit
/// U.S. number with its country code; `None` for anything else, which cannot be texted.
pub fn e164(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if raw.trim_start().starts_with('+') {
        return (8..=15)
            .contains(&digits.len())
            .then(|| format!("+{digits}"));
    }
    normalize_phone(raw)
        .filter(|d| d.len() == 10)
        .map(|d| format!("+1{d}"))
}

impl ContactForm {
    /// The contact, or every field that is wrong.
    pub fn parse(&self) -> Result<NewContact, Refusals> {
        let mut refusals = Refusals::new();
        let started_at = timestamp(&self.started_at, "started_at", &mut refusals);
        let ended_at = self
            .ended_at
            .as_deref()
            .and_then(|e| timestamp(e, "ended_at", &mut refusals));
        if let (Some(start), Some(end)) = (started_at, ended_at)
            && end < start
        {
            refusals.insert("ended_at", "is before started_at");
        }
        let language = self.language.trim().to_ascii_lowercase();
        if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_lowercase()) {
            refusals.insert("language", "is not a language code such as en or es");
        }
        let caller_state = text(self.caller_state.as_ref(), "caller_state", 2, &mut refusals)
            .map(|s| s.to_ascii_uppercase());
        if caller_state
            .as_deref()
            .is_some_and(|s| crate::directory::search::load::state_named(s) != Some(s))
        {
            refusals.insert("caller_state", "is not a U.S. state or territory code");
        }
        let mut reasons = self.reasons.clone();
        reasons.sort();
        reasons.dedup();
        if reasons.is_empty() {
            refusals.insert("reasons", "give at least one");
        }
        let caller_phone = match self.caller_phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                if normalize_phone(raw).is_none() {
                    refusals.insert("caller_phone", "is not a phone number");
                }
                Some(raw.to_owned())
            }
        };
        let case = match (&self.case_id, self.new_case) {
            (Some(_), Some(_)) => {
                refusals.insert("new_case", "give case_id or new_case, not both");
                CaseLink::None
            }
            (Some(id), None) if uuid::Uuid::try_parse(id).is_err() => {
                refusals.insert("case_id", "is not a case id");
                CaseLink::None
            }
            (Some(id), None) => CaseLink::Existing(id.clone()),
            (None, Some(kind)) => CaseLink::New(kind),
            (None, None) => CaseLink::None,
        };
        let contact = NewContact {
            channel: self.channel,
            direction: self.direction,
            started_at: started_at.unwrap_or_default(),
            ended_at,
            language,
            interpreter: self.interpreter,
            caller_type: self.caller_type,
            caller_city: text(
                self.caller_city.as_ref(),
                "caller_city",
                SHORT_MAX,
                &mut refusals,
            ),
            caller_state,
            heard_from: text(
                self.heard_from.as_ref(),
                "heard_from",
                SHORT_MAX,
                &mut refusals,
            ),
            reasons,
            narrative: text(
                self.narrative.as_ref(),
                "narrative",
                TEXT_MAX,
                &mut refusals,
            ),
            notes: text(self.notes.as_ref(), "notes", TEXT_MAX, &mut refusals),
            caller_phone,
            safe_to_call: self.safe_to_call,
            voicemail_ok: self.voicemail_ok,
            code_word: text(
                self.code_word.as_ref(),
                "code_word",
                SHORT_MAX,
                &mut refusals,
            ),
            outcome: self.outcome,
            case,
        };
        if refusals.is_empty() {
            Ok(contact)
        } else {
            Err(refusals)
        }
    }
}

/// An idempotency key as sent in the `Idempotency-Key` header: 8 to 200 visible
/// ASCII characters (a UUID from the console).
pub fn idempotency_key(raw: Option<&str>) -> Option<String> {
    let key = raw?.trim();
    ((8..=200).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic()))
        .then(|| key.to_owned())
}

#[cfg(test)]
mod e164_tests {
    use super::e164;

    #[test]
    fn numbers_become_e164_or_nothing() {
        assert_eq!(e164("(559) 555-0177").as_deref(), Some("+15595550177"));
        assert_eq!(e164("1-559-555-0177").as_deref(), Some("+15595550177"));
        assert_eq!(e164("+52 55 1234 5678").as_deref(), Some("+525512345678"));
        assert_eq!(e164("555-0177"), None);
        assert_eq!(e164("call me"), None);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn form() -> ContactForm {
        serde_json::from_value(serde_json::json!({
            "channel": "phone",
            "direction": "inbound",
            "started_at": "2026-11-29T03:12:00Z",
            "language": "es",
            "caller_type": "potential-victim",
            "reasons": ["crisis", "referral-request", "crisis"],
            "caller_phone": "+1 (415) 555-0100",
            "new_case": "labor"
        }))
        .unwrap()
    }

    #[test]
    fn a_good_contact_parses_and_bad_fields_are_named() {
        let contact = form().parse().unwrap();
        assert_eq!(contact.reasons, [Reason::Crisis, Reason::ReferralRequest]);
        assert_eq!(contact.case, CaseLink::New(TraffickingType::Labor));
        let bad = ContactForm {
            started_at: "yesterday".into(),
            language: "spanish".into(),
            reasons: vec![],
            caller_phone: Some("12".into()),
            caller_state: Some("ZZ".into()),
            case_id: Some("nope".into()),
            new_case: None,
            ..form()
        };
        let refused = bad.parse().unwrap_err();
        for field in [
            "started_at",
            "language",
            "reasons",
            "caller_phone",
            "caller_state",
            "case_id",
        ] {
            assert!(refused.contains_key(field), "{field}: {refused:?}");
        }
        let backwards = ContactForm {
            ended_at: Some("2026-11-29T03:00:00Z".into()),
            ..form()
        };
        assert!(backwards.parse().unwrap_err().contains_key("ended_at"));
    }

    #[test]
    fn phone_numbers_compare_by_their_digits() {
        assert_eq!(
            normalize_phone("+1 (415) 555-0100").as_deref(),
            Some("4155550100")
        );
        assert_eq!(
            normalize_phone("415.555.0100").as_deref(),
            Some("4155550100")
        );
        assert_eq!(
            normalize_phone("+52 55 1234 5678").as_deref(),
            Some("525512345678")
        );
        assert_eq!(normalize_phone("911x"), None);
        assert_eq!(
            code(&Reason::NotTraffickingRelated),
            "not-trafficking-related"
        );
        assert_eq!(from_code::<Reason>("tip"), Some(Reason::Tip));
        assert_eq!(idempotency_key(Some("short")), None);
        assert!(idempotency_key(Some("4b1d0c3e-2f6a-4d57-9a55-0c1e5b8e9f10")).is_some());
    }

    proptest! {
        #[test]
        fn any_text_is_parsed_without_panicking(started in "\\PC{0,40}", phone in "\\PC{0,30}", state in "\\PC{0,4}", narrative in "\\PC{0,200}") {
            let f = ContactForm { started_at: started, caller_phone: Some(phone), caller_state: Some(state), narrative: Some(narrative), ..form() };
            let _ = f.parse();
        }

        #[test]
        fn a_normalized_number_normalizes_to_itself(raw in "[0-9 ()+.-]{0,24}") {
            if let Some(n) = normalize_phone(&raw) {
                prop_assert_eq!(normalize_phone(&n), Some(n.clone()));
            }
        }
    }
}
