//! The bridge: the clinic's daemon and the operator's command line, as a library so that
//! tests drive the same code the binary runs. `main.rs` only wires the command line.
//!
//! - [`cli`]: the command line (clap) and exit codes.
//! - [`rules`]: `bridge rules …` over `eligibility` and `fallback`.
//! - [`card`]: PC/SC readers (pcscd / WinSCard) and the virtual-card emulator for vpcd.
//! - [`clock`]: the one place that reads the system clock.
//! - [`gateway`]: the national system — the 端末's folders, or the simulator.

pub mod card;
pub mod cli;
pub mod clock;
pub mod gateway;
pub mod rules;
pub mod server;
pub mod store;
