//! JSON handlers for organizations.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{OrgId, OrgKind, Organization};
use super::service;
use crate::app::AppState;
use crate::kernel::web::ApiError;
use crate::kernel::web::extract::ApiQuery;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only organizations of this kind.
    kind: Option<OrgKind>,
    /// Page number, from 1.
    page: Option<u32>,
    /// Items per page, 1 to 100 (default 25).
    per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationPage {
    pub total_items: i64,
    pub page: u32,
    pub per_page: u32,
    pub items: Vec<Organization>,
}

/// List the organizations taking part in the program.
#[utoipa::path(
    get,
    path = "/api/v1/organizations",
    tag = "organizations",
    params(ListParams),
    responses(
        (status = 200, description = "One page of organizations, ordered by name", body = OrganizationPage),
        (status = 400, description = "A parameter is not valid", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<OrganizationPage>, ApiError> {
    let page = params.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::field("page", "pages are numbered from 1"));
    }
    let per_page = params.per_page.unwrap_or(25);
    if !(1..=100).contains(&per_page) {
        return Err(ApiError::field("per_page", "must be between 1 and 100"));
    }
    let (items, total_items) = service::list(&state.db, params.kind, page, per_page).await?;
    Ok(Json(OrganizationPage {
        total_items,
        page,
        per_page,
        items,
    }))
}

/// One organization.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{id}",
    tag = "organizations",
    params(("id" = String, Path, description = "The organization's id (a UUID)")),
    responses(
        (status = 200, description = "The organization", body = Organization),
        (status = 400, description = "The id is not a UUID", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No organization has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Organization>, ApiError> {
    let id: OrgId = id
        .parse()
        .map_err(|_| ApiError::field("id", "not a valid id"))?;
    service::get(&state.db, id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}
