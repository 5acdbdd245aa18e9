//! The bridge's own certificates and the TLS side of the listener.
//!
//! On first start the bridge makes a CA (ECDSA P-256) and a leaf certificate for its names
//! in the data directory; tablets install the CA (`bridge tls export-ca`), whose key never
//! leaves the directory (written 0600). The leaf is re-issued when the names change.
//!
//! One port serves both: a connection that starts with a TLS handshake record (`0x16`) is
//! TLS; anything else is plain HTTP, accepted only from loopback (the kiosk on the same PC).

use anyhow::{Context as _, Result};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::Path;
use std::sync::Arc;

/// The PEM files the bridge keeps.
#[derive(Debug, Clone)]
pub struct Certificates {
    pub ca_pem: String,
    pub leaf_pem: String,
    pub leaf_key_pem: String,
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn ca_params() -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, "madoguchi bridge local CA");
    params.distinguished_name.push(DnType::OrganizationName, "madoguchi");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

/// The names every leaf certificate carries: the bridge on this machine.
pub fn loopback_names() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
}

/// Loads or creates the CA; returns its certificate (PEM). The leaf is left as it is.
pub fn ensure_ca(dir: &Path) -> Result<String> {
    std::fs::create_dir_all(dir)?;
    let (ca_cert, ca_key) = (dir.join("ca.pem"), dir.join("ca.key.pem"));
    if !ca_cert.exists() || !ca_key.exists() {
        let key = KeyPair::generate().context("CA key")?;
        let cert = ca_params()?.self_signed(&key)?;
        write_private(&ca_key, &key.serialize_pem())?;
        std::fs::write(&ca_cert, cert.pem())?;
    }
    Ok(std::fs::read_to_string(&ca_cert)?)
}

/// Loads or creates the CA and a leaf for `names` (DNS names or IP addresses).
pub fn ensure(dir: &Path, names: &[String]) -> Result<Certificates> {
    let ca_pem = ensure_ca(dir)?;
    let ca_key = dir.join("ca.key.pem");
    let (leaf_cert, leaf_key, leaf_names) =
        (dir.join("leaf.pem"), dir.join("leaf.key.pem"), dir.join("leaf.names"));
    let wanted = names.join("\n");
    if std::fs::read_to_string(&leaf_names).ok().as_deref() != Some(wanted.as_str())
        || !leaf_cert.exists()
        || !leaf_key.exists()
    {
        let ca_key_pair = KeyPair::from_pem(&std::fs::read_to_string(&ca_key)?)?;
        // The issuer's name and key are what a leaf records; the CA's own parameters are
        // rebuilt identically rather than parsed back.
        let issuer = Issuer::new(ca_params()?, ca_key_pair);
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.to_vec())?;
        params.distinguished_name.push(DnType::CommonName, "madoguchi bridge");
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer)?;
        write_private(&leaf_key, &key.serialize_pem())?;
        std::fs::write(&leaf_cert, cert.pem())?;
        std::fs::write(&leaf_names, &wanted)?;
    }
    Ok(Certificates {
        ca_pem,
        leaf_pem: std::fs::read_to_string(&leaf_cert)?,
        leaf_key_pem: std::fs::read_to_string(&leaf_key)?,
    })
}

/// A rustls acceptor (ring provider, ALPN http/1.1 so WebSockets upgrade).
pub fn acceptor(certs: &Certificates) -> Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(certs.leaf_pem.as_bytes())
            .collect::<Result<_, _>>()
            .context("leaf certificate")?;
    let key = PrivateKeyDer::from_pem_slice(certs.leaf_key_pem.as_bytes()).context("leaf key")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves `routes` on `listener` until `shutdown`: TLS or (loopback-only) plain HTTP.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    routes: F,
    shutdown: impl std::future::Future<Output = ()>,
) where
    F: warp::Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept");
                    continue;
                }
            },
        };
        let (acceptor, service) =
            (acceptor.clone(), TowerToHyperService::new(warp::service(routes.clone())));
        tokio::spawn(async move {
            let mut first = [0u8; 1];
            let is_tls = matches!(stream.peek(&mut first).await, Ok(1) if first[0] == 0x16);
            let builder = Builder::new(TokioExecutor::new());
            let result = if is_tls {
                match tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    acceptor.accept(stream),
                )
                .await
                {
                    Ok(Ok(tls)) => {
                        builder.serve_connection_with_upgrades(TokioIo::new(tls), service).await
                    }
                    _ => return,
                }
            } else if peer.ip().is_loopback() {
                builder.serve_connection_with_upgrades(TokioIo::new(stream), service).await
            } else {
                tracing::info!(%peer, "plain HTTP from the LAN refused");
                return;
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection");
            }
        });
    }
}
