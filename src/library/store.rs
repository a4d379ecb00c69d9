//! The library's SQL (one text for SQLite and PostgreSQL).

use sqlx::{AnyConnection, AnyPool, FromRow};

use super::model::Metadata;

#[derive(Clone, Debug, FromRow)]
pub struct DocumentRow {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub audiences: String,
    pub topics: String,
    pub languages: String,
    pub publisher: String,
    pub published_on: Option<String>,
    pub visibility: String,
    pub latest_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct VersionRow {
    pub number: i64,
    pub kind: String,
    pub file_name: Option<String>,
    pub sha256: Option<String>,
    pub url: Option<String>,
    pub size_bytes: Option<i64>,
    pub note: String,
    pub extraction: String,
    pub downloads: i64,
    pub created_at: i64,
}

/// One version to add.
pub struct NewVersion<'a> {
    pub document_id: &'a str,
    pub number: i64,
    pub kind: &'a str,
    pub file_name: Option<&'a str>,
    pub sha256: Option<&'a str>,
    pub url: Option<&'a str>,
    pub note: &'a str,
    pub extraction: &'a str,
    pub at: i64,
    pub by: Option<&'a str>,
}

const DOCUMENT: &str = "SELECT id, title, summary, audiences, topics, languages, publisher, published_on, \
     visibility, latest_version, created_at, updated_at FROM library_documents";

fn joined(items: &[impl AsRef<str>]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Stores a file once per checksum.
pub async fn insert_file(
    conn: &mut AnyConnection,
    sha256: &str,
    bytes: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO library_files (sha256, size_bytes, content) VALUES ($1, $2, $3) \
         ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(sha256)
    .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
    .bind(bytes)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_document(
    conn: &mut AnyConnection,
    id: &str,
    import_key: Option<&str>,
    m: &Metadata,
    at: i64,
    by: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO library_documents (id, import_key, title, summary, audiences, topics, languages, \
         publisher, published_on, visibility, latest_version, created_at, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $11, $12)",
    )
    .bind(id)
    .bind(import_key)
    .bind(&m.title)
    .bind(&m.summary)
    .bind(joined(&m.audiences))
    .bind(joined(&m.topics))
    .bind(joined(&m.languages))
    .bind(&m.publisher)
    .bind(m.published_on.map(|d| d.to_string()))
    .bind(m.visibility.as_str())
    .bind(at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Changes a document's description; false if there is no such document.
pub async fn update_document(
    conn: &mut AnyConnection,
    id: &str,
    m: &Metadata,
    at: i64,
    by: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE library_documents SET title = $2, summary = $3, audiences = $4, topics = $5, \
         languages = $6, publisher = $7, published_on = $8, visibility = $9, updated_at = $10, \
         updated_by = $11 WHERE id = $1",
    )
    .bind(id)
    .bind(&m.title)
    .bind(&m.summary)
    .bind(joined(&m.audiences))
    .bind(joined(&m.topics))
    .bind(joined(&m.languages))
    .bind(&m.publisher)
    .bind(m.published_on.map(|d| d.to_string()))
    .bind(m.visibility.as_str())
    .bind(at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds a version and makes it the latest.
pub async fn insert_version(
    conn: &mut AnyConnection,
    v: &NewVersion<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO library_versions (document_id, number, kind, file_name, sha256, url, note, \
         extraction, downloads, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
    )
    .bind(v.document_id)
    .bind(v.number)
    .bind(v.kind)
    .bind(v.file_name)
    .bind(v.sha256)
    .bind(v.url)
    .bind(v.note)
    .bind(v.extraction)
    .bind(v.at)
    .bind(v.by)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE library_documents SET latest_version = $2, updated_at = $3 WHERE id = $1")
        .bind(v.document_id)
        .bind(v.number)
        .bind(v.at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The latest version's number and what it holds (checksum or link), by the key an
/// import gave the document.
pub async fn by_import_key(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<Option<(String, i64, Option<String>, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, d.latest_version, v.sha256, v.url FROM library_documents d \
         LEFT JOIN library_versions v ON v.document_id = d.id AND v.number = d.latest_version \
         WHERE d.import_key = $1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await
}

pub async fn latest_number(conn: &mut AnyConnection, id: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT latest_version FROM library_documents WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn document(pool: &AnyPool, id: &str) -> Result<Option<DocumentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{DOCUMENT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Every document, newest change first (the curators' list).
pub async fn documents(pool: &AnyPool) -> Result<Vec<DocumentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{DOCUMENT} ORDER BY updated_at DESC, id"
    )))
    .fetch_all(pool)
    .await
}

/// Public documents by title (id, title), for an advocate choosing one to send; the
/// first 500, which a library of leaflets does not reach.
pub async fn public_titles(pool: &AnyPool) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, title FROM library_documents WHERE visibility = 'public' \
         ORDER BY title, id LIMIT 500",
    )
    .fetch_all(pool)
    .await
}

pub async fn versions(pool: &AnyPool, id: &str) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.number, v.kind, v.file_name, v.sha256, v.url, f.size_bytes, v.note, v.extraction, \
         v.downloads, v.created_at FROM library_versions v \
         LEFT JOIN library_files f ON f.sha256 = v.sha256 \
         WHERE v.document_id = $1 ORDER BY v.number DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// A version's stored bytes (none for a link).
pub async fn content(pool: &AnyPool, sha256: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT content FROM library_files WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(pool)
        .await
}

/// Counts one download; who downloaded is not recorded anywhere.
pub async fn count_download(pool: &AnyPool, id: &str, number: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE library_versions SET downloads = downloads + 1 WHERE document_id = $1 AND number = $2",
    )
    .bind(id)
    .bind(number)
    .execute(pool)
    .await?;
    Ok(())
}

/// The kind and checksum of a version waiting for its text.
pub async fn pending(
    pool: &AnyPool,
    id: &str,
    number: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, sha256 FROM library_versions WHERE document_id = $1 AND number = $2 \
         AND extraction = 'pending' AND sha256 IS NOT NULL",
    )
    .bind(id)
    .bind(number)
    .fetch_optional(pool)
    .await
}

pub async fn set_extraction(
    conn: &mut AnyConnection,
    id: &str,
    number: i64,
    state: &str,
    text: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE library_versions SET extraction = $3, extracted_text = $4 \
         WHERE document_id = $1 AND number = $2",
    )
    .bind(id)
    .bind(number)
    .bind(state)
    .bind(text)
    .execute(conn)
    .await?;
    Ok(())
}

/// A page of documents by id with their latest version's kind and text (for the index).
pub async fn for_index(
    pool: &AnyPool,
    after: &str,
    limit: i64,
) -> Result<Vec<(DocumentRow, String, Option<String>)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        document: DocumentRow,
        kind: Option<String>,
        extracted_text: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT d.id, d.title, d.summary, d.audiences, d.topics, d.languages, d.publisher, \
         d.published_on, d.visibility, d.latest_version, d.created_at, d.updated_at, v.kind, v.extracted_text \
         FROM library_documents d \
         LEFT JOIN library_versions v ON v.document_id = d.id AND v.number = d.latest_version \
         WHERE d.id > $1 ORDER BY d.id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.document, r.kind.unwrap_or_default(), r.extracted_text))
        .collect())
}

/// The latest version's text of one document (for a snippet).
pub async fn latest_text(pool: &AnyPool, id: &str) -> Result<Option<String>, sqlx::Error> {
    let text: Option<Option<String>> = sqlx::query_scalar(
        "SELECT v.extracted_text FROM library_documents d \
         JOIN library_versions v ON v.document_id = d.id AND v.number = d.latest_version WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(text.flatten())
}

/// Whether the change log holds a change of `entity` after `seq`.
pub async fn changed_since(pool: &AnyPool, seq: i64, entity: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM change_log WHERE entity = $1 AND seq > $2 LIMIT 1")
            .bind(entity)
            .bind(seq)
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}
