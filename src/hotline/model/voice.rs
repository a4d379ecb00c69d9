//! The voice line's answers, as TwiML, without I/O: a language menu first, then the
//! on-duty advocates' phones rung together, and a message with other ways to reach
//! the hotline when no one is on duty or no one answers. Nothing is ever recorded.

use std::fmt::Write as _;

use super::super::twilio::escape_xml;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    English,
    Spanish,
}

impl Language {
    /// The menu's keys: 1 for English, 2 for Spanish; anything else (or nothing)
    /// goes on in English, so no caller is left in a loop.
    pub fn from_digits(digits: Option<&str>) -> Self {
        match digits.map(str::trim) {
            Some("2") => Self::Spanish,
            _ => Self::English,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::Spanish => "es",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "en" => Some(Self::English),
            "es" => Some(Self::Spanish),
            _ => None,
        }
    }

    fn voice(self) -> &'static str {
        match self {
            Self::English => "en-US",
            Self::Spanish => "es-MX",
        }
    }
}

/// Twilio rings at most ten numbers from one `<Dial>`.
pub const MAX_NUMBERS: usize = 10;

/// How long the advocates' phones ring before the caller hears the fallback.
const RING_SECONDS: u32 = 25;

/// What the voice line says or does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The first thing a caller hears.
    Menu,
    /// Ring these advocates (id, number) together; the first to answer takes it.
    Dial {
        language: Language,
        advocates: Vec<(String, String)>,
    },
    /// No advocate is on duty (or none has a phone on file).
    NoOneOnDuty { language: Language },
    /// The advocates were rung and none answered.
    NoAnswer { language: Language },
    /// Said to the advocate who picks up, before the caller is put through.
    Whisper { language: Language },
    /// Nothing more to do (the call is over or in progress).
    Done,
}

fn say(language: Language, text: &str) -> String {
    format!(
        r#"<Say language="{}">{}</Say>"#,
        language.voice(),
        escape_xml(text)
    )
}

fn other_ways(language: Language, text_line: &str) -> String {
    match language {
        Language::English => format!(
            "We are sorry. If you are in immediate danger, call 911. You can also text us at {text_line}, or chat with us on our website. Please call again."
        ),
        Language::Spanish => format!(
            "Lo sentimos. Si está en peligro inmediato, llame al 911. También puede enviarnos un mensaje de texto al {text_line}, o chatear con nosotros en nuestro sitio web. Por favor, vuelva a llamar."
        ),
    }
}

/// The TwiML document for `answer`. `base` is the public base URL the webhooks are
/// reached at (TwiML's own URLs are absolute, so their signatures are over them).
pub fn twiml(answer: &Answer, base: &str, text_line: &str) -> String {
    let body = match answer {
        Answer::Menu => format!(
            r#"<Gather numDigits="1" timeout="6" action="{base}/webhooks/twilio/voice/language" method="POST">{}{}</Gather><Redirect method="POST">{base}/webhooks/twilio/voice/language</Redirect>"#,
            say(
                Language::English,
                "National human trafficking hotline. For English, press 1."
            ),
            say(Language::Spanish, "Para español, oprima 2."),
        ),
        Answer::Dial {
            language,
            advocates,
        } => {
            let mut numbers = String::new();
            for (id, number) in advocates.iter().take(MAX_NUMBERS) {
                // Writing to a String cannot fail.
                let _ = write!(
                    numbers,
                    r#"<Number url="{base}/webhooks/twilio/voice/answered?advocate={}" method="POST">{}</Number>"#,
                    escape_xml(id),
                    escape_xml(number)
                );
            }
            let connecting = match language {
                Language::English => {
                    "Connecting you with an advocate. This call is confidential and is not recorded."
                }
                Language::Spanish => {
                    "Le comunicamos con un consejero. Esta llamada es confidencial y no se graba."
                }
            };
            format!(
                r#"{}<Dial timeout="{RING_SECONDS}" record="do-not-record" action="{base}/webhooks/twilio/voice/dialed?language={}" method="POST">{numbers}</Dial>"#,
                say(*language, connecting),
                language.code()
            )
        }
        Answer::NoOneOnDuty { language } | Answer::NoAnswer { language } => {
            format!(
                "{}<Hangup/>",
                say(*language, &other_ways(*language, text_line))
            )
        }
        Answer::Whisper { language } => {
            let text = match language {
                Language::English => "Hotline call in English.",
                Language::Spanish => "Hotline call in Spanish.",
            };
            say(Language::English, text)
        }
        Answer::Done => String::new(),
    };
    format!(r#"<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>"#)
}

/// Whether a `<Dial>` ended with someone answering.
pub fn answered(dial_call_status: Option<&str>) -> bool {
    matches!(dial_call_status, Some("completed" | "answered"))
}

/// The call's length Twilio reports, in seconds.
pub fn duration(call_duration: Option<&str>) -> Option<i64> {
    call_duration
        .and_then(|d| d.trim().parse::<i64>().ok())
        .filter(|d| (0..=86_400).contains(d))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const BASE: &str = "https://hotline.example.org";

    #[test]
    fn the_menu_asks_for_a_language_and_goes_on_in_english_without_one() {
        let menu = twiml(&Answer::Menu, BASE, "233733");
        assert!(menu.contains(r#"<Gather numDigits="1""#));
        assert!(menu.contains("press 1"));
        assert!(menu.contains("oprima 2"));
        assert!(menu.contains(
            "<Redirect method=\"POST\">https://hotline.example.org/webhooks/twilio/voice/language</Redirect>"
        ));
        assert_eq!(Language::from_digits(Some("2")), Language::Spanish);
        assert_eq!(Language::from_digits(Some("1")), Language::English);
        assert_eq!(Language::from_digits(Some("9")), Language::English);
        assert_eq!(Language::from_digits(None), Language::English);
    }

    #[test]
    fn advocates_are_rung_together_and_nothing_is_recorded() {
        let advocates: Vec<(String, String)> = (0..12)
            .map(|i| (format!("a{i}"), format!("+1555010{i:04}")))
            .collect();
        let dial = twiml(
            &Answer::Dial {
                language: Language::Spanish,
                advocates,
            },
            BASE,
            "233733",
        );
        assert_eq!(dial.matches("<Number ").count(), MAX_NUMBERS);
        assert!(dial.contains(r#"record="do-not-record""#));
        assert!(dial.contains("voice/answered?advocate=a0"));
        assert!(dial.contains("dialed?language=es"));
        assert!(dial.contains("no se graba"));
        assert!(!dial.contains("<Record"));
    }

    #[test]
    fn no_one_on_duty_gives_other_ways_and_hangs_up() {
        let spoken = twiml(
            &Answer::NoOneOnDuty {
                language: Language::English,
            },
            BASE,
            "233733",
        );
        assert!(spoken.contains("call 911"));
        assert!(spoken.contains("233733"));
        assert!(spoken.ends_with("<Hangup/></Response>"));
    }

    #[test]
    fn dial_results_and_durations_are_read_carefully() {
        assert!(answered(Some("completed")));
        assert!(!answered(Some("no-answer")));
        assert!(!answered(None));
        assert_eq!(duration(Some("62")), Some(62));
        assert_eq!(duration(Some("-1")), None);
        assert_eq!(duration(Some("lots")), None);
    }

    proptest! {
        #[test]
        fn whatever_a_number_holds_the_document_stays_well_formed(number in ".{0,40}") {
            let dial = twiml(
                &Answer::Dial { language: Language::English, advocates: vec![("a".into(), number)] },
                BASE,
                "233733",
            );
            let inside = dial.split("<Number ").nth(1).unwrap_or_default();
            let text = inside.split_once('>').map(|(_, rest)| rest).unwrap_or_default();
            let text = text.split("</Number>").next().unwrap_or_default();
            prop_assert!(!text.contains('<'));
        }
    }
}
