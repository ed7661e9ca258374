//! Organisations: certified youth-protection organisations taking part in the programme.

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
