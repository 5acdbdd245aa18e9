//! The ISO-DEP (ISO/IEC 14443-4) host side: activation — Type B (SENSB_REQ → SENSB_RES →
//! ATTRIB), or, when no Type B card answers, Type A (REQA → anticollision and SELECT per
//! cascade level → RATS → ATS) — then APDUs in I-blocks. Block numbers follow the standard's rules (the host
//! starts at 0 and toggles on an I-block or R(ACK) carrying its number); commands longer
//! than the card's frame size are chained and each part waits for R(ACK); a chained answer
//! is collected with R(ACK)s; an S(WTX) is echoed and the next wait is that much longer
//! (signing takes seconds); a lost or garbled block is asked for again with R(NAK), twice,
//! before the card counts as removed.

use super::{Framing, Rf, RfError};
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
const PCB_S_DESELECT: u8 = 0xC2;

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
    Ok(TypeB { pupi: [res[1], res[2], res[3], res[4]], fsc: FSC_TABLE[fsci], fwt_ms: fwt_ms(fwi) })
}

/// Which activation found the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardType {
    A,
    B,
}

/// What activation learned: the type, the card's id (PUPI or UID), its frame size and
/// frame waiting time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub kind: CardType,
    pub id: Vec<u8>,
    pub fsc: usize,
    pub fwt_ms: u32,
}

/// FWI → milliseconds (FWT = 256 × 16 / fc × 2^FWI ≈ 0.302 ms × 2^FWI), rounded up.
fn fwt_ms(fwi: u32) -> u32 {
    ((4096u64 << fwi.min(14)) / 13_560).max(1) as u32 + 1
}

/// Reads an ATS: FSCI from T0, FWI from TB when present (else 4).
pub fn parse_ats(ats: &[u8]) -> Result<(usize, u32), RfError> {
    let tl = usize::from(*ats.first().ok_or_else(|| RfError::Reader("empty ATS".into()))?);
    if tl != ats.len() || tl < 1 {
        return Err(RfError::Reader("ATS length byte does not match".into()));
    }
    if tl == 1 {
        return Ok((FSC_TABLE[2], fwt_ms(4)));
    }
    let t0 = ats[1];
    let fsc = FSC_TABLE[usize::from(t0 & 0x0F).min(8)];
    // TB follows TA when TA is present.
    let tb_at = 2 + usize::from(t0 & 0x10 != 0);
    let fwi = if t0 & 0x20 != 0 {
        let tb = *ats.get(tb_at).ok_or_else(|| RfError::Reader("ATS without its TB".into()))?;
        u32::from(tb >> 4)
    } else {
        4
    };
    Ok((fsc, fwt_ms(fwi)))
}

/// REQA, then anticollision and SELECT per cascade level, then RATS.
async fn activate_type_a<R: Rf>(rf: &mut R) -> Result<Activation, RfError> {
    rf.setup_type_a().await?;
    let atqa = rf.exchange_framed(&[0x26], Framing::SHORT, 5).await?;
    if atqa.len() != 2 {
        return Err(RfError::Reader("ATQA is not 2 bytes".into()));
    }
    let mut uid = Vec::new();
    let mut sak = 0u8;
    for level in [0x93u8, 0x95, 0x97] {
        let part = rf.exchange_framed(&[level, 0x20], Framing::NO_CRC, 5).await?;
        if part.len() != 5 || part[..4].iter().fold(0, |x, b| x ^ b) != part[4] {
            return Err(RfError::Reader("anticollision answer fails its BCC".into()));
        }
        let mut select = vec![level, 0x70];
        select.extend_from_slice(&part);
        let answer = rf.exchange_framed(&select, Framing::STANDARD, 5).await?;
        sak = *answer.first().ok_or_else(|| RfError::Reader("empty SAK".into()))?;
        uid.extend_from_slice(if part[0] == 0x88 { &part[1..4] } else { &part[..4] });
        if sak & 0x04 == 0 {
            break;
        }
    }
    if sak & 0x20 == 0 {
        return Err(RfError::Reader("the Type A card does not speak ISO 14443-4".into()));
    }
    // RATS: FSDI 8 (we take 256 bytes), CID 0.
    let ats = rf.exchange_framed(&[0xE0, 0x80], Framing::STANDARD, 5).await?;
    let (fsc, fwt_ms) = parse_ats(&ats)?;
    Ok(Activation { kind: CardType::A, id: uid, fsc, fwt_ms })
}

/// An activated card.
#[derive(Debug)]
pub struct IsoDep<R> {
    rf: R,
    card: Activation,
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
    /// Finds a card — Type B first (the My Number card), then Type A — and selects it.
    pub async fn activate(mut rf: R) -> Result<IsoDep<R>, RfError> {
        rf.setup_type_b().await?;
        let card = match rf.exchange(&SENSB_REQ, 30).await {
            Ok(res) => {
                let b = parse_sensb_res(&res)?;
                // ATTRIB: PUPI, param1 00, param2 08 (FSDI 8: we take 256 bytes, 106 kbps),
                // param3 01 (ISO 14443-4), param4 00 (CID 0).
                let mut attrib = vec![0x1D];
                attrib.extend_from_slice(&b.pupi);
                attrib.extend_from_slice(&[0x00, 0x08, 0x01, 0x00]);
                rf.exchange(&attrib, b.fwt_ms).await?;
                Activation { kind: CardType::B, id: b.pupi.to_vec(), fsc: b.fsc, fwt_ms: b.fwt_ms }
            }
            Err(RfError::Timeout) => activate_type_a(&mut rf).await?,
            Err(e) => return Err(e),
        };
        Ok(IsoDep { rf, card, block: 0 })
    }

    pub fn card(&self) -> &Activation {
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

    /// Whether the card is still in the field: an R(NAK) with our block number, which a
    /// present card answers (with R(ACK) or its last block) and which changes nothing.
    pub async fn present(&mut self) -> bool {
        matches!(self.rf.exchange(&[PCB_R_NAK | self.block], self.card.fwt_ms).await, Ok(a) if !a.is_empty())
    }

    /// S(DESELECT), then the field off: the card leaves ISO-DEP cleanly.
    pub async fn deactivate(mut self) -> Result<R, RfError> {
        let _ = self.rf.exchange(&[PCB_S_DESELECT], self.card.fwt_ms).await;
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
