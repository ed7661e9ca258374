//! Which route a request is for, as the router decides it.

use actix_web::{HttpMessage, HttpRequest};

/// The pattern of the route the router picks for `req` (e.g. `/v1/buddies/{id}`), or `None` for
/// an unknown path. The router matches the percent-decoded path (`/v1/st%61ff` is `/v1/staff`),
/// whereas `HttpRequest::match_pattern` looks at the raw one; everything that decides by route
/// (the access policy, the audit trail, the request log) must use this, or an encoded path would
/// reach its handler unchecked or unrecorded.
///
/// The router's answer is worked out once per request (matching the path against every route's
/// pattern is not cheap) and kept in the request's extensions for the other callers.
pub fn pattern(req: &HttpRequest) -> Option<String> {
    if let Some(Matched(pattern)) = req.extensions().get::<Matched>() {
        return pattern.clone();
    }
    let pattern = req.resource_map().match_pattern(req.match_info().as_str());
    req.extensions_mut().insert(Matched(pattern.clone()));
    pattern
}

/// The route pattern [`pattern`] found for a request.
struct Matched(Option<String>);
