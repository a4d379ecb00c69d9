//! SQL for individuals (sealed columns arrive sealed; this file never sees a name).

use sqlx::{AnyConnection, AnyPool, FromRow};

#[derive(Clone, Debug, FromRow)]
pub struct Row {
    pub id: String,
    pub name_sealed: String,
    pub email_sealed: Option<String>,
    pub phone_sealed: Option<String>,
    pub title: String,
    pub bio: String,
    pub expertise: String,
    pub languages: String,
    pub states: String,
    pub organization_id: Option<String>,
    pub preference: String,
    pub listed: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT id, name_sealed, email_sealed, phone_sealed, title, bio, expertise, languages, \
     states, organization_id, preference, listed, updated_at FROM directory_individuals";

/// Inserts or replaces one individual (by id).
pub async fn upsert(
    conn: &mut AnyConnection,
    row: &Row,
    by: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO directory_individuals (id, name_sealed, email_sealed, phone_sealed, title, bio, \
         expertise, languages, states, organization_id, preference, listed, created_at, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14) \
         ON CONFLICT (id) DO UPDATE SET name_sealed = excluded.name_sealed, email_sealed = excluded.email_sealed, \
         phone_sealed = excluded.phone_sealed, title = excluded.title, bio = excluded.bio, \
         expertise = excluded.expertise, languages = excluded.languages, states = excluded.states, \
         organization_id = excluded.organization_id, preference = excluded.preference, listed = excluded.listed, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(&row.id)
    .bind(&row.name_sealed)
    .bind(&row.email_sealed)
    .bind(&row.phone_sealed)
    .bind(&row.title)
    .bind(&row.bio)
    .bind(&row.expertise)
    .bind(&row.languages)
    .bind(&row.states)
    .bind(&row.organization_id)
    .bind(&row.preference)
    .bind(row.listed)
    .bind(row.updated_at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn one(pool: &AnyPool, id: &str) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Every individual (listed ones only unless `all`), by id.
pub async fn list(pool: &AnyPool, all: bool) -> Result<Vec<Row>, sqlx::Error> {
    let filter = if all { "" } else { " WHERE listed = 1" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT}{filter} ORDER BY id")))
        .fetch_all(pool)
        .await
}
