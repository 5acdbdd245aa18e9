//! End-to-end harness: starts pcscd, the vpcd virtual card, `bridge serve` and headless
//! Chromium by pid on loopback, and drives scenarios through the real UI.
//!
//! Not built yet: see "Known gaps" in `ARCHITECTURE.md` (issue: end-to-end suite).
#![forbid(unsafe_code)]
