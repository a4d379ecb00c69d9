//! Invitations: an administrator adds a staff account by email, name, roles and
//! organization; the person chooses the password with a one-time code. Nobody else
//! ever knows the password, and the code is stored hashed.

use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use sqlx::{AnyConnection, FromRow};

use super::model::{Email, NewInvitation, NewUser};
use super::service::{AccountError, insert_account, scope_of};
use super::store;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::password::Password;
use crate::kernel::auth::token::{random_token, same_secret, stored_form};
use crate::kernel::auth::{Principal, Role, UserId};
use crate::kernel::authz::{self, Action, Decision, ListScope, Resource};
use crate::kernel::crypto::Crypto;
use crate::kernel::db::{Db, Retryable};
use crate::kernel::time::{micros, now_micros};
use crate::orgs::model::OrgId;

/// Long enough to reach someone over a weekend, short enough that a forgotten code
/// does not stay a way in.
pub const LIFETIME: Duration = Duration::from_hours(7 * 24);

#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    #[error("this administrator may not give one of these roles, or not in this organization")]
    NotGrantable,
    #[error("an organization-scoped role needs an organization")]
    Organization,
    #[error("an account with this email already exists")]
    AccountExists,
    #[error("an invitation for this email is still waiting; revoke it first")]
    Waiting,
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<sqlx::Error> for InvitationError {
    fn from(e: sqlx::Error) -> Self {
        Self::Account(e.into())
    }
}

impl From<crate::kernel::crypto::CryptoError> for InvitationError {
    fn from(e: crate::kernel::crypto::CryptoError) -> Self {
        Self::Account(e.into())
    }
}

impl From<InvitationError> for crate::kernel::web::HtmlError {
    fn from(err: InvitationError) -> Self {
        Self::Internal(anyhow::Error::new(err))
    }
}

impl Retryable for InvitationError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Account(e) if e.is_retryable())
    }
}

/// An invitation made: the code to hand to the person (shown once) and its expiry.
pub struct Invited {
    pub code: String,
    pub expires_at: i64,
}

fn resource(organization: Option<OrgId>) -> Resource {
    organization.map_or(Resource::Unowned, Resource::Organization)
}

/// Invites a person on behalf of `admin`, who must be allowed to manage accounts of
/// the organization and to give every role.
pub async fn invite(
    db: &Db,
    crypto: &Crypto,
    admin: &Principal,
    new: NewInvitation,
) -> Result<Invited, InvitationError> {
    if new.roles.iter().any(|r| !authz::may_grant(admin, *r))
        || authz::authorize(Some(admin), Action::ManageUsers, resource(new.organization))
            != Decision::Allow
    {
        return Err(InvitationError::NotGrantable);
    }
    if new.roles.iter().any(|r| r.is_org_scoped()) && new.organization.is_none() {
        return Err(InvitationError::Organization);
    }
    if store::by_email(db.reader(), new.email.as_str())
        .await?
        .is_some()
    {
        return Err(InvitationError::AccountExists);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let code = random_token().map_err(AccountError::Internal)?;
    let display_name = crypto
        .seal(
            scope_of(new.organization),
            "invitations",
            "display_name",
            &id,
            &new.display_name,
        )
        .await?;
    let roles = new
        .roles
        .iter()
        .map(|r| r.id())
        .collect::<Vec<_>>()
        .join(" ");
    let now = now_micros();
    let expires_at = now + micros(LIFETIME);
    let event = Event {
        object_type: Some("invitation"),
        object_id: Some(id.clone()),
        org_id: new.organization.map(|o| o.to_string()),
        detail: Some(format!("roles={roles}")),
        ..Event::by(admin, "user.invite")
    };
    db.transaction(|tx| {
        async {
            // An expired invitation no longer holds its email.
            sqlx::query("DELETE FROM invitations WHERE email = $1 AND expires_at <= $2")
                .bind(new.email.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO invitations (id, email, display_name, org_id, roles, code_hash, invited_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&id)
            .bind(new.email.as_str())
            .bind(&display_name)
            .bind(new.organization.map(|o| o.to_string()))
            .bind(&roles)
            .bind(stored_form(&code))
            .bind(admin.id.to_string())
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => InvitationError::Waiting,
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    InvitationError::Organization
                }
                _ => e.into(),
            })?;
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, InvitationError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(Invited { code, expires_at })
}

/// A waiting invitation as the administration page lists it (no name: that is
/// opened only when the person accepts).
#[derive(Clone, Debug, FromRow)]
pub struct Waiting {
    pub id: String,
    pub email: String,
    pub roles: String,
    pub expires_at: i64,
}

/// The invitations of the organizations `reader` may manage, soonest to expire first.
pub async fn waiting(db: &Db, reader: &Principal) -> Result<Vec<Waiting>, InvitationError> {
    macro_rules! select {
        ($rest:literal) => {
            concat!(
                "SELECT id, email, roles, expires_at FROM invitations ",
                $rest
            )
        };
    }
    let rows = match authz::listing_scope(reader, Action::ManageUsers) {
        None => Vec::new(),
        Some(ListScope::All) => {
            sqlx::query_as(select!("ORDER BY expires_at"))
                .fetch_all(db.reader())
                .await?
        }
        Some(ListScope::Organization(org)) => {
            sqlx::query_as(select!("WHERE org_id = $1 ORDER BY expires_at"))
                .bind(org.to_string())
                .fetch_all(db.reader())
                .await?
        }
    };
    Ok(rows)
}

/// Withdraws an invitation; false if there is none `admin` may manage.
pub async fn revoke(db: &Db, admin: &Principal, id: &str) -> Result<bool, InvitationError> {
    let org: Option<Option<String>> =
        sqlx::query_scalar("SELECT org_id FROM invitations WHERE id = $1")
            .bind(id)
            .fetch_optional(db.reader())
            .await?;
    let Some(org) = org else {
        return Ok(false);
    };
    let organization = match org.map(|o| o.parse::<OrgId>()) {
        Some(Ok(o)) => Some(o),
        Some(Err(_)) => return Ok(false),
        None => None,
    };
    if authz::authorize(Some(admin), Action::ManageUsers, resource(organization)) != Decision::Allow
    {
        audit::refused(db, admin, Action::ManageUsers, "invitation", id.to_owned()).await?;
        return Ok(false);
    }
    let event = Event {
        object_type: Some("invitation"),
        object_id: Some(id.to_owned()),
        org_id: organization.map(|o| o.to_string()),
        ..Event::by(admin, "user.invitation.revoke")
    };
    db.transaction(|tx| {
        async {
            let gone = use_up(tx, id).await?;
            if gone {
                audit::append(tx, &event, Outcome::Success).await?;
            }
            Ok::<_, InvitationError>(gone)
        }
        .scope_boxed()
    })
    .await
}

/// Deletes an invitation inside the caller's transaction; false if it was gone.
pub(super) async fn use_up(tx: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM invitations WHERE id = $1")
        .bind(id)
        .execute(tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(FromRow)]
struct Row {
    id: String,
    email: String,
    display_name: String,
    org_id: Option<String>,
    roles: String,
    expires_at: i64,
}

/// What accepting an invitation came to.
#[derive(Debug)]
pub enum Accepted {
    /// The account exists; the person signs in (and enrols a second factor).
    Created(UserId),
    /// No waiting invitation has this code and email, or it has expired.
    Refused,
}

/// Creates the invited account with the password its owner chose. The password must
/// be strong (`AccountError::Weak` otherwise, and the invitation stays usable).
pub async fn accept(
    db: &Db,
    crypto: &Crypto,
    email: &str,
    code: &str,
    password: Password,
) -> Result<Accepted, InvitationError> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, email, display_name, org_id, roles, expires_at FROM invitations WHERE code_hash = $1",
    )
    .bind(stored_form(code.trim()))
    .fetch_optional(db.reader())
    .await?;
    let matching = row.filter(|r| {
        let given = Email::parse(email).map(|e| e.as_str().to_owned());
        r.expires_at > now_micros() && given.is_ok_and(|e| same_secret(&e, &r.email))
    });
    let Some(row) = matching else {
        let event = Event {
            action: "user.invitation.accept",
            object_type: Some("invitation"),
            ..Event::default()
        };
        db.transaction(|tx| audit::append(tx, &event, Outcome::Failure).scope_boxed())
            .await
            .map_err(AccountError::from)?;
        return Ok(Accepted::Refused);
    };
    let organization = match row.org_id.as_deref().map(str::parse::<OrgId>) {
        Some(Ok(o)) => Some(o),
        Some(Err(_)) => return Ok(Accepted::Refused),
        None => None,
    };
    let display_name = crypto
        .open_field("invitations", "display_name", &row.id, &row.display_name)
        .await?;
    let user = NewUser {
        email: Email::parse(&row.email).map_err(|_| InvitationError::AccountExists)?,
        display_name,
        phone: None,
        roles: row
            .roles
            .split_whitespace()
            .filter_map(Role::parse)
            .collect(),
        organization,
        password,
    };
    match insert_account(db, crypto, user, Some(&row.id)).await {
        Ok(id) => Ok(Accepted::Created(id)),
        Err(AccountError::InvitationGone) => Ok(Accepted::Refused),
        Err(AccountError::DuplicateEmail) => Err(InvitationError::AccountExists),
        Err(e) => Err(e.into()),
    }
}
