//! The hash-chained audit log.

use std::process::Command;

use atip::kernel::audit::{self, Event, Outcome};
use atip::kernel::db::Db;
use scoped_futures::ScopedFutureExt;

use crate::helpers::{Backend, fresh_database};
use crate::on_both_databases;

on_both_databases! {
    concurrent_appends_from_two_connection_pools_keep_one_chain;
    changing_one_byte_of_one_row_breaks_the_chain_and_the_cli_names_it;
}

async fn append_many(db: Db, who: &'static str, n: usize) {
    for i in 0..n {
        let object = format!("{who}-{i}");
        db.transaction(|tx| {
            let event = Event {
                action: "test.event",
                object_type: Some("thing"),
                object_id: Some(object.clone()),
                ..Event::default()
            };
            async move { audit::append(tx, &event, Outcome::Success).await }.scope_boxed()
        })
        .await
        .unwrap();
    }
}

async fn concurrent_appends_from_two_connection_pools_keep_one_chain(backend: Backend) {
    let fresh = fresh_database(backend).await;
    // Two pools, each with its own connections (the two-process test is in cli.rs).
    let first = Db::connect(&fresh.url).await.unwrap();
    first.migrate().await.unwrap();
    let second = Db::connect(&fresh.url).await.unwrap();
    let a = tokio::spawn(append_many(first.clone(), "a", 40));
    let b = tokio::spawn(append_many(second.clone(), "b", 40));
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(audit::verify(&first).await.unwrap(), 80);
    first.close().await;
    second.close().await;
}

async fn changing_one_byte_of_one_row_breaks_the_chain_and_the_cli_names_it(backend: Backend) {
    let fresh = fresh_database(backend).await;
    let db = Db::connect(&fresh.url).await.unwrap();
    db.migrate().await.unwrap();
    append_many(db.clone(), "x", 5).await;
    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_atip"))
            .args(["audit", "verify", "--database-url", fresh.url.expose()])
            .output()
            .unwrap()
    };
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("5 events"));

    sqlx::query("UPDATE audit_events SET object_id = 'x-9' WHERE seq = 3")
        .execute(db.writer())
        .await
        .unwrap();
    let broken = verify();
    assert_eq!(broken.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("audit event 3 was changed"), "{stderr}");

    sqlx::query("UPDATE audit_events SET object_id = 'x-2' WHERE seq = 3")
        .execute(db.writer())
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_events WHERE seq = 4")
        .execute(db.writer())
        .await
        .unwrap();
    let gap = verify();
    assert!(String::from_utf8_lossy(&gap.stderr).contains("audit event 4 is missing"));
    db.close().await;
}
