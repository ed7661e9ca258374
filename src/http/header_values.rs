//! A control character in a header the service reads as a token or id is a 400 problem naming
//! the header.
//!
//! The HTTP server's parser (httparse, in actix-http) already refuses every control byte but
//! horizontal tab, in any header, before the application sees the request: those requests get
//! the server's own bare 400 with an empty body and no request id, which nothing in the
//! application can change. A tab passes the parser, because HTTP allows it as whitespace (around
//! the commas of `Accept`, for instance), so it is refused here only where it cannot belong: in
//! the credentials (`Authorization`) and in a caller's request id (`X-Request-Id`), which would
//! otherwise be read as some other token, or silently replaced. `X-On-Behalf-Of` is judged by
//! authentication once the caller's credentials are known (control characters included), so that
//! a caller without valid ones learns nothing but the 401.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};

use crate::error::{ApiError, FieldError};
use crate::http::request_id;

/// The headers checked, and how they are named in the problem's `errors`.
const CHECKED: &[(&str, &str)] = &[
    ("authorization", "Authorization"),
    (request_id::HEADER, "X-Request-Id"),
];

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let errors: Vec<FieldError> = CHECKED
        .iter()
        .filter(|(name, _)| {
            req.headers()
                .get_all(*name)
                .any(|value| value.as_bytes().iter().copied().any(is_control))
        })
        .map(|(_, shown)| {
            FieldError::new(
                *shown,
                "must not contain control characters (such as a tab)",
            )
        })
        .collect();
    if errors.is_empty() {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let response = ApiError::Invalid(errors).error_response();
    Ok(req.into_response(response))
}

fn is_control(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f
}

#[cfg(test)]
mod tests {
    use super::is_control;

    #[test]
    fn control_bytes_are_those_below_space_and_delete() {
        assert!(is_control(b'\t'));
        assert!(is_control(0x01));
        assert!(is_control(0x7f));
        assert!(!is_control(b' '));
        assert!(!is_control(0x80));
    }
}
