//! Administration pages: accounts and the audit log browser.

use atip::accounts::model::Status;
use atip::accounts::service as accounts;
use atip::kernel::auth::Role;
use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp};

#[tokio::test]
async fn an_administrator_locks_an_account_and_finds_it_in_the_audit_log() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.signed_in(Role::SystemAdmin, None).await;
    let (email, password) = app.user(Role::HotlineAdvocate, None).await;
    let victim_session = app.sign_in(&email, &password).await;

    let page = app
        .get_as(&admin, "/admin/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&email) && page.contains("Test hotline-advocate"),
        "names are opened for administrators"
    );
    let id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let locked = app
        .client
        .post(app.url(&format!("/admin/users/{id}/status")))
        .header("cookie", &admin.cookie)
        .form(&[("csrf", admin.csrf.as_str()), ("status", "locked")])
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        accounts::status(&app.db, &email).await.unwrap(),
        Some(Status::Locked)
    );
    assert_eq!(
        app.get_as(&victim_session, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "its sessions ended"
    );

    let audit = app
        .get_as(&admin, "/admin/audit?action=user.lock")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("user.lock") && audit.contains(&id));
    assert!(!audit.contains(">sign_in<"), "the filter applies");
    // Nobody else may look.
    let advocate = app.signed_in(Role::HotlineSupervisor, None).await;
    assert_eq!(
        app.get_as(&advocate, "/admin/audit").await.status(),
        StatusCode::FORBIDDEN
    );
}
