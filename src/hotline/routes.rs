//! The hotline's JSON API: thin handlers over `service`.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest as _, Sha256};

use super::model::contact::{ContactForm, idempotency_key};
use super::service::{self, ContactView, HotlineError, Recorded};
use crate::app::AppState;
use crate::kernel::auth::Principal;
use crate::kernel::web::ApiError;
use crate::kernel::web::extract::{json, require_json};

impl From<HotlineError> for ApiError {
    fn from(e: HotlineError) -> Self {
        match e {
            HotlineError::NoSuchCase => Self::field("case_id", "no case has this id"),
            HotlineError::KeyReused => {
                Self::Conflict("this Idempotency-Key was used for a different contact")
            }
            e => Self::Internal(e.into()),
        }
    }
}

/// Record a hotline contact. Send an `Idempotency-Key` header (a UUID made when the
/// form opened): saving again with it, after a double click or a lost answer, returns
/// the contact saved the first time instead of a second one.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/contacts",
    tag = "hotline",
    request_body = ContactForm,
    params(("Idempotency-Key" = String, Header, description = "8 to 200 characters, the same for every retry of one contact")),
    responses(
        (status = 201, description = "Recorded", body = Recorded),
        (status = 200, description = "Recorded before with this key; nothing new stored", body = Recorded),
        (status = 400, description = "A field is not valid", body = crate::kernel::web::error::ErrorBody),
        (status = 409, description = "The key was used for a different contact", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn create_contact(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Recorded>), ApiError> {
    let key = idempotency_key(headers.get("idempotency-key").and_then(|v| v.to_str().ok()))
        .ok_or_else(|| ApiError::field("Idempotency-Key", "send 8 to 200 visible characters"))?;
    require_json(&headers)?;
    let form: ContactForm = json(&body)?;
    let contact = form.parse().map_err(|refused| ApiError::BadRequest {
        message: "some fields are not valid".to_owned(),
        fields: refused
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    })?;
    let hash = hex::encode(Sha256::digest(&body));
    let recorded =
        service::record(&state.db, &state.crypto, &principal, &key, &hash, contact).await?;
    let status = if recorded.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(recorded)))
}

/// One hotline contact, narrative and caller's number opened. Every reading is audited.
#[utoipa::path(
    get,
    path = "/api/v1/hotline/contacts/{id}",
    tag = "hotline",
    params(("id" = String, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The contact", body = ContactView),
        (status = 404, description = "No contact has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn contact(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<ContactView>, ApiError> {
    service::read(&state.db, &state.crypto, &principal, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// Twilio's webhook for each text to the text line. Refuses (403) anything not signed
/// with the account's auth token for this URL; answers TwiML.
pub async fn sms_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let line = &state.text_line;
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    let signed = match (&line.auth_token, signature) {
        (Some(token), Some(signature)) => {
            super::twilio::verify(token.expose(), &line.webhook_url(), &params, signature)
        }
        _ => false,
    };
    if !signed {
        tracing::warn!("text line webhook refused: unsigned or wrongly signed");
        return Err(ApiError::Forbidden);
    }
    let text = super::sms::Inbound::parse(&params)
        .map_err(|(field, reason)| ApiError::field(field, reason))?;
    let reply = super::sms::receive(&state.db, &state.crypto, line, &text).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        super::sms::twiml(&reply),
    )
        .into_response())
}
