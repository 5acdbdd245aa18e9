//! What reception needs from the auth certificate: its serial, its validity in Japan's
//! calendar, and the state of its expiry and grace on a given day.

use crate::error::CardError;
use crate::jpki::Holder;
use eligibility::expiry::{Expiry, ExpiryKind};
use eligibility::{Date, Policy};
use serde::Serialize;

/// A summary of an X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CertificateSummary {
    /// The serial number, upper-case hex.
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    /// First valid day, in Japan (UTC+9).
    pub not_before: Date,
    /// Last valid day, in Japan (UTC+9).
    pub not_after: Date,
}

/// The certificate's state on a day, under the policy table's grace rule for its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", try_from = "CertificateStateWire")]
pub enum CertificateState {
    NotYetValid,
    Valid {
        days_left: i64,
    },
    /// Valid, but expires within three months: the reader warns; advise renewal.
    ExpiresSoon {
        days_left: i64,
    },
    /// Expired, usable for insurance data until `grace_until`.
    InGrace {
        expired_on: Date,
        grace_until: Date,
        grace_days_left: i64,
    },
    Expired {
        expired_on: Date,
    },
}

/// How a [`CertificateState`] is read: flat (see `PinStatusWire` in `pin.rs`).
#[derive(serde::Deserialize)]
struct CertificateStateWire {
    state: String,
    days_left: Option<i64>,
    expired_on: Option<Date>,
    grace_until: Option<Date>,
    grace_days_left: Option<i64>,
}

impl TryFrom<CertificateStateWire> for CertificateState {
    type Error = String;
    fn try_from(w: CertificateStateWire) -> Result<CertificateState, String> {
        let missing = || format!("certificate state {:?} without its fields", w.state);
        Ok(match w.state.as_str() {
            "not_yet_valid" => CertificateState::NotYetValid,
            "valid" => CertificateState::Valid { days_left: w.days_left.ok_or_else(missing)? },
            "expires_soon" => {
                CertificateState::ExpiresSoon { days_left: w.days_left.ok_or_else(missing)? }
            }
            "in_grace" => CertificateState::InGrace {
                expired_on: w.expired_on.ok_or_else(missing)?,
                grace_until: w.grace_until.ok_or_else(missing)?,
                grace_days_left: w.grace_days_left.ok_or_else(missing)?,
            },
            "expired" => {
                CertificateState::Expired { expired_on: w.expired_on.ok_or_else(missing)? }
            }
            state => return Err(format!("unknown certificate state {state:?}")),
        })
    }
}

/// One DER element with tag `tag` at the start of `bytes`: (content, the rest).
fn tlv(bytes: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *bytes.first()? != tag {
        return None;
    }
    let h = crate::ber::header(bytes, bytes.len()).ok()?;
    let content = bytes.get(h.header_len..h.total_len())?;
    Some((content, &bytes[h.total_len()..]))
}

/// UTCTime (`YYMMDDHHMMSSZ`, 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) → the day
/// in Japan (UTC+9).
fn time(bytes: &[u8]) -> Option<(Date, &[u8])> {
    let (tag, digits) = match bytes.first()? {
        0x17 => (0x17, 12),
        0x18 => (0x18, 14),
        _ => return None,
    };
    let (text, rest) = tlv(bytes, tag)?;
    let text = std::str::from_utf8(text).ok()?;
    if text.len() != digits + 1 || !text.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<u32>().ok();
    let (year, at) = if tag == 0x17 {
        let yy = n(0..2)?;
        (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
    } else {
        (n(0..4)?, 4)
    };
    let date = Date::new(year, n(at..at + 2)?, n(at + 2..at + 4)?).ok()?;
    let seconds = i64::from(n(at + 4..at + 6)?) * 3600 + i64::from(n(at + 6..at + 8)?) * 60;
    let utc = date.day_number() * 86_400 + seconds + i64::from(n(at + 8..at + 10)?);
    Some((Date::from_day_number((utc + 9 * 3600).div_euclid(86_400))?, rest))
}

/// A Name as RFC 4514 text (last RDN first, as `x509-cert` prints it).
fn name(mut rdns: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let (set, rest) = tlv(rdns, 0x31)?;
        rdns = rest;
        let mut atvs = Vec::new();
        let mut inner = set;
        while !inner.is_empty() {
            let (atv, rest) = tlv(inner, 0x30)?;
            inner = rest;
            let (oid, value) = tlv(atv, 0x06)?;
            let key = match oid {
                [0x55, 0x04, 0x03] => "CN".to_string(),
                [0x55, 0x04, 0x06] => "C".to_string(),
                [0x55, 0x04, 0x07] => "L".to_string(),
                [0x55, 0x04, 0x08] => "ST".to_string(),
                [0x55, 0x04, 0x0A] => "O".to_string(),
                [0x55, 0x04, 0x0B] => "OU".to_string(),
                other => other.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join("."),
            };
            let tag = *value.first()?;
            let (text, _) = tlv(value, tag)?;
            atvs.push(format!("{key}={}", String::from_utf8_lossy(text)));
        }
        parts.push(atvs.join("+"));
    }
    parts.reverse();
    Some(parts.join(","))
}

impl CertificateSummary {
    /// Reads the summary with a small DER walker (the browser build stays small: no
    /// general X.509 library); tests check it against `x509-cert` on every test
    /// certificate.
    pub fn from_der(der: &[u8]) -> Result<CertificateSummary, CardError> {
        let bad = |what: &str| CardError::malformed("certificate", what.to_string());
        let (cert, _) = tlv(der, 0x30).ok_or_else(|| bad("not a DER SEQUENCE"))?;
        let (tbs, _) = tlv(cert, 0x30).ok_or_else(|| bad("no TBSCertificate"))?;
        let mut rest = tbs;
        // [0] version, optional.
        if rest.first() == Some(&0xA0) {
            rest = tlv(rest, 0xA0).ok_or_else(|| bad("version"))?.1;
        }
        let (serial, r) = tlv(rest, 0x02).ok_or_else(|| bad("serial number"))?;
        let (_signature, r) = tlv(r, 0x30).ok_or_else(|| bad("signature algorithm"))?;
        let (issuer, r) = tlv(r, 0x30).ok_or_else(|| bad("issuer"))?;
        let (validity, r) = tlv(r, 0x30).ok_or_else(|| bad("validity"))?;
        let (subject, _) = tlv(r, 0x30).ok_or_else(|| bad("subject"))?;
        let (not_before, after) = time(validity).ok_or_else(|| bad("notBefore"))?;
        let (not_after, _) = time(after).ok_or_else(|| bad("notAfter"))?;
        Ok(CertificateSummary {
            serial: serial.iter().map(|b| format!("{b:02X}")).collect(),
            subject: name(subject).ok_or_else(|| bad("subject name"))?,
            issuer: name(issuer).ok_or_else(|| bad("issuer name"))?,
            not_before,
            not_after,
        })
    }

    /// The state on `today` for `holder` (grace: 3 months for a card, none for a phone,
    /// as the policy table says on that day).
    pub fn state(&self, policy: &Policy, holder: Holder, today: Date) -> CertificateState {
        if today < self.not_before {
            return CertificateState::NotYetValid;
        }
        let Some(expiry) = self.expiry(policy, holder, today) else {
            return CertificateState::Valid { days_left: today.days_until(self.not_after) };
        };
        match (expiry.kind, expiry.usable_until) {
            (ExpiryKind::ExpiresSoon, _) => {
                CertificateState::ExpiresSoon { days_left: today.days_until(self.not_after) }
            }
            (ExpiryKind::InGrace, Some(grace_until)) => CertificateState::InGrace {
                expired_on: self.not_after,
                grace_until,
                grace_days_left: today.days_until(grace_until),
            },
            _ => CertificateState::Expired { expired_on: self.not_after },
        }
    }

    /// The expiry the patient must hear of on `today` (`None` while valid for more than
    /// three months): the counter's line, the slip and the 利用状況 forecast read it.
    pub fn expiry(&self, policy: &Policy, holder: Holder, today: Date) -> Option<Expiry> {
        Expiry::on(policy, holder.policy_holder(), self.not_after, today)
    }
}
