//! Rules of the directory that need no I/O: import problems and their report.

use std::fmt;

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
pub fn editable(table: &super::hsds::tables::Table, field: &super::hsds::tables::Field) -> bool {
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

#[cfg(test)]
mod edit_tests {
    use super::*;
    use crate::directory::hsds::tables;

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
