//! Sony Port-100 (RC-S380, 054C:06C1/06C3, interface 0, bulk OUT 2 / IN 0x81).
//!
//! ACK `00 00 FF 00 FF 00`. Data frame `00 00 FF FF FF LEN_L LEN_H LCS DATA DCS 00` with
//! LCS = −(LEN_L + LEN_H) and DCS = −ΣDATA (mod 256). A command is `D6 <code> <params>`;
//! the reader ACKs it, then answers `D7 <code+1> …`. (reference card.md §5, after nfcpy.)

use super::{Rf, RfError, UsbPipe};

pub const VENDOR: u16 = 0x054C;
pub const PRODUCTS: [u16; 2] = [0x06C1, 0x06C3];
pub const ACK: [u8; 6] = [0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00];

pub const IN_SET_RF: u8 = 0x00;
pub const IN_SET_PROTOCOL: u8 = 0x02;
pub const IN_COMM_RF: u8 = 0x04;
pub const SWITCH_RF: u8 = 0x06;
pub const GET_FIRMWARE_VERSION: u8 = 0x20;
pub const SET_COMMAND_TYPE: u8 = 0x2A;

/// InSetRF for 106 kbps Type B (send and receive).
pub const RF_106B: [u8; 4] = [0x03, 0x07, 0x0F, 0x07];
/// InSetRF for 106 kbps Type A.
pub const RF_106A: [u8; 4] = [0x02, 0x03, 0x0F, 0x03];
/// InSetProtocol defaults (nfcpy's `in_set_protocol_defaults`), set before Type A.
pub const PROTOCOL_DEFAULTS: [u8; 38] = [
    0x00, 0x18, 0x01, 0x01, 0x02, 0x01, 0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0x06, 0x00, 0x07, 0x08,
    0x08, 0x00, 0x09, 0x00, 0x0A, 0x00, 0x0B, 0x00, 0x0C, 0x00, 0x0E, 0x04, 0x0F, 0x00, 0x10, 0x00,
    0x11, 0x00, 0x12, 0x00, 0x13, 0x06,
];
/// InSetProtocol parameter ids for Type A framing.
pub const ADD_CRC: u8 = 0x01;
pub const CHECK_CRC: u8 = 0x02;
pub const ADD_PARITY: u8 = 0x04;
pub const CHECK_PARITY: u8 = 0x05;
pub const LAST_BYTE_BIT_COUNT: u8 = 0x07;

/// The InSetProtocol parameters for a Type A framing.
pub fn framing_params(f: super::Framing) -> [u8; 10] {
    let crc = u8::from(f.crc);
    [ADD_CRC, crc, CHECK_CRC, crc, ADD_PARITY, 1, CHECK_PARITY, 1, LAST_BYTE_BIT_COUNT, f.last_bits]
}

/// InSetProtocol for Type B (as nfcpy sets it).
pub const PROTOCOL_TYPE_B: [u8; 10] = [0x0B, 0x01, 0x09, 0x01, 0x0C, 0x01, 0x0A, 0x01, 0x00, 0x14];

/// InCommRF error bits (nfcpy's names).
pub const ERROR_BITS: [(u32, &str); 12] = [
    (0x0000_0001, "protocol"),
    (0x0000_0002, "parity"),
    (0x0000_0004, "CRC"),
    (0x0000_0008, "collision"),
    (0x0000_0010, "overflow"),
    (0x0000_0040, "temperature"),
    (0x0000_0080, "receive timeout"),
    (0x0000_0100, "crypto1"),
    (0x0000_0200, "RF collision avoidance"),
    (0x0000_0400, "RF off"),
    (0x0000_0800, "transmit timeout"),
    (0x8000_0000, "receive length"),
];
pub const RECEIVE_TIMEOUT: u32 = 0x0000_0080;

/// The names of the error bits set in `bits` (`0x…` for bits without a name).
pub fn describe(bits: u32) -> String {
    let mut names: Vec<String> =
        ERROR_BITS.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| (*n).to_string()).collect();
    let unknown = bits & !ERROR_BITS.iter().fold(0, |all, (b, _)| all | b);
    if unknown != 0 || names.is_empty() {
        names.push(format!("{bits:#010x}"));
    }
    names.join(", ")
}

/// A data frame around `data`.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let len = data.len() as u16;
    let [lo, hi] = len.to_le_bytes();
    let lcs = 0u8.wrapping_sub(lo.wrapping_add(hi));
    let dcs = 0u8.wrapping_sub(data.iter().fold(0u8, |s, b| s.wrapping_add(*b)));
    let mut out = vec![0x00, 0x00, 0xFF, 0xFF, 0xFF, lo, hi, lcs];
    out.extend_from_slice(data);
    out.extend_from_slice(&[dcs, 0x00]);
    out
}

/// The frame of command `code` with `params`.
pub fn command(code: u8, params: &[u8]) -> Vec<u8> {
    let mut data = vec![0xD6, code];
    data.extend_from_slice(params);
    frame(&data)
}

/// What came from the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Ack,
    Data(Vec<u8>),
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("too short")]
    Short,
    #[error("no 00 00 FF preamble")]
    Preamble,
    #[error("length checksum")]
    LengthChecksum,
    #[error("data checksum")]
    DataChecksum,
    #[error("length beyond the bytes received")]
    Truncated,
}

pub fn parse_frame(bytes: &[u8]) -> Result<Frame, FrameError> {
    if bytes.starts_with(&ACK) {
        return Ok(Frame::Ack);
    }
    if bytes.len() < 10 {
        return Err(FrameError::Short);
    }
    if bytes[..5] != [0x00, 0x00, 0xFF, 0xFF, 0xFF] {
        return Err(FrameError::Preamble);
    }
    let (lo, hi, lcs) = (bytes[5], bytes[6], bytes[7]);
    if lo.wrapping_add(hi).wrapping_add(lcs) != 0 {
        return Err(FrameError::LengthChecksum);
    }
    let len = usize::from(u16::from_le_bytes([lo, hi]));
    let data = bytes.get(8..8 + len).ok_or(FrameError::Truncated)?;
    let dcs = *bytes.get(8 + len).ok_or(FrameError::Truncated)?;
    if data.iter().fold(dcs, |s, b| s.wrapping_add(*b)) != 0 {
        return Err(FrameError::DataChecksum);
    }
    Ok(Frame::Data(data.to_vec()))
}

/// InCommRF's timeout field: 0.1 ms units, one extra millisecond (as nfcpy does).
pub fn timeout_units(ms: u32) -> u16 {
    if ms == 0 {
        0
    } else {
        ms.saturating_add(1).saturating_mul(10).min(0xFFFF) as u16
    }
}

/// An RC-S380 behind a [`UsbPipe`].
#[derive(Debug)]
pub struct Port100<P> {
    pipe: P,
    frames: usize,
    wire: usize,
    /// The Type A framing in force (`None` in Type B).
    framing: Option<super::Framing>,
}

impl<P: UsbPipe> Port100<P> {
    pub fn new(pipe: P) -> Port100<P> {
        Port100 { pipe, frames: 0, wire: 0, framing: None }
    }

    pub fn into_pipe(self) -> P {
        self.pipe
    }

    async fn read_frame(&mut self, timeout_ms: u32) -> Result<Frame, RfError> {
        let bytes = self.pipe.transfer_in(512, timeout_ms).await?;
        self.wire += bytes.len();
        parse_frame(&bytes).map_err(|e| RfError::Reader(e.to_string()))
    }

    /// Sends command `code`, expects the ACK, then `D7 code+1 …`; returns what follows.
    pub async fn call(
        &mut self,
        code: u8,
        params: &[u8],
        timeout_ms: u32,
    ) -> Result<Vec<u8>, RfError> {
        let out = command(code, params);
        self.wire += out.len();
        self.pipe.transfer_out(&out).await?;
        if self.read_frame(100).await? != Frame::Ack {
            return Err(RfError::Reader(format!("no ACK for command {code:#04x}")));
        }
        match self.read_frame(timeout_ms.saturating_add(100)).await? {
            Frame::Data(d) if d.len() >= 2 && d[0] == 0xD7 && d[1] == code.wrapping_add(1) => {
                Ok(d[2..].to_vec())
            }
            other => Err(RfError::Reader(format!("unexpected answer to {code:#04x}: {other:?}"))),
        }
    }

    /// SetCommandType 1, then the field off (nfcpy's start).
    pub async fn init(&mut self) -> Result<(), RfError> {
        self.call(SET_COMMAND_TYPE, &[0x01], 100).await?;
        self.call(SWITCH_RF, &[0x00], 100).await?;
        Ok(())
    }
}

impl<P: UsbPipe> Port100<P> {
    async fn comm_rf(&mut self, data: &[u8], timeout_ms: u32) -> Result<Vec<u8>, RfError> {
        self.frames += 1;
        let mut params = timeout_units(timeout_ms).to_le_bytes().to_vec();
        params.extend_from_slice(data);
        let answer = self.call(IN_COMM_RF, &params, timeout_ms).await?;
        if answer.len() < 5 {
            return Err(RfError::Reader("InCommRF answer under 5 bytes".into()));
        }
        let bits = u32::from_le_bytes([answer[0], answer[1], answer[2], answer[3]]);
        match bits {
            0 => Ok(answer[5..].to_vec()),
            RECEIVE_TIMEOUT => Err(RfError::Timeout),
            other => Err(RfError::Transmission(other)),
        }
    }

    async fn set_framing(&mut self, framing: super::Framing) -> Result<(), RfError> {
        if self.framing != Some(framing) {
            self.call(IN_SET_PROTOCOL, &framing_params(framing), 100).await?;
            self.framing = Some(framing);
        }
        Ok(())
    }
}

impl<P: UsbPipe> Rf for Port100<P> {
    async fn setup_type_b(&mut self) -> Result<(), RfError> {
        self.call(IN_SET_RF, &RF_106B, 100).await?;
        self.call(IN_SET_PROTOCOL, &PROTOCOL_TYPE_B, 100).await?;
        self.framing = None;
        Ok(())
    }

    async fn setup_type_a(&mut self) -> Result<(), RfError> {
        self.call(IN_SET_RF, &RF_106A, 100).await?;
        self.call(IN_SET_PROTOCOL, &PROTOCOL_DEFAULTS, 100).await?;
        self.framing = None;
        Ok(())
    }

    async fn exchange_framed(
        &mut self,
        data: &[u8],
        framing: super::Framing,
        timeout_ms: u32,
    ) -> Result<Vec<u8>, RfError> {
        self.set_framing(framing).await?;
        self.comm_rf(data, timeout_ms).await
    }

    async fn exchange(&mut self, data: &[u8], timeout_ms: u32) -> Result<Vec<u8>, RfError> {
        if self.framing.is_some() {
            self.set_framing(super::Framing::STANDARD).await?;
        }
        self.comm_rf(data, timeout_ms).await
    }

    async fn field_off(&mut self) -> Result<(), RfError> {
        self.call(SWITCH_RF, &[0x00], 100).await.map(|_| ())
    }

    fn frames(&self) -> usize {
        self.frames
    }

    fn wire_bytes(&self) -> usize {
        self.wire
    }
}
