//! The coverage page: every hour of the next fourteen days in the hotline's time zone,
//! the hours with no advocate on duty in red, and for supervisors the form that
//! schedules a shift.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::Timestamp;
use jiff::civil::DateTime;

use super::super::model::coverage::ShiftRole;
use super::super::shifts::{self, ShiftRefusal};
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::kernel::auth::{Principal, Role, UserId};
use crate::kernel::authz::{self, Action, Decision, Resource};
use crate::kernel::web::extract::FormFields;
use crate::kernel::web::{HtmlError, Shell};

pub struct Cell {
    /// Part of the fourteen days (the first and last day are partial).
    pub shown: bool,
    pub advocates: usize,
    pub supervisors: usize,
    pub advocate_gap: bool,
    pub supervisor_gap: bool,
}

pub struct Day {
    pub label: String,
    pub cells: Vec<Cell>,
}

pub struct Person {
    pub id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "hotline/coverage.html")]
struct CoveragePage {
    shell: Shell,
    csrf: String,
    zone: String,
    days: Vec<Day>,
    advocate_gap_hours: usize,
    supervisor_gap_hours: usize,
    on_duty: Vec<String>,
    /// For supervisors: who may be scheduled.
    staff: Option<Vec<Person>>,
    message: Option<String>,
    problem: Option<String>,
}

fn internal(e: impl Into<anyhow::Error>) -> HtmlError {
    HtmlError::Internal(e.into())
}

fn supervises(principal: &Principal) -> bool {
    authz::authorize(Some(principal), Action::SuperviseHotline, Resource::Global) == Decision::Allow
}

async fn page(
    state: &AppState,
    principal: &Principal,
    message: Option<String>,
    problem: Option<String>,
) -> Result<Response, HtmlError> {
    let zone = state.hotline_zone.clone();
    let view = shifts::coverage_from(&state.db, Timestamp::now())
        .await
        .map_err(internal)?;
    let names: BTreeMap<String, String> = crate::accounts::service::holders_of(
        &state.db,
        &state.crypto,
        principal,
        &[Role::HotlineAdvocate, Role::HotlineSupervisor],
    )
    .await
    .map_err(internal)?
    .into_iter()
    .collect();
    let mut days: Vec<Day> = Vec::new();
    for hour in &view.hours {
        let Ok(start) = hour.start.parse::<Timestamp>() else {
            continue;
        };
        let local = start.to_zoned(zone.clone());
        let label = local.strftime("%a %b %-d").to_string();
        if days.last().is_none_or(|d| d.label != label) {
            days.push(Day {
                label,
                cells: (0..24)
                    .map(|_| Cell {
                        shown: false,
                        advocates: 0,
                        supervisors: 0,
                        advocate_gap: false,
                        supervisor_gap: false,
                    })
                    .collect(),
            });
        }
        if let Some(day) = days.last_mut()
            && let Some(cell) = day
                .cells
                .get_mut(usize::try_from(local.hour()).unwrap_or(0))
        {
            *cell = Cell {
                shown: true,
                advocates: hour.advocates,
                supervisors: hour.supervisors,
                advocate_gap: hour.advocate_gap,
                supervisor_gap: hour.supervisor_gap,
            };
        }
    }
    let on_duty = view
        .on_duty_now
        .iter()
        .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
        .collect();
    let staff = supervises(principal).then(|| {
        names
            .into_iter()
            .map(|(id, name)| Person { id, name })
            .collect()
    });
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = CoveragePage {
        shell: Shell::current(),
        csrf: csrf_of(principal),
        zone: zone.iana_name().unwrap_or("UTC").to_owned(),
        days,
        advocate_gap_hours: view.advocate_gap_hours,
        supervisor_gap_hours: view.supervisor_gap_hours,
        on_duty,
        staff,
        message,
        problem,
    };
    Ok((status, Html(page.render().map_err(internal)?)).into_response())
}

#[derive(serde::Deserialize)]
pub struct CoverageQuery {
    #[serde(default)]
    scheduled: Option<String>,
}

pub async fn coverage(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<CoverageQuery>,
) -> Result<Response, HtmlError> {
    let message = query
        .scheduled
        .map(|_| Shell::current().tr.t("coverage-scheduled"));
    page(&state, &principal, message, None).await
}

/// A time typed in the form (`YYYY-MM-DDTHH:MM`, the hotline's time zone).
fn local_time(raw: &str, zone: &jiff::tz::TimeZone) -> Option<Timestamp> {
    let civil: DateTime = raw.trim().parse().ok()?;
    civil.to_zoned(zone.clone()).ok().map(|z| z.timestamp())
}

/// A supervisor schedules a shift.
pub async fn schedule(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let form = FormFields::parse(&body);
    let field = |name: &str| form.get(name);
    check_form_token(&state, &principal, field("csrf")).await?;
    let tr = Shell::current().tr;
    let person = field("person").parse::<UserId>().ok();
    let role = shifts::parse_role(field("role"));
    let start = local_time(field("starts_at"), &state.hotline_zone);
    let end = local_time(field("ends_at"), &state.hotline_zone);
    let (Some(person), Some(role), Some(start), Some(end)) = (person, role, start, end) else {
        return page(
            &state,
            &principal,
            None,
            Some(tr.t("coverage-problem-fields")),
        )
        .await;
    };
    let scheduled = shifts::schedule(&state.db, &principal, person, role, (start, end))
        .await
        .map_err(internal)?;
    match scheduled {
        Ok(_) => Ok(Redirect::to("/hotline/coverage?scheduled=1").into_response()),
        Err(ShiftRefusal::NotInRole) => {
            let key = match role {
                ShiftRole::Advocate => "coverage-problem-not-advocate",
                ShiftRole::Supervisor => "coverage-problem-not-supervisor",
            };
            page(&state, &principal, None, Some(tr.t(key))).await
        }
        Err(ShiftRefusal::Span) => {
            page(
                &state,
                &principal,
                None,
                Some(tr.t("coverage-problem-span")),
            )
            .await
        }
    }
}
