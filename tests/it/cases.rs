//! A hotline case described (potential victims, venue, means of control, recruitment,
//! place, persons of interest) and read back with the timeline of what happened in it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;
use atip::kernel::auth::Role;

on_both_databases! {
    a_case_is_described_and_its_timeline_tells_what_happened;
    the_case_page_describes_a_case_and_names_what_is_wrong;
}

async fn send(
    app: &TestApp,
    who: &Session,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("cookie", &who.cookie)
        .header("idempotency-key", uuid::Uuid::now_v7().to_string());
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn description() -> Value {
    json!({
        "status": "open",
        "trafficking_type": "labor",
        "determination": "high",
        "potential_victims": 6,
        "minors_involved": true,
        "genders": ["male", "female"],
        "nationalities": ["gt", "MX"],
        "venues": ["agriculture"],
        "means_of_control": ["MethodsOfControlWithholdsDocuments", "MethodsOfControlDebtBondage"],
        "recruitment": ["job-offer"],
        "exploitation_city": "Fresno",
        "exploitation_state": "CA",
        "persons_of_interest": "Crew leader called Tavo, drives a white van",
        "summary": "Six workers housed in a trailer behind the packing shed"
    })
}

async fn a_case_is_described_and_its_timeline_tells_what_happened(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let call = json!({
        "channel": "phone", "direction": "inbound", "started_at": "2026-11-29T03:12:00Z",
        "language": "es", "caller_type": "family-or-friend", "reasons": ["tip"], "new_case": "unknown"
    });
    let (status, recorded) = send(
        &app,
        &advocate,
        reqwest::Method::POST,
        "/api/v1/hotline/contacts",
        Some(&call),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    let case = recorded["case_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/hotline/cases/{case}");
    let (status, _) = send(
        &app,
        &advocate,
        reqwest::Method::POST,
        &format!("{path}/identifiers"),
        Some(&json!({"kind": "plate", "value": "7ABC123"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // Refused, naming each field, and nothing changes.
    let bad = json!({
        "status": "open", "trafficking_type": "labor", "potential_victims": 0,
        "minors_involved": true, "nationalities": ["Guatemala"], "venues": ["moon-base"]
    });
    let (status, error) = send(&app, &advocate, reqwest::Method::PUT, &path, Some(&bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = error.to_string();
    for field in ["venues", "nationalities", "minors_involved"] {
        assert!(error.contains(field), "{error}");
    }
    let (_, unchanged) = send(&app, &advocate, reqwest::Method::GET, &path, None).await;
    assert_eq!(unchanged["trafficking_type"], "unknown");

    // Described, then sent again unchanged (no second change), then moved to monitoring.
    let (status, view) = send(
        &app,
        &advocate,
        reqwest::Method::PUT,
        &path,
        Some(&description()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["potential_victims"], 6);
    assert_eq!(view["determination"], "high");
    assert_eq!(view["minors_involved"], true);
    assert_eq!(view["nationalities"], json!(["GT", "MX"]));
    assert_eq!(view["genders"], json!(["female", "male"]));
    assert_eq!(
        view["means_of_control"],
        json!([
            "MethodsOfControlDebtBondage",
            "MethodsOfControlWithholdsDocuments"
        ])
    );
    assert_eq!(
        view["persons_of_interest"],
        "Crew leader called Tavo, drives a white van"
    );
    send(
        &app,
        &advocate,
        reqwest::Method::PUT,
        &path,
        Some(&description()),
    )
    .await;
    let mut monitoring = description();
    monitoring["status"] = json!("monitoring");
    let (_, view) = send(
        &app,
        &advocate,
        reqwest::Method::PUT,
        &path,
        Some(&monitoring),
    )
    .await;
    assert_eq!(view["status"], "monitoring");
    assert_eq!(
        view["identifiers"],
        json!([{"kind": "plate", "value": "7ABC123"}])
    );
    let kinds: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["contact", "opened", "identifier", "update", "update"],
        "{view}"
    );
    let updates: Vec<&Value> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "update")
        .map(|e| &e["detail"])
        .collect();
    assert!(updates[0].as_str().unwrap().contains("venues"));
    assert_eq!(updates[1], "status");

    // Sealed where it names or describes people.
    let plain: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hotline_cases WHERE persons_of_interest LIKE '%Tavo%' OR summary LIKE '%trailer%'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(plain, 0);
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'hotline.case.update' AND object_id = $1",
    )
    .bind(&case)
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(audited, 2);

    // Others cannot read it; a case that does not exist is 404.
    let analyst = app.signed_in(Role::Analyst, None).await;
    assert_eq!(
        send(&app, &analyst, reqwest::Method::GET, &path, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let missing = "/api/v1/hotline/cases/0190a0a0-0000-7000-8000-000000000000";
    assert_eq!(
        send(&app, &advocate, reqwest::Method::GET, missing, None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // The indicators count the potential victims and the cases with minors.
    let supervisor = app.signed_in(Role::HotlineSupervisor, None).await;
    let (_, indicators) = send(
        &app,
        &supervisor,
        reqwest::Method::GET,
        "/api/v1/hotline/indicators?from=2000-01-01&to=2100-01-01",
        None,
    )
    .await;
    assert_eq!(indicators["potential_victims"], 6);
    assert_eq!(indicators["cases_involving_minors"], 1);
    let (status, typology) = send(
        &app,
        &advocate,
        reqwest::Method::GET,
        "/api/v1/hotline/case-typology",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let agriculture = typology["venues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == "agriculture")
        .unwrap();
    assert_eq!(agriculture["htcds"], "A_AgricultureForestryAndFishing");
}

async fn the_case_page_describes_a_case_and_names_what_is_wrong(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let call = json!({
        "channel": "sms", "direction": "inbound", "started_at": "2026-11-29T03:12:00Z",
        "language": "en", "caller_type": "potential-victim", "reasons": ["crisis"], "new_case": "sex"
    });
    let (_, recorded) = send(
        &app,
        &advocate,
        reqwest::Method::POST,
        "/api/v1/hotline/contacts",
        Some(&call),
    )
    .await;
    let case = recorded["case_id"].as_str().unwrap().to_owned();
    let path = format!("/hotline/cases/{case}");
    let page = app.get_as(&advocate, &path).await.text().await.unwrap();
    assert!(
        page.contains("Hotline case") && page.contains("Case opened"),
        "{page}"
    );
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("csrf", advocate.csrf.as_str())];
        form.extend(fields);
        app.client
            .post(app.url(&path))
            .header("cookie", &advocate.cookie)
            .form(&form)
            .send()
    };
    let refused = post(vec![
        ("status", "open"),
        ("trafficking_type", "sex"),
        ("potential_victims", "many"),
    ])
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("How many potential victims")
    );
    let refused = post(vec![
        ("status", "open"),
        ("trafficking_type", "sex"),
        ("venues", "moon-base"),
        ("exploitation_state", "ZZ"),
    ])
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("Venue or industry") && text.contains("State (two letters)"),
        "{text}"
    );
    let saved = post(vec![
        ("status", "monitoring"),
        ("trafficking_type", "sex"),
        ("determination", "moderate"),
        ("potential_victims", "2"),
        ("minors_involved", "yes"),
        ("genders", "female"),
        ("nationalities", "hn, sv"),
        ("venues", "illicit-massage"),
        ("means_of_control", "MethodsOfControlWithholdsDocuments"),
        ("recruitment", "online"),
        ("exploitation_city", "Houston"),
        ("exploitation_state", "TX"),
        ("persons_of_interest", "Owner of the spa"),
    ])
    .await
    .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let page = app
        .get_as(&advocate, &format!("{path}?saved=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The case is saved."));
    assert!(page.contains("value=\"illicit-massage\" checked"));
    assert!(page.contains("value=\"HN, SV\""));
    assert!(page.contains("Owner of the spa"));
    assert!(page.contains("Case updated"));
    let (_, view) = send(
        &app,
        &advocate,
        reqwest::Method::GET,
        &format!("/api/v1/hotline/cases/{case}"),
        None,
    )
    .await;
    assert_eq!(view["determination"], "moderate");
    assert_eq!(view["status"], "monitoring");
}
