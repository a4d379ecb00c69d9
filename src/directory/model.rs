//! Rules of the directory that need no I/O: import problems and their report.

use std::collections::HashSet;
use std::fmt;

use super::hsds::dataset::{self, Dataset};
use super::hsds::tables::{self, Field, Reference, Table};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The record cannot be stored as it is.
    Error,
    /// Stored, but something a curator should look at.
    Warning,
}

/// One thing wrong with an imported record, located well enough to fix it:
/// the file, the row (CSV, counting the header as row 1) or record (JSON), the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub file: String,
    pub row: Option<u64>,
    pub field: String,
    pub reason: String,
}

impl Problem {
    pub fn error(file: &str, row: Option<u64>, field: &str, reason: &str) -> Self {
        Self {
            severity: Severity::Error,
            file: file.to_owned(),
            row,
            field: field.to_owned(),
            reason: reason.to_owned(),
        }
    }

    pub fn warning(file: &str, row: Option<u64>, field: &str, reason: &str) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(file, row, field, reason)
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{kind}: {}", self.file)?;
        if let Some(row) = self.row {
            write!(f, " row {row}")?;
        }
        if !self.field.is_empty() {
            write!(f, " field {}", self.field)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Rows written (inserted or updated), by HSDS table.
    pub written: Vec<(&'static str, usize)>,
    pub problems: Vec<Problem>,
}

impl ImportReport {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    pub fn written(&self, table: &str) -> usize {
        self.written
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }
}

const MICROS_PER_DAY: i64 = 24 * 3600 * 1_000_000;

/// How long a listing stays verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vetting {
    pub reverify_months: u32,
    pub grace_days: u32,
}

impl Default for Vetting {
    fn default() -> Self {
        Self {
            reverify_months: 12,
            grace_days: 60,
        }
    }
}

/// Where a listed organization stands with its yearly re-verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Current,
    /// Past due: flagged to advocates, still public during the grace period.
    Overdue,
    /// Past the grace period: out of public results.
    Lapsed,
}

impl Vetting {
    /// When a listing verified at `verified` (microseconds) is due again; a month
    /// counts as 30 days.
    pub fn due_at(&self, verified: i64) -> i64 {
        verified + i64::from(self.reverify_months) * 30 * MICROS_PER_DAY
    }

    /// Listings verified at or after this are public at `now`.
    pub fn public_cutoff(&self, now: i64) -> i64 {
        now - i64::from(self.reverify_months) * 30 * MICROS_PER_DAY
            - i64::from(self.grace_days) * MICROS_PER_DAY
    }

    pub fn standing(&self, verified: Option<i64>, now: i64) -> Standing {
        match verified {
            Some(v) if now < self.due_at(v) => Standing::Current,
            Some(v) if v >= self.public_cutoff(now) => Standing::Overdue,
            _ => Standing::Lapsed,
        }
    }
}

/// What a curator decides about a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// An application becomes a listing.
    Approve,
    Reject,
    /// Checked again: verified now.
    Verify,
    Suspend,
    /// A suspended listing is listed again (and verified now).
    Relist,
}

impl Decision {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "approve" => Self::Approve,
            "reject" => Self::Reject,
            "verify" => Self::Verify,
            "suspend" => Self::Suspend,
            "relist" => Self::Relist,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Verify => "verify",
            Self::Suspend => "suspend",
            Self::Relist => "relist",
        }
    }

    /// The status a listing in `from` moves to, or `None` if the decision does not
    /// apply to it.
    pub fn next(self, from: &str) -> Option<&'static str> {
        match (self, from) {
            (Self::Approve, "applied") | (Self::Verify, "listed") | (Self::Relist, "suspended") => {
                Some("listed")
            }
            (Self::Reject, "applied") => Some("rejected"),
            (Self::Suspend, "listed") => Some("suspended"),
            _ => None,
        }
    }

    /// Whether the decision counts as a fresh verification.
    pub fn verifies(self) -> bool {
        matches!(self, Self::Approve | Self::Verify | Self::Relist)
    }
}

/// An organization's application to be listed, checked field by field.
#[derive(Clone, Debug, PartialEq)]
pub struct Application {
    pub name: String,
    pub description: String,
    pub email: String,
    pub website: Option<String>,
    pub phone: String,
    pub city: String,
    pub state: String,
    pub latitude: f64,
    pub longitude: f64,
    /// Service-type term ids.
    pub service_types: Vec<String>,
    pub languages: Vec<String>,
    pub agrees_referrals: bool,
    pub agrees_warm_transfers: bool,
    pub references: String,
}

/// The application form as sent.
#[derive(Clone, Debug, Default)]
pub struct ApplicationForm {
    pub name: String,
    pub description: String,
    pub email: String,
    pub website: String,
    pub phone: String,
    pub city: String,
    pub state: String,
    pub service_types: Vec<String>,
    pub languages: Vec<String>,
    pub agrees_referrals: bool,
    pub agrees_warm_transfers: bool,
    pub references: String,
}

/// A refused field and the translation id of the reason.
pub type FieldProblem = (&'static str, &'static str);

fn bounded(
    value: &str,
    field: &'static str,
    max: usize,
    problems: &mut Vec<FieldProblem>,
) -> String {
    let value = value.trim();
    if value.is_empty() {
        problems.push((field, "apply-problem-required"));
    } else if value.chars().count() > max {
        problems.push((field, "apply-problem-too-long"));
    }
    value.to_owned()
}

impl ApplicationForm {
    /// The application, or every problem with the form. `known_term` says whether an
    /// id is a shipped service type; `place` finds a town.
    pub fn parse(
        &self,
        known_term: impl Fn(&str) -> bool,
        place: impl Fn(&str, &str) -> Option<(f64, f64)>,
    ) -> Result<Application, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let name = bounded(&self.name, "name", 200, &mut problems);
        let description = bounded(&self.description, "description", 2_000, &mut problems);
        let email = bounded(&self.email, "email", 200, &mut problems);
        if !email.is_empty()
            && !email.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.contains(char::is_whitespace)
            })
        {
            problems.push(("email", "apply-problem-email"));
        }
        let website = Some(self.website.trim().to_owned()).filter(|w| !w.is_empty());
        if website.as_deref().is_some_and(|w| {
            !(w.starts_with("https://") || w.starts_with("http://")) || w.len() > 300
        }) {
            problems.push(("website", "apply-problem-website"));
        }
        let phone = bounded(&self.phone, "phone", 40, &mut problems);
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !phone.is_empty() && !(7..=15).contains(&digits) {
            problems.push(("phone", "apply-problem-phone"));
        }
        let city = bounded(&self.city, "city", 100, &mut problems);
        let state = self.state.trim().to_uppercase();
        let located = place(&city, &state);
        if !city.is_empty() && located.is_none() {
            problems.push(("city", "apply-problem-place"));
        }
        let service_types: Vec<String> = self
            .service_types
            .iter()
            .filter(|t| !t.is_empty())
            .cloned()
            .collect();
        if service_types.is_empty() || !service_types.iter().all(|t| known_term(t)) {
            problems.push(("service_types", "apply-problem-services"));
        }
        let references = bounded(&self.references, "references", 2_000, &mut problems);
        let languages = self
            .languages
            .iter()
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty() && l.len() <= 3 && l.chars().all(|c| c.is_ascii_lowercase()))
            .collect();
        match (problems.is_empty(), located) {
            (true, Some((latitude, longitude))) => Ok(Application {
                name,
                description,
                email,
                website,
                phone,
                city,
                state,
                latitude,
                longitude,
                service_types,
                languages,
                agrees_referrals: self.agrees_referrals,
                agrees_warm_transfers: self.agrees_warm_transfers,
                references,
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_listing_is_current_then_overdue_then_lapsed() {
        let v = Vetting::default();
        let day = MICROS_PER_DAY;
        assert_eq!(v.standing(Some(0), 100 * day), Standing::Current);
        assert_eq!(v.standing(Some(0), 361 * day), Standing::Overdue);
        assert_eq!(v.standing(Some(0), 420 * day), Standing::Overdue);
        assert_eq!(v.standing(Some(0), 421 * day), Standing::Lapsed);
        assert_eq!(v.standing(None, 0), Standing::Lapsed);
    }

    #[test]
    fn decisions_apply_only_where_they_make_sense() {
        assert_eq!(Decision::Approve.next("applied"), Some("listed"));
        assert_eq!(Decision::Approve.next("listed"), None);
        assert_eq!(Decision::Reject.next("listed"), None);
        assert_eq!(Decision::Suspend.next("listed"), Some("suspended"));
        assert_eq!(Decision::Relist.next("suspended"), Some("listed"));
        assert_eq!(Decision::Verify.next("suspended"), None);
        for d in ["approve", "reject", "verify", "suspend", "relist"] {
            assert_eq!(Decision::parse(d).map(Decision::as_str), Some(d));
        }
        assert_eq!(Decision::parse("delete"), None);
    }

    fn form() -> ApplicationForm {
        ApplicationForm {
            name: "Harbor House".into(),
            description: "Shelter".into(),
            email: "intake@harbor.example.org".into(),
            website: "https://harbor.example.org".into(),
            phone: "+1 415 555 0100".into(),
            city: "Oakland".into(),
            state: "ca".into(),
            service_types: vec!["t1".into()],
            languages: vec!["es".into(), "<script>".into()],
            agrees_referrals: true,
            agrees_warm_transfers: false,
            references: "Two partner NGOs".into(),
        }
    }

    #[test]
    fn an_application_names_every_problem() {
        let known = |t: &str| t == "t1";
        let place = |c: &str, s: &str| (c == "Oakland" && s == "CA").then_some((37.8, -122.27));
        let ok = form().parse(known, place).unwrap();
        assert_eq!(ok.state, "CA");
        assert_eq!(ok.languages, ["es"]);
        let bad = ApplicationForm {
            name: String::new(),
            email: "nobody".into(),
            website: "javascript:alert(1)".into(),
            phone: "12".into(),
            city: "Atlantis".into(),
            service_types: vec!["unknown".into()],
            references: "x".repeat(3_000),
            ..form()
        };
        let problems = bad.parse(known, place).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                "name",
                "email",
                "website",
                "phone",
                "city",
                "service_types",
                "references"
            ]
        );
    }

    proptest! {
        #[test]
        fn any_form_is_parsed_without_panicking(name in "\\PC{0,50}", email in "\\PC{0,30}", phone in "\\PC{0,20}", website in "\\PC{0,30}") {
            let f = ApplicationForm { name, email, website, phone, ..form() };
            let _ = f.parse(|_| true, |_, _| Some((0.0, 0.0)));
        }

        #[test]
        fn standing_never_goes_back_as_time_passes(verified in 0i64..1_000_000_000_000_000, a in 0i64..2_000_000_000_000_000, b in 0i64..2_000_000_000_000_000) {
            let v = Vetting::default();
            let rank = |s: Standing| match s { Standing::Current => 0, Standing::Overdue => 1, Standing::Lapsed => 2 };
            let (early, late) = (a.min(b), a.max(b));
            prop_assert!(rank(v.standing(Some(verified), early)) <= rank(v.standing(Some(verified), late)));
        }
    }
}

/// Whether curators edit `field` of `table` in the listing editor: not ids and links
/// (they tie records together; imports change those), not sealed streets.
pub fn editable(table: &Table, field: &Field) -> bool {
    field.name != "id"
        && !field.name.ends_with("_id")
        && !(table.name == "address"
            && super::hsds::tables::SEALED_ADDRESS.contains(&field.name.as_str()))
}

/// The form name of one editable value: `table/id/field`.
pub fn edit_key(table: &str, id: &str, field: &str) -> String {
    format!("{table}/{id}/{field}")
}

/// The parts of a form name made by [`edit_key`].
pub fn parse_edit_key(key: &str) -> Option<(&str, &str, &str)> {
    let mut parts = key.splitn(3, '/');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

/// The records a curator adds to a listing, in the order the editor offers them. The
/// organization itself comes from an application or an import.
pub const ADDABLE: [&str; 14] = [
    "service",
    "location",
    "service_at_location",
    "address",
    "phone",
    "schedule",
    "language",
    "service_area",
    "cost_option",
    "required_document",
    "accessibility",
    "contact",
    "program",
    "funding",
];

/// How a new record is tied into the listing.
#[derive(Debug, PartialEq, Eq)]
pub enum Attach {
    /// To the listing's organization, with nothing to choose.
    Organization,
    /// To one record for each of these links (a service at a location needs both).
    Each(Vec<&'static Reference>),
    /// To one record through any one of these links (a phone belongs to the
    /// organization, a service, a location, a contact or a service at a location).
    AnyOf(Vec<&'static Reference>),
}

/// How a new record of `table` is tied in: by the links HSDS requires, else to the
/// organization when HSDS makes it the owner (services and programs; locations are
/// found through it), else to any one record it may belong to.
pub fn attach(table: &'static Table) -> Attach {
    let required = |column: &str| {
        table
            .column(column)
            .is_some_and(|c| table.fields[c].required)
    };
    let needed: Vec<&Reference> = table
        .references
        .iter()
        .filter(|r| r.column != "organization_id" && required(&r.column))
        .collect();
    if !needed.is_empty() {
        Attach::Each(needed)
    } else if table.name == "location" || required("organization_id") {
        Attach::Organization
    } else {
        Attach::AnyOf(table.references.iter().collect())
    }
}

/// The values a new record of `table` needs at once: its required fields (an address's
/// street and postal code among them; they are sealed if its location is confidential).
/// The rest are filled in the editor afterwards.
pub fn asked_when_adding(table: &Table) -> impl Iterator<Item = &Field> {
    table
        .fields
        .iter()
        .filter(|f| f.required && f.name != "id" && !f.name.ends_with("_id"))
}

/// A record as a curator recognizes it: its name, else what it says most (a phone's
/// number, an address's city), else the start of its id.
pub fn recognizable(table: &Table, id: &str, cells: &dataset::Cells) -> String {
    [
        "name",
        "number",
        "city",
        "language",
        "description",
        "weekday",
    ]
    .iter()
    .find_map(|column| dataset::text(table, cells, column))
    .map_or_else(|| id.chars().take(8).collect(), str::to_owned)
}

/// Records no deletion in a listing takes with it: the organization (delisted, not
/// deleted), the shared taxonomy and the change history.
const NEVER_CASCADED: [&str; 5] = [
    "organization",
    "taxonomy",
    "taxonomy_term",
    "metadata",
    "meta_table_description",
];

/// Everything deleting `id` of `table` takes with it, itself first: the records of
/// the listing `data` that belong to it (a service's phones, hours and places; a
/// location's address), and theirs, so nothing is left pointing at nothing.
pub fn cascade(data: &Dataset, table: &'static Table, id: &str) -> Vec<(&'static Table, String)> {
    let mut gone: Vec<(&'static Table, String)> = vec![(table, id.to_owned())];
    let mut seen: HashSet<(String, String)> = HashSet::from([(table.name.clone(), id.to_owned())]);
    let owned = tables::all()
        .iter()
        .filter(|t| !NEVER_CASCADED.contains(&t.name.as_str()));
    loop {
        let before = gone.len();
        for owner in owned.clone() {
            for (row_id, cells) in data.rows(&owner.name) {
                let key = (owner.name.clone(), row_id.to_owned());
                if seen.contains(&key) {
                    continue;
                }
                let linked = |column: &str, target: &str| {
                    owner
                        .column(column)
                        .and_then(|c| dataset::text_at(cells, c))
                        .is_some_and(|to| seen.contains(&(target.to_owned(), to.to_owned())))
                };
                let belongs = owner.references.iter().any(|r| linked(&r.column, &r.table))
                    || (owner.name == "attribute"
                        && dataset::text(owner, cells, "link_entity")
                            .is_some_and(|entity| linked("link_id", entity)));
                if belongs {
                    seen.insert(key);
                    gone.push((owner, row_id.to_owned()));
                }
            }
        }
        if gone.len() == before {
            return gone;
        }
    }
}

#[cfg(test)]
mod edit_tests {
    use super::*;
    use crate::directory::hsds::tables;

    fn row(data: &mut Dataset, table: &str, values: &[(&str, &str)]) {
        let table = tables::get(table).unwrap();
        let mut cells = crate::directory::hsds::dataset::Cells::empty(table.fields.len());
        for (column, value) in values {
            dataset::set(
                table,
                &mut cells,
                column,
                Some(crate::directory::hsds::value::Cell::Text((*value).into())),
            );
        }
        data.merge(table, cells, (&std::sync::Arc::from("test"), 1));
    }

    #[test]
    fn new_records_are_tied_in_by_the_links_hsds_asks_for() {
        let columns = |a: Attach| match a {
            Attach::Organization => vec![],
            Attach::Each(r) | Attach::AnyOf(r) => r.iter().map(|r| r.column.as_str()).collect(),
        };
        let get = |t| tables::get(t).unwrap();
        assert_eq!(attach(get("service")), Attach::Organization);
        assert_eq!(attach(get("location")), Attach::Organization);
        assert_eq!(attach(get("program")), Attach::Organization);
        assert!(matches!(
            attach(get("service_at_location")),
            Attach::Each(_)
        ));
        assert_eq!(
            columns(attach(get("service_at_location"))),
            ["service_id", "location_id"]
        );
        assert_eq!(columns(attach(get("cost_option"))), ["service_id"]);
        assert!(matches!(attach(get("phone")), Attach::AnyOf(_)));
        assert!(columns(attach(get("phone"))).contains(&"organization_id"));
        assert_eq!(columns(attach(get("address"))), ["location_id"]);
        let asked: Vec<&str> = asked_when_adding(get("address"))
            .map(|f| f.name.as_str())
            .collect();
        assert!(asked.contains(&"address_1") && asked.contains(&"city"));
        assert!(!asked.contains(&"id") && !asked.contains(&"location_id"));
        for name in ADDABLE {
            assert!(tables::get(name).is_some(), "{name}");
        }
    }

    #[test]
    fn deleting_a_record_takes_what_belongs_to_it_and_nothing_else() {
        let mut data = Dataset::default();
        row(&mut data, "organization", &[("id", "o")]);
        row(
            &mut data,
            "service",
            &[("id", "s1"), ("organization_id", "o")],
        );
        row(
            &mut data,
            "service",
            &[("id", "s2"), ("organization_id", "o")],
        );
        row(
            &mut data,
            "location",
            &[("id", "l"), ("organization_id", "o")],
        );
        row(&mut data, "address", &[("id", "a"), ("location_id", "l")]);
        row(
            &mut data,
            "service_at_location",
            &[("id", "sal"), ("service_id", "s1"), ("location_id", "l")],
        );
        row(
            &mut data,
            "phone",
            &[("id", "p-sal"), ("service_at_location_id", "sal")],
        );
        row(
            &mut data,
            "language",
            &[("id", "lang"), ("phone_id", "p-sal")],
        );
        row(
            &mut data,
            "phone",
            &[("id", "p-org"), ("organization_id", "o")],
        );
        row(
            &mut data,
            "schedule",
            &[("id", "sch2"), ("service_id", "s2")],
        );
        row(
            &mut data,
            "attribute",
            &[
                ("id", "attr1"),
                ("link_id", "s1"),
                ("link_entity", "service"),
                ("taxonomy_term_id", "t"),
            ],
        );
        row(
            &mut data,
            "attribute",
            &[
                ("id", "attr-o"),
                ("link_id", "s1"),
                ("link_entity", "organization"),
                ("taxonomy_term_id", "t"),
            ],
        );
        row(&mut data, "taxonomy_term", &[("id", "t")]);
        let gone = |table: &str, id: &str| -> Vec<String> {
            let mut g: Vec<String> = cascade(&data, tables::get(table).unwrap(), id)
                .into_iter()
                .map(|(t, id)| format!("{}/{id}", t.name))
                .collect();
            g.sort();
            g
        };
        assert_eq!(
            gone("service", "s1"),
            [
                "attribute/attr1",
                "language/lang",
                "phone/p-sal",
                "service/s1",
                "service_at_location/sal"
            ]
        );
        assert_eq!(
            gone("location", "l"),
            [
                "address/a",
                "language/lang",
                "location/l",
                "phone/p-sal",
                "service_at_location/sal"
            ]
        );
        assert_eq!(gone("phone", "p-org"), ["phone/p-org"]);
        assert_eq!(gone("service", "s2"), ["schedule/sch2", "service/s2"]);
    }

    #[test]
    fn ids_links_and_sealed_streets_are_not_editable() {
        let address = tables::get("address").unwrap();
        let editable_fields: Vec<&str> = address
            .fields
            .iter()
            .filter(|f| editable(address, f))
            .map(|f| f.name.as_str())
            .collect();
        assert!(editable_fields.contains(&"city"));
        for locked in ["id", "location_id", "address_1", "postal_code"] {
            assert!(!editable_fields.contains(&locked), "{locked}");
        }
        let key = edit_key("service", "abc", "name");
        assert_eq!(parse_edit_key(&key), Some(("service", "abc", "name")));
        assert_eq!(parse_edit_key("nonsense"), None);
    }
}

/// A note on a listing: trimmed, 1 to 2,000 characters.
pub fn listing_note(given: &str) -> Option<String> {
    let note = given.trim();
    (!note.is_empty() && note.chars().count() <= 2_000).then(|| note.to_owned())
}
