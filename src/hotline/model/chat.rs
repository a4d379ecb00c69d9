//! Web chat rules without I/O: the frames the visitor's and the advocate's pages
//! exchange with the server, what a message may be, and the gate that slows a visitor
//! who sends too fast.
//!
//! Every message gets a number within its chat. A page that reconnects says the last
//! number it has and gets everything after it, and resends what the server had not yet
//! acknowledged under the same id; the server keeps one message per id. Together they
//! mean nothing is lost or doubled across a dropped connection.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Longer than anyone types in one message; a paste of a whole document is refused.
pub const MESSAGE_MAX_CHARS: usize = 2_000;

/// A frame is a message and a little JSON around it.
pub const FRAME_MAX_BYTES: usize = 16 * 1024;

/// What a page sends.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ClientFrame {
    /// A visitor opens a new chat in a language, with the return code an earlier chat
    /// gave them if they want the advocate to see it.
    Start {
        language: String,
        #[serde(default)]
        return_code: Option<String>,
    },
    /// A visitor's page comes back after a dropped connection.
    Resume {
        token: String,
        after: i64,
    },
    /// An advocate's page opens (or reopens) a chat it was given.
    Join {
        after: i64,
    },
    Send {
        id: String,
        text: String,
    },
    /// The visitor ends the chat (the end button, quick exit or closing the page).
    Leave,
}

impl ClientFrame {
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > FRAME_MAX_BYTES {
            return None;
        }
        serde_json::from_str(text).ok()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChatStatus {
    /// In the queue: no advocate yet.
    Waiting,
    Active,
    /// The visitor went; the advocate still has to save the chat.
    Left,
    /// Saved as a contact.
    Closed,
}

impl ChatStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Active => "active",
            Self::Left => "left",
            Self::Closed => "closed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Waiting, Self::Active, Self::Left, Self::Closed]
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// Messages are taken only while someone can still read the answer.
    pub fn takes_messages(self) -> bool {
        matches!(self, Self::Waiting | Self::Active)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sender {
    Visitor,
    Advocate,
}

impl Sender {
    pub fn code(self) -> &'static str {
        match self {
            Self::Visitor => "visitor",
            Self::Advocate => "advocate",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "visitor" => Some(Self::Visitor),
            "advocate" => Some(Self::Advocate),
            _ => None,
        }
    }
}

/// Why a message was not taken. The page keeps it and says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// Too many messages too quickly: the page sends it again after `retry_after`.
    TooFast,
    TooLong,
    Empty,
    /// The chat is over.
    Ended,
}

/// What the server sends.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerFrame {
    /// The new chat's token, which only this page holds (in memory), and the return code
    /// the visitor may write down to be recognized next time.
    Started {
        token: String,
        return_code: String,
    },
    Status {
        status: ChatStatus,
    },
    Message {
        seq: i64,
        from: Sender,
        /// The sender's id for it, so the sender's page knows it arrived.
        id: String,
        text: String,
        at: String,
    },
    Ack {
        id: String,
        seq: i64,
    },
    Refused {
        id: String,
        reason: Refusal,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    Error {
        reason: &'static str,
    },
}

/// Letters and digits that cannot be mistaken for one another when read aloud or
/// copied by hand.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A return code from eight random bytes: eight characters, shown as `XXXX-XXXX`.
pub fn return_code(random: [u8; 8]) -> String {
    let chars: String = random
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// A return code as typed, in the form its blind index is made from; `None` if it
/// cannot be one.
pub fn normalize_return_code(raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 8 && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// The chat languages offered before anything else is asked.
pub fn language(code: &str) -> Option<&'static str> {
    ["en", "es"].into_iter().find(|l| *l == code)
}

/// A page's id for a message: a UUID or anything as plain.
pub fn is_client_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The text as it will be stored, or why not.
pub fn message_text(text: &str) -> Result<String, Refusal> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Refusal::Empty);
    }
    if text.chars().count() > MESSAGE_MAX_CHARS {
        return Err(Refusal::TooLong);
    }
    Ok(text.to_owned())
}

/// At most `max` messages in any `window`. A person in crisis may type several short
/// lines quickly, so the limit only stops scripts and pasted floods.
#[derive(Debug)]
pub struct FloodGate {
    max: usize,
    window: Duration,
    taken: VecDeque<Instant>,
}

impl Default for FloodGate {
    fn default() -> Self {
        Self::new(10, Duration::from_secs(10))
    }
}

impl FloodGate {
    pub fn new(max: usize, window: Duration) -> Self {
        Self {
            max: max.max(1),
            window,
            taken: VecDeque::new(),
        }
    }

    /// Takes a message at `now`, or says how many seconds until one would be taken.
    pub fn admit(&mut self, now: Instant) -> Result<(), u64> {
        while self
            .taken
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            self.taken.pop_front();
        }
        if self.taken.len() < self.max {
            self.taken.push_back(now);
            return Ok(());
        }
        let oldest = self.taken.front().copied().unwrap_or(now);
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs().max(1))
    }
}

/// One line of a transcript.
pub struct Line<'a> {
    pub from: Sender,
    pub at: &'a str,
    pub text: &'a str,
}

/// Ends a transcript cut short; the whole chat stays with the chat's record.
const CUT: &str = "[The transcript continues in the chat's record.]\n";

/// The chat as it goes into the contact's narrative: at most `max_chars`, whole lines.
pub fn transcript(lines: &[Line<'_>], max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for line in lines {
        let who = match line.from {
            Sender::Visitor => "Visitor",
            Sender::Advocate => "Advocate",
        };
        let text = format!("[{}] {who}: {}\n", line.at, line.text);
        let len = text.chars().count();
        if chars + len + CUT.len() > max_chars {
            out.push_str(CUT);
            break;
        }
        chars += len;
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn frames_parse_as_pages_send_them() {
        assert_eq!(
            ClientFrame::parse(r#"{"type":"start","language":"es"}"#),
            Some(ClientFrame::Start {
                language: "es".into(),
                return_code: None
            })
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"resume","token":"t","after":4}"#),
            Some(ClientFrame::Resume {
                token: "t".into(),
                after: 4
            })
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"leave"}"#),
            Some(ClientFrame::Leave)
        );
        assert_eq!(ClientFrame::parse(r#"{"type":"shout"}"#), None);
        assert_eq!(ClientFrame::parse("not json"), None);
        let long = format!(
            r#"{{"type":"send","id":"a","text":"{}"}}"#,
            "x".repeat(FRAME_MAX_BYTES)
        );
        assert_eq!(ClientFrame::parse(&long), None);
    }

    #[test]
    fn a_message_is_trimmed_and_bounded() {
        assert_eq!(message_text("  hello \n"), Ok("hello".into()));
        assert_eq!(message_text(" \n "), Err(Refusal::Empty));
        assert_eq!(
            message_text(&"é".repeat(MESSAGE_MAX_CHARS)),
            Ok("é".repeat(MESSAGE_MAX_CHARS))
        );
        assert_eq!(
            message_text(&"a".repeat(MESSAGE_MAX_CHARS + 1)),
            Err(Refusal::TooLong)
        );
    }

    #[test]
    fn the_gate_refuses_a_flood_and_says_how_long_to_wait() {
        let mut gate = FloodGate::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(gate.admit(t0 + Duration::from_millis(i)), Ok(()));
        }
        assert_eq!(gate.admit(t0 + Duration::from_secs(4)), Err(6));
        assert_eq!(gate.admit(t0 + Duration::from_secs(10)), Ok(()));
    }

    #[test]
    fn a_long_transcript_is_cut_between_lines() {
        let text = "a".repeat(100);
        let lines: Vec<Line<'_>> = (0..10)
            .map(|_| Line {
                from: Sender::Visitor,
                at: "t",
                text: &text,
            })
            .collect();
        let whole = transcript(&lines, 10_000);
        assert_eq!(whole.lines().count(), 10);
        let cut = transcript(&lines, 500);
        assert!(cut.chars().count() <= 500);
        assert!(cut.ends_with(CUT));
        assert_eq!(cut.lines().count(), 4);
    }

    #[test]
    fn return_codes_survive_how_people_copy_them() {
        let code = return_code([0, 1, 2, 3, 200, 201, 202, 255]);
        assert_eq!(code.len(), 9);
        let normalized = normalize_return_code(&code).unwrap();
        assert_eq!(
            normalize_return_code(&code.to_lowercase().replace('-', " ")),
            Some(normalized)
        );
        assert_eq!(normalize_return_code("ABCD-EFG"), None);
        assert_eq!(
            normalize_return_code("ABCD-EFG0"),
            None,
            "0 is not in the alphabet"
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            ChatStatus::Waiting,
            ChatStatus::Active,
            ChatStatus::Left,
            ChatStatus::Closed,
        ] {
            assert_eq!(ChatStatus::parse(s.code()), Some(s));
        }
        assert!(!ChatStatus::Left.takes_messages());
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in ".{0,300}") {
            let _ = ClientFrame::parse(&text);
            let _ = message_text(&text);
            let _ = is_client_id(&text);
        }

        #[test]
        fn no_window_ever_holds_more_than_the_limit(gaps in prop::collection::vec(0u64..3_000, 1..200)) {
            let mut gate = FloodGate::new(5, Duration::from_secs(2));
            let start = Instant::now();
            let mut at = start;
            let mut admitted = Vec::new();
            for gap in gaps {
                at += Duration::from_millis(gap);
                if gate.admit(at).is_ok() {
                    admitted.push(at);
                }
            }
            for (i, t) in admitted.iter().enumerate() {
                let inside = admitted[i..].iter().take_while(|u| u.duration_since(*t) < Duration::from_secs(2)).count();
                prop_assert!(inside <= 5);
            }
        }
    }
}
