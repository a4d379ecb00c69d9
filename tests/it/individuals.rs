//! Individuals in the directory: curators add them; the public API shows listed people
//! only as they chose to be reached; staff see everyone (audited); every answer and the
//! export validate as HSDS contacts.

use atip::kernel::auth::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;

on_both_databases! {
    individuals_are_published_as_they_chose;
}

const ORG: &str = "11111111-1111-4111-8111-111111111111";

async fn add(app: &TestApp, curator: &Session, fields: &[(&str, &str)]) -> StatusCode {
    let mut form: Vec<(&str, &str)> = vec![("csrf", curator.csrf.as_str())];
    form.extend_from_slice(fields);
    app.client
        .post(app.url("/directory/individuals"))
        .header("cookie", &curator.cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
}

async fn json_as(app: &TestApp, who: Option<&Session>, path: &str) -> (StatusCode, Value) {
    let mut request = app.client.get(app.url(path));
    if let Some(who) = who {
        request = request.header("cookie", &who.cookie);
    }
    let response = request.send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

fn names(page: &Value) -> Vec<String> {
    let mut names: Vec<String> = page["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn individuals_are_published_as_they_chose(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let curator = app.signed_in(Role::DirectoryCurator, None).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let people: [&[(&str, &str)]; 4] = [
        &[
            ("name", "Ana Direct"),
            ("title", "Staff attorney"),
            ("expertise", "immigration-attorney"),
            ("expertise", "trainer"),
            ("languages", "es, en"),
            ("states", "TX, NM"),
            ("email", "ana@example.org"),
            ("phone", "+1 512 555 0101"),
            ("preference", "direct"),
            ("listed", "on"),
        ],
        &[
            ("name", "Ben Through-Org"),
            ("expertise", "researcher"),
            ("languages", "en"),
            ("states", "CA"),
            ("organization_id", ORG),
            ("email", "ben@example.org"),
            ("preference", "through-organization"),
            ("listed", "on"),
        ],
        &[
            ("name", "Cleo Hotline-Only"),
            ("expertise", "survivor-leader"),
            ("languages", "en"),
            ("states", "TX"),
            ("organization_id", ORG),
            ("phone", "+1 512 555 0103"),
            ("preference", "through-hotline"),
            ("listed", "on"),
        ],
        &[
            ("name", "Dev Unlisted"),
            ("expertise", "interpreter"),
            ("languages", "vi"),
            ("states", "WA"),
            ("email", "dev@example.org"),
            ("preference", "direct"),
        ],
    ];
    for person in people {
        assert_eq!(add(&app, &curator, person).await, StatusCode::SEE_OTHER);
    }
    // A bad form names its fields and stores nothing.
    let bad = reqwest::Client::new()
        .post(app.url("/directory/individuals"))
        .header("cookie", &curator.cookie)
        .form(&[
            ("csrf", curator.csrf.as_str()),
            ("name", "Eve"),
            ("expertise", "wizard"),
            ("states", "ZZ"),
            ("preference", "direct"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body = bad.text().await.unwrap();
    assert!(
        body.contains("Expertise</a>: has a value that is not on the list"),
        "{body}"
    );
    assert!(
        body.contains("States served</a>: must be two-letter U.S. state codes"),
        "{body}"
    );

    // The public: listed people only, reachable as each chose.
    let (status, page) = json_as(&app, None, "/api/v1/individuals").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        names(&page),
        ["Ana Direct", "Ben Through-Org", "Cleo Hotline-Only"]
    );
    let schema = crate::directory::schema("contact.json");
    let validator = jsonschema::validator_for(&schema).unwrap();
    for person in page["contents"].as_array().unwrap() {
        let errors: Vec<String> = validator
            .iter_errors(person)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{person}: {errors:?}");
        match person["name"].as_str().unwrap() {
            "Ana Direct" => {
                assert_eq!(person["email"], "ana@example.org");
                assert_eq!(person["phones"][0]["number"], "+1 512 555 0101");
                assert_eq!(person["x_languages"], serde_json::json!(["es", "en"]));
            }
            "Ben Through-Org" => {
                assert_eq!(person["organization_id"], ORG);
                assert!(person.get("email").is_none() && person.get("phones").is_none());
            }
            _ => {
                for hidden in ["email", "phones", "organization_id"] {
                    assert!(person.get(hidden).is_none(), "{hidden} of {person}");
                }
                assert_eq!(person["x_contact_preference"], "through-hotline");
            }
        }
    }
    // Filters, and a clear 400 for a bad one.
    let (_, page) = json_as(&app, None, "/api/v1/individuals?state=tx&language=Spanish").await;
    assert_eq!(names(&page), ["Ana Direct"]);
    let (_, page) = json_as(&app, None, "/api/v1/individuals?expertise=survivor-leader").await;
    assert_eq!(names(&page), ["Cleo Hotline-Only"]);
    for (query, field) in [
        ("expertise=wizard", "expertise"),
        ("state=Texas", "state"),
        ("color=red", "color"),
    ] {
        let (status, body) = json_as(&app, None, &format!("/api/v1/individuals?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            body["error"]["fields"][field].is_string(),
            "{query}: {body}"
        );
    }
    // One person: the unlisted one does not exist for the public.
    let (_, staff) = json_as(&app, Some(&advocate), "/api/v1/individuals").await;
    assert_eq!(
        names(&staff),
        [
            "Ana Direct",
            "Ben Through-Org",
            "Cleo Hotline-Only",
            "Dev Unlisted"
        ]
    );
    let cleo = staff["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Cleo Hotline-Only")
        .unwrap();
    // Staff can connect a caller: they see the number the public does not.
    assert_eq!(cleo["phones"][0]["number"], "+1 512 555 0103");
    let dev = staff["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Dev Unlisted")
        .unwrap();
    let id = dev["id"].as_str().unwrap();
    let (status, _) = json_as(&app, None, &format!("/api/v1/individuals/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, one) = json_as(&app, Some(&advocate), &format!("/api/v1/individuals/{id}")).await;
    assert_eq!(
        (status, one["email"].as_str()),
        (StatusCode::OK, Some("dev@example.org"))
    );
    let reads: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'directory.individuals.read'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    // The curators' page shown again with the refused form, then the advocate's two.
    assert_eq!(reads, 3, "each staff reading is audited");

    // A curator changes someone: the edit page shows them, and a save updates them.
    let response = app
        .get_as(&curator, &format!("/directory/individuals/{id}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("dev@example.org"));
    let response = app
        .client
        .post(app.url(&format!("/directory/individuals/{id}")))
        .header("cookie", &curator.cookie)
        .form(&[
            ("csrf", curator.csrf.as_str()),
            ("name", "Dev Listed"),
            ("expertise", "interpreter"),
            ("languages", "vi"),
            ("states", "WA"),
            ("email", "dev@example.org"),
            ("preference", "direct"),
            ("listed", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = json_as(&app, None, "/api/v1/individuals?language=vi").await;
    assert_eq!(names(&page), ["Dev Listed"]);

    // The HSDS export carries them as contacts with extensions, as published.
    let out = tempfile::tempdir().unwrap();
    atip::directory::service::export(&app.db, &app.crypto, out.path())
        .await
        .unwrap();
    let exported: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("individuals.json")).unwrap(),
    )
    .unwrap();
    let exported = exported.as_array().unwrap();
    assert_eq!(exported.len(), 4);
    for person in exported {
        assert!(validator.iter_errors(person).next().is_none(), "{person}");
        if person["name"] == "Cleo Hotline-Only" {
            assert!(person.get("phones").is_none());
        }
    }
    // Imported into an empty directory and exported again: the same individuals.
    let second = TestApp::spawn(backend).await;
    let report = atip::directory::service::import(
        &second.db,
        &second.crypto,
        out.path(),
        atip::directory::service::ImportOptions::default(),
        &|_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.written("individual"), 4, "{:?}", report.problems);
    let again = tempfile::tempdir().unwrap();
    atip::directory::service::export(&second.db, &second.crypto, again.path())
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(out.path().join("individuals.json")).unwrap(),
        std::fs::read_to_string(again.path().join("individuals.json")).unwrap()
    );
    // A bad record is named by its place and field, and nothing is stored.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(
        bad.path().join("individuals.json"),
        r#"[{"id": "not-a-uuid", "name": "X"},
            {"id": "0190c2a0-0000-7000-8000-000000000001", "name": "Y", "x_expertise": ["wizard"], "x_contact_preference": "through-hotline"}]"#,
    )
    .unwrap();
    let third = TestApp::spawn(backend).await;
    let report = atip::directory::service::import(
        &third.db,
        &third.crypto,
        bad.path(),
        atip::directory::service::ImportOptions::default(),
        &|_, _| {},
    )
    .await
    .unwrap();
    let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("individuals.json") && p.contains("id")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("expertise")),
        "{problems:?}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM directory_individuals")
        .fetch_one(third.db.reader())
        .await
        .unwrap();
    assert_eq!(stored, 0);
    third.shutdown().await;
    second.shutdown().await;
    app.shutdown().await;
}
