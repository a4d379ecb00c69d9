//! One handle for SQLite and PostgreSQL.
//!
//! Queries are written once in the SQL both dialects accept (`$1` placeholders,
//! `RETURNING`, `ON CONFLICT`) and run through sqlx's `Any` driver. SQLite gets a
//! separate one-connection pool for writes: SQLite allows one writer at a time, and
//! queueing writers in the pool is kinder than `SQLITE_BUSY` errors.

mod checkpoint;
mod migrate;
mod url;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use scoped_futures::ScopedBoxFuture;
use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

pub use migrate::{MigrationState, SchemaError, migrator};
pub use url::{DatabaseUrl, UnsupportedScheme};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a connection talks to.
    pub fn of(conn: &AnyConnection) -> Self {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Self::Sqlite
        } else {
            Self::Postgres
        }
    }

    /// Writes the mark of the `n`th (from 1) value bound to a generated statement.
    /// The dialects part here on purpose: SQLite looks a numbered mark (`$n`) up in a
    /// linked list on every bind, so binding a statement of thousands of values took
    /// most of an import's time; plain `?` marks are bound by position.
    pub fn push_mark(self, sql: &mut String, n: usize) {
        match self {
            Self::Sqlite => sql.push('?'),
            Self::Postgres => {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
    }

    /// Writes `rows` parenthesized rows of `width` marks each, `(m, …), (m, …)`, for a
    /// multi-row `VALUES`; the values bind row by row.
    pub fn push_rows(self, sql: &mut String, rows: usize, width: usize) {
        for r in 0..rows {
            if r > 0 {
                sql.push(',');
            }
            self.push_list(sql, r * width + 1, width);
        }
    }

    /// Writes `(m, …)` with `count` marks, the first for the `from`th value bound: an
    /// `IN` list, or one row of `VALUES`.
    pub fn push_list(self, sql: &mut String, from: usize, count: usize) {
        sql.push('(');
        for n in from..from + count {
            if n > from {
                sql.push(',');
            }
            self.push_mark(sql, n);
        }
        sql.push(')');
    }
}

#[derive(Clone)]
pub struct Db {
    backend: Backend,
    read: AnyPool,
    write: AnyPool,
    /// Opened by [`Db::connect_for_bulk`].
    bulk: bool,
    /// Pools opened by [`Db::for_writer_thread`], which [`Db::close`] closes too.
    writer_threads: Arc<Mutex<Vec<AnyPool>>>,
}

/// Why the database could not be opened, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "cannot reach the database at {url}: {cause}. Check --database-url (or ATIP_DATABASE_URL) and that the server is running."
    )]
    Unreachable { url: DatabaseUrl, cause: String },
}

/// Errors a transaction body may return: the retry loop must know which are
/// serialization failures worth another attempt.
pub trait Retryable {
    fn is_retryable(&self) -> bool;
}

impl Retryable for sqlx::Error {
    fn is_retryable(&self) -> bool {
        is_retryable(self)
    }
}

/// PostgreSQL (and CockroachDB) report `40001` when a serializable transaction lost a
/// race, and `40P01` for a deadlock; both succeed when simply run again.
pub fn is_retryable(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

macro_rules! sqlite_pragmas {
    () => {
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;"
    };
}
const SQLITE_PRAGMAS: &str = sqlite_pragmas!();
/// A server's writer leaves checkpoints to [`Db::keep_log_short`] and checkpoints the
/// log itself only past 16,000 pages (250 MiB of 16 KiB pages), when those cannot keep
/// up or do not run. Under a steady stream of writes the passive checkpoints never find
/// the log all copied when the writer begins, so the log starts again from its
/// beginning only after a checkpoint by the writer, which holds every write for 20–40
/// ms (measured under 200 clients saving contacts: at 4,000 pages that came several
/// times a second, at 16,000 about once a second; docs/benchmarks.md).
///
/// The writer keeps 64 MiB of pages and reads the file through a memory map as the
/// readers do: with SQLite's default 2 MiB the index pages that each batch of contacts
/// touches at random were read from the file again and again (a fifth of the writer's
/// time, measured with perf). Its statement journals and sorts stay in memory: as
/// files under the temporary folder, a batch's writes to them sometimes took over 10 ms.
const SQLITE_WRITER_PRAGMAS: &str = concat!(
    sqlite_pragmas!(),
    " PRAGMA wal_autocheckpoint = 16000; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; \
     PRAGMA temp_store = MEMORY;"
);
/// A server's readers read the file through a memory map (up to 256 MiB of it): a
/// page read is then a memory access, not a system call copying it into each
/// connection's own small cache; their sorts stay in memory. Not for the bulk import,
/// whose peak memory is kept low and which reads little.
const SQLITE_READER_PRAGMAS: &str = concat!(
    sqlite_pragmas!(),
    " PRAGMA mmap_size = 268435456; PRAGMA temp_store = MEMORY;"
);
const MAX_TX_ATTEMPTS: u32 = 8;

impl Db {
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, OpenError> {
        match url.backend() {
            Backend::Sqlite => {
                let db = Self::connect_shared(url, 1, SQLITE_WRITER_PRAGMAS).await?;
                let read = sqlite_pool(8, SQLITE_READER_PRAGMAS)
                    .connect(url.expose())
                    .await
                    .map_err(|e| unreachable(url, &e))?;
                Ok(Self { read, ..db })
            }
            Backend::Postgres => Self::connect_shared(url, 16, "").await,
        }
    }

    /// Opens the database for a bulk write by a command that runs alone: on SQLite one
    /// connection serves reads and writes, so that no reader of this process stands
    /// in the way of [`Db::bulk_journal`]. PostgreSQL as [`Db::connect`].
    pub async fn connect_for_bulk(url: &DatabaseUrl) -> Result<Self, OpenError> {
        match url.backend() {
            Backend::Sqlite => Ok(Self {
                bulk: true,
                ..Self::connect_shared(url, 1, SQLITE_PRAGMAS).await?
            }),
            Backend::Postgres => Self::connect(url).await,
        }
    }

    /// One pool for reads and writes (on SQLite, the writer, whose connections run
    /// `sqlite_pragmas`; see [`Db::connect`]).
    async fn connect_shared(
        url: &DatabaseUrl,
        connections: u32,
        sqlite_pragmas: &'static str,
    ) -> Result<Self, OpenError> {
        sqlx::any::install_default_drivers();
        let backend = url.backend();
        let options = match backend {
            Backend::Sqlite => sqlite_pool(connections, sqlite_pragmas),
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(Duration::from_secs(10)),
        };
        let pool = options
            .connect(url.expose())
            .await
            .map_err(|e| unreachable(url, &e))?;
        if backend == Backend::Sqlite {
            // Takes effect only in a new, empty file (before WAL and the first
            // table). 16 KiB pages made a 500,000-service import's writing an
            // eighth faster than 4 KiB (fewer, shallower B-tree pages to split).
            // WAL lets readers go on while the one writer writes; it is a property
            // of the file, so setting it once on the writer is enough.
            pool.execute("PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;")
                .await
                .map_err(|e| unreachable(url, &e))?;
        }
        Ok(Self {
            backend,
            read: pool.clone(),
            write: pool,
            bulk: false,
            writer_threads: Arc::default(),
        })
    }

    /// A handle for a writer on a runtime of its own, to be called on that runtime.
    /// On PostgreSQL it has a connection of its own, opened when first used, which
    /// that runtime drives: a connection answers through the runtime that opened it,
    /// and a busy server's runtime passes answers on late. On SQLite it is this
    /// handle, because the file takes one writer at a time.
    #[must_use]
    pub fn for_writer_thread(&self) -> Self {
        match self.backend {
            Backend::Sqlite => self.clone(),
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy_with((*self.write.connect_options()).clone());
                if let Ok(mut pools) = self.writer_threads.lock() {
                    pools.push(pool.clone());
                }
                Self {
                    read: pool.clone(),
                    write: pool,
                    ..self.clone()
                }
            }
        }
    }

    /// Before a bulk write on SQLite, on a database opened with
    /// [`Db::connect_for_bulk`]: the rollback journal instead of WAL, when nothing else
    /// has the file open. WAL writes every page twice (into the log, then into
    /// the file at the checkpoint that ends the transaction); the rollback journal
    /// copies only the pages that held data before, so loading a large directory
    /// into a new database writes it once. Atomic all the same: a crash leaves a hot
    /// journal that the next connection rolls back. Answers whether it switched;
    /// [`Db::wal_again`] switches back. Anything else open on the file (a running
    /// server) keeps WAL, and the write goes on as usual; a server that starts while
    /// the bulk write runs waits for it, or gives up after its busy timeout.
    pub async fn bulk_journal(&self) -> Result<bool, sqlx::Error> {
        if !self.bulk || self.backend != Backend::Sqlite {
            return Ok(false);
        }
        let mut conn = self.write.acquire().await?;
        // Someone else on the file is an answer, not a reason to wait.
        conn.execute("PRAGMA busy_timeout = 0").await?;
        let mode = sqlx::query_scalar::<_, String>("PRAGMA journal_mode = DELETE")
            .fetch_one(&mut *conn)
            .await;
        conn.execute(SQLITE_PRAGMAS).await?;
        match mode {
            Ok(mode) => Ok(mode.eq_ignore_ascii_case("delete")),
            Err(sqlx::Error::Database(e)) if is_sqlite_busy(e.code().as_deref()) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// WAL again after [`Db::bulk_journal`] (a server also sets it when it opens).
    pub async fn wal_again(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            self.write.execute("PRAGMA journal_mode = WAL").await?;
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads outside a transaction.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for single-statement writes outside [`Db::transaction`].
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Pool figures for `/metrics`: (pool name, open connections, idle connections).
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, usize)> {
        match self.backend {
            Backend::Sqlite => vec![
                ("read", self.read.size(), self.read.num_idle()),
                ("write", self.write.size(), self.write.num_idle()),
            ],
            Backend::Postgres => vec![("main", self.write.size(), self.write.num_idle())],
        }
    }

    /// Runs `body` in one transaction on the writer and commits it; on a serialization
    /// failure the whole body runs again (with a short growing pause), so it must not
    /// have effects outside the transaction.
    ///
    /// The body returns `async move { … }.scope_boxed()` (from `scoped_futures`), which
    /// lets it borrow the caller's data as well as the connection.
    pub async fn transaction<'a, T, E, F>(&self, mut body: F) -> Result<T, E>
    where
        F: for<'c> FnMut(&'c mut AnyConnection) -> ScopedBoxFuture<'a, 'c, Result<T, E>>
            + Send
            + 'a,
        E: From<sqlx::Error> + Retryable + Send,
        T: Send,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = self.write.begin().await?;
            let outcome = match body(&mut tx).await {
                Ok(value) => tx.commit().await.map(|()| value).map_err(E::from),
                Err(err) => {
                    // Rolling back is best effort: dropping the transaction rolls back too.
                    let _ = tx.rollback().await;
                    Err(err)
                }
            };
            match outcome {
                Err(err) if err.is_retryable() && attempt < MAX_TX_ATTEMPTS => {
                    tracing::debug!(attempt, "transaction hit a serialization failure; retrying");
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt * attempt)))
                        .await;
                }
                other => return other,
            }
        }
    }

    /// Closes every connection, the writer threads' too; SQLite checkpoints its WAL on
    /// the last close.
    pub async fn close(&self) {
        let writer_threads = self
            .writer_threads
            .lock()
            .map(|mut pools| std::mem::take(&mut *pools))
            .unwrap_or_default();
        for pool in writer_threads {
            pool.close().await;
        }
        self.read.close().await;
        self.write.close().await;
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED, with any extended code.
fn is_sqlite_busy(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<u32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

fn unreachable(url: &DatabaseUrl, err: &sqlx::Error) -> OpenError {
    OpenError::Unreachable {
        url: url.clone(),
        cause: describe(err),
    }
}

fn sqlite_pool(max: u32, pragmas: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        // A ping is a round trip to the connection's thread before every query, and a
        // file on this machine does not drop like a network connection.
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(pragmas).await?;
                Ok(())
            })
        })
}

/// The driver's message without anything from the URL (sqlx does not echo it, but the
/// operator sees this sentence, so keep it short).
fn describe(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::PoolTimedOut => "no connection within the time limit".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::Backend;

    #[test]
    fn marks_are_numbered_for_postgresql_and_positional_for_sqlite() {
        let mut sql = String::new();
        Backend::Postgres.push_rows(&mut sql, 2, 3);
        sql.push_str(" IN ");
        Backend::Postgres.push_list(&mut sql, 7, 2);
        assert_eq!(sql, "($1,$2,$3),($4,$5,$6) IN ($7,$8)");
        let mut sql = String::new();
        Backend::Sqlite.push_rows(&mut sql, 2, 2);
        Backend::Sqlite.push_list(&mut sql, 5, 1);
        assert_eq!(sql, "(?,?),(?,?)(?)");
    }
}
