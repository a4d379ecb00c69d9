//! The hotline's indicators for any period, computed from its records: signals by
//! channel and reason, cases by type and indicator level, referrals, reports, emergency
//! requests.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::model::contact::code;
use super::model::crisis::Step;
use super::service::HotlineError;
use super::store;
use crate::kernel::db::Db;

/// Counts for one period, every one a whole number of records.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Indicators {
    pub from: String,
    pub to: String,
    /// Contacts ("signals") by channel, and in all.
    pub signals_by_channel: BTreeMap<String, i64>,
    pub signals: i64,
    /// Contacts giving each reason (a contact may give several).
    pub signals_by_reason: BTreeMap<String, i64>,
    pub cases_by_type: BTreeMap<String, i64>,
    /// By the level the latest screening suggested (`not-screened` if none).
    pub cases_by_indicator_level: BTreeMap<String, i64>,
    pub cases: i64,
    /// Potential victims in the period's cases, where the case says how many.
    pub potential_victims: i64,
    pub cases_involving_minors: i64,
    pub referrals_by_kind: BTreeMap<String, i64>,
    pub referrals: i64,
    pub reports_by_agency: BTreeMap<String, i64>,
    /// Emergency shelter, extraction and transportation requested (crisis checklists).
    pub emergency_requests: i64,
}

fn total(counts: &BTreeMap<String, i64>) -> i64 {
    counts.values().sum()
}

/// The indicators of the days from `from` up to (not including) `to`, UTC.
pub async fn between(
    db: &Db,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<Indicators, HotlineError> {
    let micros = |date: jiff::civil::Date| {
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_microsecond())
            .map_err(|e| HotlineError::Other(e.to_string()))
    };
    let (start, end) = (micros(from)?, micros(to)?);
    let mut counted = between_times(db, start, end).await?;
    counted.from = from.to_string();
    counted.to = to.to_string();
    Ok(counted)
}

/// The indicators of the times from `start` up to (not including) `end`, in
/// microseconds (a day in the hotline's own time zone, for the console).
pub async fn between_times(db: &Db, start: i64, end: i64) -> Result<Indicators, HotlineError> {
    let counts = store::counts(db.reader(), start, end).await?;
    let emergency: Vec<String> = Step::ALL
        .into_iter()
        .filter(|s| s.is_emergency_request())
        .map(|s| code(&s))
        .collect();
    let emergency_requests = store::emergency_requests(db.reader(), &emergency, start, end).await?;
    let mut by_reason: BTreeMap<String, i64> = BTreeMap::new();
    for (reasons, n) in &counts.contact_reasons {
        for reason in reasons.split(',').filter(|r| !r.is_empty()) {
            *by_reason.entry(reason.to_owned()).or_default() += n;
        }
    }
    let map = |pairs: Vec<(String, i64)>| pairs.into_iter().collect::<BTreeMap<_, _>>();
    let signals_by_channel = map(counts.contacts_by_channel);
    let cases_by_type = map(counts.cases_by_type);
    let referrals_by_kind = map(counts.referrals_by_kind);
    Ok(Indicators {
        from: crate::kernel::time::rfc3339(start),
        to: crate::kernel::time::rfc3339(end),
        signals: total(&signals_by_channel),
        signals_by_channel,
        signals_by_reason: by_reason,
        cases: total(&cases_by_type),
        potential_victims: counts.potential_victims,
        cases_involving_minors: counts.cases_involving_minors,
        cases_by_type,
        cases_by_indicator_level: map(counts.cases_by_level),
        referrals: total(&referrals_by_kind),
        referrals_by_kind,
        reports_by_agency: map(counts.reports_by_agency),
        emergency_requests,
    })
}
