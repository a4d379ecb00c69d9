//! HSDS files: the tabular datapackage (datapackage.json + one CSV per table) and
//! JSON files of nested objects, read into a [`Dataset`] and written from one.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use super::dataset::{Cells, Dataset, Interner};
use super::nest::{self, Depth, Origin, Relations, Shape};
use super::tables::{self, DATAPACKAGE, Table};
use super::value;
use crate::directory::model::Problem;

/// The two forms of HSDS files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// CSV files: every column is there, so an empty cell means "no value".
    Tabular,
    /// Nested JSON objects, often partial: a field left out means "unchanged".
    Json,
}

/// Reads what a folder or file given to `atip import hsds` holds.
pub fn read(path: &Path, data: &mut Dataset, problems: &mut Vec<Problem>) -> io::Result<Form> {
    if path.is_dir() {
        if path.join("datapackage.json").is_file() || has_csv(path)? {
            read_tabular(path, data, problems).map(|()| Form::Tabular)
        } else {
            let mut files: Vec<PathBuf> = fs::read_dir(path)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                // atip's individuals ride beside the HSDS files; the import reads them.
                .filter(|p| p.file_name().is_none_or(|n| n != "individuals.json"))
                .collect();
            files.sort();
            for file in files {
                read_json(&file, data, problems)?;
            }
            Ok(Form::Json)
        }
    } else {
        read_json(path, data, problems).map(|()| Form::Json)
    }
}

fn has_csv(dir: &Path) -> io::Result<bool> {
    Ok(fs::read_dir(dir)?
        .filter_map(Result::ok)
        .any(|e| e.path().extension().is_some_and(|x| x == "csv")))
}

/// The CSV file of each table: as the package's datapackage.json names it, or the
/// standard name when the package has none (or one that does not parse).
fn csv_paths(dir: &Path, problems: &mut Vec<Problem>) -> HashMap<String, String> {
    let mut paths: HashMap<String, String> = tables::all()
        .iter()
        .map(|t| (t.name.clone(), t.path.clone()))
        .collect();
    let Ok(text) = fs::read_to_string(dir.join("datapackage.json")) else {
        return paths;
    };
    let Ok(package) = serde_json::from_str::<Json>(&text) else {
        problems.push(Problem::warning(
            "datapackage.json",
            None,
            "",
            "does not parse as JSON; the standard file names are used",
        ));
        return paths;
    };
    for resource in package["resources"].as_array().into_iter().flatten() {
        let (Some(name), Some(path)) = (resource["name"].as_str(), resource["path"].as_str())
        else {
            continue;
        };
        if tables::get(name).is_none() {
            problems.push(Problem::warning(
                "datapackage.json",
                None,
                name,
                "is not an HSDS 3.0 table; its file is not read",
            ));
        } else if Path::new(path).components().count() == 1 {
            paths.insert(name.to_owned(), path.to_owned());
        }
    }
    paths
}

/// What one file gave: its table's place in [`tables::all`], its rows, its problems.
type FilePart = (usize, Dataset, Vec<Problem>);

/// Reads the tables' CSV files on every core: each file is a table of its own, so
/// the files parse apart and their rows are put together afterwards.
fn read_tabular(dir: &Path, data: &mut Dataset, problems: &mut Vec<Problem>) -> io::Result<()> {
    let paths = csv_paths(dir, problems);
    let mut files: Vec<(usize, &'static Table, String, u64)> = tables::all()
        .iter()
        .enumerate()
        .filter_map(|(place, table)| {
            let name = paths.get(&table.name)?;
            let size = fs::metadata(dir.join(name))
                .ok()
                .filter(fs::Metadata::is_file)?
                .len();
            Some((place, table, name.clone(), size))
        })
        .collect();
    // Largest first, so the last file to finish is a small one.
    files.sort_by_key(|(_, _, _, size)| std::cmp::Reverse(*size));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let interner = Interner::default();
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let read: Vec<io::Result<Vec<FilePart>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers.min(files.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((place, table, name, _)) = files.get(i) else {
                            return Ok(done);
                        };
                        let mut part = Dataset::default();
                        let mut found = Vec::new();
                        let file = dir.join(name);
                        read_csv(table, &file, name, &mut part, &mut found, &interner)?;
                        done.push((*place, part, found));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a CSV reader failed")))
            })
            .collect()
    });
    // Its tables of millions of entries are not needed while the parts are put together.
    drop(interner);
    let mut parts = Vec::new();
    for worker in read {
        parts.extend(worker?);
    }
    // Problems in the tables' order, whichever file finished first.
    parts.sort_by_key(|(place, _, _)| *place);
    for (_, part, found) in parts {
        data.absorb(part);
        problems.extend(found);
    }
    Ok(())
}

fn read_csv(
    table: &'static Table,
    file: &Path,
    name: &str,
    data: &mut Dataset,
    problems: &mut Vec<Problem>,
    interner: &Interner,
) -> io::Result<()> {
    let label: Arc<str> = Arc::from(name);
    // The ids of a table that no other links to (attributes, schedules, languages…)
    // appear once: sharing them only fills the interner.
    let id_is_linked = tables::all()
        .iter()
        .any(|t| t.references.iter().any(|r| r.table == table.name));
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(io::BufReader::new(fs::File::open(file)?));
    let header = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(Problem::error(
                name,
                Some(1),
                "",
                &format!("unreadable header: {e}"),
            ));
            return Ok(());
        }
    };
    let mut columns: Vec<Option<usize>> = Vec::with_capacity(header.len());
    for raw in &header {
        let column = String::from_utf8_lossy(raw);
        let column = column.trim_start_matches('\u{feff}');
        let index = table.column(column);
        if index.is_none() {
            problems.push(Problem::warning(
                name,
                Some(1),
                column,
                "is not an HSDS 3.0 field; ignored",
            ));
        }
        columns.push(index);
    }
    for field in table.fields.iter().filter(|f| f.required) {
        if !header.iter().any(|h| h == field.name.as_bytes()) {
            problems.push(Problem::error(
                name,
                Some(1),
                &field.name,
                "required column is missing",
            ));
            return Ok(());
        }
    }
    let mut record = csv::ByteRecord::new();
    let mut row: u64 = 1;
    loop {
        row += 1;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                problems.push(Problem::error(
                    name,
                    Some(row),
                    "",
                    &format!("unreadable row: {e}"),
                ));
                break;
            }
        }
        if record.len() != header.len() {
            problems.push(Problem::error(
                name,
                Some(row),
                "",
                &format!(
                    "has {} cells; the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let mut cells = Cells::empty(table.fields.len());
        let mut bad = false;
        for (raw, column) in record.iter().zip(&columns) {
            let Some(i) = *column else { continue };
            let field = &table.fields[i];
            let parsed = std::str::from_utf8(raw)
                .map_err(|_| value::Refusal("is not valid UTF-8".into()))
                .and_then(|text| value::from_csv(field, text));
            match parsed {
                Ok(cell) => cells[i] = cell,
                Err(refusal) => {
                    bad = true;
                    problems.push(Problem::error(name, Some(row), &field.name, &refusal.0));
                }
            }
        }
        if cells[0].is_none() {
            problems.push(Problem::error(name, Some(row), "id", "is required"));
        } else if !bad {
            interner.share(&mut cells, id_is_linked);
            data.merge(table, cells, (&label, row));
        }
    }
    Ok(())
}

/// The HSDS object a JSON file holds, from its name (`services.json`,
/// `organization_full.json`, `taxonomy_term_list.json`…).
fn table_of(file: &Path) -> Option<&'static Table> {
    let stem = file.file_stem()?.to_str()?;
    let stem = stem
        .strip_suffix("_full")
        .or_else(|| stem.strip_suffix("_list"))
        .unwrap_or(stem);
    let singular = match stem {
        "taxonomies" => "taxonomy",
        "addresses" => "address",
        other => other.strip_suffix('s').unwrap_or(other),
    };
    tables::get(singular)
}

fn read_json(file: &Path, data: &mut Dataset, problems: &mut Vec<Problem>) -> io::Result<()> {
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let Some(table) = table_of(file) else {
        problems.push(Problem::error(
            &name,
            None,
            "",
            "cannot tell which HSDS object this file holds: name it organizations.json, services.json, service_at_locations.json, locations.json, taxonomies.json or taxonomy_terms.json",
        ));
        return Ok(());
    };
    let bytes = fs::read(file)?;
    let json: Json = match serde_json::from_slice(&bytes) {
        Ok(j) => j,
        Err(e) => {
            problems.push(Problem::error(
                &name,
                None,
                "",
                &format!("is not valid JSON: {e}"),
            ));
            return Ok(());
        }
    };
    let label: Arc<str> = Arc::from(name.as_str());
    let items = match &json {
        Json::Array(items) => items.as_slice(),
        Json::Object(map) => match map.get("contents") {
            Some(Json::Array(items)) => items.as_slice(),
            _ => std::slice::from_ref(&json),
        },
        _ => {
            problems.push(Problem::error(
                &name,
                None,
                "",
                "must hold an object or an array of objects",
            ));
            return Ok(());
        }
    };
    for (n, item) in items.iter().enumerate() {
        let origin = Origin {
            file: &label,
            record: n as u64 + 1,
        };
        nest::flatten(table, item, "", origin, data, problems);
    }
    Ok(())
}

/// Writes `data` as a tabular datapackage into `dir` (datapackage.json and one CSV per
/// table, rows in id order) and as nested JSON (`json/organizations.json` with full
/// services, `json/taxonomies.json`, `json/taxonomy_terms.json`). The same data gives
/// the same bytes. Confidential addresses are written without their street.
pub fn write(dir: &Path, data: &Dataset) -> io::Result<()> {
    fs::create_dir_all(dir.join("json"))?;
    fs::write(dir.join("datapackage.json"), DATAPACKAGE)?;
    for table in tables::all() {
        write_csv(dir, table, data)?;
    }
    let relations = Relations::new(data);
    let full = Shape {
        root: Depth::Full,
        services: Some(Depth::Full),
    };
    for (table, file) in [
        ("organization", "organizations.json"),
        ("taxonomy", "taxonomies.json"),
        ("taxonomy_term", "taxonomy_terms.json"),
    ] {
        let Some(t) = tables::get(table) else {
            continue;
        };
        let items: Vec<Json> = data
            .rows(table)
            .filter_map(|(id, _)| nest::assemble(t, id, data, &relations, full))
            .collect();
        let mut out = io::BufWriter::new(fs::File::create(dir.join("json").join(file))?);
        serde_json::to_writer_pretty(&mut out, &items)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    Ok(())
}

fn write_csv(dir: &Path, table: &Table, data: &Dataset) -> io::Result<()> {
    let mut out =
        csv::Writer::from_writer(io::BufWriter::new(fs::File::create(dir.join(&table.path))?));
    out.write_record(table.fields.iter().map(|f| f.name.as_str()))?;
    for (_, cells) in data.rows(&table.name) {
        let cells = nest::public_cells(table, cells, data);
        out.write_record(
            cells
                .iter()
                .map(|c| c.as_ref().map(value::Cell::to_csv).unwrap_or_default()),
        )?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn hsds_like_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<f64>()
                .prop_map(|n| serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)),
            "[a-z0-9@:/.-]{0,12}".prop_map(Json::from),
            Just(Json::from("ac148810-d857-441c-9679-408f346de14b")),
        ];
        let keys = prop::sample::select(vec![
            "id",
            "name",
            "status",
            "phones",
            "organization",
            "attributes",
            "taxonomy_term",
            "number",
            "service_at_locations",
            "location",
            "addresses",
            "minimum_age",
            "languages",
            "schedules",
            "program",
            "metadata",
            "location_type",
            "taxonomy_detail",
        ]);
        leaf.prop_recursive(4, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|pairs| {
                    Json::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Hostile CSV bytes (broken quotes, wrong widths, invalid UTF-8) are reported,
        /// never a panic.
        #[test]
        fn any_csv_bytes_are_read_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let dir = tempfile::tempdir().unwrap();
            let mut file = b"id,organization_id,name,status,minimum_age\n".to_vec();
            file.extend(&body);
            fs::write(dir.path().join("services.csv"), file).unwrap();
            let mut data = Dataset::default();
            let mut problems = Vec::new();
            read(dir.path(), &mut data, &mut problems).unwrap();
        }

        /// Nested objects of any shape, with HSDS keys in odd places, are flattened
        /// with problems reported, never a panic.
        #[test]
        fn any_nested_object_is_flattened_without_panicking(value in hsds_like_json()) {
            let mut data = Dataset::default();
            let mut problems = Vec::new();
            let label: Arc<str> = Arc::from("fuzz.json");
            if let Some(service) = tables::get("service") {
                nest::flatten(service, &value, "", Origin { file: &label, record: 1 }, &mut data, &mut problems);
            }
        }

        /// So are arbitrary JSON documents in a services file.
        #[test]
        fn any_json_is_flattened_without_panicking(text in "[\\[\\]{}\":,a-z0-9 .-]{0,200}") {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("services.json");
            fs::write(&path, text).unwrap();
            let mut data = Dataset::default();
            let mut problems = Vec::new();
            read(&path, &mut data, &mut problems).unwrap();
        }
    }
}
