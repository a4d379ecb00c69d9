//! The advocate console: the chat queue, the advocate's chats, open text threads,
//! follow-ups due, their open cases and (for supervisors) alerts, kept current in the
//! page by server-sent events.

pub mod coverage;
pub mod pages;
mod store;
pub mod texts;

use super::chat::{self, ChatRow};
use super::service::HotlineError;
use super::{assistance, cases, referrals, voice};
use crate::kernel::auth::Principal;
use crate::kernel::authz::{self, Action, Decision, Resource};
use crate::kernel::db::Db;
use crate::kernel::time::minute_utc;

pub struct ChatLine {
    pub id: String,
    pub language: String,
    pub status: String,
    pub since: String,
}

impl From<&ChatRow> for ChatLine {
    fn from(c: &ChatRow) -> Self {
        Self {
            id: c.id.clone(),
            language: c.language.clone(),
            status: c.status.clone(),
            since: minute_utc(c.created_at),
        }
    }
}

pub struct Line {
    pub id: String,
    pub what: String,
    pub when: String,
}

/// Everything the console shows one person.
pub struct Panels {
    pub on_duty_until: Option<String>,
    pub waiting: Vec<ChatLine>,
    pub mine: Vec<ChatLine>,
    /// Calls the person answered and has not written up.
    pub calls: Vec<Line>,
    pub threads: Vec<Line>,
    pub follow_ups: Vec<Line>,
    /// Technical-assistance questions waiting for an answer (topic and due date only).
    pub assistance: Vec<Line>,
    pub cases: Vec<Line>,
    /// `None` for those who do not supervise.
    pub alerts: Option<Vec<Line>>,
    /// For supervisors: today's contacts (in the hotline's time zone) by channel and
    /// by reason.
    pub today: Option<Today>,
}

pub struct Today {
    pub total: i64,
    pub by_channel: Vec<(String, i64)>,
    pub by_reason: Vec<(String, i64)>,
}

/// Calls the person answered and has not written up.
async fn calls_to_write_up(db: &Db, who: &Principal) -> Result<Vec<Line>, HotlineError> {
    let calls: Vec<Line> = voice::to_write_up(db, who)
        .await?
        .into_iter()
        .map(|c| Line {
            id: c.id,
            what: format!(
                "{} · {}",
                c.language.unwrap_or_default(),
                c.duration_s
                    .map_or_else(|| c.status.clone(), |s| format!("{}:{:02}", s / 60, s % 60))
            ),
            when: minute_utc(c.started_at),
        })
        .collect();
    Ok(calls)
}

/// Technical-assistance requests waiting, by topic and due date only.
async fn assistance_waiting(db: &Db) -> Result<Vec<Line>, HotlineError> {
    let waiting: Vec<Line> = assistance::waiting_count(db)
        .await?
        .into_iter()
        .map(|(topic, due)| Line {
            id: String::new(),
            what: topic,
            when: due.unwrap_or_default(),
        })
        .collect();
    Ok(waiting)
}

/// Today's volume, the day as the hotline's clock has it.
async fn volume_today(db: &Db, zone: &jiff::tz::TimeZone) -> Result<Today, HotlineError> {
    let date = jiff::Timestamp::now().to_zoned(zone.clone()).date();
    let start = date
        .to_zoned(zone.clone())
        .map_err(|e| HotlineError::Other(e.to_string()))?;
    let end = start
        .tomorrow()
        .map_err(|e| HotlineError::Other(e.to_string()))?;
    let counted = super::indicators::between_times(
        db,
        start.timestamp().as_microsecond(),
        end.timestamp().as_microsecond(),
    )
    .await?;
    Ok(Today {
        total: counted.signals,
        by_channel: counted.signals_by_channel.into_iter().collect(),
        by_reason: counted.signals_by_reason.into_iter().collect(),
    })
}

pub async fn panels(
    db: &Db,
    who: &Principal,
    zone: &jiff::tz::TimeZone,
) -> Result<Panels, HotlineError> {
    let on_duty_until = chat::on_duty_until(db, who)
        .await?
        .map(|t| minute_utc(t.as_microsecond()));
    let waiting = chat::waiting(db)
        .await?
        .iter()
        .map(ChatLine::from)
        .collect();
    let mine = chat::open_chats_of(db, who)
        .await?
        .iter()
        .map(ChatLine::from)
        .collect();
    let calls = calls_to_write_up(db, who).await?;
    let threads = store::open_threads(db.reader(), 20)
        .await?
        .into_iter()
        .map(|t| Line {
            id: t.id,
            what: String::new(),
            when: minute_utc(t.last_message_at),
        })
        .collect();
    let today = jiff::Timestamp::now().to_zoned(zone.clone()).date();
    let follow_ups = referrals::follow_ups(db, today)
        .await?
        .into_iter()
        .map(|r| Line {
            id: r.contact_id,
            what: format!("{} ({})", r.service_name, r.urgency),
            when: r.follow_up_due,
        })
        .collect();
    let assistance = assistance_waiting(db).await?;
    let cases = store::open_cases_of(db.reader(), &who.id.to_string(), 50)
        .await?
        .into_iter()
        .map(|c| Line {
            id: c.id,
            what: match c.indicator_level {
                Some(level) => format!("{} · {level}", c.trafficking_type),
                None => c.trafficking_type,
            },
            when: minute_utc(c.updated_at),
        })
        .collect();
    let supervises =
        authz::authorize(Some(who), Action::SuperviseHotline, Resource::Global) == Decision::Allow;
    let today = if supervises {
        Some(volume_today(db, zone).await?)
    } else {
        None
    };
    let alerts = if supervises {
        Some(
            cases::open_alerts(db)
                .await?
                .into_iter()
                .map(|a| Line {
                    id: a.case_id,
                    what: a.kind,
                    when: minute_utc(a.raised_at),
                })
                .collect(),
        )
    } else {
        None
    };
    Ok(Panels {
        on_duty_until,
        waiting,
        mine,
        calls,
        threads,
        follow_ups,
        assistance,
        cases,
        alerts,
        today,
    })
}
