//! A set of HSDS rows in memory, keyed by table and id: what an import reads before
//! anything is written, and what an export or an API answer is assembled from.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;

use super::tables::{self, Table};
use super::value::Cell;

/// The cells of one row, in the table's field order (`id` first).
pub type Cells = Vec<Option<Cell>>;

#[derive(Default, Debug)]
pub struct Dataset {
    /// Rows by id in the order they were added (an import reports problems in file
    /// order); [`Dataset::sort`] puts them in id order.
    tables: HashMap<&'static str, IndexMap<String, Row>>,
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
        match rows.entry(id.clone()) {
            indexmap::map::Entry::Occupied(mut existing) => {
                merge_cells(&mut existing.get_mut().cells, cells);
            }
            indexmap::map::Entry::Vacant(slot) => {
                let origin = (Arc::clone(origin.0), origin.1);
                slot.insert(Row { cells, origin });
            }
        }
    }

    /// Adds the rows of `other`, merged as by [`Dataset::merge`]; whole tables move.
    pub fn absorb(&mut self, other: Self) {
        for (name, rows) in other.tables {
            match self.tables.entry(name) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(rows);
                }
                std::collections::hash_map::Entry::Occupied(mut mine) => {
                    for (id, row) in rows {
                        match mine.get_mut().entry(id) {
                            indexmap::map::Entry::Occupied(mut existing) => {
                                merge_cells(&mut existing.get_mut().cells, row.cells);
                            }
                            indexmap::map::Entry::Vacant(slot) => {
                                slot.insert(row);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Puts every table's rows in id order (exports and answers list them so).
    pub fn sort(&mut self) {
        for rows in self.tables.values_mut() {
            rows.sort_unstable_keys();
        }
    }

    /// Rows of `table` (see [`Dataset::sort`] for their order).
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

    /// The ids of `table`, looked up once for a loop over many rows.
    pub fn ids(&self, table: &str) -> Ids<'_> {
        Ids(self.tables.get(table))
    }

    pub fn contains(&self, table: &str, id: &str) -> bool {
        self.get(table, id).is_some()
    }

    pub fn count(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, IndexMap::len)
    }

    pub fn total(&self) -> usize {
        self.tables.values().map(IndexMap::len).sum()
    }

    /// The id of the row at `index` in [`Dataset::rows`] order.
    pub fn id_at(&self, table: &str, index: usize) -> Option<&str> {
        self.tables
            .get(table)
            .and_then(|rows| rows.get_index(index))
            .map(|(id, _)| id.as_str())
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

    /// Takes a row out in constant time: the table's last row takes its place.
    pub fn remove(&mut self, table: &str, id: &str) {
        if let Some(rows) = self.tables.get_mut(table) {
            rows.swap_remove(id);
        }
    }
}

/// Cells given in `new` replace those of `old`; the others stay.
fn merge_cells(old: &mut Cells, new: Cells) {
    for (old, new) in old.iter_mut().zip(new) {
        if new.is_some() {
            *old = new;
        }
    }
}

/// The ids of one table (see [`Dataset::ids`]).
#[derive(Clone, Copy)]
pub struct Ids<'a>(Option<&'a IndexMap<String, Row>>);

impl Ids<'_> {
    pub fn contains(self, id: &str) -> bool {
        self.0.is_some_and(|rows| rows.contains_key(id))
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
