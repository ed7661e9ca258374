//! The innermost middleware: records every request on an audited route that authentication let
//! through, once the handler has answered (see [`crate::audit`]).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use super::Attempt;
use crate::auth::Identity;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let identity = req.extensions().get::<Identity>().cloned();
    let attempt = Attempt::begin(&req, identity.as_ref());
    let Some(attempt) = attempt else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    match next.call(req).await {
        Ok(response) => Ok(attempt.finish(response).await),
        Err(error) => Err(attempt.finish_error(error).await),
    }
}
