//! The referral search pages: "Find help" for everyone (public data only) and the
//! staff search with every filter and a "refer" action; and one listing on one screen.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::hsds::nest::{Depth, Shape};
use super::model::{ApplicationForm, Decision, FieldProblem, Standing, Vetting};
use super::publish::{self, Root};
use super::search::{self, Filters, Near, Point, Reason, Sort};
use super::{service, taxonomy};
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::kernel::auth::Principal;
use crate::kernel::authz::{self, Action, Resource};
use crate::kernel::i18n::Lang;
use crate::kernel::places;
use crate::kernel::time::now_micros;
use crate::kernel::web::{HtmlError, Shell};

const KM_PER_MILE: f64 = 1.609_344;
const RESULTS_PER_PAGE: usize = 50;

/// The search form as sent (a GET form: the words and town are not about a person,
/// and the page can be bookmarked and reloaded).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    q: String,
    city: String,
    state: String,
    radius: String,
    language: String,
    service_type: String,
    population: String,
    age: String,
    open_now: Option<String>,
    open_24_7: Option<String>,
    free: Option<String>,
    accepts_referrals: Option<String>,
    warm_transfers: Option<String>,
    has_capacity: Option<String>,
    verified: String,
    sort: String,
    /// The hotline contact a referral from these results is for (staff only).
    contact: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct ResultView {
    pub name: String,
    pub organization: String,
    pub place: String,
    pub distance: String,
    pub status: String,
    pub open: bool,
    pub phone: String,
    pub reasons: Vec<String>,
    pub href: String,
    pub service_id: String,
    /// For staff: the listing's re-verification is overdue or lapsed.
    pub flag: String,
}

#[derive(Template)]
#[template(path = "directory/search.html")]
struct SearchPage {
    shell: Shell,
    staff: bool,
    action: &'static str,
    form: SearchForm,
    radii: Vec<Choice>,
    languages: Vec<Choice>,
    service_types: Vec<Choice>,
    populations: Vec<Choice>,
    verified: Vec<Choice>,
    sorts: Vec<Choice>,
    searched: bool,
    total: String,
    results: Vec<ResultView>,
    problem: Option<String>,
    status_problem: bool,
    /// For an advocate searching for a contact: each result offers "Refer".
    refer: Option<ReferTo>,
}

/// Where a result's "Refer" form posts, and with which form token.
pub struct ReferTo {
    pub contact: String,
    pub action: String,
    pub csrf: String,
}

fn term_name(id: &str, lang: Lang) -> Option<String> {
    taxonomy::terms()
        .iter()
        .find(|t| t.id == id)
        .map(|t| label(t, lang))
}

fn choices(values: Vec<(String, String)>, selected: &str, shell: &Shell) -> Vec<Choice> {
    std::iter::once(Choice {
        value: String::new(),
        label: shell.tr.t("search-any"),
        selected: selected.is_empty(),
    })
    .chain(values.into_iter().map(|(value, label)| Choice {
        selected: value == selected,
        value,
        label,
    }))
    .collect()
}

fn terms_of(taxonomy_key: &str, lang: Lang) -> Vec<(String, String)> {
    taxonomy::terms()
        .iter()
        .filter(|t| t.taxonomy == taxonomy_key)
        .map(|t| (t.id.clone(), label(t, lang)))
        .collect()
}

fn label(term: &taxonomy::Term, lang: Lang) -> String {
    if lang == Lang::Es {
        term.name_es.clone()
    } else {
        term.name_en.clone()
    }
}

/// The search the form asks for, or the translation id of what is wrong with it.
fn query(form: &SearchForm) -> Result<search::Query, &'static str> {
    let mut near = None;
    let (city, state) = (form.city.trim(), form.state.trim());
    if !city.is_empty() || !state.is_empty() {
        let place = places::find(city, state).ok_or("search-problem-place")?;
        let miles: f64 = match form.radius.trim() {
            "" => 50.0,
            r => r.parse().map_err(|_| "search-problem-radius")?,
        };
        if !(miles > 0.0 && miles <= 500.0) {
            return Err("search-problem-radius");
        }
        near = Some(Near {
            point: Point::new(place.latitude, place.longitude).ok_or("search-problem-place")?,
            radius_km: miles * KM_PER_MILE,
            state: Some(place.state.clone()),
        });
    }
    let age = match form.age.trim() {
        "" => None,
        a => Some(
            a.parse::<f64>()
                .ok()
                .filter(|a| (0.0..=130.0).contains(a))
                .ok_or("search-problem-age")?,
        ),
    };
    let verified_within_months = match form.verified.trim() {
        "" => None,
        v => Some(v.parse().map_err(|_| "search-problem-verified")?),
    };
    let sort = match (form.sort.as_str(), near.is_some()) {
        ("relevance", _) | (_, false) => Sort::Relevance,
        _ => Sort::Distance,
    };
    let on = |v: &Option<String>| v.is_some();
    let one = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    Ok(search::Query {
        text: one(&form.q),
        near,
        filters: Filters {
            terms: one(&form.service_type).into_iter().collect(),
            all_terms: true,
            populations: one(&form.population).into_iter().collect(),
            languages: one(&form.language).into_iter().collect(),
            age,
            open_now: on(&form.open_now),
            open_24_7: on(&form.open_24_7),
            accepts_referrals: on(&form.accepts_referrals),
            warm_transfers: on(&form.warm_transfers),
            free: on(&form.free),
            verified_within_months,
            has_capacity: on(&form.has_capacity),
        },
        sort,
        limit: RESULTS_PER_PAGE,
        offset: 0,
        listed_since: None,
    })
}

fn miles(km: f64) -> String {
    format!("{:.1}", km / KM_PER_MILE)
}

fn reason(r: &Reason, shell: &Shell) -> String {
    let tr = &shell.tr;
    match r {
        Reason::Words(w) => tr.t1("search-why-words", "words", w),
        Reason::Term(id) => term_name(id, shell.lang).unwrap_or_else(|| id.clone()),
        Reason::Language(code) => tr.t1("search-why-language", "language", code),
        Reason::Distance(km) => tr.t1("search-why-distance", "miles", &miles(*km)),
        Reason::Statewide(state) => tr.t1("search-why-statewide", "state", state),
        Reason::OpenNow => tr.t("search-open-now"),
        Reason::Open24x7 => tr.t("search-open-24-7"),
        Reason::AcceptsReferrals => tr.t("search-accepts-referrals"),
        Reason::WarmTransfers => tr.t("search-warm-transfers"),
        Reason::Free => tr.t("search-free"),
        Reason::Age(age) => tr.t1("search-why-age", "age", &format!("{age}")),
        Reason::BedsAvailable(n) => tr.t1("search-why-beds", "beds", &n.to_string()),
        Reason::Verified => tr.t("search-why-verified"),
    }
}

fn result_view(hit: &search::Hit, staff: bool, vetting: Vetting, shell: &Shell) -> ResultView {
    let doc = &hit.doc;
    let place = match (&doc.city, &doc.state) {
        (Some(c), Some(s)) => format!("{c}, {s}"),
        (None, Some(s)) => s.clone(),
        _ => String::new(),
    };
    let (status, open) = match hit.open_now {
        Some(true) => (shell.tr.t("search-status-open"), true),
        Some(false) => (shell.tr.t("search-status-closed"), false),
        None => (shell.tr.t("search-status-unknown"), false),
    };
    let base = if staff {
        "/directory/services"
    } else {
        "/find-help/services"
    };
    ResultView {
        name: doc.service_name.clone(),
        organization: doc.organization_name.clone(),
        place,
        distance: hit
            .distance_km
            .map(|km| shell.tr.t1("search-distance", "miles", &miles(km)))
            .unwrap_or_default(),
        status,
        open,
        phone: doc.phone.clone().unwrap_or_default(),
        reasons: hit.reasons.iter().map(|r| reason(r, shell)).collect(),
        href: format!("{base}/{}", doc.service_id),
        service_id: doc.service_id.clone(),
        flag: match vetting.standing(doc.verified_at, now_micros()) {
            Standing::Current => String::new(),
            Standing::Overdue => shell.tr.t("search-flag-overdue"),
            Standing::Lapsed => shell.tr.t("search-flag-lapsed"),
        },
    }
}

/// The languages a caller most often needs, first Spanish.
fn language_choices(selected: &str, shell: &Shell) -> Vec<Choice> {
    let languages: Vec<(String, String)> = [
        ("es", "lang-name-es"),
        ("en", "lang-name-en"),
        ("zh", "lang-name-zh"),
        ("vi", "lang-name-vi"),
        ("ko", "lang-name-ko"),
        ("tl", "lang-name-tl"),
        ("ru", "lang-name-ru"),
        ("ar", "lang-name-ar"),
        ("ht", "lang-name-ht"),
        ("fr", "lang-name-fr"),
        ("asl", "lang-name-asl"),
    ]
    .iter()
    .map(|(code, id)| ((*code).to_owned(), shell.tr.t(id)))
    .collect();
    choices(languages, selected, shell)
}

fn search_page(
    state: &AppState,
    form: SearchForm,
    staff: bool,
    refer: Option<ReferTo>,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let lang = shell.lang;
    let searched =
        !form.q.trim().is_empty() || !form.city.trim().is_empty() || !form.service_type.is_empty();
    let (results, total, problem) = if searched {
        match query(&form) {
            Ok(mut q) => {
                if !staff {
                    q.listed_since = Some(state.vetting.public_cutoff(now_micros()));
                }
                let found = state
                    .search
                    .search(&q)
                    .map_err(|e| HtmlError::Internal(e.into()))?;
                let results = found
                    .hits
                    .iter()
                    .map(|h| result_view(h, staff, state.vetting, &shell))
                    .collect();
                (
                    results,
                    shell
                        .tr
                        .t1("search-total", "count", &found.total.to_string()),
                    None,
                )
            }
            Err(problem) => (Vec::new(), String::new(), Some(shell.tr.t(problem))),
        }
    } else {
        (Vec::new(), String::new(), None)
    };

    let page = SearchPage {
        staff,
        action: if staff {
            "/directory/search"
        } else {
            "/find-help"
        },
        radii: ["10", "25", "50", "100", "250"]
            .iter()
            .map(|r| Choice {
                value: (*r).to_owned(),
                label: shell.tr.t1("search-radius-miles", "miles", r),
                selected: form.radius == *r || (form.radius.is_empty() && *r == "50"),
            })
            .collect(),
        languages: language_choices(&form.language, &shell),
        service_types: choices(terms_of("service-type", lang), &form.service_type, &shell),
        populations: choices(terms_of("population", lang), &form.population, &shell),
        verified: choices(
            ["6", "12", "24"]
                .iter()
                .map(|m| {
                    (
                        (*m).to_owned(),
                        shell.tr.t1("search-verified-months", "months", m),
                    )
                })
                .collect(),
            &form.verified,
            &shell,
        ),
        sorts: [
            ("distance", "search-sort-distance"),
            ("relevance", "search-sort-relevance"),
        ]
        .iter()
        .map(|(v, id)| Choice {
            value: (*v).to_owned(),
            label: shell.tr.t(id),
            selected: form.sort == *v || (form.sort.is_empty() && *v == "distance"),
        })
        .collect(),
        searched,
        total,
        results,
        status_problem: problem.is_some(),
        problem,
        refer,
        form,
        shell,
    };
    let status = if page.status_problem {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

/// "Find help": the public search (listed services, public fields only).
pub async fn find_help(
    State(state): State<AppState>,
    UrlQuery(form): UrlQuery<SearchForm>,
) -> Result<Response, HtmlError> {
    search_page(&state, form, false, None)
}

/// The staff search, with every filter. With a hotline contact's id (from its page),
/// those who take contacts may refer from each result.
pub async fn staff_search(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    UrlQuery(form): UrlQuery<SearchForm>,
) -> Result<Response, HtmlError> {
    let may_refer = authz::authorize(
        Some(&principal),
        Action::TakeHotlineContacts,
        Resource::Global,
    ) == authz::Decision::Allow;
    let refer = uuid::Uuid::try_parse(form.contact.trim())
        .ok()
        .filter(|_| may_refer)
        .map(|contact| ReferTo {
            action: format!("/hotline/contacts/{contact}/referrals"),
            contact: contact.to_string(),
            csrf: csrf_of(&principal),
        });
    search_page(&state, form, true, refer)
}

pub struct PhoneView {
    pub number: String,
    pub kind: String,
    pub description: String,
}

pub struct LocationView {
    pub name: String,
    pub address: String,
    pub confidential: bool,
    /// The sealed street of a confidential location, opened for vetted staff.
    pub street: Option<String>,
    pub hours: Vec<String>,
}

#[derive(Template)]
#[template(path = "directory/listing.html")]
struct ListingPage {
    shell: Shell,
    back: &'static str,
    /// For curators: the listing editor.
    edit: Option<String>,
    /// For hotline staff: notes from earlier referrals, and the form to add one.
    notes: Option<Vec<NoteView>>,
    note_action: String,
    csrf: String,
    name: String,
    organization: String,
    description: String,
    alert: String,
    application: String,
    eligibility: String,
    fees: String,
    phones: Vec<PhoneView>,
    languages: Vec<String>,
    terms: Vec<String>,
    hours: Vec<String>,
    locations: Vec<LocationView>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn hours(v: &Value, shell: &Shell) -> Vec<String> {
    items(v, "schedules")
        .map(|s| {
            let description = text(s, "description");
            if !description.is_empty() {
                return description;
            }
            let days: Vec<String> = text(s, "byday")
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|d| shell.tr.t(&format!("day-{}", d.to_lowercase())))
                .collect();
            let days = if days.is_empty() {
                shell.tr.t("day-every")
            } else {
                days.join(", ")
            };
            format!("{days} {}–{}", text(s, "opens_at"), text(s, "closes_at"))
        })
        .collect()
}

/// The service's locations; the street of a confidential one only for those allowed.
async fn location_views(
    state: &AppState,
    service: &Value,
    principal: Option<&Principal>,
    shell: &Shell,
) -> Result<Vec<LocationView>, HtmlError> {
    let may_see_streets = principal.is_some_and(|p| {
        authz::authorize(Some(p), Action::ReadConfidentialAddress, Resource::Global)
            == authz::Decision::Allow
    });
    let mut locations = Vec::new();
    for sal in items(service, "service_at_locations") {
        let Some(location) = sal.get("location") else {
            continue;
        };
        let confidential = text(location, "location_type") == "redacted";
        let address = items(location, "addresses").next();
        let mut street = None;
        if let (true, true, Some(principal), Some(address)) =
            (confidential, may_see_streets, principal, address)
        {
            street = service::confidential_street(
                &state.db,
                &state.crypto,
                principal,
                &text(address, "id"),
            )
            .await
            .map_err(|e| HtmlError::Internal(e.into()))?;
        }
        let address = address.map_or_else(String::new, |a| {
            [
                text(a, "address_1"),
                text(a, "city"),
                text(a, "state_province"),
                text(a, "postal_code"),
            ]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
        });
        let mut location_hours = hours(sal, shell);
        location_hours.extend(hours(location, shell));
        locations.push(LocationView {
            name: text(location, "name"),
            address,
            confidential,
            street,
            hours: location_hours,
        });
    }
    Ok(locations)
}

/// One listing on one screen. Staff who may (hotline advocates and supervisors,
/// directory curators) see a confidential location's street; each such view is
/// audited.
async fn listing(
    state: &AppState,
    id: &str,
    principal: Option<&Principal>,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let shape = Shape {
        root: Depth::Full,
        services: None,
    };
    // Staff see every listed organization (lapsed ones flagged); the public only
    // those verified recently enough.
    let cutoff = if principal.is_some() {
        i64::MIN
    } else {
        state.vetting.public_cutoff(now_micros())
    };
    let Some(service) = publish::one(&state.db, Root::Service, id, shape, cutoff)
        .await
        .map_err(|e| HtmlError::Internal(e.into()))?
    else {
        return Err(HtmlError::NotFound);
    };
    let locations = location_views(state, &service, principal, &shell).await?;
    let may_note = principal.is_some_and(|p| {
        authz::authorize(Some(p), Action::NoteListing, Resource::Global) == authz::Decision::Allow
    });
    let notes = match service.get("organization").map(|o| text(o, "id")) {
        Some(org) if may_note => Some(
            service::notes(&state.db, &state.crypto, &org)
                .await
                .map_err(|e| HtmlError::Internal(e.into()))?
                .into_iter()
                .map(|n| NoteView {
                    at: date(Some(n.at)),
                    role: n
                        .role
                        .map(|r| shell.tr.t(&format!("role-{r}")))
                        .unwrap_or_default(),
                    text: n.text,
                })
                .collect(),
        ),
        _ => None,
    };
    let page = ListingPage {
        notes,
        note_action: format!("/directory/services/{id}/notes"),
        csrf: principal.map(csrf_of).unwrap_or_default(),
        back: if principal.is_some() {
            "/directory/search"
        } else {
            "/find-help"
        },
        edit: principal
            .filter(|p| {
                authz::authorize(Some(p), Action::CurateDirectory, Resource::Global)
                    == authz::Decision::Allow
            })
            .and_then(|_| service.get("organization"))
            .map(|o| format!("/directory/curate/{}/edit", text(o, "id"))),
        name: text(&service, "name"),
        organization: service
            .get("organization")
            .map(|o| text(o, "name"))
            .unwrap_or_default(),
        description: text(&service, "description"),
        alert: text(&service, "alert"),
        application: text(&service, "application_process"),
        eligibility: text(&service, "eligibility_description"),
        fees: text(&service, "fees_description"),
        phones: items(&service, "phones")
            .map(|p| PhoneView {
                number: text(p, "number"),
                kind: text(p, "type"),
                description: text(p, "description"),
            })
            .collect(),
        languages: items(&service, "languages")
            .chain(items(&service, "phones").flat_map(|p| items(p, "languages")))
            .map(|l| {
                let name = text(l, "name");
                if name.is_empty() {
                    text(l, "code")
                } else {
                    name
                }
            })
            .collect(),
        terms: items(&service, "attributes")
            .filter_map(|a| a.get("taxonomy_term"))
            .map(|t| term_name(&text(t, "id"), shell.lang).unwrap_or_else(|| text(t, "name")))
            .collect(),
        hours: hours(&service, &shell),
        locations,
        shell,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?).into_response())
}

/// A public listing (public fields only).
pub async fn public_listing(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    listing(&state, &id, None).await
}

pub struct NoteView {
    pub at: String,
    pub role: String,
    pub text: String,
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// Adds a note to a listing (what the next advocate should know).
pub async fn add_note(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<NoteForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    let Some(note) = super::model::listing_note(&form.note) else {
        return Err(HtmlError::BadRequest);
    };
    let added = service::add_note(&state.db, &state.crypto, &principal, &id, &note)
        .await
        .map_err(|e| HtmlError::Internal(e.into()))?;
    if !added {
        return Err(HtmlError::NotFound);
    }
    Ok(axum::response::Redirect::to(&format!("/directory/services/{id}#notes")).into_response())
}

/// A listing as staff see it.
pub async fn staff_listing(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    listing(&state, &id, Some(&principal)).await
}

#[derive(Template)]
#[template(path = "directory/apply.html")]
struct ApplyPage {
    shell: Shell,
    form: ApplicationForm,
    service_types: Vec<Choice>,
    problems: Vec<(String, String)>,
    done: bool,
}

fn apply_page(
    form: ApplicationForm,
    problems: &[FieldProblem],
    done: bool,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let service_types = terms_of("service-type", shell.lang)
        .into_iter()
        .map(|(value, label)| Choice {
            selected: form.service_types.contains(&value),
            value,
            label,
        })
        .collect();
    let page = ApplyPage {
        problems: problems
            .iter()
            .map(|(field, reason)| ((*field).to_owned(), shell.tr.t(reason)))
            .collect(),
        service_types,
        form,
        done,
        shell,
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

/// The public application form for organizations that want to be listed.
pub async fn apply_form() -> Result<Response, HtmlError> {
    apply_page(ApplicationForm::default(), &[], false)
}

/// Parses the form's body (repeated `service_type` and `language` keys).
fn application_form(body: &[u8]) -> ApplicationForm {
    let mut form = ApplicationForm::default();
    for (key, value) in form_urlencoded::parse(body) {
        let value = value.into_owned();
        match key.as_ref() {
            "name" => form.name = value,
            "description" => form.description = value,
            "email" => form.email = value,
            "website" => form.website = value,
            "phone" => form.phone = value,
            "city" => form.city = value,
            "state" => form.state = value,
            "service_type" => form.service_types.push(value),
            "language" => form.languages.push(value),
            "agrees_referrals" => form.agrees_referrals = true,
            "agrees_warm_transfers" => form.agrees_warm_transfers = true,
            "references" => form.references = value,
            _ => {}
        }
    }
    form
}

pub async fn apply(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, HtmlError> {
    let form = application_form(&body);
    let shipped: Vec<String> = terms_of("service-type", Lang::En)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let parsed = form.parse(
        |t| shipped.iter().any(|s| s == t),
        |city, st| places::find(city, st).map(|p| (p.latitude, p.longitude)),
    );
    match parsed {
        Err(problems) => apply_page(form, &problems, false),
        Ok(application) => {
            service::apply(&state.db, &state.crypto, &application)
                .await
                .map_err(|e| HtmlError::Internal(e.into()))?;
            apply_page(ApplicationForm::default(), &[], true)
        }
    }
}

pub struct QueueView {
    pub id: String,
    pub name: String,
    pub status: String,
    pub standing: String,
    pub verified: String,
    pub applied: String,
    pub contact: String,
    pub agreements: String,
    pub references: String,
    pub note: String,
    pub decisions: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "directory/curate.html")]
struct CuratePage {
    shell: Shell,
    csrf: String,
    items: Vec<QueueView>,
    problem: Option<String>,
    status_problem: bool,
}

fn date(micros: Option<i64>) -> String {
    micros
        .and_then(|m| jiff::Timestamp::from_microsecond(m).ok())
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

async fn curate_page(
    state: &AppState,
    principal: &Principal,
    problem: Option<String>,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let items = service::curation_queue(&state.db, &state.crypto, principal)
        .await
        .map_err(|e| HtmlError::Internal(e.into()))?;
    let now = now_micros();
    let items = items
        .into_iter()
        .map(|item| {
            let l = item.listing;
            let standing = match (
                l.status.as_str(),
                state.vetting.standing(l.last_verified_at, now),
            ) {
                ("listed", Standing::Overdue) => shell.tr.t("search-flag-overdue"),
                ("listed", Standing::Lapsed) => shell.tr.t("search-flag-lapsed"),
                _ => String::new(),
            };
            let decisions = [
                Decision::Approve,
                Decision::Reject,
                Decision::Verify,
                Decision::Suspend,
                Decision::Relist,
            ]
            .into_iter()
            .filter(|d| d.next(&l.status).is_some())
            .map(|d| (d.as_str(), shell.tr.t(&format!("curate-{}", d.as_str()))))
            .collect();
            let mut agreements = Vec::new();
            if l.agrees_referrals != 0 {
                agreements.push(shell.tr.t("search-accepts-referrals"));
            }
            if l.agrees_warm_transfers != 0 {
                agreements.push(shell.tr.t("search-warm-transfers"));
            }
            QueueView {
                status: shell.tr.t(&format!("curate-status-{}", l.status)),
                name: l.name.unwrap_or_default(),
                standing,
                verified: date(l.last_verified_at),
                applied: date(l.applied_at),
                contact: l.contact_email.unwrap_or_default(),
                agreements: agreements.join(", "),
                references: item.references,
                note: l.review_note.unwrap_or_default(),
                decisions,
                id: l.organization_id,
            }
        })
        .collect();
    let page = CuratePage {
        csrf: csrf_of(principal),
        status_problem: problem.is_some(),
        items,
        problem,
        shell,
    };
    let status = if page.status_problem {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    Ok((status, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

/// The curators' queue: applications to review, listings due for re-verification.
pub async fn curate(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Response, HtmlError> {
    curate_page(&state, &principal, None).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

pub async fn decide(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<DecisionForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    let Some(decision) = Decision::parse(&form.decision) else {
        return curate_page(
            &state,
            &principal,
            Some(Shell::current().tr.t("curate-problem-decision")),
        )
        .await;
    };
    let note: String = form.note.trim().chars().take(1_000).collect();
    match service::decide(&state.db, &principal, &id, decision, &note).await {
        Ok(()) => Ok(axum::response::Redirect::to("/directory/curate").into_response()),
        Err(service::DecideError::NotFound) => Err(HtmlError::NotFound),
        Err(service::DecideError::NotApplicable { .. }) => {
            curate_page(
                &state,
                &principal,
                Some(Shell::current().tr.t("curate-problem-decision")),
            )
            .await
        }
        Err(service::DecideError::Directory(e)) => Err(HtmlError::Internal(e.into())),
    }
}
