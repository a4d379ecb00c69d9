//! Group commit: writes that arrive while the writer is busy wait for it together,
//! then share one transaction and one commit.
//!
//! Under load a write's time goes to waiting for the one writer (SQLite) or for the
//! audit counter's lock (PostgreSQL), and each write holds it for a dozen round trips
//! and a commit. A batch holds it for as many round trips in all, whatever its size.
//! No write waits for company: the writer takes whatever is queued the moment it is
//! free, one job or a hundred.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

/// A job and where its answer goes.
type Queued<J, R> = (J, oneshot::Sender<R>);

/// The queue in front of one writing task.
pub struct GroupCommit<J, R> {
    queue: mpsc::Sender<Queued<J, R>>,
}

/// The writing task is gone, or failed while writing this job's batch.
#[derive(Debug, thiserror::Error)]
#[error("the batch writer stopped before answering")]
pub struct WriterStopped;

impl<J: Send + 'static, R: Send + 'static> GroupCommit<J, R> {
    /// Starts the writer, named `name`, on a thread of its own. `open` makes what the
    /// writer writes with (on that thread's runtime, so that connections it opens are
    /// driven there); `write` gets it and the jobs waiting (at most `max`, in the order
    /// they came) and answers each of them, in the same order. Each batch runs as a
    /// task of its own, so a panic in it fails that batch's jobs and the next batch is
    /// written as usual. The thread ends when the last handle is dropped.
    ///
    /// Why a thread: a write is a dozen round trips to the database, and on a busy
    /// server's runtime each answer waits behind every other request's work before
    /// the writer sees it (measured: a batch of 40 contacts held the writer 27 ms, of
    /// which SQLite worked a quarter). Alone on its thread, the writer goes on the
    /// moment an answer comes.
    pub fn start<C, O, W, F>(name: &str, max: usize, open: O, write: W) -> std::io::Result<Self>
    where
        C: Clone + Send + 'static,
        O: FnOnce() -> C + Send + 'static,
        W: Fn(C, Vec<J>) -> F + Send + 'static,
        F: Future<Output = Vec<R>> + Send + 'static,
    {
        let (queue, mut jobs) = mpsc::channel::<Queued<J, R>>(max * 4);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name(format!("atip-{name}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let with = open();
                    let mut waiting = Vec::with_capacity(max);
                    while jobs.recv_many(&mut waiting, max).await > 0 {
                        let (batch, answers): (Vec<J>, Vec<_>) = waiting.drain(..).unzip();
                        // Jobs whose requests went away are written all the same: a
                        // request dropped after it queued its job gets its whole write
                        // or none of it.
                        if let Ok(results) = tokio::spawn(write(with.clone(), batch)).await {
                            for (answer, result) in answers.into_iter().zip(results) {
                                let _ = answer.send(result);
                            }
                        }
                    }
                });
            })?;
        Ok(Self { queue })
    }

    /// Queues `job` and waits for its answer. Dropping the future after the job is
    /// queued does not take the job back.
    pub async fn submit(&self, job: J) -> Result<R, WriterStopped> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send((job, answer))
            .await
            .map_err(|_| WriterStopped)?;
        answered.await.map_err(|_| WriterStopped)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn jobs_waiting_together_are_written_together_and_each_gets_its_answer() {
        let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&batches);
        let writer = Arc::new(
            GroupCommit::start(
                "test",
                8,
                || (),
                move |(), jobs: Vec<u32>| {
                    let seen = Arc::clone(&seen);
                    async move {
                        // Slow enough that the other jobs queue behind the first.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        seen.lock().map(|mut s| s.push(jobs.len())).ok();
                        jobs.into_iter().map(|j| j * 10).collect::<Vec<_>>()
                    }
                },
            )
            .unwrap(),
        );
        let mut tasks = Vec::new();
        for j in 0..20 {
            let writer = Arc::clone(&writer);
            tasks.push(tokio::spawn(async move { (j, writer.submit(j).await) }));
        }
        for task in tasks {
            let (j, answer) = task.await.unwrap();
            assert_eq!(answer.unwrap(), j * 10);
        }
        let sizes = batches.lock().unwrap().clone();
        assert_eq!(sizes.iter().sum::<usize>(), 20);
        assert!(sizes.iter().all(|&n| n <= 8), "{sizes:?}");
        assert!(sizes.len() < 20, "nothing was grouped: {sizes:?}");
    }

    #[tokio::test]
    async fn a_panicking_batch_fails_its_own_jobs_only() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let writer = GroupCommit::start(
            "test",
            4,
            || (),
            move |(), jobs: Vec<u32>| {
                let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
                async move {
                    assert!(!first, "the first batch fails");
                    jobs
                }
            },
        )
        .unwrap();
        assert!(writer.submit(1).await.is_err());
        assert_eq!(writer.submit(2).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_job_whose_caller_went_away_is_still_written() {
        let written = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&written);
        let writer = Arc::new(
            GroupCommit::start(
                "test",
                4,
                || (),
                move |(), jobs: Vec<u32>| {
                    let count = Arc::clone(&count);
                    async move {
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        count.fetch_add(jobs.len(), Ordering::SeqCst);
                        jobs
                    }
                },
            )
            .unwrap(),
        );
        let caller = tokio::spawn({
            let writer = Arc::clone(&writer);
            async move { writer.submit(7).await }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        caller.abort();
        // The next job's answer comes after the abandoned one was written.
        assert_eq!(writer.submit(8).await.unwrap(), 8);
        assert_eq!(written.load(Ordering::SeqCst), 2);
    }
}
