//! `TestApp`: the real server on port 0 with a fresh database per test, on SQLite
//! always and on PostgreSQL (a fresh schema per test) when `ATIP_TEST_POSTGRES_URL` is set.

use std::net::SocketAddr;

use atip::accounts::model::{Email, NewUser};
use atip::accounts::service as accounts;
use atip::app::Application;
use atip::kernel::auth::Role;
use atip::kernel::auth::password::Password;
use atip::kernel::config::Config;
use atip::kernel::crypto::Crypto;
use atip::kernel::db::{DatabaseUrl, Db};
use atip::orgs::model::OrgId;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const POSTGRES_ENV: &str = "ATIP_TEST_POSTGRES_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// For each `async fn NAME(Backend)` named, generates `mod NAME { sqlite, postgres }`
/// tests. The PostgreSQL one says it was skipped when no server is configured.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident;)*) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_none() {
                    eprintln!("skipped: set {} to run the PostgreSQL half", $crate::helpers::POSTGRES_ENV);
                    return;
                }
                super::$name($crate::helpers::Backend::Postgres).await;
            }
        }
    )*};
}

pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|s| !s.is_empty())
}

/// A fresh, empty database of the given kind, and the folder that holds it.
pub struct FreshDb {
    pub url: DatabaseUrl,
    pub dir: tempfile::TempDir,
}

pub async fn fresh_database(backend: Backend) -> FreshDb {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => DatabaseUrl::sqlite_file(&dir.path().join("atip.db")),
        Backend::Postgres => {
            let base = postgres_url().expect("PostgreSQL configured");
            let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
            let admin = Db::connect(&DatabaseUrl::parse(&base).unwrap())
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(admin.reader())
                .await
                .unwrap();
            admin.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            DatabaseUrl::parse(&format!("{base}{sep}options=-c%20search_path%3D{schema}")).unwrap()
        }
    };
    FreshDb { url, dir }
}

pub fn test_config(fresh: &FreshDb) -> Config {
    Config {
        database_url: Some(fresh.url.clone()),
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: fresh.dir.path().to_path_buf(),
        max_body_bytes: 64 * 1024,
        shutdown_grace_secs: 5,
        secure_cookies: false,
        // Most tests sign in with a password only; tests/it/mfa.rs turns this on.
        require_mfa: false,
        // Tests sign in many accounts from one address; tests/it/accounts.rs checks the limit.
        sign_in_per_ip_per_minute: 100_000,
        ..Config::default()
    }
}

/// A signed-in browser: its session cookie and the CSRF token its forms carry.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub crypto: Crypto,
    pub stop: CancellationToken,
    pub server: Option<JoinHandle<()>>,
    pub fresh: FreshDb,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like `spawn`, with the configuration changed by `configure` first.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        let fresh = fresh_database(backend).await;
        let mut config = test_config(&fresh);
        configure(&mut config);
        Self::start(&config, fresh).await
    }

    /// A second server on this one's database and data folder (as a second process of
    /// one deployment would be), configured like `spawn_with`.
    pub async fn beside(&self, configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = test_config(&self.fresh);
        configure(&mut config);
        let shared = FreshDb {
            url: self.fresh.url.clone(),
            dir: tempfile::tempdir().unwrap(),
        };
        Self::start(&config, shared).await
    }

    async fn start(config: &Config, fresh: FreshDb) -> Self {
        let app = Application::build(config).await.unwrap();
        let base = format!("http://{}", app.local_addr());
        let db = app.db().clone();
        let crypto = app.crypto().clone();
        let stop = CancellationToken::new();
        let token = stop.clone();
        let server = tokio::spawn(async move {
            app.run(token).await.unwrap();
        });
        Self {
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            db,
            crypto,
            stop,
            server: Some(server),
            fresh,
        }
    }

    /// Creates an account with `role` (in `org` if given) and returns its email and password.
    pub async fn user(&self, role: Role, org: Option<OrgId>) -> (String, String) {
        let email = format!(
            "{}-{}@example.org",
            role.id(),
            uuid::Uuid::now_v7().simple()
        );
        let password = "lantern orchard velvet canyon".to_owned();
        accounts::create_user(
            &self.db,
            &self.crypto,
            NewUser {
                email: Email::parse(&email).unwrap(),
                display_name: format!("Test {role}"),
                phone: None,
                roles: vec![role],
                organization: org,
                password: Password::new(password.clone()),
            },
        )
        .await
        .unwrap();
        (email, password)
    }

    /// The double-submit token a form without a session (sign-in, invitation) sets.
    async fn signin_csrf(&self, form_path: &str) -> String {
        let form = self.get(form_path).await;
        let csrf_cookie = form
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("atip_signin_csrf="))
            .unwrap();
        csrf_cookie
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned()
    }

    /// Accepts an invitation through its form, as the invited person does.
    pub async fn post_invitation(
        &self,
        email: &str,
        code: &str,
        password: &str,
        again: &str,
    ) -> reqwest::Response {
        let csrf = self.signin_csrf("/sign-in/invitation").await;
        self.client
            .post(self.url("/sign-in/invitation"))
            .header("cookie", format!("atip_signin_csrf={csrf}"))
            .form(&[
                ("email", email),
                ("code", code),
                ("password", password),
                ("again", again),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the form, as a browser would; returns the response.
    pub async fn post_sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        let csrf = self.signin_csrf("/sign-in").await;
        self.client
            .post(self.url("/sign-in"))
            .header("cookie", format!("atip_signin_csrf={csrf}"))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", csrf.as_str()),
                ("next", "/account"),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the session.
    pub async fn sign_in(&self, email: &str, password: &str) -> Session {
        let response = self.post_sign_in(email, password).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in failed for {email}"
        );
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("atip_session="))
            .unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let account = self
            .client
            .get(self.url("/account"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let html = account.text().await.unwrap();
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        Session { cookie, csrf }
    }

    /// A new account with `role`, signed in.
    pub async fn signed_in(&self, role: Role, org: Option<OrgId>) -> Session {
        let (email, password) = self.user(role, org).await;
        self.sign_in(&email, &password).await
    }

    pub async fn get_as(&self, session: &Session, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("cookie", &session.cookie)
            .send()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_html(&self, path: &str, accept_language: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(self.url(path))
            .header("accept-language", accept_language)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Stops the server the way a signal does, waits for it to finish, and hands back
    /// the database folder for inspection.
    pub async fn shutdown(mut self) -> FreshDb {
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        let placeholder = FreshDb {
            url: self.fresh.url.clone(),
            dir: tempfile::tempdir().unwrap(),
        };
        std::mem::replace(&mut self.fresh, placeholder)
    }

    /// Adds a national grantee organization named `name` and returns its id.
    /// The files in the outbox folder (mail without SMTP), once there are at least
    /// `at_least` of them or ten seconds have passed: the job worker writes them.
    pub async fn outbox(&self, at_least: usize) -> Vec<std::path::PathBuf> {
        let folder = self.fresh.dir.path().join("outbox");
        let mut files = Vec::new();
        for _ in 0..100 {
            if let Ok(entries) = std::fs::read_dir(&folder) {
                files = entries.map(|e| e.unwrap().path()).collect();
                if files.len() >= at_least {
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        files
    }

    /// Imports library documents given as (title, language, visibility), each a
    /// one-line text file; their ids, in the same order.
    pub async fn library_documents(&self, documents: &[(&str, &str, &str)]) -> Vec<String> {
        use std::fmt::Write as _;
        let folder = tempfile::tempdir().unwrap();
        let mut metadata =
            "file,title,summary,audiences,topics,languages,publisher,visibility\n".to_owned();
        for (n, (title, language, visibility)) in documents.iter().enumerate() {
            std::fs::write(folder.path().join(format!("{n}.txt")), title).unwrap();
            let _ = writeln!(
                metadata,
                "{n}.txt,{title},About {title},victims-and-survivors,labor-trafficking,{language},OTIP,{visibility}"
            );
        }
        std::fs::write(folder.path().join("metadata.csv"), metadata).unwrap();
        atip::library::service::import_dir(&self.db, folder.path())
            .await
            .unwrap();
        let mut ids = Vec::new();
        for (title, _, _) in documents {
            ids.push(
                sqlx::query_scalar("SELECT id FROM library_documents WHERE title = $1")
                    .bind(title)
                    .fetch_one(self.db.reader())
                    .await
                    .unwrap(),
            );
        }
        ids
    }

    pub async fn organization(&self, name: &str) -> OrgId {
        let id = OrgId::new();
        atip::orgs::service::create_many(
            &self.db,
            &[(
                id,
                crate::storage::org(name, atip::orgs::model::OrgKind::NationalGrantee, None),
            )],
        )
        .await
        .unwrap();
        id
    }

    /// Imports the sample directory (a confidential shelter and a legal-aid office).
    pub async fn seed_directory(&self) {
        atip::directory::service::import(
            &self.db,
            &self.crypto,
            &fixture("directory/organizations.json"),
            atip::directory::service::ImportOptions::default(),
            &|_, _| {},
        )
        .await
        .unwrap();
    }
}

/// A file or folder under tests/fixtures.
pub fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The `name=value` of the first cookie a response sets.
pub fn first_cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// Signs in to a server at `base` through its form, as a browser would (for servers
/// started as a separate process).
pub async fn browser_sign_in(base: &str, email: &str, password: &str) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client.get(format!("{base}/sign-in")).send().await.unwrap();
    let cookie = first_cookie(&form);
    let csrf = cookie.split_once('=').unwrap().1.to_owned();
    client
        .post(format!("{base}/sign-in"))
        .header("cookie", &cookie)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
}
