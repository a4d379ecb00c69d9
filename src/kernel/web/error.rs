//! The two error surfaces: JSON under `/api`, HTML pages elsewhere. Both log the full
//! cause and show the user only a short message and the request id.

use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::context;
use super::page::Shell;

/// Marks a response whose body is already in the right error shape.
#[derive(Clone, Copy)]
struct Shaped;

/// An error answered as JSON: `{"error":{"code","message","fields","request_id"}}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        message: String,
        fields: BTreeMap<String, String>,
    },
    #[error("sign in first: send a session cookie or a bearer token")]
    Unauthorized,
    #[error("your account may not do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The request contradicts what is stored (an idempotency key reused for other data).
    #[error("{0}")]
    Conflict(&'static str),
    /// Something this request needs is missing or down (not configured, a provider).
    #[error("{0}")]
    Unavailable(&'static str),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable word for programs: `bad_request`, `not_found`, `internal`, …
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Which input fields were wrong, and why.
    pub fields: BTreeMap<String, String>,
    /// Quote this when asking for help; it finds the full story in the server's log.
    pub request_id: String,
}

impl ApiError {
    /// Bad input in one named field.
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::BadRequest {
            message: format!("{field}: {reason}"),
            fields: BTreeMap::from([(field.to_owned(), reason)]),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::Internal(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, fields) = match &self {
            Self::BadRequest { fields, .. } => (StatusCode::BAD_REQUEST, fields.clone()),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, BTreeMap::new()),
            Self::Forbidden => (StatusCode::FORBIDDEN, BTreeMap::new()),
            Self::NotFound => (StatusCode::NOT_FOUND, BTreeMap::new()),
            Self::Conflict(_) => (StatusCode::CONFLICT, BTreeMap::new()),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, BTreeMap::new()),
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, BTreeMap::new())
            }
        };
        let message = match &self {
            Self::Internal(_) => {
                "Something went wrong on our side. Quote the request id if you ask for help."
                    .to_owned()
            }
            other => other.to_string(),
        };
        json_error(status, message, fields)
    }
}

fn json_error(status: StatusCode, message: String, fields: BTreeMap<String, String>) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code(status).to_owned(),
            message,
            fields,
            request_id: context::current().request_id,
        },
    };
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(Shaped);
    response
}

fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::CONFLICT => "conflict",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_client_error() => "client_error",
        _ => "internal",
    }
}

/// An error answered as a page in the site's layout.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error("bad request")]
    BadRequest,
    #[error("sign in first")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("too many requests")]
    TooManyRequests,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for HtmlError {
    fn from(err: sqlx::Error) -> Self {
        Self::Internal(err.into())
    }
}

impl IntoResponse for HtmlError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        error_page(status)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    status: u16,
    title: String,
    explanation: String,
    request_id: String,
}

fn error_page(status: StatusCode) -> Response {
    let shell = Shell::current();
    let key = match status.as_u16() {
        400 => "error-400",
        401 => "error-401",
        403 => "error-403",
        429 => "error-429",
        404 => "error-404",
        405 => "error-405",
        413 => "error-413",
        422 => "error-422",
        s if s < 500 => "error-400",
        _ => "error-500",
    };
    let page = ErrorPage {
        status: status.as_u16(),
        title: shell.tr.t(&format!("{key}-title")),
        explanation: shell.tr.t(&format!("{key}-text")),
        request_id: context::current().request_id,
        shell,
    };
    let mut response = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "error page failed to render");
            (status, "Error").into_response()
        }
    };
    response.extensions_mut().insert(Shaped);
    response
}

/// Unknown routes: the API's error shape under `/api`, the HTML page elsewhere.
pub async fn fallback(request: Request) -> Response {
    if is_api(request.uri().path()) {
        ApiError::NotFound.into_response()
    } else {
        HtmlError::NotFound.into_response()
    }
}

pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/hsds" || path.starts_with("/hsds/")
}

/// Gives every error response that no handler shaped (a 405 from the router, a 413
/// from the body limit, a panic caught as 500) the same shape as our own errors.
pub async fn shape_errors(request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error())
        || !plain
        || response.extensions().get::<Shaped>().is_some()
    {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut shaped = if api {
        let message = status.canonical_reason().unwrap_or("error").to_owned();
        json_error(status, message, BTreeMap::new())
    } else {
        error_page(status)
    };
    if let Some(allow) = allow {
        shaped.headers_mut().insert(header::ALLOW, allow);
    }
    shaped
}
