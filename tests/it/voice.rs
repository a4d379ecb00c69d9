//! The voice line's webhooks: signed by Twilio (signatures computed here, not by the
//! code under test), a language menu, the on-duty advocates rung together, a message
//! when no one can answer, and status callbacks that close the call with its length.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::hotline::twilio_signature;
use crate::on_both_databases;
use atip::accounts::model::{Email, NewUser, Phone};
use atip::accounts::service as accounts;
use atip::kernel::auth::Role;
use atip::kernel::auth::password::Password;

on_both_databases! {
    calls_are_answered_in_the_callers_language_by_the_advocates_on_duty;
}

const TOKEN: &str = "voice-auth-token-77d1";
const BASE: &str = "https://hotline.example.org";
const ADVOCATE_PHONE: &str = "+15550107777";

/// Posts a webhook signed for `path` (which may carry a query) as Twilio would.
async fn call(app: &TestApp, path: &str, params: &[(&str, &str)]) -> (StatusCode, String) {
    let signature = twilio_signature(TOKEN, &format!("{BASE}{path}"), params);
    post(app, path, Some(&signature), params).await
}

async fn post(
    app: &TestApp,
    path: &str,
    signature: Option<&str>,
    params: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut request = app.client.post(app.url(path)).form(params);
    if let Some(signature) = signature {
        request = request.header("x-twilio-signature", signature);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn row(app: &TestApp, sid: &str) -> (String, Option<String>, Option<String>, Option<i64>) {
    sqlx::query_as(
        "SELECT status, language, answered_by, duration_s FROM hotline_calls WHERE call_sid = $1",
    )
    .bind(sid)
    .fetch_one(app.db.reader())
    .await
    .unwrap()
}

async fn calls_are_answered_in_the_callers_language_by_the_advocates_on_duty(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.twilio_auth_token = Some(atip::kernel::config::Secret::new(TOKEN));
        config.public_base_url = Some(BASE.to_owned());
        config.text_line = "233733".into();
    })
    .await;
    let first = [("CallSid", "CA0001"), ("From", "+1 (559) 555-0142")];

    // Forged: unsigned, signed with another token, signed for the Host we were reached
    // at instead of the configured address, or signed over other parameters.
    assert_eq!(
        post(&app, "/webhooks/twilio/voice", None, &first).await.0,
        StatusCode::FORBIDDEN
    );
    let wrong_token = twilio_signature(
        "not-the-token",
        &format!("{BASE}/webhooks/twilio/voice"),
        &first,
    );
    assert_eq!(
        post(&app, "/webhooks/twilio/voice", Some(&wrong_token), &first)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let by_host = twilio_signature(TOKEN, &app.url("/webhooks/twilio/voice"), &first);
    assert_eq!(
        post(&app, "/webhooks/twilio/voice", Some(&by_host), &first)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let other = twilio_signature(
        TOKEN,
        &format!("{BASE}/webhooks/twilio/voice"),
        &[("CallSid", "CA9")],
    );
    assert_eq!(
        post(&app, "/webhooks/twilio/voice", Some(&other), &first)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let calls: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hotline_calls")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(calls, 0);

    // A call: the menu, once however often the webhook is retried.
    for _ in 0..2 {
        let (status, twiml) = call(&app, "/webhooks/twilio/voice", &first).await;
        assert_eq!(status, StatusCode::OK);
        assert!(twiml.contains("<Gather numDigits=\"1\""), "{twiml}");
        assert!(twiml.contains("oprima 2"));
    }
    let calls: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hotline_calls")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(calls, 1);
    // Sealed: hex after a version and key id (a bare '555' may occur in hex by chance).
    let plain: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hotline_calls WHERE caller NOT LIKE 'v1:%' OR caller LIKE '%5550142%'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(plain, 0, "the caller's number is sealed");

    // Spanish, with no one on duty: other ways to reach the hotline, then hang up.
    let (_, twiml) = call(
        &app,
        "/webhooks/twilio/voice/language",
        &[("CallSid", "CA0001"), ("Digits", "2")],
    )
    .await;
    assert!(
        twiml.contains("911") && twiml.contains("233733") && twiml.contains("<Hangup/>"),
        "{twiml}"
    );
    assert!(twiml.contains("language=\"es-MX\""));
    let (status, language, answered_by, _) = row(&app, "CA0001").await;
    assert_eq!(
        (status.as_str(), language.as_deref(), answered_by),
        ("unanswered", Some("es"), None)
    );

    // An advocate with a phone on file goes on duty.
    let advocate = accounts::create_user(
        &app.db,
        &app.crypto,
        NewUser {
            email: Email::parse("voice-advocate@example.org").unwrap(),
            display_name: "Voice Advocate".into(),
            phone: Some(Phone::parse(ADVOCATE_PHONE).unwrap()),
            roles: vec![Role::HotlineAdvocate],
            organization: None,
            password: Password::new("lantern orchard velvet canyon".into()),
        },
    )
    .await
    .unwrap()
    .to_string();
    let supervisor = app.signed_in(Role::HotlineSupervisor, None).await;
    let now = jiff::Timestamp::now();
    let shift = app
        .client
        .post(app.url("/api/v1/hotline/shifts"))
        .header("cookie", &supervisor.cookie)
        .json(&json!({
            "user_id": advocate, "role": "advocate",
            "starts_at": (now - jiff::SignedDuration::from_hours(1)).to_string(),
            "ends_at": (now + jiff::SignedDuration::from_hours(4)).to_string(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(shift.status(), StatusCode::CREATED);

    // English (nothing pressed): the advocate's phone rings; nothing is recorded.
    let second = [("CallSid", "CA0002"), ("From", "+15595550142")];
    call(&app, "/webhooks/twilio/voice", &second).await;
    let (_, twiml) = call(
        &app,
        "/webhooks/twilio/voice/language",
        &[("CallSid", "CA0002")],
    )
    .await;
    assert!(
        twiml.contains(&format!(">{ADVOCATE_PHONE}</Number>")),
        "{twiml}"
    );
    assert!(twiml.contains("record=\"do-not-record\""));
    assert!(!twiml.contains("<Record"));
    let answered_path = format!("/webhooks/twilio/voice/answered?advocate={advocate}");
    assert!(
        twiml.contains(&format!("url=\"{BASE}{answered_path}\"")),
        "{twiml}"
    );
    // They pick up, and hear the language before the caller is put through.
    let (status, whisper) = call(&app, &answered_path, &[("CallSid", "CA0002")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(whisper.contains("Hotline call in English."), "{whisper}");
    // The advocate in the URL is part of what is signed.
    let forged = twilio_signature(
        TOKEN,
        &format!("{BASE}{answered_path}"),
        &[("CallSid", "CA0002")],
    );
    let other_advocate =
        "/webhooks/twilio/voice/answered?advocate=0190a0a0-0000-7000-8000-000000000000";
    assert_eq!(
        post(
            &app,
            other_advocate,
            Some(&forged),
            &[("CallSid", "CA0002")]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (_, done) = call(
        &app,
        "/webhooks/twilio/voice/dialed",
        &[("CallSid", "CA0002"), ("DialCallStatus", "completed")],
    )
    .await;
    assert!(done.ends_with("<Response></Response>"), "{done}");
    // The status callback closes it with its length; a late repeat changes nothing.
    for duration in ["312", "999"] {
        let (status, _) = call(
            &app,
            "/webhooks/twilio/voice/status",
            &[
                ("CallSid", "CA0002"),
                ("CallStatus", "completed"),
                ("CallDuration", duration),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, language, answered_by, duration) = row(&app, "CA0002").await;
    assert_eq!(
        (
            status.as_str(),
            language.as_deref(),
            answered_by.as_deref(),
            duration
        ),
        ("completed", Some("en"), Some(advocate.as_str()), Some(312))
    );
    // It waits in the advocate's console to be written up.
    let session = app
        .sign_in(
            "voice-advocate@example.org",
            "lantern orchard velvet canyon",
        )
        .await;
    let panels = app
        .get_as(&session, "/hotline/console/panels")
        .await
        .text()
        .await
        .unwrap();
    assert!(panels.contains("Calls to write up (1)"), "{panels}");
    // The write-up form comes filled in from the call, and saving it links the two.
    let call_id = panels
        .split("/hotline/contacts/new?call=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let form = app
        .get_as(&session, &format!("/hotline/contacts/new?call={call_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("+15595550142"),
        "the caller's number is filled in"
    );
    let started_at = form
        .split("name=\"started_at\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let key = format!("call-{call_id}");
    let fields = [
        ("csrf", session.csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("call", call_id.as_str()),
        ("started_at", started_at.as_str()),
        ("channel", "phone"),
        ("direction", "inbound"),
        ("language", "en"),
        ("caller_type", "community-member"),
        ("reasons", "tip"),
    ];
    let saved = app
        .client
        .post(app.url("/hotline/contacts"))
        .header("cookie", &session.cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let linked: Option<String> =
        sqlx::query_scalar("SELECT contact_id FROM hotline_calls WHERE call_sid = 'CA0002'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert!(linked.is_some());
    let panels = app
        .get_as(&session, "/hotline/console/panels")
        .await
        .text()
        .await
        .unwrap();
    assert!(panels.contains("Calls to write up (0)"), "{panels}");
    // Another advocate cannot open it.
    let other = app.signed_in(Role::HotlineAdvocate, None).await;
    let refused = app
        .get_as(&other, &format!("/hotline/contacts/new?call={call_id}"))
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    // Rung and not answered: the message, and the call stays unanswered.
    call(&app, "/webhooks/twilio/voice", &[("CallSid", "CA0003")]).await;
    call(
        &app,
        "/webhooks/twilio/voice/language",
        &[("CallSid", "CA0003"), ("Digits", "1")],
    )
    .await;
    let (_, busy) = call(
        &app,
        "/webhooks/twilio/voice/dialed",
        &[("CallSid", "CA0003"), ("DialCallStatus", "no-answer")],
    )
    .await;
    assert!(busy.contains("<Hangup/>") && busy.contains("911"), "{busy}");
    call(
        &app,
        "/webhooks/twilio/voice/status",
        &[
            ("CallSid", "CA0003"),
            ("CallStatus", "completed"),
            ("CallDuration", "40"),
        ],
    )
    .await;
    let (status, _, answered_by, duration) = row(&app, "CA0003").await;
    assert_eq!(
        (status.as_str(), answered_by, duration),
        ("unanswered", None, Some(40))
    );
}
