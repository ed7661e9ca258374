//! API clients (the case systems' credentials) and their keys: revocation is for good.

use super::error::{DomainError, DomainResult};

/// A revoked API client gets no new keys.
pub fn ensure_issues_keys(client_revoked: bool) -> DomainResult<()> {
    if client_revoked {
        return Err(DomainError::conflict(
            "api-client-revoked",
            "API client revoked",
            "a revoked API client gets no new keys",
        ));
    }
    Ok(())
}

/// A client or key (`what`) is revoked once.
pub fn ensure_not_revoked(revoked: bool, what: &str) -> DomainResult<()> {
    if revoked {
        return Err(DomainError::conflict(
            "already-revoked",
            "Already revoked",
            format!("this {what} is revoked already"),
        ));
    }
    Ok(())
}
