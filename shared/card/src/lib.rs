//! APDUs, JPKI and 券面事項入力補助 AP operations, the PIN guard, the certificate summary,
//! reader drivers as sans-I/O state machines and the virtual My Number card.
//!
//! Not built yet: see "Known gaps" in `ARCHITECTURE.md` (issue: Card).
#![forbid(unsafe_code)]
