//! The XML messages of the 連携アプリケーション's file interface (`req/`, `res/`, `face/`):
//! types, a tolerant parser that rejects DTDs and entities, a writer, and the
//! interpretation of answers.
//!
//! Not built yet: see "Known gaps" in `ARCHITECTURE.md` (issue: gateway).
#![forbid(unsafe_code)]
