//! The job runner: retries, dead letters, and never two workers on one job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atip::kernel::jobs::{self, JobError, JobHandler, JobRunner, Step};
use futures_util::future::BoxFuture;
use scoped_futures::ScopedFutureExt;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;

on_both_databases! {
    a_failing_job_is_retried_then_dead_lettered;
    a_job_that_fails_once_succeeds_on_retry;
    two_workers_never_run_the_same_job;
    a_job_enqueued_in_a_rolled_back_transaction_never_runs;
}

/// Fails the first `failures` runs of each job, then succeeds; counts runs per job.
struct Flaky {
    failures: usize,
    runs: Mutex<HashMap<String, usize>>,
    pause: Duration,
}

impl Flaky {
    fn new(failures: usize) -> Arc<Self> {
        Arc::new(Self {
            failures,
            runs: Mutex::new(HashMap::new()),
            pause: Duration::ZERO,
        })
    }
}

impl JobHandler for Flaky {
    fn kind(&self) -> &'static str {
        "test.flaky"
    }

    fn run<'a>(&'a self, payload: &'a Value) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let key = payload["n"].to_string();
            let count = {
                let mut runs = self.runs.lock().unwrap();
                let count = runs.entry(key).or_default();
                *count += 1;
                *count
            };
            tokio::time::sleep(self.pause).await;
            if count <= self.failures {
                Err(JobError("step two failed".into()))
            } else {
                Ok(())
            }
        })
    }
}

async fn enqueue(app: &TestApp, n: usize, max_attempts: i64) -> jobs::JobId {
    let payload = json!({ "n": n });
    app.db
        .transaction(|tx| jobs::enqueue(tx, "test.flaky", &payload, max_attempts).scope_boxed())
        .await
        .unwrap()
}

async fn a_failing_job_is_retried_then_dead_lettered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let handler = Flaky::new(usize::MAX);
    let runner = JobRunner::new(app.db.clone())
        .with_handler(handler.clone())
        .with_backoff(Duration::ZERO);
    let id = enqueue(&app, 1, 3).await;
    assert_eq!(runner.step().await.unwrap(), Step::Retrying(id));
    assert_eq!(
        jobs::get(&app.db, id).await.unwrap().unwrap().state,
        "queued"
    );
    assert_eq!(runner.step().await.unwrap(), Step::Retrying(id));
    assert_eq!(runner.step().await.unwrap(), Step::Dead(id));
    assert_eq!(
        runner.step().await.unwrap(),
        Step::Idle,
        "a dead job is not claimed again"
    );
    let record = jobs::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(record.state, "dead");
    assert_eq!(record.attempts, 3);
    assert_eq!(record.last_error.as_deref(), Some("step two failed"));
    assert_eq!(handler.runs.lock().unwrap().values().sum::<usize>(), 3);
}

async fn a_job_that_fails_once_succeeds_on_retry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let runner = JobRunner::new(app.db.clone())
        .with_handler(Flaky::new(1))
        .with_backoff(Duration::from_hours(1));
    let id = enqueue(&app, 1, 5).await;
    assert_eq!(runner.step().await.unwrap(), Step::Retrying(id));
    // The retry waits for its back-off: nothing is due yet.
    assert_eq!(runner.step().await.unwrap(), Step::Idle);
    sqlx::query("UPDATE jobs SET run_at = 0")
        .execute(app.db.writer())
        .await
        .unwrap();
    assert_eq!(runner.step().await.unwrap(), Step::Done(id));
    let record = jobs::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!((record.state.as_str(), record.attempts), ("done", 2));
    assert_eq!(record.last_error, None);
}

async fn two_workers_never_run_the_same_job(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let handler = Arc::new(Flaky {
        failures: 0,
        runs: Mutex::new(HashMap::new()),
        pause: Duration::from_millis(5),
    });
    for n in 0..40 {
        enqueue(&app, n, 1).await;
    }
    let mut workers = Vec::new();
    for _ in 0..2 {
        let runner = JobRunner::new(app.db.clone()).with_handler(handler.clone());
        workers.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                match runner.step().await.unwrap() {
                    Step::Idle => return done,
                    Step::Done(_) => done += 1,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }));
    }
    let mut per_worker = Vec::new();
    for w in workers {
        per_worker.push(w.await.unwrap());
    }
    assert_eq!(per_worker.iter().sum::<usize>(), 40, "{per_worker:?}");
    let runs = handler.runs.lock().unwrap();
    assert_eq!(runs.len(), 40);
    assert!(
        runs.values().all(|&n| n == 1),
        "some job ran twice: {runs:?}"
    );
}

async fn a_job_enqueued_in_a_rolled_back_transaction_never_runs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let result: Result<(), sqlx::Error> = app
        .db
        .transaction(|tx| {
            async {
                jobs::enqueue(tx, "test.flaky", &json!({ "n": 1 }), 3).await?;
                Err(sqlx::Error::RowNotFound)
            }
            .scope_boxed()
        })
        .await;
    assert!(result.is_err());
    let runner = JobRunner::new(app.db.clone()).with_handler(Flaky::new(0));
    assert_eq!(runner.step().await.unwrap(), Step::Idle);
}
