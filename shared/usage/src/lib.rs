//! マイナ保険証 usage, as the seed measures it (reference `domain.md` §7).
//!
//! - [`benchmarks`]: the national figures for July 2025 (by facility type, by prefecture,
//!   and by facility type × prefecture), transcribed from the seed into `data/2025-07.tsv`
//!   with its month and source; tests recompute every printed rate from its counts.
//! - [`ledger`]: the clinic's own confirmations, read from its reception events, counted
//!   per day and per month on both bases (オン資 件数 and, when patients are known, the
//!   receipt-like basis by persons).
//! - [`tier`]: the 医療DX推進体制整備加算 tier a billing month reaches (best of the 3rd–5th
//!   month before it, thresholds from `eligibility`'s dated policy table) and how many more
//!   マイナ保険証 confirmations this month would reach the next tier.
//!
//! Pure: no I/O, no clock, no panic on any input.
#![forbid(unsafe_code)]

pub mod benchmarks;
pub mod ledger;
pub mod prefecture;
pub mod rate;
pub mod report;
pub mod tier;

pub use benchmarks::{Benchmarks, Facility};
pub use ledger::{Confirmation, Kind, MonthUsage};
pub use rate::Rate;
pub use report::{report, Report};
pub use tier::{projection, Projection};
