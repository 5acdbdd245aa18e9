//! The three operations reception needs, composed from the JPKI and text-AP steps. They
//! are what the bridge exposes (never raw APDUs) and what the WebUSB path will call.

use crate::certificate::{CertificateState, CertificateSummary};
use crate::error::CardError;
use crate::jpki::{self, Holder, FID_AUTH_PIN, FID_SIGN_PIN};
use crate::pin::{self, JpkiAuthPin, Pin, PinStatus, StaffConfirmation, TextApPin};
use crate::text_ap::{self, BasicInfo};
use crate::transport::Transport;
use eligibility::expiry::{Expiry, ExpiryKind};
use eligibility::{Date, Policy};
use serde::Serialize;

/// What `check` learns without spending a PIN try: the bridge sends it, the page reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CheckReport {
    pub holder: Holder,
    /// `None` when the certificate is readable only after the PIN (Android).
    pub certificate: Option<CertificateSummary>,
    pub certificate_state: Option<CertificateState>,
    pub auth_pin: PinStatus,
    /// `None` for phones (no text AP).
    pub text_pin: Option<PinStatus>,
    /// The 署名用パスワード's tries left, read spending none: what adding the card to a
    /// phone needs. `None` when the card has no signing certificate (none is issued under
    /// 15) or the holder is not a My Number card. Older bridges do not send it.
    #[serde(default)]
    pub signing_password: Option<PinStatus>,
}

/// Whether the patient can add the card to a phone at home (the signing password is what
/// the マイナポータル app asks for), as the pre-check finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PhoneReadiness {
    /// The password works; a wrong entry costs one of these tries.
    Ready { tries_left: u8 },
    /// Locked: reset at the 市区町村 window, or with the PKI暗証番号リセットアプリ and a
    /// convenience store's kiosk (the seed's three steps).
    Locked,
    /// No signing certificate on the card (issued from 15): a phone cannot be set up with it.
    NoSigningCertificate,
}

impl PhoneReadiness {
    /// What the counter says, Japanese then English.
    pub fn line(self) -> eligibility::expiry::Line {
        let (ja, en) = match self {
            PhoneReadiness::Ready { tries_left } => (
                format!("スマホへの追加：署名用パスワード（英数字6〜16文字）は使えます（残り{tries_left}回）"),
                format!("adding to a phone: the signing password works ({tries_left} tries left)"),
            ),
            PhoneReadiness::Locked => (
                "スマホへの追加：署名用パスワードがロックされています。市区町村の窓口か、①「PKI暗証番号リセットアプリ」をダウンロード ②アプリで初期化を予約 ③コンビニのキオスク端末で再設定（利用者証明用の暗証番号4桁が必要）".to_string(),
                "adding to a phone: the signing password is locked — reset it at the municipal office, or with the PKI暗証番号リセット app and a convenience-store kiosk (needs the 4-digit PIN)".to_string(),
            ),
            PhoneReadiness::NoSigningCertificate => (
                "スマホへの追加：このカードには署名用電子証明書がありません（原則15歳以上に発行）。市区町村の窓口へ".to_string(),
                "adding to a phone: this card has no signing certificate (issued from age 15): see the municipal office".to_string(),
            ),
        };
        eligibility::expiry::Line { ja, en }
    }
}

impl CheckReport {
    /// Whether the card can be added to a phone (a My Number card only).
    pub fn phone_readiness(&self) -> Option<PhoneReadiness> {
        if self.holder != Holder::MyNumberCard {
            return None;
        }
        Some(match self.signing_password {
            None => PhoneReadiness::NoSigningCertificate,
            Some(PinStatus::Blocked) | Some(PinStatus::TriesLeft(0)) => PhoneReadiness::Locked,
            Some(PinStatus::TriesLeft(n)) => PhoneReadiness::Ready { tries_left: n },
            Some(PinStatus::Verified) => PhoneReadiness::Ready { tries_left: SIGNING_TRIES },
        })
    }

    /// The expiry the patient must hear of, from the state the check computed (`None`
    /// while valid for more than three months, not yet valid, or not readable before the
    /// PIN).
    pub fn expiry(&self, today: Date) -> Option<Expiry> {
        let expires_on = self.certificate.as_ref()?.not_after;
        let (kind, usable_until) = match self.certificate_state? {
            CertificateState::ExpiresSoon { .. } => (ExpiryKind::ExpiresSoon, Some(expires_on)),
            CertificateState::InGrace { grace_until, .. } => {
                (ExpiryKind::InGrace, Some(grace_until))
            }
            CertificateState::Expired { .. } => (ExpiryKind::Lapsed, None),
            CertificateState::Valid { .. } | CertificateState::NotYetValid => return None,
        };
        let holder = self.holder.policy_holder();
        Some(Expiry { kind, holder, expires_on, usable_until, seen_on: today })
    }
}

/// Holder, certificate summary and state, and both PIN counters. Spends no try.
pub async fn check(
    t: &mut impl Transport,
    policy: &Policy,
    today: Date,
) -> Result<CheckReport, CardError> {
    let holder = jpki::holder(t).await?;
    let certificate = match jpki::auth_certificate(t).await {
        Ok(der) => Some(CertificateSummary::from_der(&der)?),
        Err(CardError::PinRequiredFirst) => None,
        Err(e) => return Err(e),
    };
    let certificate_state = certificate.as_ref().map(|c| c.state(policy, holder, today));
    jpki::select_file(t, FID_AUTH_PIN).await?;
    let auth_pin = pin::status_of_selected(t).await?;
    let signing_password =
        if holder == Holder::MyNumberCard { signing_password(t).await? } else { None };
    let text_pin = if holder.is_phone() { None } else { Some(pin::status::<TextApPin>(t).await?) };
    Ok(CheckReport { holder, certificate, certificate_state, auth_pin, text_pin, signing_password })
}

/// The signing password's tries when it is fresh.
pub const SIGNING_TRIES: u8 = 5;

/// The signing password's tries left, spending none (the JPKI application selected);
/// `None` when the card has no signing password file — no signing certificate (inferred:
/// a card issued under 15 is taken to answer `6A 82` like any missing file).
async fn signing_password(t: &mut impl Transport) -> Result<Option<PinStatus>, CardError> {
    let r = t.transmit(&crate::apdu::Command::select_file(FID_SIGN_PIN)).await?;
    match r.status_word() {
        crate::apdu::StatusWord::Ok => Ok(Some(pin::status_of_selected(t).await?)),
        crate::apdu::StatusWord::NotFound => Ok(None),
        _ => Err(CardError::UnexpectedStatus { step: "select signing password", sw: r.sw }),
    }
}

/// What `confirm` hands to the national-system gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    pub holder: Holder,
    /// The auth certificate, DER.
    pub certificate: Vec<u8>,
    /// PKCS#1 v1.5 signature over SHA-256(`challenge`).
    pub signature: Vec<u8>,
}

/// Verifies the auth PIN through the guard, reads the certificate and signs `challenge`.
pub async fn confirm(
    t: &mut impl Transport,
    pin: Pin,
    staff: StaffConfirmation,
    challenge: &[u8],
) -> Result<Confirmation, CardError> {
    let holder = jpki::holder(t).await?;
    let verified = pin::verify::<JpkiAuthPin>(t, pin, staff).await?;
    let certificate = jpki::auth_certificate(t).await?;
    let signature = jpki::sign(t, &verified, challenge).await?;
    Ok(Confirmation { holder, certificate, signature })
}

/// Verifies the text-AP PIN through the guard and reads the four basic items.
pub async fn read_basic_info(
    t: &mut impl Transport,
    pin: Pin,
    staff: StaffConfirmation,
) -> Result<BasicInfo, CardError> {
    let verified = pin::verify::<TextApPin>(t, pin, staff).await?;
    text_ap::basic_info(t, &verified).await
}
