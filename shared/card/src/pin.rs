//! PINs and the guard every VERIFY goes through.
//!
//! The rules (reference card.md §3): failed tries persist until a correct entry and a
//! blocked PIN is reset only at the municipal office. So the guard reads the counter
//! first (a VERIFY without data spends no try), refuses at 0, refuses at 1 unless staff
//! confirmed, sends the VERIFY exactly once, and never retries on its own. A [`Pin`]
//! cannot be printed, cloned or serialised, and is wiped from memory when dropped.

use crate::apdu::{Command, StatusWord, INS_VERIFY};
use crate::error::CardError;
use crate::transport::Transport;
use std::fmt;
use std::marker::PhantomData;
use zeroize::Zeroizing;

/// Which PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PinKind {
    /// 利用者証明用電子証明書の暗証番号 (JPKI auth, 4 digits, 3 tries).
    JpkiAuth,
    /// 券面事項入力補助用暗証番号 (text AP, 4 digits, 3 tries).
    TextAp,
}

impl fmt::Display for PinKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PinKind::JpkiAuth => "利用者証明用暗証番号",
            PinKind::TextAp => "券面事項入力補助用暗証番号",
        })
    }
}

/// A PIN value: 4 ASCII digits, zeroised on drop. Deliberately no `Debug`, `Display`,
/// `Clone` or serde.
#[allow(missing_debug_implementations)]
pub struct Pin {
    digits: Zeroizing<Vec<u8>>,
}

impl Pin {
    /// Accepts exactly four digits (full-width digits are folded).
    pub fn new(text: &str) -> Result<Pin, CardError> {
        let digits: Zeroizing<Vec<u8>> = Zeroizing::new(
            text.chars()
                .map(|c| match c {
                    '0'..='9' => Some(c as u8),
                    '０'..='９' => Some((c as u32 - '０' as u32) as u8 + b'0'),
                    _ => None,
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or(CardError::PinFormat)?,
        );
        if digits.len() != 4 {
            return Err(CardError::PinFormat);
        }
        Ok(Pin { digits })
    }
}

/// Staff's explicit confirmation that the last try may be spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffConfirmation {
    #[default]
    NotGiven,
    /// Staff told the patient that a wrong entry locks the PIN, and they proceed.
    LastTryConfirmed,
}

/// The counter as read without spending a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "tries_left")]
#[serde(try_from = "PinStatusWire")]
pub enum PinStatus {
    TriesLeft(u8),
    /// Already verified in this session (e.g. iPhone after Face ID).
    Verified,
    Blocked,
}

/// How a [`PinStatus`] is read: flat, so the page does not link serde's buffering reader
/// for a tagged enum (the serialised form is unchanged).
#[derive(serde::Deserialize)]
struct PinStatusWire {
    state: String,
    tries_left: Option<u8>,
}

impl TryFrom<PinStatusWire> for PinStatus {
    type Error = String;
    fn try_from(w: PinStatusWire) -> Result<PinStatus, String> {
        match (w.state.as_str(), w.tries_left) {
            ("tries_left", Some(n)) => Ok(PinStatus::TriesLeft(n)),
            ("verified", _) => Ok(PinStatus::Verified),
            ("blocked", _) => Ok(PinStatus::Blocked),
            (state, _) => Err(format!("unknown PIN state {state:?}")),
        }
    }
}

/// A PIN file: where it lives and which kind it is.
pub trait PinFile {
    const KIND: PinKind;
    const APPLICATION: &'static [u8];
    const FID: u16;
}

/// Marker for the JPKI auth PIN.
#[derive(Debug)]
pub struct JpkiAuthPin;
/// Marker for the text AP PIN.
#[derive(Debug)]
pub struct TextApPin;

impl PinFile for JpkiAuthPin {
    const KIND: PinKind = PinKind::JpkiAuth;
    const APPLICATION: &'static [u8] = crate::jpki::JPKI_AID;
    const FID: u16 = crate::jpki::FID_AUTH_PIN;
}
impl PinFile for TextApPin {
    const KIND: PinKind = PinKind::TextAp;
    const APPLICATION: &'static [u8] = crate::text_ap::TEXT_AID;
    const FID: u16 = crate::text_ap::FID_TEXT_PIN;
}

/// Proof that the PIN of `F` is verified in the current session. Only the guard makes
/// one; the operations that need a PIN take it.
#[derive(Debug)]
pub struct Verified<F: PinFile> {
    _file: PhantomData<F>,
}

async fn select_pin_file<F: PinFile>(t: &mut impl Transport) -> Result<(), CardError> {
    let r = t.transmit(&Command::select_application(F::APPLICATION)).await?;
    match r.status_word() {
        StatusWord::Ok => {}
        StatusWord::NotFound if F::KIND == PinKind::TextAp => {
            return Err(CardError::NoTextApplication)
        }
        StatusWord::NotFound => return Err(CardError::NotMyNumberCard),
        _ => return Err(CardError::UnexpectedStatus { step: "select application", sw: r.sw }),
    }
    let r = t.transmit(&Command::select_file(F::FID)).await?;
    if !r.is_ok() {
        return Err(CardError::UnexpectedStatus { step: "select PIN file", sw: r.sw });
    }
    Ok(())
}

pub(crate) async fn status_of_selected(t: &mut impl Transport) -> Result<PinStatus, CardError> {
    let r = t.transmit(&Command::verify_status()).await?;
    Ok(match r.status_word() {
        StatusWord::Ok => PinStatus::Verified,
        StatusWord::TriesLeft(0) | StatusWord::Blocked => PinStatus::Blocked,
        StatusWord::TriesLeft(n) => PinStatus::TriesLeft(n),
        _ => return Err(CardError::UnexpectedStatus { step: "PIN status", sw: r.sw }),
    })
}

/// The tries left for `F`, spending none. Selects `F`'s application.
pub async fn status<F: PinFile>(t: &mut impl Transport) -> Result<PinStatus, CardError> {
    select_pin_file::<F>(t).await?;
    status_of_selected(t).await
}

/// Verifies `pin` under the guard's rules; consumes (and wipes) the PIN.
pub async fn verify<F: PinFile>(
    t: &mut impl Transport,
    pin: Pin,
    confirmation: StaffConfirmation,
) -> Result<Verified<F>, CardError> {
    select_pin_file::<F>(t).await?;
    match status_of_selected(t).await? {
        PinStatus::Verified => return Ok(Verified { _file: PhantomData }),
        PinStatus::Blocked => return Err(CardError::PinBlocked(F::KIND)),
        PinStatus::TriesLeft(1) if confirmation != StaffConfirmation::LastTryConfirmed => {
            return Err(CardError::LastTryNeedsConfirmation(F::KIND))
        }
        PinStatus::TriesLeft(_) => {}
    }
    let mut command = Command::new(0x00, INS_VERIFY, 0x00, 0x80).with_data(&pin.digits);
    let r = t.transmit(&command).await;
    // The command's copy of the PIN is wiped as well; transports wipe theirs.
    zeroize::Zeroize::zeroize(&mut command.data);
    let r = r?;
    match r.status_word() {
        StatusWord::Ok => Ok(Verified { _file: PhantomData }),
        StatusWord::TriesLeft(0) | StatusWord::Blocked => Err(CardError::PinBlocked(F::KIND)),
        StatusWord::TriesLeft(n) => Err(CardError::WrongPin { kind: F::KIND, tries_left: n }),
        _ => Err(CardError::UnexpectedStatus { step: "VERIFY", sw: r.sw }),
    }
}
