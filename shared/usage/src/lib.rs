//! マイナ保険証 usage, as the seed measures it (reference `domain.md` §7).
//!
//! - [`benchmarks`]: the national figures for July 2025 (by facility type, by prefecture,
//!   and by facility type × prefecture), transcribed from the seed into `data/2025-07.tsv`
//!   with its month and source; tests recompute every printed rate from its counts.
//! - [`ledger`]: the clinic's own confirmations, read from its reception events, counted
//!   per day and per month on both bases (オン資 件数 and, when patients are known, the
//!   receipt-like basis by persons).
//! - [`series`]: the two national series (オン資件数ベース, レセプト件数ベース) as dated data
//!   (`data/series.tsv`), each point with its month, basis and source, never mixed.
//! - [`tier`]: the 加算 tier a billing month reaches (the 医療DX推進体制整備加算 to 2026-05,
//!   its successors' single 30% requirement from 2026-06; best of the 3rd–5th month before it,
//!   thresholds from `eligibility`'s dated policy table) and how many more マイナ保険証
//!   confirmations this month would reach the next tier.
//!
//! Pure: no I/O, no clock, no panic on any input.
#![forbid(unsafe_code)]

pub mod benchmarks;
pub mod care;
pub mod ledger;
pub mod prefecture;
pub mod rate;
pub mod report;
pub mod series;
pub mod tier;

pub use benchmarks::{Benchmarks, Facility};
pub use ledger::{Confirmation, Kind, MonthUsage};
pub use rate::Rate;
pub use report::{report, Report};
pub use series::{Series, SeriesBasis, SeriesPoint};
pub use tier::{projection, Projection};
