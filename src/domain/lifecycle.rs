//! The common shape of every state machine: a state, the actions on it, and one function that
//! says which moves are legal. The API, the history and the tests all go through [`transition`].

use std::fmt::Display;

/// A state machine whose legal moves are given by [`Lifecycle::next`].
pub trait Lifecycle: Copy + Display + 'static {
    type Action: Copy + Display;
    /// The resource name used in error messages, e.g. `pairing`.
    const RESOURCE: &'static str;
    /// The state after `action`, or `None` when the action is not allowed from `self`.
    fn next(self, action: Self::Action) -> Option<Self>;
}

/// An action that the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a {resource} that is {state}")]
pub struct IllegalTransition {
    pub resource: &'static str,
    pub state: String,
    pub action: String,
}

pub fn transition<S: Lifecycle>(from: S, action: S::Action) -> Result<S, IllegalTransition> {
    from.next(action).ok_or_else(|| IllegalTransition {
        resource: S::RESOURCE,
        state: from.to_string(),
        action: action.to_string(),
    })
}
