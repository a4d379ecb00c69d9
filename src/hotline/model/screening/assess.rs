//! Answers from a screening form, and the rule that reads them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{
    Answer, Counted, Exploitation, FIELD_PREFIX, Indicator, ItemId, Level, Questionnaire,
    Requirement, SuggestedType, Text,
};

/// The answers given in one screening, each to a question of the questionnaire they were
/// parsed against. A question left out was not asked, which differs from "unknown".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answers {
    version: u32,
    given: BTreeMap<ItemId, Answer>,
}

/// Answers that cannot all be true, found in a screening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The questionnaire's id for this contradiction.
    pub contradiction: String,
    /// The form fields (`item/<id>`) that disagree.
    pub fields: Vec<String>,
    pub text: Text,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.fields.join(" and "), self.text.en)
    }
}

/// What is wrong with a screening form, naming the fields.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswersError {
    #[error("{field}: no such question in screening version {version}")]
    UnknownItem { field: String, version: u32 },
    #[error("{field}: answer yes, no, unknown or declined")]
    BadValue { field: String },
    #[error("{field}: answered more than once")]
    Repeated { field: String },
    #[error("answers contradict each other: {}", list(.0))]
    Contradictory(Vec<Conflict>),
}

fn list(conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Answers {
    /// Reads the `item/<id>` fields of a form (other fields belong to the page and are
    /// left alone). An empty value means the question was not asked. Every contradiction
    /// found is returned at once, so that the advocate can settle them together.
    pub fn parse(
        questionnaire: &Questionnaire,
        pairs: &[(String, String)],
    ) -> Result<Self, AnswersError> {
        let mut given = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for (field, value) in pairs {
            let Some(id) = field.strip_prefix(FIELD_PREFIX) else {
                continue;
            };
            let item = questionnaire
                .item(id)
                .ok_or_else(|| AnswersError::UnknownItem {
                    field: field.clone(),
                    version: questionnaire.version(),
                })?;
            if !seen.insert(id) {
                return Err(AnswersError::Repeated {
                    field: field.clone(),
                });
            }
            if value.trim().is_empty() {
                continue;
            }
            let answer = Answer::parse(value).ok_or_else(|| AnswersError::BadValue {
                field: field.clone(),
            })?;
            given.insert(item.id.clone(), answer);
        }
        let answers = Self {
            version: questionnaire.version(),
            given,
        };
        let conflicts = answers.conflicts(questionnaire);
        if conflicts.is_empty() {
            Ok(answers)
        } else {
            Err(AnswersError::Contradictory(conflicts))
        }
    }

    fn conflicts(&self, questionnaire: &Questionnaire) -> Vec<Conflict> {
        questionnaire
            .contradictions()
            .iter()
            .filter(|c| {
                c.answers
                    .iter()
                    .all(|(id, a)| self.get(id.as_str()) == Some(*a))
            })
            .map(|c| Conflict {
                contradiction: c.id.clone(),
                fields: c.answers.iter().map(|(id, _)| id.field()).collect(),
                text: c.text.clone(),
            })
            .collect()
    }

    /// The questionnaire version these answers were given under.
    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn get(&self, id: &str) -> Option<Answer> {
        self.given.get(id).copied()
    }

    /// The questions answered, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&ItemId, Answer)> {
        self.given.iter().map(|(id, a)| (id, *a))
    }

    fn is_yes(&self, id: &ItemId) -> bool {
        self.given.get(id) == Some(&Answer::Yes)
    }
}

/// One rule that fired, and the yes answers it counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub rule: String,
    pub level: Level,
    pub exploitation: Option<Exploitation>,
    /// In the order the questions are asked.
    pub items: Vec<ItemId>,
    pub text: Text,
}

/// A suggestion for the advocate, never a determination: the level and type follow
/// from the reasons, which list every rule that fired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assessment {
    pub level: Level,
    pub suggested_type: SuggestedType,
    /// Strongest level first, then in the questionnaire's rule order.
    pub reasons: Vec<Reason>,
}

/// Applies every rule of the questionnaire to the answers: the level is the highest of
/// the rules that fired (none if none did), and the type joins the kinds of exploitation
/// they point to. Answers must come from `Answers::parse` with the same questionnaire.
pub fn assess(questionnaire: &Questionnaire, answers: &Answers) -> Assessment {
    let yes: Vec<_> = questionnaire
        .items()
        .iter()
        .filter(|item| answers.is_yes(&item.id))
        .collect();
    let shown: BTreeSet<Indicator> = yes
        .iter()
        .flat_map(|item| item.indicates.iter().copied())
        .collect();

    let count = |req: &Requirement| match &req.counted {
        Counted::Items(ids) => ids.iter().filter(|id| answers.is_yes(id)).count(),
        Counted::Indicators(wanted) => wanted.iter().filter(|i| shown.contains(i)).count(),
    };
    let holds = |req: &Requirement| {
        let n = count(req);
        n >= req.at_least && req.at_most.is_none_or(|most| n <= most)
    };
    // The yes answers a requirement counted; a requirement that asks for none counts none.
    let counted_by = |req: &Requirement, id: &ItemId, indicates: &[Indicator]| {
        req.at_least > 0
            && match &req.counted {
                Counted::Items(ids) => ids.contains(id),
                Counted::Indicators(wanted) => indicates.iter().any(|i| wanted.contains(i)),
            }
    };

    let mut reasons: Vec<Reason> = questionnaire
        .rules()
        .iter()
        .filter(|rule| rule.requires.iter().all(holds))
        .map(|rule| Reason {
            rule: rule.id.clone(),
            level: rule.level,
            exploitation: rule.exploitation,
            items: yes
                .iter()
                .filter(|item| {
                    rule.requires
                        .iter()
                        .any(|req| counted_by(req, &item.id, &item.indicates))
                })
                .map(|item| item.id.clone())
                .collect(),
            text: rule.text.clone(),
        })
        .collect();
    // Stable, so rules of one level keep the file's order.
    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));

    let points_to = |e| reasons.iter().any(|r| r.exploitation == Some(e));
    Assessment {
        level: reasons.iter().map(|r| r.level).max().unwrap_or_default(),
        suggested_type: SuggestedType::of(
            points_to(Exploitation::Sex),
            points_to(Exploitation::Labor),
        ),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::shipped;
    use super::*;

    fn form(answers: &[(&str, &str)]) -> Vec<(String, String)> {
        answers
            .iter()
            .map(|(id, a)| (format!("item/{id}"), (*a).to_owned()))
            .collect()
    }

    fn assessed(answers: &[(&str, &str)]) -> Assessment {
        let q = shipped();
        assess(q, &Answers::parse(q, &form(answers)).unwrap())
    }

    fn fired(a: &Assessment) -> Vec<&str> {
        a.reasons.iter().map(|r| r.rule.as_str()).collect()
    }

    #[test]
    fn a_minor_in_commercial_sex_is_high_and_sex_without_force_fraud_or_coercion() {
        let a = assessed(&[
            ("age-minor", "yes"),
            ("age-adult", "no"),
            ("commercial-sex", "yes"),
            ("threat-harm", "no"),
            ("physical-harm", "no"),
        ]);
        assert_eq!(a.level, Level::High);
        assert_eq!(a.suggested_type, SuggestedType::Sex);
        let first = &a.reasons[0];
        assert_eq!(first.rule, "minor-in-commercial-sex");
        assert!(first.text.en.starts_with("minor in commercial sex"));
        assert_eq!(
            first.items.iter().map(ItemId::as_str).collect::<Vec<_>>(),
            ["age-minor", "commercial-sex"]
        );
        // No means were reported, so only the rules that say so fire beside it.
        assert_eq!(
            fired(&a),
            [
                "minor-in-commercial-sex",
                "exploitation-only",
                "sex-indicated"
            ]
        );
    }

    #[test]
    fn an_adult_trading_sex_without_force_fraud_or_coercion_is_low() {
        let a = assessed(&[("age-adult", "yes"), ("commercial-sex", "yes")]);
        assert_eq!(a.level, Level::Low);
        assert_eq!(a.suggested_type, SuggestedType::Sex);
        assert_eq!(fired(&a), ["exploitation-only", "sex-indicated"]);
    }

    #[test]
    fn the_level_follows_how_many_kinds_of_means_go_with_exploitation() {
        let one = assessed(&[("documents-held", "yes"), ("never-paid", "yes")]);
        assert_eq!(
            (one.level, one.suggested_type),
            (Level::Moderate, SuggestedType::Labor)
        );
        assert_eq!(fired(&one), ["means-and-exploitation", "labor-indicated"]);

        let two = assessed(&[
            ("documents-held", "yes"),
            ("job-differs", "yes"),
            ("locked-in", "yes"),
        ]);
        assert_eq!(two.level, Level::High);
        assert_eq!(fired(&two)[0], "several-means-and-exploitation");
        assert_eq!(
            two.reasons[0]
                .items
                .iter()
                .map(ItemId::as_str)
                .collect::<Vec<_>>(),
            ["job-differs", "documents-held", "locked-in"]
        );

        let means = assessed(&[("threat-harm", "yes")]);
        assert_eq!(
            (means.level, means.suggested_type),
            (Level::Low, SuggestedType::Unknown)
        );
        assert_eq!(fired(&means), ["means-only"]);
    }

    #[test]
    fn sex_and_labor_together_suggest_both() {
        let a = assessed(&[("sex-controlled", "yes"), ("excessive-hours", "yes")]);
        assert_eq!(a.suggested_type, SuggestedType::Both);
        assert_eq!(a.level, Level::Moderate);
    }

    #[test]
    fn no_yes_answers_suggest_nothing() {
        let a = assessed(&[("threat-harm", "no"), ("commercial-sex", "declined")]);
        assert_eq!(a, Assessment::default());
        assert_eq!(assessed(&[]), Assessment::default());
    }

    #[test]
    fn contradictory_answers_are_refused_naming_the_questions() {
        let q = shipped();
        let err = Answers::parse(
            q,
            &form(&[
                ("age-adult", "yes"),
                ("age-minor", "yes"),
                ("never-paid", "yes"),
                ("paid-as-promised", "yes"),
            ]),
        )
        .unwrap_err();
        let AnswersError::Contradictory(conflicts) = &err else {
            panic!("{err}")
        };
        let fields: Vec<_> = conflicts.iter().map(|c| c.fields.clone()).collect();
        assert_eq!(
            fields,
            [
                ["item/age-adult", "item/age-minor"],
                ["item/never-paid", "item/paid-as-promised"]
            ]
        );
        assert!(
            err.to_string()
                .contains("item/age-adult and item/age-minor")
        );
        // "Unknown" contradicts nothing.
        Answers::parse(q, &form(&[("age-adult", "yes"), ("age-minor", "unknown")])).unwrap();
    }

    #[test]
    fn form_fields_are_checked_by_name() {
        let q = shipped();
        let err = |pairs: &[(&str, &str)]| {
            let pairs: Vec<_> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            Answers::parse(q, &pairs).unwrap_err()
        };
        assert_eq!(
            err(&[("item/no-such-question", "yes")]),
            AnswersError::UnknownItem {
                field: "item/no-such-question".into(),
                version: 1
            }
        );
        assert_eq!(
            err(&[("item/threat-harm", "maybe")]),
            AnswersError::BadValue {
                field: "item/threat-harm".into()
            }
        );
        assert_eq!(
            err(&[("item/threat-harm", "yes"), ("item/threat-harm", "no")]),
            AnswersError::Repeated {
                field: "item/threat-harm".into()
            }
        );
        let answers = Answers::parse(
            q,
            &form(&[
                ("threat-harm", " YES "),
                ("watched", ""),
                ("deprived", "declined"),
            ]),
        )
        .unwrap();
        assert_eq!(answers.get("threat-harm"), Some(Answer::Yes));
        assert_eq!(answers.get("watched"), None);
        assert_eq!(answers.get("deprived"), Some(Answer::Declined));
        let with_page_fields = vec![("_csrf".to_owned(), "t".to_owned())];
        assert_eq!(
            Answers::parse(q, &with_page_fields).unwrap().iter().count(),
            0
        );
    }

    fn any_answers() -> impl Strategy<Value = Vec<(String, String)>> {
        let ids: Vec<String> = shipped().items().iter().map(|i| i.id.field()).collect();
        proptest::sample::subsequence(ids.clone(), 0..=ids.len()).prop_flat_map(|fields| {
            let n = fields.len();
            (
                Just(fields),
                proptest::collection::vec(proptest::sample::select(Answer::ALL.to_vec()), n),
            )
                .prop_map(|(fields, answers)| {
                    fields
                        .into_iter()
                        .zip(answers)
                        .map(|(f, a)| (f, a.as_str().to_owned()))
                        .collect()
                })
        })
    }

    proptest! {
        #[test]
        fn any_consistent_minor_in_commercial_sex_is_high(pairs in any_answers()) {
            let q = shipped();
            let mut pairs: Vec<_> = pairs
                .into_iter()
                .filter(|(f, _)| !["item/age-minor", "item/age-adult", "item/minor-at-start", "item/commercial-sex"].contains(&f.as_str()))
                .collect();
            pairs.extend(form(&[("age-minor", "yes"), ("commercial-sex", "yes")]));
            if let Ok(answers) = Answers::parse(q, &pairs) {
                let a = assess(q, &answers);
                prop_assert_eq!(a.level, Level::High);
                prop_assert!(matches!(a.suggested_type, SuggestedType::Sex | SuggestedType::Both));
                prop_assert!(a.reasons.iter().any(|r| r.rule == "minor-in-commercial-sex"));
            }
        }

        #[test]
        fn the_level_is_the_highest_reason_and_every_reason_cites_yes_answers(pairs in any_answers()) {
            let q = shipped();
            if let Ok(answers) = Answers::parse(q, &pairs) {
                let a = assess(q, &answers);
                prop_assert_eq!(a.level, a.reasons.iter().map(|r| r.level).max().unwrap_or_default());
                for reason in &a.reasons {
                    prop_assert!(!reason.items.is_empty());
                    prop_assert!(reason.items.iter().all(|id| answers.get(id.as_str()) == Some(Answer::Yes)));
                }
                // The shipped rules fire on any sign of means or exploitation, and only then.
                let signals = [Indicator::Force, Indicator::Fraud, Indicator::Coercion, Indicator::CommercialSex, Indicator::Labor];
                let signalled = q.items().iter().any(|item| {
                    answers.get(item.id.as_str()) == Some(Answer::Yes)
                        && item.indicates.iter().any(|i| signals.contains(i))
                });
                prop_assert_eq!(signalled, !a.reasons.is_empty());
            }
        }
    }
}
