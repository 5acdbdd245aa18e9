//! The test JPKI CA: a self-signed CA and auth certificates for the test persons, issued
//! relative to a given day so that "expires in 10 days" stays true whenever tests run.
//! Keys come from a small committed pool (`testdata/keys`, PKCS#8, generated with
//! `cargo xtask gen-test-keys`); RSA key generation is too slow to do per test.

use super::persons::TestPerson;
use eligibility::Date;
use rsa::pkcs8::DecodePrivateKey;
use rsa::RsaPrivateKey;
use sha2::Sha256;
use std::str::FromStr;
use std::time::Duration;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::{GeneralizedTime, UtcTime};
use x509_cert::der::Encode;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

const CA_KEY: &[u8] = include_bytes!("../../testdata/keys/ca.pk8.der");
const PERSON_KEYS: [&[u8]; 4] = [
    include_bytes!("../../testdata/keys/person1.pk8.der"),
    include_bytes!("../../testdata/keys/person2.pk8.der"),
    include_bytes!("../../testdata/keys/person3.pk8.der"),
    include_bytes!("../../testdata/keys/person4.pk8.der"),
];

pub const CA_SUBJECT: &str =
    "CN=madoguchi TEST JPKI CA (not for production),OU=TEST,O=madoguchi,C=JP";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestPkiError {
    #[error("test key: {0}")]
    Key(String),
    #[error("test certificate: {0}")]
    Certificate(String),
    #[error("test person: {0}")]
    Person(String),
}

/// The CA and its certificate, issuing as of `issued_on`.
#[derive(Debug, Clone)]
pub struct TestPki {
    ca_key: RsaPrivateKey,
    ca_der: Vec<u8>,
    issued_on: Date,
}

fn key(der: &[u8]) -> Result<RsaPrivateKey, TestPkiError> {
    RsaPrivateKey::from_pkcs8_der(der).map_err(|e| TestPkiError::Key(e.to_string()))
}

/// A JST calendar day's start (00:00:00) or end (23:59:59) as an X.509 time.
fn jst(day: Date, end_of_day: bool) -> Result<Time, TestPkiError> {
    let seconds = day.day_number() * 86_400 - 9 * 3600 + if end_of_day { 86_399 } else { 0 };
    let d = Duration::from_secs(
        u64::try_from(seconds).map_err(|_| TestPkiError::Certificate("before 1970".into()))?,
    );
    let err = |e: x509_cert::der::Error| TestPkiError::Certificate(e.to_string());
    if day.year() < 2050 {
        Ok(Time::UtcTime(UtcTime::from_unix_duration(d).map_err(err)?))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_unix_duration(d).map_err(err)?))
    }
}

fn certificate(
    profile: Profile,
    serial: u32,
    validity: Validity,
    subject: &str,
    subject_key: &RsaPrivateKey,
    issuer_key: &RsaPrivateKey,
) -> Result<Vec<u8>, TestPkiError> {
    let err = |e: &dyn std::fmt::Display| TestPkiError::Certificate(e.to_string());
    let subject = Name::from_str(subject).map_err(|e| err(&e))?;
    let spki_der = subject_key.to_public_key().to_public_key_der().map_err(|e| err(&e))?;
    let spki = SubjectPublicKeyInfoOwned::try_from(spki_der.as_bytes()).map_err(|e| err(&e))?;
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(issuer_key.clone());
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(serial),
        validity,
        subject,
        spki,
        &signer,
    )
    .map_err(|e| err(&e))?;
    let cert = builder.build::<rsa::pkcs1v15::Signature>().map_err(|e| err(&e))?;
    cert.to_der().map_err(|e| err(&e))
}

impl TestPki {
    /// The CA as of `issued_on`: valid from ten years before to ten years after.
    pub fn new(issued_on: Date) -> Result<TestPki, TestPkiError> {
        let ca_key = key(CA_KEY)?;
        let from = Date::new(issued_on.year().saturating_sub(10), 1, 1)
            .map_err(|e| TestPkiError::Certificate(e.to_string()))?;
        let until = Date::new(issued_on.year() + 10, 12, 31)
            .map_err(|e| TestPkiError::Certificate(e.to_string()))?;
        let validity = Validity { not_before: jst(from, false)?, not_after: jst(until, true)? };
        let ca_der = certificate(Profile::Root, 1, validity, CA_SUBJECT, &ca_key, &ca_key)?;
        Ok(TestPki { ca_key, ca_der, issued_on })
    }

    pub fn ca_certificate_der(&self) -> &[u8] {
        &self.ca_der
    }

    pub fn issued_on(&self) -> Date {
        self.issued_on
    }

    /// The person's auth certificate (DER) and private key. The certificate is valid for
    /// five years up to `issued_on + expires_in_days`.
    pub fn issue(&self, person: &TestPerson) -> Result<(Vec<u8>, RsaPrivateKey), TestPkiError> {
        let person_key = key(PERSON_KEYS
            .get(person.key)
            .ok_or_else(|| TestPkiError::Person(format!("no key {}", person.key)))?)?;
        let not_after = Date::from_day_number(self.issued_on.day_number() + person.expires_in_days)
            .ok_or_else(|| TestPkiError::Person("expiry out of range".into()))?;
        let not_before = Date::new(not_after.year() - 5, not_after.month(), 1)
            .map_err(|e| TestPkiError::Person(e.to_string()))?;
        let validity =
            Validity { not_before: jst(not_before, false)?, not_after: jst(not_after, true)? };
        let issuer =
            Name::from_str(CA_SUBJECT).map_err(|e| TestPkiError::Certificate(e.to_string()))?;
        // A stable serial per person: the position in the table, offset from the CA's.
        let serial =
            0x1000 + super::TEST_PERSONS.iter().position(|p| p.id == person.id).unwrap_or(0) as u32;
        let subject = format!("CN=JPKI TEST {},OU=TEST,O=madoguchi,C=JP", person.id);
        let der = certificate(
            Profile::Leaf { issuer, enable_key_agreement: false, enable_key_encipherment: false },
            serial,
            validity,
            &subject,
            &person_key,
            &self.ca_key,
        )?;
        Ok((der, person_key))
    }
}
