//! The case page: what the case is about, the form that describes it (the advocates'
//! determination included), its identifiers and its timeline.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::super::live::Signal;
use super::super::model::case::{CaseForm, Gender, Term, VenueKind, typology};
use super::super::model::contact::from_code;
use super::{CaseView, IdentifierView, TimelineEvent};
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::kernel::auth::Principal;
use crate::kernel::i18n::Lang;
use crate::kernel::web::{HtmlError, Shell};

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Event {
    pub at: String,
    pub what: String,
    pub detail: String,
    /// A link to the contact it came from, when it is one.
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "hotline/case.html")]
struct CasePage {
    shell: Shell,
    csrf: String,
    id: String,
    level: String,
    statuses: Vec<Choice>,
    types: Vec<Choice>,
    determinations: Vec<Choice>,
    minors: Vec<Choice>,
    genders: Vec<Choice>,
    sex_venues: Vec<Choice>,
    labor_venues: Vec<Choice>,
    means: Vec<Choice>,
    recruitment: Vec<Choice>,
    victims: String,
    nationalities: String,
    city: String,
    state: String,
    persons: String,
    summary: String,
    identifiers: Vec<IdentifierView>,
    timeline: Vec<Event>,
    problems: Vec<(String, String)>,
    saved: bool,
}

fn choices(all: &[(&str, String)], chosen: &[String]) -> Vec<Choice> {
    all.iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: label.clone(),
            selected: chosen.iter().any(|c| c == value),
        })
        .collect()
}

fn labelled(shell: &Shell, prefix: &str, codes: &[&'static str]) -> Vec<(&'static str, String)> {
    codes
        .iter()
        .map(|c| (*c, shell.tr.t(&format!("{prefix}-{c}"))))
        .collect()
}

/// What the form shows: the case as stored, or as typed when refused.
#[derive(Default)]
struct Typed {
    status: String,
    kind: String,
    determination: String,
    minors: String,
    victims: String,
    genders: Vec<String>,
    nationalities: String,
    venues: Vec<String>,
    means: Vec<String>,
    recruitment: Vec<String>,
    city: String,
    state: String,
    persons: String,
    summary: String,
}

impl Typed {
    fn of(view: &CaseView) -> Self {
        let codes = |items: &[String]| items.to_vec();
        Self {
            status: view.status.clone(),
            kind: view.trafficking_type.clone(),
            determination: view.determination.clone().unwrap_or_default(),
            minors: match view.minors_involved {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => String::new(),
            },
            victims: view
                .potential_victims
                .map(|n| n.to_string())
                .unwrap_or_default(),
            genders: view
                .codes
                .genders
                .iter()
                .map(super::super::model::contact::code)
                .collect(),
            nationalities: view.codes.nationalities.join(", "),
            venues: codes(&view.codes.venues),
            means: codes(&view.codes.means_of_control),
            recruitment: codes(&view.codes.recruitment),
            city: view.exploitation_city.clone().unwrap_or_default(),
            state: view.exploitation_state.clone().unwrap_or_default(),
            persons: view.persons_of_interest.clone().unwrap_or_default(),
            summary: view.summary.clone().unwrap_or_default(),
        }
    }

    fn from_body(body: &[u8]) -> (String, Self) {
        let mut csrf = String::new();
        let mut t = Self::default();
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "csrf" => csrf = value,
                "status" => t.status = value,
                "trafficking_type" => t.kind = value,
                "determination" => t.determination = value,
                "minors_involved" => t.minors = value,
                "potential_victims" => t.victims = value,
                "genders" => t.genders.push(value),
                "nationalities" => t.nationalities = value,
                "venues" => t.venues.push(value),
                "means_of_control" => t.means.push(value),
                "recruitment" => t.recruitment.push(value),
                "exploitation_city" => t.city = value,
                "exploitation_state" => t.state = value,
                "persons_of_interest" => t.persons = value,
                "summary" => t.summary = value,
                _ => {}
            }
        }
        (csrf, t)
    }

    /// The API's form, or the fields that are not even of the right shape.
    fn to_form(&self) -> Result<CaseForm, Vec<&'static str>> {
        let mut wrong = Vec::new();
        let status = from_code(&self.status);
        let kind = from_code(&self.kind);
        if status.is_none() {
            wrong.push("status");
        }
        if kind.is_none() {
            wrong.push("trafficking_type");
        }
        let determination = if self.determination.is_empty() {
            None
        } else {
            let d = from_code(&self.determination);
            if d.is_none() {
                wrong.push("determination");
            }
            d
        };
        let victims = self.victims.trim();
        let potential_victims = if victims.is_empty() {
            None
        } else if let Ok(n) = victims.parse::<u32>() {
            Some(n)
        } else {
            wrong.push("potential_victims");
            None
        };
        let genders: Vec<Gender> = self.genders.iter().filter_map(|g| from_code(g)).collect();
        if genders.len() != self.genders.len() {
            wrong.push("genders");
        }
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let (Some(status), Some(trafficking_type)) = (status, kind) else {
            return Err(wrong);
        };
        if !wrong.is_empty() {
            return Err(wrong);
        }
        Ok(CaseForm {
            status,
            trafficking_type,
            determination,
            potential_victims,
            minors_involved: match self.minors.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            genders,
            nationalities: self
                .nationalities
                .split([',', ' '])
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect(),
            venues: self.venues.clone(),
            means_of_control: self.means.clone(),
            recruitment: self.recruitment.clone(),
            exploitation_city: text(&self.city),
            exploitation_state: text(&self.state),
            persons_of_interest: text(&self.persons),
            summary: text(&self.summary),
        })
    }
}

fn timeline(shell: &Shell, events: &[TimelineEvent]) -> Vec<Event> {
    events
        .iter()
        .map(|e| Event {
            at: e.at.clone(),
            what: shell.tr.t(&format!("case-event-{}", e.kind)),
            detail: e.detail.clone().unwrap_or_default(),
            href: matches!(
                e.kind.as_str(),
                "contact" | "crisis-step" | "crisis-step-skipped"
            )
            .then(|| format!("/hotline/contacts/{}", e.record)),
        })
        .collect()
}

fn render(
    principal: &Principal,
    view: &CaseView,
    typed: &Typed,
    problems: Vec<(String, String)>,
    saved: bool,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let t = typology();
    let spanish = shell.lang == Lang::Es;
    let name = |en: &String, es: &String| if spanish { es.clone() } else { en.clone() };
    let venues = |labor: bool| -> Vec<(&str, String)> {
        t.venues
            .iter()
            .filter(|v| !v.retired || typed.venues.contains(&v.code))
            // Venues seen with both kinds are listed once, with labor's.
            .filter(|v| (v.kind == VenueKind::Sex) != labor)
            .map(|v| (v.code.as_str(), name(&v.en, &v.es)))
            .collect()
    };
    let terms = |list: &[Term], chosen: &[String]| -> Vec<Choice> {
        let all: Vec<(&str, String)> = list
            .iter()
            .filter(|x| !x.retired || chosen.contains(&x.code))
            .map(|x| (x.code.as_str(), name(&x.en, &x.es)))
            .collect();
        choices(&all, chosen)
    };
    let one = |v: &str| vec![v.to_owned()];
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = CasePage {
        csrf: csrf_of(principal),
        id: view.id.clone(),
        level: shell.tr.t(&format!(
            "hotline-level-{}",
            view.indicator_level.as_deref().unwrap_or("not-screened")
        )),
        statuses: choices(
            &labelled(&shell, "case-status", &["open", "monitoring", "closed"]),
            &one(&typed.status),
        ),
        types: choices(
            &labelled(&shell, "hotline-type", &["sex", "labor", "both", "unknown"]),
            &one(&typed.kind),
        ),
        determinations: choices(
            &labelled(
                &shell,
                "hotline-level",
                &["high", "moderate", "low", "none"],
            ),
            &one(&typed.determination),
        ),
        minors: choices(
            &labelled(&shell, "hotline-answer", &["yes", "no"]),
            &one(&typed.minors),
        ),
        genders: choices(
            &labelled(
                &shell,
                "case-gender",
                &["female", "male", "transgender-or-nonbinary", "unknown"],
            ),
            &typed.genders,
        ),
        sex_venues: choices(&venues(false), &typed.venues),
        labor_venues: choices(&venues(true), &typed.venues),
        means: terms(&t.means_of_control, &typed.means),
        recruitment: terms(&t.recruitment, &typed.recruitment),
        victims: typed.victims.clone(),
        nationalities: typed.nationalities.clone(),
        city: typed.city.clone(),
        state: typed.state.clone(),
        persons: typed.persons.clone(),
        summary: typed.summary.clone(),
        identifiers: view.identifiers.clone(),
        timeline: timeline(&shell, &view.timeline),
        problems,
        saved,
        shell,
    };
    Ok((
        status,
        Html(page.render().map_err(|e| HtmlError::Internal(e.into()))?),
    )
        .into_response())
}

async fn view_of(state: &AppState, principal: &Principal, id: &str) -> Result<CaseView, HtmlError> {
    super::view(&state.db, &state.crypto, principal, id)
        .await?
        .ok_or(HtmlError::NotFound)
}

#[derive(serde::Deserialize)]
pub struct CaseQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// The case page (its reading is audited).
pub async fn case(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    Query(query): Query<CaseQuery>,
) -> Result<Response, HtmlError> {
    let view = view_of(&state, &principal, &id).await?;
    render(
        &principal,
        &view,
        &Typed::of(&view),
        Vec::new(),
        query.saved.is_some(),
    )
}

/// Saves the case's description.
pub async fn describe(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let (csrf, typed) = Typed::from_body(&body);
    check_form_token(&state, &principal, &csrf).await?;
    let tr = Shell::current().tr;
    let refused = |fields: BTreeMap<&'static str, String>| -> Vec<(String, String)> {
        fields
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_owned(),
                    format!("{}: {v}", tr.t(&format!("case-field-{k}"))),
                )
            })
            .collect()
    };
    let details = typed
        .to_form()
        .map_err(|wrong| {
            refused(
                wrong
                    .into_iter()
                    .map(|f| (f, tr.t("case-problem-choose")))
                    .collect(),
            )
        })
        .and_then(|form| {
            form.parse(typology())
                .map_err(|r| refused(r.into_iter().map(|(k, v)| (k, v.to_owned())).collect()))
        });
    let details = match details {
        Ok(details) => details,
        Err(problems) => {
            let view = view_of(&state, &principal, &id).await?;
            return render(&principal, &view, &typed, problems, false);
        }
    };
    super::describe(&state.db, &state.crypto, &principal, &id, &details)
        .await?
        .ok_or(HtmlError::NotFound)?;
    state.live.notify(Signal::Console);
    Ok(Redirect::to(&format!("/hotline/cases/{id}?saved=1")).into_response())
}
