//! The resource library: uploads through the curators' pages, text extracted in the
//! background and searched with highlighted snippets, versions, public and internal
//! visibility, the folder import, and bad uploads.

use std::time::Duration;

use atip::kernel::auth::Role;
use atip::library::extract::tiny_pdf;
use atip::library::service::import_dir;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::helpers::{Backend, Session, TestApp};
use crate::on_both_databases;

on_both_databases! {
    uploads_are_extracted_and_found_with_snippets;
    a_new_version_keeps_the_old_ones;
    internal_documents_are_for_staff_only;
    bad_uploads_name_the_field_and_store_nothing;
    a_folder_imports_and_reimports_without_duplicates;
}

fn metadata(title: &str, visibility: &str) -> Form {
    Form::new()
        .text("title", title.to_owned())
        .text("summary", format!("Summary of {title}"))
        .text("audiences", "service-providers")
        .text("audiences", "law-enforcement")
        .text("topics", "labor-trafficking")
        .text("languages", "en")
        .text("publisher", "Office on Trafficking in Persons")
        .text("published_on", "2026-03-01")
        .text("visibility", visibility.to_owned())
}

fn with_file(form: Form, name: &str, bytes: Vec<u8>) -> Form {
    form.part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

async fn post_multipart(app: &TestApp, who: &Session, path: &str, form: Form) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("cookie", &who.cookie)
        .multipart(form.text("csrf", who.csrf.clone()))
        .send()
        .await
        .unwrap()
}

/// Uploads a document and returns its id (from the redirect to its edit page).
async fn upload(app: &TestApp, curator: &Session, form: Form) -> String {
    let response = post_multipart(app, curator, "/library/curate", form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    location
        .trim_start_matches("/library/curate/")
        .trim_end_matches("?saved=1")
        .to_owned()
}

async fn page(app: &TestApp, who: Option<&Session>, path: &str) -> (StatusCode, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(who) = who {
        request = request.header("cookie", &who.cookie);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Waits for the background extraction and the index to show `needle` at `path`.
async fn eventually(app: &TestApp, who: Option<&Session>, path: &str, needle: &str) -> String {
    for _ in 0..120 {
        let (_, body) = page(app, who, path).await;
        if body.contains(needle) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{path} never showed {needle:?}");
}

async fn uploads_are_extracted_and_found_with_snippets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let curator = app.signed_in(Role::DirectoryCurator, None).await;
    let pdf = upload(
        &app,
        &curator,
        with_file(
            metadata("Farm labor indicators", "public"),
            "farm.pdf",
            tiny_pdf("Workers kept in debt bondage had their passports confiscated"),
        ),
    )
    .await;
    let html = upload(
        &app,
        &curator,
        with_file(
            metadata("Hotel staff guide", "public"),
            "hotel.html",
            b"<html><head><script>var secret = 1;</script></head><body><h1>Signs</h1>\
              <p>Guests who never leave the room and hand over the keycard.</p></body></html>"
                .to_vec(),
        ),
    )
    .await;
    let text = upload(
        &app,
        &curator,
        with_file(
            metadata("Guía para trabajadoras del hogar", "public"),
            "guia.txt",
            "Los empleadores que retienen los pasaportes <script>alert(1)</script> cometen un delito."
                .as_bytes()
                .to_vec(),
        ),
    )
    .await;

    // Words only inside each file are found, with the passage and the match marked.
    let body = eventually(&app, None, "/library?q=passport", "<mark>passports</mark>").await;
    assert!(
        body.contains(&format!("/library/documents/{pdf}")),
        "{body}"
    );
    let body = eventually(&app, None, "/library?q=keycard", "<mark>keycard</mark>").await;
    assert!(
        body.contains(&format!("/library/documents/{html}")),
        "{body}"
    );
    assert!(!body.contains("var secret"), "scripts are not text");
    let (_, nothing) = page(&app, None, "/library?q=secret").await;
    assert!(!nothing.contains(&html), "script contents are not indexed");
    // Spanish stems: "pasaporte" finds "pasaportes"; the snippet is escaped text.
    let body = eventually(
        &app,
        None,
        "/library?q=pasaporte",
        "<mark>pasaportes</mark>",
    )
    .await;
    assert!(
        body.contains(&format!("/library/documents/{text}")),
        "{body}"
    );
    assert!(
        body.contains("&lt;script&gt;") && !body.contains("<script>alert"),
        "{body}"
    );

    // Browse by audience, topic and language, with counts.
    let (status, body) = page(&app, None, "/library?audience=law-enforcement").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("3 documents"), "{body}");
    let (_, body) = page(&app, None, "/library?audience=educators").await;
    assert!(body.contains("0 documents"), "{body}");
    let (_, body) = page(&app, None, "/library?topic=labor-trafficking&language=en").await;
    assert!(
        body.contains("3 documents") && body.contains("Labor trafficking</a> (3)"),
        "{body}"
    );

    // The document page says its text was read.
    let (_, body) = page(&app, None, &format!("/library/documents/{pdf}")).await;
    assert!(
        body.contains("Searchable") && body.contains("farm.pdf"),
        "{body}"
    );
    app.shutdown().await;
}

async fn a_new_version_keeps_the_old_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let curator = app.signed_in(Role::DirectoryCurator, None).await;
    let first = b"Edition one mentions recruitment fees.".to_vec();
    let id = upload(
        &app,
        &curator,
        with_file(
            metadata("Recruitment fees", "public"),
            "fees.txt",
            first.clone(),
        ),
    )
    .await;
    eventually(&app, None, "/library?q=edition", "<mark>Edition</mark>").await;

    let second = b"Edition two covers wage theft instead.".to_vec();
    let response = post_multipart(
        &app,
        &curator,
        &format!("/library/curate/{id}/versions"),
        with_file(
            Form::new().text("note", "Updated for 2027"),
            "fees-2.txt",
            second.clone(),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The index follows the latest version.
    eventually(&app, None, "/library?q=wage", "<mark>wage</mark>").await;
    // Words only in the first version no longer find it.
    let (_, old) = page(&app, None, "/library?q=mentions").await;
    assert!(old.contains("0 documents"), "{old}");

    // Both versions are listed and downloadable, each exactly as uploaded.
    let (_, body) = page(&app, None, &format!("/library/documents/{id}")).await;
    assert!(
        body.contains("Updated for 2027") && body.contains("fees.txt"),
        "{body}"
    );
    for (number, bytes) in [(1, &first), (2, &second)] {
        let response = app
            .get(&format!("/library/documents/{id}/versions/{number}"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert_eq!(
            response.headers()["content-security-policy"],
            "sandbox; default-src 'none'"
        );
        assert_eq!(&response.bytes().await.unwrap().to_vec(), bytes);
    }
    let (status, _) = page(&app, None, &format!("/library/documents/{id}/versions/3")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Downloads are counted; who downloaded is recorded nowhere.
    let counts: Vec<i64> = sqlx::query_scalar(
        "SELECT downloads FROM library_versions WHERE document_id = $1 ORDER BY number",
    )
    .bind(&id)
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(counts, [1, 1]);
    let download_events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action LIKE '%download%'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(download_events, 0);
    // Uploads and new versions are audited with who did them.
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE object_id = $1 AND actor_id IS NOT NULL ORDER BY seq",
    )
    .bind(&id)
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        actions,
        ["library.document.create", "library.version.create"]
    );

    // Changing the description keeps the versions.
    let form = [
        ("csrf", curator.csrf.as_str()),
        ("title", "Recruitment fees and wage theft"),
        ("summary", "Two editions"),
        ("audiences", "businesses"),
        ("topics", "supply-chains"),
        ("languages", "en, es"),
        ("publisher", "ILO"),
        ("published_on", ""),
        ("visibility", "public"),
    ];
    let response = app
        .client
        .post(app.url(&format!("/library/curate/{id}")))
        .header("cookie", &curator.cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let body = eventually(
        &app,
        None,
        "/library?audience=businesses",
        "Recruitment fees and wage theft",
    )
    .await;
    assert!(body.contains("1 document<"), "{body}");
    let (_, body) = page(&app, None, &format!("/library/documents/{id}")).await;
    assert!(body.contains("Spanish") && body.contains("fees-2.txt") && body.contains("fees.txt"));
    app.shutdown().await;
}

async fn internal_documents_are_for_staff_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let curator = app.signed_in(Role::DirectoryCurator, None).await;
    let advocate = app.signed_in(Role::HotlineAdvocate, None).await;
    let internal = upload(
        &app,
        &curator,
        with_file(
            metadata("Night shift escalation protocol", "internal"),
            "protocol.txt",
            b"Call the supervisor on duty before any extraction.".to_vec(),
        ),
    )
    .await;
    let public = upload(
        &app,
        &curator,
        with_file(
            metadata("Know your rights", "public"),
            "rights.txt",
            b"You have rights whatever your immigration status; extraction help exists.".to_vec(),
        ),
    )
    .await;
    eventually(&app, Some(&advocate), "/library?q=extraction", &internal).await;
    eventually(&app, Some(&advocate), "/library?q=extraction", &public).await;

    // Staff find and open both.
    let (_, body) = page(&app, Some(&advocate), "/library?q=extraction").await;
    assert!(body.contains(&internal) && body.contains(&public), "{body}");
    assert!(body.contains("Staff only"), "{body}");
    let (status, _) = page(
        &app,
        Some(&advocate),
        &format!("/library/documents/{internal}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = page(
        &app,
        Some(&advocate),
        &format!("/library/documents/{internal}/versions/1"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The public sees the public one only; the internal one does not exist for them.
    let (_, body) = page(&app, None, "/library?q=extraction").await;
    assert!(
        body.contains(&public) && !body.contains(&internal),
        "{body}"
    );
    assert!(!body.contains("Night shift"), "{body}");
    let (_, body) = page(&app, None, "/library").await;
    assert!(
        body.contains("1 document<") && !body.contains("Night shift"),
        "{body}"
    );
    for path in [
        format!("/library/documents/{internal}"),
        format!("/library/documents/{internal}/versions/1"),
    ] {
        let (status, body) = page(&app, None, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("Night shift"));
    }
    // Nor can an advocate curate.
    let (status, _) = page(&app, Some(&advocate), "/library/curate").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.shutdown().await;
}

async fn bad_uploads_name_the_field_and_store_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.library_max_upload_bytes = 64 * 1024).await;
    let curator = app.signed_in(Role::DirectoryCurator, None).await;
    let cases: Vec<(Form, &str)> = vec![
        (
            with_file(metadata("", "public"), "a.txt", b"text".to_vec()),
            "Title</a>: is required",
        ),
        (
            with_file(
                metadata("Fake", "public"),
                "fake.pdf",
                b"not a pdf".to_vec(),
            ),
            "only PDF, HTML and plain-text files can be stored",
        ),
        (
            with_file(metadata("Binary", "public"), "x.bin", vec![0, 255, 1, 2]),
            "only PDF, HTML and plain-text files can be stored",
        ),
        (
            metadata("Nothing", "public"),
            "give a file or a link (one of the two)",
        ),
        (
            with_file(metadata("Both", "public"), "a.txt", b"text".to_vec())
                .text("url", "https://example.org/x"),
            "give a file or a link (one of the two)",
        ),
        (
            metadata("Script link", "public").text("url", "javascript:alert(1)"),
            "must be a web address",
        ),
        (
            with_file(metadata("Secret", "classified"), "a.txt", b"text".to_vec()),
            "Who can see it</a>: must be public or internal",
        ),
    ];
    for (form, message) in cases {
        let response = post_multipart(&app, &curator, "/library/curate", form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{message}");
        let body = response.text().await.unwrap();
        assert!(body.contains(message), "{message}: {body}");
    }
    // A forged form token.
    let forged = app
        .client
        .post(app.url("/library/curate"))
        .header("cookie", &curator.cookie)
        .multipart(
            with_file(metadata("Forged", "public"), "a.txt", b"x".to_vec()).text("csrf", "nope"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // Too large for the configured limit. The server answers from the length alone
    // and closes the connection; a client still writing the body then sees the
    // connection broken instead of the answer (more often the faster the server
    // answers), so the upload is sent again until the answer is read.
    let mut refused = None;
    for _ in 0..20 {
        let big = with_file(metadata("Huge", "public"), "big.txt", vec![b'a'; 70 * 1024]);
        let sent = reqwest::Client::new()
            .post(app.url("/library/curate"))
            .header("cookie", &curator.cookie)
            .multipart(big.text("csrf", curator.csrf.clone()))
            .send()
            .await;
        match sent {
            Ok(response) => {
                refused = Some(response.status());
                break;
            }
            Err(e) => assert!(e.is_request(), "{e}"),
        }
    }
    assert_eq!(refused, Some(StatusCode::PAYLOAD_TOO_LARGE));
    let stored: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM library_documents) + (SELECT COUNT(*) FROM library_versions) + (SELECT COUNT(*) FROM library_files)",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(stored, 0);
    app.shutdown().await;
}

const HEADER: &str =
    "file,url,title,summary,audiences,topics,languages,publisher,published_on,visibility,note\n";

async fn a_folder_imports_and_reimports_without_duplicates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("screening.pdf"),
        tiny_pdf("Screening questions for clinics"),
    )
    .unwrap();
    std::fs::create_dir(d.join("web")).unwrap();
    std::fs::write(
        d.join("web/faq.html"),
        "<html><body><p>Frequently asked questions about T visas</p></body></html>",
    )
    .unwrap();
    let csv = format!(
        "{HEADER}screening.pdf,,Clinic screening,Questions,health-care,identification-and-screening,en,HHS,2025-10-01,public,\n\
         web/faq.html,,T visa FAQ,Answers,victims-and-survivors;service-providers,legal-and-immigration,\"en, es\",DOJ,,public,\n\
         ,https://example.org/toolkit,Business toolkit,Supply chains,businesses,supply-chains,en,DOL,,internal,first\n"
    );
    std::fs::write(d.join("metadata.csv"), &csv).unwrap();
    let report = import_dir(&app.db, d).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        (report.created, report.new_versions, report.unchanged_files),
        (3, 0, 0)
    );
    eventually(&app, None, "/library?q=clinics", "<mark>clinics</mark>").await;
    eventually(&app, None, "/library?q=visas", "<mark>visas</mark>").await;

    // Again, unchanged: nothing new. Then one file changes: one new version.
    let report = import_dir(&app.db, d).await.unwrap();
    assert_eq!(
        (report.created, report.new_versions, report.unchanged_files),
        (0, 0, 3)
    );
    std::fs::write(
        d.join("screening.pdf"),
        tiny_pdf("Screening questions for emergency rooms"),
    )
    .unwrap();
    let report = import_dir(&app.db, d).await.unwrap();
    assert_eq!(
        (report.created, report.new_versions, report.unchanged_files),
        (0, 1, 2)
    );
    let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM library_versions")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(versions, 4);
    eventually(&app, None, "/library?q=emergency", "<mark>emergency</mark>").await;

    // A bad row: every problem named by line and field, and nothing stored.
    std::fs::write(
        d.join("metadata.csv"),
        format!(
            "{HEADER}../../etc/passwd,,Escape,x,educators,,en,X,,public,\n\
             missing.pdf,,Missing,x,educators,,en,X,,public,\n\
             screening.pdf,,New title,x,martians,,en,X,13/13/2025,public,\n"
        ),
    )
    .unwrap();
    let report = import_dir(&app.db, d).await.unwrap();
    let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "metadata.csv line 2: file: must be a file inside the import folder",
            "metadata.csv line 3: file: no such file in the import folder",
            "metadata.csv line 4: audiences: has a value that is not on the list",
            "metadata.csv line 4: published_on: must be a date (YYYY-MM-DD)",
        ]
    );
    let titles: Vec<String> =
        sqlx::query_scalar("SELECT title FROM library_documents ORDER BY title")
            .fetch_all(app.db.reader())
            .await
            .unwrap();
    assert_eq!(
        titles,
        ["Business toolkit", "Clinic screening", "T visa FAQ"]
    );
    app.shutdown().await;
}
