//! Account use cases: each decision audited in the same transaction as its change.

use std::time::Duration;

use scoped_futures::ScopedFutureExt;

use super::model::{Email, LOCK_AFTER, NewUser, Phone, SessionPolicy, Status, wait_after};
use super::recent::RecentSessions;
use super::store::{self, SealedContact, SessionRow, UserRow};
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::password::{self, Password, WeakPassword};
use crate::kernel::auth::token::{random_token, stored_form};
use crate::kernel::auth::{Principal, Role, SessionRef, Stage, UserId};
use crate::kernel::authz::{self, Action, Decision, Resource};
use crate::kernel::breakglass;
use crate::kernel::crypto::{Crypto, CryptoError, Scope};
use crate::kernel::db::{Db, Retryable};
use crate::kernel::time::{micros, now_micros};
use crate::orgs::model::OrgId;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Weak(#[from] WeakPassword),
    #[error("an account with this email already exists")]
    DuplicateEmail,
    #[error("an organization-scoped role needs --org, and the organization must exist")]
    Organization,
    #[error("no account has this email")]
    UnknownEmail,
    #[error("at least one role is needed")]
    NoRole,
    #[error("administrators cannot change their own roles; another administrator must")]
    OwnRoles,
    #[error("this administrator may not give or take away one of these roles")]
    NotGrantable,
    #[error("the invitation was used or revoked meanwhile")]
    InvitationGone,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Keys(#[from] CryptoError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub(super) fn scope_of(organization: Option<OrgId>) -> Scope {
    organization.map_or(Scope::System, Scope::Organization)
}

/// The account with this on-call phone number, found by its blind index.
pub async fn find_by_phone(
    db: &Db,
    crypto: &Crypto,
    phone: &Phone,
) -> Result<Option<UserId>, AccountError> {
    let index = crypto.blind_index("phone", phone.as_str()).await?;
    let id = store::id_by_phone_index(db.reader(), &index).await?;
    Ok(id.and_then(|id| id.parse().ok()))
}

/// An account's name and on-call phone, opened for showing to the account itself.
pub async fn contact(
    db: &Db,
    crypto: &Crypto,
    id: UserId,
) -> Result<Option<(String, Option<String>)>, AccountError> {
    let row_id = id.to_string();
    let Some(user) = store::by_id(db.reader(), &row_id).await? else {
        return Ok(None);
    };
    let phone: Option<String> = sqlx::query_scalar("SELECT phone FROM users WHERE id = $1")
        .bind(&row_id)
        .fetch_one(db.reader())
        .await?;
    let name = crypto
        .open_field("users", "display_name", &row_id, &user.display_name)
        .await?;
    let phone = match phone {
        Some(sealed) => Some(
            crypto
                .open_field("users", "phone", &row_id, &sealed)
                .await?,
        ),
        None => None,
    };
    Ok(Some((name, phone)))
}

impl Retryable for AccountError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Db(e) if e.is_retryable())
    }
}

/// Creates an account (from the CLI or the demo). The password must be strong.
pub async fn create_user(db: &Db, crypto: &Crypto, user: NewUser) -> Result<UserId, AccountError> {
    insert_account(db, crypto, user, None).await
}

/// Creates an account; with `invitation`, the invitation it answers is used up in
/// the same transaction, and nothing is created if it was used or revoked meanwhile.
pub(super) async fn insert_account(
    db: &Db,
    crypto: &Crypto,
    user: NewUser,
    invitation: Option<&str>,
) -> Result<UserId, AccountError> {
    if user.roles.is_empty() {
        return Err(AccountError::NoRole);
    }
    if user.roles.iter().any(|r| r.is_org_scoped()) && user.organization.is_none() {
        return Err(AccountError::Organization);
    }
    password::check_strength(&user.password, &[user.email.as_str(), &user.display_name])?;
    let hash = password::hash(&user.password).await?;
    let id = UserId::new();
    let row_id = id.to_string();
    let scope = scope_of(user.organization);
    let sealed = SealedContact {
        display_name: crypto
            .seal(scope, "users", "display_name", &row_id, &user.display_name)
            .await?,
        phone: match &user.phone {
            Some(p) => Some(
                crypto
                    .seal(scope, "users", "phone", &row_id, p.as_str())
                    .await?,
            ),
            None => None,
        },
        phone_index: match &user.phone {
            Some(p) => Some(crypto.blind_index("phone", p.as_str()).await?),
            None => None,
        },
    };
    db.transaction(|tx| {
        async {
            let now = now_micros();
            store::insert_user(
                tx,
                &id.to_string(),
                user.email.as_str(),
                &sealed,
                &hash,
                user.organization.map(|o| o.to_string()),
                now,
            )
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => AccountError::DuplicateEmail,
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    AccountError::Organization
                }
                _ => AccountError::Db(e),
            })?;
            for role in &user.roles {
                store::insert_role(tx, &id.to_string(), *role).await?;
            }
            if let Some(invitation) = invitation
                && !super::invitations::use_up(tx, invitation).await?
            {
                return Err(AccountError::InvitationGone);
            }
            let event = Event {
                action: "user.create",
                object_type: Some("user"),
                object_id: Some(id.to_string()),
                org_id: user.organization.map(|o| o.to_string()),
                // The person who accepts an invitation creates their own account.
                actor_id: invitation.map(|_| id.to_string()),
                detail: invitation.map(|i| format!("invitation={i}")),
                ..Event::default()
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok(id)
        }
        .scope_boxed()
    })
    .await
}

/// What a sign-in attempt came to.
#[derive(Debug)]
pub enum SignIn {
    /// Password accepted: the cookie value to set, and how far the sign-in has come.
    Session { token: String, stage: Stage },
    /// Wrong email or password, or an account that is locked or disabled. One answer
    /// for all, so the form does not tell which emails have accounts.
    Refused,
    /// Too many failures in a row: try again after this long.
    Wait(Duration),
}

pub async fn sign_in(
    db: &Db,
    email: &str,
    password: &Password,
    policy: SessionPolicy,
) -> Result<SignIn, AccountError> {
    let user = match Email::parse(email) {
        Ok(email) => store::by_email(db.reader(), email.as_str()).await?,
        Err(_) => None,
    };
    let now = now_micros();
    if let Some(u) = &user {
        let wait = wait_after(u.failed_signins);
        let waited = now - u.last_failed_at.unwrap_or(0);
        if u.status == "active" && micros(wait) > waited {
            record(db, Some(u), "sign_in", Outcome::Denied).await?;
            let left = micros(wait) - waited;
            return Ok(SignIn::Wait(Duration::from_micros(
                u64::try_from(left).unwrap_or(1),
            )));
        }
    }
    let matched =
        password::verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let user = match (user, matched) {
        (Some(user), true) => user,
        (user, _) => {
            // Unknown emails are audited without an object: the attempt, not the guess.
            record_failure(db, user.as_ref()).await?;
            return Ok(SignIn::Refused);
        }
    };
    if user.status != Status::Active.as_str() {
        record(db, Some(&user), "sign_in", Outcome::Denied).await?;
        return Ok(SignIn::Refused);
    }
    let confirmed = store::totp(db.reader(), &user.id)
        .await?
        .is_some_and(|t| t.confirmed_at.is_some());
    let roles = store::roles(db.reader(), &user.id).await?;
    let stage = if confirmed {
        Stage::Mfa
    } else if policy.require_mfa && roles.iter().any(|r| r.requires_mfa()) {
        Stage::Enrol
    } else {
        Stage::Full
    };
    let session = new_session(&user.id, stage, policy)?;
    db.transaction(|tx| {
        async {
            store::reset_failures(tx, &user.id, now).await?;
            store::insert_session(tx, &session.row, now).await?;
            audit::append(tx, &user_event(&user, "sign_in"), Outcome::Success).await?;
            Ok::<_, AccountError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(SignIn::Session {
        token: session.token,
        stage,
    })
}

/// A session to store, and the token for its cookie.
pub(super) struct NewSession {
    pub token: String,
    pub row: SessionRow,
}

/// A fresh session id for every sign-in step, so an id seen before sign-in (or
/// before the second factor) is worth nothing after it.
pub(super) fn new_session(
    user_id: &str,
    stage: Stage,
    policy: SessionPolicy,
) -> anyhow::Result<NewSession> {
    let token = random_token()?;
    let now = now_micros();
    Ok(NewSession {
        row: SessionRow {
            id: stored_form(&token),
            user_id: user_id.to_owned(),
            stage: stage.as_str().to_owned(),
            csrf_token: random_token()?,
            last_seen_at: now,
            expires_at: now + micros(policy.absolute),
        },
        token,
    })
}

pub(super) fn user_event<'a>(user: &UserRow, action: &'a str) -> Event<'a> {
    Event {
        actor_id: Some(user.id.clone()),
        org_id: user.org_id.clone(),
        action,
        object_type: Some("user"),
        object_id: Some(user.id.clone()),
        ..Event::default()
    }
}

async fn record(
    db: &Db,
    user: Option<&UserRow>,
    action: &str,
    outcome: Outcome,
) -> Result<(), AccountError> {
    db.transaction(|tx| {
        async {
            let event = user.map_or_else(
                || Event {
                    action,
                    ..Event::default()
                },
                |u| user_event(u, action),
            );
            audit::append(tx, &event, outcome).await?;
            Ok::<_, AccountError>(())
        }
        .scope_boxed()
    })
    .await
}

async fn record_failure(db: &Db, user: Option<&UserRow>) -> Result<(), AccountError> {
    db.transaction(|tx| {
        async {
            let now = now_micros();
            let event = match user {
                Some(u) => {
                    store::record_failure(tx, &u.id, now, LOCK_AFTER).await?;
                    user_event(u, "sign_in")
                }
                None => Event {
                    action: "sign_in",
                    ..Event::default()
                },
            };
            audit::append(tx, &event, Outcome::Failure).await?;
            Ok::<_, AccountError>(())
        }
        .scope_boxed()
    })
    .await
}

/// The principal for a session cookie, if the session is alive and its account active.
/// A session idle too long or past its absolute end is deleted. One checked within
/// the last seconds is taken from `recent` (see [`super::recent`]).
pub async fn resolve_session(
    db: &Db,
    crypto: &Crypto,
    token: &str,
    policy: SessionPolicy,
    recent: &RecentSessions,
) -> Result<Option<Principal>, AccountError> {
    let id = stored_form(token);
    let now = now_micros();
    if let Some(principal) = recent.get(&id, now, policy.idle) {
        return Ok(Some(principal));
    }
    let turn = recent.turn();
    let Some((session, user, roles)) = store::session_with_user(db.reader(), &id).await? else {
        return Ok(None);
    };
    if now >= session.expires_at || now - session.last_seen_at >= micros(policy.idle) {
        db.transaction(|tx| store::delete_session(tx, &id).scope_boxed())
            .await?;
        return Ok(None);
    }
    if user.status != Status::Active.as_str() {
        return Ok(None);
    }
    // Saving every request's time would make every read a write; a minute is precise
    // enough for a 15-minute idle limit.
    let mut last_seen_at = session.last_seen_at;
    if now - last_seen_at > 60_000_000 {
        store::touch_session(db.writer(), &id, now).await?;
        last_seen_at = now;
    }
    let expires_at = session.expires_at;
    let session = SessionRef {
        id,
        csrf_token: session.csrf_token,
        stage: Stage::parse(&session.stage).unwrap_or(Stage::Mfa),
    };
    let principal = principal_for(crypto, user, roles, Some(session), None).await?;
    recent.put(turn, &principal, expires_at, last_seen_at);
    Ok(Some(principal))
}

/// The principal of an active account, with its roles and its name opened.
pub(super) async fn principal_for(
    crypto: &Crypto,
    user: UserRow,
    roles: Vec<crate::kernel::auth::Role>,
    session: Option<SessionRef>,
    scopes: Option<Vec<crate::kernel::authz::Action>>,
) -> Result<Principal, AccountError> {
    let display_name = crypto
        .open_field("users", "display_name", &user.id, &user.display_name)
        .await?;
    Ok(Principal {
        id: user
            .id
            .parse()
            .map_err(|e: uuid::Error| anyhow::anyhow!("users.id: {e}"))?,
        email: user.email,
        display_name,
        roles,
        organization_id: user.org_id.and_then(|o| o.parse().ok()),
        session,
        scopes,
    })
}

/// Ends this session, or every session of the account.
pub async fn sign_out(
    db: &Db,
    recent: &RecentSessions,
    principal: &Principal,
    everywhere: bool,
) -> Result<(), AccountError> {
    let user_id = principal.id.to_string();
    db.transaction(|tx| {
        async {
            if everywhere {
                store::delete_user_sessions(tx, &user_id).await?;
            } else if let Some(session) = &principal.session {
                store::delete_session(tx, &session.id).await?;
            }
            let action = if everywhere {
                "sign_out.everywhere"
            } else {
                "sign_out"
            };
            let event = Event {
                object_type: Some("user"),
                object_id: Some(user_id.clone()),
                ..Event::by(principal, action)
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, AccountError>(())
        }
        .scope_boxed()
    })
    .await?;
    if everywhere {
        recent.forget_account(principal.id);
    } else if let Some(session) = &principal.session {
        recent.forget(&session.id);
    }
    Ok(())
}

/// Locks, unlocks (to active) or disables an account; ends its sessions unless unlocking.
pub async fn set_status(db: &Db, email: &str, status: Status) -> Result<(), AccountError> {
    let email = Email::parse(email).map_err(|_| AccountError::UnknownEmail)?;
    let user = store::by_email(db.reader(), email.as_str())
        .await?
        .ok_or(AccountError::UnknownEmail)?;
    apply_status(db, &user, status, None).await
}

/// The account `admin` may manage, or `None` if there is none it may see: an
/// account of another organization answers as if it did not exist.
async fn managed_account(
    db: &Db,
    admin: &Principal,
    id: UserId,
) -> Result<Option<UserRow>, AccountError> {
    let Some(user) = store::by_id(db.reader(), &id.to_string()).await? else {
        return Ok(None);
    };
    if authz::authorize(Some(admin), Action::ManageUsers, resource_of(&user)) == Decision::Allow {
        return Ok(Some(user));
    }
    audit::refused(db, admin, Action::ManageUsers, "user", user.id).await?;
    Ok(None)
}

/// What an account is, to the policy: its organization's record, or the program's.
pub(super) fn resource_of(user: &UserRow) -> Resource {
    match user.org_id.as_deref().map(str::parse::<OrgId>) {
        Some(Ok(org)) => Resource::Organization(org),
        _ => Resource::Unowned,
    }
}

/// The same on behalf of an administrator (audited as theirs); false if no such
/// account, or none this administrator may manage.
pub async fn set_status_by(
    db: &Db,
    recent: &RecentSessions,
    admin: &Principal,
    id: UserId,
    status: Status,
) -> Result<bool, AccountError> {
    let Some(user) = managed_account(db, admin, id).await? else {
        return Ok(false);
    };
    apply_status(db, &user, status, Some(admin)).await?;
    recent.forget_account(id);
    Ok(true)
}

/// Replaces the roles of an account on behalf of an administrator: a permission
/// change, audited with the roles granted. The account's sessions end, so no page
/// keeps showing what it may no longer do. False if no such account (or none this
/// administrator may manage). Every role given or taken away must be one the
/// administrator may grant.
pub async fn set_roles_by(
    db: &Db,
    recent: &RecentSessions,
    admin: &Principal,
    id: UserId,
    roles: &[Role],
) -> Result<bool, AccountError> {
    if roles.is_empty() {
        return Err(AccountError::NoRole);
    }
    if id == admin.id {
        return Err(AccountError::OwnRoles);
    }
    let Some(user) = managed_account(db, admin, id).await? else {
        return Ok(false);
    };
    if roles.iter().any(|r| r.is_org_scoped()) && user.org_id.is_none() {
        return Err(AccountError::Organization);
    }
    let held = store::roles(db.reader(), &user.id).await?;
    let mut changed = held
        .iter()
        .filter(|r| !roles.contains(r))
        .chain(roles.iter().filter(|r| !held.contains(r)));
    if changed.any(|r| !authz::may_grant(admin, *r)) {
        return Err(AccountError::NotGrantable);
    }
    let granted = roles.iter().map(|r| r.id()).collect::<Vec<_>>().join(" ");
    let event = Event {
        object_type: Some("user"),
        object_id: Some(user.id.clone()),
        detail: Some(format!("roles={granted}")),
        ..Event::by(admin, "user.roles")
    };
    db.transaction(|tx| {
        async {
            store::delete_roles(tx, &user.id).await?;
            for role in roles {
                store::insert_role(tx, &user.id, *role).await?;
            }
            store::delete_user_sessions(tx, &user.id).await?;
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, AccountError>(())
        }
        .scope_boxed()
    })
    .await?;
    recent.forget_account(id);
    Ok(true)
}

/// Changes the status; `admin` is absent when the CLI (an operator) does it.
async fn apply_status(
    db: &Db,
    user: &UserRow,
    status: Status,
    admin: Option<&Principal>,
) -> Result<(), AccountError> {
    let action = match status {
        Status::Active => "user.unlock",
        Status::Locked => "user.lock",
        Status::Disabled => "user.disable",
    };
    let event = match admin {
        Some(admin) => Event {
            object_type: Some("user"),
            object_id: Some(user.id.clone()),
            ..Event::by(admin, action)
        },
        None => Event {
            actor_id: None,
            ..user_event(user, action)
        },
    };
    db.transaction(|tx| {
        async {
            store::set_status(tx, &user.id, status.as_str(), now_micros()).await?;
            if status != Status::Active {
                store::delete_user_sessions(tx, &user.id).await?;
            }
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, AccountError>(())
        }
        .scope_boxed()
    })
    .await
}

/// The current status of an account, for the CLI and tests.
pub async fn status(db: &Db, email: &str) -> Result<Option<Status>, AccountError> {
    let email = Email::parse(email).map_err(|_| AccountError::UnknownEmail)?;
    Ok(store::by_email(db.reader(), email.as_str())
        .await?
        .and_then(|u| Status::parse(&u.status)))
}

impl From<AccountError> for crate::kernel::web::HtmlError {
    fn from(err: AccountError) -> Self {
        // The forms that reach these paths have already been checked; whatever is
        // left is ours to fix.
        Self::Internal(anyhow::Error::new(err))
    }
}

/// An account as the administration list shows it.
pub struct AccountSummary {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub status: String,
    pub organization_id: Option<String>,
}

/// The roles an account holds (none for an unknown id).
pub async fn roles_of(db: &Db, user: UserId) -> Result<Vec<Role>, AccountError> {
    Ok(store::roles(db.reader(), &user.to_string()).await?)
}

/// Active accounts holding one of `roles`, as (id, name), for a supervisor's schedule.
/// The names are opened, so the reading is audited.
pub async fn holders_of(
    db: &Db,
    crypto: &Crypto,
    reader: &Principal,
    roles: &[Role],
) -> Result<Vec<(String, String)>, AccountError> {
    let event = Event {
        object_type: Some("user"),
        detail: Some("holders of hotline roles".to_owned()),
        ..Event::by(reader, "user.list")
    };
    db.transaction(|tx| audit::append(tx, &event, Outcome::Success).scope_boxed())
        .await?;
    let mut out = Vec::new();
    for (id, sealed) in store::active_holders(db.reader(), roles).await? {
        let name = crypto
            .open_field("users", "display_name", &id, &sealed)
            .await?;
        out.push((id, name));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// Every account `reader` may manage (a provider administrator: its organization's),
/// by email, with names opened. The read of those personal fields is audited.
pub async fn list_accounts(
    db: &Db,
    crypto: &Crypto,
    reader: &Principal,
) -> Result<Vec<AccountSummary>, AccountError> {
    let Some(scope) = authz::listing_scope(reader, Action::ManageUsers) else {
        return Ok(Vec::new());
    };
    let event = Event {
        object_type: Some("user"),
        ..Event::by(reader, "user.list")
    };
    db.transaction(|tx| audit::append(tx, &event, Outcome::Success).scope_boxed())
        .await?;
    let mut out = Vec::new();
    for user in store::all(db.reader(), scope).await? {
        let roles = store::roles(db.reader(), &user.id).await?;
        let display_name = crypto
            .open_field("users", "display_name", &user.id, &user.display_name)
            .await?;
        out.push(AccountSummary {
            id: user.id,
            email: user.email,
            display_name,
            roles,
            status: user.status,
            organization_id: user.org_id,
        });
    }
    Ok(out)
}

/// One of an organization's on-call staff, opened.
pub struct OnCallContact {
    pub name: String,
    pub phone: String,
}

/// What asking for an organization's on-call staff came to.
pub enum OnCall {
    /// The staff, and the break-glass grant they were opened under, if any.
    Contacts {
        staff: Vec<OnCallContact>,
        grant: Option<String>,
    },
    /// The reader may break the glass: a reason is due first.
    ReasonRequired,
    /// Nothing this reader may open.
    Hidden,
}

/// `org`'s on-call staff with their phones, for its own staff, or for a supervisor
/// holding a break-glass grant. Every opening is audited, with the grant if any.
pub async fn on_call(
    db: &Db,
    crypto: &Crypto,
    reader: &Principal,
    org: OrgId,
) -> Result<OnCall, AccountError> {
    let action = Action::ReadOnCallContacts;
    let grant = match authz::authorize(Some(reader), action, Resource::Organization(org)) {
        Decision::Allow => None,
        Decision::BreakGlass => match breakglass::active(db, reader, action, org).await? {
            Some(grant) => Some(grant),
            None => return Ok(OnCall::ReasonRequired),
        },
        _ => {
            audit::refused(db, reader, action, "organization", org.to_string()).await?;
            return Ok(OnCall::Hidden);
        }
    };
    let mut staff = Vec::new();
    for (id, name, phone) in store::on_call(db.reader(), &org.to_string()).await? {
        staff.push(OnCallContact {
            name: crypto
                .open_field("users", "display_name", &id, &name)
                .await?,
            phone: crypto.open_field("users", "phone", &id, &phone).await?,
        });
    }
    let event = Event {
        object_type: Some("organization"),
        object_id: Some(org.to_string()),
        detail: grant.as_ref().map(|g| format!("break-glass={g}")),
        ..Event::by(reader, "organization.on_call.read")
    };
    db.transaction(|tx| audit::append(tx, &event, Outcome::Success).scope_boxed())
        .await?;
    Ok(OnCall::Contacts { staff, grant })
}
