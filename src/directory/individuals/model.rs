//! What an individual's listing may say, without I/O.

crate::typed_id!(
    /// One listed individual.
    IndividualId
);

/// What an individual offers. Ids are stable; labels are `individual-expertise-{id}`.
pub const EXPERTISE: [&str; 8] = [
    "attorney",
    "immigration-attorney",
    "trainer",
    "researcher",
    "survivor-leader",
    "interpreter",
    "clinician",
    "consultant",
];

/// How someone wants to be reached. A survivor leader may want no direct contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preference {
    /// Email and phone are published.
    Direct,
    /// Only the organization is published; people reach them through it.
    ThroughOrganization,
    /// Nothing is published; the hotline connects people.
    ThroughHotline,
}

impl Preference {
    pub const ALL: [Self; 3] = [
        Self::Direct,
        Self::ThroughOrganization,
        Self::ThroughHotline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::ThroughOrganization => "through-organization",
            Self::ThroughHotline => "through-hotline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s.trim())
    }
}

pub use crate::directory::model::FieldProblem;

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct IndividualForm {
    pub name: String,
    pub title: String,
    pub bio: String,
    /// Lists separated by `;` or `,`.
    pub expertise: String,
    pub languages: String,
    pub states: String,
    pub organization_id: String,
    pub email: String,
    pub phone: String,
    pub preference: String,
    /// "on" when listed publicly (the person agreed).
    pub listed: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Individual {
    pub name: String,
    pub title: String,
    pub bio: String,
    pub expertise: Vec<&'static str>,
    pub languages: Vec<String>,
    /// Two-letter state codes of the region they serve.
    pub states: Vec<String>,
    pub organization_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preference: Preference,
    pub listed: bool,
}

fn items(list: &str) -> impl Iterator<Item = String> {
    list.split([';', ','])
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn bounded(
    value: &str,
    field: &'static str,
    max: usize,
    required: bool,
    problems: &mut Vec<FieldProblem>,
) -> String {
    let value = value.trim();
    if required && value.is_empty() {
        problems.push((field, "individual-problem-required"));
    } else if value.chars().count() > max {
        problems.push((field, "individual-problem-too-long"));
    }
    value.to_owned()
}

impl IndividualForm {
    /// The listing, or every problem with it. `is_state` says whether a code is a
    /// U.S. state or territory.
    pub fn parse(&self, is_state: impl Fn(&str) -> bool) -> Result<Individual, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let name = bounded(&self.name, "name", 200, true, &mut problems);
        let title = bounded(&self.title, "title", 200, false, &mut problems);
        let bio = bounded(&self.bio, "bio", 2_000, false, &mut problems);
        let mut expertise = Vec::new();
        for item in items(&self.expertise) {
            match EXPERTISE.iter().find(|e| **e == item.to_lowercase()) {
                Some(e) if !expertise.contains(e) => expertise.push(*e),
                Some(_) => {}
                None => problems.push(("expertise", "individual-problem-unknown")),
            }
        }
        if expertise.is_empty() && !problems.iter().any(|p| p.0 == "expertise") {
            problems.push(("expertise", "individual-problem-choose"));
        }
        let languages = crate::directory::search::index::language_codes(items(&self.languages))
            .unwrap_or_else(|| {
                problems.push(("languages", "individual-problem-language"));
                Vec::new()
            });
        let mut states = Vec::new();
        for item in items(&self.states) {
            let code = item.to_uppercase();
            if !is_state(&code) {
                problems.push(("states", "individual-problem-state"));
                break;
            }
            if !states.contains(&code) {
                states.push(code);
            }
        }
        let organization_id =
            Some(self.organization_id.trim().to_lowercase()).filter(|s| !s.is_empty());
        if organization_id
            .as_deref()
            .is_some_and(|id| uuid::Uuid::try_parse(id).is_err())
        {
            problems.push(("organization_id", "individual-problem-organization"));
        }
        let email = Some(bounded(&self.email, "email", 200, false, &mut problems))
            .filter(|s| !s.is_empty());
        if email.as_deref().is_some_and(|e| {
            !e.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.contains(char::is_whitespace)
            })
        }) {
            problems.push(("email", "individual-problem-email"));
        }
        let phone =
            Some(bounded(&self.phone, "phone", 40, false, &mut problems)).filter(|s| !s.is_empty());
        if phone.as_deref().is_some_and(|p| {
            p.chars().filter(char::is_ascii_digit).count() < 7
                || !p
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-().x".contains(c))
        }) {
            problems.push(("phone", "individual-problem-phone"));
        }
        let preference = Preference::parse(&self.preference);
        match preference {
            None => problems.push(("preference", "individual-problem-preference")),
            Some(Preference::Direct) if email.is_none() && phone.is_none() => {
                problems.push(("preference", "individual-problem-direct"));
            }
            Some(Preference::ThroughOrganization) if organization_id.is_none() => {
                problems.push(("preference", "individual-problem-organization-needed"));
            }
            Some(_) => {}
        }
        let listed = matches!(self.listed.trim(), "on" | "true" | "yes" | "1");
        match preference {
            Some(preference) if problems.is_empty() => Ok(Individual {
                name,
                title,
                bio,
                expertise,
                languages,
                states,
                organization_id,
                email,
                phone,
                preference,
                listed,
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn form() -> IndividualForm {
        IndividualForm {
            name: "Rosa Example".into(),
            title: "Staff attorney".into(),
            expertise: "immigration-attorney; trainer".into(),
            languages: "Spanish, en".into(),
            states: "tx, NM".into(),
            email: "rosa@example.org".into(),
            preference: "direct".into(),
            listed: "on".into(),
            ..IndividualForm::default()
        }
    }

    fn is_state(s: &str) -> bool {
        matches!(s, "TX" | "NM" | "CA")
    }

    #[test]
    fn a_good_form_parses() {
        let i = form().parse(is_state).unwrap();
        assert_eq!(i.expertise, ["immigration-attorney", "trainer"]);
        assert_eq!(i.languages, ["es", "en"]);
        assert_eq!(i.states, ["TX", "NM"]);
        assert!(i.listed);
    }

    #[test]
    fn the_contact_preference_must_be_possible() {
        let hidden = IndividualForm {
            email: String::new(),
            ..form()
        };
        assert_eq!(
            hidden.parse(is_state).unwrap_err(),
            [("preference", "individual-problem-direct")]
        );
        let through = IndividualForm {
            preference: "through-organization".into(),
            ..form()
        };
        assert_eq!(
            through.parse(is_state).unwrap_err(),
            [("preference", "individual-problem-organization-needed")]
        );
        let hotline = IndividualForm {
            preference: "through-hotline".into(),
            email: String::new(),
            ..form()
        };
        assert!(hotline.parse(is_state).is_ok());
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = IndividualForm {
            name: String::new(),
            expertise: "wizard".into(),
            states: "ZZ".into(),
            organization_id: "not-a-uuid".into(),
            email: "nope".into(),
            phone: "call me".into(),
            ..form()
        };
        let fields: Vec<_> = bad
            .parse(is_state)
            .unwrap_err()
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "expertise",
                "states",
                "organization_id",
                "email",
                "phone"
            ]
        );
    }

    proptest! {
        #[test]
        fn any_form_parses_or_names_a_field(name in ".{0,30}", expertise in ".{0,30}", states in ".{0,12}", phone in ".{0,20}") {
            let f = IndividualForm { name, expertise, states, phone, ..form() };
            if let Err(problems) = f.parse(is_state) {
                prop_assert!(!problems.is_empty());
            }
        }
    }
}
