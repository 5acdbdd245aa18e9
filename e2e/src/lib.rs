//! End-to-end harness: starts the real components by pid on loopback and stops them when
//! dropped, also when an assertion fails.
//!
//! - [`pcsc::Pcsc`]: `pcscd -f` with the vsmartcard vpcd driver and the bridge's
//!   virtual-card emulator.
//! - [`bridge::Serve`]: a real `bridge serve` process, with pairing and a small HTTP client.
#![forbid(unsafe_code)]

pub mod bridge;
pub mod pcsc;
