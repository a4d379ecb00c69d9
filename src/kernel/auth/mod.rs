//! Who is asking: users, roles, sessions and the principal every request carries.

pub mod password;
pub mod roles;
pub mod token;

use serde::Serialize;
use utoipa::ToSchema;

pub use roles::Role;

use crate::orgs::model::OrgId;

crate::typed_id!(
    /// A staff account.
    UserId
);

/// The signed-in user a request acts for.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Principal {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The organization an organization-scoped role belongs to.
    pub organization_id: Option<OrgId>,
    #[serde(skip)]
    #[schema(ignore)]
    pub session: Option<SessionRef>,
    /// For an API token: the actions it may take (within the owner's roles).
    #[serde(skip)]
    #[schema(ignore)]
    pub scopes: Option<Vec<crate::kernel::authz::Action>>,
}

/// How far a session's sign-in has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Signed in completely.
    Full,
    /// Password given; the second factor is still due.
    Mfa,
    /// Password given; the account must enrol a second factor first.
    Enrol,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Mfa => "mfa",
            Self::Enrol => "enrol",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Full, Self::Mfa, Self::Enrol]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The session a principal signed in with (absent for API tokens).
#[derive(Clone, Debug)]
pub struct SessionRef {
    /// The stored form of the session token.
    pub id: String,
    /// The token every form of this session must send back.
    pub csrf_token: String,
    pub stage: Stage,
}

impl Principal {
    /// Whether the sign-in is complete (API tokens always are).
    pub fn is_fully_signed_in(&self) -> bool {
        self.session.as_ref().is_none_or(|s| s.stage == Stage::Full)
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The role named in audit events: the first, as accounts usually have one.
    pub fn main_role(&self) -> Option<Role> {
        self.roles.first().copied()
    }
}
