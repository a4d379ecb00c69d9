//! Technical assistance asked of the hotline by professionals: what a request says,
//! checked, and what an answer may be.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contact::{Refusals, TEXT_MAX};

/// What the professional needs help with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    ScreeningAndIdentification,
    ServicesAndReferrals,
    LegalAndImmigration,
    LawEnforcementResponse,
    TrainingRequest,
    DataAndResearch,
    Other,
}

/// A request as sent.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestForm {
    pub topic: Topic,
    /// The question, in the advocate's words (sealed).
    pub question: String,
    /// When the professional needs the answer (YYYY-MM-DD), if they said.
    #[serde(default)]
    pub due_on: Option<String>,
}

/// A request, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub topic: Topic,
    pub question: String,
    pub due_on: Option<jiff::civil::Date>,
}

/// The text of a question or an answer, or why not.
pub fn text(raw: &str) -> Result<String, &'static str> {
    let text = raw.trim();
    if text.is_empty() {
        Err("is empty")
    } else if text.chars().count() > TEXT_MAX {
        Err("is longer than 50,000 characters")
    } else {
        Ok(text.to_owned())
    }
}

impl RequestForm {
    pub fn parse(&self) -> Result<Request, Refusals> {
        let mut refusals = Refusals::new();
        let question = text(&self.question).unwrap_or_else(|why| {
            refusals.insert("question", why);
            String::new()
        });
        let due_on = match self.due_on.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                let date = raw.parse::<jiff::civil::Date>().ok();
                if date.is_none() {
                    refusals.insert("due_on", "is not a date (YYYY-MM-DD)");
                }
                date
            }
        };
        if refusals.is_empty() {
            Ok(Request {
                topic: self.topic,
                question,
                due_on,
            })
        } else {
            Err(refusals)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_request_needs_a_question_and_a_real_date() {
        let form = |question: &str, due: Option<&str>| RequestForm {
            topic: Topic::LegalAndImmigration,
            question: question.into(),
            due_on: due.map(str::to_owned),
        };
        let ok = form(" Can a T visa applicant work? ", Some("2026-12-04"))
            .parse()
            .unwrap();
        assert_eq!(ok.question, "Can a T visa applicant work?");
        assert_eq!(
            ok.due_on.map(|d| d.to_string()).as_deref(),
            Some("2026-12-04")
        );
        let bad = form("  ", Some("next week")).parse().unwrap_err();
        assert_eq!(
            bad.keys().copied().collect::<Vec<_>>(),
            ["due_on", "question"]
        );
    }

    proptest! {
        #[test]
        fn any_text_is_taken_or_refused_without_panicking(raw in ".{0,200}") {
            let _ = text(&raw);
            let _ = RequestForm { topic: Topic::Other, question: raw.clone(), due_on: Some(raw) }.parse();
        }
    }
}
