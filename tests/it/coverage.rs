//! The coverage page: the fourteen days hour by hour in the hotline's time zone, the
//! hours with no advocate in red, and supervisors scheduling shifts from it.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;
use atip::accounts::model::{Email, NewUser};
use atip::accounts::service as accounts;
use atip::kernel::auth::Role;
use atip::kernel::auth::password::Password;

on_both_databases! {
    supervisors_see_the_gaps_and_fill_them;
}

async fn supervisors_see_the_gaps_and_fill_them(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.hotline_time_zone = "America/Chicago".into();
    })
    .await;
    let ana = accounts::create_user(
        &app.db,
        &app.crypto,
        NewUser {
            email: Email::parse("ana.coverage@example.org").unwrap(),
            display_name: "Ana Coverage".into(),
            phone: None,
            roles: vec![Role::HotlineAdvocate],
            organization: None,
            password: Password::new("lantern orchard velvet canyon".into()),
        },
    )
    .await
    .unwrap()
    .to_string();
    let supervisor = app.signed_in(Role::HotlineSupervisor, None).await;
    let page = app
        .get_as(&supervisor, "/hotline/coverage")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Times are in America/Chicago"));
    assert_eq!(page.matches("<td class=\"atip-gap\">").count(), 14 * 24);
    assert!(page.contains("Hours with no advocate on duty: 336"));
    assert!(page.contains(&format!("<option value=\"{ana}\">Ana Coverage</option>")));

    // Schedule Ana tomorrow from 09:00 to 17:00, Chicago time.
    let tomorrow = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("America/Chicago").unwrap())
        .date()
        .tomorrow()
        .unwrap();
    let starts = format!("{tomorrow}T09:00");
    let ends = format!("{tomorrow}T17:00");
    let post = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf", supervisor.csrf.clone())];
        form.extend(fields);
        app.client
            .post(app.url("/hotline/shifts"))
            .header("cookie", &supervisor.cookie)
            .form(&form)
            .send()
    };
    let refused = post(vec![
        ("person", ana.clone()),
        ("role", "supervisor".into()),
        ("starts_at", starts.clone()),
        ("ends_at", ends.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("That person is not a supervisor.")
    );
    let backwards = post(vec![
        ("person", ana.clone()),
        ("role", "advocate".into()),
        ("starts_at", ends.clone()),
        ("ends_at", starts.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(backwards.status(), StatusCode::BAD_REQUEST);
    let done = post(vec![
        ("person", ana.clone()),
        ("role", "advocate".into()),
        ("starts_at", starts.clone()),
        ("ends_at", ends.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);

    // Eight hours fewer without an advocate, in the same place the API counts them.
    let page = app
        .get_as(&supervisor, "/hotline/coverage?scheduled=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The shift is scheduled."));
    assert!(
        page.contains("Hours with no advocate on duty: 328"),
        "{page}"
    );
    assert_eq!(page.matches("<td class=\"atip-gap\">").count(), 328);
    let coverage: Value = app
        .get_as(&supervisor, "/api/v1/hotline/coverage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(coverage["advocate_gap_hours"], 328);
    // The stored shift is 09:00 Chicago time, whatever the server's zone.
    let starts_at: i64 = sqlx::query_scalar("SELECT starts_at FROM hotline_shifts")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let local = jiff::Timestamp::from_microsecond(starts_at)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("America/Chicago").unwrap());
    assert_eq!((local.date(), local.hour()), (tomorrow, 9));

    // Advocates see the coverage but cannot schedule.
    let advocate = app
        .sign_in("ana.coverage@example.org", "lantern orchard velvet canyon")
        .await;
    let page = app
        .get_as(&advocate, "/hotline/coverage")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("action=\"/hotline/shifts\""));
    let forbidden = app
        .client
        .post(app.url("/hotline/shifts"))
        .header("cookie", &advocate.cookie)
        .form(&[("csrf", advocate.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}
