//! Headless Chromium through its own chromedriver, on loopback, with a fresh profile.
//!
//! Each [`Browser`] is one terminal: its own chromedriver process, its own
//! `--user-data-dir` (so its own IndexedDB, token and service worker). [`Browser::close`]
//! ends the WebDriver session before chromedriver goes (killing only chromedriver would
//! orphan Chromium); `Drop` kills whatever is left.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The flags every test browser runs with (the issue's list, plus a fixed language).
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=ja",
    "--window-size=1280,900",
];

/// One headless Chromium driven over WebDriver.
pub struct Browser {
    client: Option<Client>,
    driver: Option<Child>,
    profile: PathBuf,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").field("profile", &self.profile).finish()
    }
}

#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()))
    }
}

/// Where and how a [`Browser`] runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// A network namespace for chromedriver (and so Chromium), reached through a relay.
    pub netns: Option<String>,
    /// `HOME` for Chromium: its NSS database (`~/.pki/nssdb`) holds the CAs it trusts.
    pub home: Option<PathBuf>,
    /// WebDriver's `acceptInsecureCerts`: on for the loopback tests (which use plain HTTP
    /// anyway); off for the tablet, which must trust the bridge's CA like a real one.
    pub accept_insecure_certs: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { netns: None, home: None, accept_insecure_certs: true }
    }
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session.
    pub async fn start() -> Result<Browser, String> {
        Browser::start_with(Options::default()).await
    }

    /// The tablet's browser: chromedriver and Chromium inside the tablet's namespace, with
    /// their own `HOME` (and NSS database), reached through a relay; certificates checked.
    pub async fn start_in(ns: &str, home: &std::path::Path) -> Result<Browser, String> {
        Browser::start_with(Options {
            netns: Some(ns.to_string()),
            home: Some(home.to_path_buf()),
            accept_insecure_certs: false,
        })
        .await
    }

    async fn start_with(options: Options) -> Result<Browser, String> {
        let port = crate::bridge::free_port();
        let profile = std::env::temp_dir().join(format!("chr-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        // Chromium puts scoped directories (~90 MB each) in TMPDIR and leaves them behind
        // when it is ended; pointing TMPDIR inside the profile lets `Drop` remove them too.
        // Short names: Chromium's singleton socket lives there (107-byte path limit).
        let scratch = profile.join("t");
        std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let mut command = match &options.netns {
            Some(ns) => {
                crate::netns::Lan::relay(ns, port)?;
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&chromedriver);
                c
            }
            None => Command::new(&chromedriver),
        };
        if let Some(home) = &options.home {
            command.env("HOME", home);
        }
        let driver = command
            .arg(format!("--port={port}"))
            .env("TMPDIR", &scratch)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("chromedriver: {e} (cargo xtask test installs chromium-driver)")
            })?;
        let mut browser = Browser { client: None, driver: Some(driver), profile };
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", browser.profile.join("user-data").display()));
        let mut caps = serde_json::Map::new();
        caps.insert("acceptInsecureCerts".into(), json!(options.accept_insecure_certs));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "args": args, "binary": "/usr/bin/chromium" }),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    browser.client = Some(client);
                    return Ok(browser);
                }
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("WebDriver session: {e}"))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open until close()")
    }

    /// Ends the session, then chromedriver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        }
    }

    /// A Chrome DevTools Protocol command through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value, String> {
        self.client()
            .issue_cmd(Cdp { cmd: cmd.into(), params })
            .await
            .map_err(|e| format!("{cmd}: {e}"))
    }

    pub async fn goto(&self, url: &str) -> Result<(), String> {
        self.client().goto(url).await.map_err(|e| format!("goto {url}: {e}"))
    }

    fn by_id(testid: &str) -> String {
        format!("[data-testid=\"{testid}\"]")
    }

    /// Waits (≤ `secs`) for an element with `data-testid`.
    pub async fn find(&self, testid: &str, secs: u64) -> Result<Element, String> {
        let css = Browser::by_id(testid);
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(e) = self.client().find(Locator::Css(&css)).await {
                return Ok(e);
            }
            if Instant::now() > deadline {
                return Err(format!("no element {css} within {secs} s"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the element with `data-testid` (waiting for it and for it to be enabled).
    pub async fn click(&self, testid: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let e = self.find(testid, 10).await?;
            let disabled = e.prop("disabled").await.ok().flatten().as_deref() == Some("true");
            if !disabled {
                // Centre it first: the fixed status bar would take a click at the bottom.
                let arg = serde_json::to_value(&e).map_err(|err| err.to_string())?;
                let _ = self
                    .client()
                    .execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
                    .await;
                match e.click().await {
                    Ok(()) => return Ok(()),
                    // The page re-rendered between finding and clicking: find it again.
                    Err(err)
                        if err.to_string().contains("stale element")
                            && Instant::now() < deadline => {}
                    Err(err) => return Err(format!("click {testid}: {err}")),
                }
            }
            if Instant::now() > deadline {
                return Err(format!("{testid} stayed disabled"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses the enabled element with `data-testid` in one round trip to the page, for
    /// presses that must land within milliseconds of another browser's (a find, a check and a
    /// click as separate WebDriver calls take tens of milliseconds on a loaded machine).
    /// Fails without pressing when the element is absent or disabled at that instant.
    pub async fn press_at_once(&self, testid: &str) -> Result<(), String> {
        let script = format!(
            "const e = document.querySelector('{}'); if (!e) return 'absent'; \
             if (e.disabled) return 'disabled'; e.scrollIntoView({{block: 'center'}}); \
             e.click(); return 'pressed';",
            Browser::by_id(testid).replace('\'', "\\'")
        );
        match self.js(&script).await?.as_str() {
            Some("pressed") => Ok(()),
            other => Err(format!("press {testid}: {other:?} at the moment of the press")),
        }
    }

    /// Types into the input with `data-testid` (after clearing it). WebDriver's clear fires
    /// no `input` event, so one is dispatched: the page's signal must see the empty field.
    pub async fn type_into(&self, testid: &str, text: &str) -> Result<(), String> {
        let e = self.find(testid, 10).await?;
        e.clear().await.map_err(|err| format!("clear {testid}: {err}"))?;
        let arg = serde_json::to_value(&e).map_err(|err| err.to_string())?;
        self.client()
            .execute("arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", vec![arg])
            .await
            .map_err(|err| format!("clear {testid}: {err}"))?;
        if text.is_empty() {
            return Ok(());
        }
        e.send_keys(text).await.map_err(|err| format!("type into {testid}: {err}"))
    }

    /// The text of the element with `data-testid` (empty when absent).
    pub async fn text(&self, testid: &str) -> String {
        match self.client().find(Locator::Css(&Browser::by_id(testid))).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// How many elements carry `data-testid`.
    pub async fn count(&self, testid: &str) -> usize {
        self.client().find_all(Locator::Css(&Browser::by_id(testid))).await.map_or(0, |v| v.len())
    }

    /// Waits (≤ `secs`) until `check` holds for the page, polling.
    pub async fn wait_until<F, Fut>(
        &self,
        what: &str,
        secs: u64,
        mut check: F,
    ) -> Result<(), String>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !check().await {
            if Instant::now() > deadline {
                return Err(format!("timed out after {secs} s waiting for {what}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Waits until the element's text contains `needle`.
    pub async fn wait_text(&self, testid: &str, needle: &str, secs: u64) -> Result<(), String> {
        let what = format!("{testid} to contain {needle:?}");
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let text = self.text(testid).await;
            if text.contains(needle) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {what}; it says {text:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs JavaScript and returns its value.
    pub async fn js(&self, script: &str) -> Result<Value, String> {
        self.client().execute(script, vec![]).await.map_err(|e| format!("script: {e}"))
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self, path: &std::path::Path) -> Result<(), String> {
        let png = self.client().screenshot().await.map_err(|e| format!("screenshot: {e}"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::write(path, png).map_err(|e| e.to_string())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(mut driver) = self.driver.take() {
            let _ = driver.kill();
            let _ = driver.wait();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Runs `scenario` with a browser and always closes it, then turns an error into a panic
/// (so a failed step never leaves Chromium running).
pub async fn with_browser<F, Fut>(scenario: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: std::future::Future<Output = (Browser, Result<(), String>)>,
{
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let (browser, result) = scenario(browser).await;
    browser.close().await;
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The workspace's `target/<profile>` directory of the running test binary.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent().and_then(|deps| deps.parent()).map(PathBuf::from).unwrap_or_default()
}

/// The bridge binary built beside this test (`cargo test --workspace` builds it).
pub fn bridge_binary() -> PathBuf {
    target_dir().join(if cfg!(windows) { "bridge.exe" } else { "bridge" })
}

/// The built frontend (`cargo xtask test` runs Trunk first), `<workspace>/dist`.
pub fn frontend_dist() -> Result<PathBuf, String> {
    built_frontend("dist")
}

/// The bench build of the frontend (feature `bench`: the measurement hooks), which
/// `cargo xtask bench` builds into `<workspace>/dist-bench`; the release build has none.
pub fn frontend_bench_dist() -> Result<PathBuf, String> {
    built_frontend("dist-bench")
}

fn built_frontend(name: &str) -> Result<PathBuf, String> {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    if dist.join("index.html").is_file() {
        Ok(dist)
    } else {
        Err(format!(
            "{} has no build: run `cargo xtask test` (it builds the frontend with Trunk)",
            dist.display()
        ))
    }
}
