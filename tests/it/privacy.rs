//! Personal fields never appear readable in the database or the logs, and survive a
//! master key rotation.

use std::io::Read;
use std::process::{Command, Stdio};

use atip::accounts::model::{Email, NewUser, Phone};
use atip::accounts::service as accounts;
use atip::hotline::model::consent::{Agency, ReportCase, ReportDraft, Subject};
use atip::kernel::auth::Role;
use atip::kernel::auth::password::Password;
use atip::kernel::crypto::Crypto;
use atip::kernel::db::Db;

use crate::helpers::{Backend, TestApp, fresh_database};
use crate::on_both_databases;

/// A synthetic person: nobody real has this name or number.
const NAME: &str = "Quillon Marwick-Trask";
const PHONE: &str = "+1 555 010 4477";
const PHONE_DIGITS: &str = "5550104477";

on_both_databases! {
    a_known_name_and_phone_are_not_readable_in_the_database;
    data_written_before_a_key_rotation_reads_back_after_it;
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        display_name: NAME.into(),
        phone: Some(Phone::parse(PHONE).unwrap()),
        roles: vec![Role::HotlineSupervisor],
        organization: None,
        password: Password::new("lantern orchard velvet canyon".into()),
    }
}

async fn a_known_name_and_phone_are_not_readable_in_the_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = accounts::create_user(&app.db, &app.crypto, new_user("q.marwick@example.org"))
        .await
        .unwrap();
    // The service reads them back, and finds the account by phone through the blind index.
    let (name, phone) = accounts::contact(&app.db, &app.crypto, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (name.as_str(), phone.as_deref()),
        (NAME, Some("+15550104477"))
    );
    let found = accounts::find_by_phone(
        &app.db,
        &app.crypto,
        &Phone::parse("(555) 010-4477").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(found, Some(id));
    // The same person listed in the directory as an individual (a survivor leader).
    let curator = atip::kernel::auth::Principal {
        id: atip::kernel::auth::UserId::new(),
        email: String::new(),
        display_name: String::new(),
        roles: vec![Role::DirectoryCurator],
        organization_id: None,
        session: None,
        scopes: None,
    };
    let person = atip::directory::individuals::model::IndividualForm {
        name: NAME.into(),
        phone: PHONE.into(),
        email: "q.marwick@example.org".into(),
        expertise: "survivor-leader".into(),
        preference: "direct".into(),
        listed: "on".into(),
        ..Default::default()
    }
    .parse(|_| true)
    .unwrap();
    atip::directory::individuals::service::save(&app.db, &app.crypto, &curator, None, &person)
        .await
        .unwrap();
    // A supervisor names the person as the reason for breaking the glass.
    let provider = app.organization("Privacy Provider").await;
    let supervisor = atip::kernel::auth::Principal {
        id,
        roles: vec![Role::HotlineSupervisor],
        ..curator.clone()
    };
    atip::kernel::breakglass::open(
        &app.db,
        &app.crypto,
        &supervisor,
        atip::kernel::authz::Action::ReadOnCallContacts,
        provider,
        &atip::kernel::breakglass::Reason::parse(&format!("{NAME} is in danger, call {PHONE}"))
            .unwrap(),
    )
    .await
    .unwrap();
    // The same person invited to a staff account, not yet accepted.
    let admin = atip::kernel::auth::Principal {
        id,
        roles: vec![Role::SystemAdmin],
        ..curator.clone()
    };
    atip::accounts::invitations::invite(
        &app.db,
        &app.crypto,
        &admin,
        atip::accounts::model::NewInvitation::parse("q.m@example.org", NAME, &["analyst"], "")
            .unwrap(),
    )
    .await
    .unwrap();

    // A hotline advocate records a call about the person, who later texts the line.
    let advocate = atip::kernel::auth::Principal {
        id,
        roles: vec![Role::HotlineAdvocate],
        ..curator.clone()
    };
    let call: atip::hotline::model::contact::ContactForm =
        serde_json::from_value(serde_json::json!({
            "channel": "phone", "direction": "inbound", "started_at": "2026-11-29T03:12:00Z",
            "language": "en", "caller_type": "potential-victim", "reasons": ["crisis"],
            "narrative": format!("{NAME} is kept at a farm"), "notes": format!("ask for {NAME}"),
            "caller_phone": PHONE, "code_word": NAME, "new_case": "labor"
        }))
        .unwrap();
    let intake = atip::hotline::intake::Intake::start(&app.db).unwrap();
    let recorded = atip::hotline::service::record(
        &intake,
        &app.crypto,
        &advocate,
        "privacy-key-1",
        "hash",
        call.parse().unwrap(),
    )
    .await
    .unwrap();
    // And reports the person to the police, with their consent.
    atip::hotline::cases::report(
        &app.db,
        &app.crypto,
        &advocate,
        recorded.case_id.as_deref().unwrap(),
        &ReportCase {
            subject: Subject::Adult,
            consent: true,
            imminent_danger: false,
            override_reason: None,
        },
        ReportDraft {
            agency: Agency::LawEnforcement,
            subject: Subject::Adult,
            subject_name: Some(NAME.into()),
            subject_phone: Some(PHONE.into()),
            subject_email: None,
            subject_address: None,
            subject_date_of_birth: None,
            description: Some(format!("{NAME} works without pay")),
            city: None,
            state: None,
            trafficking_type: atip::hotline::model::screening::SuggestedType::Labor,
            imminent_danger: false,
        },
        &atip::hotline::cases::ReportMeta {
            agency_name: "Police".into(),
            method: "phone".into(),
            reference: None,
            reported_at: None,
        },
    )
    .await
    .unwrap()
    .unwrap();
    let line = atip::hotline::sms::TextLine {
        auth_token: None,
        public_base_url: "https://hotline.example.org".into(),
        hotline_number: "1-888-373-7888".into(),
        text_line: "233733".into(),
        account_sid: None,
        api_base: "http://127.0.0.1:9".into(),
    };
    let text = atip::hotline::sms::Inbound {
        message_sid: "SMprivacy0000000000000000000000001".into(),
        from: PHONE.into(),
        body: format!("this is {NAME}, please help"),
    };
    atip::hotline::sms::receive(&intake, &app.crypto, &line, &text)
        .await
        .unwrap();
    // And on the web chat.
    let chat = atip::hotline::chat::start(&app.db, &app.crypto, "en", None)
        .await
        .unwrap();
    let said = format!("this is {NAME}, call me at {PHONE}");
    atip::hotline::chat::post(
        &app.db,
        &app.crypto,
        &chat.id,
        (atip::hotline::model::chat::Sender::Visitor, "privacy-1"),
        &said,
    )
    .await
    .unwrap()
    .unwrap();

    // The person asks for a library document by email.
    let document = app
        .library_documents(&[("Know your rights", "en", "public")])
        .await
        .remove(0);
    atip::hotline::resources::email(
        &app.db,
        &app.crypto,
        "https://hotline.example.org",
        &advocate,
        (&recorded.id, &document),
        &atip::accounts::model::Email::parse("q.marwick@example.org").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    // The worker writes it to the outbox folder (no SMTP here); wait for it.
    let mut mail = Vec::new();
    for file in app.outbox(1).await {
        std::fs::File::open(file)
            .unwrap()
            .read_to_end(&mut mail)
            .unwrap();
    }
    assert!(!mail.is_empty());
    let mail = String::from_utf8_lossy(&mail);

    let needles = [NAME, "Marwick", PHONE_DIGITS];
    for needle in needles {
        assert!(
            !mail.to_lowercase().contains(&needle.to_lowercase()),
            "{needle:?} is readable in the outbox folder"
        );
    }
    match backend {
        Backend::Sqlite => {
            let fresh = app.shutdown().await;
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(fresh.dir.path()).unwrap() {
                let path = entry.unwrap().path();
                if path.to_string_lossy().contains("atip.db") {
                    std::fs::File::open(&path)
                        .unwrap()
                        .read_to_end(&mut bytes)
                        .unwrap();
                }
            }
            assert!(bytes.len() > 10_000);
            let text = String::from_utf8_lossy(&bytes);
            for needle in needles {
                assert!(
                    !text.contains(needle),
                    "{needle:?} is readable in the SQLite files"
                );
            }
        }
        Backend::Postgres => {
            for table in app.db.table_names().await.unwrap() {
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST(t AS TEXT) FROM {table} t"
                )))
                .fetch_all(app.db.reader())
                .await
                .unwrap();
                for row in rows {
                    for needle in needles {
                        assert!(!row.contains(needle), "{needle:?} is readable in {table}");
                    }
                }
            }
        }
    }
}

async fn data_written_before_a_key_rotation_reads_back_after_it(backend: Backend) {
    let fresh = fresh_database(backend).await;
    let key_file = fresh.dir.path().join("master.key");
    let db = Db::connect(&fresh.url).await.unwrap();
    db.migrate().await.unwrap();
    let crypto = Crypto::open(db.clone(), &key_file).unwrap();
    let id = accounts::create_user(&db, &crypto, new_user("rotation@example.org"))
        .await
        .unwrap();
    let old_file = std::fs::read_to_string(&key_file).unwrap();

    let report = crypto.rotate().await.unwrap();
    assert!(
        report.data_keys >= 2,
        "the system and blind-index keys were re-wrapped"
    );
    let new_file = std::fs::read_to_string(&key_file).unwrap();
    assert!(new_file.contains(&report.new_master_key));
    let old_id = old_file
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    assert!(!new_file.contains(old_id), "the old master key is retired");

    // A process that starts now has only the new key file.
    let restarted = Crypto::open(db.clone(), &key_file).unwrap();
    let (name, phone) = accounts::contact(&db, &restarted, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (name.as_str(), phone.as_deref()),
        (NAME, Some("+15550104477"))
    );
    let found = accounts::find_by_phone(&db, &restarted, &Phone::parse(PHONE).unwrap())
        .await
        .unwrap();
    assert_eq!(found, Some(id), "blind indexes survive rotation");
    // The old key file alone no longer opens anything.
    std::fs::write(&key_file, &old_file).unwrap();
    let stale = Crypto::open(db.clone(), &key_file).unwrap();
    assert!(accounts::contact(&db, &stale, id).await.is_err());
    db.close().await;
}

/// Runs the real binary with every log level on, creates the person through the CLI,
/// signs in and opens the account page; nothing logged holds the name or number.
#[tokio::test]
async fn a_known_name_and_phone_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let atip = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atip"));
        cmd.current_dir(dir.path())
            .env("RUST_LOG", "trace")
            .env("NO_COLOR", "1");
        cmd
    };
    let mut create = atip()
        .args([
            "user",
            "create",
            "--data-dir",
            "data",
            "--email",
            "q@example.org",
            "--role",
            "analyst",
        ])
        .args(["--name", NAME, "--phone", PHONE, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = create.stdin.take().unwrap();
        stdin.write_all(b"lantern orchard velvet canyon\n").unwrap();
    }
    let created = create.wait_with_output().unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let mut logs = String::from_utf8_lossy(&created.stderr).into_owned();

    let log_file = dir.path().join("serve.log");
    let mut server = atip()
        .args(["serve", "--data-dir", "data", "--addr", "127.0.0.1:0"])
        .env("ATIP_SECURE_COOKIES", "false")
        .env("ATIP_TWILIO_AUTH_TOKEN", "privacy-token")
        .env("ATIP_PUBLIC_BASE_URL", "https://hotline.example.org")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_file).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let base = line[line.find("http://").unwrap()..].trim().to_owned();
    let signed_in =
        crate::helpers::browser_sign_in(&base, "q@example.org", "lantern orchard velvet canyon")
            .await;
    assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER);
    let session = crate::helpers::first_cookie(&signed_in);
    let page = reqwest::Client::new()
        .get(format!("{base}/account"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert!(
        page.text().await.unwrap().contains(NAME),
        "the person sees their own name"
    );
    // The person texts the hotline from their number, naming themself.
    let body = format!("this is {NAME}, call me at {PHONE}");
    let text = [
        ("MessageSid", "SMprivacylog000000000000000000001"),
        ("From", PHONE),
        ("Body", body.as_str()),
    ];
    let signature = crate::hotline::twilio_signature(
        "privacy-token",
        "https://hotline.example.org/webhooks/twilio/sms",
        &text,
    );
    let answer = reqwest::Client::new()
        .post(format!("{base}/webhooks/twilio/sms"))
        .header("x-twilio-signature", signature)
        .form(&text)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    // And in the web chat.
    {
        use futures_util::{SinkExt as _, StreamExt as _};
        use tokio_tungstenite::tungstenite::Message;
        let url = format!("{}/hotline/chat/socket", base.replacen("http", "ws", 1));
        let (mut chat, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let frames = [
            serde_json::json!({"type": "start", "language": "en"}),
            serde_json::json!({"type": "send", "id": "privacy-1", "text": body}),
        ];
        for frame in frames {
            chat.send(Message::Text(frame.to_string().into()))
                .await
                .unwrap();
        }
        while let Some(Ok(message)) = chat.next().await {
            if message.to_text().unwrap_or_default().contains("\"ack\"") {
                break;
            }
        }
    }
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    server.wait().unwrap();
    logs.push_str(&std::fs::read_to_string(&log_file).unwrap());
    assert!(logs.contains("request"), "trace logging was on: {logs}");
    for needle in [NAME, "Marwick", PHONE_DIGITS, "555 010"] {
        assert!(!logs.contains(needle), "{needle:?} reached the logs");
    }
}
