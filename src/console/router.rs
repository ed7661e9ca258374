//! One list of console routes for both the server and the access policy: each route is
//! registered with its rule, as the API's are ([`crate::api::routes::Routes::add`]).

use actix_web::{web, FromRequest, Handler, Resource, Responder};

use crate::auth::policy::{Guard, Policy};

/// Registers routes on an app, or collects their rules: the same calls do both, so no route
/// can be served without its rule.
pub struct Router<'a> {
    cfg: Option<&'a mut web::ServiceConfig>,
    policy: Option<&'a mut Policy>,
}

impl<'a> Router<'a> {
    pub fn rules(policy: &'a mut Policy) -> Router<'a> {
        Router {
            cfg: None,
            policy: Some(policy),
        }
    }

    pub fn services(cfg: &'a mut web::ServiceConfig) -> Router<'a> {
        Router {
            cfg: Some(cfg),
            policy: None,
        }
    }

    /// The methods of one path, e.g.
    /// `router.path("/console/x", |p| p.get(STAFF_ONLY, show).post(STAFF_ONLY, change))`.
    pub fn path(
        &mut self,
        path: &'static str,
        methods: impl FnOnce(Methods<'_>) -> Methods<'_>,
    ) -> &mut Self {
        let methods = methods(Methods {
            path,
            resource: self.cfg.is_some().then(|| web::resource(path)),
            policy: self.policy.as_deref_mut(),
        });
        if let (Some(cfg), Some(resource)) = (self.cfg.as_deref_mut(), methods.resource) {
            cfg.service(resource);
        }
        self
    }
}

/// The methods of one path being registered.
pub struct Methods<'p> {
    path: &'static str,
    resource: Option<Resource>,
    policy: Option<&'p mut Policy>,
}

impl Methods<'_> {
    pub fn get<F, Args>(self, guard: Guard, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method("GET", web::get(), guard, handler)
    }

    pub fn post<F, Args>(self, guard: Guard, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method("POST", web::post(), guard, handler)
    }

    fn method<F, Args>(
        mut self,
        method: &'static str,
        route: actix_web::Route,
        guard: Guard,
        handler: F,
    ) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        if let Some(policy) = self.policy.as_deref_mut() {
            // A form that succeeds answers 303 (post/redirect/get): the status its audit
            // record is committed with.
            let success = if method == "POST" { 303 } else { 200 };
            policy.allow_answering(method, self.path, guard, success);
        }
        self.resource = self.resource.map(|r| r.route(route.to(handler)));
        self
    }
}
