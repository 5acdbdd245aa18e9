//! ISO 7816-4 command and response APDUs (short form), and what status words mean.

use std::fmt;

/// A command APDU. Short APDUs only: `data` ≤ 255 bytes, `le` ≤ 256.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    /// Expected length; `Some(256)` is encoded as `00`.
    pub le: Option<u16>,
}

pub const INS_VERIFY: u8 = 0x20;
pub const INS_CHANGE_REFERENCE_DATA: u8 = 0x24;
pub const INS_SELECT: u8 = 0xA4;
pub const INS_READ_BINARY: u8 = 0xB0;
pub const INS_COMPUTE_SIGNATURE: u8 = 0x2A;

/// The largest READ BINARY chunk of a short APDU.
pub const MAX_READ: usize = 256;

impl Command {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Command {
        Command { cla, ins, p1, p2, data: Vec::new(), le: None }
    }

    pub fn with_data(mut self, data: &[u8]) -> Command {
        self.data = data.to_vec();
        self
    }

    pub fn with_le(mut self, le: u16) -> Command {
        self.le = Some(le);
        self
    }

    /// SELECT by application name (`00 A4 04 0C Lc AID`).
    pub fn select_application(aid: &[u8]) -> Command {
        Command::new(0x00, INS_SELECT, 0x04, 0x0C).with_data(aid)
    }

    /// SELECT an elementary file (`00 A4 02 0C 02 FID`).
    pub fn select_file(fid: u16) -> Command {
        Command::new(0x00, INS_SELECT, 0x02, 0x0C).with_data(&fid.to_be_bytes())
    }

    /// READ BINARY at `offset` for `len` bytes (1–256).
    pub fn read_binary(offset: u16, len: u16) -> Command {
        let [hi, lo] = offset.to_be_bytes();
        Command::new(0x00, INS_READ_BINARY, hi & 0x7F, lo).with_le(len.clamp(1, 256))
    }

    /// VERIFY without data: the tries left, spending none.
    pub fn verify_status() -> Command {
        Command::new(0x00, INS_VERIFY, 0x00, 0x80)
    }

    /// The bytes on the wire. Data longer than 255 bytes is cut (short APDUs only).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.cla, self.ins, self.p1, self.p2];
        if !self.data.is_empty() {
            let data = &self.data[..self.data.len().min(255)];
            out.push(data.len() as u8);
            out.extend_from_slice(data);
        }
        if let Some(le) = self.le {
            out.push(if le >= 256 { 0 } else { le as u8 });
        }
        out
    }

    /// Parses a short command APDU (cases 1–4).
    pub fn parse(bytes: &[u8]) -> Option<Command> {
        let (&[cla, ins, p1, p2], rest) = bytes.split_first_chunk::<4>()?;
        let mut c = Command::new(cla, ins, p1, p2);
        match rest {
            [] => {}
            [le] => c.le = Some(if *le == 0 { 256 } else { u16::from(*le) }),
            [lc, body @ ..] => {
                let lc = usize::from(*lc);
                if lc == 0 || body.len() < lc || body.len() > lc + 1 {
                    return None;
                }
                c.data = body[..lc].to_vec();
                if let Some(le) = body.get(lc) {
                    c.le = Some(if *le == 0 { 256 } else { u16::from(*le) });
                }
            }
        }
        Some(c)
    }

    /// Whether the data field carries a secret (VERIFY, CHANGE REFERENCE DATA).
    pub fn carries_secret(&self) -> bool {
        matches!(self.ins, INS_VERIFY | INS_CHANGE_REFERENCE_DATA) && !self.data.is_empty()
    }
}

/// Shows the header and, except for VERIFY / CHANGE REFERENCE DATA, the data: a PIN must
/// never reach a log through an APDU trace.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X} {:02X} {:02X} {:02X}", self.cla, self.ins, self.p1, self.p2)?;
        if !self.data.is_empty() {
            write!(f, " Lc={:02X}", self.data.len())?;
            if self.carries_secret() {
                write!(f, " [{} bytes masked]", self.data.len())?;
            } else {
                for b in &self.data {
                    write!(f, " {b:02X}")?;
                }
            }
        }
        if let Some(le) = self.le {
            write!(f, " Le={le}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({self})")
    }
}

/// A response APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: u16,
}

impl Response {
    pub fn new(data: Vec<u8>, sw: u16) -> Response {
        Response { data, sw }
    }

    pub fn status(sw: u16) -> Response {
        Response { data: Vec::new(), sw }
    }

    /// Splits the trailing status word off; `None` for fewer than 2 bytes.
    pub fn parse(bytes: &[u8]) -> Option<Response> {
        let (data, sw) = bytes.split_last_chunk::<2>()?;
        Some(Response { data: data.to_vec(), sw: u16::from_be_bytes(*sw) })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&self.sw.to_be_bytes());
        out
    }

    pub fn status_word(&self) -> StatusWord {
        StatusWord::from(self.sw)
    }

    pub fn is_ok(&self) -> bool {
        self.sw == 0x9000
    }
}

/// The status words this project meets, with their meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusWord {
    Ok,
    /// `63 Cx`: verification failed or, for a VERIFY without data, `x` tries left.
    TriesLeft(u8),
    /// `62 82`: end of file reached before Le bytes.
    EndOfFile,
    /// `67 00`.
    WrongLength,
    /// `69 82`: security status not satisfied (PIN first).
    SecurityNotSatisfied,
    /// `69 84`: reference data blocked (PIN locked).
    Blocked,
    /// `69 86`: command not allowed (no current EF, …).
    NotAllowed,
    /// `6A 82`: file or application not found.
    NotFound,
    /// `6A 86`: wrong P1/P2.
    WrongParameters,
    /// `6B 00`: offset outside the file.
    WrongOffset,
    /// `6D 00`: instruction not supported.
    UnknownInstruction,
    /// `6E 00`: class not supported.
    UnknownClass,
    Other(u16),
}

impl From<u16> for StatusWord {
    fn from(sw: u16) -> StatusWord {
        match sw {
            0x9000 => StatusWord::Ok,
            0x63C0..=0x63CF => StatusWord::TriesLeft((sw & 0x0F) as u8),
            0x6282 => StatusWord::EndOfFile,
            0x6700 => StatusWord::WrongLength,
            0x6982 => StatusWord::SecurityNotSatisfied,
            0x6984 => StatusWord::Blocked,
            0x6986 => StatusWord::NotAllowed,
            0x6A82 => StatusWord::NotFound,
            0x6A86 => StatusWord::WrongParameters,
            0x6B00 => StatusWord::WrongOffset,
            0x6D00 => StatusWord::UnknownInstruction,
            0x6E00 => StatusWord::UnknownClass,
            other => StatusWord::Other(other),
        }
    }
}

impl From<StatusWord> for u16 {
    fn from(sw: StatusWord) -> u16 {
        match sw {
            StatusWord::Ok => 0x9000,
            StatusWord::TriesLeft(n) => 0x63C0 | u16::from(n & 0x0F),
            StatusWord::EndOfFile => 0x6282,
            StatusWord::WrongLength => 0x6700,
            StatusWord::SecurityNotSatisfied => 0x6982,
            StatusWord::Blocked => 0x6984,
            StatusWord::NotAllowed => 0x6986,
            StatusWord::NotFound => 0x6A82,
            StatusWord::WrongParameters => 0x6A86,
            StatusWord::WrongOffset => 0x6B00,
            StatusWord::UnknownInstruction => 0x6D00,
            StatusWord::UnknownClass => 0x6E00,
            StatusWord::Other(sw) => sw,
        }
    }
}
