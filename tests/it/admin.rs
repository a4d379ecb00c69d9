//! Administration pages: accounts and the audit log browser.

use atip::accounts::model::Status;
use atip::accounts::service as accounts;
use std::time::Duration;

use atip::kernel::auth::Role;
use atip::orgs::model::{OrgId, OrgKind};
use atip::orgs::service as orgs;
use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;
use crate::storage::org;

#[tokio::test]
async fn an_administrator_locks_an_account_and_finds_it_in_the_audit_log() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.signed_in(Role::SystemAdmin, None).await;
    let (email, password) = app.user(Role::HotlineAdvocate, None).await;
    let victim_session = app.sign_in(&email, &password).await;
    // Checked just before, so that the server would still rely on that check.
    assert_eq!(
        app.get_as(&victim_session, "/api/v1/me").await.status(),
        StatusCode::OK
    );

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
    assert_eq!(
        app.get_as(&their_session, "/api/v1/me").await.status(),
        StatusCode::OK
    );
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

on_both_databases! {
    a_provider_administrator_manages_only_its_own_organizations_staff;
    an_invited_person_chooses_a_password_and_signs_in;
    a_provider_administrator_invites_only_into_its_own_organization;
}

/// Two provider organizations: (home, other).
async fn two_providers(app: &TestApp) -> (OrgId, OrgId) {
    let (home, other) = (OrgId::new(), OrgId::new());
    orgs::create_many(
        &app.db,
        &[
            (home, org("Home Provider", OrgKind::NationalGrantee, None)),
            (other, org("Other Provider", OrgKind::NationalGrantee, None)),
        ],
    )
    .await
    .unwrap();
    (home, other)
}

async fn a_provider_administrator_manages_only_its_own_organizations_staff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (home, other) = two_providers(&app).await;
    let admin = app.signed_in(Role::ProviderAdmin, Some(home)).await;
    let (mine, _) = app.user(Role::ProviderCaseManager, Some(home)).await;
    let (theirs, _) = app.user(Role::ProviderCaseManager, Some(other)).await;
    let (national, _) = app.user(Role::HotlineAdvocate, None).await;
    atip::accounts::tokens::create(&app.db, &theirs, None, Duration::from_hours(1))
        .await
        .unwrap();
    let their_token: String = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(app.db.reader())
        .await
        .unwrap();

    let page = app
        .get_as(&admin, "/admin/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&mine), "its own staff are listed");
    assert!(
        !page.contains(&theirs) && !page.contains(&national),
        "nobody outside its organization is listed, not even counted"
    );
    assert!(
        !page.contains("/admin/audit") && !page.contains("/admin/organizations"),
        "the menu offers only what it may open"
    );
    let tokens = app
        .get_as(&admin, "/admin/tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(!tokens.contains(&theirs));
    for path in ["/admin/audit", "/admin/organizations"] {
        assert_eq!(
            app.get_as(&admin, path).await.status(),
            StatusCode::FORBIDDEN
        );
    }

    // Another organization's account and token answer as if they did not exist.
    let their_id = user_id(&app, &theirs).await;
    let locked = post_form(
        &app,
        &admin,
        &format!("/admin/users/{their_id}/status"),
        &[("status", "locked")],
    )
    .await;
    assert_eq!(locked.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        accounts::status(&app.db, &theirs).await.unwrap(),
        Some(Status::Active)
    );
    let regranted = post_form(
        &app,
        &admin,
        &format!("/admin/users/{their_id}/roles"),
        &[("role", "provider-admin")],
    )
    .await;
    assert_eq!(regranted.status(), StatusCode::NOT_FOUND);
    let revoked = post_form(
        &app,
        &admin,
        &format!("/admin/tokens/{their_token}/revoke"),
        &[],
    )
    .await;
    assert_eq!(revoked.status(), StatusCode::NOT_FOUND);
    let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(live, 1);
    let refusals: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT object_type, object_id FROM audit_events \
         WHERE action = 'manage-users' AND outcome = 'denied' ORDER BY seq",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        refusals,
        [
            ("user".to_owned(), Some(their_id.clone())),
            ("user".to_owned(), Some(their_id.clone())),
            ("api_token".to_owned(), Some(their_token.clone())),
        ],
        "each reach for another organization's record is audited"
    );

    // Its own staff: provider roles only, never above them.
    let my_id = user_id(&app, &mine).await;
    let raised = post_form(
        &app,
        &admin,
        &format!("/admin/users/{my_id}/roles"),
        &[("role", "system-admin")],
    )
    .await;
    assert_eq!(raised.status(), StatusCode::BAD_REQUEST);
    assert!(
        raised
            .text()
            .await
            .unwrap()
            .contains("may not give or take away")
    );
    assert_eq!(roles_of(&app, &my_id).await, ["provider-case-manager"]);
    let promoted = post_form(
        &app,
        &admin,
        &format!("/admin/users/{my_id}/roles"),
        &[
            ("role", "provider-case-manager"),
            ("role", "provider-admin"),
        ],
    )
    .await;
    assert_eq!(promoted.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        roles_of(&app, &my_id).await,
        ["provider-admin", "provider-case-manager"]
    );
    let locked = post_form(
        &app,
        &admin,
        &format!("/admin/users/{my_id}/status"),
        &[("status", "locked")],
    )
    .await;
    assert_eq!(locked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        accounts::status(&app.db, &mine).await.unwrap(),
        Some(Status::Locked)
    );

    // The system administrator sees everyone.
    let system = app.signed_in(Role::SystemAdmin, None).await;
    let page = app
        .get_as(&system, "/admin/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&mine) && page.contains(&theirs) && page.contains(&national));
}

/// The one-time code on the page that answers an invitation.
async fn code_on(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    page.split("<code class=\"atip-invitation-code\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the page shows the code")
        .to_owned()
}

async fn an_invited_person_chooses_a_password_and_signs_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (home, _) = two_providers(&app).await;
    let admin = app.signed_in(Role::SystemAdmin, None).await;
    let home_id = home.to_string();
    let invite = [
        ("email", "New.Staff@Provider.example.org"),
        ("display_name", "Quillon Vexbridge"),
        ("role", "provider-case-manager"),
        ("organization", home_id.as_str()),
    ];
    let code = code_on(post_form(&app, &admin, "/admin/invitations", &invite).await).await;
    let email = "new.staff@provider.example.org";

    let (stored_code, stored_name): (String, String) =
        sqlx::query_as("SELECT code_hash, display_name FROM invitations WHERE email = $1")
            .bind(email)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_ne!(stored_code, code, "the code is stored hashed");
    assert!(!stored_name.contains("Quillon"), "the name is sealed");
    let page = app
        .get_as(&admin, "/admin/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(email), "the waiting invitation is listed");
    let again = post_form(&app, &admin, "/admin/invitations", &invite).await;
    assert_eq!(
        again.status(),
        StatusCode::BAD_REQUEST,
        "one waiting invitation per email"
    );

    let password = "copper lantern meadow thistle";
    let refused = [
        (email, "0000", password, password, StatusCode::UNAUTHORIZED),
        (
            "someone.else@example.org",
            code.as_str(),
            password,
            password,
            StatusCode::UNAUTHORIZED,
        ),
        (
            email,
            code.as_str(),
            password,
            "copper lantern",
            StatusCode::BAD_REQUEST,
        ),
        (
            email,
            code.as_str(),
            "password1234",
            "password1234",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (email, code, password, again, status) in refused {
        let answer = app.post_invitation(email, code, password, again).await;
        assert_eq!(answer.status(), status, "{email} {code} {again}");
    }
    assert!(accounts::status(&app.db, email).await.unwrap().is_none());

    let accepted = app.post_invitation(email, &code, password, password).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    assert!(
        accepted
            .text()
            .await
            .unwrap()
            .contains("Your account is ready")
    );
    let session = app.sign_in(email, password).await;
    let (_, me) = {
        let response = app.get_as(&session, "/api/v1/me").await;
        (
            response.status(),
            response.json::<serde_json::Value>().await.unwrap(),
        )
    };
    assert_eq!(me["roles"], serde_json::json!(["provider-case-manager"]));
    assert_eq!(me["organization_id"], home_id);
    assert_eq!(me["display_name"], "Quillon Vexbridge");

    // The code works once.
    let second_use = app.post_invitation(email, &code, password, password).await;
    assert_eq!(second_use.status(), StatusCode::UNAUTHORIZED);
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE action LIKE 'user.%' ORDER BY seq",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    for expected in ["user.invite", "user.invitation.accept", "user.create"] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} in {actions:?}"
        );
    }

    // An expired invitation is refused, and no longer holds its email.
    let late = [
        ("email", "late@provider.example.org"),
        ("display_name", "Late Person"),
        ("role", "analyst"),
    ];
    let late_code = code_on(post_form(&app, &admin, "/admin/invitations", &late).await).await;
    sqlx::query("UPDATE invitations SET expires_at = 0")
        .execute(app.db.writer())
        .await
        .unwrap();
    let expired = app
        .post_invitation("late@provider.example.org", &late_code, password, password)
        .await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    code_on(post_form(&app, &admin, "/admin/invitations", &late).await).await;
}

async fn a_provider_administrator_invites_only_into_its_own_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (home, other) = two_providers(&app).await;
    let system = app.signed_in(Role::SystemAdmin, None).await;
    let national = [
        ("email", "national@example.org"),
        ("display_name", "National Person"),
        ("role", "hotline-advocate"),
    ];
    code_on(post_form(&app, &system, "/admin/invitations", &national).await).await;
    let national_id: String = sqlx::query_scalar("SELECT id FROM invitations")
        .fetch_one(app.db.reader())
        .await
        .unwrap();

    let admin = app.signed_in(Role::ProviderAdmin, Some(home)).await;
    let other_id = other.to_string();
    let elsewhere = [
        ("email", "mine@example.org"),
        ("display_name", "My Person"),
        ("role", "provider-case-manager"),
        ("organization", other_id.as_str()),
    ];
    code_on(post_form(&app, &admin, "/admin/invitations", &elsewhere).await).await;
    let placed: Option<String> =
        sqlx::query_scalar("SELECT org_id FROM invitations WHERE email = 'mine@example.org'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(
        placed,
        Some(home.to_string()),
        "always into its own organization"
    );

    let above = [
        ("email", "boss@example.org"),
        ("display_name", "Boss"),
        ("role", "system-admin"),
    ];
    let refused = post_form(&app, &admin, "/admin/invitations", &above).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invitations")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(count, 2, "nothing was stored");

    let page = app
        .get_as(&admin, "/admin/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("mine@example.org") && !page.contains("national@example.org"));
    let revoke_theirs = post_form(
        &app,
        &admin,
        &format!("/admin/invitations/{national_id}/revoke"),
        &[],
    )
    .await;
    assert_eq!(revoke_theirs.status(), StatusCode::NOT_FOUND);
    let revoked = post_form(
        &app,
        &system,
        &format!("/admin/invitations/{national_id}/revoke"),
        &[],
    )
    .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invitations")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(left, 1);
}

on_both_databases! {
    a_supervisor_breaks_the_glass_with_a_reason_and_administrators_see_it;
}

async fn a_supervisor_breaks_the_glass_with_a_reason_and_administrators_see_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (home, other) = two_providers(&app).await;
    accounts::create_user(
        &app.db,
        &app.crypto,
        atip::accounts::model::NewUser {
            email: atip::accounts::model::Email::parse("oncall@home.example.org").unwrap(),
            display_name: "Orla Oncall".into(),
            phone: Some(atip::accounts::model::Phone::parse("+1 512 555 0142").unwrap()),
            roles: vec![Role::ProviderCaseManager],
            organization: Some(home),
            password: atip::kernel::auth::password::Password::new(
                "quiet harbor lantern meadow".into(),
            ),
        },
    )
    .await
    .unwrap();
    let page = format!("/organizations/{home}/on-call");
    let text = |r: reqwest::Response| async move { (r.status(), r.text().await.unwrap()) };

    // Its own staff see the rota; another provider's do not.
    let own = app.signed_in(Role::ProviderAdmin, Some(home)).await;
    let (status, body) = text(app.get_as(&own, &page).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Orla Oncall") && body.contains("+15125550142"));
    assert!(!body.contains("break-glass"));
    let stranger = app.signed_in(Role::ProviderCaseManager, Some(other)).await;
    assert_eq!(
        app.get_as(&stranger, &page).await.status(),
        StatusCode::FORBIDDEN
    );
    let refused: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events \
         WHERE action = 'read-on-call-contacts' AND outcome = 'denied'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(refused, 1, "the refusal is audited");
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let asked = post_form(
        &app,
        &advocate,
        &page,
        &[("reason", "A caller is in danger now")],
    )
    .await;
    assert_eq!(
        asked.status(),
        StatusCode::FORBIDDEN,
        "advocates cannot break the glass"
    );

    // A supervisor is asked for a reason first.
    let (supervisor_email, password) = app.user(Role::HotlineSupervisor, None).await;
    let supervisor = app.sign_in(&supervisor_email, &password).await;
    let (status, body) = text(app.get_as(&supervisor, &page).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("name=\"reason\"") && !body.contains("+15125550142"));
    let short = post_form(&app, &supervisor, &page, &[("reason", "urgent")]).await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    let reason = "Caller at the Home shelter reports an intruder; warm transfer needed now";
    let opened = post_form(&app, &supervisor, &page, &[("reason", reason)]).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let (status, body) = text(app.get_as(&supervisor, &page).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("+15125550142") && body.contains("Opened by break-glass"));

    // The grant is theirs alone, and ends.
    let colleague = app.signed_in(Role::HotlineSupervisor, None).await;
    assert_eq!(
        app.get_as(&colleague, &page).await.status(),
        StatusCode::FORBIDDEN
    );
    let (grant, sealed): (String, String) =
        sqlx::query_as("SELECT id, reason FROM break_glass_grants")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert!(!sealed.contains("intruder"), "the reason is sealed");

    // Audited: the grant, and each opening under it.
    let events: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action, detail FROM audit_events \
         WHERE action IN ('break-glass', 'organization.on_call.read') ORDER BY seq",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    let via_grant = Some(format!("break-glass={grant}"));
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0], ("organization.on_call.read".into(), None));
    assert_eq!(events[1].0, "break-glass");
    assert!(events[1].1.as_deref().unwrap().contains(&grant));
    assert_eq!(events[2], ("organization.on_call.read".into(), via_grant));

    // Administrators review every grant with its reason.
    let admin = app.signed_in(Role::SystemAdmin, None).await;
    let (status, body) = text(app.get_as(&admin, "/admin/break-glass").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(reason) && body.contains(&supervisor_email));
    assert_eq!(
        app.get_as(&supervisor, "/admin/break-glass").await.status(),
        StatusCode::FORBIDDEN
    );

    sqlx::query("UPDATE break_glass_grants SET expires_at = 0")
        .execute(app.db.writer())
        .await
        .unwrap();
    assert_eq!(
        app.get_as(&supervisor, &page).await.status(),
        StatusCode::FORBIDDEN,
        "an hour later it asks again"
    );
}
