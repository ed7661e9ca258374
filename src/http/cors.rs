//! Cross-origin calls from browsers (CORS).
//!
//! The contract (`/openapi.json`, `/v1/openapi.json`) is public: any origin may read it, so its
//! answers carry `Access-Control-Allow-Origin: *`. The rest of the API carries personal data and
//! is called by case systems, mostly server to server: CORS is off unless the operator lists the
//! origins whose pages may call it (`api.cors_allowed_origins`). For a listed origin, answers
//! carry that origin in `Access-Control-Allow-Origin` and expose the headers a client needs, and
//! a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered with the path's
//! methods (the `Allow` that `http::methods` answers `OPTIONS` with), the request headers the
//! API reads and how long the browser may cache that. Any other origin gets no CORS header at
//! all, so its browser refuses to hand over the answer; the request itself is answered as
//! usual (CORS protects the browser user, not the server).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    HeaderMap, HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ALLOW, ORIGIN, VARY,
};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::config::ApiSettings;

/// The paths of the published contract, readable from any origin.
pub const CONTRACT_PATHS: &[&str] = &["/openapi.json", "/v1/openapi.json"];

/// The request headers the API reads, allowed in preflights.
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, Accept, X-Request-Id, X-On-Behalf-Of, If-Match, If-None-Match, \
     Idempotency-Key";

/// The response headers a browser client may read besides the CORS-safelisted ones.
const EXPOSED_HEADERS: &str =
    "API-Version, X-Request-Id, Location, Retry-After, WWW-Authenticate, Allow, ETag, \
     Idempotency-Replayed";

/// The configured policy, in app data.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<String>,
    max_age: String,
}

impl Cors {
    pub fn from_settings(settings: &ApiSettings) -> Self {
        Cors {
            origins: settings.cors_allowed_origins.clone(),
            max_age: settings.cors_max_age_seconds.to_string(),
        }
    }

    fn enabled(&self) -> bool {
        !self.origins.is_empty()
    }

    /// Origins are compared exactly as browsers send them (validated at load: no trailing slash).
    fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let cors = req.app_data::<web::Data<Cors>>().cloned();
    let public = CONTRACT_PATHS.contains(&req.path());
    let origin = req
        .headers()
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let preflight = req.method() == Method::OPTIONS
        && origin.is_some()
        && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    if public {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
        if preflight {
            preflight_headers(headers, "600");
        }
        return Ok(response);
    }
    let Some(cors) = cors.filter(|c| c.enabled()) else {
        return Ok(response);
    };
    // The answer depends on the Origin (and for a preflight on what it asks), so caches must
    // keep them apart.
    let vary = if preflight {
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    } else {
        "Origin"
    };
    headers.append(VARY, HeaderValue::from_static(vary));
    let Some(origin) = origin.filter(|o| cors.allows(o)) else {
        return Ok(response);
    };
    if let Ok(value) = HeaderValue::from_str(&origin) {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    if preflight {
        preflight_headers(headers, &cors.max_age);
    } else {
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
    Ok(response)
}

/// The methods of the path (from the `Allow` of the `OPTIONS` answer), the headers the API
/// reads, and the cache lifetime. Nothing when the path has no methods (an unknown path's 404).
fn preflight_headers(headers: &mut HeaderMap, max_age: &str) {
    let Some(allow) = headers.get(ALLOW).cloned() else {
        return;
    };
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, allow);
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOWED_HEADERS),
    );
    if let Ok(value) = HeaderValue::from_str(max_age) {
        headers.insert(ACCESS_CONTROL_MAX_AGE, value);
    }
}
