//! Per-address rate limits for the public forms (sign-in, invitations, applying to the
//! directory): past the limit, 429 with Retry-After. The counts live in the database,
//! so every server process shares them; an address is kept only as a keyed hash (it
//! can identify a caller or a tipster) and only for two minutes.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::HtmlError;
use crate::kernel::crypto::Crypto;
use crate::kernel::db::Db;
use crate::kernel::time::now_micros;

const WINDOW_MICROS: i64 = 60_000_000;

/// The shared limit for the public forms.
#[derive(Clone)]
pub struct PublicFormLimit {
    db: Db,
    crypto: Crypto,
    per_minute: u32,
}

impl PublicFormLimit {
    pub fn per_minute(db: Db, crypto: Crypto, per_minute: u32) -> Self {
        Self {
            db,
            crypto,
            per_minute: per_minute.max(1),
        }
    }

    /// Counts one attempt from `ip`; how many seconds to wait if it is over the limit.
    async fn check(&self, ip: IpAddr) -> anyhow::Result<Option<u64>> {
        let now = now_micros();
        let window = now / WINDOW_MICROS;
        let bucket = self
            .crypto
            .blind_index("rate-limit", &ip.to_string())
            .await?;
        let hits: i64 = sqlx::query_scalar(
            "INSERT INTO rate_limit_hits (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 \
             RETURNING hits",
        )
        .bind(&bucket)
        .bind(window)
        .fetch_one(self.db.writer())
        .await?;
        if hits == 1 {
            // The first attempt of a window sweeps what no window needs any more.
            sqlx::query("DELETE FROM rate_limit_hits WHERE window_start < $1")
                .bind(window - 1)
                .execute(self.db.writer())
                .await?;
        }
        let previous: Option<i64> = sqlx::query_scalar(
            "SELECT hits FROM rate_limit_hits WHERE bucket = $1 AND window_start = $2",
        )
        .bind(&bucket)
        .bind(window - 1)
        .fetch_optional(self.db.writer())
        .await?;
        Ok(over_limit(
            now % WINDOW_MICROS,
            previous.unwrap_or(0),
            hits,
            self.per_minute,
        ))
    }
}

/// A sliding minute: the previous window counts for the part of it still inside the
/// last sixty seconds. Over the limit, the wait is until the current window ends.
fn over_limit(into_window: i64, previous: i64, current: i64, per_minute: u32) -> Option<u64> {
    #[allow(clippy::cast_precision_loss)]
    let left = (WINDOW_MICROS - into_window) as f64 / WINDOW_MICROS as f64;
    #[allow(clippy::cast_precision_loss)]
    let estimate = previous as f64 * left + current as f64;
    (estimate > f64::from(per_minute)).then(|| {
        let micros = u64::try_from(WINDOW_MICROS - into_window).unwrap_or(0);
        micros.div_ceil(1_000_000).max(1)
    })
}

/// The public forms, and opening a visitor's chat connection (each one can start a
/// chat an advocate must answer).
fn is_public_form_post(request: &Request) -> bool {
    let path = request.uri().path();
    (request.method() == Method::POST
        && (path.starts_with("/sign-in") || path == "/directory/apply"))
        || (request.method() == Method::GET && path == "/hotline/chat/socket")
}

/// Limits POSTs to the public forms by client address.
pub async fn public_forms(
    State(limit): State<PublicFormLimit>,
    request: Request,
    next: Next,
) -> Response {
    if !is_public_form_post(&request) {
        return next.run(request).await;
    }
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    match limit.check(ip).await {
        Ok(None) => next.run(request).await,
        Ok(Some(wait)) => {
            tracing::warn!("public form rate limit reached for one address");
            let mut response = HtmlError::TooManyRequests.into_response();
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            response
        }
        Err(cause) => HtmlError::Internal(cause.context("checking the rate limit")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_limit_slides_over_the_previous_minute() {
        // Three a minute: the third attempt passes, the fourth waits for the window.
        assert_eq!(over_limit(0, 0, 3, 3), None);
        assert_eq!(over_limit(0, 0, 4, 3), Some(60));
        assert_eq!(over_limit(45_000_000, 0, 4, 3), Some(15));
        // Just after a window turns, the previous one still counts almost whole...
        assert!(over_limit(1_000_000, 3, 1, 3).is_some());
        // ...and near its end hardly at all.
        assert_eq!(over_limit(59_000_000, 3, 1, 3), None);
    }

    proptest! {
        #[test]
        fn a_wait_is_between_one_second_and_a_minute(
            into in 0..WINDOW_MICROS, previous in 0_i64..1000, current in 1_i64..1000, limit in 1_u32..100
        ) {
            if let Some(wait) = over_limit(into, previous, current, limit) {
                prop_assert!((1..=60).contains(&wait));
            }
            // Under the limit in this window alone and with nothing before, it passes.
            if current <= i64::from(limit) {
                prop_assert_eq!(over_limit(into, 0, current, limit), None);
            }
        }
    }
}
