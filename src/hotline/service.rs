//! Hotline use cases: recording a contact once however often it is sent, reading it.

use scoped_futures::ScopedFutureExt as _;
use serde::Serialize;
use utoipa::ToSchema;

use super::intake::{ContactSave, Intake, Saved};
use super::model::contact::{CaseLink, NewContact, code, normalize_phone};
use super::store::{self, ContactRow};
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::batch::WriterStopped;
use crate::kernel::crypto::{Crypto, CryptoError, Scope};
use crate::kernel::db::{Db, Retryable};
use crate::kernel::time::{now_micros, rfc3339};

#[derive(Debug, thiserror::Error)]
pub enum HotlineError {
    #[error("no such case")]
    NoSuchCase,
    #[error("this idempotency key was used for a different contact")]
    KeyReused,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Writer(#[from] WriterStopped),
    #[error("{0}")]
    Other(String),
}

impl Retryable for HotlineError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Db(e) if e.is_retryable())
    }
}

/// What saving a contact did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Recorded {
    pub id: String,
    pub case_id: Option<String>,
    /// The contact was saved before with this key: nothing new was stored.
    pub replayed: bool,
    /// Cases of earlier contacts from the same phone number, newest first: the
    /// advocate may be speaking about one of them again.
    pub related_cases: Vec<String>,
}

/// The blind index of a phone number: equal numbers, however written, match.
async fn phone_index(crypto: &Crypto, raw: &str) -> Result<Option<String>, CryptoError> {
    match normalize_phone(raw) {
        Some(digits) => crypto.blind_index("phone", &digits).await.map(Some),
        None => Ok(None),
    }
}

async fn seal(
    crypto: &Crypto,
    column: &str,
    id: &str,
    value: Option<&String>,
) -> Result<Option<String>, CryptoError> {
    match value {
        Some(plain) => crypto
            .seal(Scope::System, "hotline_contacts", column, id, plain)
            .await
            .map(Some),
        None => Ok(None),
    }
}

/// The contact as stored: its sensitive fields sealed, the caller's number indexed.
pub(crate) async fn sealed_row(
    crypto: &Crypto,
    advocate: &Principal,
    key: &str,
    request_hash: &str,
    new: &NewContact,
) -> Result<ContactRow, CryptoError> {
    let id = uuid::Uuid::now_v7().to_string();
    let caller_phone_index = match &new.caller_phone {
        Some(raw) => phone_index(crypto, raw).await?,
        None => None,
    };
    let new_case_id =
        matches!(new.case, CaseLink::New(_)).then(|| uuid::Uuid::now_v7().to_string());
    Ok(ContactRow {
        id: id.clone(),
        advocate_id: advocate.id.to_string(),
        idempotency_key: key.to_owned(),
        request_hash: request_hash.to_owned(),
        case_id: match &new.case {
            CaseLink::Existing(case) => Some(case.clone()),
            CaseLink::New(_) => new_case_id.clone(),
            CaseLink::None => None,
        },
        channel: code(&new.channel),
        direction: code(&new.direction),
        started_at: new.started_at.as_microsecond(),
        ended_at: new.ended_at.map(jiff::Timestamp::as_microsecond),
        language: new.language.clone(),
        interpreter: i64::from(new.interpreter),
        caller_type: code(&new.caller_type),
        caller_city: new.caller_city.clone(),
        caller_state: new.caller_state.clone(),
        heard_from: new.heard_from.clone(),
        reasons: new.reasons.iter().map(code).collect::<Vec<_>>().join(","),
        narrative: seal(crypto, "narrative", &id, new.narrative.as_ref()).await?,
        notes: seal(crypto, "notes", &id, new.notes.as_ref()).await?,
        caller_phone: seal(crypto, "caller_phone", &id, new.caller_phone.as_ref()).await?,
        caller_phone_index,
        safe_to_call: new.safe_to_call.map(i64::from),
        voicemail_ok: new.voicemail_ok.map(i64::from),
        code_word: seal(crypto, "code_word", &id, new.code_word.as_ref()).await?,
        outcome: new.outcome.as_ref().map(code),
        created_at: now_micros(),
    })
}

/// Saves a contact the advocate sent with `key`. The same key again answers with the
/// contact saved the first time (a double click, a retry after a lost answer), and
/// refuses a different contact under it. `request_hash` identifies what was sent.
pub async fn record(
    intake: &Intake,
    crypto: &Crypto,
    advocate: &Principal,
    key: &str,
    request_hash: &str,
    new: NewContact,
) -> Result<Recorded, HotlineError> {
    let row = sealed_row(crypto, advocate, key, request_hash, &new).await?;
    let opens = match (&new.case, &row.case_id) {
        (CaseLink::New(kind), Some(case_id)) => Some((
            code(kind),
            Event {
                object_type: Some("hotline_case"),
                object_id: Some(case_id.clone()),
                ..Event::by(advocate, "hotline.case.open")
            },
        )),
        _ => None,
    };
    let created = Event {
        object_type: Some("hotline_contact"),
        object_id: Some(row.id.clone()),
        detail: Some(format!("channel={}", row.channel)),
        ..Event::by(advocate, "hotline.contact.create")
    };
    let Saved {
        id,
        case_id,
        replayed,
        related_cases,
    } = intake
        .contact(ContactSave {
            row,
            opens,
            created,
        })
        .await?;
    Ok(Recorded {
        id,
        case_id,
        replayed,
        related_cases,
    })
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(sqlx::error::DatabaseError::is_unique_violation)
}

/// A contact as hotline staff read it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    pub case_id: Option<String>,
    pub channel: String,
    pub direction: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub language: String,
    pub interpreter: bool,
    pub caller_type: String,
    pub caller_city: Option<String>,
    pub caller_state: Option<String>,
    pub heard_from: Option<String>,
    pub reasons: Vec<String>,
    pub narrative: Option<String>,
    pub notes: Option<String>,
    pub caller_phone: Option<String>,
    pub safe_to_call: Option<bool>,
    pub voicemail_ok: Option<bool>,
    pub code_word: Option<String>,
    pub outcome: Option<String>,
}

async fn open(
    crypto: &Crypto,
    column: &str,
    id: &str,
    sealed: Option<&String>,
) -> Result<Option<String>, CryptoError> {
    match sealed {
        Some(s) => crypto
            .open_field("hotline_contacts", column, id, s)
            .await
            .map(Some),
        None => Ok(None),
    }
}

/// One contact, opened for `reader`; the reading is audited.
pub async fn read(
    db: &Db,
    crypto: &Crypto,
    reader: &Principal,
    id: &str,
) -> Result<Option<ContactView>, HotlineError> {
    let Some(row) = store::contact(db.reader(), id).await? else {
        return Ok(None);
    };
    let view = ContactView {
        narrative: open(crypto, "narrative", id, row.narrative.as_ref()).await?,
        notes: open(crypto, "notes", id, row.notes.as_ref()).await?,
        caller_phone: open(crypto, "caller_phone", id, row.caller_phone.as_ref()).await?,
        code_word: open(crypto, "code_word", id, row.code_word.as_ref()).await?,
        id: row.id,
        case_id: row.case_id,
        channel: row.channel,
        direction: row.direction,
        started_at: rfc3339(row.started_at),
        ended_at: row.ended_at.map(rfc3339),
        language: row.language,
        interpreter: row.interpreter != 0,
        caller_type: row.caller_type,
        caller_city: row.caller_city,
        caller_state: row.caller_state,
        heard_from: row.heard_from,
        reasons: row
            .reasons
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        safe_to_call: row.safe_to_call.map(|v| v != 0),
        voicemail_ok: row.voicemail_ok.map(|v| v != 0),
        outcome: row.outcome,
    };
    let event = Event {
        object_type: Some("hotline_contact"),
        object_id: Some(view.id.clone()),
        ..Event::by(reader, "hotline.contact.read")
    };
    db.transaction(|tx| audit::append(tx, &event, Outcome::Success).scope_boxed())
        .await?;
    Ok(Some(view))
}
