//! Every error answer is a problem document, including those produced outside our handlers
//! (the docs' asset server answers an unknown asset with an empty 404, for instance). The one
//! exception is an HTML page made for people: the buddy response pages (see `respond`) answer
//! a used link with a 410 page in the buddy's language, and the console (see `console`) shows
//! its refusals and errors as pages, and so does the buddy portal (see `portal`); those stay as
//! they are.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};

use crate::error::{ApiError, PROBLEM_JSON};

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = next.call(req).await?;
    let status = response.status();
    let content_type = response.headers().get(CONTENT_TYPE);
    let is_problem =
        content_type.is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let path = response.request().path();
    let is_page = content_type.is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
        && (path.starts_with(crate::respond::PATH_PREFIX)
            || path.starts_with(crate::respond::check_in::PATH_PREFIX)
            || path.starts_with(crate::feedback::PATH_PREFIX)
            || crate::console::is_console(path)
            || crate::portal::is_portal(path));
    if (status.is_client_error() || status.is_server_error()) && !is_problem && !is_page {
        let (request, _) = response.into_parts();
        return Ok(ServiceResponse::new(
            request,
            ApiError::Http(status).error_response(),
        ));
    }
    Ok(response.map_into_boxed_body())
}
