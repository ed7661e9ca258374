//! Registering a route: its handler (with its OpenAPI operation, from `#[utoipa::path]`) and its
//! [`Guard`] (who may call it, and whether it is audited) in one call, so a route cannot be
//! served without a rule. The rules are collected into the [`Policy`] the middleware enforce.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::dev::HttpServiceFactory;
use utoipa::openapi::path::Operation;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::OpenApiFactory;

use crate::auth::policy::{Guard, Policy, Rule};
use crate::openapi::operations_of;

/// The rules collected while the routes are registered; shared by the scopes that register.
pub type Collected = Rc<RefCell<Policy>>;

/// The routes of one scope (`/v1`) as they are registered.
pub struct Routes<'a, 's> {
    cfg: &'a mut ServiceConfig<'s>,
    prefix: &'static str,
    policy: Collected,
}

impl<'a, 's> Routes<'a, 's> {
    pub fn new(cfg: &'a mut ServiceConfig<'s>, prefix: &'static str, policy: Collected) -> Self {
        Routes {
            cfg,
            prefix,
            policy,
        }
    }

    /// Serves `handler` under its guard. The method, path and success status are the ones of the
    /// handler's own OpenAPI operation.
    pub fn add<F>(&mut self, handler: F, guard: Guard) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        let paths = handler.paths();
        let mut found = false;
        for (path, item) in &paths.paths {
            for (method, operation) in operations_of(item) {
                found = true;
                self.policy.borrow_mut().add(Rule {
                    method,
                    pattern: format!("{}{path}", self.prefix),
                    access: guard.access,
                    audit: guard.audit,
                    success: success_status(operation),
                    tagged: guard.tagged,
                });
            }
        }
        assert!(found, "a handler without an OpenAPI operation");
        self.cfg.service(handler);
        self
    }
}

/// The operation's one 2xx (200 when it declares none).
fn success_status(operation: &Operation) -> u16 {
    operation
        .responses
        .responses
        .keys()
        .filter_map(|code| code.parse::<u16>().ok())
        .find(|code| (200..300).contains(code))
        .unwrap_or(200)
}
