//! The curators' listing editor: every public field of a listing, a form to add each
//! kind of record it holds, and deleting a record after showing what goes with it.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::edit::{self, Refusals};
use super::hsds::dataset::{self, Cells, Dataset};
use super::hsds::tables::{self, Field, Table};
use super::hsds::value::{self, Cell};
use super::model::{ADDABLE, Attach, asked_when_adding, attach, edit_key, editable, recognizable};
use super::service::DirectoryError;
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::kernel::auth::Principal;
use crate::kernel::web::{HtmlError, Shell};

pub struct EditField {
    /// The element id (unique on the page).
    pub id: String,
    /// The form name.
    pub key: String,
    pub name: String,
    pub value: String,
    pub long: bool,
    /// The values HSDS allows, when it lists them.
    pub choices: Vec<String>,
    pub problem: Option<String>,
}

pub struct EditSection {
    pub title: String,
    /// `table/id` of a record the curator may delete (not the organization).
    pub delete: Option<String>,
    pub fields: Vec<EditField>,
}

pub struct LinkChoice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A choice of the record a new one belongs to.
pub struct LinkSelect {
    pub id: String,
    pub name: String,
    pub label: String,
    pub choices: Vec<LinkChoice>,
    pub problem: Option<String>,
}

pub struct AddForm {
    pub kind: String,
    pub title: String,
    /// Shown open: its last try was refused.
    pub open: bool,
    pub links: Vec<LinkSelect>,
    pub fields: Vec<EditField>,
}

pub struct HistoryView {
    pub date: String,
    pub what: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "directory/edit.html")]
struct EditPage {
    shell: Shell,
    csrf: String,
    id: String,
    name: String,
    sections: Vec<EditSection>,
    adds: Vec<AddForm>,
    history: Vec<HistoryView>,
    message: Option<String>,
    has_problems: bool,
}

/// What the editor was last asked, for showing it again with its refusals.
#[derive(Default)]
struct Sent<'a> {
    values: BTreeMap<String, String>,
    /// The kind of record the add form tried to add.
    adding: Option<&'a str>,
    refusals: Refusals,
}

fn label(table: &Table, id: &str, cells: &Cells) -> String {
    format!(
        "{} · {}",
        table.name.replace('_', " "),
        recognizable(table, id, cells)
    )
}

fn stored_text(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Text(t)) => t.to_string(),
        Some(Cell::Number(n)) => value::format_number(*n),
        None => String::new(),
    }
}

fn field_view(
    id: String,
    key: String,
    field: &Field,
    value: String,
    problem: Option<String>,
) -> EditField {
    EditField {
        id,
        key,
        name: field.name.clone(),
        value,
        long: field.name.contains("description") || field.name.contains("process"),
        choices: field.allowed.clone().unwrap_or_default(),
        problem,
    }
}

fn sections(data: &Dataset, sent: &Sent<'_>) -> Vec<EditSection> {
    let mut sections = Vec::new();
    // In the order a listing reads: the organization, then what it holds.
    let edited = std::iter::once("organization").chain(ADDABLE);
    for table in edited.filter_map(tables::get) {
        for (row_id, cells) in data.rows(&table.name) {
            let fields = table
                .fields
                .iter()
                .zip(cells)
                .filter(|(f, _)| editable(table, f))
                .map(|(f, cell)| {
                    let key = edit_key(&table.name, row_id, &f.name);
                    let value = sent
                        .values
                        .get(&key)
                        .cloned()
                        .unwrap_or_else(|| stored_text(cell.as_ref()));
                    let problem = sent.refusals.get(&key).cloned();
                    field_view(key.clone(), key, f, value, problem)
                })
                .collect();
            sections.push(EditSection {
                title: label(table, row_id, cells),
                delete: (table.name != "organization").then(|| format!("{}/{row_id}", table.name)),
                fields,
            });
        }
    }
    sections
}

/// The records of the listing a new record may belong to through `link`.
fn choices(
    data: &Dataset,
    target: &str,
    value: impl Fn(&str) -> String,
    chosen: Option<&String>,
) -> Vec<LinkChoice> {
    let Some(table) = tables::get(target) else {
        return Vec::new();
    };
    data.rows(target)
        .map(|(id, cells)| {
            let value = value(id);
            LinkChoice {
                selected: chosen == Some(&value),
                label: label(table, id, cells),
                value,
            }
        })
        .collect()
}

fn add_forms(data: &Dataset, sent: &Sent<'_>) -> Vec<AddForm> {
    let tr = &Shell::current().tr;
    ADDABLE
        .iter()
        .filter_map(|kind| tables::get(kind))
        .map(|table| {
            let this = sent.adding == Some(table.name.as_str());
            let given = |key: &str| this.then(|| sent.values.get(key)).flatten();
            let problem = |key: &str| this.then(|| sent.refusals.get(key).cloned()).flatten();
            let belongs = tr.t("edit-add-belongs-to");
            let links = match attach(table) {
                Attach::Organization => Vec::new(),
                Attach::Each(links) => links
                    .iter()
                    .map(|link| {
                        let name = format!("link/{}", link.column);
                        LinkSelect {
                            id: format!("add-{}-{}", table.name, link.column),
                            label: format!("{belongs} ({})", link.table.replace('_', " ")),
                            choices: choices(data, &link.table, str::to_owned, given(&name)),
                            problem: problem(&name),
                            name,
                        }
                    })
                    .collect(),
                Attach::AnyOf(links) => vec![LinkSelect {
                    id: format!("add-{}-link", table.name),
                    name: "link".to_owned(),
                    label: belongs,
                    choices: links
                        .iter()
                        .flat_map(|link| {
                            choices(
                                data,
                                &link.table,
                                |id| format!("{}/{id}", link.column),
                                given("link"),
                            )
                        })
                        .collect(),
                    problem: problem("link"),
                }],
            };
            let fields = asked_when_adding(table)
                .map(|f| {
                    let key = format!("value/{}", f.name);
                    let value = given(&key).cloned().unwrap_or_default();
                    let problem = problem(&key);
                    field_view(
                        format!("add-{}-{}", table.name, f.name),
                        key,
                        f,
                        value,
                        problem,
                    )
                })
                .collect();
            AddForm {
                kind: table.name.clone(),
                title: tr.t1("edit-add", "kind", &table.name.replace('_', " ")),
                open: this,
                links,
                fields,
            }
        })
        // A record nothing in the listing can hold yet (an address before any
        // location) is not offered.
        .filter(|form| form.links.iter().all(|l| !l.choices.is_empty()))
        .collect()
}

async fn edit_page(
    state: &AppState,
    principal: &Principal,
    id: &str,
    sent: &Sent<'_>,
    message: Option<String>,
) -> Result<Response, HtmlError> {
    let data = edit::tree(&state.db, id)
        .await
        .map_err(|e| HtmlError::Internal(e.into()))?
        .ok_or(HtmlError::NotFound)?;
    let history = edit::history(&state.db, &data)
        .await
        .map_err(|e| HtmlError::Internal(e.into()))?
        .into_iter()
        .take(200)
        .map(|c| HistoryView {
            date: c.last_action_date.unwrap_or_default(),
            what: format!(
                "{} {} {}",
                c.resource_type.unwrap_or_default().replace('_', " "),
                c.field_name.unwrap_or_default().replace('_', " "),
                c.last_action_type.unwrap_or_default(),
            ),
            before: c.previous_value.unwrap_or_default(),
            after: c.replacement_value.unwrap_or_default(),
        })
        .collect();
    let name = data
        .get("organization", id)
        .and_then(|cells| tables::get("organization").and_then(|t| dataset::text(t, cells, "name")))
        .unwrap_or_default()
        .to_owned();
    let page = EditPage {
        shell: Shell::current(),
        csrf: csrf_of(principal),
        id: id.to_owned(),
        name,
        sections: sections(&data, sent),
        adds: add_forms(&data, sent),
        history,
        message,
        has_problems: !sent.refusals.is_empty(),
    };
    let status = if sent.refusals.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

/// What the last change did, for the line at the top of the editor.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    saved: String,
    added: String,
    deleted: String,
}

impl Done {
    fn message(&self) -> Option<String> {
        let tr = &Shell::current().tr;
        if !self.saved.is_empty() {
            Some(tr.t1("edit-saved", "count", &self.saved))
        } else if let Some(kind) = ADDABLE.iter().find(|k| **k == self.added) {
            Some(tr.t1("edit-added", "kind", &kind.replace('_', " ")))
        } else if !self.deleted.is_empty() {
            Some(tr.t1("edit-deleted", "count", &self.deleted))
        } else {
            None
        }
    }
}

/// The listing editor.
pub async fn edit_listing(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    UrlQuery(done): UrlQuery<Done>,
) -> Result<Response, HtmlError> {
    edit_page(&state, &principal, &id, &Sent::default(), done.message()).await
}

/// The form's pairs, once its CSRF token is checked.
async fn checked_form(
    state: &AppState,
    principal: &Principal,
    body: &[u8],
) -> Result<Vec<(String, String)>, HtmlError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    check_form_token(state, principal, &csrf).await?;
    Ok(pairs)
}

fn internal(e: DirectoryError) -> HtmlError {
    match e {
        DirectoryError::NotFound => HtmlError::NotFound,
        e => HtmlError::Internal(e.into()),
    }
}

/// Saves the listing editor: every value checked as an import checks it; nothing is
/// stored if any is refused.
pub async fn save_listing(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HtmlError> {
    let pairs = checked_form(&state, &principal, &body).await?;
    match edit::save(&state.db, &state.crypto, &principal, &id, &pairs)
        .await
        .map_err(internal)?
    {
        Ok(count) => {
            Ok(Redirect::to(&format!("/directory/curate/{id}/edit?saved={count}")).into_response())
        }
        Err(refusals) => {
            let sent = Sent {
                values: pairs.into_iter().collect(),
                adding: None,
                refusals,
            };
            edit_page(&state, &principal, &id, &sent, None).await
        }
    }
}

/// Adds a record to the listing from one of the editor's add forms.
pub async fn add_record(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HtmlError> {
    let pairs = checked_form(&state, &principal, &body).await?;
    match edit::add(&state.db, &state.crypto, &principal, &id, &pairs)
        .await
        .map_err(internal)?
    {
        Ok((kind, _)) => {
            Ok(Redirect::to(&format!("/directory/curate/{id}/edit?added={kind}")).into_response())
        }
        Err(refusals) => {
            let kind = pairs
                .iter()
                .find(|(k, _)| k == "kind")
                .and_then(|(_, v)| ADDABLE.iter().find(|a| **a == v))
                .copied();
            let sent = Sent {
                values: pairs.into_iter().collect(),
                adding: kind,
                refusals,
            };
            edit_page(&state, &principal, &id, &sent, None).await
        }
    }
}

#[derive(Template)]
#[template(path = "directory/delete.html")]
struct DeletePage {
    shell: Shell,
    csrf: String,
    id: String,
    record: String,
    what: String,
    with: Vec<String>,
}

/// Deleting a record of the listing: first a page naming everything that would go
/// with it; deleted when that page is confirmed.
pub async fn delete_record(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HtmlError> {
    let pairs = checked_form(&state, &principal, &body).await?;
    let sent = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    };
    let record = sent("record");
    let (table, row) = record.split_once('/').ok_or(HtmlError::NotFound)?;
    if sent("confirm") == "yes" {
        let count = edit::delete(&state.db, &principal, &id, table, row)
            .await
            .map_err(internal)?;
        return Ok(
            Redirect::to(&format!("/directory/curate/{id}/edit?deleted={count}")).into_response(),
        );
    }
    let data = edit::tree(&state.db, &id)
        .await
        .map_err(internal)?
        .ok_or(HtmlError::NotFound)?;
    let gone = edit::deletion(&data, &id, table, row).ok_or(HtmlError::NotFound)?;
    let mut names = gone.iter().filter_map(|(table, row)| {
        data.get(&table.name, row)
            .map(|cells| label(table, row, cells))
    });
    let page = DeletePage {
        shell: Shell::current(),
        csrf: csrf_of(&principal),
        id,
        record: record.to_owned(),
        what: names.next().unwrap_or_default(),
        with: names.collect(),
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?).into_response())
}
