//! A real `bridge serve` process on loopback, and a tiny HTTP/1.1 client for it.
//!
//! The caller passes the binary (`env!("CARGO_BIN_EXE_bridge")` in the bridge's own tests
//! and benches, or `target/…/bridge` from other crates). The process is killed on drop,
//! so a failed assertion leaves nothing running.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bind to 0, read it back, release it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// One HTTP/1.1 request to `127.0.0.1:port` with the bridge's own Host and Origin;
/// returns (status, body). Chunked bodies are reduced to the JSON they carry. Errors when
/// the server is not there (or dies mid-request).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: http://localhost:{port}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    s.read_to_string(&mut response)?;
    let status = response
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    let json = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(a), Some(b)) if a <= b => body[a..=b].to_string(),
        _ => body,
    };
    Ok((status, json))
}

/// A running `bridge serve`.
#[derive(Debug)]
pub struct Serve {
    child: Option<Child>,
    pub port: u16,
    pub data: PathBuf,
    bin: PathBuf,
}

impl Serve {
    /// Starts `bin serve --port PORT --data-dir DATA EXTRA…` and waits (≤ 20 s) until
    /// `/health` answers.
    pub fn start(bin: &Path, port: u16, data: &Path, extra: &[&str]) -> Result<Serve, String> {
        Serve::start_in(&[], bin, port, data, extra)
    }

    /// [`Serve::start`] with a command prefix (`ip netns exec NS`: the bridge on the
    /// clinic's side of a [`crate::netns::Lan`], reached here through a relay on `port`).
    pub fn start_in(
        prefix: &[String],
        bin: &Path,
        port: u16,
        data: &Path,
        extra: &[&str],
    ) -> Result<Serve, String> {
        let data_arg = data.to_str().ok_or("the data directory must be UTF-8")?;
        // The bridge's log goes to a file in its data directory (kept for a failed run; it
        // would interleave with the test runner's lines otherwise).
        let _ = std::fs::create_dir_all(data);
        let log = std::fs::File::create(data.join("bridge.log"))
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null());
        let mut command = match prefix.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let child = command
            .args(["serve", "--port", &port.to_string(), "--data-dir", data_arg])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut serve =
            Serve { child: Some(child), port, data: data.to_path_buf(), bin: bin.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if http(port, "GET", "/health", None, "").is_ok() {
                return Ok(serve);
            }
            if let Some(Ok(Some(status))) = serve.child.as_mut().map(|c| c.try_wait()) {
                return Err(format!("bridge serve exited at start: {status}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("bridge serve did not answer /health within 20 s".into())
    }

    /// The process id (for `kill -9`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs `bin pair --data-dir DATA` and returns the one-time code it printed.
    pub fn pairing_code(&self) -> Result<String, String> {
        let data = self.data.to_str().ok_or("the data directory must be UTF-8")?;
        let out = Command::new(&self.bin)
            .args(["pair", "--data-dir", data])
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .find(|w| w.len() == 8 && w.bytes().all(|b| b.is_ascii_digit()))
            .map(String::from)
            .ok_or_else(|| format!("no pairing code in {text:?}"))
    }

    /// Runs an operator command on this bridge's data directory (`bin ARGS… --data-dir
    /// DATA`) and returns what it printed; a failing exit is an error with its output.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        let data = self.data.to_str().ok_or("the data directory must be UTF-8")?;
        let out = Command::new(&self.bin)
            .args(args)
            .args(["--data-dir", data])
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!(
                "bridge {} failed: {text}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Pairs a terminal named `name` over HTTP; returns its token.
    pub fn pair(&self, name: &str) -> Result<String, String> {
        let code = self.pairing_code()?;
        let body = format!(r#"{{"code":"{code}","device_name":"{name}"}}"#);
        let (status, reply) =
            http(self.port, "POST", "/api/pair", None, &body).map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("pairing answered {status}: {reply}"));
        }
        let start = reply.find("\"token\":\"").ok_or("no token")? + 9;
        let end = reply[start..].find('"').ok_or("no token end")? + start;
        Ok(reply[start..end].to_string())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}
