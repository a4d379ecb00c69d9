//! What users do, in a real browser: headless Chromium driven over WebDriver
//! (Debian's chromium and chromium-driver), with axe-core checking every page for
//! WCAG 2.1 A and AA problems.
//!
//! Without chromedriver on the PATH these tests print that they were skipped, unless
//! ATIP_REQUIRE_BROWSER is set (CI sets it and installs the browser), when they fail.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use atip::kernel::auth::Role;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

const AXE: &str = env!("ATIP_AXE_CORE_JS");

/// A headless Chromium and the chromedriver that drives it; both stop when dropped.
struct Browser {
    client: Client,
    driver: Child,
    base: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

impl Browser {
    /// A browser for `app`, or `None` (with a note) when none is installed and none
    /// is required.
    async fn start(app: &TestApp) -> Option<Self> {
        let Some(chromedriver) = find("chromedriver") else {
            assert!(
                std::env::var_os("ATIP_REQUIRE_BROWSER").is_none(),
                "ATIP_REQUIRE_BROWSER is set but chromedriver is not on the PATH (install chromium and chromium-driver)"
            );
            eprintln!("skipped: install chromium and chromium-driver to run the browser tests");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut caps = serde_json::Map::new();
        let mut options = json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--lang=en-US"]
        });
        if let Some(binary) = find("chromium") {
            options["binary"] = json!(binary);
        }
        caps.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        let mut client = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        Some(Self {
            client: client.expect("chromedriver did not start a browser"),
            driver,
            base: app.base.clone(),
        })
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// The main content's text (retried while a page that a click started loads).
    async fn text(&self) -> String {
        for _ in 0..50 {
            if let Ok(main) = self.client.find(Locator::Css("main")).await
                && let Ok(text) = main.text().await
            {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page has no main content");
    }

    /// Waits for the page (loading after a click) to show `needle`.
    async fn wait_for_text(&self, needle: &str) {
        for _ in 0..50 {
            if self.text().await.contains(needle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never showed {needle:?}: {}", self.text().await);
    }

    /// Waits for a navigation a click started to reach a path starting with `prefix`.
    async fn wait_for_path(&self, prefix: &str) {
        for _ in 0..100 {
            if self.path().await.starts_with(prefix) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never reached {prefix}: at {}", self.path().await);
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Signs in through the form, as a person would.
    async fn sign_in(&self, email: &str, password: &str) {
        self.goto("/sign-in").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("form button[type=submit]").await;
        self.wait_for_path("/account").await;
    }

    /// Runs axe on the current page; every WCAG 2.1 A/AA violation, described.
    async fn axe(&self) -> Vec<String> {
        let source = std::fs::read_to_string(AXE).unwrap();
        self.client.execute(&source, vec![]).await.unwrap();
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                   .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }))))
                   .catch(e => done([{ id: 'axe-error', help: String(e) }]));",
                vec![],
            )
            .await
            .unwrap();
        result
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect()
    }

    /// Asserts the current page has no accessibility violations.
    async fn accessible(&self, what: &str) {
        let violations = self.axe().await;
        assert!(
            violations.is_empty(),
            "{what} ({}): {violations:#?}",
            self.path().await
        );
    }
}

async fn eventually_shows(browser: &Browser, path: &str, needle: &str) {
    for _ in 0..80 {
        browser.goto(path).await;
        if browser.text().await.contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{path} never showed {needle:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_page_is_accessible_in_english_and_spanish() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    // The checker itself finds a known problem (so a clean page means something).
    browser
        .client
        .goto("data:text/html,<html><body><img src='x.png'></body></html>")
        .await
        .unwrap();
    let found = browser.axe().await.join("\n");
    assert!(
        found.contains("image-alt") && found.contains("html-has-lang"),
        "{found}"
    );
    app.seed_directory().await;
    let shelf = tempfile::tempdir().unwrap();
    std::fs::write(
        shelf.path().join("rights.txt"),
        "Your rights at work, whatever your status.",
    )
    .unwrap();
    std::fs::write(
        shelf.path().join("metadata.csv"),
        "file,title,summary,audiences,topics,languages,publisher,visibility\n\
         rights.txt,Know your rights,Rights at work,victims-and-survivors,labor-trafficking,en,OTIP,public\n",
    )
    .unwrap();
    atip::library::service::import_dir(&app.db, shelf.path())
        .await
        .unwrap();
    let document: String = sqlx::query_scalar("SELECT id FROM library_documents")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    eventually_shows(&browser, "/library?q=status", "Know your rights").await;
    let pages = [
        "/".to_owned(),
        "/find-help".to_owned(),
        "/find-help?q=legal&city=San+Francisco&state=CA&radius=50".to_owned(),
        "/find-help/services/11111111-aaaa-4111-8111-111111111111".to_owned(),
        "/library".to_owned(),
        "/library?q=status".to_owned(),
        format!("/library/documents/{document}"),
        "/directory/apply".to_owned(),
        "/sign-in".to_owned(),
        "/sign-in/invitation".to_owned(),
        "/hotline/chat".to_owned(),
    ];
    for page in &pages {
        for lang in ["en", "es"] {
            let sep = if page.contains('?') { '&' } else { '?' };
            browser.goto(&format!("{page}{sep}lang={lang}")).await;
            browser.accessible(&format!("{page} in {lang}")).await;
        }
    }
    // A refused application shows its problems accessibly too.
    browser.goto("/directory/apply?lang=en").await;
    // Past the browser's own checks, to the server's answer.
    browser
        .client
        .execute(
            "document.querySelector('main form').noValidate = true;",
            vec![],
        )
        .await
        .unwrap();
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("Please correct these fields").await;
    browser
        .accessible("the application form with problems")
        .await;
    browser.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_curator_adds_a_document_and_the_public_finds_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    let (email, password) = app.user(Role::DirectoryCurator, None).await;
    browser.sign_in(&email, &password).await;
    for page in [
        "/library/curate",
        "/directory/curate",
        "/directory/individuals",
    ] {
        browser.goto(page).await;
        browser.accessible(page).await;
    }

    // Upload a PDF through the form.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("indicators.pdf");
    std::fs::write(
        &file,
        atip::library::extract::tiny_pdf("Farmworkers owed impossible debts"),
    )
    .unwrap();
    browser.goto("/library/curate").await;
    browser.fill("#title", "Indicators on farms").await;
    browser
        .fill("#summary", "What outreach workers look for")
        .await;
    // USWDS draws its own boxes: people click the labels.
    browser.click("label[for=audience-service-providers]").await;
    browser.click("label[for=topic-labor-trafficking]").await;
    browser.fill("#publisher", "OTIP").await;
    browser
        .client
        .find(Locator::Css("#file-input"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    browser.fill("#note", "First edition").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_path("/library/curate/").await;
    browser.wait_for_text("Saved").await;
    browser.accessible("a document's edit page").await;

    // Anyone finds it by a word inside the PDF, with the passage shown.
    browser.client.delete_all_cookies().await.unwrap();
    eventually_shows(&browser, "/library?q=debts", "Indicators on farms").await;
    let marked = browser
        .client
        .find(Locator::Css(".atip-snippet mark"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(marked, "debts");
    browser.accessible("library results with a snippet").await;
    browser.click("article h2 a").await;
    browser.wait_for_text("First edition").await;
    browser.accessible("a document page").await;
    browser.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_curator_adds_a_phone_to_a_listing_and_deletes_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    app.seed_directory().await;
    let (email, password) = app.user(Role::DirectoryCurator, None).await;
    browser.sign_in(&email, &password).await;
    browser
        .goto("/directory/curate/22222222-2222-4222-8222-222222222222/edit")
        .await;
    browser.accessible("the listing editor").await;
    browser
        .click("details:has(input[name=kind][value=phone]) summary")
        .await;
    browser
        .client
        .find(Locator::Css("#add-phone-link"))
        .await
        .unwrap()
        .select_by_value("service_id/22222222-aaaa-4222-8222-222222222222")
        .await
        .unwrap();
    browser.fill("#add-phone-number", "415-555-0199").await;
    browser
        .click("details[open] form button[type=submit]")
        .await;
    browser.wait_for_text("Added the phone").await;
    browser.accessible("the editor after adding a record").await;
    browser.click("button[value^='phone/']").await;
    browser.wait_for_text("Delete phone · 415-555-0199?").await;
    browser.accessible("the delete confirmation").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("Deleted 1 record.").await;
    assert!(!browser.text().await.contains("phone · 415-555-0199"));
    browser.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advocate_finds_a_referral_and_opens_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    app.seed_directory().await;
    let (email, password) = app.user(Role::HotlineAdvocate, None).await;
    browser.sign_in(&email, &password).await;
    browser.goto("/directory/search").await;
    browser.accessible("the staff search").await;
    browser.fill("#q", "legal").await;
    browser.fill("#city", "San Francisco").await;
    browser.fill("#state", "CA").await;
    browser.click("main form button[type=submit]").await;
    eventually_text(&browser, "Legal").await;
    browser.accessible("staff search results").await;
    browser.click(".usa-card__heading a").await;
    browser.wait_for_path("/directory/services/").await;
    browser.accessible("a listing as staff see it").await;
    browser.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_invites_a_person_who_then_signs_in() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    let (email, password) = app.user(Role::SystemAdmin, None).await;
    browser.sign_in(&email, &password).await;
    browser.goto("/admin/users").await;
    browser.accessible("the staff accounts page").await;
    browser
        .fill("#invite-email", "new.advocate@example.org")
        .await;
    browser.fill("#invite-name", "Nova Advocate").await;
    browser.click("#invite-role-hotline-advocate + label").await;
    browser
        .click("form[action='/admin/invitations'] button")
        .await;
    browser.wait_for_text("Invitation ready").await;
    browser.accessible("the invitation code page").await;
    let code = browser
        .client
        .find(Locator::Css(".atip-invitation-code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The invited person, in a browser of their own.
    browser.client.delete_all_cookies().await.unwrap();

    browser.goto("/sign-in/invitation").await;
    browser.fill("#email", "new.advocate@example.org").await;
    browser.fill("#code", &code).await;
    browser
        .fill("#password", "tangerine harbor quiet lantern")
        .await;
    browser
        .fill("#again", "tangerine harbor quiet lantern")
        .await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("Your account is ready").await;
    browser.accessible("an accepted invitation").await;
    browser
        .sign_in("new.advocate@example.org", "tangerine harbor quiet lantern")
        .await;
    browser.wait_for_text("hotline-advocate").await;
    browser.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_breaks_the_glass_and_the_administrator_reviews_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    app.organization("Harbor Light").await;
    let (email, password) = app.user(Role::HotlineSupervisor, None).await;
    browser.sign_in(&email, &password).await;
    browser.goto("/organizations").await;
    browser.accessible("the organizations page").await;
    browser.click("main table a").await;
    browser.wait_for_text("outside your scope").await;
    browser.accessible("the break-glass reason form").await;
    browser
        .fill(
            "#reason",
            "Caller at the shelter reports an intruder; need on-call now",
        )
        .await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("Opened by break-glass").await;
    browser
        .accessible("on-call staff opened by break-glass")
        .await;

    browser.client.delete_all_cookies().await.unwrap();
    let (email, password) = app.user(Role::SystemAdmin, None).await;
    browser.sign_in(&email, &password).await;
    browser.goto("/admin/break-glass").await;
    browser.wait_for_text("reports an intruder").await;
    browser.accessible("the break-glass review").await;
    browser.client.clone().close().await.unwrap();
}

async fn eventually_text(browser: &Browser, needle: &str) {
    for _ in 0..40 {
        if browser.text().await.contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        browser.client.refresh().await.unwrap();
    }
    panic!("never showed {needle:?}: {}", browser.text().await);
}

/// The value of a JavaScript expression on the current page.
async fn evaluate(browser: &Browser, expression: &str) -> Value {
    browser
        .client
        .execute(&format!("return {expression};"), vec![])
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_chats_with_an_advocate_whose_console_updates_live_then_leaves_at_once() {
    // Quick exit goes to one of our own pages, so the test can look at what the
    // browser kept for this site afterwards.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.quick_exit_url = "/library".into();
    })
    .await;
    let Some(advocate) = Browser::start(&app).await else {
        return;
    };
    let visitor = Browser::start(&app).await.unwrap();
    let (email, password) = app.user(Role::HotlineAdvocate, None).await;
    crate::chat::on_duty(&app, &app.sign_in(&email, &password).await).await;
    advocate.sign_in(&email, &password).await;
    advocate.goto("/hotline/coverage").await;
    advocate.wait_for_text("Coverage, next 14 days").await;
    advocate.accessible("the coverage view").await;
    advocate.goto("/hotline/console").await;
    advocate.wait_for_text("No one is waiting.").await;
    advocate.accessible("the hotline console").await;
    // A mark that a reload would wipe: the console must update in place.
    evaluate(&advocate, "(window.stillHere = true)").await;

    visitor.goto("/hotline/chat").await;
    visitor.accessible("the chat page").await;
    visitor.click("button[data-language=es]").await;
    visitor.wait_for_text("Waiting for an advocate").await;
    visitor
        .fill("#chat-text", "Necesito ayuda, no puedo salir")
        .await;
    visitor.click("#chat-form button[type=submit]").await;
    visitor
        .wait_for_text("You: Necesito ayuda, no puedo salir")
        .await;
    visitor.accessible("a visitor waiting in the chat").await;

    advocate.wait_for_text("Waiting chats (1)").await;
    assert_eq!(
        evaluate(&advocate, "window.stillHere === true").await,
        json!(true)
    );
    advocate.accessible("the console with a waiting chat").await;
    advocate.click(".atip-queue-item button[type=submit]").await;
    advocate.wait_for_path("/hotline/chats/").await;
    advocate
        .wait_for_text("Visitor: Necesito ayuda, no puedo salir")
        .await;
    advocate
        .fill("#chat-text", "Estoy aquí. ¿Está a salvo ahora?")
        .await;
    advocate.click("#chat-form button[type=submit]").await;
    visitor
        .wait_for_text("An advocate has joined the chat.")
        .await;
    visitor
        .wait_for_text("Advocate: Estoy aquí. ¿Está a salvo ahora?")
        .await;
    visitor.fill("#chat-text", "Sí, por ahora").await;
    visitor.click("#chat-form button[type=submit]").await;
    advocate.wait_for_text("Visitor: Sí, por ahora").await;
    advocate.accessible("an advocate's chat").await;
    visitor.accessible("a chat in progress").await;

    // Quick exit: the visitor is elsewhere at once, the chat left nothing in the
    // browser, and Back does not return to it.
    visitor.click("#quick-exit").await;
    visitor.wait_for_path("/library").await;
    let kept = evaluate(
        &visitor,
        "[sessionStorage.length, localStorage.length, document.cookie]",
    )
    .await;
    assert_eq!(kept, json!([0, 0, ""]));
    visitor.client.back().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_ne!(visitor.path().await, "/hotline/chat");
    advocate
        .wait_for_text("The visitor has left the chat.")
        .await;

    // The advocate saves it as a contact.
    advocate
        .client
        .find(Locator::Css("#caller_type"))
        .await
        .unwrap()
        .select_by_value("potential-victim")
        .await
        .unwrap();
    advocate.click("label[for=reason-crisis]").await;
    advocate
        .client
        .find(Locator::Css("#new_case"))
        .await
        .unwrap()
        .select_by_value("labor")
        .await
        .unwrap();
    advocate
        .click("form[action$='/close'] button[type=submit]")
        .await;
    advocate.wait_for_path("/hotline/contacts/").await;
    // The case it opened: described from its page, which shows the chat in its timeline.
    let case_link = advocate
        .client
        .find(Locator::Css("a[href^='/hotline/cases/']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    advocate.goto(&case_link).await;
    advocate.wait_for_text("Timeline").await;
    advocate.accessible("a case page").await;
    advocate.click("label[for=venue-agriculture]").await;
    advocate.fill("#potential_victims", "3").await;
    advocate
        .client
        .execute(
            "document.querySelector('form[action^=\"/hotline/cases/\"]').submit()",
            vec![],
        )
        .await
        .unwrap();
    advocate.wait_for_text("The case is saved.").await;
    advocate.accessible("a case page after saving").await;
    let contacts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hotline_contacts WHERE channel = 'web-chat'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(contacts, 1);
    visitor.client.clone().close().await.unwrap();
    advocate.client.clone().close().await.unwrap();
}

/// Clicks `css` after scrolling it to the middle of the window, clear of the sticky
/// quick-exit bar that would otherwise take a click near the top.
async fn click_centered(browser: &Browser, css: &str) {
    let element = browser.client.find(Locator::Css(css)).await.unwrap();
    browser
        .client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&element).unwrap()],
        )
        .await
        .unwrap();
    element.click().await.unwrap();
}

/// The code the advocate's authenticator app shows `step` periods from now.
fn totp_code(secret: &str, email: &str, step: u64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name(email.to_owned())
        .build()
        .unwrap();
    let now = jiff::Timestamp::now().as_second().cast_unsigned();
    totp.generate(now + 30 * step).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advocate_takes_a_phone_contact_screens_it_refers_and_reports() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.require_mfa = true).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    app.seed_directory().await;
    let (email, password) = app.user(Role::HotlineAdvocate, None).await;

    // Signing in needs a second step: enrol an authenticator, then sign in with it.
    browser.goto("/sign-in").await;
    browser.fill("#email", &email).await;
    browser.fill("#password", &password).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for_path("/account/mfa").await;
    browser.accessible("the second-step enrolment").await;
    let secret = browser
        .client
        .find(Locator::Css(".atip-totp-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    browser.fill("#code", &totp_code(&secret, &email, 0)).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("The second step is on.").await;
    browser.accessible("the recovery codes").await;
    browser.client.delete_all_cookies().await.unwrap();
    browser.goto("/sign-in").await;
    browser.fill("#email", &email).await;
    browser.fill("#password", &password).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for_path("/sign-in/mfa").await;
    browser.accessible("the second step of signing in").await;
    // The code just used is spent: the app's next one.
    browser.fill("#code", &totp_code(&secret, &email, 1)).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_path("/account").await;

    // A phone call: someone in danger, asking where to go.
    browser.goto("/hotline/contacts/new").await;
    browser.accessible("the contact form").await;
    click_centered(&browser, "label[for=danger]").await;
    browser
        .client
        .find(Locator::Css("#language"))
        .await
        .unwrap()
        .select_by_value("es")
        .await
        .unwrap();
    browser.fill("#caller_city", "San Francisco").await;
    browser.fill("#caller_state", "CA").await;
    browser.fill("#heard_from", "Radio Bilingüe").await;
    click_centered(&browser, "label[for=reason-referral-request]").await;
    browser
        .fill(
            "#narrative",
            "Works in a restaurant kitchen; the owner keeps her passport and locks the door at night",
        )
        .await;
    browser.fill("#caller_phone", "+1 (415) 555-0142").await;
    browser.fill("#code_word", "tamales").await;
    browser
        .client
        .find(Locator::Css("#new_case"))
        .await
        .unwrap()
        .select_by_value("labor")
        .await
        .unwrap();
    browser.click("main form button[type=submit]").await;
    browser.wait_for_path("/hotline/contacts/").await;
    browser.wait_for_text("Immediate danger").await;
    let contact_path = browser.path().await;
    browser.accessible("the contact page").await;

    // Screening: locked in, lied to about the job: high.
    browser.click("a[href*='/screening']").await;
    browser.wait_for_path("/hotline/cases/").await;
    browser.wait_for_text("Recruitment and deception").await;
    browser.accessible("the screening questionnaire").await;
    for answer in [
        "q-age-adult-yes",
        "q-job-differs-yes",
        "q-locked-in-yes",
        "q-documents-held-yes",
        "q-physical-harm-no",
    ] {
        click_centered(&browser, &format!("label[for={answer}]")).await;
    }
    click_centered(&browser, "main form button[type=submit]").await;
    browser.wait_for_text("What the answers suggest").await;
    let level = browser
        .client
        .find(Locator::Css("#screening-level"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(level, "High");
    browser.accessible("the screening result").await;

    // An urgent referral from the search, near the caller.
    browser.goto(&contact_path).await;
    browser.wait_for_text("High").await;
    browser.click("a[href^='/directory/search']").await;
    browser.wait_for_path("/directory/search").await;
    eventually_text(&browser, "Refer to").await;
    browser.accessible("the search with referral forms").await;
    click_centered(&browser, "label[for=urgency-1-urgent]").await;
    click_centered(&browser, ".atip-refer-form button[type=submit]").await;
    browser.wait_for_path(&contact_path).await;
    browser.wait_for_text("Urgent").await;
    browser.accessible("the contact with its referral").await;

    // A report to law enforcement, with her consent.
    browser
        .fill("#agency_name", "San Francisco Police Department")
        .await;
    click_centered(&browser, "label[for=consent]").await;
    browser.fill("#subject_name", "Marisol").await;
    browser.fill("#reference", "SFPD-2026-118").await;
    click_centered(&browser, "#report-form button[type=submit]").await;
    browser
        .wait_for_text("The report was recorded as sent.")
        .await;
    let sent = browser.text().await;
    assert!(
        sent.contains("Marisol") && sent.contains("SFPD-2026-118"),
        "{sent}"
    );
    browser.accessible("the report as sent").await;
    browser.click("main a[href^='/hotline/contacts/']").await;
    browser
        .wait_for_text("San Francisco Police Department")
        .await;
    browser.accessible("the contact with its report").await;

    for (table, expected) in [
        ("hotline_contacts", 1),
        ("hotline_screenings", 1),
        ("hotline_referrals", 1),
        ("hotline_reports", 1),
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(app.db.reader())
                .await
                .unwrap();
        assert_eq!(n, expected, "{table}");
    }
    let urgency: String = sqlx::query_scalar("SELECT urgency FROM hotline_referrals")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(urgency, "urgent");
    browser.client.clone().close().await.unwrap();
}
