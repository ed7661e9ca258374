//! Matching: which buddies may be proposed for a request, and in which order.
//!
//! Pure functions, free of SQL and HTTP: [`store::candidates`](crate::store::candidates) loads
//! the facts in a fixed number of queries, [`rank`] filters, scores and orders them, and
//! [`explain`] writes the human-readable breakdown of the few candidates shown.
//!
//! * **Hard filters** ([`Exclusion`]): the buddy is active, has free capacity (live pairings
//!   below capacity), did not decline this request, has no expired proposal for it (so an
//!   expired proposal moves on to the next buddy), is not excluded from it by staff, and is not
//!   the buddy of its current live pairing.
//! * **Score**: five components, each between 0 and 1 (see [`ComponentName`]), weighted by
//!   [`Weights`]; the score is `Σ weight·value / Σ weights`, between 0 and 1.
//! * **Order**: score descending (equal to six decimals counts as equal), then the lower load
//!   ratio (live pairings / capacity), then the longer since the last proposal (never proposed
//!   first), then the buddy id ascending. Every buddy has a distinct id, so the order is total.

pub mod score;

pub use score::{
    explain, rank, BuddyFacts, Component, ComponentName, Exclusion, Pool, RequestFilters,
    RequestProfile, Scored, Weights,
};
