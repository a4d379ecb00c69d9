//! Staff pages: the program's organizations, and each one's on-call staff (opened for
//! its own staff, or for a hotline supervisor who breaks the glass with a reason).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::model::{OrgId, Organization};
use super::service;
use crate::accounts::routes::csrf_of;
use crate::accounts::service::{self as accounts, OnCall, OnCallContact};
use crate::app::{AppState, check_form_token};
use crate::kernel::auth::Principal;
use crate::kernel::authz::{self, Action, Decision, Resource};
use crate::kernel::breakglass::{self, BreakGlassError, Reason};
use crate::kernel::web::{HtmlError, Shell};

fn render(page: &impl Template) -> Result<String, HtmlError> {
    page.render().map_err(|e| HtmlError::Internal(e.into()))
}

/// The most organizations the page lists.
const SHOWN: u32 = 500;

#[derive(Template)]
#[template(path = "orgs/list.html")]
struct ListPage {
    shell: Shell,
    organizations: Vec<Organization>,
}

pub async fn list(State(state): State<AppState>) -> Result<Html<String>, HtmlError> {
    let (organizations, _) = service::list(&state.db, None, 1, SHOWN).await?;
    Ok(Html(render(&ListPage {
        shell: Shell::current(),
        organizations,
    })?))
}

#[derive(Template)]
#[template(path = "orgs/on_call.html")]
struct OnCallPage {
    shell: Shell,
    organization: Organization,
    staff: Vec<OnCallContact>,
    /// Opened under a break-glass grant.
    broken: bool,
    /// The reason form is shown instead of the staff.
    ask_reason: bool,
    reason: String,
    problem: Option<String>,
    csrf: String,
}

async fn organization(state: &AppState, id: &str) -> Result<Organization, HtmlError> {
    let id: OrgId = id.parse().map_err(|_| HtmlError::NotFound)?;
    service::get(&state.db, id)
        .await?
        .ok_or(HtmlError::NotFound)
}

pub async fn on_call(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let organization = organization(&state, &id).await?;
    let answer = accounts::on_call(&state.db, &state.crypto, &principal, organization.id).await?;
    let mut page = OnCallPage {
        shell: Shell::current(),
        organization,
        staff: Vec::new(),
        broken: false,
        ask_reason: false,
        reason: String::new(),
        problem: None,
        csrf: csrf_of(&principal),
    };
    match answer {
        OnCall::Contacts { staff, grant } => {
            page.staff = staff;
            page.broken = grant.is_some();
            Ok(Html(render(&page)?).into_response())
        }
        // Not open yet: the page asks for the reason.
        OnCall::ReasonRequired => {
            page.ask_reason = true;
            Ok((StatusCode::FORBIDDEN, Html(render(&page)?)).into_response())
        }
        OnCall::Hidden => Err(HtmlError::Forbidden),
    }
}

#[derive(Deserialize)]
pub struct ReasonForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Breaks the glass: records the reason and opens the page for an hour.
pub async fn break_glass(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    let organization = organization(&state, &id).await?;
    let target = format!("/organizations/{}/on-call", organization.id);
    let action = Action::ReadOnCallContacts;
    match authz::authorize(
        Some(&principal),
        action,
        Resource::Organization(organization.id),
    ) {
        // Its own staff need no reason.
        Decision::Allow => return Ok(Redirect::to(&target).into_response()),
        Decision::BreakGlass => {}
        _ => return Err(HtmlError::Forbidden),
    }
    let problem = match Reason::parse(&form.reason) {
        Ok(reason) => {
            match breakglass::open(
                &state.db,
                &state.crypto,
                &principal,
                action,
                organization.id,
                &reason,
            )
            .await
            {
                Ok(_) => return Ok(Redirect::to(&target).into_response()),
                Err(BreakGlassError::NotAllowed) => return Err(HtmlError::Forbidden),
                Err(e) => return Err(HtmlError::Internal(e.into())),
            }
        }
        Err(_) => "break-glass-reason-invalid",
    };
    let shell = Shell::current();
    let page = OnCallPage {
        problem: Some(shell.tr.t(problem)),
        shell,
        organization,
        staff: Vec::new(),
        broken: false,
        ask_reason: true,
        reason: form.reason,
        csrf: csrf_of(&principal),
    };
    Ok((StatusCode::BAD_REQUEST, Html(render(&page)?)).into_response())
}
