//! atip's anti-trafficking taxonomy (data/taxonomy/atip-taxonomy.csv), installed as
//! HSDS taxonomies and terms on every start so the shipped version is always there.
//! Spanish labels stay with it for the pages; HSDS carries the English terms.

use std::sync::{Arc, LazyLock};

use scoped_futures::ScopedFutureExt as _;
use serde::Deserialize;

use super::hsds::dataset::{Cells, Dataset};
use super::hsds::tables::{self, Table};
use super::hsds::value::Cell;
use super::store;
use crate::kernel::db::Db;

const CSV: &str = include_str!("../../data/taxonomy/atip-taxonomy.csv");

/// The four taxonomies, with ids fixed forever (uuid5 of `taxonomy:<key>` in the
/// namespace the term ids use; see data/taxonomy/README.md).
pub const TAXONOMIES: [(&str, &str, &str, &str); 4] = [
    (
        "service-type",
        "4f47f1b4-96b0-5d35-a23f-1d5d57ac2c5c",
        "atip service types",
        "What a service does for survivors of trafficking and the people who help them.",
    ),
    (
        "population",
        "cb697f38-ae9d-5fa8-af05-14ce63f56e8c",
        "atip populations served",
        "Who a service is for.",
    ),
    (
        "eligibility",
        "d2dab972-75ee-5e9e-b1b9-0cb9dc042a15",
        "atip eligibility",
        "Conditions a person must meet, or is spared, to use a service.",
    ),
    (
        "feature",
        "daae7b3b-7855-5731-a096-3ee464beb1d7",
        "atip service features",
        "How a service works with the hotline: referrals, warm transfers, cost, hours.",
    ),
];

#[derive(Deserialize)]
pub struct Term {
    pub id: String,
    pub taxonomy: String,
    pub code: String,
    pub parent_code: String,
    pub name_en: String,
    pub name_es: String,
    pub description_en: String,
    pub description_es: String,
}

static TERMS: LazyLock<Vec<Term>> = LazyLock::new(|| {
    csv::Reader::from_reader(CSV.as_bytes())
        .deserialize()
        .filter_map(Result::ok)
        .collect()
});

/// The shipped terms, in file order (parents before children), read once.
pub fn terms() -> &'static [Term] {
    &TERMS
}

fn row(table: &Table, values: &[(&str, &str)]) -> Cells {
    let mut cells = Cells::empty(table.fields.len());
    for (column, value) in values {
        if let Some(i) = table.column(column) {
            cells[i] = Some(Cell::Text((*value).into()));
        }
    }
    cells
}

/// The taxonomy as HSDS rows.
pub fn dataset() -> Dataset {
    let mut data = Dataset::default();
    let origin: Arc<str> = Arc::from("atip-taxonomy.csv");
    let (Some(taxonomy), Some(term_table)) =
        (tables::get("taxonomy"), tables::get("taxonomy_term"))
    else {
        return data;
    };
    for (n, (_, id, name, description)) in TAXONOMIES.iter().enumerate() {
        let cells = row(
            taxonomy,
            &[
                ("id", id),
                ("name", name),
                ("description", description),
                ("version", "1"),
            ],
        );
        data.merge(taxonomy, cells, (&origin, n as u64 + 1));
    }
    let all = terms();
    for (n, term) in all.iter().enumerate() {
        let Some((_, taxonomy_id, taxonomy_name, _)) =
            TAXONOMIES.iter().find(|(key, ..)| *key == term.taxonomy)
        else {
            continue;
        };
        let parent = all
            .iter()
            .find(|p| !term.parent_code.is_empty() && p.code == term.parent_code)
            .map_or("", |p| p.id.as_str());
        let mut values = vec![
            ("id", term.id.as_str()),
            ("code", term.code.as_str()),
            ("name", term.name_en.as_str()),
            ("description", term.description_en.as_str()),
            ("taxonomy", *taxonomy_name),
            ("language", "en"),
            ("taxonomy_id", *taxonomy_id),
        ];
        if !parent.is_empty() {
            values.push(("parent_id", parent));
        }
        data.merge(
            term_table,
            row(term_table, &values),
            (&origin, n as u64 + 2),
        );
    }
    data.sort();
    data
}

/// Writes the shipped taxonomy (idempotent).
pub async fn install(db: &Db) -> Result<(), sqlx::Error> {
    let data = dataset();
    db.transaction(|tx| {
        let data = &data;
        async move {
            for name in ["taxonomy", "taxonomy_term"] {
                let Some(table) = tables::get(name) else {
                    continue;
                };
                let rows: Vec<&Cells> = data.rows(name).map(|(_, c)| c).collect();
                store::upsert(tx, table, &rows).await?;
            }
            Ok::<_, sqlx::Error>(())
        }
        .scope_boxed()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_taxonomy_covers_what_the_hotline_refers_to() {
        let all = terms();
        assert_eq!(all.len(), CSV.lines().count() - 1, "every line parses");
        for code in [
            "svc-emergency-shelter",
            "svc-immigration-legal",
            "svc-case-management",
            "pop-foreign-nationals",
            "pop-minors",
            "pop-men",
            "feat-hotline-referrals",
            "feat-warm-transfers",
        ] {
            assert!(all.iter().any(|t| t.code == code), "{code} missing");
        }
        for term in all {
            assert!(!term.name_es.is_empty() && !term.description_es.is_empty());
            assert!(
                term.parent_code.is_empty() || all.iter().any(|p| p.code == term.parent_code),
                "{} has an unknown parent",
                term.code
            );
        }
        let data = dataset();
        assert_eq!(data.count("taxonomy_term"), all.len());
        assert_eq!(data.count("taxonomy"), 4);
    }
}
