//! Outgoing mail. Over SMTP when `smtp_url` is set; otherwise each message is written
//! as an `.eml` file into `DATA_DIR/outbox` (the demo and tests read them there, and
//! an operator sees at once that mail is not leaving). Messages are sent by a
//! background job, so a slow mail server never holds a request and a failure is
//! retried.
//!
//! Mail about a person (a caller's own address, what they asked for) is a [`Letter`]:
//! its queued payload is sealed, and without SMTP its outbox file is too
//! (`NAME.eml.sealed`, read with `atip mail read`), so nothing about a victim is readable
//! at rest.

use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use super::crypto::{Crypto, CryptoError, Scope};
use super::jobs::{self, JobError, JobHandler};

pub const SEND_JOB: &str = "mail.send";

/// An SMTP URL (`smtps://user:password@host:465`, `smtp://host:587?tls=required`). It
/// may hold a password, so it never prints.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    pub fn new(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpUrl(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the mail sender {0:?} is not an address")]
    From(String),
    #[error("the recipient is not an address")]
    To,
    #[error("smtp_url is not a usable SMTP URL: {0}")]
    Url(String),
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("sending failed: {0}")]
    Send(String),
    #[error("writing to the outbox folder failed: {0}")]
    Folder(#[from] std::io::Error),
    #[error("sealing or opening the message failed: {0}")]
    Seal(#[from] CryptoError),
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

/// Sends mail from one address.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl Mailer {
    /// SMTP at `smtp_url`, or the `outbox` folder when there is none.
    pub fn new(from: &str, smtp_url: Option<&SmtpUrl>, outbox: PathBuf) -> Result<Self, MailError> {
        let from: Mailbox = from.parse().map_err(|_| MailError::From(from.to_owned()))?;
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(&url.0)
                    // The error names the part that is wrong, never the password.
                    .map_err(|e| MailError::Url(e.to_string()))?
                    .build(),
            ),
            None => Transport::Folder(outbox),
        };
        Ok(Self { from, transport })
    }

    /// Where messages go, for the start-up log (never a password).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP (smtp_url)".to_owned(),
            Transport::Folder(dir) => format!("files in {}", dir.display()),
        }
    }

    fn message(&self, to: &str, subject: &str, body: &str) -> Result<Message, MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::To)?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_owned())
            .map_err(|e| MailError::Build(e.to_string()))
    }

    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let message = self.message(to, subject, body)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp_send(smtp, message).await,
            Transport::Folder(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let file = dir.join(format!("{}.eml", uuid::Uuid::now_v7()));
                tokio::fs::write(file, message.formatted()).await?;
                Ok(())
            }
        }
    }

    /// Sends a letter about a person; in the outbox folder it is written sealed.
    pub async fn send_letter(&self, crypto: &Crypto, letter: &Letter) -> Result<(), MailError> {
        let message = self.message(&letter.to, &letter.subject, &letter.body)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp_send(smtp, message).await,
            Transport::Folder(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let name = uuid::Uuid::now_v7().to_string();
                let text = String::from_utf8_lossy(&message.formatted()).into_owned();
                let sealed = crypto
                    .seal(Scope::System, "outbox", "message", &name, &text)
                    .await?;
                tokio::fs::write(dir.join(format!("{name}.eml.sealed")), sealed).await?;
                Ok(())
            }
        }
    }
}

async fn smtp_send(
    smtp: &AsyncSmtpTransport<Tokio1Executor>,
    message: Message,
) -> Result<(), MailError> {
    smtp.send(message)
        .await
        .map(|_| ())
        .map_err(|e| MailError::Send(e.to_string()))
}

/// The message in a sealed outbox file, for an operator holding the keys.
pub async fn read_sealed_file(crypto: &Crypto, path: &Path) -> Result<String, MailError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".eml.sealed"))
        .ok_or(MailError::Seal(CryptoError::Open))?;
    let sealed = tokio::fs::read_to_string(path).await?;
    Ok(crypto
        .open_field("outbox", "message", name, sealed.trim())
        .await?)
}

/// A message about a person.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A letter sealed for the job queue. Sealing may write a new data key, so it happens
/// before the transaction that queues it (SQLite has one writer).
pub struct SealedLetter {
    id: String,
    sealed: String,
}

impl Letter {
    pub async fn seal(&self, crypto: &Crypto) -> Result<SealedLetter, MailError> {
        let id = uuid::Uuid::now_v7().to_string();
        let json = serde_json::to_string(self).map_err(|e| MailError::Build(e.to_string()))?;
        let sealed = crypto
            .seal(Scope::System, "jobs", LETTER_FIELD, &id, &json)
            .await?;
        Ok(SealedLetter { id, sealed })
    }
}

const LETTER_FIELD: &str = "letter";

/// Queues a sealed letter inside the caller's transaction.
pub async fn enqueue_letter(
    conn: &mut AnyConnection,
    letter: &SealedLetter,
) -> Result<jobs::JobId, sqlx::Error> {
    jobs::enqueue(
        conn,
        SEND_JOB,
        &json!({ LETTER_FIELD: { "id": letter.id, "sealed": letter.sealed } }),
        jobs::DEFAULT_MAX_ATTEMPTS,
    )
    .await
}

/// Queues a message inside the caller's transaction: it goes only if that commits.
pub async fn enqueue(
    conn: &mut AnyConnection,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<jobs::JobId, sqlx::Error> {
    jobs::enqueue(
        conn,
        SEND_JOB,
        &json!({ "to": to, "subject": subject, "body": body }),
        jobs::DEFAULT_MAX_ATTEMPTS,
    )
    .await
}

/// The job that sends queued messages.
pub struct Sender {
    pub mailer: Mailer,
    pub crypto: Crypto,
}

impl JobHandler for Sender {
    fn kind(&self) -> &'static str {
        SEND_JOB
    }

    fn run<'a>(&'a self, payload: &'a serde_json::Value) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let field = |value: &'a serde_json::Value, name: &str| {
                value[name]
                    .as_str()
                    .ok_or_else(|| JobError(format!("payload has no {name}")))
            };
            // The reason names the step (connect, TLS, refused), not the message.
            let failed = |e: MailError| JobError(e.to_string());
            let letter = &payload[LETTER_FIELD];
            if letter.is_object() {
                let json = self
                    .crypto
                    .open_field(
                        "jobs",
                        LETTER_FIELD,
                        field(letter, "id")?,
                        field(letter, "sealed")?,
                    )
                    .await
                    .map_err(|e| failed(e.into()))?;
                let letter: Letter = serde_json::from_str(&json)
                    .map_err(|_| JobError("the sealed letter is not a letter".to_owned()))?;
                return self
                    .mailer
                    .send_letter(&self.crypto, &letter)
                    .await
                    .map_err(failed);
            }
            self.mailer
                .send(
                    field(payload, "to")?,
                    field(payload, "subject")?,
                    field(payload, "body")?,
                )
                .await
                .map_err(failed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_smtp_url_never_prints_its_password() {
        let url = SmtpUrl::new("smtps://atip:hunter2-secret@mail.example.org:465");
        assert!(!format!("{url:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn without_smtp_messages_land_in_the_outbox_folder() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(
            "atip <directory@atip.example>",
            None,
            dir.path().join("outbox"),
        )
        .unwrap();
        mailer
            .send(
                "intake@partner.example",
                "Please confirm your listing",
                "Hello",
            )
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(
            text.contains("To: intake@partner.example")
                && text.contains("Subject: Please confirm your listing")
        );
        assert!(matches!(
            mailer.send("not an address", "x", "y").await,
            Err(MailError::To)
        ));
        assert!(Mailer::new("nobody", None, dir.path().to_path_buf()).is_err());
    }
}
