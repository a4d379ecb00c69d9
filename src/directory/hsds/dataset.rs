//! A set of HSDS rows in memory, keyed by table and id: what an import reads before
//! anything is written, and what an export or an API answer is assembled from.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::tables::{self, Table};
use super::value::Cell;

/// The cells of one row, in the table's field order (`id` first).
pub type Cells = Vec<Option<Cell>>;

#[derive(Default, Debug)]
pub struct Dataset {
    tables: HashMap<&'static str, BTreeMap<String, Row>>,
}

#[derive(Debug)]
struct Row {
    cells: Cells,
    /// Where the row was first seen (file, row or record), for the import report.
    origin: (Arc<str>, u64),
}

impl Dataset {
    /// Adds a row, merging it into an earlier row with the same id: the same record
    /// often appears several times in nested JSON, each time with other links filled.
    pub fn merge(&mut self, table: &'static Table, cells: Cells, origin: (&Arc<str>, u64)) {
        let Some(Some(Cell::Text(id))) = cells.first() else {
            return;
        };
        let rows = self.tables.entry(table.name.as_str()).or_default();
        if let Some(existing) = rows.get_mut(id) {
            for (old, new) in existing.cells.iter_mut().zip(cells) {
                if new.is_some() {
                    *old = new;
                }
            }
        } else {
            let id = id.clone();
            let origin = (Arc::clone(origin.0), origin.1);
            rows.insert(id, Row { cells, origin });
        }
    }

    /// Rows of `table` by id, in id order.
    pub fn rows(&self, table: &str) -> impl Iterator<Item = (&String, &Cells)> {
        self.tables
            .get(table)
            .into_iter()
            .flatten()
            .map(|(id, row)| (id, &row.cells))
    }

    pub fn rows_mut(&mut self, table: &str) -> impl Iterator<Item = (&String, &mut Cells)> {
        self.tables
            .get_mut(table)
            .into_iter()
            .flatten()
            .map(|(id, row)| (id, &mut row.cells))
    }

    pub fn get_mut(&mut self, table: &str, id: &str) -> Option<&mut Cells> {
        self.tables
            .get_mut(table)
            .and_then(|rows| rows.get_mut(id))
            .map(|row| &mut row.cells)
    }

    pub fn get(&self, table: &str, id: &str) -> Option<&Cells> {
        self.tables
            .get(table)
            .and_then(|rows| rows.get(id))
            .map(|row| &row.cells)
    }

    /// The ids of `table` in a hash set, for loops that look up many references:
    /// found in one step rather than a dozen string comparisons down the tree.
    pub fn ids(&self, table: &str) -> Ids<'_> {
        Ids(self
            .tables
            .get(table)
            .map(|rows| rows.keys().map(String::as_str).collect())
            .unwrap_or_default())
    }

    pub fn contains(&self, table: &str, id: &str) -> bool {
        self.get(table, id).is_some()
    }

    pub fn count(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, BTreeMap::len)
    }

    pub fn total(&self) -> usize {
        self.tables.values().map(BTreeMap::len).sum()
    }

    /// The file and row (or record) a row came from.
    pub fn origin(&self, table: &str, id: &str) -> (String, Option<u64>) {
        self.tables
            .get(table)
            .and_then(|rows| rows.get(id))
            .map_or_else(
                || (String::new(), None),
                |row| (row.origin.0.to_string(), Some(row.origin.1)),
            )
    }

    pub fn remove(&mut self, table: &str, id: &str) {
        if let Some(rows) = self.tables.get_mut(table) {
            rows.remove(id);
        }
    }
}

/// The ids of one table (see [`Dataset::ids`]).
pub struct Ids<'a>(HashSet<&'a str>);

impl Ids<'_> {
    pub fn contains(&self, id: &str) -> bool {
        self.0.contains(id)
    }
}

/// The text of the cell at `column` (from [`Table::column`]).
pub fn text_at(cells: &Cells, column: usize) -> Option<&str> {
    cells
        .get(column)
        .and_then(Option::as_ref)
        .and_then(Cell::as_text)
}

/// A text cell of a row by column name.
pub fn text<'a>(table: &Table, cells: &'a Cells, column: &str) -> Option<&'a str> {
    table
        .column(column)
        .and_then(|i| cells.get(i))
        .and_then(|c| c.as_ref())
        .and_then(Cell::as_text)
}

pub fn number(table: &Table, cells: &Cells, column: &str) -> Option<f64> {
    table
        .column(column)
        .and_then(|i| cells.get(i))
        .and_then(|c| c.as_ref())
        .and_then(Cell::as_number)
}

pub fn set(table: &Table, cells: &mut Cells, column: &str, value: Option<Cell>) {
    if let Some(slot) = table.column(column).and_then(|i| cells.get_mut(i)) {
        *slot = value;
    }
}

/// Whether the location with this id is confidential, as far as `data` knows.
fn is_redacted(data: &Dataset, location_id: &str) -> bool {
    tables::get("location").is_some_and(|location| {
        data.get("location", location_id)
            .and_then(|cells| text(location, cells, "location_type"))
            == Some(tables::REDACTED)
    })
}

/// Whether a row is the address of a confidential location.
pub fn is_confidential_address(table: &Table, cells: &Cells, data: &Dataset) -> bool {
    table.name == "address"
        && text(table, cells, "location_id").is_some_and(|l| is_redacted(data, l))
}
