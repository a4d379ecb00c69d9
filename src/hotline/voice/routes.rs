//! The voice line's webhooks. Each is signed by Twilio over the full URL it called
//! (the configured public base URL, never the Host header) and answers TwiML.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::super::live::Signal;
use super::super::model::voice::{Answer, twiml};
use super::super::routes::signed_params;
use super::CallEvent;
use crate::app::AppState;
use crate::kernel::auth::UserId;
use crate::kernel::web::ApiError;

/// The signed event of a voice webhook.
fn event(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<CallEvent, ApiError> {
    let line = &state.text_line;
    let called = uri.path_and_query().map_or("", |p| p.as_str());
    let params = signed_params(
        line,
        &format!("{}{called}", line.public_base_url),
        headers,
        body,
    )?;
    CallEvent::parse(&params).map_err(|(field, reason)| ApiError::field(field, reason))
}

fn answer(state: &AppState, answer: &Answer) -> Response {
    let line = &state.text_line;
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        twiml(answer, &line.public_base_url, &line.text_line),
    )
        .into_response()
}

/// A call comes in: the language menu.
pub async fn incoming(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let event = event(&state, &uri, &headers, &body)?;
    let next = super::incoming(&state.db, &state.crypto, &event).await?;
    Ok(answer(&state, &next))
}

/// The caller pressed a key (or none): ring the advocates on duty.
pub async fn language(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let event = event(&state, &uri, &headers, &body)?;
    let next = super::choose_language(&state.db, &state.crypto, &event).await?;
    Ok(answer(&state, &next))
}

/// An advocate picked up: they take the call and hear its language.
pub async fn answered(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let event = event(&state, &uri, &headers, &body)?;
    // Signed with the rest of the URL, so it is the id our own TwiML put there.
    let advocate: UserId = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "advocate")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| ApiError::field("advocate", "is not an account id"))?;
    let next = super::answered(&state.db, &event, advocate).await?;
    state.live.notify(Signal::Console);
    Ok(answer(&state, &next))
}

/// The ringing ended.
pub async fn dialed(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let event = event(&state, &uri, &headers, &body)?;
    let next = super::dialed(&state.db, &event).await?;
    Ok(answer(&state, &next))
}

/// Twilio's status callback for the call: its end and length.
pub async fn status(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let event = event(&state, &uri, &headers, &body)?;
    super::status(&state.db, &event).await?;
    state.live.notify(Signal::Console);
    Ok(answer(&state, &Answer::Done))
}
