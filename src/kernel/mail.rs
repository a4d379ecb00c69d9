//! Outgoing mail. Over SMTP when `smtp_url` is set; otherwise each message is written
//! as an `.eml` file into `DATA_DIR/outbox` (the demo and tests read them there, and
//! an operator sees at once that mail is not leaving). Messages are sent by a
//! background job, so a slow mail server never holds a request and a failure is
//! retried.

use std::path::PathBuf;

use futures_util::future::BoxFuture;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

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

    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::To)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_owned())
            .map_err(|e| MailError::Build(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
            Transport::Folder(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let file = dir.join(format!("{}.eml", uuid::Uuid::now_v7()));
                tokio::fs::write(file, message.formatted()).await?;
                Ok(())
            }
        }
    }
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
}

impl JobHandler for Sender {
    fn kind(&self) -> &'static str {
        SEND_JOB
    }

    fn run<'a>(&'a self, payload: &'a serde_json::Value) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let field = |name: &str| {
                payload[name]
                    .as_str()
                    .ok_or_else(|| JobError(format!("payload has no {name}")))
            };
            self.mailer
                .send(field("to")?, field("subject")?, field("body")?)
                .await
                // The reason names the step (connect, TLS, refused), not the message.
                .map_err(|e| JobError(e.to_string()))
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
