//! The `atip` binary itself: the demo, graceful shutdown on SIGTERM, and one clear
//! sentence for each kind of bad start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use atip::kernel::auth::Role;
use atip::kernel::db::{DatabaseUrl, Db};
use reqwest::StatusCode;

use crate::helpers::{Backend, fresh_database, postgres_url};

fn atip() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atip"));
    cmd.env_remove("ATIP_DATABASE_URL")
        .env_remove("ATIP_ADDR")
        .env_remove("ATIP_DATA_DIR")
        .env("NO_COLOR", "1");
    cmd
}

/// Starts `atip ARGS`, waits for the line with the address, and returns the child,
/// the base URL and everything it printed up to then.
fn start(args: &[&str], cwd: &Path) -> (Child, String, String) {
    start_with_env(args, cwd, &[])
}

/// `start` with extra environment variables for the child.
fn start_with_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> (Child, String, String) {
    let log = std::fs::File::create(cwd.join("atip-stderr.log")).unwrap();
    let mut child = atip()
        .envs(env.iter().copied())
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let base = loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            let log = std::fs::read_to_string(cwd.join("atip-stderr.log")).unwrap_or_default();
            panic!("atip exited early; printed: {printed}\nlogged: {log}");
        }
        printed.push_str(&line);
        if let Some(at) = line.find("http://") {
            break line[at..].trim().to_owned();
        }
    };
    // Keep reading the rest of the banner in the background so the pipe never fills.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    printed.extend(rx.try_iter().map(|l| format!("{l}\n")));
    (child, base, printed)
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait(mut child: Child) -> std::process::ExitStatus {
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("atip did not stop within 10 seconds");
}

/// Signs in to a running demo as the hotline advocate; returns the form's status.
async fn demo_sign_in(base: &str, password: &str) -> StatusCode {
    let email = atip::demo::email(Role::HotlineAdvocate);
    crate::helpers::browser_sign_in(base, &email, password)
        .await
        .status()
}

/// Organizations in the demo database, read beside the running server (WAL allows it).
async fn total_organizations(dir: &Path) -> i64 {
    let db = Db::connect(&DatabaseUrl::sqlite_file(&dir.join("atip-demo/atip.db")))
        .await
        .unwrap();
    let n = atip::orgs::service::count(&db).await.unwrap();
    db.close().await;
    n
}

#[tokio::test]
async fn the_demo_creates_its_folder_serves_and_reuses_it_on_a_second_run() {
    let work = tempfile::tempdir().unwrap();
    let (child, base, printed) = start(&["demo", "--addr", "127.0.0.1:0"], work.path());
    assert!(
        work.path().join("atip-demo/atip.db").is_file(),
        "the default folder is ./atip-demo"
    );
    assert!(printed.contains("created demo data"), "{printed}");
    for role in Role::ALL {
        assert!(printed.contains(&atip::demo::email(role)), "{printed}");
    }
    let password = atip::demo::password(2026);
    assert!(printed.contains(&password), "{printed}");
    assert_eq!(
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let home = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("every record here is synthetic"),
        "every page says it is a demo"
    );
    assert_eq!(
        demo_sign_in(&base, &password).await,
        StatusCode::SEE_OTHER,
        "a demo account signs in"
    );
    let first = total_organizations(work.path()).await;
    assert!(first > 50, "{first}");
    // The demo has a directory, and its search finds it (the index catches up with
    // the seeding through the change log).
    let services: serde_json::Value = reqwest::get(format!("{base}/hsds/services?per_page=1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(services["total_items"], 2000, "{services}");
    let began = std::time::Instant::now();
    loop {
        let found: serde_json::Value = reqwest::get(format!("{base}/hsds/services?search=shelter"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if found["total_items"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the demo directory is never searchable"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And a library whose files' words are found once the server has read them.
    loop {
        let page = reqwest::get(format!("{base}/library?q=passport"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if page.contains("<mark>passport</mark>") && page.contains("Screening questions") {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_mins(1),
            "the demo library is never searchable: {page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    terminate(&child);
    assert!(
        wait(child).success(),
        "Ctrl-C or SIGTERM stops the demo cleanly"
    );

    let (child, base, printed) = start(&["demo", "--addr", "127.0.0.1:0"], work.path());
    assert!(printed.contains("reusing the demo data"), "{printed}");
    assert!(
        printed.contains(&password),
        "the same password again: {printed}"
    );
    assert_eq!(demo_sign_in(&base, &password).await, StatusCode::SEE_OTHER);
    assert_eq!(
        total_organizations(work.path()).await,
        first,
        "nothing was duplicated"
    );
    terminate(&child);
    assert!(wait(child).success());
}

/// A request whose head is still arriving when SIGTERM comes is in flight: the server
/// must read the rest, answer it, and only then exit.
#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base, _) = start(
        &["serve", "--addr", "127.0.0.1:0", "--data-dir", "data"],
        dir.path(),
    );
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: atip\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    terminate(&child);
    std::thread::sleep(Duration::from_millis(500));
    stream.write_all(b"Connection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains(r#"{"status":"ok"}"#), "{answer}");
    assert!(wait(child).success());
}

/// The same for a handler that is waiting on the database: PostgreSQL holds the
/// home page's query on a table lock while SIGTERM arrives.
#[tokio::test]
async fn sigterm_waits_for_a_handler_blocked_on_the_database() {
    if postgres_url().is_none() {
        eprintln!(
            "skipped: set {} to run the PostgreSQL half",
            crate::helpers::POSTGRES_ENV
        );
        return;
    }
    let fresh = fresh_database(Backend::Postgres).await;
    let url = fresh.url.expose().to_owned();
    let (child, base, _) = start(
        &["serve", "--database-url", &url, "--addr", "127.0.0.1:0"],
        fresh.dir.path(),
    );
    let lock = Db::connect(&DatabaseUrl::parse(&url).unwrap())
        .await
        .unwrap();
    let mut conn = lock.writer().acquire().await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await
        .unwrap();
    let request = tokio::spawn(async move { reqwest::get(format!("{base}/")).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!request.is_finished(), "the request is held by the lock");
    terminate(&child);
    tokio::time::sleep(Duration::from_millis(500)).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.unwrap();
    drop(conn);
    lock.close().await;
    let response = request
        .await
        .unwrap()
        .expect("the in-flight request got its answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("</html>"));
    assert!(wait(child).success());
}

fn run(args: &[&str], cwd: &Path) -> Output {
    atip()
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The command failed with exit code 1 and one `error:` sentence containing `expect`.
fn assert_fails_with(output: &Output, expect: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains(expect),
        "expected {expect:?} in {stderr}"
    );
    errors[0].to_owned()
}

#[test]
fn a_port_in_use_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let data = dir.path().join("data");
    let output = run(
        &[
            "serve",
            "--addr",
            &addr,
            "--data-dir",
            data.to_str().unwrap(),
        ],
        dir.path(),
    );
    let line = assert_fails_with(&output, &format!("cannot listen on {addr}"));
    assert!(line.contains("--addr"), "{line}");
    assert!(!data.exists(), "nothing was created");
}

#[test]
fn an_unknown_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("atip.toml");
    std::fs::write(&file, "addr = \"127.0.0.1:0\"\nlisten_port = 80\n").unwrap();
    assert_fails_with(
        &run(&["migrate", "--config", file.to_str().unwrap()], dir.path()),
        "listen_port",
    );
}

#[test]
fn a_malformed_config_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("atip.toml");
    std::fs::write(&file, "addr = [unclosed\n").unwrap();
    assert_fails_with(
        &run(&["migrate", "--config", file.to_str().unwrap()], dir.path()),
        "configuration is not valid",
    );
    assert_fails_with(
        &run(
            &["migrate", "--config", "/nonexistent/atip.toml"],
            dir.path(),
        ),
        "does not exist",
    );
}

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        &[
            "migrate",
            "--database-url",
            "postgres://atip:hunter2-secret@127.0.0.1:1/atip",
        ],
        dir.path(),
    );
    let line = assert_fails_with(&output, "cannot reach the database");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("hunter2-secret"),
        "{line}"
    );
    assert!(line.contains("--database-url"), "{line}");
}

#[test]
fn an_unsupported_database_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_with(
        &run(
            &["migrate", "--database-url", "mysql://root@localhost/x"],
            dir.path(),
        ),
        "\"mysql\"",
    );
}

#[test]
fn an_unusable_data_folder_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // /proc refuses new folders even to root, so this holds when tests run as root.
    assert_fails_with(
        &run(&["migrate", "--data-dir", "/proc/atip-test"], dir.path()),
        "cannot use the data folder",
    );
}

#[tokio::test]
async fn a_foreign_or_newer_database_is_refused_by_the_binary() {
    let fresh = fresh_database(Backend::Sqlite).await;
    let url = fresh.url.expose().to_owned();
    let db = Db::connect(&fresh.url).await.unwrap();
    sqlx::query("CREATE TABLE invoices (id BIGINT)")
        .execute(db.writer())
        .await
        .unwrap();
    assert_fails_with(
        &run(&["migrate", "--database-url", &url], fresh.dir.path()),
        "not created by atip",
    );
    sqlx::query("DROP TABLE invoices")
        .execute(db.writer())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99999999999999, 'future', TRUE, x'00', 0)")
        .execute(db.writer())
        .await
        .unwrap();
    db.close().await;
    assert_fails_with(
        &run(&["migrate", "--database-url", &url], fresh.dir.path()),
        "newer atip",
    );
}

#[test]
fn migrate_and_version_work_and_every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(&["migrate", "--data-dir", "data"], dir.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("data/atip.db").is_file());
    let version = run(&["version"], dir.path());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("atip "));
    for command in ["serve", "demo", "migrate", "version"] {
        let help = run(&[command, "--help"], dir.path());
        assert!(help.status.success());
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("Usage: atip"),
            "{command}"
        );
    }
}

#[test]
fn settings_come_from_the_environment_and_secret_files() {
    let dir = tempfile::tempdir().unwrap();
    let output = atip()
        .args(["migrate"])
        .current_dir(dir.path())
        .env("ATIP_DATA_DIR", "from-env")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("from-env/atip.db").is_file());

    let secret = dir.path().join("db-url");
    std::fs::write(
        &secret,
        format!("sqlite://{}/from-file.db?mode=rwc\n", dir.path().display()),
    )
    .unwrap();
    let output = atip()
        .args(["migrate"])
        .current_dir(dir.path())
        .env("ATIP_DATABASE_URL_FILE", &secret)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("from-file.db").is_file());

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = atip()
        .args(["serve"])
        .current_dir(dir.path())
        .env("ATIP_ADDR", &addr)
        .output()
        .unwrap();
    assert_fails_with(&output, &addr);
}

crate::on_both_databases! {
    two_server_processes_keep_one_audit_chain;
}

/// Two `atip serve` processes on one database, each refusing (and auditing) requests as
/// fast as they come, write one unbroken chain.
async fn two_server_processes_keep_one_audit_chain(backend: Backend) {
    let fresh = fresh_database(backend).await;
    let url = fresh.url.expose().to_owned();
    let data = fresh.dir.path().join("data");
    let data = data.to_str().unwrap();
    let common = ["--database-url", url.as_str(), "--data-dir", data];
    let mut create = atip()
        .args([
            "user",
            "create",
            "--email",
            "a@example.org",
            "--role",
            "analyst",
        ])
        .args(["--password-stdin"])
        .args(common)
        .current_dir(fresh.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(b"lantern orchard velvet canyon\n")
        .unwrap();
    let created = create.wait_with_output().unwrap();
    assert!(created.status.success(), "{created:?}");

    let mut servers = Vec::new();
    for name in ["one", "two"] {
        let cwd = fresh.dir.path().join(name);
        std::fs::create_dir(&cwd).unwrap();
        let mut args = vec!["serve", "--addr", "127.0.0.1:0"];
        args.extend(common);
        let (child, base, _) = start_with_env(&args, &cwd, &[("ATIP_SECURE_COOKIES", "false")]);
        let signed_in = crate::helpers::browser_sign_in(
            &base,
            "a@example.org",
            "lantern orchard velvet canyon",
        )
        .await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        let cookie = crate::helpers::first_cookie(&signed_in);
        servers.push((child, base, cookie));
    }
    let refusals = servers.iter().map(|(_, base, cookie)| {
        let (base, cookie) = (base.clone(), cookie.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for _ in 0..40 {
                let status = client
                    .get(format!("{base}/admin/audit"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(status, StatusCode::FORBIDDEN);
            }
        })
    });
    for task in refusals.collect::<Vec<_>>() {
        task.await.unwrap();
    }
    for (child, _, _) in servers {
        terminate(&child);
        assert!(wait(child).success());
    }
    let verify = atip()
        .args(["audit", "verify"])
        .args(common)
        .current_dir(fresh.dir.path())
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    let db = Db::connect(&fresh.url).await.unwrap();
    let denied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE outcome = 'denied'")
            .fetch_one(db.reader())
            .await
            .unwrap();
    assert_eq!(
        denied, 80,
        "every refusal of both processes is in the chain"
    );
    db.close().await;
}

#[test]
fn import_and_export_hsds_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");

    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("services.csv"),
        "id,organization_id,name,status\n\
         33333333-aaaa-4333-8333-000000000001,33333333-3333-4333-8333-333333333333,Dangling,active\n",
    )
    .unwrap();
    let out: Output = atip()
        .args(["import", "hsds", "--data-dir", data, bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: services.csv row 2 field organization_id"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    let out = atip()
        .args(["import", "hsds", "--data-dir", data])
        .arg(fixtures.join("directory/organizations.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("imported 2 organization"), "{stdout}");
    // The import wrote alone with the rollback journal and left the file in WAL
    // (bytes 18 and 19 of a SQLite file's header are 2 in WAL, 1 otherwise).
    assert!(!Path::new(data).join("atip.db-journal").exists());
    let header = std::fs::read(Path::new(data).join("atip.db")).unwrap();
    assert_eq!(header[18..20], [2, 2], "the file is in WAL mode");

    let exported = dir.path().join("out");
    let out = atip()
        .args(["export", "hsds", "--data-dir", data])
        .arg(&exported)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote 2 services"));
    assert!(exported.join("datapackage.json").is_file());
    assert!(exported.join("json/organizations.json").is_file());
    let audit = atip()
        .args(["audit", "export", "--data-dir", data])
        .output()
        .unwrap();
    let events = String::from_utf8_lossy(&audit.stdout);
    assert!(events.contains("directory.import") && events.contains("directory.export"));
}

#[test]
fn the_directory_benchmark_runs_and_agrees_with_its_peer() {
    let dir = tempfile::tempdir().unwrap();
    let out = atip()
        .args([
            "bench",
            "directory",
            "--services",
            "2000",
            "--queries",
            "200",
            "--work-dir",
        ])
        .arg(dir.path())
        // With a PostgreSQL server, its peer is measured and compared too.
        .args(
            postgres_url()
                .map(|url| vec!["--postgres-url".to_owned(), url])
                .unwrap_or_default(),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for figure in [
        "import into SQLite (atip import hsds):",
        "peak memory of the import process:",
        "index build from the database:",
        "peak memory of the search process (index built, queries run):",
        "atip (tantivy + grid, in process): p50",
        "SQLite FTS5 + R*Tree (sqlx): p50",
        "identical result lists: 200/200",
        "peak memory (whole run):",
    ] {
        assert!(stdout.contains(figure), "no {figure:?} in\n{stdout}");
    }
    let peers = if postgres_url().is_some() { 2 } else { 1 };
    assert_eq!(
        stdout.matches("identical result lists: 200/200").count(),
        peers,
        "{stdout}"
    );
    if peers == 2 {
        assert!(
            stdout.contains("PostgreSQL full text + GiST (sqlx): p50"),
            "{stdout}"
        );
    }
}

#[test]
fn import_a_library_folder_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let shelf = dir.path().join("shelf");
    std::fs::create_dir_all(&shelf).unwrap();
    std::fs::write(shelf.join("rights.txt"), "Know your rights").unwrap();
    let header = "file,url,title,summary,audiences,topics,languages,publisher,published_on,visibility,note\n";
    std::fs::write(
        shelf.join("metadata.csv"),
        format!("{header}rights.txt,,Rights,Short,aliens,,en,OTIP,,public,\n"),
    )
    .unwrap();
    let out = atip()
        .args([
            "import",
            "library",
            "--data-dir",
            data,
            shelf.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("metadata.csv line 2: audiences: has a value that is not on the list"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    std::fs::write(
        shelf.join("metadata.csv"),
        format!("{header}rights.txt,,Rights,Short,general-public,,en,OTIP,,public,\n"),
    )
    .unwrap();
    for expected in [
        "imported 1 new documents, 0 new versions; 0 files unchanged",
        "imported 0 new documents, 0 new versions; 1 files unchanged",
    ] {
        let out = atip()
            .args([
                "import",
                "library",
                "--data-dir",
                data,
                shelf.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(expected));
    }
}

/// The hotline benchmark at tiny sizes: it seeds, serves, loads, reads and surges, and
/// every contact and text it sent is stored exactly once (on PostgreSQL too, if given).
#[test]
fn the_hotline_benchmark_runs_and_loses_nothing() {
    let mut backends = vec![None];
    if let Some(url) = postgres_url() {
        backends.push(Some(url));
    }
    for postgres in backends {
        let dir = tempfile::tempdir().unwrap();
        let out = atip()
            .args([
                "bench",
                "hotline",
                "--contacts",
                "2000",
                "--cases",
                "400",
                "--clients",
                "20",
                "--requests",
                "200",
                "--work-dir",
            ])
            .arg(dir.path())
            .args(
                postgres
                    .map(|url| vec!["--postgres-url".to_owned(), url])
                    .unwrap_or_default(),
            )
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for figure in [
            "seed contacts (sealed as the service seals them, on every core): 2000 in",
            "seed cases: 400 in",
            "steady contacts: 200 requests from 20 clients",
            "steady texts: 200 requests from 20 clients",
            "read GET /api/v1/hotline/contacts/{id} (audited): 20 requests, p50",
            "read GET /api/v1/hotline/follow-ups: 20 requests, p50",
            "read GET /api/v1/hotline/coverage: 20 requests, p50",
            "read GET /hotline/console/panels: 20 requests, p50",
            "read GET /api/v1/hotline/indicators (30 days, supervisor): 20 requests, p50",
            "surge contacts: 200 requests from 200 clients",
            "surge texts: 200 requests from 200 clients",
            "steady rows: contacts 200 stored (200 distinct keys, 200 audited) of 200 sent; \
             texts 200 stored (200 distinct MessageSids) of 200 sent: all matched",
            "surge rows: contacts 200 stored (200 distinct keys, 200 audited) of 200 sent; \
             texts 200 stored (200 distinct MessageSids) of 200 sent: all matched",
        ] {
            assert!(stdout.contains(figure), "no {figure:?} in\n{stdout}");
        }
        assert!(!stdout.contains("NOT 2xx"), "{stdout}");
        assert_eq!(stdout.matches("errors 0;").count(), 4, "{stdout}");
    }
}

/// A benchmark with no clients, requests, contacts or cases would measure nothing: the
/// flag is refused, naming it, before anything is made.
#[test]
fn the_hotline_benchmark_refuses_counts_of_zero() {
    for flag in ["--contacts", "--cases", "--clients", "--requests"] {
        let out = atip()
            .args(["bench", "hotline", flag, "0"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(
            error.contains(flag) && error.contains("at least 1"),
            "{error}"
        );
    }
}
