//! The voice line: each call Twilio (or a compatible service) reports is kept from the
//! first ring to its end, with the language chosen, who answered and how long it
//! lasted. The advocate who answered writes it up as a contact.

pub mod routes;
mod store;

pub use store::CallRow;

use super::model::contact::normalize_phone;
use super::model::voice::{Answer, Language};
use super::service::HotlineError;
use crate::kernel::auth::{Principal, UserId};
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::Db;
use crate::kernel::time::now_micros;

/// What a voice webhook posts, as far as the hotline uses it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallEvent {
    pub call_sid: String,
    pub from: Option<String>,
    pub digits: Option<String>,
    pub dial_call_status: Option<String>,
    pub call_status: Option<String>,
    pub call_duration: Option<String>,
}

impl CallEvent {
    /// The event, or the parameter that is missing or wrong.
    pub fn parse(params: &[(String, String)]) -> Result<Self, (&'static str, &'static str)> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let call_sid = get("CallSid")
            .filter(|s| (2..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()))
            .ok_or(("CallSid", "is missing or not a call id"))?;
        Ok(Self {
            call_sid,
            from: get("From").filter(|f| normalize_phone(f).is_some()),
            digits: get("Digits"),
            dial_call_status: get("DialCallStatus"),
            call_status: get("CallStatus"),
            call_duration: get("CallDuration"),
        })
    }
}

/// A call rings: keep it (once, however often the webhook comes) and offer the menu.
pub async fn incoming(db: &Db, crypto: &Crypto, event: &CallEvent) -> Result<Answer, HotlineError> {
    let id = uuid::Uuid::now_v7().to_string();
    let (caller, index) = match event.from.as_deref() {
        Some(from) => {
            let digits = normalize_phone(from).unwrap_or_default();
            let index = crypto.blind_index("phone", &digits).await?;
            let sealed = crypto
                .seal(Scope::System, "hotline_calls", "caller", &id, from)
                .await?;
            (Some(sealed), Some(index))
        }
        None => (None, None),
    };
    store::insert_call(
        db.writer(),
        &id,
        &event.call_sid,
        (caller.as_deref(), index.as_deref()),
        now_micros(),
    )
    .await?;
    Ok(Answer::Menu)
}

/// The caller chose a language: ring the on-duty advocates who have a phone on file.
pub async fn choose_language(
    db: &Db,
    crypto: &Crypto,
    event: &CallEvent,
) -> Result<Answer, HotlineError> {
    let language = Language::from_digits(event.digits.as_deref());
    let mut advocates = Vec::new();
    for id in store::on_duty_advocates(db.reader(), now_micros()).await? {
        let Ok(user) = id.parse::<UserId>() else {
            continue;
        };
        let phone = crate::accounts::service::contact(db, crypto, user)
            .await
            .map_err(|e| HotlineError::Other(e.to_string()))?
            .and_then(|(_, phone)| phone);
        if let Some(phone) = phone {
            advocates.push((id, phone));
        }
    }
    let status = if advocates.is_empty() {
        "unanswered"
    } else {
        "ringing"
    };
    store::set_language(db.writer(), &event.call_sid, language.code(), status).await?;
    Ok(if advocates.is_empty() {
        Answer::NoOneOnDuty { language }
    } else {
        Answer::Dial {
            language,
            advocates,
        }
    })
}

async fn language_of(db: &Db, call_sid: &str) -> Result<Language, HotlineError> {
    Ok(store::language_of(db.writer(), call_sid)
        .await?
        .and_then(|l| Language::parse(&l))
        .unwrap_or(Language::English))
}

/// An advocate picked up (the id is in the URL of our own signed TwiML).
pub async fn answered(
    db: &Db,
    event: &CallEvent,
    advocate: UserId,
) -> Result<Answer, HotlineError> {
    store::answered(
        db.writer(),
        &event.call_sid,
        &advocate.to_string(),
        now_micros(),
    )
    .await?;
    Ok(Answer::Whisper {
        language: language_of(db, &event.call_sid).await?,
    })
}

/// The ringing ended: connected, or no one answered.
pub async fn dialed(db: &Db, event: &CallEvent) -> Result<Answer, HotlineError> {
    if super::model::voice::answered(event.dial_call_status.as_deref()) {
        return Ok(Answer::Done);
    }
    store::unanswered(db.writer(), &event.call_sid).await?;
    Ok(Answer::NoAnswer {
        language: language_of(db, &event.call_sid).await?,
    })
}

/// A status report: when it says the call is over, its end and length are kept.
pub async fn status(db: &Db, event: &CallEvent) -> Result<(), HotlineError> {
    let over = matches!(
        event.call_status.as_deref(),
        Some("completed" | "busy" | "failed" | "no-answer" | "canceled")
    );
    if !over {
        return Ok(());
    }
    let duration = super::model::voice::duration(event.call_duration.as_deref());
    Ok(store::ended(db.writer(), &event.call_sid, duration, now_micros()).await?)
}

/// The calls `advocate` answered and has not written up yet.
pub async fn to_write_up(db: &Db, advocate: &Principal) -> Result<Vec<CallRow>, HotlineError> {
    Ok(store::to_write_up(db.reader(), &advocate.id.to_string()).await?)
}

/// What a call the advocate answered gives its write-up.
pub struct CallPrefill {
    pub id: String,
    pub started_at: String,
    pub language: String,
    /// The number it came from, opened for the advocate who took it.
    pub caller_phone: Option<String>,
}

/// A call `advocate` answered and has not written up, or `None`.
pub async fn to_write_up_one(
    db: &Db,
    crypto: &Crypto,
    advocate: &Principal,
    id: &str,
) -> Result<Option<CallPrefill>, HotlineError> {
    let Some(row) = store::answered_by(db.reader(), id, &advocate.id.to_string()).await? else {
        return Ok(None);
    };
    let caller_phone = match &row.caller {
        Some(sealed) => Some(
            crypto
                .open_field("hotline_calls", "caller", &row.id, sealed)
                .await?,
        ),
        None => None,
    };
    Ok(Some(CallPrefill {
        started_at: crate::kernel::time::rfc3339(row.started_at),
        language: row.language.unwrap_or_else(|| "en".to_owned()),
        id: row.id,
        caller_phone,
    }))
}

/// Links the call to the contact that writes it up (only the advocate who took it).
pub async fn written_up(
    db: &Db,
    advocate: &Principal,
    call_id: &str,
    contact_id: &str,
) -> Result<(), HotlineError> {
    Ok(store::written_up(db.writer(), call_id, &advocate.id.to_string(), contact_id).await?)
}
