//! End-to-end harness: starts the real components by pid on loopback and stops them when
//! dropped, also when an assertion fails.
//!
//! - [`pcsc::Pcsc`]: `pcscd -f` with the vsmartcard vpcd driver and the bridge's
//!   virtual-card emulator.
//! - [`bridge::Serve`]: a real `bridge serve` process, with pairing and a small HTTP client.
//! - [`browser::Browser`]: headless Chromium through its own chromedriver, one per
//!   terminal, with a fresh profile.
//! - [`netns::Lan`]: two network namespaces and a veth link (the pharmacy's tablet on the
//!   clinic LAN), with relays for the runner's own control traffic.
//! - [`report`]: figures scenarios leave for `cargo xtask e2e`'s report.
//! - [`staff`]: the virtual authenticator and enrolment on the sign-in screen.
#![forbid(unsafe_code)]

pub mod bridge;
pub mod browser;
pub mod logs;
pub mod netns;
pub mod pcsc;
pub mod report;
pub mod staff;
pub mod terminal;
