//! The access policy: one rule per route (method and route pattern). Each rule is declared where
//! its route is registered ([`crate::api::routes::Routes::add`] with a [`Guard`]), and the rules
//! are collected into the [`Policy`] the middleware read. A route without a rule is refused,
//! whoever calls it (deny by default).
//!
//! The same rules tell the audit trail which routes touch personal data of clients or buddies,
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

/// The kinds of object an audited route acts on (`Audited::object_type`); a test checks that
/// every audited route names one of them.
pub const OBJECT_TYPES: &[&str] = &[
    "buddy",
    "buddy_request",
    "exit_interview",
    "pairing",
    "client_feedback",
];

/// A route that touches personal data: what it does, and to which kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audited {
    pub action: AuditAction,
    pub object_type: &'static str,
}

/// Who may call a route and what the audit trail records of it: declared where the route is
/// registered ([`crate::api::routes::Routes::add`]), next to its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    pub access: Access,
    pub audit: Option<Audited>,
    /// The route answers with one resource as its `GET` shows it: see [`Guard::tagged`].
    pub tagged: bool,
}

impl Guard {
    /// The route also touches personal data: every request to it gets an audit record.
    pub const fn audit(self, action: AuditAction, object_type: &'static str) -> Guard {
        Guard {
            access: self.access,
            audit: Some(Audited {
                action,
                object_type,
            }),
            tagged: self.tagged,
        }
    }

    /// The route answers with one resource, as its single-resource `GET` shows it to the caller
    /// (the `GET` itself, a `PATCH` or action on it, or the `POST` creating it): its successful
    /// answers carry the resource's `ETag`, the `GET` honours `If-None-Match` and a change of an
    /// existing resource `If-Match` (see [`crate::http::conditional`]).
    pub const fn tagged(self) -> Guard {
        Guard {
            tagged: true,
            ..self
        }
    }
}

/// Anyone, without credentials.
pub const PUBLIC: Guard = Guard {
    access: Access::Public,
    audit: None,
    tagged: false,
};

/// Callers holding one of `roles`.
pub const fn roles(roles: &'static [Role]) -> Guard {
    Guard {
        access: Access::Roles(roles),
        audit: None,
        tagged: false,
    }
}

pub const ADMIN: &[Role] = &[Role::Admin];
pub const STAFF: &[Role] = &[Role::Admin, Role::Coordinator];
pub const ANY_ROLE: &[Role] = &[Role::Admin, Role::Coordinator, Role::CaseSystem];
pub const CASE_SYSTEM: &[Role] = &[Role::CaseSystem];
pub const CASE_SYSTEM_OR_ADMIN: &[Role] = &[Role::Admin, Role::CaseSystem];

pub const BUDDY: &[Role] = &[Role::Buddy];

/// A buddy signed in to the portal (`/buddy/...`), acting on their own records only.
pub const BUDDIES: Guard = roles(BUDDY);
/// Administrators only.
pub const ADMINS: Guard = roles(ADMIN);
/// Coordinators and administrators.
pub const STAFF_ONLY: Guard = roles(STAFF);
/// Case systems, coordinators and administrators.
pub const ANY_CALLER: Guard = roles(ANY_ROLE);
/// Case systems only (what belongs to a case system itself, e.g. its webhook endpoints).
pub const CASE_SYSTEMS: Guard = roles(CASE_SYSTEM);
/// Case systems (their own) and administrators (everyone's).
pub const CASE_SYSTEMS_AND_ADMINS: Guard = roles(CASE_SYSTEM_OR_ADMIN);

/// The rule of one route: its method and pattern, its guard, and the status of a successful
/// answer (the operation's one 2xx in the contract; 200 for routes outside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub method: &'static str,
    pub pattern: String,
    pub access: Access,
    pub audit: Option<Audited>,
    pub success: u16,
    /// See [`Guard::tagged`].
    pub tagged: bool,
}

/// The rules of every route the application serves, collected as the routes are registered.
/// A request to a route (method and pattern) without a rule is refused (deny by default).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    rules: Vec<Rule>,
}

impl Policy {
    /// Adds the rule of a route; a second rule for the same route is a programming error.
    pub fn add(&mut self, rule: Rule) {
        assert!(
            self.find(rule.method, &rule.pattern).is_none(),
            "two rules for {} {}",
            rule.method,
            rule.pattern
        );
        self.rules.push(rule);
    }

    /// The rule of a route served outside the contract (pages, probes at the root, the
    /// documentation), registered by hand next to it.
    pub fn allow(&mut self, method: &'static str, pattern: &str, guard: Guard) {
        self.allow_answering(method, pattern, guard, 200);
    }

    /// As [`Policy::allow`], for a route whose successful answer is `success` (a console form
    /// answers `303 See Other`, so the audit record its change commits is that answer's).
    pub fn allow_answering(
        &mut self,
        method: &'static str,
        pattern: &str,
        guard: Guard,
        success: u16,
    ) {
        self.add(Rule {
            method,
            pattern: pattern.to_owned(),
            access: guard.access,
            audit: guard.audit,
            success,
            tagged: guard.tagged,
        });
    }

    /// The rule for a request, if the route has one.
    pub fn find(&self, method: &str, pattern: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.method == method && r.pattern == pattern)
    }

    /// Every rule, in the order the routes were registered.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The methods with a rule for `pattern`.
    pub fn methods(&self, pattern: &str) -> Vec<&'static str> {
        self.rules
            .iter()
            .filter(|r| r.pattern == pattern)
            .map(|r| r.method)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        crate::startup::policy()
    }

    #[test]
    #[should_panic(expected = "two rules for GET /v1/x")]
    fn a_route_cannot_have_two_rules() {
        let mut policy = Policy::default();
        let rule = Rule {
            method: "GET",
            pattern: "/v1/x".into(),
            access: Access::Public,
            audit: None,
            success: 200,
            tagged: false,
        };
        policy.add(rule.clone());
        policy.add(rule);
    }

    #[test]
    fn every_operation_of_the_contract_has_a_rule() {
        let policy = policy();
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
                        policy.find(method, path).is_some(),
                        "no access rule for {method} {path}"
                    );
                }
            }
        }
    }

    #[test]
    fn privacy_routes_are_for_admins_and_audited() {
        let policy = policy();
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
            let rule = policy.find(method, pattern).expect("a rule");
            assert_eq!(rule.access, Access::Roles(ADMIN), "{method} {pattern}");
            assert_eq!(
                rule.audit.map(|a| a.action),
                Some(action),
                "{method} {pattern}"
            );
        }
    }

    #[test]
    fn success_statuses_come_from_the_contract() {
        let policy = policy();
        let success = |method, pattern| policy.find(method, pattern).map(|r| r.success);
        assert_eq!(success("POST", "/v1/buddies"), Some(201));
        assert_eq!(success("PATCH", "/v1/buddies/{id}"), Some(200));
        assert_eq!(
            success("DELETE", "/v1/buddy-requests/{id}/exclusions/{buddy_id}"),
            Some(204)
        );
        assert_eq!(success("POST", "/respond/{token}"), Some(200));
    }

    #[test]
    fn audited_routes_name_a_known_object_type() {
        let policy = policy();
        let mut named = std::collections::BTreeSet::new();
        for rule in policy.rules() {
            if let Some(audited) = rule.audit {
                assert!(
                    OBJECT_TYPES.contains(&audited.object_type),
                    "{} {}: {}",
                    rule.method,
                    rule.pattern,
                    audited.object_type
                );
                named.insert(audited.object_type);
            }
        }
        assert_eq!(
            named.len(),
            OBJECT_TYPES.len(),
            "an object type no route audits"
        );
    }

    #[test]
    fn unknown_routes_have_no_rule() {
        let policy = policy();
        assert!(policy.find("DELETE", "/v1/buddies/{id}").is_none());
        assert!(policy.find("GET", "/v1/secret").is_none());
    }
}
