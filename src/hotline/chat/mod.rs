//! Web chat use cases: a visitor starts a chat and waits, an on-duty advocate accepts
//! it, messages are kept sealed and numbered, and the advocate saves the chat as a
//! contact whose narrative is the transcript.

pub mod pages;
pub mod socket;
mod store;

use scoped_futures::ScopedFutureExt as _;
use sha2::{Digest as _, Sha256};

pub use store::ChatRow;

use super::intake::Intake;
use super::model::chat::{self, ChatStatus, Line, Refusal, Sender};
use super::model::contact::{
    CallerType, Channel, ContactForm, Direction, Outcome, Reason, Refusals, TEXT_MAX,
    TraffickingType,
};
use super::service::{self, HotlineError};
use crate::kernel::audit::{self, Event, Outcome as AuditOutcome};
use crate::kernel::auth::Principal;
use crate::kernel::auth::token::{random_token, stored_form};
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::Db;
use crate::kernel::time::{now_micros, rfc3339};

const TABLE: &str = "hotline_chat_messages";

impl ChatRow {
    pub fn status(&self) -> ChatStatus {
        ChatStatus::parse(&self.status).unwrap_or(ChatStatus::Closed)
    }

    pub fn started(&self) -> String {
        rfc3339(self.created_at)
    }
}

pub struct Started {
    pub id: String,
    /// Goes to the visitor's page and nowhere else; only its hash is kept.
    pub token: String,
    /// Shown to the visitor to give in a later chat; only its blind index is kept.
    pub return_code: String,
}

/// Opens a chat in the queue. A return code from an earlier chat links the two, so the
/// advocate sees the earlier conversation; a code that matches nothing is ignored
/// without saying so (it must not tell anyone which codes exist).
pub async fn start(
    db: &Db,
    crypto: &Crypto,
    language: &str,
    given_code: Option<&str>,
) -> Result<Started, HotlineError> {
    let id = uuid::Uuid::now_v7().to_string();
    let token = random_token().map_err(|e| HotlineError::Other(e.to_string()))?;
    let mut random = [0_u8; 8];
    getrandom::fill(&mut random).map_err(|e| HotlineError::Other(e.to_string()))?;
    let return_code = chat::return_code(random);
    let normalized = chat::normalize_return_code(&return_code).unwrap_or_default();
    let return_index = crypto.blind_index("chat-return", &normalized).await?;
    let returning_from = match given_code.and_then(chat::normalize_return_code) {
        Some(code) => {
            let index = crypto.blind_index("chat-return", &code).await?;
            store::chat_by_return_index(db.writer(), &index).await?
        }
        None => None,
    };
    let row = store::NewChat {
        id: &id,
        token_hash: &stored_form(&token),
        language,
        return_index: &return_index,
        returning_from: returning_from.as_deref(),
        now: now_micros(),
    };
    store::insert_chat(db.writer(), &row).await?;
    Ok(Started {
        id,
        token,
        return_code,
    })
}

/// The chat a visitor's token opens.
pub async fn resume(db: &Db, token: &str) -> Result<Option<ChatRow>, HotlineError> {
    Ok(store::chat_by_token(db.writer(), &stored_form(token)).await?)
}

/// Where an earlier chat the visitor came back from ended up: its contact, and that
/// contact's case.
pub struct Earlier {
    pub contact_id: Option<String>,
    pub case_id: Option<String>,
}

pub async fn earlier(db: &Db, chat: &ChatRow) -> Result<Option<Earlier>, HotlineError> {
    let Some(previous) = &chat.returning_from else {
        return Ok(None);
    };
    let Some(previous) = store::chat(db.reader(), previous).await? else {
        return Ok(None);
    };
    let case_id = match &previous.contact_id {
        Some(contact) => super::store::contact(db.reader(), contact)
            .await?
            .and_then(|c| c.case_id),
        None => None,
    };
    Ok(Some(Earlier {
        contact_id: previous.contact_id,
        case_id,
    }))
}

pub async fn find(db: &Db, id: &str) -> Result<Option<ChatRow>, HotlineError> {
    Ok(store::chat(db.writer(), id).await?)
}

/// The queue, and the advocate's own chats not yet saved.
pub async fn waiting(db: &Db) -> Result<Vec<ChatRow>, HotlineError> {
    Ok(store::chats_in(db.reader(), ChatStatus::Waiting.code(), 100).await?)
}

pub async fn open_chats_of(db: &Db, advocate: &Principal) -> Result<Vec<ChatRow>, HotlineError> {
    Ok(store::open_chats_of(db.reader(), &advocate.id.to_string()).await?)
}

/// When the advocate's shift ends, if they are on one now.
pub async fn on_duty_until(
    db: &Db,
    advocate: &Principal,
) -> Result<Option<jiff::Timestamp>, HotlineError> {
    let until = store::on_duty_until(db.reader(), &advocate.id.to_string(), now_micros()).await?;
    Ok(until.and_then(|u| jiff::Timestamp::from_microsecond(u).ok()))
}

/// What binds a sealed message to its place: moving it to another chat or sender
/// makes it unreadable.
fn aad_id(chat_id: &str, sender: Sender, client_id: &str) -> String {
    format!("{chat_id}/{}/{client_id}", sender.code())
}

/// Keeps a message, once: the same sender's id again answers with the number it got
/// the first time. A chat that is over takes nothing.
pub async fn post(
    db: &Db,
    crypto: &Crypto,
    chat_id: &str,
    (sender, client_id): (Sender, &str),
    text: &str,
) -> Result<Result<i64, Refusal>, HotlineError> {
    let text = match chat::message_text(text) {
        Ok(text) => text,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let sealed = crypto
        .seal(
            Scope::System,
            TABLE,
            "body",
            &aad_id(chat_id, sender, client_id),
            &text,
        )
        .await?;
    let saved = db
        .transaction(|tx| {
            let sealed = &sealed;
            async move {
                if let Some(seq) = store::seq_of(tx, chat_id, sender.code(), client_id).await? {
                    return Ok(Ok(seq));
                }
                let open = store::status(tx, chat_id)
                    .await?
                    .and_then(|s| ChatStatus::parse(&s))
                    .is_some_and(ChatStatus::takes_messages);
                if !open {
                    return Ok(Err(Refusal::Ended));
                }
                let seq = store::next_seq(tx, chat_id).await?;
                store::insert_message(
                    tx,
                    chat_id,
                    seq,
                    (sender.code(), client_id),
                    sealed,
                    now_micros(),
                )
                .await?;
                Ok::<_, HotlineError>(Ok(seq))
            }
            .scope_boxed()
        })
        .await;
    match saved {
        // The same message on two connections at once: the other one kept it.
        Err(HotlineError::Db(e)) if service::is_unique_violation(&e) => {
            let mut conn = db.writer().acquire().await?;
            let seq = store::seq_of(&mut conn, chat_id, sender.code(), client_id)
                .await?
                .ok_or(HotlineError::Db(e))?;
            Ok(Ok(seq))
        }
        other => other,
    }
}

/// A message as both pages show it.
#[derive(Clone, Debug)]
pub struct MessageView {
    pub seq: i64,
    pub from: Sender,
    pub id: String,
    pub text: String,
    pub at: String,
}

/// The messages after number `after`, opened.
pub async fn messages_after(
    db: &Db,
    crypto: &Crypto,
    chat_id: &str,
    after: i64,
) -> Result<Vec<MessageView>, HotlineError> {
    let rows = store::messages_after(db.writer(), chat_id, after).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let from = Sender::parse(&row.sender).unwrap_or(Sender::Visitor);
        let text = crypto
            .open_field(
                TABLE,
                "body",
                &aad_id(chat_id, from, &row.client_id),
                &row.body,
            )
            .await?;
        out.push(MessageView {
            seq: row.seq,
            from,
            id: row.client_id,
            text,
            at: rfc3339(row.created_at),
        });
    }
    Ok(out)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptRefusal {
    /// Chats go to the advocates on the schedule, who are the ones watching the queue.
    NotOnDuty,
    /// Another advocate accepted it first, or the visitor left.
    Gone,
}

/// Gives a waiting chat to an on-duty advocate.
pub async fn accept(
    db: &Db,
    advocate: &Principal,
    chat_id: &str,
) -> Result<Result<(), AcceptRefusal>, HotlineError> {
    let now = now_micros();
    let advocate_id = advocate.id.to_string();
    if on_duty_until(db, advocate).await?.is_none() {
        return Ok(Err(AcceptRefusal::NotOnDuty));
    }
    db.transaction(|tx| {
        let advocate_id = &advocate_id;
        async move {
            if !store::accept(tx, chat_id, advocate_id, now).await? {
                return Ok(Err(AcceptRefusal::Gone));
            }
            let event = Event {
                object_type: Some("hotline_chat"),
                object_id: Some(chat_id.to_owned()),
                ..Event::by(advocate, "hotline.chat.accept")
            };
            audit::append(tx, &event, AuditOutcome::Success).await?;
            Ok::<_, HotlineError>(Ok(()))
        }
        .scope_boxed()
    })
    .await
}

/// The visitor went (ended the chat, quick exit, closed the page).
pub async fn leave(db: &Db, chat_id: &str) -> Result<(), HotlineError> {
    Ok(store::visitor_left(db.writer(), chat_id, now_micros()).await?)
}

/// What the advocate adds when saving a chat as a contact.
#[derive(Clone, Debug, Default)]
pub struct WrapUp {
    pub caller_type: Option<CallerType>,
    pub reasons: Vec<Reason>,
    pub outcome: Option<Outcome>,
    pub caller_city: Option<String>,
    pub caller_state: Option<String>,
    pub notes: Option<String>,
    pub new_case: Option<TraffickingType>,
}

pub enum Closed {
    Saved {
        contact_id: String,
    },
    Refused(Refusals),
    /// Still waiting, or no such chat.
    NotOpen,
}

/// Saves the chat as a web-chat contact (its transcript sealed as the narrative) and
/// closes it. Saving twice gives the first contact: the chat is the contact's key.
pub async fn close(
    intake: &Intake,
    crypto: &Crypto,
    advocate: &Principal,
    chat_id: &str,
    wrap: WrapUp,
) -> Result<Closed, HotlineError> {
    let db = intake.db();
    let Some(chat) = find(db, chat_id).await? else {
        return Ok(Closed::NotOpen);
    };
    if let Some(contact_id) = chat.contact_id.clone() {
        return Ok(Closed::Saved { contact_id });
    }
    if !matches!(chat.status(), ChatStatus::Active | ChatStatus::Left) {
        return Ok(Closed::NotOpen);
    }
    let messages = messages_after(db, crypto, chat_id, 0).await?;
    let lines: Vec<Line<'_>> = messages
        .iter()
        .map(|m| Line {
            from: m.from,
            at: &m.at,
            text: &m.text,
        })
        .collect();
    let Some(caller_type) = wrap.caller_type else {
        return Ok(Closed::Refused(Refusals::from([(
            "caller_type",
            "choose who contacted the hotline",
        )])));
    };
    let form = ContactForm {
        channel: Channel::WebChat,
        direction: Direction::Inbound,
        started_at: chat.started(),
        ended_at: Some(jiff::Timestamp::now().to_string()),
        language: chat.language.clone(),
        interpreter: false,
        caller_type,
        caller_city: wrap.caller_city,
        caller_state: wrap.caller_state,
        heard_from: None,
        reasons: wrap.reasons,
        narrative: Some(chat::transcript(&lines, TEXT_MAX)).filter(|t| !t.is_empty()),
        notes: wrap.notes,
        caller_phone: None,
        safe_to_call: None,
        voicemail_ok: None,
        code_word: None,
        outcome: wrap.outcome,
        case_id: None,
        new_case: wrap.new_case,
    };
    let new = match form.parse() {
        Ok(new) => new,
        Err(refused) => return Ok(Closed::Refused(refused)),
    };
    // The key and hash name the chat, not the form: a second save, whatever it says,
    // is the first one again.
    let key = format!("chat-{chat_id}");
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    let recorded = service::record(intake, crypto, advocate, &key, &hash, new).await?;
    db.transaction(|tx| {
        let contact_id = &recorded.id;
        async move {
            store::close(tx, chat_id, contact_id, now_micros()).await?;
            let event = Event {
                object_type: Some("hotline_chat"),
                object_id: Some(chat_id.to_owned()),
                detail: Some(format!("contact={contact_id}")),
                ..Event::by(advocate, "hotline.chat.close")
            };
            audit::append(tx, &event, AuditOutcome::Success).await?;
            Ok::<_, HotlineError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(Closed::Saved {
        contact_id: recorded.id,
    })
}
