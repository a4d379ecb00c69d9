//! The resource library: documents for survivors, providers, law enforcement and the
//! public, with versions, extracted text, search with snippets, and public or
//! internal visibility.

pub mod extract;
pub mod index;
pub mod model;
pub mod pages;
pub mod service;
pub(crate) mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::kernel::db::Db;
use crate::kernel::outbox;
use index::LibraryIndex;

/// How often a server looks for library changes made by others.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Index(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The library's index and how far into the change log it has read. A library holds
/// thousands of documents, not millions: any change rebuilds the whole index.
pub struct Library {
    index: LibraryIndex,
    seen: AtomicI64,
}

impl Library {
    pub async fn build(db: &Db) -> Result<Arc<Self>, BuildError> {
        // Read the position first: a change committed during the load is seen again.
        let seen = outbox::last_seq(db.reader()).await?;
        let library = Self {
            index: LibraryIndex::new()?,
            seen: AtomicI64::new(seen),
        };
        library.reload(db).await?;
        Ok(Arc::new(library))
    }

    async fn reload(&self, db: &Db) -> Result<(), BuildError> {
        const BATCH: i64 = 500;
        let mut documents = Vec::new();
        let mut after = String::new();
        loop {
            let rows = store::for_index(db.reader(), &after, BATCH).await?;
            let Some((last, _, _)) = rows.last() else {
                break;
            };
            after.clone_from(&last.id);
            documents
                .extend(rows.into_iter().map(|(row, kind, text)| {
                    (service::entry(row, kind), text.unwrap_or_default())
                }));
        }
        self.index.rebuild(documents)?;
        Ok(())
    }

    pub fn index(&self) -> &LibraryIndex {
        &self.index
    }

    /// Rebuilds the index if the library changed since the last call.
    pub async fn refresh(&self, db: &Db) -> Result<(), BuildError> {
        let after = self.seen.load(Ordering::SeqCst);
        let end = outbox::last_seq(db.reader()).await?;
        if end <= after {
            return Ok(());
        }
        if store::changed_since(db.reader(), after, service::CHANGE_ENTITY).await? {
            self.reload(db).await?;
        }
        self.seen.store(end, Ordering::SeqCst);
        Ok(())
    }

    /// Follows the change log until `stop`.
    pub fn follow(self: Arc<Self>, db: Db, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        outbox::follow("the library index", FOLLOW_EVERY, stop, move || {
            let (this, db) = (Arc::clone(&self), db.clone());
            async move { this.refresh(&db).await }
        })
    }
}
