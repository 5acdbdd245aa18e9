//! A simulated RC-S380 with a card in its field: the Port-100 side answers frames as the
//! hardware does (ACK, then the answer; error bits on a timeout) and the card side is an
//! ISO-DEP Type B PICC in front of the [`VirtualCard`] — with a small frame size so that
//! commands are chained, S(WTX) before signing, lost frames on demand, and a card that
//! leaves the field after a given number of frames.

use super::port100::{self, Frame};
use super::{Framing, UsbPipe};
use crate::transport::TransportError;
use crate::virtual_card::VirtualCard;
use std::collections::VecDeque;

/// The card side of ISO-DEP.
#[derive(Debug)]
pub struct SimPicc {
    card: VirtualCard,
    pub pupi: [u8; 4],
    /// FSCI announced in SENSB_RES (2 → 32-byte frames: commands get chained).
    pub fsci: u8,
    pub fwi: u8,
    /// Ask for a waiting-time extension before answering a signature.
    pub wtx_before_sign: bool,
    /// Frames (0-based, counted from activation) that are "lost": no answer.
    pub lose: Vec<usize>,
    /// The card leaves the field after this many frames.
    pub leaves_after: Option<usize>,
    /// A Type A card (a phone may present either); else Type B like the My Number card.
    pub type_a: bool,
    /// Type A: 0 idle, 1 ready (after REQA), 2 selected (waiting for RATS).
    a_state: u8,
    frames: usize,
    active: bool,
    block: u8,
    fsd: usize,
    command: Vec<u8>,
    pending: VecDeque<Vec<u8>>,
    last_sent: Vec<u8>,
    waiting_for_wtx: Option<Vec<u8>>,
}

impl SimPicc {
    pub fn new(card: VirtualCard) -> SimPicc {
        SimPicc {
            card,
            pupi: [0x12, 0x34, 0x56, 0x78],
            fsci: 2,
            fwi: 8,
            wtx_before_sign: true,
            lose: Vec::new(),
            leaves_after: None,
            type_a: false,
            a_state: 0,
            frames: 0,
            active: false,
            block: 1,
            fsd: 256,
            command: Vec::new(),
            pending: VecDeque::new(),
            last_sent: Vec::new(),
            waiting_for_wtx: None,
        }
    }

    pub fn card(&self) -> &VirtualCard {
        &self.card
    }

    /// RF frames handled so far (for "leave after N more").
    pub fn frames_seen(&self) -> usize {
        self.frames
    }

    fn send(&mut self, block: Vec<u8>) -> Option<Vec<u8>> {
        self.last_sent = block.clone();
        Some(block)
    }

    /// The next part of a pending answer, as an I-block.
    fn next_part(&mut self) -> Option<Vec<u8>> {
        let part = self.pending.pop_front()?;
        let chaining = if self.pending.is_empty() { 0 } else { 0x10 };
        let mut block = vec![0x02 | chaining | self.block];
        block.extend_from_slice(&part);
        self.send(block)
    }

    /// Counts a frame; `false` when it is lost or the card has left.
    fn arrives(&mut self) -> bool {
        let n = self.frames;
        self.frames += 1;
        !(self.leaves_after.is_some_and(|after| n >= after) || self.lose.contains(&n))
    }

    /// The 4-byte UID of a Type A card (the PUPI's bytes) and its BCC.
    fn uid_bcc(&self) -> Vec<u8> {
        let mut v = self.pupi.to_vec();
        v.push(self.pupi.iter().fold(0, |x, b| x ^ b));
        v
    }

    /// Answers one frame on a Type A field with the framing the reader used (`None`:
    /// silence). A frame in the wrong framing is not heard, as on the air.
    pub fn handle_a(&mut self, frame: &[u8], framing: Framing) -> Option<Vec<u8>> {
        if !self.type_a || !self.arrives() {
            return None;
        }
        match (frame, framing) {
            ([0x26] | [0x52], Framing::SHORT) => {
                self.a_state = 1;
                self.active = false;
                Some(vec![0x04, 0x00])
            }
            ([0x93, 0x20], Framing::NO_CRC) if self.a_state == 1 => Some(self.uid_bcc()),
            ([0x93, 0x70, rest @ ..], Framing::STANDARD)
                if self.a_state == 1 && rest == self.uid_bcc() =>
            {
                self.a_state = 2;
                Some(vec![0x20])
            }
            ([0xE0, param], Framing::STANDARD) if self.a_state == 2 => {
                self.fsd = super::isodep::FSC_TABLE[usize::from(param >> 4).min(8)];
                self.active = true;
                self.block = 1;
                // TL, T0 (TA, TB, TC present | FSCI), TA, TB (FWI | SFGI 0), TC.
                Some(vec![0x05, 0x70 | self.fsci, 0x80, self.fwi << 4, 0x02])
            }
            (_, Framing::STANDARD) if self.active => self.iso_dep(frame),
            _ => None,
        }
    }

    /// Answers one RF frame on a Type B field (`None`: silence, the host times out).
    pub fn handle(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        if self.type_a || !self.arrives() {
            return None;
        }
        let pcb = *frame.first()?;
        if pcb == 0x05 {
            // SENSB_REQ → SENSB_RES: PUPI, application data, protocol info
            // (bit rate 00, FSCI | ISO 14443-4, FWI | ADC 0 FO 0).
            self.active = false;
            let mut res = vec![0x50];
            res.extend_from_slice(&self.pupi);
            res.extend_from_slice(&[
                0x00,
                0x00,
                0x00,
                0x00,
                0x00,
                (self.fsci << 4) | 0x01,
                self.fwi << 4,
            ]);
            return Some(res);
        }
        if pcb == 0x1D && frame.get(1..5) == Some(&self.pupi[..]) {
            let fsdi = usize::from(frame.get(6).copied().unwrap_or(0) & 0x0F).min(8);
            self.fsd = super::isodep::FSC_TABLE[fsdi];
            self.active = true;
            self.block = 1;
            return Some(vec![0x00]);
        }
        if !self.active {
            return None;
        }
        self.iso_dep(frame)
    }

    /// ISO-DEP blocks once the card is active (either type).
    fn iso_dep(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        let pcb = *frame.first()?;
        match pcb & 0xF6 {
            // S(DESELECT): answered in kind; the card leaves ISO-DEP.
            0xC2 => {
                self.active = false;
                self.a_state = 0;
                Some(vec![0xC2])
            }
            // S(WTX) answered: now send what was waiting.
            0xF2 => {
                let answer = self.waiting_for_wtx.take()?;
                self.pending =
                    answer.chunks(self.fsd.saturating_sub(3).max(1)).map(<[u8]>::to_vec).collect();
                self.next_part()
            }
            // R(ACK): the host wants the next part of a chained answer.
            0xA2 => {
                if pcb & 1 != self.block {
                    self.block ^= 1;
                    self.next_part()
                } else {
                    let last = self.last_sent.clone();
                    self.send(last)
                }
            }
            // R(NAK): resend if it names our block, else acknowledge.
            0xB2 => {
                if pcb & 1 == self.block {
                    let last = self.last_sent.clone();
                    self.send(last)
                } else {
                    let ack = vec![0xA2 | self.block];
                    self.send(ack)
                }
            }
            _ if pcb & 0xE2 == 0x02 => {
                self.block ^= 1;
                self.command.extend_from_slice(&frame[1..]);
                if pcb & 0x10 != 0 {
                    let ack = vec![0xA2 | self.block];
                    return self.send(ack);
                }
                let apdu = std::mem::take(&mut self.command);
                let answer = self.card.process(&apdu);
                let signing = apdu.get(1) == Some(&0x2A);
                if signing && self.wtx_before_sign {
                    self.waiting_for_wtx = Some(answer);
                    return self.send(vec![0xF2, 0x0A]);
                }
                self.pending =
                    answer.chunks(self.fsd.saturating_sub(3).max(1)).map(<[u8]>::to_vec).collect();
                self.next_part()
            }
            _ => None,
        }
    }
}

/// A simulated RC-S380 on the USB side: every frame the host writes is ACKed and answered.
#[derive(Debug)]
pub struct SimPort100 {
    pub picc: Option<SimPicc>,
    queue: VecDeque<Vec<u8>>,
    pub field_on: bool,
    /// InSetRF chose 106 kbps Type A.
    type_a: bool,
    framing: Framing,
    /// Every frame the host wrote, in order (the worked-frame tests read them).
    pub written: Vec<Vec<u8>>,
}

impl SimPort100 {
    pub fn new(picc: Option<SimPicc>) -> SimPort100 {
        SimPort100 {
            picc,
            queue: VecDeque::new(),
            field_on: false,
            type_a: false,
            framing: Framing::STANDARD,
            written: Vec::new(),
        }
    }

    fn answer(&mut self, code: u8, body: &[u8]) {
        let mut data = vec![0xD7, code.wrapping_add(1)];
        data.extend_from_slice(body);
        self.queue.push_back(port100::ACK.to_vec());
        self.queue.push_back(port100::frame(&data));
    }
}

impl UsbPipe for SimPort100 {
    async fn transfer_out(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.written.push(data.to_vec());
        let Ok(Frame::Data(d)) = port100::parse_frame(data) else {
            return Ok(()); // the hardware ignores what it cannot read
        };
        if d.len() < 2 || d[0] != 0xD6 {
            return Ok(());
        }
        let code = d[1];
        match code {
            port100::SWITCH_RF => {
                self.field_on = d.get(2) == Some(&1);
                self.answer(code, &[0x00]);
            }
            port100::IN_SET_RF => {
                self.field_on = true;
                self.type_a = d.get(2..6) == Some(&port100::RF_106A[..]);
                self.framing = Framing::STANDARD;
                self.answer(code, &[0x00]);
            }
            port100::IN_SET_PROTOCOL => {
                for pair in d[2..].chunks(2) {
                    match pair {
                        [port100::ADD_CRC, v] => self.framing.crc = *v == 1,
                        [port100::LAST_BYTE_BIT_COUNT, v] => self.framing.last_bits = *v,
                        _ => {}
                    }
                }
                self.answer(code, &[0x00]);
            }
            port100::IN_COMM_RF => {
                let rf = d.get(4..).unwrap_or(&[]);
                let (type_a, framing) = (self.type_a, self.framing);
                let reply = self.picc.as_mut().and_then(|p| {
                    if type_a {
                        p.handle_a(rf, framing)
                    } else {
                        p.handle(rf)
                    }
                });
                let body = match reply {
                    Some(r) => [&[0u8, 0, 0, 0, 0][..], &r].concat(),
                    None => {
                        port100::RECEIVE_TIMEOUT.to_le_bytes().iter().copied().chain([0]).collect()
                    }
                };
                self.answer(code, &body);
            }
            _ => self.answer(code, &[0x00]),
        }
        Ok(())
    }

    async fn transfer_in(
        &mut self,
        _max: usize,
        _timeout_ms: u32,
    ) -> Result<Vec<u8>, TransportError> {
        self.queue.pop_front().ok_or_else(|| TransportError::Io("timeout".into()))
    }
}

/// A simulated RC-S300: escape commands answered with data objects; the same card side.
#[derive(Debug)]
pub struct SimRcS300 {
    pub picc: Option<SimPicc>,
    queue: VecDeque<Vec<u8>>,
    pub session: bool,
    pub field_on: bool,
    /// Switch protocol chose Type A.
    type_a: bool,
    /// Answer each transceive with one time-extension message first.
    pub time_extensions: bool,
    pub written: Vec<Vec<u8>>,
}

impl SimRcS300 {
    pub fn new(picc: Option<SimPicc>) -> SimRcS300 {
        SimRcS300 {
            picc,
            queue: VecDeque::new(),
            session: false,
            field_on: false,
            type_a: false,
            time_extensions: false,
            written: Vec::new(),
        }
    }

    fn reply(&mut self, seq: u8, payload: &[u8], extension: bool) {
        if extension {
            self.queue.push_back(vec![0x83, 0, 0, 0, 0, 0x00, seq, 0x80, 0x01, 0x00]);
        }
        let mut out = vec![0x83];
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&[0x00, seq, 0x00, 0x00, 0x00]);
        out.extend_from_slice(payload);
        self.queue.push_back(out);
    }
}

impl UsbPipe for SimRcS300 {
    async fn transfer_out(&mut self, data: &[u8]) -> Result<(), TransportError> {
        use super::rcs300::*;
        self.written.push(data.to_vec());
        if data.len() < 10 || data[0] != 0x6B {
            return Ok(());
        }
        let seq = data[6];
        let payload = &data[10..];
        let ok = [0x90, 0x00];
        match payload {
            [0xFF, 0x50, 0x00, 0x00, 0x02, tag, 0x00, 0x00] => {
                match *tag {
                    START_SESSION => self.session = true,
                    END_SESSION => self.session = false,
                    RF_ON => self.field_on = self.session,
                    RF_OFF => self.field_on = false,
                    _ => {}
                }
                let body = [&[ERROR_STATUS, 0x03, 0x00, 0x00, 0x00][..], &ok].concat();
                self.reply(seq, &body, false);
            }
            [0xFF, 0x50, 0x00, 0x02, 0x04, SWITCH_PROTOCOL, 0x02, protocol, _, ..] => {
                self.type_a = *protocol == TYPE_A_LAYER_2[0];
                let body = [&[ERROR_STATUS, 0x03, 0x00, 0x00, 0x00][..], &ok].concat();
                self.reply(seq, &body, false);
            }
            [0xFF, 0x50, 0x00, 0x01, 0x00, _, _, objects @ ..] => {
                let objects = objects.get(..objects.len().saturating_sub(2)).unwrap_or(&[]);
                let parsed = parse_objects(&[objects, &ok[..]].concat()).unwrap_or_default();
                let value =
                    |tag: u8| parsed.iter().find(|(t, _)| *t == tag).map(|(_, v)| v.clone());
                let mut framing = Framing::STANDARD;
                if let Some(flags) = value(TX_RX_FLAGS) {
                    framing.crc = flags.first() == Some(&0x00);
                }
                if let Some(bits) = value(TX_BIT_FRAMING) {
                    framing.last_bits = match bits.first() {
                        Some(0) | None => 8,
                        Some(n) => *n,
                    };
                }
                let type_a = self.type_a;
                let answer = match (self.field_on, value(TRANSCEIVE)) {
                    (true, Some(frame)) => self.picc.as_mut().and_then(|p| {
                        if type_a {
                            p.handle_a(&frame, framing)
                        } else {
                            p.handle(&frame)
                        }
                    }),
                    _ => None,
                };
                let body = match answer {
                    Some(bytes) => {
                        let mut b = vec![
                            ERROR_STATUS,
                            0x03,
                            0x00,
                            0x00,
                            0x00,
                            RESPONSE_STATUS,
                            0x02,
                            0x00,
                            0x00,
                            RESPONSE_DATA,
                        ];
                        b.extend_from_slice(&ber_length(bytes.len()));
                        b.extend_from_slice(&bytes);
                        b.extend_from_slice(&ok);
                        b
                    }
                    // No card answer: status only (the driver reads it as a timeout).
                    None => vec![
                        ERROR_STATUS,
                        0x03,
                        0x00,
                        0x00,
                        0x00,
                        RESPONSE_STATUS,
                        0x02,
                        0x01,
                        0x00,
                        0x90,
                        0x00,
                    ],
                };
                let extension = self.time_extensions;
                self.reply(seq, &body, extension);
            }
            _ => self.reply(seq, &[0x6A, 0x81], false),
        }
        Ok(())
    }

    async fn transfer_in(
        &mut self,
        _max: usize,
        _timeout_ms: u32,
    ) -> Result<Vec<u8>, TransportError> {
        self.queue.pop_front().ok_or_else(|| TransportError::Io("timeout".into()))
    }
}
