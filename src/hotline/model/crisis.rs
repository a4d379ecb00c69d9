//! The crisis checklist for a caller in immediate danger: every step is recorded as
//! done (when) or skipped (why); none may be left out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The steps, in the order an advocate takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    EmergencyServicesCalled,
    LawEnforcementCalled,
    SupervisorAlerted,
    EmergencyShelterRequested,
    ExtractionRequested,
    TransportationRequested,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Self::EmergencyServicesCalled,
        Self::LawEnforcementCalled,
        Self::SupervisorAlerted,
        Self::EmergencyShelterRequested,
        Self::ExtractionRequested,
        Self::TransportationRequested,
    ];

    /// Requests for emergency help that the program's monthly report counts.
    pub fn is_emergency_request(self) -> bool {
        matches!(
            self,
            Self::EmergencyShelterRequested
                | Self::ExtractionRequested
                | Self::TransportationRequested
        )
    }
}

/// One step as sent: when it was done, or why it was skipped.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepForm {
    /// RFC 3339.
    #[serde(default)]
    pub done_at: Option<String>,
    /// 10 to 500 characters.
    #[serde(default)]
    pub skipped: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepRecord {
    Done(jiff::Timestamp),
    Skipped(String),
}

/// The checklist as sent: every step by its name.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistForm {
    pub steps: BTreeMap<Step, StepForm>,
}

/// Every step, recorded.
pub type Checklist = BTreeMap<Step, StepRecord>;

fn name(step: Step) -> String {
    super::contact::code(&step)
}

impl ChecklistForm {
    /// The checklist, or each step that is missing or wrong (field `steps.<step>`).
    pub fn parse(&self) -> Result<Checklist, BTreeMap<String, &'static str>> {
        let mut refused = BTreeMap::new();
        let mut checklist = Checklist::new();
        for step in Step::ALL {
            let field = format!("steps.{}", name(step));
            let Some(form) = self.steps.get(&step) else {
                refused.insert(field, "record when it was done, or why it was skipped");
                continue;
            };
            let skipped = form
                .skipped
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty());
            match (form.done_at.as_deref().map(str::trim), skipped) {
                (Some(_), Some(_)) => {
                    refused.insert(field, "done or skipped, not both");
                }
                (Some(at), None) => match at.parse::<jiff::Timestamp>() {
                    Ok(at) => {
                        checklist.insert(step, StepRecord::Done(at));
                    }
                    Err(_) => {
                        refused.insert(field, "done_at is not a time such as 2026-11-29T03:20:00Z");
                    }
                },
                (None, Some(reason)) if (10..=500).contains(&reason.chars().count()) => {
                    checklist.insert(step, StepRecord::Skipped(reason.to_owned()));
                }
                (None, Some(_)) => {
                    refused.insert(field, "say in 10 to 500 characters why it was skipped");
                }
                (None, None) => {
                    refused.insert(field, "record when it was done, or why it was skipped");
                }
            }
        }
        if refused.is_empty() {
            Ok(checklist)
        } else {
            Err(refused)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done() -> StepForm {
        StepForm {
            done_at: Some("2026-11-29T03:20:00Z".into()),
            skipped: None,
        }
    }

    #[test]
    fn no_step_is_left_out_or_skipped_without_a_reason() {
        let mut steps: BTreeMap<Step, StepForm> = Step::ALL.iter().map(|s| (*s, done())).collect();
        assert_eq!(
            ChecklistForm {
                steps: steps.clone()
            }
            .parse()
            .unwrap()
            .len(),
            6
        );
        steps.remove(&Step::SupervisorAlerted);
        steps.insert(
            Step::ExtractionRequested,
            StepForm {
                done_at: None,
                skipped: Some("no".into()),
            },
        );
        steps.insert(
            Step::TransportationRequested,
            StepForm {
                done_at: None,
                skipped: Some("The caller has her own car and can drive".into()),
            },
        );
        let refused = ChecklistForm { steps }.parse().unwrap_err();
        assert_eq!(
            refused.keys().collect::<Vec<_>>(),
            ["steps.extraction-requested", "steps.supervisor-alerted"]
        );
        assert!(Step::ExtractionRequested.is_emergency_request());
        assert!(!Step::LawEnforcementCalled.is_emergency_request());
    }
}
