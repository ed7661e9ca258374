//! The access policy: one rule per route (method and route pattern), in one table. A route
//! without a rule is refused with 403, whoever calls it (deny by default); a unit test and an
//! integration test check that every route of the app has a rule.
//!
//! The same table tells the audit trail which routes touch personal data of clients or buddies,
//! and the OpenAPI document which security each operation needs.

use super::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials.
    Public,
    /// Callers holding one of these roles.
    Roles(&'static [Role]),
}

/// What kind of access to personal data a route is, for the NEN 7513 audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Create,
    Read,
    Update,
    Delete,
    Search,
    Export,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Read => "read",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Search => "search",
            AuditAction::Export => "export",
        }
    }
}

/// A route that touches personal data: what it does, and to which kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audited {
    pub action: AuditAction,
    pub object_type: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    pub pattern: &'static str,
    pub access: Access,
    pub audit: Option<Audited>,
}

pub const ADMIN: &[Role] = &[Role::Admin];
pub const STAFF: &[Role] = &[Role::Admin, Role::Coordinator];
pub const ANY_ROLE: &[Role] = &[Role::Admin, Role::Coordinator, Role::CaseSystem];

const fn rule(method: &'static str, pattern: &'static str, access: Access) -> Rule {
    Rule {
        method,
        pattern,
        access,
        audit: None,
    }
}

const fn audited(
    method: &'static str,
    pattern: &'static str,
    access: Access,
    action: AuditAction,
    object_type: &'static str,
) -> Rule {
    Rule {
        method,
        pattern,
        access,
        audit: Some(Audited {
            action,
            object_type,
        }),
    }
}

use Access::{Public, Roles};
use AuditAction::{Create, Delete, Export, Read, Search, Update};

pub const RULES: &[Rule] = &[
    // Probes, the contract and its documentation.
    rule("GET", "/v1/health/live", Public),
    rule("GET", "/v1/health/ready", Public),
    rule("GET", "/health/live", Public),
    rule("GET", "/health/ready", Public),
    rule("GET", "/openapi.json", Public),
    rule("GET", "/v1/openapi.json", Public),
    rule("GET", "/docs", Public),
    rule("GET", "/docs/{_:.*}", Public),
    // A buddy's answer to a proposal: the token in the path is the credential (see `respond`);
    // the handler names the buddy and the pairing for the audit record.
    audited("GET", "/respond/{token}", Public, Read, "pairing"),
    audited("POST", "/respond/{token}", Public, Update, "pairing"),
    // Sessions.
    rule("POST", "/v1/auth/login", Public),
    rule("POST", "/v1/auth/logout", Roles(STAFF)),
    rule("GET", "/v1/auth/me", Roles(ANY_ROLE)),
    // Administration.
    rule("POST", "/v1/staff", Roles(ADMIN)),
    rule("GET", "/v1/staff", Roles(ADMIN)),
    rule("GET", "/v1/staff/{id}", Roles(ADMIN)),
    rule("PATCH", "/v1/staff/{id}", Roles(ADMIN)),
    rule("POST", "/v1/api-clients", Roles(ADMIN)),
    rule("GET", "/v1/api-clients", Roles(ADMIN)),
    rule("GET", "/v1/api-clients/{id}", Roles(ADMIN)),
    rule("POST", "/v1/api-clients/{id}/revoke", Roles(ADMIN)),
    rule("POST", "/v1/api-clients/{id}/keys", Roles(ADMIN)),
    rule(
        "POST",
        "/v1/api-clients/{id}/keys/{key_id}/revoke",
        Roles(ADMIN),
    ),
    // The audit trail: ids and pseudonymous references only; reading it is not itself audited.
    rule("GET", "/v1/audit", Roles(ADMIN)),
    // The mail outbox: state and errors only, never recipients or contents.
    rule("GET", "/v1/outbox", Roles(ADMIN)),
    rule("POST", "/v1/outbox/{id}/retry", Roles(ADMIN)),
    // Reports: counts and durations, buddies by id only; no personal data.
    rule("GET", "/v1/reports/summary", Roles(STAFF)),
    // Organisations: no personal data.
    rule("POST", "/v1/organisations", Roles(ADMIN)),
    rule("GET", "/v1/organisations", Roles(STAFF)),
    rule("GET", "/v1/organisations/{id}", Roles(STAFF)),
    rule("POST", "/v1/organisations/{id}/deactivate", Roles(ADMIN)),
    rule("POST", "/v1/organisations/{id}/reactivate", Roles(ADMIN)),
    rule("GET", "/v1/organisations/{id}/history", Roles(STAFF)),
    // Exit interviews: a yes carries the new buddy's personal data.
    audited(
        "POST",
        "/v1/exit-interviews",
        Roles(ANY_ROLE),
        Create,
        "exit_interview",
    ),
    rule("GET", "/v1/exit-interviews", Roles(STAFF)),
    rule("GET", "/v1/exit-interviews/{id}", Roles(STAFF)),
    rule("GET", "/v1/exit-interviews/{id}/history", Roles(STAFF)),
    // Buddies.
    audited("POST", "/v1/buddies", Roles(STAFF), Create, "buddy"),
    audited("GET", "/v1/buddies", Roles(STAFF), Search, "buddy"),
    audited("GET", "/v1/buddies/{id}", Roles(STAFF), Read, "buddy"),
    audited("PATCH", "/v1/buddies/{id}", Roles(STAFF), Update, "buddy"),
    audited(
        "POST",
        "/v1/buddies/{id}/start-screening",
        Roles(STAFF),
        Update,
        "buddy",
    ),
    audited(
        "POST",
        "/v1/buddies/{id}/activate",
        Roles(STAFF),
        Update,
        "buddy",
    ),
    audited(
        "POST",
        "/v1/buddies/{id}/pause",
        Roles(STAFF),
        Update,
        "buddy",
    ),
    audited(
        "POST",
        "/v1/buddies/{id}/resume",
        Roles(STAFF),
        Update,
        "buddy",
    ),
    audited(
        "POST",
        "/v1/buddies/{id}/retire",
        Roles(STAFF),
        Update,
        "buddy",
    ),
    audited(
        "GET",
        "/v1/buddies/{id}/history",
        Roles(STAFF),
        Read,
        "buddy",
    ),
    // Buddy requests: the client's contact details.
    audited(
        "POST",
        "/v1/buddy-requests",
        Roles(ANY_ROLE),
        Create,
        "buddy_request",
    ),
    audited(
        "GET",
        "/v1/buddy-requests",
        Roles(ANY_ROLE),
        Search,
        "buddy_request",
    ),
    audited(
        "GET",
        "/v1/buddy-requests/{id}",
        Roles(ANY_ROLE),
        Read,
        "buddy_request",
    ),
    audited(
        "POST",
        "/v1/buddy-requests/{id}/withdraw",
        Roles(ANY_ROLE),
        Update,
        "buddy_request",
    ),
    audited(
        "GET",
        "/v1/buddy-requests/{id}/history",
        Roles(ANY_ROLE),
        Read,
        "buddy_request",
    ),
    // Matching: candidates show buddies' names against the request; exclusions carry staff's
    // reasons about the client's circle.
    audited(
        "GET",
        "/v1/buddy-requests/{id}/candidates",
        Roles(STAFF),
        Read,
        "buddy_request",
    ),
    audited(
        "POST",
        "/v1/buddy-requests/{id}/exclusions",
        Roles(STAFF),
        Update,
        "buddy_request",
    ),
    audited(
        "GET",
        "/v1/buddy-requests/{id}/exclusions",
        Roles(STAFF),
        Read,
        "buddy_request",
    ),
    audited(
        "DELETE",
        "/v1/buddy-requests/{id}/exclusions/{buddy_id}",
        Roles(STAFF),
        Update,
        "buddy_request",
    ),
    // Pairings: who is paired with whom, and how it went.
    audited("POST", "/v1/pairings", Roles(STAFF), Create, "pairing"),
    audited("GET", "/v1/pairings", Roles(STAFF), Search, "pairing"),
    audited("GET", "/v1/pairings/{id}", Roles(STAFF), Read, "pairing"),
    audited(
        "POST",
        "/v1/pairings/{id}/accept",
        Roles(STAFF),
        Update,
        "pairing",
    ),
    audited(
        "POST",
        "/v1/pairings/{id}/decline",
        Roles(STAFF),
        Update,
        "pairing",
    ),
    audited(
        "POST",
        "/v1/pairings/{id}/activate",
        Roles(STAFF),
        Update,
        "pairing",
    ),
    audited(
        "POST",
        "/v1/pairings/{id}/end",
        Roles(STAFF),
        Update,
        "pairing",
    ),
    audited(
        "GET",
        "/v1/pairings/{id}/history",
        Roles(STAFF),
        Read,
        "pairing",
    ),
    // Privacy: retention, legal holds, erasure and export. Administrators only.
    audited(
        "POST",
        "/v1/privacy/retention/run",
        Roles(ADMIN),
        Delete,
        "buddy_request",
    ),
    audited(
        "POST",
        "/v1/buddy-requests/{id}/legal-hold",
        Roles(ADMIN),
        Update,
        "buddy_request",
    ),
    audited(
        "POST",
        "/v1/privacy/clients/erase",
        Roles(ADMIN),
        Delete,
        "buddy_request",
    ),
    audited(
        "GET",
        "/v1/privacy/clients/export",
        Roles(ADMIN),
        Export,
        "buddy_request",
    ),
    audited(
        "POST",
        "/v1/buddies/{id}/erase",
        Roles(ADMIN),
        Delete,
        "buddy",
    ),
    audited(
        "GET",
        "/v1/buddies/{id}/export",
        Roles(ADMIN),
        Export,
        "buddy",
    ),
];

/// The rule for a request, if the route has one.
pub fn find(method: &str, pattern: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.method == method && r.pattern == pattern)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn each_route_has_one_rule() {
        let mut seen = HashSet::new();
        for r in RULES {
            assert!(
                seen.insert((r.method, r.pattern)),
                "two rules for {} {}",
                r.method,
                r.pattern
            );
        }
    }

    #[test]
    fn every_operation_of_the_contract_has_a_rule() {
        let spec = crate::startup::openapi_spec();
        for (path, item) in &spec.paths.paths {
            let path = &crate::openapi::full_path(&spec, path);
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PATCH", item.patch.is_some()),
                ("PUT", item.put.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            for (method, present) in methods {
                if present {
                    assert!(
                        find(method, path).is_some(),
                        "no access rule for {method} {path}"
                    );
                }
            }
        }
    }

    #[test]
    fn privacy_routes_are_for_admins_and_audited() {
        for (method, pattern, action) in [
            ("POST", "/v1/privacy/retention/run", AuditAction::Delete),
            (
                "POST",
                "/v1/buddy-requests/{id}/legal-hold",
                AuditAction::Update,
            ),
            ("POST", "/v1/privacy/clients/erase", AuditAction::Delete),
            ("GET", "/v1/privacy/clients/export", AuditAction::Export),
            ("POST", "/v1/buddies/{id}/erase", AuditAction::Delete),
            ("GET", "/v1/buddies/{id}/export", AuditAction::Export),
        ] {
            let rule = find(method, pattern).expect("a rule");
            assert_eq!(rule.access, Access::Roles(ADMIN), "{method} {pattern}");
            assert_eq!(
                rule.audit.map(|a| a.action),
                Some(action),
                "{method} {pattern}"
            );
        }
    }

    #[test]
    fn unknown_routes_have_no_rule() {
        assert!(find("DELETE", "/v1/buddies/{id}").is_none());
        assert!(find("GET", "/v1/secret").is_none());
    }
}
