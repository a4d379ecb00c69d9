//! Signing in and out, sessions, throttling and lockout.

use atip::accounts::model::Status;
use atip::accounts::service as accounts;
use atip::kernel::auth::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;

on_both_databases! {
    signing_in_starts_a_session_that_me_and_sign_out_respect;
    a_wrong_password_and_an_unknown_email_get_the_same_answer;
    failures_slow_down_then_lock_the_account_until_unlocked;
    an_idle_or_expired_session_ends;
    a_session_ended_behind_the_servers_back_stops_working_within_the_recheck;
    two_server_processes_share_one_limit;
}

async fn audit_outcomes(app: &TestApp, action: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT outcome FROM audit_events WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(app.db.reader())
        .await
        .unwrap()
}

async fn signing_in_starts_a_session_that_me_and_sign_out_respect(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, password) = app.user(Role::HotlineSupervisor, None).await;
    let first = app.sign_in(&email, &password).await;
    let second = app.sign_in(&email, &password).await;
    assert_ne!(
        first.cookie, second.cookie,
        "every sign-in gets a new session id"
    );

    let me: Value = app.get_as(&first, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["email"], email);
    assert_eq!(me["roles"][0], "hotline-supervisor");
    assert!(
        app.get_as(&first, "/account")
            .await
            .text()
            .await
            .unwrap()
            .contains(&email)
    );

    // A forged CSRF token changes nothing.
    let forged = app
        .client
        .post(app.url("/sign-out"))
        .header("cookie", &first.cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_as(&first, "/api/v1/me").await.status(),
        StatusCode::OK
    );

    let out = app
        .client
        .post(app.url("/sign-out"))
        .header("cookie", &first.cookie)
        .form(&[("csrf", first.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_as(&first, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as(&second, "/api/v1/me").await.status(),
        StatusCode::OK,
        "other sessions live on"
    );

    let everywhere = app
        .client
        .post(app.url("/sign-out"))
        .header("cookie", &second.cookie)
        .form(&[("csrf", second.csrf.as_str()), ("everywhere", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), StatusCode::SEE_OTHER);
    let third = app.sign_in(&email, &password).await;
    assert_eq!(
        app.get_as(&second, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as(&third, "/api/v1/me").await.status(),
        StatusCode::OK
    );
    assert_eq!(audit_outcomes(&app, "sign_in").await, vec!["success"; 3]);
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = app.user(Role::Analyst, None).await;
    let wrong = app.post_sign_in(&email, "not the password at all").await;
    let unknown = app
        .post_sign_in("nobody@example.org", "not the password at all")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    let message = |html: &str| {
        html.split("usa-alert__text\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(message(&wrong), message(&unknown));
    assert_eq!(
        audit_outcomes(&app, "sign_in").await,
        vec!["failure", "failure"]
    );
    // Neither the guessed email nor the password reaches the audit log.
    let dump: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT action, object_id FROM audit_events")
            .fetch_all(app.db.reader())
            .await
            .unwrap();
    assert!(!format!("{dump:?}").contains("nobody@example.org"));

    // Without the sign-in form's cookie, or from another site, nothing is checked.
    let no_cookie = app
        .client
        .post(app.url("/sign-in"))
        .form(&[("email", email.as_str()), ("password", "x"), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), StatusCode::FORBIDDEN);
    let cross_site = app
        .client
        .post(app.url("/sign-in"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", email.as_str()), ("password", "x"), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(audit_outcomes(&app, "sign_in").await.len(), 2);
}

async fn failures_slow_down_then_lock_the_account_until_unlocked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, password) = app.user(Role::HotlineAdvocate, None).await;
    for _ in 0..5 {
        assert_eq!(
            app.post_sign_in(&email, "wrong wrong wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The sixth attempt, even with the right password, must wait.
    let wait = app.post_sign_in(&email, &password).await;
    assert_eq!(wait.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        wait.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    for _ in 5..20 {
        // Pretend the wait has passed.
        sqlx::query("UPDATE users SET last_failed_at = 0")
            .execute(app.db.writer())
            .await
            .unwrap();
        assert_eq!(
            app.post_sign_in(&email, "wrong wrong wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        accounts::status(&app.db, &email).await.unwrap(),
        Some(Status::Locked)
    );
    sqlx::query("UPDATE users SET last_failed_at = 0")
        .execute(app.db.writer())
        .await
        .unwrap();
    assert_eq!(
        app.post_sign_in(&email, &password).await.status(),
        StatusCode::UNAUTHORIZED,
        "a locked account cannot sign in with the right password"
    );
    accounts::set_status(&app.db, &email, Status::Active)
        .await
        .unwrap();
    app.sign_in(&email, &password).await;
    assert!(audit_outcomes(&app, "user.unlock").await == vec!["success"]);
}

async fn an_idle_or_expired_session_ends(backend: Backend) {
    // The sessions are aged in the database behind the server's back: read them on
    // every request (the next test shows the default).
    let app = TestApp::spawn_with(backend, |config| config.session_recheck_secs = 0).await;
    let idle = app.signed_in(Role::ProgramOfficer, None).await;
    let old = app.signed_in(Role::ProgramOfficer, None).await;
    let fresh = app.signed_in(Role::ProgramOfficer, None).await;
    let sixteen_minutes = 16 * 60 * 1_000_000_i64;
    let stored = |s: &crate::helpers::Session| {
        atip::kernel::auth::token::stored_form(s.cookie.split_once('=').unwrap().1)
    };
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - $1 WHERE id = $2")
        .bind(sixteen_minutes)
        .bind(stored(&idle))
        .execute(app.db.writer())
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET expires_at = 0 WHERE id = $1")
        .bind(stored(&old))
        .execute(app.db.writer())
        .await
        .unwrap();
    assert_eq!(
        app.get_as(&idle, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as(&old, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as(&fresh, "/api/v1/me").await.status(),
        StatusCode::OK
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(left, 1, "ended sessions are deleted");
    // A tampered cookie is no session: refused, audited, and the browser told to drop it.
    let tampered = crate::helpers::Session {
        cookie: format!("{}0", fresh.cookie),
        csrf: fresh.csrf.clone(),
    };
    let refused = app.get_as(&tampered, "/api/v1/me").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let cleared = refused.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let rejected: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'session.rejected' AND outcome = 'denied' AND actor_id IS NULL",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(rejected, 3, "the idle, the expired and the tampered cookie");
    let bogus = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth("atip_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bogus.status(), StatusCode::UNAUTHORIZED);
    let rejected_tokens: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'api_token.rejected' AND actor_id IS NULL",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(rejected_tokens, 1);
    // A page asks the browser to sign in, keeping where it was going.
    let page = app.get_as(&tampered, "/account").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/sign-in?next=%2Faccount");
}

/// Another server process, or `atip user disable`, ends a session in the database
/// only: this server relies on its check for `session_recheck_secs`, then reads it
/// again. (What this server does itself takes effect at once: the sign-out test and
/// the administrators' lock and role tests use sessions checked just before.)
async fn a_session_ended_behind_the_servers_back_stops_working_within_the_recheck(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, |config| config.session_recheck_secs = 1).await;
    let (email, password) = app.user(Role::HotlineSupervisor, None).await;
    let session = app.sign_in(&email, &password).await;
    let before_check = std::time::Instant::now();
    assert_eq!(
        app.get_as(&session, "/api/v1/me").await.status(),
        StatusCode::OK
    );
    sqlx::query("DELETE FROM sessions")
        .execute(app.db.writer())
        .await
        .unwrap();
    let still = app.get_as(&session, "/api/v1/me").await.status();
    // (On a machine too slow to ask again within the second, the check is simply over.)
    if before_check.elapsed() < std::time::Duration::from_millis(900) {
        assert_eq!(still, StatusCode::OK, "checked less than a second ago");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        app.get_as(&session, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn two_server_processes_share_one_limit(backend: Backend) {
    let limited = |c: &mut atip::kernel::config::Config| c.sign_in_per_ip_per_minute = 4;
    let first = TestApp::spawn_with(backend, limited).await;
    let second = first.beside(limited).await;
    // Four attempts spread over both servers use the address's whole minute...
    for app in [&first, &second, &first, &second] {
        let response = app
            .post_sign_in("someone@example.org", "not the password")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // ...so the next is refused by either, though each alone saw only two.
    for app in [&first, &second] {
        let response = app
            .post_sign_in("someone@example.org", "not the password")
            .await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    // The address is not stored readable.
    let buckets: Vec<String> = sqlx::query_scalar("SELECT bucket FROM rate_limit_hits")
        .fetch_all(first.db.reader())
        .await
        .unwrap();
    assert_eq!(buckets.len(), 1);
    assert!(!buckets[0].contains("127.0.0.1"));
}

#[tokio::test]
async fn one_address_trying_too_many_sign_ins_is_told_to_wait() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.sign_in_per_ip_per_minute = 3).await;
    for _ in 0..3 {
        let response = app
            .post_sign_in("someone@example.org", "not the password")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = app
        .post_sign_in("someone@example.org", "not the password")
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert!(limited.text().await.unwrap().contains("Too many attempts"));
    // Pages other than the sign-in forms are not limited.
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
}
