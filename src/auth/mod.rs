//! Who may do what. Every request is matched against the [`policy`] table before it reaches a
//! handler: public routes pass, others need a valid bearer token of a role the rule allows, and a
//! route without a rule is refused (deny by default). Object-level checks (a case system sees
//! only its own organisation's requests) are made by the handlers through [`Identity::scope`].

pub mod cache;
pub mod credentials;
pub mod login;
pub mod middleware;
pub mod password;
pub mod policy;
pub mod token;

use crate::domain::actor::Actor;
pub use crate::domain::actor::{Role, StaffRole};
use crate::domain::ids::OrganisationId;

/// Why a case system may not name an organisation in a body.
pub const ORGANISATION_FROM_KEY: &str = "must be left out: it is the organisation of your API key";

/// An authenticated caller, put in the request's extensions by the middleware.
#[derive(Debug, Clone)]
pub struct Identity {
    pub role: Role,
    pub actor: Actor,
    /// The organisation of a case system; `None` for staff.
    pub organisation_id: Option<OrganisationId>,
    /// The staff session or API key the request was made with.
    pub credential_id: String,
    /// `X-On-Behalf-Of`: the person at the case system for whom the call is made.
    pub on_behalf_of: Option<String>,
}

impl Identity {
    /// The organisation the caller is confined to: `Some` for case systems, `None` for staff.
    pub fn scope(&self) -> Option<&OrganisationId> {
        self.organisation_id.as_ref()
    }
}
