//! Sony RC-S300 (054C:0DC8/0DC9, interface 1, bulk endpoint 2, 64-byte packets).
//!
//! Commands travel as CCID `PC_to_RDR_Escape` (`6B`, 10-byte little-endian header with a
//! sequence number) carrying Sony's `FF 50 00 <P2> …` commands, whose bodies are the
//! PC/SC transparent-session data objects: start/end session (`81`/`82`), RF off/on
//! (`83`/`84`), switch protocol (`8F`, here ISO 14443 Type B at layer 2, so the host runs
//! ISO-DEP), and transceive (`95`, with the timer `5F 46` in µs). Answers come back in
//! `RDR_to_PC_Escape` (`83`; status bit 7 = time extension: keep reading) as data objects
//! — `C0` error status, `96` response status, `97` the card's bytes — then `90 00`.
//! The tags follow the public drivers of this reader; no hardware was available to
//! confirm them (see ARCHITECTURE.md, known gaps).

use super::{Rf, RfError, UsbPipe};

pub const VENDOR: u16 = 0x054C;
pub const PRODUCTS: [u16; 2] = [0x0DC8, 0x0DC9];
pub const INTERFACE: u8 = 1;
pub const ENDPOINT: u8 = 2;

pub const START_SESSION: u8 = 0x81;
pub const END_SESSION: u8 = 0x82;
pub const RF_OFF: u8 = 0x83;
pub const RF_ON: u8 = 0x84;
pub const SWITCH_PROTOCOL: u8 = 0x8F;
pub const TRANSCEIVE: u8 = 0x95;
pub const TIMER: [u8; 2] = [0x5F, 0x46];
pub const ERROR_STATUS: u8 = 0xC0;
pub const RESPONSE_STATUS: u8 = 0x96;
pub const RESPONSE_DATA: u8 = 0x97;
/// Switch protocol: ISO/IEC 14443 Type B, layer 2 (raw frames; ISO-DEP on the host).
pub const TYPE_B_LAYER_2: [u8; 2] = [0x01, 0x02];
/// Switch protocol: ISO/IEC 14443 Type A, layer 2.
pub const TYPE_A_LAYER_2: [u8; 2] = [0x00, 0x02];
/// Transmission and reception flags (bit 0: no CRC sent, bit 1: no CRC checked).
pub const TX_RX_FLAGS: u8 = 0x90;
/// Transmission bit framing: valid bits in the last byte (0 = 8).
pub const TX_BIT_FRAMING: u8 = 0x91;

/// A CCID Escape message around `payload`.
pub fn escape(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x6B];
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0x00, seq, 0x00, 0x00, 0x00]);
    out.extend_from_slice(payload);
    out
}

/// A session-management command (start/end, RF on/off): `FF 50 00 00 02 <tag> 00 00`.
pub fn manage(tag: u8) -> Vec<u8> {
    vec![0xFF, 0x50, 0x00, 0x00, 0x02, tag, 0x00, 0x00]
}

/// `FF 50 00 02 04 8F 02 <protocol> <layer> 00`.
pub fn switch_protocol(protocol: [u8; 2]) -> Vec<u8> {
    vec![0xFF, 0x50, 0x00, 0x02, 0x04, SWITCH_PROTOCOL, 0x02, protocol[0], protocol[1], 0x00]
}

/// A BER-TLV length.
pub fn ber_length(n: usize) -> Vec<u8> {
    match n {
        0..=0x7F => vec![n as u8],
        0x80..=0xFF => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

/// `FF 50 00 01` with an extended Lc, the timer and the transceive object, extended Le.
pub fn transceive(data: &[u8], timeout_ms: u32) -> Vec<u8> {
    transceive_framed(data, None, timeout_ms)
}

/// The same with Type A framing objects first (CRC on/off, bits in the last byte).
pub fn transceive_framed(data: &[u8], framing: Option<super::Framing>, timeout_ms: u32) -> Vec<u8> {
    let mut objects = Vec::new();
    if let Some(f) = framing {
        let flags = if f.crc { 0x00 } else { 0x03 };
        objects.extend_from_slice(&[
            TX_RX_FLAGS,
            0x01,
            flags,
            TX_BIT_FRAMING,
            0x01,
            f.last_bits % 8,
        ]);
    }
    objects.extend_from_slice(&TIMER);
    objects.push(0x04);
    objects.extend_from_slice(&timeout_ms.saturating_mul(1000).to_le_bytes());
    objects.push(TRANSCEIVE);
    objects.extend_from_slice(&ber_length(data.len()));
    objects.extend_from_slice(data);
    let mut out = vec![0xFF, 0x50, 0x00, 0x01, 0x00];
    out.extend_from_slice(&(objects.len() as u16).to_be_bytes());
    out.extend_from_slice(&objects);
    out.extend_from_slice(&[0x00, 0x00]);
    out
}

/// The data objects of an answer (tag, value), after checking its `90 00`.
pub fn parse_objects(answer: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, RfError> {
    let (body, sw) = answer
        .split_last_chunk::<2>()
        .ok_or_else(|| RfError::Reader("answer under 2 bytes".into()))?;
    if *sw != [0x90, 0x00] {
        return Err(RfError::Reader(format!("status {:02X}{:02X}", sw[0], sw[1])));
    }
    let mut objects = Vec::new();
    let mut rest = body;
    while let Some((&tag, after)) = rest.split_first() {
        // Two-byte tags (5F xx) are passed over as a unit.
        let (tag, after) =
            if tag == 0x5F { (tag, after.get(1..).unwrap_or(&[])) } else { (tag, after) };
        let (len, after) = match after {
            [0x81, n, r @ ..] => (usize::from(*n), r),
            [0x82, h, l, r @ ..] => (usize::from(*h) << 8 | usize::from(*l), r),
            [n, r @ ..] if *n < 0x80 => (usize::from(*n), r),
            _ => return Err(RfError::Reader("bad TLV length".into())),
        };
        let value = after.get(..len).ok_or_else(|| RfError::Reader("TLV past the end".into()))?;
        objects.push((tag, value.to_vec()));
        rest = &after[len..];
    }
    Ok(objects)
}

/// An RC-S300 behind a [`UsbPipe`].
#[derive(Debug)]
pub struct RcS300<P> {
    pipe: P,
    seq: u8,
    frames: usize,
    wire: usize,
}

impl<P: UsbPipe> RcS300<P> {
    pub fn new(pipe: P) -> RcS300<P> {
        RcS300 { pipe, seq: 0, frames: 0, wire: 0 }
    }

    pub fn into_pipe(self) -> P {
        self.pipe
    }

    /// Sends one escape command and returns the answer's payload (waiting out time
    /// extensions for the same sequence number).
    pub async fn call(&mut self, payload: &[u8], timeout_ms: u32) -> Result<Vec<u8>, RfError> {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let out = escape(seq, payload);
        self.wire += out.len();
        self.pipe.transfer_out(&out).await?;
        loop {
            let bytes = self.pipe.transfer_in(512, timeout_ms.saturating_add(100)).await?;
            self.wire += bytes.len();
            if bytes.len() < 10 || bytes[0] != 0x83 {
                return Err(RfError::Reader(format!(
                    "not an escape answer: {:02X?}",
                    bytes.first()
                )));
            }
            if bytes[6] != seq {
                return Err(RfError::Reader(format!("sequence {} instead of {seq}", bytes[6])));
            }
            if bytes[7] & 0x80 != 0 {
                continue; // time extension: the answer follows
            }
            let len = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
            return bytes
                .get(10..10 + len)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| RfError::Reader("escape length past the end".into()));
        }
    }
}

impl<P: UsbPipe> RcS300<P> {
    async fn transceive(
        &mut self,
        data: &[u8],
        framing: Option<super::Framing>,
        timeout_ms: u32,
    ) -> Result<Vec<u8>, RfError> {
        self.frames += 1;
        let command = transceive_framed(data, framing, timeout_ms);
        let objects = parse_objects(&self.call(&command, timeout_ms).await?)?;
        if let Some((_, status)) = objects.iter().find(|(t, _)| *t == ERROR_STATUS) {
            if status.iter().any(|b| *b != 0) {
                let bits = status.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
                return Err(RfError::Transmission(bits));
            }
        }
        objects
            .into_iter()
            .find(|(t, _)| *t == RESPONSE_DATA)
            .map(|(_, v)| v)
            .ok_or(RfError::Timeout)
    }

    async fn session(&mut self, protocol: [u8; 2]) -> Result<(), RfError> {
        for payload in [manage(START_SESSION), switch_protocol(protocol), manage(RF_ON)] {
            parse_objects(&self.call(&payload, 100).await?)?;
        }
        Ok(())
    }
}

impl<P: UsbPipe> Rf for RcS300<P> {
    async fn setup_type_b(&mut self) -> Result<(), RfError> {
        self.session(TYPE_B_LAYER_2).await
    }

    async fn setup_type_a(&mut self) -> Result<(), RfError> {
        self.session(TYPE_A_LAYER_2).await
    }

    async fn exchange_framed(
        &mut self,
        data: &[u8],
        framing: super::Framing,
        timeout_ms: u32,
    ) -> Result<Vec<u8>, RfError> {
        self.transceive(data, Some(framing), timeout_ms).await
    }

    async fn exchange(&mut self, data: &[u8], timeout_ms: u32) -> Result<Vec<u8>, RfError> {
        self.transceive(data, None, timeout_ms).await
    }

    async fn field_off(&mut self) -> Result<(), RfError> {
        parse_objects(&self.call(&manage(RF_OFF), 100).await?)?;
        parse_objects(&self.call(&manage(END_SESSION), 100).await?)?;
        Ok(())
    }

    fn frames(&self) -> usize {
        self.frames
    }

    fn wire_bytes(&self) -> usize {
        self.wire
    }
}
