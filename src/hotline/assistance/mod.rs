//! Technical assistance: a professional's question, taken on a contact and tracked in
//! every console until someone answers it.

pub mod routes;
mod store;

use scoped_futures::ScopedFutureExt as _;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::assistance::Request;
use super::model::contact::code;
use super::service::HotlineError;
use super::store as hotline_store;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::Db;
use crate::kernel::time::{now_micros, rfc3339};

const TABLE: &str = "hotline_ta_requests";

/// Records a request on a contact. `None`: no such contact.
pub async fn ask(
    db: &Db,
    crypto: &Crypto,
    advocate: &Principal,
    contact_id: &str,
    request: &Request,
) -> Result<Option<String>, HotlineError> {
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = crypto
        .seal(Scope::System, TABLE, "question", &id, &request.question)
        .await?;
    let topic = code(&request.topic);
    let due_on = request.due_on.map(|d| d.to_string());
    db.transaction(|tx| {
        let (id, sealed, topic, due_on) = (&id, &sealed, &topic, &due_on);
        async move {
            if !hotline_store::contact_exists(tx, contact_id).await? {
                return Ok(None);
            }
            let created_by = advocate.id.to_string();
            let row = store::NewRequest {
                id,
                contact_id,
                topic,
                question_sealed: sealed,
                due_on: due_on.as_deref(),
                created_by: &created_by,
                now: now_micros(),
            };
            store::insert(tx, &row).await?;
            let event = Event {
                object_type: Some("hotline_ta_request"),
                object_id: Some(id.clone()),
                detail: Some(format!("topic={topic}")),
                ..Event::by(advocate, "hotline.assistance.ask")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, HotlineError>(Some(id.clone()))
        }
        .scope_boxed()
    })
    .await
}

#[derive(Debug, PartialEq, Eq)]
pub enum AnswerRefusal {
    NoSuchRequest,
    AlreadyAnswered,
}

/// Answers a request, once.
pub async fn answer(
    db: &Db,
    crypto: &Crypto,
    who: &Principal,
    id: &str,
    answer: &str,
) -> Result<Result<(), AnswerRefusal>, HotlineError> {
    let Some(existing) = store::request(db.writer(), id).await? else {
        return Ok(Err(AnswerRefusal::NoSuchRequest));
    };
    if existing.answered_at.is_some() {
        return Ok(Err(AnswerRefusal::AlreadyAnswered));
    }
    let sealed = crypto
        .seal(Scope::System, TABLE, "answer", id, answer)
        .await?;
    db.transaction(|tx| {
        let sealed = &sealed;
        async move {
            if !store::answer(tx, id, sealed, &who.id.to_string(), now_micros()).await? {
                return Ok(Err(AnswerRefusal::AlreadyAnswered));
            }
            let event = Event {
                object_type: Some("hotline_ta_request"),
                object_id: Some(id.to_owned()),
                ..Event::by(who, "hotline.assistance.answer")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, HotlineError>(Ok(()))
        }
        .scope_boxed()
    })
    .await
}

/// A request as hotline staff read it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub contact_id: String,
    pub topic: String,
    pub question: String,
    pub due_on: Option<String>,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub asked_at: String,
}

async fn opened(crypto: &Crypto, row: store::RequestRow) -> Result<RequestView, HotlineError> {
    let question = crypto
        .open_field(TABLE, "question", &row.id, &row.question)
        .await?;
    let answer = match &row.answer {
        Some(sealed) => Some(crypto.open_field(TABLE, "answer", &row.id, sealed).await?),
        None => None,
    };
    Ok(RequestView {
        id: row.id,
        contact_id: row.contact_id,
        topic: row.topic,
        question,
        due_on: row.due_on,
        answer,
        answered_at: row.answered_at.map(rfc3339),
        asked_at: rfc3339(row.created_at),
    })
}

/// The requests waiting for an answer, soonest due first, opened for `reader` (the
/// reading is audited).
pub async fn waiting(
    db: &Db,
    crypto: &Crypto,
    reader: &Principal,
) -> Result<Vec<RequestView>, HotlineError> {
    let rows = store::open(db.reader(), 200).await?;
    let event = Event {
        object_type: Some("hotline_ta_request"),
        detail: Some(format!("listed={}", rows.len())),
        ..Event::by(reader, "hotline.assistance.list")
    };
    let mut conn = db.writer().acquire().await?;
    audit::append(&mut conn, &event, Outcome::Success).await?;
    drop(conn);
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(opened(crypto, row).await?);
    }
    Ok(out)
}

/// How many wait, and the soonest due date among them (for the console, which shows no
/// question text).
pub async fn waiting_count(db: &Db) -> Result<Vec<(String, Option<String>)>, HotlineError> {
    Ok(store::open(db.reader(), 50)
        .await?
        .into_iter()
        .map(|r| (r.topic, r.due_on))
        .collect())
}
