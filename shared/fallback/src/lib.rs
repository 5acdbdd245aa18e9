//! The seed's reception decision tree as data, and a small engine over it.
//!
//! - [`model`]: questions, answers and outcomes (how qualification was established,
//!   documents, copay source, claim path ①②③, follow-up, the seed sentence).
//! - [`tree`]: the official tree, node by node.
//! - [`context`]: the visit context and how it answers questions (date-dependent facts
//!   go through `eligibility`'s policy table).
//! - [`engine`]: answers so far → the next question or the outcome.
//! - [`structure`]: paths and the soundness checks (no dead end, unreachable node or cycle).
//!
//! Pure: no I/O, no clock, no panic on any input.
#![forbid(unsafe_code)]

pub mod context;
pub mod engine;
mod export;
pub mod model;
pub mod structure;
pub mod tree;

pub use context::{Answers, OnlineResult, Presented, VisitContext, VisitType};
pub use engine::{caveats, DecideError, DecideRequest, Decision, Tree};
pub use model::{Fact, Root};
