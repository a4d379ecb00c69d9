//! THE policy: every access decision in atip is made by `authorize`, and every route
//! declares the action it needs in `ROUTES`. Handlers and services call `authorize`;
//! stores never decide. A route with no entry here is refused (fail closed).

use std::fmt::Write as _;

use crate::kernel::auth::{Principal, Role};
use crate::orgs::model::OrgId;

/// Something a principal may want to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Finish a sign-in: give the second factor, or enrol one. The only action a
    /// half-signed-in session may take.
    CompleteSignIn,
    /// See one's own account (`/account`, `/api/v1/me`) and sign out.
    UseOwnAccount,
    /// List the organizations taking part in the program.
    ListOrganizations,
    /// Browse and export the audit log.
    ReadAuditLog,
    /// List staff accounts, invite new ones, lock and unlock them, change their
    /// roles, list and revoke API tokens. A provider administrator does this for
    /// their own organization's staff only.
    ManageUsers,
    /// Add organizations to the program.
    ManageOrganizations,
    /// Search the directory with every referral filter and open listings.
    SearchDirectory,
    /// See the street of a confidential location (a shelter) in a listing.
    ReadConfidentialAddress,
    /// Review applications and re-verify, suspend or relist directory listings.
    CurateDirectory,
    /// Find and download the library's internal (staff-only) documents.
    ReadInternalLibrary,
    /// Read and write hotline staff's notes on a directory listing.
    NoteListing,
    /// Add library documents and versions and change their descriptions.
    CurateLibrary,
    /// Read an organization's on-call staff and their phone numbers.
    ReadOnCallContacts,
    /// Record hotline contacts (calls, texts, chats) and the cases they open.
    TakeHotlineContacts,
    /// Read hotline contacts and cases, narratives and callers' numbers included.
    ReadHotlineRecords,
    /// See and take the alerts of cases at high indicators or involving a minor.
    SuperviseHotline,
    /// Read the hotline's aggregate indicators (counts, nothing about a person).
    ReadHotlineIndicators,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Self::UseOwnAccount,
        Self::ListOrganizations,
        Self::ReadAuditLog,
        Self::SearchDirectory,
        Self::ReadInternalLibrary,
    ];

    /// The stable identifier used for API token scopes.
    pub fn id(self) -> &'static str {
        match self {
            Self::CompleteSignIn => "complete-sign-in",
            Self::UseOwnAccount => "use-own-account",
            Self::ListOrganizations => "list-organizations",
            Self::ReadAuditLog => "read-audit-log",
            Self::ManageUsers => "manage-users",
            Self::ManageOrganizations => "manage-organizations",
            Self::SearchDirectory => "search-directory",
            Self::ReadConfidentialAddress => "read-confidential-address",
            Self::CurateDirectory => "curate-directory",
            Self::ReadInternalLibrary => "read-internal-library",
            Self::NoteListing => "note-listing",
            Self::CurateLibrary => "curate-library",
            Self::ReadOnCallContacts => "read-on-call-contacts",
            Self::TakeHotlineContacts => "take-hotline-contacts",
            Self::ReadHotlineRecords => "read-hotline-records",
            Self::SuperviseHotline => "supervise-hotline",
            Self::ReadHotlineIndicators => "read-hotline-indicators",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.id() == id)
    }

    /// Actions on records that belong to organizations, which organization-scoped
    /// roles take only on their own organization's.
    fn is_per_organization(self) -> bool {
        matches!(self, Self::ManageUsers | Self::ReadOnCallContacts)
    }

    fn name(self) -> &'static str {
        match self {
            Self::CompleteSignIn => "complete sign-in",
            Self::UseOwnAccount => "use own account",
            Self::ListOrganizations => "list organizations",
            Self::ReadAuditLog => "read audit log",
            Self::ManageUsers => "manage users",
            Self::ManageOrganizations => "manage organizations",
            Self::SearchDirectory => "search directory",
            Self::ReadConfidentialAddress => "read confidential address",
            Self::CurateDirectory => "curate directory",
            Self::ReadInternalLibrary => "read internal library",
            Self::NoteListing => "note listing",
            Self::CurateLibrary => "curate library",
            Self::ReadOnCallContacts => "read on-call contacts",
            Self::TakeHotlineContacts => "take hotline contacts",
            Self::ReadHotlineRecords => "read hotline records",
            Self::SuperviseHotline => "supervise hotline",
            Self::ReadHotlineIndicators => "read hotline indicators",
        }
    }
}

/// What an action is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// The capability as a whole (a route, a search of public data).
    Global,
    /// One record of one organization.
    Organization(OrgId),
    /// One record that belongs to no organization (the program's own staff):
    /// organization-scoped roles never reach it.
    Unowned,
}

/// Which records a listing may show: the query applies it, so a scoped reader
/// cannot even count another organization's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListScope {
    All,
    Organization(OrgId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Not allowed as things stand, but this principal may break the glass: open the
    /// record by giving a reason, which is audited and shown to administrators
    /// (`kernel::breakglass`). Anything that does not handle it refuses.
    BreakGlass,
    /// Nobody is signed in.
    SignInRequired,
    /// The password was given; the second factor (or enrolling one) is still due.
    SecondFactorRequired,
    Deny,
}

/// Decides whether `principal` may do `action` on `resource`.
pub fn authorize(principal: Option<&Principal>, action: Action, resource: Resource) -> Decision {
    let Some(principal) = principal else {
        return Decision::SignInRequired;
    };
    // A sign-in waiting for its second factor may only finish (or abandon) itself.
    if !principal.is_fully_signed_in() && action != Action::CompleteSignIn {
        return Decision::SecondFactorRequired;
    }
    // An API token carries only the scopes it was made with.
    if principal
        .scopes
        .as_ref()
        .is_some_and(|scopes| !scopes.contains(&action))
    {
        return Decision::Deny;
    }
    // One role must both allow the action and reach the record.
    let reaches = |role: Role| match resource {
        Resource::Global => true,
        // Organization-scoped roles reach only their own organization's records.
        Resource::Organization(org) => {
            !role.is_org_scoped() || principal.organization_id == Some(org)
        }
        Resource::Unowned => !role.is_org_scoped(),
    };
    if principal
        .roles
        .iter()
        .any(|role| allows(*role, action) && reaches(*role))
    {
        Decision::Allow
    } else if principal
        .roles
        .iter()
        .any(|role| may_break_glass(*role, action))
        && resource != Resource::Unowned
    {
        Decision::BreakGlass
    } else {
        Decision::Deny
    }
}

/// Who may open a record outside their scope by giving a reason: hotline supervisors,
/// when someone is in danger and a provider's on-call staff must be reached now.
fn may_break_glass(role: Role, action: Action) -> bool {
    matches!(
        (role, action),
        (Role::HotlineSupervisor, Action::ReadOnCallContacts)
    )
}

/// The records of `action` that `principal` may list, or `None` if it may list none.
pub fn listing_scope(principal: &Principal, action: Action) -> Option<ListScope> {
    if authorize(Some(principal), action, Resource::Global) != Decision::Allow {
        return None;
    }
    let allowing = principal.roles.iter().filter(|r| allows(**r, action));
    let mut scoped = false;
    for role in allowing {
        if !role.is_org_scoped() {
            return Some(ListScope::All);
        }
        scoped = true;
    }
    match principal.organization_id {
        Some(org) if scoped => Some(ListScope::Organization(org)),
        _ => None,
    }
}

/// Whether `principal` may give `role` to an account (or take it away). A provider
/// administrator hands out only its own organization's provider roles, so no one
/// can raise themself or their staff above what they were given.
pub fn may_grant(principal: &Principal, role: Role) -> bool {
    principal.roles.iter().any(|held| match held {
        Role::SystemAdmin => true,
        Role::ProviderAdmin => matches!(role, Role::ProviderCaseManager | Role::ProviderAdmin),
        _ => false,
    })
}

/// Whether some role of `roles` may do `action` (for scoping API tokens).
pub fn roles_allow(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|r| allows(*r, action))
}

/// The role table. The system administrator manages users, keys and configuration
/// and reads the audit log; by default it has no access to victim records.
fn allows(role: Role, action: Action) -> bool {
    match action {
        // The directory is public data; every staff role may use the full search.
        Action::CompleteSignIn
        | Action::UseOwnAccount
        | Action::ListOrganizations
        | Action::SearchDirectory
        // Internal library documents (protocols, training) are for every staff role.
        | Action::ReadInternalLibrary => true,
        Action::ReadAuditLog | Action::ManageOrganizations => matches!(role, Role::SystemAdmin),
        // A provider administrator keeps its own organization's staff accounts.
        Action::ManageUsers => matches!(role, Role::SystemAdmin | Role::ProviderAdmin),
        // Those who send callers to shelters, and those who vet them.
        // Curators keep the directory and the library.
        Action::CurateDirectory | Action::CurateLibrary => matches!(role, Role::DirectoryCurator),
        // A provider's own staff reach its on-call rota (others only by break-glass).
        Action::ReadOnCallContacts => {
            matches!(role, Role::ProviderAdmin | Role::ProviderCaseManager)
        }
        // The hotline's records are about people in danger: its own staff only.
        Action::TakeHotlineContacts | Action::ReadHotlineRecords => {
            matches!(role, Role::HotlineAdvocate | Role::HotlineSupervisor)
        }
        Action::SuperviseHotline => matches!(role, Role::HotlineSupervisor),
        // Counts for the program's reports: supervisors, the federal program officer and
        // analysts.
        Action::ReadHotlineIndicators => matches!(
            role,
            Role::HotlineSupervisor | Role::ProgramOfficer | Role::Analyst
        ),
        Action::ReadConfidentialAddress | Action::NoteListing => matches!(
            role,
            Role::HotlineAdvocate | Role::HotlineSupervisor | Role::DirectoryCurator
        ),
    }
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in principal allowed to do this action.
    Requires(Action),
}

pub struct RouteRule {
    pub method: &'static str,
    pub path: &'static str,
    pub policy: Policy,
}

const fn rule(method: &'static str, path: &'static str, policy: Policy) -> RouteRule {
    RouteRule {
        method,
        path,
        policy,
    }
}

/// Every route and its policy. The router refuses any route missing here, and the
/// matrix test calls each of them as every role.
pub const ROUTES: &[RouteRule] = &[
    rule("GET", "/", Policy::Public),
    rule("GET", "/healthz", Policy::Public),
    rule("GET", "/readyz", Policy::Public),
    // Restrict /metrics to the monitoring network at the proxy (see the operator guide).
    rule("GET", "/metrics", Policy::Public),
    rule("GET", "/static/{*path}", Policy::Public),
    rule("GET", "/api/openapi.json", Policy::Public),
    rule("GET", "/api/docs", Policy::Public),
    // The directory is published to everyone: listed records only, confidential
    // addresses redacted (directory::publish).
    rule("GET", "/find-help", Policy::Public),
    // Anyone may apply to be listed; nothing is published before a curator approves.
    rule("GET", "/directory/apply", Policy::Public),
    rule("POST", "/directory/apply", Policy::Public),
    rule(
        "GET",
        "/directory/curate",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule(
        "POST",
        "/directory/curate/{id}",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule(
        "GET",
        "/directory/curate/{id}/edit",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule(
        "POST",
        "/directory/curate/{id}/edit",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule(
        "POST",
        "/directory/curate/{id}/records",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule(
        "POST",
        "/directory/curate/{id}/delete",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule("GET", "/find-help/services/{id}", Policy::Public),
    rule(
        "GET",
        "/directory/search",
        Policy::Requires(Action::SearchDirectory),
    ),
    rule(
        "GET",
        "/directory/services/{id}",
        Policy::Requires(Action::SearchDirectory),
    ),
    rule(
        "POST",
        "/directory/services/{id}/notes",
        Policy::Requires(Action::NoteListing),
    ),
    // The library is public; internal documents are filtered by the policy
    // (read-internal-library) inside the service, and answer 404 to others.
    rule("GET", "/library", Policy::Public),
    rule("GET", "/library/documents/{id}", Policy::Public),
    rule(
        "GET",
        "/library/documents/{id}/versions/{number}",
        Policy::Public,
    ),
    rule(
        "GET",
        "/library/curate",
        Policy::Requires(Action::CurateLibrary),
    ),
    rule(
        "POST",
        "/library/curate",
        Policy::Requires(Action::CurateLibrary),
    ),
    rule(
        "GET",
        "/library/curate/{id}",
        Policy::Requires(Action::CurateLibrary),
    ),
    rule(
        "POST",
        "/library/curate/{id}",
        Policy::Requires(Action::CurateLibrary),
    ),
    rule(
        "POST",
        "/library/curate/{id}/versions",
        Policy::Requires(Action::CurateLibrary),
    ),
    // Individuals: listed people as they chose to be reached; staff see everyone
    // (decided in the handler by search-directory, and audited).
    rule("GET", "/api/v1/individuals", Policy::Public),
    rule("GET", "/api/v1/individuals/{id}", Policy::Public),
    rule(
        "GET",
        "/directory/individuals",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule(
        "POST",
        "/directory/individuals",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule(
        "GET",
        "/directory/individuals/{id}",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule(
        "POST",
        "/directory/individuals/{id}",
        Policy::Requires(Action::CurateDirectory),
    ),
    rule("GET", "/hsds", Policy::Public),
    rule("GET", "/hsds/", Policy::Public),
    rule("GET", "/hsds/services", Policy::Public),
    rule("GET", "/hsds/services/{id}", Policy::Public),
    rule("GET", "/hsds/organizations", Policy::Public),
    rule("GET", "/hsds/organizations/{id}", Policy::Public),
    rule("GET", "/hsds/service_at_locations", Policy::Public),
    rule("GET", "/hsds/service_at_locations/{id}", Policy::Public),
    rule("GET", "/hsds/taxonomies", Policy::Public),
    rule("GET", "/hsds/taxonomies/{id}", Policy::Public),
    rule("GET", "/hsds/taxonomy_terms", Policy::Public),
    rule("GET", "/hsds/taxonomy_terms/{id}", Policy::Public),
    rule("GET", "/sign-in", Policy::Public),
    rule("POST", "/sign-in", Policy::Public),
    // An invited person sets a password with a one-time code.
    rule("GET", "/sign-in/invitation", Policy::Public),
    rule("POST", "/sign-in/invitation", Policy::Public),
    rule(
        "GET",
        "/sign-in/mfa",
        Policy::Requires(Action::CompleteSignIn),
    ),
    rule(
        "POST",
        "/sign-in/mfa",
        Policy::Requires(Action::CompleteSignIn),
    ),
    rule(
        "GET",
        "/account/mfa",
        Policy::Requires(Action::CompleteSignIn),
    ),
    rule(
        "POST",
        "/account/mfa",
        Policy::Requires(Action::CompleteSignIn),
    ),
    rule(
        "POST",
        "/sign-out",
        Policy::Requires(Action::CompleteSignIn),
    ),
    rule("GET", "/account", Policy::Requires(Action::UseOwnAccount)),
    rule("GET", "/api/v1/me", Policy::Requires(Action::UseOwnAccount)),
    // The public chat: anyone may start one (opening its socket is rate limited).
    rule("GET", "/hotline/chat", Policy::Public),
    rule("GET", "/hotline/chat/socket", Policy::Public),
    rule(
        "GET",
        "/hotline/console",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/hotline/console/panels",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/hotline/console/events",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/hotline/cases/{id}",
        Policy::Requires(Action::ReadHotlineRecords),
    ),
    rule(
        "POST",
        "/hotline/cases/{id}",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/hotline/referrals/{id}/outcome",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/hotline/texts/{id}",
        Policy::Requires(Action::ReadHotlineRecords),
    ),
    rule(
        "POST",
        "/hotline/texts/{id}",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/hotline/coverage",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/hotline/shifts",
        Policy::Requires(Action::SuperviseHotline),
    ),
    rule(
        "GET",
        "/hotline/chats/{id}",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/hotline/chats/{id}/socket",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/hotline/chats/{id}/accept",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/hotline/chats/{id}/close",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/api/v1/hotline/cases/{id}",
        Policy::Requires(Action::ReadHotlineRecords),
    ),
    rule(
        "PUT",
        "/api/v1/hotline/cases/{id}",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/api/v1/hotline/contacts/{id}/technical-assistance",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/api/v1/hotline/contacts/{id}/resources",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/api/v1/hotline/technical-assistance",
        Policy::Requires(Action::ReadHotlineRecords),
    ),
    rule(
        "POST",
        "/api/v1/hotline/technical-assistance/{id}/answer",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/api/v1/hotline/case-typology",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/api/v1/hotline/contacts",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/api/v1/hotline/contacts/{id}",
        Policy::Requires(Action::ReadHotlineRecords),
    ),
    rule(
        "POST",
        "/api/v1/hotline/cases/{id}/screenings",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/api/v1/hotline/cases/{id}/reports",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/api/v1/hotline/alerts",
        Policy::Requires(Action::SuperviseHotline),
    ),
    rule(
        "POST",
        "/api/v1/hotline/alerts/{id}/acknowledge",
        Policy::Requires(Action::SuperviseHotline),
    ),
    rule(
        "POST",
        "/api/v1/hotline/shifts",
        Policy::Requires(Action::SuperviseHotline),
    ),
    rule(
        "GET",
        "/api/v1/hotline/coverage",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/api/v1/hotline/contacts/{id}/referrals",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/api/v1/hotline/referrals/{id}/outcome",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/api/v1/hotline/follow-ups",
        Policy::Requires(Action::ReadHotlineRecords),
    ),
    rule(
        "POST",
        "/api/v1/hotline/sms/threads/{id}/messages",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/api/v1/hotline/contacts/{id}/crisis",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/api/v1/hotline/contacts/{id}/reviews",
        Policy::Requires(Action::SuperviseHotline),
    ),
    rule(
        "POST",
        "/api/v1/hotline/cases/{id}/identifiers",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/api/v1/hotline/indicators",
        Policy::Requires(Action::ReadHotlineIndicators),
    ),
    // The advocate's pages: the same actions as the API routes they stand beside.
    rule(
        "GET",
        "/hotline/contacts/new",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/hotline/contacts",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/hotline/contacts/{id}",
        Policy::Requires(Action::ReadHotlineRecords),
    ),
    rule(
        "POST",
        "/hotline/contacts/{id}/referrals",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/hotline/contacts/{id}/crisis",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/hotline/contacts/{id}/resources",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "GET",
        "/hotline/cases/{id}/screening",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/hotline/cases/{id}/screening",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    rule(
        "POST",
        "/hotline/cases/{id}/reports",
        Policy::Requires(Action::TakeHotlineContacts),
    ),
    // Twilio signs every webhook with the account's auth token; the handler refuses
    // anything unsigned or wrongly signed (403).
    rule("POST", "/webhooks/twilio/sms", Policy::Public),
    rule("POST", "/webhooks/twilio/voice", Policy::Public),
    rule("POST", "/webhooks/twilio/voice/language", Policy::Public),
    rule("POST", "/webhooks/twilio/voice/answered", Policy::Public),
    rule("POST", "/webhooks/twilio/voice/dialed", Policy::Public),
    rule("POST", "/webhooks/twilio/voice/status", Policy::Public),
    rule("GET", "/admin/users", Policy::Requires(Action::ManageUsers)),
    rule(
        "POST",
        "/admin/users/{id}/status",
        Policy::Requires(Action::ManageUsers),
    ),
    rule(
        "POST",
        "/admin/users/{id}/roles",
        Policy::Requires(Action::ManageUsers),
    ),
    rule(
        "POST",
        "/admin/invitations",
        Policy::Requires(Action::ManageUsers),
    ),
    rule(
        "POST",
        "/admin/invitations/{id}/revoke",
        Policy::Requires(Action::ManageUsers),
    ),
    rule(
        "GET",
        "/admin/organizations",
        Policy::Requires(Action::ManageOrganizations),
    ),
    rule(
        "POST",
        "/admin/organizations",
        Policy::Requires(Action::ManageOrganizations),
    ),
    rule(
        "GET",
        "/admin/tokens",
        Policy::Requires(Action::ManageUsers),
    ),
    rule(
        "POST",
        "/admin/tokens/{id}/revoke",
        Policy::Requires(Action::ManageUsers),
    ),
    rule(
        "GET",
        "/admin/audit",
        Policy::Requires(Action::ReadAuditLog),
    ),
    // Program organizations for staff, and each one's on-call staff: its own staff
    // read them; a hotline supervisor only by breaking the glass with a reason.
    rule(
        "GET",
        "/organizations",
        Policy::Requires(Action::ListOrganizations),
    ),
    rule(
        "GET",
        "/organizations/{id}/on-call",
        Policy::Requires(Action::ReadOnCallContacts),
    ),
    rule(
        "POST",
        "/organizations/{id}/on-call",
        Policy::Requires(Action::ReadOnCallContacts),
    ),
    rule(
        "GET",
        "/admin/break-glass",
        Policy::Requires(Action::ReadAuditLog),
    ),
    rule(
        "GET",
        "/api/v1/organizations",
        Policy::Requires(Action::ListOrganizations),
    ),
    rule(
        "GET",
        "/api/v1/organizations/{id}",
        Policy::Requires(Action::ListOrganizations),
    ),
];

/// The policy for a matched route; HEAD follows GET.
pub fn policy_for(method: &str, path: &str) -> Option<Policy> {
    let method = if method == "HEAD" { "GET" } else { method };
    ROUTES
        .iter()
        .find(|r| r.method == method && r.path == path)
        .map(|r| r.policy)
}

/// Whether any method of `path` has a policy.
pub fn is_declared(path: &str) -> bool {
    ROUTES.iter().any(|r| r.path == path)
}

/// The route matrix as a Markdown table (`atip authz matrix`, docs/authz-matrix.md).
pub fn matrix_markdown() -> String {
    let mut out = String::from("| route | action | anonymous |");
    for role in Role::ALL {
        let _ = write!(out, " {role} |");
    }
    out.push_str("\n|---|---|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for route in ROUTES {
        let (action, anonymous) = match route.policy {
            Policy::Public => ("public", "yes"),
            Policy::Requires(a) => (a.name(), "sign in"),
        };
        let _ = write!(
            out,
            "| `{} {}` | {action} | {anonymous} |",
            route.method, route.path
        );
        for role in Role::ALL {
            let cell = match route.policy {
                Policy::Public => "yes",
                Policy::Requires(a)
                    if allows(role, a) && a.is_per_organization() && role.is_org_scoped() =>
                {
                    "own organization"
                }
                Policy::Requires(a) if allows(role, a) => "yes",
                Policy::Requires(a) if may_break_glass(role, a) => "break-glass",
                Policy::Requires(_) => "no",
            };
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::auth::UserId;

    fn principal(role: Role, org: Option<OrgId>) -> Principal {
        Principal {
            id: UserId::new(),
            email: "x@example.org".into(),
            display_name: "X".into(),
            roles: vec![role],
            organization_id: org,
            session: None,
            scopes: None,
        }
    }

    #[test]
    fn nobody_signed_in_must_sign_in() {
        for action in Action::ALL {
            assert_eq!(
                authorize(None, action, Resource::Global),
                Decision::SignInRequired
            );
        }
    }

    #[test]
    fn only_the_system_administrator_reads_the_audit_log() {
        for role in Role::ALL {
            let expected = if role == Role::SystemAdmin {
                Decision::Allow
            } else {
                Decision::Deny
            };
            assert_eq!(
                authorize(
                    Some(&principal(role, None)),
                    Action::ReadAuditLog,
                    Resource::Global
                ),
                expected,
                "{role}"
            );
        }
    }

    #[test]
    fn scoped_roles_reach_only_their_own_organization() {
        let mine = OrgId::new();
        let theirs = OrgId::new();
        let staff = principal(Role::ProviderCaseManager, Some(mine));
        let action = Action::ListOrganizations;
        assert_eq!(
            authorize(Some(&staff), action, Resource::Organization(mine)),
            Decision::Allow
        );
        assert_eq!(
            authorize(Some(&staff), action, Resource::Organization(theirs)),
            Decision::Deny
        );
        let advocate = principal(Role::HotlineAdvocate, None);
        assert_eq!(
            authorize(Some(&advocate), action, Resource::Organization(theirs)),
            Decision::Allow
        );
    }

    #[test]
    fn a_provider_administrator_lists_and_reaches_only_its_own_staff() {
        let mine = OrgId::new();
        let admin = principal(Role::ProviderAdmin, Some(mine));
        assert_eq!(
            listing_scope(&admin, Action::ManageUsers),
            Some(ListScope::Organization(mine))
        );
        let reach = |resource| authorize(Some(&admin), Action::ManageUsers, resource);
        assert_eq!(reach(Resource::Organization(mine)), Decision::Allow);
        assert_eq!(reach(Resource::Organization(OrgId::new())), Decision::Deny);
        assert_eq!(reach(Resource::Unowned), Decision::Deny);
        // Without an organization, a scoped role lists nothing.
        assert_eq!(
            listing_scope(&principal(Role::ProviderAdmin, None), Action::ManageUsers),
            None
        );
        let system = principal(Role::SystemAdmin, None);
        assert_eq!(
            listing_scope(&system, Action::ManageUsers),
            Some(ListScope::All)
        );
        assert_eq!(
            authorize(Some(&system), Action::ManageUsers, Resource::Unowned),
            Decision::Allow
        );
        assert_eq!(
            listing_scope(&principal(Role::HotlineAdvocate, None), Action::ManageUsers),
            None
        );
    }

    #[test]
    fn one_role_must_both_allow_the_action_and_reach_the_record() {
        // A provider administrator who is also an analyst: the analyst role reaches
        // every organization but may not manage users; the administrator role may,
        // in its own organization only. Neither lends the other what it lacks.
        let mine = OrgId::new();
        let mut both = principal(Role::ProviderAdmin, Some(mine));
        both.roles.push(Role::Analyst);
        assert_eq!(
            authorize(
                Some(&both),
                Action::ManageUsers,
                Resource::Organization(OrgId::new())
            ),
            Decision::Deny
        );
        assert_eq!(
            listing_scope(&both, Action::ManageUsers),
            Some(ListScope::Organization(mine))
        );
    }

    #[test]
    fn only_provider_roles_are_granted_by_a_provider_administrator() {
        let admin = principal(Role::ProviderAdmin, Some(OrgId::new()));
        let system = principal(Role::SystemAdmin, None);
        for role in Role::ALL {
            assert_eq!(
                may_grant(&admin, role),
                matches!(role, Role::ProviderCaseManager | Role::ProviderAdmin),
                "{role}"
            );
            assert!(may_grant(&system, role));
            assert!(!may_grant(&principal(Role::HotlineSupervisor, None), role));
        }
    }

    #[test]
    fn every_route_is_declared_once() {
        let mut seen = std::collections::BTreeSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} declared twice",
                r.method,
                r.path
            );
        }
    }
}
