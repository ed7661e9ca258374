//! Authentication and route-level authorisation, before any handler runs. A refusal on an
//! audited route is recorded in the audit trail here (see [`crate::audit`]).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, ResponseError};

use super::cache::Lookup;
use super::credentials::Holder;
use super::policy::{Access, Policy};
use super::token::{self, TokenKind};
use super::{Identity, Role};
use crate::audit::Attempt;
use crate::domain::actor::Actor;
use crate::error::ApiError;
use crate::http::rate_limit::{LimitClass, RateLimiter};
use crate::http::route;
use crate::ops::AppState;

pub const ON_BEHALF_OF: &str = "x-on-behalf-of";

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Unknown routes fall through to the 404 of the default service.
    let Some(pattern) = route::pattern(req.request()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // The caller whose valid credentials were refused for this route, for the audit trail.
    let mut refused: Option<Identity> = None;
    let policy = req.app_data::<web::Data<Policy>>().cloned();
    let rule = policy
        .as_ref()
        .and_then(|policy| policy.find(req.method().as_str(), &pattern));
    let outcome = match rule {
        // Mostly a method the path does not have; otherwise a route someone added without a
        // rule. Either way no handler runs (deny by default); a unit test checks that every
        // documented operation has a rule.
        None => {
            tracing::debug!(route = %pattern, method = %req.method(), "no access rule: refused");
            Err(ApiError::NoRoute)
        }
        Some(rule) => match rule.access {
            Access::Public => Ok(None),
            Access::Roles(roles) => match authenticate(&req, &pattern).await {
                Ok((mut identity, standing)) => {
                    match authorise(&req, &mut identity, standing, roles) {
                        Ok(()) => Ok(Some(identity)),
                        Err(e) => {
                            refused = Some(identity);
                            Err(e)
                        }
                    }
                }
                Err(e) => Err(e),
            },
        },
    };
    match outcome {
        Ok(identity) => {
            if let Some(identity) = identity {
                req.extensions_mut().insert(identity);
            }
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Err(error) => {
            // A refusal on a route that touches personal data is audited like any other answer.
            let attempt = Attempt::begin(&req, refused.as_ref());
            let (request, _) = req.into_parts();
            let answer = if crate::console::is_console(&pattern) {
                crate::console::page::refusal(&request, &error, refused.as_ref())
            } else if crate::portal::is_portal(&pattern) {
                crate::portal::refusal(&request, &error)
            } else {
                error.error_response()
            };
            let response = ServiceResponse::new(request, answer);
            Ok(match attempt {
                Some(attempt) => attempt.finish(response).await,
                None => response,
            })
        }
    }
}

/// Whether valid credentials may be used now, whatever the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Good,
    /// An API key of a deactivated organisation: refused with 403 `organisation-inactive` on
    /// every route until the organisation is reactivated.
    OrganisationInactive,
}

/// Whether an authenticated caller may use a route of `roles`. In this order: the request is
/// charged to the caller's budget (so every request of a case system counts, refused or not),
/// then its `X-On-Behalf-Of` is read into `identity`, then the caller's standing and role are
/// checked. Any refusal here names the caller in the audit trail, since its credentials were
/// valid.
fn authorise(
    req: &ServiceRequest,
    identity: &mut Identity,
    standing: Standing,
    roles: &[Role],
) -> Result<(), ApiError> {
    charge_client(req, identity)?;
    identity.on_behalf_of = on_behalf_of(req)?;
    if standing == Standing::OrganisationInactive {
        return Err(ApiError::OrganisationInactive);
    }
    if roles.contains(&identity.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "a {} may not use this operation",
            identity.role.as_str().replace('_', " ")
        )))
    }
}

/// Charges a case system's own budget, on top of its source address's.
fn charge_client(req: &ServiceRequest, identity: &Identity) -> Result<(), ApiError> {
    if let (Actor::ApiClient(client), Some(limiter)) =
        (&identity.actor, req.app_data::<web::Data<RateLimiter>>())
    {
        limiter.check(&format!("client:{client}"), LimitClass::Client)?;
    }
    Ok(())
}

fn bearer(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let (scheme, token) = text.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The person the call is made for: at most one `X-On-Behalf-Of`, of 1 to 128 printable
/// characters. Only read for a caller whose credentials are valid: anyone else gets the 401 and
/// learns nothing more.
fn on_behalf_of(req: &ServiceRequest) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all(ON_BEHALF_OF);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::invalid(
            "X-On-Behalf-Of",
            "must be sent once: it names the one person the call is made for",
        ));
    }
    let text = value.to_str().unwrap_or("").trim();
    if text.is_empty() || text.len() > 128 || text.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "X-On-Behalf-Of",
            "must be 1 to 128 printable characters naming the person the call is made for",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// The credential of a request: for the console's routes (`pattern`) its session cookie and
/// nothing else, for every other route a bearer token that is not a console session. So an API
/// token never opens the console, nor a console cookie the API.
fn presented(req: &ServiceRequest, pattern: &str) -> Result<token::Presented, ApiError> {
    if crate::portal::is_portal(pattern) {
        let cookie = req
            .cookie(crate::portal::SESSION_COOKIE)
            .ok_or_else(|| ApiError::Unauthorized("sign in to the buddy portal".into()))?;
        return token::parse(cookie.value())
            .filter(|p| p.kind == TokenKind::BuddySession)
            .ok_or_else(|| ApiError::Unauthorized("the portal session is not valid".into()));
    }
    if crate::console::is_console(pattern) {
        let cookie = req
            .cookie(crate::console::page::SESSION_COOKIE)
            .ok_or_else(|| ApiError::Unauthorized("sign in to the console".into()))?;
        return token::parse(cookie.value())
            .filter(|p| p.kind == TokenKind::ConsoleSession)
            .ok_or_else(|| ApiError::Unauthorized("the console session is not valid".into()));
    }
    let header = req.headers().get(AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("send credentials as `Authorization: Bearer <token>`".into())
    })?;
    let presented = bearer(header)
        .and_then(token::parse)
        .ok_or_else(|| ApiError::Unauthorized("the bearer token is malformed".into()))?;
    if presented.kind == TokenKind::ConsoleSession {
        return Err(ApiError::Unauthorized(
            "a console session is not an API token: log in with POST /v1/auth/login".into(),
        ));
    }
    if presented.kind == TokenKind::BuddySession {
        return Err(ApiError::Unauthorized(
            "a buddy portal session is not an API token".into(),
        ));
    }
    Ok(presented)
}

async fn authenticate(
    req: &ServiceRequest,
    pattern: &str,
) -> Result<(Identity, Standing), ApiError> {
    let presented = presented(req, pattern)?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?
        .clone();
    let now = state.clock.now_naive();
    let standing = |holder: Holder| {
        let standing = if holder.organisation_active {
            Standing::Good
        } else {
            Standing::OrganisationInactive
        };
        (holder.identity, standing)
    };
    // A credential verified lately, still valid by what was read then, needs no database.
    let epoch = match state.credentials.lookup(&presented, now) {
        Lookup::Valid(holder) => return Ok(standing(holder)),
        Lookup::Ask { epoch } => epoch,
    };
    let cache = state.credentials.clone();
    state
        .db
        .run(move |conn| -> crate::error::ApiResult<_> {
            Ok(
                super::credentials::verify(conn, &presented, now)?.map(|(holder, stored)| {
                    cache.insert(epoch, &presented, stored);
                    holder
                }),
            )
        })
        .await?
        .map(standing)
        .ok_or_else(|| ApiError::Unauthorized("the token is unknown, expired or revoked".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer(&HeaderValue::from_static("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&HeaderValue::from_static("bearer abc")), Some("abc"));
        assert_eq!(bearer(&HeaderValue::from_static("Basic abc")), None);
        assert_eq!(bearer(&HeaderValue::from_static("Bearer")), None);
    }

    /// Routes are registered with their rule ([`crate::api::routes::Routes::add`]); one added
    /// behind that registration's back has no rule, and the middleware never lets it run.
    #[actix_web::test]
    async fn a_route_without_a_rule_is_never_served() {
        use actix_web::{middleware::from_fn, test, web, App, HttpResponse};
        let served = || async { HttpResponse::Ok().body("served") };
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(crate::startup::policy()))
                .wrap(from_fn(super::middleware))
                .route("/v1/unruled", web::get().to(served))
                .route("/v1/health/live", web::get().to(served)),
        )
        .await;
        let response = test::call_service(
            &app,
            test::TestRequest::get().uri("/v1/unruled").to_request(),
        )
        .await;
        assert_eq!(response.status(), 404);
        let body = test::read_body(response).await;
        assert_ne!(&body[..], b"served");
        // The same handler on a route with a rule is served.
        let response = test::call_service(
            &app,
            test::TestRequest::get().uri("/v1/health/live").to_request(),
        )
        .await;
        assert_eq!(response.status(), 200);
    }

    #[actix_web::test]
    async fn without_a_policy_nothing_is_served() {
        use actix_web::{middleware::from_fn, test, web, App, HttpResponse};
        let app = test::init_service(App::new().wrap(from_fn(super::middleware)).route(
            "/v1/health/live",
            web::get().to(|| async { HttpResponse::Ok().body("served") }),
        ))
        .await;
        let response = test::call_service(
            &app,
            test::TestRequest::get().uri("/v1/health/live").to_request(),
        )
        .await;
        assert_eq!(response.status(), 404);
    }
}
