//! A set of HSDS rows in memory, keyed by table and id: what an import reads before
//! anything is written, and what an export or an API answer is assembled from.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use indexmap::IndexMap;

use super::tables::{self, Table};
use super::value::Cell;

/// The cells of one row, in the table's field order (`id` first). Most HSDS fields
/// are empty in most rows, so only the filled ones are kept, each with its column:
/// dense rows of the wide tables cost more in empty slots than in data (at 500,000
/// services, most of an import's memory).
#[derive(Clone, Debug, Default)]
pub struct Cells {
    width: u16,
    /// By column; an entry may hold `None` after [`Cells::get_mut`] (dropped by
    /// [`Cells::compact`]).
    filled: Vec<(u16, Option<Cell>)>,
}

const EMPTY: &Option<Cell> = &None;

impl Cells {
    /// A row of `width` empty cells.
    pub fn empty(width: usize) -> Self {
        Self {
            width: u16::try_from(width).unwrap_or(u16::MAX),
            filled: Vec::new(),
        }
    }

    /// How many cells the row has, filled or not.
    pub fn len(&self) -> usize {
        usize::from(self.width)
    }

    pub fn is_empty(&self) -> bool {
        self.width == 0
    }

    fn place(&self, i: usize) -> Result<usize, usize> {
        // Columns are few and mostly filled in order: the last one is the usual guess.
        match self.filled.last() {
            Some((last, _)) if usize::from(*last) < i => Err(self.filled.len()),
            _ => self
                .filled
                .binary_search_by_key(&i, |(c, _)| usize::from(*c)),
        }
    }

    pub fn get(&self, i: usize) -> Option<&Option<Cell>> {
        if i >= self.len() {
            return None;
        }
        Some(self.place(i).map_or(EMPTY, |at| &self.filled[at].1))
    }

    pub fn first(&self) -> Option<&Option<Cell>> {
        self.get(0)
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut Option<Cell>> {
        if i >= self.len() {
            return None;
        }
        let column = u16::try_from(i).ok()?;
        let at = match self.place(i) {
            Ok(at) => at,
            Err(at) => {
                self.filled.insert(at, (column, None));
                at
            }
        };
        Some(&mut self.filled[at].1)
    }

    /// Every cell in column order, the empty ones as `None`.
    pub fn iter(&self) -> impl Iterator<Item = &Option<Cell>> {
        let mut filled = self.filled.iter().peekable();
        (0..self.len()).map(move |i| match filled.peek() {
            Some((c, cell)) if usize::from(*c) == i => {
                filled.next();
                cell
            }
            _ => EMPTY,
        })
    }

    /// Drops emptied entries and spare capacity (before a row is kept for long).
    pub fn compact(&mut self) {
        self.filled.retain(|(_, cell)| cell.is_some());
        self.filled.shrink_to_fit();
    }
}

impl std::ops::Index<usize> for Cells {
    type Output = Option<Cell>;

    fn index(&self, i: usize) -> &Option<Cell> {
        self.get(i).unwrap_or(EMPTY)
    }
}

impl std::ops::IndexMut<usize> for Cells {
    fn index_mut(&mut self, i: usize) -> &mut Option<Cell> {
        #[allow(clippy::expect_used)]
        self.get_mut(i).expect("a column of the row's table")
    }
}

impl PartialEq for Cells {
    fn eq(&self, other: &Self) -> bool {
        self.width == other.width && self.iter().eq(other.iter())
    }
}

impl<'a> IntoIterator for &'a Cells {
    type Item = &'a Option<Cell>;
    type IntoIter = Box<dyn Iterator<Item = &'a Option<Cell>> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl FromIterator<Option<Cell>> for Cells {
    fn from_iter<I: IntoIterator<Item = Option<Cell>>>(cells: I) -> Self {
        let mut row = Self::default();
        for (i, cell) in cells.into_iter().enumerate() {
            row.width = u16::try_from(i + 1).unwrap_or(u16::MAX);
            if let (Some(cell), Ok(column)) = (cell, u16::try_from(i)) {
                row.filled.push((column, Some(cell)));
            }
        }
        row.filled.shrink_to_fit();
        row
    }
}

/// Rows by id. Hashed with foldhash rather than the standard library's SipHash: an
/// import of 500,000 services hashes millions of ids, and spent a tenth of its time in
/// SipHash; the keys come from the operator's own files.
type Rows = IndexMap<Arc<str>, Row, foldhash::fast::RandomState>;

#[derive(Default, Debug)]
pub struct Dataset {
    /// Rows by id in the order they were added (an import reports problems in file
    /// order); [`Dataset::sort`] puts them in id order.
    tables: HashMap<&'static str, Rows>,
    /// The files rows came from (a row keeps the place of its file here).
    files: Vec<Arc<str>>,
}

#[derive(Debug)]
struct Row {
    cells: Cells,
    /// Where the row was first seen (file, row or record), for the import report.
    file: u16,
    line: u32,
}

impl Dataset {
    /// Adds a row, merging it into an earlier row with the same id: the same record
    /// often appears several times in nested JSON, each time with other links filled.
    pub fn merge(&mut self, table: &'static Table, cells: Cells, origin: (&Arc<str>, u64)) {
        let Some(Some(Cell::Text(id))) = cells.first() else {
            return;
        };
        let file = self.file_place(origin.0);
        let rows = self.tables.entry(table.name.as_str()).or_default();
        // The key shares the id cell's text.
        match rows.entry(Arc::clone(id)) {
            indexmap::map::Entry::Occupied(mut existing) => {
                merge_cells(&mut existing.get_mut().cells, cells);
            }
            indexmap::map::Entry::Vacant(slot) => {
                let mut cells = cells;
                cells.compact();
                let line = u32::try_from(origin.1).unwrap_or(u32::MAX);
                slot.insert(Row { cells, file, line });
            }
        }
    }

    /// The place of `file` in [`Dataset::files`], added if new.
    fn file_place(&mut self, file: &Arc<str>) -> u16 {
        let place = self
            .files
            .iter()
            .position(|f| Arc::ptr_eq(f, file) || f == file)
            .unwrap_or_else(|| {
                self.files.push(Arc::clone(file));
                self.files.len() - 1
            });
        u16::try_from(place).unwrap_or(u16::MAX)
    }

    /// Adds the rows of `other`, merged as by [`Dataset::merge`]; whole tables move.
    pub fn absorb(&mut self, other: Self) {
        let places: Vec<u16> = other.files.iter().map(|f| self.file_place(f)).collect();
        for (name, mut rows) in other.tables {
            for row in rows.values_mut() {
                row.file = places
                    .get(usize::from(row.file))
                    .copied()
                    .unwrap_or(row.file);
            }
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
    pub fn rows(&self, table: &str) -> impl Iterator<Item = (&str, &Cells)> {
        self.tables
            .get(table)
            .into_iter()
            .flatten()
            .map(|(id, row)| (&**id, &row.cells))
    }

    pub fn rows_mut(&mut self, table: &str) -> impl Iterator<Item = (&str, &mut Cells)> {
        self.tables
            .get_mut(table)
            .into_iter()
            .flatten()
            .map(|(id, row)| (&**id, &mut row.cells))
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
            .map(|(id, _)| &**id)
    }

    /// The file and row (or record) a row came from.
    pub fn origin(&self, table: &str, id: &str) -> (String, Option<u64>) {
        self.tables
            .get(table)
            .and_then(|rows| rows.get(id))
            .map_or_else(
                || (String::new(), None),
                |row| {
                    let file = self.files.get(usize::from(row.file));
                    (
                        file.map(ToString::to_string).unwrap_or_default(),
                        Some(u64::from(row.line)),
                    )
                },
            )
    }

    /// Takes a row out in constant time: the table's last row takes its place.
    pub fn remove(&mut self, table: &str, id: &str) {
        if let Some(rows) = self.tables.get_mut(table) {
            rows.swap_remove(id);
        }
    }
}

/// One copy of each short text a package repeats (ids, links, codes: a service's id is
/// in five tables), shared by the threads reading the files. In shards, each behind
/// its own lock: one lock for all made the two readers wait on each other for a tenth
/// of the reading, and an interner per thread would keep a text read by both twice.
pub struct Interner {
    shards: Vec<std::sync::Mutex<HashSet<Arc<str>, foldhash::fast::RandomState>>>,
    pick: foldhash::fast::RandomState,
}

const SHARDS: usize = 64;

impl Default for Interner {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| std::sync::Mutex::default()).collect(),
            pick: foldhash::fast::RandomState::default(),
        }
    }
}

/// Longer texts are descriptions and names, which rarely repeat.
const SHARED_TEXT_MAX: usize = 64;

impl Interner {
    /// Points each short text cell of `cells` at the shared copy of its text; the id
    /// (the first cell) only if `id_is_linked`, that is other rows may name it.
    pub fn share(&self, cells: &mut Cells, id_is_linked: bool) {
        use std::hash::BuildHasher as _;
        for (column, cell) in &mut cells.filled {
            let Some(Cell::Text(text)) = cell else {
                continue;
            };
            if text.len() > SHARED_TEXT_MAX || (*column == 0 && !id_is_linked) {
                continue;
            }
            // The remainder is below SHARDS, so it fits any usize.
            let place = usize::try_from(self.pick.hash_one(&**text) % SHARDS as u64).unwrap_or(0);
            // A poisoned lock only means another reader failed; sharing is an economy.
            let Ok(mut seen) = self.shards[place].lock() else {
                continue;
            };
            match seen.get(&**text) {
                Some(shared) => *text = Arc::clone(shared),
                None => {
                    seen.insert(Arc::clone(text));
                }
            }
        }
    }
}

/// Cells given in `new` replace those of `old`; the others stay.
fn merge_cells(old: &mut Cells, new: Cells) {
    for (column, cell) in new.filled {
        if let Some(cell) = cell
            && let Some(slot) = old.get_mut(usize::from(column))
        {
            *slot = Some(cell);
        }
    }
    old.compact();
}

/// The ids of one table (see [`Dataset::ids`]).
#[derive(Clone, Copy)]
pub struct Ids<'a>(Option<&'a Rows>);

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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cell(n: u8) -> Option<Cell> {
        match n % 3 {
            0 => None,
            1 => Some(Cell::Text(format!("t{n}").into())),
            _ => Some(Cell::Number(f64::from(n))),
        }
    }

    proptest! {
        /// A sparse row answers like the dense row it stands for, through every change.
        #[test]
        fn a_sparse_row_behaves_like_a_dense_one(
            width in 1_usize..30,
            writes in proptest::collection::vec((0_usize..40, any::<u8>()), 0..60),
            merged in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut dense: Vec<Option<Cell>> = vec![None; width];
            let mut sparse = Cells::empty(width);
            for (column, value) in writes {
                if column < width {
                    dense[column] = cell(value);
                    sparse[column] = cell(value);
                } else {
                    prop_assert!(sparse.get_mut(column).is_none());
                }
            }
            prop_assert!(sparse.iter().eq(dense.iter()));
            let newer: Vec<Option<Cell>> = (0..width).map(|i| merged.get(i).copied().and_then(cell)).collect();
            for (old, new) in dense.iter_mut().zip(&newer) {
                if new.is_some() {
                    old.clone_from(new);
                }
            }
            merge_cells(&mut sparse, newer.into_iter().collect());
            prop_assert!(sparse.iter().eq(dense.iter()));
            prop_assert_eq!(sparse.len(), width);
            for (i, expected) in dense.iter().enumerate() {
                prop_assert_eq!(sparse.get(i), Some(expected));
            }
            prop_assert_eq!(sparse.get(width), None);
            prop_assert_eq!(&sparse, &dense.into_iter().collect::<Cells>());
        }
    }
}
