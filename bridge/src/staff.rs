//! Staff sign-in with passkeys: the WebAuthn relying party (webauthn-rs) and the ceremonies
//! in flight.
//!
//! The relying party is the bridge's own origin. WebAuthn binds a passkey to a domain, never
//! to an IP address, so there is one party per domain the bridge answers on (`localhost` for
//! the kiosk, and each LAN name that is a host name); a tablet reaching the bridge by IP
//! cannot hold a passkey (ARCHITECTURE.md, Known gaps). A passkey is enrolled with a
//! one-time code an admin gave (`bridge staff add` / `enrol` / `recover`); signing in proves
//! possession of the authenticator and its user verification (a fingerprint, a face or the
//! device PIN), the two factors the 安全管理ガイドライン asks for. Ceremonies live in memory
//! for five minutes: a bridge restart only means "try again".

use crate::store::{Store, StoreError};
use protocol::{CeremonyFinish, CeremonyStart, SignedIn};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

/// How long a started ceremony may wait for its second half.
const CEREMONY_TTL: Duration = Duration::from_secs(300);

/// Why a sign-in or an enrolment was refused: a code for the page and a bilingual message
/// that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("この画面のアドレスではパスキーを使えません。受付PCでは http://localhost を、タブレットでは名前のアドレス（IP アドレスではなく）を開いてください / passkeys need a named address (localhost on the kiosk, a host name on a tablet), not an IP address")]
    NoRelyingParty,
    #[error("登録コードが違うか、使用済みか期限切れです。管理者に新しいコードをもらってください / the enrolment code is wrong, used or expired: ask an admin for a new one")]
    BadCode,
    #[error("この職員は登録されていないか、無効にされています / no such active staff member")]
    UnknownStaff,
    #[error("この職員にはパスキーがありません。管理者から登録コードをもらって登録してください / this person has no passkey yet: enrol with a code from an admin")]
    NotEnrolled,
    #[error("操作の期限が切れました。もう一度お試しください / the sign-in took too long or was not started here: try again")]
    NoCeremony,
    #[error("パスキーを確認できませんでした（本人確認（指紋・顔・PIN）が必要です）。もう一度お試しください / the passkey was not accepted (user verification is required): try again")]
    Refused,
    #[error("記録できませんでした / the store failed: {0}")]
    Store(String),
}

impl StaffError {
    pub fn code(&self) -> &'static str {
        match self {
            StaffError::NoRelyingParty => "no_relying_party",
            StaffError::BadCode => "bad_code",
            StaffError::UnknownStaff => "unknown_staff",
            StaffError::NotEnrolled => "not_enrolled",
            StaffError::NoCeremony => "no_ceremony",
            StaffError::Refused => "passkey_refused",
            StaffError::Store(_) => "store",
        }
    }
}

impl From<StoreError> for StaffError {
    fn from(e: StoreError) -> StaffError {
        StaffError::Store(e.to_string())
    }
}

enum Pending {
    Enrol { code: String, staff_id: String, state: PasskeyRegistration },
    SignIn { staff_id: String, state: PasskeyAuthentication },
}

struct Ceremony {
    started: Instant,
    device_id: String,
    rp_id: String,
    pending: Pending,
}

/// The relying parties and the ceremonies in flight.
pub struct Passkeys {
    parties: HashMap<String, Webauthn>,
    ceremonies: Mutex<HashMap<String, Ceremony>>,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys").field("parties", &self.parties.keys()).finish()
    }
}

/// The options as the browser's `parse…OptionsFromJSON` takes them: webauthn-rs writes an
/// absent member as `null`, which WebIDL refuses for a sequence or an enum.
fn browser_json(options: impl serde::Serialize) -> Result<serde_json::Value, StaffError> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|_, v| !v.is_null());
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(options).map_err(|e| StaffError::Store(e.to_string()))?;
    strip(&mut value);
    Ok(value)
}

/// A credential id as text (hex, as the store keys it).
fn credential_text(passkey: &Passkey) -> String {
    protocol::to_hex(passkey.cred_id())
}

impl Passkeys {
    /// One relying party per host name among the bridge's `origins` (IP addresses cannot
    /// be one); each allows that name's origins (http for the kiosk's localhost, https).
    pub fn for_origins<'a>(origins: impl IntoIterator<Item = &'a String>) -> Passkeys {
        let mut by_host: HashMap<String, Vec<Url>> = HashMap::new();
        for origin in origins {
            let Ok(url) = Url::parse(origin) else { continue };
            if let Some(domain) = url.domain() {
                by_host.entry(domain.to_string()).or_default().push(url.clone());
            }
        }
        let mut parties = HashMap::new();
        for (host, urls) in by_host {
            let Some(first) = urls.first() else { continue };
            let Ok(mut builder) = WebauthnBuilder::new(&host, first) else { continue };
            for url in &urls[1..] {
                builder = builder.append_allowed_origin(url);
            }
            if let Ok(party) = builder.rp_name("窓口 madoguchi").build() {
                parties.insert(host, party);
            }
        }
        Passkeys { parties, ceremonies: Mutex::new(HashMap::new()) }
    }

    fn party(&self, origin: &str) -> Result<(String, &Webauthn), StaffError> {
        let host = Url::parse(origin).ok().and_then(|u| u.domain().map(str::to_string));
        host.and_then(|h| self.parties.get(&h).map(|p| (h, p))).ok_or(StaffError::NoRelyingParty)
    }

    fn remember(&self, device_id: &str, rp_id: String, pending: Pending) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        if let Ok(mut map) = self.ceremonies.lock() {
            map.retain(|_, c| c.started.elapsed() < CEREMONY_TTL);
            map.insert(
                id.clone(),
                Ceremony {
                    started: Instant::now(),
                    device_id: device_id.to_string(),
                    rp_id,
                    pending,
                },
            );
        }
        id
    }

    /// Takes a ceremony (single use) started by this device at this party.
    fn take(&self, id: &str, device_id: &str, rp_id: &str) -> Result<Pending, StaffError> {
        let ceremony = self.ceremonies.lock().ok().and_then(|mut map| map.remove(id));
        match ceremony {
            Some(c)
                if c.started.elapsed() < CEREMONY_TTL
                    && c.device_id == device_id
                    && c.rp_id == rp_id =>
            {
                Ok(c.pending)
            }
            _ => Err(StaffError::NoCeremony),
        }
    }

    /// Enrolment, first half: the code names the person; the options create a passkey.
    pub fn start_enrolment(
        &self,
        store: &Store,
        device_id: &str,
        origin: &str,
        code: &str,
    ) -> Result<CeremonyStart, StaffError> {
        let (rp_id, party) = self.party(origin)?;
        let person = store.enrolment_for(code)?.ok_or(StaffError::BadCode)?;
        let user = Uuid::parse_str(&person.staff_id).map_err(|_| StaffError::UnknownStaff)?;
        // Their other passkeys are excluded: the same authenticator twice is refused by it.
        let existing: Vec<_> = store
            .passkeys_of(&person.staff_id)?
            .iter()
            .filter_map(|json| serde_json::from_str::<Passkey>(json).ok())
            .map(|p| p.cred_id().clone())
            .collect();
        let (options, state) = party
            .start_passkey_registration(user, &person.name, &person.name, Some(existing))
            .map_err(|_| StaffError::Refused)?;
        let options = browser_json(options)?;
        let pending =
            Pending::Enrol { code: code.trim().to_string(), staff_id: person.staff_id, state };
        Ok(CeremonyStart { ceremony: self.remember(device_id, rp_id, pending), options })
    }

    /// Enrolment, second half: the passkey is verified and stored, the code spent, and the
    /// person is signed in on this device.
    pub fn finish_enrolment(
        &self,
        store: &Store,
        device_id: &str,
        origin: &str,
        finish: &CeremonyFinish,
    ) -> Result<SignedIn, StaffError> {
        let (rp_id, party) = self.party(origin)?;
        let Pending::Enrol { code, staff_id, state } =
            self.take(&finish.ceremony, device_id, &rp_id)?
        else {
            return Err(StaffError::NoCeremony);
        };
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(finish.credential.clone()).map_err(|_| StaffError::Refused)?;
        let passkey = party
            .finish_passkey_registration(&credential, &state)
            .map_err(|_| StaffError::Refused)?;
        let json = serde_json::to_string(&passkey).map_err(|e| StaffError::Store(e.to_string()))?;
        let credential_id = credential_text(&passkey);
        let enrolled = store.enrol(&code, device_id, &credential_id, &json)?;
        if enrolled.as_deref() != Some(staff_id.as_str()) {
            return Err(StaffError::BadCode);
        }
        self.signed_in(store, device_id, &staff_id, &credential_id, None)
    }

    /// Sign-in, first half: the person chose their name; the options ask for one of their
    /// passkeys, user verification required.
    pub fn start_sign_in(
        &self,
        store: &Store,
        device_id: &str,
        origin: &str,
        staff_id: &str,
    ) -> Result<CeremonyStart, StaffError> {
        let (rp_id, party) = self.party(origin)?;
        let person = store
            .staff_member(staff_id)?
            .filter(|p| p.disabled_time.is_none())
            .ok_or(StaffError::UnknownStaff)?;
        let passkeys: Vec<Passkey> = store
            .passkeys_of(&person.staff_id)?
            .iter()
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect();
        if passkeys.is_empty() {
            return Err(StaffError::NotEnrolled);
        }
        let (options, state) =
            party.start_passkey_authentication(&passkeys).map_err(|_| StaffError::Refused)?;
        let options = browser_json(options)?;
        let pending = Pending::SignIn { staff_id: person.staff_id, state };
        Ok(CeremonyStart { ceremony: self.remember(device_id, rp_id, pending), options })
    }

    /// Sign-in, second half: the assertion is verified against the person's passkeys (a
    /// passkey disabled meanwhile, or another person's, is refused) and a session begins.
    pub fn finish_sign_in(
        &self,
        store: &Store,
        device_id: &str,
        origin: &str,
        finish: &CeremonyFinish,
    ) -> Result<SignedIn, StaffError> {
        let (rp_id, party) = self.party(origin)?;
        let Pending::SignIn { staff_id, state } = self.take(&finish.ceremony, device_id, &rp_id)?
        else {
            return Err(StaffError::NoCeremony);
        };
        let credential: PublicKeyCredential =
            serde_json::from_value(finish.credential.clone()).map_err(|_| StaffError::Refused)?;
        let result = party
            .finish_passkey_authentication(&credential, &state)
            .map_err(|_| StaffError::Refused)?;
        // The passkey that answered, with its new signature counter.
        let mut used = store
            .passkeys_of(&staff_id)?
            .iter()
            .filter_map(|json| serde_json::from_str::<Passkey>(json).ok())
            .find(|p| p.cred_id() == result.cred_id())
            .ok_or(StaffError::Refused)?;
        let updated = match used.update_credential(&result) {
            Some(true) => serde_json::to_string(&used).ok(),
            _ => None,
        };
        let credential_id = credential_text(&used);
        self.signed_in(store, device_id, &staff_id, &credential_id, updated.as_deref())
    }

    fn signed_in(
        &self,
        store: &Store,
        device_id: &str,
        staff_id: &str,
        credential_id: &str,
        updated: Option<&str>,
    ) -> Result<SignedIn, StaffError> {
        let (session, began) = store
            .begin_session(staff_id, device_id, credential_id, updated)?
            .ok_or(StaffError::Refused)?;
        let person = store.staff_member(staff_id)?.ok_or(StaffError::UnknownStaff)?;
        Ok(SignedIn { session, staff: person.member(), how: began.as_str().to_string() })
    }
}

/// Roles a staff member can have.
pub const ROLES: [&str; 2] = ["reception", "admin"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relying_parties_are_the_named_origins_only() {
        let origins: Vec<String> = [
            "http://localhost:8443",
            "https://localhost:8443",
            "https://127.0.0.1:8443",
            "https://[::1]:8443",
            "https://192.168.10.5:8443",
            "https://madoguchi.local:8443",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let passkeys = Passkeys::for_origins(&origins);
        let mut hosts: Vec<&String> = passkeys.parties.keys().collect();
        hosts.sort();
        assert_eq!(hosts, ["localhost", "madoguchi.local"]);
        assert!(passkeys.party("http://localhost:8443").is_ok());
        assert_eq!(
            passkeys.party("https://192.168.10.5:8443").err(),
            Some(StaffError::NoRelyingParty)
        );
        assert_eq!(passkeys.party("not a url").err(), Some(StaffError::NoRelyingParty));
    }

    #[test]
    fn a_ceremony_is_single_use_and_bound_to_its_device() {
        let origins = vec!["http://localhost:1".to_string()];
        let passkeys = Passkeys::for_origins(&origins);
        let Ok((_, party)) = passkeys.party("http://localhost:1") else { panic!("no party") };
        let Ok((_, state)) = party.start_passkey_registration(Uuid::nil(), "a", "a", None) else {
            panic!("no registration")
        };
        let pending =
            || Pending::Enrol { code: "1".into(), staff_id: "x".into(), state: state.clone() };
        let id = passkeys.remember("device-a", "localhost".into(), pending());
        assert!(passkeys.take(&id, "device-a", "other.example").is_err());
        // Asked for by the wrong party: gone for the right one too (single use).
        assert!(passkeys.take(&id, "device-a", "localhost").is_err());
        let id = passkeys.remember("device-a", "localhost".into(), pending());
        assert!(passkeys.take(&id, "device-b", "localhost").is_err());
        let id = passkeys.remember("device-a", "localhost".into(), pending());
        assert!(passkeys.take(&id, "device-a", "localhost").is_ok());
        assert!(passkeys.take(&id, "device-a", "localhost").is_err());
    }
}
