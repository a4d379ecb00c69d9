//! Voice call SQL. The caller's number arrives sealed; nothing here decides who may read.

use sqlx::{AnyPool, FromRow};

#[derive(Clone, Debug, FromRow)]
pub struct CallRow {
    pub id: String,
    pub language: Option<String>,
    pub status: String,
    pub started_at: i64,
    pub duration_s: Option<i64>,
}

/// Records a call's first ring; a retried webhook for the same call changes nothing.
pub async fn insert_call(
    pool: &AnyPool,
    id: &str,
    call_sid: &str,
    (caller, caller_index): (Option<&str>, Option<&str>),
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_calls (id, call_sid, caller, caller_index, status, started_at) \
         VALUES ($1, $2, $3, $4, 'menu', $5) ON CONFLICT (call_sid) DO NOTHING",
    )
    .bind(id)
    .bind(call_sid)
    .bind(caller)
    .bind(caller_index)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_language(
    pool: &AnyPool,
    call_sid: &str,
    language: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE hotline_calls SET language = $2, status = $3 WHERE call_sid = $1")
        .bind(call_sid)
        .bind(language)
        .bind(status)
        .execute(pool)
        .await?;
    Ok(())
}

/// The first advocate to pick up takes the call.
pub async fn answered(
    pool: &AnyPool,
    call_sid: &str,
    advocate_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE hotline_calls SET answered_by = $2, answered_at = $3, status = 'answered' \
         WHERE call_sid = $1 AND answered_by IS NULL",
    )
    .bind(call_sid)
    .bind(advocate_id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn language_of(pool: &AnyPool, call_sid: &str) -> Result<Option<String>, sqlx::Error> {
    let language: Option<Option<String>> =
        sqlx::query_scalar("SELECT language FROM hotline_calls WHERE call_sid = $1")
            .bind(call_sid)
            .fetch_optional(pool)
            .await?;
    Ok(language.flatten())
}

/// Rung and not answered.
pub async fn unanswered(pool: &AnyPool, call_sid: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE hotline_calls SET status = 'unanswered' WHERE call_sid = $1 AND answered_by IS NULL",
    )
    .bind(call_sid)
    .execute(pool)
    .await?;
    Ok(())
}

/// The call is over; only the first report of its end counts.
pub async fn ended(
    pool: &AnyPool,
    call_sid: &str,
    duration_s: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE hotline_calls SET ended_at = $3, duration_s = $2, \
           status = CASE WHEN answered_by IS NULL THEN 'unanswered' ELSE 'completed' END \
         WHERE call_sid = $1 AND ended_at IS NULL",
    )
    .bind(call_sid)
    .bind(duration_s)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Advocates on an advocate shift now, with an active account.
pub async fn on_duty_advocates(pool: &AnyPool, now: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT s.user_id FROM hotline_shifts s JOIN users u ON u.id = s.user_id \
         WHERE s.role = 'advocate' AND s.starts_at <= $1 AND s.ends_at > $1 AND u.status = 'active' \
         ORDER BY s.user_id",
    )
    .bind(now)
    .fetch_all(pool)
    .await
}

/// Calls the advocate answered and has not yet written up, oldest first.
pub async fn to_write_up(pool: &AnyPool, advocate_id: &str) -> Result<Vec<CallRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, language, status, started_at, duration_s FROM hotline_calls \
         WHERE answered_by = $1 AND contact_id IS NULL ORDER BY started_at LIMIT 50",
    )
    .bind(advocate_id)
    .fetch_all(pool)
    .await
}

#[derive(Clone, Debug, FromRow)]
pub struct AnsweredRow {
    pub id: String,
    pub caller: Option<String>,
    pub language: Option<String>,
    pub started_at: i64,
}

/// A call the advocate answered and has not written up.
pub async fn answered_by(
    pool: &AnyPool,
    id: &str,
    advocate_id: &str,
) -> Result<Option<AnsweredRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, caller, language, started_at FROM hotline_calls \
         WHERE id = $1 AND answered_by = $2 AND contact_id IS NULL",
    )
    .bind(id)
    .bind(advocate_id)
    .fetch_optional(pool)
    .await
}

/// The contact that writes the call up.
pub async fn written_up(
    pool: &AnyPool,
    id: &str,
    advocate_id: &str,
    contact_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE hotline_calls SET contact_id = $3 \
         WHERE id = $1 AND answered_by = $2 AND contact_id IS NULL",
    )
    .bind(id)
    .bind(advocate_id)
    .bind(contact_id)
    .execute(pool)
    .await?;
    Ok(())
}
