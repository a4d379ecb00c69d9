//! Referral search: an in-process index of the listed directory, rebuilt from the
//! database at start and kept fresh from the change log (each server process keeps
//! its own).

pub mod index;
pub(crate) mod load;
pub mod model;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use index::{Doc, Found, Hit, Index, Reason, SearchError};
pub use model::{Filters, Near, Point, Query, Sort};

use super::store;
use crate::kernel::db::Db;
use crate::kernel::outbox;

/// Changes in one batch from which a full reload is cheaper than following each.
const BULK: usize = 2_000;

/// How often a server looks for directory changes made by others.
const FOLLOW_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The index and how far into the change log it has read.
pub struct Search {
    index: Index,
    seen: AtomicI64,
}

impl Search {
    /// Builds the index from the database.
    pub async fn build(db: &Db) -> Result<Arc<Self>, BuildError> {
        // Read the position first: a change committed during the load is applied
        // again by the first refresh, never missed.
        let seen = outbox::last_seq(db.reader()).await?;
        let search = Self {
            index: Index::new()?,
            seen: AtomicI64::new(seen),
        };
        search.load_all(db).await?;
        Ok(Arc::new(search))
    }

    /// (Re)loads every listed service, a batch at a time so memory stays bounded,
    /// then drops services that are gone.
    async fn load_all(&self, db: &Db) -> Result<(), BuildError> {
        const BATCH: i64 = 5_000;
        let mut seen = HashSet::new();
        let mut after = String::new();
        loop {
            let ids = store::service_ids_after(db.reader(), &after, BATCH).await?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let docs = load::documents(db, Some(&ids)).await?;
            self.index.replace(&ids, docs)?;
            seen.extend(ids);
            after = last;
        }
        let gone: Vec<String> = self
            .index
            .services()
            .into_iter()
            .filter(|s| !seen.contains(s))
            .collect();
        if !gone.is_empty() {
            self.index.replace(&gone, Vec::new())?;
        }
        Ok(())
    }

    pub fn search(&self, query: &Query) -> Result<Found, SearchError> {
        self.index.search(query, jiff::Timestamp::now())
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Applies the directory changes committed since the last call.
    pub async fn refresh(&self, db: &Db) -> Result<(), BuildError> {
        loop {
            let after = self.seen.load(Ordering::SeqCst);
            let changes = outbox::since(db.reader(), after, 5_000).await?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                return Ok(());
            };
            // A bulk import touches so much that one rebuild is cheaper than looking
            // up each change.
            let mut everything = changes.len() >= BULK;
            let mut touched: HashSet<String> = HashSet::new();
            for change in changes
                .iter()
                .filter(|c| c.entity.starts_with("hsds.") || c.entity.starts_with("directory."))
            {
                if everything {
                    break;
                }
                match change.entity.as_str() {
                    "hsds.taxonomy" | "hsds.taxonomy_term" => everything = true,
                    entity => touched.extend(
                        store::services_touched(db.reader(), entity, &change.entity_id).await?,
                    ),
                }
            }
            if everything {
                // Everything up to the log's end is in the reload: skip past it
                // (read first, so a change committed during the reload is seen again).
                let end = outbox::last_seq(db.reader()).await?;
                self.load_all(db).await?;
                self.seen.store(end.max(last), Ordering::SeqCst);
                continue;
            } else if !touched.is_empty() {
                let services: Vec<String> = touched.into_iter().collect();
                let docs = load::documents(db, Some(&services)).await?;
                self.index.replace(&services, docs)?;
            }
            self.seen.store(last, Ordering::SeqCst);
        }
    }

    /// Follows the change log until `stop`.
    pub fn follow(self: Arc<Self>, db: Db, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        outbox::follow("the directory index", FOLLOW_EVERY, stop, move || {
            let (this, db) = (Arc::clone(&self), db.clone());
            async move { this.refresh(&db).await }
        })
    }
}
