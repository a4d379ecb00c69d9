//! The library's rules, without I/O: what a document's description may say, and what
//! an uploaded file or link is.

use sha2::{Digest, Sha256};

crate::typed_id!(
    /// One library document (all its versions).
    DocumentId
);

/// Who a resource is written for. Ids are stable; labels are `library-audience-{id}`.
pub const AUDIENCES: [&str; 7] = [
    "victims-and-survivors",
    "service-providers",
    "law-enforcement",
    "health-care",
    "educators",
    "businesses",
    "general-public",
];

/// What a resource is about. Ids are stable; labels are `library-topic-{id}`.
pub const TOPICS: [&str; 14] = [
    "identification-and-screening",
    "victim-services",
    "trauma-informed-care",
    "legal-and-immigration",
    "labor-trafficking",
    "sex-trafficking",
    "child-trafficking",
    "health",
    "law-enforcement-response",
    "prevention-and-awareness",
    "supply-chains",
    "research-and-data",
    "policy-and-legislation",
    "survivor-leadership",
];

const MAX_TITLE: usize = 300;
const MAX_SUMMARY: usize = 4_000;
const MAX_PUBLISHER: usize = 300;
const MAX_NOTE: usize = 1_000;
const MAX_FILE_NAME: usize = 200;
const MAX_URL: usize = 2_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    Public,
    /// Staff only (for instance, hotline protocols).
    Internal,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "public" => Some(Self::Public),
            "internal" => Some(Self::Internal),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Html,
    Text,
    Link,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Html => "html",
            Self::Text => "text",
            Self::Link => "link",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pdf, Self::Html, Self::Text, Self::Link]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Html => "text/html; charset=utf-8",
            Self::Text | Self::Link => "text/plain; charset=utf-8",
        }
    }
}

pub use crate::directory::model::FieldProblem;

/// A document's description as a form or a metadata CSV row gives it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct MetadataForm {
    pub title: String,
    pub summary: String,
    /// Lists are separated by `;` or `,` (the form sends one value per box, joined).
    pub audiences: String,
    pub topics: String,
    pub languages: String,
    pub publisher: String,
    pub published_on: String,
    pub visibility: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub title: String,
    pub summary: String,
    pub audiences: Vec<&'static str>,
    pub topics: Vec<&'static str>,
    pub languages: Vec<String>,
    pub publisher: String,
    pub published_on: Option<jiff::civil::Date>,
    pub visibility: Visibility,
}

fn items(list: &str) -> impl Iterator<Item = String> {
    list.split([';', ',', '\n'])
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
}

/// Each item of `list` as its entry of `known`; `None` if any is unknown.
fn known_items(list: &str, known: &[&'static str]) -> Option<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for item in items(list) {
        let found = known.iter().find(|k| **k == item)?;
        if !out.contains(found) {
            out.push(found);
        }
    }
    Some(out)
}

fn text(value: &str, field: &'static str, max: usize, problems: &mut Vec<FieldProblem>) -> String {
    let value = value.trim();
    if value.is_empty() {
        problems.push((field, "library-problem-required"));
    } else if value.chars().count() > max {
        problems.push((field, "library-problem-too-long"));
    }
    value.to_owned()
}

impl MetadataForm {
    /// The description, or every problem with it.
    pub fn parse(&self) -> Result<Metadata, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let title = text(&self.title, "title", MAX_TITLE, &mut problems);
        let summary = text(&self.summary, "summary", MAX_SUMMARY, &mut problems);
        let publisher = text(&self.publisher, "publisher", MAX_PUBLISHER, &mut problems);
        let audiences = known_items(&self.audiences, &AUDIENCES);
        match &audiences {
            None => problems.push(("audiences", "library-problem-unknown")),
            Some(a) if a.is_empty() => problems.push(("audiences", "library-problem-choose")),
            Some(_) => {}
        }
        let topics = known_items(&self.topics, &TOPICS);
        if topics.is_none() {
            problems.push(("topics", "library-problem-unknown"));
        }
        let languages = crate::directory::search::index::language_codes(items(&self.languages));
        match &languages {
            None => problems.push(("languages", "library-problem-language")),
            Some(l) if l.is_empty() => problems.push(("languages", "library-problem-choose")),
            Some(_) => {}
        }
        let published_on = match self.published_on.trim() {
            "" => None,
            date => {
                let parsed = date.parse::<jiff::civil::Date>().ok();
                if parsed.is_none() {
                    problems.push(("published_on", "library-problem-date"));
                }
                parsed
            }
        };
        let visibility = Visibility::parse(&self.visibility);
        if visibility.is_none() {
            problems.push(("visibility", "library-problem-visibility"));
        }
        match (audiences, topics, languages, visibility) {
            (Some(audiences), Some(topics), Some(languages), Some(visibility))
                if problems.is_empty() =>
            {
                Ok(Metadata {
                    title,
                    summary,
                    audiences,
                    topics,
                    languages,
                    publisher,
                    published_on,
                    visibility,
                })
            }
            _ => Err(problems),
        }
    }
}

/// What one version holds: a file kept by atip, or a link to a page elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    File {
        name: String,
        kind: Kind,
        bytes: Vec<u8>,
        sha256: String,
    },
    Link(String),
}

/// Only the last part of a path, without control characters, at most 200 characters.
fn file_name(given: &str) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or_default();
    base.chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(MAX_FILE_NAME)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn sniff(name: &str, bytes: &[u8]) -> Option<Kind> {
    let extension = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(512)])
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_lowercase();
    if bytes.starts_with(b"%PDF-") {
        Some(Kind::Pdf)
    } else if extension == "pdf" {
        // Named PDF but not one: refuse rather than store something mislabelled.
        None
    } else if matches!(extension.as_str(), "html" | "htm")
        || head.starts_with("<!doctype html")
        || head.starts_with("<html")
    {
        Some(Kind::Html)
    } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some(Kind::Text)
    } else {
        None
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Content {
    /// An uploaded file: a PDF, an HTML page or plain UTF-8 text.
    pub fn file(name: &str, bytes: Vec<u8>) -> Result<Self, FieldProblem> {
        if bytes.is_empty() {
            return Err(("file", "library-problem-empty"));
        }
        let name = file_name(name);
        let kind = sniff(&name, &bytes).ok_or(("file", "library-problem-file-type"))?;
        let name = if name.is_empty() {
            format!("document.{}", kind.as_str())
        } else {
            name
        };
        Ok(Self::File {
            sha256: sha256_hex(&bytes),
            name,
            kind,
            bytes,
        })
    }

    /// A link to a page elsewhere: an absolute http(s) URL.
    pub fn link(url: &str) -> Result<Self, FieldProblem> {
        let url = url.trim();
        let parsed = url::Url::parse(url).map_err(|_| ("url", "library-problem-url"))?;
        if !matches!(parsed.scheme(), "https" | "http")
            || parsed.host_str().is_none()
            || url.len() > MAX_URL
        {
            return Err(("url", "library-problem-url"));
        }
        Ok(Self::Link(parsed.to_string()))
    }

    pub fn kind(&self) -> Kind {
        match self {
            Self::File { kind, .. } => *kind,
            Self::Link(_) => Kind::Link,
        }
    }
}

/// A version's note ("what changed"): trimmed and bounded; may be empty.
pub fn note(given: &str) -> String {
    given.trim().chars().take(MAX_NOTE).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn form() -> MetadataForm {
        MetadataForm {
            title: "Screening guide".into(),
            summary: "How to screen".into(),
            audiences: "service-providers; health-care".into(),
            topics: "identification-and-screening".into(),
            languages: "English, es".into(),
            publisher: "HHS".into(),
            published_on: "2026-01-15".into(),
            visibility: "public".into(),
        }
    }

    #[test]
    fn a_good_form_parses_with_canonical_lists() {
        let m = form().parse().unwrap();
        assert_eq!(m.audiences, ["service-providers", "health-care"]);
        assert_eq!(m.languages, ["en", "es"]);
        assert_eq!(m.visibility, Visibility::Public);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = MetadataForm {
            title: String::new(),
            audiences: "aliens".into(),
            topics: "cooking".into(),
            languages: "english!!".into(),
            published_on: "yesterday".into(),
            visibility: "secret".into(),
            ..form()
        };
        let fields: Vec<_> = bad.parse().unwrap_err().into_iter().map(|p| p.0).collect();
        assert_eq!(
            fields,
            [
                "title",
                "audiences",
                "topics",
                "languages",
                "published_on",
                "visibility"
            ]
        );
    }

    #[test]
    fn files_are_sniffed_not_trusted() {
        let pdf = Content::file("../../etc/x.pdf", b"%PDF-1.4 ...".to_vec()).unwrap();
        assert_eq!(pdf.kind(), Kind::Pdf);
        let Content::File { name, .. } = &pdf else {
            unreachable!()
        };
        assert_eq!(name, "x.pdf");
        assert!(Content::file("fake.pdf", b"hello".to_vec()).is_err());
        assert_eq!(
            Content::file("page", b"<!DOCTYPE html><p>x".to_vec())
                .unwrap()
                .kind(),
            Kind::Html
        );
        assert_eq!(
            Content::file("a.txt", b"plain".to_vec()).unwrap().kind(),
            Kind::Text
        );
        assert!(Content::file("a.bin", vec![0, 159, 146, 150]).is_err());
        assert!(Content::file("a.txt", Vec::new()).is_err());
    }

    #[test]
    fn only_web_links_are_links() {
        assert!(Content::link("https://example.org/guide").is_ok());
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "example.org",
            "https://",
        ] {
            assert!(Content::link(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_form_parses_or_names_fields(
            title in ".{0,40}", audiences in ".{0,40}", languages in ".{0,20}",
            date in ".{0,12}", visibility in ".{0,10}",
        ) {
            let f = MetadataForm { title, audiences, languages, published_on: date, visibility, ..form() };
            if let Err(problems) = f.parse() {
                prop_assert!(!problems.is_empty());
            }
        }

        #[test]
        fn any_upload_is_sniffed_without_panic(name in ".{0,60}", bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Content::file(&name, bytes);
        }
    }
}
