//! The text line: each text Twilio (or a compatible service) posts to the webhook is
//! stored once in the sender's thread, sealed, and answered with TwiML.

use scoped_futures::ScopedFutureExt as _;

use super::intake::{Intake, Stored, TextSave};
use super::model::contact::normalize_phone;
use super::service::HotlineError;
use super::store;
use super::twilio::{Keyword, escape_xml};
use crate::kernel::config::Secret;
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::Db;
use crate::kernel::time::now_micros;

/// The text line's settings.
#[derive(Clone, Debug)]
pub struct TextLine {
    /// Twilio's auth token; without it every webhook is refused.
    pub auth_token: Option<Secret>,
    /// This server's address as Twilio calls it. Signatures are checked against it,
    /// never against the request's Host header, which whoever sends the request picks.
    pub public_base_url: String,
    /// Given in the HELP answer.
    pub hotline_number: String,
    /// The text line's own number (short code), which advocates' replies come from.
    pub text_line: String,
    pub account_sid: Option<String>,
    /// Twilio's REST API (a local recorder in tests).
    pub api_base: String,
}

impl TextLine {
    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/twilio/sms", self.public_base_url)
    }
}

/// A text as Twilio posts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    pub message_sid: String,
    pub from: String,
    pub body: String,
}

/// Longer than any text a carrier delivers (Twilio joins at most 1,600 characters).
const BODY_MAX: usize = 10_000;

impl Inbound {
    /// The text, or the parameter that is missing or wrong.
    pub fn parse(params: &[(String, String)]) -> Result<Self, (&'static str, &'static str)> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let message_sid = get("MessageSid")
            .filter(|s| (2..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()))
            .ok_or(("MessageSid", "is missing or not a message id"))?;
        let from = get("From")
            .filter(|f| normalize_phone(f).is_some())
            .ok_or(("From", "is missing or not a phone number"))?;
        let body = get("Body").unwrap_or_default();
        if body.chars().count() > BODY_MAX {
            return Err(("Body", "is longer than any text message"));
        }
        Ok(Self {
            message_sid: message_sid.to_owned(),
            from: from.to_owned(),
            body: body.to_owned(),
        })
    }
}

/// What to text back, if anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Nothing,
    Text(String),
}

/// Stores a text in its sender's thread (opening one for a new sender) unless its
/// MessageSid is known already: Twilio retries a webhook whose answer it missed, and
/// the retry must not make a second message or a second answer.
pub async fn receive(
    intake: &Intake,
    crypto: &Crypto,
    line: &TextLine,
    text: &Inbound,
) -> Result<Reply, HotlineError> {
    let digits = normalize_phone(&text.from).unwrap_or_default();
    let sender_index = crypto.blind_index("phone", &digits).await?;
    let message_id = uuid::Uuid::now_v7().to_string();
    let body_sealed = crypto
        .seal(
            Scope::System,
            "sms_messages",
            "body",
            &message_id,
            &text.body,
        )
        .await?;
    let new_thread_id = uuid::Uuid::now_v7().to_string();
    let sender_sealed = crypto
        .seal(
            Scope::System,
            "sms_threads",
            "sender",
            &new_thread_id,
            &text.from,
        )
        .await?;
    let keyword = Keyword::of(&text.body);
    let stored = intake
        .text(TextSave {
            message_sid: text.message_sid.clone(),
            sender_index,
            new_thread_id,
            sender_sealed,
            message_id,
            body_sealed,
            opts_out: match keyword {
                Some(Keyword::Stop) => Some(true),
                Some(Keyword::Start) => Some(false),
                _ => None,
            },
            at: now_micros(),
        })
        .await?;
    let Stored::New { first } = stored else {
        return Ok(Reply::Nothing);
    };
    Ok(match keyword {
        Some(Keyword::Help) => Reply::Text(format!(
            "National Human Trafficking Hotline: text here any time, or call {}. An advocate will answer. In immediate danger, call 911. Text STOP to stop messages. / Línea Nacional contra la Trata: escriba aquí o llame al {}. En peligro inmediato, llame al 911.",
            line.hotline_number, line.hotline_number
        )),
        None if first => Reply::Text(
            "Thank you for reaching out. An advocate will reply here soon. In immediate danger, call 911. / Gracias por escribir. Un/a consejero/a le responderá pronto. En peligro inmediato, llame al 911.".to_owned(),
        ),
        // Twilio confirms STOP and START itself; later texts wait for an advocate.
        Some(Keyword::Stop | Keyword::Start) | None => Reply::Nothing,
    })
}

/// The TwiML answer to a webhook.
pub fn twiml(reply: &Reply) -> String {
    match reply {
        Reply::Nothing => {
            r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#.to_owned()
        }
        Reply::Text(text) => format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>{}</Message></Response>"#,
            escape_xml(text)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_text_needs_a_message_id_and_a_sender() {
        let good = params(&[
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("From", "+14155550100"),
            ("Body", "help me"),
        ]);
        assert_eq!(Inbound::parse(&good).unwrap().body, "help me");
        let no_sid = params(&[("From", "+14155550100"), ("Body", "x")]);
        assert_eq!(Inbound::parse(&no_sid).unwrap_err().0, "MessageSid");
        let bad_from = params(&[("MessageSid", "SM1"), ("From", "me"), ("Body", "x")]);
        assert_eq!(Inbound::parse(&bad_from).unwrap_err().0, "From");
        let long = "x".repeat(BODY_MAX + 1);
        let too_long = params(&[
            ("MessageSid", "SM1"),
            ("From", "+14155550100"),
            ("Body", &long),
        ]);
        assert_eq!(Inbound::parse(&too_long).unwrap_err().0, "Body");
    }

    #[test]
    fn answers_are_escaped_twiml() {
        assert_eq!(
            twiml(&Reply::Text("a < b & c".into())),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>a &lt; b &amp; c</Message></Response>"#
        );
        assert!(twiml(&Reply::Nothing).ends_with("<Response></Response>"));
    }
}

/// Why a reply was not sent.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplyRefusal {
    NoSuchThread,
    /// The person texted STOP: nothing goes to them until they text START.
    OptedOut,
    /// No Twilio account is configured.
    NotConfigured,
    /// Twilio refused or could not be reached; nothing was stored.
    Provider(String),
}

/// Sends an advocate's reply in a thread through Twilio's REST API and stores it.
pub async fn reply(
    db: &Db,
    crypto: &Crypto,
    line: &TextLine,
    advocate: &crate::kernel::auth::Principal,
    thread_id: &str,
    body: &str,
) -> Result<Result<String, ReplyRefusal>, HotlineError> {
    let Some((sender_sealed, opted_out)) = store::thread(db.reader(), thread_id).await? else {
        return Ok(Err(ReplyRefusal::NoSuchThread));
    };
    let (Some(sid), Some(token)) = (&line.account_sid, &line.auth_token) else {
        return Ok(Err(ReplyRefusal::NotConfigured));
    };
    if opted_out {
        return Ok(Err(ReplyRefusal::OptedOut));
    }
    let to = crypto
        .open_field("sms_threads", "sender", thread_id, &sender_sealed)
        .await?;
    let message_sid = match send_text(line, (sid, token), &to, body).await {
        Ok(sid) => sid,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = crypto
        .seal(Scope::System, "sms_messages", "body", &id, body)
        .await?;
    db.transaction(|tx| {
        let (id, sealed, message_sid) = (&id, &sealed, &message_sid);
        async move {
            let message = store::MessageRow {
                id,
                thread_id,
                message_sid,
                direction: "outbound",
                body_sealed: sealed,
                at: now_micros(),
            };
            store::insert_messages(tx, &[message]).await?;
            let event = crate::kernel::audit::Event {
                object_type: Some("sms_thread"),
                object_id: Some(thread_id.to_owned()),
                detail: Some(format!("message={id}")),
                ..crate::kernel::audit::Event::by(advocate, "hotline.sms.reply")
            };
            crate::kernel::audit::append(tx, &event, crate::kernel::audit::Outcome::Success)
                .await?;
            Ok::<_, HotlineError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(Ok(id))
}

/// Sends one text from the text line's number through Twilio's REST API; its message id.
pub async fn send_text(
    line: &TextLine,
    (sid, token): (&str, &Secret),
    to: &str,
    body: &str,
) -> Result<String, ReplyRefusal> {
    let url = format!(
        "{}/2010-04-01/Accounts/{sid}/Messages.json",
        line.api_base.trim_end_matches('/')
    );
    let sent = reqwest::Client::new()
        .post(&url)
        .basic_auth(sid, Some(token.expose()))
        .form(&[
            ("To", to),
            ("From", line.text_line.as_str()),
            ("Body", body),
        ])
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await;
    let message_sid = match sent {
        Ok(response) if response.status().is_success() => response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["sid"].as_str().map(str::to_owned)),
        Ok(response) => {
            return Err(ReplyRefusal::Provider(format!(
                "the provider answered {}",
                response.status()
            )));
        }
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "text line: the provider could not be reached");
            return Err(ReplyRefusal::Provider(
                "the provider could not be reached".to_owned(),
            ));
        }
    };
    message_sid.ok_or_else(|| ReplyRefusal::Provider("the provider gave no message id".to_owned()))
}

/// One text as hotline staff read it.
pub struct TextView {
    pub inbound: bool,
    pub at: String,
    pub body: String,
}

/// A thread as hotline staff read it: who texted (opened), whether they opted out, and
/// every text. The reading is audited.
pub struct ThreadView {
    pub sender: String,
    pub opted_out: bool,
    pub texts: Vec<TextView>,
}

pub async fn read_thread(
    db: &Db,
    crypto: &Crypto,
    reader: &crate::kernel::auth::Principal,
    thread_id: &str,
) -> Result<Option<ThreadView>, HotlineError> {
    let Some((sender_sealed, opted_out)) = store::thread(db.reader(), thread_id).await? else {
        return Ok(None);
    };
    let event = crate::kernel::audit::Event {
        object_type: Some("sms_thread"),
        object_id: Some(thread_id.to_owned()),
        ..crate::kernel::audit::Event::by(reader, "hotline.sms.read")
    };
    let mut conn = db.writer().acquire().await?;
    crate::kernel::audit::append(&mut conn, &event, crate::kernel::audit::Outcome::Success).await?;
    drop(conn);
    let sender = crypto
        .open_field("sms_threads", "sender", thread_id, &sender_sealed)
        .await?;
    let mut texts = Vec::new();
    for (id, direction, body, at) in store::thread_messages(db.reader(), thread_id).await? {
        texts.push(TextView {
            inbound: direction == "inbound",
            at: crate::kernel::time::rfc3339(at),
            body: crypto
                .open_field("sms_messages", "body", &id, &body)
                .await?,
        });
    }
    Ok(Some(ThreadView {
        sender,
        opted_out,
        texts,
    }))
}
