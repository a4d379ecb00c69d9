//! Individuals: atip's own JSON API (public, or complete for staff) and the curators'
//! page to add and change them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::model::{EXPERTISE, FieldProblem, IndividualForm, Preference};
use super::service::{self, Filter, IndividualError, Reader};
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::directory::search::load::state_named;
use crate::kernel::auth::Principal;
use crate::kernel::authz::{self, Action, Decision, Resource};
use crate::kernel::web::extract::ApiQuery;
use crate::kernel::web::{ApiError, HtmlError, Shell};

impl From<IndividualError> for ApiError {
    fn from(e: IndividualError) -> Self {
        match e {
            IndividualError::NotFound => Self::NotFound,
            other => Self::Internal(other.into()),
        }
    }
}

impl From<IndividualError> for HtmlError {
    fn from(e: IndividualError) -> Self {
        match e {
            IndividualError::NotFound => Self::NotFound,
            other => Self::Internal(other.into()),
        }
    }
}

/// Staff who search the directory see everyone and every way to reach them.
fn reader(principal: Option<&Principal>) -> Reader {
    if authz::authorize(principal, Action::SearchDirectory, Resource::Global) == Decision::Allow {
        Reader::Staff
    } else {
        Reader::Public
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IndividualParams {
    /// Only people with this expertise (`attorney`, `immigration-attorney`, `trainer`,
    /// `researcher`, `survivor-leader`, `interpreter`, `clinician`, `consultant`).
    expertise: Option<String>,
    /// Only people who speak this language (ISO 639-1 code or English name).
    language: Option<String>,
    /// Only people serving this state (two-letter code).
    state: Option<String>,
}

/// Individuals (attorneys, trainers, researchers, survivor leaders, interpreters) as
/// HSDS `contact` objects with `x_` extension fields. The public sees listed people,
/// reachable as they chose; staff see everyone, and the reading is audited.
#[utoipa::path(get, path = "/api/v1/individuals", tag = "directory", params(IndividualParams),
    responses((status = 200, description = "The individuals, as HSDS contacts with x_ extensions"),
              (status = 400, description = "A parameter is not valid", body = crate::kernel::web::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    ApiQuery(params): ApiQuery<IndividualParams>,
) -> Result<Json<Value>, ApiError> {
    let principal = principal.as_ref().map(|p| &p.0);
    let expertise = params.expertise.map(|e| e.trim().to_lowercase());
    if expertise
        .as_deref()
        .is_some_and(|e| !EXPERTISE.contains(&e))
    {
        return Err(ApiError::field(
            "expertise",
            format!("must be one of: {}", EXPERTISE.join(", ")),
        ));
    }
    let state_code = params.state.map(|s| s.trim().to_uppercase());
    if state_code
        .as_deref()
        .is_some_and(|s| state_named(s) != Some(s))
    {
        return Err(ApiError::field(
            "state",
            "must be a two-letter U.S. state code",
        ));
    }
    let filter = Filter {
        expertise,
        language: params
            .language
            .map(|l| crate::directory::search::index::language_code(&l)),
        state: state_code,
    };
    let items = service::list(
        &state.db,
        &state.crypto,
        (reader(principal), principal),
        &filter,
    )
    .await?;
    Ok(Json(
        json!({ "total_items": items.len(), "contents": items }),
    ))
}

#[utoipa::path(get, path = "/api/v1/individuals/{id}", tag = "directory",
    params(("id" = String, Path, description = "The individual's id")),
    responses((status = 200, description = "The individual"), (status = 404, description = "No such listed individual")))]
pub async fn one(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let principal = principal.as_ref().map(|p| &p.0);
    Ok(Json(
        service::one(
            &state.db,
            &state.crypto,
            (reader(principal), principal),
            &id,
        )
        .await?,
    ))
}

pub struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

pub struct PersonView {
    pub href: String,
    pub name: String,
    pub expertise: String,
    pub states: String,
    pub listed: bool,
}

#[derive(Template)]
#[template(path = "directory/individuals.html")]
struct IndividualsPage {
    shell: Shell,
    csrf: String,
    id: Option<String>,
    form: IndividualForm,
    expertise: Vec<Choice>,
    preferences: Vec<Choice>,
    people: Vec<PersonView>,
    problems: Vec<(String, String)>,
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

async fn page(
    state: &AppState,
    curator: &Principal,
    id: Option<&str>,
    form: IndividualForm,
    problems: &[FieldProblem],
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let people = if id.is_none() {
        service::list(
            &state.db,
            &state.crypto,
            (Reader::Staff, Some(curator)),
            &Filter::default(),
        )
        .await?
        .iter()
        .map(|v| PersonView {
            href: format!("/directory/individuals/{}", text(v, "id")),
            name: text(v, "name"),
            expertise: v["x_expertise"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|e| shell.tr.t(&format!("individual-expertise-{e}")))
                .collect::<Vec<_>>()
                .join(", "),
            states: text(v, "x_states_served"),
            listed: v["x_listed"].as_bool().unwrap_or(false),
        })
        .collect()
    } else {
        Vec::new()
    };
    let picked: Vec<&str> = form.expertise.split([';', ',']).map(str::trim).collect();
    let view = IndividualsPage {
        csrf: csrf_of(curator),
        id: id.map(str::to_owned),
        expertise: EXPERTISE
            .iter()
            .map(|e| Choice {
                value: e,
                label: shell.tr.t(&format!("individual-expertise-{e}")),
                selected: picked.contains(e),
            })
            .collect(),
        preferences: Preference::ALL
            .iter()
            .map(|p| Choice {
                value: p.as_str(),
                label: shell.tr.t(&format!("individual-preference-{}", p.as_str())),
                selected: form.preference == p.as_str(),
            })
            .collect(),
        form,
        people,
        problems: problems
            .iter()
            .map(|(field, reason)| ((*field).to_owned(), shell.tr.t(reason)))
            .collect(),
        shell,
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, Html(view.render().map_err(anyhow::Error::from)?)).into_response())
}

/// The curators' list of individuals and the form to add one.
pub async fn curate(
    State(state): State<AppState>,
    Extension(curator): Extension<Principal>,
) -> Result<Response, HtmlError> {
    let form = IndividualForm {
        preference: Preference::ThroughHotline.as_str().into(),
        ..IndividualForm::default()
    };
    page(&state, &curator, None, form, &[]).await
}

/// One individual's edit form.
pub async fn edit(
    State(state): State<AppState>,
    Extension(curator): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let form = service::form_of(&state.db, &state.crypto, &curator, &id).await?;
    page(&state, &curator, Some(&id), form, &[]).await
}

/// The form as sent: the expertise boxes joined with `;`.
fn sent(body: &[u8]) -> (String, IndividualForm) {
    let (mut csrf, mut form) = (String::new(), IndividualForm::default());
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "csrf" => csrf = v,
            "name" => form.name = v,
            "title" => form.title = v,
            "bio" => form.bio = v,
            "expertise" if form.expertise.is_empty() => form.expertise = v,
            "expertise" => form.expertise = format!("{};{v}", form.expertise),
            "languages" => form.languages = v,
            "states" => form.states = v,
            "organization_id" => form.organization_id = v,
            "email" => form.email = v,
            "phone" => form.phone = v,
            "preference" => form.preference = v,
            "listed" => form.listed = v,
            _ => {}
        }
    }
    (csrf, form)
}

async fn save(
    state: &AppState,
    curator: &Principal,
    id: Option<&str>,
    body: &[u8],
) -> Result<Response, HtmlError> {
    let (csrf, form) = sent(body);
    check_form_token(state, curator, &csrf).await?;
    match form.parse(|s| state_named(s) == Some(s)) {
        Ok(individual) => {
            service::save(&state.db, &state.crypto, curator, id, &individual).await?;
            Ok(Redirect::to("/directory/individuals").into_response())
        }
        Err(problems) => page(state, curator, id, form, &problems).await,
    }
}

/// Adds an individual.
pub async fn create(
    State(state): State<AppState>,
    Extension(curator): Extension<Principal>,
    body: axum::body::Bytes,
) -> Result<Response, HtmlError> {
    save(&state, &curator, None, &body).await
}

/// Changes an individual.
pub async fn update(
    State(state): State<AppState>,
    Extension(curator): Extension<Principal>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HtmlError> {
    save(&state, &curator, Some(&id), &body).await
}
