//! Reading a questionnaire file and checking it, so that a rule can never refer to a
//! question that is not asked and a question never lacks one of its two languages.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::{
    Answer, Contradiction, Counted, Domain, Exploitation, Indicator, Item, ItemId, Level,
    Questionnaire, Requirement, Rule, Text,
};

/// What is wrong with a questionnaire file, naming the place in it.
#[derive(Debug, thiserror::Error)]
pub enum QuestionnaireError {
    #[error("not a screening questionnaire: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("{place}: {problem}")]
    Invalid { place: String, problem: String },
}

fn invalid(place: impl Into<String>, problem: impl Into<String>) -> QuestionnaireError {
    QuestionnaireError::Invalid {
        place: place.into(),
        problem: problem.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestionnaire {
    version: u32,
    items: Vec<RawItem>,
    #[serde(default)]
    contradictions: Vec<RawContradiction>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: String,
    domain: Domain,
    indicates: Vec<Indicator>,
    en: String,
    es: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContradiction {
    id: String,
    answers: BTreeMap<String, Answer>,
    en: String,
    es: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    level: Level,
    #[serde(rename = "type")]
    exploitation: Option<Exploitation>,
    en: String,
    es: String,
    requires: Vec<RawRequirement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    items: Option<Vec<String>>,
    indicators: Option<Vec<Indicator>>,
    at_least: Option<usize>,
    at_most: Option<usize>,
}

impl Questionnaire {
    /// Parses and checks a questionnaire file: a known version, unique well-formed ids,
    /// English and Spanish text everywhere, and rules and contradictions that refer only
    /// to questions asked and to indicators some question shows.
    pub fn load(toml_text: &str) -> Result<Self, QuestionnaireError> {
        let raw: RawQuestionnaire = toml::from_str(toml_text)?;
        if raw.version == 0 {
            return Err(invalid("version", "must be 1 or more"));
        }
        let items = raw
            .items
            .into_iter()
            .enumerate()
            .map(|(n, item)| check_item(n, item))
            .collect::<Result<Vec<_>, _>>()?;
        if items.is_empty() {
            return Err(invalid(
                "items",
                "a questionnaire asks at least one question",
            ));
        }
        let mut seen = HashSet::new();
        for item in &items {
            if !seen.insert(item.id.as_str()) {
                return Err(invalid(format!("items[{}]", item.id), "id used twice"));
            }
        }
        let shown: HashSet<Indicator> = items
            .iter()
            .flat_map(|i| i.indicates.iter().copied())
            .collect();
        let known = |id: &str| {
            items
                .iter()
                .find(|i| i.id.as_str() == id)
                .map(|i| i.id.clone())
        };

        let contradictions = raw
            .contradictions
            .into_iter()
            .enumerate()
            .map(|(n, c)| check_contradiction(n, c, &known))
            .collect::<Result<Vec<_>, _>>()?;
        unique(
            "contradictions",
            contradictions.iter().map(|c| c.id.as_str()),
        )?;

        let rules = raw
            .rules
            .into_iter()
            .enumerate()
            .map(|(n, r)| check_rule(n, r, &known, &shown))
            .collect::<Result<Vec<_>, _>>()?;
        unique("rules", rules.iter().map(|r| r.id.as_str()))?;

        Ok(Self {
            version: raw.version,
            items,
            contradictions,
            rules,
        })
    }
}

fn unique<'a>(table: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), QuestionnaireError> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(invalid(format!("{table}[{id}]"), "id used twice"));
        }
    }
    Ok(())
}

fn check_id(place: &str, raw: &str) -> Result<ItemId, QuestionnaireError> {
    ItemId::parse(raw).ok_or_else(|| {
        invalid(
            format!("{place}.id"),
            "use lower-case letters, digits and dashes, starting with a letter",
        )
    })
}

fn check_text(place: &str, en: String, es: String) -> Result<Text, QuestionnaireError> {
    if en.trim().is_empty() {
        return Err(invalid(format!("{place}.en"), "English text is missing"));
    }
    if es.trim().is_empty() {
        return Err(invalid(format!("{place}.es"), "Spanish text is missing"));
    }
    Ok(Text { en, es })
}

fn check_item(n: usize, raw: RawItem) -> Result<Item, QuestionnaireError> {
    let id = check_id(&format!("items[{n}]"), &raw.id)?;
    let place = format!("items[{id}]");
    Ok(Item {
        text: check_text(&place, raw.en, raw.es)?,
        domain: raw.domain,
        indicates: raw.indicates,
        id,
    })
}

fn check_contradiction(
    n: usize,
    raw: RawContradiction,
    known: &impl Fn(&str) -> Option<ItemId>,
) -> Result<Contradiction, QuestionnaireError> {
    let id = check_id(&format!("contradictions[{n}]"), &raw.id)?;
    let place = format!("contradictions[{id}]");
    if raw.answers.len() < 2 {
        return Err(invalid(
            format!("{place}.answers"),
            "a contradiction needs answers to two or more questions",
        ));
    }
    let answers = raw
        .answers
        .into_iter()
        .map(|(item, answer)| {
            known(&item)
                .map(|id| (id, answer))
                .ok_or_else(|| invalid(format!("{place}.answers"), format!("no question `{item}`")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Contradiction {
        text: check_text(&place, raw.en, raw.es)?,
        id: id.0,
        answers,
    })
}

fn check_rule(
    n: usize,
    raw: RawRule,
    known: &impl Fn(&str) -> Option<ItemId>,
    shown: &HashSet<Indicator>,
) -> Result<Rule, QuestionnaireError> {
    let id = check_id(&format!("rules[{n}]"), &raw.id)?;
    let place = format!("rules[{id}]");
    if raw.requires.is_empty() {
        return Err(invalid(
            format!("{place}.requires"),
            "a rule needs at least one requirement",
        ));
    }
    let requires = raw
        .requires
        .into_iter()
        .enumerate()
        .map(|(k, req)| check_requirement(&format!("{place}.requires[{k}]"), req, known, shown))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rule {
        text: check_text(&place, raw.en, raw.es)?,
        id: id.0,
        level: raw.level,
        exploitation: raw.exploitation,
        requires,
    })
}

fn check_requirement(
    place: &str,
    raw: RawRequirement,
    known: &impl Fn(&str) -> Option<ItemId>,
    shown: &HashSet<Indicator>,
) -> Result<Requirement, QuestionnaireError> {
    let counted = match (raw.items, raw.indicators) {
        (Some(items), None) => Counted::Items(
            items
                .iter()
                .map(|item| {
                    known(item).ok_or_else(|| {
                        invalid(format!("{place}.items"), format!("no question `{item}`"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        (None, Some(indicators)) => {
            // A rule waiting for an indicator that no question shows could never fire.
            if let Some(never) = indicators.iter().find(|i| !shown.contains(i)) {
                return Err(invalid(
                    format!("{place}.indicators"),
                    format!("no question shows `{}`", never.as_str()),
                ));
            }
            Counted::Indicators(indicators)
        }
        _ => {
            return Err(invalid(
                place,
                "give either `items` or `indicators`, not both",
            ));
        }
    };
    let listed = match &counted {
        Counted::Items(v) => v.len(),
        Counted::Indicators(v) => v.len(),
    };
    if listed == 0 {
        return Err(invalid(place, "the list is empty"));
    }
    // "At most n" alone means "from none up to n"; otherwise a rule wants at least one.
    let at_least = raw.at_least.unwrap_or(usize::from(raw.at_most.is_none()));
    if at_least > listed || raw.at_most.is_some_and(|most| most < at_least) {
        return Err(invalid(
            place,
            "at_least must be at most the length of the list and at most at_most",
        ));
    }
    Ok(Requirement {
        counted,
        at_least,
        at_most: raw.at_most,
    })
}

#[cfg(test)]
mod tests {
    use super::super::shipped;
    use super::*;

    const ITEM: &str = r#"
version = 1
[[items]]
id = "a"
domain = "violence"
indicates = ["force"]
en = "A?"
es = "¿A?"
[[items]]
id = "b"
domain = "sexual-exploitation"
indicates = ["commercial-sex"]
en = "B?"
es = "¿B?"
"#;

    fn with(rest: &str) -> Result<Questionnaire, QuestionnaireError> {
        Questionnaire::load(&format!("{ITEM}{rest}"))
    }

    fn problem(rest: &str) -> String {
        with(rest).unwrap_err().to_string()
    }

    const RULE: &str = r#"
[[rules]]
id = "r"
level = "low"
en = "r"
es = "r"
[[rules.requires]]
"#;

    #[test]
    fn the_shipped_questionnaire_loads_and_asks_about_every_domain() {
        let q = shipped();
        assert_eq!(q.version(), 1);
        for domain in Domain::ALL {
            assert!(
                q.items().iter().any(|i| i.domain == domain),
                "no question about {}",
                domain.as_str()
            );
        }
        assert!(q.items().iter().all(|i| !i.text.es.is_empty()));
        assert!(q.rules().iter().any(|r| r.id == "minor-in-commercial-sex"));
        assert!(!q.contradictions().is_empty());
    }

    #[test]
    fn a_valid_small_file_loads() {
        let q = with(&format!("{RULE}items = [\"a\", \"b\"]\nat_least = 2\n")).unwrap();
        assert_eq!(q.items().len(), 2);
        assert_eq!(q.rules()[0].requires[0].at_least, 2);
    }

    #[test]
    fn a_rule_naming_a_question_not_asked_is_refused() {
        assert_eq!(
            problem(&format!("{RULE}items = [\"a\", \"zzz\"]\n")),
            "rules[r].requires[0].items: no question `zzz`"
        );
    }

    #[test]
    fn a_rule_waiting_for_an_indicator_no_question_shows_is_refused() {
        assert!(
            problem(&format!("{RULE}indicators = [\"labor\"]\n"))
                .starts_with("rules[r].requires[0].indicators: no question shows")
        );
    }

    #[test]
    fn requirements_must_be_satisfiable_and_name_one_list() {
        let both = format!("{RULE}items = [\"a\"]\nindicators = [\"force\"]\n");
        assert!(problem(&both).contains("either `items` or `indicators`"));
        let neither = format!("{RULE}at_least = 1\n");
        assert!(problem(&neither).contains("either `items` or `indicators`"));
        let too_many = format!("{RULE}items = [\"a\"]\nat_least = 2\n");
        assert!(problem(&too_many).starts_with("rules[r].requires[0]: at_least"));
        let crossed = format!("{RULE}items = [\"a\", \"b\"]\nat_least = 2\nat_most = 1\n");
        assert!(problem(&crossed).starts_with("rules[r].requires[0]: at_least"));
        let none = format!("{RULE}items = [\"a\"]\nat_most = 0\n");
        assert_eq!(with(&none).unwrap().rules()[0].requires[0].at_least, 0);
    }

    #[test]
    fn ids_are_unique_and_well_formed() {
        let twice = r#"
[[items]]
id = "a"
domain = "violence"
indicates = []
en = "again"
es = "otra vez"
"#;
        assert_eq!(problem(twice), "items[a]: id used twice");
        let bad = r#"
[[items]]
id = "Bad Id"
domain = "violence"
indicates = []
en = "x"
es = "x"
"#;
        assert!(problem(bad).starts_with("items[2].id:"));
        let rules_twice = format!("{RULE}items = [\"a\"]\n{RULE}items = [\"b\"]\n");
        assert_eq!(problem(&rules_twice), "rules[r]: id used twice");
    }

    #[test]
    fn both_languages_are_required() {
        let blank = r#"
[[items]]
id = "c"
domain = "violence"
indicates = []
en = "C?"
es = "  "
"#;
        assert_eq!(problem(blank), "items[c].es: Spanish text is missing");
        let missing = "[[items]]\nid = \"c\"\ndomain = \"violence\"\nindicates = []\nen = \"C?\"\n";
        assert!(problem(missing).contains("missing field `es`"));
    }

    #[test]
    fn contradictions_refer_to_asked_questions() {
        let unknown = r#"
[[contradictions]]
id = "x"
answers = { a = "yes", nope = "yes" }
en = "x"
es = "x"
"#;
        assert_eq!(
            problem(unknown),
            "contradictions[x].answers: no question `nope`"
        );
        let single =
            "[[contradictions]]\nid = \"x\"\nanswers = { a = \"yes\" }\nen = \"x\"\nes = \"x\"\n";
        assert!(problem(single).contains("two or more questions"));
    }

    #[test]
    fn unknown_keys_and_values_are_named() {
        assert!(problem("colour = \"red\"\n").contains("colour"));
        let bad_domain =
            "[[items]]\nid = \"c\"\ndomain = \"weather\"\nindicates = []\nen = \"x\"\nes = \"x\"\n";
        assert!(problem(bad_domain).contains("weather"));
    }
}
