//! Static files compiled into the binary (see build.rs).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::HtmlError;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

pub async fn serve(Path(path): Path<String>) -> Response {
    let Some((_, body)) = ASSETS.iter().find(|(name, _)| *name == path) else {
        return HtmlError::NotFound.into_response();
    };
    let mime = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("woff2") => "font/woff2",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("jpg") => "image/jpeg",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    };
    let mut response = (StatusCode::OK, *body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Assets change only with a new binary; an hour keeps upgrades visible quickly.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
