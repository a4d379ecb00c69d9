//! `atip bench hotline`: the hotline's write paths (contacts, the text line's webhook)
//! and an advocate's reads, measured over HTTP on loopback against the real server on a
//! large seeded database, then a tenfold surge. It prints figures and the row counts
//! that show nothing was lost or doubled; it asserts nothing (see docs/benchmarks.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use sqlx::AnyConnection;
use tokio_util::sync::CancellationToken;

use super::{ms, per_second, percentile, tempfile_dir};
use crate::accounts::model::{Email, NewUser};
use crate::accounts::service as accounts;
use crate::app::Application;
use crate::hotline::model::contact::{
    CallerType, CaseLink, Channel, Direction, NewContact, Outcome, Reason, normalize_phone,
};
use crate::hotline::store::{CONTACT_COLUMNS, ContactRow};
use crate::kernel::auth::password::Password;
use crate::kernel::auth::{Principal, Role, UserId};
use crate::kernel::config::{Config, Secret};
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::{Backend, DatabaseUrl, Db};
use crate::kernel::time::now_micros;

pub struct Options {
    pub contacts: usize,
    pub cases: usize,
    /// Concurrent clients in the steady runs (the surge has ten times as many).
    pub clients: usize,
    /// Requests of each kind (contacts, texts) in each run.
    pub requests: usize,
    pub seed: u64,
    /// Where the database and key file go (a temporary folder if `None`).
    pub work_dir: Option<PathBuf>,
    /// Run on PostgreSQL (in a schema `atip_bench_hotline`, made afresh) instead of SQLite.
    pub postgres_url: Option<String>,
}

/// The Twilio auth token and public address the server is configured with; the bench
/// signs its webhooks with them as Twilio would.
const TWILIO_TOKEN: &str = "bench-twilio-auth-token";
const PUBLIC_BASE: &str = "https://hotline.example.org";
const PASSWORD: &str = "lantern orchard velvet canyon";
/// Rows per multi-row INSERT: 200 contacts are 5,000 parameters, well under SQLite's
/// 32,766 and PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 200;
/// Rows per transaction while seeding (and per sealing task).
const ROWS_PER_CHUNK: usize = 5_000;
const PG_SCHEMA: &str = "atip_bench_hotline";
const DAY_MICROS: i64 = 86_400_000_000;

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// `INSERT … VALUES (…), (…)` of up to [`ROWS_PER_STATEMENT`] rows at a time: one
/// statement per row would make seeding a million contacts take most of an hour.
async fn insert_many<'r, R>(
    conn: &mut AnyConnection,
    head: &str,
    width: usize,
    rows: &'r [R],
    bind: impl Fn(AnyQuery<'r>, &'r R) -> AnyQuery<'r>,
) -> Result<(), sqlx::Error> {
    for batch in rows.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::with_capacity(head.len() + batch.len() * width * 6);
        sql.push_str(head);
        sql.push_str(" VALUES ");
        let mut n = 0;
        for r in 0..batch.len() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                n += 1;
                let _ = write!(sql, "{}${n}", if c == 0 { "" } else { ", " });
            }
            sql.push(')');
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in batch {
            query = bind(query, row);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A synthetic US number; `n` picks it, so equal `n` is the same caller.
fn phone(n: usize) -> String {
    format!("+1{}", 2_000_000_000 + (n % 7_999_999_999))
}

const CITIES: [(&str, &str); 8] = [
    ("Fresno", "CA"),
    ("Houston", "TX"),
    ("Atlanta", "GA"),
    ("Newark", "NJ"),
    ("Toledo", "OH"),
    ("Las Vegas", "NV"),
    ("Miami", "FL"),
    ("Yakima", "WA"),
];
const LANGUAGES: [&str; 6] = ["en", "en", "en", "es", "es", "zh"];
const NARRATIVES: [&str; 4] = [
    "Works in the fields, papers kept by the crew leader, not allowed to leave the housing",
    "Caller's cousin was promised a restaurant job; now owes a debt that keeps growing",
    "Neighbor sees young women driven to and from a house at night, windows covered",
    "Asked for shelter options for a friend who left a massage business yesterday",
];

fn pick<T: Copy>(rng: &mut ChaCha8Rng, list: &[T]) -> T {
    list[rng.random_range(0..list.len())]
}

/// The people of the seeded hotline.
#[derive(Clone)]
struct Staff {
    advocate: Principal,
    advocate_email: String,
    supervisor: Principal,
    supervisor_email: String,
}

async fn staff_member(db: &Db, crypto: &Crypto, role: Role) -> anyhow::Result<(Principal, String)> {
    let email = format!(
        "{}-{}@bench.example.org",
        role.id(),
        uuid::Uuid::now_v7().simple()
    );
    let id: UserId = accounts::create_user(
        db,
        crypto,
        NewUser {
            email: Email::parse(&email).map_err(|_| anyhow::anyhow!("bad bench email"))?,
            display_name: format!("Bench {role}"),
            phone: None,
            roles: vec![role],
            organization: None,
            password: Password::new(PASSWORD.to_owned()),
        },
    )
    .await?;
    let principal = Principal {
        id,
        email: email.clone(),
        display_name: format!("Bench {role}"),
        roles: vec![role],
        organization_id: None,
        session: None,
        scopes: None,
    };
    Ok((principal, email))
}

/// What seeding leaves for the measured runs.
struct Seeded {
    /// Every tenth contact's id: referrals point at them, reads open them.
    contact_sample: Vec<String>,
    case_ids: Arc<Vec<String>>,
    /// How many distinct callers the seeded contacts and texts come from.
    callers: usize,
}

/// One seeded contact, sealed by the service's own `sealed_row`.
async fn contact_row(
    crypto: &Crypto,
    staff: &Staff,
    rng: &mut ChaCha8Rng,
    i: usize,
    cases: &[String],
    callers: usize,
    now: i64,
) -> anyhow::Result<ContactRow> {
    let started = now - rng.random_range(0..365 * DAY_MICROS);
    let (city, state) = pick(rng, &CITIES);
    let case = match rng.random_range(0..10) {
        0..=5 if !cases.is_empty() => {
            CaseLink::Existing(cases[rng.random_range(0..cases.len())].clone())
        }
        _ => CaseLink::None,
    };
    let new = NewContact {
        channel: pick(
            rng,
            &[
                Channel::Phone,
                Channel::Phone,
                Channel::Sms,
                Channel::WebChat,
                Channel::Email,
            ],
        ),
        direction: Direction::Inbound,
        started_at: jiff::Timestamp::from_microsecond(started)?,
        ended_at: Some(jiff::Timestamp::from_microsecond(
            started + rng.random_range(60..3_600) * 1_000_000,
        )?),
        language: pick(rng, &LANGUAGES).to_owned(),
        interpreter: rng.random_range(0..10) == 0,
        caller_type: pick(
            rng,
            &[
                CallerType::PotentialVictim,
                CallerType::CommunityMember,
                CallerType::FamilyOrFriend,
                CallerType::ServiceProvider,
            ],
        ),
        caller_city: Some(city.to_owned()),
        caller_state: Some(state.to_owned()),
        heard_from: Some(pick(rng, &["radio", "poster", "search", "friend"]).to_owned()),
        reasons: match rng.random_range(0..4) {
            0 => vec![Reason::Crisis, Reason::ReferralRequest],
            1 => vec![Reason::Tip],
            2 => vec![Reason::ResourceRequest],
            _ => vec![Reason::GeneralInformation],
        },
        narrative: Some(pick(rng, &NARRATIVES).to_owned()),
        notes: (rng.random_range(0..3) == 0)
            .then(|| "Call back after 6 pm; ask for the code word".to_owned()),
        caller_phone: (rng.random_range(0..10) < 7).then(|| phone(rng.random_range(0..callers))),
        safe_to_call: Some(rng.random_range(0..2) == 0),
        voicemail_ok: Some(false),
        code_word: (rng.random_range(0..4) == 0).then(|| "tortillas".to_owned()),
        outcome: Some(pick(
            rng,
            &[
                Outcome::InformationGiven,
                Outcome::ReferralMade,
                Outcome::FollowUpPlanned,
            ],
        )),
        case,
    };
    let who = if i.is_multiple_of(50) {
        &staff.advocate
    } else {
        &staff.supervisor
    };
    let key = format!("seed-{i:010}");
    let hash = format!("{i:064x}");
    Ok(crate::hotline::service::sealed_row(crypto, who, &key, &hash, &new).await?)
}

/// Seals `count` items of `make` in chunks on every core (the runtime's worker
/// threads) while the caller stores the chunks already sealed, in order.
async fn sealed_chunks<T, F, Fut>(
    count: usize,
    make: F,
    mut store: impl AsyncFnMut(Vec<T>) -> anyhow::Result<()>,
) -> anyhow::Result<()>
where
    T: Send + 'static,
    F: Fn(std::ops::Range<usize>) -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<T>>> + Send + 'static,
{
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let chunks = (0..count.div_ceil(ROWS_PER_CHUNK))
        .map(|c| c * ROWS_PER_CHUNK..((c + 1) * ROWS_PER_CHUNK).min(count));
    let mut sealed = futures_util::stream::iter(chunks)
        .map(|range| tokio::spawn(make(range)))
        .buffered(threads * 2);
    while let Some(chunk) = sealed.next().await {
        store(chunk??).await?;
    }
    Ok(())
}

/// What every seeding step needs.
#[derive(Clone, Copy)]
struct SeedContext<'a> {
    db: &'a Db,
    crypto: &'a Crypto,
    staff: &'a Staff,
    options: &'a Options,
    now: i64,
    /// Distinct callers: a third of the contacts, so that many numbers call again.
    callers: usize,
}

async fn seed(
    db: &Db,
    crypto: &Crypto,
    staff: &Staff,
    options: &Options,
) -> anyhow::Result<Seeded> {
    let ctx = SeedContext {
        db,
        crypto,
        staff,
        options,
        now: now_micros(),
        callers: (options.contacts / 3).max(10),
    };
    let case_ids = seed_cases(ctx).await?;
    let contact_sample = seed_contacts(ctx, &case_ids).await?;
    seed_texts(ctx).await?;
    let started = Instant::now();
    let referrals = seed_referrals(ctx, &contact_sample).await?;
    let (shifts, alerts) = seed_shifts_and_alerts(ctx, &case_ids).await?;
    println!(
        "seed referrals, shifts, alerts: {referrals} referrals, {shifts} shifts, {alerts} alerts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Seeded {
        contact_sample,
        case_ids,
        callers: ctx.callers,
    })
}

/// A seeded case: id, status, indicator level, created by, created at, type.
type CaseSeed = (
    String,
    &'static str,
    Option<&'static str>,
    String,
    i64,
    &'static str,
);

/// Cases first: contacts refer to them.
async fn seed_cases(ctx: SeedContext<'_>) -> anyhow::Result<Arc<Vec<String>>> {
    let SeedContext {
        db,
        staff,
        options,
        now,
        ..
    } = ctx;
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let cases: Vec<CaseSeed> = (0..options.cases)
        .map(|i| {
            let created = now - rng.random_range(0..365 * DAY_MICROS);
            (
                uuid::Uuid::now_v7().to_string(),
                if rng.random_range(0..10) < 3 {
                    "open"
                } else {
                    "closed"
                },
                (rng.random_range(0..3) > 0).then(|| pick(&mut rng, &["low", "moderate", "high"])),
                if i % 50 == 0 {
                    staff.advocate.id.to_string()
                } else {
                    staff.supervisor.id.to_string()
                },
                created,
                pick(&mut rng, &["sex", "labor", "both", "unknown"]),
            )
        })
        .collect();
    for chunk in cases.chunks(ROWS_PER_CHUNK) {
        let mut tx = db.writer().begin().await?;
        insert_many(
            &mut tx,
            "INSERT INTO hotline_cases (id, status, trafficking_type, indicator_level, created_by, created_at, updated_at)",
            7,
            chunk,
            |q, c| {
                q.bind(c.0.clone())
                    .bind(c.1)
                    .bind(c.5)
                    .bind(c.2)
                    .bind(c.3.clone())
                    .bind(c.4)
                    .bind(c.4 + DAY_MICROS)
            },
        )
        .await?;
        tx.commit().await?;
    }
    let case_ids: Arc<Vec<String>> = Arc::new(cases.into_iter().map(|c| c.0).collect());
    let took = started.elapsed();
    println!(
        "seed cases: {} in {:.1} s ({:.0} rows/s)",
        options.cases,
        took.as_secs_f64(),
        per_second(options.cases, took)
    );

    Ok(case_ids)
}

/// Contacts: sealed on every core, stored in order by one writer. Returns every tenth
/// contact's id.
async fn seed_contacts(
    ctx: SeedContext<'_>,
    case_ids: &Arc<Vec<String>>,
) -> anyhow::Result<Vec<String>> {
    let SeedContext {
        db,
        crypto,
        staff,
        options,
        now,
        callers,
    } = ctx;
    let started = Instant::now();
    let mut contact_sample = Vec::with_capacity(options.contacts / 10 + 1);
    let head = format!("INSERT INTO hotline_contacts ({CONTACT_COLUMNS})");
    sealed_chunks(
        options.contacts,
        |range: std::ops::Range<usize>| {
            let (crypto, staff, cases) = (crypto.clone(), staff.clone(), Arc::clone(case_ids));
            let seed = options.seed;
            async move {
                let mut rng =
                    ChaCha8Rng::seed_from_u64(seed ^ (range.start as u64).rotate_left(17));
                let mut rows = Vec::with_capacity(range.len());
                for i in range {
                    rows.push(
                        contact_row(&crypto, &staff, &mut rng, i, &cases, callers, now).await?,
                    );
                }
                Ok(rows)
            }
        },
        async |rows: Vec<ContactRow>| {
            contact_sample.extend(rows.iter().step_by(10).map(|r| r.id.clone()));
            let mut tx = db.writer().begin().await?;
            insert_many(
                &mut tx,
                &head,
                25,
                &rows,
                crate::hotline::store::bind_contact,
            )
            .await?;
            tx.commit().await?;
            Ok(())
        },
    )
    .await?;
    let took = started.elapsed();
    println!(
        "seed contacts (sealed as the service seals them, on every core): {} in {:.1} s ({:.0} rows/s)",
        options.contacts,
        took.as_secs_f64(),
        per_second(options.contacts, took)
    );

    Ok(contact_sample)
}

/// A seeded text: id, MessageSid, sealed body, time.
type MessageSeed = (String, String, String, i64);
/// A seeded thread: id, sender's blind index, sealed sender, open, last text, texts.
type ThreadSeed = (String, String, String, bool, i64, Vec<MessageSeed>);

/// Text threads (one per twentieth contact), three texts each, as `sms::receive`
/// stores them: the sender sealed and blind-indexed, each body sealed.
async fn seed_texts(ctx: SeedContext<'_>) -> anyhow::Result<()> {
    let SeedContext {
        db,
        crypto,
        options,
        now,
        callers,
        ..
    } = ctx;
    let started = Instant::now();
    let threads = (options.contacts / 20).max(1);
    sealed_chunks(
        threads,
        |range: std::ops::Range<usize>| {
            let crypto = crypto.clone();
            let seed = options.seed;
            async move {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5e45 ^ range.start as u64);
                let mut out = Vec::with_capacity(range.len());
                for t in range {
                    // Senders are the callers numbered from the top; the measured texts
                    // come from callers numbered from 0, each from a number of its own,
                    // so (while callers outnumber threads and texts) each measured text
                    // opens a thread: the webhook's longer path.
                    let from = phone(callers - 1 - (t % callers));
                    let digits = normalize_phone(&from).unwrap_or_default();
                    let index = crypto.blind_index("phone", &digits).await?;
                    let id = uuid::Uuid::now_v7().to_string();
                    let sender = crypto.seal(Scope::System, "sms_threads", "sender", &id, &from).await?;
                    let last = now - rng.random_range(0..90 * DAY_MICROS);
                    let mut messages = Vec::new();
                    for m in 0..3_i64 {
                        let mid = uuid::Uuid::now_v7().to_string();
                        let body = crypto
                            .seal(Scope::System, "sms_messages", "body", &mid, "I need to talk to someone, is this private?")
                            .await?;
                        messages.push((mid, format!("SMseed{t:010}x{m}"), body, last - (2 - m) * 60_000_000));
                    }
                    let open = rng.random_range(0..5) == 0;
                    out.push((id, index, sender, open, last, messages));
                }
                Ok(out)
            }
        },
        async |chunk: Vec<ThreadSeed>| {
            let mut tx = db.writer().begin().await?;
            insert_many(
                &mut tx,
                "INSERT INTO sms_threads (id, sender_index, sender, opted_out, status, last_message_at, created_at)",
                7,
                &chunk,
                |q, t| {
                    q.bind(t.0.clone())
                        .bind(t.1.clone())
                        .bind(t.2.clone())
                        .bind(0_i64)
                        .bind(if t.3 { "open" } else { "closed" })
                        .bind(t.4)
                        .bind(t.4 - 120_000_000)
                },
            )
            .await?;
            let messages: Vec<(&String, &MessageSeed)> =
                chunk.iter().flat_map(|t| t.5.iter().map(move |m| (&t.0, m))).collect();
            insert_many(
                &mut tx,
                "INSERT INTO sms_messages (id, thread_id, message_sid, direction, body, created_at)",
                6,
                &messages,
                |q, (thread, m)| {
                    q.bind(m.0.clone())
                        .bind((*thread).clone())
                        .bind(m.1.clone())
                        .bind("inbound")
                        .bind(m.2.clone())
                        .bind(m.3)
                },
            )
            .await?;
            tx.commit().await?;
            Ok(())
        },
    )
    .await?;
    let took = started.elapsed();
    println!(
        "seed text threads: {threads} threads, {} texts in {:.1} s",
        threads * 3,
        took.as_secs_f64()
    );

    Ok(())
}

/// Referrals from every tenth contact, most of the past ones followed up.
async fn seed_referrals(ctx: SeedContext<'_>, contact_sample: &[String]) -> anyhow::Result<usize> {
    let SeedContext {
        db,
        crypto,
        staff,
        options,
        now,
        ..
    } = ctx;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x4ef);
    let mut referrals = Vec::with_capacity(contact_sample.len());
    for contact in contact_sample {
        let id = uuid::Uuid::now_v7().to_string();
        let due = today.checked_add(jiff::Span::new().days(rng.random_range(-60..30)))?;
        let outcome = (due < today && rng.random_range(0..100) < 98)
            .then(|| pick(&mut rng, &["reached", "served", "declined", "unreachable"]));
        let notes = crypto
            .seal(
                Scope::System,
                "hotline_referrals",
                "notes",
                &id,
                "Intake asked for the caller's first name only",
            )
            .await?;
        referrals.push((
            id,
            contact.clone(),
            rng.random_range(0..50_000_usize),
            due.to_string(),
            outcome,
            notes,
        ));
    }
    let mut tx = db.writer().begin().await?;
    insert_many(
        &mut tx,
        "INSERT INTO hotline_referrals (id, contact_id, service_id, service_name, urgency, kind, partner_capacity, follow_up_due, outcome, notes, created_by, created_at, updated_at)",
        13,
        &referrals,
        |q, r| {
            q.bind(r.0.clone())
                .bind(r.1.clone())
                .bind(format!("svc-{}", r.2))
                .bind(format!("Service {}", r.2))
                .bind(if r.2 % 4 == 0 { "urgent" } else { "non-urgent" })
                .bind(if r.2 % 3 == 0 { "warm-transfer" } else { "information" })
                .bind(if r.2 % 3 == 0 { Some("accepted") } else { None })
                .bind(r.3.clone())
                .bind(r.4)
                .bind(r.5.clone())
                .bind(staff.advocate.id.to_string())
                .bind(now)
                .bind(now)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(referrals.len())
}

/// Shifts: three eight-hour shifts a day for an advocate and a supervisor, from 90
/// days back to 14 days ahead (the coverage view's fortnight is covered); alerts on
/// every hundredth case, nine in ten acknowledged.
async fn seed_shifts_and_alerts(
    ctx: SeedContext<'_>,
    case_ids: &[String],
) -> anyhow::Result<(usize, usize)> {
    let SeedContext { db, staff, now, .. } = ctx;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let midnight = today
        .to_zoned(jiff::tz::TimeZone::UTC)?
        .timestamp()
        .as_microsecond();
    let mut shifts = Vec::new();
    for day in -90..14_i64 {
        for third in 0..3_i64 {
            let start = midnight + day * DAY_MICROS + third * DAY_MICROS / 3;
            for (who, role) in [
                (&staff.advocate, "advocate"),
                (&staff.supervisor, "supervisor"),
            ] {
                shifts.push((
                    uuid::Uuid::now_v7().to_string(),
                    who.id.to_string(),
                    role,
                    start,
                    start + DAY_MICROS / 3,
                ));
            }
        }
    }
    let mut tx = db.writer().begin().await?;
    insert_many(
        &mut tx,
        "INSERT INTO hotline_shifts (id, user_id, role, starts_at, ends_at, created_by, created_at)",
        7,
        &shifts,
        |q, s| {
            q.bind(s.0.clone())
                .bind(s.1.clone())
                .bind(s.2)
                .bind(s.3)
                .bind(s.4)
                .bind(staff.supervisor.id.to_string())
                .bind(now)
        },
    )
    .await?;
    // Alerts on every hundredth case, nine in ten acknowledged.
    let alerts: Vec<(String, String, &str, bool)> = case_ids
        .iter()
        .step_by(100)
        .enumerate()
        .map(|(n, case)| {
            (
                uuid::Uuid::now_v7().to_string(),
                case.clone(),
                if n % 2 == 0 {
                    "high-indicators"
                } else {
                    "minor-involved"
                },
                n % 10 != 0,
            )
        })
        .collect();
    insert_many(
        &mut tx,
        "INSERT INTO hotline_alerts (id, case_id, kind, raised_at, acknowledged_by, acknowledged_at)",
        6,
        &alerts,
        |q, a| {
            q.bind(a.0.clone())
                .bind(a.1.clone())
                .bind(a.2)
                .bind(now - DAY_MICROS)
                .bind(a.3.then(|| staff.supervisor.id.to_string()))
                .bind(a.3.then_some(now))
        },
    )
    .await?;
    tx.commit().await?;
    Ok((shifts.len(), alerts.len()))
}

/// A signed-in browser session: its cookie and the CSRF token its writes carry.
struct Session {
    cookie: String,
    csrf: String,
}

fn cookie_named(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// Signs in through the sign-in form, as a browser does.
async fn sign_in(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<Session> {
    let form = http.get(format!("{base}/sign-in")).send().await?;
    let signin_cookie = cookie_named(&form, "atip_signin_csrf")
        .ok_or_else(|| anyhow::anyhow!("the sign-in form set no CSRF cookie"))?;
    let csrf = signin_cookie
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    let done = http
        .post(format!("{base}/sign-in"))
        .header("cookie", &signin_cookie)
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("next", "/account"),
        ])
        .send()
        .await?;
    anyhow::ensure!(
        done.status() == StatusCode::SEE_OTHER,
        "sign-in answered {}",
        done.status()
    );
    let cookie = cookie_named(&done, "atip_session")
        .ok_or_else(|| anyhow::anyhow!("sign-in set no session cookie"))?;
    let account = http
        .get(format!("{base}/account"))
        .header("cookie", &cookie)
        .send()
        .await?
        .text()
        .await?;
    let csrf = account
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("the account page carries no CSRF token"))?
        .to_owned();
    Ok(Session { cookie, csrf })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Contact,
    Text,
}

/// What the load clients need to make each request.
struct Load {
    http: reqwest::Client,
    base: String,
    session: Session,
    /// Set apart each run's keys and MessageSids, so its rows can be counted.
    cases: Arc<Vec<String>>,
    callers: usize,
}

impl Load {
    fn contact_key(run: &str, i: usize) -> String {
        format!("hb-{run}-{i:010}")
    }

    fn message_sid(run: &str, i: usize) -> String {
        format!("SMhb{run}x{i:010}")
    }

    async fn send(&self, kind: Kind, run: &str, i: usize) -> Result<StatusCode, reqwest::Error> {
        match kind {
            Kind::Contact => {
                let case = match i % 10 {
                    0 | 1 => serde_json::json!({"new_case": "labor"}),
                    2..=5 if !self.cases.is_empty() => {
                        serde_json::json!({"case_id": self.cases[(i * 7919) % self.cases.len()]})
                    }
                    _ => serde_json::json!({}),
                };
                let mut body = serde_json::json!({
                    "channel": "phone",
                    "direction": "inbound",
                    "started_at": "2026-11-29T03:12:00Z",
                    "ended_at": "2026-11-29T03:40:00Z",
                    "language": "es",
                    "interpreter": false,
                    "caller_type": "potential-victim",
                    "caller_city": "Fresno",
                    "caller_state": "CA",
                    "heard_from": "radio",
                    "reasons": ["crisis", "referral-request"],
                    "narrative": "Works in the fields, papers kept by the crew leader",
                    "caller_phone": phone((i * 31) % self.callers),
                    "safe_to_call": true,
                    "voicemail_ok": false,
                    "code_word": "tortillas",
                    "outcome": "referral-made",
                });
                if let (Some(body), Some(case)) = (body.as_object_mut(), case.as_object()) {
                    body.extend(case.clone());
                }
                let response = self
                    .http
                    .post(format!("{}/api/v1/hotline/contacts", self.base))
                    .header("cookie", &self.session.cookie)
                    .header("x-csrf-token", &self.session.csrf)
                    .header("idempotency-key", Self::contact_key(run, i))
                    .json(&body)
                    .send()
                    .await?;
                let status = response.status();
                let _ = response.bytes().await?;
                Ok(status)
            }
            Kind::Text => {
                let params: Vec<(String, String)> = vec![
                    ("MessageSid".into(), Self::message_sid(run, i)),
                    (
                        "AccountSid".into(),
                        "AC00000000000000000000000000000001".into(),
                    ),
                    ("From".into(), phone(i % self.callers)),
                    ("To".into(), "+1233733".into()),
                    (
                        "Body".into(),
                        "They took my passport. Is it safe to text here?".into(),
                    ),
                ];
                let signature = crate::hotline::twilio::expected_signature(
                    TWILIO_TOKEN,
                    &format!("{PUBLIC_BASE}/webhooks/twilio/sms"),
                    &params,
                );
                let response = self
                    .http
                    .post(format!("{}/webhooks/twilio/sms", self.base))
                    .header(crate::hotline::twilio::SIGNATURE_HEADER, signature)
                    .form(&params)
                    .send()
                    .await?;
                let status = response.status();
                let _ = response.bytes().await?;
                Ok(status)
            }
        }
    }
}

/// What one kind of request did in a run.
#[derive(Default)]
struct Tally {
    times: Vec<Duration>,
    errors: usize,
    retries: usize,
    /// Answers other than the expected 2xx, by status ("io" for no answer).
    other: BTreeMap<String, usize>,
}

/// Sends `total` requests of the kinds `kind_of(i)` gives from `clients` concurrent
/// clients, each taking the next number when its last request was answered. A 429 or
/// 503 (or no answer at all) is sent again with the same key or MessageSid after a
/// short pause, as the console and Twilio do; the time recorded is until the final
/// answer.
async fn drive(
    load: &Arc<Load>,
    run: &'static str,
    clients: usize,
    total: usize,
    kind_of: fn(usize) -> Kind,
) -> (BTreeMap<&'static str, Tally>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (load, next) = (Arc::clone(load), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let kind = kind_of(i);
                let tally = tallies
                    .entry(if kind == Kind::Contact {
                        "contacts"
                    } else {
                        "texts"
                    })
                    .or_default();
                let start = Instant::now();
                let mut attempt = 0_u32;
                loop {
                    attempt += 1;
                    let answer = load.send(kind, run, i).await;
                    let again = match &answer {
                        Ok(s) => {
                            *s == StatusCode::TOO_MANY_REQUESTS
                                || *s == StatusCode::SERVICE_UNAVAILABLE
                        }
                        Err(_) => true,
                    };
                    if again && attempt < 10 {
                        tally.retries += 1;
                        tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                        continue;
                    }
                    tally.times.push(start.elapsed());
                    match answer {
                        Ok(s) if s.is_success() => {}
                        Ok(s) => {
                            tally.errors += 1;
                            *tally.other.entry(s.as_u16().to_string()).or_default() += 1;
                        }
                        Err(_) => {
                            tally.errors += 1;
                            *tally.other.entry("io".to_owned()).or_default() += 1;
                        }
                    }
                    break;
                }
            }
            tallies
        }));
    }
    let mut all: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for task in tasks {
        if let Ok(tallies) = task.await {
            for (name, t) in tallies {
                let into = all.entry(name).or_default();
                into.times.extend(t.times);
                into.errors += t.errors;
                into.retries += t.retries;
                for (k, v) in t.other {
                    *into.other.entry(k).or_default() += v;
                }
            }
        }
    }
    (all, started.elapsed())
}

fn report(
    label: &str,
    clients: usize,
    tallies: &mut BTreeMap<&'static str, Tally>,
    took: Duration,
) {
    for (name, t) in tallies.iter_mut() {
        t.times.sort();
        println!(
            "{label} {name}: {} requests from {clients} clients in {:.1} s, {:.0}/s; p50 {} p90 {} p99 {} max {}; errors {}{}; retried {}",
            t.times.len(),
            took.as_secs_f64(),
            per_second(t.times.len(), took),
            ms(percentile(&t.times, 0.50)),
            ms(percentile(&t.times, 0.90)),
            ms(percentile(&t.times, 0.99)),
            ms(percentile(&t.times, 1.0)),
            t.errors,
            if t.other.is_empty() {
                String::new()
            } else {
                format!(" {:?}", t.other)
            },
            t.retries,
        );
    }
}

async fn count(db: &Db, sql: &str, pattern: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(pattern.to_owned())
        .fetch_one(db.reader())
        .await?)
}

/// Counts the rows a run made, by its keys and MessageSids, and says whether each of
/// the `expected` contacts and texts was stored exactly once.
async fn check_rows(
    db: &Db,
    label: &str,
    (contact_run, contacts): (&str, usize),
    (text_run, texts): (&str, usize),
) -> anyhow::Result<()> {
    let key_pattern = format!("hb-{contact_run}-%");
    let sid_pattern = format!("SMhb{text_run}x%");
    let stored = count(
        db,
        "SELECT COUNT(*) FROM hotline_contacts WHERE idempotency_key LIKE $1",
        &key_pattern,
    )
    .await?;
    let distinct = count(db, "SELECT COUNT(DISTINCT idempotency_key) FROM hotline_contacts WHERE idempotency_key LIKE $1", &key_pattern).await?;
    let messages = count(
        db,
        "SELECT COUNT(*) FROM sms_messages WHERE message_sid LIKE $1",
        &sid_pattern,
    )
    .await?;
    let distinct_messages = count(
        db,
        "SELECT COUNT(DISTINCT message_sid) FROM sms_messages WHERE message_sid LIKE $1",
        &sid_pattern,
    )
    .await?;
    let audited = count(
        db,
        "SELECT COUNT(*) FROM audit_events e JOIN hotline_contacts c ON c.id = e.object_id \
         WHERE e.action = 'hotline.contact.create' AND c.idempotency_key LIKE $1",
        &key_pattern,
    )
    .await?;
    let exact = |n: i64, d: i64, want: usize| i64::try_from(want).is_ok_and(|w| n == w && d == w);
    let verdict = if exact(stored, distinct, contacts)
        && exact(messages, distinct_messages, texts)
        && exact(audited, audited, contacts)
    {
        "all matched"
    } else {
        "MISMATCH"
    };
    println!(
        "{label} rows: contacts {stored} stored ({distinct} distinct keys, {audited} audited) of {contacts} sent; texts {messages} stored ({distinct_messages} distinct MessageSids) of {texts} sent: {verdict}"
    );
    Ok(())
}

/// Times `n` sequential GETs of `path_of(i)` (one client, nothing else running, so the
/// time is the server's plus a loopback round trip); prints p50/p99/max.
async fn time_reads(
    http: &reqwest::Client,
    base: &str,
    session: &Session,
    label: &str,
    n: usize,
    path_of: impl Fn(usize) -> String,
) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(n);
    let mut bytes = 0;
    let mut failed = BTreeMap::<u16, usize>::new();
    // One unmeasured request first: the first reading of a table fills caches.
    let _ = http
        .get(format!("{base}{}", path_of(n)))
        .header("cookie", &session.cookie)
        .send()
        .await?
        .bytes()
        .await?;
    for i in 0..n {
        let start = Instant::now();
        let response = http
            .get(format!("{base}{}", path_of(i)))
            .header("cookie", &session.cookie)
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        times.push(start.elapsed());
        bytes = body.len();
        if !status.is_success() {
            *failed.entry(status.as_u16()).or_default() += 1;
        }
    }
    times.sort();
    println!(
        "read {label}: {n} requests, p50 {} p99 {} max {}; last answer {bytes} bytes{}",
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.99)),
        ms(percentile(&times, 1.0)),
        if failed.is_empty() {
            String::new()
        } else {
            format!("; NOT 2xx: {failed:?}")
        }
    );
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_owned(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// The reads an advocate (and, for the indicators, a supervisor) makes, each `reads`
/// times in a row.
/// The path of a read's i-th request.
type PathOf<'a> = Box<dyn Fn(usize) -> String + 'a>;

async fn advocate_reads(
    load: &Load,
    supervisor_session: &Session,
    (sample, cases): (&[String], &[String]),
    reads: usize,
) -> anyhow::Result<()> {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let month_ago = today.checked_sub(jiff::Span::new().days(30))?;
    let year_ago = today.checked_sub(jiff::Span::new().days(365))?;
    let tomorrow = today.tomorrow()?;
    let nth = |list: &[String], i: usize, step: usize| list[(i * step) % list.len().max(1)].clone();
    let advocate = &load.session;
    // (what, who asks, how many times, the path of the i-th request)
    let plan: Vec<(&str, &Session, usize, PathOf<'_>)> = vec![
        (
            "GET /api/v1/hotline/contacts/{id} (audited)",
            advocate,
            reads,
            Box::new(|i| format!("/api/v1/hotline/contacts/{}", nth(sample, i, 7919))),
        ),
        // A case with its identifiers and timeline (audited), as JSON and as the page.
        (
            "GET /api/v1/hotline/cases/{id} (audited)",
            advocate,
            reads,
            Box::new(|i| format!("/api/v1/hotline/cases/{}", nth(cases, i, 7919))),
        ),
        (
            "GET /hotline/cases/{id} (the case page)",
            advocate,
            reads,
            Box::new(|i| format!("/hotline/cases/{}", nth(cases, i, 104_729))),
        ),
        (
            "GET /api/v1/hotline/follow-ups",
            advocate,
            reads,
            Box::new(|_| "/api/v1/hotline/follow-ups".to_owned()),
        ),
        (
            "GET /api/v1/hotline/coverage",
            advocate,
            reads,
            Box::new(|_| "/api/v1/hotline/coverage".to_owned()),
        ),
        (
            "GET /hotline/console/panels",
            advocate,
            reads,
            Box::new(|_| "/hotline/console/panels".to_owned()),
        ),
        // Advocates may not read the indicators; supervisors may.
        (
            "GET /api/v1/hotline/indicators (30 days, supervisor)",
            supervisor_session,
            reads.min(100),
            Box::new(move |_| format!("/api/v1/hotline/indicators?from={month_ago}&to={tomorrow}")),
        ),
        (
            "GET /api/v1/hotline/indicators (365 days, supervisor)",
            supervisor_session,
            reads.min(50),
            Box::new(move |_| format!("/api/v1/hotline/indicators?from={year_ago}&to={tomorrow}")),
        ),
    ];
    for (label, session, n, path_of) in plan {
        time_reads(&load.http, &load.base, session, label, n, path_of).await?;
    }
    Ok(())
}

/// A fresh database: the SQLite file in `dir` removed, or the PostgreSQL schema dropped
/// and made again (the URL returned points into it).
async fn fresh_database(dir: &Path, postgres_url: Option<&str>) -> anyhow::Result<DatabaseUrl> {
    match postgres_url {
        None => {
            let file = dir.join("atip.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            Ok(DatabaseUrl::sqlite_file(&file))
        }
        Some(base) => {
            let admin = Db::connect(&DatabaseUrl::parse(base)?).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"
            )))
            .execute(admin.writer())
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {PG_SCHEMA}")))
                .execute(admin.writer())
                .await?;
            admin.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            Ok(DatabaseUrl::parse(&format!(
                "{base}{sep}options=-c%20search_path%3D{PG_SCHEMA}"
            ))?)
        }
    }
}

/// A fresh database, migrated and keyed as `atip serve` does it, with two staff
/// accounts, seeded; the configuration that serves it.
async fn prepare(options: &Options, dir: &Path) -> anyhow::Result<(Config, Staff, Seeded)> {
    let url = fresh_database(dir, options.postgres_url.as_deref()).await?;
    let key_file = dir.join("master.key");
    let _ = std::fs::remove_file(&key_file);
    let config = Config {
        database_url: Some(url.clone()),
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.to_path_buf(),
        master_key_file: Some(key_file),
        twilio_auth_token: Some(Secret::new(TWILIO_TOKEN)),
        public_base_url: Some(PUBLIC_BASE.to_owned()),
        secure_cookies: false,
        require_mfa: false,
        ..Config::default()
    };

    // 1. The database, keys and staff as `atip serve` makes them, then the seed.
    let db = crate::app::open_database(&config).await?;
    if db.backend() == Backend::Sqlite {
        // A bigger page cache for the one seeding connection: the random blind-index
        // keys otherwise evict the pages each next batch writes to. The server opens
        // its own connections with the defaults.
        sqlx::query("PRAGMA cache_size = -262144")
            .execute(db.writer())
            .await?;
    }
    let crypto = crate::app::open_keys(&config, db.clone())?;
    let (advocate, advocate_email) = staff_member(&db, &crypto, Role::HotlineAdvocate).await?;
    let (supervisor, supervisor_email) =
        staff_member(&db, &crypto, Role::HotlineSupervisor).await?;
    let staff = Staff {
        advocate,
        advocate_email,
        supervisor,
        supervisor_email,
    };
    let started = Instant::now();
    let seeded = seed(&db, &crypto, &staff, options).await?;
    println!("seed total: {:.1} s", started.elapsed().as_secs_f64());
    if db.backend() == Backend::Postgres {
        // A database that has held this much for a while has statistics (autovacuum
        // gathers them within minutes of a bulk load). Without them PostgreSQL takes
        // the just-filled tables for empty and scans them: contact saves measured
        // 1,123/s on the 200,000-contact seed against 4,822/s on a tenth of it.
        let started = Instant::now();
        sqlx::query("ANALYZE").execute(db.writer()).await?;
        println!(
            "statistics (ANALYZE): {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    db.close().await;
    Ok((config, staff, seeded))
}

/// Runs the benchmark and prints its figures.
pub async fn hotline(options: Options) -> anyhow::Result<()> {
    let dir = match &options.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => tempfile_dir()?,
    };
    let backend = if options.postgres_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "# atip bench hotline: {} contacts, {} cases, {} clients, {} requests of each kind, seed {}, {backend}",
        options.contacts, options.cases, options.clients, options.requests, options.seed
    );
    println!("load average before: {}", load_average());
    let (config, staff, seeded) = prepare(&options, &dir).await?;

    // 2. The real server over that database.
    let app = Application::build(&config).await?;
    let base = format!("http://{}", app.local_addr());
    let server_db = app.db().clone();
    let stop = CancellationToken::new();
    let server = tokio::spawn(app.run(stop.clone()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_mins(2))
        .build()?;
    let session = sign_in(&http, &base, &staff.advocate_email).await?;
    let supervisor_session = sign_in(&http, &base, &staff.supervisor_email).await?;
    let load = Arc::new(Load {
        http: http.clone(),
        base: base.clone(),
        session,
        cases: Arc::clone(&seeded.case_ids),
        callers: seeded.callers,
    });

    // 3. Steady load: contacts, then texts, each from `clients` clients.
    let (mut tallies, took) = drive(&load, "c", options.clients, options.requests, |_| {
        Kind::Contact
    })
    .await;
    report("steady", options.clients, &mut tallies, took);
    let (mut tallies, took) = drive(&load, "t", options.clients, options.requests, |_| {
        Kind::Text
    })
    .await;
    report("steady", options.clients, &mut tallies, took);
    check_rows(
        &server_db,
        "steady",
        ("c", options.requests),
        ("t", options.requests),
    )
    .await?;

    // 4. An advocate's reads, one at a time.
    let reads = (options.requests / 10).clamp(20, 500);
    advocate_reads(
        &load,
        &supervisor_session,
        (&seeded.contact_sample, &seeded.case_ids),
        reads,
    )
    .await?;

    // 5. The surge after a broadcast: ten times the clients, contacts and texts at once.
    let surge_clients = options.clients * 10;
    let (mut tallies, took) = drive(&load, "s", surge_clients, options.requests * 2, |i| {
        if i % 2 == 0 {
            Kind::Contact
        } else {
            Kind::Text
        }
    })
    .await;
    report("surge", surge_clients, &mut tallies, took);
    // Even numbers are contacts, odd ones texts: `requests` of each.
    check_rows(
        &server_db,
        "surge",
        ("s", options.requests),
        ("s", options.requests),
    )
    .await?;

    println!("load average after: {}", load_average());
    stop.cancel();
    let _ = server.await;
    if let Some(base) = &options.postgres_url {
        let admin = Db::connect(&DatabaseUrl::parse(base)?).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"
        )))
        .execute(admin.writer())
        .await?;
        admin.close().await;
    }
    if options.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
