//! Whole-dataset rules checked before an import writes anything: required fields,
//! references between records, coordinates. Rows that break a rule are taken out
//! (and everything that needs them), so what is left can be written as it is.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::dataset::{self, Dataset};
use super::tables::{self, Table};
use crate::directory::model::Problem;

/// Ids the store already holds, by table, among those an import refers to without
/// carrying them (see [`Missing::wanted`]).
pub type Stored = HashMap<&'static str, HashSet<String>>;

/// A reference from a row of an import to a record the import does not hold.
pub struct Missing {
    table: &'static Table,
    /// The referring row's place in its table ([`Dataset::id_at`]), good until a row
    /// is taken out; an import can refer outside itself millions of times (every
    /// attribute to a stored taxonomy term), so no id is copied here.
    row: usize,
    /// The referring column, an index into `table.fields`.
    column: usize,
    target_table: &'static str,
    target: Arc<str>,
}

impl Missing {
    /// Every reference in `data` to a record it does not hold, in one pass over the
    /// rows (references are most of an import's cells, so passes cost).
    pub fn find(data: &Dataset) -> Vec<Self> {
        let mut ids: HashMap<&str, dataset::Ids<'_>> = HashMap::new();
        let mut shared: HashMap<&str, Arc<str>> = HashMap::new();
        let mut missing = Vec::new();
        for table in tables::all().iter().filter(|t| data.count(&t.name) > 0) {
            for reference in &table.references {
                let (Some(column), Some(target_table)) = (
                    table.column(&reference.column),
                    tables::get(&reference.table),
                ) else {
                    continue;
                };
                let targets = ids
                    .entry(target_table.name.as_str())
                    .or_insert_with(|| data.ids(&target_table.name));
                for (row, (_, cells)) in data.rows(&table.name).enumerate() {
                    if let Some(target) = dataset::text_at(cells, column)
                        && !targets.contains(target)
                    {
                        let target = shared.entry(target).or_insert_with(|| Arc::from(target));
                        missing.push(Self {
                            table,
                            row,
                            column,
                            target_table: target_table.name.as_str(),
                            target: Arc::clone(target),
                        });
                    }
                }
            }
        }
        missing
    }

    /// The distinct ids of `missing` by table, for the store to say which it holds.
    pub fn wanted(missing: &[Self]) -> HashMap<&'static str, Vec<String>> {
        let mut wanted: HashMap<&'static str, HashSet<&Arc<str>>> = HashMap::new();
        for m in missing {
            wanted.entry(m.target_table).or_default().insert(&m.target);
        }
        wanted
            .into_iter()
            .map(|(table, ids)| {
                let mut ids: Vec<String> = ids.into_iter().map(ToString::to_string).collect();
                ids.sort();
                (table, ids)
            })
            .collect()
    }

    fn is_stored(&self, stored: &Stored) -> bool {
        stored
            .get(self.target_table)
            .is_some_and(|ids| ids.contains(&*self.target))
    }

    fn required(&self) -> bool {
        self.table.fields[self.column].required
    }

    fn field(&self) -> &str {
        &self.table.fields[self.column].name
    }
}

/// Checks every row. `missing` is [`Missing::find`] of `data` as given; `stored` holds
/// those of its targets that exist already.
pub fn check(
    data: &mut Dataset,
    mut missing: Vec<Missing>,
    stored: &Stored,
    problems: &mut Vec<Problem>,
) {
    let mut refused_any = false;
    for table in tables::all() {
        let mut refused = Vec::new();
        for (id, cells) in data.rows(&table.name) {
            let redacted_address = dataset::is_confidential_address(table, cells, data);
            for (field, cell) in table.fields.iter().zip(cells) {
                let exempt =
                    redacted_address && matches!(field.name.as_str(), "address_1" | "postal_code");
                if field.required && cell.is_none() && !exempt {
                    refused.push((id.to_owned(), field.name.clone(), "is required".to_owned()));
                }
            }
        }
        refused_any |= !refused.is_empty();
        refuse(data, table, refused, problems);
    }
    coordinates(data, problems);
    // Taking a row out can orphan rows that need it: repeat until nothing changes.
    if refused_any {
        missing = Missing::find(data);
    }
    loop {
        // Ids first: taking rows out moves others.
        let refused: Vec<(&Missing, String)> = missing
            .iter()
            .filter(|m| m.required() && !m.is_stored(stored))
            .filter_map(|m| Some((m, data.id_at(&m.table.name, m.row)?.to_owned())))
            .collect();
        let mut refused_any = false;
        for (m, id) in refused {
            refused_any |= refuse_one(
                data,
                m.table,
                &id,
                m.field(),
                &format!(
                    "refers to {} {}, which is not in the import or the directory",
                    m.target_table, m.target
                ),
                problems,
            );
        }
        if !refused_any {
            break;
        }
        missing = Missing::find(data);
    }
    // Optional links to records nobody has (a parent organization published
    // elsewhere, a phone's contact): kept as given, reported so a curator can look.
    for m in missing
        .iter()
        .filter(|m| !m.required() && !m.is_stored(stored))
    {
        let Some(id) = data.id_at(&m.table.name, m.row) else {
            continue;
        };
        let (file, row) = data.origin(&m.table.name, id);
        problems.push(Problem::warning(
            &file,
            row,
            m.field(),
            &format!(
                "refers to {} {}, which is not in the import or the directory; kept as given",
                m.target_table, m.target
            ),
        ));
    }
}

fn refuse(
    data: &mut Dataset,
    table: &Table,
    refused: Vec<(String, String, String)>,
    problems: &mut Vec<Problem>,
) {
    for (id, field, reason) in refused {
        refuse_one(data, table, &id, &field, &reason, problems);
    }
}

/// Takes a row out and says why; false if it was out already.
fn refuse_one(
    data: &mut Dataset,
    table: &Table,
    id: &str,
    field: &str,
    reason: &str,
    problems: &mut Vec<Problem>,
) -> bool {
    if !data.contains(&table.name, id) {
        return false;
    }
    let (file, row) = data.origin(&table.name, id);
    problems.push(Problem::error(&file, row, field, reason));
    data.remove(&table.name, id);
    true
}

/// Coordinates outside the globe are kept as given (HSDS sets no range) but such a
/// location cannot be placed: it is left out of distance searches, and said so.
fn coordinates(data: &Dataset, problems: &mut Vec<Problem>) {
    let Some(location) = tables::get("location") else {
        return;
    };
    for (id, cells) in data.rows("location") {
        let lat = dataset::number(location, cells, "latitude");
        let lng = dataset::number(location, cells, "longitude");
        let bad = lat.is_some_and(|v| !(-90.0..=90.0).contains(&v))
            || lng.is_some_and(|v| !(-180.0..=180.0).contains(&v));
        if bad {
            let (file, row) = data.origin("location", id);
            problems.push(Problem::warning(
                &file,
                row,
                "latitude",
                "coordinates are outside the globe; kept as given, but the location is left out of distance searches",
            ));
        }
    }
}
