//! `API-Version` on every response, errors included (ADR `/core/version-header`): the full
//! version of the API, so a client can tell which release answered. Wrapped outermost, so the
//! answers the other middlewares produce carry it too.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;

use crate::openapi::API_VERSION;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    response.headers_mut().insert(
        HeaderName::from_static("api-version"),
        HeaderValue::from_static(API_VERSION),
    );
    Ok(response)
}
