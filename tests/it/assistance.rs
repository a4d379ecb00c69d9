//! Technical assistance (a professional's question is taken on a contact, waits in the
//! consoles by topic and date only, and is answered once) and library documents texted
//! to callers who agreed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;
use atip::kernel::auth::Role;

on_both_databases! {
    a_professionals_question_is_tracked_until_it_is_answered;
    a_public_document_is_texted_only_to_a_caller_who_agreed;
    a_public_document_is_emailed_sealed_to_the_address_the_caller_gave;
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

async fn contact_with(app: &TestApp, who: &Session, phone: Option<&str>, safe: bool) -> String {
    let mut call = json!({
        "channel": "phone", "direction": "inbound", "started_at": "2026-11-29T15:00:00Z",
        "language": "en", "caller_type": "potential-victim", "reasons": ["resource-request"],
        "safe_to_call": safe
    });
    if let Some(phone) = phone {
        call["caller_phone"] = json!(phone);
    }
    let (status, recorded) = send(
        app,
        who,
        Method::POST,
        "/api/v1/hotline/contacts",
        Some(call),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    recorded["id"].as_str().unwrap().to_owned()
}

async fn a_public_document_is_emailed_sealed_to_the_address_the_caller_gave(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = app
        .library_documents(&[("Sus derechos en el trabajo", "es", "public")])
        .await
        .remove(0);
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    // A Spanish-speaking caller who said calling back is not safe, but gave an address.
    let (status, recorded) = send(
        &app,
        &advocate,
        Method::POST,
        "/api/v1/hotline/contacts",
        Some(json!({
            "channel": "phone", "direction": "inbound", "started_at": "2026-11-29T15:00:00Z",
            "language": "es", "caller_type": "potential-victim", "reasons": ["resource-request"],
            "safe_to_call": false
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    let path = format!(
        "/api/v1/hotline/contacts/{}/resources",
        recorded["id"].as_str().unwrap()
    );
    let address = "ines.quarrell-voss@example.org";
    let ask = |email: Option<&str>| json!({"document_id": document, "caller_agreed": true, "channel": "email", "email": email});
    for bad in [None, Some("ines at example")] {
        let (status, body) = send(&app, &advocate, Method::POST, &path, Some(ask(bad))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.to_string().contains("email"), "{body}");
    }
    let (status, job) = send(
        &app,
        &advocate,
        Method::POST,
        &path,
        Some(ask(Some(address))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");

    // The worker sends it to the outbox folder (no SMTP here), sealed.
    let files = app.outbox(1).await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().ends_with(".eml.sealed"));
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        !raw.contains("quarrell") && !raw.contains("derechos"),
        "{raw}"
    );
    let message = atip::kernel::mail::read_sealed_file(&app.crypto, &files[0])
        .await
        .unwrap();
    assert!(message.contains(&format!("To: {address}")), "{message}");
    assert!(message.contains("Subject: La"), "{message}");
    assert!(
        message.contains(&format!("/library/documents/{document}")),
        "{message}"
    );
    assert!(!message.to_lowercase().contains("trafic"), "{message}");
    // An operator reads it with the data folder's keys.
    let read = std::process::Command::new(env!("CARGO_BIN_EXE_atip"))
        .args(["mail", "read", "--data-dir"])
        .arg(app.fresh.dir.path())
        .args(["--database-url", app.fresh.url.expose()])
        .arg(&files[0])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&read.stdout), message);
    // Neither the queued job nor the record of the sending holds the address.
    for sql in [
        "SELECT payload FROM jobs WHERE kind = 'mail.send'",
        "SELECT recipient FROM hotline_resources_sent WHERE channel = 'email'",
    ] {
        let stored: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(app.db.reader())
            .await
            .unwrap();
        assert!(!stored.contains("quarrell"), "{sql}: {stored}");
    }
    let job_state: String = sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1")
        .bind(job.as_str().unwrap())
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(job_state, "done");
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'hotline.resource.send' AND detail LIKE '%channel=email'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

async fn a_public_document_is_texted_only_to_a_caller_who_agreed(backend: Backend) {
    use crate::hotline::{BASE, TOKEN};
    let (api, sent) = crate::hotline::twilio_recorder().await;
    let app = TestApp::spawn_with(backend, |config| {
        config.twilio_auth_token = Some(atip::kernel::config::Secret::new(TOKEN));
        config.twilio_account_sid = Some("AC0123".to_owned());
        config.twilio_api_base.clone_from(&api);
        config.public_base_url = Some(BASE.to_owned());
    })
    .await;
    let ids = app
        .library_documents(&[
            ("Know your rights", "en", "public"),
            ("Night protocol", "en", "internal"),
        ])
        .await;
    let (public, internal) = (ids[0].clone(), ids[1].clone());
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let contact = contact_with(&app, &advocate, Some("(559) 555-0177"), true).await;
    let path = format!("/api/v1/hotline/contacts/{contact}/resources");
    let ask =
        |document: &str, agreed: bool| json!({"document_id": document, "caller_agreed": agreed});

    let (status, _) = send(
        &app,
        &advocate,
        Method::POST,
        &path,
        Some(ask(&public, false)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(
        &app,
        &advocate,
        Method::POST,
        &path,
        Some(ask(&internal, true)),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "internal documents never leave"
    );
    let (status, sid) = send(
        &app,
        &advocate,
        Method::POST,
        &path,
        Some(ask(&public, true)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sid}");
    {
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        let field = |name: &str| {
            sent[0]
                .1
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(field("To"), "+15595550177");
        assert_eq!(
            field("Body"),
            format!("Know your rights: {BASE}/library/documents/{public}")
        );
    }
    // Not to a caller who said contact is unsafe, nor to one with no number.
    let unsafe_contact = contact_with(&app, &advocate, Some("+15595550178"), false).await;
    let (status, _) = send(
        &app,
        &advocate,
        Method::POST,
        &format!("/api/v1/hotline/contacts/{unsafe_contact}/resources"),
        Some(ask(&public, true)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let no_number = contact_with(&app, &advocate, None, true).await;
    let (status, _) = send(
        &app,
        &advocate,
        Method::POST,
        &format!("/api/v1/hotline/contacts/{no_number}/resources"),
        Some(ask(&public, true)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Nor after the number texted STOP.
    crate::hotline::signed(
        &app,
        &[
            ("MessageSid", "SM00000000000000000000000000000077"),
            ("From", "+15595550177"),
            ("Body", "STOP"),
        ],
    )
    .await;
    let (status, _) = send(
        &app,
        &advocate,
        Method::POST,
        &path,
        Some(ask(&public, true)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(sent.lock().unwrap().len(), 1);
    let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hotline_resources_sent")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(recorded, 1);

    // The console's text threads open a page with every text and a reply form.
    crate::hotline::signed(
        &app,
        &[
            ("MessageSid", "SM00000000000000000000000000000078"),
            ("From", "+15595550199"),
            ("Body", "is anyone there"),
        ],
    )
    .await;
    let panels = app
        .get_as(&advocate, "/hotline/console/panels")
        .await
        .text()
        .await
        .unwrap();
    let threads: Vec<String> = panels
        .split("href=\"/hotline/texts/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        threads.len(),
        1,
        "the opted-out thread is not listed: {panels}"
    );
    let page = format!("/hotline/texts/{}", threads[0]);
    let shown = app.get_as(&advocate, &page).await.text().await.unwrap();
    assert!(shown.contains("is anyone there") && shown.contains("+15595550199"));
    let reply = |body: &'static str| {
        app.client
            .post(app.url(&page))
            .header("cookie", &advocate.cookie)
            .form(&[("csrf", advocate.csrf.as_str()), ("body", body)])
            .send()
    };
    assert_eq!(reply("  ").await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        reply("Yes, I am here. Are you safe?")
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    let shown = app
        .get_as(&advocate, &format!("{page}?sent=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.contains("Your reply was sent.") && shown.contains("Yes, I am here."));
    assert_eq!(sent.lock().unwrap().len(), 2);
    let stopped: String = sqlx::query_scalar("SELECT id FROM sms_threads WHERE opted_out = 1")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let shown = app
        .get_as(&advocate, &format!("/hotline/texts/{stopped}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.contains("texted STOP") && !shown.contains("name=\"body\""));
}
