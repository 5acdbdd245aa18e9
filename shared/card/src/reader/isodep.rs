//! The ISO-DEP (ISO/IEC 14443-4) host side, Type B: activation (SENSB_REQ → SENSB_RES →
//! ATTRIB), then APDUs in I-blocks. Block numbers follow the standard's rules (the host
//! starts at 0 and toggles on an I-block or R(ACK) carrying its number); commands longer
//! than the card's frame size are chained and each part waits for R(ACK); a chained answer
//! is collected with R(ACK)s; an S(WTX) is echoed and the next wait is that much longer
//! (signing takes seconds); a lost or garbled block is asked for again with R(NAK), twice,
//! before the card counts as removed.

use super::{Rf, RfError};
use crate::apdu::{Command, Response};
use crate::transport::{Transport, TransportError};

/// SENSB_REQ for AFI 00 (all), as nfcpy sends it.
pub const SENSB_REQ: [u8; 3] = [0x05, 0x00, 0x10];
/// FSCI → frame size in bytes.
pub const FSC_TABLE: [usize; 9] = [16, 24, 32, 40, 48, 64, 96, 128, 256];
/// How many times a block is asked for again before giving up.
pub const RETRIES: usize = 2;

const PCB_I: u8 = 0x02;
const PCB_CHAINING: u8 = 0x10;
const PCB_R_ACK: u8 = 0xA2;
const PCB_R_NAK: u8 = 0xB2;
const PCB_S_WTX: u8 = 0xF2;

/// What the card said in SENSB_RES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeB {
    pub pupi: [u8; 4],
    /// The card's maximum frame size (FSC).
    pub fsc: usize,
    /// Frame waiting time in milliseconds, from FWI.
    pub fwt_ms: u32,
}

/// Reads a SENSB_RES (`50`, PUPI, application data, protocol info).
pub fn parse_sensb_res(res: &[u8]) -> Result<TypeB, RfError> {
    if res.len() < 12 || res[0] != 0x50 {
        return Err(RfError::Reader("not a SENSB_RES".into()));
    }
    let fsci = usize::from(res[10] >> 4).min(8);
    let fwi = u32::from(res[11] >> 4).min(14);
    // FWT = 256 × 16 / fc × 2^FWI ≈ 0.302 ms × 2^FWI.
    let fwt_ms = ((4096u64 << fwi) / 13_560).max(1) as u32 + 1;
    Ok(TypeB { pupi: [res[1], res[2], res[3], res[4]], fsc: FSC_TABLE[fsci], fwt_ms })
}

/// An activated card.
#[derive(Debug)]
pub struct IsoDep<R> {
    rf: R,
    card: TypeB,
    block: u8,
}

fn io(e: RfError) -> TransportError {
    match e {
        RfError::Transport(t) => t,
        RfError::Timeout => TransportError::CardRemoved,
        other => TransportError::Io(other.to_string()),
    }
}

impl<R: Rf> IsoDep<R> {
    /// Sets up Type B, finds a card and selects it.
    pub async fn activate(mut rf: R) -> Result<IsoDep<R>, RfError> {
        rf.setup_type_b().await?;
        let res = rf.exchange(&SENSB_REQ, 30).await?;
        let card = parse_sensb_res(&res)?;
        // ATTRIB: PUPI, param1 00, param2 08 (FSDI 8: we take 256 bytes, 106 kbps),
        // param3 01 (ISO 14443-4), param4 00 (CID 0).
        let mut attrib = vec![0x1D];
        attrib.extend_from_slice(&card.pupi);
        attrib.extend_from_slice(&[0x00, 0x08, 0x01, 0x00]);
        rf.exchange(&attrib, card.fwt_ms).await?;
        Ok(IsoDep { rf, card, block: 0 })
    }

    pub fn card(&self) -> &TypeB {
        &self.card
    }

    pub fn rf(&self) -> &R {
        &self.rf
    }

    pub fn into_rf(self) -> R {
        self.rf
    }

    /// Sends `block` and returns the card's answer, asking again with R(NAK) when the
    /// answer is lost; S(WTX) requests are answered here (and the wait extended).
    async fn send(&mut self, block: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut wait = self.card.fwt_ms;
        let mut out = block.to_vec();
        let mut retries = 0;
        loop {
            let nak_sent = out.first().is_some_and(|pcb| pcb & 0xF6 == PCB_R_NAK);
            match self.rf.exchange(&out, wait).await {
                // The card never got our I-block: it answers our R(NAK) with its own
                // R(ACK) (another number), and we send the block again.
                Ok(answer)
                    if nak_sent
                        && answer.first().is_some_and(|pcb| {
                            pcb & 0xF6 == PCB_R_ACK && pcb & 1 != self.block
                        }) =>
                {
                    out = block.to_vec();
                }
                Ok(answer) if answer.first().is_some_and(|pcb| pcb & 0xF7 == PCB_S_WTX) => {
                    let wtxm = answer.get(1).copied().unwrap_or(1) & 0x3F;
                    out = vec![PCB_S_WTX, wtxm];
                    wait = self.card.fwt_ms.saturating_mul(u32::from(wtxm.max(1)));
                    retries = 0;
                }
                Ok(answer) if !answer.is_empty() => return Ok(answer),
                Ok(_) | Err(RfError::Timeout) | Err(RfError::Transmission(_)) => {
                    if retries == RETRIES {
                        return Err(TransportError::CardRemoved);
                    }
                    retries += 1;
                    wait = self.card.fwt_ms;
                    out = vec![PCB_R_NAK | self.block];
                }
                Err(e) => return Err(io(e)),
            }
        }
    }

    /// One APDU exchange (chained both ways as needed).
    pub async fn exchange_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        // PCB + INF + 2 CRC bytes must fit the card's frame size.
        let room = self.card.fsc.saturating_sub(3).max(1);
        let parts: Vec<&[u8]> =
            if apdu.is_empty() { vec![&[][..]] } else { apdu.chunks(room).collect() };
        let mut answer = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let pcb = PCB_I | if last { 0 } else { PCB_CHAINING } | self.block;
            let mut block = vec![pcb];
            block.extend_from_slice(part);
            answer = self.send(&block).await?;
            if !last {
                // The card acknowledges each chained part with R(ACK) carrying our number.
                if answer.first().copied() != Some(PCB_R_ACK | self.block) {
                    return Err(TransportError::Io(format!(
                        "expected R(ACK), got {:02X?}",
                        answer.first()
                    )));
                }
                self.block ^= 1;
            }
        }
        let mut response = Vec::new();
        loop {
            let pcb = answer.first().copied().ok_or(TransportError::MalformedResponse)?;
            if pcb & 0xE2 != PCB_I {
                return Err(TransportError::Io(format!("expected an I-block, got PCB {pcb:#04x}")));
            }
            if pcb & 1 == self.block {
                self.block ^= 1;
            }
            response.extend_from_slice(&answer[1..]);
            if pcb & PCB_CHAINING == 0 {
                return Ok(response);
            }
            answer = self.send(&[PCB_R_ACK | self.block]).await?;
        }
    }

    /// DESELECT is not needed for a single card; switching the field off ends it.
    pub async fn deactivate(mut self) -> Result<R, RfError> {
        self.rf.field_off().await?;
        Ok(self.rf)
    }
}

impl<R: Rf> Transport for IsoDep<R> {
    async fn transmit(&mut self, command: &Command) -> Result<Response, TransportError> {
        let bytes = self.exchange_apdu(&command.to_bytes()).await?;
        Response::parse(&bytes).ok_or(TransportError::MalformedResponse)
    }
}
