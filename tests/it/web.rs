//! The HTML shell: languages, quick exit, error pages, headers, assets.

use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp};

const PAGES: &[&str] = &["/", "/api/docs", "/no-such-page"];

#[tokio::test]
async fn every_page_speaks_spanish_when_the_browser_prefers_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for path in PAGES {
        let (_, en) = app.get_html(path, "en-US,en;q=0.9").await;
        let (_, es) = app.get_html(path, "es-MX,es;q=0.9,en;q=0.5").await;
        assert!(en.contains(r#"<html lang="en">"#), "{path}");
        assert!(es.contains(r#"<html lang="es">"#), "{path}");
        assert!(es.contains("Salida rápida"), "{path}");
        assert!(es.contains("Saltar al contenido principal"), "{path}");
        assert_ne!(en, es, "{path}");
    }
}

#[tokio::test]
async fn the_lang_parameter_switches_language_and_is_remembered() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/?lang=es"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("atip_lang=es"), "{cookie}");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Juntos contra la trata")
    );
    let again = app
        .client
        .get(app.url("/api/docs"))
        .header("accept-language", "en")
        .header("cookie", "atip_lang=es")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("Referencia de la API"));
    // The switch link leads to the other language without JavaScript.
    assert!(again.contains(r#"href="/api/docs?lang=en""#));
}

#[tokio::test]
async fn every_page_has_a_quick_exit_a_skip_link_and_the_hotline() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for path in PAGES {
        let (_, html) = app.get_html(path, "en").await;
        assert!(
            html.contains(r#"id="quick-exit""#) && html.contains("https://www.google.com/"),
            "{path}"
        );
        assert!(html.contains(r##"href="#main-content""##), "{path}");
        assert!(
            html.contains("1-888-373-7888") && html.contains("233733"),
            "{path}"
        );
        assert!(html.contains(r#"<script src="/static/atip.js">"#), "{path}");
        assert!(
            !html.contains("http://") && !html.contains("cdn"),
            "nothing from other sites on {path}"
        );
    }
    let js = app.get("/static/atip.js").await.text().await.unwrap();
    assert!(js.contains("location.replace") && js.contains("Escape"));
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page_with_a_request_id_and_no_internals() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.get("/missing/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains(&id), "the page shows the request id");
}

#[tokio::test]
async fn a_wrong_method_is_a_405_page() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.client.delete(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Not allowed this way")
    );
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.get("/").await;
    let h = response.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
}

#[tokio::test]
async fn uswds_styles_fonts_and_icons_are_served_from_the_binary() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let css = app.get("/static/uswds/css/uswds.min.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.text().await.unwrap();
    // Every file the stylesheet points at is served too.
    for url in css
        .split("url(")
        .skip(1)
        .filter_map(|s| s.split(')').next())
    {
        let Some(rel) = url.trim_matches(['"', '\'']).strip_prefix("../") else {
            continue;
        };
        let response = app.get(&format!("/static/uswds/{rel}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{rel}");
    }
    assert_eq!(
        app.get("/static/uswds/js/uswds.min.js").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/static/nothing.css").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn hsts_is_sent_only_when_served_over_tls() {
    let plain = TestApp::spawn(Backend::Sqlite).await;
    assert!(
        plain
            .get("/")
            .await
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    let tls = TestApp::spawn_with(Backend::Sqlite, |c| c.secure_cookies = true).await;
    let response = tls.get("/").await;
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    // The sign-in form's cookie is Secure then.
    let form = tls.get("/sign-in").await;
    assert!(
        form.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
}
