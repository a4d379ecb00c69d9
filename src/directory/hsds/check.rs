//! Whole-dataset rules checked before an import writes anything: required fields,
//! references between records, coordinates. Rows that break a rule are taken out
//! (and everything that needs them), so what is left can be written as it is.

use std::collections::HashSet;
use std::hash::BuildHasher;

use super::dataset::{self, Dataset};
use super::tables::{self, Table};
use crate::directory::model::Problem;

/// References from `data` to records it does not hold: the store must say which of
/// these exist already.
pub fn outside_references(data: &Dataset) -> Vec<(&'static str, String)> {
    let mut wanted = HashSet::new();
    for table in tables::all() {
        for reference in &table.references {
            let Some(target) = tables::get(&reference.table) else {
                continue;
            };
            for (_, cells) in data.rows(&table.name) {
                if let Some(id) = dataset::text(table, cells, &reference.column)
                    && !data.contains(&target.name, id)
                {
                    wanted.insert((target.name.as_str(), id.to_owned()));
                }
            }
        }
    }
    let mut wanted: Vec<_> = wanted.into_iter().collect();
    wanted.sort();
    wanted
}

/// Checks every row; `stored` holds the outside references that exist already.
pub fn check<S: BuildHasher>(
    data: &mut Dataset,
    stored: &HashSet<(&'static str, String), S>,
    problems: &mut Vec<Problem>,
) {
    for table in tables::all() {
        let mut refused = Vec::new();
        for (id, cells) in data.rows(&table.name) {
            let redacted_address = dataset::is_confidential_address(table, cells, data);
            for (field, cell) in table.fields.iter().zip(cells) {
                let exempt =
                    redacted_address && matches!(field.name.as_str(), "address_1" | "postal_code");
                if field.required && cell.is_none() && !exempt {
                    refused.push((id.clone(), field.name.clone(), "is required".to_owned()));
                }
            }
        }
        refuse(data, table, refused, problems);
    }
    coordinates(data, problems);
    // Taking a row out can orphan rows that need it: repeat until nothing changes.
    loop {
        let mut changed = false;
        for table in tables::all() {
            let mut refused = Vec::new();
            for reference in &table.references {
                let required = table
                    .column(&reference.column)
                    .is_some_and(|i| table.fields[i].required);
                for (id, cells) in data.rows(&table.name) {
                    let Some(target) = dataset::text(table, cells, &reference.column) else {
                        continue;
                    };
                    if data.contains(&reference.table, target)
                        || stored.contains(&(tables_name(&reference.table), target.to_owned()))
                    {
                        continue;
                    }
                    if required {
                        refused.push((
                            id.clone(),
                            reference.column.clone(),
                            format!("refers to {} {target}, which is not in the import or the directory", reference.table),
                        ));
                    }
                }
            }
            changed |= !refused.is_empty();
            refuse(data, table, refused, problems);
        }
        if !changed {
            break;
        }
    }
    warn_dangling(data, stored, problems);
}

fn tables_name(name: &str) -> &'static str {
    tables::get(name).map_or("", |t| t.name.as_str())
}

fn refuse(
    data: &mut Dataset,
    table: &Table,
    refused: Vec<(String, String, String)>,
    problems: &mut Vec<Problem>,
) {
    for (id, field, reason) in refused {
        if !data.contains(&table.name, &id) {
            continue;
        }
        let (file, row) = data.origin(&table.name, &id);
        problems.push(Problem::error(&file, row, &field, &reason));
        data.remove(&table.name, &id);
    }
}

/// Optional links to records nobody has (a parent organization published elsewhere,
/// a phone's contact): kept as given, reported so a curator can look.
fn warn_dangling<S: BuildHasher>(
    data: &Dataset,
    stored: &HashSet<(&'static str, String), S>,
    problems: &mut Vec<Problem>,
) {
    for table in tables::all() {
        for reference in &table.references {
            for (id, cells) in data.rows(&table.name) {
                let Some(target) = dataset::text(table, cells, &reference.column) else {
                    continue;
                };
                if !data.contains(&reference.table, target)
                    && !stored.contains(&(tables_name(&reference.table), target.to_owned()))
                {
                    let (file, row) = data.origin(&table.name, id);
                    problems.push(Problem::warning(
                        &file,
                        row,
                        &reference.column,
                        &format!("refers to {} {target}, which is not in the import or the directory; kept as given", reference.table),
                    ));
                }
            }
        }
    }
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
