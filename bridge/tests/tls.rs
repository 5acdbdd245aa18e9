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
