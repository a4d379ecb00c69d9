//! The hotline's SQL. Sealed columns arrive sealed; nothing here decides who may read.

use sqlx::{AnyConnection, AnyPool, FromRow};

use super::model::related;
use crate::kernel::db::Backend;

/// A contact as stored (sealed columns still sealed).
#[derive(Clone, Debug, FromRow)]
pub struct ContactRow {
    pub id: String,
    pub advocate_id: String,
    pub idempotency_key: String,
    pub request_hash: String,
    pub case_id: Option<String>,
    pub channel: String,
    pub direction: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub language: String,
    pub interpreter: i64,
    pub caller_type: String,
    pub caller_city: Option<String>,
    pub caller_state: Option<String>,
    pub heard_from: Option<String>,
    pub reasons: String,
    pub narrative: Option<String>,
    pub notes: Option<String>,
    pub caller_phone: Option<String>,
    pub caller_phone_index: Option<String>,
    pub safe_to_call: Option<i64>,
    pub voicemail_ok: Option<i64>,
    pub code_word: Option<String>,
    pub outcome: Option<String>,
    pub created_at: i64,
}

pub(crate) const CONTACT_COLUMNS: &str = "id, advocate_id, idempotency_key, request_hash, case_id, channel, direction, started_at, ended_at, language, interpreter, caller_type, caller_city, caller_state, heard_from, reasons, narrative, notes, caller_phone, caller_phone_index, safe_to_call, voicemail_ok, code_word, outcome, created_at";

pub async fn contact(pool: &AnyPool, id: &str) -> Result<Option<ContactRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM hotline_contacts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A case as its contact page summarizes it.
#[derive(Clone, Debug, FromRow)]
pub struct CaseSummaryRow {
    pub id: String,
    pub status: String,
    pub trafficking_type: String,
    pub indicator_level: Option<String>,
    pub created_at: i64,
}

pub async fn case_summary(pool: &AnyPool, id: &str) -> Result<Option<CaseSummaryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, status, trafficking_type, indicator_level, created_at FROM hotline_cases WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A referral as listed on its contact's page (notes stay sealed, unread).
#[derive(Clone, Debug, FromRow)]
pub struct ReferralListRow {
    pub id: String,
    pub service_id: String,
    pub service_name: String,
    pub urgency: String,
    pub kind: String,
    pub partner_capacity: Option<String>,
    pub follow_up_due: Option<String>,
    pub outcome: Option<String>,
}

pub async fn referrals_of_contact(
    pool: &AnyPool,
    contact_id: &str,
) -> Result<Vec<ReferralListRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, service_id, service_name, urgency, kind, partner_capacity, follow_up_due, outcome \
         FROM hotline_referrals WHERE contact_id = $1 ORDER BY created_at, id",
    )
    .bind(contact_id)
    .fetch_all(pool)
    .await
}

/// A library document sent to a contact's caller, as its page lists it.
#[derive(Clone, Debug, FromRow)]
pub struct SentResourceRow {
    pub title: String,
    pub channel: String,
    pub sent_at: i64,
}

pub async fn resources_of_contact(
    pool: &AnyPool,
    contact_id: &str,
) -> Result<Vec<SentResourceRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.title, r.channel, r.sent_at FROM hotline_resources_sent r \
         JOIN library_documents d ON d.id = r.document_id \
         WHERE r.contact_id = $1 ORDER BY r.sent_at, r.id",
    )
    .bind(contact_id)
    .fetch_all(pool)
    .await
}

/// A report as listed on its case's page (the sealed document is not opened).
#[derive(Clone, Debug, FromRow)]
pub struct ReportListRow {
    pub id: String,
    pub agency: String,
    pub agency_name: String,
    pub method: String,
    pub basis: String,
    pub reference: Option<String>,
    pub reported_at: Option<i64>,
    pub created_at: i64,
}

pub async fn reports_of_case(
    pool: &AnyPool,
    case_id: &str,
) -> Result<Vec<ReportListRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, agency, agency_name, method, basis, reference, reported_at, created_at \
         FROM hotline_reports WHERE case_id = $1 ORDER BY created_at, id",
    )
    .bind(case_id)
    .fetch_all(pool)
    .await
}

/// A contact's crisis steps as recorded: step, when done, whether skipped (the sealed
/// reason is not read).
pub async fn crisis_steps(
    pool: &AnyPool,
    contact_id: &str,
) -> Result<Vec<(String, Option<i64>, bool)>, sqlx::Error> {
    let rows: Vec<(String, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT step, done_at, skipped_reason FROM hotline_crisis_steps WHERE contact_id = $1",
    )
    .bind(contact_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(step, done, skipped)| (step, done, skipped.is_some()))
        .collect())
}

/// Contacts per `INSERT` in [`insert_contacts`]: 25 values each, under both
/// databases' limit of bound values per statement.
const CONTACTS_PER_INSERT: usize = 400;

/// Inserts `rows` with as few statements as their number allows.
pub async fn insert_contacts(
    conn: &mut AnyConnection,
    rows: &[&ContactRow],
) -> Result<(), sqlx::Error> {
    let backend = Backend::of(conn);
    for chunk in rows.chunks(CONTACTS_PER_INSERT) {
        let mut sql = format!("INSERT INTO hotline_contacts ({CONTACT_COLUMNS}) VALUES ");
        backend.push_rows(&mut sql, chunk.len(), 25);
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            insert = bind_contact(insert, row);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// What saving again under a key needs to know of the contact saved under it.
#[derive(Clone, Debug, FromRow)]
pub struct KeyedContact {
    pub advocate_id: String,
    pub idempotency_key: String,
    pub id: String,
    pub case_id: Option<String>,
    pub request_hash: String,
}

/// The contacts saved under any of `keys` (advocate id, idempotency key). The query
/// asks for every advocate with every key, which the unique index answers pair by
/// pair; the pairs not asked for are dropped here.
pub async fn contacts_by_keys(
    conn: &mut AnyConnection,
    keys: &[(&str, &str)],
) -> Result<Vec<KeyedContact>, sqlx::Error> {
    let mut advocates: Vec<&str> = keys.iter().map(|(a, _)| *a).collect();
    advocates.sort_unstable();
    advocates.dedup();
    let backend = Backend::of(conn);
    let mut found = Vec::new();
    for chunk in keys.chunks(CONTACTS_PER_INSERT) {
        let mut sql = String::from(
            "SELECT advocate_id, idempotency_key, id, case_id, request_hash FROM hotline_contacts \
             WHERE advocate_id IN ",
        );
        backend.push_list(&mut sql, 1, advocates.len());
        sql.push_str(" AND idempotency_key IN ");
        backend.push_list(&mut sql, advocates.len() + 1, chunk.len());
        let mut select = sqlx::query_as::<_, KeyedContact>(sqlx::AssertSqlSafe(sql));
        for advocate in &advocates {
            select = select.bind(*advocate);
        }
        for (_, key) in chunk {
            select = select.bind(*key);
        }
        found.extend(select.fetch_all(&mut *conn).await?);
    }
    found.retain(|c| {
        keys.iter()
            .any(|(a, k)| *a == c.advocate_id && *k == c.idempotency_key)
    });
    Ok(found)
}

/// Rows of `select` (a query ending in `… IN `) for each of `values`, asked for a
/// thousand at a time.
async fn fetch_in<T>(
    conn: &mut AnyConnection,
    select: &str,
    values: &[&str],
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let backend = Backend::of(conn);
    let mut found = Vec::new();
    for chunk in values.chunks(1000) {
        let mut sql = select.to_owned();
        backend.push_list(&mut sql, 1, chunk.len());
        let mut query = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql));
        for value in chunk {
            query = query.bind(*value);
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

/// Which of `ids` are cases.
pub async fn existing_cases(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<Vec<String>, sqlx::Error> {
    let found: Vec<(String,)> =
        fetch_in(conn, "SELECT id FROM hotline_cases WHERE id IN ", ids).await?;
    Ok(found.into_iter().map(|(id,)| id).collect())
}

/// A case opened by a contact.
pub struct OpenedCase<'a> {
    pub id: &'a str,
    pub trafficking_type: &'a str,
    pub created_by: &'a str,
    pub at: i64,
}

/// Inserts the cases that contacts open, in as few statements as their number allows.
pub async fn insert_cases(
    conn: &mut AnyConnection,
    cases: &[OpenedCase<'_>],
) -> Result<(), sqlx::Error> {
    let backend = Backend::of(conn);
    for chunk in cases.chunks(CONTACTS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO hotline_cases (id, status, trafficking_type, created_by, created_at, updated_at) VALUES ",
        );
        backend.push_rows(&mut sql, chunk.len(), 6);
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for case in chunk {
            insert = insert
                .bind(case.id)
                .bind("open")
                .bind(case.trafficking_type)
                .bind(case.created_by)
                .bind(case.at)
                .bind(case.at);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Binds a contact's 25 values in the order of [`CONTACT_COLUMNS`].
pub(crate) fn bind_contact<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    row: &'q ContactRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(&row.id)
        .bind(&row.advocate_id)
        .bind(&row.idempotency_key)
        .bind(&row.request_hash)
        .bind(&row.case_id)
        .bind(&row.channel)
        .bind(&row.direction)
        .bind(row.started_at)
        .bind(row.ended_at)
        .bind(&row.language)
        .bind(row.interpreter)
        .bind(&row.caller_type)
        .bind(&row.caller_city)
        .bind(&row.caller_state)
        .bind(&row.heard_from)
        .bind(&row.reasons)
        .bind(&row.narrative)
        .bind(&row.notes)
        .bind(&row.caller_phone)
        .bind(&row.caller_phone_index)
        .bind(row.safe_to_call)
        .bind(row.voicemail_ok)
        .bind(&row.code_word)
        .bind(&row.outcome)
        .bind(row.created_at)
}

pub async fn case_exists(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM hotline_cases WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Cases of earlier contacts from the same number (by its blind index), newest first.
pub async fn cases_of_phone(
    pool: &AnyPool,
    phone_index: &str,
    except_contact: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT case_id, MAX(started_at) FROM hotline_contacts \
         WHERE caller_phone_index = $1 AND case_id IS NOT NULL AND id <> $2 \
         GROUP BY case_id ORDER BY MAX(started_at) DESC LIMIT 20",
    )
    .bind(phone_index)
    .bind(except_contact)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id, _)| id).collect())
}

/// Cases a contact from this number (by its blind index) may be about, besides its
/// own (see [`related::related`]).
pub async fn related_cases(
    pool: &AnyPool,
    phone_index: &str,
    own_case: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let sightings = sightings(&mut conn, &[phone_index]).await?;
    Ok(related::related(&sightings, phone_index, own_case))
}

/// For each of these numbers (blind indexes), the newest cases of its calls and the
/// newest cases naming it, as many of each as [`related::related`] needs, in one
/// query for a whole batch of contacts.
pub async fn sightings(
    conn: &mut AnyConnection,
    numbers: &[&str],
) -> Result<Vec<related::Sighting>, sqlx::Error> {
    let backend = Backend::of(conn);
    let mut found = Vec::new();
    for chunk in numbers.chunks(500) {
        let n = chunk.len();
        let mut sql = String::from(
            "SELECT phone, case_id, source, latest FROM (\
               SELECT caller_phone_index AS phone, case_id, 0 AS source, MAX(started_at) AS latest, \
                 ROW_NUMBER() OVER (PARTITION BY caller_phone_index ORDER BY MAX(started_at) DESC, case_id) AS place \
               FROM hotline_contacts WHERE case_id IS NOT NULL AND caller_phone_index IN ",
        );
        backend.push_list(&mut sql, 1, n);
        sql.push_str(" GROUP BY caller_phone_index, case_id) AS calls WHERE place <= ");
        backend.push_mark(&mut sql, n + 1);
        sql.push_str(
            " UNION ALL SELECT phone, case_id, source, latest FROM (\
               SELECT blind_index AS phone, case_id, 1 AS source, MAX(created_at) AS latest, \
                 ROW_NUMBER() OVER (PARTITION BY blind_index ORDER BY MAX(created_at) DESC, case_id) AS place \
               FROM hotline_case_identifiers WHERE blind_index IN ",
        );
        backend.push_list(&mut sql, n + 2, n);
        sql.push_str(" GROUP BY blind_index, case_id) AS names WHERE place <= ");
        backend.push_mark(&mut sql, 2 * n + 2);
        // One more than shown: a contact's own case is among them but not shown.
        let wanted = i64::try_from(related::PER_SOURCE + 1).unwrap_or(i64::MAX);
        let mut query = sqlx::query_as::<_, (String, String, i64, i64)>(sqlx::AssertSqlSafe(sql));
        for number in chunk {
            query = query.bind(*number);
        }
        query = query.bind(wanted);
        for number in chunk {
            query = query.bind(*number);
        }
        query = query.bind(wanted);
        let rows = query.fetch_all(&mut *conn).await?;
        found.extend(
            rows.into_iter()
                .map(|(number, case_id, source, latest)| related::Sighting {
                    number,
                    case_id,
                    source: if source == 0 {
                        related::Source::Calls
                    } else {
                        related::Source::Names
                    },
                    latest,
                }),
        );
    }
    Ok(found)
}

/// Texts per statement in the text line's writes: a few values each, far under both
/// databases' limit of bound values per statement.
const TEXTS_PER_STATEMENT: usize = 1000;

/// The threads of these senders (by the blind index of their numbers): index and id.
pub async fn threads_by_senders(
    conn: &mut AnyConnection,
    sender_indexes: &[&str],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    fetch_in(
        conn,
        "SELECT sender_index, id FROM sms_threads WHERE sender_index IN ",
        sender_indexes,
    )
    .await
}

/// A thread opened by a sender's first text.
pub struct NewThread<'a> {
    pub id: &'a str,
    pub sender_index: &'a str,
    pub sender_sealed: &'a str,
    pub at: i64,
}

pub async fn insert_threads(
    conn: &mut AnyConnection,
    threads: &[NewThread<'_>],
) -> Result<(), sqlx::Error> {
    let backend = Backend::of(conn);
    for chunk in threads.chunks(TEXTS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO sms_threads (id, sender_index, sender, opted_out, status, last_message_at, created_at) VALUES ",
        );
        backend.push_rows(&mut sql, chunk.len(), 7);
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for thread in chunk {
            insert = insert
                .bind(thread.id)
                .bind(thread.sender_index)
                .bind(thread.sender_sealed)
                .bind(0_i64)
                .bind("open")
                .bind(thread.at)
                .bind(thread.at);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A thread that texts came in on: when the last one came, and whether it was STOP
/// (`Some(true)`) or START (`Some(false)`).
pub struct Touched<'a> {
    pub id: &'a str,
    pub last_at: i64,
    pub opted_out: Option<bool>,
}

/// Records texts that came in: each thread opens again, takes its last text's time,
/// and `opted_out` follows STOP and START (`None` leaves it).
pub async fn touch_threads(
    conn: &mut AnyConnection,
    threads: &[Touched<'_>],
) -> Result<(), sqlx::Error> {
    let backend = Backend::of(conn);
    for chunk in threads.chunks(TEXTS_PER_STATEMENT / 5) {
        // Each thread's id is bound again wherever it appears: SQLite's marks are
        // positional.
        let mut sql =
            String::from("UPDATE sms_threads SET status = 'open', last_message_at = CASE id");
        let mut n = 0;
        let mut mark = |sql: &mut String| {
            n += 1;
            backend.push_mark(sql, n);
        };
        for _ in chunk {
            sql.push_str(" WHEN ");
            mark(&mut sql);
            sql.push_str(" THEN ");
            mark(&mut sql);
        }
        sql.push_str(" END, opted_out = COALESCE(CASE id");
        for _ in chunk {
            sql.push_str(" WHEN ");
            mark(&mut sql);
            sql.push_str(" THEN ");
            mark(&mut sql);
        }
        sql.push_str(" END, opted_out) WHERE id IN (");
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            mark(&mut sql);
        }
        sql.push(')');
        let mut update = sqlx::query(sqlx::AssertSqlSafe(sql));
        for thread in chunk {
            update = update.bind(thread.id).bind(thread.last_at);
        }
        for thread in chunk {
            update = update.bind(thread.id).bind(thread.opted_out.map(i64::from));
        }
        for thread in chunk {
            update = update.bind(thread.id);
        }
        update.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Which of these MessageSids are stored already.
pub async fn known_message_sids(
    conn: &mut AnyConnection,
    sids: &[&str],
) -> Result<Vec<String>, sqlx::Error> {
    let found: Vec<(String,)> = fetch_in(
        conn,
        "SELECT message_sid FROM sms_messages WHERE message_sid IN ",
        sids,
    )
    .await?;
    Ok(found.into_iter().map(|(sid,)| sid).collect())
}

/// One text of a thread, its body sealed.
pub struct MessageRow<'a> {
    pub id: &'a str,
    pub thread_id: &'a str,
    pub message_sid: &'a str,
    /// `inbound` or `outbound`.
    pub direction: &'a str,
    pub body_sealed: &'a str,
    pub at: i64,
}

pub async fn insert_messages(
    conn: &mut AnyConnection,
    messages: &[MessageRow<'_>],
) -> Result<(), sqlx::Error> {
    let backend = Backend::of(conn);
    for chunk in messages.chunks(TEXTS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO sms_messages (id, thread_id, message_sid, direction, body, created_at) VALUES ",
        );
        backend.push_rows(&mut sql, chunk.len(), 6);
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for message in chunk {
            insert = insert
                .bind(message.id)
                .bind(message.thread_id)
                .bind(message.message_sid)
                .bind(message.direction)
                .bind(message.body_sealed)
                .bind(message.at);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A screening to store.
pub struct ScreeningRow<'a> {
    pub id: &'a str,
    pub case_id: &'a str,
    pub version: u32,
    pub answers_sealed: &'a str,
    pub level: &'a str,
    pub kind: &'a str,
    pub created_by: &'a str,
    pub now: i64,
}

/// Stores a screening and makes its level the case's.
pub async fn insert_screening(
    conn: &mut AnyConnection,
    row: &ScreeningRow<'_>,
) -> Result<(), sqlx::Error> {
    let ScreeningRow {
        id,
        case_id,
        version,
        answers_sealed,
        level,
        kind,
        created_by,
        now,
    } = *row;
    sqlx::query(
        "INSERT INTO hotline_screenings (id, case_id, version, answers, suggested_level, suggested_type, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(case_id)
    .bind(i64::from(version))
    .bind(answers_sealed)
    .bind(level)
    .bind(kind)
    .bind(created_by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE hotline_cases SET indicator_level = $2, updated_at = $3 WHERE id = $1")
        .bind(case_id)
        .bind(level)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Raises an alert unless the case has one of this kind already; whether it did.
pub async fn raise_alert(
    conn: &mut AnyConnection,
    id: &str,
    case_id: &str,
    kind: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO hotline_alerts (id, case_id, kind, raised_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (case_id, kind) DO NOTHING",
    )
    .bind(id)
    .bind(case_id)
    .bind(kind)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An alert as supervisors see it.
#[derive(Clone, Debug, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AlertRow {
    pub id: String,
    pub case_id: String,
    pub kind: String,
    pub raised_at: i64,
}

/// Alerts nobody has acknowledged, oldest first.
pub async fn open_alerts(pool: &AnyPool) -> Result<Vec<AlertRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, case_id, kind, raised_at FROM hotline_alerts \
         WHERE acknowledged_at IS NULL ORDER BY raised_at, id",
    )
    .fetch_all(pool)
    .await
}

/// Acknowledges an open alert; whether there was one.
pub async fn acknowledge_alert(
    conn: &mut AnyConnection,
    id: &str,
    by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE hotline_alerts SET acknowledged_by = $2, acknowledged_at = $3 \
         WHERE id = $1 AND acknowledged_at IS NULL",
    )
    .bind(id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A report to store.
pub struct ReportRow<'a> {
    pub id: &'a str,
    pub case_id: &'a str,
    pub agency: &'a str,
    pub agency_name: &'a str,
    pub method: &'a str,
    pub basis: &'a str,
    pub override_sealed: Option<&'a str>,
    pub document_sealed: &'a str,
    pub reference: Option<&'a str>,
    pub reported_at: Option<i64>,
    pub created_by: &'a str,
    pub now: i64,
}

pub async fn insert_report(
    conn: &mut AnyConnection,
    row: &ReportRow<'_>,
) -> Result<(), sqlx::Error> {
    let ReportRow {
        id,
        case_id,
        agency,
        agency_name,
        method,
        basis,
        override_sealed,
        document_sealed,
        reference,
        reported_at,
        created_by,
        now,
    } = *row;
    sqlx::query(
        "INSERT INTO hotline_reports (id, case_id, agency, agency_name, method, basis, override_reason, document, reference, reported_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(case_id)
    .bind(agency)
    .bind(agency_name)
    .bind(method)
    .bind(basis)
    .bind(override_sealed)
    .bind(document_sealed)
    .bind(reference)
    .bind(reported_at)
    .bind(created_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_shift(
    conn: &mut AnyConnection,
    id: &str,
    (user_id, role): (&str, &str),
    (starts_at, ends_at): (i64, i64),
    created_by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_shifts (id, user_id, role, starts_at, ends_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(user_id)
    .bind(role)
    .bind(starts_at)
    .bind(ends_at)
    .bind(created_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Shifts overlapping `[from, to)`: person, role, start, end (microseconds).
pub async fn shifts_between(
    pool: &AnyPool,
    from: i64,
    to: i64,
) -> Result<Vec<(String, String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, role, starts_at, ends_at FROM hotline_shifts \
         WHERE ends_at > $1 AND starts_at < $2 ORDER BY starts_at",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// A referral to store.
pub struct ReferralRow<'a> {
    pub id: &'a str,
    pub contact_id: &'a str,
    pub service_id: &'a str,
    pub service_name: &'a str,
    pub urgency: &'a str,
    pub kind: &'a str,
    pub partner_capacity: Option<&'a str>,
    pub follow_up_due: Option<String>,
    pub notes_sealed: Option<&'a str>,
    pub created_by: &'a str,
    pub now: i64,
}

pub async fn insert_referral(
    conn: &mut AnyConnection,
    row: &ReferralRow<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_referrals (id, contact_id, service_id, service_name, urgency, kind, partner_capacity, follow_up_due, notes, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(row.id)
    .bind(row.contact_id)
    .bind(row.service_id)
    .bind(row.service_name)
    .bind(row.urgency)
    .bind(row.kind)
    .bind(row.partner_capacity)
    .bind(row.follow_up_due.as_deref())
    .bind(row.notes_sealed)
    .bind(row.created_by)
    .bind(row.now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn contact_exists(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM hotline_contacts WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Records what came of a referral; whether there was one.
pub async fn set_referral_outcome(
    conn: &mut AnyConnection,
    id: &str,
    outcome: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE hotline_referrals SET outcome = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(outcome)
            .bind(now)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// A referral waiting for its follow-up.
#[derive(Clone, Debug, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DueReferral {
    pub id: String,
    pub contact_id: String,
    pub service_id: String,
    pub service_name: String,
    pub urgency: String,
    pub follow_up_due: String,
}

/// Referrals without an outcome whose follow-up is due by `date`, most overdue first.
pub async fn follow_ups_due(pool: &AnyPool, date: &str) -> Result<Vec<DueReferral>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, contact_id, service_id, service_name, urgency, follow_up_due FROM hotline_referrals \
         WHERE outcome IS NULL AND follow_up_due IS NOT NULL AND follow_up_due <= $1 \
         ORDER BY follow_up_due, id",
    )
    .bind(date)
    .fetch_all(pool)
    .await
}

/// A thread's sealed sender and whether they opted out.
pub async fn thread(pool: &AnyPool, id: &str) -> Result<Option<(String, bool)>, sqlx::Error> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT sender, opted_out FROM sms_threads WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(sender, opted_out)| (sender, opted_out != 0)))
}

/// `(key, count)` pairs of one aggregate over a period (`from` included, `to` not).
async fn counted(
    pool: &AnyPool,
    sql: &'static str,
    from: i64,
    to: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(sql)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
}

/// The period's aggregates: contacts by channel and by reason code list, cases opened
/// by type, screenings' levels, referrals by kind, reports by agency.
pub struct Counts {
    pub contacts_by_channel: Vec<(String, i64)>,
    pub contact_reasons: Vec<(String, i64)>,
    pub cases_by_type: Vec<(String, i64)>,
    pub cases_by_level: Vec<(String, i64)>,
    pub referrals_by_kind: Vec<(String, i64)>,
    pub reports_by_agency: Vec<(String, i64)>,
    pub potential_victims: i64,
    pub cases_involving_minors: i64,
}

pub async fn counts(pool: &AnyPool, from: i64, to: i64) -> Result<Counts, sqlx::Error> {
    let (potential_victims, cases_involving_minors): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(potential_victims), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN minors_involved = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM hotline_cases WHERE created_at >= $1 AND created_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    Ok(Counts {
        potential_victims,
        cases_involving_minors,
        contacts_by_channel: counted(
            pool,
            "SELECT channel, COUNT(*) FROM hotline_contacts WHERE started_at >= $1 AND started_at < $2 GROUP BY channel ORDER BY channel",
            from,
            to,
        )
        .await?,
        contact_reasons: counted(
            pool,
            "SELECT reasons, COUNT(*) FROM hotline_contacts WHERE started_at >= $1 AND started_at < $2 GROUP BY reasons",
            from,
            to,
        )
        .await?,
        cases_by_type: counted(
            pool,
            "SELECT trafficking_type, COUNT(*) FROM hotline_cases WHERE created_at >= $1 AND created_at < $2 GROUP BY trafficking_type ORDER BY trafficking_type",
            from,
            to,
        )
        .await?,
        cases_by_level: counted(
            pool,
            "SELECT COALESCE(indicator_level, 'not-screened'), COUNT(*) FROM hotline_cases WHERE created_at >= $1 AND created_at < $2 GROUP BY COALESCE(indicator_level, 'not-screened') ORDER BY 1",
            from,
            to,
        )
        .await?,
        referrals_by_kind: counted(
            pool,
            "SELECT kind, COUNT(*) FROM hotline_referrals WHERE created_at >= $1 AND created_at < $2 GROUP BY kind ORDER BY kind",
            from,
            to,
        )
        .await?,
        reports_by_agency: counted(
            pool,
            "SELECT agency, COUNT(*) FROM hotline_reports WHERE created_at >= $1 AND created_at < $2 GROUP BY agency ORDER BY agency",
            from,
            to,
        )
        .await?,
    })
}

/// Records one step of a contact's crisis checklist (again: the latest record stands).
pub async fn upsert_crisis_step(
    conn: &mut AnyConnection,
    contact_id: &str,
    step: &str,
    (done_at, skipped_sealed): (Option<i64>, Option<&str>),
    recorded_by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_crisis_steps (contact_id, step, done_at, skipped_reason, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (contact_id, step) DO UPDATE SET done_at = excluded.done_at, \
         skipped_reason = excluded.skipped_reason, recorded_by = excluded.recorded_by, \
         recorded_at = excluded.recorded_at",
    )
    .bind(contact_id)
    .bind(step)
    .bind(done_at)
    .bind(skipped_sealed)
    .bind(recorded_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The case of a contact, if it has one (`None` inside: no case; outer `None`: no contact).
pub async fn case_of_contact(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT case_id FROM hotline_contacts WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(case,)| case))
}

/// Emergency requests made in a period (these steps done then).
pub async fn emergency_requests(
    pool: &AnyPool,
    steps: &[String],
    from: i64,
    to: i64,
) -> Result<i64, sqlx::Error> {
    let marks: Vec<String> = (3..3 + steps.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT COUNT(*) FROM hotline_crisis_steps WHERE done_at >= $1 AND done_at < $2 AND step IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
        .bind(from)
        .bind(to);
    for step in steps {
        query = query.bind(step.as_str());
    }
    query.fetch_one(pool).await
}

pub async fn insert_review(
    conn: &mut AnyConnection,
    id: &str,
    contact_id: &str,
    (score, comments_sealed): (i64, Option<&str>),
    reviewed_by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_reviews (id, contact_id, score, comments, reviewed_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(contact_id)
    .bind(score)
    .bind(comments_sealed)
    .bind(reviewed_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_identifier(
    conn: &mut AnyConnection,
    id: &str,
    case_id: &str,
    (kind, value_sealed, blind_index): (&str, &str, &str),
    created_by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_case_identifiers (id, case_id, kind, value, blind_index, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(case_id)
    .bind(kind)
    .bind(value_sealed)
    .bind(blind_index)
    .bind(created_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Other cases naming the same identifier (by its blind index), newest first.
pub async fn cases_with_identifier(
    pool: &AnyPool,
    blind_index: &str,
    except_case: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT case_id, MAX(created_at) FROM hotline_case_identifiers \
         WHERE blind_index = $1 AND case_id <> $2 GROUP BY case_id ORDER BY MAX(created_at) DESC LIMIT 20",
    )
    .bind(blind_index)
    .bind(except_case.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id, _)| id).collect())
}

/// Whether the person at this number (blind index) texted STOP.
pub async fn opted_out(pool: &AnyPool, phone_index: &str) -> Result<bool, sqlx::Error> {
    let opted: Option<i64> =
        sqlx::query_scalar("SELECT opted_out FROM sms_threads WHERE sender_index = $1")
            .bind(phone_index)
            .fetch_optional(pool)
            .await?;
    Ok(opted.unwrap_or(0) != 0)
}

/// One library document sent to a caller.
pub struct ResourceSent<'a> {
    pub id: &'a str,
    pub contact_id: &'a str,
    pub document_id: &'a str,
    /// `sms` or `email`.
    pub channel: &'a str,
    /// The text provider's message id, or the mail job's id.
    pub reference: &'a str,
    /// The address an email went to, sealed.
    pub recipient: Option<&'a str>,
    pub sent_by: &'a str,
    pub sent_at: i64,
}

pub async fn insert_resource_sent(
    conn: &mut AnyConnection,
    sent: &ResourceSent<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_resources_sent (id, contact_id, document_id, channel, message_sid, recipient, sent_by, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(sent.id)
    .bind(sent.contact_id)
    .bind(sent.document_id)
    .bind(sent.channel)
    .bind(sent.reference)
    .bind(sent.recipient)
    .bind(sent.sent_by)
    .bind(sent.sent_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A thread's texts, oldest first (bodies sealed).
pub async fn thread_messages(
    pool: &AnyPool,
    thread_id: &str,
) -> Result<Vec<(String, String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, direction, body, created_at FROM sms_messages WHERE thread_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(thread_id)
    .fetch_all(pool)
    .await
}
