//! A virtual My Number card (or phone) that answers APDUs like the real one, and the test
//! JPKI CA that issues its certificates. For the emulator, the simulator and tests only
//! (feature `virtual`); never in the production frontend.
//!
//! What it reproduces (reference card.md §1–4): applications by AID and files by FID, the
//! token, certificates, RSA-2048 PKCS#1 v1.5 signatures with the auth key, PIN counters
//! that survive resets and lock at 0 with `69 84`, `6A 82` for unknown files, `6D 00` for
//! unknown instructions, `69 86` for a VERIFY with no PIN file selected. Personalities: a
//! card; an Android phone (auth certificate readable only after the PIN, no text AP); an
//! iPhone (the PIN is already verified by the phone's biometrics, no text AP).

mod persons;
mod pki;

pub use persons::{TestPerson, TEST_PERSONS};
pub use pki::{TestPki, TestPkiError};

use crate::apdu::{
    Command, Response, StatusWord, INS_COMPUTE_SIGNATURE, INS_READ_BINARY, INS_SELECT, INS_VERIFY,
};
use crate::jpki::{
    Holder, FID_AUTH_CA_CERT, FID_AUTH_CERT, FID_AUTH_KEY, FID_AUTH_PIN, FID_SIGN_CA_CERT,
    FID_SIGN_CERT, FID_SIGN_KEY, FID_SIGN_PIN, FID_TOKEN, JPKI_AID,
};
use crate::text_ap::{
    encode_basic_info, BasicInfo, FID_BASIC_INFO, FID_MY_NUMBER, FID_TEXT_PIN, TEXT_AID,
};
use crate::transport::{Transport, TransportError};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use std::collections::BTreeMap;

/// The ATR a contactless reader synthesises for the card (OpenSC's JPKI match).
pub const ATR: &[u8] = &[0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum App {
    Jpki,
    Text,
}

/// PIN tries left, to persist across emulator restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PinCounters {
    pub auth: u8,
    pub text: u8,
    /// The signing password's (counters saved before the signing side existed read 5).
    #[serde(default = "signing_tries")]
    pub sign: u8,
}

fn signing_tries() -> u8 {
    MAX_SIGN_TRIES
}

/// The card's state machine.
#[derive(Debug)]
pub struct VirtualCard {
    holder: Holder,
    files: BTreeMap<(App, u16), Vec<u8>>,
    key: RsaPrivateKey,
    auth_pin: [u8; 4],
    text_pin: [u8; 4],
    /// The 署名用パスワード, `None` for a card without a signing certificate (a child's)
    /// and for phones (their signing side is not modelled).
    sign_password: Option<&'static str>,
    counters: PinCounters,
    selected_app: Option<App>,
    selected_ef: Option<u16>,
    auth_verified: bool,
    text_verified: bool,
    sign_verified: bool,
    /// Commands processed since power-on (tests count APDUs with it).
    pub commands: usize,
}

const MAX_TRIES: u8 = 3;
const MAX_SIGN_TRIES: u8 = crate::ops::SIGNING_TRIES;

impl VirtualCard {
    /// A card for `person`, with certificates issued by `pki`.
    pub fn new(pki: &TestPki, person: &TestPerson) -> Result<VirtualCard, TestPkiError> {
        let (cert, key) = pki.issue(person)?;
        let mut files = BTreeMap::new();
        let mut token = person.holder.token().as_bytes().to_vec();
        token.resize(32, b' ');
        files.insert((App::Jpki, FID_TOKEN), token);
        files.insert((App::Jpki, FID_AUTH_CA_CERT), pki.ca_certificate_der().to_vec());
        let sign_password = person.sign_password.filter(|_| person.holder == Holder::MyNumberCard);
        if sign_password.is_some() {
            // The test PKI issues one certificate per person: the signing file holds a copy
            // (what matters here is that it exists and is readable only after the password).
            files.insert((App::Jpki, FID_SIGN_CERT), cert.clone());
            files.insert((App::Jpki, FID_SIGN_CA_CERT), pki.ca_certificate_der().to_vec());
        }
        files.insert((App::Jpki, FID_AUTH_CERT), cert);
        if !person.holder.is_phone() {
            let info = BasicInfo {
                name: person.name.to_string(),
                address: person.address.to_string(),
                birth: person.birth_date().map_err(|e| TestPkiError::Person(e.to_string()))?,
                sex: person.sex,
            };
            files.insert((App::Text, FID_BASIC_INFO), encode_basic_info(&info));
            let mut number = vec![0xD0, 0x0C];
            number.extend_from_slice(person.my_number.as_bytes());
            number.extend([0xFF; 3]);
            files.insert((App::Text, FID_MY_NUMBER), number);
        }
        let pin = |s: &str| -> [u8; 4] {
            let mut out = [b'0'; 4];
            for (o, b) in out.iter_mut().zip(s.bytes()) {
                *o = b;
            }
            out
        };
        let mut card = VirtualCard {
            holder: person.holder,
            files,
            key,
            auth_pin: pin(person.auth_pin),
            text_pin: pin(person.text_pin),
            sign_password,
            counters: PinCounters { auth: MAX_TRIES, text: MAX_TRIES, sign: MAX_SIGN_TRIES },
            selected_app: None,
            selected_ef: None,
            auth_verified: false,
            text_verified: false,
            sign_verified: false,
            commands: 0,
        };
        card.reset();
        Ok(card)
    }

    pub fn holder(&self) -> Holder {
        self.holder
    }

    pub fn atr(&self) -> &'static [u8] {
        ATR
    }

    pub fn counters(&self) -> PinCounters {
        self.counters
    }

    /// Restores counters saved from an earlier session (they persist on a real card).
    pub fn set_counters(&mut self, counters: PinCounters) {
        self.counters = PinCounters {
            auth: counters.auth.min(MAX_TRIES),
            text: counters.text.min(MAX_TRIES),
            sign: counters.sign.min(MAX_SIGN_TRIES),
        };
    }

    /// Power-on or reset: the session ends, the counters stay. An iPhone starts verified
    /// (Face ID / Touch ID happened on the phone).
    pub fn reset(&mut self) {
        self.selected_app = None;
        self.selected_ef = None;
        self.auth_verified = self.holder == Holder::IPhone;
        self.text_verified = false;
        self.commands = 0;
    }

    /// Answers one command APDU (bytes in, bytes out).
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.commands += 1;
        let response = match Command::parse(apdu) {
            Some(command) => self.answer(&command),
            None => Response::status(StatusWord::WrongLength.into()),
        };
        response.to_bytes()
    }

    fn answer(&mut self, c: &Command) -> Response {
        let sw = |s: StatusWord| Response::status(s.into());
        match (c.cla, c.ins) {
            (0x00, INS_SELECT) => self.select(c),
            (0x00, INS_READ_BINARY) => self.read_binary(c),
            (0x00, INS_VERIFY) => self.verify(c),
            (0x80, INS_COMPUTE_SIGNATURE) => self.sign(c),
            (0x00 | 0x80, _) => sw(StatusWord::UnknownInstruction),
            _ => sw(StatusWord::UnknownClass),
        }
    }

    fn select(&mut self, c: &Command) -> Response {
        let sw = |s: StatusWord| Response::status(s.into());
        match (c.p1, c.data.as_slice()) {
            (0x04, aid) => {
                let app = if aid == JPKI_AID {
                    App::Jpki
                } else if aid == TEXT_AID && !self.holder.is_phone() {
                    App::Text
                } else {
                    return sw(StatusWord::NotFound);
                };
                if self.selected_app != Some(app) {
                    // Security status is per application: selecting one ends the other's.
                    self.auth_verified = self.holder == Holder::IPhone && app == App::Jpki;
                    self.text_verified = false;
                    self.sign_verified = false;
                }
                self.selected_app = Some(app);
                self.selected_ef = None;
                sw(StatusWord::Ok)
            }
            (0x02, [hi, lo]) => {
                let fid = u16::from_be_bytes([*hi, *lo]);
                let Some(app) = self.selected_app else { return sw(StatusWord::NotFound) };
                let exists = self.files.contains_key(&(app, fid))
                    || matches!(
                        (app, fid),
                        (App::Jpki, FID_AUTH_KEY | FID_AUTH_PIN) | (App::Text, FID_TEXT_PIN)
                    )
                    || (self.sign_password.is_some()
                        && matches!((app, fid), (App::Jpki, FID_SIGN_KEY | FID_SIGN_PIN)));
                if exists {
                    self.selected_ef = Some(fid);
                    sw(StatusWord::Ok)
                } else {
                    sw(StatusWord::NotFound)
                }
            }
            _ => sw(StatusWord::WrongParameters),
        }
    }

    fn read_binary(&mut self, c: &Command) -> Response {
        let sw = |s: StatusWord| Response::status(s.into());
        let (Some(app), Some(fid)) = (self.selected_app, self.selected_ef) else {
            return sw(StatusWord::NotAllowed);
        };
        let readable = match (app, fid) {
            (App::Jpki, FID_AUTH_CERT) if self.holder == Holder::AndroidPhone => self.auth_verified,
            (App::Jpki, FID_SIGN_CERT) => self.sign_verified,
            (App::Text, FID_BASIC_INFO | FID_MY_NUMBER) => self.text_verified,
            _ => true,
        };
        if !readable {
            return sw(StatusWord::SecurityNotSatisfied);
        }
        let Some(file) = self.files.get(&(app, fid)) else { return sw(StatusWord::NotAllowed) };
        if c.p1 & 0x80 != 0 {
            return sw(StatusWord::WrongParameters);
        }
        let offset = usize::from(u16::from_be_bytes([c.p1, c.p2]));
        if offset >= file.len() {
            return sw(StatusWord::WrongOffset);
        }
        let want = usize::from(c.le.unwrap_or(256));
        let end = (offset + want).min(file.len());
        let status = if end - offset < want { StatusWord::EndOfFile } else { StatusWord::Ok };
        Response::new(file[offset..end].to_vec(), status.into())
    }

    fn verify(&mut self, c: &Command) -> Response {
        let sw = |s: StatusWord| Response::status(s.into());
        let (tries, verified, pin, max): (&mut u8, &mut bool, &[u8], u8) =
            match (self.selected_app, self.selected_ef) {
                (Some(App::Jpki), Some(FID_AUTH_PIN)) => {
                    (&mut self.counters.auth, &mut self.auth_verified, &self.auth_pin, MAX_TRIES)
                }
                (Some(App::Text), Some(FID_TEXT_PIN)) => {
                    (&mut self.counters.text, &mut self.text_verified, &self.text_pin, MAX_TRIES)
                }
                (Some(App::Jpki), Some(FID_SIGN_PIN)) => match self.sign_password {
                    Some(password) => (
                        &mut self.counters.sign,
                        &mut self.sign_verified,
                        password.as_bytes(),
                        MAX_SIGN_TRIES,
                    ),
                    None => return sw(StatusWord::NotAllowed),
                },
                _ => return sw(StatusWord::NotAllowed),
            };
        if c.data.is_empty() {
            return if *verified {
                sw(StatusWord::Ok)
            } else if *tries == 0 {
                sw(StatusWord::Blocked)
            } else {
                sw(StatusWord::TriesLeft(*tries))
            };
        }
        if *tries == 0 {
            return sw(StatusWord::Blocked);
        }
        if c.data.as_slice() == pin {
            *tries = max;
            *verified = true;
            sw(StatusWord::Ok)
        } else {
            *tries -= 1;
            *verified = false;
            if *tries == 0 {
                sw(StatusWord::Blocked)
            } else {
                sw(StatusWord::TriesLeft(*tries))
            }
        }
    }

    fn sign(&mut self, c: &Command) -> Response {
        let sw = |s: StatusWord| Response::status(s.into());
        if self.selected_app != Some(App::Jpki) || self.selected_ef != Some(FID_AUTH_KEY) {
            return sw(StatusWord::NotAllowed);
        }
        if !self.auth_verified {
            return sw(StatusWord::SecurityNotSatisfied);
        }
        if c.data.is_empty() || c.data.len() > 256 - 11 {
            return sw(StatusWord::WrongLength);
        }
        match self.key.sign(Pkcs1v15Sign::new_unprefixed(), &c.data) {
            Ok(signature) => Response::new(signature, StatusWord::Ok.into()),
            Err(_) => sw(StatusWord::WrongLength),
        }
    }
}

impl Transport for VirtualCard {
    async fn transmit(&mut self, command: &Command) -> Result<Response, TransportError> {
        Response::parse(&self.process(&command.to_bytes())).ok_or(TransportError::MalformedResponse)
    }
}

/// A transport that loses the card after `after` commands (tests of a card pulled away).
#[derive(Debug)]
pub struct RemovedAfter<T> {
    pub inner: T,
    pub after: usize,
}

impl<T: Transport> Transport for RemovedAfter<T> {
    async fn transmit(&mut self, command: &Command) -> Result<Response, TransportError> {
        if self.after == 0 {
            return Err(TransportError::CardRemoved);
        }
        self.after -= 1;
        self.inner.transmit(command).await
    }
}
