//! The library's search index: tantivy for the words (titles, summaries and the text
//! of each document's latest version, English and Spanish stems) and highlighted
//! snippets; the descriptions (a few thousand at most) stay in memory for filters,
//! facet counts and listing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use tantivy::collector::TopDocs;
use tantivy::query::Query as TantivyQuery;
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, Schema};
use tantivy::snippet::SnippetGenerator;
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

use crate::directory::search::index::{register_analyzers, text_options, words_query};

/// One document as the library's lists show it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub audiences: Vec<String>,
    pub topics: Vec<String>,
    pub languages: Vec<String>,
    pub publisher: String,
    pub published_on: Option<String>,
    pub internal: bool,
    pub kind: String,
    pub latest_version: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Query {
    pub text: Option<String>,
    pub audience: Option<String>,
    pub topic: Option<String>,
    pub language: Option<String>,
    /// Staff see internal documents too.
    pub include_internal: bool,
    pub offset: usize,
    pub limit: usize,
}

/// How many results carry each value of a facet.
pub type Counts = Vec<(String, usize)>;

#[derive(Debug, Default)]
pub struct Found {
    pub total: usize,
    pub hits: Vec<Arc<Entry>>,
    pub audiences: Counts,
    pub topics: Counts,
    pub languages: Counts,
}

struct Fields {
    key: Field,
    title: Field,
    text_en: Field,
    text_es: Field,
}

pub struct LibraryIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    entries: RwLock<Vec<Arc<Entry>>>,
}

/// Text matches ranked before the filters apply; far more than a library holds.
const MAX_RANKED: usize = 100_000;
const SNIPPET_CHARS: usize = 240;

fn count(values: &mut HashMap<String, usize>, of: &[String]) {
    for v in of {
        *values.entry(v.clone()).or_default() += 1;
    }
}

fn sorted(counts: HashMap<String, usize>) -> Counts {
    let mut counts: Counts = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

impl LibraryIndex {
    pub fn new() -> tantivy::Result<Self> {
        let mut schema = Schema::builder();
        let key = schema.add_u64_field("key", FAST | INDEXED);
        let text =
            |tokenizer: &str| text_options(tokenizer, IndexRecordOption::WithFreqsAndPositions);
        let title = schema.add_text_field("title", text("folded"));
        let english = schema.add_text_field("text_en", text("en"));
        let spanish = schema.add_text_field("text_es", text("es"));
        let index = tantivy::Index::create_in_ram(schema.build());
        register_analyzers(&index);
        let writer = index.writer_with_num_threads(1, 32_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            fields: Fields {
                key,
                title,
                text_en: english,
                text_es: spanish,
            },
            entries: RwLock::new(Vec::new()),
        })
    }

    /// Replaces the whole index with `documents` (each with the text of its latest
    /// version). Visible to searches when this returns.
    pub fn rebuild(&self, documents: Vec<(Entry, String)>) -> tantivy::Result<()> {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        writer.delete_all_documents()?;
        let f = &self.fields;
        let mut entries = Vec::with_capacity(documents.len());
        for (key, (entry, body)) in documents.into_iter().enumerate() {
            let mut d = TantivyDocument::default();
            d.add_u64(f.key, key as u64);
            d.add_text(f.title, &entry.title);
            let all = format!(
                "{} {} {} {body}",
                entry.title, entry.summary, entry.publisher
            );
            d.add_text(f.text_en, &all);
            d.add_text(f.text_es, &all);
            writer.add_document(d)?;
            entries.push(Arc::new(entry));
        }
        writer.commit()?;
        self.reader.reload()?;
        *self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = entries;
        Ok(())
    }

    fn text_query(&self, text: &str) -> Option<Box<dyn TantivyQuery>> {
        let f = &self.fields;
        words_query(text, f.text_en, f.text_es, f.title)
    }

    pub fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn search(&self, q: &Query) -> tantivy::Result<Found> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let ranked: Vec<Arc<Entry>> = match text {
            None => {
                let mut all = entries;
                // Newest first, then by title.
                all.sort_by(|a, b| {
                    b.published_on
                        .cmp(&a.published_on)
                        .then_with(|| a.title.to_lowercase().cmp(&b.title.to_lowercase()))
                });
                all
            }
            Some(text) => {
                let Some(query) = self.text_query(text) else {
                    return Ok(Found::default());
                };
                let searcher = self.reader.searcher();
                let top =
                    searcher.search(&query, &TopDocs::with_limit(MAX_RANKED).order_by_score())?;
                let mut out = Vec::with_capacity(top.len());
                for (_, address) in top {
                    let keys = searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields()
                        .u64("key")?;
                    if let Some(entry) = keys
                        .first(address.doc_id)
                        .and_then(|k| usize::try_from(k).ok())
                        .and_then(|k| entries.get(k))
                    {
                        out.push(Arc::clone(entry));
                    }
                }
                out
            }
        };
        let has = |list: &[String], wanted: &Option<String>| {
            wanted.as_ref().is_none_or(|w| list.contains(w))
        };
        let hits: Vec<Arc<Entry>> = ranked
            .into_iter()
            .filter(|e| q.include_internal || !e.internal)
            .filter(|e| has(&e.audiences, &q.audience))
            .filter(|e| has(&e.topics, &q.topic))
            .filter(|e| has(&e.languages, &q.language))
            .collect();
        let (mut audiences, mut topics, mut languages) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for e in &hits {
            count(&mut audiences, &e.audiences);
            count(&mut topics, &e.topics);
            count(&mut languages, &e.languages);
        }
        Ok(Found {
            total: hits.len(),
            hits: hits.into_iter().skip(q.offset).take(q.limit).collect(),
            audiences: sorted(audiences),
            topics: sorted(topics),
            languages: sorted(languages),
        })
    }

    /// The passage of `body` that best matches `text`, as HTML with the matching words
    /// in `<mark>` (everything else escaped); `None` if no word of it is there.
    pub fn snippet(&self, text: &str, body: &str) -> tantivy::Result<Option<String>> {
        let Some(query) = self.text_query(text) else {
            return Ok(None);
        };
        let searcher = self.reader.searcher();
        for field in [self.fields.text_en, self.fields.text_es] {
            let mut generator = SnippetGenerator::create(&searcher, &*query, field)?;
            generator.set_max_num_chars(SNIPPET_CHARS);
            let mut snippet = generator.snippet(body);
            if !snippet.is_empty() {
                snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
                return Ok(Some(snippet.to_html()));
            }
        }
        Ok(None)
    }
}
