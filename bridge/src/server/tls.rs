//! The bridge's own certificates and the TLS side of the listener.
//!
//! On first start the bridge makes a CA (ECDSA P-256) and a leaf certificate for its names
//! in the data directory; tablets install the CA (`bridge tls export-ca`), whose key never
//! leaves the directory (0600; on Windows an ACL for the service account and
//! Administrators only).
//!
//! The CA is name-constrained to the bridge's own names and addresses (a private LAN
//! address's whole /24 or /64, so a moved bridge keeps its CA): installed on a tablet, it
//! can vouch for nothing else. The leaf is for server authentication only and
//! lives at most [`LEAF_DAYS`] days (the browsers' limit is 398); it is re-issued when the
//! names change, when fewer than [`RENEW_DAYS`] days are left (checked at start and twice a
//! day while serving) and by `bridge tls rotate`. The CA stays, so tablets keep trusting
//! the bridge; only names outside its constraints need a new CA (`rotate --ca`, then
//! install it again).
//!
//! One port serves both: a connection that starts with a TLS handshake record (`0x16`) is
//! TLS; anything else is plain HTTP, accepted only from loopback (the kiosk on the same PC).

use anyhow::{Context as _, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints,
};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The leaf's validity, in days.
pub const LEAF_DAYS: u64 = 397;
/// Re-issue the leaf when fewer days than this are left.
pub const RENEW_DAYS: u64 = 30;
/// The CA's validity: long, since tablets install it by hand.
const CA_DAYS: u64 = 20 * 365;

/// The PEM files the bridge keeps.
#[derive(Debug, Clone)]
pub struct Certificates {
    pub ca_pem: String,
    pub leaf_pem: String,
    pub leaf_key_pem: String,
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)?;
    restrict_to_owner(path)
}

/// 0600 on Unix. On Windows: no inherited entries, full control for the account the
/// bridge runs as (the service account) and for SYSTEM and Administrators, nobody else.
#[cfg(unix)]
pub(crate) fn restrict_to_owner(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(windows)]
pub(crate) fn restrict_to_owner(path: &Path) -> Result<()> {
    let user = std::env::var("USERNAME").unwrap_or_else(|_| "SYSTEM".into());
    let status = std::process::Command::new("icacls")
        .arg(path)
        .args(["/inheritance:r", "/grant:r"])
        .arg(format!("{user}:F"))
        .args(["/grant:r", "*S-1-5-18:F", "/grant:r", "*S-1-5-32-544:F"])
        .stdout(std::process::Stdio::null())
        .status()
        .context("icacls")?;
    anyhow::ensure!(status.success(), "icacls could not restrict {}", path.display());
    Ok(())
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn restrict_to_owner(_: &Path) -> Result<()> {
    Ok(())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn at(unix: u64) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(unix as i64).context("time out of range")
}

/// What the CA is constrained to for one of the bridge's names: a DNS name (and its
/// subdomains); a private LAN address's network — an IPv4 address in 10/8, 172.16/12 or
/// 192.168/16 gives its /24, an IPv6 ULA or link-local address its /64 — so that tablets keep
/// trusting the bridge when DHCP or staff move it within the clinic's LAN (only the leaf is
/// re-issued); any other address exactly.
fn constraint_for(name: &str) -> String {
    match name.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) if v4.is_private() => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Ok(IpAddr::V6(v6))
            if v6.segments()[0] & 0xfe00 == 0xfc00 || v6.segments()[0] & 0xffc0 == 0xfe80 =>
        {
            let s = v6.segments();
            format!("{}/64", std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        _ => name.trim_matches(['[', ']']).to_string(),
    }
}

/// A constraint entry that is an address: `(network, prefix)`. A bare address (what CAs
/// made before networks were constrained recorded) is exact.
fn subnet(entry: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = match entry.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix.parse::<u8>().ok()?)),
        None => (entry, None),
    };
    let ip: IpAddr = addr.trim_matches(['[', ']']).parse().ok()?;
    let full = if ip.is_ipv4() { 32 } else { 128 };
    Some((ip, prefix.unwrap_or(full).min(full)))
}

fn in_subnet((network, prefix): (IpAddr, u8), ip: IpAddr) -> bool {
    match (network, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// The constraint entries as name-constraint subtrees.
fn permitted(entries: &[String]) -> Vec<GeneralSubtree> {
    entries
        .iter()
        .map(|entry| match subnet(entry) {
            Some((network, prefix)) => {
                GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(network, prefix))
            }
            None => GeneralSubtree::DnsName(entry.clone()),
        })
        .collect()
}

fn ca_params(names: &[String], not_before: u64) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, "madoguchi bridge local CA");
    params.distinguished_name.push(DnType::OrganizationName, "madoguchi");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.name_constraints =
        Some(NameConstraints { permitted_subtrees: permitted(names), excluded_subtrees: vec![] });
    params.not_before = at(not_before)?;
    params.not_after = at(not_before + CA_DAYS * 86_400)?;
    Ok(params)
}

/// The names every leaf certificate carries: the bridge on this machine.
pub fn loopback_names() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
}

/// Whether a CA constrained to `ca_names` may vouch for `name` (a DNS name matches itself
/// and its subdomains; an address must lie in a constrained network or be the address).
fn covered(ca_names: &[String], name: &str) -> bool {
    match name.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => ca_names.iter().filter_map(|c| subnet(c)).any(|net| in_subnet(net, ip)),
        Err(_) => ca_names
            .iter()
            .filter(|c| subnet(c).is_none())
            .any(|c| c == name || name.ends_with(&format!(".{c}"))),
    }
}

/// What to make anew.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotate {
    pub leaf: bool,
    pub ca: bool,
}

/// Loads or creates the CA for `names`; returns its certificate (PEM). A CA whose
/// constraints do not cover `names` is replaced (tablets must install it again: logged).
pub fn ensure_ca(dir: &Path, names: &[String], rotate: Rotate) -> Result<String> {
    std::fs::create_dir_all(dir)?;
    let (ca_cert, ca_key, ca_names) =
        (dir.join("ca.pem"), dir.join("ca.key.pem"), dir.join("ca.names"));
    let constrained: Vec<String> = std::fs::read_to_string(&ca_names)
        .map(|t| t.lines().map(String::from).collect())
        .unwrap_or_default();
    let uncovered: Vec<&String> = names.iter().filter(|n| !covered(&constrained, n)).collect();
    let exists = ca_cert.exists() && ca_key.exists();
    if !exists || !uncovered.is_empty() || rotate.ca {
        if exists {
            tracing::warn!(names = ?uncovered, "a new local CA: install it on every tablet again (bridge tls export-ca)");
        }
        // The constraints name everything the CA has vouched for and now must.
        // (`rotate --ca` starts over from today's names.)
        let mut all = if rotate.ca { Vec::new() } else { constrained.clone() };
        for name in names {
            let entry = constraint_for(name);
            if !covered(&all, name) && !all.contains(&entry) {
                all.push(entry);
            }
        }
        let key = KeyPair::generate().context("CA key")?;
        let not_before = unix_now().saturating_sub(3600);
        let cert = ca_params(&all, not_before)?.self_signed(&key)?;
        write_private(&ca_key, &key.serialize_pem())?;
        std::fs::write(&ca_cert, cert.pem())?;
        std::fs::write(&ca_names, all.join("\n"))?;
        std::fs::write(dir.join("ca.not_before"), not_before.to_string())?;
        // A new CA signs a new leaf.
        let _ = std::fs::remove_file(dir.join("leaf.names"));
    }
    restrict_to_owner(&ca_key)?;
    Ok(std::fs::read_to_string(&ca_cert)?)
}

/// The CA's SHA-256 fingerprint (of its DER), 64 uppercase hex digits: what the pairing QR
/// carries and what `/health` states, so a tablet can tell its bridge's CA from another.
pub fn ca_fingerprint(ca_pem: &str) -> Result<String> {
    use rustls::pki_types::pem::PemObject;
    use sha2::Digest as _;
    let der = rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .context("CA certificate")?;
    Ok(sha2::Sha256::digest(der.as_ref()).iter().map(|b| format!("{b:02X}")).collect())
}

/// A fingerprint as Android's certificate details show it: `AB:CD:…`.
pub fn fingerprint_for_people(hex: &str) -> String {
    hex.as_bytes().chunks(2).map(|pair| String::from_utf8_lossy(pair)).collect::<Vec<_>>().join(":")
}

/// When the current leaf stops being valid (unix seconds), if known.
pub fn leaf_expiry(dir: &Path) -> Option<u64> {
    std::fs::read_to_string(dir.join("leaf.not_after")).ok()?.trim().parse().ok()
}

/// Loads or creates the CA and a leaf for `names` (DNS names or IP addresses); re-issues
/// the leaf when the names changed, when it is due for renewal, or when asked.
pub fn ensure_with(dir: &Path, names: &[String], rotate: Rotate) -> Result<Certificates> {
    let ca_pem = ensure_ca(dir, names, rotate)?;
    let ca_key = dir.join("ca.key.pem");
    let (leaf_cert, leaf_key, leaf_names) =
        (dir.join("leaf.pem"), dir.join("leaf.key.pem"), dir.join("leaf.names"));
    let wanted = names.join("\n");
    let now = unix_now();
    let due = leaf_expiry(dir).is_none_or(|end| end < now + RENEW_DAYS * 86_400);
    if rotate.leaf
        || due
        || std::fs::read_to_string(&leaf_names).ok().as_deref() != Some(wanted.as_str())
        || !leaf_cert.exists()
        || !leaf_key.exists()
    {
        let ca_key_pair = KeyPair::from_pem(&std::fs::read_to_string(&ca_key)?)?;
        // The issuer's name and key are what a leaf records; the CA's own parameters are
        // rebuilt identically rather than parsed back.
        let constrained: Vec<String> =
            std::fs::read_to_string(dir.join("ca.names"))?.lines().map(String::from).collect();
        let ca_not_before = std::fs::read_to_string(dir.join("ca.not_before"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(now);
        let issuer = Issuer::new(ca_params(&constrained, ca_not_before)?, ca_key_pair);
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.to_vec())?;
        params.distinguished_name.push(DnType::CommonName, "madoguchi bridge");
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let not_before = now.saturating_sub(3600);
        // 397 days from the backdated start: the whole validity is at most 397 days.
        let not_after = not_before + LEAF_DAYS * 86_400;
        params.not_before = at(not_before)?;
        params.not_after = at(not_after)?;
        let cert = params.signed_by(&key, &issuer)?;
        write_private(&leaf_key, &key.serialize_pem())?;
        std::fs::write(&leaf_cert, cert.pem())?;
        std::fs::write(&leaf_names, &wanted)?;
        std::fs::write(dir.join("leaf.not_after"), not_after.to_string())?;
        tracing::info!(days = LEAF_DAYS, "leaf certificate issued");
    }
    Ok(Certificates {
        ca_pem,
        leaf_pem: std::fs::read_to_string(&leaf_cert)?,
        leaf_key_pem: std::fs::read_to_string(&leaf_key)?,
    })
}

/// [`ensure_with`] without forcing anything.
pub fn ensure(dir: &Path, names: &[String]) -> Result<Certificates> {
    ensure_with(dir, names, Rotate::default())
}

/// How often a running bridge checks whether its leaf is due.
pub const RENEW_CHECK: Duration = Duration::from_secs(12 * 3600);

/// The acceptor a running listener uses; swapped when the leaf is renewed.
pub type SharedAcceptor = Arc<std::sync::RwLock<tokio_rustls::TlsAcceptor>>;

/// Re-checks the leaf every [`RENEW_CHECK`] and swaps in a renewed one: connections made
/// afterwards get it, open ones keep theirs.
pub fn spawn_renewal(dir: std::path::PathBuf, names: Vec<String>, shared: SharedAcceptor) {
    tokio::spawn(async move {
        let mut current = leaf_expiry(&dir);
        loop {
            tokio::time::sleep(RENEW_CHECK).await;
            let (d, n) = (dir.clone(), names.clone());
            let renewed = tokio::task::spawn_blocking(move || ensure(&d, &n)).await;
            match renewed {
                Ok(Ok(certs)) if leaf_expiry(&dir) != current => match acceptor(&certs) {
                    Ok(a) => {
                        if let Ok(mut slot) = shared.write() {
                            *slot = a;
                        }
                        current = leaf_expiry(&dir);
                    }
                    Err(e) => tracing::warn!(error = %e, "renewed leaf unusable"),
                },
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "leaf renewal failed; the old one serves"),
                Err(_) => {}
            }
        }
    });
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

/// The routes' service with the connection's peer address in each request's extensions
/// (`warp::ext::get::<Peer>()`): a route for the kiosk alone asks for a loopback peer.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: super::Peer,
}

impl<S, B> tower_service::Service<warp::http::Request<B>> for WithPeer<S>
where
    S: tower_service::Service<warp::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: warp::http::Request<B>) -> Self::Future {
        request.extensions_mut().insert(self.peer);
        self.inner.call(request)
    }
}

/// Serves `routes` on `listener` until `shutdown`: TLS or (loopback-only) plain HTTP.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    acceptor: SharedAcceptor,
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
        let Ok(acceptor) = acceptor.read().map(|a| a.clone()) else { return };
        let service = TowerToHyperService::new(WithPeer {
            inner: warp::service(routes.clone()),
            peer: super::Peer(peer),
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(lan: &str) -> Vec<String> {
        let mut n = loopback_names();
        n.push(lan.into());
        n
    }

    fn read(dir: &Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file)).unwrap()
    }

    /// `openssl verify -purpose sslserver` of the leaf under the CA (OpenSSL applies the
    /// name constraints).
    fn verifies(dir: &Path) -> bool {
        std::process::Command::new("openssl")
            .args(["verify", "-purpose", "sslserver", "-CAfile"])
            .arg(dir.join("ca.pem"))
            .arg(dir.join("leaf.pem"))
            .output()
            .is_ok_and(|o| o.status.success())
    }

    #[test]
    fn the_leaf_follows_the_names_and_the_calendar_and_the_ca_stays_within_the_lan() {
        let dir = std::env::temp_dir().join(format!("madoguchi-tls-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        ensure(&dir, &names("192.168.1.10")).unwrap();
        let (ca, leaf) = (read(&dir, "ca.pem"), read(&dir, "leaf.pem"));
        assert_eq!(read(&dir, "ca.names").lines().last(), Some("192.168.1.0/24"));
        assert!(verifies(&dir));
        // Nothing changed: nothing re-issued.
        ensure(&dir, &names("192.168.1.10")).unwrap();
        assert_eq!(read(&dir, "leaf.pem"), leaf);
        // Due for renewal: a new leaf under the same CA.
        let soon = unix_now() + 5 * 86_400;
        std::fs::write(dir.join("leaf.not_after"), soon.to_string()).unwrap();
        ensure(&dir, &names("192.168.1.10")).unwrap();
        let renewed = read(&dir, "leaf.pem");
        assert_ne!(renewed, leaf);
        assert_eq!(read(&dir, "ca.pem"), ca);
        assert!(leaf_expiry(&dir).unwrap() > unix_now() + (LEAF_DAYS - 2) * 86_400);
        // The bridge moved within the LAN: a new leaf for the new address, the same CA.
        ensure(&dir, &names("192.168.1.23")).unwrap();
        assert_ne!(read(&dir, "leaf.pem"), renewed);
        assert_eq!(read(&dir, "ca.pem"), ca, "tablets keep trusting the bridge");
        assert!(verifies(&dir), "the new address is inside the CA's constraints");
        // Another network altogether: only a new CA can vouch for it.
        ensure(&dir, &names("10.20.0.5")).unwrap();
        assert_ne!(read(&dir, "ca.pem"), ca);
        assert!(verifies(&dir));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn constraints_cover_a_private_network_and_public_addresses_exactly() {
        assert_eq!(constraint_for("192.168.1.10"), "192.168.1.0/24");
        assert_eq!(constraint_for("10.77.0.1"), "10.77.0.0/24");
        assert_eq!(constraint_for("[fd12:3456::1]"), "fd12:3456::/64");
        assert_eq!(constraint_for("203.0.113.7"), "203.0.113.7");
        assert_eq!(constraint_for("madoguchi.local"), "madoguchi.local");
        let entries = ["192.168.1.0/24".to_string(), "127.0.0.1".into(), "localhost".into()];
        assert!(covered(&entries, "192.168.1.200"));
        assert!(!covered(&entries, "192.168.2.1"));
        assert!(covered(&entries, "127.0.0.1"));
        assert!(!covered(&entries, "127.0.0.2"));
        assert!(covered(&entries, "localhost"));
        assert!(!covered(&entries, "evil.example"));
    }
}
