//! Background jobs kept in the database, so that they survive restarts and several
//! `atip serve` processes can share the work.
//!
//! A job is claimed with a lease; on PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`
//! so two workers never take the same job; SQLite has one writer, so its claim is
//! serialized anyway. A failed job is retried with a growing pause until it has used
//! its attempts, then it is dead-lettered (state `dead`) for an operator to look at.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use scoped_futures::ScopedFutureExt;
use serde_json::Value;
use sqlx::AnyConnection;
use sqlx::{FromRow, Row};
use tokio_util::sync::CancellationToken;

use super::db::{Backend, Db};
use super::time::{micros, now_micros};

crate::typed_id!(
    /// One background job.
    JobId
);

pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// What a job handler reports when it fails. The message is stored with the job, so
/// it must never hold personal data: name the step that failed, not the values.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobError(pub String);

/// Code that runs jobs of one kind.
pub trait JobHandler: Send + Sync {
    fn kind(&self) -> &'static str;
    fn run<'a>(&'a self, payload: &'a Value) -> BoxFuture<'a, Result<(), JobError>>;
}

/// Adds a job inside the caller's transaction, so it exists only if the change that
/// asked for it commits.
pub async fn enqueue(
    conn: &mut AnyConnection,
    kind: &str,
    payload: &Value,
    max_attempts: i64,
) -> Result<JobId, sqlx::Error> {
    let id = JobId::new();
    let now = now_micros();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5, $5)",
    )
    .bind(id.to_string())
    .bind(kind)
    .bind(payload.to_string())
    .bind(max_attempts)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct JobRecord {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

pub async fn get(db: &Db, id: JobId) -> Result<Option<JobRecord>, sqlx::Error> {
    sqlx::query_as("SELECT id, kind, state, attempts, last_error FROM jobs WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(db.reader())
        .await
}

/// Number of jobs in each state, for `/metrics`.
pub async fn depth(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// What one step of a worker did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Idle,
    Done(JobId),
    Retrying(JobId),
    Dead(JobId),
}

/// The claim: the oldest due job of a kind this worker knows, or one whose lease ran
/// out. Kinds it does not know are left for workers that do (during a rolling upgrade
/// an older process must not dead-letter a newer kind).
fn claim_sql(backend: Backend, kinds: usize) -> String {
    let kinds = (0..kinds)
        .map(|i| format!("${}", i + 4))
        .collect::<Vec<_>>()
        .join(", ");
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs WHERE kind IN ({kinds}) AND ((state = 'queued' AND run_at <= $3) OR (state = 'running' AND locked_until < $3)) \
         ORDER BY run_at LIMIT 1{lock}) \
         RETURNING id, kind, payload, attempts, max_attempts"
    )
}

#[derive(FromRow)]
struct Claimed {
    id: String,
    kind: String,
    payload: String,
    attempts: i64,
    max_attempts: i64,
}

/// A worker: claims one job at a time and runs it with the handler for its kind.
pub struct JobRunner {
    db: Db,
    worker: String,
    handlers: BTreeMap<&'static str, Arc<dyn JobHandler>>,
    lease: Duration,
    backoff: Duration,
}

impl JobRunner {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            worker: uuid::Uuid::now_v7().to_string(),
            handlers: BTreeMap::new(),
            lease: Duration::from_mins(5),
            backoff: Duration::from_secs(2),
        }
    }

    #[must_use]
    pub fn with_handler(mut self, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(handler.kind(), handler);
        self
    }

    /// The first retry waits this long; each later one twice as long as the one before.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// Claims and runs at most one job.
    #[tracing::instrument(skip_all, fields(worker = %self.worker))]
    pub async fn step(&self) -> Result<Step, sqlx::Error> {
        if self.handlers.is_empty() {
            return Ok(Step::Idle);
        }
        let now = now_micros();
        let claim = claim_sql(self.db.backend(), self.handlers.len());
        let claimed: Option<Claimed> = self
            .db
            .transaction(|tx| {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(claim.clone()))
                    .bind(self.worker.clone())
                    .bind(now + micros(self.lease))
                    .bind(now);
                for kind in self.handlers.keys() {
                    query = query.bind(*kind);
                }
                query.fetch_optional(tx).scope_boxed()
            })
            .await?;
        let Some(job) = claimed else {
            return Ok(Step::Idle);
        };
        let id: JobId = job
            .id
            .parse()
            .map_err(|e: uuid::Error| sqlx::Error::Decode(Box::new(e)))?;
        let result = match (
            self.handlers.get(job.kind.as_str()),
            serde_json::from_str(&job.payload),
        ) {
            (Some(handler), Ok(payload)) => handler.run(&payload).await,
            (None, _) => Err(JobError(format!("no handler for job kind {:?}", job.kind))),
            (_, Err(e)) => Err(JobError(format!("payload is not JSON: {e}"))),
        };
        let now = now_micros();
        let (step, state, run_at, error) = match result {
            Ok(()) => (Step::Done(id), "done", None, None),
            Err(err) if job.attempts >= job.max_attempts => {
                (Step::Dead(id), "dead", None, Some(err.0))
            }
            Err(err) => {
                let doublings = u32::try_from(job.attempts - 1).unwrap_or(0).min(16);
                let pause = self.backoff.saturating_mul(1 << doublings);
                (
                    Step::Retrying(id),
                    "queued",
                    Some(now + micros(pause)),
                    Some(err.0),
                )
            }
        };
        sqlx::query(
            "UPDATE jobs SET state = $1, run_at = COALESCE($2, run_at), last_error = $3, \
             locked_by = NULL, locked_until = NULL, updated_at = $4 WHERE id = $5 AND locked_by = $6",
        )
        .bind(state)
        .bind(run_at)
        .bind(error)
        .bind(now)
        .bind(&job.id)
        .bind(&self.worker)
        .execute(self.db.writer())
        .await?;
        tracing::info!(job = %id, kind = %job.kind, attempts = job.attempts, state, "job step finished");
        Ok(step)
    }

    /// Runs jobs until `stop` is cancelled, pausing `idle` whenever the queue is empty.
    pub async fn run(self, idle: Duration, stop: CancellationToken) {
        loop {
            let pause = match self.step().await {
                Ok(Step::Idle) => idle,
                Ok(_) => Duration::ZERO,
                Err(err) => {
                    tracing::error!(error = %err, "job worker could not reach the database");
                    idle
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}
