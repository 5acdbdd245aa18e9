//! Reading the My Number card and the スマホ用電子証明書, sans I/O.
//!
//! - [`apdu`]: command/response APDUs, status words, a `Display` that masks PINs.
//! - [`transport`]: the one trait a reader implements (PC/SC, WebUSB, the virtual card).
//! - [`jpki`], [`text_ap`]: the two applications; [`certificate`]: the auth certificate's
//!   summary and its expiry/grace state under the policy table.
//! - [`pin`]: the [`pin::Pin`] type and the guard every VERIFY goes through.
//! - [`ops`]: `check`, `confirm`, `read_basic_info` — what reception uses.
//! - [`reader`]: Sony USB readers driven by the page (Port-100) and the ISO-DEP host, as
//!   state machines over a USB pipe.
//! - [`virtual_card`] (feature `virtual`): a card that answers like the real one, and the
//!   test JPKI CA.
//!
//! No I/O, no clock: the transport is a trait and `today` is a parameter.
#![forbid(unsafe_code)]

pub mod apdu;
pub mod ber;
pub mod certificate;
pub mod error;
pub mod jpki;
pub mod ops;
pub mod pin;
pub mod reader;
pub mod text_ap;
pub mod transport;
#[cfg(feature = "virtual")]
pub mod virtual_card;

pub use error::CardError;
pub use jpki::Holder;
pub use transport::{Transport, TransportError};
