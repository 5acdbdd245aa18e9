//! TLS with a rustls client that trusts only the bridge's generated CA.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_client_trusting_the_generated_ca_gets_health_over_tls() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let data = std::env::temp_dir().join(format!("madoguchi-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut server = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["serve", "--port", &port.to_string(), "--data-dir", data.to_str().unwrap()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let result = async {
        let ca_path = data.join("tls/ca.pem");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ca_path.exists()
            || tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err()
        {
            assert!(Instant::now() < deadline, "the bridge did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // `bridge tls export-ca` prints the same CA, and never a key.
        let exported = Command::new(env!("CARGO_BIN_EXE_bridge"))
            .args(["tls", "export-ca", "--data-dir", data.to_str().unwrap()])
            .output()
            .unwrap();
        let exported = String::from_utf8(exported.stdout).unwrap();
        assert_eq!(exported, std::fs::read_to_string(&ca_path).unwrap());
        assert!(!exported.contains("PRIVATE KEY"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(data.join("tls/ca.key.pem")).unwrap().permissions().mode()
                    & 0o777,
                0o600
            );
        }

        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(exported.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls =
            connector.connect(name, tcp).await.expect("the certificate verifies against the CA");
        tls.write_all(
            format!("GET /health HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut response = String::new();
        tls.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("\"uptime_s\""));
        // `/health` states the CA's fingerprint as OpenSSL computes it (what a tablet pins and
        // a pharmacist compares on the set-up sheet).
        let openssl = Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(&ca_path)
            .output()
            .unwrap();
        let openssl = String::from_utf8(openssl.stdout).unwrap();
        let expected = openssl.trim().rsplit('=').next().unwrap().replace(':', "");
        assert_eq!(expected.len(), 64, "{openssl}");
        assert!(response.contains(&format!("\"ca_sha256\":\"{expected}\"")), "{response}");

        // A client that does not trust the CA is refused.
        let untrusting = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        assert!(tokio_rustls::TlsConnector::from(Arc::new(untrusting))
            .connect(name, tcp)
            .await
            .is_err());
    };
    let outcome = tokio::time::timeout(Duration::from_secs(30), result).await;
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
    outcome.expect("finished in time");
}

/// `openssl x509 -text` of a PEM file.
fn openssl_text(pem: &std::path::Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(pem)
        .output()
        .expect("the openssl binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Days between openssl's `notBefore=` and `notAfter=` lines (`Dec  1 12:00:00 2026 GMT`).
fn validity_days(pem: &std::path::Path) -> f64 {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-startdate", "-enddate", "-dateopt", "iso_8601", "-in"])
        .arg(pem)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // iso_8601: notBefore=2026-12-01 12:00:00Z
    let stamp = |key: &str| -> f64 {
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} in {text}"));
        let (date, time) = line.trim().trim_end_matches('Z').split_once(' ').unwrap();
        let d = eligibility::Date::parse(date).unwrap();
        let secs: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
        eligibility::Date::parse("1970-01-01").unwrap().days_until(d) as f64 * 86_400.0
            + secs[0] * 3600.0
            + secs[1] * 60.0
            + secs[2]
    };
    (stamp("notAfter=") - stamp("notBefore=")) / 86_400.0
}

#[test]
fn openssl_sees_the_name_constraints_the_server_usage_and_a_short_leaf() {
    let data = std::env::temp_dir().join(format!("madoguchi-tls-openssl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("bridge.toml"),
        "lan_names = [\"madoguchi.local\", \"192.168.10.5\"]\n",
    )
    .unwrap();
    let bridge = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_bridge"))
            .args(args)
            .args(["--data-dir", data.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    bridge(&["tls", "rotate"]);
    let tls = data.join("tls");
    let ca = openssl_text(&tls.join("ca.pem"));
    assert!(
        ca.contains("X509v3 Name Constraints: critical") || ca.contains("X509v3 Name Constraints"),
        "{ca}"
    );
    for permitted in [
        "DNS:localhost",
        "DNS:madoguchi.local",
        "IP:127.0.0.1/255.255.255.255",
        "IP:192.168.10.0/255.255.255.0",
    ] {
        assert!(ca.contains(permitted), "the CA permits {permitted}:\n{ca}");
    }
    assert!(ca.contains("CA:TRUE, pathlen:0"), "{ca}");
    let leaf = openssl_text(&tls.join("leaf.pem"));
    assert!(
        leaf.contains("X509v3 Extended Key Usage")
            && leaf.contains("TLS Web Server Authentication"),
        "{leaf}"
    );
    assert!(!leaf.contains("CA:TRUE"));
    for name in ["DNS:localhost", "DNS:madoguchi.local", "IP Address:192.168.10.5"] {
        assert!(leaf.contains(name), "the leaf names {name}:\n{leaf}");
    }
    let days = validity_days(&tls.join("leaf.pem"));
    assert!(days <= 397.0 && days > 390.0, "leaf validity {days} days");
    // The leaf verifies against the CA for server use (OpenSSL checks the constraints).
    let verify = |leaf: &str| {
        Command::new("openssl")
            .args(["verify", "-purpose", "sslserver", "-CAfile"])
            .arg(tls.join("ca.pem"))
            .arg(leaf)
            .output()
            .unwrap()
    };
    let ok = verify(tls.join("leaf.pem").to_str().unwrap());
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    // Rotating makes a new leaf under the same CA: tablets keep trusting the bridge.
    let (ca_before, leaf_before) =
        (std::fs::read(tls.join("ca.pem")).unwrap(), std::fs::read(tls.join("leaf.pem")).unwrap());
    bridge(&["tls", "rotate"]);
    assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca_before, "the CA stays");
    assert_ne!(std::fs::read(tls.join("leaf.pem")).unwrap(), leaf_before, "a new leaf");
    assert!(verify(tls.join("leaf.pem").to_str().unwrap()).status.success());
    // A certificate for a name outside the constraints does not verify under the CA.
    let outside = tls.join("outside.pem");
    let csr = tls.join("outside.csr");
    let made = Command::new("openssl")
        .args(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"])
        .args(["-subj", "/CN=bank.example", "-addext", "subjectAltName=DNS:bank.example"])
        .arg("-keyout")
        .arg(tls.join("outside.key"))
        .arg("-out")
        .arg(&csr)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let signed = Command::new("openssl")
        .args(["x509", "-req", "-days", "30", "-copy_extensions", "copy", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(tls.join("ca.pem"))
        .arg("-CAkey")
        .arg(tls.join("ca.key.pem"))
        .arg("-out")
        .arg(&outside)
        .output()
        .unwrap();
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    let refused = verify(outside.to_str().unwrap());
    assert!(!refused.status.success(), "the CA must not vouch for bank.example");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in ["ca.key.pem", "leaf.key.pem"] {
            let mode = std::fs::metadata(tls.join(key)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{key}");
        }
    }
    let _ = std::fs::remove_dir_all(&data);
}
