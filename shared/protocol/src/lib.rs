//! Versioned wire types between a terminal (the frontend) and the bridge: HTTP bodies for
//! pairing and sync, and WebSocket messages. No business logic: the rules live in the
//! other shared crates, whose types travel here as JSON values where they are large.
//!
//! Every WebSocket message is an envelope `{"v": 1, "id": …, "kind": …, …}`; an unknown
//! kind gets an `error` reply, never a dropped connection.
#![forbid(unsafe_code)]

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// The largest WebSocket message accepted; larger ones close the socket with a reason.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The largest push batch.
pub const MAX_PUSH_OPS: usize = 500;

/// Bytes as lowercase hex (certificates and signatures on the wire).
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex back to bytes; `None` for odd lengths or non-hex characters.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// A PIN in transit from the page to the bridge's reader: never printed, and wiped when
/// dropped. The page serialises it into one `confirm_card` frame on the socket; the bridge
/// turns it into `card::pin::Pin` for the card, and nothing of the bridge serialises it.
pub struct SecretPin(zeroize::Zeroizing<String>);

impl SecretPin {
    pub fn new(pin: String) -> SecretPin {
        SecretPin(zeroize::Zeroizing::new(pin))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Serialize for SecretPin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl fmt::Debug for SecretPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretPin(****)")
    }
}

impl<'de> Deserialize<'de> for SecretPin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SecretPin, D::Error> {
        Ok(SecretPin(zeroize::Zeroizing::new(String::deserialize(d)?)))
    }
}

/// Every HTTP error answer's body: a code to act on and a message staff can read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

/// What a terminal reads of `GET /health` (which says more, for people and monitors).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct HealthSummary {
    /// 練習モード: the gateway is the simulator.
    pub training: bool,
    /// The bridge's PC/SC readers (empty when there are none or PC/SC failed).
    pub readers: Vec<ReaderInfo>,
    /// Why the readers could not be listed (the PC/SC service is down), for staff.
    pub readers_error: Option<String>,
    pub gateway: GatewaySummary,
    /// The SHA-256 fingerprint of the bridge's local CA (64 uppercase hex digits): a
    /// tablet paired over HTTPS keeps the one it paired with and refuses another.
    pub ca_sha256: Option<String>,
    /// Someone has a passkey: patient data needs a signed-in person ([`StaffRoster::required`]).
    pub staff_sign_in: bool,
    /// Terminals lock after this many idle seconds.
    pub lock_after_s: u32,
}

/// A PC/SC reader on the bridge and whether a card is in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderInfo {
    pub name: String,
    pub card_present: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GatewaySummary {
    /// `up`, `outage`, `unreachable`, …
    pub state: String,
    pub can_confirm_card: bool,
}

/// `POST /api/pair`: trade a one-time code for a device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    pub code: String,
    pub device_name: String,
    /// A terminal (the default) or a patient guidance display, which gets nothing but the
    /// counter's guidance steps.
    #[serde(default)]
    pub role: DeviceRole,
}

/// What a paired device may do. A device asks for its role when it pairs; asking for
/// `display` can only give it less (its token opens no API and no ledger).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceRole {
    /// A reception terminal: the ledger, the readers, the lookups.
    #[default]
    Counter,
    /// A patient guidance display: the WebSocket's `guide` events, nothing else.
    Display,
}

impl DeviceRole {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceRole::Counter => "counter",
            DeviceRole::Display => "display",
        }
    }
}

/// `POST /api/pair/display` (a counter): a code that pairs one guidance display, which
/// then follows this counter's steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DisplayCode {
    pub code: String,
    pub minutes: u32,
}

/// The WebSocket event topic of the counter's guidance step (its body is the step's word).
pub const GUIDE_TOPIC: &str = "guide";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairResponse {
    pub device_id: String,
    /// Sent back in `Authorization: Bearer …` or the WebSocket `hello`; kept in IndexedDB.
    pub token: String,
}

/// `POST /api/pair/qr` (the kiosk only): a tablet's pairing link with a fresh code, its QR
/// code as an SVG element, and the CA fingerprint as Android shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PairingQr {
    pub url: String,
    pub svg: String,
    pub fingerprint: String,
    pub minutes: u32,
}

/// A staff member as terminals see them (`GET /api/staff`, a sign-in's answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StaffMember {
    /// A UUID the bridge gave them; never changes (a name may be corrected).
    pub id: String,
    pub name: String,
    /// `reception` or `admin`.
    pub role: String,
    /// Whether they have a passkey to sign in with (else they enrol with a code first).
    pub enrolled: bool,
    /// No more sign-in (only an admin's list shows them).
    pub disabled: bool,
}

/// `POST /api/staff/manage` (a signed-in admin, 設定): `list`, `add` (`name`, `role`),
/// `enrol` (a code for another passkey), `recover` (a lost authenticator) or `disable`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaffAction {
    pub action: String,
    pub name: String,
    pub role: String,
}

/// Its answer: everyone (the disabled too), and the enrolment code `add`, `enrol` and
/// `recover` made (empty otherwise) with the time it runs out (Japan).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StaffManaged {
    pub staff: Vec<StaffMember>,
    pub code: String,
    pub valid_until: String,
}

/// `POST /api/admin` (a signed-in admin, 設定): the operator's command-line work that does
/// not need the bridge stopped — each audited with the admin as the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdminRequest {
    /// The paired terminals (`bridge devices list`).
    Devices,
    /// `bridge devices revoke` (not the admin's own device).
    Revoke { device_id: String },
    /// The backups in the configured folder, newest first, each checked.
    Backups,
    /// `bridge backup` into the configured folder, now.
    Backup,
    /// `bridge restore FROM` while serving: `confirm` repeats the backup's name.
    Restore { name: String, confirm: String },
    /// `bridge tls rotate` (the server certificate; a new CA stays the command line's).
    RotateTls,
    /// `bridge audit verify`.
    AuditVerify,
    /// `bridge audit show --person NAME --date D`.
    AuditShow { person: String, date: String },
    /// `bridge bookings import FILE`: the booking system's CSV as the file's bytes in hex
    /// (Shift_JIS or UTF-8, as the command line reads it).
    ImportBookings { csv_hex: String },
    /// `bridge bulk run --date D`: the day's 一括照会 now (empty: tomorrow), in the background.
    BulkRun {
        #[serde(default)]
        date: String,
    },
    /// `bridge export --date D [--training]`: the day's receptions from the whole ledger as
    /// the receipt computer's CSV (in `AdminReply::file`).
    Export {
        date: String,
        #[serde(default)]
        training: bool,
    },
}

/// Its answer: one sentence for the admin, and rows (a device, a backup, an audit line)
/// with the key a follow-up request names (a device id, a backup's name; else empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdminReply {
    pub said: String,
    pub rows: Vec<AdminRow>,
    /// A file for the page to save (`Export`: the CSV, UTF-8); empty otherwise.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdminRow {
    pub key: String,
    pub text: String,
}

/// Who may sign in on this terminal, and whether one must (`POST /api/staff`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StaffRoster {
    /// True once anyone has a passkey: from then on patient data needs a signed-in person.
    pub required: bool,
    pub staff: Vec<StaffMember>,
    /// The lock after this many seconds without a touch or key (the bridge's setting).
    pub lock_after_s: u32,
}

/// The first half of a WebAuthn ceremony: `options` go to `navigator.credentials` as the
/// browser's JSON form (`PublicKeyCredential.parse…OptionsFromJSON`), `ceremony` comes back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CeremonyStart {
    pub ceremony: String,
    pub options: serde_json::Value,
}

/// `POST /api/staff/enrol/start` (`code`: the one-time enrolment code an admin gave) or
/// `POST /api/staff/sign-in/start` (`staff`: the id of the person signing in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CeremonyRequest {
    pub code: String,
    pub staff: String,
}

/// The second half: the credential as the browser's `toJSON()` gives it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CeremonyFinish {
    pub ceremony: String,
    pub credential: serde_json::Value,
}

/// A signed-in person on this device: `session` goes in `X-Madoguchi-Staff`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignedIn {
    pub session: String,
    pub staff: StaffMember,
    /// `signed_in`, `unlocked` (the same person as before the lock) or `hand_over`.
    pub how: String,
}

/// The header that carries a staff session (beside the device's `Authorization`).
pub const STAFF_HEADER: &str = "x-madoguchi-staff";

/// One change a terminal made, as it sends it. `op_id` never changes across retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Op {
    /// UUIDv7 of this change.
    pub op_id: String,
    /// UUIDv7 of the record (a reception) it belongs to.
    pub record_id: String,
    /// `reception`, `follow_up_request`, `note`, …
    pub kind: String,
    /// The terminal's clock when the change was made (RFC 3339); informational.
    pub device_time: String,
    pub body: serde_json::Value,
    /// The staff member signed in when the change was made ([`StaffMember::id`]), kept with
    /// the op so that a reception queued offline is still theirs when a colleague's session
    /// sends it. The bridge records it only for someone who signed in on this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<String>,
}

/// The kinds a terminal may push: a reception and the events of its life. Everything else
/// (`face_result`, `follow_up_result`, …) is written by the bridge itself, and a terminal
/// that pushes one is refused: it could forge an オン資 count or end a 事後確認.
pub const TERMINAL_KINDS: [&str; 5] = ["reception", "corrected", "voided", "claim_decided", "note"];

/// Op ids the bridge gives its own events (`face:…`, `follow-up:N`): a terminal's op id is
/// a UUID and never has a `:` in it.
pub const RESERVED_OP_ID_SEPARATOR: char = ':';

impl Op {
    /// Why a terminal may not push this op (`None`: it may).
    pub fn refused_for_terminal(&self) -> Option<&'static str> {
        if !TERMINAL_KINDS.contains(&self.kind.as_str()) {
            return Some("this kind is written by the bridge only / 端末からは送れない種類です");
        }
        if self.op_id.contains(RESERVED_OP_ID_SEPARATOR)
            || self.record_id.contains(RESERVED_OP_ID_SEPARATOR)
        {
            return Some("op_id and record_id must not contain ':' (reserved for the bridge)");
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub ops: Vec<Op>,
}

/// The clinic's policy table as a terminal fetches it (`GET|POST /api/policy`): where it
/// comes from (`embedded` or `override:FILE`), its version and review date, a digest of its
/// content, and the table itself (`eligibility::Policy` as JSON text, so that the terminal
/// reads it with the same parser as its embedded table). The terminal caches it and decides
/// by it; offline it keeps the cached one, else its embedded table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyTable {
    pub source: String,
    pub version: u32,
    pub reviewed: Option<String>,
    pub digest: String,
    pub table: String,
}

/// The bridge's answer for one op. A terminal deletes its outbox row only on `created`
/// or `duplicate`; `conflict` and `rejected` go to "needs attention".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", try_from = "OpResultRow")]
pub enum OpResult {
    Created {
        op_id: String,
        seq: u64,
    },
    /// Already stored with the same body: the original result.
    Duplicate {
        op_id: String,
        seq: u64,
    },
    /// Already stored with a different body.
    Conflict {
        op_id: String,
        seq: u64,
    },
    Rejected {
        op_id: String,
        reason: String,
    },
    /// A reception recorded from a face result that another reception recorded first:
    /// nothing was stored. `by_device` is the other counter's name, `at` its time (HH:MM,
    /// Japan). The terminal drops its own copy and says who recorded it.
    Claimed {
        op_id: String,
        by_device: String,
        at: String,
    },
}

/// [`OpResult`]'s JSON read as one flat struct: serde's reader of an internally tagged
/// enum buffers every value first, which costs the terminal's wasm several KB.
#[derive(Deserialize)]
struct OpResultRow {
    status: String,
    op_id: String,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    by_device: Option<String>,
    #[serde(default)]
    at: Option<String>,
}

impl TryFrom<OpResultRow> for OpResult {
    type Error = String;
    fn try_from(r: OpResultRow) -> Result<OpResult, String> {
        let op_id = r.op_id;
        Ok(match (r.status.as_str(), r.seq, r.reason, r.by_device, r.at) {
            ("created", Some(seq), ..) => OpResult::Created { op_id, seq },
            ("duplicate", Some(seq), ..) => OpResult::Duplicate { op_id, seq },
            ("conflict", Some(seq), ..) => OpResult::Conflict { op_id, seq },
            ("rejected", _, Some(reason), ..) => OpResult::Rejected { op_id, reason },
            ("claimed", _, _, Some(by_device), Some(at)) => {
                OpResult::Claimed { op_id, by_device, at }
            }
            (other, ..) => return Err(format!("not an op result: status {other:?}")),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<OpResult>,
}

/// A stored event, as pulled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: u64,
    pub op_id: String,
    pub record_id: String,
    pub device_id: String,
    pub kind: String,
    pub device_time: String,
    pub received_time: String,
    pub body: serde_json::Value,
    /// Stored in 練習モード (the simulator gateway): never exported with real receptions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub training: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub events: Vec<StoredEvent>,
    /// Pull again after this seq; equal to the request's when nothing was new.
    pub next: u64,
    pub more: bool,
    /// The bridge's newest seq. Below what a terminal already pulled, the bridge was
    /// restored from a backup: the terminal sends again what it made since (`None` from a
    /// bridge that predates this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
}

/// A lookup by the numbers on a 資格確認書, お知らせ or マイナポータル screen, as typed.
/// Also the `follow_up` object of a reception event: the bridge re-runs it when the
/// national system answers again (事後確認).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    /// 保険者番号 (6 or 8 digits).
    pub insurer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// YYYY-MM-DD.
    pub birth: String,
    /// The visit day (YYYY-MM-DD); today in Japan when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
    #[serde(default)]
    pub limit_consent: bool,
}

/// Terminal → bridge over the WebSocket.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ClientMessage {
    /// The first frame: the device token.
    Hello {
        token: String,
    },
    Ping,
    /// The bridge's clock (terminals show "server time" beside their own).
    Time,
    Push {
        ops: Vec<Op>,
    },
    Pull {
        after: u64,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// `check` on a reader: holder, certificate, tries left; spends no PIN try.
    CheckCard {
        reader: Option<String>,
    },
    /// `confirm`: the auth PIN goes to the card only.
    ConfirmCard {
        reader: Option<String>,
        pin: SecretPin,
        #[serde(default)]
        staff_confirmed_last_try: bool,
    },
    /// 資格確認 by numbers through the bridge's gateway.
    Lookup {
        query: LookupQuery,
    },
    /// A fresh challenge for a card the page reads itself (WebUSB); single use.
    Challenge,
    /// The page's own reader signed the challenge: the bridge has the gateway confirm it.
    /// Hex strings; the PIN never left the page's reader.
    ConfirmSigned {
        holder: String,
        certificate: String,
        signature: String,
        challenge: String,
    },
    /// The patient is at this step: the bridge passes it to the guidance displays. Not
    /// answered (a display that is off must not hold up the counter).
    Guide {
        step: guidance::Step,
    },
}

/// The envelope of a client message.
#[derive(Debug, Deserialize)]
pub struct ClientEnvelope {
    pub v: u32,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(flatten)]
    pub message: ClientMessage,
}

/// Bridge → terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ServerMessage {
    Welcome {
        device_id: String,
        server_time: String,
        version: u32,
        /// Whether the bridge's gateway can confirm a card read by this terminal's or the
        /// bridge's own reader (only the simulator can): when not, the terminal offers a
        /// pre-check and no PIN pad.
        #[serde(default)]
        can_confirm_card: bool,
        /// 練習モード: the gateway is the simulator; the terminal shows it on every screen.
        #[serde(default)]
        training: bool,
    },
    Pong,
    Time {
        server_time: String,
    },
    Error {
        code: String,
        message: String,
    },
    PushResult {
        results: Vec<OpResult>,
    },
    PullResult(PullResponse),
    /// Something happened that every terminal should see (a new event, a face result,
    /// a reader change), as JSON.
    Event {
        topic: String,
        body: serde_json::Value,
    },
    /// A card operation's result or error, as JSON.
    CardResult {
        body: serde_json::Value,
    },
    /// A lookup's answer and its reading (`{"answer", "interpretation"}`), as JSON.
    LookupResult {
        body: serde_json::Value,
    },
    /// A single-use challenge (hex) for `confirm_signed`.
    Challenge {
        challenge: String,
    },
}

/// The envelope of a server message; `in_reply_to` echoes the client's `id`. Read through
/// [`ServerFrame`]: serde's reader of a flattened, internally tagged enum buffers every
/// value first, which the terminal's wasm cannot afford.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ServerFrame")]
pub struct ServerEnvelope {
    pub v: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub in_reply_to: Option<String>,
    #[serde(flatten)]
    pub message: ServerMessage,
}

/// [`ServerEnvelope`]'s JSON as one flat struct: every field any message has.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ServerFrame {
    v: u32,
    in_reply_to: Option<String>,
    kind: String,
    device_id: Option<String>,
    server_time: Option<String>,
    version: Option<u32>,
    can_confirm_card: bool,
    training: bool,
    code: Option<String>,
    message: Option<String>,
    results: Option<Vec<OpResult>>,
    events: Option<Vec<StoredEvent>>,
    next: Option<u64>,
    more: bool,
    topic: Option<String>,
    body: Option<serde_json::Value>,
    challenge: Option<String>,
}

impl TryFrom<ServerFrame> for ServerEnvelope {
    type Error = String;
    fn try_from(f: ServerFrame) -> Result<ServerEnvelope, String> {
        let kind = f.kind;
        let missing = |field: &str| format!("{kind} without {field}");
        let message = match kind.as_str() {
            "welcome" => ServerMessage::Welcome {
                device_id: f.device_id.ok_or_else(|| missing("device_id"))?,
                server_time: f.server_time.ok_or_else(|| missing("server_time"))?,
                version: f.version.ok_or_else(|| missing("version"))?,
                can_confirm_card: f.can_confirm_card,
                training: f.training,
            },
            "pong" => ServerMessage::Pong,
            "time" => ServerMessage::Time {
                server_time: f.server_time.ok_or_else(|| missing("server_time"))?,
            },
            "error" => ServerMessage::Error {
                code: f.code.ok_or_else(|| missing("code"))?,
                message: f.message.clone().unwrap_or_default(),
            },
            "push_result" => {
                ServerMessage::PushResult { results: f.results.ok_or_else(|| missing("results"))? }
            }
            "pull_result" => ServerMessage::PullResult(PullResponse {
                events: f.events.ok_or_else(|| missing("events"))?,
                next: f.next.ok_or_else(|| missing("next"))?,
                more: f.more,
                last_seq: None,
            }),
            "event" => ServerMessage::Event {
                topic: f.topic.ok_or_else(|| missing("topic"))?,
                body: f.body.unwrap_or_default(),
            },
            "card_result" => ServerMessage::CardResult { body: f.body.unwrap_or_default() },
            "lookup_result" => ServerMessage::LookupResult { body: f.body.unwrap_or_default() },
            "challenge" => ServerMessage::Challenge {
                challenge: f.challenge.ok_or_else(|| missing("challenge"))?,
            },
            other => return Err(format!("not a server message: kind {other:?}")),
        };
        Ok(ServerEnvelope { v: f.v, in_reply_to: f.in_reply_to, message })
    }
}

/// A terminal's request as it goes on the socket: the message with `v` and its `id`.
pub fn client_frame(id: &str, message: &ClientMessage) -> Result<String, serde_json::Error> {
    let mut value = serde_json::to_value(message)?;
    if let Some(object) = value.as_object_mut() {
        object.insert("v".into(), VERSION.into());
        object.insert("id".into(), id.into());
    }
    Ok(value.to_string())
}

impl ServerEnvelope {
    pub fn reply(in_reply_to: Option<String>, message: ServerMessage) -> ServerEnvelope {
        ServerEnvelope { v: VERSION, in_reply_to, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flat reader of op results reads every variant the tagged writer writes.
    #[test]
    fn op_results_read_back() {
        let all = [
            OpResult::Created { op_id: "a".into(), seq: 1 },
            OpResult::Duplicate { op_id: "b".into(), seq: 2 },
            OpResult::Conflict { op_id: "c".into(), seq: 3 },
            OpResult::Rejected { op_id: "d".into(), reason: "why".into() },
            OpResult::Claimed {
                op_id: "e".into(), by_device: "受付2".into(), at: "09:01".into()
            },
        ];
        for r in all {
            let json = serde_json::to_string(&r).unwrap_or_default();
            assert_eq!(serde_json::from_str::<OpResult>(&json).ok(), Some(r), "{json}");
        }
        assert!(serde_json::from_str::<OpResult>(r#"{"status":"created","op_id":"x"}"#).is_err());
        assert!(
            serde_json::from_str::<OpResult>(r#"{"status":"lost","op_id":"x","seq":1}"#).is_err()
        );
    }

    /// The flat reader reads every message the tagged writer writes, and a client frame
    /// reads back as the bridge reads it.
    #[test]
    fn server_messages_read_back_and_client_frames_are_read_by_the_bridge() {
        let event = StoredEvent {
            seq: 3,
            op_id: "o".into(),
            record_id: "r".into(),
            device_id: "d".into(),
            kind: "note".into(),
            device_time: "t".into(),
            received_time: "u".into(),
            body: serde_json::json!({ "text": "x" }),
            training: true,
        };
        let all = [
            ServerMessage::Welcome {
                device_id: "d".into(),
                server_time: "t".into(),
                version: 1,
                can_confirm_card: true,
                training: true,
            },
            ServerMessage::Pong,
            ServerMessage::Time { server_time: "t".into() },
            ServerMessage::Error { code: "c".into(), message: "m".into() },
            ServerMessage::PushResult {
                results: vec![OpResult::Created { op_id: "a".into(), seq: 1 }],
            },
            ServerMessage::PullResult(PullResponse {
                events: vec![event],
                next: 3,
                more: true,
                last_seq: None,
            }),
            ServerMessage::Event { topic: "gateway".into(), body: serde_json::json!({ "a": 1 }) },
            ServerMessage::CardResult { body: serde_json::json!({ "holder": "x" }) },
            ServerMessage::LookupResult { body: serde_json::json!([1, 2]) },
            ServerMessage::Challenge { challenge: "00ff".into() },
        ];
        for (i, message) in all.into_iter().enumerate() {
            let envelope = ServerEnvelope::reply((i % 2 == 0).then(|| format!("r{i}")), message);
            let json = serde_json::to_string(&envelope).unwrap_or_default();
            let back: Result<ServerEnvelope, _> = serde_json::from_str(&json);
            assert_eq!(back.ok(), Some(envelope), "{json}");
        }
        assert!(serde_json::from_str::<ServerEnvelope>(r#"{"v":1,"kind":"lost"}"#).is_err());
        assert!(serde_json::from_str::<ServerEnvelope>(r#"{"v":1,"kind":"time"}"#).is_err());
        let frame = client_frame(
            "r7",
            &ClientMessage::ConfirmCard {
                reader: None,
                pin: SecretPin::new("1234".into()),
                staff_confirmed_last_try: true,
            },
        )
        .unwrap_or_default();
        let read: ClientEnvelope = serde_json::from_str(&frame).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((read.v, read.id.as_deref()), (VERSION, Some("r7")));
        match read.message {
            ClientMessage::ConfirmCard { pin, staff_confirmed_last_try: true, reader: None } => {
                assert_eq!(pin.expose(), "1234")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pins_never_print() {
        let m: ClientEnvelope = serde_json::from_str(
            r#"{"v":1,"id":"a","kind":"confirm_card","reader":null,"pin":"1234"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{m:?}");
        assert!(!shown.contains("1234") && shown.contains("****"), "{shown}");
    }
}
