//! The curators' listing editor: every public field of an organization and of the
//! records under it, checked like an import, saved with HSDS `metadata` rows (field,
//! old value, new value, when) so every change is versioned, and audited with who.

use std::collections::BTreeMap;

use scoped_futures::ScopedFutureExt;

use super::hsds::dataset::{Cells, Dataset};
use super::hsds::nest::{Depth, Shape};
use super::hsds::tables::{self, Table};
use super::hsds::value::{self, Cell};
use super::model::{editable, parse_edit_key};
use super::publish::load_tree;
use super::service::DirectoryError;
use super::store;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::db::Db;
use crate::kernel::outbox::{self, ChangeOp};

/// Shown as `updated_by` in the published change history: the role, never a person
/// (who it was is in the audit log).
const UPDATED_BY: &str = "atip directory curator";

/// An organization and every record under it, as stored.
pub async fn tree(db: &Db, organization_id: &str) -> Result<Option<Dataset>, DirectoryError> {
    let Some(organization) = tables::get("organization") else {
        return Ok(None);
    };
    let mut data = Dataset::default();
    let label = std::sync::Arc::from("(stored)");
    for cells in store::where_in(
        db.reader(),
        organization,
        "id",
        &[organization_id.to_owned()],
    )
    .await?
    {
        data.merge(organization, cells, (&label, 0));
    }
    if !data.contains("organization", organization_id) {
        return Ok(None);
    }
    load_tree(
        db,
        organization,
        &[organization_id.to_owned()],
        Shape {
            root: Depth::Full,
            services: Some(Depth::Full),
        },
        &mut data,
    )
    .await?;
    Ok(Some(data))
}

/// One change history entry of the listing, newest first.
#[derive(Clone, Debug)]
pub struct Change {
    pub resource_type: Option<String>,
    pub field_name: Option<String>,
    pub previous_value: Option<String>,
    pub replacement_value: Option<String>,
    pub last_action_date: Option<String>,
}

/// The listing's change history (metadata rows of its records).
pub async fn history(db: &Db, data: &Dataset) -> Result<Vec<Change>, DirectoryError> {
    let ids: Vec<String> = tables::all()
        .iter()
        .flat_map(|t| data.rows(&t.name).map(|(id, _)| id.to_owned()))
        .collect();
    Ok(store::metadata_of(db.reader(), &ids).await?)
}

/// What a save found wrong: the form name of each refused value and why.
pub type Refusals = BTreeMap<String, String>;

/// Applies the sent values (form names from `model::edit_key`) to the listing of
/// `organization_id`. Returns how many values changed, or every refusal (then nothing
/// is stored).
pub async fn save(
    db: &Db,
    curator: &Principal,
    organization_id: &str,
    sent: &[(String, String)],
) -> Result<Result<usize, Refusals>, DirectoryError> {
    let mut data = tree(db, organization_id)
        .await?
        .ok_or(DirectoryError::NotFound)?;
    let mut refusals = Refusals::new();
    let mut changed: BTreeMap<(String, String), Cells> = BTreeMap::new();
    let mut history: Vec<Cells> = Vec::new();
    let metadata = tables::get("metadata").ok_or(DirectoryError::NotFound)?;
    let today = jiff::Zoned::now().date().to_string();
    for (key, raw) in sent {
        let Some((table_name, id, field_name)) = parse_edit_key(key) else {
            continue;
        };
        let Some(table) = tables::get(table_name) else {
            refusals.insert(key.clone(), "is not part of this listing".into());
            continue;
        };
        let Some(column) = table
            .column(field_name)
            .filter(|c| editable(table, &table.fields[*c]))
        else {
            refusals.insert(key.clone(), "cannot be edited here".into());
            continue;
        };
        let Some(cells) = data.get_mut(table_name, id) else {
            refusals.insert(key.clone(), "is not part of this listing".into());
            continue;
        };
        let field = &table.fields[column];
        let value = match value::from_csv(field, raw.trim()) {
            Ok(v) => v,
            Err(refusal) => {
                refusals.insert(key.clone(), refusal.0);
                continue;
            }
        };
        if value.is_none() && field.required {
            refusals.insert(key.clone(), "is required".into());
            continue;
        }
        if cells[column] == value {
            continue;
        }
        history.push(change_row(
            metadata,
            table,
            id,
            &field.name,
            (cells[column].as_ref(), value.as_ref()),
            &today,
        ));
        cells[column] = value;
        changed.insert((table.name.clone(), id.to_owned()), cells.clone());
    }
    if !refusals.is_empty() {
        return Ok(Err(refusals));
    }
    if changed.is_empty() {
        return Ok(Ok(0));
    }
    let count = history.len();
    let event = Event {
        object_type: Some("organization"),
        object_id: Some(organization_id.to_owned()),
        detail: Some(format!("{count} values")),
        ..Event::by(curator, "directory.listing.edit")
    };
    db.transaction(|tx| {
        let (changed, history, event) = (&changed, &history, &event);
        async move {
            for ((name, id), cells) in changed {
                let Some(table) = tables::get(name) else {
                    continue;
                };
                store::upsert(tx, table, &[cells]).await?;
                let entity = if matches!(
                    table.name.as_str(),
                    "service" | "location" | "service_at_location"
                ) {
                    format!("hsds.{}", table.name)
                } else {
                    "hsds.organization".to_owned()
                };
                let changed_id = if entity == "hsds.organization" {
                    organization_id
                } else {
                    id
                };
                outbox::append(tx, &entity, changed_id, ChangeOp::Update).await?;
            }
            let rows: Vec<&Cells> = history.iter().collect();
            store::upsert(tx, metadata, &rows).await?;
            audit::append(tx, event, Outcome::Success).await?;
            Ok::<_, DirectoryError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(Ok(count))
}

/// An HSDS `metadata` row recording one changed value.
fn change_row(
    metadata: &Table,
    table: &Table,
    id: &str,
    field: &str,
    (before, after): (Option<&Cell>, Option<&Cell>),
    today: &str,
) -> Cells {
    let mut cells = Cells::empty(metadata.fields.len());
    let text = |v: Option<&Cell>| v.map_or_else(String::new, Cell::to_csv);
    for (name, v) in [
        ("id", uuid::Uuid::now_v7().to_string()),
        ("resource_id", id.to_owned()),
        ("resource_type", table.name.clone()),
        ("last_action_date", today.to_owned()),
        ("last_action_type", "update".to_owned()),
        ("field_name", field.to_owned()),
        ("previous_value", text(before)),
        ("replacement_value", text(after)),
        ("updated_by", UPDATED_BY.to_owned()),
    ] {
        if let Some(c) = metadata.column(name) {
            cells[c] = Some(Cell::Text(v.into()));
        }
    }
    cells
}
