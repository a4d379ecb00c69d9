//! What the advocate console lists, beyond what other hotline modules already read.

use sqlx::{AnyPool, FromRow};

#[derive(Clone, Debug, FromRow)]
pub struct ThreadRow {
    pub id: String,
    pub last_message_at: i64,
}

/// Text threads still open, most recent first.
pub async fn open_threads(pool: &AnyPool, limit: i64) -> Result<Vec<ThreadRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, last_message_at FROM sms_threads WHERE status = 'open' AND opted_out = 0 \
         ORDER BY last_message_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[derive(Clone, Debug, FromRow)]
pub struct CaseRow {
    pub id: String,
    pub trafficking_type: String,
    pub indicator_level: Option<String>,
    pub updated_at: i64,
}

/// Open cases the advocate opened, most recently changed first.
pub async fn open_cases_of(
    pool: &AnyPool,
    user_id: &str,
    limit: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, trafficking_type, indicator_level, updated_at FROM hotline_cases \
         WHERE created_by = $1 AND status = 'open' ORDER BY updated_at DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}
