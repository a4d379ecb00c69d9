//! A text thread's page: every text in it (opened; the reading is audited) and the
//! form an advocate replies with through the text line.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::super::sms::{self, ReplyRefusal, TextView};
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::kernel::auth::Principal;
use crate::kernel::web::extract::FormFields;
use crate::kernel::web::{HtmlError, Shell};

/// Longer than this is several texts; carriers join at most 1,600 characters.
const REPLY_MAX: usize = 1_600;

#[derive(Template)]
#[template(path = "hotline/texts.html")]
struct ThreadPage {
    shell: Shell,
    csrf: String,
    id: String,
    sender: String,
    opted_out: bool,
    texts: Vec<TextView>,
    sent: bool,
    problem: Option<String>,
    typed: String,
}

fn internal(e: impl Into<anyhow::Error>) -> HtmlError {
    HtmlError::Internal(e.into())
}

async fn page(
    state: &AppState,
    principal: &Principal,
    id: &str,
    (sent, problem, typed): (bool, Option<String>, String),
) -> Result<Response, HtmlError> {
    let thread = sms::read_thread(&state.db, &state.crypto, principal, id)
        .await
        .map_err(internal)?
        .ok_or(HtmlError::NotFound)?;
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = ThreadPage {
        shell: Shell::current(),
        csrf: csrf_of(principal),
        id: id.to_owned(),
        sender: thread.sender,
        opted_out: thread.opted_out,
        texts: thread.texts,
        sent,
        problem,
        typed,
    };
    Ok((status, Html(page.render().map_err(internal)?)).into_response())
}

#[derive(serde::Deserialize)]
pub struct ThreadQuery {
    #[serde(default)]
    sent: Option<String>,
}

pub async fn thread(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    Query(query): Query<ThreadQuery>,
) -> Result<Response, HtmlError> {
    page(
        &state,
        &principal,
        &id,
        (query.sent.is_some(), None, String::new()),
    )
    .await
}

/// Replies through the text line.
pub async fn reply(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let form = FormFields::parse(&body);
    check_form_token(&state, &principal, form.get("csrf")).await?;
    let typed = form.get("body").to_owned();
    let text = typed.trim();
    let tr = Shell::current().tr;
    if text.is_empty() || text.chars().count() > REPLY_MAX {
        let problem = Some(tr.t("texts-problem-length"));
        return page(&state, &principal, &id, (false, problem, typed)).await;
    }
    let sent = sms::reply(
        &state.db,
        &state.crypto,
        &state.text_line,
        &principal,
        &id,
        text,
    )
    .await
    .map_err(internal)?;
    let problem = match sent {
        Ok(_) => return Ok(Redirect::to(&format!("/hotline/texts/{id}?sent=1")).into_response()),
        Err(ReplyRefusal::NoSuchThread) => return Err(HtmlError::NotFound),
        Err(ReplyRefusal::OptedOut) => tr.t("texts-problem-opted-out"),
        Err(ReplyRefusal::NotConfigured | ReplyRefusal::Provider(_)) => {
            tr.t("texts-problem-provider")
        }
    };
    page(&state, &principal, &id, (false, Some(problem), typed)).await
}
