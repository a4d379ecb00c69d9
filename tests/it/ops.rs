//! Health, readiness and metrics.

use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;

on_both_databases! {
    readyz_says_ready_when_migrated_and_not_ready_otherwise;
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

async fn readyz_says_ready_when_migrated_and_not_ready_otherwise(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(app.db.writer())
        .await
        .unwrap();
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["reason"], "migrations_pending");
    app.db.close().await;
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["reason"], "database_unreachable");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_pools_and_jobs() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.get("/api/v1/organizations?page=1").await;
    app.get("/api/v1/organizations/0190a4f8-0000-7000-8000-000000000000")
        .await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(text.contains(r#"route="/api/v1/organizations""#), "{text}");
    assert!(
        text.contains(r#"route="/api/v1/organizations/{id}""#),
        "by template, never the raw path"
    );
    assert!(!text.contains("0190a4f8"), "ids never reach metrics");
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
    assert!(text.contains(r#"jobs{state="queued"}"#));
}
