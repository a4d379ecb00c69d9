//! A case's description and timeline over the JSON API: thin handlers over the module.

use axum::extract::{Path, State};
use axum::{Extension, Json};

use super::super::model::case::{CaseForm, Typology, typology};
use super::CaseView;
use crate::app::AppState;
use crate::kernel::auth::Principal;
use crate::kernel::web::ApiError;
use crate::kernel::web::extract::ApiJson;

/// A case: its description, identifiers and the timeline of everything that happened
/// in it. Every reading is audited.
#[utoipa::path(
    get,
    path = "/api/v1/hotline/cases/{id}",
    tag = "hotline",
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 404, description = "No case has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn case(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    super::view(&state.db, &state.crypto, &principal, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// Describe a case: status, type, potential victims, venues, means of control,
/// recruitment, place, persons of interest and summary (the last two sealed). Every
/// list replaces the one stored; the fields that changed go into the case's timeline.
#[utoipa::path(
    put,
    path = "/api/v1/hotline/cases/{id}",
    tag = "hotline",
    request_body = CaseForm,
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 200, description = "Described; the case as it is now", body = CaseView),
        (status = 400, description = "A field is not valid", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No case has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn describe(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<CaseForm>,
) -> Result<Json<CaseView>, ApiError> {
    let details = form
        .parse(typology())
        .map_err(super::super::routes::refused)?;
    super::describe(&state.db, &state.crypto, &principal, &id, &details)
        .await?
        .ok_or(ApiError::NotFound)?;
    super::view(&state.db, &state.crypto, &principal, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// The lists a case is described with: venues and industries (with their HTCDS
/// industry), means of control (HTCDS) and recruitment, in English and Spanish.
#[utoipa::path(
    get,
    path = "/api/v1/hotline/case-typology",
    tag = "hotline",
    responses((status = 200, description = "The lists", body = Typology))
)]
pub async fn case_typology() -> Json<&'static Typology> {
    Json(typology())
}
