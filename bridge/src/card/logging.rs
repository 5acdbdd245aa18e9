//! Structured logs to stderr. Sanitised by default: the bridge logs events and status
//! words, never PINs or patient data (APDU traces mask VERIFY data).
//!
//! Whatever `RUST_LOG` asks, the libraries that see request and WebSocket payloads are
//! capped ([`PAYLOAD_CAPS`]): tungstenite traces every frame with its payload (a client's
//! frame mask is printed beside it, so the masking hides nothing), and a `confirm_card`
//! frame carries the PIN.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Targets that would log HTTP bodies or WebSocket frames, and the most they may log.
/// Added after `RUST_LOG`'s directives, so they win over `RUST_LOG=trace` and
/// `RUST_LOG=tungstenite=trace` alike.
pub const PAYLOAD_CAPS: [&str; 7] = [
    "tungstenite=off",
    "tokio_tungstenite=off",
    "warp=info",
    "hyper=info",
    "hyper_util=info",
    "h2=info",
    "rustls=info",
];

/// Installs the global subscriber: `warn` by default, `-v` info, `-vv` debug, `-vvv`
/// trace; `RUST_LOG` overrides.
pub fn init(verbosity: u8) {
    let level = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    init_with_writer(level, std::io::stderr);
}

/// How the log file rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// A file reaching this size is moved to `.1` (`.1` to `.2`, …) and a new one begun.
    pub max_bytes: u64,
    /// Rotated files kept (`.1` … `.keep`).
    pub keep: usize,
    /// Rotated files older than this are removed (at start and at each rotation).
    pub max_age: std::time::Duration,
}

/// The log file: appended to, rotated by size, pruned by count and age.
#[derive(Debug, Clone)]
pub struct RotatingFile {
    state: std::sync::Arc<std::sync::Mutex<FileState>>,
}

#[derive(Debug)]
struct FileState {
    path: std::path::PathBuf,
    file: std::fs::File,
    written: u64,
    rotation: Rotation,
}

fn rotated(path: &std::path::Path, n: usize) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    std::path::PathBuf::from(name)
}

impl FileState {
    fn rotate(&mut self) -> std::io::Result<()> {
        let _ = std::fs::remove_file(rotated(&self.path, self.rotation.keep));
        for n in (1..self.rotation.keep).rev() {
            let from = rotated(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        self.file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.written = 0;
        self.prune_old();
        Ok(())
    }

    /// Rotated files past the age limit go.
    fn prune_old(&self) {
        for n in 1..=self.rotation.keep + 1 {
            let old = rotated(&self.path, n);
            let age = std::fs::metadata(&old)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok());
            if age.is_some_and(|a| a > self.rotation.max_age) {
                let _ = std::fs::remove_file(old);
            }
        }
    }
}

impl RotatingFile {
    pub fn open(path: &std::path::Path, rotation: Rotation) -> std::io::Result<RotatingFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        let state = FileState { path: path.to_path_buf(), file, written, rotation };
        state.prune_old();
        Ok(RotatingFile { state: std::sync::Arc::new(std::sync::Mutex::new(state)) })
    }
}

impl std::io::Write for &RotatingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut state = self.state.lock().map_err(|_| std::io::Error::other("log lock"))?;
        if state.written > 0 && state.written + buf.len() as u64 > state.rotation.max_bytes {
            // A log that cannot rotate keeps writing where it is rather than lose lines.
            let _ = state.rotate();
        }
        let n = state.file.write(buf)?;
        state.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut state = self.state.lock().map_err(|_| std::io::Error::other("log lock"))?;
        state.file.flush()
    }
}

impl<'a> MakeWriter<'a> for RotatingFile {
    type Writer = &'a RotatingFile;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

/// Installs the subscriber writing to a rotating log file.
pub fn init_to_file(
    verbosity: u8,
    path: &std::path::Path,
    rotation: Rotation,
) -> std::io::Result<()> {
    // A service's file log is at info by default: events and states, no patient data.
    let level = match verbosity {
        0 | 1 => "info",
        2 => "debug",
        _ => "trace",
    };
    init_with_writer(level, RotatingFile::open(path, rotation)?);
    Ok(())
}

/// Installs a subscriber writing to `writer` (tests capture logs this way).
pub fn init_with_writer<W>(level: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    for cap in PAYLOAD_CAPS {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn the_log_file_rotates_by_size_keeps_n_and_drops_old_files() {
        let dir = std::env::temp_dir().join(format!("madoguchi-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("logs/bridge.log");
        let rotation = Rotation {
            max_bytes: 1000,
            keep: 3,
            max_age: std::time::Duration::from_secs(30 * 86_400),
        };
        let log = RotatingFile::open(&path, rotation).unwrap();
        let line = [b'x'; 299].iter().chain(b"\n").copied().collect::<Vec<u8>>();
        for _ in 0..20 {
            (&log).write_all(&line).unwrap();
        }
        let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).ok();
        assert!(size(&path).unwrap() <= 1000);
        for n in 1..=3 {
            let s = size(&rotated(&path, n)).unwrap();
            assert!((600..=1000).contains(&s), ".{n}: {s} bytes");
        }
        assert_eq!(size(&rotated(&path, 4)), None, "only three rotated files are kept");
        // `.2` is older than the limit: when it would become `.3` it goes instead.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(rotated(&path, 2))
            .unwrap()
            .set_modified(old)
            .unwrap();
        for _ in 0..4 {
            (&log).write_all(&line).unwrap();
        }
        assert_eq!(size(&rotated(&path, 3)), None, "a rotated file past the age limit is removed");
        assert!(size(&rotated(&path, 2)).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
