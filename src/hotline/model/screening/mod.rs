//! The screening questionnaire: indicator questions and the rules that read their answers,
//! kept as data (data/hotline/screening-v1.toml) so that wording and thresholds change by
//! review rather than by code, and a stored answer set keeps the meaning of the version it
//! was given under.
//!
//! The brief's design note asks for no invented score: the rules only suggest a level
//! and a type, each with the rules that fired and the answers behind them, and the
//! advocate's own determination is what a case records.

mod assess;
mod load;

use std::borrow::Borrow;
use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::kernel::i18n::Lang;

pub use assess::{Answers, AnswersError, Assessment, Conflict, Reason, assess};
pub use load::QuestionnaireError;

const V1: &str = include_str!("../../../../data/hotline/screening-v1.toml");

static SHIPPED: LazyLock<Questionnaire> = LazyLock::new(|| {
    // The file is part of the binary and a unit test loads it.
    #[allow(clippy::expect_used)]
    Questionnaire::load(V1).expect("data/hotline/screening-v1.toml is a valid questionnaire")
});

/// The questionnaire atip ships (version 1).
pub fn shipped() -> &'static Questionnaire {
    &SHIPPED
}

/// What a group of questions is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Domain {
    /// Age, asked first because it changes what the other answers mean.
    Background,
    Recruitment,
    Coercion,
    DebtAndLabor,
    DocumentsAndMoney,
    Isolation,
    Violence,
    SexualExploitation,
    LivingConditions,
}

impl Domain {
    pub const ALL: [Self; 9] = [
        Self::Background,
        Self::Recruitment,
        Self::Coercion,
        Self::DebtAndLabor,
        Self::DocumentsAndMoney,
        Self::Isolation,
        Self::Violence,
        Self::SexualExploitation,
        Self::LivingConditions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Background => "background",
            Self::Recruitment => "recruitment",
            Self::Coercion => "coercion",
            Self::DebtAndLabor => "debt-and-labor",
            Self::DocumentsAndMoney => "documents-and-money",
            Self::Isolation => "isolation",
            Self::Violence => "violence",
            Self::SexualExploitation => "sexual-exploitation",
            Self::LivingConditions => "living-conditions",
        }
    }
}

/// What a "yes" to a question points to: the means (force, fraud, coercion), the kind of
/// exploitation, or the person's age.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Indicator {
    Force,
    Fraud,
    Coercion,
    CommercialSex,
    Labor,
    Minor,
    Adult,
}

impl Indicator {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Force => "force",
            Self::Fraud => "fraud",
            Self::Coercion => "coercion",
            Self::CommercialSex => "commercial-sex",
            Self::Labor => "labor",
            Self::Minor => "minor",
            Self::Adult => "adult",
        }
    }
}

/// The suggested indicator level, lowest first so that `max` picks the strongest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    #[default]
    None,
    Low,
    Moderate,
    High,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Moderate => "moderate",
            Self::High => "high",
        }
    }
}

/// The kind of exploitation a rule points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exploitation {
    Sex,
    Labor,
}

/// The suggested type of trafficking, in the hotline's published categories.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SuggestedType {
    #[default]
    Unknown,
    Sex,
    Labor,
    Both,
}

impl SuggestedType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Sex => "sex",
            Self::Labor => "labor",
            Self::Both => "both",
        }
    }

    fn of(sex: bool, labor: bool) -> Self {
        match (sex, labor) {
            (true, true) => Self::Both,
            (true, false) => Self::Sex,
            (false, true) => Self::Labor,
            (false, false) => Self::Unknown,
        }
    }
}

/// One answer to one question. "Unknown" (the caller does not know) and "declined" (the
/// caller would rather not say) are kept apart because an advocate follows them up
/// differently; neither counts as a yes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    Yes,
    No,
    Unknown,
    Declined,
}

impl Answer {
    pub const ALL: [Self; 4] = [Self::Yes, Self::No, Self::Unknown, Self::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Unknown => "unknown",
            Self::Declined => "declined",
        }
    }

    /// Trimmed, any case.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(raw))
    }
}

/// A question's stable id: lower-case letters, digits and dashes, starting with a letter.
/// Stored answers refer to it, so a question keeps its id for as long as its meaning.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId(String);

impl ItemId {
    fn parse(raw: &str) -> Option<Self> {
        let valid = (1..=64).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        valid.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of this question's field in a form.
    pub fn field(&self) -> String {
        format!("{FIELD_PREFIX}{}", self.0)
    }
}

impl Borrow<str> for ItemId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Form fields `item/<id>` carry answers; other fields belong to the page.
pub const FIELD_PREFIX: &str = "item/";

/// Text in both languages the hotline answers text, chat and forms in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub en: String,
    pub es: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Es => &self.es,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Item {
    pub id: ItemId,
    pub domain: Domain,
    /// Empty for a question asked only to check another (e.g. "paid as promised").
    pub indicates: Vec<Indicator>,
    pub text: Text,
}

/// Answers that cannot all be true at once.
#[derive(Clone, Debug)]
pub struct Contradiction {
    pub id: String,
    pub answers: Vec<(ItemId, Answer)>,
    pub text: Text,
}

/// What a rule counts among the "yes" answers.
#[derive(Clone, Debug)]
pub enum Counted {
    /// How many of these questions were answered yes.
    Items(Vec<ItemId>),
    /// How many of these indicators some yes answer shows.
    Indicators(Vec<Indicator>),
}

/// One requirement of a rule: the count is within `at_least..=at_most`.
#[derive(Clone, Debug)]
pub struct Requirement {
    pub counted: Counted,
    pub at_least: usize,
    pub at_most: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub level: Level,
    /// The kind of exploitation the rule points to, if any.
    pub exploitation: Option<Exploitation>,
    /// All must hold for the rule to fire.
    pub requires: Vec<Requirement>,
    /// Why the rule fired, as an advocate reads it.
    pub text: Text,
}

/// A loaded, checked questionnaire.
#[derive(Clone, Debug)]
pub struct Questionnaire {
    version: u32,
    items: Vec<Item>,
    contradictions: Vec<Contradiction>,
    rules: Vec<Rule>,
}

impl Questionnaire {
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The questions, in the order they are asked.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id.as_str() == id)
    }

    pub fn contradictions(&self) -> &[Contradiction] {
        &self.contradictions
    }

    /// The rules, in file order; every rule that holds fires.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}
