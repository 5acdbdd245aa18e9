//! WebSocket round trip on loopback: a paired terminal's `ping` → `pong` through a real
//! `bridge serve` (plain HTTP on loopback, as the kiosk uses it). Run with `cargo xtask bench`.

use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const RUNS: usize = 2000;

fn main() {
    let port = e2e::bridge::free_port();
    let data = std::env::temp_dir().join(format!("madoguchi-ws-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let server = e2e::bridge::Serve::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_bridge")),
        port,
        &data,
        &[],
    )
    .expect("bridge serve");
    let token = server.pair("bench").expect("paired");

    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let times = runtime.block_on(async {
        let mut request =
            format!("ws://localhost:{port}/ws").into_client_request().expect("request");
        request
            .headers_mut()
            .insert("origin", format!("http://localhost:{port}").parse().expect("origin"));
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("upgrade");
        ws.send(Message::text(
            serde_json::json!({ "v": 1, "kind": "hello", "token": token }).to_string(),
        ))
        .await
        .expect("hello");
        ws.next().await.expect("welcome").expect("welcome");
        let mut times = Vec::with_capacity(RUNS);
        for n in 0..RUNS {
            let start = Instant::now();
            ws.send(Message::text(format!(r#"{{"v":1,"id":"{n}","kind":"ping"}}"#)))
                .await
                .expect("ping");
            loop {
                let m = ws.next().await.expect("pong").expect("pong");
                if m.to_text().is_ok_and(|t| t.contains("\"pong\"")) {
                    break;
                }
            }
            times.push(start.elapsed());
        }
        times
    });
    let mut times = times;
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "\nWebSocket ping → pong on loopback through bridge serve ({RUNS} runs): p50 {:.0} µs, p99 {:.0} µs",
        us(times[RUNS / 2]),
        us(times[(RUNS - 1) * 99 / 100])
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
