//! Sending a library document to a caller who agreed to it: the title and the public
//! link, by text from the text line to the number of the contact, or by email to an
//! address the caller gave for it (sealed, like the queued message itself).

use scoped_futures::ScopedFutureExt as _;

use super::service::HotlineError;
use super::sms::{ReplyRefusal, TextLine, send_text};
use super::store;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::crypto::Crypto;
use crate::kernel::db::Db;
use crate::kernel::i18n::{self, Lang};
use crate::kernel::mail::{self, Letter};
use crate::kernel::time::now_micros;
use crate::library::store::DocumentRow as Document;

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
    let (contact, document) = match contact_and_document(db, contact_id, document_id).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
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
            let sent = store::ResourceSent {
                id,
                contact_id,
                document_id,
                channel: "sms",
                reference: message_sid,
                recipient: None,
                sent_by: &advocate.id.to_string(),
                sent_at: now_micros(),
            };
            record(tx, advocate, &sent).await?;
            Ok::<_, HotlineError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(Ok(message_sid))
}

/// Emails a public library document to an address the caller gave for it, in the
/// contact's language; the queued message's id. The subject names no program: the
/// inbox may be read by someone else.
pub async fn email(
    db: &Db,
    crypto: &Crypto,
    public_base_url: &str,
    advocate: &Principal,
    (contact_id, document_id): (&str, &str),
    to: &crate::accounts::model::Email,
) -> Result<Result<String, SendRefusal>, HotlineError> {
    let (contact, document) = match contact_and_document(db, contact_id, document_id).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let lang = Lang::parse(&contact.language).unwrap_or(Lang::En);
    let link = format!("{public_base_url}/library/documents/{}", document.id);
    let letter = Letter {
        to: to.as_str().to_owned(),
        subject: i18n::text(lang, "hotline-resource-mail-subject", &[]),
        body: format!(
            "{}\n\n{}\n{link}\n\n{}\n",
            i18n::text(lang, "hotline-resource-mail-intro", &[]),
            document.title,
            i18n::text(lang, "hotline-resource-mail-closing", &[]),
        ),
    };
    let queued = letter
        .seal(crypto)
        .await
        .map_err(|e| HotlineError::Other(e.to_string()))?;
    let id = uuid::Uuid::now_v7().to_string();
    let recipient = crypto
        .seal(
            crate::kernel::crypto::Scope::System,
            "hotline_resources_sent",
            "recipient",
            &id,
            to.as_str(),
        )
        .await?;
    let job = db
        .transaction(|tx| {
            let (id, queued, recipient) = (&id, &queued, &recipient);
            async move {
                let job = mail::enqueue_letter(tx, queued).await?.to_string();
                let sent = store::ResourceSent {
                    id,
                    contact_id,
                    document_id,
                    channel: "email",
                    reference: &job,
                    recipient: Some(recipient),
                    sent_by: &advocate.id.to_string(),
                    sent_at: now_micros(),
                };
                record(tx, advocate, &sent).await?;
                Ok::<_, HotlineError>(job)
            }
            .scope_boxed()
        })
        .await?;
    Ok(Ok(job))
}

async fn contact_and_document(
    db: &Db,
    contact_id: &str,
    document_id: &str,
) -> Result<Result<(store::ContactRow, Document), SendRefusal>, HotlineError> {
    let Some(contact) = store::contact(db.reader(), contact_id).await? else {
        return Ok(Err(SendRefusal::NoSuchContact));
    };
    let document = crate::library::service::document(db, None, document_id)
        .await
        .map_err(|e| HotlineError::Other(e.to_string()))?;
    Ok(match document {
        Some((document, _)) => Ok((contact, document)),
        None => Err(SendRefusal::NoSuchDocument),
    })
}

/// Stores the sending and audits it, in the caller's transaction.
async fn record(
    tx: &mut sqlx::AnyConnection,
    advocate: &Principal,
    sent: &store::ResourceSent<'_>,
) -> Result<(), sqlx::Error> {
    store::insert_resource_sent(tx, sent).await?;
    let event = Event {
        object_type: Some("hotline_contact"),
        object_id: Some(sent.contact_id.to_owned()),
        detail: Some(format!(
            "document={} channel={}",
            sent.document_id, sent.channel
        )),
        ..Event::by(advocate, "hotline.resource.send")
    };
    audit::append(tx, &event, Outcome::Success).await?;
    Ok(())
}
