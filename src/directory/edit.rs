//! The curators' listing editor: every public field of an organization and of the
//! records under it, checked like an import, saved with HSDS `metadata` rows (field,
//! old value, new value, when) so every change is versioned, and audited with who.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use scoped_futures::ScopedFutureExt;

use super::hsds::dataset::{self, Cells, Dataset};
use super::hsds::nest::{Depth, Shape};
use super::hsds::tables::{self, REDACTED, SEALED_ADDRESS, Table};
use super::hsds::value::{self, Cell};
use super::model::{
    ADDABLE, Attach, asked_when_adding, attach, cascade, editable, parse_edit_key, recognizable,
};
use super::publish::load_tree;
use super::service::DirectoryError;
use super::store;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::Db;
use crate::kernel::outbox::{self, ChangeOp};

/// Shown as `updated_by` in the published change history: the role, never a person
/// (who it was is in the audit log).
const UPDATED_BY: &str = "atip directory curator";

/// A history value that was or became empty.
const NO_VALUE: &str = "(none)";

/// An organization and every record under it, as stored.
pub async fn tree(db: &Db, organization_id: &str) -> Result<Option<Dataset>, DirectoryError> {
    let Some(organization) = tables::get("organization") else {
        return Ok(None);
    };
    let mut data = Dataset::default();
    let label = Arc::from("(stored)");
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
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Change {
    pub id: String,
    pub resource_type: Option<String>,
    pub field_name: Option<String>,
    pub previous_value: Option<String>,
    pub replacement_value: Option<String>,
    pub last_action_date: Option<String>,
    pub last_action_type: Option<String>,
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

/// One value a curator sent, checked.
struct Edit<'a> {
    table: &'static Table,
    id: &'a str,
    column: usize,
    value: Option<Cell>,
}

/// Applies the sent values (form names from `model::edit_key`) to the listing of
/// `organization_id`. Returns how many values changed, or every refusal (then nothing
/// is stored). A location made confidential gets its coordinates coarsened and its
/// addresses' streets sealed, as an import does; one made public again gets them back.
pub async fn save(
    db: &Db,
    crypto: &Crypto,
    curator: &Principal,
    organization_id: &str,
    sent: &[(String, String)],
) -> Result<Result<usize, Refusals>, DirectoryError> {
    let mut data = tree(db, organization_id)
        .await?
        .ok_or(DirectoryError::NotFound)?;
    let (edits, refusals) = checked_edits(&data, sent);
    if !refusals.is_empty() {
        return Ok(Err(refusals));
    }
    let redacted = confidential_after(&data, &edits);
    let mut changes = Changes::new()?;
    for edit in edits {
        let coordinate = edit.table.name == "location"
            && matches!(
                edit.table.fields[edit.column].name.as_str(),
                "latitude" | "longitude"
            );
        let value = if coordinate && redacted.get(edit.id).is_some_and(|r| r.1) {
            edit.value
                .as_ref()
                .and_then(Cell::as_number)
                .map(|v| Cell::Number(super::service::coarsen(v)))
        } else {
            edit.value
        };
        changes.set(&mut data, edit.table, edit.id, edit.column, value, true);
    }
    for (id, (before, after)) in &redacted {
        if before != after {
            protect(crypto, &mut data, &mut changes, id, *after).await?;
        }
    }
    let count = changes.history.len();
    if changes.rows.is_empty() {
        return Ok(Ok(0));
    }
    let event = Event {
        object_type: Some("organization"),
        object_id: Some(organization_id.to_owned()),
        detail: Some(format!("{count} values")),
        ..Event::by(curator, "directory.listing.edit")
    };
    let rows: Vec<(&'static Table, Cells)> = changes
        .rows
        .iter()
        .filter_map(|(name, id)| {
            let table = tables::get(name)?;
            Some((table, data.get(name, id)?.clone()))
        })
        .collect();
    store_changes(db, organization_id, &rows, &[], &changes.history, &event).await?;
    Ok(Ok(count))
}

/// Whether each location of the listing is confidential before and after `edits`.
fn confidential_after(data: &Dataset, edits: &[Edit<'_>]) -> BTreeMap<String, (bool, bool)> {
    let Some(location) = tables::get("location") else {
        return BTreeMap::new();
    };
    let is_redacted = |cell: Option<&Cell>| cell.and_then(Cell::as_text) == Some(REDACTED);
    data.rows("location")
        .map(|(id, cells)| {
            let before = is_redacted(
                location
                    .column("location_type")
                    .and_then(|c| cells[c].as_ref()),
            );
            let sent = edits.iter().rev().find(|e| {
                e.table.name == "location"
                    && e.id == id
                    && location.fields[e.column].name == "location_type"
            });
            let after = sent.map_or(before, |e| is_redacted(e.value.as_ref()));
            (id.to_owned(), (before, after))
        })
        .collect()
}

/// The sent values parsed for their fields, or why each is refused.
fn checked_edits<'a>(data: &Dataset, sent: &'a [(String, String)]) -> (Vec<Edit<'a>>, Refusals) {
    let mut refusals = Refusals::new();
    let mut edits = Vec::new();
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
        if !data.contains(table_name, id) {
            refusals.insert(key.clone(), "is not part of this listing".into());
            continue;
        }
        let field = &table.fields[column];
        match value::from_csv(field, raw.trim()) {
            Ok(None) if field.required => {
                refusals.insert(key.clone(), "is required".into());
            }
            Ok(value) => edits.push(Edit {
                table,
                id,
                column,
                value,
            }),
            Err(refusal) => {
                refusals.insert(key.clone(), refusal.0);
            }
        }
    }
    (edits, refusals)
}

/// Seals (or, made public again, opens) the streets of a location's addresses and
/// coarsens its coordinates, as an import of a confidential location does.
async fn protect(
    crypto: &Crypto,
    data: &mut Dataset,
    changes: &mut Changes,
    location_id: &str,
    redacted: bool,
) -> Result<(), DirectoryError> {
    let (Some(location), Some(address)) = (tables::get("location"), tables::get("address")) else {
        return Ok(());
    };
    if redacted {
        for name in ["latitude", "longitude"] {
            let (Some(column), Some(cells)) =
                (location.column(name), data.get("location", location_id))
            else {
                continue;
            };
            let coarse = dataset::number(location, cells, name)
                .map(|v| Cell::Number(super::service::coarsen(v)));
            // The precise value was public until now; the history need not repeat it.
            changes.set(data, location, location_id, column, coarse, false);
        }
    }
    let addresses: Vec<String> = data
        .rows("address")
        .filter(|(_, c)| dataset::text(address, c, "location_id") == Some(location_id))
        .map(|(id, _)| id.to_owned())
        .collect();
    for id in addresses {
        for name in SEALED_ADDRESS {
            let (Some(column), Some(cells)) = (address.column(name), data.get("address", &id))
            else {
                continue;
            };
            let Some(stored) = dataset::text(address, cells, name).map(str::to_owned) else {
                continue;
            };
            let turned = if redacted {
                crypto
                    .seal(Scope::System, "hsds_address", name, &id, &stored)
                    .await?
            } else {
                crypto
                    .open_field("hsds_address", name, &id, &stored)
                    .await?
            };
            changes.set(
                data,
                address,
                &id,
                column,
                Some(Cell::Text(turned.into())),
                false,
            );
        }
    }
    Ok(())
}

/// The rows a save writes and the history rows it adds.
struct Changes {
    metadata: &'static Table,
    today: String,
    /// The table and id of each row to write.
    rows: BTreeSet<(&'static str, String)>,
    history: Vec<Cells>,
}

impl Changes {
    fn new() -> Result<Self, DirectoryError> {
        Ok(Self {
            metadata: tables::get("metadata").ok_or(DirectoryError::NotFound)?,
            today: jiff::Zoned::now().date().to_string(),
            rows: BTreeSet::new(),
            history: Vec::new(),
        })
    }

    /// Sets one value; `recorded` puts the old and new value in the published history.
    fn set(
        &mut self,
        data: &mut Dataset,
        table: &'static Table,
        id: &str,
        column: usize,
        value: Option<Cell>,
        recorded: bool,
    ) {
        let Some(cells) = data.get_mut(&table.name, id) else {
            return;
        };
        if cells[column] == value {
            return;
        }
        if recorded {
            self.history.push(change_row(
                self.metadata,
                (&table.name, id),
                "update",
                &table.fields[column].name,
                (cell_text(cells[column].as_ref()), cell_text(value.as_ref())),
                &self.today,
            ));
        }
        cells[column] = value;
        self.rows.insert((table.name.as_str(), id.to_owned()));
    }
}

fn cell_text(cell: Option<&Cell>) -> String {
    cell.map_or_else(String::new, Cell::to_csv)
}

/// Writes a listing's new and changed rows, deletes `gone`, adds the history rows and
/// the audit event, and tells the search index, in one transaction.
async fn store_changes(
    db: &Db,
    organization_id: &str,
    rows: &[(&'static Table, Cells)],
    gone: &[(&'static Table, String)],
    history: &[Cells],
    event: &Event<'_>,
) -> Result<(), DirectoryError> {
    let metadata = tables::get("metadata").ok_or(DirectoryError::NotFound)?;
    db.transaction(|tx| {
        async move {
            for (table, cells) in rows {
                store::upsert(tx, table, &[cells]).await?;
            }
            for table in tables::all() {
                let ids: Vec<&str> = gone
                    .iter()
                    .filter(|(t, _)| t.name == table.name)
                    .map(|(_, id)| id.as_str())
                    .collect();
                if !ids.is_empty() {
                    store::delete(tx, table, &ids).await?;
                }
            }
            let history: Vec<&Cells> = history.iter().collect();
            store::upsert(tx, metadata, &history).await?;
            // The whole listing is looked at again: a phone or an hour of any of its
            // services may have changed.
            outbox::append(tx, "hsds.organization", organization_id, ChangeOp::Update).await?;
            for (table, id) in gone.iter().filter(|(t, _)| t.name == "service") {
                outbox::append(tx, &format!("hsds.{}", table.name), id, ChangeOp::Delete).await?;
            }
            audit::append(tx, event, Outcome::Success).await?;
            Ok::<_, DirectoryError>(())
        }
        .scope_boxed()
    })
    .await
}

/// Adds a record to the listing of `organization_id` from the editor's add form:
/// `kind` (the HSDS table), its links (`link/<column>` = id, or `link` = `<column>/<id>`)
/// and its required values (`value/<field>`), checked as an import checks them. Returns
/// the new record's table and id, or every refusal (then nothing is stored).
pub async fn add(
    db: &Db,
    crypto: &Crypto,
    curator: &Principal,
    organization_id: &str,
    sent: &[(String, String)],
) -> Result<Result<(&'static str, String), Refusals>, DirectoryError> {
    let data = tree(db, organization_id)
        .await?
        .ok_or(DirectoryError::NotFound)?;
    let (table, cells) = match new_record(&data, organization_id, sent) {
        Ok(record) => record,
        Err(refusals) => return Ok(Err(refusals)),
    };
    let id = uuid_of(table, &cells);
    // A confidential location's new address is sealed like an imported one.
    let mut new = Dataset::default();
    new.merge(table, cells, (&Arc::from("(editor)"), 0));
    super::publish::load_locations_of_addresses(db, &mut new).await?;
    super::service::protect_confidential(crypto, &mut new).await?;
    let cells = new
        .get(&table.name, &id)
        .cloned()
        .ok_or(DirectoryError::NotFound)?;
    let metadata = tables::get("metadata").ok_or(DirectoryError::NotFound)?;
    let history = change_row(
        metadata,
        (&table.name, &id),
        "create",
        "id",
        (String::new(), id.clone()),
        &jiff::Zoned::now().date().to_string(),
    );
    let event = Event {
        object_type: Some("organization"),
        object_id: Some(organization_id.to_owned()),
        detail: Some(format!("{} {id}", table.name)),
        ..Event::by(curator, "directory.listing.add")
    };
    store_changes(
        db,
        organization_id,
        &[(table, cells)],
        &[],
        &[history],
        &event,
    )
    .await?;
    Ok(Ok((table.name.as_str(), id)))
}

fn uuid_of(table: &Table, cells: &Cells) -> String {
    dataset::text(table, cells, "id")
        .unwrap_or_default()
        .to_owned()
}

/// The record the add form describes, with a new id, or why it cannot be added.
fn new_record(
    data: &Dataset,
    organization_id: &str,
    sent: &[(String, String)],
) -> Result<(&'static Table, Cells), Refusals> {
    let get = |key: &str| {
        sent.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let mut refusals = Refusals::new();
    let Some(table) = get("kind")
        .filter(|k| ADDABLE.contains(k))
        .and_then(tables::get)
    else {
        refusals.insert("kind".into(), "is not a record a listing holds".into());
        return Err(refusals);
    };
    let mut cells = Cells::empty(table.fields.len());
    let text = |v: &str| Some(Cell::Text(v.into()));
    dataset::set(
        table,
        &mut cells,
        "id",
        text(&uuid::Uuid::now_v7().to_string()),
    );
    let choose = "choose one of this listing's records";
    match attach(table) {
        Attach::Organization => {
            dataset::set(table, &mut cells, "organization_id", text(organization_id));
        }
        Attach::Each(links) => {
            for link in links {
                let key = format!("link/{}", link.column);
                match get(&key).filter(|id| data.contains(&link.table, id)) {
                    Some(id) => dataset::set(table, &mut cells, &link.column, text(id)),
                    None => {
                        refusals.insert(key, choose.into());
                    }
                }
            }
        }
        Attach::AnyOf(links) => {
            let chosen = get("link")
                .and_then(|v| v.split_once('/'))
                .and_then(|(column, id)| {
                    links
                        .iter()
                        .find(|l| l.column == column && data.contains(&l.table, id))
                        .map(|l| (l, id))
                });
            match chosen {
                Some((link, id)) => dataset::set(table, &mut cells, &link.column, text(id)),
                None => {
                    refusals.insert("link".into(), choose.into());
                }
            }
        }
    }
    for field in asked_when_adding(table) {
        let key = format!("value/{}", field.name);
        match value::from_csv(field, get(&key).unwrap_or_default()) {
            Ok(Some(value)) => dataset::set(table, &mut cells, &field.name, Some(value)),
            Ok(None) => {
                refusals.insert(key, "is required".into());
            }
            Err(refusal) => {
                refusals.insert(key, refusal.0);
            }
        }
    }
    if refusals.is_empty() {
        Ok((table, cells))
    } else {
        Err(refusals)
    }
}

/// What deleting a record of a listing would take with it (itself first), or `None`
/// when the listing holds no such record or it is not the listing's to delete (the
/// organization itself, another organization's location a service is offered at).
pub fn deletion(
    data: &Dataset,
    organization_id: &str,
    table: &str,
    id: &str,
) -> Option<Vec<(&'static Table, String)>> {
    let table = tables::get(table).filter(|t| ADDABLE.contains(&t.name.as_str()))?;
    let cells = data.get(&table.name, id)?;
    let owner = dataset::text(table, cells, "organization_id");
    if owner.is_some_and(|o| o != organization_id) {
        return None;
    }
    Some(cascade(data, table, id))
}

/// Deletes a record of the listing and everything that belongs to it (see
/// [`deletion`]). The published history keeps a row on the organization naming what
/// went. Returns how many records went.
pub async fn delete(
    db: &Db,
    curator: &Principal,
    organization_id: &str,
    table: &str,
    id: &str,
) -> Result<usize, DirectoryError> {
    let data = tree(db, organization_id)
        .await?
        .ok_or(DirectoryError::NotFound)?;
    let gone = deletion(&data, organization_id, table, id).ok_or(DirectoryError::NotFound)?;
    let metadata = tables::get("metadata").ok_or(DirectoryError::NotFound)?;
    let first = &gone[0];
    let label = data.get(&first.0.name, &first.1).map_or_else(
        || first.1.clone(),
        |cells| format!("{} ({})", recognizable(first.0, &first.1, cells), first.1),
    );
    let history = change_row(
        metadata,
        ("organization", organization_id),
        "delete",
        &first.0.name,
        (label, String::new()),
        &jiff::Zoned::now().date().to_string(),
    );
    let event = Event {
        object_type: Some("organization"),
        object_id: Some(organization_id.to_owned()),
        detail: Some(format!(
            "{} {} and {} records under it",
            first.0.name,
            first.1,
            gone.len() - 1
        )),
        ..Event::by(curator, "directory.listing.delete")
    };
    store_changes(db, organization_id, &[], &gone, &[history], &event).await?;
    Ok(gone.len())
}

/// An HSDS `metadata` row recording one change. HSDS requires every value of it, so
/// a value that was or became empty is written as [`NO_VALUE`].
fn change_row(
    metadata: &Table,
    (resource_type, resource_id): (&str, &str),
    action: &str,
    field: &str,
    (before, after): (String, String),
    today: &str,
) -> Cells {
    let mut cells = Cells::empty(metadata.fields.len());
    let shown = |v: String| if v.is_empty() { NO_VALUE.to_owned() } else { v };
    for (name, v) in [
        ("id", uuid::Uuid::now_v7().to_string()),
        ("resource_id", resource_id.to_owned()),
        ("resource_type", resource_type.to_owned()),
        ("last_action_date", today.to_owned()),
        ("last_action_type", action.to_owned()),
        ("field_name", field.to_owned()),
        ("previous_value", shown(before)),
        ("replacement_value", shown(after)),
        ("updated_by", UPDATED_BY.to_owned()),
    ] {
        if let Some(c) = metadata.column(name) {
            cells[c] = Some(Cell::Text(v.into()));
        }
    }
    cells
}
