//! The common shape of every state machine: a state, the actions on it, and one function that
//! says which moves are legal. The API, the history and the tests all go through [`transition`].

use std::fmt::Display;

/// A state machine whose legal moves are given by [`Lifecycle::next`].
pub trait Lifecycle: Copy + Display + std::fmt::Debug + Eq + 'static {
    type Action: Copy + Display + std::fmt::Debug + Eq;
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

/// A legal move of one object, decided by [`Step::of`]: what the store records. Its fields can
/// only be read, so the store writes the moves the domain allowed and cannot make one up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<S: Lifecycle> {
    action: S::Action,
    from: S,
    to: S,
}

impl<S: Lifecycle> Step<S> {
    /// The move `action` makes from `from`, or the [`IllegalTransition`] it is.
    pub fn of(from: S, action: S::Action) -> Result<Self, IllegalTransition> {
        let to = transition(from, action)?;
        Ok(Step { action, from, to })
    }

    pub fn action(&self) -> S::Action {
        self.action
    }

    pub fn from(&self) -> S {
        self.from
    }

    pub fn to(&self) -> S {
        self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::organisation::{OrganisationAction, OrganisationState};

    #[test]
    fn a_step_is_only_what_the_machine_allows() {
        let step = Step::of(OrganisationState::Active, OrganisationAction::Deactivate).unwrap();
        assert_eq!(
            (step.from(), step.to(), step.action()),
            (
                OrganisationState::Active,
                OrganisationState::Inactive,
                OrganisationAction::Deactivate
            )
        );
        let refused = Step::of(OrganisationState::Active, OrganisationAction::Reactivate);
        assert_eq!(
            refused,
            Err(IllegalTransition {
                resource: "organisation",
                state: "active".into(),
                action: "reactivate".into(),
            })
        );
    }
}
