//! The clinic LAN in miniature: two network namespaces joined by a veth pair — the
//! 資格確認端末 running the bridge on one side, the pharmacy's tablet (Chromium) on the
//! other — and relays that let the test runner reach a loopback port inside either.
//!
//! The harness creates the namespaces (`ip netns add`), puts the veth pair straight into
//! them (nothing is added to the runner's own namespace), gives each end an address of
//! one private /30, and deletes both namespaces on drop (which removes the veth pair).
//! Traffic between the bridge and the tablet stays on that link; the runner's relays
//! carry only its own control traffic (WebDriver, `/health`, the checker terminal).
//!
//! A relay listens on `127.0.0.1:PORT` here and forwards each connection to `127.0.0.1:PORT`
//! inside the namespace: one thread enters the namespace (`setns`, which moves only that
//! thread) and opens the inner connections there. The same port number on both sides
//! keeps `Host: localhost:PORT` what the bridge expects.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};

/// The bridge's address on the link (the tablet's is [`TABLET_ADDR`]): one /30 chosen by
/// the harness, private, and only ever inside its namespaces.
pub const BRIDGE_ADDR: &str = "10.77.0.1";
pub const TABLET_ADDR: &str = "10.77.0.2";

/// Two namespaces and the link between them.
#[derive(Debug)]
pub struct Lan {
    pub clinic: String,
    pub tablet: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out =
        Command::new("ip").args(args).stdin(Stdio::null()).output().map_err(|e| {
            format!("ip {}: {e} (cargo xtask test installs iproute2)", args.join(" "))
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl Lan {
    /// Creates the namespaces and the link (named after this process, so parallel tests
    /// and leftovers of a killed run never collide), or says why it cannot.
    pub fn create(tag: &str) -> Result<Lan, String> {
        let id = format!("{}-{tag}", std::process::id());
        let lan = Lan { clinic: format!("md-clinic-{id}"), tablet: format!("md-tablet-{id}") };
        for ns in [&lan.clinic, &lan.tablet] {
            let _ = ip(&["netns", "del", ns]);
            ip(&["netns", "add", ns])?;
        }
        let (c, t) = (lan.clinic.as_str(), lan.tablet.as_str());
        ip(&["-n", c, "link", "add", "lan0", "type", "veth", "peer", "name", "wifi0", "netns", t])?;
        ip(&["-n", c, "addr", "add", &format!("{BRIDGE_ADDR}/30"), "dev", "lan0"])?;
        ip(&["-n", t, "addr", "add", &format!("{TABLET_ADDR}/30"), "dev", "wifi0"])?;
        for (ns, dev) in [(c, "lan0"), (t, "wifi0"), (c, "lo"), (t, "lo")] {
            ip(&["-n", ns, "link", "set", dev, "up"])?;
        }
        Ok(lan)
    }

    /// [`Lan::create`] for `scenario`, or the message saying it is skipped and why (a
    /// machine where network namespaces cannot be made: not root, no `ip`, a container
    /// without CAP_NET_ADMIN), also put in the e2e report; the scenario prints it and returns.
    /// Where `cargo xtask e2e` found that namespaces can be made (`MADOGUCHI_REQUIRE_NETNS`),
    /// failing to make them is a failure.
    pub fn for_scenario(scenario: &str) -> Result<Lan, String> {
        // One pair of namespaces per scenario of this process, never two with one name.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match Lan::create(&n.to_string()) {
            Ok(lan) => Ok(lan),
            Err(e) if std::env::var_os("MADOGUCHI_REQUIRE_NETNS").is_some() => {
                panic!("network namespaces were available to cargo xtask but not here: {e}")
            }
            Err(e) => {
                crate::report::record(scenario, serde_json::json!({ "skipped": e }));
                Err(format!("SKIPPED {scenario} (network namespaces cannot be created here): {e}"))
            }
        }
    }

    /// The tablet's Wi-Fi: its end of the link up or down.
    pub fn wifi(&self, up: bool) -> Result<(), String> {
        ip(&["-n", &self.tablet, "link", "set", "wifi0", if up { "up" } else { "down" }])
    }

    /// The command prefix that runs a program inside `ns`.
    pub fn exec_prefix(ns: &str) -> Vec<String> {
        ["ip", "netns", "exec", ns].map(String::from).to_vec()
    }

    /// Forwards `127.0.0.1:port` here to `127.0.0.1:port` inside `ns`.
    pub fn relay(ns: &str, port: u16) -> Result<(), String> {
        let listener =
            TcpListener::bind(("127.0.0.1", port)).map_err(|e| format!("relay :{port}: {e}"))?;
        let netns = std::fs::File::open(format!("/var/run/netns/{ns}"))
            .map_err(|e| format!("namespace {ns}: {e}"))?;
        std::thread::Builder::new()
            .name(format!("relay-{port}"))
            .spawn(move || {
                // Only this thread (and the ones it starts) moves into the namespace.
                if nix::sched::setns(&netns, nix::sched::CloneFlags::CLONE_NEWNET).is_err() {
                    return;
                }
                for outer in listener.incoming() {
                    let Ok(outer) = outer else { continue };
                    match TcpStream::connect(("127.0.0.1", port)) {
                        Ok(inner) => splice(outer, inner),
                        Err(_) => drop(outer), // not listening yet: the caller retries
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Copies both ways until either side closes.
fn splice(a: TcpStream, b: TcpStream) {
    let pairs = [(a.try_clone(), b.try_clone()), (b.try_clone(), a.try_clone())];
    for pair in pairs {
        if let (Ok(mut from), Ok(mut to)) = pair {
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    match from.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = to.shutdown(Shutdown::Write);
            });
        }
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        // Deleting a namespace removes its end of the veth pair, and with it the other.
        for ns in [&self.clinic, &self.tablet] {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// A fresh NSS database in `home/.pki/nssdb` (where Chromium on Linux looks) trusting
/// `ca_pem` for TLS servers — what a pharmacist does by installing the CA on a tablet.
pub fn trust_ca(home: &std::path::Path, name: &str, ca_pem: &str) -> Result<(), String> {
    let db = home.join(".pki/nssdb");
    std::fs::create_dir_all(&db).map_err(|e| e.to_string())?;
    let sql = format!("sql:{}", db.display());
    let certutil = |args: &[&str]| -> Result<(), String> {
        let out = Command::new("certutil")
            .args(args)
            .output()
            .map_err(|e| format!("certutil: {e} (cargo xtask test installs libnss3-tools)"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("certutil {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
        }
    };
    if !db.join("cert9.db").exists() {
        certutil(&["-N", "-d", &sql, "--empty-password"])?;
    }
    let file = home.join(format!("{name}.pem"));
    std::fs::write(&file, ca_pem).map_err(|e| e.to_string())?;
    certutil(&["-A", "-d", &sql, "-n", name, "-t", "C,,", "-i", &file.to_string_lossy()])
}
