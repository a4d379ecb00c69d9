//! The change log: every write of an indexed record appends a row here in the same
//! transaction, so search indexes and notifications can follow the database with
//! `seq > last_seen` and never miss or reorder a change.

use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::{AnyPool, FromRow};

use super::db::Backend;
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

/// Records a change of each of `ids` inside the caller's transaction, in one
/// statement per few hundred rows (bulk imports).
pub async fn append_many(
    conn: &mut AnyConnection,
    entity: &str,
    ids: &[&str],
    op: ChangeOp,
) -> Result<(), sqlx::Error> {
    const ROWS: usize = 2_000;
    if ids.is_empty() {
        return Ok(());
    }
    let backend = Backend::of(conn);
    let count = i64::try_from(ids.len()).unwrap_or(i64::MAX);
    let mut first = counters::reserve(conn, "change_log", count).await?;
    let now = time::now_micros();
    for chunk in ids.chunks(ROWS) {
        // Only the ids are bound row by row; the sequence numbers are the first one
        // plus each row's place (binding five values a row took most of the time).
        let mut sql = String::from(
            "INSERT INTO change_log (seq, entity, entity_id, op, changed_at) SELECT CAST(",
        );
        backend.push_mark(&mut sql, 1);
        sql.push_str(" AS BIGINT) + v.column2, CAST(");
        backend.push_mark(&mut sql, 2);
        sql.push_str(" AS TEXT), v.column1, CAST(");
        backend.push_mark(&mut sql, 3);
        sql.push_str(" AS TEXT), CAST(");
        backend.push_mark(&mut sql, 4);
        sql.push_str(" AS BIGINT) FROM (VALUES ");
        for i in 0..chunk.len() {
            sql.push_str(if i > 0 { ",(" } else { "(" });
            backend.push_mark(&mut sql, i + 5);
            sql.push_str(", ");
            sql.push_str(&i.to_string());
            sql.push(')');
        }
        sql.push_str(") AS v");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(first)
            .bind(entity)
            .bind(op.as_str())
            .bind(now);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut *conn).await?;
        first += i64::try_from(chunk.len()).unwrap_or(i64::MAX);
    }
    Ok(())
}

/// The newest sequence number in the log (0 when empty).
pub async fn last_seq(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM change_log")
        .fetch_one(pool)
        .await
}

/// Calls `refresh` every `every` until `stop`: how a server process keeps an in-memory
/// view (a search index) current with changes other processes commit. A failed
/// refresh is logged (naming `what`) and tried again at the next tick.
pub fn follow<F, Fut, E>(
    what: &'static str,
    every: std::time::Duration,
    stop: tokio_util::sync::CancellationToken,
    mut refresh: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            if let Err(e) = refresh().await {
                tracing::warn!(error = %e, what, "refreshing from the change log failed; retrying");
            }
        }
    })
}
