//! The outbox of mails: where a message is in its life, and when an admin may send a dead one
//! again.

use super::error::{DomainError, DomainResult};

crate::string_enum! {
    /// Where a message is in its life.
    OutboxState {
        /// Waiting for its `next_attempt_at`.
        Pending => "pending",
        /// Claimed by a worker until its lease runs out.
        Sending => "sending",
        /// Accepted by the transport.
        Sent => "sent",
        /// Given up: a permanent failure, or too many attempts. An admin may retry it.
        Dead => "dead",
    }
}

impl OutboxState {
    /// An admin may queue a message again only when it is dead, and only while it still has its
    /// contents (privacy erasure takes them, for good).
    pub fn ensure_retryable(self, contents_erased: bool) -> DomainResult<()> {
        if self != OutboxState::Dead {
            return Err(DomainError::IllegalTransition {
                resource: "outbox message",
                state: self.to_string(),
                action: "retry".to_owned(),
            });
        }
        if contents_erased {
            return Err(DomainError::conflict(
                "contents-erased",
                "Contents erased",
                "the message's contents were erased for privacy; it cannot be sent",
            ));
        }
        Ok(())
    }
}
