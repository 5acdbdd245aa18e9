//! The reader service: lists readers, follows hot-plug, and runs one card operation at a
//! time per reader in a short PC/SC transaction.
//!
//! PC/SC calls block, so every method here is synchronous; the server calls them from
//! `spawn_blocking`. The context is re-established when the service goes away (Windows
//! stops it when the last reader is unplugged; pcscd may restart).

use super::pcsc_transport::{transport_error, PcscTransport};
use card::ops::{CheckReport, Confirmation};
use card::pin::{Pin, StaffConfirmation};
use card::text_ap::BasicInfo;
use card::{CardError, TransportError};
use eligibility::{Date, Policy};
use serde::Serialize;
use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

pub use protocol::ReaderInfo;

/// What the watcher publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum ReaderEvent {
    ReaderAdded {
        reader: String,
    },
    ReaderRemoved {
        reader: String,
    },
    CardInserted {
        reader: String,
    },
    CardRemoved {
        reader: String,
    },
    /// The PC/SC service went away and came back: state was re-read.
    ServiceRestored,
}

/// Errors a receptionist sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError {
    #[error("カードリーダーが見つかりません。USB接続を確認してください / no card reader found: check the USB connection")]
    NoReader,
    #[error("カードリーダー「{0}」はありません / there is no reader named {0:?}")]
    UnknownReader(String),
    #[error("カードが置かれていません / no card on the reader")]
    NoCard,
    #[error("カードリーダーは他の処理で使用中です。少し待ってください / the reader is busy: wait a moment")]
    Busy,
    #[error("スマートカードサービス（PC/SC）に接続できません: {0} / cannot reach the smart card service: {0}")]
    Service(String),
    #[error(transparent)]
    Card(#[from] CardError),
}

impl From<TransportError> for ReaderError {
    fn from(e: TransportError) -> ReaderError {
        ReaderError::Card(CardError::Transport(e))
    }
}

#[derive(Default)]
struct Inner {
    context: Mutex<Option<pcsc::Context>>,
    busy: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("busy", &self.busy).finish_non_exhaustive()
    }
}

/// How a card is left after an operation.
#[derive(Debug, Clone, Copy)]
enum After {
    /// As it is (no PIN was verified): `disconnect(LeaveCard)`, never the crate's
    /// implicit reset on drop.
    Leave,
    /// Reset, so that a PIN verified for this operation does not stay verified for the
    /// next program that talks to the card.
    Reset,
}

impl After {
    fn disposition(self) -> pcsc::Disposition {
        match self {
            After::Leave => pcsc::Disposition::LeaveCard,
            After::Reset => pcsc::Disposition::ResetCard,
        }
    }
}

/// The bridge's PC/SC readers.
#[derive(Debug, Clone)]
pub struct ReaderService {
    inner: Arc<Inner>,
    events: broadcast::Sender<ReaderEvent>,
}

impl Default for ReaderService {
    fn default() -> Self {
        ReaderService::new()
    }
}

fn is_service_gone(e: &pcsc::Error) -> bool {
    matches!(
        e,
        pcsc::Error::NoService
            | pcsc::Error::ServiceStopped
            | pcsc::Error::InvalidHandle
            | pcsc::Error::CommError
    )
}

fn list_with(ctx: &pcsc::Context) -> Result<Vec<CString>, pcsc::Error> {
    match ctx.list_readers_owned() {
        Ok(readers) => Ok(readers),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

impl ReaderService {
    pub fn new() -> ReaderService {
        let (events, _) = broadcast::channel(256);
        ReaderService { inner: Arc::new(Inner::default()), events }
    }

    /// Runs `f` with a live context, re-establishing it once if the service went away.
    fn with_context<R>(
        &self,
        f: impl Fn(&pcsc::Context) -> Result<R, pcsc::Error>,
    ) -> Result<R, ReaderError> {
        let mut guard =
            self.inner.context.lock().map_err(|_| ReaderError::Service("lock poisoned".into()))?;
        for attempt in 0..2 {
            if guard.is_none() {
                let ctx = pcsc::Context::establish(pcsc::Scope::User)
                    .map_err(|e| ReaderError::Service(e.to_string()))?;
                *guard = Some(ctx);
            }
            let Some(ctx) = guard.as_ref() else { continue };
            match f(ctx) {
                Err(e) if is_service_gone(&e) && attempt == 0 => {
                    tracing::info!("PC/SC service went away; re-establishing the context");
                    *guard = None;
                }
                Err(e) => return Err(ReaderError::Service(e.to_string())),
                Ok(r) => return Ok(r),
            }
        }
        Err(ReaderError::Service("the PC/SC service is not available".into()))
    }

    /// The readers and whether each has a card.
    pub fn list(&self) -> Result<Vec<ReaderInfo>, ReaderError> {
        self.with_context(|ctx| {
            let names = list_with(ctx)?;
            let mut states: Vec<pcsc::ReaderState> = names
                .iter()
                .map(|n| pcsc::ReaderState::new(n.clone(), pcsc::State::UNAWARE))
                .collect();
            if !states.is_empty() {
                ctx.get_status_change(Duration::from_millis(0), &mut states)?;
            }
            Ok(states
                .iter()
                .map(|s| ReaderInfo {
                    name: s.name().to_string_lossy().into_owned(),
                    card_present: s.event_state().contains(pcsc::State::PRESENT),
                })
                .collect())
        })
    }

    /// Runs one operation on the card in `reader` (or the first reader with a card):
    /// shared mode, one transaction, then `disconnect(LeaveCard)` — never a reset.
    fn with_card<R>(
        &self,
        reader: Option<&str>,
        after: After,
        op: impl FnOnce(&mut PcscTransport<'_>) -> Result<R, CardError>,
    ) -> Result<R, ReaderError> {
        let readers = self.list()?;
        let chosen = match reader {
            Some(name) => readers
                .iter()
                .find(|r| r.name == name)
                .ok_or_else(|| ReaderError::UnknownReader(name.into()))?,
            None if readers.is_empty() => return Err(ReaderError::NoReader),
            None => readers.iter().find(|r| r.card_present).ok_or(ReaderError::NoCard)?,
        };
        if !chosen.card_present {
            return Err(ReaderError::NoCard);
        }
        let name = chosen.name.clone();
        {
            let mut busy =
                self.inner.busy.lock().map_err(|_| ReaderError::Service("lock poisoned".into()))?;
            if !busy.insert(name.clone()) {
                return Err(ReaderError::Busy);
            }
        }
        let result = self.run_on(&name, after, op);
        if let Ok(mut busy) = self.inner.busy.lock() {
            busy.remove(&name);
        }
        result
    }

    fn run_on<R>(
        &self,
        name: &str,
        after: After,
        op: impl FnOnce(&mut PcscTransport<'_>) -> Result<R, CardError>,
    ) -> Result<R, ReaderError> {
        let c_name = CString::new(name).map_err(|_| ReaderError::UnknownReader(name.into()))?;
        let card = self
            .with_context(|ctx| ctx.connect(&c_name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY))
            .map_err(|e| match e {
                ReaderError::Service(s) if s.contains("card") => ReaderError::NoCard,
                other => other,
            })?;
        let mut card = card;
        let started = std::time::Instant::now();
        let outcome = {
            let tx = card.transaction().map_err(|e| ReaderError::from(transport_error(e)))?;
            let mut transport = PcscTransport { card: &tx, reader: name, commands: 0 };
            let outcome = op(&mut transport);
            tracing::debug!(
                reader = name,
                apdus = transport.commands,
                ms = started.elapsed().as_millis() as u64,
                ok = outcome.is_ok(),
                "card operation"
            );
            if let Err((_, e)) = tx.end(after.disposition()) {
                tracing::debug!(reader = name, error = %e, "ending the transaction");
            }
            outcome
        };
        if let Err((_, e)) = card.disconnect(pcsc::Disposition::LeaveCard) {
            tracing::debug!(reader = name, error = %e, "disconnect");
        }
        Ok(outcome?)
    }

    /// Holder, certificate and PIN counters; spends no PIN try.
    pub fn check(
        &self,
        reader: Option<&str>,
        policy: &Policy,
        today: Date,
    ) -> Result<CheckReport, ReaderError> {
        self.with_card(reader, After::Leave, |t| {
            pollster::block_on(card::ops::check(t, policy, today))
        })
    }

    /// PIN through the guard, then the signature over `challenge` for the gateway.
    pub fn confirm(
        &self,
        reader: Option<&str>,
        pin: Pin,
        staff: StaffConfirmation,
        challenge: &[u8],
    ) -> Result<Confirmation, ReaderError> {
        self.with_card(reader, After::Reset, |t| {
            pollster::block_on(card::ops::confirm(t, pin, staff, challenge))
        })
    }

    /// Text-AP PIN through the guard, then 氏名・住所・生年月日・性別.
    pub fn read_basic_info(
        &self,
        reader: Option<&str>,
        pin: Pin,
        staff: StaffConfirmation,
    ) -> Result<BasicInfo, ReaderError> {
        self.with_card(reader, After::Reset, |t| {
            pollster::block_on(card::ops::read_basic_info(t, pin, staff))
        })
    }

    /// Subscribes to reader and card events. The first call starts the watcher thread.
    pub fn subscribe(&self) -> broadcast::Receiver<ReaderEvent> {
        static STARTED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
        let rx = self.events.subscribe();
        STARTED.get_or_init(|| {
            let events = self.events.clone();
            let _ =
                std::thread::Builder::new().name("pcsc-watch".into()).spawn(move || watch(events));
        });
        rx
    }
}

/// Follows readers and cards with `SCardGetStatusChange` and the PnP pseudo-reader;
/// re-establishes the context when the service goes away.
fn watch(events: broadcast::Sender<ReaderEvent>) {
    let pnp: &CStr = pcsc::PNP_NOTIFICATION();
    let mut known: Vec<(CString, bool)> = Vec::new();
    let mut first = true;
    loop {
        let ctx = match pcsc::Context::establish(pcsc::Scope::User) {
            Ok(ctx) => ctx,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
        };
        if !first {
            let _ = events.send(ReaderEvent::ServiceRestored);
        }
        first = false;
        while let Ok(names) = list_with(&ctx) {
            for (name, present) in &known {
                if !names.contains(name) {
                    let reader = name.to_string_lossy().into_owned();
                    if *present {
                        let _ = events.send(ReaderEvent::CardRemoved { reader: reader.clone() });
                    }
                    let _ = events.send(ReaderEvent::ReaderRemoved { reader });
                }
            }
            let mut states: Vec<pcsc::ReaderState> = names
                .iter()
                .map(|n| {
                    let was = known.iter().find(|(k, _)| k == n);
                    if was.is_none() {
                        let _ = events.send(ReaderEvent::ReaderAdded {
                            reader: n.to_string_lossy().into_owned(),
                        });
                    }
                    pcsc::ReaderState::new(n.clone(), pcsc::State::UNAWARE)
                })
                .collect();
            states.push(pcsc::ReaderState::new(pnp, pcsc::State::UNAWARE));
            if ctx.get_status_change(Duration::from_millis(0), &mut states).is_err() {
                break;
            }
            let mut now: Vec<(CString, bool)> = Vec::new();
            for s in states.iter().filter(|s| s.name() != pnp) {
                let present = s.event_state().contains(pcsc::State::PRESENT);
                let name = s.name().to_owned();
                let before = known.iter().find(|(k, _)| *k == name).map(|(_, p)| *p);
                let reader = name.to_string_lossy().into_owned();
                match (before, present) {
                    (Some(false) | None, true) => {
                        let _ = events.send(ReaderEvent::CardInserted { reader });
                    }
                    (Some(true), false) => {
                        let _ = events.send(ReaderEvent::CardRemoved { reader });
                    }
                    _ => {}
                }
                now.push((name, present));
            }
            known = now;
            for s in states.iter_mut() {
                s.sync_current_state();
            }
            // Wait for any change (card, reader, PnP); wake up periodically regardless.
            match ctx.get_status_change(Duration::from_millis(1000), &mut states) {
                Ok(()) | Err(pcsc::Error::Timeout) => continue,
                Err(e) if is_service_gone(&e) => break,
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
