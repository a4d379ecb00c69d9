//! The library's use cases: add documents and versions, describe them, find them,
//! hand out their files, extract their text, import a folder.

use std::path::{Component, Path};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use scoped_futures::ScopedFutureExt;
use serde_json::json;
use sqlx::AnyConnection;

use super::Library;
use super::extract;
use super::index::{Entry, Found, Query};
use super::model::{Content, DocumentId, FieldProblem, Kind, Metadata, MetadataForm, Visibility};
use super::store::{self, DocumentRow, NewVersion, VersionRow};
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::authz::{self, Action, Decision, Resource};
use crate::kernel::db::{Db, Retryable};
use crate::kernel::jobs::{self, JobError, JobHandler};
use crate::kernel::outbox::{self, ChangeOp};
use crate::kernel::time::now_micros;

pub const EXTRACT_JOB: &str = "library.extract";
pub const CHANGE_ENTITY: &str = "library.document";

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("no such document or version")]
    NotFound,
    #[error("the stored file of a library version does not match its checksum")]
    Corrupt,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("the library index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

impl Retryable for LibraryError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Db(e) if e.is_retryable())
    }
}

/// Whether `principal` may see internal documents (staff only).
pub fn sees_internal(principal: Option<&Principal>) -> bool {
    authz::authorize(principal, Action::ReadInternalLibrary, Resource::Global) == Decision::Allow
}

fn list(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

pub(super) fn entry(row: DocumentRow, kind: String) -> Entry {
    Entry {
        internal: row.visibility == Visibility::Internal.as_str(),
        audiences: list(&row.audiences),
        topics: list(&row.topics),
        languages: list(&row.languages),
        id: row.id,
        title: row.title,
        summary: row.summary,
        publisher: row.publisher,
        published_on: row.published_on,
        kind,
        latest_version: row.latest_version,
        updated_at: row.updated_at,
    }
}

/// Stores `content` as version `number` of `id`; a file's text is extracted later, by
/// a job committed with it.
async fn add_version_in(
    tx: &mut AnyConnection,
    id: &str,
    number: i64,
    content: &Content,
    note: &str,
    by: Option<&str>,
) -> Result<(), sqlx::Error> {
    let (file_name, sha256, url) = match content {
        Content::File { name, sha256, .. } => (Some(name.as_str()), Some(sha256.as_str()), None),
        Content::Link(url) => (None, None, Some(url.as_str())),
    };
    if let Content::File { bytes, sha256, .. } = content {
        store::insert_file(tx, sha256, bytes).await?;
    }
    store::insert_version(
        tx,
        &NewVersion {
            document_id: id,
            number,
            kind: content.kind().as_str(),
            file_name,
            sha256,
            url,
            note,
            // A link's page is elsewhere: its title and summary are what is searched.
            extraction: if url.is_some() { "none" } else { "pending" },
            at: now_micros(),
            by,
        },
    )
    .await?;
    if url.is_none() {
        jobs::enqueue(
            tx,
            EXTRACT_JOB,
            &json!({ "document": id, "version": number }),
            jobs::DEFAULT_MAX_ATTEMPTS,
        )
        .await?;
    }
    outbox::append(tx, CHANGE_ENTITY, id, ChangeOp::Update).await?;
    Ok(())
}

fn event<'a>(
    principal: &Principal,
    action: &'a str,
    id: &str,
    detail: Option<String>,
) -> Event<'a> {
    Event {
        object_type: Some("library_document"),
        object_id: Some(id.to_owned()),
        detail,
        ..Event::by(principal, action)
    }
}

/// Adds a document with its first version.
pub async fn create(
    db: &Db,
    curator: &Principal,
    metadata: &Metadata,
    content: &Content,
    note: &str,
) -> Result<DocumentId, LibraryError> {
    let id = DocumentId::new();
    let id_text = id.to_string();
    let by = curator.id.to_string();
    let event = event(curator, "library.document.create", &id_text, None);
    db.transaction(|tx| {
        let (id, by, event) = (&id_text, &by, &event);
        async move {
            store::insert_document(tx, id, None, metadata, now_micros(), Some(by)).await?;
            add_version_in(tx, id, 1, content, note, Some(by)).await?;
            audit::append(tx, event, Outcome::Success).await?;
            Ok::<_, LibraryError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(id)
}

/// Adds a version; the earlier ones stay, downloadable. Returns its number.
pub async fn add_version(
    db: &Db,
    curator: &Principal,
    id: &str,
    content: &Content,
    note: &str,
) -> Result<i64, LibraryError> {
    let by = curator.id.to_string();
    db.transaction(|tx| {
        let by = &by;
        async move {
            let latest = store::latest_number(tx, id)
                .await?
                .ok_or(LibraryError::NotFound)?;
            let number = latest + 1;
            add_version_in(tx, id, number, content, note, Some(by)).await?;
            let event = event(
                curator,
                "library.version.create",
                id,
                Some(format!("version {number}")),
            );
            audit::append(tx, &event, Outcome::Success).await?;
            Ok(number)
        }
        .scope_boxed()
    })
    .await
}

/// Changes a document's description (who and when are kept in the audit log).
pub async fn describe(
    db: &Db,
    curator: &Principal,
    id: &str,
    metadata: &Metadata,
) -> Result<(), LibraryError> {
    let by = curator.id.to_string();
    let event = event(curator, "library.document.update", id, None);
    db.transaction(|tx| {
        let (by, event) = (&by, &event);
        async move {
            if !store::update_document(tx, id, metadata, now_micros(), Some(by)).await? {
                return Err(LibraryError::NotFound);
            }
            outbox::append(tx, CHANGE_ENTITY, id, ChangeOp::Update).await?;
            audit::append(tx, event, Outcome::Success).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// One document and its versions, newest first, if `principal` may see it.
/// Public documents (id, title) an advocate may send to a caller.
pub async fn public_titles(db: &Db) -> Result<Vec<(String, String)>, LibraryError> {
    Ok(store::public_titles(db.reader()).await?)
}

pub async fn document(
    db: &Db,
    principal: Option<&Principal>,
    id: &str,
) -> Result<Option<(DocumentRow, Vec<VersionRow>)>, LibraryError> {
    let Some(row) = store::document(db.reader(), id).await? else {
        return Ok(None);
    };
    if row.visibility == Visibility::Internal.as_str() && !sees_internal(principal) {
        return Ok(None);
    }
    let versions = store::versions(db.reader(), id).await?;
    Ok(Some((row, versions)))
}

/// Every document with its versions, for the curators.
pub async fn all(db: &Db) -> Result<Vec<DocumentRow>, LibraryError> {
    Ok(store::documents(db.reader()).await?)
}

pub enum Download {
    File {
        name: String,
        kind: Kind,
        bytes: Vec<u8>,
    },
    Link(String),
}

/// A version's file or link, counted (without recording who).
pub async fn download(
    db: &Db,
    principal: Option<&Principal>,
    id: &str,
    number: i64,
) -> Result<Download, LibraryError> {
    let (_, versions) = document(db, principal, id)
        .await?
        .ok_or(LibraryError::NotFound)?;
    let version = versions
        .into_iter()
        .find(|v| v.number == number)
        .ok_or(LibraryError::NotFound)?;
    let found = match (&version.sha256, version.url) {
        (Some(sha256), _) => {
            let bytes = store::content(db.reader(), sha256)
                .await?
                .ok_or(LibraryError::Corrupt)?;
            // The file is checked at every download: a damaged one is not handed out.
            if super::model::sha256_hex(&bytes) != *sha256 {
                return Err(LibraryError::Corrupt);
            }
            Download::File {
                name: version.file_name.unwrap_or_default(),
                kind: Kind::parse(&version.kind).unwrap_or(Kind::Text),
                bytes,
            }
        }
        (None, Some(url)) => Download::Link(url),
        (None, None) => return Err(LibraryError::Corrupt),
    };
    store::count_download(db.writer(), id, number).await?;
    Ok(found)
}

/// One search result with its snippet (HTML: escaped text, matches in `<mark>`).
pub struct Hit {
    pub entry: Arc<Entry>,
    pub snippet: Option<String>,
}

/// Searches the library as `principal` (internal documents for staff only).
pub async fn search(
    db: &Db,
    library: &Library,
    principal: Option<&Principal>,
    mut query: Query,
) -> Result<(Found, Vec<Hit>), LibraryError> {
    query.include_internal = sees_internal(principal);
    let found = library.index().search(&query)?;
    let mut hits = Vec::with_capacity(found.hits.len());
    for entry in &found.hits {
        let snippet = match query.text.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(text) => {
                let body = store::latest_text(db.reader(), &entry.id).await?;
                let body = format!("{} {}", entry.summary, body.unwrap_or_default());
                library.index().snippet(text, &body)?
            }
            None => None,
        };
        hits.push(Hit {
            entry: Arc::clone(entry),
            snippet,
        });
    }
    Ok((found, hits))
}

/// Extracts a new version's text (PDF, HTML, plain text) off the async runtime. An
/// unreadable file is recorded as `failed` and not retried (it will not improve);
/// database trouble is retried.
pub struct Extractor {
    pub db: Db,
}

impl Extractor {
    async fn extract(&self, id: &str, number: i64) -> Result<(), sqlx::Error> {
        let Some((kind, sha256)) = store::pending(self.db.reader(), id, number).await? else {
            return Ok(());
        };
        let bytes = store::content(self.db.reader(), &sha256)
            .await?
            .unwrap_or_default();
        let kind = Kind::parse(&kind).unwrap_or(Kind::Text);
        let text = tokio::task::spawn_blocking(move || extract::text(kind, &bytes)).await;
        let (state, text) = match text {
            Ok(Ok(text)) => ("done", Some(text)),
            Ok(Err(e)) => {
                tracing::warn!(document = %id, version = number, error = %e, "library text extraction failed");
                ("failed", None)
            }
            Err(_) => {
                tracing::warn!(document = %id, version = number, "library text extraction crashed");
                ("failed", None)
            }
        };
        self.db
            .transaction(|tx| {
                let text = text.as_deref();
                async move {
                    store::set_extraction(tx, id, number, state, text).await?;
                    outbox::append(tx, CHANGE_ENTITY, id, ChangeOp::Update).await?;
                    Ok::<_, sqlx::Error>(())
                }
                .scope_boxed()
            })
            .await
    }
}

impl JobHandler for Extractor {
    fn kind(&self) -> &'static str {
        EXTRACT_JOB
    }

    fn run<'a>(&'a self, payload: &'a serde_json::Value) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let id = payload["document"]
                .as_str()
                .ok_or_else(|| JobError("payload has no document".into()))?;
            let number = payload["version"]
                .as_i64()
                .ok_or_else(|| JobError("payload has no version".into()))?;
            self.extract(id, number)
                .await
                .map_err(|e| JobError(format!("database: {e}")))
        })
    }
}

/// One row of an import's metadata.csv.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct ImportRow {
    file: String,
    url: String,
    note: String,
    title: String,
    summary: String,
    audiences: String,
    topics: String,
    languages: String,
    publisher: String,
    published_on: String,
    visibility: String,
}

/// A refused row of an import: its line in metadata.csv, the field, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct ImportProblem {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "metadata.csv line {}: {}: {}",
            self.line, self.field, self.reason
        )
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub new_versions: usize,
    pub unchanged_files: usize,
    pub problems: Vec<ImportProblem>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
    #[error("metadata.csv: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Library(#[from] LibraryError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        Self::Library(e.into())
    }
}

impl Retryable for ImportError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Library(e) if e.is_retryable())
    }
}

fn problem(line: u64, (field, reason): FieldProblem) -> ImportProblem {
    ImportProblem {
        line,
        field: field.to_owned(),
        reason: crate::kernel::i18n::text(crate::kernel::i18n::Lang::En, reason, &[]),
    }
}

/// A file named by metadata.csv: a plain relative path inside the folder.
fn import_file(dir: &Path, name: &str) -> Result<Result<Content, FieldProblem>, ImportError> {
    let relative = Path::new(name);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Ok(Err(("file", "library-problem-path")));
    }
    let path = dir.join(relative);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Content::file(name, bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(Err(("file", "library-problem-missing-file")))
        }
        Err(e) => Err(ImportError::Read(path.display().to_string(), e)),
    }
}

/// Imports a folder of files described by its `metadata.csv` (columns: file or url,
/// title, summary, audiences, topics, languages, publisher, published_on, visibility,
/// note). A document is matched by its file name or link, so importing again updates
/// descriptions and adds a version only where the file changed. All or nothing: if
/// any row is refused, nothing is stored and every problem is reported.
pub async fn import_dir(db: &Db, dir: &Path) -> Result<ImportReport, ImportError> {
    let metadata = dir.join("metadata.csv");
    let mut reader = csv::Reader::from_path(&metadata)
        .map_err(|e| ImportError::Read(metadata.display().to_string(), std::io::Error::other(e)))?;
    let mut report = ImportReport::default();
    let mut rows = Vec::new();
    for (n, row) in reader.deserialize::<ImportRow>().enumerate() {
        let line = n as u64 + 2;
        let row = row?;
        let form = MetadataForm {
            title: row.title,
            summary: row.summary,
            audiences: row.audiences,
            topics: row.topics,
            languages: row.languages,
            publisher: row.publisher,
            published_on: row.published_on,
            visibility: row.visibility,
        };
        let metadata = form.parse();
        let (file, url) = (row.file.trim(), row.url.trim());
        let (key, content) = match (file.is_empty(), url.is_empty()) {
            (false, true) => (file.to_owned(), import_file(dir, file)?),
            (true, false) => (url.to_owned(), Content::link(url)),
            _ => (String::new(), Err(("file", "library-problem-file-or-url"))),
        };
        if let Err(problems) = &metadata {
            report
                .problems
                .extend(problems.iter().map(|p| problem(line, *p)));
        }
        if let Err(p) = &content {
            report.problems.push(problem(line, *p));
        }
        if let (Ok(metadata), Ok(content)) = (metadata, content) {
            let note = super::model::note(if row.note.trim().is_empty() {
                "Imported"
            } else {
                &row.note
            });
            rows.push((key, metadata, content, note));
        }
    }
    if !report.problems.is_empty() {
        return Ok(report);
    }
    let event = Event {
        action: "library.import",
        object_type: Some("library_document"),
        detail: Some(format!("{} rows", rows.len())),
        ..Event::default()
    };
    let counts = db
        .transaction(|tx| {
            let (rows, event) = (&rows, &event);
            async move {
                let mut counts = (0, 0, 0);
                for (key, metadata, content, note) in rows {
                    let now = now_micros();
                    let same = |sha: &Option<String>, url: &Option<String>| match content {
                        Content::File { sha256, .. } => sha.as_deref() == Some(sha256),
                        Content::Link(link) => url.as_deref() == Some(link),
                    };
                    match store::by_import_key(tx, key).await? {
                        None => {
                            let id = DocumentId::new().to_string();
                            store::insert_document(tx, &id, Some(key), metadata, now, None).await?;
                            add_version_in(tx, &id, 1, content, note, None).await?;
                            counts.0 += 1;
                        }
                        Some((id, latest, sha, url)) => {
                            store::update_document(tx, &id, metadata, now, None).await?;
                            if same(&sha, &url) {
                                outbox::append(tx, CHANGE_ENTITY, &id, ChangeOp::Update).await?;
                                counts.2 += 1;
                            } else {
                                add_version_in(tx, &id, latest + 1, content, note, None).await?;
                                counts.1 += 1;
                            }
                        }
                    }
                }
                audit::append(tx, event, Outcome::Success).await?;
                Ok::<_, ImportError>(counts)
            }
            .scope_boxed()
        })
        .await?;
    (report.created, report.new_versions, report.unchanged_files) = counts;
    Ok(report)
}
