//! Use cases for organizations.

use scoped_futures::ScopedFutureExt;
use sqlx::AnyConnection;

use super::model::{NewOrganization, OrgId, OrgKind, OrgRuleError, Organization};
use super::store;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::db::{Db, Retryable};
use crate::kernel::outbox::{self, ChangeOp};
use crate::kernel::time::now_micros;

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error(transparent)]
    Rule(#[from] OrgRuleError),
    #[error("an organization with this name already exists")]
    DuplicateName,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Retryable for OrgError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Db(e) if e.is_retryable())
    }
}

/// Adds organizations in one transaction, each with its change-log row.
pub async fn create_many(db: &Db, orgs: &[(OrgId, NewOrganization)]) -> Result<(), OrgError> {
    db.transaction(|tx| insert_in(tx, orgs).scope_boxed()).await
}

/// Adds one organization on behalf of an administrator, audited as theirs.
pub async fn create_by(
    db: &Db,
    admin: &Principal,
    org: NewOrganization,
) -> Result<OrgId, OrgError> {
    let id = OrgId::new();
    let event = Event {
        object_type: Some("organization"),
        object_id: Some(id.to_string()),
        detail: Some(format!("kind={}", org.kind.as_str())),
        ..Event::by(admin, "organization.create")
    };
    let orgs = [(id, org)];
    db.transaction(|tx| {
        async {
            insert_in(tx, &orgs).await?;
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, OrgError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(id)
}

/// Adds organizations inside the caller's transaction (for callers that write other
/// things in the same transaction).
pub async fn insert_in(
    tx: &mut AnyConnection,
    orgs: &[(OrgId, NewOrganization)],
) -> Result<(), OrgError> {
    let now = now_micros();
    for (id, org) in orgs {
        org.check()?;
        store::insert(tx, *id, org, now)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => OrgError::DuplicateName,
                _ => OrgError::Db(e),
            })?;
        outbox::append(tx, "organization", &id.to_string(), ChangeOp::Insert).await?;
    }
    Ok(())
}

pub async fn get(db: &Db, id: OrgId) -> Result<Option<Organization>, sqlx::Error> {
    store::get(db.reader(), id).await
}

/// One page of organizations, and the total matching.
pub async fn list(
    db: &Db,
    kind: Option<OrgKind>,
    page: u32,
    per_page: u32,
) -> Result<(Vec<Organization>, i64), sqlx::Error> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    let items = store::list(db.reader(), kind, i64::from(per_page), offset).await?;
    let total = store::count(db.reader(), kind).await?;
    Ok((items, total))
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    store::count(db.reader(), None).await
}
