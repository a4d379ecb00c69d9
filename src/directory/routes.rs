//! The public, read-only HSDS 3.0 API under `/hsds` (thin handlers: parameters are
//! checked here, the reading is in `publish`).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::hsds::nest::{Depth, Shape};
use super::publish::{self, MAX_PER_PAGE, PublishError, Query, Root};
use super::{search, taxonomy};
use crate::app::AppState;
use crate::kernel::places;
use crate::kernel::web::ApiError;
use crate::kernel::web::extract::ApiQuery;

/// The query parameters of the HSDS 3.0 API. Each list endpoint accepts the ones
/// the specification gives it; another is refused by name.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words to find in names and descriptions.
    search: Option<String>,
    /// Page number, from 1.
    page: Option<u32>,
    /// Items per page, 1 to 500 (default 50).
    per_page: Option<u32>,
    /// `json` (default) or `ndjson`: every result, one object per line, without pages.
    format: Option<String>,
    /// Only objects with an attribute of this taxonomy term.
    taxonomy_term_id: Option<String>,
    /// Only objects with an attribute of a term of this taxonomy.
    taxonomy_id: Option<String>,
    /// Only what this organization provides.
    organization_id: Option<String>,
    /// Only objects changed at or after this time (RFC 3339, or a date).
    modified_after: Option<String>,
    /// Services: only `id`, `name`, `status` and `last_modified`.
    minimal: Option<bool>,
    /// Fully nested objects.
    full: Option<bool>,
    /// Organizations: fully nested services inside.
    full_service: Option<bool>,
    /// Only services at a location with this postal code.
    postcode: Option<String>,
    /// With `postcode`: instead of the exact postal code, everything within this many
    /// meters of its centroid (the mean position of this directory's locations with
    /// that postal code). Statewide services of its state match too.
    proximity: Option<String>,
    /// Taxonomy terms: only children of this term.
    parent_id: Option<String>,
    /// Taxonomy terms: only terms without a parent.
    top_only: Option<bool>,
    /// Extension: the caller's latitude (with `lng`); results carry `distance_km`.
    lat: Option<f64>,
    /// Extension: the caller's longitude (with `lat`).
    lng: Option<f64>,
    /// Extension: how far from `lat`/`lng`, in kilometres (default 80, at most 1,000).
    /// Statewide services of the caller's state match at any distance.
    radius_km: Option<f64>,
    /// Extension: languages spoken (ISO 639 codes or names), comma-separated; all required.
    language: Option<String>,
    /// Extension: the age of the person to serve.
    age: Option<f64>,
    /// Extension: populations served (atip taxonomy codes such as
    /// `pop-foreign-nationals`, or term ids), comma-separated; all required.
    population: Option<String>,
    /// Extension: open at this moment, in the location's time zone.
    open_now: Option<bool>,
    /// Extension: open every hour of every day.
    open_24_7: Option<bool>,
    /// Extension: takes referrals from the hotline.
    accepts_referrals: Option<bool>,
    /// Extension: takes warm transfers from the hotline.
    warm_transfers: Option<bool>,
    /// Extension: free of charge.
    free: Option<bool>,
    /// Extension: reports beds available now.
    has_capacity: Option<bool>,
    /// Extension: verified by a curator within this many months.
    verified_within_months: Option<u32>,
    /// Extension: `distance` (needs `lat`/`lng`) or `relevance`.
    sort: Option<String>,
}

/// `full_service` on one organization.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OneParams {
    /// Organizations: fully nested services inside.
    full_service: Option<bool>,
}

impl ListParams {
    /// Refuses a parameter the endpoint does not take.
    fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        let given = [
            ("taxonomy_term_id", self.taxonomy_term_id.is_some()),
            ("taxonomy_id", self.taxonomy_id.is_some()),
            ("organization_id", self.organization_id.is_some()),
            ("modified_after", self.modified_after.is_some()),
            ("minimal", self.minimal.is_some()),
            ("full", self.full.is_some()),
            ("full_service", self.full_service.is_some()),
            ("postcode", self.postcode.is_some()),
            ("proximity", self.proximity.is_some()),
            ("parent_id", self.parent_id.is_some()),
            ("top_only", self.top_only.is_some()),
            ("lat", self.lat.is_some()),
            ("lng", self.lng.is_some()),
            ("radius_km", self.radius_km.is_some()),
            ("language", self.language.is_some()),
            ("age", self.age.is_some()),
            ("population", self.population.is_some()),
            ("open_now", self.open_now.is_some()),
            ("open_24_7", self.open_24_7.is_some()),
            ("accepts_referrals", self.accepts_referrals.is_some()),
            ("warm_transfers", self.warm_transfers.is_some()),
            ("free", self.free.is_some()),
            ("has_capacity", self.has_capacity.is_some()),
            (
                "verified_within_months",
                self.verified_within_months.is_some(),
            ),
            ("sort", self.sort.is_some()),
        ];
        match given
            .iter()
            .find(|(name, set)| *set && !allowed.contains(name))
        {
            Some((name, _)) => Err(ApiError::field(name, "is not a parameter of this endpoint")),
            None => Ok(()),
        }
    }

    fn query(&self) -> Result<Query, ApiError> {
        let page = self.page.unwrap_or(1);
        if page == 0 {
            return Err(ApiError::field("page", "pages are numbered from 1"));
        }
        let per_page = self.per_page.unwrap_or(50);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::field(
                "per_page",
                format!("must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        let modified_after = self
            .modified_after
            .as_deref()
            .map(|t| {
                t.parse::<jiff::Timestamp>()
                    .map(jiff::Timestamp::as_microsecond)
                    .or_else(|_| {
                        t.parse::<jiff::civil::Date>()
                            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
                            .map(|z| z.timestamp().as_microsecond())
                    })
                    .map_err(|_| {
                        ApiError::field(
                            "modified_after",
                            "must be a date and time such as 2026-01-31T00:00:00Z, or a date",
                        )
                    })
            })
            .transpose()?;
        Ok(Query {
            search: self.search.clone(),
            page,
            per_page,
            taxonomy_term_id: uuid_param("taxonomy_term_id", self.taxonomy_term_id.as_deref())?,
            taxonomy_id: uuid_param("taxonomy_id", self.taxonomy_id.as_deref())?,
            organization_id: uuid_param("organization_id", self.organization_id.as_deref())?,
            parent_id: uuid_param("parent_id", self.parent_id.as_deref())?,
            top_only: self.top_only.unwrap_or(false),
            modified_after,
            postcode: self.postcode.clone().filter(|p| !p.trim().is_empty()),
            ranked: None,
            public_cutoff: i64::MIN,
        })
    }

    fn ndjson(&self) -> Result<bool, ApiError> {
        match self.format.as_deref() {
            None | Some("json") => Ok(false),
            Some("ndjson") => Ok(true),
            Some(_) => Err(ApiError::field("format", "must be json or ndjson")),
        }
    }
}

impl ListParams {
    /// Turns `postcode` + `proximity` into the referral search's point and radius.
    async fn resolve_proximity(mut self, state: &AppState) -> Result<Self, ApiError> {
        let Some(proximity) = self.proximity.take() else {
            return Ok(self);
        };
        let meters: f64 = proximity
            .trim()
            .parse()
            .ok()
            .filter(|m: &f64| *m > 0.0 && *m <= MAX_RADIUS_KM * 1_000.0)
            .ok_or_else(|| {
                ApiError::field(
                    "proximity",
                    "must be a distance in meters, more than 0 and at most 1000000",
                )
            })?;
        let postcode = self
            .postcode
            .take()
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| ApiError::field("postcode", "is required with proximity"))?;
        if self.lat.is_some() || self.lng.is_some() || self.radius_km.is_some() {
            return Err(ApiError::field(
                "proximity",
                "cannot be combined with lat, lng or radius_km",
            ));
        }
        let (lat, lng) = publish::postcode_centroid(&state.db, postcode.trim())
            .await?
            .ok_or_else(|| {
                ApiError::field(
                    "postcode",
                    "no location in this directory has this postcode",
                )
            })?;
        self.lat = Some(lat);
        self.lng = Some(lng);
        self.radius_km = Some(meters / 1_000.0);
        Ok(self)
    }

    fn uses_referral_search(&self) -> bool {
        self.search.as_deref().is_some_and(|s| !s.trim().is_empty())
            || self.lat.is_some()
            || self.lng.is_some()
            || self.radius_km.is_some()
            || self.language.is_some()
            || self.age.is_some()
            || self.population.is_some()
            || self.open_now.is_some()
            || self.open_24_7.is_some()
            || self.accepts_referrals.is_some()
            || self.warm_transfers.is_some()
            || self.free.is_some()
            || self.has_capacity.is_some()
            || self.verified_within_months.is_some()
            || self.sort.is_some()
    }

    /// The referral search these parameters ask for (services and services at
    /// locations), checked.
    fn referral_query(&self, taxonomy_term_id: Option<&str>) -> Result<search::Query, ApiError> {
        for (name, given) in [
            ("taxonomy_id", self.taxonomy_id.is_some()),
            ("modified_after", self.modified_after.is_some()),
            ("postcode", self.postcode.is_some()),
        ] {
            if given {
                return Err(ApiError::field(
                    name,
                    "cannot be combined with search or the referral filters (lat, lng, language, population…)",
                ));
            }
        }
        let near = match (self.lat, self.lng) {
            (None, None) => {
                if self.radius_km.is_some() {
                    return Err(ApiError::field("radius_km", "needs lat and lng"));
                }
                None
            }
            (Some(_), None) => return Err(ApiError::field("lng", "is required with lat")),
            (None, Some(_)) => return Err(ApiError::field("lat", "is required with lng")),
            (Some(lat), Some(lng)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(ApiError::field("lat", "must be between -90 and 90"));
                }
                if !(-180.0..=180.0).contains(&lng) {
                    return Err(ApiError::field("lng", "must be between -180 and 180"));
                }
                let radius_km = self.radius_km.unwrap_or(DEFAULT_RADIUS_KM);
                if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
                    return Err(ApiError::field(
                        "radius_km",
                        format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
                    ));
                }
                let point = search::Point::new(lat, lng)
                    .ok_or_else(|| ApiError::field("lat", "is not a point on the globe"))?;
                Some(search::Near {
                    point,
                    radius_km,
                    state: nearest_state(point),
                })
            }
        };
        if let Some(age) = self.age
            && !(0.0..=130.0).contains(&age)
        {
            return Err(ApiError::field("age", "must be between 0 and 130"));
        }
        let sort = match self.sort.as_deref() {
            None if near.is_some() && self.search.is_none() => search::Sort::Distance,
            None | Some("relevance") => search::Sort::Relevance,
            Some("distance") if near.is_some() => search::Sort::Distance,
            Some("distance") => return Err(ApiError::field("sort", "distance needs lat and lng")),
            Some(_) => return Err(ApiError::field("sort", "must be distance or relevance")),
        };
        let populations = list(self.population.as_deref())
            .into_iter()
            .map(|p| {
                term_id(&p).ok_or_else(|| {
                    ApiError::field(
                        "population",
                        format!("{p} is not a term of atip's taxonomy"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(search::Query {
            text: self.search.clone(),
            near,
            filters: search::Filters {
                terms: taxonomy_term_id.map(str::to_owned).into_iter().collect(),
                all_terms: true,
                populations,
                languages: list(self.language.as_deref()),
                age: self.age,
                open_now: self.open_now == Some(true),
                open_24_7: self.open_24_7 == Some(true),
                accepts_referrals: self.accepts_referrals == Some(true),
                warm_transfers: self.warm_transfers == Some(true),
                free: self.free == Some(true),
                verified_within_months: self.verified_within_months,
                has_capacity: self.has_capacity == Some(true),
            },
            sort,
            limit: usize::MAX,
            offset: 0,
            listed_since: None,
        })
    }
}

const DEFAULT_RADIUS_KM: f64 = 80.0;
const MAX_RADIUS_KM: f64 = 1_000.0;

fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A shipped term by code (`pop-minors`) or id.
fn term_id(given: &str) -> Option<String> {
    taxonomy::terms()
        .iter()
        .find(|t| t.code == given || t.id == given)
        .map(|t| t.id.clone())
}

/// The state of the gazetteer town nearest to `point`, so statewide services match.
fn nearest_state(point: search::Point) -> Option<String> {
    places::all()
        .iter()
        .filter_map(|p| {
            search::Point::new(p.latitude, p.longitude)
                .map(|q| (p, search::model::distance_km(point, q)))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .filter(|(_, d)| *d < 150.0)
        .map(|(p, _)| p.state.clone())
}

/// The referral search's answer as ids of `root` objects, best first, each with its
/// distance; `organization_id` narrows it.
fn ranked(
    state: &AppState,
    root: Root,
    query: &search::Query,
    organization_id: Option<&str>,
) -> Result<Vec<(String, Option<f64>)>, ApiError> {
    let found = state
        .search
        .search(query)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for hit in found.hits {
        if organization_id.is_some_and(|o| o != hit.doc.organization_id) {
            continue;
        }
        let id = match root {
            Root::ServiceAtLocation => match &hit.doc.service_at_location_id {
                Some(id) => id.clone(),
                None => continue,
            },
            _ => hit.doc.service_id.clone(),
        };
        if seen.insert(id.clone()) {
            out.push((id, hit.distance_km));
        }
    }
    Ok(out)
}

fn uuid_param(name: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| {
            uuid::Uuid::try_parse(v)
                .map(|u| u.hyphenated().to_string())
                .map_err(|_| ApiError::field(name, "is not a UUID"))
        })
        .transpose()
}

impl From<PublishError> for ApiError {
    fn from(err: PublishError) -> Self {
        match err {
            PublishError::PageBeyondEnd { total_pages } => {
                ApiError::field("page", format!("is beyond the last page ({total_pages})"))
            }
            PublishError::UnknownTaxonomy { field } => {
                ApiError::field(field, "no taxonomy or term in this directory has this id")
            }
            PublishError::Db(e) => e.into(),
        }
    }
}

/// What services and services at locations accept besides `full`/`minimal`.
const REFERRAL_PARAMS: &[&str] = &[
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "modified_after",
    "postcode",
    "proximity",
    "lat",
    "lng",
    "radius_km",
    "language",
    "age",
    "population",
    "open_now",
    "open_24_7",
    "accepts_referrals",
    "warm_transfers",
    "free",
    "has_capacity",
    "verified_within_months",
    "sort",
];

/// Listings verified before this are no longer public.
fn public_cutoff(state: &AppState) -> i64 {
    state
        .vetting
        .public_cutoff(crate::kernel::time::now_micros())
}

fn flat() -> Shape {
    Shape {
        root: Depth::Flat,
        services: None,
    }
}

fn full(services: Option<Depth>) -> Shape {
    Shape {
        root: Depth::Full,
        services,
    }
}

/// Answers a list: one JSON page, or every result as NDJSON.
async fn answer(
    state: AppState,
    root: Root,
    params: &ListParams,
    shape: Shape,
    trim: fn(Value) -> Value,
) -> Result<Response, ApiError> {
    let mut query = params.query()?;
    query.public_cutoff = public_cutoff(&state);
    publish::check_taxonomy(&state.db, &query).await?;
    if matches!(root, Root::Service | Root::ServiceAtLocation) && params.uses_referral_search() {
        let mut referral = params.referral_query(query.taxonomy_term_id.as_deref())?;
        referral.listed_since = Some(query.public_cutoff);
        query.ranked = Some(ranked(
            &state,
            root,
            &referral,
            query.organization_id.as_deref(),
        )?);
    }
    if !params.ndjson()? {
        let mut page = publish::list(&state.db, root, &query, shape).await?;
        page.contents = page.contents.into_iter().map(trim).collect();
        return Ok(Json(page).into_response());
    }
    query.per_page = MAX_PER_PAGE;
    let stream = futures_util::stream::unfold(Some(1u32), move |next| {
        let db = state.db.clone();
        let mut query = query.clone();
        async move {
            let page_number = next?;
            query.page = page_number;
            match publish::list(&db, root, &query, shape).await {
                Ok(page) => {
                    let mut lines = Vec::new();
                    for item in page.contents.into_iter().map(trim) {
                        lines.extend(serde_json::to_vec(&item).unwrap_or_default());
                        lines.push(b'\n');
                    }
                    let more = (!page.last_page).then_some(page_number + 1);
                    Some((Ok::<_, std::io::Error>(Bytes::from(lines)), more))
                }
                Err(PublishError::PageBeyondEnd { .. }) => None,
                Err(e) => {
                    tracing::error!(error = ?e, "ndjson listing failed part-way");
                    Some((Err(std::io::Error::other("listing failed")), None))
                }
            }
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

fn unchanged(v: Value) -> Value {
    v
}

fn minimal(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| matches!(k.as_str(), "id" | "name" | "status" | "last_modified"))
                .collect(),
        ),
        other => other,
    }
}

fn found(value: Result<Option<Value>, PublishError>) -> Result<Json<Value>, ApiError> {
    value?.map(Json).ok_or(ApiError::NotFound)
}

/// About this API and its relation to HSDS.
#[utoipa::path(get, path = "/hsds/", tag = "hsds",
    responses((status = 200, description = "HSDS version, profile and OpenAPI address")))]
pub async fn meta(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let scheme = if state.sessions.secure_cookies {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    Json(json!({
        "version": "3.0",
        "profile": format!("{scheme}://{host}/api/docs"),
        "openapi_url": format!("{scheme}://{host}/api/openapi.json"),
    }))
}

/// Services (HSDS `service_list` objects; `full=true` for fully nested ones).
#[utoipa::path(get, path = "/hsds/services", tag = "hsds", params(ListParams),
    responses((status = 200, description = "A page of services"),
              (status = 400, description = "A parameter is not valid", body = crate::kernel::web::error::ErrorBody)))]
pub async fn services(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    params.only(&[&["minimal", "full"], REFERRAL_PARAMS].concat())?;
    let params = params.resolve_proximity(&state).await?;
    let shape = if params.full == Some(true) {
        full(None)
    } else {
        flat()
    };
    let trim = if params.minimal == Some(true) {
        minimal
    } else {
        unchanged
    };
    answer(state, Root::Service, &params, shape, trim).await
}

/// One fully nested service.
#[utoipa::path(get, path = "/hsds/services/{id}", tag = "hsds",
    params(("id" = String, Path, description = "The service's HSDS id")),
    responses((status = 200, description = "The service"), (status = 404, description = "No public service has this id")))]
pub async fn service(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    found(
        publish::one(
            &state.db,
            Root::Service,
            &id,
            full(None),
            public_cutoff(&state),
        )
        .await,
    )
}

/// Organizations (`full=true` nests them, `full_service=true` nests their services too).
#[utoipa::path(get, path = "/hsds/organizations", tag = "hsds", params(ListParams),
    responses((status = 200, description = "A page of organizations"),
              (status = 400, description = "A parameter is not valid", body = crate::kernel::web::error::ErrorBody)))]
pub async fn organizations(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    params.only(&[
        "full",
        "full_service",
        "taxonomy_term_id",
        "taxonomy_id",
        "modified_after",
        "postcode",
    ])?;
    let shape = match (params.full, params.full_service) {
        (_, Some(true)) => full(Some(Depth::Full)),
        (Some(true), _) => full(Some(Depth::Flat)),
        _ => flat(),
    };
    answer(state, Root::Organization, &params, shape, unchanged).await
}

/// One fully nested organization, with its services (fully nested with `full_service=true`).
#[utoipa::path(get, path = "/hsds/organizations/{id}", tag = "hsds",
    params(("id" = String, Path, description = "The organization's HSDS id"), OneParams),
    responses((status = 200, description = "The organization"), (status = 404, description = "No public organization has this id")))]
pub async fn organization(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<OneParams>,
) -> Result<Json<Value>, ApiError> {
    let services = if params.full_service == Some(true) {
        Depth::Full
    } else {
        Depth::Flat
    };
    found(
        publish::one(
            &state.db,
            Root::Organization,
            &id,
            full(Some(services)),
            public_cutoff(&state),
        )
        .await,
    )
}

/// Services at locations (`full=true` nests the location and service).
#[utoipa::path(get, path = "/hsds/service_at_locations", tag = "hsds", params(ListParams),
    responses((status = 200, description = "A page of services at locations"),
              (status = 400, description = "A parameter is not valid", body = crate::kernel::web::error::ErrorBody)))]
pub async fn service_at_locations(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    params.only(&[&["full"], REFERRAL_PARAMS].concat())?;
    let params = params.resolve_proximity(&state).await?;
    let shape = if params.full == Some(true) {
        full(None)
    } else {
        flat()
    };
    answer(state, Root::ServiceAtLocation, &params, shape, unchanged).await
}

/// One fully nested service at a location.
#[utoipa::path(get, path = "/hsds/service_at_locations/{id}", tag = "hsds",
    params(("id" = String, Path, description = "The HSDS id of the service at a location")),
    responses((status = 200, description = "The service at a location"), (status = 404, description = "None public has this id")))]
pub async fn service_at_location(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    found(
        publish::one(
            &state.db,
            Root::ServiceAtLocation,
            &id,
            full(None),
            public_cutoff(&state),
        )
        .await,
    )
}

/// Taxonomies.
#[utoipa::path(get, path = "/hsds/taxonomies", tag = "hsds", params(ListParams),
    responses((status = 200, description = "A page of taxonomies")))]
pub async fn taxonomies(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    answer(state, Root::Taxonomy, &params, flat(), unchanged).await
}

/// One taxonomy.
#[utoipa::path(get, path = "/hsds/taxonomies/{id}", tag = "hsds",
    params(("id" = String, Path, description = "The taxonomy's HSDS id")),
    responses((status = 200, description = "The taxonomy"), (status = 404, description = "No taxonomy has this id")))]
pub async fn taxonomy(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    found(
        publish::one(
            &state.db,
            Root::Taxonomy,
            &id,
            full(None),
            public_cutoff(&state),
        )
        .await,
    )
}

/// Taxonomy terms.
#[utoipa::path(get, path = "/hsds/taxonomy_terms", tag = "hsds", params(ListParams),
    responses((status = 200, description = "A page of taxonomy terms")))]
pub async fn taxonomy_terms(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    params.only(&["taxonomy_id", "parent_id", "top_only"])?;
    answer(state, Root::TaxonomyTerm, &params, flat(), unchanged).await
}

/// One taxonomy term, with its taxonomy.
#[utoipa::path(get, path = "/hsds/taxonomy_terms/{id}", tag = "hsds",
    params(("id" = String, Path, description = "The term's HSDS id")),
    responses((status = 200, description = "The taxonomy term"), (status = 404, description = "No term has this id")))]
pub async fn taxonomy_term(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    found(
        publish::one(
            &state.db,
            Root::TaxonomyTerm,
            &id,
            full(None),
            public_cutoff(&state),
        )
        .await,
    )
}
