//! Reminders to re-verify: once a day one server sweeps the listings coming due and
//! queues a message to each one's contact, again every two weeks while it stays due.

use std::time::Duration;

use futures_util::future::BoxFuture;
use scoped_futures::ScopedFutureExt;
use sqlx::Row;

use super::model::Vetting;
use super::store;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::db::Db;
use crate::kernel::jobs::{self, JobError, JobHandler};
use crate::kernel::mail;

pub const SWEEP_JOB: &str = "directory.reminders";
const NEXT_SWEEP: &str = "directory.reminders.next_sweep";
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// A listing still due is reminded again after this many days.
const AGAIN_AFTER_DAYS: i64 = 14;
/// How often each server checks whether the day's sweep is due.
pub const CHECK_EVERY: Duration = Duration::from_hours(1);

/// Queues the sweep if a day has passed since the last one. Several servers may call
/// this at once: the first to move the next-sweep time wins, the others do nothing.
pub async fn schedule(db: &Db, now: i64) -> Result<bool, sqlx::Error> {
    db.transaction(|tx| {
        async move {
            let current: Option<String> =
                sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(NEXT_SWEEP)
                    .fetch_optional(&mut *tx)
                    .await?;
            if current
                .as_deref()
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|next| now < next)
            {
                return Ok(false);
            }
            let next = (now + MICROS_PER_DAY).to_string();
            let moved = match &current {
                Some(old) => sqlx::query("UPDATE settings SET value = $1 WHERE key = $2 AND value = $3")
                    .bind(&next)
                    .bind(NEXT_SWEEP)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                None => sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                )
                .bind(NEXT_SWEEP)
                .bind(&next)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            };
            if moved != 1 {
                return Ok(false);
            }
            jobs::enqueue(tx, SWEEP_JOB, &serde_json::json!({}), 3).await?;
            Ok(true)
        }
        .scope_boxed()
    })
    .await
}

fn date(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%B %-d, %Y").to_string())
        .unwrap_or_default()
}

/// Queues a reminder for every listing due within `days` (or overdue) that has a
/// contact and was not reminded in the last two weeks. Returns how many were queued.
pub async fn sweep(
    db: &Db,
    vetting: Vetting,
    days: u32,
    public_url: &str,
    now: i64,
) -> Result<usize, sqlx::Error> {
    let mut sent = 0;
    for row in store::reminder_candidates(db.reader()).await? {
        let (organization, name): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        let verified: Option<i64> = row.try_get(2)?;
        let reminded: Option<i64> = row.try_get(3)?;
        let contact: Option<String> = row.try_get(4)?;
        let service: Option<String> = row.try_get(5)?;
        let (Some(verified), Some(contact)) = (verified, contact.filter(|c| c.contains('@')))
        else {
            continue;
        };
        let due = vetting.due_at(verified);
        let coming = now >= due - i64::from(days) * MICROS_PER_DAY;
        let quiet =
            reminded.is_none_or(|r| r < verified || r < now - AGAIN_AFTER_DAYS * MICROS_PER_DAY);
        if !coming || !quiet {
            continue;
        }
        let subject = "Please confirm your listing in the anti-trafficking directory";
        let link = service.map_or_else(
            || format!("{public_url}/find-help"),
            |s| format!("{public_url}/find-help/services/{s}"),
        );
        let body = format!(
            "Hello,\n\n\
             The listing of {name} in the national anti-trafficking directory was last \
             confirmed on {verified}. Its yearly check is due on {due}.\n\n\
             Please look at it here:\n{link}\n\n\
             and reply to this message, either with what has changed (services, hours, \
             phone numbers, languages, who you serve) or to say that it is still right. \
             Our curators will update and confirm it.\n\n\
             A listing that is not confirmed within {grace} days after it is due leaves the \
             public search until it is confirmed again; hotline advocates can still find it.\n\n\
             Thank you for the work you do.\n",
            verified = date(verified),
            due = date(due),
            grace = vetting.grace_days,
        );
        let event = Event {
            action: "directory.listing.reminded",
            object_type: Some("organization"),
            object_id: Some(organization.clone()),
            ..Event::default()
        };
        db.transaction(|tx| {
            let (contact, body, organization, event) = (&contact, &body, &organization, &event);
            async move {
                mail::enqueue(tx, contact, subject, body).await?;
                store::set_reminded(tx, organization, now).await?;
                audit::append(tx, event, Outcome::Success).await?;
                Ok::<_, sqlx::Error>(())
            }
            .scope_boxed()
        })
        .await?;
        sent += 1;
    }
    Ok(sent)
}

/// The job that runs the day's sweep.
pub struct Sweeper {
    pub db: Db,
    pub vetting: Vetting,
    pub days: u32,
    pub public_url: String,
}

impl JobHandler for Sweeper {
    fn kind(&self) -> &'static str {
        SWEEP_JOB
    }

    fn run<'a>(&'a self, _: &'a serde_json::Value) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let now = crate::kernel::time::now_micros();
            let sent = sweep(&self.db, self.vetting, self.days, &self.public_url, now)
                .await
                .map_err(|e| JobError(format!("database: {e}")))?;
            tracing::info!(
                reminders = sent,
                "directory re-verification reminders queued"
            );
            Ok(())
        })
    }
}
