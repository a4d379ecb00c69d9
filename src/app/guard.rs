//! Who is asking, and may they: resolves the session cookie to a principal, checks
//! forms come from this site, and enforces each route's declared policy.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use crate::accounts::routes::{clear_session_cookie, read_cookie};
use crate::accounts::{service, tokens};
use scoped_futures::ScopedFutureExt;

use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::token::same_secret;
use crate::kernel::auth::{Principal, Stage};
use crate::kernel::authz::{self, Decision, Policy, Resource};
use crate::kernel::web::error::is_api;
use crate::kernel::web::{ApiError, HtmlError};

/// Puts the signed-in principal, if any, in the request's extensions.
pub async fn resolve_principal(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if let Some(token) = bearer {
        // A token that does not work is refused outright, never mixed with a cookie.
        return match tokens::resolve(&state.db, &state.crypto, token.trim()).await {
            Ok(Some(principal)) => {
                request.extensions_mut().insert(principal);
                next.run(request).await
            }
            Ok(None) => {
                audit_rejected(&state, "api_token.rejected").await;
                error_for(request.uri().path(), Failure::SignIn)
            }
            Err(err) => {
                tracing::error!(error = ?err, "could not check an API token");
                error_for(request.uri().path(), Failure::Internal)
            }
        };
    }
    if let Some(token) = read_cookie(request.headers(), state.sessions.cookie_name()) {
        let resolved = service::resolve_session(
            &state.db,
            &state.crypto,
            &token,
            state.sessions,
            &state.recent_sessions,
        )
        .await;
        match resolved {
            Ok(Some(principal)) => {
                request.extensions_mut().insert(principal);
            }
            Ok(None) => {
                // Tampered, forged, expired or ended: audited once, because the
                // browser is told to forget the cookie.
                audit_rejected(&state, "session.rejected").await;
                let mut response = next.run(request).await;
                if let Ok(clear) = HeaderValue::from_str(&clear_session_cookie(&state)) {
                    response.headers_mut().append(header::SET_COOKIE, clear);
                }
                return response;
            }
            Err(err) => {
                tracing::error!(error = ?err, "could not check a session");
                return error_for(request.uri().path(), Failure::Internal);
            }
        }
    }
    next.run(request).await
}

/// Records a credential that matched nothing. Nobody can be named: the event says only
/// when and from which request (never the credential itself).
async fn audit_rejected(state: &AppState, action: &str) {
    let event = Event {
        action,
        ..Event::default()
    };
    record_refusal(state, &event).await;
}

/// Appends a refusal on its own (nothing else changes with it). The request is refused
/// either way, so a failure to record is logged, not shown.
async fn record_refusal(state: &AppState, event: &Event<'_>) {
    let result = state
        .db
        .transaction(|tx| audit::append(tx, event, Outcome::Denied).scope_boxed())
        .await;
    if let Err(err) = result {
        tracing::error!(error = %err, action = event.action, "could not audit a refusal");
    }
}

/// Refuses state-changing requests sent from another site (the first CSRF defence;
/// forms also carry a token).
pub async fn same_origin(request: Request, next: Next) -> Response {
    // A WebSocket opens with a GET, and browsers send cookies with it from any site.
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || is_websocket(&request);
    if changes_state && !from_this_site(&request) {
        tracing::warn!("refused a cross-site request");
        return error_for(request.uri().path(), Failure::Forbidden);
    }
    next.run(request).await
}

pub(crate) fn is_websocket(request: &Request) -> bool {
    request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn from_this_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (Some(_), None) => false,
        // Non-browser clients send neither; they cannot ride a victim's cookies.
        (None, _) => true,
    }
}

/// Applies the route's declared policy; a matched route without one is refused.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let Some(route) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
    else {
        return next.run(request).await;
    };
    let Some(policy) = authz::policy_for(request.method().as_str(), &route) else {
        if authz::is_declared(&route) {
            // Another method of a declared route: the router answers 405.
            return next.run(request).await;
        }
        tracing::error!(route = %route, "route has no declared policy; refusing");
        return error_for(&path, Failure::Forbidden);
    };
    let Policy::Requires(action) = policy else {
        return next.run(request).await;
    };
    match authz::authorize(
        request.extensions().get::<Principal>(),
        action,
        Resource::Global,
    ) {
        // The handler decides per record, and asks for a reason before it opens one.
        Decision::Allow | Decision::BreakGlass => next.run(request).await,
        Decision::SignInRequired if !is_api(&path) && request.method() == Method::GET => {
            let next_path = form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
            Redirect::to(&format!("/sign-in?next={next_path}")).into_response()
        }
        Decision::SecondFactorRequired if !is_api(&path) && request.method() == Method::GET => {
            let sign_in_stage = request
                .extensions()
                .get::<Principal>()
                .and_then(|p| p.session.as_ref())
                .map(|s| s.stage);
            let to = if sign_in_stage == Some(Stage::Enrol) {
                "/account/mfa"
            } else {
                "/sign-in/mfa"
            };
            Redirect::to(to).into_response()
        }
        Decision::SignInRequired | Decision::SecondFactorRequired => {
            error_for(&path, Failure::SignIn)
        }
        Decision::Deny => {
            if let Some(principal) = request.extensions().get::<Principal>() {
                audit_denial(&state, principal, action, &route).await;
            }
            error_for(&path, Failure::Forbidden)
        }
    }
}

#[derive(Clone, Copy)]
enum Failure {
    SignIn,
    Forbidden,
    Internal,
}

fn error_for(path: &str, failure: Failure) -> Response {
    if is_api(path) {
        match failure {
            Failure::SignIn => ApiError::Unauthorized,
            Failure::Forbidden => ApiError::Forbidden,
            Failure::Internal => ApiError::Internal(anyhow::anyhow!("session check failed")),
        }
        .into_response()
    } else {
        match failure {
            Failure::SignIn => HtmlError::Unauthorized,
            Failure::Forbidden => HtmlError::Forbidden,
            Failure::Internal => HtmlError::Internal(anyhow::anyhow!("session check failed")),
        }
        .into_response()
    }
}

/// Records a refused request: who asked, for what, on which route (the template, never
/// the path, which could name a record).
async fn audit_denial(state: &AppState, principal: &Principal, action: authz::Action, route: &str) {
    let event = Event {
        object_type: Some(route),
        ..Event::by(principal, action.id())
    };
    record_refusal(state, &event).await;
}

/// Checks a form's CSRF token against the session's; a forged or missing one is refused
/// and audited (someone tried to make this account act without its knowledge).
pub async fn check_form_token(
    state: &AppState,
    principal: &Principal,
    sent: &str,
) -> Result<(), HtmlError> {
    let expected = principal
        .session
        .as_ref()
        .map(|s| s.csrf_token.as_str())
        .unwrap_or_default();
    if !expected.is_empty() && same_secret(expected, sent) {
        return Ok(());
    }
    record_refusal(state, &Event::by(principal, "form.forged_token")).await;
    Err(HtmlError::Forbidden)
}
