//! Web chat SQL. Message bodies arrive sealed; nothing here decides who may read.

use sqlx::{AnyConnection, AnyPool, FromRow};

#[derive(Clone, Debug, FromRow)]
pub struct ChatRow {
    pub id: String,
    pub language: String,
    pub status: String,
    pub advocate_id: Option<String>,
    pub contact_id: Option<String>,
    pub returning_from: Option<String>,
    pub last_seq: i64,
    pub created_at: i64,
    pub accepted_at: Option<i64>,
    pub closed_at: Option<i64>,
}

const CHAT_COLUMNS: &str = "id, language, status, advocate_id, contact_id, returning_from, last_seq, created_at, accepted_at, closed_at";

#[derive(Clone, Debug, FromRow)]
pub struct MessageRow {
    pub seq: i64,
    pub sender: String,
    pub client_id: String,
    pub body: String,
    pub created_at: i64,
}

pub struct NewChat<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub language: &'a str,
    pub return_index: &'a str,
    pub returning_from: Option<&'a str>,
    pub now: i64,
}

pub async fn insert_chat(pool: &AnyPool, chat: &NewChat<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_chats (id, token_hash, language, status, return_index, returning_from, last_seq, created_at) \
         VALUES ($1, $2, $3, 'waiting', $4, $5, 0, $6)",
    )
    .bind(chat.id)
    .bind(chat.token_hash)
    .bind(chat.language)
    .bind(chat.return_index)
    .bind(chat.returning_from)
    .bind(chat.now)
    .execute(pool)
    .await?;
    Ok(())
}

/// The latest chat whose return code has this blind index.
pub async fn chat_by_return_index(
    pool: &AnyPool,
    return_index: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM hotline_chats WHERE return_index = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(return_index)
    .fetch_optional(pool)
    .await
}

pub async fn chat(pool: &AnyPool, id: &str) -> Result<Option<ChatRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHAT_COLUMNS} FROM hotline_chats WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn chat_by_token(
    pool: &AnyPool,
    token_hash: &str,
) -> Result<Option<ChatRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHAT_COLUMNS} FROM hotline_chats WHERE token_hash = $1"
    )))
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// Chats in `status`, oldest first (the queue's order).
pub async fn chats_in(
    pool: &AnyPool,
    status: &str,
    limit: i64,
) -> Result<Vec<ChatRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHAT_COLUMNS} FROM hotline_chats WHERE status = $1 ORDER BY created_at LIMIT $2"
    )))
    .bind(status)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The advocate's chats not yet saved.
pub async fn open_chats_of(pool: &AnyPool, advocate_id: &str) -> Result<Vec<ChatRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHAT_COLUMNS} FROM hotline_chats \
         WHERE advocate_id = $1 AND status IN ('active', 'left') ORDER BY created_at"
    )))
    .bind(advocate_id)
    .fetch_all(pool)
    .await
}

/// Gives a waiting chat to the advocate; false if someone took it first.
pub async fn accept(
    conn: &mut AnyConnection,
    id: &str,
    advocate_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE hotline_chats SET status = 'active', advocate_id = $2, accepted_at = $3 \
         WHERE id = $1 AND status = 'waiting'",
    )
    .bind(id)
    .bind(advocate_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The visitor went: a waiting chat closes (no one spoke to them), an active one
/// waits for its advocate to save it.
pub async fn visitor_left(pool: &AnyPool, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE hotline_chats SET \
           status = CASE WHEN status = 'waiting' THEN 'closed' ELSE 'left' END, \
           closed_at = CASE WHEN status = 'waiting' THEN $2 ELSE closed_at END \
         WHERE id = $1 AND status IN ('waiting', 'active')",
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn close(
    conn: &mut AnyConnection,
    id: &str,
    contact_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE hotline_chats SET status = 'closed', contact_id = $2, closed_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(contact_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The chat's status, read inside a transaction that is about to add to it.
pub async fn status(conn: &mut AnyConnection, id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM hotline_chats WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The number a message from `sender` with `client_id` already has.
pub async fn seq_of(
    conn: &mut AnyConnection,
    chat_id: &str,
    sender: &str,
    client_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT seq FROM hotline_chat_messages WHERE chat_id = $1 AND sender = $2 AND client_id = $3",
    )
    .bind(chat_id)
    .bind(sender)
    .bind(client_id)
    .fetch_optional(conn)
    .await
}

/// Takes the chat's next message number. The row's update holds the chat for the rest
/// of the transaction, so two messages never get one number.
pub async fn next_seq(conn: &mut AnyConnection, chat_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE hotline_chats SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
    )
    .bind(chat_id)
    .fetch_one(conn)
    .await
}

pub async fn insert_message(
    conn: &mut AnyConnection,
    chat_id: &str,
    seq: i64,
    (sender, client_id): (&str, &str),
    body_sealed: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_chat_messages (chat_id, seq, sender, client_id, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(chat_id)
    .bind(seq)
    .bind(sender)
    .bind(client_id)
    .bind(body_sealed)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn messages_after(
    pool: &AnyPool,
    chat_id: &str,
    after: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, sender, client_id, body, created_at FROM hotline_chat_messages \
         WHERE chat_id = $1 AND seq > $2 ORDER BY seq",
    )
    .bind(chat_id)
    .bind(after)
    .fetch_all(pool)
    .await
}

/// The end of the person's shift covering `now`, if one does.
pub async fn on_duty_until(
    pool: &AnyPool,
    user_id: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MAX(ends_at) FROM hotline_shifts WHERE user_id = $1 AND starts_at <= $2 AND ends_at > $2",
    )
    .bind(user_id)
    .bind(now)
    .fetch_one(pool)
    .await
}
