//! API tokens for integrations: made by a user, shown once, stored hashed, scoped to
//! a subset of the user's permissions, with an expiry.

use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use sqlx::FromRow;

use super::model::{Email, Status};
use super::service::{AccountError, principal_for, resource_of, user_event};
use super::store;
use crate::kernel::audit::{self, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::auth::token::{random_token, stored_form};
use crate::kernel::authz::{self, Action, ListScope};
use crate::kernel::crypto::Crypto;
use crate::kernel::db::Db;
use crate::kernel::time::{micros, now_micros};

/// Tokens start with this, so secret scanners (and people) recognise them.
const PREFIX: &str = "atip_";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the account may not {0}, so a token cannot carry it")]
    BeyondRoles(&'static str),
    #[error("a token cannot carry `complete-sign-in`")]
    SignInScope,
    #[error(transparent)]
    Account(#[from] AccountError),
}

/// Makes a token for the account with `email`; without `scopes` it carries every
/// permission of the account's roles. Returns the token, which is not stored.
pub async fn create(
    db: &Db,
    email: &str,
    scopes: Option<Vec<Action>>,
    lifetime: Duration,
) -> Result<String, TokenError> {
    let email = Email::parse(email).map_err(|_| AccountError::UnknownEmail)?;
    let user = store::by_email(db.reader(), email.as_str())
        .await
        .map_err(AccountError::from)?
        .ok_or(AccountError::UnknownEmail)?;
    let roles = store::roles(db.reader(), &user.id)
        .await
        .map_err(AccountError::from)?;
    let scopes = match scopes {
        Some(scopes) => {
            for action in &scopes {
                if *action == Action::CompleteSignIn {
                    return Err(TokenError::SignInScope);
                }
                if !authz::roles_allow(&roles, *action) {
                    return Err(TokenError::BeyondRoles(action.id()));
                }
            }
            scopes
        }
        None => Action::ALL
            .into_iter()
            .filter(|a| *a != Action::CompleteSignIn && authz::roles_allow(&roles, *a))
            .collect(),
    };
    let token = format!("{PREFIX}{}", random_token().map_err(AccountError::from)?);
    let id = uuid::Uuid::now_v7().to_string();
    let now = now_micros();
    let scope_text = scopes.iter().map(|a| a.id()).collect::<Vec<_>>().join(" ");
    let hash = stored_form(&token);
    db.transaction(|tx| {
        async {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, token_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&id)
            .bind(&user.id)
            .bind(&hash)
            .bind(&scope_text)
            .bind(now)
            .bind(now + micros(lifetime))
            .execute(&mut *tx)
            .await?;
            let event = audit::Event {
                object_type: Some("api_token"),
                object_id: Some(id.clone()),
                detail: Some(format!("scopes={scope_text}")),
                ..user_event(&user, "api_token.create")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, AccountError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(token)
}

/// A token as `atip token list` shows it (never the token itself).
#[derive(Debug, FromRow)]
pub struct TokenSummary {
    pub id: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// The tokens of the account with `email`, newest first.
pub async fn list(db: &Db, email: &str) -> Result<Vec<TokenSummary>, AccountError> {
    let email = Email::parse(email).map_err(|_| AccountError::UnknownEmail)?;
    let user = store::by_email(db.reader(), email.as_str())
        .await?
        .ok_or(AccountError::UnknownEmail)?;
    Ok(sqlx::query_as(
        "SELECT id, scopes, created_at, expires_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(&user.id)
    .fetch_all(db.reader())
    .await?)
}

/// A token as the administrators' list shows it: its owner, never the token.
#[derive(Debug, FromRow)]
pub struct TokenListing {
    pub id: String,
    pub owner_email: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Every token of every account, newest first.
/// The tokens of the accounts `reader` may manage, newest first.
pub async fn list_managed(db: &Db, reader: &Principal) -> Result<Vec<TokenListing>, AccountError> {
    macro_rules! select {
        ($rest:literal) => {
            concat!(
                "SELECT t.id, u.email AS owner_email, t.scopes, t.created_at, t.expires_at, t.last_used_at, t.revoked_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id ",
                $rest
            )
        };
    }
    let rows = match authz::listing_scope(reader, Action::ManageUsers) {
        None => Vec::new(),
        Some(ListScope::All) => {
            sqlx::query_as(select!("ORDER BY t.created_at DESC"))
                .fetch_all(db.reader())
                .await?
        }
        Some(ListScope::Organization(org)) => {
            sqlx::query_as(select!("WHERE u.org_id = $1 ORDER BY t.created_at DESC"))
                .bind(org.to_string())
                .fetch_all(db.reader())
                .await?
        }
    };
    Ok(rows)
}

/// Revokes a token by id at once; false if no such token is live. `by` is the
/// administrator who did it, absent when an operator uses the CLI.
pub async fn revoke(db: &Db, id: &str, by: Option<&Principal>) -> Result<bool, AccountError> {
    let owner: Option<String> =
        sqlx::query_scalar("SELECT user_id FROM api_tokens WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_optional(db.reader())
            .await?;
    let Some(owner) = owner else {
        return Ok(false);
    };
    let user = store::by_id(db.reader(), &owner)
        .await?
        .ok_or(AccountError::UnknownEmail)?;
    // The administrator acts as themself; the CLI's operator has no account, so the
    // event names the token's owner's organization and no actor.
    let actor = if let Some(admin) = by {
        // Another organization's token answers as if it did not exist.
        if authz::authorize(Some(admin), Action::ManageUsers, resource_of(&user))
            != authz::Decision::Allow
        {
            audit::refused(db, admin, Action::ManageUsers, "api_token", id.to_owned()).await?;
            return Ok(false);
        }
        audit::Event::by(admin, "api_token.revoke")
    } else {
        audit::Event {
            actor_id: None,
            ..user_event(&user, "api_token.revoke")
        }
    };
    let event = audit::Event {
        object_type: Some("api_token"),
        object_id: Some(id.to_owned()),
        ..actor
    };
    db.transaction(|tx| {
        async {
            sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now_micros())
                .execute(&mut *tx)
                .await?;
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, AccountError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(true)
}

#[derive(FromRow)]
struct TokenRow {
    id: String,
    last_used_at: Option<i64>,
    user_id: String,
    scopes: String,
    expires_at: i64,
    revoked_at: Option<i64>,
}

/// The principal a bearer token stands for, if it is known, unexpired, unrevoked and
/// its account active.
pub async fn resolve(
    db: &Db,
    crypto: &Crypto,
    token: &str,
) -> Result<Option<Principal>, AccountError> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let row: Option<TokenRow> = sqlx::query_as(
        "SELECT id, last_used_at, user_id, scopes, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1",
    )
    .bind(stored_form(token))
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row.filter(|r| r.revoked_at.is_none() && r.expires_at > now_micros()) else {
        return Ok(None);
    };
    let Some(user) = store::by_id(db.reader(), &row.user_id).await? else {
        return Ok(None);
    };
    if Status::parse(&user.status) != Some(Status::Active) {
        return Ok(None);
    }
    // Last use helps an administrator find forgotten tokens; a minute is precise enough
    // and spares a write on every call.
    let now = now_micros();
    if row.last_used_at.is_none_or(|t| now - t > 60_000_000) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(&row.id)
            .bind(now)
            .execute(db.writer())
            .await?;
    }
    let scopes = row
        .scopes
        .split_whitespace()
        .filter_map(Action::parse)
        .collect();
    let roles = store::roles(db.reader(), &user.id).await?;
    principal_for(crypto, user, roles, None, Some(scopes))
        .await
        .map(Some)
}
