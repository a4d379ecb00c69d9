//! The second factor: enrolment, codes that work once, recovery codes.

use atip::kernel::auth::Role;
use reqwest::StatusCode;
use totp_rs::{Builder, Secret};

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;

on_both_databases! {
    a_role_that_reads_personal_data_must_enrol_and_then_give_a_code;
}

fn cookie_from(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("atip_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    html.split(start).nth(1).unwrap().split(end).next().unwrap()
}

/// Signs in with the password; returns the half-signed-in session and where it was sent.
async fn password_step(app: &TestApp, email: &str, password: &str) -> (Session, String) {
    let response = app.post_sign_in(email, password).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let cookie = cookie_from(&response);
    let page = app
        .client
        .get(app.url(&location))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let csrf = between(&page.text().await.unwrap(), "name=\"csrf\" value=\"", "\"").to_owned();
    (Session { cookie, csrf }, location)
}

async fn post_code(app: &TestApp, path: &str, session: &Session, code: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("cookie", &session.cookie)
        .form(&[("csrf", session.csrf.as_str()), ("code", code)])
        .send()
        .await
        .unwrap()
}

async fn a_role_that_reads_personal_data_must_enrol_and_then_give_a_code(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.require_mfa = true).await;
    let (email, password) = app.user(Role::HotlineAdvocate, None).await;

    // 1. The password alone opens only the enrolment page.
    let (half, location) = password_step(&app, &email, &password).await;
    assert_eq!(location, "/account/mfa");
    assert_eq!(
        app.get_as(&half, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let account = app.get_as(&half, "/account").await;
    assert_eq!(account.headers()["location"], "/account/mfa");

    // 2. Enrol: read the key the page shows, as a person would type it into an app.
    let page = app
        .get_as(&half, "/account/mfa")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "the QR code is an inline SVG");
    let secret = between(&page, "atip-totp-secret\">", "<").to_owned();
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(&secret).unwrap())
        .with_account_name(email.clone())
        .build()
        .unwrap();
    let now = jiff::Timestamp::now().as_second().cast_unsigned();
    let first_code = totp.generate(now).to_string();
    assert_eq!(
        post_code(&app, "/account/mfa", &half, "123456")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let enrolled = post_code(&app, "/account/mfa", &half, &first_code).await;
    assert_eq!(enrolled.status(), StatusCode::OK);
    let full = Session {
        cookie: cookie_from(&enrolled),
        csrf: String::new(),
    };
    let html = enrolled.text().await.unwrap();
    let recovery: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(
        app.get_as(&full, "/api/v1/me").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(&half, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "the session id changed"
    );

    // 3. Next sign-in: the code already used is refused; the next step's code works once.
    let (half, location) = password_step(&app, &email, &password).await;
    assert_eq!(location, "/sign-in/mfa");
    assert_eq!(
        post_code(&app, "/sign-in/mfa", &half, &first_code)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let next_code = totp.generate(now + 30).to_string();
    let done = post_code(&app, "/sign-in/mfa", &half, &next_code).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let full = Session {
        cookie: cookie_from(&done),
        csrf: String::new(),
    };
    assert_eq!(
        app.get_as(&full, "/api/v1/me").await.status(),
        StatusCode::OK
    );
    let (half, _) = password_step(&app, &email, &password).await;
    assert_eq!(
        post_code(&app, "/sign-in/mfa", &half, &next_code)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // 4. A recovery code works once.
    let used = post_code(&app, "/sign-in/mfa", &half, &recovery[3]).await;
    assert_eq!(used.status(), StatusCode::SEE_OTHER);
    let (half, _) = password_step(&app, &email, &password).await;
    assert_eq!(
        post_code(&app, "/sign-in/mfa", &half, &recovery[3])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_code(&app, "/sign-in/mfa", &half, &recovery[4].to_uppercase())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // 5. The analyst sees aggregates only: a password is enough.
    let (email, password) = app.user(Role::Analyst, None).await;
    let response = app.post_sign_in(&email, &password).await;
    assert_eq!(response.headers()["location"], "/account");
    let outcomes: Vec<String> = sqlx::query_scalar(
        "SELECT outcome FROM audit_events WHERE action = 'mfa.verify' ORDER BY seq",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        outcomes,
        [
            "failure", "success", "failure", "success", "failure", "success"
        ]
    );
}
