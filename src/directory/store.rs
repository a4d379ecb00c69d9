//! SQL for the directory. HSDS tables are read and written generically from their
//! description (hsds::tables), with the same SQL text on SQLite and PostgreSQL.

use std::fmt::Write as _;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, AnyPool, Arguments as _, Row as _};

use super::hsds::dataset::Cells;
use super::hsds::tables::{Kind, SEALED_ADDRESS, Table};
use super::hsds::value::Cell;
use crate::kernel::db::Backend;

/// Rows per INSERT: up to about 3,000 bound values, well under SQLite's limit of
/// 32,766 and PostgreSQL's of 65,535; more per statement stopped paying off.
fn rows_per_statement(table: &Table) -> usize {
    (3_000 / table.fields.len()).clamp(1, 1_000)
}

fn column_list(table: &Table) -> String {
    table
        .fields
        .iter()
        .map(|f| format!("\"{}\"", f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn upsert_sql(table: &Table, rows: usize, backend: Backend) -> String {
    let width = table.fields.len();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        table.sql_name(),
        column_list(table)
    );
    backend.push_rows(&mut sql, rows, width);
    sql.push_str(" ON CONFLICT (\"id\") DO UPDATE SET ");
    let updates: Vec<String> = table
        .fields
        .iter()
        .skip(1)
        .map(|f| {
            if table.name == "address" && SEALED_ADDRESS.contains(&f.name.as_str()) {
                format!(
                    "\"{0}\" = COALESCE(excluded.\"{0}\", {1}.\"{0}\")",
                    f.name,
                    table.sql_name()
                )
            } else {
                format!("\"{0}\" = excluded.\"{0}\"", f.name)
            }
        })
        .collect();
    sql.push_str(&updates.join(", "));
    sql
}

/// Inserts or updates rows by id.
pub async fn upsert(
    conn: &mut AnyConnection,
    table: &Table,
    rows: &[&Cells],
) -> Result<(), sqlx::Error> {
    for statement in upserts(table, Backend::of(conn), rows) {
        run_upsert(conn, statement?).await?;
    }
    Ok(())
}

/// One multi-row upsert with its values bound, ready to run.
pub struct Upsert {
    sql: std::sync::Arc<str>,
    arguments: AnyArguments,
    /// How many rows it writes.
    pub rows: usize,
}

/// The upserts that write `rows` of `table`, bound without touching the connection,
/// so that a large import binds the next statement while SQLite runs the last one.
pub fn upserts<'a>(
    table: &'a Table,
    backend: Backend,
    rows: &'a [&'a Cells],
) -> impl Iterator<Item = Result<Upsert, sqlx::Error>> + 'a {
    let per = rows_per_statement(table);
    let full: std::sync::Arc<str> = upsert_sql(table, per, backend).into();
    rows.chunks(per).map(move |chunk| {
        let sql = if chunk.len() == per {
            std::sync::Arc::clone(&full)
        } else {
            upsert_sql(table, chunk.len(), backend).into()
        };
        let mut arguments = AnyArguments::default();
        for cells in chunk {
            for (field, cell) in table.fields.iter().zip(cells.iter()) {
                match field.kind {
                    Kind::Number => match cell.as_ref().and_then(Cell::as_number) {
                        Some(number) => arguments.add(number),
                        // A NULL of the column's own type: PostgreSQL fixes a
                        // statement's parameter types when it is prepared.
                        None => arguments.add(None::<f64>),
                    },
                    _ => arguments.add(cell.as_ref().and_then(Cell::as_text)),
                }
                .map_err(sqlx::Error::Encode)?;
            }
        }
        Ok(Upsert {
            sql,
            arguments,
            rows: chunk.len(),
        })
    })
}

pub async fn run_upsert(conn: &mut AnyConnection, upsert: Upsert) -> Result<(), sqlx::Error> {
    sqlx::query_with(sqlx::AssertSqlSafe(upsert.sql), upsert.arguments)
        .execute(conn)
        .await?;
    Ok(())
}

/// A table's link indexes (not its primary key) as they were created, to build again.
pub struct SetAside(Vec<String>);

/// Drops `table`'s link indexes for a bulk load when it is empty and on SQLite, to
/// build each in one sorted pass afterwards ([`restore_indexes`]) instead of inserting
/// a million random link ids one by one. Inside the import's transaction, so a failed
/// import leaves them as they were. Not on PostgreSQL, where dropping an index locks
/// the table against the readers that keep serving during an import.
pub async fn set_indexes_aside(
    conn: &mut AnyConnection,
    table: &Table,
) -> Result<SetAside, sqlx::Error> {
    if Backend::of(conn) != Backend::Sqlite {
        return Ok(SetAside(Vec::new()));
    }
    let name = table.sql_name();
    let empty = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {name} LIMIT 1)"
    )))
    .fetch_one(&mut *conn)
    .await?
        == 0;
    if !empty {
        return Ok(SetAside(Vec::new()));
    }
    // `sql` is NULL for the primary key's own index, which the upsert needs.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL",
    )
    .bind(&name)
    .fetch_all(&mut *conn)
    .await?;
    for (index, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{index}\"")))
            .execute(&mut *conn)
            .await?;
    }
    Ok(SetAside(indexes.into_iter().map(|(_, sql)| sql).collect()))
}

/// Builds again the indexes [`set_indexes_aside`] dropped. SQLite sorts in memory up
/// to the page cache's size: with the bulk cache that came on top of the package the
/// import holds, so the sort gets the default and spills the rest to a file.
pub async fn restore_indexes(conn: &mut AnyConnection, aside: SetAside) -> Result<(), sqlx::Error> {
    if aside.0.is_empty() {
        return Ok(());
    }
    page_cache(conn, DEFAULT_CACHE_KIB).await?;
    for sql in aside.0 {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    page_cache(conn, BULK_CACHE_KIB).await
}

/// SQLite's page cache for a bulk write. With the default 2 MiB, inserting into the
/// id and link indexes of a large import reads pages back from the OS all the time;
/// 64 MiB made writing 790,000 rows a quarter faster; 256 MiB gained another 8 % on
/// 3.9 million rows, not worth the memory. Since rows are written in id order with
/// the link indexes built afterwards, 32 MiB writes 3.9 million rows within a second
/// or two of 64 MiB (16 MiB takes about three more) and keeps the import's peak under
/// 1.5 GB.
pub const BULK_CACHE_KIB: u32 = 32_768;
pub const DEFAULT_CACHE_KIB: u32 = 2_000;

/// Sets the connection's page cache (SQLite; PostgreSQL manages its own).
pub async fn page_cache(conn: &mut AnyConnection, kib: u32) -> Result<(), sqlx::Error> {
    if Backend::of(conn) == Backend::Sqlite {
        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA cache_size = -{kib}")))
            .execute(conn)
            .await?;
    }
    Ok(())
}

fn cells(table: &Table, row: &AnyRow) -> Result<Cells, sqlx::Error> {
    table
        .fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            Ok(match field.kind {
                Kind::Number => row.try_get::<Option<f64>, _>(i)?.map(Cell::Number),
                _ => row
                    .try_get::<Option<String>, _>(i)?
                    .map(|t| Cell::Text(t.into())),
            })
        })
        .collect()
}

/// Every row of a table, in id order.
pub async fn all(pool: &AnyPool, table: &Table) -> Result<Vec<Cells>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM {} ORDER BY \"id\"",
        column_list(table),
        table.sql_name()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| cells(table, row))
        .collect()
}

/// Rows whose `column` is one of `values`.
pub async fn where_in(
    pool: &AnyPool,
    table: &Table,
    column: &str,
    values: &[String],
) -> Result<Vec<Cells>, sqlx::Error> {
    const PER_QUERY: usize = 300;
    let mut out = Vec::new();
    for chunk in values.chunks(PER_QUERY) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE \"{column}\" IN ({}) ORDER BY \"id\"",
            column_list(table),
            table.sql_name(),
            marks.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in chunk {
            query = query.bind(value.as_str());
        }
        for row in query.fetch_all(pool).await? {
            out.push(cells(table, &row)?);
        }
    }
    Ok(out)
}

/// Which of `ids` exist in `table`.
pub async fn existing(
    pool: &AnyPool,
    table: &Table,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut found = Vec::new();
    for chunk in ids.chunks(300) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT \"id\" FROM {} WHERE \"id\" IN ({})",
            table.sql_name(),
            marks.join(", ")
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        found.extend(query.fetch_all(pool).await?);
    }
    Ok(found)
}

/// Deletes rows of `table` by id.
pub async fn delete(
    conn: &mut AnyConnection,
    table: &Table,
    ids: &[&str],
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(300) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "DELETE FROM {} WHERE \"id\" IN ({})",
            table.sql_name(),
            marks.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Lists organizations not yet in the listing table as listed, verified `now`: an
/// import is an administrator vouching for its data.
pub async fn list_new_organizations(
    conn: &mut AnyConnection,
    ids: &[&str],
    now: i64,
) -> Result<(), sqlx::Error> {
    let backend = Backend::of(conn);
    for chunk in ids.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO directory_listings (organization_id, status, last_verified_at, created_at, updated_at) VALUES ",
        );
        backend.push_rows(&mut sql, chunk.len(), 5);
        sql.push_str(" ON CONFLICT (organization_id) DO NOTHING");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id).bind("listed").bind(now).bind(now).bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A page of public rows of a root table, and how many match in all.
pub struct Page {
    pub total: i64,
    pub rows: Vec<Cells>,
}

/// A value bound into a filter.
#[derive(Clone, Debug)]
pub enum Bound {
    Text(String),
    Int(i64),
}

impl Bound {
    pub fn text(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

/// A WHERE clause and its bound values, built by the service from a query.
#[derive(Default)]
pub struct Filter {
    clauses: Vec<String>,
    values: Vec<Bound>,
}

impl Filter {
    /// Adds `clause`, where each `?` stands for the next of `values`.
    pub fn and(&mut self, clause: &str, values: Vec<Bound>) {
        let mut out = String::new();
        let mut rest = clause;
        let mut next = self.values.len();
        while let Some(at) = rest.find('?') {
            next += 1;
            out.push_str(&rest[..at]);
            let _ = write!(out, "${next}");
            rest = &rest[at + 1..];
        }
        out.push_str(rest);
        self.clauses.push(out);
        self.values.extend(values);
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

pub async fn page(
    pool: &AnyPool,
    table: &Table,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Page, sqlx::Error> {
    let where_sql = filter.sql();
    let count_sql = format!("SELECT COUNT(*) FROM {}{where_sql}", table.sql_name());
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
    for v in &filter.values {
        count = match v {
            Bound::Text(t) => count.bind(t.as_str()),
            Bound::Int(i) => count.bind(*i),
        };
    }
    let total = count.fetch_one(pool).await?;
    let n = filter.values.len();
    let sql = format!(
        "SELECT {} FROM {}{where_sql} ORDER BY \"id\" LIMIT ${} OFFSET ${}",
        column_list(table),
        table.sql_name(),
        n + 1,
        n + 2
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for v in &filter.values {
        query = match v {
            Bound::Text(t) => query.bind(t.as_str()),
            Bound::Int(i) => query.bind(*i),
        };
    }
    let rows = query
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| cells(table, row))
        .collect::<Result<_, _>>()?;
    Ok(Page { total, rows })
}

/// Listed organizations and when each was last verified.
pub async fn listed_organizations(
    pool: &AnyPool,
) -> Result<Vec<(String, Option<i64>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT organization_id, last_verified_at FROM directory_listings WHERE status = 'listed'",
    )
    .fetch_all(pool)
    .await
}

/// The services whose referral documents a change of `entity` `id` affects.
pub async fn services_touched(
    pool: &AnyPool,
    entity: &str,
    id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let sql = match entity {
        "hsds.service" => return Ok(vec![id.to_owned()]),
        "hsds.service_at_location" => {
            "SELECT \"service_id\" FROM hsds_service_at_location WHERE \"id\" = $1"
        }
        "hsds.location" => {
            "SELECT \"service_id\" FROM hsds_service_at_location WHERE \"location_id\" = $1"
        }
        "hsds.organization" | "directory.listing" => {
            "SELECT \"id\" FROM hsds_service WHERE \"organization_id\" = $1"
        }
        _ => return Ok(Vec::new()),
    };
    sqlx::query_scalar::<_, Option<String>>(sql)
        .bind(id)
        .fetch_all(pool)
        .await
        .map(|ids| ids.into_iter().flatten().collect())
}

/// Records an application to be listed.
pub async fn insert_application(
    conn: &mut AnyConnection,
    organization_id: &str,
    contact_email: &str,
    references_sealed: &str,
    agrees: (bool, bool),
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO directory_listings (organization_id, status, contact_email, references_sealed, agrees_referrals, agrees_warm_transfers, applied_at, created_at, updated_at) \
         VALUES ($1, 'applied', $2, $3, $4, $5, $6, $6, $6)",
    )
    .bind(organization_id)
    .bind(contact_email)
    .bind(references_sealed)
    .bind(i64::from(agrees.0))
    .bind(i64::from(agrees.1))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A listing's status, read inside the deciding transaction.
pub async fn listing_status(
    conn: &mut AnyConnection,
    organization_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM directory_listings WHERE organization_id = $1")
        .bind(organization_id)
        .fetch_optional(conn)
        .await
}

/// Moves a listing to `status`; `verified_at` when the decision verified it.
pub async fn set_listing_status(
    conn: &mut AnyConnection,
    organization_id: &str,
    status: &str,
    verified_at: Option<i64>,
    reviewer: &str,
    note: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE directory_listings SET status = $1, last_verified_at = COALESCE($2, last_verified_at), \
         reviewed_by = $3, reviewed_at = $4, review_note = $5, updated_at = $4 WHERE organization_id = $6",
    )
    .bind(status)
    .bind(verified_at)
    .bind(reviewer)
    .bind(now)
    .bind(note)
    .bind(organization_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// One listing in the curators' queue.
#[derive(Debug, sqlx::FromRow)]
pub struct Listing {
    pub organization_id: String,
    pub name: Option<String>,
    pub status: String,
    pub last_verified_at: Option<i64>,
    pub contact_email: Option<String>,
    pub references_sealed: Option<String>,
    pub agrees_referrals: i64,
    pub agrees_warm_transfers: i64,
    pub applied_at: Option<i64>,
    pub review_note: Option<String>,
}

/// Applications, then listings verified longest ago, then suspended ones.
pub async fn curation_queue(pool: &AnyPool, limit: i64) -> Result<Vec<Listing>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.organization_id, o.\"name\" AS name, l.status, l.last_verified_at, l.contact_email, l.references_sealed, \
         l.agrees_referrals, l.agrees_warm_transfers, l.applied_at, l.review_note \
         FROM directory_listings l LEFT JOIN hsds_organization o ON o.\"id\" = l.organization_id \
         WHERE l.status IN ('applied', 'listed', 'suspended') \
         ORDER BY CASE l.status WHEN 'applied' THEN 0 WHEN 'listed' THEN 1 ELSE 2 END, \
         COALESCE(l.last_verified_at, l.applied_at, 0), l.organization_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Service ids after `after`, in id order (for loading the index in batches).
pub async fn service_ids_after(
    pool: &AnyPool,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT \"id\" FROM hsds_service WHERE \"id\" > $1 ORDER BY \"id\" LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// The change history (HSDS metadata rows) of the records `ids`, newest first.
pub async fn metadata_of(
    pool: &AnyPool,
    ids: &[String],
) -> Result<Vec<crate::directory::edit::Change>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(300) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT \"id\", \"resource_type\", \"field_name\", \"previous_value\", \"replacement_value\", \"last_action_date\", \"last_action_type\" \
             FROM hsds_metadata WHERE \"resource_id\" IN ({})",
            marks.join(", ")
        );
        let mut query =
            sqlx::query_as::<_, crate::directory::edit::Change>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id);
        }
        out.extend(query.fetch_all(pool).await?);
    }
    // Ids are time-ordered (UUIDv7) for changes made here; imported ones sort anywhere.
    out.sort_by(|a, b| b.id.cmp(&a.id));
    Ok(out)
}

/// The organization offering `service_id`.
pub async fn organization_of_service(
    pool: &AnyPool,
    service_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let found: Option<Option<String>> =
        sqlx::query_scalar("SELECT \"organization_id\" FROM hsds_service WHERE \"id\" = $1")
            .bind(service_id)
            .fetch_optional(pool)
            .await?;
    Ok(found.flatten())
}

pub async fn insert_note(
    conn: &mut AnyConnection,
    id: &str,
    organization_id: &str,
    sealed: &str,
    author: (&str, Option<&str>),
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO directory_listing_notes (id, organization_id, note_sealed, author_role, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(organization_id)
    .bind(sealed)
    .bind(author.1)
    .bind(author.0)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A listing's notes, newest first: id, sealed text, author's role, when.
pub async fn notes_of(
    pool: &AnyPool,
    organization_id: &str,
    limit: i64,
) -> Result<Vec<(String, String, Option<String>, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, note_sealed, author_role, created_at FROM directory_listing_notes \
         WHERE organization_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(organization_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Listed organizations with what a reminder needs: id, name, last verified, last
/// reminded, contact email (the applicant's, else the organization's), one service.
pub async fn reminder_candidates(pool: &AnyPool) -> Result<Vec<AnyRow>, sqlx::Error> {
    sqlx::query(
        "SELECT l.organization_id, COALESCE(o.\"name\", ''), l.last_verified_at, l.reminded_at, \
         COALESCE(l.contact_email, o.\"email\"), \
         (SELECT MIN(s.\"id\") FROM hsds_service s WHERE s.\"organization_id\" = l.organization_id) \
         FROM directory_listings l JOIN hsds_organization o ON o.\"id\" = l.organization_id \
         WHERE l.status = 'listed' ORDER BY l.organization_id",
    )
    .fetch_all(pool)
    .await
}

pub async fn set_reminded(
    conn: &mut AnyConnection,
    organization_id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE directory_listings SET reminded_at = $1 WHERE organization_id = $2")
        .bind(at)
        .bind(organization_id)
        .execute(conn)
        .await?;
    Ok(())
}
