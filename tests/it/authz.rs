//! The authorization matrix: every declared route, called as nobody, as every role and
//! as a user of another organization, answers as the policy says.

use std::fmt::Write as _;

use atip::kernel::auth::Role;
use atip::kernel::authz::{self, Policy, ROUTES};
use atip::orgs::model::{OrgId, OrgKind};
use atip::orgs::service as orgs;
use reqwest::StatusCode;

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;
use crate::storage::org;

on_both_databases! {
    every_route_answers_every_role_as_the_policy_says;
}

struct Caller {
    label: String,
    role: Option<Role>,
    organization: Option<OrgId>,
    credentials: Option<(String, String)>,
    session: Option<Session>,
}

async fn every_route_answers_every_role_as_the_policy_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (home, other) = (OrgId::new(), OrgId::new());
    orgs::create_many(
        &app.db,
        &[
            (home, org("Home NGO", OrgKind::NationalGrantee, None)),
            (other, org("Other NGO", OrgKind::NationalGrantee, None)),
        ],
    )
    .await
    .unwrap();

    let mut callers = vec![Caller {
        label: "anonymous".into(),
        role: None,
        organization: None,
        credentials: None,
        session: None,
    }];
    let mut accounts: Vec<(String, Role, Option<OrgId>)> = Role::ALL
        .iter()
        .map(|r| (r.id().to_owned(), *r, r.is_org_scoped().then_some(home)))
        .collect();
    accounts.push((
        "provider-case-manager of another organization".into(),
        Role::ProviderCaseManager,
        Some(other),
    ));
    for (label, role, organization) in accounts {
        let (email, password) = app.user(role, organization).await;
        let session = app.sign_in(&email, &password).await;
        callers.push(Caller {
            label,
            role: Some(role),
            organization,
            credentials: Some((email, password)),
            session: Some(session),
        });
    }

    // Routes that end the session go last.
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|r| (r.method == "POST", r.path == "/sign-out"));
    // The accounts and tokens the administration routes act on are nobody's above.
    let (target_email, _) = app.user(Role::Analyst, None).await;
    let some_user: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(&target_email)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let _token = atip::accounts::tokens::create(
        &app.db,
        &target_email,
        None,
        std::time::Duration::from_hours(1),
    )
    .await
    .unwrap();
    let some_token: String = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    // Made in the name of an existing account, which the invitation records.
    let admin = atip::kernel::auth::Principal {
        id: some_user.parse().unwrap(),
        ..record_reader(Role::SystemAdmin, None)
    };
    atip::accounts::invitations::invite(
        &app.db,
        &app.crypto,
        &admin,
        atip::accounts::model::NewInvitation::parse(
            "invited@example.org",
            "Invited",
            &["analyst"],
            "",
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let some_invitation: String = sqlx::query_scalar("SELECT id FROM invitations")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    // The public directory's objects, for its `{id}` routes.
    app.seed_directory().await;
    // A public library document, for the library's `{id}` routes.
    let shelf = tempfile::tempdir().unwrap();
    std::fs::write(shelf.path().join("guide.txt"), "A guide").unwrap();
    std::fs::write(
        shelf.path().join("metadata.csv"),
        "file,title,summary,audiences,topics,languages,publisher,visibility\n\
         guide.txt,Guide,A guide,general-public,,en,OTIP,public\n",
    )
    .unwrap();
    atip::library::service::import_dir(&app.db, shelf.path())
        .await
        .unwrap();
    let document: String = sqlx::query_scalar("SELECT id FROM library_documents")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    // An individual, for the `/individuals/{id}` routes.
    let curator = atip::kernel::auth::Principal {
        id: atip::kernel::auth::UserId::new(),
        email: String::new(),
        display_name: String::new(),
        roles: vec![Role::DirectoryCurator],
        organization_id: None,
        session: None,
        scopes: None,
    };
    let listed = atip::directory::individuals::model::IndividualForm {
        name: "Matrix Person".into(),
        expertise: "trainer".into(),
        preference: "through-hotline".into(),
        listed: "on".into(),
        ..Default::default()
    }
    .parse(|_| true)
    .unwrap();
    let person =
        atip::directory::individuals::service::save(&app.db, &app.crypto, &curator, None, &listed)
            .await
            .unwrap();
    let hsds_ids = [
        ("/hsds/services/", "11111111-aaaa-4111-8111-111111111111"),
        (
            "/find-help/services/",
            "11111111-aaaa-4111-8111-111111111111",
        ),
        (
            "/directory/services/",
            "11111111-aaaa-4111-8111-111111111111",
        ),
        ("/directory/curate/", "11111111-1111-4111-8111-111111111111"),
        (
            "/hsds/organizations/",
            "11111111-1111-4111-8111-111111111111",
        ),
        (
            "/hsds/service_at_locations/",
            "11111111-9999-4111-8111-111111111111",
        ),
        ("/hsds/taxonomies/", "4f47f1b4-96b0-5d35-a23f-1d5d57ac2c5c"),
        (
            "/hsds/taxonomy_terms/",
            "ae249c41-2483-5fff-8956-a3be8d55984d",
        ),
    ];
    let mut failures = Vec::new();
    for caller in &callers {
        for route in &routes {
            let id = if route.path.starts_with("/admin/users/") {
                some_user.clone()
            } else if route.path.starts_with("/admin/tokens/") {
                some_token.clone()
            } else if route.path.starts_with("/admin/invitations/") {
                some_invitation.clone()
            } else if route.path.starts_with("/library/") {
                document.clone()
            } else if route.path.contains("/individuals/") {
                person.clone()
            } else if let Some((_, id)) = hsds_ids.iter().find(|(p, _)| route.path.starts_with(p)) {
                (*id).to_owned()
            } else {
                home.to_string()
            };
            let path = route
                .path
                .replace("{id}", &id)
                .replace("{number}", "1")
                .replace("{*path}", "atip.css");
            let status = call(&app, caller, route.method, &path, home).await;
            let expected = expectation(caller, route.method, route.path, route.policy, home);
            if !expected.contains(&status) {
                failures.push(format!(
                    "{} {} as {}: got {status}, expected one of {expected:?}",
                    route.method, route.path, caller.label
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn call(app: &TestApp, caller: &Caller, method: &str, path: &str, home: OrgId) -> StatusCode {
    match (method, path) {
        ("GET", _) => {
            let mut request = app.client.get(app.url(path));
            if let Some(session) = &caller.session {
                request = request.header("cookie", &session.cookie);
            }
            request.send().await.unwrap().status()
        }
        ("POST", "/sign-in") => {
            let (email, password) = caller
                .credentials
                .clone()
                .unwrap_or_else(|| ("nobody@example.org".into(), "not a password".into()));
            app.post_sign_in(&email, &password).await.status()
        }
        ("POST", "/sign-in/invitation") => {
            let password = "a long and unguessable passphrase";
            app.post_invitation("nobody@example.org", "not-a-code", password, password)
                .await
                .status()
        }
        ("POST", "/admin/invitations") => {
            let email = format!("{}@invited.example.org", caller.label.replace(' ', "-"));
            let home = home.to_string();
            let form = [
                ("email", email.as_str()),
                ("display_name", "Matrix Invitee"),
                ("role", "provider-case-manager"),
                ("organization", home.as_str()),
            ];
            post_form(app, caller, path, &form).await
        }
        ("POST", p) if p.starts_with("/admin/") => {
            let form = [
                ("status", "active"),
                ("role", "analyst"),
                ("name", "Matrix NGO"),
                ("kind", "national_grantee"),
                ("city", "Austin"),
                ("state", "TX"),
            ];
            post_form(app, caller, path, &form).await
        }
        ("POST", "/directory/apply") => {
            let form = [
                ("name", "Matrix Shelter"),
                ("description", "Beds for survivors"),
                ("email", "intake@matrix.example.org"),
                ("phone", "+1 512 555 0100"),
                ("city", "Austin"),
                ("state", "TX"),
                ("service_type", "ae249c41-2483-5fff-8956-a3be8d55984d"),
                ("references", "Two partners"),
            ];
            app.client
                .post(app.url(path))
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
        }
        ("POST", p) if p.starts_with("/directory/curate/") && p.ends_with("/records") => {
            let link = "service_id/11111111-aaaa-4111-8111-111111111111";
            post_form(app, caller, path, &[("kind", "schedule"), ("link", link)]).await
        }
        // Asks what deleting would take with it: the confirmation page, nothing deleted.
        ("POST", p) if p.starts_with("/directory/curate/") && p.ends_with("/delete") => {
            let record = "service/11111111-aaaa-4111-8111-111111111111";
            post_form(app, caller, path, &[("record", record)]).await
        }
        ("POST", p) if p.starts_with("/directory/curate/") => {
            post_form(app, caller, path, &[("decision", "verify")]).await
        }
        ("POST", p) if p.starts_with("/library/curate") => {
            let csrf = caller
                .session
                .as_ref()
                .map(|s| s.csrf.clone())
                .unwrap_or_default();
            let fields = [
                ("csrf", csrf.as_str()),
                ("title", "Matrix guide"),
                ("summary", "For the matrix"),
                ("audiences", "general-public"),
                ("languages", "en"),
                ("publisher", "OTIP"),
                ("visibility", "public"),
                ("url", "https://example.org/guide"),
            ];
            if p.ends_with("/versions") || p == "/library/curate" {
                let mut request = app.client.post(app.url(path));
                if let Some(session) = &caller.session {
                    request = request.header("cookie", &session.cookie);
                }
                // One body of known length: a refused request is answered before the
                // server reads it, and a streamed body could still be being written.
                let boundary = "atip-matrix-boundary";
                let mut body = String::new();
                for (k, v) in fields {
                    let _ = write!(
                        body,
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                    );
                }
                let _ = write!(body, "--{boundary}--\r\n");
                request
                    .header(
                        "content-type",
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status()
            } else {
                post_form(app, caller, path, &fields[1..7]).await
            }
        }
        ("POST", p) if p.starts_with("/organizations/") => {
            post_form(
                app,
                caller,
                path,
                &[("reason", "A caller is in danger right now")],
            )
            .await
        }
        ("POST", p) if p.starts_with("/directory/services/") => {
            post_form(app, caller, path, &[("note", "Matrix note")]).await
        }
        ("POST", p) if p.starts_with("/directory/individuals") => {
            let form = [
                ("name", "Matrix Person"),
                ("expertise", "trainer"),
                ("preference", "through-hotline"),
            ];
            post_form(app, caller, path, &form).await
        }
        ("POST", "/sign-in/mfa" | "/account/mfa" | "/sign-out") => {
            post_form(app, caller, path, &[("code", "000000")]).await
        }
        ("POST", "/api/v1/hotline/contacts") => {
            let mut request = app
                .client
                .post(app.url(path))
                .header(
                    "idempotency-key",
                    format!("matrix-{}", caller.label.replace(' ', "-")),
                )
                .json(&serde_json::json!({
                    "channel": "phone", "direction": "inbound",
                    "started_at": "2026-11-29T03:12:00Z", "language": "en",
                    "caller_type": "community-member", "reasons": ["tip"]
                }));
            if let Some(session) = &caller.session {
                request = request.header("cookie", &session.cookie);
            }
            request.send().await.unwrap().status()
        }
        // A case and an alert that do not exist: allowed callers get 404.
        ("POST", p) if p.starts_with("/api/v1/hotline/") => {
            let body = if p.ends_with("/screenings") {
                serde_json::json!({"answers": {"locked-in": "yes"}})
            } else if p.ends_with("/reports") {
                serde_json::json!({
                    "agency": "law-enforcement", "agency_name": "Matrix PD", "method": "phone",
                    "subject": "adult", "consent": true, "imminent_danger": false,
                    "trafficking_type": "unknown"
                })
            } else if p.ends_with("/referrals") {
                serde_json::json!({
                    "service_id": "11111111-aaaa-4111-8111-111111111111",
                    "urgency": "urgent", "kind": "information"
                })
            } else if p.ends_with("/identifiers") {
                serde_json::json!({"kind": "plate", "value": "7ABC123"})
            } else if p.ends_with("/reviews") {
                serde_json::json!({"score": 4})
            } else if p.ends_with("/crisis") {
                crate::hotline::checklist()
            } else if p.ends_with("/messages") {
                serde_json::json!({"body": "Matrix reply"})
            } else if p.ends_with("/resources") {
                serde_json::json!({"document_id": "nothing", "caller_agreed": true})
            } else if p.ends_with("/technical-assistance") {
                serde_json::json!({"topic": "other", "question": "Matrix?"})
            } else if p.ends_with("/answer") {
                serde_json::json!({"answer": "Matrix"})
            } else if p.ends_with("/outcome") {
                serde_json::json!({"outcome": "reached"})
            } else {
                serde_json::json!({})
            };
            let mut request = app.client.post(app.url(path)).json(&body);
            if let Some(session) = &caller.session {
                request = request.header("cookie", &session.cookie);
            }
            request.send().await.unwrap().status()
        }
        // A case that does not exist.
        ("PUT", p) if p.starts_with("/api/v1/hotline/cases/") => {
            let mut request = app
                .client
                .put(app.url(path))
                .json(&serde_json::json!({"status": "open", "trafficking_type": "labor"}));
            if let Some(session) = &caller.session {
                request = request.header("cookie", &session.cookie);
            }
            request.send().await.unwrap().status()
        }
        // Chats that do not exist.
        ("POST", p) if p.starts_with("/hotline/chats/") => {
            post_form(
                app,
                caller,
                path,
                &[("caller_type", "other"), ("reasons", "tip")],
            )
            .await
        }
        ("POST", "/hotline/contacts") => {
            let key = format!("matrix-page-{}", caller.label.replace(' ', "-"));
            let form = [
                ("idempotency_key", key.as_str()),
                ("started_at", "2026-11-29T03:12:00Z"),
                ("channel", "phone"),
                ("direction", "inbound"),
                ("caller_type", "community-member"),
                ("language", "en"),
                ("reasons", "tip"),
            ];
            post_form(app, caller, path, &form).await
        }
        // A contact and a case that do not exist: allowed callers get 404.
        ("POST", p) if p.starts_with("/hotline/") => {
            let form: &[(&str, &str)] = if p.ends_with("/referrals") {
                &[
                    ("service_id", "11111111-aaaa-4111-8111-111111111111"),
                    ("urgency", "urgent"),
                    ("kind", "information"),
                ]
            } else if p.ends_with("/reports") {
                &[
                    ("agency", "law-enforcement"),
                    ("agency_name", "Matrix PD"),
                    ("method", "phone"),
                    ("subject", "adult"),
                    ("consent", "on"),
                    ("trafficking_type", "unknown"),
                ]
            } else {
                &[("item/locked-in", "yes")]
            };
            post_form(app, caller, path, form).await
        }
        // Unsigned, as anyone but Twilio would send it.
        ("POST", p) if p.starts_with("/webhooks/twilio/") => app
            .client
            .post(app.url(path))
            .form(&[
                ("MessageSid", "SM1"),
                ("From", "+15555550100"),
                ("Body", "hi"),
            ])
            .send()
            .await
            .unwrap()
            .status(),
        other => panic!("the matrix test does not know how to call {other:?}; teach it"),
    }
}

/// Posts `fields` as a form, with the caller's session cookie and form token if any.
async fn post_form(
    app: &TestApp,
    caller: &Caller,
    path: &str,
    fields: &[(&str, &str)],
) -> StatusCode {
    let mut request = app.client.post(app.url(path));
    let mut form = vec![("csrf", "")];
    if let Some(session) = &caller.session {
        request = request.header("cookie", &session.cookie);
        form[0].1 = &session.csrf;
    }
    form.extend_from_slice(fields);
    request.form(&form).send().await.unwrap().status()
}

/// A principal with one role, in `organization`, for asking the policy.
fn record_reader(role: Role, organization: Option<OrgId>) -> atip::kernel::auth::Principal {
    atip::kernel::auth::Principal {
        id: atip::kernel::auth::UserId::new(),
        email: String::new(),
        display_name: String::new(),
        roles: vec![role],
        organization_id: organization,
        session: None,
        scopes: None,
    }
}

fn expectation(
    caller: &Caller,
    method: &str,
    path: &str,
    policy: Policy,
    home: OrgId,
) -> Vec<StatusCode> {
    let is_api = path.starts_with("/api/");
    // The accounts, tokens and invitations the administration routes act on belong to
    // no organization: a scoped administrator may call the route, but not reach them.
    let on_unowned_record = ["/admin/users/", "/admin/tokens/", "/admin/invitations/"]
        .iter()
        .any(|p| path.starts_with(p));
    match policy {
        Policy::Public if method == "POST" && path == "/sign-in/invitation" => {
            vec![StatusCode::UNAUTHORIZED]
        }
        Policy::Public if method == "POST" && path == "/sign-in" => {
            // The form answers: signed in (303) with good credentials, refused (401) without.
            if caller.credentials.is_some() {
                vec![StatusCode::SEE_OTHER]
            } else {
                vec![StatusCode::UNAUTHORIZED]
            }
        }
        Policy::Public if path.starts_with("/webhooks/twilio/") => vec![StatusCode::FORBIDDEN],
        // A plain GET of a socket, without the WebSocket handshake.
        Policy::Public if path.ends_with("/socket") => vec![StatusCode::BAD_REQUEST],
        Policy::Public => vec![StatusCode::OK],
        Policy::Requires(action) => match caller.role {
            None if is_api || method != "GET" => vec![StatusCode::UNAUTHORIZED],
            None => vec![StatusCode::SEE_OTHER],
            Some(role) => {
                let principal = record_reader(role, caller.organization);
                // The organization routes act on `home`'s records.
                if path.starts_with("/organizations/") {
                    return match authz::authorize(
                        Some(&principal),
                        action,
                        authz::Resource::Organization(home),
                    ) {
                        authz::Decision::Allow if method == "GET" => vec![StatusCode::OK],
                        // The reason form, until a reason is given.
                        authz::Decision::BreakGlass if method == "GET" => {
                            vec![StatusCode::FORBIDDEN]
                        }
                        authz::Decision::Allow | authz::Decision::BreakGlass => {
                            vec![StatusCode::SEE_OTHER]
                        }
                        _ => vec![StatusCode::FORBIDDEN],
                    };
                }
                let reaches = || {
                    authz::authorize(Some(&principal), action, authz::Resource::Unowned)
                        == authz::Decision::Allow
                };
                match authz::authorize(Some(&principal), action, authz::Resource::Global) {
                    authz::Decision::Allow if on_unowned_record && !reaches() => {
                        vec![StatusCode::NOT_FOUND]
                    }
                    authz::Decision::Allow if path == "/admin/invitations" => vec![StatusCode::OK],
                    // A made-up code gets the form's own refusal.
                    authz::Decision::Allow if method == "POST" && path.ends_with("/mfa") => {
                        vec![StatusCode::UNAUTHORIZED]
                    }
                    authz::Decision::Allow if path == "/api/v1/hotline/contacts" => {
                        vec![StatusCode::CREATED]
                    }
                    // An empty shift: refused by the form once the policy let it through.
                    authz::Decision::Allow
                        if path == "/api/v1/hotline/shifts" || path == "/hotline/shifts" =>
                    {
                        vec![StatusCode::BAD_REQUEST]
                    }
                    // The matrix asks for records that do not exist.
                    authz::Decision::Allow
                        if path.starts_with("/api/v1/hotline/") && path.contains("{id}") =>
                    {
                        vec![StatusCode::NOT_FOUND]
                    }
                    authz::Decision::Allow if path.ends_with("/socket") => {
                        vec![StatusCode::BAD_REQUEST]
                    }
                    // Accepting a chat that does not exist: back to the console.
                    authz::Decision::Allow if path == "/hotline/chats/{id}/accept" => {
                        vec![StatusCode::SEE_OTHER]
                    }
                    // Contacts, cases and chats that do not exist.
                    authz::Decision::Allow
                        if path.starts_with("/hotline/") && path.contains("{id}") =>
                    {
                        vec![StatusCode::NOT_FOUND]
                    }
                    authz::Decision::Allow if path == "/directory/curate/{id}/delete" => {
                        vec![StatusCode::OK]
                    }
                    authz::Decision::Allow if method == "POST" => vec![StatusCode::SEE_OTHER],
                    authz::Decision::Allow => vec![StatusCode::OK],
                    _ => vec![StatusCode::FORBIDDEN],
                }
            }
        },
    }
}

#[tokio::test]
async fn every_documented_api_route_has_a_declared_policy() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, doc) = app.get_json("/api/openapi.json").await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            assert!(
                authz::policy_for(&method, path).is_some(),
                "{method} {path} has no policy in kernel::authz::ROUTES"
            );
        }
    }
}

#[test]
fn the_published_matrix_matches_the_policy() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/authz-matrix.md"))
        .unwrap();
    assert!(
        doc.contains(&authz::matrix_markdown()),
        "docs/authz-matrix.md is out of date: regenerate it with `atip authz matrix`"
    );
}
