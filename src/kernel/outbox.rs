//! The change log: every write of an indexed record appends a row here in the same
//! transaction, so search indexes and notifications can follow the database with
//! `seq > last_seen` and never miss or reorder a change.

use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::{AnyPool, FromRow};

use super::{counters, time};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeOp {
    Insert,
    Update,
    Delete,
}

impl ChangeOp {
    fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, FromRow, Serialize)]
pub struct Change {
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    pub op: String,
    pub changed_at: i64,
}

/// Records a change inside the caller's transaction and returns its sequence number.
pub async fn append(
    conn: &mut AnyConnection,
    entity: &str,
    entity_id: &str,
    op: ChangeOp,
) -> Result<i64, sqlx::Error> {
    let seq = counters::next(conn, "change_log").await?;
    sqlx::query(
        "INSERT INTO change_log (seq, entity, entity_id, op, changed_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(seq)
    .bind(entity)
    .bind(entity_id)
    .bind(op.as_str())
    .bind(time::now_micros())
    .execute(conn)
    .await?;
    Ok(seq)
}

/// Changes after `after`, oldest first, at most `limit`.
pub async fn since(pool: &AnyPool, after: i64, limit: i64) -> Result<Vec<Change>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, entity, entity_id, op, changed_at FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}
