//! SQLite's write-ahead log folded back into the database by a connection of its own,
//! so that the writer seldom stops for it.
//!
//! Left to itself, SQLite has the connection whose commit takes the log past a
//! threshold copy the whole log into the database before that commit returns. On a
//! server every write waits behind that one writer, so each such copy stalls them all:
//! measured under 200 clients saving contacts, batches that usually held the writer
//! 3–7 ms held it 30–45 ms at a checkpoint, and the copy set the p99 (docs/benchmarks.md).
//! A passive checkpoint from another connection copies the same pages while the writer
//! goes on. The writer's own threshold, raised far above SQLite's default
//! (`SQLITE_WRITER_PRAGMAS` says how far, and why), stays as a backstop: for when this
//! one falls behind or is not running (a command-line tool on its own), and because
//! under unbroken writes only the writer's checkpoint lets the log start again.

use std::time::Duration;

use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;

use super::{Backend, Db, SQLITE_PRAGMAS, sqlite_pool};

/// How soon to look again after a look that found new pages in the log.
const BUSY_WAIT: Duration = Duration::from_millis(50);
/// The longest wait, reached by doubling while nothing is written.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// The log as one checkpoint left it: pages in it, and how many of them are copied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Log {
    pages: i64,
    copied: i64,
}

/// The wait before the next look: short while the log changes, doubling up to a
/// second while it does not, so an idle server wakes once a second for this.
fn next_wait(wait: Duration, before: Log, now: Log) -> Duration {
    if now == before {
        (wait * 2).min(IDLE_WAIT)
    } else {
        BUSY_WAIT
    }
}

impl Db {
    /// On SQLite, checkpoints the write-ahead log passively, as often as writes come,
    /// until `stop`; on PostgreSQL, returns at once.
    pub async fn keep_log_short(self, stop: CancellationToken) {
        if self.backend != Backend::Sqlite || self.bulk {
            return;
        }
        let options = (*self.write.connect_options()).clone();
        let pool = match sqlite_pool(1, SQLITE_PRAGMAS).connect_with(options).await {
            Ok(pool) => pool,
            Err(err) => {
                tracing::warn!(error = %err, "no checkpoint connection; the writer checkpoints the log itself");
                return;
            }
        };
        let (mut wait, mut log) = (BUSY_WAIT, Log::default());
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
            match checkpoint(&pool).await {
                Ok(now) => {
                    wait = next_wait(wait, log, now);
                    log = now;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "a passive checkpoint failed; trying again");
                    wait = IDLE_WAIT;
                }
            }
        }
        pool.close().await;
    }
}

/// Copies what it can of the log into the database without waiting for the writer or
/// the readers.
async fn checkpoint(pool: &AnyPool) -> Result<Log, sqlx::Error> {
    let (_busy, pages, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    Ok(Log { pages, copied })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_soon_while_the_log_changes_and_backs_off_to_a_second_when_it_does_not() {
        let still = Log {
            pages: 120,
            copied: 120,
        };
        let grown = Log {
            pages: 180,
            copied: 180,
        };
        assert_eq!(next_wait(IDLE_WAIT, still, grown), BUSY_WAIT);
        let mut wait = BUSY_WAIT;
        let mut waits = Vec::new();
        for _ in 0..6 {
            wait = next_wait(wait, still, still);
            waits.push(wait.as_millis());
        }
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        // A log restarted from its beginning is a change too.
        assert_eq!(
            next_wait(
                IDLE_WAIT,
                grown,
                Log {
                    pages: 3,
                    copied: 0
                }
            ),
            BUSY_WAIT
        );
    }
}
