//! What reception needs from the auth certificate: its serial, its validity in Japan's
//! calendar, and the state of its expiry and grace on a given day.

use crate::error::CardError;
use crate::jpki::Holder;
use eligibility::{Date, Policy};
use serde::Serialize;
use x509_cert::der::Decode;
use x509_cert::Certificate;

/// A summary of an X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
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

/// The notice period before expiry (readers warn from 3 months before).
const WARNING_MONTHS: u32 = 3;

impl CertificateSummary {
    pub fn from_der(der: &[u8]) -> Result<CertificateSummary, CardError> {
        let cert =
            Certificate::from_der(der).map_err(|e| CardError::malformed("certificate", e))?;
        let tbs = &cert.tbs_certificate;
        let serial = tbs.serial_number.as_bytes().iter().map(|b| format!("{b:02X}")).collect();
        let jst = |t: &x509_cert::time::Time| {
            let seconds = t.to_unix_duration().as_secs() as i64 + 9 * 3600;
            Date::from_day_number(seconds.div_euclid(86_400))
                .ok_or_else(|| CardError::malformed("certificate", "validity outside 1800–9999"))
        };
        Ok(CertificateSummary {
            serial,
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            not_before: jst(&tbs.validity.not_before)?,
            not_after: jst(&tbs.validity.not_after)?,
        })
    }

    /// The state on `today` for `holder` (grace: 3 months for a card, none for a phone,
    /// as the policy table says on that day).
    pub fn state(&self, policy: &Policy, holder: Holder, today: Date) -> CertificateState {
        if today < self.not_before {
            return CertificateState::NotYetValid;
        }
        if today <= self.not_after {
            let days_left = today.days_until(self.not_after);
            return if self.not_after <= today.add_months(WARNING_MONTHS) {
                CertificateState::ExpiresSoon { days_left }
            } else {
                CertificateState::Valid { days_left }
            };
        }
        let months =
            policy.certificate_grace(holder.policy_holder(), today).map_or(0, |r| r.months);
        let grace_until = self.not_after.add_months(months);
        if months > 0 && today <= grace_until {
            CertificateState::InGrace {
                expired_on: self.not_after,
                grace_until,
                grace_days_left: today.days_until(grace_until),
            }
        } else {
            CertificateState::Expired { expired_on: self.not_after }
        }
    }
}
