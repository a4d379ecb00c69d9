//! `/healthz`, `/readyz`, `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::kernel::jobs;
use crate::kernel::web::metrics;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `not_ready`.
    pub status: &'static str,
    /// Why the server is not ready, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// The process is up (it answers without touching the database).
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is running", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        reason: None,
    })
}

/// The database is reachable and its schema is what this build expects.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic", body = Health),
        (status = 503, description = "Not ready: the database is unreachable or not migrated", body = Health),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let reason = match state.db.migration_state().await {
        Ok(m) if m.is_current() => None,
        Ok(_) => Some("migrations_pending"),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check could not reach the database");
            Some("database_unreachable")
        }
    };
    let status = if reason.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = Health {
        status: if reason.is_some() {
            "not_ready"
        } else {
            "ready"
        },
        reason,
    };
    (status, Json(body)).into_response()
}

/// Prometheus text: requests and latency by route, database pool use, job queue depth.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    for (pool, size, idle) in state.db.pool_stats() {
        ::metrics::gauge!("db_pool_connections", "pool" => pool, "state" => "open")
            .set(f64::from(size));
        #[allow(clippy::cast_precision_loss)]
        ::metrics::gauge!("db_pool_connections", "pool" => pool, "state" => "idle")
            .set(idle as f64);
    }
    match jobs::depth(&state.db).await {
        Ok(depths) => {
            for state_name in ["queued", "running", "done", "dead"] {
                let n = depths
                    .iter()
                    .find(|(s, _)| s == state_name)
                    .map_or(0, |(_, n)| *n);
                #[allow(clippy::cast_precision_loss)]
                ::metrics::gauge!("jobs", "state" => state_name).set(n as f64);
            }
        }
        Err(err) => tracing::warn!(error = %err, "could not count jobs for metrics"),
    }
    let mut response = metrics::handle().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
