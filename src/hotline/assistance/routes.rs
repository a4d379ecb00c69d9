//! Technical assistance over the JSON API: thin handlers over the module.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use super::super::model::assistance::{self, RequestForm};
use super::{AnswerRefusal, RequestView};
use crate::app::AppState;
use crate::kernel::auth::Principal;
use crate::kernel::web::ApiError;
use crate::kernel::web::extract::ApiJson;

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Asked {
    pub id: String,
}

/// Record a professional's technical-assistance question on a contact; it waits in
/// every advocate's console until someone answers it.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/contacts/{id}/technical-assistance",
    tag = "hotline",
    request_body = RequestForm,
    params(("id" = String, Path, description = "The contact's id")),
    responses(
        (status = 201, description = "Recorded", body = Asked),
        (status = 400, description = "A field is not valid", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No contact has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn ask(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<RequestForm>,
) -> Result<(StatusCode, Json<Asked>), ApiError> {
    let request = form.parse().map_err(super::super::routes::refused)?;
    let id = super::ask(&state.db, &state.crypto, &principal, &id, &request)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.live.notify(super::super::live::Signal::Console);
    Ok((StatusCode::CREATED, Json(Asked { id })))
}

/// The technical-assistance questions waiting for an answer, soonest due first.
#[utoipa::path(
    get,
    path = "/api/v1/hotline/technical-assistance",
    tag = "hotline",
    responses((status = 200, description = "Waiting requests", body = Vec<RequestView>))
)]
pub async fn waiting(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    Ok(Json(
        super::waiting(&state.db, &state.crypto, &principal).await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// What the hotline told the professional (sealed).
    pub answer: String,
}

/// Answer a technical-assistance request (once).
#[utoipa::path(
    post,
    path = "/api/v1/hotline/technical-assistance/{id}/answer",
    tag = "hotline",
    request_body = AnswerRequest,
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 204, description = "Answered"),
        (status = 400, description = "The answer is empty or too long", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No request has this id", body = crate::kernel::web::error::ErrorBody),
        (status = 409, description = "It was answered already", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn answer(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AnswerRequest>,
) -> Result<StatusCode, ApiError> {
    let text = assistance::text(&request.answer).map_err(|why| ApiError::field("answer", why))?;
    match super::answer(&state.db, &state.crypto, &principal, &id, &text).await? {
        Ok(()) => {
            state.live.notify(super::super::live::Signal::Console);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(AnswerRefusal::NoSuchRequest) => Err(ApiError::NotFound),
        Err(AnswerRefusal::AlreadyAnswered) => {
            Err(ApiError::Conflict("this request was answered already"))
        }
    }
}
