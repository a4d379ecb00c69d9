//! Whether a report to law enforcement or child welfare may identify the person it is
//! about. The hotline acts without a person's consent only for a minor or someone in
//! imminent danger, and the exact rule may change by statute or differ by state, so the
//! rule set is data (data/hotline/reporting-rules.toml).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::screening::SuggestedType;
use crate::orgs::model::StateCode;

const SHIPPED_RULES: &str = include_str!("../../../data/hotline/reporting-rules.toml");

static SHIPPED: LazyLock<ReportingRules> = LazyLock::new(|| {
    // The file is part of the binary and a unit test loads it.
    #[allow(clippy::expect_used)]
    ReportingRules::load(SHIPPED_RULES).expect("data/hotline/reporting-rules.toml is valid")
});

/// The rules atip ships.
pub fn shipped() -> &'static ReportingRules {
    &SHIPPED
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Adult,
    Minor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agency {
    LawEnforcement,
    ChildWelfare,
}

/// Why an advocate reports without the person's consent, kept with the report: 10 to
/// 1,000 characters, so that "n/a" cannot pass for a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideReason(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("override_reason: explain in 10 to 1,000 characters why the report goes without consent")]
pub struct BadOverrideReason;

impl OverrideReason {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(raw: &str) -> Result<Self, BadOverrideReason> {
        let reason = raw.trim();
        let chars = reason.chars().count();
        let controls = reason
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) && !controls {
            Ok(Self(reason.to_owned()))
        } else {
            Err(BadOverrideReason)
        }
    }

    /// A blank field means no reason was given.
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, BadOverrideReason> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(raw).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One state's rule (or the default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSet {
    /// Whether imminent danger lets an adult's identifying information go without
    /// consent (with an override reason); where false, never without consent.
    pub danger_overrides_adult_consent: bool,
    /// Agencies to notify of every potential case with a minor.
    pub minor_notify: Vec<Agency>,
    /// Agencies to notify when someone is in imminent danger.
    pub danger_notify: Vec<Agency>,
}

/// The default rule set and the states that differ from it.
#[derive(Clone, Debug)]
pub struct ReportingRules {
    default: RuleSet,
    states: Vec<(StateCode, RuleSet)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportingRulesError {
    #[error("not a reporting rules file: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("states.{0}: not a U.S. state or territory code")]
    State(String),
    #[error("states.{0}: listed twice")]
    Repeated(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    default: RawRuleSet,
    #[serde(default)]
    states: BTreeMap<String, RawOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleSet {
    danger_overrides_adult_consent: bool,
    minor_notify: Vec<Agency>,
    danger_notify: Vec<Agency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    danger_overrides_adult_consent: Option<bool>,
    minor_notify: Option<Vec<Agency>>,
    danger_notify: Option<Vec<Agency>>,
}

fn agencies(mut list: Vec<Agency>) -> Vec<Agency> {
    list.sort_unstable();
    list.dedup();
    list
}

impl ReportingRules {
    pub fn load(toml_text: &str) -> Result<Self, ReportingRulesError> {
        let raw: RawRules = toml::from_str(toml_text)?;
        let default = RuleSet {
            danger_overrides_adult_consent: raw.default.danger_overrides_adult_consent,
            minor_notify: agencies(raw.default.minor_notify),
            danger_notify: agencies(raw.default.danger_notify),
        };
        let mut states: Vec<(StateCode, RuleSet)> = Vec::new();
        for (code, over) in raw.states {
            let state =
                StateCode::parse(&code).map_err(|_| ReportingRulesError::State(code.clone()))?;
            // Keys are checked after normalizing, so "tx" and "TX" are the same state.
            if states.iter().any(|(s, _)| *s == state) {
                return Err(ReportingRulesError::Repeated(code));
            }
            let rules = RuleSet {
                danger_overrides_adult_consent: over
                    .danger_overrides_adult_consent
                    .unwrap_or(default.danger_overrides_adult_consent),
                minor_notify: over
                    .minor_notify
                    .map_or_else(|| default.minor_notify.clone(), agencies),
                danger_notify: over
                    .danger_notify
                    .map_or_else(|| default.danger_notify.clone(), agencies),
            };
            states.push((state, rules));
        }
        Ok(Self { default, states })
    }

    pub fn default_rules(&self) -> &RuleSet {
        &self.default
    }

    /// The rule where the situation is; the default where the state is not known.
    pub fn for_state(&self, state: Option<StateCode>) -> &RuleSet {
        state
            .and_then(|state| self.states.iter().find(|(s, _)| *s == state))
            .map_or(&self.default, |(_, rules)| rules)
    }
}

/// What the advocate knows when deciding on a report.
#[derive(Clone, Debug)]
pub struct ReportCase {
    pub subject: Subject,
    pub consent: bool,
    pub imminent_danger: bool,
    pub override_reason: Option<OverrideReason>,
}

/// On what ground identifying information goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Basis {
    Consent,
    Override(OverrideReason),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disclosure {
    /// The report may identify the person.
    Identifying(Basis),
    /// Only the fields that do not identify the person may go.
    NonIdentifying,
    /// Nothing goes until the advocate records an override reason.
    NeedsOverrideReason,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub disclosure: Disclosure,
    /// Agencies the rule says must be notified in this situation, in a fixed order.
    pub must_notify: Vec<Agency>,
}

/// Applies the consent rule: consent lets identifying information go; without it, a
/// minor, or an adult in imminent danger where the state allows it, needs an override
/// reason; any other adult is reported without identifying information.
pub fn decide(case: &ReportCase, rules: &RuleSet) -> Decision {
    let overridable = match case.subject {
        Subject::Minor => true,
        Subject::Adult => case.imminent_danger && rules.danger_overrides_adult_consent,
    };
    let disclosure = match (&case.override_reason, case.consent, overridable) {
        (_, true, _) => Disclosure::Identifying(Basis::Consent),
        (Some(reason), false, true) => Disclosure::Identifying(Basis::Override(reason.clone())),
        (None, false, true) => Disclosure::NeedsOverrideReason,
        (_, false, false) => Disclosure::NonIdentifying,
    };
    let mut must_notify = Vec::new();
    if case.subject == Subject::Minor {
        must_notify.extend(&rules.minor_notify);
    }
    if case.imminent_danger {
        must_notify.extend(&rules.danger_notify);
    }
    Decision {
        disclosure,
        must_notify: agencies(must_notify),
    }
}

/// A report before the consent rule is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportDraft {
    pub agency: Agency,
    pub subject: Subject,
    pub subject_name: Option<String>,
    pub subject_phone: Option<String>,
    pub subject_email: Option<String>,
    pub subject_address: Option<String>,
    pub subject_date_of_birth: Option<String>,
    /// The narrative. Free text can name anyone, so it counts as identifying.
    pub description: Option<String>,
    pub city: Option<String>,
    pub state: Option<StateCode>,
    pub trafficking_type: SuggestedType,
    pub imminent_danger: bool,
}

/// A report holding only what the decision allows; the only way to make one is
/// `permitted`, so a sender that takes this type cannot send more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermittedReport {
    draft: ReportDraft,
    basis: Option<Basis>,
}

impl PermittedReport {
    pub fn draft(&self) -> &ReportDraft {
        &self.draft
    }

    /// Why identifying information is included; `None` when it is not.
    pub fn basis(&self) -> Option<&Basis> {
        self.basis.as_ref()
    }

    pub fn into_draft(self) -> ReportDraft {
        self.draft
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("override_reason: a report without consent needs a reason first")]
pub struct NeedsOverrideReason;

/// The draft with only the fields the decision allows, or a refusal until an override
/// reason is given.
pub fn permitted(
    decision: &Decision,
    draft: ReportDraft,
) -> Result<PermittedReport, NeedsOverrideReason> {
    match &decision.disclosure {
        Disclosure::Identifying(basis) => Ok(PermittedReport {
            draft,
            basis: Some(basis.clone()),
        }),
        Disclosure::NonIdentifying => Ok(PermittedReport {
            draft: without_identifying_fields(draft),
            basis: None,
        }),
        Disclosure::NeedsOverrideReason => Err(NeedsOverrideReason),
    }
}

fn without_identifying_fields(draft: ReportDraft) -> ReportDraft {
    // Every field is named, so a field added to the draft cannot slip through: it must be
    // sorted into kept or dropped here before this compiles.
    let ReportDraft {
        agency,
        subject,
        subject_name: _,
        subject_phone: _,
        subject_email: _,
        subject_address: _,
        subject_date_of_birth: _,
        description: _,
        city,
        state,
        trafficking_type,
        imminent_danger,
    } = draft;
    ReportDraft {
        agency,
        subject,
        subject_name: None,
        subject_phone: None,
        subject_email: None,
        subject_address: None,
        subject_date_of_birth: None,
        description: None,
        city,
        state,
        trafficking_type,
        imminent_danger,
    }
}

impl ReportDraft {
    /// Whether any field that could identify the person is filled.
    pub fn identifies(&self) -> bool {
        [
            &self.subject_name,
            &self.subject_phone,
            &self.subject_email,
            &self.subject_address,
            &self.subject_date_of_birth,
            &self.description,
        ]
        .iter()
        .any(|f| f.is_some())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn reason() -> OverrideReason {
        OverrideReason::parse("Caller reports the child is held tonight").unwrap()
    }

    fn case(
        subject: Subject,
        consent: bool,
        danger: bool,
        reason: Option<OverrideReason>,
    ) -> ReportCase {
        ReportCase {
            subject,
            consent,
            imminent_danger: danger,
            override_reason: reason,
        }
    }

    fn full_draft() -> ReportDraft {
        ReportDraft {
            agency: Agency::LawEnforcement,
            subject: Subject::Adult,
            subject_name: Some("Synthetic Person".into()),
            subject_phone: Some("+15555550100".into()),
            subject_email: Some("person@example.org".into()),
            subject_address: Some("1 Example Street".into()),
            subject_date_of_birth: Some("2000-01-01".into()),
            description: Some("Works at the named farm".into()),
            city: Some("Springfield".into()),
            state: StateCode::parse("IL").ok(),
            trafficking_type: SuggestedType::Labor,
            imminent_danger: false,
        }
    }

    #[test]
    fn an_adult_is_identified_only_with_consent_unless_in_danger() {
        let rules = shipped().default_rules();
        let adult = |consent, danger, reason| {
            decide(&case(Subject::Adult, consent, danger, reason), rules).disclosure
        };
        assert_eq!(
            adult(true, false, None),
            Disclosure::Identifying(Basis::Consent)
        );
        assert_eq!(adult(false, false, None), Disclosure::NonIdentifying);
        // A reason does not replace consent when there is no danger.
        assert_eq!(
            adult(false, false, Some(reason())),
            Disclosure::NonIdentifying
        );
        assert_eq!(adult(false, true, None), Disclosure::NeedsOverrideReason);
        assert_eq!(
            adult(false, true, Some(reason())),
            Disclosure::Identifying(Basis::Override(reason()))
        );
    }

    #[test]
    fn a_minor_without_consent_waits_for_an_override_reason_and_is_reported() {
        let rules = shipped().default_rules();
        let d = decide(&case(Subject::Minor, false, false, None), rules);
        assert_eq!(d.disclosure, Disclosure::NeedsOverrideReason);
        assert_eq!(d.must_notify, [Agency::LawEnforcement]);
        assert_eq!(permitted(&d, full_draft()), Err(NeedsOverrideReason));
        let d = decide(&case(Subject::Minor, false, false, Some(reason())), rules);
        assert!(permitted(&d, full_draft()).unwrap().draft().identifies());
    }

    #[test]
    fn non_identifying_reports_keep_only_where_and_what() {
        let d = decide(
            &case(Subject::Adult, false, false, None),
            shipped().default_rules(),
        );
        let report = permitted(&d, full_draft()).unwrap();
        assert_eq!(report.basis(), None);
        let kept = report.into_draft();
        assert!(!kept.identifies());
        assert_eq!(kept.city.as_deref(), Some("Springfield"));
        assert_eq!(kept.state.map(StateCode::as_str), Some("IL"));
        assert_eq!(kept.trafficking_type, SuggestedType::Labor);
    }

    #[test]
    fn override_reasons_are_10_to_1000_characters() {
        assert_eq!(OverrideReason::parse("too short"), Err(BadOverrideReason));
        assert_eq!(
            OverrideReason::parse("  ten chars!  ").unwrap().as_str(),
            "ten chars!"
        );
        assert!(OverrideReason::parse(&"é".repeat(1000)).is_ok());
        assert_eq!(
            OverrideReason::parse(&"é".repeat(1001)),
            Err(BadOverrideReason)
        );
        assert_eq!(
            OverrideReason::parse("reason\u{0}with a nul"),
            Err(BadOverrideReason)
        );
        assert_eq!(OverrideReason::parse_optional("   "), Ok(None));
        assert!(
            BadOverrideReason
                .to_string()
                .starts_with("override_reason:")
        );
    }

    const STATES: &str = r#"
[default]
danger_overrides_adult_consent = true
minor_notify = ["law-enforcement"]
danger_notify = ["law-enforcement"]

[states.tx]
danger_overrides_adult_consent = false

[states.CA]
minor_notify = ["child-welfare", "law-enforcement", "child-welfare"]
"#;

    #[test]
    fn states_override_the_default_key_by_key() {
        let rules = ReportingRules::load(STATES).unwrap();
        let tx = rules.for_state(StateCode::parse("TX").ok());
        assert!(!tx.danger_overrides_adult_consent);
        assert_eq!(tx.minor_notify, [Agency::LawEnforcement]);
        let in_danger = decide(&case(Subject::Adult, false, true, Some(reason())), tx);
        assert_eq!(in_danger.disclosure, Disclosure::NonIdentifying);
        assert_eq!(in_danger.must_notify, [Agency::LawEnforcement]);

        let ca = rules.for_state(StateCode::parse("CA").ok());
        let minor = decide(&case(Subject::Minor, true, false, None), ca);
        assert_eq!(
            minor.must_notify,
            [Agency::LawEnforcement, Agency::ChildWelfare]
        );
        assert_eq!(
            rules.for_state(StateCode::parse("NY").ok()),
            rules.default_rules()
        );
        assert_eq!(rules.for_state(None), rules.default_rules());
    }

    #[test]
    fn rules_files_name_what_is_wrong() {
        let err = |extra: &str| {
            ReportingRules::load(&format!("{STATES}{extra}"))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("[states.ZZ]\n"),
            "states.ZZ: not a U.S. state or territory code"
        );
        assert_eq!(err("[states.TX]\n"), "states.tx: listed twice");
        assert!(err("[states.NY]\nminor_notify = [\"fbi\"]\n").contains("fbi"));
        assert!(err("[states.NY]\nconsent_age = 16\n").contains("consent_age"));
    }

    #[test]
    fn the_shipped_rules_load_and_list_no_state_unconfirmed() {
        let rules = shipped();
        assert!(rules.default_rules().danger_overrides_adult_consent);
        assert!(rules.states.is_empty());
    }

    fn any_rules() -> impl Strategy<Value = RuleSet> {
        let agencies = proptest::sample::subsequence(
            vec![Agency::LawEnforcement, Agency::ChildWelfare],
            0..=2,
        );
        (any::<bool>(), agencies.clone(), agencies).prop_map(|(danger, minor, in_danger)| RuleSet {
            danger_overrides_adult_consent: danger,
            minor_notify: minor,
            danger_notify: in_danger,
        })
    }

    fn any_subject() -> impl Strategy<Value = Subject> {
        prop_oneof![Just(Subject::Adult), Just(Subject::Minor)]
    }

    proptest! {
        #[test]
        fn without_consent_or_override_no_identifying_field_ever_goes(
            subject in any_subject(), danger in any::<bool>(), rules in any_rules()
        ) {
            let decision = decide(&case(subject, false, danger, None), &rules);
            prop_assert!(!matches!(decision.disclosure, Disclosure::Identifying(_)));
            let mut draft = full_draft();
            draft.subject = subject;
            if let Ok(report) = permitted(&decision, draft) {
                prop_assert!(!report.draft().identifies());
                prop_assert!(report.basis().is_none());
            }
        }

        #[test]
        fn identifying_information_always_has_a_basis_the_rules_allow(
            subject in any_subject(), consent in any::<bool>(), danger in any::<bool>(),
            reason in proptest::option::of(Just(reason())), rules in any_rules()
        ) {
            let decision = decide(&case(subject, consent, danger, reason.clone()), &rules);
            match decision.disclosure {
                Disclosure::Identifying(Basis::Consent) => prop_assert!(consent),
                Disclosure::Identifying(Basis::Override(_)) => {
                    prop_assert!(!consent && reason.is_some());
                    prop_assert!(subject == Subject::Minor || (danger && rules.danger_overrides_adult_consent));
                }
                Disclosure::NonIdentifying => prop_assert!(!consent && subject == Subject::Adult),
                Disclosure::NeedsOverrideReason => prop_assert!(!consent && reason.is_none()),
            }
        }

        #[test]
        fn parsed_override_reasons_are_trimmed_and_within_bounds(raw in "\\PC{0,1100}") {
            if let Ok(reason) = OverrideReason::parse(&raw) {
                let n = reason.as_str().chars().count();
                prop_assert!((10..=1000).contains(&n));
                prop_assert_eq!(reason.as_str(), raw.trim());
            }
        }
    }
}
