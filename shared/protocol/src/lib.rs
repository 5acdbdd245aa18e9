//! Versioned wire types exchanged between the frontend and the bridge (HTTP and
//! WebSocket bodies). Holds no business logic.
//!
//! Not built yet: see "Known gaps" in `ARCHITECTURE.md` (issues: bridge, frontend).
#![forbid(unsafe_code)]
