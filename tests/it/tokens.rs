//! API tokens: scoped, expiring, shown once.

use std::process::Command;
use std::time::Duration;

use atip::accounts::tokens::{self, TokenError};
use atip::kernel::auth::Role;
use atip::kernel::authz::Action;
use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;

on_both_databases! {
    a_token_acts_for_its_owner_within_its_scopes_until_it_expires;
}

async fn bearer(app: &TestApp, token: &str, path: &str) -> StatusCode {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn a_token_acts_for_its_owner_within_its_scopes_until_it_expires(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, _) = app.user(Role::HotlineAdvocate, None).await;
    let day = Duration::from_hours(24);

    let everything = tokens::create(&app.db, &email, None, day).await.unwrap();
    assert!(everything.starts_with("atip_"));
    assert_eq!(
        bearer(&app, &everything, "/api/v1/me").await,
        StatusCode::OK
    );
    assert_eq!(
        bearer(&app, &everything, "/api/v1/organizations").await,
        StatusCode::OK
    );

    let narrow = tokens::create(&app.db, &email, Some(vec![Action::ListOrganizations]), day)
        .await
        .unwrap();
    assert_eq!(
        bearer(&app, &narrow, "/api/v1/organizations").await,
        StatusCode::OK
    );
    assert_eq!(
        bearer(&app, &narrow, "/api/v1/me").await,
        StatusCode::FORBIDDEN,
        "out of scope"
    );

    // A token cannot carry more than its owner's roles allow.
    let err = tokens::create(&app.db, &email, Some(vec![Action::ReadAuditLog]), day)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TokenError::BeyondRoles("read-audit-log")),
        "{err:?}"
    );

    sqlx::query("UPDATE api_tokens SET expires_at = 0")
        .execute(app.db.writer())
        .await
        .unwrap();
    assert_eq!(
        bearer(&app, &everything, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "expired"
    );
    assert_eq!(
        bearer(&app, "atip_not-a-token", "/api/v1/me").await,
        StatusCode::UNAUTHORIZED
    );
    // Only the hash is stored.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(app.db.reader())
        .await
        .unwrap();
    assert!(stored.iter().all(|h| !h.contains(&everything[5..])));
}

#[tokio::test]
async fn the_cli_prints_a_working_token_once() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (email, _) = app.user(Role::Analyst, None).await;
    let output = Command::new(env!("CARGO_BIN_EXE_atip"))
        .args([
            "token",
            "create",
            "--database-url",
            app.fresh.url.expose(),
            "--email",
            &email,
        ])
        .args(["--scope", "list-organizations", "--expires", "12h"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(
        bearer(&app, &token, "/api/v1/organizations").await,
        StatusCode::OK
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_atip"))
        .args([
            "token",
            "create",
            "--database-url",
            app.fresh.url.expose(),
            "--email",
            &email,
            "--expires",
            "soon",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--expires"));

    // Listed without the token itself, then revoked at once.
    let atip = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_atip"))
            .args(args)
            .args(["--database-url", app.fresh.url.expose()])
            .output()
            .unwrap()
    };
    let list = String::from_utf8(atip(&["token", "list", "--email", &email]).stdout).unwrap();
    assert!(!list.contains(&token[5..]), "the token never prints again");
    assert!(list.contains("last used 20"), "{list}");
    let id = list.split_whitespace().next().unwrap().to_owned();
    assert!(atip(&["token", "revoke", "--id", &id]).status.success());
    assert_eq!(
        bearer(&app, &token, "/api/v1/organizations").await,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        String::from_utf8(atip(&["token", "list", "--email", &email]).stdout)
            .unwrap()
            .contains("REVOKED")
    );
    assert_eq!(
        atip(&["token", "revoke", "--id", &id]).status.code(),
        Some(1)
    );
}
