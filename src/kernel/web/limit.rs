//! Per-IP rate limits for public forms: past the limit, 429 with Retry-After.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};

use super::HtmlError;

type KeyedLimiter =
    RateLimiter<IpAddr, governor::state::keyed::DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// The limiter for sign-in forms, shared by every request of this process.
#[derive(Clone)]
pub struct SignInLimit(Arc<KeyedLimiter>);

impl SignInLimit {
    pub fn per_minute(n: u32) -> Self {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self(Arc::new(RateLimiter::keyed(Quota::per_minute(n))))
    }
}

/// Limits POSTs to the public forms (sign-in, applying to the directory) by client
/// address.
pub async fn sign_in(State(limit): State<SignInLimit>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_sign_in_post = request.method() == Method::POST
        && (path.starts_with("/sign-in") || path == "/directory/apply");
    if !is_sign_in_post {
        return next.run(request).await;
    }
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    match limit.0.check_key(&ip) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1);
            tracing::warn!("sign-in rate limit reached for one address");
            let mut response = HtmlError::TooManyRequests.into_response();
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            response
        }
    }
}
