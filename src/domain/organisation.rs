//! Organisations: certified youth-protection organisations taking part in the programme.

use super::error::{DomainError, DomainResult};
use super::lifecycle::Lifecycle;
use crate::string_enum;

string_enum! {
    /// `active` organisations may file requests and exit interviews; `inactive` ones have left
    /// the programme (their records stay).
    OrganisationState { Active => "active", Inactive => "inactive" }
}

string_enum! {
    OrganisationAction { Deactivate => "deactivate", Reactivate => "reactivate" }
}

impl Lifecycle for OrganisationState {
    type Action = OrganisationAction;
    const RESOURCE: &'static str = "organisation";

    fn next(self, action: OrganisationAction) -> Option<Self> {
        use OrganisationAction::*;
        use OrganisationState::*;
        match (self, action) {
            (Active, Deactivate) => Some(Inactive),
            (Inactive, Reactivate) => Some(Active),
            _ => None,
        }
    }
}

impl OrganisationState {
    /// Only an `active` organisation files new records (requests, exit interviews, buddies,
    /// API clients); one that left the programme keeps the ones it has.
    pub fn ensure_files_records(self) -> DomainResult<()> {
        if self != OrganisationState::Active {
            return Err(DomainError::conflict(
                "organisation-inactive",
                "Organisation inactive",
                "the organisation has left the programme and cannot file new records",
            ));
        }
        Ok(())
    }
}
