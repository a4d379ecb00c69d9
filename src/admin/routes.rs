//! `/admin/users`, `/admin/organizations`, `/admin/tokens` and `/admin/audit`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::accounts::invitations::{self, InvitationError, Waiting};
use crate::accounts::model::{InvitationField, NewInvitation, Status};
use crate::accounts::routes::csrf_of;
use crate::accounts::service::{self as accounts, AccountError, AccountSummary};
use crate::accounts::tokens::{self, TokenListing};
use crate::app::{AppState, check_form_token};
use crate::kernel::audit::{self, Filter, Record};
use crate::kernel::auth::{Principal, Role, UserId};
use crate::kernel::authz::{self, Action, Decision, ListScope, Resource};
use crate::kernel::breakglass;
use crate::kernel::places;
use crate::kernel::time::rfc3339;
use crate::kernel::web::{HtmlError, Shell};
use crate::orgs::model::{
    NewOrganization, OrgId, OrgKind, OrgName, OrgRuleError, Organization, StateCode,
};
use crate::orgs::service::{self as orgs, OrgError};

fn render(page: &impl Template) -> Result<Html<String>, HtmlError> {
    page.render()
        .map(Html)
        .map_err(|e| HtmlError::Internal(e.into()))
}

/// Which parts of the administration an administrator may open, for its menu.
struct AdminNav {
    organizations: bool,
    audit: bool,
}

impl AdminNav {
    fn of(principal: &Principal) -> Self {
        let may =
            |action| authz::authorize(Some(principal), action, Resource::Global) == Decision::Allow;
        Self {
            organizations: may(Action::ManageOrganizations),
            audit: may(Action::ReadAuditLog),
        }
    }
}

/// A role as an account's roles form shows it: its id, whether the account holds
/// it, and whether this administrator may change that.
struct RoleChoice {
    id: &'static str,
    held: bool,
    grantable: bool,
}

/// An account, its roles as text, and its roles form.
type UserRow = (AccountSummary, String, Vec<RoleChoice>);

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    shell: Shell,
    nav: AdminNav,
    users: Vec<UserRow>,
    /// Invitations not yet accepted, with their expiry as text.
    waiting: Vec<(Waiting, String)>,
    /// The organizations an invitation may name; empty when the administrator's own
    /// is the only one (it is then used).
    organizations: Vec<Organization>,
    /// The roles this administrator may give.
    grantable: Vec<&'static str>,
    form: InvitationForm,
    csrf: String,
    /// The message id of what was wrong with the last form.
    problem: Option<&'static str>,
}

pub async fn users(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, HtmlError> {
    users_page(&state, &principal, InvitationForm::default(), None).await
}

async fn users_page(
    state: &AppState,
    principal: &Principal,
    form: InvitationForm,
    problem: Option<&'static str>,
) -> Result<Html<String>, HtmlError> {
    let users = accounts::list_accounts(&state.db, &state.crypto, principal)
        .await?
        .into_iter()
        .map(|u| {
            let roles = u
                .roles
                .iter()
                .map(|r| r.id())
                .collect::<Vec<_>>()
                .join(", ");
            let choices = Role::ALL
                .iter()
                .map(|r| RoleChoice {
                    id: r.id(),
                    held: u.roles.contains(r),
                    grantable: authz::may_grant(principal, *r),
                })
                .collect();
            (u, roles, choices)
        })
        .collect();
    let waiting = invitations::waiting(&state.db, principal)
        .await?
        .into_iter()
        .map(|w| {
            let expires = rfc3339(w.expires_at);
            (w, expires)
        })
        .collect();
    let organizations = match authz::listing_scope(principal, Action::ManageUsers) {
        Some(ListScope::All) => orgs::list(&state.db, None, 1, ORGANIZATIONS_SHOWN).await?.0,
        _ => Vec::new(),
    };
    render(&UsersPage {
        shell: Shell::current(),
        nav: AdminNav::of(principal),
        users,
        waiting,
        organizations,
        grantable: Role::ALL
            .iter()
            .filter(|r| authz::may_grant(principal, **r))
            .map(|r| r.id())
            .collect(),
        form,
        csrf: csrf_of(principal),
        problem,
    })
}

/// The invitation form, as sent (and sent back when something is wrong).
#[derive(Clone, Debug, Default)]
pub struct InvitationForm {
    email: String,
    display_name: String,
    roles: Vec<String>,
    organization: String,
}

impl InvitationForm {
    fn chose(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// Invites a person to a staff account: the page that answers shows the one-time
/// code once (never in a URL, never stored readable).
pub async fn invite(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let pairs = form_pairs(&body);
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    check_form_token(&state, &principal, &field("csrf")).await?;
    let mut form = InvitationForm {
        email: field("email"),
        display_name: field("display_name"),
        roles: pairs
            .iter()
            .filter(|(k, _)| k == "role")
            .map(|(_, v)| v.clone())
            .collect(),
        organization: field("organization"),
    };
    // A scoped administrator invites into its own organization only.
    if let Some(ListScope::Organization(own)) =
        authz::listing_scope(&principal, Action::ManageUsers)
    {
        form.organization = own.to_string();
    }
    let roles: Vec<&str> = form.roles.iter().map(String::as_str).collect();
    let problem =
        match NewInvitation::parse(&form.email, &form.display_name, &roles, &form.organization) {
            Err(InvitationField::Email) => "admin-invite-email",
            Err(InvitationField::DisplayName) => "admin-invite-name",
            Err(InvitationField::Role) => "admin-roles-none",
            Err(InvitationField::Organization) => "admin-roles-org",
            Ok(new) => match invitations::invite(&state.db, &state.crypto, &principal, new).await {
                Ok(invited) => {
                    return render(&InvitedPage {
                        shell: Shell::current(),
                        nav: AdminNav::of(&principal),
                        email: form.email.trim().to_lowercase(),
                        code: invited.code,
                        expires: rfc3339(invited.expires_at),
                    })
                    .map(IntoResponse::into_response);
                }
                Err(InvitationError::NotGrantable) => "admin-roles-grant",
                Err(InvitationError::Organization) => "admin-roles-org",
                Err(InvitationError::AccountExists) => "admin-invite-exists",
                Err(InvitationError::Waiting) => "admin-invite-waiting",
                Err(InvitationError::Account(e)) => return Err(e.into()),
            },
        };
    let page = users_page(&state, &principal, form, Some(problem)).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

#[derive(Template)]
#[template(path = "admin/invited.html")]
struct InvitedPage {
    shell: Shell,
    nav: AdminNav,
    email: String,
    code: String,
    expires: String,
}

pub async fn revoke_invitation(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    let revoked = invitations::revoke(&state.db, &principal, &id).await?;
    if !revoked {
        return Err(HtmlError::NotFound);
    }
    Ok(Redirect::to("/admin/users").into_response())
}

/// The fields of a form whose keys repeat (`role=a&role=b`), which `Form` cannot read.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Replaces an account's roles (`role` repeated, one per role granted).
pub async fn set_roles(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let pairs = form_pairs(&body);
    let sent = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    check_form_token(&state, &principal, sent).await?;
    let id: UserId = id.parse().map_err(|_| HtmlError::NotFound)?;
    let mut roles = Vec::new();
    for (_, value) in pairs.iter().filter(|(k, _)| k == "role") {
        roles.push(Role::parse(value).ok_or(HtmlError::BadRequest)?);
    }
    let problem =
        match accounts::set_roles_by(&state.db, &state.recent_sessions, &principal, id, &roles)
            .await
        {
            Ok(true) => return Ok(Redirect::to("/admin/users").into_response()),
            Ok(false) => return Err(HtmlError::NotFound),
            Err(AccountError::NoRole) => "admin-roles-none",
            Err(AccountError::OwnRoles) => "admin-roles-own",
            Err(AccountError::NotGrantable) => "admin-roles-grant",
            Err(AccountError::Organization) => "admin-roles-org",
            Err(other) => return Err(other.into()),
        };
    let page = users_page(&state, &principal, InvitationForm::default(), Some(problem)).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

#[derive(Template)]
#[template(path = "admin/organizations.html")]
struct OrganizationsPage {
    shell: Shell,
    nav: AdminNav,
    organizations: Vec<Organization>,
    grantees: Vec<Organization>,
    kinds: Vec<&'static str>,
    csrf: String,
    form: OrganizationForm,
    problem: Option<&'static str>,
}

/// The new-organization form, as sent (and sent back when something is wrong).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct OrganizationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    state: String,
}

/// The most organizations the page lists; the API pages through all of them.
const ORGANIZATIONS_SHOWN: u32 = 500;

async fn organizations_page(
    state: &AppState,
    principal: &Principal,
    form: OrganizationForm,
    problem: Option<&'static str>,
) -> Result<Html<String>, HtmlError> {
    let (organizations, _) = orgs::list(&state.db, None, 1, ORGANIZATIONS_SHOWN).await?;
    let grantees = organizations
        .iter()
        .filter(|o| o.kind == OrgKind::NationalGrantee)
        .cloned()
        .collect();
    render(&OrganizationsPage {
        shell: Shell::current(),
        nav: AdminNav::of(principal),
        organizations,
        grantees,
        kinds: OrgKind::ALL.iter().map(|k| k.as_str()).collect(),
        csrf: csrf_of(principal),
        form,
        problem,
    })
}

pub async fn organizations(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, HtmlError> {
    organizations_page(&state, &principal, OrganizationForm::default(), None).await
}

/// The form as a new organization, or the message id of the first thing wrong. The
/// place is found in the gazetteer, which gives its coordinates.
fn parse_organization(form: &OrganizationForm) -> Result<NewOrganization, &'static str> {
    let name = OrgName::parse(&form.name).map_err(|_| "admin-org-error-name")?;
    let kind = OrgKind::parse(&form.kind).ok_or("admin-org-error-kind")?;
    let state = StateCode::parse(&form.state).map_err(|_| "admin-org-error-state")?;
    let parent = match form.parent.trim() {
        "" => None,
        p => Some(p.parse::<OrgId>().map_err(|_| "admin-org-error-parent")?),
    };
    let place = places::find(form.city.trim(), state.as_str()).ok_or("admin-org-error-place")?;
    let org = NewOrganization::at(name, kind, parent, state, place);
    org.check().map_err(|e| match e {
        OrgRuleError::MissingParent => "admin-org-error-parent",
        OrgRuleError::Name => "admin-org-error-name",
        OrgRuleError::State => "admin-org-error-state",
    })?;
    Ok(org)
}

pub async fn create_organization(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Form(form): Form<OrganizationForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    let problem = match parse_organization(&form) {
        Ok(org) => match orgs::create_by(&state.db, &principal, org).await {
            Ok(_) => return Ok(Redirect::to("/admin/organizations").into_response()),
            Err(OrgError::DuplicateName) => "admin-org-error-duplicate",
            // The parent named does not exist.
            Err(OrgError::Db(sqlx::Error::Database(d))) if d.is_foreign_key_violation() => {
                "admin-org-error-parent"
            }
            Err(other) => return Err(HtmlError::Internal(other.into())),
        },
        Err(problem) => problem,
    };
    let page = organizations_page(&state, &principal, form, Some(problem)).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    shell: Shell,
    nav: AdminNav,
    /// Each token with its creation, expiry and last-use times as text.
    tokens: Vec<(TokenListing, String, String, String)>,
    csrf: String,
}

pub async fn tokens(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, HtmlError> {
    let tokens = tokens::list_managed(&state.db, &principal)
        .await?
        .into_iter()
        .map(|t| {
            let created = rfc3339(t.created_at);
            let expires = rfc3339(t.expires_at);
            let used = t.last_used_at.map(rfc3339).unwrap_or_default();
            (t, created, expires, used)
        })
        .collect();
    render(&TokensPage {
        shell: Shell::current(),
        nav: AdminNav::of(&principal),
        tokens,
        csrf: csrf_of(&principal),
    })
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    if !tokens::revoke(&state.db, &id, Some(&principal)).await? {
        return Err(HtmlError::NotFound);
    }
    Ok(Redirect::to("/admin/tokens").into_response())
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &form.csrf).await?;
    let id: UserId = id.parse().map_err(|_| HtmlError::NotFound)?;
    let status = match form.status.as_str() {
        "locked" => Status::Locked,
        "active" => Status::Active,
        _ => return Err(HtmlError::BadRequest),
    };
    if !accounts::set_status_by(&state.db, &state.recent_sessions, &principal, id, status).await? {
        return Err(HtmlError::NotFound);
    }
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    shell: Shell,
    nav: AdminNav,
    events: Vec<(Record, String)>,
    filter: Filter,
    older: Option<i64>,
}

const PAGE: i64 = 50;

pub async fn audit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, HtmlError> {
    let events = audit::search(&state.db, &filter, PAGE).await?;
    let older = (events.len() == usize::try_from(PAGE).unwrap_or(usize::MAX))
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    render(&AuditPage {
        shell: Shell::current(),
        nav: AdminNav::of(&principal),
        events: events
            .into_iter()
            .map(|e| {
                let at = rfc3339(e.at);
                (e, at)
            })
            .collect(),
        filter,
        older,
    })
}

#[derive(Template)]
#[template(path = "admin/break_glass.html")]
struct BreakGlassPage {
    shell: Shell,
    nav: AdminNav,
    /// Each grant with its start and end as text.
    grants: Vec<(breakglass::Grant, String, String)>,
}

/// Every recent break-glass grant with its reason, for review.
pub async fn break_glass(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, HtmlError> {
    let grants = breakglass::recent(&state.db, &state.crypto, &principal, 200)
        .await
        .map_err(|e| HtmlError::Internal(e.into()))?
        .into_iter()
        .map(|g| {
            let (at, until) = (rfc3339(g.created_at), rfc3339(g.expires_at));
            (g, at, until)
        })
        .collect();
    render(&BreakGlassPage {
        shell: Shell::current(),
        nav: AdminNav::of(&principal),
        grants,
    })
}
