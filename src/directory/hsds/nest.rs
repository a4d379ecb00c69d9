//! The nested JSON form of HSDS: which objects sit inside which (from the official
//! schemas), flattening an object into table rows, and assembling rows back into
//! objects. No I/O: both directions work on a [`Dataset`].

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::dataset::{self, Cells, Dataset};
use super::tables::{self, Table};
use super::value::{self, Cell};
use crate::directory::model::Problem;

/// How one object holds others.
#[derive(Clone, Copy, Debug)]
pub enum Link {
    /// The rows of `table` whose `column` holds this object's id, as an array.
    Many {
        property: &'static str,
        table: &'static str,
        column: &'static str,
    },
    /// The row of `table` whose id this object holds in `column`, as one object.
    /// `deep` objects bring their own links; the others come with their fields only.
    One {
        property: &'static str,
        table: &'static str,
        column: &'static str,
        deep: bool,
    },
}

const fn many(property: &'static str, table: &'static str, column: &'static str) -> Link {
    Link::Many {
        property,
        table,
        column,
    }
}

const fn one(
    property: &'static str,
    table: &'static str,
    column: &'static str,
    deep: bool,
) -> Link {
    Link::One {
        property,
        table,
        column,
        deep,
    }
}

const ATTRIBUTES: Link = many("attributes", "attribute", "link_id");
const METADATA: Link = many("metadata", "metadata", "resource_id");

const ORGANIZATION_LINKS: &[Link] = &[
    many("funding", "funding", "organization_id"),
    many("contacts", "contact", "organization_id"),
    many("phones", "phone", "organization_id"),
    many("locations", "location", "organization_id"),
    many("programs", "program", "organization_id"),
    many(
        "organization_identifiers",
        "organization_identifier",
        "organization_id",
    ),
    ATTRIBUTES,
    METADATA,
    many("services", "service", "organization_id"),
];

const SERVICE_LINKS: &[Link] = &[
    many("phones", "phone", "service_id"),
    many("schedules", "schedule", "service_id"),
    many("service_areas", "service_area", "service_id"),
    many("service_at_locations", "service_at_location", "service_id"),
    many("languages", "language", "service_id"),
    one("organization", "organization", "organization_id", false),
    many("funding", "funding", "service_id"),
    many("cost_options", "cost_option", "service_id"),
    one("program", "program", "program_id", false),
    many("required_documents", "required_document", "service_id"),
    many("contacts", "contact", "service_id"),
    ATTRIBUTES,
    METADATA,
];

const SERVICE_AT_LOCATION_LINKS: &[Link] = &[
    many("contacts", "contact", "service_at_location_id"),
    many("phones", "phone", "service_at_location_id"),
    many("schedules", "schedule", "service_at_location_id"),
    one("location", "location", "location_id", true),
    ATTRIBUTES,
    METADATA,
    one("service", "service", "service_id", false),
];

const LOCATION_LINKS: &[Link] = &[
    many("languages", "language", "location_id"),
    many("addresses", "address", "location_id"),
    many("contacts", "contact", "location_id"),
    many("accessibility", "accessibility", "location_id"),
    many("phones", "phone", "location_id"),
    many("schedules", "schedule", "location_id"),
    ATTRIBUTES,
    METADATA,
];

const PHONE_LINKS: &[Link] = &[
    many("languages", "language", "phone_id"),
    ATTRIBUTES,
    METADATA,
];

const CONTACT_LINKS: &[Link] = &[many("phones", "phone", "contact_id"), ATTRIBUTES, METADATA];

const ATTRIBUTE_LINKS: &[Link] = &[
    one("taxonomy_term", "taxonomy_term", "taxonomy_term_id", true),
    METADATA,
];

const TAXONOMY_TERM_LINKS: &[Link] = &[
    one("taxonomy_detail", "taxonomy", "taxonomy_id", false),
    METADATA,
];

const TAXONOMY_LINKS: &[Link] = &[METADATA];

/// Every other object carries its attributes and change history.
const OTHER_LINKS: &[Link] = &[ATTRIBUTES, METADATA];

/// The links of each object, as the HSDS 3.0 schemas nest them.
pub fn links(table: &str) -> &'static [Link] {
    match table {
        "organization" => ORGANIZATION_LINKS,
        "service" => SERVICE_LINKS,
        "service_at_location" => SERVICE_AT_LOCATION_LINKS,
        "location" => LOCATION_LINKS,
        "phone" => PHONE_LINKS,
        "contact" => CONTACT_LINKS,
        "attribute" => ATTRIBUTE_LINKS,
        "taxonomy_term" => TAXONOMY_TERM_LINKS,
        "taxonomy" => TAXONOMY_LINKS,
        "metadata" | "meta_table_description" => &[],
        _ => OTHER_LINKS,
    }
}

/// Where a JSON object came from, for the import report.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    pub file: &'a Arc<str>,
    pub record: u64,
}

/// Flattens one nested object of `table` into rows of `data`. Field errors are
/// reported and the object's row is left out; its children are still read, so
/// one bad phone number does not hide the rest of a service.
pub fn flatten(
    table: &'static Table,
    object: &Json,
    path: &str,
    origin: Origin<'_>,
    data: &mut Dataset,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let Json::Object(map) = object else {
        problems.push(Problem::error(
            origin.file,
            Some(origin.record),
            path,
            "must be an object",
        ));
        return None;
    };
    let mut cells = Cells::empty(table.fields.len());
    let mut bad = false;
    for (i, field) in table.fields.iter().enumerate() {
        if let Some(raw) = map.get(&field.name) {
            match value::from_json(field, raw) {
                Ok(cell) => cells[i] = cell,
                Err(refusal) => {
                    bad = true;
                    problems.push(Problem::error(
                        origin.file,
                        Some(origin.record),
                        &join(path, &field.name),
                        &refusal.0,
                    ));
                }
            }
        }
    }
    let Some(Some(Cell::Text(id))) = cells.first().cloned() else {
        problems.push(Problem::error(
            origin.file,
            Some(origin.record),
            &join(path, "id"),
            "is required",
        ));
        return None;
    };
    flatten_links(table, map, &mut cells, &id, path, origin, data, problems);
    if !bad {
        data.merge(table, cells, (origin.file, origin.record));
    }
    Some(id.to_string())
}

/// Flattens the objects nested in `map` (an object of `table` with id `id`) and
/// fills this object's links to the single objects it holds.
#[allow(clippy::too_many_arguments)] // One recursive walk; a struct would only rename them.
fn flatten_links(
    table: &'static Table,
    map: &Map<String, Json>,
    cells: &mut Cells,
    id: &str,
    path: &str,
    origin: Origin<'_>,
    data: &mut Dataset,
    problems: &mut Vec<Problem>,
) {
    for link in links(&table.name) {
        match *link {
            Link::Many {
                property,
                table: child,
                column,
            } => {
                let Some(items) = map.get(property) else {
                    continue;
                };
                let Json::Array(items) = items else {
                    problems.push(Problem::error(
                        origin.file,
                        Some(origin.record),
                        &join(path, property),
                        "must be an array",
                    ));
                    continue;
                };
                let Some(child_table) = tables::get(child) else {
                    continue;
                };
                for (n, item) in items.iter().enumerate() {
                    let item = with_parent(item, column, id, &table.name, child);
                    flatten(
                        child_table,
                        &item,
                        &format!("{}[{n}]", join(path, property)),
                        origin,
                        data,
                        problems,
                    );
                }
            }
            Link::One {
                property,
                table: target,
                column,
                ..
            } => {
                let Some(item) = map.get(property).filter(|v| !v.is_null()) else {
                    continue;
                };
                let Some(target_table) = tables::get(target) else {
                    continue;
                };
                let target_id = flatten(
                    target_table,
                    item,
                    &join(path, property),
                    origin,
                    data,
                    problems,
                );
                if let Some(target_id) = target_id
                    && dataset::text(table, cells, column).is_none()
                {
                    dataset::set(table, cells, column, Some(Cell::Text(target_id.into())));
                }
            }
        }
    }
}

/// The child object with its link to the parent filled in where the file left it
/// out (nested HSDS usually does: the nesting says it).
fn with_parent(
    item: &Json,
    column: &str,
    parent_id: &str,
    parent_table: &str,
    child: &str,
) -> Json {
    let mut item = item.clone();
    if let Json::Object(map) = &mut item {
        let fill = |map: &mut Map<String, Json>, key: &str, value: &str| {
            if map.get(key).is_none_or(Json::is_null) {
                map.insert(key.to_owned(), Json::String(value.to_owned()));
            }
        };
        fill(map, column, parent_id);
        match child {
            "attribute" => fill(map, "link_entity", parent_table),
            "metadata" => fill(map, "resource_type", parent_table),
            _ => {}
        }
    }
    item
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Which rows hold which: for every `Many` link, the child ids by parent id.
pub struct Relations {
    children: HashMap<(&'static str, &'static str), HashMap<String, Vec<String>>>,
}

impl Relations {
    pub fn new(data: &Dataset) -> Self {
        let mut children: HashMap<(&'static str, &'static str), HashMap<String, Vec<String>>> =
            HashMap::new();
        for table in tables::all() {
            for link in links(&table.name) {
                let Link::Many {
                    table: child,
                    column,
                    ..
                } = *link
                else {
                    continue;
                };
                if children.contains_key(&(child, column)) {
                    continue;
                }
                let Some(child_table) = tables::get(child) else {
                    continue;
                };
                let mut by_parent: HashMap<String, Vec<String>> = HashMap::new();
                for (id, cells) in data.rows(child) {
                    if let Some(parent) = dataset::text(child_table, cells, column) {
                        by_parent
                            .entry(parent.to_owned())
                            .or_default()
                            .push(id.to_owned());
                    }
                }
                children.insert((child, column), by_parent);
            }
        }
        Self { children }
    }

    fn of(&self, child: &'static str, column: &'static str, parent: &str) -> &[String] {
        self.children
            .get(&(child, column))
            .and_then(|m| m.get(parent))
            .map_or(&[], Vec::as_slice)
    }
}

/// How much of an object to assemble.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// The object's own fields.
    Flat,
    /// With its links, as the schema nests them.
    Full,
}

/// What to include around the root object.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub root: Depth,
    /// `services` inside an organization: left out (`None`), or flat or full.
    pub services: Option<Depth>,
}

/// Whether to follow `link` from an object nested inside `ancestors`, and how deep:
/// never back up the chain (a service's organization does not list the service
/// again), and `services` only as the shape asks.
pub fn follow(link: &Link, shape: Shape, ancestors: &[&'static str]) -> Option<Depth> {
    match *link {
        Link::Many { table, .. } if ancestors.contains(&table) => None,
        Link::Many {
            table: "service", ..
        } => shape.services,
        Link::One { table, .. } if ancestors.contains(&table) => None,
        Link::Many { .. } | Link::One { deep: true, .. } => Some(Depth::Full),
        Link::One { .. } => Some(Depth::Flat),
    }
}

/// Assembles the object `id` of `table` from `data`, for publication: confidential
/// addresses come out without their street, postal code or attention line.
pub fn assemble(
    table: &'static Table,
    id: &str,
    data: &Dataset,
    relations: &Relations,
    shape: Shape,
) -> Option<Json> {
    let cells = data.get(&table.name, id)?;
    let mut ancestors = Vec::new();
    Some(object(
        table,
        cells,
        data,
        relations,
        shape,
        shape.root,
        &mut ancestors,
    ))
}

fn object(
    table: &'static Table,
    cells: &Cells,
    data: &Dataset,
    relations: &Relations,
    shape: Shape,
    depth: Depth,
    ancestors: &mut Vec<&'static str>,
) -> Json {
    let mut map = fields(table, cells, data);
    if depth == Depth::Flat {
        return Json::Object(map);
    }
    let Some(Some(Cell::Text(id))) = cells.first() else {
        return Json::Object(map);
    };
    ancestors.push(table.name.as_str());
    for link in links(&table.name) {
        match *link {
            Link::Many {
                property,
                table: child,
                column,
            } => {
                let Some(child_depth) = follow(link, shape, ancestors) else {
                    continue;
                };
                let Some(child_table) = tables::get(child) else {
                    continue;
                };
                let items: Vec<Json> = relations
                    .of(child, column, id)
                    .iter()
                    .filter_map(|cid| data.get(child, cid))
                    .map(|c| {
                        object(
                            child_table,
                            c,
                            data,
                            relations,
                            shape,
                            child_depth,
                            ancestors,
                        )
                    })
                    .collect();
                map.insert(property.to_owned(), Json::Array(items));
            }
            Link::One {
                property,
                table: target,
                column,
                ..
            } => {
                let Some(d) = follow(link, shape, ancestors) else {
                    continue;
                };
                let Some(target_table) = tables::get(target) else {
                    continue;
                };
                let Some(target_cells) =
                    dataset::text(table, cells, column).and_then(|tid| data.get(target, tid))
                else {
                    continue;
                };
                let value = object(
                    target_table,
                    target_cells,
                    data,
                    relations,
                    shape,
                    d,
                    ancestors,
                );
                map.insert(property.to_owned(), value);
            }
        }
    }
    ancestors.pop();
    Json::Object(map)
}

/// The object's own fields as published.
fn fields(table: &Table, cells: &Cells, data: &Dataset) -> Map<String, Json> {
    let redacted_address = dataset::is_confidential_address(table, cells, data);
    let mut map = Map::new();
    for (field, cell) in table.fields.iter().zip(cells) {
        if redacted_address {
            match field.name.as_str() {
                "address_1" | "postal_code" => {
                    map.insert(field.name.clone(), Json::String(String::new()));
                    continue;
                }
                "address_2" | "attention" => continue,
                _ => {}
            }
        }
        if let Some(cell) = cell {
            map.insert(field.name.clone(), cell.to_json());
        }
    }
    map
}

/// A row's cells as published in CSV: confidential addresses lose their street,
/// postal code and attention line.
pub fn public_cells(table: &Table, cells: &Cells, data: &Dataset) -> Cells {
    let mut out = cells.clone();
    if dataset::is_confidential_address(table, cells, data) {
        for column in tables::SEALED_ADDRESS {
            dataset::set(table, &mut out, column, None);
        }
    }
    out
}
