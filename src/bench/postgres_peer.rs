//! The PostgreSQL alternative: full text (`tsvector`, English stemming, GIN), the
//! built-in `point` type with a GiST index for the box around the caller, a tag table
//! for filters, then the same exact distance and order in Rust. Built in a schema of
//! its own from the same documents, asked the same questions.

use std::fmt::Write as _;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Row as _};

use super::sqlite_peer::{Row, body, finish, tags, tags_of_query};
use crate::directory::search::model::bounding_box;
use crate::directory::search::{Doc, Query};

const SCHEMA: &str = "atip_bench_peer";

pub struct Peer {
    pool: PgPool,
}

impl Peer {
    pub async fn build(url: &str, docs: &[std::sync::Arc<Doc>]) -> Result<Self, sqlx::Error> {
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let pool = PgPoolOptions::new()
            .max_connections(u32::try_from(threads).unwrap_or(2))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query(sqlx::AssertSqlSafe(format!("SET search_path TO {SCHEMA}")))
                        .execute(conn)
                        .await
                        .map(|_| ())
                })
            })
            .connect(url)
            .await?;
        for ddl in [
            format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"),
            format!("CREATE SCHEMA {SCHEMA}"),
            format!(
                "CREATE TABLE {SCHEMA}.docs (id BIGINT PRIMARY KEY, service_id TEXT NOT NULL, sal_id TEXT, name TEXT NOT NULL, \
                 lat DOUBLE PRECISION, lng DOUBLE PRECISION, geo POINT, min_age DOUBLE PRECISION, max_age DOUBLE PRECISION, body TSVECTOR)"
            ),
            format!(
                "CREATE TABLE {SCHEMA}.doc_tags (tag TEXT NOT NULL, doc BIGINT NOT NULL, PRIMARY KEY (tag, doc))"
            ),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(ddl)).execute(&pool).await?;
        }
        // Column arrays, a few thousand documents per statement.
        for (chunk_no, chunk) in docs.chunks(5_000).enumerate() {
            let first = chunk_no * 5_000;
            let ids: Vec<i64> = (first..first + chunk.len())
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
                .collect();
            let services: Vec<&str> = chunk.iter().map(|d| d.service_id.as_str()).collect();
            let sals: Vec<Option<&str>> = chunk
                .iter()
                .map(|d| d.service_at_location_id.as_deref())
                .collect();
            let names: Vec<&str> = chunk.iter().map(|d| d.service_name.as_str()).collect();
            let lats: Vec<Option<f64>> = chunk.iter().map(|d| d.point.map(|p| p.lat)).collect();
            let lngs: Vec<Option<f64>> = chunk.iter().map(|d| d.point.map(|p| p.lng)).collect();
            let min_ages: Vec<Option<f64>> = chunk.iter().map(|d| d.min_age).collect();
            let max_ages: Vec<Option<f64>> = chunk.iter().map(|d| d.max_age).collect();
            let bodies: Vec<String> = chunk.iter().map(|d| body(d)).collect();
            sqlx::query::<Postgres>(
                "INSERT INTO docs (id, service_id, sal_id, name, lat, lng, geo, min_age, max_age, body) \
                 SELECT id, service_id, sal_id, name, lat, lng, \
                        CASE WHEN lat IS NULL OR lng IS NULL THEN NULL ELSE point(lng, lat) END, \
                        min_age, max_age, to_tsvector('english', body) \
                 FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::FLOAT8[], $6::FLOAT8[], $7::FLOAT8[], $8::FLOAT8[], $9::TEXT[]) \
                 AS t(id, service_id, sal_id, name, lat, lng, min_age, max_age, body)",
            )
            .bind(&ids)
            .bind(&services)
            .bind(&sals)
            .bind(&names)
            .bind(&lats)
            .bind(&lngs)
            .bind(&min_ages)
            .bind(&max_ages)
            .bind(&bodies)
            .execute(&pool)
            .await?;
            let (mut tag_names, mut tag_docs): (Vec<String>, Vec<i64>) = (Vec::new(), Vec::new());
            for (doc, id) in chunk.iter().zip(&ids) {
                for tag in tags(doc) {
                    tag_names.push(tag);
                    tag_docs.push(*id);
                }
            }
            sqlx::query::<Postgres>(
                "INSERT INTO doc_tags SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[])",
            )
            .bind(&tag_names)
            .bind(&tag_docs)
            .execute(&pool)
            .await?;
        }
        for ddl in [
            "CREATE INDEX docs_body ON docs USING gin (body)",
            "CREATE INDEX docs_geo ON docs USING gist (geo)",
            "ANALYZE docs",
            "ANALYZE doc_tags",
        ] {
            sqlx::query(ddl).execute(&pool).await?;
        }
        Ok(Self { pool })
    }

    /// The benchmark's queries only: words, a circle, tags, age; nearest first.
    pub async fn search(&self, q: &Query) -> Result<Vec<Row>, sqlx::Error> {
        let Some(near) = &q.near else {
            return Ok(Vec::new());
        };
        let (south, north, west, east) = bounding_box(near.point, near.radius_km);
        let mut sql = String::from(
            "SELECT d.service_id, d.sal_id, d.name, d.lat, d.lng FROM docs d \
             WHERE d.geo <@ box(point($1, $2), point($3, $4))",
        );
        let mut n = 4;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let text = q.text.as_deref().filter(|t| !t.trim().is_empty());
        if text.is_some() {
            let _ = write!(sql, " AND d.body @@ plainto_tsquery('english', {})", next());
        }
        let tags = tags_of_query(q);
        for _ in &tags {
            let _ = write!(
                sql,
                " AND d.id IN (SELECT doc FROM doc_tags WHERE tag = {})",
                next()
            );
        }
        if q.filters.age.is_some() {
            let (a, b) = (next(), next());
            let _ = write!(
                sql,
                " AND (d.min_age IS NULL OR d.min_age <= {a}) AND (d.max_age IS NULL OR d.max_age >= {b})"
            );
        }
        let mut query = sqlx::query::<Postgres>(sqlx::AssertSqlSafe(sql))
            .bind(west)
            .bind(south)
            .bind(east)
            .bind(north);
        if let Some(text) = text {
            query = query.bind(text.to_owned());
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
                (
                    row.try_get::<String, _>(0)?,
                    row.try_get::<Option<String>, _>(1)?,
                ),
                row.try_get::<String, _>(2)?,
                (row.try_get::<f64, _>(3)?, row.try_get::<f64, _>(4)?),
            ));
        }
        Ok(finish(rows, near, q))
    }

    pub async fn close(&self) {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"
        )))
        .execute(&self.pool)
        .await;
        self.pool.close().await;
    }
}
