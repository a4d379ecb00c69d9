//! Technical assistance: a professional's question is taken on a contact, waits in the
//! consoles (topic and date only) and is answered once.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;
use atip::kernel::auth::Role;

on_both_databases! {
    a_professionals_question_is_tracked_until_it_is_answered;
}

async fn send(
    app: &TestApp,
    who: &Session,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("cookie", &who.cookie)
        .header("idempotency-key", uuid::Uuid::now_v7().to_string());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn panels(app: &TestApp, who: &Session) -> String {
    app.get_as(who, "/hotline/console/panels")
        .await
        .text()
        .await
        .unwrap()
}

async fn a_professionals_question_is_tracked_until_it_is_answered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let call = json!({
        "channel": "phone", "direction": "inbound", "started_at": "2026-11-29T15:00:00Z",
        "language": "en", "caller_type": "service-provider", "reasons": ["technical-assistance"]
    });
    let (_, recorded) = send(
        &app,
        &advocate,
        Method::POST,
        "/api/v1/hotline/contacts",
        Some(call),
    )
    .await;
    let contact = recorded["id"].as_str().unwrap().to_owned();
    let ask = format!("/api/v1/hotline/contacts/{contact}/technical-assistance");

    let (status, error) = send(
        &app,
        &advocate,
        Method::POST,
        &ask,
        Some(json!({"topic": "legal-and-immigration", "question": " ", "due_on": "soon"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = error.to_string();
    assert!(
        error.contains("question") && error.contains("due_on"),
        "{error}"
    );
    let (status, _) = send(
        &app,
        &advocate,
        Method::POST,
        "/api/v1/hotline/contacts/0190a0a0-0000-7000-8000-000000000000/technical-assistance",
        Some(json!({"topic": "other", "question": "?"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let question = "Can a client with a pending T visa work while waiting?";
    let (status, asked) = send(
        &app,
        &advocate,
        Method::POST,
        &ask,
        Some(
            json!({"topic": "legal-and-immigration", "question": question, "due_on": "2026-12-04"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    let id = asked["id"].as_str().unwrap().to_owned();

    // Every console shows it by topic and date, never its words.
    let other = app.signed_in(Role::HotlineAdvocate, None).await;
    let shown = panels(&app, &other).await;
    assert!(
        shown.contains("Technical assistance to answer (1)"),
        "{shown}"
    );
    assert!(shown.contains("Legal and immigration") && shown.contains("2026-12-04"));
    assert!(!shown.contains("T visa"));
    let (_, waiting) = send(
        &app,
        &other,
        Method::GET,
        "/api/v1/hotline/technical-assistance",
        None,
    )
    .await;
    assert_eq!(waiting[0]["question"], question);
    assert_eq!(waiting[0]["contact_id"], contact.as_str());
    let plain: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hotline_ta_requests WHERE question LIKE '%visa%'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(plain, 0);

    // Answered once.
    let answer = format!("/api/v1/hotline/technical-assistance/{id}/answer");
    let (status, _) = send(
        &app,
        &other,
        Method::POST,
        &answer,
        Some(json!({"answer": ""})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(
        &app,
        &other,
        Method::POST,
        &answer,
        Some(json!({"answer": "Yes, once the bona fide determination grants work authorization."})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &app,
        &advocate,
        Method::POST,
        &answer,
        Some(json!({"answer": "Again"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = send(
        &app,
        &advocate,
        Method::POST,
        "/api/v1/hotline/technical-assistance/0190a0a0-0000-7000-8000-000000000000/answer",
        Some(json!({"answer": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        panels(&app, &advocate)
            .await
            .contains("Technical assistance to answer (0)")
    );
    let (_, waiting) = send(
        &app,
        &advocate,
        Method::GET,
        "/api/v1/hotline/technical-assistance",
        None,
    )
    .await;
    assert_eq!(waiting, json!([]));
    let analyst = app.signed_in(Role::Analyst, None).await;
    let (status, _) = send(
        &app,
        &analyst,
        Method::GET,
        "/api/v1/hotline/technical-assistance",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
