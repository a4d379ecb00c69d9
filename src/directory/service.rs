//! Directory use cases: importing and exporting HSDS files.

use std::path::{Path, PathBuf};

use scoped_futures::ScopedFutureExt as _;

use super::hsds::dataset::{self, Cells, Dataset};
use super::hsds::tables::{self, REDACTED, SEALED_ADDRESS};
use super::hsds::value::Cell;
use super::hsds::{check, tabular};
use super::model::{Application, Decision, ImportReport, Problem};
use super::search;
use super::store;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::crypto::{Crypto, CryptoError, Scope};
use crate::kernel::db::{Backend, Db, Retryable};
use crate::kernel::outbox::{self, ChangeOp};
use crate::kernel::time::now_micros;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("no such organization in the directory")]
    NotFound,
    #[error("reading or writing files: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Individuals(#[from] super::individuals::service::IndividualError),
}

impl Retryable for DirectoryError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Db(e) if e.is_retryable())
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Store the valid records and report the others, instead of storing nothing.
    pub skip_invalid: bool,
}

/// The objects whose changes the change log carries (for `modified_after` and the
/// search index); their parts change with them.
const TRACKED: [&str; 6] = [
    "organization",
    "service",
    "location",
    "service_at_location",
    "taxonomy",
    "taxonomy_term",
];

/// Imports an HSDS datapackage folder or JSON file(s). Nothing is written unless every
/// record is valid, or `skip_invalid` is set and then exactly the valid ones are;
/// either way in one transaction. Records are matched by their HSDS id, so importing
/// the same data again updates it. `progress(done, total)` follows the writing.
pub async fn import(
    db: &Db,
    crypto: &Crypto,
    path: &Path,
    options: ImportOptions,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<ImportReport, DirectoryError> {
    let path: PathBuf = path.to_path_buf();
    let started = std::time::Instant::now();
    let path_of_people = path.join(PEOPLE_FILE);
    let (form, mut data, mut problems) = tokio::task::spawn_blocking(move || {
        let mut data = Dataset::default();
        let mut problems = Vec::new();
        tabular::read(&path, &mut data, &mut problems).map(|form| (form, data, problems))
    })
    .await??;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "import: files read"
    );
    if form == tabular::Form::Json {
        keep_stored_fields(db, &mut data).await?;
    }
    let people = read_individuals(&path_of_people, &mut problems)?;
    if data.total() == 0 && people.is_empty() && problems.is_empty() {
        problems.push(Problem::error("", None, "", "holds no HSDS records"));
    }
    super::publish::load_locations_of_addresses(db, &mut data).await?;
    let missing = check::Missing::find(&data);
    let stored = stored_references(db, &missing).await?;
    check::check(&mut data, missing, &stored, &mut problems);
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "import: records checked"
    );
    let mut report = ImportReport {
        written: Vec::new(),
        problems,
    };
    if report.errors().next().is_some() && !options.skip_invalid {
        return Ok(report);
    }
    protect_confidential(crypto, &mut data).await?;
    let people = super::individuals::service::prepare(crypto, &people).await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "import: confidential fields sealed"
    );
    let data = std::sync::Arc::new(data);
    write(db, &data, &people, progress, started).await?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "import: written");
    report.written = tables::all()
        .iter()
        .map(|t| (t.name.as_str(), data.count(&t.name)))
        .chain(std::iter::once(("individual", people.len())))
        .filter(|(_, n)| *n > 0)
        .collect();
    // Freeing the millions of cells of a large package took a second after the
    // commit; the answer need not wait for it (a command ends without waiting).
    std::thread::spawn(move || drop(data));
    Ok(report)
}

/// atip's extension beside the HSDS files: individuals as HSDS contacts.
const PEOPLE_FILE: &str = "individuals.json";

/// The individuals of `file` if there is one (an export of atip writes it), each
/// checked like the curators' form; problems name the record and field.
fn read_individuals(
    file: &Path,
    problems: &mut Vec<Problem>,
) -> Result<Vec<(String, super::individuals::model::Individual)>, DirectoryError> {
    use crate::kernel::i18n::{self, Lang};
    if !file.is_file() {
        return Ok(Vec::new());
    }
    let items: serde_json::Value = match serde_json::from_slice(&std::fs::read(file)?) {
        Ok(v) => v,
        Err(e) => {
            problems.push(Problem::error(
                PEOPLE_FILE,
                None,
                "",
                &format!("is not valid JSON: {e}"),
            ));
            return Ok(Vec::new());
        }
    };
    let Some(items) = items.as_array() else {
        problems.push(Problem::error(
            PEOPLE_FILE,
            None,
            "",
            "must be a JSON array of contacts",
        ));
        return Ok(Vec::new());
    };
    let mut people = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let record = Some(n as u64 + 1);
        let Some(id) = item["id"]
            .as_str()
            .filter(|id| uuid::Uuid::try_parse(id).is_ok())
        else {
            problems.push(Problem::error(PEOPLE_FILE, record, "id", "is not a UUID"));
            continue;
        };
        let form = super::individuals::service::form_from_contact(item);
        match form.parse(|s| search::load::state_named(s) == Some(s)) {
            Ok(person) => people.push((id.to_owned(), person)),
            Err(refused) => problems.extend(refused.into_iter().map(|(field, reason)| {
                Problem::error(
                    PEOPLE_FILE,
                    record,
                    field,
                    &i18n::text(Lang::En, reason, &[]),
                )
            })),
        }
    }
    Ok(people)
}

/// Nested JSON often carries part of an object (a service inside a service at a
/// location, without its organization): fields it leaves out keep their stored value.
async fn keep_stored_fields(db: &Db, data: &mut Dataset) -> Result<(), DirectoryError> {
    for table in tables::all() {
        let ids: Vec<String> = data
            .rows(&table.name)
            .map(|(id, _)| id.to_owned())
            .collect();
        for stored in store::where_in(db.reader(), table, "id", &ids).await? {
            let Some(Some(Cell::Text(id))) = stored.first() else {
                continue;
            };
            let Some(cells) = data.get_mut(&table.name, id) else {
                continue;
            };
            for ((column, old), field) in stored.iter().enumerate().zip(&table.fields) {
                // Sealed streets stay sealed in the store (the upsert keeps them);
                // brought in here they would be sealed a second time.
                let sealed =
                    table.name == "address" && SEALED_ADDRESS.contains(&field.name.as_str());
                if old.is_some() && cells[column].is_none() && !sealed {
                    cells[column].clone_from(old);
                }
            }
            cells.compact();
        }
    }
    Ok(())
}

async fn stored_references(
    db: &Db,
    missing: &[check::Missing],
) -> Result<check::Stored, DirectoryError> {
    let mut stored = check::Stored::new();
    for (name, ids) in check::Missing::wanted(missing) {
        let Some(table) = tables::get(name) else {
            continue;
        };
        stored
            .entry(name)
            .or_default()
            .extend(store::existing(db.reader(), table, &ids).await?);
    }
    Ok(stored)
}

/// Confidential locations keep coordinates only to 0.1° (about 10 km) and their
/// addresses' street, attention line and postal code sealed: neither a published file
/// nor a stolen database shows where a shelter is.
pub(super) async fn protect_confidential(
    crypto: &Crypto,
    data: &mut Dataset,
) -> Result<(), DirectoryError> {
    let (Some(location), Some(address)) = (tables::get("location"), tables::get("address")) else {
        return Ok(());
    };
    for (_, cells) in data.rows_mut("location") {
        if dataset::text(location, cells, "location_type") != Some(REDACTED) {
            continue;
        }
        for column in ["latitude", "longitude"] {
            if let Some(v) = dataset::number(location, cells, column) {
                dataset::set(location, cells, column, Some(Cell::Number(coarsen(v))));
            }
        }
    }
    let confidential: Vec<String> = data
        .rows("address")
        .filter(|(_, c)| dataset::is_confidential_address(address, c, data))
        .map(|(id, _)| id.to_owned())
        .collect();
    for (id, cells) in data.rows_mut("address") {
        if !confidential.iter().any(|c| c == id) {
            continue;
        }
        for column in SEALED_ADDRESS {
            let Some(plain) = dataset::text(address, cells, column).map(str::to_owned) else {
                continue;
            };
            let sealed = crypto
                .seal(Scope::System, "hsds_address", column, id, &plain)
                .await?;
            dataset::set(address, cells, column, Some(Cell::Text(sealed.into())));
        }
    }
    Ok(())
}

/// Rounds a coordinate to a tenth of a degree (about 11 km of latitude).
pub fn coarsen(degrees: f64) -> f64 {
    (degrees * 10.0).round() / 10.0
}

/// Rows of one table from which building its link indexes after loading it pays.
const BULK_ROWS: usize = 10_000;

async fn write(
    db: &Db,
    data: &std::sync::Arc<Dataset>,
    people: &super::individuals::service::Prepared,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
    started: std::time::Instant,
) -> Result<(), DirectoryError> {
    let total = data.total() as u64;
    let now = now_micros();
    let bulk_journal = db.bulk_journal().await?;
    let written = db
        .transaction(|tx| {
            async move {
                let mut done = 0u64;
                store::page_cache(tx, store::BULK_CACHE_KIB).await?;
                progress(0, total);
                let (bound_tx, mut bound) = tokio::sync::mpsc::channel(4);
                let binder = tokio::task::spawn_blocking({
                    let (data, backend) = (std::sync::Arc::clone(data), Backend::of(tx));
                    move || bind_all(&data, backend, &bound_tx)
                });
                for table in tables::all() {
                    let count = data.count(&table.name);
                    let aside = if count >= BULK_ROWS {
                        Some(store::set_indexes_aside(tx, table).await?)
                    } else {
                        None
                    };
                    let mut written = 0;
                    while written < count {
                        let Some(upsert) = bound.recv().await else {
                            // The binder stopped early: only a panic does.
                            binder.await?;
                            return Err(std::io::Error::other("binding stopped early").into());
                        };
                        let upsert = upsert?;
                        let rows = upsert.rows;
                        store::run_upsert(tx, upsert).await?;
                        written += rows;
                        done += rows as u64;
                        progress(done, total);
                    }
                    if let Some(aside) = aside {
                        store::restore_indexes(tx, aside).await?;
                    }
                    tracing::debug!(table = table.name.as_str(), "import: table written");
                }
                store::page_cache(tx, store::DEFAULT_CACHE_KIB).await?;
                tracing::debug!(
                    seconds = started.elapsed().as_secs_f64(),
                    "import: HSDS rows written"
                );
                let mut organizations: Vec<&str> =
                    data.rows("organization").map(|(id, _)| id).collect();
                // In id order, as the rows: each new listing lands beside the last.
                organizations.sort_unstable();
                store::list_new_organizations(tx, &organizations, now).await?;
                tracing::debug!(
                    seconds = started.elapsed().as_secs_f64(),
                    "import: listings"
                );
                super::individuals::service::store_prepared(tx, people).await?;
                for name in TRACKED {
                    let ids: Vec<&str> = data.rows(name).map(|(id, _)| id).collect();
                    outbox::append_many(tx, &format!("hsds.{name}"), &ids, ChangeOp::Update)
                        .await?;
                }
                tracing::debug!(
                    seconds = started.elapsed().as_secs_f64(),
                    "import: change log"
                );
                let counts: Vec<String> = TRACKED
                    .iter()
                    .map(|t| format!("{t}={}", data.count(t)))
                    .collect();
                let event = Event {
                    action: "directory.import",
                    object_type: Some("directory"),
                    detail: Some(counts.join(" ")),
                    ..Event::default()
                };
                audit::append(tx, &event, Outcome::Success).await?;
                Ok::<_, DirectoryError>(())
            }
            .scope_boxed()
        })
        .await;
    if bulk_journal && let Err(e) = db.wal_again().await {
        // The import is in; the server sets WAL again when it opens the file.
        tracing::warn!(error = %e, "import: could not return to WAL");
    }
    written
}

/// Binds the upserts of every table, in the order [`write`] runs them, on a thread of
/// its own: bound in turn with SQLite running them, binding was half the writing on
/// one core while the other stood idle.
fn bind_all(
    data: &Dataset,
    backend: Backend,
    out: &tokio::sync::mpsc::Sender<Result<store::Upsert, sqlx::Error>>,
) {
    for table in tables::all() {
        let mut rows: Vec<&Cells> = data.rows(&table.name).map(|(_, c)| c).collect();
        // In id order each insert into the id index lands beside the last.
        rows.sort_unstable_by(|a, b| id_of(a).cmp(id_of(b)));
        for upsert in store::upserts(table, backend, &rows) {
            if out.blocking_send(upsert).is_err() {
                return; // the transaction stopped
            }
        }
    }
}

fn id_of(cells: &Cells) -> &str {
    cells
        .first()
        .and_then(Option::as_ref)
        .and_then(Cell::as_text)
        .unwrap_or_default()
}

/// Writes the whole directory as HSDS files into `dir` (see [`tabular::write`]).
/// Confidential addresses are written without their street, as everywhere public.
pub async fn export(db: &Db, crypto: &Crypto, dir: &Path) -> Result<usize, DirectoryError> {
    let mut data = Dataset::default();
    let label = std::sync::Arc::from("(stored)");
    for table in tables::all() {
        for cells in store::all(db.reader(), table).await? {
            data.merge(table, cells, (&label, 0));
        }
    }
    data.sort();
    let count = data.count("service");
    let dir = dir.to_path_buf();
    // Individuals are atip's extension: HSDS contacts with x_ fields, as published.
    let people = super::individuals::service::list(
        db,
        crypto,
        (super::individuals::service::Reader::Public, None),
        &super::individuals::service::Filter::default(),
    )
    .await?;
    tokio::task::spawn_blocking(move || {
        tabular::write(&dir, &data)?;
        let mut text = serde_json::to_string_pretty(&people)?;
        text.push('\n');
        std::fs::write(dir.join("individuals.json"), text)
    })
    .await??;
    let event = Event {
        action: "directory.export",
        object_type: Some("directory"),
        detail: Some(format!("service={count}")),
        ..Event::default()
    };
    db.transaction(|tx| {
        let event = &event;
        async move { audit::append(tx, event, Outcome::Success).await.map(|_| ()) }.scope_boxed()
    })
    .await?;
    Ok(count)
}

/// The street of a confidential location's address, opened for `principal` (who
/// must be allowed to see it) and audited as a read in the same transaction.
pub async fn confidential_street(
    db: &Db,
    crypto: &Crypto,
    principal: &crate::kernel::auth::Principal,
    address_id: &str,
) -> Result<Option<String>, DirectoryError> {
    let Some(address) = tables::get("address") else {
        return Ok(None);
    };
    let Some(cells) = store::where_in(db.reader(), address, "id", &[address_id.to_owned()])
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let mut parts = Vec::new();
    for column in ["address_1", "address_2", "postal_code"] {
        if let Some(sealed) = dataset::text(address, &cells, column) {
            parts.push(
                crypto
                    .open_field("hsds_address", column, address_id, sealed)
                    .await?,
            );
        }
    }
    let event = Event {
        object_type: Some("hsds_address"),
        object_id: Some(address_id.to_owned()),
        ..Event::by(principal, "directory.confidential_address.read")
    };
    db.transaction(|tx| {
        let event = &event;
        async move { audit::append(tx, event, Outcome::Success).await.map(|_| ()) }.scope_boxed()
    })
    .await?;
    Ok(Some(parts.join(", ")))
}

/// Why a curator's decision was not applied.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no listing has this organization id")]
    NotFound,
    #[error("a {from} listing cannot be {decision}d")]
    NotApplicable {
        from: String,
        decision: &'static str,
    },
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

impl From<sqlx::Error> for DecideError {
    fn from(e: sqlx::Error) -> Self {
        Self::Directory(e.into())
    }
}

impl Retryable for DecideError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Directory(e) if e.is_retryable())
    }
}

/// The HSDS rows of an application, under a new organization id.
fn application_rows(application: &Application) -> (String, Dataset) {
    let new_id = || uuid::Uuid::now_v7().to_string();
    let (org_id, service_id, location_id, sal_id) = (new_id(), new_id(), new_id(), new_id());
    let mut data = Dataset::default();
    let origin: std::sync::Arc<str> = std::sync::Arc::from("application");
    let mut add = |table: &str, values: Vec<(&str, Cell)>| {
        let Some(t) = tables::get(table) else { return };
        let mut cells = Cells::empty(t.fields.len());
        for (column, value) in values {
            dataset::set(t, &mut cells, column, Some(value));
        }
        data.merge(t, cells, (&origin, 1));
    };
    let text = |v: &str| Cell::Text(v.into());
    let mut organization = vec![
        ("id", text(&org_id)),
        ("name", text(&application.name)),
        ("description", text(&application.description)),
        ("email", text(&application.email)),
    ];
    if let Some(website) = &application.website {
        organization.push(("website", text(website)));
    }
    add("organization", organization);
    add(
        "service",
        vec![
            ("id", text(&service_id)),
            ("organization_id", text(&org_id)),
            ("name", text(&application.name)),
            ("description", text(&application.description)),
            ("email", text(&application.email)),
            ("status", text("active")),
        ],
    );
    add(
        "location",
        vec![
            ("id", text(&location_id)),
            ("location_type", text("physical")),
            ("organization_id", text(&org_id)),
            (
                "name",
                text(&format!("{}, {}", application.city, application.state)),
            ),
            ("latitude", Cell::Number(application.latitude)),
            ("longitude", Cell::Number(application.longitude)),
        ],
    );
    add(
        "service_at_location",
        vec![
            ("id", text(&sal_id)),
            ("service_id", text(&service_id)),
            ("location_id", text(&location_id)),
        ],
    );
    add(
        "phone",
        vec![
            ("id", text(&new_id())),
            ("service_id", text(&service_id)),
            ("number", text(&application.phone)),
            ("type", text("voice")),
        ],
    );
    for code in &application.languages {
        add(
            "language",
            vec![
                ("id", text(&new_id())),
                ("service_id", text(&service_id)),
                ("code", text(code)),
            ],
        );
    }
    let mut terms = application.service_types.clone();
    if application.agrees_referrals {
        terms.push(search::index::feature::HOTLINE_REFERRALS.to_owned());
    }
    if application.agrees_warm_transfers {
        terms.push(search::index::feature::WARM_TRANSFERS.to_owned());
    }
    for term in &terms {
        add(
            "attribute",
            vec![
                ("id", text(&new_id())),
                ("link_id", text(&service_id)),
                ("link_entity", text("service")),
                ("taxonomy_term_id", text(term)),
            ],
        );
    }
    (org_id, data)
}

/// Stores an application as unlisted HSDS records (an organization, one service with
/// the kinds of service it offers, a location at the town's center, its phone and
/// languages) and a listing awaiting review. Nothing of it is public until a curator
/// approves it.
pub async fn apply(
    db: &Db,
    crypto: &Crypto,
    application: &Application,
) -> Result<String, DirectoryError> {
    let (org_id, data) = application_rows(application);
    let references = crypto
        .seal(
            Scope::System,
            "directory_listings",
            "references_sealed",
            &org_id,
            &application.references,
        )
        .await?;
    let now = now_micros();
    let event = Event {
        action: "directory.apply",
        object_type: Some("organization"),
        object_id: Some(org_id.clone()),
        ..Event::default()
    };
    db.transaction(|tx| {
        let (data, references, event, org_id, application) =
            (&data, &references, &event, &org_id, application);
        async move {
            for table in tables::all() {
                let rows: Vec<&Cells> = data.rows(&table.name).map(|(_, c)| c).collect();
                store::upsert(tx, table, &rows).await?;
            }
            store::insert_application(
                tx,
                org_id,
                &application.email,
                references,
                (
                    application.agrees_referrals,
                    application.agrees_warm_transfers,
                ),
                now,
            )
            .await?;
            audit::append(tx, event, Outcome::Success).await?;
            Ok::<_, DirectoryError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(org_id)
}

/// Applies a curator's decision to a listing, audited as theirs; the search index
/// follows through the change log.
pub async fn decide(
    db: &Db,
    curator: &crate::kernel::auth::Principal,
    organization_id: &str,
    decision: Decision,
    note: &str,
) -> Result<(), DecideError> {
    let now = now_micros();
    let event = Event {
        object_type: Some("organization"),
        object_id: Some(organization_id.to_owned()),
        detail: Some(format!("decision={}", decision.as_str())),
        ..Event::by(curator, "directory.listing.decide")
    };
    let reviewer = curator.id.to_string();
    db.transaction(|tx| {
        let (event, reviewer) = (&event, &reviewer);
        async move {
            let from = store::listing_status(tx, organization_id)
                .await?
                .ok_or(DecideError::NotFound)?;
            let to = decision.next(&from).ok_or(DecideError::NotApplicable {
                from: from.clone(),
                decision: decision.as_str(),
            })?;
            let verified = decision.verifies().then_some(now);
            store::set_listing_status(tx, organization_id, to, verified, reviewer, note, now)
                .await?;
            outbox::append(tx, "directory.listing", organization_id, ChangeOp::Update).await?;
            audit::append(tx, event, Outcome::Success).await?;
            Ok::<_, DecideError>(())
        }
        .scope_boxed()
    })
    .await
}

/// A listing as curators see it, references opened.
pub struct QueueItem {
    pub listing: store::Listing,
    pub references: String,
}

/// The curators' queue; opening the sealed references is audited once per view.
pub async fn curation_queue(
    db: &Db,
    crypto: &Crypto,
    curator: &crate::kernel::auth::Principal,
) -> Result<Vec<QueueItem>, DirectoryError> {
    let listings = store::curation_queue(db.reader(), 500).await?;
    let mut items = Vec::with_capacity(listings.len());
    let mut opened = 0;
    for listing in listings {
        let references = match (&listing.references_sealed, listing.status.as_str()) {
            (Some(sealed), "applied") => {
                opened += 1;
                crypto
                    .open_field(
                        "directory_listings",
                        "references_sealed",
                        &listing.organization_id,
                        sealed,
                    )
                    .await?
            }
            _ => String::new(),
        };
        items.push(QueueItem {
            listing,
            references,
        });
    }
    if opened > 0 {
        let event = Event {
            object_type: Some("directory_listings"),
            detail: Some(format!("applications={opened}")),
            ..Event::by(curator, "directory.applications.read")
        };
        db.transaction(|tx| {
            let event = &event;
            async move { audit::append(tx, event, Outcome::Success).await.map(|_| ()) }
                .scope_boxed()
        })
        .await?;
    }
    Ok(items)
}

/// A note on a listing as staff read it.
pub struct ListingNote {
    pub at: i64,
    pub role: Option<String>,
    pub text: String,
}

const NOTES_TABLE: &str = "directory_listing_notes";

/// Adds a note to the listing that offers `service_id`; returns false if there is no
/// such service.
pub async fn add_note(
    db: &Db,
    crypto: &Crypto,
    author: &crate::kernel::auth::Principal,
    service_id: &str,
    note: &str,
) -> Result<bool, DirectoryError> {
    let Some(organization_id) = store::organization_of_service(db.reader(), service_id).await?
    else {
        return Ok(false);
    };
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = crypto
        .seal(Scope::System, NOTES_TABLE, "note_sealed", &id, note)
        .await?;
    let role = author.main_role().map(crate::kernel::auth::Role::id);
    let by = author.id.to_string();
    let event = Event {
        object_type: Some("organization"),
        object_id: Some(organization_id.clone()),
        ..Event::by(author, "directory.listing.note")
    };
    db.transaction(|tx| {
        let (id, organization_id, sealed, by, event) =
            (&id, &organization_id, &sealed, &by, &event);
        async move {
            store::insert_note(tx, id, organization_id, sealed, (by, role), now_micros()).await?;
            audit::append(tx, event, Outcome::Success).await?;
            Ok::<_, DirectoryError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(true)
}

/// The latest notes on the listing of `organization_id`, opened.
pub async fn notes(
    db: &Db,
    crypto: &Crypto,
    organization_id: &str,
) -> Result<Vec<ListingNote>, DirectoryError> {
    let mut out = Vec::new();
    for (id, sealed, role, at) in store::notes_of(db.reader(), organization_id, 50).await? {
        out.push(ListingNote {
            at,
            role,
            text: crypto
                .open_field(NOTES_TABLE, "note_sealed", &id, &sealed)
                .await?,
        });
    }
    Ok(out)
}

/// The name of a directory service, if the directory holds it (for a referral).
pub async fn service_name(db: &Db, id: &str) -> Result<Option<String>, DirectoryError> {
    let Some(service) = tables::get("service") else {
        return Ok(None);
    };
    let rows = store::where_in(db.reader(), service, "id", &[id.to_owned()]).await?;
    Ok(rows
        .first()
        .and_then(|cells| dataset::text(service, cells, "name"))
        .map(str::to_owned))
}
