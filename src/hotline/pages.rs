//! The advocate's pages: take a contact, read it with its case, screen the case, refer
//! from the directory search, report to authorities. Thin handlers over the services
//! the JSON API uses, so a form and an API call store the same thing.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::model::contact::{
    CallerType, Channel, ContactForm, Direction, Outcome, Reason, TraffickingType, from_code,
    idempotency_key,
};
use super::model::crisis::{ChecklistForm, Step, StepForm};
use super::model::referral::{Capacity, Kind, ReferralForm, Urgency};
use super::model::screening::{self, Answer, Answers, AnswersError, Domain};
use super::overview::{self, CaseSummary};
use super::referrals::{self, ReferralRefusal};
use super::routes::ReportRequest;
use super::service::{self, ContactView, HotlineError};
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::kernel::auth::Principal;
use crate::kernel::i18n;
use crate::kernel::time::minute_utc;
use crate::kernel::web::extract::FormFields;
use crate::kernel::web::{ApiError, HtmlError, Shell};

/// The advocate's pages; each is declared in `kernel::authz::ROUTES`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hotline/contacts/new", get(new_contact))
        .route("/hotline/contacts", post(create_contact))
        .route("/hotline/contacts/{id}", get(contact))
        .route("/hotline/contacts/{id}/referrals", post(refer))
        .route("/hotline/contacts/{id}/crisis", post(crisis))
        .route(
            "/hotline/contacts/{id}/resources",
            post(super::resource_pages::send),
        )
        .route("/hotline/referrals/{id}/outcome", post(referral_outcome))
        .route(
            "/hotline/cases/{id}/screening",
            get(screening_form).post(screen),
        )
        .route("/hotline/cases/{id}/reports", post(report))
}

const CHANNELS: [&str; 7] = [
    "phone", "sms", "web-chat", "email", "web-form", "tty", "walk-in",
];
const DIRECTIONS: [&str; 2] = ["inbound", "outbound"];
const CALLER_TYPES: [&str; 10] = [
    "potential-victim",
    "family-or-friend",
    "community-member",
    "service-provider",
    "law-enforcement",
    "government",
    "business",
    "educator-or-student",
    "media",
    "other",
];
const REASONS: [&str; 7] = [
    "crisis",
    "tip",
    "referral-request",
    "resource-request",
    "technical-assistance",
    "general-information",
    "not-trafficking-related",
];
const OUTCOMES: [&str; 6] = [
    "information-given",
    "referral-made",
    "report-made",
    "follow-up-planned",
    "caller-disconnected",
    "other",
];
const TYPES: [&str; 4] = ["sex", "labor", "both", "unknown"];
const LANGUAGES: [&str; 11] = [
    "en", "es", "zh", "vi", "ko", "tl", "ru", "ar", "ht", "fr", "asl",
];
const AGENCIES: [&str; 2] = ["law-enforcement", "child-welfare"];
const METHODS: [&str; 5] = ["phone", "email", "web-form", "fax", "in-person"];
const SUBJECTS: [&str; 2] = ["adult", "minor"];

pub(super) fn internal(e: impl Into<anyhow::Error>) -> HtmlError {
    HtmlError::Internal(e.into())
}

fn render(status: StatusCode, page: &impl Template) -> Result<Response, HtmlError> {
    Ok((status, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

/// One option of a select, radio group or checkbox group.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// `codes` labelled by the messages `{prefix}-{code}`.
fn options(shell: &Shell, prefix: &str, codes: &[&str], selected: &[&str]) -> Vec<Opt> {
    codes
        .iter()
        .map(|code| Opt {
            value: (*code).to_owned(),
            label: shell.tr.t(&format!("{prefix}-{code}")),
            selected: selected.contains(code),
        })
        .collect()
}

fn label(shell: &Shell, prefix: &str, code: &str) -> String {
    shell.tr.t(&format!("{prefix}-{code}"))
}

/// Only ids go into links and hidden fields.
pub(super) fn an_id(raw: &str) -> Option<String> {
    uuid::Uuid::try_parse(raw.trim())
        .ok()
        .map(|u| u.to_string())
}

/// A refused field: its element id, its label and what is wrong, in the page's language.
pub struct Problem {
    pub field: String,
    pub label: String,
    pub message: String,
}

/// Each refused field's message: its own when there is one, else a general one.
fn problems_of<'a>(
    shell: &Shell,
    prefix: &str,
    fields: impl Iterator<Item = &'a str>,
) -> (BTreeMap<String, String>, Vec<Problem>) {
    let mut by_field = BTreeMap::new();
    let mut listed = Vec::new();
    for field in fields {
        let own = format!("{prefix}-problem-{field}");
        let message = if i18n::has(shell.lang, &own) {
            shell.tr.t(&own)
        } else {
            shell.tr.t("hotline-problem-field")
        };
        by_field.insert(field.to_owned(), message.clone());
        listed.push(Problem {
            field: field.to_owned(),
            label: shell.tr.t(&format!("{prefix}-field-{field}")),
            message,
        });
    }
    (by_field, listed)
}

// ---------------------------------------------------------------------------------
// Taking a contact

/// A coded field's value, or the field noted as refused.
fn code_of<T: serde::de::DeserializeOwned>(
    raw: &str,
    field: &'static str,
    refused: &mut Vec<&'static str>,
) -> Option<T> {
    let parsed = from_code(raw.trim());
    if parsed.is_none() {
        refused.push(field);
    }
    parsed
}

/// Like [`code_of`]; blank is none.
fn optional<T: serde::de::DeserializeOwned>(
    raw: &str,
    field: &'static str,
    refused: &mut Vec<&'static str>,
) -> Option<T> {
    if raw.trim().is_empty() {
        None
    } else {
        code_of(raw, field, refused)
    }
}

/// "yes", "no", or blank (not asked).
fn yes_no(raw: &str, field: &'static str, refused: &mut Vec<&'static str>) -> Option<bool> {
    match raw.trim() {
        "" => None,
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            refused.push(field);
            None
        }
    }
}

/// What the contact form sent, kept as typed to show again.
#[derive(Default)]
struct ContactValues {
    key: String,
    started_at: String,
    channel: String,
    direction: String,
    language: String,
    interpreter: bool,
    caller_type: String,
    caller_city: String,
    caller_state: String,
    heard_from: String,
    reasons: Vec<String>,
    narrative: String,
    notes: String,
    caller_phone: String,
    safe_to_call: String,
    voicemail_ok: String,
    code_word: String,
    outcome: String,
    danger: bool,
    new_case: String,
    /// The voice call this contact writes up, if it came from the console's list.
    call: String,
    csrf: String,
}

impl ContactValues {
    /// A fresh form: a new idempotency key, so that however often this one is sent it
    /// saves one contact, and the time it opened as the contact's start.
    fn fresh() -> Self {
        Self {
            key: uuid::Uuid::new_v4().to_string(),
            started_at: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string()),
            channel: "phone".to_owned(),
            direction: "inbound".to_owned(),
            language: "en".to_owned(),
            caller_type: "potential-victim".to_owned(),
            new_case: "unknown".to_owned(),
            ..Self::default()
        }
    }

    fn from_body(body: &[u8]) -> Self {
        let mut v = Self::default();
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "idempotency_key" => v.key = value,
                "started_at" => v.started_at = value,
                "channel" => v.channel = value,
                "direction" => v.direction = value,
                "language" => v.language = value,
                "interpreter" => v.interpreter = true,
                "caller_type" => v.caller_type = value,
                "caller_city" => v.caller_city = value,
                "caller_state" => v.caller_state = value,
                "heard_from" => v.heard_from = value,
                "reasons" => v.reasons.push(value),
                "narrative" => v.narrative = value,
                "notes" => v.notes = value,
                "caller_phone" => v.caller_phone = value,
                "safe_to_call" => v.safe_to_call = value,
                "voicemail_ok" => v.voicemail_ok = value,
                "code_word" => v.code_word = value,
                "outcome" => v.outcome = value,
                "danger" => v.danger = true,
                "new_case" => v.new_case = value,
                "call" => v.call = value,
                "csrf" => v.csrf = value,
                _ => {}
            }
        }
        v
    }

    /// The API's form, or the fields that are wrong.
    fn to_form(&self) -> Result<ContactForm, Vec<&'static str>> {
        let mut refused = Vec::new();
        let text = |raw: &str| Some(raw.trim().to_owned()).filter(|t| !t.is_empty());
        let channel: Option<Channel> = code_of(&self.channel, "channel", &mut refused);
        let direction: Option<Direction> = code_of(&self.direction, "direction", &mut refused);
        let caller_type: Option<CallerType> =
            code_of(&self.caller_type, "caller_type", &mut refused);
        let mut reasons: Vec<Reason> = Vec::new();
        for raw in &self.reasons {
            match from_code(raw) {
                Some(reason) => reasons.push(reason),
                None if !refused.contains(&"reasons") => refused.push("reasons"),
                None => {}
            }
        }
        // Immediate danger is a crisis, whatever else the call was about.
        if self.danger {
            reasons.push(Reason::Crisis);
        }
        let outcome: Option<Outcome> = optional(&self.outcome, "outcome", &mut refused);
        let new_case: Option<TraffickingType> = optional(&self.new_case, "new_case", &mut refused);
        let safe_to_call = yes_no(&self.safe_to_call, "safe_to_call", &mut refused);
        let voicemail_ok = yes_no(&self.voicemail_ok, "voicemail_ok", &mut refused);
        let (Some(channel), Some(direction), Some(caller_type)) = (channel, direction, caller_type)
        else {
            return Err(refused);
        };
        let form = ContactForm {
            channel,
            direction,
            started_at: self.started_at.clone(),
            ended_at: None,
            language: self.language.clone(),
            interpreter: self.interpreter,
            caller_type,
            caller_city: text(&self.caller_city),
            caller_state: text(&self.caller_state),
            heard_from: text(&self.heard_from),
            reasons,
            narrative: text(&self.narrative),
            notes: text(&self.notes),
            caller_phone: text(&self.caller_phone),
            safe_to_call,
            voicemail_ok,
            code_word: text(&self.code_word),
            outcome,
            case_id: None,
            new_case,
        };
        if refused.is_empty() {
            Ok(form)
        } else {
            Err(refused)
        }
    }
}

#[derive(Template)]
#[template(path = "hotline/contact_form.html")]
struct ContactFormPage {
    shell: Shell,
    csrf: String,
    v: ContactValues,
    channels: Vec<Opt>,
    directions: Vec<Opt>,
    caller_types: Vec<Opt>,
    languages: Vec<Opt>,
    reasons: Vec<Opt>,
    outcomes: Vec<Opt>,
    types: Vec<Opt>,
    yes_no: Vec<Opt>,
    problems: BTreeMap<String, String>,
    summary: Vec<Problem>,
    message: Option<String>,
}

impl ContactFormPage {
    /// What is wrong with `field`, if anything.
    fn problem(&self, field: &str) -> Option<&str> {
        self.problems.get(field).map(String::as_str)
    }
}

fn contact_form_page(
    principal: &Principal,
    v: ContactValues,
    refused: &[&str],
    message: Option<String>,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let (problems, summary) = problems_of(&shell, "hotline", refused.iter().copied());
    let reasons: Vec<&str> = v.reasons.iter().map(String::as_str).collect();
    let page = ContactFormPage {
        csrf: csrf_of(principal),
        channels: options(&shell, "hotline-channel", &CHANNELS, &[v.channel.as_str()]),
        directions: options(
            &shell,
            "hotline-direction",
            &DIRECTIONS,
            &[v.direction.as_str()],
        ),
        caller_types: options(
            &shell,
            "hotline-caller",
            &CALLER_TYPES,
            &[v.caller_type.as_str()],
        ),
        languages: options(&shell, "lang-name", &LANGUAGES, &[v.language.as_str()]),
        reasons: options(&shell, "hotline-reason", &REASONS, &reasons),
        outcomes: options(&shell, "hotline-outcome", &OUTCOMES, &[v.outcome.as_str()]),
        types: options(&shell, "hotline-type", &TYPES, &[v.new_case.as_str()]),
        yes_no: options(&shell, "hotline-answer", &["yes", "no"], &[]),
        problems,
        summary,
        message,
        v,
        shell,
    };
    let status = if page.summary.is_empty() && page.message.is_none() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render(status, &page)
}

#[derive(serde::Deserialize)]
pub struct NewContactQuery {
    /// A call the advocate answered, to write up.
    #[serde(default)]
    call: Option<String>,
}

/// The "take a contact" form; for a call the advocate answered, filled in from it.
pub async fn new_contact(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    UrlQuery(query): UrlQuery<NewContactQuery>,
) -> Result<Response, HtmlError> {
    let mut values = ContactValues::fresh();
    if let Some(id) = query.call.as_deref().and_then(an_id) {
        let call = super::voice::to_write_up_one(&state.db, &state.crypto, &principal, &id)
            .await
            .map_err(internal)?
            .ok_or(HtmlError::NotFound)?;
        // The call is the key: writing it up twice saves one contact.
        values.key = format!("call-{}", call.id);
        values.started_at = call.started_at;
        values.language = call.language;
        values.caller_phone = call.caller_phone.unwrap_or_default();
        values.call = call.id;
    }
    contact_form_page(&principal, values, &[], None)
}

/// Saves the contact once per form (its idempotency key) and shows it.
pub async fn create_contact(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let mut values = ContactValues::from_body(&body);
    check_form_token(&state, &principal, &values.csrf).await?;
    let Some(key) = idempotency_key(Some(values.key.as_str())) else {
        // A form from elsewhere: a new key makes the next save its own.
        values.key = ContactValues::fresh().key;
        return contact_form_page(&principal, values, &["idempotency_key"], None);
    };
    let form = match values.to_form() {
        Ok(form) => form,
        Err(refused) => return contact_form_page(&principal, values, &refused, None),
    };
    let contact = match form.parse() {
        Ok(contact) => contact,
        Err(refused) => {
            let fields: Vec<&str> = refused.keys().copied().collect();
            return contact_form_page(&principal, values, &fields, None);
        }
    };
    // The same form sent twice is the same bytes; the CSRF token is the session's.
    let hash = hex::encode(Sha256::digest(&body));
    match service::record(
        &state.intake,
        &state.crypto,
        &principal,
        &key,
        &hash,
        contact,
    )
    .await
    {
        Ok(recorded) => {
            if let Some(call) = an_id(&values.call) {
                super::voice::written_up(&state.db, &principal, &call, &recorded.id)
                    .await
                    .map_err(internal)?;
            }
            // A new case, or a call written up, shows in the advocate's console.
            state.live.notify(super::live::Signal::Console);
            Ok(Redirect::to(&format!("/hotline/contacts/{}", recorded.id)).into_response())
        }
        Err(HotlineError::KeyReused) => {
            values.key = ContactValues::fresh().key;
            let message = Shell::current().tr.t("hotline-key-reused");
            contact_form_page(&principal, values, &[], Some(message))
        }
        Err(e) => Err(internal(e)),
    }
}

// ---------------------------------------------------------------------------------
// A contact and what was done about it

pub struct CaseView {
    pub id: String,
    pub status: String,
    pub kind: String,
    pub level: String,
}

fn case_view(shell: &Shell, case: &CaseSummary) -> CaseView {
    CaseView {
        id: case.id.clone(),
        status: label(shell, "hotline-status", &case.status),
        kind: label(shell, "hotline-type", &case.trafficking_type),
        level: case.indicator_level.as_deref().map_or_else(
            || shell.tr.t("hotline-level-not-screened"),
            |l| label(shell, "hotline-level", l),
        ),
    }
}

pub struct ReferralView {
    /// The referral's id, for the outcome form while it has none.
    pub id: String,
    pub service: String,
    pub href: String,
    pub urgency: String,
    pub kind: String,
    pub capacity: String,
    pub follow_up: String,
    pub outcome: String,
}

pub struct ReportView {
    pub agency: String,
    pub agency_name: String,
    pub method: String,
    pub basis: String,
    pub reference: String,
    pub at: String,
}

/// The report form as typed.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ReportValues {
    pub csrf: String,
    pub contact: String,
    pub agency: String,
    pub agency_name: String,
    pub method: String,
    pub subject: String,
    pub consent: Option<String>,
    pub imminent_danger: Option<String>,
    pub override_reason: String,
    pub subject_name: String,
    pub subject_phone: String,
    pub description: String,
    pub city: String,
    pub state: String,
    pub trafficking_type: String,
    pub reference: String,
    pub reported_at: String,
}

pub struct ReportFormView {
    pub action: String,
    /// Agencies listed in the directory near the caller, offered as the agency's name.
    pub agency_choices: Vec<String>,
    pub v: ReportValues,
    pub agencies: Vec<Opt>,
    pub methods: Vec<Opt>,
    pub subjects: Vec<Opt>,
    pub types: Vec<Opt>,
    pub problems: BTreeMap<String, String>,
    pub summary: Vec<Problem>,
}

impl ReportFormView {
    /// What is wrong with `field`, if anything.
    pub fn problem(&self, field: &str) -> Option<&str> {
        self.problems.get(field).map(String::as_str)
    }
}

fn report_form(shell: &Shell, case_id: &str, v: ReportValues, refused: &[&str]) -> ReportFormView {
    let (problems, summary) = problems_of(shell, "hotline-report", refused.iter().copied());
    ReportFormView {
        action: format!("/hotline/cases/{case_id}/reports"),
        agency_choices: Vec::new(),
        agencies: options(shell, "hotline-agency", &AGENCIES, &[v.agency.as_str()]),
        methods: options(shell, "hotline-method", &METHODS, &[v.method.as_str()]),
        subjects: options(shell, "hotline-subject", &SUBJECTS, &[v.subject.as_str()]),
        types: options(
            shell,
            "hotline-type",
            &TYPES,
            &[v.trafficking_type.as_str()],
        ),
        problems,
        summary,
        v,
    }
}

#[derive(Template)]
#[template(path = "hotline/contact.html")]
struct ContactPage {
    shell: Shell,
    csrf: String,
    c: ContactView,
    channel: String,
    direction: String,
    caller_type: String,
    language: String,
    reasons: Vec<String>,
    outcome: String,
    safe_to_call: String,
    voicemail_ok: String,
    danger: bool,
    case: Option<CaseView>,
    related: Vec<String>,
    referrals: Vec<ReferralView>,
    reports: Vec<ReportView>,
    search_href: String,
    screening_href: Option<String>,
    report: Option<ReportFormView>,
    referral_problem: Option<String>,
    crisis_action: String,
    crisis_steps: Vec<CrisisStepView>,
    crisis_problem: Option<String>,
    /// Public library documents (id, title) to send.
    documents: Vec<(String, String)>,
    sent: Vec<ResourceSentView>,
    resource_problem: Option<String>,
}

/// A document sent to the caller.
pub struct ResourceSentView {
    pub title: String,
    pub channel: String,
    pub at: String,
}

/// One step of the crisis checklist: its code, its name, and what was recorded.
pub struct CrisisStepView {
    pub code: String,
    pub label: String,
    pub recorded: String,
}

fn yes_no_label(shell: &Shell, value: Option<bool>) -> String {
    match value {
        Some(true) => shell.tr.t("hotline-answer-yes"),
        Some(false) => shell.tr.t("hotline-answer-no"),
        None => shell.tr.t("hotline-not-asked"),
    }
}

/// Law-enforcement and child-welfare agencies the directory lists near the caller (or
/// anywhere, when where they are is not known): the names the report form suggests. A
/// failed search only leaves the field to be typed.
fn agencies_near(state: &AppState, city: Option<&str>, st: Option<&str>) -> Vec<String> {
    use crate::directory::search::{Filters, Near, Point, Query, Sort};
    use crate::directory::taxonomy;
    let near = crate::kernel::places::find(city.unwrap_or_default(), st.unwrap_or_default())
        .and_then(|place| {
            Some(Near {
                point: Point::new(place.latitude, place.longitude)?,
                radius_km: AGENCY_RADIUS_KM,
                state: Some(place.state.clone()),
            })
        });
    let mut names: Vec<String> = Vec::new();
    for code in ["svc-law-enforcement", "svc-child-welfare"] {
        let Some(term) = taxonomy::terms().iter().find(|t| t.code == code) else {
            continue;
        };
        let query = Query {
            text: None,
            near: near.clone(),
            filters: Filters {
                terms: vec![term.id.clone()],
                all_terms: true,
                ..Filters::default()
            },
            sort: if near.is_some() {
                Sort::Distance
            } else {
                Sort::Relevance
            },
            limit: 25,
            offset: 0,
            listed_since: None,
        };
        for hit in state
            .search
            .search(&query)
            .map(|f| f.hits)
            .unwrap_or_default()
        {
            if !names.contains(&hit.doc.organization_name) {
                names.push(hit.doc.organization_name.clone());
            }
        }
    }
    names
}

/// How far to look for an agency to report to: a county or two.
const AGENCY_RADIUS_KM: f64 = 160.0;

fn referral_view(shell: &Shell, r: &overview::ReferralListRow) -> ReferralView {
    ReferralView {
        id: r.id.clone(),
        service: r.service_name.clone(),
        href: format!("/directory/services/{}", r.service_id),
        urgency: label(shell, "hotline-urgency", &r.urgency),
        kind: label(shell, "hotline-referral-kind", &r.kind),
        capacity: r
            .partner_capacity
            .as_deref()
            .map(|p| label(shell, "hotline-capacity", p))
            .unwrap_or_default(),
        follow_up: r.follow_up_due.clone().unwrap_or_default(),
        outcome: r
            .outcome
            .as_deref()
            .map(|o| label(shell, "hotline-referral-outcome", o))
            .unwrap_or_default(),
    }
}

fn report_view(shell: &Shell, r: &overview::ReportListRow) -> ReportView {
    ReportView {
        agency: label(shell, "hotline-agency", &r.agency),
        agency_name: r.agency_name.clone(),
        method: label(shell, "hotline-method", &r.method),
        basis: label(shell, "hotline-basis", &r.basis),
        reference: r.reference.clone().unwrap_or_default(),
        at: minute_utc(r.reported_at.unwrap_or(r.created_at)),
    }
}

/// What a form on the contact page was refused for, shown beside that form.
#[derive(Default)]
pub(super) struct Problems {
    pub referral: Option<String>,
    pub crisis: Option<String>,
    pub resource: Option<String>,
}

/// The staff search, opened where the caller is, with a "Refer" form for this contact.
fn search_href(c: &ContactView, id: &str) -> String {
    let mut search = form_urlencoded::Serializer::new(String::new());
    if let Some(city) = &c.caller_city {
        search.append_pair("city", city);
    }
    if let Some(st) = &c.caller_state {
        search.append_pair("state", st);
    }
    search.append_pair("contact", id);
    format!("/directory/search?{}", search.finish())
}

fn resource_views(shell: &Shell, sent: &[super::store::SentResourceRow]) -> Vec<ResourceSentView> {
    sent.iter()
        .map(|r| ResourceSentView {
            title: r.title.clone(),
            channel: label(shell, "hotline-resource-channel", &r.channel),
            at: minute_utc(r.sent_at),
        })
        .collect()
}

pub(super) async fn contact_page(
    state: &AppState,
    principal: &Principal,
    id: &str,
    problems: Problems,
) -> Result<Response, HtmlError> {
    let Some(id) = an_id(id) else {
        return Err(HtmlError::NotFound);
    };
    // The reading is audited, as the API's.
    let Some(c) = service::read(&state.db, &state.crypto, principal, &id)
        .await
        .map_err(internal)?
    else {
        return Err(HtmlError::NotFound);
    };
    let Some(around) = overview::of_contact(&state.db, &id)
        .await
        .map_err(internal)?
    else {
        return Err(HtmlError::NotFound);
    };
    let documents = crate::library::service::public_titles(&state.db)
        .await
        .map_err(internal)?;
    let shell = Shell::current();
    let report = around.case.as_ref().map(|case| {
        let v = ReportValues {
            contact: id.clone(),
            agency: "law-enforcement".to_owned(),
            method: "phone".to_owned(),
            subject: "adult".to_owned(),
            city: c.caller_city.clone().unwrap_or_default(),
            state: c.caller_state.clone().unwrap_or_default(),
            trafficking_type: case.trafficking_type.clone(),
            ..ReportValues::default()
        };
        let mut form = report_form(&shell, &case.id, v, &[]);
        form.agency_choices =
            agencies_near(state, c.caller_city.as_deref(), c.caller_state.as_deref());
        form
    });
    let page = ContactPage {
        csrf: csrf_of(principal),
        channel: label(&shell, "hotline-channel", &c.channel),
        direction: label(&shell, "hotline-direction", &c.direction),
        caller_type: label(&shell, "hotline-caller", &c.caller_type),
        language: label(&shell, "lang-name", &c.language),
        reasons: c
            .reasons
            .iter()
            .map(|r| label(&shell, "hotline-reason", r))
            .collect(),
        outcome: c
            .outcome
            .as_deref()
            .map(|o| label(&shell, "hotline-outcome", o))
            .unwrap_or_default(),
        safe_to_call: yes_no_label(&shell, c.safe_to_call),
        voicemail_ok: yes_no_label(&shell, c.voicemail_ok),
        danger: c.reasons.iter().any(|r| r == "crisis"),
        screening_href: around
            .case
            .as_ref()
            .map(|case| format!("/hotline/cases/{}/screening?contact={id}", case.id)),
        case: around.case.as_ref().map(|case| case_view(&shell, case)),
        related: around.related_cases,
        referrals: around
            .referrals
            .iter()
            .map(|r| referral_view(&shell, r))
            .collect(),
        reports: around
            .reports
            .iter()
            .map(|r| report_view(&shell, r))
            .collect(),
        search_href: search_href(&c, &id),
        report,
        crisis_action: format!("/hotline/contacts/{id}/crisis"),
        crisis_steps: crisis_views(&shell, &around.crisis),
        crisis_problem: problems.crisis,
        documents,
        sent: resource_views(&shell, &around.resources),
        resource_problem: problems.resource,
        c,
        shell,
        referral_problem: problems.referral,
    };
    let status = if page.referral_problem.is_some()
        || page.crisis_problem.is_some()
        || page.resource_problem.is_some()
    {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(status, &page)
}

/// A contact, its case and the actions on them.
pub async fn contact(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    contact_page(&state, &principal, &id, Problems::default()).await
}

// ---------------------------------------------------------------------------------
// Referral from the directory search

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ReferValues {
    csrf: String,
    service_id: String,
    urgency: String,
    kind: String,
    partner_capacity: String,
    follow_up_due: String,
    notes: String,
}

impl ReferValues {
    fn to_form(&self) -> Result<ReferralForm, &'static str> {
        let urgency: Urgency = from_code(self.urgency.trim()).ok_or("urgency")?;
        let kind: Kind = from_code(self.kind.trim()).ok_or("kind")?;
        let partner_capacity: Option<Capacity> = match self.partner_capacity.trim() {
            "" => None,
            raw => Some(from_code(raw).ok_or("partner_capacity")?),
        };
        let some = |raw: &str| Some(raw.trim().to_owned()).filter(|t| !t.is_empty());
        Ok(ReferralForm {
            service_id: self.service_id.trim().to_owned(),
            urgency,
            kind,
            partner_capacity,
            follow_up_due: some(&self.follow_up_due),
            notes: some(&self.notes),
        })
    }
}

/// Records a referral made from the search, then shows the contact with it.
pub async fn refer(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    axum::Form(values): axum::Form<ReferValues>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &values.csrf).await?;
    let Some(id) = an_id(&id) else {
        return Err(HtmlError::NotFound);
    };
    let refused = |field: &str| {
        let shell = Shell::current();
        shell.tr.t1(
            "hotline-referral-refused",
            "field",
            &shell.tr.t(&format!("hotline-referral-field-{field}")),
        )
    };
    let referral = match values
        .to_form()
        .and_then(|form| form.parse().map_err(|(field, _)| field))
    {
        Ok(referral) => referral,
        Err(field) => {
            let problems = Problems {
                referral: Some(refused(field)),
                ..Problems::default()
            };
            return contact_page(&state, &principal, &id, problems).await;
        }
    };
    match referrals::refer(&state.db, &state.crypto, &principal, &id, &referral)
        .await
        .map_err(internal)?
    {
        Ok(_) => {
            state.live.notify(super::live::Signal::Console);
            Ok(Redirect::to(&format!("/hotline/contacts/{id}#referrals")).into_response())
        }
        Err(ReferralRefusal::NoSuchContact) => Err(HtmlError::NotFound),
        Err(ReferralRefusal::NoSuchService) => {
            let problems = Problems {
                referral: Some(refused("service_id")),
                ..Problems::default()
            };
            contact_page(&state, &principal, &id, problems).await
        }
    }
}

// ---------------------------------------------------------------------------------
// Crisis checklist

fn crisis_views(shell: &Shell, recorded: &[(String, Option<i64>, bool)]) -> Vec<CrisisStepView> {
    Step::ALL
        .iter()
        .map(|step| {
            let code = super::model::contact::code(step);
            let recorded = match recorded.iter().find(|(s, _, _)| *s == code) {
                Some((_, Some(at), _)) => {
                    shell
                        .tr
                        .t1("hotline-crisis-done-at", "time", &minute_utc(*at))
                }
                Some((_, None, true)) => shell.tr.t("hotline-crisis-was-skipped"),
                _ => String::new(),
            };
            CrisisStepView {
                label: label(shell, "hotline-step", &code),
                code,
                recorded,
            }
        })
        .collect()
}

/// A time as a browser's date-time field sends it (taken as UTC), or RFC 3339.
fn form_time(raw: &str) -> Option<jiff::Timestamp> {
    raw.parse::<jiff::Timestamp>().ok().or_else(|| {
        raw.parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|t| t.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    })
}

/// Records the crisis checklist: each step done (when; blank is now) or skipped (why).
pub async fn crisis(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    check_form_token(&state, &principal, &field("csrf")).await?;
    let Some(id) = an_id(&id) else {
        return Err(HtmlError::NotFound);
    };
    let mut steps = BTreeMap::new();
    for step in Step::ALL {
        let code = super::model::contact::code(&step);
        let at = field(&format!("at/{code}"));
        let form = match field(&format!("step/{code}")).as_str() {
            "done" => StepForm {
                // A time that is not one goes on as typed, for the checklist to refuse.
                done_at: Some(if at.is_empty() {
                    jiff::Timestamp::now().to_string()
                } else {
                    form_time(&at).map_or(at, |t| t.to_string())
                }),
                skipped: None,
            },
            "skipped" => StepForm {
                done_at: None,
                skipped: Some(field(&format!("reason/{code}"))),
            },
            _ => StepForm {
                done_at: None,
                skipped: None,
            },
        };
        steps.insert(step, form);
    }
    let checklist = match (ChecklistForm { steps }).parse() {
        Ok(checklist) => checklist,
        Err(refused) => {
            let shell = Shell::current();
            let names: Vec<String> = Step::ALL
                .iter()
                .map(super::model::contact::code)
                .filter(|code| refused.contains_key(&format!("steps.{code}")))
                .map(|code| label(&shell, "hotline-step", &code))
                .collect();
            let problem = shell
                .tr
                .t1("hotline-crisis-refused", "steps", &names.join(", "));
            let problems = Problems {
                crisis: Some(problem),
                ..Problems::default()
            };
            return contact_page(&state, &principal, &id, problems).await;
        }
    };
    super::cases::record_crisis(&state.db, &state.crypto, &principal, &id, &checklist)
        .await
        .map_err(internal)?
        .ok_or(HtmlError::NotFound)?;
    Ok(Redirect::to(&format!("/hotline/contacts/{id}#crisis")).into_response())
}

// ---------------------------------------------------------------------------------
// Screening

pub struct ItemView {
    pub id: String,
    pub field: String,
    pub text: String,
    pub problem: bool,
    pub choices: Vec<Opt>,
}

pub struct DomainView {
    pub title: String,
    pub items: Vec<ItemView>,
}

pub struct ReasonLine {
    pub level: String,
    pub text: String,
}

pub struct ScreenedView {
    pub level: String,
    pub level_code: String,
    pub kind: String,
    pub reasons: Vec<ReasonLine>,
    pub alerted: bool,
}

#[derive(Template)]
#[template(path = "hotline/screening.html")]
struct ScreeningPage {
    shell: Shell,
    csrf: String,
    action: String,
    contact: Option<String>,
    case: CaseView,
    version: u32,
    domains: Vec<DomainView>,
    problems: Vec<String>,
    result: Option<ScreenedView>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ScreeningQuery {
    contact: String,
}

fn screening_page(
    principal: &Principal,
    case: &CaseSummary,
    contact: Option<String>,
    given: &BTreeMap<String, String>,
    problems: (Vec<String>, Vec<String>),
    result: Option<ScreenedView>,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let questionnaire = screening::shipped();
    let (problem_fields, messages) = problems;
    let domains = Domain::ALL
        .iter()
        .map(|domain| DomainView {
            title: label(&shell, "hotline-domain", domain.as_str()),
            items: questionnaire
                .items()
                .iter()
                .filter(|item| item.domain == *domain)
                .map(|item| {
                    let field = item.id.field();
                    let chosen = given.get(&field).map(String::as_str).unwrap_or_default();
                    ItemView {
                        id: item.id.as_str().to_owned(),
                        text: item.text.get(shell.lang).to_owned(),
                        problem: problem_fields.contains(&field),
                        choices: Answer::ALL
                            .iter()
                            .map(|a| Opt {
                                value: a.as_str().to_owned(),
                                label: label(&shell, "hotline-answer", a.as_str()),
                                selected: a.as_str() == chosen,
                            })
                            .collect(),
                        field,
                    }
                })
                .collect(),
        })
        .filter(|d| !d.items.is_empty())
        .collect();
    let page = ScreeningPage {
        csrf: csrf_of(principal),
        action: format!("/hotline/cases/{}/screening", case.id),
        case: case_view(&shell, case),
        version: questionnaire.version(),
        contact,
        domains,
        problems: messages,
        result,
        shell,
    };
    let status = if page.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render(status, &page)
}

async fn case_or_404(state: &AppState, id: &str) -> Result<CaseSummary, HtmlError> {
    let Some(id) = an_id(id) else {
        return Err(HtmlError::NotFound);
    };
    overview::case(&state.db, &id)
        .await
        .map_err(internal)?
        .ok_or(HtmlError::NotFound)
}

/// The questionnaire, by domain.
pub async fn screening_form(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    UrlQuery(query): UrlQuery<ScreeningQuery>,
) -> Result<Response, HtmlError> {
    let case = case_or_404(&state, &id).await?;
    screening_page(
        &principal,
        &case,
        an_id(&query.contact),
        &BTreeMap::new(),
        (Vec::new(), Vec::new()),
        None,
    )
}

/// Stores the answers and shows what the rules suggest, and why.
pub async fn screen(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    check_form_token(&state, &principal, &field("csrf")).await?;
    let case = case_or_404(&state, &id).await?;
    let contact = an_id(&field("contact"));
    let given: BTreeMap<String, String> = pairs
        .iter()
        .filter(|(k, _)| k.starts_with(screening::FIELD_PREFIX))
        .cloned()
        .collect();
    let shell = Shell::current();
    let answers = match Answers::parse(screening::shipped(), &pairs) {
        Ok(answers) => answers,
        Err(e) => {
            let problems = match e {
                AnswersError::Contradictory(conflicts) => (
                    conflicts.iter().flat_map(|c| c.fields.clone()).collect(),
                    conflicts
                        .iter()
                        .map(|c| c.text.get(shell.lang).to_owned())
                        .collect(),
                ),
                AnswersError::UnknownItem { field, .. }
                | AnswersError::BadValue { field }
                | AnswersError::Repeated { field } => (
                    vec![field],
                    vec![shell.tr.t("hotline-screening-bad-answer")],
                ),
            };
            return screening_page(&principal, &case, contact, &given, problems, None);
        }
    };
    let screened = match super::cases::screen(
        &state.db,
        &state.crypto,
        &principal,
        &case.id,
        &answers,
        shell.lang,
    )
    .await
    {
        Ok(screened) => {
            // It may have raised an alert supervisors' consoles show.
            state.live.notify(super::live::Signal::Console);
            screened
        }
        Err(HotlineError::NoSuchCase) => return Err(HtmlError::NotFound),
        Err(e) => return Err(internal(e)),
    };
    let result = ScreenedView {
        level: label(&shell, "hotline-level", &screened.suggested_level),
        level_code: screened.suggested_level.clone(),
        kind: label(&shell, "hotline-type", &screened.suggested_type),
        reasons: screened
            .reasons
            .iter()
            .map(|r| ReasonLine {
                level: label(&shell, "hotline-level", &r.level),
                text: r.text.clone(),
            })
            .collect(),
        alerted: !screened.alerts_raised.is_empty(),
    };
    // The case's level changed: show the case as it is now.
    let case = case_or_404(&state, &case.id).await?;
    screening_page(
        &principal,
        &case,
        contact,
        &given,
        (Vec::new(), Vec::new()),
        Some(result),
    )
}

// ---------------------------------------------------------------------------------
// Report to authorities

pub struct SentView {
    pub basis: String,
    pub reference: String,
    pub reported_at: String,
    pub must_notify: Vec<String>,
    /// The document's fields as sent: label and value.
    pub fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "hotline/report.html")]
struct ReportPage {
    shell: Shell,
    csrf: String,
    contact: Option<String>,
    report: Option<ReportFormView>,
    sent: Option<SentView>,
}

fn report_page(
    principal: &Principal,
    contact: Option<String>,
    report: Option<ReportFormView>,
    sent: Option<SentView>,
) -> Result<Response, HtmlError> {
    let status = if sent.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = ReportPage {
        shell: Shell::current(),
        csrf: csrf_of(principal),
        contact,
        report,
        sent,
    };
    render(status, &page)
}

/// Records a report under the consent rule and shows the document as it went.
pub async fn report(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    axum::Form(values): axum::Form<ReportValues>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &values.csrf).await?;
    let case = case_or_404(&state, &id).await?;
    let contact = an_id(&values.contact);
    let shell = Shell::current();
    let some = |raw: &str| Some(raw.trim().to_owned()).filter(|t| !t.is_empty());
    let request = ReportRequest {
        agency: values.agency.clone(),
        agency_name: values.agency_name.clone(),
        method: values.method.clone(),
        subject: values.subject.clone(),
        consent: values.consent.is_some(),
        imminent_danger: values.imminent_danger.is_some(),
        override_reason: some(&values.override_reason),
        subject_name: some(&values.subject_name),
        subject_phone: some(&values.subject_phone),
        subject_email: None,
        subject_address: None,
        subject_date_of_birth: None,
        description: some(&values.description),
        city: some(&values.city),
        state: some(&values.state),
        trafficking_type: values.trafficking_type.clone(),
        reference: some(&values.reference),
        reported_at: some(&values.reported_at),
    };
    let refuse = |values: ReportValues, fields: Vec<String>| {
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let form = report_form(&shell, &case.id, values, &fields);
        report_page(&principal, contact.clone(), Some(form), None)
    };
    let (rule_case, draft, meta) = match request.parse() {
        Ok(parsed) => parsed,
        Err(ApiError::BadRequest { fields, .. }) => {
            return refuse(values, fields.into_keys().collect());
        }
        Err(e) => return Err(internal(anyhow::anyhow!("report form: {e}"))),
    };
    let rule_meta = (meta.reference.clone().unwrap_or_default(), meta.reported_at);
    let sent = match super::cases::report(
        &state.db,
        &state.crypto,
        &principal,
        &case.id,
        &rule_case,
        draft,
        &meta,
    )
    .await
    {
        Ok(Ok(sent)) => sent,
        // The consent rule: without consent, this report waits for a reason.
        Ok(Err(_needs_reason)) => {
            return refuse(
                values,
                vec!["consent".to_owned(), "override_reason".to_owned()],
            );
        }
        Err(HotlineError::NoSuchCase) => return Err(HtmlError::NotFound),
        Err(e) => return Err(internal(e)),
    };
    let fields = sent
        .document
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            let shown = match value {
                serde_json::Value::Null => return None,
                serde_json::Value::Bool(b) => yes_no_label(&shell, Some(*b)),
                serde_json::Value::String(s) => match key.as_str() {
                    "agency" => label(&shell, "hotline-agency", s),
                    "subject" => label(&shell, "hotline-subject", s),
                    "trafficking_type" => label(&shell, "hotline-type", s),
                    _ => s.clone(),
                },
                other => other.to_string(),
            };
            Some((label(&shell, "hotline-doc", key), shown))
        })
        .collect();
    let view = SentView {
        basis: label(&shell, "hotline-basis", &sent.basis),
        reference: rule_meta.0,
        reported_at: minute_utc(rule_meta.1.unwrap_or_else(crate::kernel::time::now_micros)),
        must_notify: sent
            .must_notify
            .iter()
            .map(|a| label(&shell, "hotline-agency", a))
            .collect(),
        fields,
    };
    report_page(&principal, contact, None, Some(view))
}

/// Records what came of a referral, from the contact page.
pub async fn referral_outcome(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let form = FormFields::parse(&body);
    check_form_token(&state, &principal, form.get("csrf")).await?;
    let contact = an_id(form.get("contact")).ok_or(HtmlError::NotFound)?;
    let Some(outcome) = from_code(form.get("outcome")) else {
        let shell = Shell::current();
        let message = shell.tr.t1(
            "hotline-referral-refused",
            "field",
            &shell.tr.t("hotline-referral-outcome"),
        );
        let problems = Problems {
            referral: Some(message),
            ..Problems::default()
        };
        return contact_page(&state, &principal, &contact, problems).await;
    };
    if !referrals::record_outcome(&state.db, &principal, &id, outcome)
        .await
        .map_err(internal)?
    {
        return Err(HtmlError::NotFound);
    }
    state.live.notify(super::live::Signal::Console);
    Ok(Redirect::to(&format!("/hotline/contacts/{contact}#referrals")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::i18n::Lang;

    /// Labels are looked up by code: every code a page can show has one in both languages.
    const FIELDS: [&str; 22] = [
        "danger",
        "channel",
        "direction",
        "caller_type",
        "language",
        "interpreter",
        "caller_city",
        "caller_state",
        "heard_from",
        "reasons",
        "narrative",
        "notes",
        "caller_phone",
        "safe_to_call",
        "voicemail_ok",
        "code_word",
        "outcome",
        "new_case",
        "started_at",
        "ended_at",
        "case_id",
        "idempotency_key",
    ];
    const REPORT_FIELDS: [&str; 18] = [
        "agency",
        "agency_name",
        "method",
        "subject",
        "consent",
        "imminent_danger",
        "override_reason",
        "subject_name",
        "subject_phone",
        "subject_email",
        "subject_address",
        "subject_date_of_birth",
        "description",
        "city",
        "state",
        "trafficking_type",
        "reference",
        "reported_at",
    ];

    #[test]
    fn every_code_shown_has_a_label_in_both_languages() {
        let domains: Vec<&str> = Domain::ALL.iter().map(|d| d.as_str()).collect();
        let answers: Vec<&str> = Answer::ALL.iter().map(|a| a.as_str()).collect();
        let sets: Vec<(&str, &[&str])> = vec![
            ("hotline-channel", &CHANNELS),
            ("hotline-direction", &DIRECTIONS),
            ("hotline-caller", &CALLER_TYPES),
            ("hotline-reason", &REASONS),
            ("hotline-outcome", &OUTCOMES),
            ("hotline-type", &TYPES),
            ("lang-name", &LANGUAGES),
            ("hotline-agency", &AGENCIES),
            ("hotline-method", &METHODS),
            ("hotline-subject", &SUBJECTS),
            ("hotline-domain", &domains),
            ("hotline-answer", &answers),
            ("hotline-level", &["none", "low", "moderate", "high"]),
            ("hotline-status", &["open", "monitoring", "closed"]),
            ("hotline-urgency", &["urgent", "non-urgent"]),
            ("hotline-referral-kind", &["information", "warm-transfer"]),
            (
                "hotline-capacity",
                &["accepted", "no-capacity", "no-answer"],
            ),
            (
                "hotline-referral-outcome",
                &["reached", "served", "declined", "unreachable"],
            ),
            ("hotline-basis", &["consent", "override", "non-identifying"]),
            (
                "hotline-step",
                &[
                    "emergency-services-called",
                    "law-enforcement-called",
                    "supervisor-alerted",
                    "emergency-shelter-requested",
                    "extraction-requested",
                    "transportation-requested",
                ],
            ),
            (
                "hotline-referral-field",
                &[
                    "service_id",
                    "urgency",
                    "kind",
                    "partner_capacity",
                    "follow_up_due",
                    "notes",
                ],
            ),
            ("hotline-field", &FIELDS),
            ("hotline-report-field", &REPORT_FIELDS),
            ("hotline-doc", &REPORT_FIELDS),
        ];
        for lang in [Lang::En, Lang::Es] {
            for (prefix, codes) in &sets {
                for code in *codes {
                    let id = format!("{prefix}-{code}");
                    // The document has no consent or reason fields; the form does.
                    if *prefix == "hotline-doc"
                        && matches!(
                            *code,
                            "agency_name"
                                | "method"
                                | "consent"
                                | "override_reason"
                                | "reference"
                                | "reported_at"
                        )
                    {
                        continue;
                    }
                    assert!(i18n::has(lang, &id), "{id} missing in {lang:?}");
                }
            }
        }
    }
}
