//! The HSDS 3.0 tables, read from the official `datapackage.json` built into the
//! binary: the specification itself decides the columns, their types and which are
//! required, so the store, the CSV form and the checks cannot drift from it.

use std::sync::LazyLock;

use serde::Deserialize;

/// The official tabular description (CC BY-SA 4.0, Open Referral; see data/hsds-3.0).
pub const DATAPACKAGE: &str = include_str!("../../../data/hsds-3.0/datapackage.json");

/// The address columns of a confidential location: sealed in the store, blank in
/// everything published, and never overwritten by a blank from an imported file.
pub const SEALED_ADDRESS: [&str; 4] = ["address_1", "address_2", "attention", "postal_code"];

/// The location type that marks a confidential site (the upstream proposal in
/// data/hsds-3.0/README.md): its street address is sealed and never published.
pub const REDACTED: &str = "redacted";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Date,
    DateTime,
    Time,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Plain,
    Uuid,
    Email,
    Uri,
}

#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub kind: Kind,
    pub format: Format,
    pub required: bool,
    pub allowed: Option<Vec<String>>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Reference {
    pub column: String,
    pub table: String,
}

#[derive(Debug)]
pub struct Table {
    pub name: String,
    /// The CSV file name in a datapackage.
    pub path: String,
    pub fields: Vec<Field>,
    pub references: Vec<Reference>,
}

impl Table {
    /// The SQL table holding it.
    pub fn sql_name(&self) -> String {
        format!("hsds_{}", self.name)
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

#[derive(Deserialize)]
struct Package {
    resources: Vec<Resource>,
}

#[derive(Deserialize)]
struct Resource {
    name: String,
    path: String,
    schema: ResourceSchema,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSchema {
    fields: Vec<RawField>,
    #[serde(default)]
    foreign_keys: Vec<RawForeignKey>,
}

#[derive(Deserialize)]
struct RawField {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    constraints: RawConstraints,
}

#[derive(Deserialize, Default)]
struct RawConstraints {
    #[serde(default)]
    required: bool,
    #[serde(default, rename = "enum")]
    allowed: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawForeignKey {
    fields: String,
    reference: RawTarget,
}

#[derive(Deserialize)]
struct RawTarget {
    resource: String,
}

static TABLES: LazyLock<Vec<Table>> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // The file is part of the build; a test parses it.
    let package: Package =
        serde_json::from_str(DATAPACKAGE).expect("the built-in HSDS datapackage parses");
    package.resources.into_iter().map(table).collect()
});

fn table(resource: Resource) -> Table {
    let fields = resource
        .schema
        .fields
        .into_iter()
        .map(|f| {
            let kind = match f.kind.as_str() {
                "number" | "integer" => Kind::Number,
                "date" => Kind::Date,
                "datetime" => Kind::DateTime,
                "time" => Kind::Time,
                _ => Kind::Text,
            };
            let format = match f.format.as_deref() {
                Some("uuid") => Format::Uuid,
                Some("email") => Format::Email,
                Some("uri") => Format::Uri,
                _ => Format::Plain,
            };
            let mut allowed = f.constraints.allowed;
            if resource.name == "location"
                && f.name == "location_type"
                && let Some(values) = allowed.as_mut()
            {
                values.push(REDACTED.to_owned());
            }
            Field {
                name: f.name,
                kind,
                format,
                required: f.constraints.required,
                allowed,
            }
        })
        .collect();
    let references = resource
        .schema
        .foreign_keys
        .into_iter()
        .map(|k| Reference {
            column: k.fields,
            table: k.reference.resource,
        })
        .collect();
    Table {
        name: resource.name,
        path: resource.path,
        fields,
        references,
    }
}

/// Every HSDS table, in the datapackage's order.
pub fn all() -> &'static [Table] {
    &TABLES
}

/// One table by its HSDS name.
pub fn get(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_datapackage_describes_all_hsds_tables() {
        let names: Vec<&str> = all().iter().map(|t| t.name.as_str()).collect();
        for expected in [
            "organization",
            "program",
            "service",
            "location",
            "service_at_location",
            "address",
            "phone",
            "schedule",
            "service_area",
            "language",
            "funding",
            "cost_option",
            "required_document",
            "accessibility",
            "contact",
            "organization_identifier",
            "taxonomy",
            "taxonomy_term",
            "attribute",
            "metadata",
        ] {
            assert!(names.contains(&expected), "{expected} missing");
        }
        let service = get("service").unwrap();
        assert_eq!(service.fields[0].name, "id");
        assert!(service.fields[0].required);
        assert_eq!(service.fields[0].format, Format::Uuid);
        let age = service.column("minimum_age").unwrap();
        assert_eq!(service.fields[age].kind, Kind::Number);
    }
}
