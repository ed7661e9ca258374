//! Who performs an action. Written to every history record.

use crate::string_enum;

/// The acting party of a request. Authentication (a later step) decides which one a caller is;
/// until then every API caller is `Unauthenticated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Unauthenticated,
    Staff(String),
    ApiClient(String),
    Buddy(String),
    /// The service itself (scheduled work).
    System,
}

impl Actor {
    /// The [`Actor::kind`] of a case system's API client.
    pub const API_CLIENT: &'static str = "api_client";

    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Unauthenticated => "unauthenticated",
            Actor::Staff(_) => "staff",
            Actor::ApiClient(_) => Self::API_CLIENT,
            Actor::Buddy(_) => "buddy",
            Actor::System => "system",
        }
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::Staff(id) | Actor::ApiClient(id) | Actor::Buddy(id) => Some(id),
            Actor::Unauthenticated | Actor::System => None,
        }
    }
}

string_enum! {
    /// What an authenticated caller is.
    Role {
        Admin => "admin",
        Coordinator => "coordinator",
        CaseSystem => "case_system",
        /// A buddy signed in to the portal (`/buddy`): never an API caller.
        Buddy => "buddy",
    }
}

string_enum! {
    /// The roles a staff account can have.
    StaffRole { Coordinator => "coordinator", Admin => "admin" }
}

impl From<StaffRole> for Role {
    fn from(role: StaffRole) -> Self {
        match role {
            StaffRole::Admin => Role::Admin,
            StaffRole::Coordinator => Role::Coordinator,
        }
    }
}
