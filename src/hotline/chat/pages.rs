//! The chat's pages: the visitor's (public) and the advocate's, with the forms that
//! accept a waiting chat and save a finished one as a contact.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::super::live::Signal;
use super::super::model::chat::MESSAGE_MAX_CHARS;
use super::super::model::contact::{CallerType, Outcome, Reason, TraffickingType, code, from_code};
use super::{AcceptRefusal, Closed, WrapUp};
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::kernel::auth::Principal;
use crate::kernel::web::extract::FormFields;
use crate::kernel::web::{HtmlError, Shell};

#[derive(Template)]
#[template(path = "hotline/chat.html")]
struct VisitorPage {
    shell: Shell,
    max_chars: usize,
}

/// The public chat page. Nothing on it identifies the visitor; the chat's token lives
/// in the page's memory only.
pub async fn visitor_page() -> Result<Html<String>, HtmlError> {
    let page = VisitorPage {
        shell: Shell::current(),
        max_chars: MESSAGE_MAX_CHARS,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices<T: serde::Serialize>(
    all: &[T],
    prefix: &str,
    chosen: &[String],
    shell: &Shell,
) -> Vec<Choice> {
    all.iter()
        .map(|v| {
            let value = code(v);
            Choice {
                label: shell.tr.t(&format!("{prefix}-{value}")),
                selected: chosen.contains(&value),
                value,
            }
        })
        .collect()
}

const CALLER_TYPES: [CallerType; 10] = [
    CallerType::PotentialVictim,
    CallerType::FamilyOrFriend,
    CallerType::CommunityMember,
    CallerType::ServiceProvider,
    CallerType::LawEnforcement,
    CallerType::Government,
    CallerType::Business,
    CallerType::EducatorOrStudent,
    CallerType::Media,
    CallerType::Other,
];
const REASONS: [Reason; 7] = [
    Reason::Crisis,
    Reason::Tip,
    Reason::ReferralRequest,
    Reason::ResourceRequest,
    Reason::TechnicalAssistance,
    Reason::GeneralInformation,
    Reason::NotTraffickingRelated,
];
const OUTCOMES: [Outcome; 6] = [
    Outcome::InformationGiven,
    Outcome::ReferralMade,
    Outcome::ReportMade,
    Outcome::FollowUpPlanned,
    Outcome::CallerDisconnected,
    Outcome::Other,
];
const CASE_TYPES: [TraffickingType; 4] = [
    TraffickingType::Sex,
    TraffickingType::Labor,
    TraffickingType::Both,
    TraffickingType::Unknown,
];

/// The wrap-up form as typed, to show again after a refusal.
#[derive(Default)]
struct Typed {
    caller_type: String,
    reasons: Vec<String>,
    outcome: String,
    city: String,
    state: String,
    notes: String,
    new_case: String,
}

#[derive(Template)]
#[template(path = "hotline/chat_advocate.html")]
struct AdvocatePage {
    shell: Shell,
    id: String,
    csrf: String,
    started: String,
    language: String,
    max_chars: usize,
    caller_types: Vec<Choice>,
    reasons: Vec<Choice>,
    outcomes: Vec<Choice>,
    case_types: Vec<Choice>,
    typed: Typed,
    problems: Vec<(String, String)>,
    /// The visitor gave an earlier chat's return code.
    earlier: Option<super::Earlier>,
}

fn advocate_page(
    principal: &Principal,
    (chat, earlier): (&super::ChatRow, Option<super::Earlier>),
    typed: Typed,
    problems: Vec<(String, String)>,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let one = |v: &str| vec![v.to_owned()];
    let page = AdvocatePage {
        id: chat.id.clone(),
        csrf: csrf_of(principal),
        started: chat.started(),
        language: chat.language.clone(),
        max_chars: MESSAGE_MAX_CHARS,
        caller_types: choices(
            &CALLER_TYPES,
            "hotline-caller",
            &one(&typed.caller_type),
            &shell,
        ),
        reasons: choices(&REASONS, "hotline-reason", &typed.reasons, &shell),
        outcomes: choices(&OUTCOMES, "hotline-outcome", &one(&typed.outcome), &shell),
        case_types: choices(&CASE_TYPES, "hotline-type", &one(&typed.new_case), &shell),
        typed,
        problems,
        earlier,
        shell,
    };
    let status = if page.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

/// An accepted chat, for the advocate: the conversation and the form that saves it.
pub async fn advocate_chat(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let chat = super::find(&state.db, &id)
        .await?
        .ok_or(HtmlError::NotFound)?;
    if let Some(contact) = &chat.contact_id {
        return Ok(Redirect::to(&format!("/hotline/contacts/{contact}")).into_response());
    }
    if chat.status() == super::ChatStatus::Waiting {
        return Ok(Redirect::to("/hotline/console").into_response());
    }
    let earlier = super::earlier(&state.db, &chat).await?;
    advocate_page(&principal, (&chat, earlier), Typed::default(), Vec::new())
}

/// Takes a waiting chat from the queue.
pub async fn accept(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let form = FormFields::parse(&body);
    check_form_token(&state, &principal, form.get("csrf")).await?;
    let accepted = super::accept(&state.db, &principal, &id).await?;
    state.live.notify(Signal::Console);
    state.live.notify(Signal::Chat(id.clone()));
    Ok(match accepted {
        Ok(()) => Redirect::to(&format!("/hotline/chats/{id}")).into_response(),
        Err(AcceptRefusal::NotOnDuty) => {
            Redirect::to("/hotline/console?refused=not-on-duty").into_response()
        }
        Err(AcceptRefusal::Gone) => Redirect::to("/hotline/console?refused=gone").into_response(),
    })
}

fn optional(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

/// Saves the chat as a contact and ends it for the visitor.
pub async fn close(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let form = FormFields::parse(&body);
    check_form_token(&state, &principal, form.get("csrf")).await?;
    let typed = Typed {
        caller_type: form.get("caller_type").to_owned(),
        reasons: form.all("reasons"),
        outcome: form.get("outcome").to_owned(),
        city: form.get("caller_city").to_owned(),
        state: form.get("caller_state").to_owned(),
        notes: form.get("notes").to_owned(),
        new_case: form.get("new_case").to_owned(),
    };
    let mut problems = Vec::new();
    let reasons: Vec<Reason> = typed.reasons.iter().filter_map(|r| from_code(r)).collect();
    if reasons.len() != typed.reasons.len() {
        problems.push(("reasons".to_owned(), "choose from the list".to_owned()));
    }
    let wrap = WrapUp {
        caller_type: from_code(&typed.caller_type),
        reasons,
        outcome: from_code(&typed.outcome),
        caller_city: optional(&typed.city),
        caller_state: optional(&typed.state),
        notes: optional(&typed.notes),
        new_case: from_code(&typed.new_case),
    };
    let chat = super::find(&state.db, &id)
        .await?
        .ok_or(HtmlError::NotFound)?;
    if !problems.is_empty() {
        return advocate_page(&principal, (&chat, None), typed, problems);
    }
    let closed = super::close(&state.intake, &state.crypto, &principal, &id, wrap).await?;
    match closed {
        Closed::Saved { contact_id } => {
            state.live.notify(Signal::Chat(id));
            state.live.notify(Signal::Console);
            Ok(Redirect::to(&format!("/hotline/contacts/{contact_id}")).into_response())
        }
        Closed::Refused(refused) => {
            let problems = refused
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            advocate_page(&principal, (&chat, None), typed, problems)
        }
        Closed::NotOpen => Ok(Redirect::to("/hotline/console").into_response()),
    }
}
