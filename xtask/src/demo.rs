//! The demo's processes: pcscd, the virtual-card emulator and `bridge serve`, each started
//! as a program and killed when the demo ends. xtask links none of them (no `pcsc`, no
//! `e2e`): it must build on a machine that has only the Rust toolchain, before its setup
//! step has installed anything.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// The demo's child processes, killed in reverse order on drop.
#[derive(Default)]
pub struct Children {
    running: Vec<(&'static str, Child)>,
    /// The emulator reads commands from stdin and ends when it closes: hold it open.
    emulator_stdin: Option<ChildStdin>,
}

impl Children {
    fn add(&mut self, name: &'static str, child: Child) {
        self.running.push((name, child));
    }

    /// Blocks until `bridge serve` ends (or is interrupted with the whole process group).
    pub fn wait_for_serve(&mut self) -> Result<()> {
        let Some((_, serve)) = self.running.iter_mut().find(|(name, _)| *name == "bridge serve")
        else {
            bail!("bridge serve is not running");
        };
        let status = serve.wait()?;
        bail!("bridge serve ended ({status})")
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        drop(self.emulator_stdin.take());
        while let Some((_, mut child)) = self.running.pop() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn pcscd_path() -> &'static str {
    ["/usr/sbin/pcscd", "/usr/local/sbin/pcscd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("pcscd")
}

/// pcscd in the foreground with the vpcd driver, then `bridge card emulate --person
/// PERSON`; waits (≤ 10 s) until `bridge card list` shows a card.
pub fn start_card(children: &mut Children, bridge: &str, person: &str) -> Result<()> {
    let pcscd = Command::new(pcscd_path())
        .arg("-f")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("pcscd does not start (the Debian package pcscd)")?;
    children.add("pcscd", pcscd);
    let mut emulator = Command::new(bridge)
        .args(["card", "emulate", "--person", person])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("the emulator does not start")?;
    children.emulator_stdin = emulator.stdin.take();
    children.add("emulator", emulator);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let list = Command::new(bridge).args(["card", "list", "--format", "json"]).output();
        if let Ok(list) = list {
            if String::from_utf8_lossy(&list.stdout).contains("\"card_present\": true") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("pcscd showed no card within 10 s (is vsmartcard-vpcd installed? is another pcscd running?)")
}

/// `bridge serve` with the simulator and the built frontend; waits (≤ 20 s) for `/health`
/// and returns a fresh pairing code.
pub fn start_serve(
    children: &mut Children,
    bridge: &str,
    port: u16,
    data: &Path,
    dist: &str,
) -> Result<String> {
    let data_arg = data.to_str().context("the data directory must be UTF-8")?;
    let serve = Command::new(bridge)
        .args(["serve", "--port", &port.to_string(), "--data-dir", data_arg, "--frontend", dist])
        .stdout(Stdio::null())
        .spawn()
        .context("bridge serve does not start")?;
    children.add("bridge serve", serve);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if health(port).is_ok() {
            break;
        }
        if Instant::now() > deadline {
            bail!("bridge serve did not answer /health on port {port} within 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let pair = Command::new(bridge).args(["pair", "--data-dir", data_arg]).output()?;
    let text = String::from_utf8_lossy(&pair.stdout);
    text.split_whitespace()
        .find(|w| w.len() == 8 && w.bytes().all(|b| b.is_ascii_digit()))
        .map(String::from)
        .with_context(|| format!("no pairing code in {text:?}"))
}

/// `GET /health` over plain HTTP on loopback (the kiosk path), with the bridge's own Host.
fn health(port: u16) -> std::io::Result<()> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET /health HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: http://localhost:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    s.read_to_string(&mut response)?;
    if response.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(std::io::Error::other(response.lines().next().unwrap_or("").to_string()))
    }
}
