//! After a 413 the connection is closed at once, so that the rest of an oversized body is not
//! read (an upload of 100 MB otherwise costs the service 100 MB of reading, however early it is
//! refused).
//!
//! What actix-web does by itself after answering a request whose body it has not read:
//! - a body with a `Content-Length`: it closes the connection, after reading and discarding the
//!   rest for up to `client_disconnect_timeout` ("lingering"; `server.client_disconnect_timeout_ms`,
//!   0 by default here, so it closes at once);
//! - a chunked body whose reader was dropped: it reads the whole body to its end, to keep the
//!   connection alive for a next request.
//!
//! This middleware keeps the request's body stream alive until a 413 has been sent (the body of
//! the answer holds it), so that actix sees an unread body it may not drain in both cases: it
//! stops reading (the stream's buffer is full and nobody reads it), answers with
//! `Connection: close` and closes the connection after the answer. Other answers keep actix's
//! behaviour.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage};
use futures_util::Stream;

/// The request's body stream, shared between the handler's reader and this middleware.
type Shared = Rc<RefCell<Payload>>;

/// What the handler reads instead of the request's own stream: the same bytes.
struct SharedPayload(Shared);

impl Stream for SharedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut payload = self.0.borrow_mut();
        Pin::new(&mut *payload).poll_next(cx)
    }
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Holding>, Error> {
    let payload = req.take_payload();
    let shared = if matches!(payload, Payload::None) {
        req.set_payload(payload);
        None
    } else {
        let shared: Shared = Rc::new(RefCell::new(payload));
        req.set_payload(Payload::Stream {
            payload: Box::pin(SharedPayload(shared.clone())),
        });
        Some(shared)
    };
    let mut response = next.call(req).await?;
    let keep = if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        shared
    } else {
        None
    };
    Ok(response.map_into_boxed_body().map_body(|_, body| Holding {
        body,
        _unread: keep,
    }))
}

/// An answer's body, holding the request's unread body stream (after a 413) until the answer
/// has been sent and dropped.
pub struct Holding {
    body: BoxBody,
    _unread: Option<Shared>,
}

impl MessageBody for Holding {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}
