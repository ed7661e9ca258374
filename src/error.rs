//! One error type for the HTTP layer, rendered as RFC 9457 `application/problem+json`.
//!
//! Internal causes are logged (with their chain) and never serialised: a 500 carries only the
//! request id, so an operator can find the cause in the logs.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::request_id;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The `Retry-After` of a full or read-only database: an operator has to act, which takes
/// longer than a connection coming back.
pub const STORAGE_RETRY_AFTER_SECS: u64 = 30;

use crate::domain::error::DomainError;
pub use crate::domain::error::FieldError;
use crate::domain::lifecycle::IllegalTransition;

/// An RFC 9457 problem document. Every 4xx and 5xx answer of this service has this shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:maatje:problem:illegal-transition",
    "title": "Illegal state transition",
    "status": 409,
    "detail": "cannot accept a pairing that is declined",
    "request_id": "0f9c2a54-8d0e-4f57-9a0c-6c1f2d6f7b11",
    "current_state": "declined",
    "attempted_action": "accept"
}))]
pub struct Problem {
    /// A URN naming the kind of problem; stable, so clients can branch on it.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id (also in the `X-Request-Id` header); quote it when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every invalid field (400 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The state the resource is in (409 illegal transitions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// The action that was refused (409 illegal transitions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempted_action: Option<String>,
    /// The resource that exists already (409 `duplicate-client-ref` only: the organisation's
    /// request with this `client_ref`, also in `Location`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub existing_id: Option<String>,
}

/// Errors as the HTTP layer sees them.
#[derive(thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or fails validation; lists every invalid field found.
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldError>),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: valid credentials, but not for this operation.
    #[error("{0}")]
    Forbidden(String),
    /// 403: a valid API key of an organisation that left the programme (deactivated); it works
    /// again once the organisation is reactivated.
    #[error("the organisation of this API key is deactivated: it has left the programme")]
    OrganisationInactive,
    /// 404: no such resource, or not visible to the caller.
    #[error("{} {id} not found", resource.replace('_', " "))]
    NotFound { resource: &'static str, id: String },
    /// 404: no route for this path.
    #[error("no such route")]
    NoRoute,
    /// 409: the action is not allowed from the resource's current state.
    #[error("cannot {action} a {resource} that is {state}")]
    IllegalTransition {
        resource: &'static str,
        state: String,
        action: String,
    },
    /// 409: a rule of the programme forbids this (capacity, duplicates, unmet requirements...).
    #[error("{detail}")]
    Conflict {
        kind: &'static str,
        title: &'static str,
        detail: String,
    },
    /// 412: the `If-Match` of a change does not match the resource's current `ETag`; nothing
    /// was changed.
    #[error("{detail}")]
    PreconditionFailed { detail: String },
    /// 409: the organisation already has a buddy request with this `client_ref`; the answer
    /// names it (`existing_id`, `Location`).
    #[error("this organisation already has a buddy request with this client_ref: {existing}")]
    DuplicateRequest { existing: String },
    /// 422: the request is well formed but cannot be processed as sent (an `Idempotency-Key`
    /// used before for another request).
    #[error("{detail}")]
    Unprocessable {
        kind: &'static str,
        title: &'static str,
        detail: String,
    },
    /// 409: the first request with this `Idempotency-Key` is still under way; `Retry-After`
    /// says when to look again.
    #[error("the first request with this Idempotency-Key is still under way; retry after {retry_after_secs} s")]
    KeyInFlight { retry_after_secs: u64 },
    /// 413: body larger than the configured limit.
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 406: the `Accept` header allows none of the media types the operation can answer in.
    #[error("the Accept header allows none of the media types offered: {offered}")]
    NotAcceptable { offered: &'static str },
    /// 429: a rate limit is exhausted; `Retry-After` says when the next request is accepted.
    #[error("too many requests; retry after {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: the database cannot be reached right now.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// 503: the database (or its disk) is full: it cannot store more until an operator makes
    /// room. Nothing of the failed write is stored.
    #[error("database storage full: {0}")]
    StorageFull(String),
    /// 503: the database takes no changes right now (a read-only file, transaction or
    /// standby). Nothing of the failed write is stored.
    #[error("database read-only: {0}")]
    ReadOnly(String),
    /// 503: too much of a bounded kind of work is under way (password checks); `Retry-After`
    /// says when to try again.
    #[error("too many {what} at once; retry after {retry_after_secs} s")]
    Busy {
        what: &'static str,
        retry_after_secs: u64,
    },
    /// Any other 4xx or 5xx produced outside our handlers (e.g. by the docs' asset server).
    #[error("{0}")]
    Http(StatusCode),
    /// 500: anything else. The cause is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Internal(e) => write!(f, "{e:?}"),
            other => write!(f, "{other}"),
        }
    }
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn not_found(resource: &'static str, id: impl fmt::Display) -> Self {
        ApiError::NotFound {
            resource,
            id: id.to_string(),
        }
    }

    pub fn internal(message: impl fmt::Display) -> Self {
        ApiError::Internal(anyhow::anyhow!("{message}"))
    }

    /// The same error for another request that failed for the same cause (a batch of audit
    /// records that could not be written answers each of its requests with it). The cause of an
    /// internal error is logged once, where it happened; the copies carry its text only.
    pub fn again(&self) -> ApiError {
        match self {
            ApiError::Unavailable(cause) => ApiError::Unavailable(cause.clone()),
            ApiError::StorageFull(cause) => ApiError::StorageFull(cause.clone()),
            ApiError::ReadOnly(cause) => ApiError::ReadOnly(cause.clone()),
            ApiError::Busy {
                what,
                retry_after_secs,
            } => ApiError::Busy {
                what,
                retry_after_secs: *retry_after_secs,
            },
            other => ApiError::internal(other),
        }
    }

    /// The `Retry-After` header of the answer, in whole seconds, if it has one.
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::Unavailable(_) => Some(5),
            ApiError::StorageFull(_) | ApiError::ReadOnly(_) => Some(STORAGE_RETRY_AFTER_SECS),
            ApiError::Busy {
                retry_after_secs, ..
            } => Some((*retry_after_secs).max(1)),
            ApiError::TooManyRequests { retry_after_secs }
            | ApiError::KeyInFlight { retry_after_secs } => Some((*retry_after_secs).max(1)),
            _ => None,
        }
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Invalid(_) => ("validation", "The request is invalid"),
            ApiError::Unauthorized(_) => ("unauthorized", "Authentication required"),
            ApiError::Forbidden(_) => ("forbidden", "Not allowed"),
            ApiError::OrganisationInactive => ("organisation-inactive", "Organisation inactive"),
            ApiError::NotFound { .. } | ApiError::NoRoute => ("not-found", "Not found"),
            ApiError::IllegalTransition { .. } => {
                ("illegal-transition", "Illegal state transition")
            }
            ApiError::Conflict { kind, title, .. }
            | ApiError::Unprocessable { kind, title, .. } => (kind, title),
            ApiError::KeyInFlight { .. } => {
                ("idempotency-key-in-flight", "Idempotent request under way")
            }
            ApiError::DuplicateRequest { .. } => {
                ("duplicate-client-ref", "Duplicate client reference")
            }
            ApiError::PreconditionFailed { .. } => ("precondition-failed", "Precondition failed"),
            ApiError::PayloadTooLarge { .. } => ("payload-too-large", "Request body too large"),
            ApiError::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            ApiError::NotAcceptable { .. } => ("not-acceptable", "Not acceptable"),
            ApiError::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            ApiError::Unavailable(_) | ApiError::Busy { .. } => {
                ("unavailable", "Service temporarily unavailable")
            }
            ApiError::StorageFull(_) => ("storage-full", "Storage full"),
            ApiError::ReadOnly(_) => ("read-only", "Database read-only"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
            ApiError::Http(status) if *status == StatusCode::NOT_FOUND => {
                ("not-found", "Not found")
            }
            ApiError::Http(status) => ("http", status.canonical_reason().unwrap_or("HTTP error")),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        let status = self.status_code();
        let mut problem = Problem {
            problem_type: format!("urn:maatje:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            request_id: request_id::current(),
            errors: Vec::new(),
            current_state: None,
            attempted_action: None,
            existing_id: None,
        };
        match self {
            ApiError::Invalid(errors) => {
                problem.detail = Some(match errors.len() {
                    1 => "1 field is invalid; see errors".to_owned(),
                    n => format!("{n} fields are invalid; see errors"),
                });
                problem.errors = errors.clone();
            }
            ApiError::IllegalTransition { state, action, .. } => {
                problem.detail = Some(self.to_string());
                problem.current_state = Some(state.clone());
                problem.attempted_action = Some(action.clone());
            }
            ApiError::Internal(_) => {
                problem.detail = Some(
                    "an unexpected error occurred; it has been logged under this request id"
                        .to_owned(),
                )
            }
            ApiError::Unavailable(_) => {
                problem.detail = Some("the database cannot be reached; try again later".to_owned())
            }
            ApiError::StorageFull(_) => {
                problem.detail = Some(
                    "the database is full and cannot store changes right now; try again later"
                        .to_owned(),
                )
            }
            ApiError::ReadOnly(_) => {
                problem.detail = Some(
                    "the database accepts no changes right now (it is read-only); try again later"
                        .to_owned(),
                )
            }
            ApiError::DuplicateRequest { existing } => {
                problem.detail = Some(self.to_string());
                problem.existing_id = Some(existing.clone());
            }
            ApiError::NoRoute => {
                problem.detail = Some("there is no operation for this method and path".into())
            }
            other => problem.detail = Some(other.to_string()),
        }
        problem
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::OrganisationInactive => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::IllegalTransition { .. }
            | ApiError::Conflict { .. }
            | ApiError::KeyInFlight { .. }
            | ApiError::DuplicateRequest { .. } => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_)
            | ApiError::StorageFull(_)
            | ApiError::ReadOnly(_)
            | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Http(status) => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            ApiError::StorageFull(cause) => tracing::error!(%cause, "database storage full"),
            ApiError::ReadOnly(cause) => tracing::error!(%cause, "database read-only"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if matches!(self, ApiError::Unauthorized(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(seconds) = self.retry_after_secs() {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let ApiError::DuplicateRequest { existing } = self {
            response.insert_header((header::LOCATION, format!("/v1/buddy-requests/{existing}")));
        }
        response.body(serde_json::to_string(&self.to_problem()).unwrap_or_default())
    }
}

/// A database that is unreachable, full or read-only is a 503 of its own kind (see
/// [`crate::db::failure::classify`]); any other database error is a 500.
impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match crate::db::failure::classify(&e) {
            crate::db::failure::Failure::Unavailable => ApiError::Unavailable(e.to_string()),
            crate::db::failure::Failure::StorageFull => ApiError::StorageFull(e.to_string()),
            crate::db::failure::Failure::ReadOnly => ApiError::ReadOnly(e.to_string()),
            crate::db::failure::Failure::Other => {
                ApiError::Internal(anyhow::Error::new(e).context("database query failed"))
            }
        }
    }
}

/// The refusals of the rules and the storage, as the HTTP edge answers them.
impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(errors) => ApiError::Invalid(errors),
            DomainError::NotFound { resource, id } => ApiError::NotFound { resource, id },
            DomainError::IllegalTransition {
                resource,
                state,
                action,
            } => ApiError::IllegalTransition {
                resource,
                state,
                action,
            },
            concurrent @ DomainError::ConcurrentChange { .. } => ApiError::Conflict {
                kind: "concurrent-change",
                title: "Changed concurrently",
                detail: concurrent.to_string(),
            },
            failed @ DomainError::PreconditionFailed { .. } => ApiError::PreconditionFailed {
                detail: failed.to_string(),
            },
            DomainError::Conflict {
                kind,
                title,
                detail,
            } => ApiError::Conflict {
                kind,
                title,
                detail,
            },
            DomainError::DuplicateRequest { existing } => ApiError::DuplicateRequest { existing },
            DomainError::Unavailable(cause) => ApiError::Unavailable(cause),
            DomainError::StorageFull(cause) => ApiError::StorageFull(cause),
            DomainError::ReadOnly(cause) => ApiError::ReadOnly(cause),
            DomainError::Storage(e) => ApiError::from(e),
            DomainError::Internal(cause) => ApiError::Internal(cause).reclassified(),
        }
    }
}

impl ApiError {
    /// The error as the domain states it, for a handler's reading that runs inside an
    /// operation (the current representation an `If-Match` is compared with, see
    /// [`crate::ops::Precondition`]): a 404 stays a 404, an outage an outage; anything else the
    /// domain has no word for is internal.
    pub fn into_domain(self) -> DomainError {
        match self {
            ApiError::Invalid(errors) => DomainError::Invalid(errors),
            ApiError::NotFound { resource, id } => DomainError::NotFound { resource, id },
            ApiError::IllegalTransition {
                resource,
                state,
                action,
            } => DomainError::IllegalTransition {
                resource,
                state,
                action,
            },
            ApiError::Conflict {
                kind,
                title,
                detail,
            } => DomainError::Conflict {
                kind,
                title,
                detail,
            },
            ApiError::DuplicateRequest { existing } => DomainError::DuplicateRequest { existing },
            ApiError::Unavailable(cause) => DomainError::Unavailable(cause),
            ApiError::StorageFull(cause) => DomainError::StorageFull(cause),
            ApiError::ReadOnly(cause) => DomainError::ReadOnly(cause),
            ApiError::Internal(cause) => DomainError::Internal(cause),
            other => DomainError::internal(other),
        }
    }
}

/// What the store found (a handler reading through it), read as the domain reads it.
impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        DomainError::from(e).into()
    }
}

impl From<IllegalTransition> for ApiError {
    fn from(e: IllegalTransition) -> Self {
        DomainError::from(e).into()
    }
}

impl ApiError {
    /// An internal error that wraps a database failure (a diesel error inside its chain) as
    /// that failure: a 503 of its kind rather than a 500.
    pub fn reclassified(self) -> ApiError {
        use crate::db::failure::{wrapped, Failure};
        let ApiError::Internal(cause) = &self else {
            return self;
        };
        let failure = wrapped(cause);
        let message = || format!("{cause:#}");
        match failure {
            Some(Failure::Unavailable) => ApiError::Unavailable(message()),
            Some(Failure::StorageFull) => ApiError::StorageFull(message()),
            Some(Failure::ReadOnly) => ApiError::ReadOnly(message()),
            Some(Failure::Other) | None => self,
        }
    }
}

impl crate::db::StoreFailure for ApiError {
    fn failure(&self) -> Option<crate::db::failure::Failure> {
        use crate::db::failure::Failure;
        match self {
            ApiError::Unavailable(_) => Some(Failure::Unavailable),
            ApiError::StorageFull(_) => Some(Failure::StorageFull),
            ApiError::ReadOnly(_) => Some(Failure::ReadOnly),
            _ => None,
        }
    }

    fn reclassified(self) -> Self {
        ApiError::reclassified(self)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(format!("blocking task failed: {e}"))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
