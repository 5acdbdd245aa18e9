//! A real PC/SC stack for tests and benchmarks: `pcscd -f` with the vsmartcard vpcd
//! driver, and the bridge's own emulator process (`bridge card emulate`) holding a
//! virtual card. Started and stopped by pid; dropped (also on a failed assertion) = killed.

use std::ffi::CString;
use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// pcscd is one per machine: tests that use it run one at a time.
static PCSCD: Mutex<()> = Mutex::new(());

pub const READER: &str = "Virtual PCD 00 00";

/// The running stack. Holds a process-wide lock: pcscd is one per machine.
#[derive(Debug)]
pub struct Pcsc {
    pcscd: Option<Child>,
    emulator: Option<Child>,
    emulator_stdin: Option<ChildStdin>,
    _lock: MutexGuard<'static, ()>,
}

fn pcscd_path() -> &'static str {
    ["/usr/sbin/pcscd", "/usr/local/sbin/pcscd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("pcscd")
}

impl Pcsc {
    /// Starts pcscd and an emulator (`bridge` is the bridge binary) for `person`; waits
    /// until the card is visible. Panics with the reason when something does not start.
    pub fn start(bridge: &str, person: &str, extra: &[&str]) -> Pcsc {
        let lock = PCSCD.lock().unwrap_or_else(|e| e.into_inner());
        let mut pcsc = Pcsc { pcscd: None, emulator: None, emulator_stdin: None, _lock: lock };
        pcsc.start_pcscd();
        let mut args = vec!["card", "emulate", "--person", person];
        args.extend_from_slice(extra);
        let mut child = Command::new(bridge)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the emulator starts");
        pcsc.emulator_stdin = child.stdin.take();
        pcsc.emulator = Some(child);
        pcsc.wait_for_card(true);
        pcsc
    }

    pub fn start_pcscd(&mut self) {
        let child = Command::new(pcscd_path())
            .args(["-f"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pcscd starts (cargo xtask test installs the Debian package pcscd)");
        self.pcscd = Some(child);
        std::thread::sleep(Duration::from_millis(100));
        if let Some(status) = self.pcscd.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
            panic!("pcscd exited at once ({status}): is another pcscd running? The tests start their own.");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if readers().iter().any(|(name, _)| name == READER) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("pcscd did not show the vpcd reader within 10 s (is vsmartcard-vpcd installed?)");
    }

    pub fn stop_pcscd(&mut self) {
        if let Some(mut p) = self.pcscd.take() {
            let _ = p.kill();
            let _ = p.wait();
        }
    }

    /// Sends a line to the emulator (remove | insert | remove-after N).
    pub fn emulator(&mut self, command: &str) {
        let stdin = self.emulator_stdin.as_mut().expect("emulator stdin");
        writeln!(stdin, "{command}").expect("emulator takes commands");
        stdin.flush().expect("flush");
    }

    pub fn wait_for_card(&self, present: bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let now = readers().iter().any(|(name, present)| name == READER && *present);
            if now == present {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the card did not become {} within 10 s",
            if present { "present" } else { "absent" }
        );
    }
}

impl Drop for Pcsc {
    fn drop(&mut self) {
        drop(self.emulator_stdin.take());
        if let Some(mut e) = self.emulator.take() {
            let _ = e.kill();
            let _ = e.wait();
        }
        self.stop_pcscd();
    }
}

/// The readers pcscd shows, with card presence; empty when pcscd is not reachable.
pub fn readers() -> Vec<(String, bool)> {
    let Ok(ctx) = pcsc::Context::establish(pcsc::Scope::User) else { return Vec::new() };
    let Ok(names) = ctx.list_readers_owned() else { return Vec::new() };
    let mut states: Vec<pcsc::ReaderState> = names
        .iter()
        .map(|n| pcsc::ReaderState::new(CString::clone(n), pcsc::State::UNAWARE))
        .collect();
    if states.is_empty() || ctx.get_status_change(Duration::from_millis(0), &mut states).is_err() {
        return Vec::new();
    }
    states
        .iter()
        .map(|s| {
            (
                s.name().to_string_lossy().into_owned(),
                s.event_state().contains(pcsc::State::PRESENT),
            )
        })
        .collect()
}
