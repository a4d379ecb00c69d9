//! SQL for users and sessions.

use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::kernel::auth::Role;

#[derive(Clone, Debug, FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub status: String,
    pub org_id: Option<String>,
    pub failed_signins: i64,
    pub last_failed_at: Option<i64>,
}

macro_rules! user_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, email, display_name, password_hash, status, org_id, failed_signins, last_failed_at FROM users ",
            $rest
        )
    };
}

/// An account's personal fields as stored: sealed, with the phone's blind index.
pub struct SealedContact {
    pub display_name: String,
    pub phone: Option<String>,
    pub phone_index: Option<String>,
}

pub async fn insert_user(
    conn: &mut AnyConnection,
    id: &str,
    email: &str,
    sealed: &SealedContact,
    password_hash: &str,
    org_id: Option<String>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, display_name, phone, phone_index, password_hash, status, org_id, failed_signins, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, 0, $8, $8)",
    )
    .bind(id)
    .bind(email)
    .bind(&sealed.display_name)
    .bind(&sealed.phone)
    .bind(&sealed.phone_index)
    .bind(password_hash)
    .bind(org_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_role(
    conn: &mut AnyConnection,
    user_id: &str,
    role: Role,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
        .bind(user_id)
        .bind(role.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn by_email(pool: &AnyPool, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(user_select!("WHERE email = $1"))
        .bind(email)
        .fetch_optional(pool)
        .await
}

pub async fn by_id(pool: &AnyPool, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(user_select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn id_by_phone_index(pool: &AnyPool, index: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE phone_index = $1")
        .bind(index)
        .fetch_optional(pool)
        .await
}

pub async fn roles(pool: &AnyPool, user_id: &str) -> Result<Vec<Role>, sqlx::Error> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(pool)
            .await?;
    Ok(ids.iter().filter_map(|id| Role::parse(id)).collect())
}

pub async fn record_failure(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
    lock_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET failed_signins = failed_signins + 1, last_failed_at = $2, updated_at = $2, \
         status = CASE WHEN failed_signins + 1 >= $3 AND status = 'active' THEN 'locked' ELSE status END WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(lock_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn reset_failures(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET failed_signins = 0, last_failed_at = NULL, updated_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    status: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET status = $2, failed_signins = 0, last_failed_at = NULL, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Clone, Debug, FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

pub async fn insert_session(
    conn: &mut AnyConnection,
    session: &SessionRow,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(&session.id)
    .bind(&session.user_id)
    .bind(&session.csrf_token)
    .bind(now)
    .bind(session.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn session(pool: &AnyPool, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, csrf_token, last_seen_at, expires_at FROM sessions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn touch_session(pool: &AnyPool, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_session(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_user_sessions(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
