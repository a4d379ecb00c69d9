//! SQL for users and sessions.

use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::kernel::auth::Role;
use crate::kernel::authz::ListScope;

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

pub async fn delete_roles(conn: &mut AnyConnection, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
        .bind(user_id)
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

/// The accounts `scope` lets its reader list, by email.
pub async fn all(pool: &AnyPool, scope: ListScope) -> Result<Vec<UserRow>, sqlx::Error> {
    match scope {
        ListScope::All => {
            sqlx::query_as(user_select!("ORDER BY email"))
                .fetch_all(pool)
                .await
        }
        ListScope::Organization(org) => {
            sqlx::query_as(user_select!("WHERE org_id = $1 ORDER BY email"))
                .bind(org.to_string())
                .fetch_all(pool)
                .await
        }
    }
}

/// An organization's active staff with an on-call phone: (id, sealed name, sealed phone).
pub async fn on_call(
    pool: &AnyPool,
    org_id: &str,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, display_name, phone FROM users \
         WHERE org_id = $1 AND status = 'active' AND phone IS NOT NULL ORDER BY email",
    )
    .bind(org_id)
    .fetch_all(pool)
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

/// Active accounts holding any of `roles`, as (id, sealed display name).
pub async fn active_holders(
    pool: &AnyPool,
    roles: &[Role],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    // Only numbered placeholders go into the text; the role codes are bound.
    let placeholders: Vec<String> = (1..=roles.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT DISTINCT u.id, u.display_name FROM users u JOIN user_roles r ON r.user_id = u.id \
         WHERE u.status = 'active' AND r.role IN ({}) ORDER BY u.id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for role in roles {
        query = query.bind(role.id());
    }
    query.fetch_all(pool).await
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
    pub stage: String,
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
        "INSERT INTO sessions (id, user_id, stage, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(&session.id)
    .bind(&session.user_id)
    .bind(&session.stage)
    .bind(&session.csrf_token)
    .bind(now)
    .bind(session.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct SessionUserRow {
    stage: String,
    csrf_token: String,
    last_seen_at: i64,
    expires_at: i64,
    #[sqlx(flatten)]
    user: UserRow,
    role: Option<String>,
}

/// A session, its account and the account's roles: what every signed-in request
/// needs, in one query (one row per role).
pub async fn session_with_user(
    pool: &AnyPool,
    id: &str,
) -> Result<Option<(SessionRow, UserRow, Vec<Role>)>, sqlx::Error> {
    let rows: Vec<SessionUserRow> = sqlx::query_as(
        "SELECT s.stage, s.csrf_token, s.last_seen_at, s.expires_at, u.id, u.email, u.display_name, \
         u.password_hash, u.status, u.org_id, u.failed_signins, u.last_failed_at, r.role \
         FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN user_roles r ON r.user_id = u.id \
         WHERE s.id = $1 ORDER BY r.role",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let roles = rows
        .iter()
        .filter_map(|r| r.role.as_deref().and_then(Role::parse))
        .collect();
    Ok(rows.into_iter().next().map(|row| {
        let session = SessionRow {
            id: id.to_owned(),
            user_id: row.user.id.clone(),
            stage: row.stage,
            csrf_token: row.csrf_token,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
        };
        (session, row.user, roles)
    }))
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

#[derive(Clone, Debug, FromRow)]
pub struct TotpRow {
    pub secret: String,
    pub confirmed_at: Option<i64>,
}

pub async fn totp(pool: &AnyPool, user_id: &str) -> Result<Option<TotpRow>, sqlx::Error> {
    sqlx::query_as("SELECT secret, confirmed_at FROM mfa_totp WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// Stores a new, unconfirmed secret (replacing an unconfirmed earlier one).
pub async fn put_unconfirmed_totp(
    conn: &mut AnyConnection,
    user_id: &str,
    sealed: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, secret, confirmed_at, last_step) VALUES ($1, $2, NULL, 0) \
         ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0 WHERE mfa_totp.confirmed_at IS NULL",
    )
    .bind(user_id)
    .bind(sealed)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an accepted step; false if a code of this step (or a later one) was used
/// already, so two racing requests cannot both use one code.
pub async fn accept_step(
    conn: &mut AnyConnection,
    user_id: &str,
    step: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE mfa_totp SET last_step = $2, confirmed_at = COALESCE(confirmed_at, $3) WHERE user_id = $1 AND last_step < $2",
    )
    .bind(user_id)
    .bind(step)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    user_id: &str,
    hashes: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
        )
        .bind(user_id)
        .bind(hash)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Uses up a recovery code; false if it is unknown or used.
pub async fn use_recovery_code(
    conn: &mut AnyConnection,
    user_id: &str,
    hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL")
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
