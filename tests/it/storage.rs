//! The storage suite, run on SQLite and on PostgreSQL.

use std::collections::BTreeSet;

use atip::kernel::db::{Backend as DbBackend, Db, SchemaError};
use atip::kernel::outbox;
use atip::orgs::model::{NewOrganization, OrgId, OrgKind, OrgName, StateCode};
use atip::orgs::service::{self as orgs, OrgError};
use scoped_futures::ScopedFutureExt;

use crate::helpers::{Backend, TestApp, fresh_database, postgres_url};
use crate::on_both_databases;

on_both_databases! {
    migrations_leave_the_schema_current;
    organizations_are_stored_and_paged;
    every_write_appends_to_the_change_log_in_commit_order;
    a_failed_transaction_leaves_nothing_behind;
    a_duplicate_name_is_refused_and_nothing_is_half_written;
    a_database_from_a_newer_atip_is_refused;
    a_foreign_database_is_refused;
    migrating_twice_changes_nothing;
    foreign_keys_are_enforced;
    a_transaction_that_loses_a_serialization_race_runs_again;
}

pub fn org(name: &str, kind: OrgKind, parent: Option<OrgId>) -> NewOrganization {
    NewOrganization {
        name: OrgName::parse(name).unwrap(),
        kind,
        parent,
        city: "Austin".into(),
        state: StateCode::parse("TX").unwrap(),
        latitude: 30.27,
        longitude: -97.74,
    }
}

async fn migrations_leave_the_schema_current(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let state = app.db.migration_state().await.unwrap();
    assert!(state.is_current(), "{state:?}");
    let tables = app.db.table_names().await.unwrap();
    for table in [
        "counters",
        "change_log",
        "jobs",
        "organizations",
        "settings",
    ] {
        assert!(tables.contains(table), "{table} missing from {tables:?}");
    }
}

async fn organizations_are_stored_and_paged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let grantee = OrgId::new();
    let mut batch = vec![(grantee, org("Grantee One", OrgKind::NationalGrantee, None))];
    for i in 0..30 {
        batch.push((
            OrgId::new(),
            org(&format!("NGO {i:02}"), OrgKind::SubAwardee, Some(grantee)),
        ));
    }
    orgs::create_many(&app.db, &batch).await.unwrap();

    let (first, total) = orgs::list(&app.db, Some(OrgKind::SubAwardee), 1, 25)
        .await
        .unwrap();
    assert_eq!(total, 30);
    assert_eq!(first.len(), 25);
    assert_eq!(first[0].name, "NGO 00");
    let (second, _) = orgs::list(&app.db, Some(OrgKind::SubAwardee), 2, 25)
        .await
        .unwrap();
    assert_eq!(second.len(), 5);
    assert_eq!(second[4].name, "NGO 29");

    let stored = orgs::get(&app.db, batch[3].0).await.unwrap().unwrap();
    assert_eq!(stored.parent_id, Some(grantee));
    assert_eq!(stored.state, "TX");
    assert!((stored.latitude - 30.27).abs() < 1e-9);
    assert!(orgs::get(&app.db, OrgId::new()).await.unwrap().is_none());
}

async fn every_write_appends_to_the_change_log_in_commit_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Writers race; every change must get its own number and be visible in order.
    let mut tasks = Vec::new();
    for w in 0..4 {
        let db = app.db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let id = OrgId::new();
                orgs::create_many(
                    &db,
                    &[(
                        id,
                        org(&format!("Writer {w} org {i}"), OrgKind::Coalition, None),
                    )],
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let changes = outbox::since(app.db.reader(), 0, 1000).await.unwrap();
    assert_eq!(changes.len(), 40);
    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>(), "gap-free and ordered");
    assert!(
        changes
            .iter()
            .all(|c| c.entity == "organization" && c.op == "insert")
    );
    let ids: BTreeSet<_> = changes.iter().map(|c| c.entity_id.clone()).collect();
    assert_eq!(ids.len(), 40);
    let later = outbox::since(app.db.reader(), 35, 10).await.unwrap();
    assert_eq!(
        later.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![36, 37, 38, 39, 40]
    );
}

async fn a_failed_transaction_leaves_nothing_behind(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let batch = vec![(OrgId::new(), org("Kept out", OrgKind::Coalition, None))];
    let result: Result<(), OrgError> = app
        .db
        .transaction(|tx| {
            async {
                orgs::insert_in(tx, &batch).await?;
                Err(OrgError::DuplicateName)
            }
            .scope_boxed()
        })
        .await;
    assert!(result.is_err());
    assert_eq!(orgs::count(&app.db).await.unwrap(), 0);
    assert!(
        outbox::since(app.db.reader(), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_duplicate_name_is_refused_and_nothing_is_half_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    orgs::create_many(
        &app.db,
        &[(OrgId::new(), org("Only once", OrgKind::Coalition, None))],
    )
    .await
    .unwrap();
    let batch = vec![
        (OrgId::new(), org("A new one", OrgKind::Coalition, None)),
        (OrgId::new(), org("Only once", OrgKind::Coalition, None)),
    ];
    let err = orgs::create_many(&app.db, &batch).await.unwrap_err();
    assert!(matches!(err, OrgError::DuplicateName), "{err:?}");
    assert_eq!(
        orgs::count(&app.db).await.unwrap(),
        1,
        "the first of the batch was rolled back"
    );
    assert_eq!(
        outbox::since(app.db.reader(), 0, 10).await.unwrap().len(),
        1
    );
}

async fn a_database_from_a_newer_atip_is_refused(backend: Backend) {
    let fresh = fresh_database(backend).await;
    let db = Db::connect(&fresh.url).await.unwrap();
    db.migrate().await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ($1, 'from the future', TRUE, $2, 0)",
    )
    .bind(99_999_999_999_999_i64)
    .bind(vec![0_u8; 48])
    .execute(db.writer())
    .await
    .unwrap();
    let err = db.migrate().await.unwrap_err();
    assert!(
        matches!(
            err,
            SchemaError::Newer {
                version: 99_999_999_999_999
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer atip"), "{err}");
    db.close().await;
}

async fn a_foreign_database_is_refused(backend: Backend) {
    let fresh = fresh_database(backend).await;
    let db = Db::connect(&fresh.url).await.unwrap();
    sqlx::query("CREATE TABLE customers (id BIGINT PRIMARY KEY)")
        .execute(db.writer())
        .await
        .unwrap();
    let err = db.migrate().await.unwrap_err();
    assert!(matches!(err, SchemaError::Foreign { .. }), "{err:?}");
    assert!(err.to_string().contains("not created by atip"), "{err}");
    let tables = db.table_names().await.unwrap();
    assert_eq!(
        tables.into_iter().collect::<Vec<_>>(),
        vec!["customers".to_owned()],
        "nothing was written"
    );
    db.close().await;
}

async fn migrating_twice_changes_nothing(backend: Backend) {
    let fresh = fresh_database(backend).await;
    let db = Db::connect(&fresh.url).await.unwrap();
    db.migrate().await.unwrap();
    let before = db.columns().await.unwrap();
    db.migrate().await.unwrap();
    assert_eq!(before, db.columns().await.unwrap());
    db.close().await;
}

#[test]
fn both_migration_trees_have_the_same_versions_and_names() {
    let list = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir),
        )
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
    };
    assert_eq!(list("sqlite"), list("postgres"));
    let sqlite = atip::kernel::db::migrator(DbBackend::Sqlite);
    let postgres = atip::kernel::db::migrator(DbBackend::Postgres);
    let versions = |m: &sqlx::migrate::Migrator| m.iter().map(|m| m.version).collect::<Vec<_>>();
    assert_eq!(versions(sqlite), versions(postgres));
}

/// Applies both migration trees and compares the tables and columns they make.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_databases_end_up_with_the_same_tables_and_columns() {
    if postgres_url().is_none() {
        eprintln!(
            "skipped: set {} to compare with PostgreSQL",
            crate::helpers::POSTGRES_ENV
        );
        return;
    }
    let mut schemas = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let fresh = fresh_database(backend).await;
        let db = Db::connect(&fresh.url).await.unwrap();
        db.migrate().await.unwrap();
        let columns: BTreeSet<_> = db
            .columns()
            .await
            .unwrap()
            .into_iter()
            // sqlx's own bookkeeping table differs by design between drivers.
            .filter(|(table, _, _)| table != "_sqlx_migrations")
            .collect();
        db.close().await;
        schemas.push(columns);
    }
    let only_sqlite: Vec<_> = schemas[0].difference(&schemas[1]).collect();
    let only_postgres: Vec<_> = schemas[1].difference(&schemas[0]).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_postgres:?}"
    );
    assert!(schemas[0].len() > 20);
}

#[tokio::test]
async fn shutting_down_closes_the_sqlite_database_cleanly() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    orgs::create_many(
        &app.db,
        &[(
            OrgId::new(),
            org("Written before stop", OrgKind::Coalition, None),
        )],
    )
    .await
    .unwrap();
    let fresh = app.shutdown().await;
    // SQLite folds the write-ahead log into the database when the last connection
    // closes cleanly and deletes it.
    assert!(fresh.dir.path().join("atip.db").is_file());
    assert!(
        !fresh.dir.path().join("atip.db-wal").exists(),
        "the WAL was checkpointed"
    );
    let db = Db::connect(&fresh.url).await.unwrap();
    assert_eq!(orgs::count(&db).await.unwrap(), 1);
    db.close().await;
}

/// Without a checkpoint of its own, the writer would fold the log into the database
/// only at 16,000 pages (250 MiB), far beyond what this test writes: the file grows
/// only because the server's checkpoint connection copies the log while it runs.
#[tokio::test]
async fn a_running_server_folds_the_write_ahead_log_into_the_database_by_itself() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(app.db.writer())
        .await
        .unwrap();
    assert_eq!(
        pages, 16000,
        "the writer's own checkpoints are only a backstop"
    );
    let file = app.fresh.dir.path().join("atip.db");
    let before = std::fs::metadata(&file).unwrap().len();
    let many: Vec<_> = (0..3000)
        .map(|i| {
            (
                OrgId::new(),
                org(
                    &format!("Outreach partner number {i:05}"),
                    OrgKind::Coalition,
                    None,
                ),
            )
        })
        .collect();
    orgs::create_many(&app.db, &many).await.unwrap();
    let wal = app.fresh.dir.path().join("atip.db-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    let mut grown = before;
    for _ in 0..100 {
        grown = std::fs::metadata(&file).unwrap().len();
        if grown > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        grown > before,
        "the database file stayed at {before} bytes: nothing was checkpointed"
    );
    assert_eq!(orgs::count(&app.db).await.unwrap(), 3000);
}

async fn foreign_keys_are_enforced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let orphan = vec![(
        OrgId::new(),
        org("Orphan NGO", OrgKind::SubAwardee, Some(OrgId::new())),
    )];
    let err = orgs::create_many(&app.db, &orphan).await.unwrap_err();
    assert!(
        matches!(&err, OrgError::Db(sqlx::Error::Database(e)) if e.is_foreign_key_violation()),
        "{err:?}"
    );
    assert_eq!(orgs::count(&app.db).await.unwrap(), 0);
}

/// Stands in for PostgreSQL's 40001: the first attempt fails as a lost race would.
#[derive(Debug)]
enum RaceError {
    LostRace,
    Db(#[expect(dead_code, reason = "shown by Debug when a test fails")] sqlx::Error),
}

impl From<sqlx::Error> for RaceError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl atip::kernel::db::Retryable for RaceError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::LostRace)
    }
}

async fn a_transaction_that_loses_a_serialization_race_runs_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let attempts = std::sync::atomic::AtomicU32::new(0);
    let batch = vec![(
        OrgId::new(),
        org("Written on the second try", OrgKind::Coalition, None),
    )];
    app.db
        .transaction(|tx| {
            async {
                orgs::insert_in(tx, &batch)
                    .await
                    .map_err(|e| RaceError::Db(sqlx::Error::Protocol(e.to_string())))?;
                if attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    return Err(RaceError::LostRace);
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        orgs::count(&app.db).await.unwrap(),
        1,
        "the first attempt was rolled back, the second kept"
    );
    assert_eq!(
        outbox::since(app.db.reader(), 0, 10).await.unwrap().len(),
        1
    );
}

#[test]
fn serialization_failures_and_deadlocks_are_retryable() {
    // Codes PostgreSQL and CockroachDB use; other database errors are not retried.
    assert!(!atip::kernel::db::is_retryable(&sqlx::Error::RowNotFound));
}

/// A bulk write alone on a SQLite file uses the rollback journal (pages written once)
/// and leaves the file in WAL; with anything else open on the file it keeps WAL, and
/// a bulk write that fails is rolled back either way.
#[tokio::test]
async fn a_bulk_write_alone_on_sqlite_skips_the_wal_and_returns_to_it() {
    use atip::kernel::db::DatabaseUrl;
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::sqlite_file(&dir.path().join("atip.db"));
    let journal = |db: &Db| {
        let pool = db.reader().clone();
        async move {
            sqlx::query_scalar::<_, String>("PRAGMA journal_mode")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let alone = Db::connect_for_bulk(&url).await.unwrap();
    alone.migrate().await.unwrap();
    assert_eq!(journal(&alone).await, "wal");
    assert!(alone.bulk_journal().await.unwrap(), "alone: switched");
    assert_eq!(journal(&alone).await, "delete");
    let failed: Result<(), sqlx::Error> = alone
        .transaction(|tx| {
            async move {
                orgs::insert_in(tx, &[(OrgId::new(), org("Half", OrgKind::Coalition, None))])
                    .await
                    .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                Err(sqlx::Error::Protocol("stop".into()))
            }
            .scope_boxed()
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(orgs::count(&alone).await.unwrap(), 0, "rolled back");
    alone.wal_again().await.unwrap();
    assert_eq!(journal(&alone).await, "wal");

    // A server (or anyone) with the file open: the bulk write keeps WAL.
    let server = Db::connect(&url).await.unwrap();
    assert!(!alone.bulk_journal().await.unwrap(), "not alone: kept WAL");
    assert_eq!(journal(&server).await, "wal");
    server.close().await;
    alone.close().await;
}
