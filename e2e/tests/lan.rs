//! The pharmacy's tablet on the clinic LAN: the bridge in one network namespace, headless
//! Chromium in another, a veth link between them, HTTPS with the bridge's own CA installed
//! in that Chromium's NSS database — no `--ignore-certificate-errors`, no
//! `acceptInsecureCerts`.
//!
//! Skipped, with a message, only where network namespaces cannot be created (`Lan::create`).

use e2e::bridge::{free_port, Serve};
use e2e::browser::{bridge_binary, frontend_dist, Browser};
use e2e::netns::{trust_ca, Lan, BRIDGE_ADDR};
use e2e::terminal::{
    data_dir, folder_peer, ledger_tally, look_up_numbers, numbers_of, record_without_documents,
    screenshots, tap, Tally,
};
use std::path::Path;
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long the tablet's Wi-Fi is down.
const WIFI_DOWN: Duration = Duration::from_secs(60);

fn bridge(data: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(bridge_binary())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap_or_else(|e| panic!("bridge {args:?}: {e}"));
    assert!(out.status.success(), "bridge {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The clinic's settings: the bridge on `BRIDGE_ADDR`, the folder gateway on `share`.
fn clinic_config(data: &Path, port: u16, share: &Path) {
    let dist = frontend_dist().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        data.join("bridge.toml"),
        format!(
            "port = {port}\nlan_names = [\"{BRIDGE_ADDR}\"]\ngateway = \"folder\"\nfolder = {:?}\nmedical_institution_code = \"1312345678\"\nfrontend = {:?}\n",
            share.display().to_string(),
            dist.display().to_string(),
        ),
    )
    .unwrap();
}

/// The namespaces, or `None` after saying why the scenario is skipped.
fn lan_or_skip(scenario: &str) -> Option<Lan> {
    Lan::for_scenario(scenario).map_err(|skip| eprintln!("{skip}")).ok()
}

/// `bridge serve` inside the clinic's namespace, reached from here on the same port.
fn serve_in(lan: &Lan, port: u16, data: &Path) -> Serve {
    Serve::start_in(&Lan::exec_prefix(&lan.clinic), &bridge_binary(), port, data, &[])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `bridge pair --qr`: the link its QR code holds.
fn qr_link(data: &Path, name: &str) -> String {
    let out = bridge(data, &["pair", "--qr", "--name", name]);
    out.lines()
        .find(|l| l.starts_with("https://"))
        .map(String::from)
        .unwrap_or_else(|| panic!("no link in {out}"))
}

/// Ends the tablet's session; a failed step panics with what the tablet showed (a
/// screenshot and the page's text).
async fn finish(b: Browser, result: Result<(), String>) {
    let result = match result {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = b.screenshot(&screenshots().join("tablet-failure.png")).await;
            let page = b.js("return location.href + ' | ' + document.body.innerText").await;
            Err(format!("{e}\nthe tablet shows: {page:?}"))
        }
    };
    b.close().await;
    result.unwrap_or_else(|e| panic!("{e}"));
}

/// The kiosk (a browser on the bridge's own PC, over loopback HTTP) pairs through 設定 and
/// shows a tablet's pairing QR code; returns the link it holds.
async fn kiosk_qr_link(lan: &Lan, server: &Serve, data: &Path) -> Result<String, String> {
    let home = data.join("kiosk-home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let kiosk = Browser::start_in(&lan.clinic, &home).await?;
    let result = async {
        e2e::terminal::open_and_pair(&kiosk, server, "受付1").await?;
        kiosk.click("tablet-qr").await?;
        kiosk.find("tablet-qr-code", 10).await?;
        kiosk.wait_text("tablet-qr-fingerprint", "CA SHA-256:", 5).await?;
        let svg = kiosk.count("tablet-qr-code").await;
        assert_eq!(svg, 1);
        kiosk.screenshot(&screenshots().join("kiosk-tablet-qr.png")).await?;
        Ok(kiosk.text("tablet-qr-url").await)
    }
    .await;
    kiosk.close().await;
    result
}

async fn wait_controlled(b: &Browser) -> Result<(), String> {
    b.wait_until("the service worker to control the page", 30, || async {
        b.js("return !!navigator.serviceWorker.controller").await.ok()
            == Some(serde_json::json!(true))
    })
    .await
}

/// Pairs by the QR link and waits until the tablet is paired and its bridge up.
async fn pair_by_link(b: &Browser, link: &str) -> Result<(), String> {
    b.goto(link).await?;
    b.wait_text("pairing-state", "ペアリング済み", 20).await?;
    b.wait_text("status-bridge", "bridge up", 20).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_on_the_lan_pairs_by_qr_works_through_a_wifi_drop_and_keeps_trusting_a_renewed_leaf(
) {
    let _one = ONE_AT_A_TIME.lock().await;
    let scenario = "a_tablet_on_the_lan_pairs_by_qr_works_through_a_wifi_drop_and_keeps_trusting_a_renewed_leaf";
    let Some(lan) = lan_or_skip(scenario) else { return };
    let data = data_dir("lan");
    let (_peer, share) = folder_peer(&data);
    let port = free_port();
    clinic_config(&data, port, &share);
    // The pharmacist installs the CA (bridge tls export-ca) before the bridge ever served.
    let ca_pem = bridge(&data, &["tls", "export-ca"]);
    let home = data.join("tablet-home");
    trust_ca(&home, "madoguchi bridge local CA", &ca_pem).unwrap_or_else(|e| panic!("{e}"));
    Lan::relay(&lan.clinic, port).unwrap_or_else(|e| panic!("{e}"));
    let mut server = serve_in(&lan, port, &data);
    let sheet = data.join("setup-sheet.html");
    bridge(&data, &["tls", "setup-sheet", "--out", sheet.to_str().unwrap()]);
    // The kiosk on the bridge's PC shows the tablet's QR code in 設定.
    let link = kiosk_qr_link(&lan, &server, &data).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(link.starts_with(&format!("https://{BRIDGE_ADDR}:{port}/office.html#pair=")), "{link}");
    let b = Browser::start_in(&lan.tablet, &home).await.unwrap_or_else(|e| panic!("{e}"));
    let result = async {
        b.goto(&format!("file://{}", sheet.display())).await?;
        b.find("setup-qr", 10).await?;
        b.js("document.querySelector('[data-testid=setup-qr]').scrollIntoView({block: 'end'})")
            .await?;
        b.screenshot(&screenshots().join("tablet-setup-sheet.png")).await?;
        pair_by_link(&b, &link).await?;
        b.wait_text("pairing-state", "ペアリング済み", 1).await?;
        let origin = b.js("return location.origin").await?;
        assert_eq!(origin, serde_json::json!(format!("https://{BRIDGE_ADDR}:{port}")));
        // The code left the address bar once it was used.
        let hash = b.js("return location.hash").await?;
        assert_eq!(hash, serde_json::json!("#settings"));
        b.screenshot(&screenshots().join("tablet-paired.png")).await?;
        // A device on the LAN cannot make pairing codes, paired or not.
        b.click("tablet-qr").await?;
        b.wait_text("tablet-qr-message", "受付PC", 10).await?;
        wait_controlled(&b).await?;

        // The counter, installable over HTTPS on the LAN address.
        b.click("nav-reception").await?;
        b.find("page-reception", 20).await?;
        wait_controlled(&b).await?;
        let installability = b.cdp("Page.getInstallabilityErrors", serde_json::json!({})).await?;
        let errors = &installability["installabilityErrors"];
        assert_eq!(errors.as_array().map(Vec::len), Some(0), "installability: {installability}");

        // A face result reaches the tablet; a lookup answers through the bridge.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        tap(&share, "yamada")?;
        b.wait_text("face-result", "山田", 20).await?;
        look_up_numbers(&b, &numbers_of("yamada")).await?;
        b.wait_text("result-headline", "資格を確認しました", 30).await?;

        // The Wi-Fi drops for a minute: two receptions are kept, a reload comes from the
        // service worker's cache with them still waiting; back online they arrive once.
        lan.wifi(false)?;
        let down = Instant::now();
        b.wait_text("status-bridge", "bridge down", 30).await?;
        record_without_documents(&b).await?;
        record_without_documents(&b).await?;
        b.wait_text("status-outbox", "未送信 2", 10).await?;
        b.client().refresh().await.map_err(|e| e.to_string())?;
        b.find("page-fallback", 20).await?;
        b.wait_text("status-outbox", "未送信 2", 20).await?;
        b.screenshot(&screenshots().join("tablet-offline.png")).await?;
        if let Some(rest) = WIFI_DOWN.checked_sub(down.elapsed()) {
            tokio::time::sleep(rest).await;
        }
        assert_eq!(ledger_tally(&server), Tally { in_ledger: 0, duplicates: 0 });
        lan.wifi(true)?;
        b.wait_text("status-outbox", "未送信 0", 90).await?;
        assert_eq!(ledger_tally(&server), Tally { in_ledger: 2, duplicates: 0 });

        // The leaf is due for renewal: the bridge re-issues it under the same CA at start,
        // and the tablet (which trusts only the CA) carries on.
        let tls = data.join("tls");
        let (ca_before, leaf_before) = (
            std::fs::read(tls.join("ca.pem")).map_err(|e| e.to_string())?,
            std::fs::read(tls.join("leaf.pem")).map_err(|e| e.to_string())?,
        );
        let soon = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs()
            + 10 * 86_400;
        std::fs::write(tls.join("leaf.not_after"), soon.to_string()).map_err(|e| e.to_string())?;
        server.kill();
        server = serve_in(&lan, port, &data);
        assert_ne!(std::fs::read(tls.join("leaf.pem")).ok(), Some(leaf_before), "a new leaf");
        assert_eq!(std::fs::read(tls.join("ca.pem")).ok(), Some(ca_before), "the same CA");
        b.client().refresh().await.map_err(|e| e.to_string())?;
        b.find("page-fallback", 20).await?;
        b.wait_text("status-bridge", "bridge up", 20).await?;
        record_without_documents(&b).await?;
        b.wait_text("status-outbox", "未送信 0", 30).await?;
        Ok(())
    }
    .await;
    finish(b, result).await;
    let tally = ledger_tally(&server);
    e2e::report::record(
        scenario,
        serde_json::json!({
            "receptions_created": 3, "in_ledger": tally.in_ledger, "duplicates": tally.duplicates,
            "wifi_down_s": WIFI_DOWN.as_secs(),
        }),
    );
    assert_eq!(tally, Tally { in_ledger: 3, duplicates: 0 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_refuses_a_bridge_with_another_ca() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(lan) = lan_or_skip("a_tablet_refuses_a_bridge_with_another_ca") else { return };
    let data = data_dir("lan-ca");
    let (_peer, share) = folder_peer(&data);
    let port = free_port();
    clinic_config(&data, port, &share);
    // Another bridge (another PC, or this one after `rotate --ca`) for the same address.
    let other = data_dir("lan-ca-other");
    clinic_config(&other, port, &share);
    bridge(&other, &["tls", "rotate"]);
    let ca_pem = bridge(&data, &["tls", "export-ca"]);
    let other_pem = bridge(&other, &["tls", "export-ca"]);
    assert_ne!(ca_pem, other_pem);
    Lan::relay(&lan.clinic, port).unwrap_or_else(|e| panic!("{e}"));
    let mut server = serve_in(&lan, port, &data);

    // A tablet that has not installed the CA: Chromium refuses the connection itself.
    let bare_home = data.join("bare-home");
    std::fs::create_dir_all(&bare_home).unwrap();
    let bare = Browser::start_in(&lan.tablet, &bare_home).await.unwrap_or_else(|e| panic!("{e}"));
    let refused = bare.goto(&format!("https://{BRIDGE_ADDR}:{port}/")).await;
    let ours = bare.count("page-reception").await;
    bare.close().await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("insecure") || e.contains("certificate"))
            || ours == 0,
        "an untrusted bridge was opened: {refused:?}"
    );
    assert_eq!(ours, 0);

    // A tablet trusting both CAs (it was set up for both bridges).
    let home = data.join("tablet-home");
    trust_ca(&home, "madoguchi bridge local CA", &ca_pem).unwrap_or_else(|e| panic!("{e}"));
    trust_ca(&home, "another madoguchi CA", &other_pem).unwrap_or_else(|e| panic!("{e}"));
    let b = Browser::start_in(&lan.tablet, &home).await.unwrap_or_else(|e| panic!("{e}"));
    let result = async {
        // A QR code from the other bridge: its fingerprint is not this bridge's CA.
        let fingerprint = |link: &str| {
            link.split("&ca=").nth(1).and_then(|r| r.get(..64)).unwrap_or_default().to_string()
        };
        let link = qr_link(&data, "tablet");
        let wrong = link.replace(&fingerprint(&link), &fingerprint(&qr_link(&other, "tablet")));
        assert_ne!(wrong, link);
        b.goto(&wrong).await?;
        b.wait_text("pair-message", "一致しません", 20).await?;
        b.wait_text("pairing-state", "未ペアリング", 1).await?;
        // The code was not spent: the right link pairs with it.
        b.goto(&format!("https://{BRIDGE_ADDR}:{port}/")).await?;
        pair_by_link(&b, &link).await?;
        wait_controlled(&b).await?;
        b.click("nav-reception").await?;
        b.find("page-reception", 20).await?;

        // The bridge now presents the other CA (which this tablet also trusts): the
        // terminal sees it is not the one it paired with, says so and sends nothing.
        server.kill();
        for file in [
            "ca.pem",
            "ca.key.pem",
            "ca.names",
            "ca.not_before",
            "leaf.pem",
            "leaf.key.pem",
            "leaf.names",
            "leaf.not_after",
        ] {
            std::fs::copy(other.join("tls").join(file), data.join("tls").join(file))
                .map_err(|e| format!("{file}: {e}"))?;
        }
        server = serve_in(&lan, port, &data);
        b.wait_text("banner", "ペアリングしたときと違います", 30).await?;
        b.wait_text("status-bridge", "bridge down", 10).await?;
        b.screenshot(&screenshots().join("tablet-foreign-ca.png")).await?;
        record_without_documents(&b).await?;
        b.wait_text("status-outbox", "未送信 1", 10).await?;
        tokio::time::sleep(Duration::from_secs(8)).await;
        assert_eq!(ledger_tally(&server).in_ledger, 0, "nothing went to the other CA's bridge");
        b.wait_text("status-outbox", "未送信 1", 1).await?;
        // Staff confirm it is the right bridge: pairing again keeps the new CA and sends.
        pair_by_link(&b, &qr_link(&data, "tablet")).await?;
        b.wait_text("status-outbox", "未送信 0", 30).await?;
        Ok(())
    }
    .await;
    finish(b, result).await;
    assert_eq!(ledger_tally(&server), Tally { in_ledger: 1, duplicates: 0 });
}
