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
}

/// The session a principal signed in with (absent for API tokens).
#[derive(Clone, Debug)]
pub struct SessionRef {
    /// The stored form of the session token.
    pub id: String,
    /// The token every form of this session must send back.
    pub csrf_token: String,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The role named in audit events: the first, as accounts usually have one.
    pub fn main_role(&self) -> Option<Role> {
        self.roles.first().copied()
    }
}
