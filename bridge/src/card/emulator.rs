//! Puts a virtual card into pcscd through the vsmartcard vpcd driver.
//!
//! vpcd listens on TCP (127.0.0.1:35963 for "Virtual PCD 00 00"). Every message both ways
//! is a 2-byte big-endian length and a payload; a 1-byte payload is a control code (`00`
//! power off, `01` power on, `02` reset, `04` get ATR — only `04` is answered), anything
//! longer is a C-APDU answered by one R-APDU. Connected = card present; disconnected =
//! card removed. The emulator reconnects when pcscd restarts, and takes commands
//! (`remove`, `insert`, `remove-after N`, `quit`) on a channel — the CLI feeds it stdin.

use card::virtual_card::{PinCounters, VirtualCard};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

/// What the emulator can be told while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Take the card off the reader.
    Remove,
    /// Put it back.
    Insert,
    /// Answer `n` more APDUs, then take the card off (a card pulled away mid-read).
    RemoveAfter(usize),
    Quit,
}

impl std::str::FromStr for Control {
    type Err = String;
    fn from_str(s: &str) -> Result<Control, String> {
        let mut words = s.split_whitespace();
        match (words.next(), words.next()) {
            (Some("remove"), None) => Ok(Control::Remove),
            (Some("insert"), None) => Ok(Control::Insert),
            (Some("quit"), None) => Ok(Control::Quit),
            (Some("remove-after"), Some(n)) => {
                n.parse().map(Control::RemoveAfter).map_err(|e| format!("{e}"))
            }
            _ => Err(format!("unknown command {s:?} (remove | insert | remove-after N | quit)")),
        }
    }
}

/// The running emulator's settings.
#[derive(Debug)]
pub struct Emulator {
    pub card: VirtualCard,
    pub address: String,
    /// Where the PIN counters persist between runs (they do on a real card).
    pub state_file: Option<PathBuf>,
}

enum Session {
    Removed,
    Quit,
    Disconnected,
}

impl Emulator {
    /// Runs until told to quit.
    pub fn run(mut self, control: Receiver<Control>) -> std::io::Result<()> {
        if let Some(counters) = self.load_counters() {
            self.card.set_counters(counters);
        }
        let mut inserted = true;
        let mut remove_after: Option<usize> = None;
        loop {
            if !inserted {
                match control.recv_timeout(Duration::from_millis(100)) {
                    Ok(Control::Insert) => inserted = true,
                    Ok(Control::Quit) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        return Ok(())
                    }
                    _ => {}
                }
                continue;
            }
            let stream = match TcpStream::connect(&self.address) {
                Ok(s) => s,
                Err(_) => {
                    // pcscd (and with it vpcd) is not up yet, or restarting.
                    match control.recv_timeout(Duration::from_millis(200)) {
                        Ok(Control::Quit) => return Ok(()),
                        Ok(Control::Remove) => inserted = false,
                        _ => {}
                    }
                    continue;
                }
            };
            tracing::info!(address = %self.address, "card inserted into vpcd");
            match self.session(stream, &control, &mut remove_after)? {
                Session::Removed => {
                    tracing::info!("card removed");
                    inserted = false;
                }
                Session::Quit => return Ok(()),
                Session::Disconnected => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn session(
        &mut self,
        mut stream: TcpStream,
        control: &Receiver<Control>,
        remove_after: &mut Option<usize>,
    ) -> std::io::Result<Session> {
        stream.set_read_timeout(Some(Duration::from_millis(50)))?;
        stream.set_nodelay(true)?;
        loop {
            match control.try_recv() {
                Ok(Control::Remove) => return Ok(Session::Removed),
                Ok(Control::Quit) | Err(TryRecvError::Disconnected) => return Ok(Session::Quit),
                Ok(Control::RemoveAfter(n)) => *remove_after = Some(n),
                Ok(Control::Insert) | Err(TryRecvError::Empty) => {}
            }
            // vpcd writes the length and the payload separately; without an immediate ACK
            // the payload waits out Nagle + delayed ACK (~40 ms per APDU). Linux resets
            // quick-ACK mode after reads, so it is set again before each one.
            quick_ack(&stream);
            let mut len = [0u8; 2];
            match stream.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    continue
                }
                Err(_) => return Ok(Session::Disconnected),
            }
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
            quick_ack(&stream);
            if stream.read_exact(&mut payload).is_err() {
                return Ok(Session::Disconnected);
            }
            stream.set_read_timeout(Some(Duration::from_millis(50)))?;
            let answer: Option<Vec<u8>> = match payload.as_slice() {
                [0x00] | [0x01] | [0x02] => {
                    self.card.reset();
                    None
                }
                [0x04] => Some(self.card.atr().to_vec()),
                [_] => None,
                apdu => {
                    if *remove_after == Some(0) {
                        *remove_after = None;
                        return Ok(Session::Removed);
                    }
                    if let Some(n) = remove_after.as_mut() {
                        *n -= 1;
                    }
                    let response = self.card.process(apdu);
                    self.save_counters();
                    Some(response)
                }
            };
            if let Some(answer) = answer {
                let mut frame = (answer.len() as u16).to_be_bytes().to_vec();
                frame.extend(answer);
                if stream.write_all(&frame).is_err() {
                    return Ok(Session::Disconnected);
                }
            }
        }
    }

    fn load_counters(&self) -> Option<PinCounters> {
        let text = std::fs::read_to_string(self.state_file.as_ref()?).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn save_counters(&self) {
        if let Some(path) = &self.state_file {
            if let Ok(text) = serde_json::to_string(&self.card.counters()) {
                let tmp = path.with_extension("tmp");
                if std::fs::write(&tmp, text).is_ok() {
                    let _ = std::fs::rename(&tmp, path);
                }
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn quick_ack(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_quickack(true);
}

#[cfg(not(target_os = "linux"))]
fn quick_ack(_stream: &TcpStream) {}
