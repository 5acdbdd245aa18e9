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
