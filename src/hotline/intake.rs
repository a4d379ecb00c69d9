//! The hotline's busiest writes, contacts and incoming texts, written in groups: those
//! that arrive while the writer is busy share its next transaction and commit (see
//! [`crate::kernel::batch`]). Each one ends as it would have written alone: a key used
//! before answers with the first contact, an unknown case is refused, a MessageSid seen
//! before is stored once.

use std::collections::{HashMap, HashSet};

use scoped_futures::ScopedFutureExt as _;
use sqlx::AnyConnection;

use super::model::related;
use super::service::{HotlineError, is_unique_violation};
use super::store::{self, ContactRow, KeyedContact};
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::batch::GroupCommit;
use crate::kernel::db::Db;

/// Jobs in one transaction at most. Enough for every client of a busy hotline to
/// share one commit; a full batch of contacts is about 300 KB of rows.
const BATCH_MAX: usize = 128;

/// A contact ready to write: sealed, its audit events made while serving its request
/// (they carry its request id).
pub struct ContactSave {
    pub row: ContactRow,
    /// The case it opens: its type, and the event that says so.
    pub opens: Option<(String, Event<'static>)>,
    pub created: Event<'static>,
}

/// Where a contact was saved.
#[derive(Debug)]
pub struct Saved {
    pub id: String,
    pub case_id: Option<String>,
    /// Saved before under the same key: nothing new was stored.
    pub replayed: bool,
    /// Other cases of the caller's number (see [`related::related`]), found in the
    /// batch's transaction with one query for all its numbers.
    pub related_cases: Vec<String>,
}

/// A text that came in, ready to write: sealed, its sender indexed.
pub struct TextSave {
    pub message_sid: String,
    pub sender_index: String,
    /// The id a new thread takes if the sender has none, and the sender's number
    /// sealed for it.
    pub new_thread_id: String,
    pub sender_sealed: String,
    pub message_id: String,
    pub body_sealed: String,
    /// STOP (`Some(true)`) or START (`Some(false)`).
    pub opts_out: Option<bool>,
    pub at: i64,
}

/// What became of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Its MessageSid was stored before (Twilio retried): nothing new.
    Again,
    /// Stored; `first` when it opened its sender's thread.
    New { first: bool },
}

/// How contacts and texts are written: by a writer thread each, in groups.
///
/// On SQLite the writers share the one writer connection. On PostgreSQL each has a
/// connection of its own, opened on its thread's runtime: contacts all queue for the
/// audit chain's counter, which a transaction holds from its append until its
/// commit is flushed to disk, so one transaction per save meant one flush after
/// another; in groups, the saves waiting share one. Texts share their flushes too.
/// On the same 200,000-contact seed, with the writers on the server's pool instead
/// (its connections driven by the busy server runtime): 5,468 and 6,506 contacts/s
/// against 9,297 and 9,781/s on connections of their own (docs/benchmarks.md).
pub struct Intake {
    db: Db,
    contacts: GroupCommit<ContactSave, Result<Saved, HotlineError>>,
    texts: GroupCommit<TextSave, Result<Stored, HotlineError>>,
}

impl Intake {
    /// Starts the writer threads.
    pub fn start(db: &Db) -> std::io::Result<Self> {
        let (for_contacts, for_texts) = (db.clone(), db.clone());
        Ok(Self {
            db: db.clone(),
            contacts: GroupCommit::start(
                "contacts",
                BATCH_MAX,
                move || for_contacts.for_writer_thread(),
                write_contacts,
            )?,
            texts: GroupCommit::start(
                "texts",
                BATCH_MAX,
                move || for_texts.for_writer_thread(),
                write_texts,
            )?,
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Saves a contact with those waiting beside it. Dropping the future does not
    /// leave part of the contact saved.
    pub async fn contact(&self, job: ContactSave) -> Result<Saved, HotlineError> {
        self.contacts.submit(job).await?
    }

    /// Stores a text with those waiting beside it.
    pub async fn text(&self, job: TextSave) -> Result<Stored, HotlineError> {
        self.texts.submit(job).await?
    }
}

/// The outcome of a batch of one.
fn only<R>(outcomes: Vec<Result<R, HotlineError>>) -> Result<R, HotlineError> {
    outcomes
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(HotlineError::Other("no outcome".to_owned())))
}

/// The outcome of each job of a batch, or why the batch as a whole failed.
type Outcomes<R> = Result<Vec<Result<R, HotlineError>>, HotlineError>;

/// Writes a batch in the caller's transaction.
type Together<J, R> =
    for<'c> fn(&'c mut AnyConnection, &'c [J]) -> futures_util::future::BoxFuture<'c, Outcomes<R>>;

/// Writes `jobs` in one transaction; if that fails, each in a transaction of its own,
/// so that each ends on its own: a job another process wrote meanwhile (a unique key
/// taken between our look and our write) is written again once, and the second look
/// finds it.
async fn write_batch<J: Sync, R: Send>(
    db: &Db,
    what: &'static str,
    jobs: &[J],
    together: Together<J, R>,
) -> Vec<Result<R, HotlineError>> {
    let all = db.transaction(|tx| together(tx, jobs).scope_boxed()).await;
    let err = match all {
        Ok(outcomes) => return outcomes,
        Err(err) => err,
    };
    let raced = matches!(&err, HotlineError::Db(e) if is_unique_violation(e));
    match jobs.len() {
        1 if !raced => return vec![Err(err)],
        // Alone, a unique key taken meanwhile is the usual race of a double click.
        1 => tracing::debug!(error = %err, what, "a write lost a race; trying it again"),
        n => {
            tracing::warn!(error = %err, jobs = n, what, "a batch failed; writing its jobs one by one");
        }
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            let alone = db
                .transaction(|tx| together(tx, std::slice::from_ref(job)).scope_boxed())
                .await;
            match alone {
                Ok(one) => break only(one),
                Err(HotlineError::Db(e)) if is_unique_violation(&e) && attempt < 2 => {}
                Err(e) => break Err(e),
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}

async fn write_contacts(db: Db, jobs: Vec<ContactSave>) -> Vec<Result<Saved, HotlineError>> {
    write_batch(&db, "contacts", &jobs, |tx, jobs| {
        Box::pin(contacts_together(tx, jobs))
    })
    .await
    .into_iter()
    .map(|outcome| match outcome {
        // Only a case that is not there fails a contact's foreign key: the advocate
        // is signed in.
        Err(HotlineError::Db(e)) if is_foreign_key_violation(&e) => Err(HotlineError::NoSuchCase),
        other => other,
    })
    .collect()
}

fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(sqlx::error::DatabaseError::is_foreign_key_violation)
}

/// Writes `jobs` in the caller's transaction, each ending as it would alone: the keys
/// and cases are looked up first (the writer is held, so nothing changes under us on
/// SQLite; on PostgreSQL a race fails the insert and [`write_batch`] settles it).
async fn contacts_together(
    tx: &mut AnyConnection,
    jobs: &[ContactSave],
) -> Result<Vec<Result<Saved, HotlineError>>, HotlineError> {
    let keys: Vec<(&str, &str)> = jobs
        .iter()
        .map(|j| (j.row.advocate_id.as_str(), j.row.idempotency_key.as_str()))
        .collect();
    let mut taken: HashMap<(String, String), KeyedContact> = store::contacts_by_keys(tx, &keys)
        .await?
        .into_iter()
        .map(|c| ((c.advocate_id.clone(), c.idempotency_key.clone()), c))
        .collect();
    let linked: Vec<&str> = jobs
        .iter()
        .filter(|j| j.opens.is_none())
        .filter_map(|j| j.row.case_id.as_deref())
        .collect();
    let cases: HashSet<String> = if linked.is_empty() {
        HashSet::new()
    } else {
        store::existing_cases(tx, &linked)
            .await?
            .into_iter()
            .collect()
    };
    let mut outcomes = Vec::with_capacity(jobs.len());
    let (mut opened, mut contacts, mut events) = (Vec::new(), Vec::new(), Vec::new());
    for job in jobs {
        let row = &job.row;
        let key = (row.advocate_id.clone(), row.idempotency_key.clone());
        if let Some(earlier) = taken.get(&key) {
            outcomes.push(if earlier.request_hash == row.request_hash {
                Ok(Saved {
                    id: earlier.id.clone(),
                    case_id: earlier.case_id.clone(),
                    replayed: true,
                    related_cases: Vec::new(),
                })
            } else {
                Err(HotlineError::KeyReused)
            });
            continue;
        }
        match (&job.opens, &row.case_id) {
            (None, Some(case)) if !cases.contains(case) => {
                outcomes.push(Err(HotlineError::NoSuchCase));
                continue;
            }
            (Some((kind, event)), Some(case)) => {
                opened.push(store::OpenedCase {
                    id: case,
                    trafficking_type: kind,
                    created_by: &row.advocate_id,
                    at: row.created_at,
                });
                events.push((event, Outcome::Success));
            }
            _ => {}
        }
        taken.insert(
            key,
            KeyedContact {
                advocate_id: row.advocate_id.clone(),
                idempotency_key: row.idempotency_key.clone(),
                id: row.id.clone(),
                case_id: row.case_id.clone(),
                request_hash: row.request_hash.clone(),
            },
        );
        contacts.push(row);
        events.push((&job.created, Outcome::Success));
        outcomes.push(Ok(Saved {
            id: row.id.clone(),
            case_id: row.case_id.clone(),
            replayed: false,
            related_cases: Vec::new(),
        }));
    }
    store::insert_cases(tx, &opened).await?;
    store::insert_contacts(tx, &contacts).await?;
    relate(tx, jobs, &mut outcomes).await?;
    // Last, as every audited write: the chain's counter stays locked until commit.
    audit::append_all(tx, &events).await?;
    Ok(outcomes)
}

/// Fills in each saved contact's related cases, as a read after the whole batch would
/// find them, with one query for all the batch's numbers.
async fn relate(
    tx: &mut AnyConnection,
    jobs: &[ContactSave],
    outcomes: &mut [Result<Saved, HotlineError>],
) -> Result<(), sqlx::Error> {
    let mut numbers: Vec<&str> = jobs
        .iter()
        .filter_map(|j| j.row.caller_phone_index.as_deref())
        .collect();
    if numbers.is_empty() {
        return Ok(());
    }
    numbers.sort_unstable();
    numbers.dedup();
    let sightings = store::sightings(tx, &numbers).await?;
    for (job, outcome) in jobs.iter().zip(outcomes) {
        if let (Some(number), Ok(saved)) = (&job.row.caller_phone_index, outcome) {
            saved.related_cases = related::related(&sightings, number, saved.case_id.as_deref());
        }
    }
    Ok(())
}

async fn write_texts(db: Db, jobs: Vec<TextSave>) -> Vec<Result<Stored, HotlineError>> {
    write_batch(&db, "texts", &jobs, |tx, jobs| {
        Box::pin(texts_together(tx, jobs))
    })
    .await
}

/// Stores `jobs` in the caller's transaction, in order: a MessageSid seen before (or
/// earlier in the batch) is not stored again, and a sender's first text opens their
/// thread.
async fn texts_together(
    tx: &mut AnyConnection,
    jobs: &[TextSave],
) -> Result<Vec<Result<Stored, HotlineError>>, HotlineError> {
    let sids: Vec<&str> = jobs.iter().map(|j| j.message_sid.as_str()).collect();
    let mut seen: HashSet<String> = store::known_message_sids(tx, &sids)
        .await?
        .into_iter()
        .collect();
    let mut senders: Vec<&str> = jobs.iter().map(|j| j.sender_index.as_str()).collect();
    senders.sort_unstable();
    senders.dedup();
    let mut threads: HashMap<String, String> = store::threads_by_senders(tx, &senders)
        .await?
        .into_iter()
        .collect();
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut new_threads = Vec::new();
    // Each stored text with its thread; each thread with its last text's time and its
    // last STOP or START.
    let mut stored: Vec<(&TextSave, String)> = Vec::new();
    let mut last_of_thread: HashMap<String, (i64, Option<bool>)> = HashMap::new();
    for job in jobs {
        if !seen.insert(job.message_sid.clone()) {
            outcomes.push(Ok(Stored::Again));
            continue;
        }
        let first = !threads.contains_key(&job.sender_index);
        let thread_id = threads
            .entry(job.sender_index.clone())
            .or_insert_with(|| {
                new_threads.push(store::NewThread {
                    id: &job.new_thread_id,
                    sender_index: &job.sender_index,
                    sender_sealed: &job.sender_sealed,
                    at: job.at,
                });
                job.new_thread_id.clone()
            })
            .clone();
        let (last_at, opts_out) = last_of_thread
            .entry(thread_id.clone())
            .or_insert((job.at, None));
        *last_at = (*last_at).max(job.at);
        *opts_out = job.opts_out.or(*opts_out);
        stored.push((job, thread_id));
        outcomes.push(Ok(Stored::New { first }));
    }
    store::insert_threads(tx, &new_threads).await?;
    let touches: Vec<store::Touched<'_>> = last_of_thread
        .iter()
        .map(|(id, (last_at, opted_out))| store::Touched {
            id,
            last_at: *last_at,
            opted_out: *opted_out,
        })
        .collect();
    store::touch_threads(tx, &touches).await?;
    let messages: Vec<store::MessageRow<'_>> = stored
        .iter()
        .map(|(job, thread_id)| store::MessageRow {
            id: &job.message_id,
            thread_id,
            message_sid: &job.message_sid,
            direction: "inbound",
            body_sealed: &job.body_sealed,
            at: job.at,
        })
        .collect();
    store::insert_messages(tx, &messages).await?;
    Ok(outcomes)
}
