//! Our own transport to the server: TCP (SRV or override), STARTTLS or direct TLS with
//! our own trust decisions, then SASL with our own mechanism policy.
//!
//! Why not tokio-xmpp's connectors: they trust only the system roots (no per-account
//! root or pinned certificate, no "this certificate is not trusted" details), report
//! `tls-exporter` channel binding that makes Prosody fall back to PLAIN, and retry
//! authentication failures forever. See ../shared/crate-notes.md. Our own channel
//! binding policy is in [`super::binding`].

use crate::model::{ServerOverride, Trust};
use crate::session::SessionError;
use futures::{SinkExt, StreamExt};
use sasl::common::Credentials;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::BufStream;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::WebPkiServerVerifier,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};
use tokio_xmpp::connect::DnsConfig;
use tokio_xmpp::parsers::{jid::BareJid, jid::Jid, ns, starttls};
use tokio_xmpp::stanzastream::Connection;
use tokio_xmpp::xmlstream::{
    ReadError, StreamHeader, Timeouts, XmppStream, XmppStreamElement, initiate_stream,
};

/// How long one connection attempt (TCP + TLS + SASL) may take before we call the
/// server unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Stream timeouts: a silent link is probed after 15 s and declared dead 10 s later,
/// so a dead connection is noticed within 30 s even when the last data came in a few
/// seconds before the link died (measured 28.4 s with 20 s + 10 s in
/// `tests/delivery.rs`, too close to the promise).
pub fn timeouts() -> Timeouts {
    Timeouts {
        read_timeout: Duration::from_secs(15),
        response_timeout: Duration::from_secs(10),
    }
}

/// Everything needed to open an authenticated stream for one account. No `Debug`:
/// it holds the password, which is wiped from memory when the value is dropped.
#[derive(Clone)]
pub struct ConnectConfig {
    pub jid: BareJid,
    pub password: zeroize::Zeroizing<String>,
    pub server: ServerOverride,
    pub trust: Trust,
    pub resource: Option<String>,
    /// The account allows PLAIN login when the server offers no SCRAM (off unless the
    /// user turned it on: see [`allow_plain_pref`]).
    pub allow_plain: bool,
}

/// The store preference (`"true"` or absent) that allows PLAIN login for `account`
/// when its server offers no SCRAM.
pub fn allow_plain_pref(account: &crate::ids::AccountId) -> String {
    format!("account.{}.allow_plain_login", account.0)
}

/// Whether `account` allows PLAIN login (its store preference; off when unreadable).
pub fn allows_plain(store: &crate::store::Store, account: &crate::ids::AccountId) -> bool {
    store
        .pref(&allow_plain_pref(account))
        .ok()
        .flatten()
        .as_deref()
        == Some("true")
}

/// A stream ready for resource binding, and what was negotiated.
pub struct Authenticated {
    pub connection: Connection,
    /// The SASL mechanism that was used (`…-PLUS`: bound to this TLS connection).
    pub mechanism: String,
}

/// Picks the mechanism we will use from what the server offers, on a connection
/// without channel binding (see [`super::binding::choose`] for the whole choice).
/// PLAIN hands the password itself to whoever is at the other end of the TLS
/// connection (a pinned certificate or a compromised CA makes that a man in the middle
/// who offers only PLAIN): only when the server offers no SCRAM and the account allows
/// it. ANONYMOUS is never used, since we always log in with a password.
pub fn choose_mechanism(
    offered: &BTreeSet<String>,
    allow_plain: bool,
) -> Result<&'static str, SessionError> {
    super::binding::choose(offered, None, None, allow_plain).map(|login| login.mechanism)
}

/// The RFC 9266 `tls-exporter` channel binding of this connection: TLS 1.3 only.
fn tls_exporter(tls: &TlsStream<TcpStream>) -> Option<Vec<u8>> {
    let conn = tls.get_ref().1;
    if conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        return None;
    }
    conn.export_keying_material(
        vec![0u8; super::binding::EXPORTER_LEN],
        super::binding::EXPORTER_LABEL,
        Some(&[]),
    )
    .map_err(|e| log::warn!("no tls-exporter channel binding: {e}"))
    .ok()
}

/// Opens a TLS stream to the account's server and authenticates.
pub async fn connect(cfg: &ConnectConfig) -> Result<Authenticated, SessionError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, connect_inner(cfg)).await {
        Ok(r) => r,
        Err(_) => Err(SessionError::Timeout),
    }
}

async fn connect_inner(cfg: &ConnectConfig) -> Result<Authenticated, SessionError> {
    let domain = cfg.jid.domain().as_str().to_owned();
    let node = cfg
        .jid
        .node()
        .map(|n| n.as_str().to_owned())
        .ok_or_else(|| SessionError::Protocol {
            detail: "the address has no user part".to_owned(),
        })?;
    // Off the async threads: the first call reads the system's root certificates.
    let trust = cfg.trust.clone();
    let tls = tokio::task::spawn_blocking(move || TlsSetup::new(&trust))
        .await
        .map_err(|e| SessionError::Protocol {
            detail: format!("TLS set-up failed: {e}"),
        })??;
    let timeouts = timeouts();

    let tls_stream = open_tls(&domain, &cfg.server, &tls, timeouts).await?;
    let exporter = tls_exporter(&tls_stream);

    let stream = initiate_stream(
        BufStream::new(super::xml_guard::XmlGuard::new(tls_stream)),
        ns::JABBER_CLIENT,
        header(&domain),
        timeouts,
    )
    .await
    .map_err(io_unreachable)?;
    let (features, stream): (_, XmppStream<_>) =
        stream.recv_features().await.map_err(recv_features_error)?;

    let login = super::binding::choose(
        &features.sasl_mechanisms,
        features.sasl_cb.as_ref().map(|cb| cb.types.as_slice()),
        exporter,
        cfg.allow_plain,
    )?;
    if let Some(why) = &login.unbound {
        log::warn!("{}: logging in without channel binding: {why}", cfg.jid);
    }
    log::debug!(
        "{}: SASL {} with gs2 header {:?}",
        cfg.jid,
        login.mechanism,
        String::from_utf8_lossy(login.binding.header())
    );
    let mechanism = login.mechanism;
    let creds = Credentials::default()
        .with_username(node)
        // The sasl crate keeps its own copy for the login and does not wipe it.
        .with_password(cfg.password.as_str().to_owned())
        .with_channel_binding(login.binding);
    let stream = super::sasl_login::login(stream, mechanism, creds).await?;
    let stream = stream
        .send_header(header(&domain))
        .await
        .map_err(io_unreachable)?;
    let (features, stream): (_, XmppStream<_>) =
        stream.recv_features().await.map_err(recv_features_error)?;

    let identity: Jid = match &cfg.resource {
        Some(r) => cfg
            .jid
            .with_resource_str(r)
            .map(Jid::from)
            .unwrap_or_else(|_| Jid::from(cfg.jid.clone())),
        None => Jid::from(cfg.jid.clone()),
    };
    Ok(Authenticated {
        connection: Connection {
            stream: stream.box_stream(),
            features,
            identity,
        },
        mechanism: mechanism.to_owned(),
    })
}

/// A stream before any login, for in-band registration (XEP-0077, see
/// `session::register`): TLS with the account's own trust decisions, as for a login,
/// then raw elements both ways. Also the server's features (`in_band_registration`).
pub type Unauthenticated = tokio_xmpp::xmlstream::XmlStream<
    Box<dyn tokio_xmpp::connect::AsyncReadAndWrite + Send + 'static>,
    xmpp_parsers::minidom::Element,
>;

/// Opens a TLS stream to `domain`'s server without logging in (see [`Unauthenticated`]).
pub async fn open_unauthenticated(
    domain: &str,
    server: &ServerOverride,
    trust: &Trust,
) -> Result<
    (
        tokio_xmpp::parsers::stream_features::StreamFeatures,
        Unauthenticated,
    ),
    SessionError,
> {
    let open = async {
        let trust = trust.clone();
        let tls = tokio::task::spawn_blocking(move || TlsSetup::new(&trust))
            .await
            .map_err(|e| SessionError::Protocol {
                detail: format!("TLS set-up failed: {e}"),
            })??;
        let timeouts = timeouts();
        let tls_stream = open_tls(domain, server, &tls, timeouts).await?;
        let stream = initiate_stream(
            BufStream::new(super::xml_guard::XmlGuard::new(tls_stream)),
            ns::JABBER_CLIENT,
            header(domain),
            timeouts,
        )
        .await
        .map_err(io_unreachable)?;
        let (features, stream) = stream
            .recv_features::<xmpp_parsers::minidom::Element>()
            .await
            .map_err(recv_features_error)?;
        Ok((features, stream.box_stream()))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, open).await {
        Ok(r) => r,
        Err(_) => Err(SessionError::Timeout),
    }
}

fn header(domain: &str) -> StreamHeader<'static> {
    StreamHeader {
        to: Some(Cow::Owned(domain.to_owned())),
        from: None,
        id: None,
    }
}

/// Direct TLS (XEP-0368) when the server is configured or advertised for it, STARTTLS
/// otherwise. A certificate problem is final; an unreachable direct-TLS endpoint falls
/// back to STARTTLS.
async fn open_tls(
    domain: &str,
    server: &ServerOverride,
    tls: &TlsSetup,
    timeouts: Timeouts,
) -> Result<TlsStream<TcpStream>, SessionError> {
    let overridden = server.host.as_ref().is_some_and(|h| !h.trim().is_empty());
    if overridden || server.direct_tls {
        let tcp = tcp_connect(domain, server).await?;
        return if server.direct_tls {
            tls.handshake(tcp, domain).await
        } else {
            starttls(tcp, domain, tls, timeouts).await
        };
    }
    for (host, port) in srv_targets(domain, "_xmpps-client._tcp").await {
        let Ok(tcp) = DnsConfig::no_srv(&host, port).resolve().await else {
            continue;
        };
        match tls.handshake(tcp, domain).await {
            Ok(s) => return Ok(s),
            Err(e @ SessionError::Certificate { .. }) => return Err(e),
            Err(e) => log::info!("direct TLS to {host}:{port} failed ({e}); trying STARTTLS"),
        }
    }
    let tcp = tcp_connect(domain, server).await?;
    starttls(tcp, domain, tls, timeouts).await
}

/// SRV targets of `service` for `domain`, by priority then weight (best first).
async fn srv_targets(domain: &str, service: &str) -> Vec<(String, u16)> {
    use hickory_resolver::proto::rr::RData;
    if domain.parse::<std::net::IpAddr>().is_ok() {
        return Vec::new();
    }
    let resolver = match hickory_resolver::TokioResolver::builder_tokio().and_then(|b| b.build()) {
        Ok(r) => r,
        Err(e) => {
            log::info!("no DNS resolver: {e}");
            return Vec::new();
        }
    };
    let Ok(lookup) = resolver.srv_lookup(format!("{service}.{domain}.")).await else {
        return Vec::new();
    };
    let mut records: Vec<(u16, u16, String, u16)> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(srv) => Some((
                srv.priority,
                srv.weight,
                srv.target.to_ascii().trim_end_matches('.').to_owned(),
                srv.port,
            )),
            _ => None,
        })
        // "." as target means the service is decidedly not available.
        .filter(|(_, _, host, _)| !host.is_empty())
        .collect();
    records.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    records.into_iter().map(|(_, _, h, p)| (h, p)).collect()
}

async fn tcp_connect(domain: &str, server: &ServerOverride) -> Result<TcpStream, SessionError> {
    let dns = match &server.host {
        Some(host) if !host.trim().is_empty() => {
            let port = server
                .port
                .unwrap_or(if server.direct_tls { 5223 } else { 5222 });
            DnsConfig::no_srv(host.trim(), port)
        }
        _ if server.direct_tls => DnsConfig::srv_xmpps(domain),
        _ => DnsConfig::srv_default_client(domain),
    };
    dns.resolve().await.map_err(|e| SessionError::Unreachable {
        detail: match e {
            tokio_xmpp::Error::Io(io) => io.to_string(),
            tokio_xmpp::Error::Disconnected => {
                "no address of the server accepted a connection".to_owned()
            }
            other => other.to_string(),
        },
    })
}

/// Plain-text stream header, `<starttls/>`, `<proceed/>`, then our TLS handshake.
async fn starttls(
    tcp: TcpStream,
    domain: &str,
    tls: &TlsSetup,
    timeouts: Timeouts,
) -> Result<TlsStream<TcpStream>, SessionError> {
    let stream = initiate_stream(
        BufStream::new(super::xml_guard::XmlGuard::new(tcp)),
        ns::JABBER_CLIENT,
        header(domain),
        timeouts,
    )
    .await
    .map_err(io_unreachable)?;
    let (features, mut stream): (_, XmppStream<_>) =
        stream.recv_features().await.map_err(recv_features_error)?;
    if !features.can_starttls() {
        return Err(super::insecure::Insecure::NoStarttls.error());
    }
    stream
        .send(&XmppStreamElement::Starttls(starttls::Nonza::Request(
            starttls::Request,
        )))
        .await
        .map_err(io_unreachable)?;
    loop {
        match stream.next().await {
            Some(Ok(el)) => match el.into_read_error() {
                Ok(XmppStreamElement::Starttls(starttls::Nonza::Proceed(_))) => break,
                Ok(XmppStreamElement::Starttls(_)) => {
                    return Err(super::insecure::Insecure::StarttlsRefused.error());
                }
                Ok(_) | Err(ReadError::SoftTimeout) => continue,
                Err(ReadError::HardError(e)) => return Err(io_unreachable(e)),
                Err(ReadError::ParseError(e)) => {
                    return Err(SessionError::Protocol {
                        detail: e.to_string(),
                    });
                }
                Err(ReadError::StreamFooterReceived) => return Err(closed()),
            },
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(ReadError::HardError(e))) => return Err(io_unreachable(e)),
            Some(Err(ReadError::ParseError(e))) => {
                return Err(SessionError::Protocol {
                    detail: e.to_string(),
                });
            }
            Some(Err(ReadError::StreamFooterReceived)) | None => return Err(closed()),
        }
    }
    let tcp = stream.into_inner().into_inner().into_inner();
    tls.handshake(tcp, domain).await
}

fn closed() -> SessionError {
    SessionError::Unreachable {
        detail: "the server closed the connection".to_owned(),
    }
}

fn io_unreachable(e: std::io::Error) -> SessionError {
    SessionError::Unreachable {
        detail: e.to_string(),
    }
}

fn recv_features_error(e: tokio_xmpp::xmlstream::RecvFeaturesError) -> SessionError {
    match e {
        tokio_xmpp::xmlstream::RecvFeaturesError::Io(e) => io_unreachable(e),
        tokio_xmpp::xmlstream::RecvFeaturesError::StreamError(e) => SessionError::Protocol {
            detail: format!("the server ended the stream: {e}"),
        },
    }
}

pub(super) fn sasl_condition_name(cond: &tokio_xmpp::parsers::sasl::DefinedCondition) -> String {
    use tokio_xmpp::parsers::sasl::DefinedCondition as C;
    match cond {
        C::Aborted => "aborted",
        C::AccountDisabled => "account-disabled",
        C::CredentialsExpired => "credentials-expired",
        C::EncryptionRequired => "encryption-required",
        C::IncorrectEncoding => "incorrect-encoding",
        C::InvalidAuthzid => "invalid-authzid",
        C::InvalidMechanism => "invalid-mechanism",
        C::MalformedRequest => "malformed-request",
        C::MechanismTooWeak => "mechanism-too-weak",
        C::NotAuthorized => "not-authorized",
        C::TemporaryAuthFailure => "temporary-auth-failure",
    }
    .to_owned()
}

/// Details of the last certificate that failed verification, for the error message.
#[derive(Debug, Clone, Default)]
struct Rejected {
    reason: String,
    fingerprint: String,
    names: Vec<String>,
}

/// Lower-case hex SHA-256 of a DER certificate.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The DNS names a certificate was issued for (subjectAltName).
pub fn certificate_names(der: &CertificateDer<'_>) -> Vec<String> {
    match webpki::EndEntityCert::try_from(der) {
        Ok(cert) => cert.valid_dns_names().map(str::to_owned).collect(),
        Err(_) => Vec::new(),
    }
}

/// Verifies with webpki against the system roots plus the account's extra roots, and
/// accepts a certificate the user pinned. Remembers why a certificate was rejected.
#[derive(Debug)]
struct AccountVerifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    pinned: Vec<String>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    rejected: Arc<Mutex<Option<Rejected>>>,
}

impl ServerCertVerifier for AccountVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fingerprint = fingerprint_sha256(end_entity);
        if self
            .pinned
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&fingerprint))
        {
            return Ok(ServerCertVerified::assertion());
        }
        let result = match &self.inner {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::General(
                "no trusted root certificates are available".to_owned(),
            )),
        };
        if let Err(e) = &result
            && let Ok(mut slot) = self.rejected.lock()
        {
            *slot = Some(Rejected {
                reason: describe_tls_error(e),
                fingerprint,
                names: certificate_names(end_entity),
            });
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn describe_tls_error(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => {
                "it was issued by an authority this account does not trust".to_owned()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "it was issued for a different name".to_owned()
            }
            C::Expired | C::ExpiredContext { .. } => "it has expired".to_owned(),
            C::NotValidYet | C::NotValidYetContext { .. } => "it is not valid yet".to_owned(),
            C::Revoked => "it was revoked".to_owned(),
            C::BadSignature => "its signature is invalid".to_owned(),
            C::BadEncoding => "it cannot be read".to_owned(),
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "it is not meant for servers".to_owned()
            }
            C::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
                "the server presents an authority certificate as its own".to_owned()
            }
            other => format!("it was rejected ({other:?})"),
        },
        other => other.to_string(),
    }
}

/// The system's root certificates, read and parsed once per process.
///
/// Reading them costs blocking file I/O and a few milliseconds of CPU; doing that on
/// every connection attempt made accounts signing in together wait for each other. A
/// root added to the system while Loquat runs is seen after a restart.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            log::warn!("reading the system's root certificates: {e}");
        }
        let mut roots = RootCertStore::empty();
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        log::debug!("{added} system root certificates ({ignored} unusable)");
        roots
    })
}

/// The TLS client configuration of one account.
struct TlsSetup {
    config: Arc<ClientConfig>,
    rejected: Arc<Mutex<Option<Rejected>>>,
}

impl TlsSetup {
    fn new(trust: &Trust) -> Result<TlsSetup, SessionError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = system_roots().clone();
        if let Some(pem) = &trust.extra_roots_pem {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                match cert {
                    Ok(cert) => {
                        if let Err(e) = roots.add(cert) {
                            log::warn!("ignoring an extra root certificate: {e}");
                        }
                    }
                    Err(e) => log::warn!("ignoring unreadable extra root certificate: {e}"),
                }
            }
        }
        let inner = if roots.is_empty() {
            None
        } else {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| log::warn!("cannot use the root certificates: {e}"))
                .ok()
        };
        let rejected = Arc::new(Mutex::new(None));
        let verifier = Arc::new(AccountVerifier {
            inner,
            pinned: trust.pinned_sha256.clone(),
            provider: provider.clone(),
            rejected: rejected.clone(),
        });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SessionError::Protocol {
                detail: format!("TLS set-up failed: {e}"),
            })?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(TlsSetup {
            config: Arc::new(config),
            rejected,
        })
    }

    async fn handshake(
        &self,
        tcp: TcpStream,
        domain: &str,
    ) -> Result<TlsStream<TcpStream>, SessionError> {
        let name = ServerName::try_from(domain.to_owned()).map_err(|_| SessionError::Protocol {
            detail: format!("\"{domain}\" is not a valid server name"),
        })?;
        match TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
        {
            Ok(s) => Ok(s),
            Err(e) => {
                let rejected = self.rejected.lock().ok().and_then(|mut r| r.take());
                Err(match rejected {
                    Some(r) => SessionError::Certificate {
                        reason: r.reason,
                        fingerprint_sha256: r.fingerprint,
                        names: r.names,
                    },
                    None => SessionError::Unreachable {
                        detail: format!("TLS handshake failed: {e}"),
                    },
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn prefers_scram_and_never_anonymous() {
        for allow_plain in [false, true] {
            assert_eq!(
                choose_mechanism(
                    &set(&["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"]),
                    allow_plain
                ),
                Ok("SCRAM-SHA-256")
            );
            assert_eq!(
                choose_mechanism(&set(&["PLAIN", "SCRAM-SHA-1"]), allow_plain),
                Ok("SCRAM-SHA-1")
            );
            assert!(matches!(
                choose_mechanism(&set(&["ANONYMOUS"]), allow_plain),
                Err(SessionError::InsecureLogin { .. })
            ));
            assert!(matches!(
                choose_mechanism(&set(&[]), allow_plain),
                Err(SessionError::InsecureLogin { .. })
            ));
        }
    }

    #[test]
    fn plain_only_when_the_account_allows_it() {
        assert!(matches!(
            choose_mechanism(&set(&["PLAIN"]), false),
            Err(SessionError::InsecureLogin { detail }) if detail.contains("PLAIN")
        ));
        assert_eq!(choose_mechanism(&set(&["PLAIN"]), true), Ok("PLAIN"));
    }

    #[test]
    fn fingerprint_is_lower_hex_sha256() {
        let fp = fingerprint_sha256(b"abc");
        assert_eq!(
            fp,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
