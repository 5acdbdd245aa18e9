//! WebSocket round trip on loopback: a paired terminal's `ping` → `pong` through a real
//! `bridge serve` (plain HTTP on loopback, as the kiosk uses it). Run with `cargo xtask bench`.

use futures_util::{SinkExt, StreamExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const RUNS: usize = 2000;

fn http(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: http://localhost:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).ok()?;
    let mut r = String::new();
    s.read_to_string(&mut r).ok()?;
    let (a, b) = (r.find('{')?, r.rfind('}')?);
    Some(r[a..=b].to_string())
}

fn main() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let data = std::env::temp_dir().join(format!("madoguchi-ws-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut server = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["serve", "--port", &port.to_string(), "--data-dir", data.to_str().expect("utf-8")])
        .stdout(Stdio::null())
        .spawn()
        .expect("bridge serve");
    let started = Instant::now();
    while http(port, "GET", "/health", "").is_none() {
        assert!(started.elapsed() < Duration::from_secs(20), "bridge serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let code_out = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["pair", "--data-dir", data.to_str().expect("utf-8")])
        .output()
        .expect("pair");
    let code: String = String::from_utf8_lossy(&code_out.stdout)
        .chars()
        .filter(char::is_ascii_digit)
        .take(8)
        .collect();
    let paired = http(
        port,
        "POST",
        "/api/pair",
        &serde_json::json!({ "code": code, "device_name": "bench" }).to_string(),
    )
    .expect("paired");
    let token = serde_json::from_str::<serde_json::Value>(&paired).expect("json")["token"]
        .as_str()
        .expect("token")
        .to_string();

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
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
}
