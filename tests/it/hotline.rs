//! The hotline: contacts recorded once per idempotency key, repeat callers matched,
//! and the text line's webhook (signatures checked independently of the code under test).

use base64::Engine as _;
use hmac::{KeyInit as _, Mac as _};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;
use atip::kernel::auth::Role;

on_both_databases! {
    a_contact_is_recorded_once_however_often_it_is_sent;
    the_text_line_takes_only_signed_texts_and_each_once;
    screening_suggests_a_level_and_alerts_supervisors;
    reports_carry_identifying_details_only_as_the_consent_rule_allows;
    coverage_shows_every_hour_without_an_advocate_or_a_supervisor;
    referrals_are_followed_up_until_their_outcome_is_known;
    advocates_reply_by_text_unless_the_person_opted_out;
    indicators_count_the_periods_records;
    a_crisis_checklist_records_every_step_and_alerts_supervisors;
    cases_naming_the_same_person_or_number_are_suggested;
    contacts_waiting_together_each_end_as_if_sent_alone;
    texts_waiting_together_each_end_as_if_sent_alone;
}

fn call(phone: &str) -> Value {
    json!({
        "channel": "phone",
        "direction": "inbound",
        "started_at": "2026-11-29T03:12:00Z",
        "ended_at": "2026-11-29T03:40:00Z",
        "language": "es",
        "interpreter": false,
        "caller_type": "potential-victim",
        "caller_city": "Fresno",
        "caller_state": "CA",
        "heard_from": "radio",
        "reasons": ["crisis", "referral-request"],
        "narrative": "Works in the fields, papers kept by the crew leader",
        "caller_phone": phone,
        "safe_to_call": true,
        "voicemail_ok": false,
        "code_word": "tortillas",
        "outcome": "referral-made",
        "new_case": "labor"
    })
}

async fn post_contact(
    app: &TestApp,
    who: &Session,
    key: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(app.url("/api/v1/hotline/contacts"))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

async fn a_contact_is_recorded_once_however_often_it_is_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let body = call("+1 (559) 555-0142");

    let (status, error) = post_contact(&app, &advocate, None, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(
        error["error"]["fields"]["Idempotency-Key"].is_string(),
        "{error}"
    );

    let key = "0b6d5e2c-6f7a-4b8e-9c1d-2e3f4a5b6c7d";
    let (status, first) = post_contact(&app, &advocate, Some(key), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["replayed"], false);
    let case = first["case_id"].as_str().unwrap().to_owned();
    // A double click, and a retry after a lost answer: the same contact, nothing new.
    let (a, b) = tokio::join!(
        post_contact(&app, &advocate, Some(key), &body),
        post_contact(&app, &advocate, Some(key), &body)
    );
    for (status, again) in [a, b] {
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["replayed"], true);
    }
    // Two first saves at the same moment with a new key: still one contact.
    let twin = "7f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
    let (a, b) = tokio::join!(
        post_contact(&app, &advocate, Some(twin), &body),
        post_contact(&app, &advocate, Some(twin), &body)
    );
    assert_eq!(a.1["id"], b.1["id"], "{} {}", a.1, b.1);
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED]);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_contacts").await,
        2
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM hotline_cases").await, 2);
    // The key of one contact cannot carry another.
    let mut other = body.clone();
    other["narrative"] = json!("A different call");
    let (status, error) = post_contact(&app, &advocate, Some(key), &other).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");

    // A form post (what another site could make a browser send) is refused.
    let response = app
        .client
        .post(app.url("/api/v1/hotline/contacts"))
        .header("cookie", &advocate.cookie)
        .header("idempotency-key", "cross-site-key-1")
        .header("content-type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Bad input is named; nothing is stored.
    let mut bad = body.clone();
    bad["language"] = json!("Spanish");
    bad["caller_type"] = json!("alien");
    let (status, error) = post_contact(&app, &advocate, Some("bad-input-key-1"), &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(
        error["error"]["fields"]["caller_type"].is_string(),
        "{error}"
    );
    bad["caller_type"] = json!("community-member");
    let (status, error) = post_contact(&app, &advocate, Some("bad-input-key-2"), &bad).await;
    assert!(
        error["error"]["fields"]["language"].is_string(),
        "{status} {error}"
    );
    let mut unknown_case = body.clone();
    unknown_case["new_case"] = Value::Null;
    unknown_case["case_id"] = json!("018f0000-0000-7000-8000-000000000000");
    let (status, error) =
        post_contact(&app, &advocate, Some("bad-case-key-1"), &unknown_case).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"]["fields"]["case_id"].is_string(), "{error}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_contacts").await,
        2
    );

    // The same caller again, the number written differently: the earlier case is offered.
    let mut again = call("559.555.0142");
    again["new_case"] = Value::Null;
    let (status, repeat) = post_contact(&app, &advocate, Some("repeat-caller-key"), &again).await;
    assert_eq!(status, StatusCode::CREATED, "{repeat}");
    let related: Vec<&str> = repeat["related_cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(related.contains(&case.as_str()), "{repeat}");

    // Staff read it back, opened; the reading is audited; others may not.
    let id = first["id"].as_str().unwrap();
    let response = app
        .get_as(&advocate, &format!("/api/v1/hotline/contacts/{id}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let contact: Value = response.json().await.unwrap();
    assert_eq!(
        contact["narrative"],
        "Works in the fields, papers kept by the crew leader"
    );
    assert_eq!(contact["caller_phone"], "+1 (559) 555-0142");
    assert_eq!(contact["reasons"], json!(["crisis", "referral-request"]));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'hotline.contact.read'"
        )
        .await,
        1
    );
    let analyst = app.signed_in(Role::Analyst, None).await;
    let (status, _) = post_contact(&app, &analyst, Some("analyst-key-123"), &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = app
        .get_as(&analyst, &format!("/api/v1/hotline/contacts/{id}"))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    app.shutdown().await;
}

pub(crate) const TOKEN: &str = "test-auth-token-0f3a";
pub(crate) const BASE: &str = "https://hotline.example.org";

/// Twilio's signature, computed here from its documented recipe: HMAC-SHA1 with the
/// auth token over the URL followed by each parameter's name and value, sorted by name.
pub fn twilio_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort_unstable();
    let mut data = url.to_owned();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn text(
    app: &TestApp,
    signature: Option<&str>,
    params: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut request = app
        .client
        .post(app.url("/webhooks/twilio/sms"))
        .form(params);
    if let Some(signature) = signature {
        request = request.header("x-twilio-signature", signature);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

pub(crate) async fn signed(app: &TestApp, params: &[(&str, &str)]) -> (StatusCode, String) {
    let url = format!("{BASE}/webhooks/twilio/sms");
    text(app, Some(&twilio_signature(TOKEN, &url, params)), params).await
}

async fn the_text_line_takes_only_signed_texts_and_each_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.twilio_auth_token = Some(atip::kernel::config::Secret::new(TOKEN));
        config.public_base_url = Some(BASE.to_owned());
    })
    .await;
    let first = [
        ("MessageSid", "SM00000000000000000000000000000001"),
        ("AccountSid", "AC00000000000000000000000000000001"),
        ("From", "+15595550199"),
        ("To", "+1233733"),
        ("Body", "I need help, they took my passport"),
    ];
    // Unsigned, wrongly signed, signed for the address the request was sent to (its
    // Host) rather than the configured one, or with another token: refused.
    let own_url = app.url("/webhooks/twilio/sms");
    for signature in [
        None,
        Some("bm90IGEgc2lnbmF0dXJl".to_owned()),
        Some(twilio_signature(TOKEN, &own_url, &first)),
        Some(twilio_signature(
            "another-token",
            &format!("{BASE}/webhooks/twilio/sms"),
            &first,
        )),
    ] {
        let (status, _) = text(&app, signature.as_deref(), &first).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // A changed parameter breaks the signature.
    let url = format!("{BASE}/webhooks/twilio/sms");
    let mut forged = first;
    forged[4] = ("Body", "something else");
    let (status, _) = text(&app, Some(&twilio_signature(TOKEN, &url, &first)), &forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 0);

    // Signed: stored, sealed, and the first text of a thread is answered.
    let (status, twiml) = signed(&app, &first).await;
    assert_eq!(status, StatusCode::OK, "{twiml}");
    assert!(
        twiml.contains("<Message>Thank you for reaching out"),
        "{twiml}"
    );
    let body: String = sqlx::query_scalar("SELECT body FROM sms_messages")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert!(!body.contains("passport"), "texts are sealed");
    // Twilio retries: the same MessageSid is the same message, answered with nothing.
    let (status, twiml) = signed(&app, &first).await;
    assert_eq!(status, StatusCode::OK);
    assert!(twiml.ends_with("<Response></Response>"), "{twiml}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 1);
    // A second text from the same sender joins the thread.
    let mut second = first;
    second[0] = ("MessageSid", "SM00000000000000000000000000000002");
    second[4] = ("Body", "HELP");
    let (_, twiml) = signed(&app, &second).await;
    assert!(
        twiml.contains("1-888-373-7888"),
        "HELP gives the numbers: {twiml}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_threads").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 2);
    // STOP and START.
    let mut stop = first;
    stop[0] = ("MessageSid", "SM00000000000000000000000000000003");
    stop[4] = ("Body", " stop ");
    let (status, twiml) = signed(&app, &stop).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!twiml.contains("<Message>"), "Twilio confirms STOP itself");
    assert_eq!(count(&app, "SELECT opted_out FROM sms_threads").await, 1);
    let mut start = first;
    start[0] = ("MessageSid", "SM00000000000000000000000000000004");
    start[4] = ("Body", "START");
    signed(&app, &start).await;
    assert_eq!(count(&app, "SELECT opted_out FROM sms_threads").await, 0);

    // A signed request without a sender is a 400 naming it; a 10 MB body is refused
    // before anything reads it.
    let no_sender = [
        ("MessageSid", "SM00000000000000000000000000000005"),
        ("Body", "x"),
    ];
    let (status, error) = signed(&app, &no_sender).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error.contains("From"), "{error}");
    let huge = "a".repeat(10 * 1024 * 1024);
    let mut flood = first;
    flood[0] = ("MessageSid", "SM00000000000000000000000000000006");
    flood[4] = ("Body", &huge);
    let signature = twilio_signature(TOKEN, &url, &flood);
    let answer = app
        .client
        .post(app.url("/webhooks/twilio/sms"))
        .header("x-twilio-signature", signature)
        .form(&flood)
        .send()
        .await;
    // The server answers 413 as soon as the limit is passed and may close the
    // connection while the rest is still being sent.
    if let Ok(response) = answer {
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_messages").await, 4);
    let (status, _) = signed(&app, &first).await;
    assert_eq!(status, StatusCode::OK, "the line still answers");
    app.shutdown().await;

    // Without an auth token configured, nothing is taken.
    let app = TestApp::spawn(backend).await;
    let (status, _) = signed(&app, &first).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.shutdown().await;
}

async fn post_json(app: &TestApp, who: &Session, path: &str, body: &Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(path))
        .header("cookie", &who.cookie)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A case opened by a contact, for the tests below.
async fn open_case(app: &TestApp, advocate: &Session, key: &str) -> String {
    let (status, recorded) = post_contact(app, advocate, Some(key), &call("+1 559 555 0177")).await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    recorded["case_id"].as_str().unwrap().to_owned()
}

async fn screening_suggests_a_level_and_alerts_supervisors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let supervisor = app.signed_in(Role::HotlineSupervisor, None).await;
    let adult_case = open_case(&app, &advocate, "screen-case-adult").await;
    let minor_case = open_case(&app, &advocate, "screen-case-minor").await;
    let screen = |case: &str| format!("/api/v1/hotline/cases/{case}/screenings");

    // One means of control with labor: moderate, labor, no alert.
    let (status, screened) = post_json(&app, &advocate, &screen(&adult_case), &json!({
        "answers": {"age-adult": "yes", "documents-held": "yes", "never-paid": "yes", "physical-harm": "no"}
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{screened}");
    assert_eq!(screened["suggested_level"], "moderate", "{screened}");
    assert_eq!(screened["suggested_type"], "labor");
    assert_eq!(screened["alerts_raised"], json!([]));
    // Force and fraud with labor: high, and the supervisors are alerted once.
    let high = json!({"answers": {"age-adult": "yes", "locked-in": "yes", "job-differs": "yes"}, "language": "es"});
    let (_, screened) = post_json(&app, &advocate, &screen(&adult_case), &high).await;
    assert_eq!(screened["suggested_level"], "high", "{screened}");
    assert_eq!(screened["alerts_raised"], json!(["high-indicators"]));
    assert!(
        screened["reasons"][0]["items"].as_array().unwrap().len() >= 2,
        "{screened}"
    );
    let (_, again) = post_json(&app, &advocate, &screen(&adult_case), &high).await;
    assert_eq!(
        again["alerts_raised"],
        json!([]),
        "one alert per case and kind"
    );

    // A minor in commercial sex is trafficking whatever else is answered.
    let (_, minor) = post_json(&app, &advocate, &screen(&minor_case), &json!({
        "answers": {"age-minor": "yes", "commercial-sex": "yes", "threat-harm": "no", "locked-in": "no", "job-differs": "no"}
    })).await;
    assert_eq!(minor["suggested_level"], "high", "{minor}");
    assert_eq!(minor["suggested_type"], "sex");
    assert_eq!(minor["reasons"][0]["rule"], "minor-in-commercial-sex");
    assert_eq!(
        minor["alerts_raised"],
        json!(["high-indicators", "minor-involved"])
    );

    // Contradicting answers, unknown questions and bad answers are named; nothing stored.
    let (status, error) = post_json(
        &app,
        &advocate,
        &screen(&adult_case),
        &json!({
            "answers": {"age-adult": "yes", "age-minor": "yes"}
        }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["fields"]["item/age-minor"].is_string(),
        "{error}"
    );
    for bad in [
        json!({"answers": {"made-up": "yes"}}),
        json!({"answers": {"locked-in": "maybe"}}),
    ] {
        let (status, _) = post_json(&app, &advocate, &screen(&adult_case), &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_screenings").await,
        4
    );
    let (status, _) = post_json(
        &app,
        &advocate,
        &screen("018f0000-0000-7000-8000-000000000000"),
        &high,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The supervisor sees three open alerts and takes one; advocates do not see them.
    let alerts: Value = app
        .get_as(&supervisor, "/api/v1/hotline/alerts")
        .await
        .json()
        .await
        .unwrap();
    let alerts = alerts.as_array().unwrap().clone();
    assert_eq!(alerts.len(), 3, "{alerts:?}");
    assert_eq!(
        app.get_as(&advocate, "/api/v1/hotline/alerts")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let take = format!(
        "/api/v1/hotline/alerts/{}/acknowledge",
        alerts[0]["id"].as_str().unwrap()
    );
    let (status, _) = post_json(&app, &supervisor, &take, &json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = post_json(&app, &supervisor, &take, &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "taken already");
    let open: Value = app
        .get_as(&supervisor, "/api/v1/hotline/alerts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open.as_array().unwrap().len(), 2);
    let answers: String = sqlx::query_scalar("SELECT answers FROM hotline_screenings LIMIT 1")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert!(
        !answers.contains("\"locked-in\"") && !answers.contains("\"yes\""),
        "answers are sealed"
    );
    app.shutdown().await;
}

async fn reports_carry_identifying_details_only_as_the_consent_rule_allows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let case = open_case(&app, &advocate, "report-case-1").await;
    let path = format!("/api/v1/hotline/cases/{case}/reports");
    let report = |subject: &str, consent: bool, danger: bool, reason: Option<&str>| {
        json!({
            "agency": "law-enforcement", "agency_name": "Fresno Police Department",
            "method": "phone", "subject": subject, "consent": consent,
            "imminent_danger": danger, "override_reason": reason,
            "subject_name": "Rosa Example", "subject_phone": "559-555-0177",
            "subject_address": "12 Orchard Rd", "description": "Held at the packing shed",
            "city": "Fresno", "state": "CA", "trafficking_type": "labor"
        })
    };
    // An adult who consents: identifying details go.
    let (status, sent) =
        post_json(&app, &advocate, &path, &report("adult", true, false, None)).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["basis"], "consent");
    assert_eq!(sent["document"]["subject_name"], "Rosa Example");
    // An adult who does not: only what does not identify them, even with a reason.
    let (_, sent) = post_json(
        &app,
        &advocate,
        &path,
        &report("adult", false, false, Some("The caller is worried")),
    )
    .await;
    assert_eq!(sent["basis"], "non-identifying", "{sent}");
    for field in [
        "subject_name",
        "subject_phone",
        "subject_address",
        "description",
    ] {
        assert!(sent["document"][field].is_null(), "{field}: {sent}");
    }
    assert_eq!(sent["document"]["city"], "Fresno");
    // An adult in imminent danger, or a minor, without consent: a reason is required…
    for (subject, danger) in [("adult", true), ("minor", false)] {
        let (status, error) = post_json(
            &app,
            &advocate,
            &path,
            &report(subject, false, danger, None),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{subject}");
        assert!(
            error["error"]["fields"]["override_reason"].is_string(),
            "{error}"
        );
        let (status, _) = post_json(
            &app,
            &advocate,
            &path,
            &report(subject, false, danger, Some("n/a")),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a token reason is not a reason"
        );
    }
    // …and with one, the report goes identified, the reason kept sealed.
    let reason = "Caller says the crew leader has a gun and threatened her tonight";
    let (status, sent) = post_json(
        &app,
        &advocate,
        &path,
        &report("adult", false, true, Some(reason)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["basis"], "override");
    assert_eq!(sent["document"]["subject_name"], "Rosa Example");
    assert!(
        sent["must_notify"]
            .as_array()
            .unwrap()
            .contains(&json!("law-enforcement")),
        "{sent}"
    );
    let (_, sent) = post_json(
        &app,
        &advocate,
        &path,
        &report(
            "minor",
            false,
            false,
            Some("She is fifteen and sold online"),
        ),
    )
    .await;
    assert_eq!(sent["basis"], "override", "{sent}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM hotline_reports").await, 4);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'hotline.report.send'"
        )
        .await,
        4
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT document FROM hotline_reports")
        .fetch_all(app.db.reader())
        .await
        .unwrap();
    assert!(
        stored.iter().all(|d| !d.contains("Rosa")),
        "documents are sealed"
    );
    // Bad input names the field.
    let mut bad = report("adult", true, false, None);
    bad["agency"] = json!("fbi");
    let (status, error) = post_json(&app, &advocate, &path, &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"]["fields"]["agency"].is_string(), "{error}");
    app.shutdown().await;
}

/// A staff account, by id.
async fn staff(app: &TestApp, role: Role) -> String {
    use atip::accounts::model::{Email, NewUser};
    let email = format!(
        "{}-{}@example.org",
        role.id(),
        uuid::Uuid::now_v7().simple()
    );
    atip::accounts::service::create_user(
        &app.db,
        &app.crypto,
        NewUser {
            email: Email::parse(&email).unwrap(),
            display_name: "Shift Worker".into(),
            phone: None,
            roles: vec![role],
            organization: None,
            password: atip::kernel::auth::password::Password::new(
                "lantern orchard velvet canyon".into(),
            ),
        },
    )
    .await
    .unwrap()
    .to_string()
}

async fn coverage_shows_every_hour_without_an_advocate_or_a_supervisor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let supervisor = app.signed_in(Role::HotlineSupervisor, None).await;
    let (ana, ben, sam) = (
        staff(&app, Role::HotlineAdvocate).await,
        staff(&app, Role::HotlineAdvocate).await,
        staff(&app, Role::HotlineSupervisor).await,
    );
    let shift = |user: &str, role: &str, start: &str, end: &str| json!({"user_id": user, "role": role, "starts_at": start, "ends_at": end});
    for body in [
        shift(
            &ana,
            "advocate",
            "2030-01-07T00:00:00Z",
            "2030-01-07T12:00:00Z",
        ),
        shift(
            &ben,
            "advocate",
            "2030-01-07T12:00:00Z",
            "2030-01-08T00:00:00Z",
        ),
        shift(
            &sam,
            "supervisor",
            "2030-01-07T00:00:00Z",
            "2030-01-08T00:00:00Z",
        ),
        // Half an hour at the start of the second day: that hour still has a gap.
        shift(
            &ana,
            "advocate",
            "2030-01-08T00:00:00Z",
            "2030-01-08T00:30:00Z",
        ),
    ] {
        let (status, id) = post_json(&app, &supervisor, "/api/v1/hotline/shifts", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{id}");
    }
    // Refused: a role the person does not hold, a shift ending before it starts, a
    // shift of 30 hours, a made-up account.
    for (body, field) in [
        (
            shift(
                &ana,
                "supervisor",
                "2030-01-09T00:00:00Z",
                "2030-01-09T08:00:00Z",
            ),
            "user_id",
        ),
        (
            shift(
                &ana,
                "advocate",
                "2030-01-09T08:00:00Z",
                "2030-01-09T00:00:00Z",
            ),
            "ends_at",
        ),
        (
            shift(
                &ana,
                "advocate",
                "2030-01-09T00:00:00Z",
                "2030-01-10T06:00:00Z",
            ),
            "ends_at",
        ),
        (
            shift(
                "018f0000-0000-7000-8000-000000000000",
                "advocate",
                "2030-01-09T00:00:00Z",
                "2030-01-09T08:00:00Z",
            ),
            "user_id",
        ),
    ] {
        let (status, error) = post_json(&app, &supervisor, "/api/v1/hotline/shifts", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error["error"]["fields"][field].is_string(), "{error}");
    }
    let view: Value = app
        .get_as(
            &supervisor,
            "/api/v1/hotline/coverage?from=2030-01-07T00:20:00Z",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        view["from"], "2030-01-07T00:00:00Z",
        "the window starts on the hour"
    );
    let hours = view["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 14 * 24);
    assert_eq!(view["advocate_gap_hours"], 14 * 24 - 24, "{}", hours[24]);
    assert_eq!(view["supervisor_gap_hours"], 14 * 24 - 24);
    assert_eq!(hours[11]["advocates"], 1);
    assert_eq!(hours[11]["advocate_gap"], false);
    assert_eq!(hours[24]["advocates"], 1, "someone works part of it");
    assert_eq!(hours[24]["advocate_gap"], true);
    assert_eq!(hours[24]["supervisor_gap"], true);
    // Advocates see coverage; they do not schedule.
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    assert_eq!(
        app.get_as(&advocate, "/api/v1/hotline/coverage")
            .await
            .status(),
        StatusCode::OK
    );
    let (status, _) = post_json(
        &app,
        &advocate,
        "/api/v1/hotline/shifts",
        &shift(
            &ana,
            "advocate",
            "2030-01-09T00:00:00Z",
            "2030-01-09T08:00:00Z",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_as(&supervisor, "/api/v1/hotline/coverage?from=soon")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    app.shutdown().await;
}

async fn referrals_are_followed_up_until_their_outcome_is_known(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_directory().await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let (_, contact) = post_contact(
        &app,
        &advocate,
        Some("referral-contact"),
        &call("+1 559 555 0188"),
    )
    .await;
    let contact = contact["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/hotline/contacts/{contact}/referrals");
    let legal = "22222222-aaaa-4222-8222-222222222222";
    let referral = |kind: &str, capacity: Option<&str>, service: &str| {
        json!({
            "service_id": service, "urgency": "urgent", "kind": kind,
            "partner_capacity": capacity, "follow_up_due": "2026-12-01",
            "notes": "Spoke with the duty attorney"
        })
    };
    let (status, error) = post_json(
        &app,
        &advocate,
        &path,
        &referral("warm-transfer", None, legal),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["fields"]["partner_capacity"].is_string(),
        "{error}"
    );
    let (status, error) = post_json(
        &app,
        &advocate,
        &path,
        &referral("information", None, "no-such-service"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["fields"]["service_id"].is_string(),
        "{error}"
    );
    let (status, _) = post_json(
        &app,
        &advocate,
        "/api/v1/hotline/contacts/018f0000-0000-7000-8000-000000000000/referrals",
        &referral("information", None, legal),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, id) = post_json(
        &app,
        &advocate,
        &path,
        &referral("warm-transfer", Some("accepted"), legal),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{id}");
    let id = id.as_str().unwrap().to_owned();
    let notes: String = sqlx::query_scalar("SELECT notes FROM hotline_referrals")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert!(!notes.contains("attorney"), "notes are sealed");

    let due = |date: &'static str| {
        let app = &app;
        let advocate = &advocate;
        async move {
            let list: Value = app
                .get_as(
                    advocate,
                    &format!("/api/v1/hotline/follow-ups?due_by={date}"),
                )
                .await
                .json()
                .await
                .unwrap();
            list.as_array().unwrap().clone()
        }
    };
    assert!(due("2026-11-30").await.is_empty(), "not due yet");
    let list = due("2026-12-01").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["service_name"], "Immigration legal services");
    let outcome = format!("/api/v1/hotline/referrals/{id}/outcome");
    let (status, _) = post_json(&app, &advocate, &outcome, &json!({"outcome": "lost"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post_json(&app, &advocate, &outcome, &json!({"outcome": "served"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(due("2026-12-31").await.is_empty(), "followed up");
    let (status, _) = post_json(
        &app,
        &advocate,
        "/api/v1/hotline/referrals/018f0000-0000-7000-8000-000000000000/outcome",
        &json!({"outcome": "served"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

/// What a stand-in for Twilio's REST API was sent: the Authorization header and the form.
pub(crate) type Sent = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// A local stand-in for Twilio's REST API that records each message it is asked to send.
pub(crate) async fn twilio_recorder() -> (String, Sent) {
    use axum::extract::State;
    let sent: Sent = Sent::default();
    let app = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            axum::routing::post(
                |State(sent): State<Sent>, headers: axum::http::HeaderMap, body: String| async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let form = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                    let mut sent = sent.lock().unwrap();
                    sent.push((auth, form));
                    axum::Json(json!({"sid": format!("SMsent{:026}", sent.len())}))
                },
            ),
        )
        .with_state(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), sent)
}

async fn advocates_reply_by_text_unless_the_person_opted_out(backend: Backend) {
    let (api, sent) = twilio_recorder().await;
    let app = TestApp::spawn_with(backend, |config| {
        config.twilio_auth_token = Some(atip::kernel::config::Secret::new(TOKEN));
        config.twilio_account_sid = Some("AC0123".to_owned());
        config.twilio_api_base.clone_from(&api);
        config.public_base_url = Some(BASE.to_owned());
    })
    .await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let first = [
        ("MessageSid", "SM00000000000000000000000000000011"),
        ("From", "+15595550123"),
        ("Body", "are you there?"),
    ];
    signed(&app, &first).await;
    let thread: String = sqlx::query_scalar("SELECT id FROM sms_threads")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let path = format!("/api/v1/hotline/sms/threads/{thread}/messages");
    let (status, id) = post_json(
        &app,
        &advocate,
        &path,
        &json!({"body": "Yes. Are you safe to text now?"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{id}");
    {
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        let (auth, form) = &sent[0];
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("AC0123:{TOKEN}"));
        assert_eq!(auth, &format!("Basic {expected}"));
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(field("To"), Some("+15595550123"));
        assert_eq!(field("From"), Some("233733"));
        assert_eq!(field("Body"), Some("Yes. Are you safe to text now?"));
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM sms_messages WHERE direction = 'outbound'"
        )
        .await,
        1
    );
    let (status, _) = post_json(&app, &advocate, &path, &json!({"body": "   "})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post_json(
        &app,
        &advocate,
        "/api/v1/hotline/sms/threads/018f0000-0000-7000-8000-000000000000/messages",
        &json!({"body": "hello"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // After STOP nothing goes out.
    let stop = [
        ("MessageSid", "SM00000000000000000000000000000012"),
        ("From", "+15595550123"),
        ("Body", "STOP"),
    ];
    signed(&app, &stop).await;
    let (status, _) = post_json(&app, &advocate, &path, &json!({"body": "Still there?"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(sent.lock().unwrap().len(), 1);
    app.shutdown().await;

    // Without a Twilio account nothing can be sent.
    let app = TestApp::spawn_with(backend, |config| {
        config.twilio_auth_token = Some(atip::kernel::config::Secret::new(TOKEN));
        config.public_base_url = Some(BASE.to_owned());
    })
    .await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    signed(&app, &first).await;
    let thread: String = sqlx::query_scalar("SELECT id FROM sms_threads")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let (status, _) = post_json(
        &app,
        &advocate,
        &format!("/api/v1/hotline/sms/threads/{thread}/messages"),
        &json!({"body": "hello"}),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    app.shutdown().await;
}

async fn indicators_count_the_periods_records(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let case = open_case(&app, &advocate, "indicators-1").await;
    let mut text = call("+1 559 555 0190");
    text["channel"] = json!("sms");
    text["reasons"] = json!(["tip"]);
    text["new_case"] = Value::Null;
    text["case_id"] = json!(case);
    let (status, _) = post_contact(&app, &advocate, Some("indicators-2"), &text).await;
    assert_eq!(status, StatusCode::CREATED);
    post_json(
        &app,
        &advocate,
        &format!("/api/v1/hotline/cases/{case}/screenings"),
        &json!({"answers": {"age-adult": "yes", "locked-in": "yes", "job-differs": "yes"}}),
    )
    .await;
    let analyst = app.signed_in(Role::Analyst, None).await;
    let all: Value = app
        .get_as(
            &analyst,
            "/api/v1/hotline/indicators?from=2000-01-01&to=2100-01-01",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["signals"], 2, "{all}");
    assert_eq!(all["signals_by_channel"], json!({"phone": 1, "sms": 1}));
    assert_eq!(
        all["signals_by_reason"],
        json!({"crisis": 1, "referral-request": 1, "tip": 1})
    );
    assert_eq!(all["cases"], 1);
    assert_eq!(all["cases_by_indicator_level"], json!({"high": 1}));
    let later: Value = app
        .get_as(
            &analyst,
            "/api/v1/hotline/indicators?from=2026-11-30&to=2026-12-01",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["signals"], 0, "{later}");
    assert_eq!(
        app.get_as(
            &analyst,
            "/api/v1/hotline/indicators?from=2026-12-01&to=2026-11-01"
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get_as(&advocate, "/api/v1/hotline/indicators")
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "advocates take contacts; the numbers are for supervisors and the program"
    );
    app.shutdown().await;
}

/// A checklist with every step done but the last two, skipped for a reason.
pub fn checklist() -> Value {
    let done = json!({"done_at": "2026-11-29T03:25:00Z"});
    json!({"steps": {
        "emergency-services-called": done,
        "law-enforcement-called": done,
        "supervisor-alerted": done,
        "emergency-shelter-requested": done,
        "extraction-requested": {"skipped": "She is already away from the farm"},
        "transportation-requested": {"skipped": "Her cousin Rosa is driving her"}
    }})
}

async fn a_crisis_checklist_records_every_step_and_alerts_supervisors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let supervisor = app.signed_in(Role::HotlineSupervisor, None).await;
    let (_, contact) =
        post_contact(&app, &advocate, Some("crisis-1"), &call("+1 559 555 0191")).await;
    let path = format!(
        "/api/v1/hotline/contacts/{}/crisis",
        contact["id"].as_str().unwrap()
    );
    let mut partial = checklist();
    partial["steps"]
        .as_object_mut()
        .unwrap()
        .remove("supervisor-alerted");
    partial["steps"]["extraction-requested"] = json!({"skipped": "no"});
    let (status, error) = post_json(&app, &advocate, &path, &partial).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields = error["error"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("steps.supervisor-alerted")
            && fields.contains_key("steps.extraction-requested"),
        "{error}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_crisis_steps").await,
        0
    );
    let (status, raised) = post_json(&app, &advocate, &path, &checklist()).await;
    assert_eq!(status, StatusCode::CREATED, "{raised}");
    assert_eq!(raised, json!(["imminent-danger"]));
    let (_, again) = post_json(&app, &advocate, &path, &checklist()).await;
    assert_eq!(again, json!([]), "one alert per case");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_crisis_steps").await,
        6
    );
    let reasons: Vec<Option<String>> =
        sqlx::query_scalar("SELECT skipped_reason FROM hotline_crisis_steps")
            .fetch_all(app.db.reader())
            .await
            .unwrap();
    assert!(
        reasons.iter().flatten().all(|r| !r.contains("Rosa")),
        "reasons are sealed"
    );
    let alerts: Value = app
        .get_as(&supervisor, "/api/v1/hotline/alerts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts[0]["kind"], "imminent-danger", "{alerts}");
    let numbers: Value = app
        .get_as(
            &supervisor,
            "/api/v1/hotline/indicators?from=2026-11-29&to=2026-11-30",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(numbers["emergency_requests"], 1, "{numbers}");
    let (status, _) = post_json(
        &app,
        &advocate,
        "/api/v1/hotline/contacts/018f0000-0000-7000-8000-000000000000/crisis",
        &checklist(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The supervisor reviews the contact; advocates do not review.
    let reviews = format!(
        "/api/v1/hotline/contacts/{}/reviews",
        contact["id"].as_str().unwrap()
    );
    let good = json!({"score": 5, "comments": "Calm, every step recorded"});
    let (status, _) = post_json(&app, &advocate, &reviews, &good).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post_json(&app, &supervisor, &reviews, &json!({"score": 9})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post_json(&app, &supervisor, &reviews, &good).await;
    assert_eq!(status, StatusCode::CREATED);
    let comments: String = sqlx::query_scalar("SELECT comments FROM hotline_reviews")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert!(!comments.contains("Calm"), "comments are sealed");
    app.shutdown().await;
}

async fn cases_naming_the_same_person_or_number_are_suggested(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let first = open_case(&app, &advocate, "identify-1").await;
    let second = open_case(&app, &advocate, "identify-2").await;
    let identify = |case: &str| format!("/api/v1/hotline/cases/{case}/identifiers");
    // A crew leader's number and website named in the first case.
    let (status, related) = post_json(
        &app,
        &advocate,
        &identify(&first),
        &json!({"kind": "phone", "value": "(559) 555-0102"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{related}");
    post_json(
        &app,
        &advocate,
        &identify(&first),
        &json!({"kind": "website", "value": "https://www.fieldjobs.example/apply"}),
    )
    .await;
    // The second case names the same site, written differently: the first is suggested.
    let (_, related) = post_json(
        &app,
        &advocate,
        &identify(&second),
        &json!({"kind": "website", "value": "fieldjobs.example/apply/"}),
    )
    .await;
    assert_eq!(related, json!([first]), "{related}");
    // That number calls the hotline: the case naming it is offered.
    let mut call_in = call("+15595550102");
    call_in["new_case"] = Value::Null;
    let (_, contact) = post_contact(&app, &advocate, Some("identify-3"), &call_in).await;
    assert!(
        contact["related_cases"]
            .as_array()
            .unwrap()
            .contains(&json!(first)),
        "{contact}"
    );
    // Bad values are named; an unknown case is 404; values are sealed.
    let (status, error) = post_json(
        &app,
        &advocate,
        &identify(&first),
        &json!({"kind": "email", "value": "not an email"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"]["fields"]["value"].is_string(), "{error}");
    let (status, _) = post_json(
        &app,
        &advocate,
        &identify("018f0000-0000-7000-8000-000000000000"),
        &json!({"kind": "plate", "value": "7ABC123"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let values: Vec<String> = sqlx::query_scalar("SELECT value FROM hotline_case_identifiers")
        .fetch_all(app.db.reader())
        .await
        .unwrap();
    assert!(
        values
            .iter()
            .all(|v| !v.contains("fieldjobs.example") && !v.contains("(559)")),
        "sealed"
    );
    app.shutdown().await;
}

/// Holds the write that every audited save ends with (the audit chain's counter; on
/// SQLite the one writer), so that what is sent meanwhile waits for the writer together.
async fn hold_the_writer(app: &TestApp) -> sqlx::Transaction<'static, sqlx::Any> {
    let mut hold = app.db.writer().begin().await.unwrap();
    sqlx::query("UPDATE counters SET value = value WHERE name = 'audit'")
        .execute(&mut *hold)
        .await
        .unwrap();
    hold
}

/// What came back for one request sent in a burst: status, body, request id.
type Answer = (StatusCode, Value, String);

async fn post_contact_answer(
    client: reqwest::Client,
    url: String,
    who: Session,
    key: String,
    body: Value,
) -> Answer {
    let response = client
        .post(url)
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        request_id,
    )
}

async fn contacts_waiting_together_each_end_as_if_sent_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.signed_in(Role::HotlineAdvocate, None).await;
    let b = app.signed_in(Role::HotlineAdvocate, None).await;
    let (status, earlier) =
        post_contact(&app, &a, Some("earlier-key-1"), &call("+15595550100")).await;
    assert_eq!(status, StatusCode::CREATED, "{earlier}");
    let case = earlier["case_id"].as_str().unwrap().to_owned();

    let mut burst: Vec<(&str, &Session, String, Value)> = Vec::new();
    for i in 0..8 {
        burst.push((
            "new",
            &a,
            format!("new-key-{i}"),
            call(&format!("+1559555020{i}")),
        ));
    }
    for i in 0..3 {
        for _ in 0..2 {
            burst.push(("twin", &a, format!("twin-key-{i}"), call("+15595550300")));
        }
    }
    let mut clash = call("+15595550400");
    burst.push(("clash", &a, "clash-key-1".into(), clash.clone()));
    clash["narrative"] = json!("Another call under the same key");
    burst.push(("clash", &a, "clash-key-1".into(), clash));
    // Keys belong to their advocate: another one may use the same.
    burst.push((
        "other-advocate",
        &b,
        "new-key-0".into(),
        call("+15595550500"),
    ));
    burst.push(("earlier", &a, "earlier-key-1".into(), call("+15595550100")));
    let mut unknown = call("+15595550600");
    unknown["new_case"] = Value::Null;
    unknown["case_id"] = json!("018f0000-0000-7000-8000-000000000000");
    burst.push(("unknown-case", &a, "unknown-case-key".into(), unknown));
    for i in 0..3 {
        let mut linked = call(&format!("+1559555070{i}"));
        linked["new_case"] = Value::Null;
        linked["case_id"] = json!(case);
        burst.push(("linked", &a, format!("linked-key-{i}"), linked));
    }

    let hold = hold_the_writer(&app).await;
    let mut sent = tokio::task::JoinSet::new();
    for (n, (label, who, key, body)) in burst.into_iter().enumerate() {
        let request = post_contact_answer(
            app.client.clone(),
            app.url("/api/v1/hotline/contacts"),
            who.clone(),
            key,
            body,
        );
        sent.spawn(async move { (n, label, request.await) });
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    hold.rollback().await.unwrap();
    let mut answers: Vec<(usize, &str, Answer)> = sent.join_all().await;
    answers.sort_by_key(|(n, _, _)| *n);

    let of = |label: &str| -> Vec<&Answer> {
        answers
            .iter()
            .filter(|(_, l, _)| *l == label)
            .map(|(_, _, answer)| answer)
            .collect()
    };
    for (status, body, _) in of("new").into_iter().chain(of("other-advocate")) {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(body["replayed"], false);
    }
    for pair in of("twin").chunks(2) {
        assert_eq!(pair[0].1["id"], pair[1].1["id"], "one contact per key");
        let mut statuses = [pair[0].0, pair[1].0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED]);
    }
    let mut clash: Vec<StatusCode> = of("clash").iter().map(|a| a.0).collect();
    clash.sort();
    assert_eq!(clash, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let (status, again, _) = of("earlier")[0];
    assert_eq!(*status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], earlier["id"]);
    let (status, refused, _) = of("unknown-case")[0];
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"]["fields"]["case_id"].is_string(),
        "{refused}"
    );
    for (status, body, _) in of("linked") {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(body["case_id"], json!(case));
    }
    let ids: std::collections::HashSet<&str> = of("new")
        .into_iter()
        .chain(of("other-advocate"))
        .filter_map(|a| a.1["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 9, "each new key is its own contact");

    // Everything once: 1 before, 8 new, 3 twins, 1 clash, 1 of the other advocate and
    // 3 linked; each but the linked ones opened a case.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_contacts").await,
        17
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM hotline_cases").await, 14);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'hotline.contact.create'"
        )
        .await,
        17
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'hotline.case.open'"
        )
        .await,
        14
    );
    atip::kernel::audit::verify(&app.db).await.unwrap();
    // Each contact's audit event names the request that sent it.
    for (status, body, request_id) in answers.iter().map(|(_, _, a)| a) {
        if *status != StatusCode::CREATED {
            continue;
        }
        let recorded: Option<String> = sqlx::query_scalar(
            "SELECT request_id FROM audit_events WHERE action = 'hotline.contact.create' AND object_id = $1",
        )
        .bind(body["id"].as_str().unwrap())
        .fetch_one(app.db.reader())
        .await
        .unwrap();
        assert_eq!(recorded.as_deref(), Some(request_id.as_str()));
    }
    // They waited together and were written together: the events of one batch share
    // their time.
    let batches = count(
        &app,
        "SELECT COUNT(DISTINCT at) FROM audit_events WHERE action = 'hotline.contact.create'",
    )
    .await;
    assert!(batches <= 5, "16 saves in {batches} transactions");
    app.shutdown().await;
}

async fn texts_waiting_together_each_end_as_if_sent_alone(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.twilio_auth_token = Some(atip::kernel::config::Secret::new(TOKEN));
        config.public_base_url = Some(BASE.to_owned());
    })
    .await;
    let text_from = |sid: String, from: &str, body: &str| {
        vec![
            ("MessageSid".to_owned(), sid),
            ("From".to_owned(), from.to_owned()),
            ("Body".to_owned(), body.to_owned()),
        ]
    };
    // A thread that exists before.
    let known = text_from("SMknown0".into(), "+15595550800", "hello");
    let pairs: Vec<(&str, &str)> = known
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _) = signed(&app, &pairs).await;
    assert_eq!(status, StatusCode::OK);

    let mut burst: Vec<(&str, Vec<(String, String)>)> = Vec::new();
    for i in 0..6 {
        burst.push((
            "new-sender",
            text_from(format!("SMnew{i}"), "+15595550801", "are you there"),
        ));
    }
    for _ in 0..4 {
        burst.push((
            "retried",
            text_from("SMretried".into(), "+15595550802", "help me please"),
        ));
    }
    burst.push(("stop", text_from("SMstop".into(), "+15595550803", "STOP")));
    for i in 0..3 {
        burst.push((
            "known",
            text_from(format!("SMknown{}", i + 1), "+15595550800", "me again"),
        ));
    }

    let hold = hold_the_writer(&app).await;
    let mut sent = tokio::task::JoinSet::new();
    let url = format!("{BASE}/webhooks/twilio/sms");
    for (label, params) in burst {
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let signature = twilio_signature(TOKEN, &url, &pairs);
        let request = app
            .client
            .post(app.url("/webhooks/twilio/sms"))
            .header("x-twilio-signature", signature)
            .form(&params);
        sent.spawn(async move {
            let response = request.send().await.unwrap();
            (label, response.status(), response.text().await.unwrap())
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    hold.rollback().await.unwrap();
    let answers = sent.join_all().await;
    assert!(
        answers
            .iter()
            .all(|(_, status, _)| *status == StatusCode::OK)
    );
    let welcomed = |label: &str| {
        answers
            .iter()
            .filter(|(l, _, twiml)| *l == label && twiml.contains("Thank you for reaching out"))
            .count()
    };
    // A new sender's first text is welcomed, once, however many came together; a retried
    // text is one text, answered once; texts on a known thread wait for an advocate.
    assert_eq!(welcomed("new-sender"), 1);
    assert_eq!(welcomed("retried"), 1);
    assert_eq!(welcomed("known"), 0);
    assert_eq!(welcomed("stop"), 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_threads").await, 4);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM sms_messages").await,
        1 + 6 + 1 + 1 + 3
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM sms_threads WHERE opted_out = 1").await,
        1
    );
    app.shutdown().await;
}
