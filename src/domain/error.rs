//! The errors of the service's own rules and of its storage, free of HTTP: what the store, the
//! domain, the mail and the use-case operations return. The HTTP edge turns them into problem
//! documents (`impl From<DomainError> for crate::error::ApiError`); nothing here knows a
//! status code.

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

use super::lifecycle::IllegalTransition;

/// One invalid field of a request: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Location of the field: a JSON path such as `client.email`, a query parameter name, or
    /// `id` for a path segment. Empty for the body as a whole.
    pub field: String,
    /// What is wrong, in plain English.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why an operation, a rule or a query did not go through.
#[derive(thiserror::Error)]
pub enum DomainError {
    /// The input breaks a value rule; every invalid field found.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// No such object, or not visible to the caller.
    #[error("{} {id} not found", resource.replace('_', " "))]
    NotFound { resource: &'static str, id: String },
    /// The action is not allowed from the object's current state.
    #[error("cannot {action} a {resource} that is {state}")]
    IllegalTransition {
        resource: &'static str,
        state: String,
        action: String,
    },
    /// Another change got to the object between our read and our guarded update.
    #[error("the {resource} was changed by another request; read it again and retry")]
    ConcurrentChange { resource: &'static str },
    /// The caller asked to change the object only in the state it last read (`If-Match`), and
    /// the object is no longer in that state (or the tag never was its).
    #[error("{} {id} has changed since the representation whose ETag was sent in If-Match: read it again (GET) and, if the change still applies, send it again with the new ETag", resource.replace('_', " "))]
    PreconditionFailed { resource: &'static str, id: String },
    /// The organisation already has a buddy request with this `client_ref`: `existing`.
    #[error("this organisation already has a buddy request with this client_ref: {existing}")]
    DuplicateRequest { existing: String },
    /// A rule of the programme forbids this (capacity, duplicates, unmet requirements...):
    /// `kind` names it for clients, `title` sums it up.
    #[error("{detail}")]
    Conflict {
        kind: &'static str,
        title: &'static str,
        detail: String,
    },
    /// The database cannot be reached right now.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database is full.
    #[error("database full: {0}")]
    StorageFull(String),
    /// The database takes no changes.
    #[error("database read-only: {0}")]
    ReadOnly(String),
    /// A query failed; what it means (an outage, a full disk, a bug) is read from the error.
    #[error("database query failed: {0}")]
    Storage(#[from] diesel::result::Error),
    /// Anything else: a bug or corrupt data. The cause is logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl fmt::Debug for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainError::Internal(e) => write!(f, "{e:?}"),
            other => write!(f, "{other}"),
        }
    }
}

impl DomainError {
    pub fn not_found(resource: &'static str, id: impl fmt::Display) -> Self {
        DomainError::NotFound {
            resource,
            id: id.to_string(),
        }
    }

    /// One field breaks a value rule.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldError::new(field, message)])
    }

    /// A rule of the programme forbids this: `kind` names the rule for clients (the problem
    /// type), `title` sums it up, `detail` says what to do.
    pub fn conflict(kind: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        DomainError::Conflict {
            kind,
            title,
            detail: detail.into(),
        }
    }

    /// The caller's record duplicates an existing one (a name or address taken).
    pub fn duplicate(detail: impl Into<String>) -> Self {
        DomainError::conflict("duplicate", "Already exists", detail)
    }

    pub fn internal(message: impl fmt::Display) -> Self {
        DomainError::Internal(anyhow::anyhow!("{message}"))
    }
}

impl From<IllegalTransition> for DomainError {
    fn from(e: IllegalTransition) -> Self {
        DomainError::IllegalTransition {
            resource: e.resource,
            state: e.state,
            action: e.action,
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
