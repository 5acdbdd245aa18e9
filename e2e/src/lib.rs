//! End-to-end harness: starts the real components by pid on loopback and stops them when
//! dropped, also when an assertion fails.
//!
//! Today: [`pcsc::Pcsc`] — `pcscd -f` with the vsmartcard vpcd driver and the bridge's
//! virtual-card emulator. Headless Chromium and the bridge server come with their issues
//! (see "Known gaps" in `ARCHITECTURE.md`).
#![forbid(unsafe_code)]

pub mod pcsc;
