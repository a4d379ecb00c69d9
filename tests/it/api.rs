//! The JSON API: error shape, organizations, OpenAPI.

use atip::kernel::auth::Role;
use atip::orgs::model::{OrgId, OrgKind};
use atip::orgs::service as orgs;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;
use crate::storage::org;

on_both_databases! {
    organizations_are_listed_and_fetched_through_the_api;
}

fn assert_error_shape(body: &Value, code: &str) {
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(error["message"].is_string(), "{body}");
    assert!(error["fields"].is_object(), "{body}");
    assert_eq!(
        error["request_id"].as_str().map(str::len),
        Some(36),
        "{body}"
    );
}

async fn organizations_are_listed_and_fetched_through_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let grantee = OrgId::new();
    orgs::create_many(
        &app.db,
        &[
            (grantee, org("Grantee", OrgKind::NationalGrantee, None)),
            (OrgId::new(), org("NGO", OrgKind::SubAwardee, Some(grantee))),
        ],
    )
    .await
    .unwrap();
    let session = app.signed_in(Role::HotlineAdvocate, None).await;
    let get = |path: String| {
        let app = &app;
        let session = &session;
        async move {
            let response = app.get_as(session, &path).await;
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = get("/api/v1/organizations?kind=sub_awardee".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total_items"], 1);
    assert_eq!(body["items"][0]["name"], "NGO");
    assert_eq!(body["items"][0]["parent_id"], grantee.to_string());

    let (status, body) = get(format!("/api/v1/organizations/{grantee}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["kind"], "national_grantee");

    let (status, body) = get(format!("/api/v1/organizations/{}", OrgId::new())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body, "not_found");
}

#[tokio::test]
async fn bad_parameters_are_a_400_naming_the_field() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let session = app.signed_in(Role::Analyst, None).await;
    for (path, field) in [
        ("/api/v1/organizations?page=abc", "page"),
        ("/api/v1/organizations?page=0", "page"),
        ("/api/v1/organizations?per_page=1000", "per_page"),
        ("/api/v1/organizations?kind=bakery", "kind"),
        ("/api/v1/organizations?colour=red", "colour"),
        ("/api/v1/organizations/not-a-uuid", "id"),
    ] {
        let response = app.get_as(&session, path).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_error_shape(&body, "bad_request");
        assert!(body["error"]["fields"][field].is_string(), "{path}: {body}");
    }
}

#[tokio::test]
async fn unknown_api_routes_are_a_404_in_the_api_shape() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.get("/api/v1/nothing-here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_error_shape(&body, "not_found");
    assert_eq!(body["error"]["request_id"], id);
}

#[tokio::test]
async fn a_wrong_method_on_the_api_is_a_405_in_the_api_shape() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .delete(app.url("/api/v1/organizations"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_error_shape(&response.json().await.unwrap(), "method_not_allowed");
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let big = vec![b'x'; 200 * 1024];
    let response = app
        .client
        .post(app.url("/api/v1/organizations"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_error_shape(&response.json().await.unwrap(), "payload_too_large");
}

#[tokio::test]
async fn the_openapi_document_is_valid_openapi_3_1() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (status, doc) = app.get_json("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/openapi-3.1-schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    for path in [
        "/api/v1/organizations",
        "/api/v1/organizations/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn the_api_reference_page_lists_every_operation() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, doc) = app.get_json("/api/openapi.json").await;
    let (status, html) = app.get_html("/api/docs", "en").await;
    assert_eq!(status, StatusCode::OK);
    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(html.contains(&format!("<code>{path}</code>")), "{path}");
    }
}
