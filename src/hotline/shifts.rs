//! Shifts and coverage: who is on duty, and every hour of the next two weeks with no
//! advocate or no supervisor.

use jiff::Timestamp;
use scoped_futures::ScopedFutureExt as _;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::coverage::{self, Shift, ShiftRole, Window};
use super::service::HotlineError;
use super::store;
use crate::accounts::service as accounts;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::{Principal, Role, UserId};
use crate::kernel::db::Db;
use crate::kernel::time::now_micros;

/// Why a shift cannot be scheduled.
#[derive(Debug, PartialEq, Eq)]
pub enum ShiftRefusal {
    /// The person has no account with the role the shift needs.
    NotInRole,
    /// It ends before it starts, or lasts more than a day.
    Span,
}

fn role_code(role: ShiftRole) -> &'static str {
    match role {
        ShiftRole::Advocate => "advocate",
        ShiftRole::Supervisor => "supervisor",
    }
}

pub fn parse_role(code: &str) -> Option<ShiftRole> {
    match code {
        "advocate" => Some(ShiftRole::Advocate),
        "supervisor" => Some(ShiftRole::Supervisor),
        _ => None,
    }
}

/// The longest shift: longer is a typing error, not a shift.
const LONGEST_HOURS: i64 = 24;

/// Schedules `person` for a shift in `role` (they must hold the matching role).
pub async fn schedule(
    db: &Db,
    supervisor: &Principal,
    person: UserId,
    role: ShiftRole,
    (start, end): (Timestamp, Timestamp),
) -> Result<Result<String, ShiftRefusal>, HotlineError> {
    let hours = end.duration_since(start).as_hours();
    if Shift::new(person, role, start, end).is_err() || hours > LONGEST_HOURS {
        return Ok(Err(ShiftRefusal::Span));
    }
    let needed = match role {
        ShiftRole::Advocate => Role::HotlineAdvocate,
        ShiftRole::Supervisor => Role::HotlineSupervisor,
    };
    let held = accounts::roles_of(db, person)
        .await
        .map_err(|e| HotlineError::Other(e.to_string()))?;
    if !held.contains(&needed) {
        return Ok(Err(ShiftRefusal::NotInRole));
    }
    let id = uuid::Uuid::now_v7().to_string();
    db.transaction(|tx| {
        let id = &id;
        async move {
            store::insert_shift(
                tx,
                id,
                (&person.to_string(), role_code(role)),
                (start.as_microsecond(), end.as_microsecond()),
                &supervisor.id.to_string(),
                now_micros(),
            )
            .await?;
            let event = Event {
                object_type: Some("hotline_shift"),
                object_id: Some(id.clone()),
                detail: Some(format!("role={}", role_code(role))),
                ..Event::by(supervisor, "hotline.shift.schedule")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, HotlineError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(Ok(id))
}

/// One hour of the coverage view.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HourView {
    pub start: String,
    pub advocates: usize,
    pub supervisors: usize,
    /// Some moment of the hour has no advocate on duty.
    pub advocate_gap: bool,
    pub supervisor_gap: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CoverageView {
    pub from: String,
    /// Every hour of the fourteen days from `from`.
    pub hours: Vec<HourView>,
    /// How many hours have no advocate, and no supervisor.
    pub advocate_gap_hours: usize,
    pub supervisor_gap_hours: usize,
    /// Who is on duty now.
    pub on_duty_now: Vec<String>,
}

/// The coverage of the fourteen days from the hour `from` falls in.
pub async fn coverage_from(db: &Db, from: Timestamp) -> Result<CoverageView, HotlineError> {
    let top = from.as_second().div_euclid(3_600).saturating_mul(3_600);
    let start = Timestamp::from_second(top).unwrap_or(from);
    let window = Window::starting(start).map_err(|e| HotlineError::Other(e.to_string()))?;
    let rows = store::shifts_between(
        db.reader(),
        window.start().as_microsecond(),
        window.end().as_microsecond(),
    )
    .await?;
    let now = Timestamp::now();
    let rows_now =
        store::shifts_between(db.reader(), now.as_microsecond(), now.as_microsecond() + 1).await?;
    let to_shifts = |rows: Vec<(String, String, i64, i64)>| -> Vec<Shift> {
        rows.into_iter()
            .filter_map(|(user, role, s, e)| {
                Shift::new(
                    user.parse::<UserId>().ok()?,
                    parse_role(&role)?,
                    Timestamp::from_microsecond(s).ok()?,
                    Timestamp::from_microsecond(e).ok()?,
                )
                .ok()
            })
            .collect()
    };
    let shifts = to_shifts(rows);
    let covered = coverage::coverage(&shifts, &window);
    let hours: Vec<HourView> = covered
        .hours
        .iter()
        .map(|h| HourView {
            start: h.start.to_string(),
            advocates: h.advocates,
            supervisors: h.supervisors,
            advocate_gap: h.advocate_gap,
            supervisor_gap: h.supervisor_gap,
        })
        .collect();
    Ok(CoverageView {
        from: start.to_string(),
        advocate_gap_hours: hours.iter().filter(|h| h.advocate_gap).count(),
        supervisor_gap_hours: hours.iter().filter(|h| h.supervisor_gap).count(),
        hours,
        on_duty_now: coverage::on_duty(&to_shifts(rows_now), now)
            .into_iter()
            .map(|u| u.to_string())
            .collect(),
    })
}
