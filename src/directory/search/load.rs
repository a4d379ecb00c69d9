//! Builds the referral documents of listed services from the directory tables.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use jiff::tz::TimeZone;

use super::index::{Doc, language_code};
use super::model::{Hours, Point, Window};
use crate::directory::hsds::dataset::{self, Cells};
use crate::directory::hsds::tables::{self, REDACTED, Table};
use crate::directory::{store, taxonomy};
use crate::kernel::db::Db;
use crate::kernel::places;

/// The shipped term that carries a bed count in its attribute's `value`.
const BEDS_REPORTED: &str = "bd1af5dd-0377-5e75-8031-61e0783b5098";

fn table(name: &str) -> Result<&'static Table, sqlx::Error> {
    tables::get(name).ok_or_else(|| sqlx::Error::Protocol(format!("no HSDS table {name}")))
}

/// Rows of `t` whose `column` is one of `ids`, or all rows when `ids` is `None`.
async fn fetch(
    db: &Db,
    t: &Table,
    column: &str,
    ids: Option<&[String]>,
) -> Result<Vec<Cells>, sqlx::Error> {
    match ids {
        Some(ids) => store::where_in(db.reader(), t, column, ids).await,
        None => store::all(db.reader(), t).await,
    }
}

fn id(cells: &Cells) -> String {
    cells
        .first()
        .cloned()
        .flatten()
        .and_then(|c| c.as_text().map(str::to_owned))
        .unwrap_or_default()
}

fn group<'a>(t: &Table, rows: &'a [Cells], column: &str) -> HashMap<String, Vec<&'a Cells>> {
    let mut out: HashMap<String, Vec<&Cells>> = HashMap::new();
    for row in rows {
        if let Some(key) = dataset::text(t, row, column) {
            out.entry(key.to_owned()).or_default().push(row);
        }
    }
    out
}

/// The time zone of most people in each state, for locations whose town is not in
/// the gazetteer.
static STATE_ZONES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut best: HashMap<String, (u32, String)> = HashMap::new();
    for place in places::all() {
        let entry = best
            .entry(place.state.clone())
            .or_insert((0, place.timezone.clone()));
        if place.population > entry.0 {
            *entry = (place.population, place.timezone.clone());
        }
    }
    best.into_iter().map(|(s, (_, z))| (s, z)).collect()
});

const STATE_NAMES: [(&str, &str); 52] = [
    ("AL", "alabama"),
    ("AK", "alaska"),
    ("AZ", "arizona"),
    ("AR", "arkansas"),
    ("CA", "california"),
    ("CO", "colorado"),
    ("CT", "connecticut"),
    ("DE", "delaware"),
    ("DC", "district of columbia"),
    ("FL", "florida"),
    ("GA", "georgia"),
    ("HI", "hawaii"),
    ("ID", "idaho"),
    ("IL", "illinois"),
    ("IN", "indiana"),
    ("IA", "iowa"),
    ("KS", "kansas"),
    ("KY", "kentucky"),
    ("LA", "louisiana"),
    ("ME", "maine"),
    ("MD", "maryland"),
    ("MA", "massachusetts"),
    ("MI", "michigan"),
    ("MN", "minnesota"),
    ("MS", "mississippi"),
    ("MO", "missouri"),
    ("MT", "montana"),
    ("NE", "nebraska"),
    ("NV", "nevada"),
    ("NH", "new hampshire"),
    ("NJ", "new jersey"),
    ("NM", "new mexico"),
    ("NY", "new york"),
    ("NC", "north carolina"),
    ("ND", "north dakota"),
    ("OH", "ohio"),
    ("OK", "oklahoma"),
    ("OR", "oregon"),
    ("PA", "pennsylvania"),
    ("RI", "rhode island"),
    ("SC", "south carolina"),
    ("SD", "south dakota"),
    ("TN", "tennessee"),
    ("TX", "texas"),
    ("UT", "utah"),
    ("VT", "vermont"),
    ("VA", "virginia"),
    ("WA", "washington"),
    ("WV", "west virginia"),
    ("WI", "wisconsin"),
    ("WY", "wyoming"),
    ("PR", "puerto rico"),
];

/// The U.S. state a service area names (`CA`, `California`, `State of California`).
pub fn state_named(text: &str) -> Option<&'static str> {
    let lower = text.trim().to_lowercase();
    let lower = lower
        .strip_prefix("state of ")
        .unwrap_or(&lower)
        .trim_end_matches(" statewide");
    STATE_NAMES
        .iter()
        .find(|(code, name)| code.eq_ignore_ascii_case(lower) || *name == lower)
        .map(|(code, _)| *code)
}

fn zone(city: Option<&str>, state: Option<&str>) -> Option<TimeZone> {
    let state = state?;
    let name = city
        .and_then(|c| places::find(c, state))
        .map(|p| p.timezone.clone())
        .or_else(|| STATE_ZONES.get(&state.to_uppercase()).cloned())?;
    TimeZone::get(&name).ok()
}

struct Terms {
    parent: HashMap<String, String>,
    names: HashMap<String, Vec<String>>,
}

impl Terms {
    async fn load(db: &Db) -> Result<Self, sqlx::Error> {
        let t = table("taxonomy_term")?;
        let rows = store::all(db.reader(), t).await?;
        let mut parent = HashMap::new();
        let mut names: HashMap<String, Vec<String>> = HashMap::new();
        for row in &rows {
            let id = id(row);
            if let Some(p) = dataset::text(t, row, "parent_id") {
                parent.insert(id.clone(), p.to_owned());
            }
            if let Some(n) = dataset::text(t, row, "name") {
                names.entry(id).or_default().push(n.to_owned());
            }
        }
        // The Spanish labels of the shipped taxonomy let Spanish words find services.
        for term in taxonomy::terms() {
            names
                .entry(term.id.clone())
                .or_default()
                .push(term.name_es.clone());
        }
        Ok(Self { parent, names })
    }

    /// The term and its ancestors.
    fn with_ancestors(&self, term: &str) -> Vec<String> {
        let mut out = vec![term.to_owned()];
        let mut at = term;
        while let Some(p) = self.parent.get(at) {
            if out.contains(p) {
                break;
            }
            out.push(p.clone());
            at = p;
        }
        out
    }
}

/// The HSDS tables the documents are built from.
struct Tables {
    service: &'static Table,
    organization: &'static Table,
    sal: &'static Table,
    location: &'static Table,
    address: &'static Table,
    attribute: &'static Table,
    language: &'static Table,
    schedule: &'static Table,
    area: &'static Table,
    phone: &'static Table,
}

impl Tables {
    fn get() -> Result<Self, sqlx::Error> {
        Ok(Self {
            service: table("service")?,
            organization: table("organization")?,
            sal: table("service_at_location")?,
            location: table("location")?,
            address: table("address")?,
            attribute: table("attribute")?,
            language: table("language")?,
            schedule: table("schedule")?,
            area: table("service_area")?,
            phone: table("phone")?,
        })
    }
}

fn column_values(t: &Table, rows: &[Cells], column: &str) -> Vec<String> {
    rows.iter()
        .filter_map(|r| dataset::text(t, r, column).map(str::to_owned))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect()
}

/// The rows related to a set of services, fetched table by table.
struct Related {
    organizations: Vec<Cells>,
    sals: Vec<Cells>,
    locations: Vec<Cells>,
    addresses: Vec<Cells>,
    attributes: Vec<Cells>,
    languages: Vec<Cells>,
    phone_languages: Vec<Cells>,
    location_languages: Vec<Cells>,
    schedules: Vec<Cells>,
    sal_schedules: Vec<Cells>,
    areas: Vec<Cells>,
    phones: Vec<Cells>,
}

impl Related {
    /// With `full`, whole tables (one query each, for a rebuild); otherwise only the
    /// rows of these services.
    async fn fetch(
        db: &Db,
        t: &Tables,
        services: &[Cells],
        full: bool,
    ) -> Result<Self, sqlx::Error> {
        let scope = |ids: Vec<String>| (!full).then_some(ids);
        let service_ids: Vec<String> = services.iter().map(id).collect();
        let organizations = fetch(
            db,
            t.organization,
            "id",
            scope(column_values(t.service, services, "organization_id")).as_deref(),
        )
        .await?;
        let sals = fetch(
            db,
            t.sal,
            "service_id",
            scope(service_ids.clone()).as_deref(),
        )
        .await?;
        let sal_ids: Vec<String> = sals.iter().map(id).collect();
        let location_ids = column_values(t.sal, &sals, "location_id");
        let locations = fetch(db, t.location, "id", scope(location_ids.clone()).as_deref()).await?;
        let addresses = fetch(
            db,
            t.address,
            "location_id",
            scope(location_ids.clone()).as_deref(),
        )
        .await?;
        let mut linked = service_ids.clone();
        linked.extend(sal_ids.iter().cloned());
        let attributes = fetch(db, t.attribute, "link_id", scope(linked).as_deref()).await?;
        let languages = fetch(
            db,
            t.language,
            "service_id",
            scope(service_ids.clone()).as_deref(),
        )
        .await?;
        let schedules = fetch(
            db,
            t.schedule,
            "service_id",
            scope(service_ids.clone()).as_deref(),
        )
        .await?;
        let sal_schedules = fetch(
            db,
            t.schedule,
            "service_at_location_id",
            scope(sal_ids).as_deref(),
        )
        .await?;
        let areas = fetch(
            db,
            t.area,
            "service_id",
            scope(service_ids.clone()).as_deref(),
        )
        .await?;
        let phones = fetch(db, t.phone, "service_id", scope(service_ids).as_deref()).await?;
        // Languages are often given per phone line or per location, not per service.
        let phone_ids: Vec<String> = phones.iter().map(id).collect();
        let phone_languages =
            fetch(db, t.language, "phone_id", scope(phone_ids).as_deref()).await?;
        let location_languages = fetch(
            db,
            t.language,
            "location_id",
            scope(location_ids).as_deref(),
        )
        .await?;
        Ok(Self {
            organizations,
            sals,
            locations,
            addresses,
            attributes,
            languages,
            phone_languages,
            location_languages,
            schedules,
            sal_schedules,
            areas,
            phones,
        })
    }
}

/// The related rows by the id they belong to.
struct Groups<'a> {
    t: &'a Tables,
    terms: &'a Terms,
    listed: &'a HashMap<String, Option<i64>>,
    organization_names: HashMap<String, String>,
    locations: HashMap<String, &'a Cells>,
    sals: HashMap<String, Vec<&'a Cells>>,
    addresses: HashMap<String, Vec<&'a Cells>>,
    attributes: HashMap<String, Vec<&'a Cells>>,
    languages: HashMap<String, Vec<&'a Cells>>,
    phone_languages: HashMap<String, Vec<&'a Cells>>,
    location_languages: HashMap<String, Vec<&'a Cells>>,
    schedules: HashMap<String, Vec<&'a Cells>>,
    sal_schedules: HashMap<String, Vec<&'a Cells>>,
    areas: HashMap<String, Vec<&'a Cells>>,
    phones: HashMap<String, Vec<&'a Cells>>,
}

impl<'a> Groups<'a> {
    fn new(
        t: &'a Tables,
        r: &'a Related,
        terms: &'a Terms,
        listed: &'a HashMap<String, Option<i64>>,
    ) -> Self {
        Self {
            t,
            terms,
            listed,
            organization_names: r
                .organizations
                .iter()
                .map(|o| {
                    (
                        id(o),
                        dataset::text(t.organization, o, "name")
                            .unwrap_or_default()
                            .to_owned(),
                    )
                })
                .collect(),
            locations: r.locations.iter().map(|l| (id(l), l)).collect(),
            sals: group(t.sal, &r.sals, "service_id"),
            addresses: group(t.address, &r.addresses, "location_id"),
            attributes: group(t.attribute, &r.attributes, "link_id"),
            languages: group(t.language, &r.languages, "service_id"),
            phone_languages: group(t.language, &r.phone_languages, "phone_id"),
            location_languages: group(t.language, &r.location_languages, "location_id"),
            schedules: group(t.schedule, &r.schedules, "service_id"),
            sal_schedules: group(t.schedule, &r.sal_schedules, "service_at_location_id"),
            areas: group(t.area, &r.areas, "service_id"),
            phones: group(t.phone, &r.phones, "service_id"),
        }
    }

    fn rows<'m>(
        map: &'m HashMap<String, Vec<&'a Cells>>,
        key: &str,
    ) -> impl Iterator<Item = &'a Cells> + use<'a, 'm> {
        map.get(key).into_iter().flatten().copied()
    }

    fn language_codes(&self, rows: impl Iterator<Item = &'a Cells>) -> Vec<String> {
        let l = self.t.language;
        let mut codes: Vec<String> = rows
            .filter_map(|r| dataset::text(l, r, "code").or_else(|| dataset::text(l, r, "name")))
            .map(language_code)
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }

    fn windows(&self, rows: impl Iterator<Item = &'a Cells>) -> Vec<Window> {
        rows.filter_map(|s| {
            let t = |c: &str| dataset::text(self.t.schedule, s, c);
            Window::from_schedule(t("freq"), t("byday"), t("opens_at"), t("closes_at"))
        })
        .collect()
    }

    /// Term ids (with ancestors) attached to `link`, and a bed count if reported.
    fn terms_of(&self, link: &str) -> (Vec<String>, Option<u32>) {
        let mut ids = Vec::new();
        let mut beds = None;
        for a in Self::rows(&self.attributes, link) {
            let Some(term) = dataset::text(self.t.attribute, a, "taxonomy_term_id") else {
                continue;
            };
            if term == BEDS_REPORTED {
                beds =
                    dataset::text(self.t.attribute, a, "value").and_then(|v| v.trim().parse().ok());
            }
            ids.extend(self.terms.with_ancestors(term));
        }
        (ids, beds)
    }

    /// The service's own document, before any location.
    fn service_doc(&self, service: &Cells) -> Doc {
        let t = self.t;
        let sid = id(service);
        let text = |c: &str| dataset::text(t.service, service, c).map(str::to_owned);
        let organization_id = text("organization_id").unwrap_or_default();
        let (terms, beds) = self.terms_of(&sid);
        let phones: Vec<&Cells> = Self::rows(&self.phones, &sid).collect();
        let phone_langs = phones
            .iter()
            .flat_map(|p| Self::rows(&self.phone_languages, &id(p)));
        Doc {
            service_at_location_id: None,
            organization_name: self
                .organization_names
                .get(&organization_id)
                .cloned()
                .unwrap_or_default(),
            verified_at: self.listed.get(&organization_id).copied().flatten(),
            organization_id,
            service_name: text("name").unwrap_or_default(),
            alternate_names: text("alternate_name").into_iter().collect(),
            description: text("description").unwrap_or_default(),
            term_names: terms
                .iter()
                .flat_map(|term| self.terms.names.get(term).cloned().unwrap_or_default())
                .collect(),
            terms,
            languages: self.language_codes(Self::rows(&self.languages, &sid).chain(phone_langs)),
            states_served: Self::rows(&self.areas, &sid)
                .filter_map(|a| {
                    ["name", "extent", "description"]
                        .iter()
                        .find_map(|c| dataset::text(t.area, a, c).and_then(state_named))
                })
                .map(str::to_owned)
                .collect(),
            min_age: dataset::number(t.service, service, "minimum_age"),
            max_age: dataset::number(t.service, service, "maximum_age"),
            beds_available: beds,
            hours: Hours {
                windows: self.windows(Self::rows(&self.schedules, &sid)),
                zone: None,
            },
            phone: phones
                .first()
                .and_then(|p| dataset::text(t.phone, p, "number"))
                .map(str::to_owned),
            service_id: sid,
            ..Doc::default()
        }
    }

    /// The service's document at one of its locations.
    fn located(&self, base: &Doc, sal: &Cells) -> Doc {
        let t = self.t;
        let sal_id = id(sal);
        let mut doc = base.clone();
        if let Some(location) =
            dataset::text(t.sal, sal, "location_id").and_then(|l| self.locations.get(l))
        {
            let lt = |c: &str| dataset::text(t.location, location, c);
            doc.location_name = lt("name").map(str::to_owned);
            doc.confidential = lt("location_type") == Some(REDACTED);
            doc.point = dataset::number(t.location, location, "latitude")
                .zip(dataset::number(t.location, location, "longitude"))
                .and_then(|(lat, lng)| Point::new(lat, lng));
            let location_id = id(location);
            doc.languages
                .extend(self.language_codes(Self::rows(&self.location_languages, &location_id)));
            doc.languages.sort();
            doc.languages.dedup();
            if let Some(address) = Self::rows(&self.addresses, &location_id).next() {
                doc.city = dataset::text(t.address, address, "city").map(str::to_owned);
                doc.state =
                    dataset::text(t.address, address, "state_province").map(str::to_uppercase);
            }
        }
        doc.terms.extend(self.terms_of(&sal_id).0);
        let windows = self.windows(Self::rows(&self.sal_schedules, &sal_id));
        if !windows.is_empty() {
            doc.hours.windows = windows;
        }
        doc.hours.zone = zone(doc.city.as_deref(), doc.state.as_deref());
        doc.service_at_location_id = Some(sal_id);
        doc
    }
}

/// The referral documents of the listed, active services among `only` (all of them
/// when `None`).
pub async fn documents(db: &Db, only: Option<&[String]>) -> Result<Vec<Doc>, sqlx::Error> {
    let t = Tables::get()?;
    let listed: HashMap<String, Option<i64>> = store::listed_organizations(db.reader())
        .await?
        .into_iter()
        .collect();
    let services: Vec<Cells> = fetch(db, t.service, "id", only)
        .await?
        .into_iter()
        .filter(|s| {
            dataset::text(t.service, s, "organization_id").is_some_and(|o| listed.contains_key(o))
        })
        .filter(|s| dataset::text(t.service, s, "status") == Some("active"))
        .collect();
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let related = Related::fetch(db, &t, &services, only.is_none()).await?;
    let terms = Terms::load(db).await?;
    let groups = Groups::new(&t, &related, &terms, &listed);
    let mut docs = Vec::new();
    for service in &services {
        let base = groups.service_doc(service);
        let at: Vec<&Cells> = Groups::rows(&groups.sals, &base.service_id).collect();
        if at.is_empty() {
            docs.push(base);
        } else {
            docs.extend(at.into_iter().map(|sal| groups.located(&base, sal)));
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_areas_name_states_in_several_ways() {
        assert_eq!(state_named("CA"), Some("CA"));
        assert_eq!(state_named("  california "), Some("CA"));
        assert_eq!(state_named("State of New York"), Some("NY"));
        assert_eq!(state_named("Texas statewide"), Some("TX"));
        assert_eq!(state_named("MyCity area"), None);
    }

    #[test]
    fn the_beds_term_is_in_the_shipped_taxonomy() {
        let ids: Vec<String> = taxonomy::terms().iter().map(|t| t.id.clone()).collect();
        for id in [
            BEDS_REPORTED,
            super::super::index::feature::HOTLINE_REFERRALS,
            super::super::index::feature::WARM_TRANSFERS,
            super::super::index::feature::FREE,
            super::super::index::feature::OPEN_24_7,
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} is not a shipped term");
        }
    }
}
