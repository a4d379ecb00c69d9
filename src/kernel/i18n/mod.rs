//! English and Spanish text from Fluent files compiled into the binary.

use std::sync::LazyLock;

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use unic_langid::{LanguageIdentifier, langid};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "es" => Some(Self::Es),
            _ => None,
        }
    }

    /// The other language, offered by the language switch.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::En => Self::Es,
            Self::Es => Self::En,
        }
    }

    /// The best match for an `Accept-Language` header; English when nothing matches.
    pub fn from_accept_language(header: &str) -> Self {
        let requested = fluent_langneg::accepted_languages::parse(header);
        let available = [langid!("en"), langid!("es")];
        let default = langid!("en");
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            Some(&default),
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        chosen
            .first()
            .and_then(|id| Self::parse(id.language.as_str()))
            .unwrap_or_default()
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Self::En => langid!("en"),
            Self::Es => langid!("es"),
        }
    }
}

pub(crate) const SOURCES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../../../locales/en/main.ftl")),
    (Lang::Es, include_str!("../../../locales/es/main.ftl")),
];

type Bundle = FluentBundle<FluentResource>;

static BUNDLES: LazyLock<Vec<(Lang, Bundle)>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(lang, source)| {
            // The files are part of the binary and checked by tests, so a parse error
            // here is a build defect, found at start-up.
            #[allow(clippy::expect_used)]
            let resource =
                FluentResource::try_new((*source).to_owned()).expect("valid Fluent file");
            let mut bundle = Bundle::new_concurrent(vec![lang.id()]);
            // Unicode isolation marks would end up inside HTML attributes; we have no
            // right-to-left languages.
            bundle.set_use_isolating(false);
            #[allow(clippy::expect_used)]
            bundle
                .add_resource(resource)
                .expect("no duplicate message ids");
            (*lang, bundle)
        })
        .collect()
});

/// The text of message `id` in `lang`, with `args` filled in. A missing message shows
/// its id (the missing-translation test keeps that from reaching users).
pub fn text(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    let Some((_, bundle)) = BUNDLES.iter().find(|(l, _)| *l == lang) else {
        return id.to_owned();
    };
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        tracing::warn!(id, lang = lang.code(), "missing translation");
        return id.to_owned();
    };
    let mut fluent_args = fluent_bundle::FluentArgs::new();
    for (k, v) in args {
        // `count` chooses plural forms ("1 document", "2 documents"), which Fluent
        // does only for numbers.
        match v.parse::<u64>() {
            Ok(n) if *k == "count" => fluent_args.set(*k, n),
            _ => fluent_args.set(*k, *v),
        }
    }
    let mut errors = Vec::new();
    bundle
        .format_pattern(pattern, Some(&fluent_args), &mut errors)
        .into_owned()
}

/// Whether `lang` has message `id` (for labels that fall back to a code).
pub fn has(lang: Lang, id: &str) -> bool {
    BUNDLES
        .iter()
        .any(|(l, bundle)| *l == lang && bundle.has_message(id))
}

/// Handed to templates: `{{ tr.t("home-title") }}`.
#[derive(Clone, Copy, Debug)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(&self, id: &str) -> String {
        text(self.0, id, &[])
    }

    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        text(self.0, id, &[(name, value)])
    }

    pub fn lang(&self) -> &'static str {
        self.0.code()
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_count_chooses_the_plural_form() {
        assert_eq!(
            text(Lang::En, "library-count", &[("count", "1")]),
            "1 document"
        );
        assert_eq!(
            text(Lang::En, "library-count", &[("count", "3")]),
            "3 documents"
        );
        assert_eq!(
            text(Lang::Es, "library-count", &[("count", "1")]),
            "1 documento"
        );
    }

    use std::collections::BTreeSet;

    use fluent_syntax::ast::Entry;

    use super::*;

    fn ids(source: &str) -> BTreeSet<String> {
        let resource = fluent_syntax::parser::parse(source).unwrap();
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_english_message_has_a_spanish_translation() {
        let en = ids(SOURCES[0].1);
        let es = ids(SOURCES[1].1);
        let missing: Vec<_> = en.difference(&es).collect();
        assert!(missing.is_empty(), "messages with no Spanish: {missing:?}");
        let extra: Vec<_> = es.difference(&en).collect();
        assert!(
            extra.is_empty(),
            "Spanish messages with no English: {extra:?}"
        );
    }

    #[test]
    fn every_message_used_in_a_template_exists() {
        let en = ids(SOURCES[0].1);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut used = BTreeSet::new();
        let mut stack = vec![dir];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for call in ["t(\"", "t1(\""] {
                    for part in text.split(call).skip(1) {
                        used.insert(part.split('"').next().unwrap().to_owned());
                    }
                }
            }
        }
        assert!(!used.is_empty());
        let missing: Vec<_> = used.difference(&en).collect();
        assert!(
            missing.is_empty(),
            "templates use unknown messages: {missing:?}"
        );
    }

    #[test]
    fn accept_language_picks_spanish_when_preferred() {
        assert_eq!(
            Lang::from_accept_language("es-MX,es;q=0.9,en;q=0.5"),
            Lang::Es
        );
        assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
    }

    #[test]
    fn messages_are_filled_in() {
        assert_ne!(text(Lang::Es, "site-title", &[]), "site-title");
    }
}
