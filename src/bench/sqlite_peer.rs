//! The alternative a team would build first: SQLite FTS5 for words, an R*Tree for the
//! box around the caller, a tag table for filters, then exact distance in Rust. Built
//! from the same documents as atip's index and asked the same questions.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Row as _, Sqlite};

use crate::directory::search::index::feature;
use crate::directory::search::model::{bounding_box, distance_km};
use crate::directory::search::{Doc, Near, Query};

pub struct Peer {
    pool: SqlitePool,
}

/// A result: service, service at location, distance.
pub type Row = (String, Option<String>, f64);

pub(super) fn body(doc: &Doc) -> String {
    let names = std::iter::once(&doc.service_name)
        .chain(std::iter::once(&doc.organization_name))
        .chain(&doc.alternate_names)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{names} {} {} {}",
        doc.description,
        doc.term_names.join(" "),
        doc.location_name.as_deref().unwrap_or("")
    )
}

pub(super) fn tags(doc: &Doc) -> Vec<String> {
    let mut tags: Vec<String> = doc.terms.iter().map(|t| format!("t:{t}")).collect();
    tags.extend(doc.languages.iter().map(|l| format!("l:{l}")));
    if doc.hours.always() {
        tags.push(format!("t:{}", feature::OPEN_24_7));
    }
    tags.sort();
    tags.dedup();
    tags
}

/// The tags a query requires.
pub(super) fn tags_of_query(q: &Query) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for term in &q.filters.terms {
        tags.push(format!("t:{term}"));
    }
    for language in &q.filters.languages {
        tags.push(format!("l:{language}"));
    }
    if q.filters.open_24_7 {
        tags.push(format!("t:{}", feature::OPEN_24_7));
    }
    tags
}

/// A candidate from a peer's database: (service, service at location), name, (lat, lng).
pub(super) type Candidate = ((String, Option<String>), String, (f64, f64));

/// What every peer does after its database: exact distance, the circle, nearest first
/// (then name and ids), the page.
pub(super) fn finish(candidates: Vec<Candidate>, near: &Near, q: &Query) -> Vec<Row> {
    let mut rows: Vec<(Row, String)> = Vec::new();
    for ((service, sal), name, (lat, lng)) in candidates {
        let d = distance_km(near.point, crate::directory::search::Point { lat, lng });
        if d <= near.radius_km {
            rows.push(((service, sal, d), name));
        }
    }
    rows.sort_by(|a, b| {
        a.0.2
            .total_cmp(&b.0.2)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| a.0.0.cmp(&b.0.0))
            .then_with(|| a.0.1.cmp(&b.0.1))
    });
    rows.into_iter()
        .skip(q.offset)
        .take(q.limit)
        .map(|(r, _)| r)
        .collect()
}

impl Peer {
    pub async fn build(file: &Path, docs: &[std::sync::Arc<Doc>]) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let pool = SqlitePoolOptions::new()
            .max_connections(u32::try_from(threads).unwrap_or(2))
            .connect_with(options)
            .await?;
        for ddl in [
            "CREATE TABLE docs (id INTEGER PRIMARY KEY, service_id TEXT NOT NULL, sal_id TEXT, name TEXT NOT NULL, lat REAL, lng REAL, min_age REAL, max_age REAL)",
            "CREATE VIRTUAL TABLE docs_fts USING fts5(body, tokenize = 'porter unicode61 remove_diacritics 2')",
            "CREATE VIRTUAL TABLE docs_geo USING rtree(id, min_lat, max_lat, min_lng, max_lng)",
            "CREATE TABLE doc_tags (tag TEXT NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (tag, doc)) WITHOUT ROWID",
        ] {
            sqlx::query(ddl).execute(&pool).await?;
        }
        let mut tx = pool.begin().await?;
        for (n, doc) in docs.iter().enumerate() {
            let id = i64::try_from(n).unwrap_or(i64::MAX);
            sqlx::query("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                .bind(id)
                .bind(&doc.service_id)
                .bind(&doc.service_at_location_id)
                .bind(&doc.service_name)
                .bind(doc.point.map(|p| p.lat))
                .bind(doc.point.map(|p| p.lng))
                .bind(doc.min_age)
                .bind(doc.max_age)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO docs_fts (rowid, body) VALUES (?, ?)")
                .bind(id)
                .bind(body(doc))
                .execute(&mut *tx)
                .await?;
            if let Some(p) = doc.point {
                sqlx::query("INSERT INTO docs_geo VALUES (?, ?, ?, ?, ?)")
                    .bind(id)
                    .bind(p.lat)
                    .bind(p.lat)
                    .bind(p.lng)
                    .bind(p.lng)
                    .execute(&mut *tx)
                    .await?;
            }
            for tag in tags(doc) {
                sqlx::query("INSERT INTO doc_tags VALUES (?, ?)")
                    .bind(tag)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        Ok(Self { pool })
    }

    /// The benchmark's queries only: words, a circle, tags, age; nearest first.
    pub async fn search(&self, q: &Query) -> Result<Vec<Row>, sqlx::Error> {
        let Some(near) = &q.near else {
            return Ok(Vec::new());
        };
        let (south, north, west, east) = bounding_box(near.point, near.radius_km);
        let mut sql = String::from(
            "SELECT d.service_id, d.sal_id, d.name, d.lat, d.lng FROM docs_geo g JOIN docs d ON d.id = g.id \
             WHERE g.min_lat >= ? AND g.max_lat <= ? AND g.min_lng >= ? AND g.max_lng <= ?",
        );
        let tags = tags_of_query(q);
        let text = q
            .text
            .as_deref()
            .map(|t| format!("\"{}\"", t.replace('"', "")));
        if text.is_some() {
            sql.push_str(" AND d.id IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)");
        }
        for _ in &tags {
            sql.push_str(" AND d.id IN (SELECT doc FROM doc_tags WHERE tag = ?)");
        }
        if q.filters.age.is_some() {
            sql.push_str(" AND (d.min_age IS NULL OR d.min_age <= ?) AND (d.max_age IS NULL OR d.max_age >= ?)");
        }
        let mut query = sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(sql))
            .bind(south)
            .bind(north)
            .bind(west)
            .bind(east);
        if let Some(text) = text {
            query = query.bind(text);
        }
        for tag in tags {
            query = query.bind(tag);
        }
        if let Some(age) = q.filters.age {
            query = query.bind(age).bind(age);
        }
        let mut rows = Vec::new();
        for row in query.fetch_all(&self.pool).await? {
            rows.push((
                (row.try_get(0)?, row.try_get(1)?),
                row.try_get(2)?,
                (row.try_get(3)?, row.try_get(4)?),
            ));
        }
        Ok(finish(rows, near, q))
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
