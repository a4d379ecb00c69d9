//! A hotline case described: its status, the potential victims, where the exploitation
//! happens (venue or industry), the means of control and the recruitment, in the lists
//! of data/hotline/case-typology.toml (the means of control are HTCDS 2.0's, and each
//! labor venue names its HTCDS industry).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contact::{Refusals, TEXT_MAX, TraffickingType};

const SHIPPED_TEXT: &str = include_str!("../../../data/hotline/case-typology.toml");

static SHIPPED: LazyLock<Typology> = LazyLock::new(|| {
    // The file is part of the binary and a unit test loads it.
    #[allow(clippy::expect_used)]
    Typology::load(SHIPPED_TEXT).expect("data/hotline/case-typology.toml is a valid typology")
});

/// The lists atip ships.
pub fn typology() -> &'static Typology {
    &SHIPPED
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VenueKind {
    Sex,
    Labor,
    Both,
}

/// A venue or industry.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Venue {
    pub code: String,
    pub kind: VenueKind,
    /// The HTCDS 2.0 Tier 1 industry (ISIC section) it maps to.
    #[serde(default)]
    pub htcds: Option<String>,
    pub en: String,
    pub es: String,
    /// Kept for the records that name it; not offered for new ones.
    #[serde(default)]
    pub retired: bool,
}

/// A means of control or a form of recruitment.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub code: String,
    pub en: String,
    pub es: String,
    #[serde(default)]
    pub retired: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Typology {
    pub venues: Vec<Venue>,
    pub means_of_control: Vec<Term>,
    pub recruitment: Vec<Term>,
}

impl Typology {
    pub fn load(text: &str) -> Result<Self, String> {
        let typology: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        let lists = [
            (
                "venues",
                typology.venues.iter().map(|v| &v.code).collect::<Vec<_>>(),
            ),
            (
                "means_of_control",
                typology.means_of_control.iter().map(|t| &t.code).collect(),
            ),
            (
                "recruitment",
                typology.recruitment.iter().map(|t| &t.code).collect(),
            ),
        ];
        for (list, codes) in lists {
            let unique: BTreeSet<&&String> = codes.iter().collect();
            if codes.is_empty() || unique.len() != codes.len() || codes.iter().any(|c| c.is_empty())
            {
                return Err(format!(
                    "{list}: codes must be present, non-empty and unique"
                ));
            }
        }
        Ok(typology)
    }

    fn offers_venue(&self, code: &str) -> bool {
        self.venues.iter().any(|v| v.code == code && !v.retired)
    }

    fn offers(terms: &[Term], code: &str) -> bool {
        terms.iter().any(|t| t.code == code && !t.retired)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CaseStatus {
    Open,
    /// Nothing to do now; kept open for what may come.
    Monitoring,
    Closed,
}

/// The advocates' determination of the indicator level, after screening suggested one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Determination {
    High,
    Moderate,
    Low,
    #[serde(rename = "none")]
    NoIndicators,
}

/// Genders of the potential victims, as a caller can tell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Gender {
    Female,
    Male,
    TransgenderOrNonbinary,
    Unknown,
}

/// A case's description as sent. Every list replaces the stored one.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseForm {
    pub status: CaseStatus,
    pub trafficking_type: TraffickingType,
    /// The advocates' determination of the indicator level.
    #[serde(default)]
    pub determination: Option<Determination>,
    /// How many potential victims, if known.
    #[serde(default)]
    pub potential_victims: Option<u32>,
    /// Whether any is under 18, if known.
    #[serde(default)]
    pub minors_involved: Option<bool>,
    #[serde(default)]
    pub genders: Vec<Gender>,
    /// ISO 3166-1 alpha-2 codes, where known.
    #[serde(default)]
    pub nationalities: Vec<String>,
    /// Codes from the typology's venues.
    #[serde(default)]
    pub venues: Vec<String>,
    /// Codes from the typology's means of control (HTCDS field names).
    #[serde(default)]
    pub means_of_control: Vec<String>,
    #[serde(default)]
    pub recruitment: Vec<String>,
    /// Where the exploitation happens: a city and a two-letter state.
    #[serde(default)]
    pub exploitation_city: Option<String>,
    #[serde(default)]
    pub exploitation_state: Option<String>,
    /// Names, descriptions and roles of persons of interest (sealed).
    #[serde(default)]
    pub persons_of_interest: Option<String>,
    /// The situation in the advocates' words (sealed).
    #[serde(default)]
    pub summary: Option<String>,
}

/// The codes of a case, stored together (none of them names a person).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct CaseCodes {
    pub genders: Vec<Gender>,
    pub nationalities: Vec<String>,
    pub venues: Vec<String>,
    pub means_of_control: Vec<String>,
    pub recruitment: Vec<String>,
}

/// A case's description, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseDetails {
    pub status: CaseStatus,
    pub trafficking_type: TraffickingType,
    pub determination: Option<Determination>,
    pub potential_victims: Option<u32>,
    pub minors_involved: Option<bool>,
    pub codes: CaseCodes,
    pub exploitation_city: Option<String>,
    pub exploitation_state: Option<String>,
    pub persons_of_interest: Option<String>,
    pub summary: Option<String>,
}

/// More people than one situation the hotline hears of holds; a typing error.
const MOST_VICTIMS: u32 = 10_000;

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    items
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn text(value: Option<&String>, max: usize) -> Result<Option<String>, ()> {
    match value.map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > max => Err(()),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

impl CaseForm {
    pub fn parse(&self, typology: &Typology) -> Result<CaseDetails, Refusals> {
        let mut refusals = Refusals::new();
        if self.potential_victims.is_some_and(|n| n > MOST_VICTIMS) {
            refusals.insert("potential_victims", "is more than 10,000");
        }
        if self.minors_involved == Some(true) && self.potential_victims == Some(0) {
            refusals.insert(
                "minors_involved",
                "a minor is involved, but there are no potential victims",
            );
        }
        let nationalities: Vec<String> = self
            .nationalities
            .iter()
            .map(|n| n.trim().to_ascii_uppercase())
            .collect();
        if nationalities
            .iter()
            .any(|n| n.len() != 2 || !n.chars().all(|c| c.is_ascii_uppercase()))
        {
            refusals.insert(
                "nationalities",
                "give two-letter country codes (ISO 3166-1)",
            );
        }
        if self.venues.iter().any(|v| !typology.offers_venue(v)) {
            refusals.insert("venues", "use codes from the case typology");
        }
        if self
            .means_of_control
            .iter()
            .any(|m| !Typology::offers(&typology.means_of_control, m))
        {
            refusals.insert("means_of_control", "use codes from the case typology");
        }
        if self
            .recruitment
            .iter()
            .any(|r| !Typology::offers(&typology.recruitment, r))
        {
            refusals.insert("recruitment", "use codes from the case typology");
        }
        let city = text(self.exploitation_city.as_ref(), 200).unwrap_or_else(|()| {
            refusals.insert("exploitation_city", "is longer than 200 characters");
            None
        });
        let state = text(self.exploitation_state.as_ref(), 2)
            .unwrap_or_else(|()| {
                refusals.insert(
                    "exploitation_state",
                    "is not a U.S. state or territory code",
                );
                None
            })
            .map(|s| s.to_ascii_uppercase());
        if state
            .as_deref()
            .is_some_and(|s| crate::directory::search::load::state_named(s) != Some(s))
        {
            refusals.insert(
                "exploitation_state",
                "is not a U.S. state or territory code",
            );
        }
        let persons = text(self.persons_of_interest.as_ref(), TEXT_MAX).unwrap_or_else(|()| {
            refusals.insert("persons_of_interest", "is longer than 50,000 characters");
            None
        });
        let summary = text(self.summary.as_ref(), TEXT_MAX).unwrap_or_else(|()| {
            refusals.insert("summary", "is longer than 50,000 characters");
            None
        });
        if !refusals.is_empty() {
            return Err(refusals);
        }
        Ok(CaseDetails {
            status: self.status,
            trafficking_type: self.trafficking_type,
            determination: self.determination,
            potential_victims: self.potential_victims,
            minors_involved: self.minors_involved,
            codes: CaseCodes {
                genders: sorted(&self.genders),
                nationalities: sorted(&nationalities),
                venues: sorted(&self.venues),
                means_of_control: sorted(&self.means_of_control),
                recruitment: sorted(&self.recruitment),
            },
            exploitation_city: city,
            exploitation_state: state,
            persons_of_interest: persons,
            summary,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// HTCDS 2.0's methods of control and Tier 1 industries, copied from its field
    /// definitions.
    const HTCDS_CONTROL: [&str; 17] = [
        "MethodsOfControlDebtBondage",
        "MethodsOfControlTakesEarnings",
        "MethodsOfControlRestrictsFinancialAccess",
        "MethodsOfControlThreats",
        "MethodsOfControlPsychologicalAbuse",
        "MethodsOfControlPhysicalAbuse",
        "MethodsOfControlSexualAbuse",
        "MethodsOfControlFalsePromises",
        "MethodsOfControlPsychoactiveSubstances",
        "MethodsOfControlRestrictsMovement",
        "MethodsOfControlRestrictsMedicalCare",
        "MethodsOfControlExcessiveWorkingHours",
        "MethodsOfControlUsesChildren",
        "MethodsOfControlThreatOfLawEnforcement",
        "MethodsOfControlWithholdsNecessities",
        "MethodsOfControlWithholdsDocuments",
        "MethodsOfControlOther",
    ];
    const HTCDS_INDUSTRIES: [&str; 21] = [
        "A_AgricultureForestryAndFishing",
        "B_MiningAndQuarrying",
        "C_Manufacturing",
        "D_ElectricityGasSteamAndAirConditioningSupply",
        "E_WaterSupplySewerageWasteManagement",
        "F_Construction",
        "G_WholesaleAndRetailTradeRepairOfMotorVehicles",
        "H_TransportationAndStorage",
        "I_AccommodationAndFoodServiceActivities",
        "J_InformationAndCommunication",
        "K_FinancialAndInsuranceActivities",
        "L_RealEstateActivities",
        "M_ProfessionalScientificAndTechnicalActivities",
        "N_AdministrativeAndSupportServiceActivities",
        "O_PublicAdministrationAndDefence",
        "P_Education",
        "Q_HumanHealthAndSocialWorkActivities",
        "R_ArtsEntertainmentAndRecreation",
        "S_OtherServiceActivities",
        "T_ActivitiesOfHouseholdsAsEmployers",
        "U_ActivitiesOfExtraterritorialOrganizations",
    ];

    #[test]
    fn the_shipped_typology_follows_htcds() {
        let t = typology();
        let control: Vec<&str> = t.means_of_control.iter().map(|m| m.code.as_str()).collect();
        assert_eq!(control, HTCDS_CONTROL);
        for venue in &t.venues {
            if let Some(industry) = &venue.htcds {
                assert!(
                    HTCDS_INDUSTRIES.contains(&industry.as_str()),
                    "{}",
                    venue.code
                );
            }
            // Every labor venue says which industry it is.
            if venue.kind == VenueKind::Labor && venue.code != "illicit-activities" {
                assert!(
                    venue.htcds.is_some(),
                    "{} has no HTCDS industry",
                    venue.code
                );
            }
            assert!(!venue.en.is_empty() && !venue.es.is_empty());
        }
        assert!(Typology::load("venues = []\nmeans_of_control = []\nrecruitment = []").is_err());
        assert!(Typology::load("surprise = 1").is_err());
    }

    fn form() -> CaseForm {
        CaseForm {
            status: CaseStatus::Open,
            trafficking_type: TraffickingType::Labor,
            determination: Some(Determination::High),
            potential_victims: Some(6),
            minors_involved: Some(true),
            genders: vec![Gender::Male, Gender::Female, Gender::Male],
            nationalities: vec!["gt".into(), "MX".into()],
            venues: vec!["agriculture".into()],
            means_of_control: vec![
                "MethodsOfControlWithholdsDocuments".into(),
                "MethodsOfControlDebtBondage".into(),
            ],
            recruitment: vec!["job-offer".into()],
            exploitation_city: Some(" Fresno ".into()),
            exploitation_state: Some("ca".into()),
            persons_of_interest: Some("Crew leader".into()),
            summary: None,
        }
    }

    #[test]
    fn a_case_form_is_checked_against_the_typology() {
        let details = form().parse(typology()).unwrap();
        assert_eq!(details.codes.genders, vec![Gender::Female, Gender::Male]);
        assert_eq!(details.codes.nationalities, vec!["GT", "MX"]);
        assert_eq!(details.exploitation_city.as_deref(), Some("Fresno"));
        assert_eq!(details.exploitation_state.as_deref(), Some("CA"));
        let bad = CaseForm {
            potential_victims: Some(0),
            nationalities: vec!["Guatemala".into()],
            venues: vec!["moon-base".into()],
            means_of_control: vec!["Threats".into()],
            recruitment: vec!["raffle".into()],
            exploitation_state: Some("ZZ".into()),
            ..form()
        };
        let refused = bad.parse(typology()).unwrap_err();
        let fields: Vec<&str> = refused.keys().copied().collect();
        assert_eq!(
            fields,
            vec![
                "exploitation_state",
                "means_of_control",
                "minors_involved",
                "nationalities",
                "recruitment",
                "venues"
            ]
        );
        let many = CaseForm {
            potential_victims: Some(10_001),
            ..form()
        };
        assert!(
            many.parse(typology())
                .unwrap_err()
                .contains_key("potential_victims")
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_keeps_only_known_codes(
            venues in prop::collection::vec("[a-z-]{0,20}", 0..4),
            nationalities in prop::collection::vec(".{0,4}", 0..3),
            victims in proptest::option::of(0u32..20_000),
        ) {
            let candidate = CaseForm { venues, nationalities, potential_victims: victims, ..form() };
            if let Ok(details) = candidate.parse(typology()) {
                for v in &details.codes.venues {
                    prop_assert!(typology().venues.iter().any(|t| &t.code == v));
                }
                prop_assert!(details.potential_victims.unwrap_or(0) <= 10_000);
            }
        }
    }
}
