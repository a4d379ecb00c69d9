//! The library's pages: browse and search for everyone (internal documents for staff),
//! one document with its versions, downloads, and the curators' upload and edit pages.

use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, Path, Query as UrlQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::index::Query;
use super::model::{AUDIENCES, Content, FieldProblem, MetadataForm, TOPICS, note};
use super::service::{self, Download, LibraryError};
use super::store::DocumentRow;
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::kernel::auth::Principal;
use crate::kernel::authz::{self, Action, Decision, Resource};
use crate::kernel::web::{HtmlError, Shell};

const PER_PAGE: usize = 20;

impl From<LibraryError> for HtmlError {
    fn from(e: LibraryError) -> Self {
        match e {
            LibraryError::NotFound => Self::NotFound,
            other => Self::Internal(other.into()),
        }
    }
}

fn render(status: StatusCode, page: &impl Template) -> Result<Response, HtmlError> {
    Ok((status, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

fn date(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn language_label(code: &str, shell: &Shell) -> String {
    let id = format!("lang-name-{code}");
    if crate::kernel::i18n::has(shell.lang, &id) {
        shell.tr.t(&id)
    } else {
        code.to_owned()
    }
}

pub struct Facet {
    pub label: String,
    pub count: usize,
    pub href: String,
    pub selected: bool,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct HitView {
    pub href: String,
    pub title: String,
    pub summary: String,
    /// Escaped text with matches in `<mark>` (tantivy escapes it).
    pub snippet: Option<String>,
    pub publisher: String,
    pub published_on: String,
    pub kind: String,
    pub internal: bool,
    pub audiences: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BrowseForm {
    q: String,
    audience: String,
    topic: String,
    language: String,
    page: String,
}

#[derive(Template)]
#[template(path = "library/browse.html")]
struct BrowsePage {
    shell: Shell,
    q: String,
    audiences: Vec<Choice>,
    topics: Vec<Choice>,
    languages: Vec<Choice>,
    audience_facets: Vec<Facet>,
    topic_facets: Vec<Facet>,
    language_facets: Vec<Facet>,
    total: usize,
    hits: Vec<HitView>,
    previous: Option<String>,
    next: Option<String>,
    curator: bool,
}

fn options(values: &[(String, String)], selected: &str) -> Vec<Choice> {
    values
        .iter()
        .map(|(value, label)| Choice {
            selected: value == selected,
            value: value.clone(),
            label: label.clone(),
        })
        .collect()
}

fn labelled(ids: &[&str], prefix: &str, shell: &Shell) -> Vec<(String, String)> {
    ids.iter()
        .map(|id| ((*id).to_owned(), shell.tr.t(&format!("{prefix}{id}"))))
        .collect()
}

fn href(form: &BrowseForm, key: &str, value: &str, page: usize) -> String {
    let mut url = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", form.q.as_str()),
        ("audience", form.audience.as_str()),
        ("topic", form.topic.as_str()),
        ("language", form.language.as_str()),
    ] {
        let v = if k == key { value } else { v };
        if !v.is_empty() {
            url.append_pair(k, v);
        }
    }
    if page > 1 {
        url.append_pair("page", &page.to_string());
    }
    format!("/library?{}", url.finish())
}

fn is_curator(principal: Option<&Principal>) -> bool {
    authz::authorize(principal, Action::CurateLibrary, Resource::Global) == Decision::Allow
}

/// The library: browse by audience, topic and language, or search the words of every
/// document, with the passage that matched.
pub async fn browse(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    UrlQuery(form): UrlQuery<BrowseForm>,
) -> Result<Response, HtmlError> {
    let principal = principal.as_ref().map(|p| &p.0);
    let shell = Shell::current();
    let page: usize = form.page.trim().parse().unwrap_or(1).max(1);
    let pick = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let query = Query {
        text: pick(&form.q).map(|q| q.chars().take(200).collect()),
        audience: pick(&form.audience),
        topic: pick(&form.topic),
        language: pick(&form.language),
        include_internal: false,
        offset: (page - 1) * PER_PAGE,
        limit: PER_PAGE,
    };
    let (found, hits) = service::search(&state.db, &state.library, principal, query).await?;
    let facets = |counts: &[(String, usize)], key: &str, prefix: &str, selected: &str| {
        counts
            .iter()
            .map(|(value, count)| Facet {
                label: if prefix.is_empty() {
                    language_label(value, &shell)
                } else {
                    shell.tr.t(&format!("{prefix}{value}"))
                },
                count: *count,
                href: href(&form, key, value, 1),
                selected: value == selected,
            })
            .collect::<Vec<_>>()
    };
    let languages: Vec<(String, String)> = found
        .languages
        .iter()
        .map(|(code, _)| (code.clone(), language_label(code, &shell)))
        .collect();
    let hits = hits
        .into_iter()
        .map(|h| HitView {
            href: format!("/library/documents/{}", h.entry.id),
            title: h.entry.title.clone(),
            summary: h.entry.summary.clone(),
            snippet: h.snippet,
            publisher: h.entry.publisher.clone(),
            published_on: h.entry.published_on.clone().unwrap_or_default(),
            kind: shell.tr.t(&format!("library-kind-{}", h.entry.kind)),
            internal: h.entry.internal,
            audiences: h
                .entry
                .audiences
                .iter()
                .map(|a| shell.tr.t(&format!("library-audience-{a}")))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let view = BrowsePage {
        audiences: options(
            &labelled(&AUDIENCES, "library-audience-", &shell),
            &form.audience,
        ),
        topics: options(&labelled(&TOPICS, "library-topic-", &shell), &form.topic),
        languages: options(&languages, &form.language),
        audience_facets: facets(
            &found.audiences,
            "audience",
            "library-audience-",
            &form.audience,
        ),
        topic_facets: facets(&found.topics, "topic", "library-topic-", &form.topic),
        language_facets: facets(&found.languages, "language", "", &form.language),
        total: found.total,
        hits,
        previous: (page > 1).then(|| href(&form, "", "", page - 1)),
        next: (page * PER_PAGE < found.total).then(|| href(&form, "", "", page + 1)),
        curator: is_curator(principal),
        q: form.q.clone(),
        shell,
    };
    render(StatusCode::OK, &view)
}

pub struct VersionView {
    pub number: i64,
    pub href: String,
    pub label: String,
    pub note: String,
    pub added: String,
    pub size: String,
    pub sha256: String,
    pub downloads: i64,
    pub extraction: String,
}

#[derive(Template)]
#[template(path = "library/document.html")]
struct DocumentPage {
    shell: Shell,
    id: String,
    title: String,
    summary: String,
    publisher: String,
    published_on: String,
    audiences: String,
    topics: String,
    languages: String,
    internal: bool,
    versions: Vec<VersionView>,
    curator: bool,
}

fn size(bytes: Option<i64>) -> String {
    match bytes {
        None => String::new(),
        Some(b) if b < 1024 => format!("{b} B"),
        Some(b) if b < 1024 * 1024 => format!("{} KB", b / 1024),
        #[allow(clippy::cast_precision_loss)] // A file's size, shown to one decimal.
        Some(b) => format!("{:.1} MB", b as f64 / 1_048_576.0),
    }
}

fn version_views(
    id: &str,
    versions: Vec<super::store::VersionRow>,
    shell: &Shell,
) -> Vec<VersionView> {
    versions
        .into_iter()
        .map(|v| VersionView {
            href: format!("/library/documents/{id}/versions/{}", v.number),
            label: v.file_name.clone().or(v.url.clone()).unwrap_or_default(),
            note: v.note,
            added: date(v.created_at),
            size: size(v.size_bytes),
            sha256: v.sha256.unwrap_or_default(),
            downloads: v.downloads,
            extraction: shell.tr.t(&format!("library-extraction-{}", v.extraction)),
            number: v.number,
        })
        .collect()
}

fn join_labels(list: &str, prefix: &str, shell: &Shell) -> String {
    list.split_whitespace()
        .map(|v| {
            if prefix.is_empty() {
                language_label(v, shell)
            } else {
                shell.tr.t(&format!("{prefix}{v}"))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One document: its description and every version.
pub async fn document(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let principal = principal.as_ref().map(|p| &p.0);
    let (row, versions) = service::document(&state.db, principal, &id)
        .await?
        .ok_or(HtmlError::NotFound)?;
    let shell = Shell::current();
    let view = DocumentPage {
        versions: version_views(&row.id, versions, &shell),
        audiences: join_labels(&row.audiences, "library-audience-", &shell),
        topics: join_labels(&row.topics, "library-topic-", &shell),
        languages: join_labels(&row.languages, "", &shell),
        internal: row.visibility == "internal",
        curator: is_curator(principal),
        id: row.id,
        title: row.title,
        summary: row.summary,
        publisher: row.publisher,
        published_on: row.published_on.unwrap_or_default(),
        shell,
    };
    render(StatusCode::OK, &view)
}

/// A version's file (as an attachment, never rendered on this site) or link.
pub async fn download(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    Path((id, number)): Path<(String, String)>,
) -> Result<Response, HtmlError> {
    let principal = principal.as_ref().map(|p| &p.0);
    let number: i64 = number.parse().map_err(|_| HtmlError::NotFound)?;
    match service::download(&state.db, principal, &id, number).await? {
        Download::Link(url) => Ok(Redirect::to(&url).into_response()),
        Download::File { name, kind, bytes } => {
            let ascii: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let disposition = format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
            );
            Ok((
                [
                    (header::CONTENT_TYPE, kind.media_type().to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                    // An uploaded HTML page must never run as part of this site.
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "sandbox; default-src 'none'".to_owned(),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "library/curate.html")]
struct CuratePage {
    shell: Shell,
    csrf: String,
    /// The document being edited, or none for a new one.
    id: Option<String>,
    form: MetadataForm,
    audiences: Vec<Choice>,
    topics: Vec<Choice>,
    documents: Vec<(String, String, String, String)>,
    versions: Vec<VersionView>,
    problems: Vec<(String, String)>,
    saved: bool,
}

fn chosen(all: &[(String, String)], list: &str) -> Vec<Choice> {
    let picked: Vec<String> = list
        .split([';', ',', ' '])
        .map(|s| s.trim().to_owned())
        .collect();
    all.iter()
        .map(|(value, label)| Choice {
            selected: picked.contains(value),
            value: value.clone(),
            label: label.clone(),
        })
        .collect()
}

async fn curate_page(
    state: &AppState,
    principal: &Principal,
    id: Option<&str>,
    form: MetadataForm,
    problems: &[FieldProblem],
    saved: bool,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let (documents, versions) = match id {
        None => (
            service::all(&state.db)
                .await?
                .into_iter()
                .map(|d| {
                    (
                        format!("/library/curate/{}", d.id),
                        d.title,
                        shell.tr.t(&format!("library-visibility-{}", d.visibility)),
                        date(d.updated_at),
                    )
                })
                .collect(),
            Vec::new(),
        ),
        Some(id) => {
            let (_, versions) = service::document(&state.db, Some(principal), id)
                .await?
                .ok_or(HtmlError::NotFound)?;
            (Vec::new(), version_views(id, versions, &shell))
        }
    };
    let view = CuratePage {
        csrf: csrf_of(principal),
        id: id.map(str::to_owned),
        audiences: chosen(
            &labelled(&AUDIENCES, "library-audience-", &shell),
            &form.audiences,
        ),
        topics: chosen(&labelled(&TOPICS, "library-topic-", &shell), &form.topics),
        form,
        documents,
        versions,
        problems: problems
            .iter()
            .map(|(field, reason)| ((*field).to_owned(), shell.tr.t(reason)))
            .collect(),
        saved,
        shell,
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render(status, &view)
}

/// The curators' page: every document, and the form to add one.
pub async fn curate(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Response, HtmlError> {
    let form = MetadataForm {
        visibility: "public".into(),
        languages: "en".into(),
        ..MetadataForm::default()
    };
    curate_page(&state, &principal, None, form, &[], false).await
}

/// A form as sent: repeated fields (the checkboxes) joined with `;`.
#[derive(Default)]
struct Sent {
    csrf: String,
    note: String,
    url: String,
    file: Option<(String, Vec<u8>)>,
    metadata: MetadataForm,
}

impl Sent {
    fn set(&mut self, name: &str, value: String) {
        let m = &mut self.metadata;
        let append = |list: &mut String, v: String| {
            if !list.is_empty() {
                list.push(';');
            }
            list.push_str(&v);
        };
        match name {
            "csrf" => self.csrf = value,
            "note" => self.note = value,
            "url" => self.url = value,
            "title" => m.title = value,
            "summary" => m.summary = value,
            "audiences" => append(&mut m.audiences, value),
            "topics" => append(&mut m.topics, value),
            "languages" => m.languages = value,
            "publisher" => m.publisher = value,
            "published_on" => m.published_on = value,
            "visibility" => m.visibility = value,
            _ => {}
        }
    }

    fn from_form(body: &[u8]) -> Self {
        let mut sent = Self::default();
        for (k, v) in form_urlencoded::parse(body) {
            sent.set(&k, v.into_owned());
        }
        sent
    }

    async fn from_multipart(mut multipart: Multipart) -> Result<Self, HtmlError> {
        let mut sent = Self::default();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|_| HtmlError::BadRequest)?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|_| HtmlError::BadRequest)?;
                if !bytes.is_empty() {
                    sent.file = Some((file_name, bytes.to_vec()));
                }
            } else {
                let value = field.text().await.map_err(|_| HtmlError::BadRequest)?;
                sent.set(&name, value);
            }
        }
        Ok(sent)
    }

    /// The file or the link sent (exactly one).
    fn content(&mut self) -> Result<Content, FieldProblem> {
        match (self.file.take(), self.url.trim().is_empty()) {
            (Some((name, bytes)), true) => Content::file(&name, bytes),
            (None, false) => Content::link(&self.url),
            _ => Err(("file", "library-problem-file-or-url")),
        }
    }
}

/// Adds a document (metadata and its first file or link).
pub async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    multipart: Multipart,
) -> Result<Response, HtmlError> {
    let mut sent = Sent::from_multipart(multipart).await?;
    check_form_token(&state, &principal, &sent.csrf).await?;
    let metadata = sent.metadata.parse();
    let content = sent.content();
    match (metadata, content) {
        (Ok(metadata), Ok(content)) => {
            let id = service::create(
                &state.db,
                &principal,
                &metadata,
                &content,
                &note(&sent.note),
            )
            .await?;
            Ok(Redirect::to(&format!("/library/curate/{id}?saved=1")).into_response())
        }
        (metadata, content) => {
            let mut problems = metadata.err().unwrap_or_default();
            problems.extend(content.err());
            curate_page(&state, &principal, None, sent.metadata, &problems, false).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SavedFlag {
    saved: String,
}

/// One document's edit page: its description, a new version, its versions.
pub async fn edit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    UrlQuery(flag): UrlQuery<SavedFlag>,
) -> Result<Response, HtmlError> {
    let (row, _) = service::document(&state.db, Some(&principal), &id)
        .await?
        .ok_or(HtmlError::NotFound)?;
    let form = form_of(row);
    curate_page(
        &state,
        &principal,
        Some(&id),
        form,
        &[],
        !flag.saved.is_empty(),
    )
    .await
}

fn form_of(row: DocumentRow) -> MetadataForm {
    MetadataForm {
        title: row.title,
        summary: row.summary,
        audiences: row.audiences,
        topics: row.topics,
        languages: row.languages.replace(' ', ", "),
        publisher: row.publisher,
        published_on: row.published_on.unwrap_or_default(),
        visibility: row.visibility,
    }
}

/// Saves a document's description.
pub async fn describe(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HtmlError> {
    let sent = Sent::from_form(&body);
    check_form_token(&state, &principal, &sent.csrf).await?;
    match sent.metadata.parse() {
        Ok(metadata) => {
            service::describe(&state.db, &principal, &id, &metadata).await?;
            Ok(Redirect::to(&format!("/library/curate/{id}?saved=1")).into_response())
        }
        Err(problems) => {
            curate_page(
                &state,
                &principal,
                Some(&id),
                sent.metadata,
                &problems,
                false,
            )
            .await
        }
    }
}

/// Adds a version to a document; the earlier ones stay.
pub async fn add_version(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, HtmlError> {
    let mut sent = Sent::from_multipart(multipart).await?;
    check_form_token(&state, &principal, &sent.csrf).await?;
    match sent.content() {
        Ok(content) => {
            service::add_version(&state.db, &principal, &id, &content, &note(&sent.note)).await?;
            Ok(Redirect::to(&format!("/library/curate/{id}?saved=1")).into_response())
        }
        Err(problem) => {
            let (row, _) = service::document(&state.db, Some(&principal), &id)
                .await?
                .ok_or(HtmlError::NotFound)?;
            let form = form_of(row);
            curate_page(&state, &principal, Some(&id), form, &[problem], false).await
        }
    }
}
