//! Twilio-compatible webhooks: the request signature that proves a call or text came
//! from the telephony provider, and the opt-out keywords carriers require SMS senders to
//! honour.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The header a Twilio-compatible provider signs its requests in.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// HMAC-SHA1, keyed with the auth token, over the full URL the provider called followed
/// by each form parameter's name and value, sorted by name (then value, so repeated
/// names sign the same whatever order they arrive in).
fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Option<[u8; 20]> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    // HMAC takes keys of any length, so this never fails; `verify` refuses if it did.
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes()).ok()?;
    mac.update(url.as_bytes());
    for (key, value) in sorted {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    Some(mac.finalize().into_bytes().into())
}

/// The signature a genuine request for `url` with these form parameters carries.
pub fn expected_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    mac(auth_token, url, params).map_or_else(String::new, |m| STANDARD.encode(m))
}

/// Whether `header_value` is the signature of this request, compared in constant time so
/// that a forger learns nothing from how long a refusal takes.
pub fn verify(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    header_value: &str,
) -> bool {
    let Some(mac) = mac(auth_token, url, params) else {
        return false;
    };
    let expected = STANDARD.encode(mac);
    bool::from(expected.as_bytes().ct_eq(header_value.as_bytes()))
}

/// Text for a TwiML element or attribute.
pub fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A whole-message SMS keyword the hotline must act on before anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// The sender opts out: send nothing more to the number.
    Stop,
    /// The sender opts back in.
    Start,
    /// The sender asks who we are and how to stop.
    Help,
}

impl Keyword {
    /// The keyword a message body is, ignoring surrounding space and case; `None` for
    /// any other message, including one that only contains a keyword among other words,
    /// because "I can't stop crying" is a message for an advocate, not an opt-out.
    pub fn of(body: &str) -> Option<Self> {
        const WORDS: [(&str, Keyword); 11] = [
            ("STOP", Keyword::Stop),
            ("STOPALL", Keyword::Stop),
            ("UNSUBSCRIBE", Keyword::Stop),
            ("CANCEL", Keyword::Stop),
            ("END", Keyword::Stop),
            ("QUIT", Keyword::Stop),
            ("START", Keyword::Start),
            ("YES", Keyword::Start),
            ("UNSTOP", Keyword::Start),
            ("HELP", Keyword::Help),
            ("INFO", Keyword::Help),
        ];
        let body = body.trim();
        WORDS
            .iter()
            .find(|(word, _)| word.eq_ignore_ascii_case(body))
            .map(|(_, keyword)| *keyword)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn documented_params() -> Vec<(String, String)> {
        // Deliberately out of order: signing sorts them.
        pairs(&[
            ("To", "+18005551212"),
            ("CallSid", "CA1234567890ABCDE"),
            ("From", "+14158675310"),
            ("Digits", "1234"),
            ("Caller", "+14158675310"),
        ])
    }

    /// Twilio's published example (TwilioDevEd/api-snippets,
    /// security/signature_validation/signature_validation.3.x.js): auth token 12345.
    #[test]
    fn the_documented_example_verifies() {
        let params = documented_params();
        assert_eq!(
            expected_signature("12345", URL, &params),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        );
        assert!(verify(
            "12345",
            URL,
            &params,
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
    }

    #[test]
    fn the_signature_is_hmac_sha1_over_url_and_pairs_sorted_by_name_then_value() {
        let url = "https://example.org/sms?x=1";
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(b"token").unwrap();
        mac.update(b"https://example.org/sms?x=1a ya zb2");
        let independent = STANDARD.encode(mac.finalize().into_bytes());
        // Values are signed as they are: the space is not re-encoded.
        let params = pairs(&[("b", "2"), ("a", " z"), ("a", " y")]);
        assert_eq!(expected_signature("token", url, &params), independent);
        assert_ne!(expected_signature("token", url, &params[..1]), independent);
    }

    #[test]
    fn a_changed_parameter_url_or_token_fails() {
        let params = documented_params();
        let good = expected_signature("12345", URL, &params);
        let mut changed = params.clone();
        changed[3].1 = "1235".into();
        assert!(!verify("12345", URL, &changed, &good));
        let mut added = params.clone();
        added.push(("Extra".into(), String::new()));
        assert!(!verify("12345", URL, &added, &good));
        assert!(!verify(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &params,
            &good
        ));
        assert!(!verify("12346", URL, &params, &good));
        assert!(!verify("12345", URL, &params, ""));
        assert!(!verify("12345", URL, &params, &good[..good.len() - 1]));
    }

    #[test]
    fn keywords_are_whole_messages_in_any_case() {
        for (body, keyword) in [
            ("STOP", Keyword::Stop),
            ("  stop\n", Keyword::Stop),
            ("StopAll", Keyword::Stop),
            ("unsubscribe", Keyword::Stop),
            ("cancel", Keyword::Stop),
            ("End", Keyword::Stop),
            ("quit", Keyword::Stop),
            ("start", Keyword::Start),
            ("Yes", Keyword::Start),
            ("UNSTOP", Keyword::Start),
            ("help", Keyword::Help),
            (" INFO ", Keyword::Help),
        ] {
            assert_eq!(Keyword::of(body), Some(keyword), "{body:?}");
        }
        for body in [
            "",
            "stop please",
            "I can't stop",
            "HELP!",
            "befree",
            "s t o p",
        ] {
            assert_eq!(Keyword::of(body), None, "{body:?}");
        }
    }

    proptest! {
        #[test]
        fn the_order_parameters_arrive_in_does_not_matter(
            mut params in proptest::collection::vec(("[a-zA-Z]{1,8}", "\\PC{0,12}"), 0..8),
            token in "\\PC{0,40}",
        ) {
            let signature = expected_signature(&token, URL, &params);
            params.reverse();
            prop_assert!(verify(&token, URL, &params, &signature));
        }

        #[test]
        fn any_other_body_is_no_keyword(body in "\\PC{0,20}") {
            let upper = body.trim().to_ascii_uppercase();
            let known = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "START", "YES", "UNSTOP", "HELP", "INFO"];
            prop_assert_eq!(Keyword::of(&body).is_some(), known.contains(&upper.as_str()));
        }
    }
}
