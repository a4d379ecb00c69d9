//! The audit log: append-only, hash-chained, written in the same transaction as the
//! change it records. Events say who did what to which object and how it ended; never
//! the personal values themselves.

use std::fmt::Write as _;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, FromRow};

use super::counters;
use super::db::{Backend, Db};
use super::time::now_micros;
use super::web::context;

/// Events per `INSERT`: 13 values each, well under both databases' limit of bound
/// values per statement.
const ROWS_PER_INSERT: usize = 500;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

/// One event to record. `actor_*` are absent for anonymous attempts and the CLI.
#[derive(Clone, Debug, Default)]
pub struct Event<'a> {
    pub actor_id: Option<String>,
    pub actor_role: Option<&'a str>,
    pub org_id: Option<String>,
    pub action: &'a str,
    pub object_type: Option<&'a str>,
    pub object_id: Option<String>,
    /// What changed, when the object id alone does not say it; never personal values.
    pub detail: Option<String>,
    /// The request that did it. [`Event::by`] takes it from the request being served;
    /// when absent, [`append_all`] does, so an event written by another task (a batch
    /// writer) must carry its own.
    pub request_id: Option<String>,
}

impl<'a> Event<'a> {
    /// An event done by `principal` (its id, main role and organization).
    pub fn by(principal: &super::auth::Principal, action: &'a str) -> Self {
        Self {
            actor_id: Some(principal.id.to_string()),
            actor_role: principal.main_role().map(super::auth::Role::id),
            org_id: principal.organization_id.map(|o| o.to_string()),
            action,
            object_type: None,
            object_id: None,
            detail: None,
            request_id: current_request_id(),
        }
    }
}

fn current_request_id() -> Option<String> {
    Some(context::current().request_id).filter(|id| !id.is_empty())
}

#[derive(Clone, Debug, PartialEq, Eq, FromRow, Serialize)]
pub struct Record {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_role: Option<String>,
    pub org_id: Option<String>,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub request_id: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    /// The hash over every field but `hash` itself, each length-prefixed so that no two
    /// different events can write the same text.
    fn compute_hash(&self) -> String {
        let mut text = String::new();
        let fields: [Option<&str>; 9] = [
            Some(&self.prev_hash),
            Some(&self.action),
            self.actor_id.as_deref(),
            self.actor_role.as_deref(),
            self.org_id.as_deref(),
            self.object_type.as_deref(),
            self.object_id.as_deref(),
            self.request_id.as_deref(),
            Some(&self.outcome),
        ];
        let _ = write!(text, "{}|{}|", self.seq, self.at);
        for field in fields {
            match field {
                Some(f) => {
                    let _ = write!(text, "{}:{f}|", f.len());
                }
                None => text.push_str("-|"),
            }
        }
        // Added later: hashed only when present, so older events still verify.
        if let Some(detail) = &self.detail {
            let _ = write!(text, "detail:{}:{detail}|", detail.len());
        }
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// Appends `event` inside the caller's transaction. The counter row's lock serializes
/// appends from every server process until commit, so the chain has one order.
pub async fn append(
    conn: &mut AnyConnection,
    event: &Event<'_>,
    outcome: Outcome,
) -> Result<i64, sqlx::Error> {
    append_all(conn, &[(event, outcome)]).await
}

/// Appends several events in order with one turn of the counter; the last one's
/// number. Callers append last in their transaction, after their own writes: the
/// counter row stays locked from here to commit, and every audited write in every
/// process waits for it.
pub async fn append_all(
    conn: &mut AnyConnection,
    events: &[(&Event<'_>, Outcome)],
) -> Result<i64, sqlx::Error> {
    let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let first = counters::reserve(conn, "audit", count).await?;
    let prev_hash: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = $1")
            .bind(first - 1)
            .fetch_optional(&mut *conn)
            .await?;
    let mut prev_hash = prev_hash.unwrap_or_else(|| GENESIS.to_owned());
    let request_id = current_request_id();
    let at = now_micros();
    let mut records = Vec::with_capacity(events.len());
    for (seq, (event, outcome)) in (first..).zip(events) {
        let mut record = Record {
            seq,
            at,
            actor_id: event.actor_id.clone(),
            actor_role: event.actor_role.map(str::to_owned),
            org_id: event.org_id.clone(),
            action: event.action.to_owned(),
            object_type: event.object_type.map(str::to_owned),
            object_id: event.object_id.clone(),
            request_id: event.request_id.clone().or_else(|| request_id.clone()),
            outcome: outcome.as_str().to_owned(),
            detail: event.detail.clone(),
            prev_hash: std::mem::take(&mut prev_hash),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        prev_hash.clone_from(&record.hash);
        records.push(record);
    }
    let backend = Backend::of(conn);
    for chunk in records.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO audit_events (seq, at, actor_id, actor_role, org_id, action, object_type, object_id, request_id, outcome, detail, prev_hash, hash) VALUES ",
        );
        backend.push_rows(&mut sql, chunk.len(), 13);
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for record in chunk {
            insert = insert
                .bind(record.seq)
                .bind(record.at)
                .bind(record.actor_id.as_deref())
                .bind(record.actor_role.as_deref())
                .bind(record.org_id.as_deref())
                .bind(record.action.as_str())
                .bind(record.object_type.as_deref())
                .bind(record.object_id.as_deref())
                .bind(record.request_id.as_deref())
                .bind(record.outcome.as_str())
                .bind(record.detail.as_deref())
                .bind(record.prev_hash.as_str())
                .bind(record.hash.as_str());
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(first + count - 1)
}

/// What the audit browser filters on; empty fields match everything.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Filter {
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub outcome: Option<String>,
    /// Show events with `seq` below this (for paging back in time).
    pub before: Option<i64>,
}

/// Records, in a transaction of its own, that `principal` was refused `action` on one
/// record out of its reach, which the caller then answers as if it did not exist.
pub async fn refused(
    db: &Db,
    principal: &super::auth::Principal,
    action: super::authz::Action,
    object_type: &str,
    object_id: String,
) -> Result<(), sqlx::Error> {
    use scoped_futures::ScopedFutureExt;
    let event = Event {
        object_type: Some(object_type),
        object_id: Some(object_id),
        ..Event::by(principal, action.id())
    };
    db.transaction(|tx| append(tx, &event, Outcome::Denied).scope_boxed())
        .await
        .map(|_| ())
}

/// Up to `limit` events matching `filter`, newest first.
pub async fn search(db: &Db, filter: &Filter, limit: i64) -> Result<Vec<Record>, sqlx::Error> {
    let empty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    sqlx::query_as(
        "SELECT seq, at, actor_id, actor_role, org_id, action, object_type, object_id, request_id, outcome, detail, prev_hash, hash \
         FROM audit_events WHERE ($1 IS NULL OR action = $1) AND ($2 IS NULL OR actor_id = $2) AND ($3 IS NULL OR outcome = $3) \
         AND seq < $4 ORDER BY seq DESC LIMIT $5",
    )
    .bind(empty(&filter.action))
    .bind(empty(&filter.actor_id))
    .bind(empty(&filter.outcome))
    .bind(filter.before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.reader())
    .await
}

/// Events with `seq > after`, oldest first.
pub async fn page(db: &Db, after: i64, limit: i64) -> Result<Vec<Record>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, at, actor_id, actor_role, org_id, action, object_type, object_id, request_id, outcome, detail, prev_hash, hash \
         FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db.reader())
    .await
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("audit event {seq} is missing (the one before it is {previous})")]
    Missing { seq: i64, previous: i64 },
    #[error("audit event {seq} does not follow the event before it (its previous-hash differs)")]
    Unlinked { seq: i64 },
    #[error(
        "audit event {seq} was changed after it was written (its hash does not match its content)"
    )]
    Altered { seq: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Broken(#[from] Broken),
    #[error("reading the audit log failed: {0}")]
    Db(#[from] sqlx::Error),
}

/// Walks the whole chain; returns the number of events, or the first broken link.
pub async fn verify(db: &Db) -> Result<i64, VerifyError> {
    let mut last_seq = 0;
    let mut last_hash = GENESIS.to_owned();
    loop {
        let batch = page(db, last_seq, 1000).await?;
        if batch.is_empty() {
            return Ok(last_seq);
        }
        for record in batch {
            if record.seq != last_seq + 1 {
                return Err(Broken::Missing {
                    seq: last_seq + 1,
                    previous: last_seq,
                }
                .into());
            }
            if record.prev_hash != last_hash {
                return Err(Broken::Unlinked { seq: record.seq }.into());
            }
            if record.compute_hash() != record.hash {
                return Err(Broken::Altered { seq: record.seq }.into());
            }
            last_seq = record.seq;
            last_hash = record.hash;
        }
    }
}

/// Events at or after `since` (microseconds), oldest first, as JSON lines.
pub async fn export(db: &Db, since: i64, out: &mut impl std::io::Write) -> anyhow::Result<usize> {
    let mut last_seq = 0;
    let mut written = 0;
    loop {
        let batch = page(db, last_seq, 1000).await?;
        let Some(last) = batch.last() else {
            return Ok(written);
        };
        last_seq = last.seq;
        for record in batch.iter().filter(|r| r.at >= since) {
            serde_json::to_writer(&mut *out, record)?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
}
