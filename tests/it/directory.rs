//! The directory: HSDS import and export, the public HSDS API, confidential
//! locations. Schemas and examples are the official HSDS 3.0 files copied into
//! tests/fixtures/hsds-3.0 (CC BY-SA 4.0, Open Referral).

use std::path::{Path, PathBuf};

use atip::directory::model::{ImportReport, Severity};
use atip::directory::service::{self, ImportOptions};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, fixture};

const SHELTER_SERVICE: &str = "11111111-aaaa-4111-8111-111111111111";
const LEGAL_SERVICE: &str = "22222222-aaaa-4222-8222-222222222222";
const SHELTER_ORG: &str = "11111111-1111-4111-8111-111111111111";
const SHELTER_SAL: &str = "11111111-9999-4111-8111-111111111111";
const SHELTER_TERM: &str = "ae249c41-2483-5fff-8956-a3be8d55984d";
const EXAMPLE_SERVICE: &str = "ac148810-d857-441c-9679-408f346de14b";

async fn import_with(app: &TestApp, path: &Path, skip_invalid: bool) -> ImportReport {
    service::import(
        &app.db,
        &app.crypto,
        path,
        ImportOptions { skip_invalid },
        &|_, _| {},
    )
    .await
    .unwrap()
}

async fn import(app: &TestApp, path: &Path) -> ImportReport {
    let report = import_with(app, path, false).await;
    let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    report
}

/// The official example data and our sample directory (a confidential shelter and a
/// legal-aid office), with the search index caught up.
async fn seeded(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    import(&app, &fixture("hsds-3.0/examples/csv")).await;
    import(&app, &fixture("directory/organizations.json")).await;
    found_within(&app, "/hsds/services?search=harbor", SHELTER_SERVICE).await;
    app
}

/// Polls a search until `id` is in its first page; returns how long that took.
async fn found_within(app: &TestApp, path: &str, id: &str) -> std::time::Duration {
    let start = std::time::Instant::now();
    loop {
        let (status, page) = app.get_json(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        let ids: Vec<&str> = page["contents"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["id"].as_str())
            .collect();
        if ids.contains(&id) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{id} never appeared in {path}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn example_data_imports_cleanly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let report = import(&app, &fixture("hsds-3.0/examples/csv")).await;
    for table in [
        "organization",
        "service",
        "location",
        "service_at_location",
        "address",
        "phone",
        "schedule",
        "attribute",
        "metadata",
    ] {
        assert_eq!(report.written(table), 1, "{table}");
    }
    // The example's dangling optional links and impossible coordinates are kept
    // and reported as warnings, not refused.
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.severity == Severity::Warning)
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.reason.contains("outside the globe"))
    );
    // Importing it again updates; nothing doubles.
    import(&app, &fixture("hsds-3.0/examples/csv")).await;
    let services: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hsds_service")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(services, 1);
    let (status, body) = app
        .get_json(&format!("/hsds/services/{EXAMPLE_SERVICE}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "Community Counselling");
    assert_eq!(body["minimum_age"], 12);
    // So do the official JSON examples: single nested objects and API list pages.
    let mut examples: Vec<PathBuf> = std::fs::read_dir(fixture("hsds-3.0/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    examples.sort();
    assert_eq!(examples.len(), 11);
    for example in &examples {
        let report = import(&app, example).await;
        assert!(!report.written.is_empty(), "{}", example.display());
    }
    let (_, body) = app
        .get_json(&format!("/hsds/services/{EXAMPLE_SERVICE}"))
        .await;
    assert_eq!(
        body["service_at_locations"][0]["location"]["name"],
        "MyCity Civic Center"
    );
    app.shutdown().await;
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in walk(dir) {
        let rel = entry
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        files.push((rel, std::fs::read(&entry).unwrap()));
    }
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

async fn export_import_export_gives_identical_files(backend: Backend) {
    let first = seeded(backend).await;
    let out = tempfile::tempdir().unwrap();
    let a = out.path().join("a");
    let b = out.path().join("b");
    service::export(&first.db, &first.crypto, &a).await.unwrap();
    first.shutdown().await;

    let second = TestApp::spawn(backend).await;
    import(&second, &a).await;
    service::export(&second.db, &second.crypto, &b)
        .await
        .unwrap();
    let (files_a, files_b) = (read_tree(&a), read_tree(&b));
    assert_eq!(
        files_a.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        files_b.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
    );
    for ((name, bytes_a), (_, bytes_b)) in files_a.iter().zip(&files_b) {
        assert!(bytes_a == bytes_b, "{name} differs after the round trip");
    }
    assert!(files_a.iter().any(|(n, _)| n == "json/organizations.json"));

    // A formula in a description is written so a spreadsheet shows it as text, and
    // reads back as the original text.
    let services = std::fs::read_to_string(a.join("services.csv")).unwrap();
    assert!(services.contains("'=HYPERLINK"), "{services}");
    let (_, legal) = second
        .get_json(&format!("/hsds/services/{LEGAL_SERVICE}"))
        .await;
    assert!(
        legal["description"]
            .as_str()
            .unwrap()
            .starts_with("=HYPERLINK")
    );
    // Confidential streets never reach the files.
    for (name, bytes) in &files_a {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("Hidden Lane"),
            "{name} shows the shelter's street"
        );
        assert!(
            !text.contains("94110"),
            "{name} shows the shelter's postal code"
        );
    }
    second.shutdown().await;
}

/// The official schema for one object, with its relative `$ref`s (taxonomy.json,
/// metadata.json) inlined, and the `redacted` location type of the upstream proposal
/// (tests/fixtures/hsds-3.0/proposal-redacted-location-type) added to it.
pub fn schema(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(&format!("hsds-3.0/schema/{name}"))).unwrap();
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    inline_refs(&mut schema);
    allow_redacted(&mut schema);
    schema
}

fn inline_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref").cloned()
                && !target.starts_with('#')
            {
                *value = schema(&target);
                return;
            }
            map.values_mut().for_each(inline_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(inline_refs),
        _ => {}
    }
}

/// Adds `redacted` to the location type's values, as the proposal does.
fn allow_redacted(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_location_type = map
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| d.contains("type of location"));
            if is_location_type
                && let Some(Value::Array(values)) = map.get_mut("enum")
                && !values.iter().any(|v| v == "redacted")
            {
                values.push(Value::from("redacted"));
            }
            map.values_mut().for_each(allow_redacted);
        }
        Value::Array(items) => items.iter_mut().for_each(allow_redacted),
        _ => {}
    }
}

fn assert_valid(schema: &Value, instance: &Value, what: &str) {
    let validator = jsonschema::validator_for(schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(10)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

fn assert_page(page: &Value, item_schema: &Value, what: &str) {
    for field in ["total_items", "total_pages", "page_number", "size"] {
        assert!(page[field].is_u64(), "{what}: {field} missing in {page}");
    }
    for field in ["first_page", "last_page", "empty"] {
        assert!(page[field].is_boolean(), "{what}: {field} missing");
    }
    let contents = page["contents"].as_array().unwrap();
    assert!(!contents.is_empty(), "{what}: empty page");
    for item in contents {
        assert_valid(item_schema, item, what);
    }
}

async fn every_hsds_endpoint_validates_against_the_official_schemas(backend: Backend) {
    let app = seeded(backend).await;
    let compiled = |n: &str| schema(&format!("compiled/{n}.json"));
    let (status, meta) = app.get_json("/hsds/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta["version"], "3.0");
    assert!(
        meta["openapi_url"]
            .as_str()
            .unwrap()
            .ends_with("/api/openapi.json")
    );

    let lists = [
        ("/hsds/services", "service_list"),
        ("/hsds/services?full=true", "service"),
        ("/hsds/services?minimal=true", "service_list"),
        ("/hsds/organizations", "organization_list"),
        ("/hsds/organizations?full=true", "organization"),
        ("/hsds/organizations?full_service=true", "organization"),
        ("/hsds/service_at_locations", "service_at_location_list"),
        (
            "/hsds/service_at_locations?full=true",
            "service_at_location",
        ),
    ];
    for (path, schema_name) in lists {
        let (status, page) = app.get_json(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert_page(&page, &compiled(schema_name), path);
    }
    let (_, page) = app.get_json("/hsds/taxonomies").await;
    assert_page(&page, &schema("taxonomy.json"), "/hsds/taxonomies");
    let (_, page) = app.get_json("/hsds/taxonomy_terms?per_page=500").await;
    assert_page(&page, &schema("taxonomy_term.json"), "/hsds/taxonomy_terms");

    let ones = [
        (format!("/hsds/services/{SHELTER_SERVICE}"), "service"),
        (format!("/hsds/services/{EXAMPLE_SERVICE}"), "service"),
        (format!("/hsds/organizations/{SHELTER_ORG}"), "organization"),
        (
            format!("/hsds/organizations/{SHELTER_ORG}?full_service=true"),
            "organization",
        ),
        (
            format!("/hsds/service_at_locations/{SHELTER_SAL}"),
            "service_at_location",
        ),
    ];
    for (path, schema_name) in ones {
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_valid(&compiled(schema_name), &body, &path);
    }
    let (_, body) = app
        .get_json(&format!("/hsds/taxonomy_terms/{SHELTER_TERM}"))
        .await;
    assert_valid(&schema("taxonomy_term.json"), &body, "taxonomy term");
    assert_eq!(body["taxonomy_detail"]["name"], "atip service types");
    let taxonomy_id = body["taxonomy_id"].as_str().unwrap().to_owned();
    let (_, body) = app
        .get_json(&format!("/hsds/taxonomies/{taxonomy_id}"))
        .await;
    assert_valid(&schema("taxonomy.json"), &body, "taxonomy");

    // A fully nested service carries what an advocate needs on one screen.
    let (_, shelter) = app
        .get_json(&format!("/hsds/services/{SHELTER_SERVICE}"))
        .await;
    assert_eq!(shelter["organization"]["name"], "Safe Harbor Shelter");
    assert_eq!(shelter["phones"][0]["languages"][0]["code"], "es");
    assert_eq!(
        shelter["attributes"][0]["taxonomy_term"]["name"],
        "Emergency shelter"
    );
    let sal = &shelter["service_at_locations"][0];
    assert_eq!(sal["schedules"][0]["opens_at"], "00:00");
    assert_eq!(sal["location"]["addresses"][0]["city"], "San Francisco");
    app.shutdown().await;
}

async fn confidential_addresses_are_redacted_on_every_public_surface(backend: Backend) {
    let app = seeded(backend).await;
    let mut bodies = Vec::new();
    for path in [
        format!("/hsds/services/{SHELTER_SERVICE}"),
        format!("/hsds/organizations/{SHELTER_ORG}?full_service=true"),
        format!("/hsds/service_at_locations/{SHELTER_SAL}"),
        "/hsds/services?full=true".to_owned(),
        "/hsds/organizations?full_service=true".to_owned(),
        "/hsds/service_at_locations?full=true".to_owned(),
        "/hsds/services?full=true&format=ndjson".to_owned(),
        "/hsds/service_at_locations?full=true&format=ndjson".to_owned(),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        bodies.push((path, response.text().await.unwrap()));
    }
    for (path, body) in &bodies {
        assert!(
            body.contains("Safe Harbor"),
            "{path} does not show the shelter at all"
        );
        for secret in [
            "Hidden Lane",
            "94110",
            "House manager",
            "Back door",
            "37.7512",
            "-122.4194",
        ] {
            assert!(!body.contains(secret), "{path} shows {secret}");
        }
    }
    let (_, sal) = app
        .get_json(&format!("/hsds/service_at_locations/{SHELTER_SAL}"))
        .await;
    let location = &sal["location"];
    assert_eq!(location["location_type"], "redacted");
    assert_eq!(location["latitude"], 37.8);
    assert_eq!(location["longitude"], -122.4);
    let address = &location["addresses"][0];
    assert_eq!(address["city"], "San Francisco");
    assert_eq!(address["state_province"], "CA");
    assert_eq!(address["address_1"], "");
    // The ordinary office keeps its street.
    let (_, legal) = app
        .get_json(&format!("/hsds/services/{LEGAL_SERVICE}"))
        .await;
    assert_eq!(
        legal["service_at_locations"][0]["location"]["addresses"][0]["address_1"],
        "500 Market St"
    );
    // The stored street is ciphertext, and a public re-import does not erase it.
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT address_1 FROM hsds_address WHERE id = '11111111-cccc-4111-8111-111111111111'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    let stored = stored.unwrap();
    assert!(
        stored.starts_with("v1:") && !stored.contains("Hidden"),
        "{stored}"
    );
    let out = tempfile::tempdir().unwrap();
    service::export(&app.db, &app.crypto, out.path())
        .await
        .unwrap();
    import(&app, out.path()).await;
    let kept: Option<String> = sqlx::query_scalar(
        "SELECT address_1 FROM hsds_address WHERE id = '11111111-cccc-4111-8111-111111111111'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(kept.as_deref(), Some(stored.as_str()));
    import(&app, &out.path().join("json")).await;
    let kept: Option<String> = sqlx::query_scalar(
        "SELECT address_1 FROM hsds_address WHERE id = '11111111-cccc-4111-8111-111111111111'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        kept.as_deref(),
        Some(stored.as_str()),
        "a JSON re-import keeps it too"
    );
    let fresh = app.shutdown().await;
    if let Some(file) = std::fs::read_dir(fresh.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name() == "atip.db")
    {
        let raw = std::fs::read(file.path()).unwrap();
        let raw = String::from_utf8_lossy(&raw);
        assert!(
            !raw.contains("Hidden Lane"),
            "the database file holds the street in clear"
        );
    }
}

async fn list_filters_and_paging(backend: Backend) {
    let app = seeded(backend).await;
    let ids = |page: &Value| -> Vec<String> {
        page["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = app.get_json("/hsds/services").await;
    assert_eq!(all["total_items"], 3);
    let (_, page) = app
        .get_json(&format!("/hsds/services?taxonomy_term_id={SHELTER_TERM}"))
        .await;
    assert_eq!(ids(&page), [SHELTER_SERVICE]);
    let (_, term) = app
        .get_json(&format!("/hsds/taxonomy_terms/{SHELTER_TERM}"))
        .await;
    let (_, page) = app
        .get_json(&format!(
            "/hsds/services?taxonomy_id={}",
            term["taxonomy_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(ids(&page), [SHELTER_SERVICE]);
    let (_, page) = app
        .get_json(&format!("/hsds/services?organization_id={SHELTER_ORG}"))
        .await;
    assert_eq!(ids(&page), [SHELTER_SERVICE]);
    let (_, page) = app.get_json("/hsds/services?search=T%20VISA").await;
    assert_eq!(ids(&page), [LEGAL_SERVICE]);
    let (_, page) = app.get_json("/hsds/services?search=100%25").await;
    assert_eq!(page["total_items"], 0, "% is a character, not a wildcard");
    let (_, page) = app.get_json("/hsds/services?postcode=94105").await;
    assert_eq!(ids(&page), [LEGAL_SERVICE]);
    let (_, page) = app.get_json("/hsds/services?postcode=94110").await;
    assert_eq!(
        page["total_items"], 0,
        "a confidential postal code finds nothing"
    );
    // HSDS proximity: meters from the postcode's centroid (its locations here).
    let (status, page) = app
        .get_json("/hsds/services?postcode=94105&proximity=1")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), [LEGAL_SERVICE]);
    let (_, page) = app
        .get_json("/hsds/services?postcode=94105&proximity=30000")
        .await;
    let mut near = ids(&page);
    near.sort_unstable();
    assert_eq!(near, [SHELTER_SERVICE, LEGAL_SERVICE]);
    let (_, page) = app
        .get_json("/hsds/service_at_locations?postcode=94105&proximity=30000")
        .await;
    assert_eq!(page["total_items"], 2, "{page}");
    let (_, page) = app
        .get_json("/hsds/services?modified_after=2000-01-01")
        .await;
    assert_eq!(page["total_items"], 3);
    let (_, page) = app
        .get_json("/hsds/services?modified_after=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(page["total_items"], 0);
    let (_, page) = app.get_json("/hsds/services?per_page=2&page=2").await;
    assert_eq!(page["size"], 1);
    assert_eq!(page["total_pages"], 2);
    assert_eq!(page["last_page"], true);
    assert_eq!(page["first_page"], false);
    let (_, page) = app
        .get_json("/hsds/taxonomy_terms?top_only=true&per_page=500")
        .await;
    assert!(
        page["contents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("parent_id").is_none())
    );
    let ndjson = app.get("/hsds/services?format=ndjson").await;
    assert_eq!(ndjson.headers()["content-type"], "application/x-ndjson");
    let text = ndjson.text().await.unwrap();
    assert_eq!(text.lines().count(), 3);
    for line in text.lines() {
        let _: Value = serde_json::from_str(line).unwrap();
    }

    // An organization that is not listed (it applied, or was suspended) is not public.
    sqlx::query("UPDATE directory_listings SET status = 'suspended' WHERE organization_id = $1")
        .bind(SHELTER_ORG)
        .execute(app.db.writer())
        .await
        .unwrap();
    let (_, page) = app.get_json("/hsds/services").await;
    assert!(!ids(&page).contains(&SHELTER_SERVICE.to_owned()));
    let (status, _) = app
        .get_json(&format!("/hsds/services/{SHELTER_SERVICE}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get_json(&format!("/hsds/service_at_locations/{SHELTER_SAL}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get_json(&format!("/hsds/organizations/{SHELTER_ORG}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

async fn bad_api_input_is_a_clear_400(backend: Backend) {
    let app = seeded(backend).await;
    for (path, field) in [
        ("/hsds/services?page=9", "page"),
        ("/hsds/services?page=0", "page"),
        ("/hsds/services?per_page=0", "per_page"),
        ("/hsds/services?per_page=100000", "per_page"),
        ("/hsds/services?page=-1", "page"),
        ("/hsds/services?taxonomy_term_id=nope", "taxonomy_term_id"),
        (
            "/hsds/services?taxonomy_term_id=00000000-0000-4000-8000-000000000000",
            "taxonomy_term_id",
        ),
        (
            "/hsds/services?taxonomy_id=00000000-0000-4000-8000-000000000000",
            "taxonomy_id",
        ),
        ("/hsds/services?modified_after=yesterday", "modified_after"),
        ("/hsds/services?format=xml", "format"),
        ("/hsds/services?full=maybe", "full"),
        (
            "/hsds/services?parent_id=00000000-0000-4000-8000-000000000000",
            "parent_id",
        ),
        ("/hsds/taxonomies?full=true", "full"),
        ("/hsds/services?colour=red", "colour"),
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body["error"]["fields"][field].is_string(), "{path}: {body}");
        assert!(body["error"]["request_id"].is_string());
    }
    // Search-engine syntax is just text.
    for query in [
        "%22unclosed",
        "a%20AND%20(b",
        "*",
        "title:%5B1%20TO%205%5D",
        "%5C",
    ] {
        let (status, body) = app
            .get_json(&format!("/hsds/services?search={query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
    }
    let (status, body) = app.get_json("/hsds/services/not-there").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    app.shutdown().await;
}

fn write_package(dir: &Path, files: &[(&str, &[u8])]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

const ORG_HEADER: &str = "id,name,description\n";
const SERVICE_HEADER: &str = "id,organization_id,name,status,minimum_age\n";

async fn bad_files_are_reported_and_nothing_is_half_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let org = "33333333-3333-4333-8333-333333333333";
    let good_service = format!("33333333-aaaa-4333-8333-000000000001,{org},Good,active,18\n");
    let bad_rows = format!(
        "33333333-aaaa-4333-8333-000000000002,{org},Wrong type,active,eighteen\n\
         33333333-aaaa-4333-8333-000000000003,{org},Bad status,open,\n\
         not-a-uuid,{org},Bad id,active,\n\
         33333333-aaaa-4333-8333-000000000004,44444444-4444-4444-8444-444444444444,Dangling,active,\n\
         33333333-aaaa-4333-8333-000000000005,{org},,active,\n"
    );
    let mut services = Vec::from(SERVICE_HEADER.as_bytes());
    services.extend(good_service.as_bytes());
    services.extend(bad_rows.as_bytes());
    services.extend(format!("33333333-aaaa-4333-8333-000000000006,{org},").as_bytes());
    services.extend([0xff, 0xfe]);
    services.extend(b",active,\n");
    services.extend(
        format!(
            "33333333-aaaa-4333-8333-000000000007,{org},{},active,\n",
            "x".repeat(70_000)
        )
        .as_bytes(),
    );
    let package = dir.path().join("bad");
    write_package(
        &package,
        &[
            (
                "organizations.csv",
                format!("{ORG_HEADER}{org},Harbor,Shelter\n").as_bytes(),
            ),
            ("services.csv", &services),
        ],
    );
    let report = import_with(&app, &package, false).await;
    let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
    for expected in [
        "services.csv row 3 field minimum_age",
        "services.csv row 4 field status",
        "services.csv row 5 field id",
        "services.csv row 6 field organization_id",
        "services.csv row 7 field name",
        "services.csv row 8 field name: is not valid UTF-8",
        "services.csv row 9 field name: is longer than",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "no {expected:?} in {errors:#?}"
        );
    }
    assert!(report.written.is_empty());
    let count = |table: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table}"
            )))
            .fetch_one(db.reader())
            .await
            .unwrap()
        }
    };
    assert_eq!(
        count("hsds_service").await,
        0,
        "nothing is written when any record is invalid"
    );
    assert_eq!(count("hsds_organization").await, 0);

    let report = import_with(&app, &package, true).await;
    assert_eq!(report.written("service"), 1);
    assert_eq!(report.written("organization"), 1);
    assert_eq!(
        count("hsds_service").await,
        1,
        "--skip-invalid stores exactly the valid records"
    );

    // A required reference to a record that is skipped takes its dependants with it.
    let orphans = dir.path().join("orphans");
    write_package(
        &orphans,
        &[
            ("organizations.csv", format!("{ORG_HEADER}55555555-5555-4555-8555-555555555555,,No name\n").as_bytes()),
            ("services.csv", format!("{SERVICE_HEADER}55555555-aaaa-4555-8555-555555555555,55555555-5555-4555-8555-555555555555,Orphan,active,\n").as_bytes()),
        ],
    );
    let report = import_with(&app, &orphans, true).await;
    assert!(
        report
            .errors()
            .any(|e| e.to_string().contains("organizations.csv row 2 field name"))
    );
    assert!(report.errors().any(|e| {
        e.to_string()
            .contains("services.csv row 2 field organization_id")
    }));
    assert_eq!(count("hsds_service").await, 1);

    // Malformed files are reported, not panicked on.
    let broken = dir.path().join("broken");
    write_package(
        &broken,
        &[
            ("datapackage.json", b"{ not json"),
            ("services.csv", b"id,name\n1,2,3\n"),
        ],
    );
    let report = import_with(&app, &broken, false).await;
    assert!(
        report
            .errors()
            .any(|e| e.to_string().contains("required column is missing")),
        "{:?}",
        report.problems
    );
    let json = dir.path().join("services.json");
    std::fs::write(
        &json,
        br#"[{"id": 5, "name": ["x"], "status": "active"}, "text", {"name": "no id"}]"#,
    )
    .unwrap();
    let report = import_with(&app, &json, false).await;
    let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
    for expected in [
        "services.json row 1 field id: must be a string",
        "services.json row 2",
        "services.json row 3 field id: is required",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "no {expected:?} in {errors:#?}"
        );
    }
    let unknown = dir.path().join("things.json");
    std::fs::write(&unknown, b"[]").unwrap();
    let report = import_with(&app, &unknown, false).await;
    assert!(report.errors().any(|e| e.reason.contains("cannot tell")));
    app.shutdown().await;
}

async fn referral_search_filters_rank_and_stay_fresh(backend: Backend) {
    let app = seeded(backend).await;
    let ids = |page: &Value| -> Vec<String> {
        page["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let get = |path: String| {
        let app = &app;
        async move {
            let (status, page) = app.get_json(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {page}");
            page
        }
    };
    let sf = "lat=37.7749&lng=-122.4194";
    // Words, in English or Spanish, with a typo in a name.
    assert_eq!(
        ids(&get("/hsds/services?search=shelters".into()).await),
        [SHELTER_SERVICE]
    );
    assert_eq!(
        ids(&get("/hsds/services?search=albergue".into()).await),
        [SHELTER_SERVICE]
    );
    assert_eq!(
        ids(&get("/hsds/services?search=shleter".into()).await),
        [SHELTER_SERVICE]
    );
    assert_eq!(
        ids(&get("/hsds/services?search=visas".into()).await),
        [LEGAL_SERVICE]
    );
    // Where: nearest first, with the distance; nothing near Los Angeles.
    let near = get(format!("/hsds/services?{sf}&radius_km=10")).await;
    assert_eq!(ids(&near), [LEGAL_SERVICE, SHELTER_SERVICE]);
    let first = near["contents"][0]["distance_km"].as_f64().unwrap();
    let second = near["contents"][1]["distance_km"].as_f64().unwrap();
    assert!(
        first < second && first > 0.5 && second < 10.0,
        "{first} {second}"
    );
    let la = get("/hsds/services?lat=34.05&lng=-118.24&radius_km=50".into()).await;
    assert_eq!(la["total_items"], 0);
    // Filters, each alone and combined.
    for (filter, expected) in [
        ("language=es", vec![SHELTER_SERVICE]),
        ("language=Spanish", vec![SHELTER_SERVICE]),
        ("age=12", vec![LEGAL_SERVICE]),
        ("age=30", vec![LEGAL_SERVICE, SHELTER_SERVICE]),
        ("open_24_7=true", vec![SHELTER_SERVICE]),
        ("open_now=true", vec![SHELTER_SERVICE]),
        ("accepts_referrals=true", vec![]),
        ("free=true", vec![]),
        ("has_capacity=true", vec![]),
        (
            "verified_within_months=12",
            vec![LEGAL_SERVICE, SHELTER_SERVICE],
        ),
        ("population=pop-adults", vec![]),
        (
            "taxonomy_term_id=7bdc0cf2-1400-572d-8b1c-d9696800f2c3",
            vec![SHELTER_SERVICE],
        ),
        ("language=es&open_24_7=true&age=30", vec![SHELTER_SERVICE]),
        ("search=shelter&language=es", vec![SHELTER_SERVICE]),
        ("search=shelter&age=12", vec![]),
    ] {
        let page = get(format!(
            "/hsds/services?{sf}&radius_km=10&sort=distance&{filter}"
        ))
        .await;
        let mut got = ids(&page);
        got.sort();
        let mut expected = expected;
        expected.sort_unstable();
        assert_eq!(got, expected, "{filter}");
    }
    // Services at locations come from the same search.
    let sal = get(format!("/hsds/service_at_locations?{sf}&language=es")).await;
    assert_eq!(ids(&sal), [SHELTER_SAL]);

    // A write is searchable within moments: a statewide line with no location
    // matches anywhere in its state.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("organizations.json"),
        serde_json::to_vec(&serde_json::json!([{
            "id": "66666666-6666-4666-8666-666666666666",
            "name": "California Survivor Legal Line",
            "description": "Statewide legal help by phone.",
            "services": [{
                "id": "66666666-aaaa-4666-8666-666666666666",
                "name": "Statewide immigration legal line",
                "status": "active",
                "service_areas": [{"id": "66666666-bbbb-4666-8666-666666666666", "name": "California"}]
            }]
        }]))
        .unwrap(),
    )
    .unwrap();
    import(&app, &dir.path().join("organizations.json")).await;
    let waited = found_within(
        &app,
        &format!("/hsds/services?{sf}&radius_km=10&search=legal"),
        "66666666-aaaa-4666-8666-666666666666",
    )
    .await;
    eprintln!("a new service became searchable after {waited:?}");
    let page = get("/hsds/services?lat=34.05&lng=-118.24&radius_km=5".into()).await;
    assert_eq!(
        ids(&page),
        ["66666666-aaaa-4666-8666-666666666666"],
        "statewide, from Los Angeles too"
    );

    // Bad parameters name themselves.
    for (path, field) in [
        ("/hsds/services?lat=100&lng=0", "lat"),
        ("/hsds/services?lat=10", "lng"),
        ("/hsds/services?lng=10", "lat"),
        ("/hsds/services?lat=10&lng=200", "lng"),
        ("/hsds/services?lat=10&lng=10&radius_km=-5", "radius_km"),
        ("/hsds/services?lat=10&lng=10&radius_km=NaN", "radius_km"),
        ("/hsds/services?radius_km=5", "radius_km"),
        ("/hsds/services?sort=distance", "sort"),
        ("/hsds/services?sort=best", "sort"),
        ("/hsds/services?population=aliens", "population"),
        ("/hsds/services?age=-1", "age"),
        ("/hsds/services?search=x&postcode=94105", "postcode"),
        ("/hsds/services?proximity=1000", "postcode"),
        ("/hsds/services?postcode=94105&proximity=-5", "proximity"),
        ("/hsds/services?postcode=94105&proximity=far", "proximity"),
        ("/hsds/services?postcode=00000&proximity=1000", "postcode"),
        (
            "/hsds/services?postcode=94105&proximity=10&lat=1&lng=1",
            "proximity",
        ),
        ("/hsds/organizations?lat=1&lng=1", "lat"),
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body["error"]["fields"][field].is_string(), "{path}: {body}");
    }
    app.shutdown().await;
}

async fn search_pages_for_the_public_and_for_staff(backend: Backend) {
    let app = seeded(backend).await;
    let (status, html) = app
        .get_html(
            "/find-help?q=shelter&city=San+Francisco&state=CA&radius=25",
            "en",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Emergency shelter for adults") && html.contains("Safe Harbor Shelter"));
    assert!(html.contains("San Francisco, CA") && html.contains("miles away"));
    assert!(
        html.contains("Open now"),
        "the shelter is open around the clock"
    );
    assert!(!html.contains("Hidden Lane"));
    assert!(
        !html.contains(">Refer<"),
        "the public page has no referral action"
    );
    let (_, html) = app
        .get_html("/find-help?q=albergue&city=San+Francisco&state=CA", "es")
        .await;
    assert!(html.contains("Busque ayuda") && html.contains("Emergency shelter for adults"));
    let (status, html) = app
        .get_html("/find-help?city=Atlantis&state=CA", "en")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("could not find that town"));

    // The public listing: no street for a shelter, ever.
    let (status, html) = app
        .get_html(&format!("/find-help/services/{SHELTER_SERVICE}"), "en")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Confidential location") && !html.contains("Hidden Lane"));
    let (status, _) = app.get_html("/find-help/services/nope", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Staff: every filter, a referral action, and the street for those who send
    // callers there, audited.
    let anonymous = app.get("/directory/search").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    let advocate = app
        .signed_in(atip::kernel::auth::Role::HotlineAdvocate, None)
        .await;
    let page = app
        .get_as(
            &advocate,
            "/directory/search?q=shelter&city=San+Francisco&state=CA&language=es&open_24_7=on",
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Emergency shelter for adults") && html.contains(">Refer<"));
    let listing = app
        .get_as(&advocate, &format!("/directory/services/{SHELTER_SERVICE}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(listing.contains("12 Hidden Lane"), "{listing}");
    let reads: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'directory.confidential_address.read'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(reads, 1);
    let analyst = app.signed_in(atip::kernel::auth::Role::Analyst, None).await;
    let listing = app
        .get_as(&analyst, &format!("/directory/services/{SHELTER_SERVICE}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(listing.contains("Confidential location") && !listing.contains("Hidden Lane"));
    app.shutdown().await;
}

async fn organizations_apply_curators_list_and_unverified_listings_lapse(backend: Backend) {
    let app = seeded(backend).await;
    let (status, html) = app.get_html("/directory/apply", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Apply to be listed"));
    let listings = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM directory_listings")
                .fetch_one(db.reader())
                .await
                .unwrap()
        }
    };
    let before = listings(&app).await;
    let bad = [
        ("name", ""),
        ("email", "nobody"),
        ("city", "Atlantis"),
        ("state", "CA"),
    ];
    let response = app
        .client
        .post(app.url("/directory/apply"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("Organization name") && html.contains("is not an email address"));
    assert_eq!(
        listings(&app).await,
        before,
        "a refused application stores nothing"
    );
    let good = [
        ("name", "Oakland Refuge"),
        ("description", "Emergency beds for adult survivors."),
        ("email", "intake@refuge.example.org"),
        ("phone", "+1 510 555 0199"),
        ("city", "Oakland"),
        ("state", "CA"),
        ("service_type", SHELTER_TERM),
        ("language", "es"),
        ("agrees_referrals", "on"),
        ("references", "Bay Legal Aid, Ana Ruiz, 510 555 0111"),
    ];
    let response = app
        .client
        .post(app.url("/directory/apply"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Thank you"));
    let org: String = sqlx::query_scalar(
        "SELECT organization_id FROM directory_listings WHERE status = 'applied'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    // Not public before review; the references are sealed.
    let (status, _) = app.get_json(&format!("/hsds/organizations/{org}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let sealed: String = sqlx::query_scalar(
        "SELECT references_sealed FROM directory_listings WHERE organization_id = $1",
    )
    .bind(&org)
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert!(!sealed.contains("Ana Ruiz"));

    let curator = app
        .signed_in(atip::kernel::auth::Role::DirectoryCurator, None)
        .await;
    let queue = app
        .get_as(&curator, "/directory/curate")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        queue.contains("Oakland Refuge") && queue.contains("Ana Ruiz"),
        "{queue}"
    );
    let decide = |session: crate::helpers::Session, decision: &'static str, org: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url(&format!("/directory/curate/{org}")))
                .header("cookie", &session.cookie)
                .form(&[
                    ("csrf", session.csrf.as_str()),
                    ("decision", decision),
                    ("note", "references checked"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let advocate = app
        .signed_in(atip::kernel::auth::Role::HotlineAdvocate, None)
        .await;
    assert_eq!(
        decide(advocate, "approve", org.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        decide(curator.clone(), "approve", org.clone()).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        decide(curator.clone(), "approve", org.clone()).await,
        StatusCode::CONFLICT,
        "already listed"
    );
    let decided: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'directory.listing.decide'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(decided, 1);
    let service: String =
        sqlx::query_scalar("SELECT id FROM hsds_service WHERE organization_id = $1")
            .bind(&org)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    // Listed: public, and searchable with what it agreed to.
    found_within(
        &app,
        "/hsds/services?lat=37.8044&lng=-122.2712&radius_km=5&accepts_referrals=true&language=es",
        &service,
    )
    .await;

    // A year and a grace period without re-verification: out of public results,
    // still visible to staff, flagged.
    let long_ago = atip::kernel::time::now_micros() - 500 * 24 * 3600 * 1_000_000;
    let db = app.db.clone();
    let org_id = org.clone();
    db.transaction(|tx| {
        let org_id = org_id.clone();
        Box::pin(async move {
            sqlx::query(
                "UPDATE directory_listings SET last_verified_at = $1 WHERE organization_id = $2",
            )
            .bind(long_ago)
            .bind(&org_id)
            .execute(&mut *tx)
            .await?;
            atip::kernel::outbox::append(
                tx,
                "directory.listing",
                &org_id,
                atip::kernel::outbox::ChangeOp::Update,
            )
            .await
            .map(|_| ())
        })
    })
    .await
    .unwrap();
    // The index follows the change log; the public page drops the listing once it has.
    let start = std::time::Instant::now();
    loop {
        let (_, html) = app
            .get_html("/find-help?q=refuge&city=Oakland&state=CA", "en")
            .await;
        if !html.contains("Oakland Refuge") {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the lapsed listing stayed public"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, page) = app
        .get_json("/hsds/services?lat=37.8044&lng=-122.2712&radius_km=5")
        .await;
    assert!(
        !page.to_string().contains(&service),
        "the HSDS API drops it too"
    );
    let (status, _) = app.get_json(&format!("/hsds/services/{service}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let staff = app
        .get_as(&curator, "/directory/search?q=refuge&city=Oakland&state=CA")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        staff.contains("Oakland Refuge") && staff.contains("Not verified"),
        "{staff}"
    );
    // Verified again: public again.
    assert_eq!(
        decide(curator.clone(), "verify", org.clone()).await,
        StatusCode::SEE_OTHER
    );
    found_within(&app, "/hsds/services?search=refuge", &service).await;
    app.shutdown().await;
}

crate::on_both_databases! {
    organizations_apply_curators_list_and_unverified_listings_lapse;
    search_pages_for_the_public_and_for_staff;
    referral_search_filters_rank_and_stay_fresh;
    example_data_imports_cleanly;
    export_import_export_gives_identical_files;
    every_hsds_endpoint_validates_against_the_official_schemas;
    confidential_addresses_are_redacted_on_every_public_surface;
    list_filters_and_paging;
    bad_api_input_is_a_clear_400;
    bad_files_are_reported_and_nothing_is_half_written;
}

crate::on_both_databases! {
    curators_edit_every_field_and_each_change_is_kept;
}

const LEGAL_ORG: &str = "22222222-2222-4222-8222-222222222222";

async fn curators_edit_every_field_and_each_change_is_kept(backend: Backend) {
    let app = seeded(backend).await;
    let curator = app
        .signed_in(atip::kernel::auth::Role::DirectoryCurator, None)
        .await;
    // Curators reach the editor from a listing.
    let page = app
        .get_as(&curator, &format!("/directory/services/{LEGAL_SERVICE}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/directory/curate/{LEGAL_ORG}/edit")));
    let response = app
        .get_as(&curator, &format!("/directory/curate/{LEGAL_ORG}/edit"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    let description = format!("service/{LEGAL_SERVICE}/description");
    assert!(page.contains(&format!("name=\"{description}\"")), "{page}");
    assert!(
        !page.contains(&format!("address/{LEGAL_ADDRESS}/address_1")),
        "sealed streets are not in the editor"
    );

    let post = |fields: Vec<(String, String)>| {
        let mut form = vec![("csrf".to_owned(), curator.csrf.clone())];
        form.extend(fields);
        app.client
            .post(app.url(&format!("/directory/curate/{LEGAL_ORG}/edit")))
            .header("cookie", &curator.cookie)
            .form(&form)
            .send()
    };
    // A bad value refuses the whole save, naming the field.
    let response = post(vec![
        (
            description.clone(),
            "Walk-in clinic for visa applicants".into(),
        ),
        (
            format!("organization/{LEGAL_ORG}/email"),
            "not an email".into(),
        ),
        (
            format!("address/{LEGAL_ORG}/address_1"),
            "1 Secret St".into(),
        ),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = response.text().await.unwrap();
    assert!(page.contains("usa-error-message"), "{page}");
    let (_, service) = app
        .get_json(&format!("/hsds/services/{LEGAL_SERVICE}"))
        .await;
    assert_ne!(service["description"], "Walk-in clinic for visa applicants");

    // A good save: the API, the search and the history show it.
    let response = post(vec![(
        description.clone(),
        "Walk-in clinic for visa applicants".into(),
    )])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        format!("/directory/curate/{LEGAL_ORG}/edit?saved=1").as_str()
    );
    let (_, service) = app
        .get_json(&format!("/hsds/services/{LEGAL_SERVICE}"))
        .await;
    assert_eq!(service["description"], "Walk-in clinic for visa applicants");
    let change = service["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["field_name"] == "description")
        .unwrap_or_else(|| panic!("{service}"));
    assert_eq!(
        change["replacement_value"],
        "Walk-in clinic for visa applicants"
    );
    assert_eq!(change["last_action_type"], "update");
    assert_eq!(change["updated_by"], "atip directory curator");
    found_within(&app, "/hsds/services?search=walk-in", LEGAL_SERVICE).await;
    let page = app
        .get_as(
            &curator,
            &format!("/directory/curate/{LEGAL_ORG}/edit?saved=1"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Saved 1 change.") && page.contains("Walk-in clinic"),
        "{page}"
    );
    // Who did it is in the audit log, not in the published history.
    let by: Option<String> = sqlx::query_scalar(
        "SELECT actor_role FROM audit_events WHERE action = 'directory.listing.edit'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(by.as_deref(), Some("directory-curator"));
    // Saving the same values again changes nothing.
    let response = post(vec![(
        description,
        "Walk-in clinic for visa applicants".into(),
    )])
    .await
    .unwrap();
    assert_eq!(
        response.headers()["location"],
        format!("/directory/curate/{LEGAL_ORG}/edit?saved=0").as_str()
    );
    app.shutdown().await;
}

crate::on_both_databases! {
    a_bulk_import_into_an_empty_directory_keeps_every_index;
}

/// A large import into empty tables builds their link indexes after loading them
/// (SQLite): every index is there afterwards. On PostgreSQL it is the import that
/// needs several statements per table, with empty and filled numbers mixed (sqlx's
/// NULL typing once refused it).
async fn a_bulk_import_into_an_empty_directory_keeps_every_index(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let indexes = || async {
        let sql = match backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'hsds_%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND tablename LIKE 'hsds_%' ORDER BY indexname"
            }
        };
        sqlx::query_scalar::<_, String>(sql)
            .fetch_all(app.db.reader())
            .await
            .unwrap()
    };
    let before = indexes().await;
    assert!(
        before.iter().any(|i| i == "hsds_attribute_link_id"),
        "{before:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    atip::bench::generate::write(dir.path(), 6_000, 7).unwrap();
    let report = import(&app, dir.path()).await;
    let attributes = report
        .written
        .iter()
        .find(|(t, _)| *t == "attribute")
        .map_or(0, |(_, n)| *n);
    assert!(attributes >= 10_000, "the bulk path is taken: {report:?}");
    assert_eq!(indexes().await, before);
    // Importing again (tables no longer empty) updates in place.
    let again = import(&app, dir.path()).await;
    assert_eq!(again.written, report.written);
    assert_eq!(indexes().await, before);
    app.shutdown().await;
}

crate::on_both_databases! {
    curators_add_and_delete_records_of_a_listing;
}

const LEGAL_LOCATION: &str = "22222222-bbbb-4222-8222-222222222222";
const LEGAL_ADDRESS: &str = "22222222-cccc-4222-8222-222222222222";

async fn curators_add_and_delete_records_of_a_listing(backend: Backend) {
    let app = seeded(backend).await;
    let curator = app
        .signed_in(atip::kernel::auth::Role::DirectoryCurator, None)
        .await;
    let editor = format!("/directory/curate/{LEGAL_ORG}/edit");
    let page = app.get_as(&curator, &editor).await.text().await.unwrap();
    assert!(
        page.contains("Add a service")
            && page.contains(&format!("value=\"service/{LEGAL_SERVICE}\""))
            && !page.contains(&format!("value=\"organization/{LEGAL_ORG}\"")),
        "an add form per record and a delete button on each but the organization: {page}"
    );
    let post = |path: &str, fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", curator.csrf.as_str())];
        form.extend_from_slice(fields);
        app.client
            .post(app.url(&format!("/directory/curate/{LEGAL_ORG}/{path}")))
            .header("cookie", &curator.cookie)
            .form(&form)
            .send()
    };
    let pool = app.db.reader();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let services = count("SELECT COUNT(*) FROM hsds_service").await;

    // What HSDS requires is asked for; a refusal names the field and stores nothing.
    let response = post(
        "records",
        &[("kind", "service"), ("value/status", "active")],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = response.text().await.unwrap();
    assert!(page.contains("add-service-name-error"), "{page}");
    assert!(
        page.contains("<details class=\"margin-bottom-2\" open>"),
        "{page}"
    );
    for refused in [
        vec![("kind", "organization"), ("value/name", "Another")],
        vec![
            ("kind", "service"),
            ("value/name", "X"),
            ("value/status", "sleeping"),
        ],
        vec![
            ("kind", "phone"),
            ("link", "service_id/00000000-0000-4000-8000-000000000000"),
            ("value/number", "555-0100"),
        ],
        vec![
            ("kind", "service_at_location"),
            ("link/service_id", LEGAL_SERVICE),
        ],
    ] {
        let response = post("records", &refused).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{refused:?}");
    }
    assert_eq!(count("SELECT COUNT(*) FROM hsds_service").await, services);

    // A new service, a phone of it and the place it is offered at.
    let response = post(
        "records",
        &[
            ("kind", "service"),
            ("value/name", "Night intake line"),
            ("value/status", "active"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        format!("{editor}?added=service").as_str()
    );
    let new: String =
        sqlx::query_scalar("SELECT id FROM hsds_service WHERE name = 'Night intake line'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    let link = format!("service_id/{new}");
    for fields in [
        vec![
            ("kind", "phone"),
            ("link", link.as_str()),
            ("value/number", "415-555-0100"),
        ],
        vec![
            ("kind", "service_at_location"),
            ("link/service_id", new.as_str()),
            ("link/location_id", LEGAL_LOCATION),
        ],
    ] {
        let response = post("records", &fields).await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{fields:?}");
    }
    let (status, service) = app.get_json(&format!("/hsds/services/{new}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(service["organization"]["id"], LEGAL_ORG, "{service}");
    assert_eq!(service["phones"][0]["number"], "415-555-0100", "{service}");
    assert_eq!(
        service["service_at_locations"][0]["location"]["id"], LEGAL_LOCATION,
        "{service}"
    );
    assert_eq!(service["metadata"][0]["last_action_type"], "create");
    found_within(&app, "/hsds/services?search=night%20intake", &new).await;
    let page = app
        .get_as(&curator, &format!("{editor}?added=phone"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Added the phone."), "{page}");

    // A confidential location's new address is sealed; the public sees no street.
    let response = post(
        "records",
        &[("kind", "location"), ("value/location_type", "redacted")],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let shelter: String = sqlx::query_scalar(
        "SELECT id FROM hsds_location WHERE organization_id = $1 AND location_type = 'redacted'",
    )
    .bind(LEGAL_ORG)
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    let link = format!("location_id/{shelter}");
    let response = post(
        "records",
        &[
            ("kind", "address"),
            ("link", link.as_str()),
            ("value/address_1", "77 Hidden Lane"),
            ("value/city", "Oakland"),
            ("value/state_province", "CA"),
            ("value/postal_code", "94607"),
            ("value/country", "US"),
            ("value/address_type", "physical"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let street: String =
        sqlx::query_scalar("SELECT address_1 FROM hsds_address WHERE location_id = $1")
            .bind(&shelter)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert!(
        street.starts_with("v1:") && !street.contains("Hidden"),
        "{street}"
    );

    // Deleting shows what goes with the record first and changes nothing.
    let record = format!("service/{new}");
    let response = post("delete", &[("record", record.as_str())])
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Delete service · Night intake line?")
            && page.contains("phone · 415-555-0100")
            && page.contains("service at location"),
        "{page}"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM hsds_service").await,
        services + 1
    );
    let response = post("delete", &[("record", record.as_str()), ("confirm", "yes")])
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        format!("{editor}?deleted=3").as_str()
    );
    assert_eq!(count("SELECT COUNT(*) FROM hsds_service").await, services);
    let (status, _) = app.get_json(&format!("/hsds/services/{new}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        count("SELECT COUNT(*) FROM hsds_phone WHERE number = '415-555-0100'").await,
        0
    );
    let remaining: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hsds_service_at_location WHERE service_id = $1")
            .bind(&new)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(remaining, 0);
    // The search forgets it within a second or so.
    let start = std::time::Instant::now();
    loop {
        let (_, page) = app.get_json("/hsds/services?search=night%20intake").await;
        if !page.to_string().contains(&new) {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let page = app
        .get_as(&curator, &format!("{editor}?deleted=3"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Deleted 3 records.")
            && page.contains("Night intake line (")
            && page.contains("delete"),
        "the history names what went: {page}"
    );
    // The organization is delisted, not deleted; records of other listings are not here.
    for record in [
        format!("organization/{LEGAL_ORG}"),
        format!("service/{SHELTER_SERVICE}"),
    ] {
        let response = post("delete", &[("record", record.as_str()), ("confirm", "yes")])
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{record}");
    }
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE action LIKE 'directory.listing.%' ORDER BY seq",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "directory.listing.add")
            .count(),
        5
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "directory.listing.delete")
            .count(),
        1
    );

    // Making a location confidential in the editor seals its street and coarsens it.
    let stored_street = || async {
        sqlx::query_scalar::<_, String>("SELECT address_1 FROM hsds_address WHERE id = $1")
            .bind(LEGAL_ADDRESS)
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let location_type = format!("location/{LEGAL_LOCATION}/location_type");
    let response = post("edit", &[(location_type.as_str(), "redacted")])
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let street = stored_street().await;
    assert!(street.starts_with("v1:"), "{street}");
    let (_, location) = app
        .get_json(&format!("/hsds/services/{LEGAL_SERVICE}"))
        .await;
    let text = location.to_string();
    assert!(
        !text.contains("500 Market") && !text.contains("37.7897"),
        "{text}"
    );
    // And public again, the street comes back.
    let response = post("edit", &[(location_type.as_str(), "physical")])
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let street = stored_street().await;
    assert_eq!(street, "500 Market St");
    app.shutdown().await;
}

crate::on_both_databases! {
    advocates_leave_notes_for_the_next_referral;
}

async fn advocates_leave_notes_for_the_next_referral(backend: Backend) {
    let app = seeded(backend).await;
    let advocate = app
        .signed_in(atip::kernel::auth::Role::HotlineAdvocate, None)
        .await;
    let analyst = app.signed_in(atip::kernel::auth::Role::Analyst, None).await;
    let note = "Intake answers before noon only; ask for the duty attorney";
    let post = |who: &crate::helpers::Session, text: &str| {
        app.client
            .post(app.url(&format!("/directory/services/{LEGAL_SERVICE}/notes")))
            .header("cookie", &who.cookie)
            .form(&[("csrf", who.csrf.as_str()), ("note", text)])
            .send()
    };
    let response = post(&advocate, note).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = app
        .get_as(&advocate, &format!("/directory/services/{LEGAL_SERVICE}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(note) && page.contains("(hotline advocate)"),
        "{page}"
    );
    let title = page.split("</title>").next().unwrap();
    assert!(
        !title.contains("notes"),
        "notes belong in the page, not its title"
    );
    // An empty note is refused; an analyst may neither write nor read them.
    assert_eq!(
        post(&advocate, "   ").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(&analyst, "x").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let page = app
        .get_as(&analyst, &format!("/directory/services/{LEGAL_SERVICE}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains(note) && !page.contains("id=\"notes\""));
    // Never public, and sealed where it is stored.
    let (_, public) = app
        .get_html(&format!("/find-help/services/{LEGAL_SERVICE}"), "en")
        .await;
    assert!(!public.contains(note));
    let stored: String = sqlx::query_scalar("SELECT note_sealed FROM directory_listing_notes")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert!(!stored.contains("noon"));
    app.shutdown().await;
}

crate::on_both_databases! {
    listings_coming_due_get_one_reminder;
}

async fn listings_coming_due_get_one_reminder(backend: Backend) {
    use atip::directory::model::Vetting;
    use atip::directory::reminders;
    let app = seeded(backend).await;
    let day = 86_400_000_000_i64;
    let now = atip::kernel::time::now_micros();
    // Both listings were verified 340 days ago: due in about 20 days (a year is 360).
    sqlx::query("UPDATE directory_listings SET last_verified_at = $1")
        .bind(now - 340 * day)
        .execute(app.db.writer())
        .await
        .unwrap();
    // One sweep a day, whichever server asks first (this one swept at its start).
    assert!(!reminders::schedule(&app.db, now).await.unwrap());
    assert!(reminders::schedule(&app.db, now + day + 1).await.unwrap());
    assert!(
        !reminders::schedule(&app.db, now + day + day / 2)
            .await
            .unwrap()
    );
    // The worker runs the sweep, then sends the message (to the outbox folder here).
    let mail = app.outbox(2).await;
    // The shelter and the HSDS example organization have an address; the legal aid
    // office has none, so it gets nothing.
    assert_eq!(mail.len(), 2, "{mail:?}");
    let text = mail
        .iter()
        .map(|m| std::fs::read_to_string(m).unwrap())
        .find(|t| t.contains("safeharbor"))
        .unwrap();
    assert!(text.contains("To: intake@safeharbor.example.org"), "{text}");
    assert!(text.contains("Safe Harbor Shelter"), "{text}");
    assert!(
        text.contains(&format!("/find-help/services/{SHELTER_SERVICE}")),
        "{text}"
    );
    // Not again within two weeks; again after, while still due.
    let vetting = Vetting {
        reverify_months: 12,
        grace_days: 60,
    };
    let swept = reminders::sweep(&app.db, vetting, 30, "https://atip.example", now + day)
        .await
        .unwrap();
    assert_eq!(swept, 0);
    let swept = reminders::sweep(&app.db, vetting, 30, "https://atip.example", now + 15 * day)
        .await
        .unwrap();
    assert_eq!(swept, 2);
    let reminded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'directory.listing.reminded'",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(reminded, 4);
    app.shutdown().await;
}
