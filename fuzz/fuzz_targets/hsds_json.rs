//! Nested HSDS JSON as an import reads it: every value of every table checked, links
//! followed, references checked, problems reported; never a panic.
#![no_main]

use std::collections::HashSet;
use std::sync::Arc;

use atip::directory::hsds::dataset::Dataset;
use atip::directory::hsds::nest::Origin;
use atip::directory::hsds::{check, nest, tables, value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let file: Arc<str> = Arc::from("fuzz.json");
    let items = json
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![json.clone()]);
    for name in [
        "organization",
        "service",
        "location",
        "service_at_location",
        "taxonomy_term",
    ] {
        let Some(table) = tables::get(name) else {
            continue;
        };
        let mut dataset = Dataset::default();
        let mut problems = Vec::new();
        for (n, item) in items.iter().enumerate() {
            let origin = Origin {
                file: &file,
                record: n as u64,
            };
            nest::flatten(table, item, "", origin, &mut dataset, &mut problems);
        }
        check::check(&mut dataset, &HashSet::new(), &mut problems);
        // The same text as a CSV cell of every field.
        if let Some(text) = json.as_str() {
            for field in &table.fields {
                let _ = value::from_csv(field, text);
            }
        }
    }
});
