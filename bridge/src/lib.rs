//! The bridge: the clinic's daemon and the operator's command line, as a library so that
//! tests drive the same code the binary runs. `main.rs` only wires the command line.
//!
//! - [`cli`]: the command line (clap) and exit codes.
//! - [`rules`]: `bridge rules …` over `eligibility` and `fallback`.
//! - [`card`]: PC/SC readers (pcscd / WinSCard) and the virtual-card emulator for vpcd.
//! - [`clock`]: the one place that reads the system clock.
//! - [`gateway`]: the national system — the 端末's folders, or the simulator.
//! - [`config`]: `serve`'s settings (defaults → TOML file → environment → flags).
//! - [`follow_up`]: re-runs pending 事後確認 lookups when the national system answers.
//! - [`policy_table`]: the one policy table the clinic decides by (embedded, or with the
//!   `--policy` override), shared with every terminal.
//! - [`store`]: the clinic's ledger (SQLite); [`server`]: HTTP + WebSocket for terminals.

pub mod backup;
pub mod bookings;
pub mod card;
pub mod cli;
pub mod clock;
pub mod config;
pub mod follow_up;
pub mod gateway;
pub mod policy_table;
pub mod rules;
pub mod server;
pub mod staff;
pub mod store;
