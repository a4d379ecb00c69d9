//! `/admin/users` and `/admin/audit`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::accounts::model::Status;
use crate::accounts::routes::csrf_of;
use crate::accounts::service::{self as accounts, AccountSummary};
use crate::app::{AppState, check_form_token};
use crate::kernel::audit::{self, Filter, Record};
use crate::kernel::auth::{Principal, UserId};
use crate::kernel::time::rfc3339;
use crate::kernel::web::{HtmlError, Shell};

fn render(page: &impl Template) -> Result<Html<String>, HtmlError> {
    page.render()
        .map(Html)
        .map_err(|e| HtmlError::Internal(e.into()))
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    shell: Shell,
    users: Vec<(AccountSummary, String)>,
    csrf: String,
}

pub async fn users(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, HtmlError> {
    let users = accounts::list_accounts(&state.db, &state.crypto, &principal)
        .await?
        .into_iter()
        .map(|u| {
            let roles = u
                .roles
                .iter()
                .map(|r| r.id())
                .collect::<Vec<_>>()
                .join(", ");
            (u, roles)
        })
        .collect();
    render(&UsersPage {
        shell: Shell::current(),
        users,
        csrf: csrf_of(&principal),
    })
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    let id: UserId = id.parse().map_err(|_| HtmlError::NotFound)?;
    let status = match form.status.as_str() {
        "locked" => Status::Locked,
        "active" => Status::Active,
        _ => return Err(HtmlError::BadRequest),
    };
    if !accounts::set_status_by(&state.db, &principal, id, status).await? {
        return Err(HtmlError::NotFound);
    }
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    shell: Shell,
    events: Vec<(Record, String)>,
    filter: Filter,
    older: Option<i64>,
}

const PAGE: i64 = 50;

pub async fn audit(
    State(state): State<AppState>,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, HtmlError> {
    let events = audit::search(&state.db, &filter, PAGE).await?;
    let older = (events.len() == usize::try_from(PAGE).unwrap_or(usize::MAX))
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    render(&AuditPage {
        shell: Shell::current(),
        events: events
            .into_iter()
            .map(|e| {
                let at = rfc3339(e.at);
                (e, at)
            })
            .collect(),
        filter,
        older,
    })
}
