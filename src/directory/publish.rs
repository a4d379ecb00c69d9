//! What the public HSDS API reads: listed records only, assembled as HSDS objects,
//! confidential addresses redacted by the assembler.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value as Json;

use super::hsds::dataset::{self, Dataset};
use super::hsds::nest::{self, Depth, Link, Relations, Shape};
use super::hsds::tables::{self, Table};
use super::store::{self, Bound, Filter};
use crate::kernel::db::Db;

/// Listed organizations verified recently enough (a `?` for the cutoff).
const LISTED: &str = "SELECT organization_id FROM directory_listings WHERE status = 'listed' AND last_verified_at >= ?";

/// The largest page a client may ask for.
pub const MAX_PER_PAGE: u32 = 500;

/// The public objects the API lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    Service,
    Organization,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
}

impl Root {
    fn table(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Organization => "organization",
            Self::ServiceAtLocation => "service_at_location",
            Self::Taxonomy => "taxonomy",
            Self::TaxonomyTerm => "taxonomy_term",
        }
    }

    /// Only what belongs to a listed organization is public; taxonomies always are.
    fn public(self, filter: &mut Filter, cutoff: i64) {
        let cutoff = vec![Bound::Int(cutoff)];
        match self {
            Self::Service => filter.and(&format!("\"organization_id\" IN ({LISTED})"), cutoff),
            Self::Organization => filter.and(&format!("\"id\" IN ({LISTED})"), cutoff),
            Self::ServiceAtLocation => filter.and(
                &format!("\"service_id\" IN (SELECT \"id\" FROM hsds_service WHERE \"organization_id\" IN ({LISTED}))"),
                cutoff,
            ),
            Self::Taxonomy | Self::TaxonomyTerm => {}
        }
    }
}

/// The checked parameters of a list request.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub search: Option<String>,
    pub page: u32,
    pub per_page: u32,
    pub taxonomy_term_id: Option<String>,
    pub taxonomy_id: Option<String>,
    pub organization_id: Option<String>,
    pub parent_id: Option<String>,
    pub top_only: bool,
    /// Microseconds since the epoch.
    pub modified_after: Option<i64>,
    pub postcode: Option<String>,
    /// The referral search's answer, best first: only these ids, in this order, each
    /// with its distance from the caller.
    pub ranked: Option<Vec<(String, Option<f64>)>>,
    /// Listings verified before this (microseconds) are no longer public.
    pub public_cutoff: i64,
}

/// One page, with the HSDS paging fields (named by the specification).
#[derive(Debug, Serialize)]
#[allow(clippy::struct_field_names)]
pub struct Page {
    pub total_items: i64,
    pub total_pages: i64,
    pub page_number: u32,
    pub size: usize,
    pub first_page: bool,
    pub last_page: bool,
    pub empty: bool,
    pub contents: Vec<Json>,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("there are only {total_pages} pages")]
    PageBeyondEnd { total_pages: i64 },
    #[error("no taxonomy or term has the id given in {field}")]
    UnknownTaxonomy { field: &'static str },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Refuses a taxonomy or term id that names nothing: a filter on it would quietly
/// find nothing, which looks like "no services" to a caller in need.
pub async fn check_taxonomy(db: &Db, q: &Query) -> Result<(), PublishError> {
    for (field, table, id) in [
        ("taxonomy_term_id", "taxonomy_term", &q.taxonomy_term_id),
        ("taxonomy_id", "taxonomy", &q.taxonomy_id),
        ("parent_id", "taxonomy_term", &q.parent_id),
    ] {
        let (Some(id), Some(t)) = (id, tables::get(table)) else {
            continue;
        };
        if store::existing(db.reader(), t, std::slice::from_ref(id))
            .await?
            .is_empty()
        {
            return Err(PublishError::UnknownTaxonomy { field });
        }
    }
    Ok(())
}

fn like(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn filter(root: Root, q: &Query) -> Filter {
    let mut f = Filter::default();
    root.public(&mut f, q.public_cutoff);
    // The object itself, or (for a service at a location) its service, carries the
    // attribute.
    let tagged = |inner: &str| match root {
        Root::ServiceAtLocation => format!("(\"id\" IN ({inner}) OR \"service_id\" IN ({inner}))"),
        _ => format!("\"id\" IN ({inner})"),
    };
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = like(search);
        let clause = match root {
            Root::Service | Root::Organization => {
                "(LOWER(\"name\") LIKE ? ESCAPE '\\' OR LOWER(\"alternate_name\") LIKE ? ESCAPE '\\' OR LOWER(\"description\") LIKE ? ESCAPE '\\')"
            }
            Root::ServiceAtLocation => {
                "\"service_id\" IN (SELECT \"id\" FROM hsds_service WHERE LOWER(\"name\") LIKE ? ESCAPE '\\' OR LOWER(\"alternate_name\") LIKE ? ESCAPE '\\' OR LOWER(\"description\") LIKE ? ESCAPE '\\')"
            }
            Root::Taxonomy | Root::TaxonomyTerm => {
                "(LOWER(\"name\") LIKE ? ESCAPE '\\' OR LOWER(\"description\") LIKE ? ESCAPE '\\' OR LOWER(\"id\") LIKE ? ESCAPE '\\')"
            }
        };
        f.and(
            clause,
            vec![
                Bound::text(&pattern),
                Bound::text(&pattern),
                Bound::text(&pattern),
            ],
        );
    }
    if let Some(term) = &q.taxonomy_term_id {
        f.and(
            &tagged("SELECT \"link_id\" FROM hsds_attribute WHERE \"taxonomy_term_id\" = ?"),
            vec![Bound::text(term)],
        );
    }
    if let Some(taxonomy) = &q.taxonomy_id {
        match root {
            Root::TaxonomyTerm => f.and("\"taxonomy_id\" = ?", vec![Bound::text(taxonomy)]),
            Root::Taxonomy => f.and("\"id\" = ?", vec![Bound::text(taxonomy)]),
            _ => f.and(
                &tagged("SELECT a.\"link_id\" FROM hsds_attribute a JOIN hsds_taxonomy_term t ON t.\"id\" = a.\"taxonomy_term_id\" WHERE t.\"taxonomy_id\" = ?"),
                vec![Bound::text(taxonomy)],
            ),
        }
    }
    if let Some(org) = &q.organization_id {
        match root {
            Root::Service => f.and("\"organization_id\" = ?", vec![Bound::text(org)]),
            Root::Organization => f.and("\"id\" = ?", vec![Bound::text(org)]),
            Root::ServiceAtLocation => f.and(
                "\"service_id\" IN (SELECT \"id\" FROM hsds_service WHERE \"organization_id\" = ?)",
                vec![Bound::text(org)],
            ),
            Root::Taxonomy | Root::TaxonomyTerm => {}
        }
    }
    if let Some(parent) = &q.parent_id {
        f.and("\"parent_id\" = ?", vec![Bound::text(parent)]);
    }
    if q.top_only {
        f.and("\"parent_id\" IS NULL", vec![]);
    }
    if let Some(after) = q.modified_after {
        f.and(
            "\"id\" IN (SELECT entity_id FROM change_log WHERE entity = ? AND changed_at >= ?)",
            vec![
                Bound::text(&format!("hsds.{}", root.table())),
                Bound::Int(after),
            ],
        );
    }
    if let Some(postcode) = &q.postcode {
        let at_postcode = "SELECT sal.\"service_id\" FROM hsds_service_at_location sal JOIN hsds_address a ON a.\"location_id\" = sal.\"location_id\" WHERE a.\"postal_code\" = ?";
        match root {
            Root::Service => f.and(&format!("\"id\" IN ({at_postcode})"), vec![Bound::text(postcode)]),
            Root::ServiceAtLocation => f.and(
                "\"location_id\" IN (SELECT \"location_id\" FROM hsds_address WHERE \"postal_code\" = ?)",
                vec![Bound::text(postcode)],
            ),
            Root::Organization => f.and(
                &format!("\"id\" IN (SELECT \"organization_id\" FROM hsds_service WHERE \"id\" IN ({at_postcode}))"),
                vec![Bound::text(postcode)],
            ),
            Root::Taxonomy | Root::TaxonomyTerm => {}
        }
    }
    f
}

/// One page of the referral search's ranked ids, public records only, in its order.
#[allow(clippy::too_many_arguments)] // One step of `list`, split out for length.
async fn ranked_page(
    db: &Db,
    root: Root,
    table: &'static tables::Table,
    q: &Query,
    ranked: &[(String, Option<f64>)],
    offset: i64,
    per_page: u32,
    distances: &mut std::collections::HashMap<String, Option<f64>>,
) -> Result<store::Page, PublishError> {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(ranked.len());
    let end = (start + per_page as usize).min(ranked.len());
    let wanted: Vec<String> = ranked[start..end]
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    distances.extend(ranked[start..end].iter().cloned());
    // Still only public records, in the search's order.
    let mut f = filter(
        root,
        &Query {
            public_cutoff: q.public_cutoff,
            ..Query::default()
        },
    );
    let marks = vec!["?"; wanted.len()].join(", ");
    f.and(
        &format!("\"id\" IN ({marks})"),
        wanted.iter().map(|w| Bound::text(w)).collect(),
    );
    let mut page = if wanted.is_empty() {
        store::Page {
            total: 0,
            rows: Vec::new(),
        }
    } else {
        store::page(db.reader(), table, &f, i64::from(per_page), 0).await?
    };
    page.rows.sort_by_key(|c| {
        let id = c
            .first()
            .cloned()
            .flatten()
            .and_then(|c| c.as_text().map(str::to_owned));
        wanted.iter().position(|w| Some(w) == id.as_ref())
    });
    page.total = i64::try_from(ranked.len()).unwrap_or(i64::MAX);
    Ok(page)
}

/// One page of public `root` objects, each assembled to `shape`.
pub async fn list(db: &Db, root: Root, q: &Query, shape: Shape) -> Result<Page, PublishError> {
    let Some(table) = tables::get(root.table()) else {
        return Err(PublishError::Db(sqlx::Error::RowNotFound));
    };
    let per_page = q.per_page.clamp(1, MAX_PER_PAGE);
    let offset = i64::from(q.page.saturating_sub(1)) * i64::from(per_page);
    let mut distances = std::collections::HashMap::new();
    let found = match &q.ranked {
        None => {
            store::page(
                db.reader(),
                table,
                &filter(root, q),
                i64::from(per_page),
                offset,
            )
            .await?
        }
        Some(ranked) => {
            ranked_page(db, root, table, q, ranked, offset, per_page, &mut distances).await?
        }
    };
    let total_pages = (found.total + i64::from(per_page) - 1) / i64::from(per_page);
    if found.total > 0 && i64::from(q.page) > total_pages {
        return Err(PublishError::PageBeyondEnd { total_pages });
    }
    let ids: Vec<String> = found
        .rows
        .iter()
        .filter_map(|c| c.first().cloned().flatten())
        .filter_map(|c| c.as_text().map(str::to_owned))
        .collect();
    let mut data = Dataset::default();
    let label = std::sync::Arc::from("(stored)");
    for cells in found.rows {
        data.merge(table, cells, (&label, 0));
    }
    load_tree(db, table, &ids, shape, &mut data).await?;
    let relations = Relations::new(&data);
    let contents: Vec<Json> = ids
        .iter()
        .filter_map(|id| {
            let mut object = nest::assemble(table, id, &data, &relations, shape)?;
            // An extension field: how far the caller is, in kilometres.
            if let (Some(Some(km)), Json::Object(map)) = (distances.get(id), &mut object) {
                map.insert(
                    "distance_km".to_owned(),
                    Json::from((km * 10.0).round() / 10.0),
                );
            }
            Some(object)
        })
        .collect();
    Ok(Page {
        total_items: found.total,
        total_pages,
        page_number: q.page,
        size: contents.len(),
        first_page: q.page <= 1,
        last_page: i64::from(q.page) >= total_pages,
        empty: contents.is_empty(),
        contents,
    })
}

/// One public object by id, assembled to `shape`.
/// `public_cutoff` as in [`Query`]; `i64::MIN` shows every listed organization.
pub async fn one(
    db: &Db,
    root: Root,
    id: &str,
    shape: Shape,
    public_cutoff: i64,
) -> Result<Option<Json>, PublishError> {
    let q = Query {
        page: 1,
        per_page: 1,
        public_cutoff,
        ..Query::default()
    };
    let Some(table) = tables::get(root.table()) else {
        return Ok(None);
    };
    let mut f = filter(root, &q);
    f.and("\"id\" = ?", vec![Bound::text(id)]);
    let found = store::page(db.reader(), table, &f, 1, 0).await?;
    let mut data = Dataset::default();
    let label = std::sync::Arc::from("(stored)");
    for cells in found.rows {
        data.merge(table, cells, (&label, 0));
    }
    if !data.contains(&table.name, id) {
        return Ok(None);
    }
    load_tree(db, table, &[id.to_owned()], shape, &mut data).await?;
    let relations = Relations::new(&data);
    Ok(nest::assemble(table, id, &data, &relations, shape))
}

/// Loads, level by level, every row that assembling `ids` of `table` to `shape`
/// will need, following the same links as the assembler.
pub(crate) async fn load_tree(
    db: &Db,
    table: &'static Table,
    ids: &[String],
    shape: Shape,
    data: &mut Dataset,
) -> Result<(), sqlx::Error> {
    let label = std::sync::Arc::from("(stored)");
    let mut frontier: Vec<(&'static Table, Vec<String>, Depth, Vec<&'static str>)> =
        vec![(table, ids.to_vec(), shape.root, Vec::new())];
    while let Some((table, ids, depth, ancestors)) = frontier.pop() {
        if depth == Depth::Flat || ids.is_empty() {
            continue;
        }
        let mut below = ancestors.clone();
        below.push(table.name.as_str());
        for link in nest::links(&table.name) {
            let Some(next_depth) = nest::follow(link, shape, &ancestors) else {
                continue;
            };
            let (target, rows) = match *link {
                Link::Many {
                    table: child,
                    column,
                    ..
                } => {
                    let Some(t) = tables::get(child) else {
                        continue;
                    };
                    (t, store::where_in(db.reader(), t, column, &ids).await?)
                }
                Link::One {
                    table: target,
                    column,
                    ..
                } => {
                    let Some(t) = tables::get(target) else {
                        continue;
                    };
                    let wanted: Vec<String> = ids
                        .iter()
                        .filter_map(|id| data.get(&table.name, id))
                        .filter_map(|c| dataset::text(table, c, column))
                        .map(str::to_owned)
                        .collect::<HashSet<_>>()
                        .into_iter()
                        .collect();
                    (t, store::where_in(db.reader(), t, "id", &wanted).await?)
                }
            };
            let found: Vec<String> = rows
                .iter()
                .filter_map(|c| c.first().cloned().flatten())
                .filter_map(|c| c.as_text().map(str::to_owned))
                .collect();
            for cells in rows {
                data.merge(target, cells, (&label, 0));
            }
            // Addresses are redacted by their location's type: make sure it is known.
            if target.name == "address" {
                load_locations_of_addresses(db, data).await?;
            }
            frontier.push((target, found, next_depth, below.clone()));
        }
    }
    data.sort();
    Ok(())
}

/// Adds to `data` the stored locations of its addresses that it lacks: whether an
/// address is confidential is its location's type.
pub(super) async fn load_locations_of_addresses(
    db: &Db,
    data: &mut Dataset,
) -> Result<(), sqlx::Error> {
    let (Some(address), Some(location)) = (tables::get("address"), tables::get("location")) else {
        return Ok(());
    };
    let wanted: Vec<String> = data
        .rows("address")
        .filter_map(|(_, c)| dataset::text(address, c, "location_id"))
        .filter(|l| !data.contains("location", l))
        .map(str::to_owned)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let label = std::sync::Arc::from("(stored)");
    for cells in store::where_in(db.reader(), location, "id", &wanted).await? {
        data.merge(location, cells, (&label, 0));
    }
    Ok(())
}

/// The mean position of the directory's locations at `postcode` (HSDS `proximity`
/// measures from it). Confidential addresses keep their postal code sealed, so they
/// never place a centroid.
pub async fn postcode_centroid(db: &Db, postcode: &str) -> Result<Option<(f64, f64)>, sqlx::Error> {
    let row: (Option<f64>, Option<f64>) = sqlx::query_as(
        "SELECT AVG(l.\"latitude\"), AVG(l.\"longitude\") FROM hsds_address a \
         JOIN hsds_location l ON l.\"id\" = a.\"location_id\" \
         WHERE a.\"postal_code\" = $1 AND l.\"latitude\" IS NOT NULL AND l.\"longitude\" IS NOT NULL",
    )
    .bind(postcode)
    .fetch_one(db.reader())
    .await?;
    Ok(row.0.zip(row.1))
}
