//! The advocate's hotline pages: the contact form saves once per form, refuses a bad
//! field by name with nothing stored, screening, referral from the search, and the
//! consent rule on reports.

use atip::kernel::auth::Role;
use reqwest::StatusCode;

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;

on_both_databases! {
    the_contact_form_saves_one_contact_however_often_it_is_sent;
    a_bad_field_is_named_and_nothing_is_stored;
    strong_screening_answers_suggest_high;
    a_report_without_consent_waits_for_a_reason;
    a_referral_from_the_search_is_stored;
    the_report_form_suggests_agencies_listed_near_the_caller;
    a_document_is_sent_from_the_contact_page_only_as_the_caller_agreed;
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    html.split(start)
        .nth(1)
        .unwrap_or_else(|| panic!("{start:?} not in the page"))
        .split(end)
        .next()
        .unwrap()
}

async fn post_form(
    app: &TestApp,
    who: &Session,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf", who.csrf.as_str())];
    form.extend_from_slice(fields);
    app.client
        .post(app.url(path))
        .header("cookie", &who.cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

/// The form's hidden idempotency key and start time, as the browser would send them.
async fn fresh_form(app: &TestApp, who: &Session) -> (String, String) {
    let response = app.get_as(who, "/hotline/contacts/new").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let key = between(&html, "name=\"idempotency_key\" value=\"", "\"").to_owned();
    let started = between(&html, "name=\"started_at\" value=\"", "\"").to_owned();
    (key, started)
}

fn phone_call<'a>(key: &'a str, started: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("idempotency_key", key),
        ("started_at", started),
        ("danger", "on"),
        ("channel", "phone"),
        ("direction", "inbound"),
        ("caller_type", "potential-victim"),
        ("language", "es"),
        ("caller_city", "San Francisco"),
        ("caller_state", "CA"),
        ("heard_from", "radio"),
        ("reasons", "tip"),
        ("reasons", "referral-request"),
        (
            "narrative",
            "Works in a restaurant kitchen, passport kept by the owner",
        ),
        ("caller_phone", "+1 (415) 555-0142"),
        ("safe_to_call", "yes"),
        ("voicemail_ok", "no"),
        ("code_word", "tamales"),
        ("outcome", "referral-made"),
        ("new_case", "unknown"),
    ]
}

/// Takes a phone contact through the form; the contact's and its case's ids.
async fn take_contact(app: &TestApp, who: &Session) -> (String, String) {
    let (key, started) = fresh_form(app, who).await;
    let response = post_form(app, who, "/hotline/contacts", &phone_call(&key, &started)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = location
        .strip_prefix("/hotline/contacts/")
        .unwrap()
        .to_owned();
    let case: String = sqlx::query_scalar("SELECT case_id FROM hotline_contacts WHERE id = $1")
        .bind(&id)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    (id, case)
}

async fn the_contact_form_saves_one_contact_however_often_it_is_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let (key, started) = fresh_form(&app, &advocate).await;
    let (other_key, _) = fresh_form(&app, &advocate).await;
    assert_ne!(key, other_key, "each form gets its own key");
    let fields = phone_call(&key, &started);
    // A double click: the same form twice.
    let first = post_form(&app, &advocate, "/hotline/contacts", &fields).await;
    let second = post_form(&app, &advocate, "/hotline/contacts", &fields).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, second.headers()["location"].to_str().unwrap());
    assert!(
        !location.contains("Francisco") && !location.contains("555"),
        "ids only in the address: {location}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_contacts").await,
        1
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM hotline_cases").await, 1);

    // The contact page: what was said, opened for the advocate, and the reading audited.
    let page = app.get_as(&advocate, &location).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for shown in [
        "passport kept by the owner",
        "tamales",
        "+1 (415) 555-0142",
        "Immediate danger",
        "Crisis",
        "Referral request",
        "Screen this case",
        "Find a referral",
        "Report to authorities",
    ] {
        assert!(
            html.contains(shown),
            "{shown} missing from the contact page"
        );
    }
    assert!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'hotline.contact.read'"
        )
        .await
            >= 1
    );
    // The crisis checklist: a step left out is named, nothing stored; then every step.
    let crisis = format!("{location}/crisis");
    let mut steps = vec![
        ("step/emergency-services-called", "done"),
        ("at/emergency-services-called", "2026-11-29T03:20"),
        ("step/law-enforcement-called", "done"),
        ("step/supervisor-alerted", "done"),
        ("step/emergency-shelter-requested", "done"),
        ("step/extraction-requested", "skipped"),
        (
            "reason/extraction-requested",
            "She is already away from the kitchen",
        ),
    ];
    let response = post_form(&app, &advocate, &crisis, &steps).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("The checklist was not recorded"), "{html}");
    assert!(html.contains("Transportation requested"));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_crisis_steps").await,
        0
    );
    steps.push(("step/transportation-requested", "skipped"));
    steps.push((
        "reason/transportation-requested",
        "Her cousin is driving her",
    ));
    let response = post_form(&app, &advocate, &crisis, &steps).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_crisis_steps").await,
        6
    );
    let html = app.get_as(&advocate, &location).await.text().await.unwrap();
    assert!(html.contains("Done at 2026-11-29 03:20 UTC"), "{html}");

    // Nobody else's form token, and no contact for other staff.
    let analyst = app.signed_in(Role::Analyst, None).await;
    assert_eq!(
        app.get_as(&analyst, &location).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_as(
            &advocate,
            "/hotline/contacts/0190f0a0-0000-7000-8000-000000000000"
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
}

async fn a_bad_field_is_named_and_nothing_is_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let (key, started) = fresh_form(&app, &advocate).await;
    let fields: Vec<(&str, &str)> = phone_call(&key, &started)
        .into_iter()
        .filter(|(k, _)| !matches!(*k, "reasons" | "danger"))
        .map(|(k, v)| {
            if k == "caller_state" {
                (k, "ZZ")
            } else {
                (k, v)
            }
        })
        .collect();
    let response = post_form(&app, &advocate, "/hotline/contacts", &fields).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("Please correct these fields"), "{html}");
    assert!(html.contains("href=\"#caller_state\""));
    assert!(html.contains("id=\"caller_state-error\""));
    assert!(html.contains("Enter a U.S. state or territory code"));
    assert!(html.contains("href=\"#reasons\""));
    assert!(html.contains("Choose at least one reason."));
    // What was typed stays, the key too (nothing was saved under it).
    assert!(html.contains("value=\"ZZ\""));
    assert!(html.contains("passport kept by the owner"));
    assert!(html.contains(&format!("value=\"{key}\"")));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_contacts").await,
        0
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM hotline_cases").await, 0);

    // In Spanish, the same field is named in Spanish.
    let response = app
        .client
        .post(app.url("/hotline/contacts?lang=es"))
        .header("cookie", &advocate.cookie)
        .form(
            &[("csrf", advocate.csrf.as_str())]
                .into_iter()
                .chain(fields.iter().copied())
                .collect::<Vec<_>>(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("Elija al menos un motivo."), "{html}");

    // A forged form token is refused before anything is read.
    let forged = Session {
        csrf: "forged".into(),
        ..advocate.clone()
    };
    let (key, started) = fresh_form(&app, &advocate).await;
    let response = post_form(
        &app,
        &forged,
        "/hotline/contacts",
        &phone_call(&key, &started),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_contacts").await,
        0
    );
}

async fn strong_screening_answers_suggest_high(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let (contact, case) = take_contact(&app, &advocate).await;
    let path = format!("/hotline/cases/{case}/screening");
    let form = app
        .get_as(&advocate, &format!("{path}?contact={contact}"))
        .await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    for domain in [
        "Recruitment and deception",
        "Coercion and threats",
        "Control of documents and money",
        "Living conditions",
    ] {
        assert!(html.contains(domain), "{domain} missing");
    }
    assert!(html.contains("name=\"item/locked-in\""));

    // Answers that contradict each other: named, nothing stored.
    let contact_field = contact.as_str();
    let response = post_form(
        &app,
        &advocate,
        &path,
        &[
            ("contact", contact_field),
            ("item/age-adult", "yes"),
            ("item/age-minor", "yes"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_screenings").await,
        0
    );

    let response = post_form(
        &app,
        &advocate,
        &path,
        &[
            ("contact", contact_field),
            ("item/age-adult", "yes"),
            ("item/locked-in", "yes"),
            ("item/job-differs", "yes"),
            ("item/documents-held", "yes"),
            ("item/physical-harm", "no"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("<strong id=\"screening-level\">High</strong>"),
        "{html}"
    );
    assert!(html.contains("Labor trafficking"));
    assert!(html.contains("two or more of force, fraud and coercion"));
    assert!(html.contains("The supervisors on duty have been alerted."));
    let level: String =
        sqlx::query_scalar("SELECT indicator_level FROM hotline_cases WHERE id = $1")
            .bind(&case)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(level, "high");
    let page = app
        .get_as(&advocate, &format!("/hotline/contacts/{contact}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<dd id=\"case-level\">High</dd>"));
    assert_eq!(
        app.get_as(
            &advocate,
            "/hotline/cases/0190f0a0-0000-7000-8000-000000000000/screening"
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
}

async fn a_report_without_consent_waits_for_a_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let (contact, case) = take_contact(&app, &advocate).await;
    let path = format!("/hotline/cases/{case}/reports");
    let report = |consent: bool| {
        let mut fields = vec![
            ("contact", contact.as_str()),
            ("agency", "law-enforcement"),
            ("agency_name", "San Francisco Police Department"),
            ("method", "phone"),
            ("subject", "adult"),
            ("imminent_danger", "on"),
            ("subject_name", "Marisol"),
            ("subject_phone", "+1 415 555 0142"),
            ("description", "Kept in the restaurant's back room"),
            ("city", "San Francisco"),
            ("state", "CA"),
            ("trafficking_type", "labor"),
            ("reference", "SFPD-2026-118"),
            ("reported_at", "2026-11-29T03:40"),
        ];
        if consent {
            fields.push(("consent", "on"));
        }
        fields
    };
    let refused = post_form(&app, &advocate, &path, &report(false)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(html.contains("The report was not made"), "{html}");
    assert!(html.contains("this report needs a reason"));
    assert!(html.contains("id=\"override_reason-error\""));
    assert!(
        html.contains("San Francisco Police Department"),
        "kept as typed"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM hotline_reports").await, 0);

    let sent = post_form(&app, &advocate, &path, &report(true)).await;
    assert_eq!(sent.status(), StatusCode::CREATED);
    let html = sent.text().await.unwrap();
    assert!(html.contains("The report was recorded as sent."), "{html}");
    assert!(
        html.contains("With the person&#x27;s consent")
            || html.contains("With the person&#39;s consent"),
        "{html}"
    );
    assert!(html.contains("Marisol"));
    assert!(html.contains("Labor trafficking"));
    assert!(html.contains("SFPD-2026-118"));
    assert!(html.contains("2026-11-29 03:40 UTC"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM hotline_reports").await, 1);
    let page = app
        .get_as(&advocate, &format!("/hotline/contacts/{contact}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("San Francisco Police Department"));
    assert!(page.contains("SFPD-2026-118"));
    let (reference, at): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT reference, reported_at FROM hotline_reports")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(reference.as_deref(), Some("SFPD-2026-118"));
    assert_eq!(
        at,
        Some(
            "2026-11-29T03:40:00Z"
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_microsecond()
        )
    );

    // A time that is not one is named; nothing stored.
    let mut untimed = report(true);
    untimed.retain(|(k, _)| *k != "reported_at");
    untimed.push(("reported_at", "last night"));
    let response = post_form(&app, &advocate, &path, &untimed).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("id=\"reported_at-error\"")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM hotline_reports").await, 1);

    // A missing agency name is named; nothing stored.
    let mut unnamed = report(true);
    unnamed.retain(|(k, _)| *k != "agency_name");
    let response = post_form(&app, &advocate, &path, &unnamed).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Name the agency (up to 200 characters).")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM hotline_reports").await, 1);
}

async fn a_referral_from_the_search_is_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_directory().await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let (contact, _) = take_contact(&app, &advocate).await;
    let page = app
        .get_as(&advocate, &format!("/hotline/contacts/{contact}"))
        .await
        .text()
        .await
        .unwrap();
    let search = between(&page, "href=\"/directory/search?", "\"")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(search.contains("state=CA") && search.contains(&format!("contact={contact}")));
    let action = format!("action=\"/hotline/contacts/{contact}/referrals\"");
    let mut found = false;
    let mut last = String::new();
    for _ in 0..40 {
        let html = app
            .get_as(&advocate, &format!("/directory/search?{search}"))
            .await
            .text()
            .await
            .unwrap();
        if html.contains(&action) {
            found = true;
            break;
        }
        last = html;
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        found,
        "the search offers a referral for the contact ({search}): {}",
        between(&last, "<main", "</main>")
    );
    // Staff who do not take contacts see no "Refer" form.
    let analyst = app.signed_in(Role::Analyst, None).await;
    let html = app
        .get_as(&analyst, &format!("/directory/search?{search}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains(&action));

    let path = format!("/hotline/contacts/{contact}/referrals");
    let service = "11111111-aaaa-4111-8111-111111111111";
    // A warm transfer without the partner's answer is refused, nothing stored.
    let response = post_form(
        &app,
        &advocate,
        &path,
        &[
            ("service_id", service),
            ("urgency", "urgent"),
            ("kind", "warm-transfer"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The referral was not recorded.")
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_referrals").await,
        0
    );

    let response = post_form(
        &app,
        &advocate,
        &path,
        &[
            ("service_id", service),
            ("urgency", "urgent"),
            ("kind", "warm-transfer"),
            ("partner_capacity", "accepted"),
            ("follow_up_due", "2026-12-03"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        format!("/hotline/contacts/{contact}#referrals")
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM hotline_referrals").await,
        1
    );
    let urgency: String = sqlx::query_scalar("SELECT urgency FROM hotline_referrals")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(urgency, "urgent");
    let page = app
        .get_as(&advocate, &format!("/hotline/contacts/{contact}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Urgent"));
    assert!(page.contains("Warm transfer"));
    assert!(page.contains("2026-12-03"));

    // Following it up: the outcome is recorded from the contact page, once.
    let referral: String = sqlx::query_scalar("SELECT id FROM hotline_referrals")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let outcome_path = format!("/hotline/referrals/{referral}/outcome");
    assert!(page.contains(&format!("action=\"{outcome_path}\"")));
    let bad = post_form(
        &app,
        &advocate,
        &outcome_path,
        &[("contact", &contact), ("outcome", "vanished")],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let done = post_form(
        &app,
        &advocate,
        &outcome_path,
        &[("contact", &contact), ("outcome", "served")],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let outcome: Option<String> = sqlx::query_scalar("SELECT outcome FROM hotline_referrals")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(outcome.as_deref(), Some("served"));
    let page = app
        .get_as(&advocate, &format!("/hotline/contacts/{contact}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Served") && !page.contains(&outcome_path));
}

async fn the_report_form_suggests_agencies_listed_near_the_caller(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A police department applies to be listed, as law enforcement, and is approved.
    let law_enforcement = "90c9cfab-80c3-51f6-821b-74db0903acd5";
    let applied = app
        .client
        .post(app.url("/directory/apply"))
        .form(&[
            ("name", "Mission District Police Station"),
            ("description", "Takes reports of trafficking"),
            ("email", "desk@police.example.org"),
            ("phone", "+1 415 555 0100"),
            ("city", "San Francisco"),
            ("state", "CA"),
            ("service_type", law_enforcement),
            ("references", "The county task force"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(applied.status(), StatusCode::OK);
    let curator = app.signed_in(Role::DirectoryCurator, None).await;
    let queue = app
        .get_as(&curator, "/directory/curate")
        .await
        .text()
        .await
        .unwrap();
    let listing = between(&queue, "action=\"/directory/curate/", "\"").to_owned();
    let approved = post_form(
        &app,
        &curator,
        &format!("/directory/curate/{listing}"),
        &[("decision", "approve")],
    )
    .await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);

    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let (contact, _) = take_contact(&app, &advocate).await;
    let mut page = String::new();
    for _ in 0..40 {
        page = app
            .get_as(&advocate, &format!("/hotline/contacts/{contact}"))
            .await
            .text()
            .await
            .unwrap();
        if page.contains("<datalist id=\"agency-choices\">") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        page.contains("<option value=\"Mission District Police Station\">"),
        "{}",
        between(&page, "id=\"report-form\"", "</form>")
    );
    assert!(page.contains("list=\"agency-choices\""));
}

async fn a_document_is_sent_from_the_contact_page_only_as_the_caller_agreed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = app
        .library_documents(&[
            ("Know your rights", "en", "public"),
            ("Night protocol", "en", "internal"),
        ])
        .await
        .remove(0);
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let (contact, _) = take_contact(&app, &advocate).await;
    let page = format!("/hotline/contacts/{contact}");
    let html = app.get_as(&advocate, &page).await.text().await.unwrap();
    let form = between(&html, "id=\"resource-form\"", "</form>");
    assert!(form.contains("Know your rights"), "{form}");
    assert!(
        !form.contains("Night protocol"),
        "internal documents are not offered"
    );

    let action = format!("{page}/resources");
    let sent = || count(&app, "SELECT COUNT(*) FROM hotline_resources_sent");
    // Without the caller's agreement, or with an address that is not one: refused beside
    // the form, nothing sent.
    for (fields, said) in [
        (
            vec![
                ("document_id", document.as_str()),
                ("channel", "email"),
                ("email", "ana@example.org"),
            ],
            "only when the caller agrees",
        ),
        (
            vec![
                ("document_id", document.as_str()),
                ("channel", "email"),
                ("email", "ana at example"),
                ("caller_agreed", "on"),
            ],
            "email address is not usable",
        ),
        // No text line is configured here.
        (
            vec![
                ("document_id", document.as_str()),
                ("channel", "sms"),
                ("caller_agreed", "on"),
            ],
            "text provider did not take",
        ),
    ] {
        let response = post_form(&app, &advocate, &action, &fields).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let html = response.text().await.unwrap();
        assert!(html.contains(said), "{said} not on the page");
        assert_eq!(sent().await, 0);
    }
    let response = post_form(
        &app,
        &advocate,
        &action,
        &[
            ("document_id", document.as_str()),
            ("channel", "email"),
            ("email", "ana@example.org"),
            ("caller_agreed", "on"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        format!("{page}#resources")
    );
    assert_eq!(sent().await, 1);
    let html = app.get_as(&advocate, &page).await.text().await.unwrap();
    let listed = between(&html, "id=\"resources\"", "id=\"resource-form\"");
    assert!(
        listed.contains("Know your rights") && listed.contains("By email"),
        "{listed}"
    );
}
