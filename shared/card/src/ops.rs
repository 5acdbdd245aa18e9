//! The three operations reception needs, composed from the JPKI and text-AP steps. They
//! are what the bridge exposes (never raw APDUs) and what the WebUSB path will call.

use crate::certificate::{CertificateState, CertificateSummary};
use crate::error::CardError;
use crate::jpki::{self, Holder, FID_AUTH_PIN};
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
}

impl CheckReport {
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
    let text_pin = if holder.is_phone() { None } else { Some(pin::status::<TextApPin>(t).await?) };
    Ok(CheckReport { holder, certificate, certificate_state, auth_pin, text_pin })
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
