//! The roles of the program. Their identifiers are a stable interface: the CLI, the API
//! and configuration use them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    HotlineAdvocate,
    HotlineSupervisor,
    DirectoryCurator,
    ProviderCaseManager,
    ProviderAdmin,
    GranteeManager,
    CertificationSpecialist,
    LawEnforcementLiaison,
    BenefitsVerifier,
    RegionalPartner,
    CoalitionCoordinator,
    ProgramOfficer,
    Analyst,
    SystemAdmin,
}

impl Role {
    pub const ALL: [Role; 14] = [
        Self::HotlineAdvocate,
        Self::HotlineSupervisor,
        Self::DirectoryCurator,
        Self::ProviderCaseManager,
        Self::ProviderAdmin,
        Self::GranteeManager,
        Self::CertificationSpecialist,
        Self::LawEnforcementLiaison,
        Self::BenefitsVerifier,
        Self::RegionalPartner,
        Self::CoalitionCoordinator,
        Self::ProgramOfficer,
        Self::Analyst,
        Self::SystemAdmin,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::HotlineAdvocate => "hotline-advocate",
            Self::HotlineSupervisor => "hotline-supervisor",
            Self::DirectoryCurator => "directory-curator",
            Self::ProviderCaseManager => "provider-case-manager",
            Self::ProviderAdmin => "provider-admin",
            Self::GranteeManager => "grantee-manager",
            Self::CertificationSpecialist => "certification-specialist",
            Self::LawEnforcementLiaison => "law-enforcement-liaison",
            Self::BenefitsVerifier => "benefits-verifier",
            Self::RegionalPartner => "regional-partner",
            Self::CoalitionCoordinator => "coalition-coordinator",
            Self::ProgramOfficer => "program-officer",
            Self::Analyst => "analyst",
            Self::SystemAdmin => "system-admin",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }

    /// Roles whose holders belong to one organization and see only its records.
    pub fn is_org_scoped(self) -> bool {
        matches!(
            self,
            Self::ProviderCaseManager
                | Self::ProviderAdmin
                | Self::GranteeManager
                | Self::LawEnforcementLiaison
                | Self::BenefitsVerifier
                | Self::RegionalPartner
                | Self::CoalitionCoordinator
        )
    }
}

impl Role {
    /// Roles that can read personal data must use a second factor. The analyst sees
    /// aggregate numbers only.
    pub fn requires_mfa(self) -> bool {
        !matches!(self, Self::Analyst)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_ids_round_trip_and_match_serde() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.id()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.id());
        }
    }
}
