//! Per-request context: a request id and the visitor's language.
//!
//! Both live in a task-local for the duration of the request, so error responses
//! built deep inside a handler can show the request id and speak the right language
//! without threading them through every function.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::kernel::i18n::Lang;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
pub const LANG_COOKIE: &str = "atip_lang";

/// What every page shows that comes from configuration.
#[derive(Clone, Debug, Default)]
pub struct SiteInfo {
    pub quick_exit_url: String,
    pub hotline_phone: String,
    pub hotline_sms: String,
    /// A demo installation says so on every page.
    pub demo: bool,
}

#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub lang: Lang,
    /// The path asked for, without the query string (for the language switch link).
    pub path: String,
    pub site: Arc<SiteInfo>,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The current request's context; outside a request (start-up, jobs) a blank one.
pub fn current() -> RequestContext {
    CONTEXT
        .try_with(Clone::clone)
        .unwrap_or_else(|_| RequestContext {
            request_id: String::new(),
            lang: Lang::En,
            path: "/".to_owned(),
            site: Arc::default(),
        })
}

/// Gives the request an id (never trusting one sent by the client, which could
/// inject text into our logs), picks its language, and opens the log span that puts
/// the id on every line logged while handling it.
pub async fn middleware(
    State(site): State<Arc<SiteInfo>>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = uuid::Uuid::now_v7().to_string();
    let chosen = query_lang(request.uri().query());
    let lang = chosen
        .or_else(|| cookie_lang(request.headers()))
        .or_else(|| {
            request
                .headers()
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::from_accept_language)
        })
        .unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        request.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    // The span carries the method and the matched route only: paths and query strings
    // can hold personal data (a phone number searched for, say).
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let span = tracing::info_span!("request", request_id = %request_id, method = %request.method(), route = %route);
    let context = RequestContext {
        request_id: request_id.clone(),
        lang,
        path: request.uri().path().to_owned(),
        site,
    };
    let mut response = CONTEXT
        .scope(context, next.run(request))
        .instrument(span)
        .await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    if let Some(lang) = chosen {
        // A preference, not tracking: it holds only "en" or "es".
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == LANG_COOKIE)
        .and_then(|(_, v)| Lang::parse(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_comes_from_the_query_string() {
        assert_eq!(query_lang(Some("a=1&lang=es")), Some(Lang::Es));
        assert_eq!(query_lang(Some("lang=fr")), None);
        assert_eq!(query_lang(None), None);
    }

    #[test]
    fn lang_comes_from_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("x=1; atip_lang=es"));
        assert_eq!(cookie_lang(&headers), Some(Lang::Es));
    }
}
