//! The JPKI application (公的個人認証): token, certificates, and signing with the auth key.

use crate::apdu::{Command, StatusWord, INS_COMPUTE_SIGNATURE, MAX_READ};
use crate::ber;
use crate::error::CardError;
use crate::pin::{JpkiAuthPin, Verified};
use crate::transport::Transport;
use sha2::{Digest, Sha256};

pub const JPKI_AID: &[u8] = &[0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
pub const FID_TOKEN: u16 = 0x0006;
pub const FID_AUTH_CERT: u16 = 0x000A;
pub const FID_AUTH_CA_CERT: u16 = 0x000B;
pub const FID_AUTH_KEY: u16 = 0x0017;
pub const FID_AUTH_PIN: u16 = 0x0018;
/// 署名用電子証明書 (readable after the signing password) and its CA (free).
pub const FID_SIGN_CERT: u16 = 0x0001;
pub const FID_SIGN_CA_CERT: u16 = 0x0002;
/// The signing key and the 署名用パスワード (6–16 of A–Z 0–9, 5 tries).
pub const FID_SIGN_KEY: u16 = 0x001A;
pub const FID_SIGN_PIN: u16 = 0x001B;

/// The DER prefix of a SHA-256 DigestInfo.
pub const SHA256_DIGEST_INFO_PREFIX: &[u8] = &[
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The largest certificate file we accept (real ones are about 1.2 KB).
pub const MAX_CERTIFICATE_LEN: usize = 8 * 1024;

/// Who holds the JPKI application, from the token in `0006`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// マイナンバーカード (`JPKIAPICCTOKEN2`).
    MyNumberCard,
    /// 住民基本台帳カード (`JPKIAPICCTOKEN`).
    JukiCard,
    /// Android スマホ用電子証明書 (`JPKIAPGPSETOKEN`).
    AndroidPhone,
    /// iPhone (`JPKIAPIOSTOKEN`).
    IPhone,
}

impl Holder {
    pub fn token(self) -> &'static str {
        match self {
            Holder::MyNumberCard => "JPKIAPICCTOKEN2",
            Holder::JukiCard => "JPKIAPICCTOKEN",
            Holder::AndroidPhone => "JPKIAPGPSETOKEN",
            Holder::IPhone => "JPKIAPIOSTOKEN",
        }
    }

    pub fn is_phone(self) -> bool {
        matches!(self, Holder::AndroidPhone | Holder::IPhone)
    }

    /// The policy table's certificate holder (grace rules differ).
    pub fn policy_holder(self) -> eligibility::policy::Holder {
        if self.is_phone() {
            eligibility::policy::Holder::Phone
        } else {
            eligibility::policy::Holder::Card
        }
    }

    /// Classifies a token (32 ASCII bytes, space padded).
    pub fn from_token(token: &[u8]) -> Result<Holder, CardError> {
        let text = String::from_utf8_lossy(token);
        let trimmed = text.trim_end_matches([' ', '\0']);
        [Holder::MyNumberCard, Holder::JukiCard, Holder::AndroidPhone, Holder::IPhone]
            .into_iter()
            .find(|h| h.token() == trimmed)
            .ok_or_else(|| CardError::UnknownToken(trimmed.chars().take(32).collect()))
    }
}

pub(crate) async fn select_application(
    t: &mut impl Transport,
    aid: &[u8],
) -> Result<(), CardError> {
    let r = t.transmit(&Command::select_application(aid)).await?;
    match r.status_word() {
        StatusWord::Ok => Ok(()),
        StatusWord::NotFound if aid == JPKI_AID => Err(CardError::NotMyNumberCard),
        StatusWord::NotFound => Err(CardError::NoTextApplication),
        _ => Err(CardError::UnexpectedStatus { step: "select application", sw: r.sw }),
    }
}

pub(crate) async fn select_file(t: &mut impl Transport, fid: u16) -> Result<(), CardError> {
    let r = t.transmit(&Command::select_file(fid)).await?;
    match r.status_word() {
        StatusWord::Ok => Ok(()),
        _ => Err(CardError::UnexpectedStatus { step: "select file", sw: r.sw }),
    }
}

/// Reads `len` bytes of the selected file from `offset`, in 256-byte chunks.
pub(crate) async fn read(
    t: &mut impl Transport,
    offset: usize,
    len: usize,
) -> Result<Vec<u8>, CardError> {
    let mut out = Vec::with_capacity(len.min(MAX_CERTIFICATE_LEN));
    while out.len() < len {
        let at = offset + out.len();
        let at16 = u16::try_from(at)
            .ok()
            .filter(|a| *a <= 0x7FFF)
            .ok_or_else(|| CardError::malformed("file", "offset beyond 32767"))?;
        let chunk = (len - out.len()).min(MAX_READ) as u16;
        let r = t.transmit(&Command::read_binary(at16, chunk)).await?;
        match r.status_word() {
            StatusWord::Ok | StatusWord::EndOfFile if !r.data.is_empty() => {
                let take = r.data.len().min(len - out.len());
                out.extend_from_slice(&r.data[..take]);
            }
            StatusWord::SecurityNotSatisfied => return Err(CardError::PinRequiredFirst),
            _ => return Err(CardError::UnexpectedStatus { step: "READ BINARY", sw: r.sw }),
        }
    }
    Ok(out)
}

/// Reads a whole TLV file: the first chunk gives the BER length, then the rest.
pub(crate) async fn read_tlv_file(
    t: &mut impl Transport,
    fid: u16,
    limit: usize,
) -> Result<Vec<u8>, CardError> {
    select_file(t, fid).await?;
    let first = read_first(t).await?;
    let header = ber::header(&first, limit).map_err(|e| CardError::malformed("file length", e))?;
    let total = header.total_len();
    if first.len() >= total {
        return Ok(first[..total].to_vec());
    }
    let mut data = first;
    let rest = read(t, data.len(), total - data.len()).await?;
    data.extend_from_slice(&rest);
    Ok(data)
}

/// The first chunk of the selected file (up to 256 bytes; a short file answers less).
async fn read_first(t: &mut impl Transport) -> Result<Vec<u8>, CardError> {
    let r = t.transmit(&Command::read_binary(0, MAX_READ as u16)).await?;
    match r.status_word() {
        StatusWord::Ok | StatusWord::EndOfFile if !r.data.is_empty() => Ok(r.data),
        StatusWord::SecurityNotSatisfied => Err(CardError::PinRequiredFirst),
        _ => Err(CardError::UnexpectedStatus { step: "READ BINARY", sw: r.sw }),
    }
}

/// Selects JPKI and reads the token.
pub async fn holder(t: &mut impl Transport) -> Result<Holder, CardError> {
    select_application(t, JPKI_AID).await?;
    select_file(t, FID_TOKEN).await?;
    let token = read(t, 0, 32).await?;
    Holder::from_token(&token)
}

/// The auth certificate (DER). JPKI must be selected. On an Android phone it is readable
/// only after the auth PIN ([`CardError::PinRequiredFirst`]).
pub async fn auth_certificate(t: &mut impl Transport) -> Result<Vec<u8>, CardError> {
    read_tlv_file(t, FID_AUTH_CERT, MAX_CERTIFICATE_LEN).await
}

/// The auth certificate's CA certificate (DER). JPKI must be selected.
pub async fn auth_ca_certificate(t: &mut impl Transport) -> Result<Vec<u8>, CardError> {
    read_tlv_file(t, FID_AUTH_CA_CERT, MAX_CERTIFICATE_LEN).await
}

/// The DigestInfo the card signs for `challenge` (SHA-256).
pub fn digest_info(challenge: &[u8]) -> Vec<u8> {
    let mut di = SHA256_DIGEST_INFO_PREFIX.to_vec();
    di.extend_from_slice(&Sha256::digest(challenge));
    di
}

/// Signs `challenge` with the auth key (PKCS#1 v1.5 over its SHA-256 DigestInfo).
pub async fn sign(
    t: &mut impl Transport,
    _verified: &Verified<JpkiAuthPin>,
    challenge: &[u8],
) -> Result<Vec<u8>, CardError> {
    select_file(t, FID_AUTH_KEY).await?;
    let command = Command::new(0x80, INS_COMPUTE_SIGNATURE, 0x00, 0x80)
        .with_data(&digest_info(challenge))
        .with_le(256);
    let r = t.transmit(&command).await?;
    match r.status_word() {
        StatusWord::Ok if r.data.len() == 256 => Ok(r.data),
        StatusWord::Ok => {
            Err(CardError::malformed("signature", format!("{} bytes instead of 256", r.data.len())))
        }
        StatusWord::SecurityNotSatisfied => Err(CardError::PinRequiredFirst),
        _ => Err(CardError::UnexpectedStatus { step: "sign", sw: r.sw }),
    }
}
