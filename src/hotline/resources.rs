//! Sending a library document to a caller by text, when they agreed to it: the title and
//! the public link, from the text line, to the number of the contact.

use scoped_futures::ScopedFutureExt as _;

use super::service::HotlineError;
use super::sms::{ReplyRefusal, TextLine, send_text};
use super::store;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::crypto::Crypto;
use crate::kernel::db::Db;
use crate::kernel::time::now_micros;

#[derive(Debug, PartialEq, Eq)]
pub enum SendRefusal {
    NoSuchContact,
    /// Not in the library, or not public (internal documents never leave).
    NoSuchDocument,
    /// The contact has no number to text.
    NoNumber,
    /// The caller said contacting them is not safe.
    NotSafe,
    /// The number texted STOP.
    OptedOut,
    Provider(ReplyRefusal),
}

/// Texts a public library document to the contact's caller; the message id.
pub async fn send(
    db: &Db,
    crypto: &Crypto,
    line: &TextLine,
    advocate: &Principal,
    (contact_id, document_id): (&str, &str),
) -> Result<Result<String, SendRefusal>, HotlineError> {
    let Some(contact) = store::contact(db.reader(), contact_id).await? else {
        return Ok(Err(SendRefusal::NoSuchContact));
    };
    let document = crate::library::service::document(db, None, document_id)
        .await
        .map_err(|e| HotlineError::Other(e.to_string()))?;
    let Some((document, _)) = document else {
        return Ok(Err(SendRefusal::NoSuchDocument));
    };
    if contact.safe_to_call == Some(0) {
        return Ok(Err(SendRefusal::NotSafe));
    }
    let (Some(sealed), Some(index)) = (&contact.caller_phone, &contact.caller_phone_index) else {
        return Ok(Err(SendRefusal::NoNumber));
    };
    if store::opted_out(db.reader(), index).await? {
        return Ok(Err(SendRefusal::OptedOut));
    }
    let (Some(sid), Some(token)) = (&line.account_sid, &line.auth_token) else {
        return Ok(Err(SendRefusal::Provider(ReplyRefusal::NotConfigured)));
    };
    let given = crypto
        .open_field("hotline_contacts", "caller_phone", contact_id, sealed)
        .await?;
    let Some(to) = super::model::contact::e164(&given) else {
        return Ok(Err(SendRefusal::NoNumber));
    };
    let body = format!(
        "{}: {}/library/documents/{}",
        document.title, line.public_base_url, document.id
    );
    let message_sid = match send_text(line, (sid, token), &to, &body).await {
        Ok(sid) => sid,
        Err(refusal) => return Ok(Err(SendRefusal::Provider(refusal))),
    };
    let id = uuid::Uuid::now_v7().to_string();
    db.transaction(|tx| {
        let (id, message_sid) = (&id, &message_sid);
        async move {
            store::insert_resource_sent(
                tx,
                id,
                (contact_id, document_id),
                message_sid,
                &advocate.id.to_string(),
                now_micros(),
            )
            .await?;
            let event = Event {
                object_type: Some("hotline_contact"),
                object_id: Some(contact_id.to_owned()),
                detail: Some(format!("document={document_id} channel=sms")),
                ..Event::by(advocate, "hotline.resource.send")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, HotlineError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(Ok(message_sid))
}
