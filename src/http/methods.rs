//! Methods of a path. `HEAD` is `GET` without the body, `OPTIONS` answers with the methods a
//! path allows, and a method the path lacks is a 405 naming them in `Allow` (the path exists, so
//! a 404 would mislead). Unknown paths fall through to the 404 of the default service.
//!
//! A path's methods are those of its rules in the access policy (`auth::policy`), the one table
//! that decides what may be called at all; a method without a rule never reaches a handler.
//! `HEAD` is answered as the `GET` it stands for, by the same handler after the same checks (the
//! HTTP server leaves out the body and keeps its length); the access log still says `HEAD`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

use crate::auth::policy::Policy;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::http::route;

/// The order methods are listed in `Allow`.
const ORDER: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let policy = req.app_data::<web::Data<Policy>>().cloned();
    let allowed = route::pattern(req.request())
        .zip(policy)
        .map(|(pattern, policy)| allowed(&policy, &pattern))
        .unwrap_or_default();
    // Unknown paths, and a route without any rule (which authentication refuses).
    if allowed.is_empty() {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let allow = allowed.join(", ");
    let method = req.method().clone();
    if method == Method::OPTIONS {
        let response = HttpResponse::NoContent()
            .insert_header((ALLOW, allow))
            .finish();
        return Ok(req.into_response(response));
    }
    if method == Method::HEAD && allowed.contains(&"GET") {
        req.head_mut().method = Method::GET;
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    if !allowed.contains(&method.as_str()) {
        tracing::debug!(%method, "no access rule for this method: refused with 405");
        return Ok(req.into_response(not_allowed(&method, &allow)));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The methods of a route pattern, in [`ORDER`]; empty when the policy has no rule for it.
fn allowed(policy: &Policy, pattern: &str) -> Vec<&'static str> {
    let ruled = policy.methods(pattern);
    if ruled.is_empty() {
        return Vec::new();
    }
    ORDER
        .iter()
        .copied()
        .filter(|m| match *m {
            "HEAD" => ruled.contains(&"GET"),
            "OPTIONS" => true,
            m => ruled.contains(&m),
        })
        .collect()
}

/// The 405 problem document, with `Allow`.
fn not_allowed(method: &Method, allow: &str) -> HttpResponse {
    let mut problem = ApiError::Http(StatusCode::METHOD_NOT_ALLOWED).to_problem();
    problem.problem_type = "urn:maatje:problem:method-not-allowed".to_owned();
    problem.title = "Method not allowed".to_owned();
    problem.detail = Some(format!(
        "{method} is not an operation of this path; it allows {allow}"
    ));
    HttpResponse::MethodNotAllowed()
        .insert_header((CONTENT_TYPE, PROBLEM_JSON))
        .insert_header((
            ALLOW,
            HeaderValue::from_str(allow).unwrap_or(HeaderValue::from_static("OPTIONS")),
        ))
        .body(serde_json::to_string(&problem).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn methods_come_from_the_policy_with_head_and_options() {
        let policy = crate::startup::policy();
        let allowed = |pattern| super::allowed(&policy, pattern);
        assert_eq!(allowed("/v1/buddies"), ["GET", "HEAD", "POST", "OPTIONS"]);
        assert_eq!(
            allowed("/v1/buddies/{id}"),
            ["GET", "HEAD", "PATCH", "OPTIONS"]
        );
        assert_eq!(allowed("/v1/pairings/{id}/accept"), ["POST", "OPTIONS"]);
        assert!(allowed("/v1/nothing").is_empty());
    }
}
