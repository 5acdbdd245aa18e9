//! The reception terminal: a Leptos (client-side rendered) app compiled to WebAssembly
//! by Trunk and served by the bridge. It calls the shared crates for every rule.
//!
//! Not built yet: see "Known gaps" in `ARCHITECTURE.md` (issue: frontend).
#![forbid(unsafe_code)]
