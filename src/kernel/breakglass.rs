//! Break-glass: a supervisor opens a record outside their scope only by giving a
//! reason. The grant is the supervisor's own, for one action on one organization's
//! records, for an hour; it is audited as `break-glass` when given, every opening
//! under it is audited with the grant's id, and administrators see each grant with
//! its reason (`/admin/break-glass`). The reason is sealed: it may name the person
//! in danger.

use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use sqlx::FromRow;

use super::audit::{self, Event, Outcome};
use super::auth::Principal;
use super::authz::{self, Action, Decision, Resource};
use super::crypto::{Crypto, CryptoError, Scope};
use super::db::{Db, Retryable};
use super::time::{micros, now_micros};
use crate::orgs::model::OrgId;

/// Long enough for one emergency, short enough that the next one asks again.
pub const LASTS: Duration = Duration::from_hours(1);

/// Why the glass was broken: 10 to 1,000 characters, trimmed.
#[derive(Debug)]
pub struct Reason(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("reason: say in 10 to 1,000 characters why this record must be opened now")]
pub struct BadReason;

impl Reason {
    pub fn parse(raw: &str) -> Result<Self, BadReason> {
        let reason = raw.trim();
        let length = reason.chars().count();
        if (10..=1000).contains(&length) {
            Ok(Self(reason.to_owned()))
        } else {
            Err(BadReason)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BreakGlassError {
    #[error("this principal may not break the glass for this record")]
    NotAllowed,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Keys(#[from] CryptoError),
}

impl Retryable for BreakGlassError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Db(e) if e.is_retryable())
    }
}

/// Gives `principal` an hour's access to `org`'s records for `action`, if the policy
/// says it may break the glass there. Returns the grant's id.
pub async fn open(
    db: &Db,
    crypto: &Crypto,
    principal: &Principal,
    action: Action,
    org: OrgId,
    reason: &Reason,
) -> Result<String, BreakGlassError> {
    if authz::authorize(Some(principal), action, Resource::Organization(org))
        != Decision::BreakGlass
    {
        return Err(BreakGlassError::NotAllowed);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = crypto
        .seal(
            Scope::System,
            "break_glass_grants",
            "reason",
            &id,
            &reason.0,
        )
        .await?;
    let now = now_micros();
    let event = Event {
        object_type: Some("organization"),
        object_id: Some(org.to_string()),
        detail: Some(format!("action={} grant={id}", action.id())),
        ..Event::by(principal, "break-glass")
    };
    db.transaction(|tx| {
        async {
            sqlx::query(
                "INSERT INTO break_glass_grants (id, user_id, org_id, action, reason, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(principal.id.to_string())
            .bind(org.to_string())
            .bind(action.id())
            .bind(&sealed)
            .bind(now)
            .bind(now + micros(LASTS))
            .execute(&mut *tx)
            .await?;
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, BreakGlassError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(id)
}

/// The id of `principal`'s unexpired grant for `action` on `org`, if it has one.
pub async fn active(
    db: &Db,
    principal: &Principal,
    action: Action,
    org: OrgId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM break_glass_grants \
         WHERE user_id = $1 AND org_id = $2 AND action = $3 AND expires_at > $4 \
         ORDER BY expires_at DESC LIMIT 1",
    )
    .bind(principal.id.to_string())
    .bind(org.to_string())
    .bind(action.id())
    .bind(now_micros())
    .fetch_optional(db.reader())
    .await
}

/// A grant as administrators review it.
#[derive(Debug)]
pub struct Grant {
    pub id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub email: String,
    pub org_name: String,
    pub action: String,
    pub reason: String,
}

#[derive(FromRow)]
struct Row {
    id: String,
    created_at: i64,
    expires_at: i64,
    email: String,
    org_name: String,
    action: String,
    reason: String,
}

/// The latest grants, newest first, reasons opened; the reading is audited.
pub async fn recent(
    db: &Db,
    crypto: &Crypto,
    reader: &Principal,
    limit: i64,
) -> Result<Vec<Grant>, BreakGlassError> {
    let event = Event {
        object_type: Some("break_glass_grant"),
        ..Event::by(reader, "break-glass.review")
    };
    db.transaction(|tx| audit::append(tx, &event, Outcome::Success).scope_boxed())
        .await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT g.id, g.created_at, g.expires_at, u.email, o.name AS org_name, g.action, g.reason \
         FROM break_glass_grants g JOIN users u ON u.id = g.user_id \
         JOIN organizations o ON o.id = g.org_id ORDER BY g.created_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    let mut grants = Vec::with_capacity(rows.len());
    for row in rows {
        let reason = crypto
            .open_field("break_glass_grants", "reason", &row.id, &row.reason)
            .await?;
        grants.push(Grant {
            id: row.id,
            created_at: row.created_at,
            expires_at: row.expires_at,
            email: row.email,
            org_name: row.org_name,
            action: row.action,
            reason,
        });
    }
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_says_something() {
        assert_eq!(Reason::parse("  urgent  ").unwrap_err(), BadReason);
        assert_eq!(Reason::parse(&"x".repeat(1001)).unwrap_err(), BadReason);
        assert!(Reason::parse("Caller in danger at the shelter; need on-call now").is_ok());
    }
}
