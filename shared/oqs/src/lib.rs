//! The XML messages of the 連携アプリケーション's file interface (`req/`, `res/`, `face/`).
//!
//! - [`xml`]: decoding (UTF-8, Shift_JIS), a bounded element tree, XXE-safe (no DTD, no
//!   entities but XML's own), typed errors.
//! - [`model`]: the request by numbers and the answer with every known field, values as
//!   strings; unknown elements kept; writers for both.
//! - [`interpret`]: confirmed / error / 無効 / 新しい資格あり / 該当なし / 複数該当, the
//!   message as sent, the copay, ● in names, a missing copay ratio.
//!
//! No file system: callers pass bytes.
#![forbid(unsafe_code)]

pub mod bulk;
pub mod interpret;
pub mod model;
pub mod xml;

pub use interpret::{interpret, Interpretation, Status};
pub use model::{Answer, QualificationResult, Request};
pub use xml::XmlError;

/// Decodes and parses an answer file.
pub fn parse_answer(bytes: &[u8]) -> Result<Answer, XmlError> {
    let text = xml::decode(bytes)?;
    Answer::from_root(&xml::parse(&text)?)
}

/// Decodes and parses a request file.
pub fn parse_request(bytes: &[u8]) -> Result<Request, XmlError> {
    let text = xml::decode(bytes)?;
    Request::from_root(&xml::parse(&text)?)
}
