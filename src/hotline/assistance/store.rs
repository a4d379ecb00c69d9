//! Technical-assistance SQL. Questions and answers arrive sealed.

use sqlx::{AnyConnection, AnyPool, FromRow};

#[derive(Clone, Debug, FromRow)]
pub struct RequestRow {
    pub id: String,
    pub contact_id: String,
    pub topic: String,
    pub question: String,
    pub due_on: Option<String>,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
    pub created_at: i64,
}

pub struct NewRequest<'a> {
    pub id: &'a str,
    pub contact_id: &'a str,
    pub topic: &'a str,
    pub question_sealed: &'a str,
    pub due_on: Option<&'a str>,
    pub created_by: &'a str,
    pub now: i64,
}

pub async fn insert(conn: &mut AnyConnection, r: &NewRequest<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_ta_requests (id, contact_id, topic, question, due_on, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(r.id)
    .bind(r.contact_id)
    .bind(r.topic)
    .bind(r.question_sealed)
    .bind(r.due_on)
    .bind(r.created_by)
    .bind(r.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Answers a request still open; false if there is none such.
pub async fn answer(
    conn: &mut AnyConnection,
    id: &str,
    answer_sealed: &str,
    answered_by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE hotline_ta_requests SET answer = $2, answered_by = $3, answered_at = $4 \
         WHERE id = $1 AND answered_at IS NULL",
    )
    .bind(id)
    .bind(answer_sealed)
    .bind(answered_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

const COLUMNS: &str = "id, contact_id, topic, question, due_on, answer, answered_at, created_at";

pub async fn request(pool: &AnyPool, id: &str) -> Result<Option<RequestRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM hotline_ta_requests WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Requests not yet answered, the soonest due first (those without a date last).
pub async fn open(pool: &AnyPool, limit: i64) -> Result<Vec<RequestRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM hotline_ta_requests WHERE answered_at IS NULL \
         ORDER BY CASE WHEN due_on IS NULL THEN 1 ELSE 0 END, due_on, created_at LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(pool)
    .await
}
