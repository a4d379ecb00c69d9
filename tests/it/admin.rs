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

async fn user_id(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

async fn post_form(
    app: &TestApp,
    session: &crate::helpers::Session,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut fields = vec![("csrf", session.csrf.as_str())];
    fields.extend_from_slice(form);
    app.client
        .post(app.url(path))
        .header("cookie", &session.cookie)
        .form(&fields)
        .send()
        .await
        .unwrap()
}

async fn roles_of(app: &TestApp, id: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
        .bind(id)
        .fetch_all(app.db.reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_administrator_changes_roles_and_the_change_is_audited_with_the_roles() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.signed_in(Role::SystemAdmin, None).await;
    let (email, password) = app.user(Role::HotlineAdvocate, None).await;
    let their_session = app.sign_in(&email, &password).await;
    let id = user_id(&app, &email).await;

    let changed = post_form(
        &app,
        &admin,
        &format!("/admin/users/{id}/roles"),
        &[("role", "hotline-supervisor"), ("role", "analyst")],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(roles_of(&app, &id).await, ["analyst", "hotline-supervisor"]);
    assert_eq!(
        app.get_as(&their_session, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "a permission change ends the account's sessions"
    );
    let audit = app
        .get_as(&admin, "/admin/audit?action=user.roles")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains(&id) && audit.contains("roles=hotline-supervisor analyst"));

    // Refusals change nothing and say why.
    for (form, message) in [
        (vec![], "Choose at least one role"),
        (
            vec![("role", "provider-case-manager")],
            "this account has none",
        ),
    ] {
        let refused = post_form(&app, &admin, &format!("/admin/users/{id}/roles"), &form).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(refused.text().await.unwrap().contains(message));
    }
    let unknown_role = post_form(
        &app,
        &admin,
        &format!("/admin/users/{id}/roles"),
        &[("role", "root")],
    )
    .await;
    assert_eq!(unknown_role.status(), StatusCode::BAD_REQUEST);
    assert_eq!(roles_of(&app, &id).await, ["analyst", "hotline-supervisor"]);

    let admin_id: String =
        sqlx::query_scalar("SELECT user_id FROM user_roles WHERE role = 'system-admin'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    let own = post_form(
        &app,
        &admin,
        &format!("/admin/users/{admin_id}/roles"),
        &[("role", "analyst")],
    )
    .await;
    assert_eq!(own.status(), StatusCode::BAD_REQUEST);
    assert_eq!(roles_of(&app, &admin_id).await, ["system-admin"]);
}

#[tokio::test]
async fn an_administrator_adds_organizations_placed_through_the_gazetteer() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.signed_in(Role::SystemAdmin, None).await;
    let created = post_form(
        &app,
        &admin,
        "/admin/organizations",
        &[
            ("name", "Gulf Coast Grantee"),
            ("kind", "national_grantee"),
            ("city", "houston"),
            ("state", "tx"),
        ],
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_json("/api/v1/organizations").await;
    assert!(page.is_object());
    let (city, state, lat): (String, String, f64) = sqlx::query_as(
        "SELECT city, state, latitude FROM organizations WHERE name = 'Gulf Coast Grantee'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!((city.as_str(), state.as_str()), ("Houston", "TX"));
    assert!(
        (lat - 29.76).abs() < 0.1,
        "coordinates come from the gazetteer"
    );
    let listed = app
        .get_as(&admin, "/admin/organizations")
        .await
        .text()
        .await
        .unwrap();
    assert!(listed.contains("Gulf Coast Grantee"));
    let audit = app
        .get_as(&admin, "/admin/audit?action=organization.create")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("kind=national_grantee"));

    for (form, message) in [
        (
            vec![
                ("name", "Nowhere NGO"),
                ("kind", "coalition"),
                ("city", "Atlantis"),
                ("state", "TX"),
            ],
            "not in the gazetteer",
        ),
        (
            vec![
                ("name", "Orphan NGO"),
                ("kind", "sub_awardee"),
                ("city", "Austin"),
                ("state", "TX"),
            ],
            "must name an existing national grantee",
        ),
        (
            vec![
                ("name", "Gulf Coast Grantee"),
                ("kind", "coalition"),
                ("city", "Austin"),
                ("state", "TX"),
            ],
            "already exists",
        ),
        (
            vec![
                ("name", "Mars NGO"),
                ("kind", "coalition"),
                ("city", "Austin"),
                ("state", "ZZ"),
            ],
            "two-letter code",
        ),
    ] {
        let refused = post_form(&app, &admin, "/admin/organizations", &form).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{form:?}");
        let body = refused.text().await.unwrap();
        assert!(body.contains(message), "{form:?}");
        assert!(body.contains(form[0].1), "the form keeps what was typed");
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(count, 1, "nothing refused was stored");
}

#[tokio::test]
async fn an_administrator_sees_every_token_but_never_the_secret_and_revokes_one() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.signed_in(Role::SystemAdmin, None).await;
    let (email, _) = app.user(Role::HotlineAdvocate, None).await;
    let token =
        atip::accounts::tokens::create(&app.db, &email, None, std::time::Duration::from_hours(1))
            .await
            .unwrap();
    let page = app
        .get_as(&admin, "/admin/tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&email) && page.contains("use-own-account"));
    assert!(
        !page.contains(&token),
        "the token itself is never shown again"
    );

    let id: String = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let revoked = post_form(&app, &admin, &format!("/admin/tokens/{id}/revoke"), &[]).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let again = post_form(&app, &admin, &format!("/admin/tokens/{id}/revoke"), &[]).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let audit = app
        .get_as(&admin, "/admin/audit?action=api_token.revoke")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains(&id) && audit.contains("system-admin"));
}
