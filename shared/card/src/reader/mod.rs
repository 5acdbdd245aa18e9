//! USB card readers the page drives itself (WebUSB), sans I/O.
//!
//! Chrome lets an ordinary page claim only the vendor-specific interfaces of Sony's
//! readers, so the page must speak the reader's own protocol and run ISO 14443-4 itself:
//!
//! - [`UsbPipe`]: bulk OUT / bulk IN, the one thing a driver needs from USB (the frontend
//!   implements it with WebUSB; [`sim`] with a simulated reader).
//! - [`port100`]: Sony Port-100 (RC-S380): frames with both checksums, ACKs, the commands
//!   to set up 106 kbps Type B and `InCommRF`, error bits.
//! - [`rcs300`]: Sony RC-S300: CCID Escape framing with sequence numbers carrying the
//!   transparent-session commands (start/end, RF on/off, switch protocol, transceive).
//! - [`isodep`]: the ISO-DEP host over any [`Rf`] (SENSB_REQ/ATTRIB, I-blocks with block
//!   numbers, chaining both ways, R(ACK)/R(NAK) recovery, S(WTX)); it implements
//!   [`crate::Transport`], so JPKI runs over it unchanged.
//! - [`sim`] (feature `virtual`): simulated RC-S380 and RC-S300 with the virtual card
//!   behind an ISO-DEP card side, for tests and benchmarks.

pub mod isodep;
pub mod port100;
pub mod rcs300;
#[cfg(feature = "virtual")]
pub mod sim;

use crate::transport::TransportError;

/// A reader's bulk endpoints.
#[allow(async_fn_in_trait)]
pub trait UsbPipe {
    async fn transfer_out(&mut self, data: &[u8]) -> Result<(), TransportError>;
    /// Up to `max` bytes; `timeout_ms` bounds the wait (a WebUSB implementation races it
    /// against a timer). A timeout is `TransportError::Io("timeout")`.
    async fn transfer_in(&mut self, max: usize, timeout_ms: u32)
        -> Result<Vec<u8>, TransportError>;
}

/// Why an RF exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RfError {
    /// No answer from the card within the time (it may have been pulled away).
    #[error("カードから応答がありません / no answer from the card")]
    Timeout,
    /// The reader reported a transmission error (its error bits, named where known).
    #[error("カードとの無線通信エラー（{}）/ RF error: {}", port100::describe(*.0), port100::describe(*.0))]
    Transmission(u32),
    /// The reader's own framing went wrong.
    #[error("カードリーダーの応答が不正です: {0} / the reader's answer is malformed: {0}")]
    Reader(String),
    #[error("{0}")]
    Transport(#[from] TransportError),
}

/// How a frame goes on the air during Type A activation (ISO/IEC 14443-3): REQA is a
/// 7-bit short frame without CRC, anticollision has no CRC, SELECT and RATS have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    pub crc: bool,
    /// Valid bits in the last byte (7 for REQA/WUPA, else 8).
    pub last_bits: u8,
}

impl Framing {
    pub const SHORT: Framing = Framing { crc: false, last_bits: 7 };
    pub const NO_CRC: Framing = Framing { crc: false, last_bits: 8 };
    pub const STANDARD: Framing = Framing { crc: true, last_bits: 8 };
}

/// A contactless front end: set up 106 kbps Type B or Type A, exchange frames (the reader
/// adds and checks the CRC unless told otherwise), switch the field off.
#[allow(async_fn_in_trait)]
pub trait Rf {
    async fn setup_type_b(&mut self) -> Result<(), RfError>;
    async fn setup_type_a(&mut self) -> Result<(), RfError>;
    /// A Type A activation frame with its own framing.
    async fn exchange_framed(
        &mut self,
        data: &[u8],
        framing: Framing,
        timeout_ms: u32,
    ) -> Result<Vec<u8>, RfError>;
    /// A frame with CRC (ISO-DEP blocks, Type B activation).
    async fn exchange(&mut self, data: &[u8], timeout_ms: u32) -> Result<Vec<u8>, RfError>;
    async fn field_off(&mut self) -> Result<(), RfError>;
    /// Frames exchanged so far (for the framing-overhead benchmark).
    fn frames(&self) -> usize;
    /// Bytes on the USB wire so far, both directions.
    fn wire_bytes(&self) -> usize;
}
