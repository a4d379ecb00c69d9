//! Sign-in and sign-out forms, the account page and `/api/v1/me`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;

use super::invitations::{self, Accepted, InvitationError};
use super::mfa::{self, MfaError};
use super::service::{self, AccountError, SignIn};
use crate::app::{AppState, check_form_token};
use crate::kernel::auth::password::Password;
use crate::kernel::auth::token::{random_token, same_secret};
use crate::kernel::auth::{Principal, Stage};
use crate::kernel::web::{ApiError, HtmlError, Shell};

/// The double-submit cookie that protects the sign-in form, which has no session yet.
const SIGN_IN_CSRF_COOKIE: &str = "atip_signin_csrf";

#[derive(Template)]
#[template(path = "accounts/sign_in.html")]
struct SignInPage {
    shell: Shell,
    csrf: String,
    next: String,
    email: String,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// Only paths on this site: never an absolute URL someone could slip in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/account".to_owned(),
    }
}

fn render(page: &impl Template) -> Result<String, HtmlError> {
    page.render().map_err(|e| HtmlError::Internal(e.into()))
}

pub async fn sign_in_form(
    State(state): State<AppState>,
    Query(q): Query<NextParam>,
) -> Result<Response, HtmlError> {
    let csrf = random_token()?;
    let page = SignInPage {
        shell: Shell::current(),
        csrf: csrf.clone(),
        next: safe_next(q.next.as_deref()),
        email: String::new(),
        problem: None,
    };
    Ok(with_form_cookie(&state, render(&page)?, &csrf))
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, HtmlError> {
    check_double_submit(&headers, &form.csrf)?;
    let next = safe_next(form.next.as_deref());
    let password = Password::new(form.password);
    let shell = Shell::current();
    let (status, problem, retry) =
        match service::sign_in(&state.db, &form.email, &password, state.sessions).await? {
            SignIn::Session { token, stage } => {
                let target = match stage {
                    Stage::Full => next,
                    Stage::Mfa => "/sign-in/mfa".to_owned(),
                    Stage::Enrol => "/account/mfa".to_owned(),
                };
                let mut response = Redirect::to(&target).into_response();
                set_cookie(&mut response, &session_cookie(&state, &token));
                set_cookie(
                    &mut response,
                    &format!(
                        "{SIGN_IN_CSRF_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
                    ),
                );
                return Ok(response);
            }
            SignIn::Refused => (
                StatusCode::UNAUTHORIZED,
                shell.tr.t("sign-in-refused"),
                None,
            ),
            SignIn::Wait(wait) => (
                StatusCode::TOO_MANY_REQUESTS,
                shell.tr.t("sign-in-wait"),
                Some(wait.as_secs().max(1)),
            ),
        };
    let page = SignInPage {
        shell,
        csrf: form.csrf,
        next,
        email: form.email,
        problem: Some(problem),
    };
    let mut response = (status, Html(render(&page)?)).into_response();
    if let Some(secs) = retry {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "accounts/invitation.html")]
struct InvitationPage {
    shell: Shell,
    csrf: String,
    email: String,
    problem: Option<String>,
    done: bool,
}

/// Where an invited person chooses a password. Like the sign-in form, it has no
/// session yet, so a double-submit cookie protects it.
pub async fn invitation_form(State(state): State<AppState>) -> Result<Response, HtmlError> {
    let csrf = random_token()?;
    let page = InvitationPage {
        shell: Shell::current(),
        csrf: csrf.clone(),
        email: String::new(),
        problem: None,
        done: false,
    };
    Ok(with_form_cookie(&state, render(&page)?, &csrf))
}

#[derive(Deserialize)]
pub struct InvitationForm {
    email: String,
    code: String,
    password: String,
    again: String,
    csrf: String,
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<InvitationForm>,
) -> Result<Response, HtmlError> {
    check_double_submit(&headers, &form.csrf)?;
    let shell = Shell::current();
    let (status, problem) = if form.password == form.again {
        let password = Password::new(form.password);
        match invitations::accept(&state.db, &state.crypto, &form.email, &form.code, password).await
        {
            Ok(Accepted::Created(_)) => {
                let page = InvitationPage {
                    shell,
                    csrf: String::new(),
                    email: String::new(),
                    problem: None,
                    done: true,
                };
                return Ok(Html(render(&page)?).into_response());
            }
            Ok(Accepted::Refused) => (StatusCode::UNAUTHORIZED, "invitation-refused"),
            Err(InvitationError::Account(AccountError::Weak(_))) => {
                (StatusCode::BAD_REQUEST, "invitation-weak")
            }
            Err(InvitationError::AccountExists) => (StatusCode::CONFLICT, "invitation-exists"),
            Err(other) => return Err(HtmlError::Internal(other.into())),
        }
    } else {
        (StatusCode::BAD_REQUEST, "invitation-mismatch")
    };
    let page = InvitationPage {
        problem: Some(shell.tr.t(problem)),
        shell,
        csrf: form.csrf,
        email: form.email,
        done: false,
    };
    Ok((status, Html(render(&page)?)).into_response())
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
    everywhere: Option<String>,
}

pub async fn sign_out(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Form(form): Form<SignOutForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    service::sign_out(
        &state.db,
        &state.recent_sessions,
        &principal,
        form.everywhere.is_some(),
    )
    .await?;
    let mut response = Redirect::to("/").into_response();
    set_cookie(&mut response, &clear_session_cookie(&state));
    Ok(response)
}

#[derive(Template)]
#[template(path = "accounts/mfa.html")]
struct MfaPage {
    shell: Shell,
    csrf: String,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

pub(crate) fn csrf_of(principal: &Principal) -> String {
    principal
        .session
        .as_ref()
        .map(|s| s.csrf_token.clone())
        .unwrap_or_default()
}

/// The second-factor form of a half-finished sign-in.
pub async fn mfa_form(
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, HtmlError> {
    let page = MfaPage {
        shell: Shell::current(),
        csrf: csrf_of(&principal),
        problem: None,
    };
    Ok(Html(render(&page)?))
}

pub async fn mfa_verify(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Form(form): Form<CodeForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    match mfa::verify(
        &state.db,
        &state.crypto,
        &principal,
        &form.code,
        state.sessions,
    )
    .await
    {
        Ok(token) => {
            let mut response = Redirect::to("/account").into_response();
            set_cookie(&mut response, &session_cookie(&state, &token));
            Ok(response)
        }
        Err(MfaError::WrongCode) => {
            let shell = Shell::current();
            let page = MfaPage {
                problem: Some(shell.tr.t("mfa-wrong-code")),
                shell,
                csrf: form.csrf,
            };
            Ok((StatusCode::UNAUTHORIZED, Html(render(&page)?)).into_response())
        }
        Err(MfaError::Account(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "accounts/enrol.html")]
struct EnrolPage {
    shell: Shell,
    csrf: String,
    enrolled: bool,
    secret: String,
    qr_svg: String,
    problem: Option<String>,
    recovery_codes: Vec<String>,
}

/// Enrolment: a QR code (SVG, no script) and the secret as text for typing in.
pub async fn enrol_form(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, HtmlError> {
    let enrolled = mfa::is_enrolled(&state.db, &principal).await?;
    let (secret, qr_svg) = if enrolled {
        (String::new(), String::new())
    } else {
        let e = mfa::begin_enrolment(&state.db, &state.crypto, &principal).await?;
        (e.secret_base32, e.qr_svg)
    };
    let page = EnrolPage {
        shell: Shell::current(),
        csrf: csrf_of(&principal),
        enrolled,
        secret,
        qr_svg,
        problem: None,
        recovery_codes: Vec::new(),
    };
    Ok(Html(render(&page)?))
}

pub async fn enrol_confirm(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Form(form): Form<CodeForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    let shell = Shell::current();
    match mfa::confirm_enrolment(
        &state.db,
        &state.crypto,
        &principal,
        &form.code,
        state.sessions,
    )
    .await
    {
        Ok((token, recovery_codes)) => {
            let page = EnrolPage {
                shell,
                csrf: String::new(),
                enrolled: true,
                secret: String::new(),
                qr_svg: String::new(),
                problem: None,
                recovery_codes,
            };
            let mut response = Html(render(&page)?).into_response();
            set_cookie(&mut response, &session_cookie(&state, &token));
            Ok(response)
        }
        Err(MfaError::WrongCode) => {
            let page = EnrolPage {
                problem: Some(shell.tr.t("mfa-wrong-code")),
                shell,
                csrf: form.csrf,
                enrolled: false,
                secret: String::new(),
                qr_svg: String::new(),
                recovery_codes: Vec::new(),
            };
            Ok((StatusCode::UNAUTHORIZED, Html(render(&page)?)).into_response())
        }
        Err(MfaError::Account(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    shell: Shell,
    principal: Principal,
    roles: String,
    csrf: String,
}

pub async fn account(
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, HtmlError> {
    let page = AccountPage {
        shell: Shell::current(),
        roles: principal
            .roles
            .iter()
            .map(|r| r.id())
            .collect::<Vec<_>>()
            .join(", "),
        csrf: principal
            .session
            .as_ref()
            .map(|s| s.csrf_token.clone())
            .unwrap_or_default(),
        principal,
    };
    Ok(Html(render(&page)?))
}

/// The signed-in principal.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    responses(
        (status = 200, description = "Who is signed in", body = Principal),
        (status = 401, description = "Nobody is signed in", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn me(Extension(principal): Extension<Principal>) -> Result<Json<Principal>, ApiError> {
    Ok(Json(principal))
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

fn secure_attr(secure: bool) -> &'static str {
    if secure { "; Secure" } else { "" }
}

/// A page of a form without a session, with the cookie its token must match.
fn with_form_cookie(state: &AppState, html: String, csrf: &str) -> Response {
    let mut response = Html(html).into_response();
    set_cookie(
        &mut response,
        &csrf_cookie(csrf, state.sessions.secure_cookies),
    );
    response
}

/// The form's token must be the one its page set as a cookie.
fn check_double_submit(headers: &HeaderMap, sent: &str) -> Result<(), HtmlError> {
    let cookie = read_cookie(headers, SIGN_IN_CSRF_COOKIE).unwrap_or_default();
    if cookie.is_empty() || !same_secret(&cookie, sent) {
        return Err(HtmlError::Forbidden);
    }
    Ok(())
}

fn csrf_cookie(value: &str, secure: bool) -> String {
    format!(
        "{SIGN_IN_CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        secure_attr(secure)
    )
}

fn session_cookie(state: &AppState, token: &str) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{}",
        state.sessions.cookie_name(),
        secure_attr(state.sessions.secure_cookies)
    )
}

pub(crate) fn clear_session_cookie(state: &AppState) -> String {
    format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
        state.sessions.cookie_name(),
        secure_attr(state.sessions.secure_cookies)
    )
}

/// The value of cookie `name`, if the request sent it.
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
