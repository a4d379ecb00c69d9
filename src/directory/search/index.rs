//! The in-process referral index: tantivy for words (English and Spanish stems, typo
//! tolerance on names) and for exact-match filters and coarse geography (grid cells,
//! states served), then exact distance, hours and the other numeric rules in memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use jiff::Timestamp;
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, FuzzyTermQuery, Occur, Query as TantivyQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};
use tantivy::{DocAddress, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::model::{Filters, Hours, Near, Point, Query, Sort, bounding_box, distance_km};

/// One thing a hotline can refer to: a service at one location (or a service with no
/// location, such as a statewide legal-aid line).
#[derive(Clone, Debug, Default)]
pub struct Doc {
    pub service_id: String,
    pub service_at_location_id: Option<String>,
    pub organization_id: String,
    pub service_name: String,
    pub organization_name: String,
    pub alternate_names: Vec<String>,
    pub description: String,
    pub location_name: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub point: Option<Point>,
    pub confidential: bool,
    /// Taxonomy term ids, each with its ancestors.
    pub terms: Vec<String>,
    pub term_names: Vec<String>,
    /// Canonical language codes (see [`language_code`]).
    pub languages: Vec<String>,
    pub states_served: Vec<String>,
    pub min_age: Option<f64>,
    pub max_age: Option<f64>,
    pub beds_available: Option<u32>,
    pub verified_at: Option<i64>,
    pub hours: Hours,
    pub phone: Option<String>,
}

/// Why a result is in the list.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    Words(String),
    Term(String),
    Language(String),
    Distance(f64),
    Statewide(String),
    OpenNow,
    Open24x7,
    AcceptsReferrals,
    WarmTransfers,
    Free,
    Age(f64),
    BedsAvailable(u32),
    Verified,
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub doc: Arc<Doc>,
    pub distance_km: Option<f64>,
    pub open_now: Option<bool>,
    pub score: f32,
    pub reasons: Vec<Reason>,
}

#[derive(Debug)]
pub struct Found {
    pub total: usize,
    pub hits: Vec<Hit>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the search index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// Grid cells of this many degrees carry the coarse geography.
const CELL_DEGREES: f64 = 0.5;
/// Relevance ranks at most this many text matches before the other rules apply.
const MAX_RANKED: usize = 20_000;

/// The feature terms the filters name (ids from the shipped taxonomy; a unit test
/// checks them against it).
pub mod feature {
    pub const HOTLINE_REFERRALS: &str = "8f26bce4-8474-50f6-aefd-a687758e7aba";
    pub const WARM_TRANSFERS: &str = "ccacc491-9cdd-52d3-90e3-c2c0974eca66";
    pub const FREE: &str = "75682add-e1e9-5e59-a09e-8506e302189f";
    pub const OPEN_24_7: &str = "4ee0c490-259d-50c0-8cf2-206a405c8207";
}

struct Fields {
    key: Field,
    name: Field,
    text_en: Field,
    text_es: Field,
    tag: Field,
}

#[derive(Default)]
struct Docs {
    by_key: Vec<Option<Arc<Doc>>>,
    keys_of_service: HashMap<String, Vec<u64>>,
}

pub struct Index {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    docs: RwLock<Docs>,
}

fn analyzer(language: Option<Language>) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match language {
        Some(language) => builder.filter(Stemmer::new(language)).build(),
        None => builder.build(),
    }
}

fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The canonical code of a language given as an ISO 639-1 or -3 code or an English
/// or native name; unknown ones stay as given (lower-cased).
pub fn language_code(given: &str) -> String {
    const NAMES: [(&str, &[&str]); 16] = [
        ("en", &["eng", "english"]),
        ("es", &["spa", "spanish", "espanol", "español"]),
        ("zh", &["zho", "chi", "chinese", "mandarin", "cantonese"]),
        ("vi", &["vie", "vietnamese"]),
        ("ko", &["kor", "korean"]),
        ("tl", &["tgl", "fil", "tagalog", "filipino"]),
        ("ru", &["rus", "russian"]),
        ("ar", &["ara", "arabic"]),
        ("ht", &["hat", "haitian creole", "kreyol"]),
        ("fr", &["fra", "fre", "french"]),
        ("pt", &["por", "portuguese"]),
        ("hi", &["hin", "hindi"]),
        ("th", &["tha", "thai"]),
        ("uk", &["ukr", "ukrainian"]),
        ("sw", &["swa", "swahili"]),
        ("asl", &["ase", "american sign language", "sign language"]),
    ];
    let lower = given.trim().to_lowercase();
    NAMES
        .iter()
        .find(|(code, others)| *code == lower || others.contains(&lower.as_str()))
        .map_or(lower, |(code, _)| (*code).to_owned())
}

/// Canonical codes of a list of languages (as [`language_code`]), without repeats;
/// `None` if one is not a two- or three-letter code.
pub fn language_codes(items: impl IntoIterator<Item = String>) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let code = language_code(&item);
        if !(2..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Some(out)
}

/// What a document keeps in memory once indexed: what the rules after the index
/// and the result lists read. The words, terms and languages live in tantivy.
fn slim(doc: Doc) -> Doc {
    Doc {
        alternate_names: Vec::new(),
        description: String::new(),
        terms: Vec::new(),
        term_names: Vec::new(),
        languages: Vec::new(),
        location_name: None,
        ..doc
    }
}

fn cell(point: Point) -> (i64, i64) {
    #[allow(clippy::cast_possible_truncation)] // Degrees / 0.5 fit easily.
    let c = (
        (point.lat / CELL_DEGREES).floor() as i64,
        (point.lng / CELL_DEGREES).floor() as i64,
    );
    c
}

fn tag(kind: &str, value: &str) -> String {
    format!("{kind}:{value}")
}

impl Index {
    pub fn new() -> Result<Self, SearchError> {
        let mut schema = Schema::builder();
        let key = schema.add_u64_field("key", FAST | INDEXED);
        let text = |tokenizer: &str| text_options(tokenizer, IndexRecordOption::WithFreqs);
        let name = schema.add_text_field("name", text("folded"));
        let english = schema.add_text_field("text_en", text("en"));
        let spanish = schema.add_text_field("text_es", text("es"));
        let tag_field = schema.add_text_field("tag", STRING);
        let index = tantivy::Index::create_in_ram(schema.build());
        register_analyzers(&index);
        let writer = index.writer_with_num_threads(1, 64_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            fields: Fields {
                key,
                name,
                text_en: english,
                text_es: spanish,
                tag: tag_field,
            },
            docs: RwLock::new(Docs::default()),
        })
    }

    fn document(&self, key: u64, doc: &Doc) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_u64(f.key, key);
        let names = std::iter::once(&doc.service_name)
            .chain(std::iter::once(&doc.organization_name))
            .chain(&doc.alternate_names)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        d.add_text(f.name, &names);
        let all = format!(
            "{names} {} {} {}",
            doc.description,
            doc.term_names.join(" "),
            doc.location_name.as_deref().unwrap_or("")
        );
        d.add_text(f.text_en, &all);
        d.add_text(f.text_es, &all);
        for term in &doc.terms {
            d.add_text(f.tag, tag("t", term));
        }
        for language in &doc.languages {
            d.add_text(f.tag, tag("l", language));
        }
        for state in &doc.states_served {
            d.add_text(f.tag, tag("served", state));
        }
        if let Some(point) = doc.point {
            let (i, j) = cell(point);
            d.add_text(f.tag, tag("c", &format!("{i}:{j}")));
        }
        if doc.hours.always() {
            d.add_text(f.tag, tag("t", feature::OPEN_24_7));
        }
        d
    }

    /// Replaces everything indexed for `services` with `docs` (which may be empty:
    /// the services were removed or are no longer public). Visible to searches when
    /// this returns.
    pub fn replace(&self, services: &[String], docs: Vec<Doc>) -> Result<(), SearchError> {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut table = self
            .docs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for service in services {
            for key in table.keys_of_service.remove(service).unwrap_or_default() {
                writer.delete_term(Term::from_field_u64(self.fields.key, key));
                if let Some(slot) = usize::try_from(key)
                    .ok()
                    .and_then(|k| table.by_key.get_mut(k))
                {
                    *slot = None;
                }
            }
        }
        for doc in docs {
            let key = table.by_key.len() as u64;
            writer.add_document(self.document(key, &doc))?;
            table
                .keys_of_service
                .entry(doc.service_id.clone())
                .or_default()
                .push(key);
            table.by_key.push(Some(Arc::new(slim(doc))));
        }
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// The services with documents in the index.
    pub fn services(&self) -> Vec<String> {
        self.docs
            .read()
            .map(|d| d.keys_of_service.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// How many referral targets are indexed.
    pub fn len(&self) -> usize {
        self.docs
            .read()
            .map_or(0, |d| d.by_key.iter().filter(|d| d.is_some()).count())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn text_query(&self, text: &str) -> Option<Box<dyn TantivyQuery>> {
        let f = &self.fields;
        words_query(text, f.text_en, f.text_es, f.name)
    }

    fn tag_query(&self, kind: &str, value: &str) -> Box<dyn TantivyQuery> {
        Box::new(TermQuery::new(
            Term::from_field_text(self.fields.tag, &tag(kind, value)),
            IndexRecordOption::Basic,
        ))
    }

    fn any_of(&self, kind: &str, values: &[String]) -> Box<dyn TantivyQuery> {
        Box::new(BooleanQuery::new(
            values
                .iter()
                .map(|v| (Occur::Should, self.tag_query(kind, v)))
                .collect(),
        ))
    }

    /// The grid cells around `near` (and its state's statewide services); `None`
    /// when the circle covers so many cells that the exact distance check alone is
    /// cheaper.
    fn near_query(&self, near: &Near) -> Option<Box<dyn TantivyQuery>> {
        const MAX_CELLS: i64 = 2_000;
        let (south, north, west, east) = bounding_box(near.point, near.radius_km);
        let (i0, j0) = cell(Point {
            lat: south,
            lng: west.max(-180.0),
        });
        let (i1, j1) = cell(Point {
            lat: north,
            lng: east.min(180.0),
        });
        if (i1 - i0 + 1) * (j1 - j0 + 1) > MAX_CELLS {
            return None;
        }
        let mut options: Vec<(Occur, Box<dyn TantivyQuery>)> = Vec::new();
        for i in i0..=i1 {
            for j in j0..=j1 {
                options.push((Occur::Should, self.tag_query("c", &format!("{i}:{j}"))));
            }
        }
        if let Some(state) = &near.state {
            options.push((Occur::Should, self.tag_query("served", state)));
        }
        Some(Box::new(BooleanQuery::new(options)))
    }

    fn filter_clauses(&self, filters: &Filters) -> Vec<(Occur, Box<dyn TantivyQuery>)> {
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = Vec::new();
        if !filters.terms.is_empty() {
            if filters.all_terms {
                for term in &filters.terms {
                    clauses.push((Occur::Must, self.tag_query("t", term)));
                }
            } else {
                clauses.push((Occur::Must, self.any_of("t", &filters.terms)));
            }
        }
        for population in &filters.populations {
            clauses.push((Occur::Must, self.tag_query("t", population)));
        }
        for language in &filters.languages {
            clauses.push((Occur::Must, self.tag_query("l", &language_code(language))));
        }
        let features = [
            (filters.accepts_referrals, feature::HOTLINE_REFERRALS),
            (filters.warm_transfers, feature::WARM_TRANSFERS),
            (filters.free, feature::FREE),
            (filters.open_24_7, feature::OPEN_24_7),
        ];
        for (wanted, term) in features {
            if wanted {
                clauses.push((Occur::Must, self.tag_query("t", term)));
            }
        }
        clauses
    }

    /// Runs a query at time `now`.
    pub fn search(&self, q: &Query, now: Timestamp) -> Result<Found, SearchError> {
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = Vec::new();
        let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if let Some(text) = text {
            match self.text_query(text) {
                Some(query) => clauses.push((Occur::Must, query)),
                // Only punctuation: nothing to look for.
                None => {
                    return Ok(Found {
                        total: 0,
                        hits: Vec::new(),
                    });
                }
            }
        }
        if let Some(query) = q.near.as_ref().and_then(|near| self.near_query(near)) {
            clauses.push((Occur::Must, query));
        }
        clauses.extend(self.filter_clauses(&q.filters));
        let query: Box<dyn TantivyQuery> = if clauses.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(clauses))
        };
        let searcher = self.reader.searcher();
        let scored: Vec<(f32, DocAddress)> = if text.is_some() && q.sort == Sort::Relevance {
            searcher.search(&query, &TopDocs::with_limit(MAX_RANKED).order_by_score())?
        } else {
            searcher
                .search(&query, &DocSetCollector)?
                .into_iter()
                .map(|a| (0.0, a))
                .collect()
        };
        let table = self
            .docs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut hits = Vec::new();
        // One key column per segment, opened once.
        let mut columns: Vec<Option<tantivy::columnar::Column<u64>>> =
            vec![None; searcher.segment_readers().len()];
        for (score, address) in scored {
            let slot = &mut columns[address.segment_ord as usize];
            if slot.is_none() {
                *slot = Some(
                    searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields()
                        .u64("key")?,
                );
            }
            let Some(column) = slot.as_ref() else {
                continue;
            };
            let Some(doc) = column
                .first(address.doc_id)
                .and_then(|k| usize::try_from(k).ok())
                .and_then(|k| table.by_key.get(k).cloned().flatten())
            else {
                continue;
            };
            if let Some(hit) = judge(doc, score, q, text, now) {
                hits.push(hit);
            }
        }
        drop(table);
        let total = hits.len();
        // Only the page asked for needs ordering: select it, then sort it.
        let wanted = q.offset.saturating_add(q.limit).min(total);
        if wanted > 0 && wanted < total {
            hits.select_nth_unstable_by(wanted - 1, |a, b| order(a, b, q.sort));
            hits.truncate(wanted);
        }
        hits.sort_by(|a, b| order(a, b, q.sort));
        let hits = hits.into_iter().skip(q.offset).take(q.limit).collect();
        Ok(Found { total, hits })
    }
}

/// Every word of `text` must match, in its English or Spanish stem (`english`,
/// `spanish`) or, for words of five letters or more, with one typo in `names`. `None`
/// when `text` has no words (only punctuation or search syntax).
pub(crate) fn words_query(
    text: &str,
    english: Field,
    spanish: Field,
    names: Field,
) -> Option<Box<dyn TantivyQuery>> {
    let words = tokens(&mut analyzer(None), text);
    let en = tokens(&mut analyzer(Some(Language::English)), text);
    let es = tokens(&mut analyzer(Some(Language::Spanish)), text);
    if words.is_empty() || words.len() != en.len() || words.len() != es.len() {
        return None;
    }
    let clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = words
        .iter()
        .zip(en.iter().zip(&es))
        .map(|(word, (en, es))| {
            let mut options: Vec<(Occur, Box<dyn TantivyQuery>)> = vec![
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(english, en),
                        IndexRecordOption::WithFreqs,
                    )),
                ),
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(spanish, es),
                        IndexRecordOption::WithFreqs,
                    )),
                ),
            ];
            // One typo in a name of five letters or more still finds it.
            if word.chars().count() >= 5 {
                options.push((
                    Occur::Should,
                    Box::new(FuzzyTermQuery::new(
                        Term::from_field_text(names, word),
                        1,
                        true,
                    )),
                ));
            }
            (
                Occur::Must,
                Box::new(BooleanQuery::new(options)) as Box<dyn TantivyQuery>,
            )
        })
        .collect();
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// A text field analysed by `tokenizer` (one of [`register_analyzers`]'s).
pub(crate) fn text_options(tokenizer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record),
    )
}

/// Registers the analyzers [`words_query`] expects: `folded`, `en` and `es`.
pub(crate) fn register_analyzers(index: &tantivy::Index) {
    index.tokenizers().register("folded", analyzer(None));
    index
        .tokenizers()
        .register("en", analyzer(Some(Language::English)));
    index
        .tokenizers()
        .register("es", analyzer(Some(Language::Spanish)));
}

/// The rules tantivy does not apply (exact distance, age, hours, beds, verification),
/// and the reasons for a result that passes them.
fn judge(doc: Arc<Doc>, score: f32, q: &Query, text: Option<&str>, now: Timestamp) -> Option<Hit> {
    let f = &q.filters;
    if let Some(since) = q.listed_since
        && doc.verified_at.is_none_or(|v| v < since)
    {
        return None;
    }
    let mut reasons = Vec::new();
    let mut distance = None;
    if let Some(near) = &q.near {
        match doc.point {
            Some(point) => {
                let d = distance_km(near.point, point);
                if d <= near.radius_km {
                    distance = Some(d);
                    reasons.push(Reason::Distance(d));
                } else if !served(&doc, near) {
                    return None;
                } else {
                    reasons.push(Reason::Statewide(near.state.clone().unwrap_or_default()));
                }
            }
            None if served(&doc, near) => {
                reasons.push(Reason::Statewide(near.state.clone().unwrap_or_default()));
            }
            None => return None,
        }
    }
    if let Some(age) = f.age {
        if doc.min_age.is_some_and(|m| age < m) || doc.max_age.is_some_and(|m| age > m) {
            return None;
        }
        reasons.push(Reason::Age(age));
    }
    let open_now = doc.hours.open_at(now);
    if f.open_now {
        if open_now != Some(true) {
            return None;
        }
        reasons.push(Reason::OpenNow);
    }
    if f.has_capacity {
        match doc.beds_available {
            Some(n) if n > 0 => reasons.push(Reason::BedsAvailable(n)),
            _ => return None,
        }
    }
    if let Some(months) = f.verified_within_months {
        let since = now.as_microsecond() - i64::from(months) * 30 * 24 * 3600 * 1_000_000;
        if doc.verified_at.is_none_or(|v| v < since) {
            return None;
        }
        reasons.push(Reason::Verified);
    }
    if let Some(text) = text {
        reasons.insert(0, Reason::Words(text.to_owned()));
    }
    for term in &f.terms {
        reasons.push(Reason::Term(term.clone()));
    }
    for population in &f.populations {
        reasons.push(Reason::Term(population.clone()));
    }
    for language in &f.languages {
        reasons.push(Reason::Language(language_code(language)));
    }
    let flags = [
        (f.open_24_7, Reason::Open24x7),
        (f.accepts_referrals, Reason::AcceptsReferrals),
        (f.warm_transfers, Reason::WarmTransfers),
        (f.free, Reason::Free),
    ];
    reasons.extend(flags.into_iter().filter(|(on, _)| *on).map(|(_, r)| r));
    Some(Hit {
        doc,
        distance_km: distance,
        open_now,
        score,
        reasons,
    })
}

fn served(doc: &Doc, near: &Near) -> bool {
    near.state
        .as_ref()
        .is_some_and(|s| doc.states_served.contains(s))
}

fn order(a: &Hit, b: &Hit, by: Sort) -> std::cmp::Ordering {
    let far = f64::INFINITY;
    let distance = |h: &Hit| h.distance_km.unwrap_or(far);
    let tie = || {
        a.doc
            .service_name
            .cmp(&b.doc.service_name)
            .then_with(|| a.doc.service_id.cmp(&b.doc.service_id))
            .then_with(|| {
                a.doc
                    .service_at_location_id
                    .cmp(&b.doc.service_at_location_id)
            })
    };
    match by {
        Sort::Distance => distance(a).total_cmp(&distance(b)).then_with(tie),
        Sort::Relevance => b
            .score
            .total_cmp(&a.score)
            .then_with(|| distance(a).total_cmp(&distance(b)))
            .then_with(tie),
    }
}
