//! Card readers on the bridge: PC/SC (pcscd on Linux, WinSCard on Windows) for any
//! reader, and the emulator that puts a virtual card into pcscd through vpcd.
//!
//! Only high-level operations leave this module (`check`, `confirm`,
//! `read_basic_info`); raw APDUs never do. APDUs are traced at `trace` level through
//! `card::apdu::Command`'s `Display`, which masks VERIFY data.

pub mod cli;
#[cfg(feature = "test-doubles")]
pub mod emulator;
pub mod logging;
mod pcsc_transport;
pub mod service;

pub use service::{ReaderError, ReaderEvent, ReaderInfo, ReaderService};
