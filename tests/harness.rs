//! Proves the test harness itself: the servers start on their own ports, speak XMPP,
//! present a certificate that rustls accepts with only the test CA as root, and
//! register users.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use support::{Ejabberd, TestServer};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

const TLS_NS: &str = "urn:ietf:params:xml:ns:xmpp-tls";

#[test]
fn prosody_offers_starttls_and_a_certificate_rustls_accepts() {
    let server = TestServer::start();

    for domain in ["localhost", "example.test"] {
        let features = support::stream_features(server.c2s_port(), domain);
        assert!(
            features.contains("<stream:features") && features.contains("starttls"),
            "no STARTTLS offered for {domain}: {features}\n{}",
            server.log_tail()
        );
        assert!(features.contains(TLS_NS), "{features}");

        let after = starttls_features(server.c2s_port(), domain, &server.ca_pem());
        assert!(after.contains("SCRAM-SHA-1"), "{domain}: {after}");
        assert!(!after.contains("starttls"), "{domain}: {after}");

        // Direct TLS (XEP-0368): TLS first, then the stream.
        let mut tls = tls_connect(server.direct_tls_port(), domain, trusting(&server.ca_pem()));
        let direct = support::read_features(&mut tls, domain);
        assert!(direct.contains("mechanisms"), "{domain}: {direct}");
    }

    // HTTPS (upload slots): same certificate.
    let mut https = tls_connect(server.https_port(), "localhost", trusting(&server.ca_pem()));
    https
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("send request");
    let mut response = Vec::new();
    let _ = https.read_to_end(&mut response);
    assert!(
        response.starts_with(b"HTTP/1.1 "),
        "{}",
        String::from_utf8_lossy(&response)
    );

    // And verification is real: without the test CA the handshake fails.
    let strangers = trusting_nothing();
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(strangers, name).expect("client");
    let tcp = TcpStream::connect(("127.0.0.1", server.direct_tls_port())).expect("connect");
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let err = tls
        .conn
        .complete_io(&mut tls.sock)
        .expect_err("a handshake without the test CA must fail");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
}

#[test]
fn prosody_registers_users() {
    let server = TestServer::start();

    server.register("alice", "localhost", "secret-1");
    assert!(server.user_exists("alice", "localhost"));
    assert!(!server.user_exists("bob", "localhost"));
    // prosodyctl register on an existing user succeeds and sets the new password.
    server.register("alice", "localhost", "secret-2");

    server.register("carol", "example.test", "secret-3");
    assert!(server.user_exists("carol", "example.test"));
    assert!(!server.user_exists("carol", "localhost"));

    // A host the server does not serve is refused.
    assert!(server.try_register("dave", "nowhere.test", "x").is_err());

    let (a, pa) = server.fresh_user("Fresh");
    let (b, pb) = server.fresh_user("Fresh");
    assert_ne!(a, b);
    assert_ne!(pa, pb);
    assert!(a.starts_with("fresh-") && a.ends_with("@localhost"), "{a}");
    let local = a.trim_end_matches("@localhost");
    assert!(server.user_exists(local, "localhost"), "{a}");
    let (c, _) = server.fresh_user_on("other", "example.test");
    assert!(c.ends_with("@example.test"), "{c}");

    // Dropping the server stops it and removes its folder.
    let (pid, port, dir) = (server.pid(), server.c2s_port(), server.dir().to_owned());
    drop(server);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(!support::port_open(port));
    assert!(!dir.exists());
}

#[test]
#[should_panic(expected = "Install the Debian package `no-such-package`")]
fn a_missing_server_binary_fails_with_the_package_name() {
    support::require_binary("loquat-no-such-binary", "no-such-package");
}

#[test]
fn ejabberd_starts_and_registers() {
    let server = Ejabberd::start();

    let features = support::stream_features(server.c2s_port(), "localhost");
    assert!(
        features.contains("starttls") && features.contains(TLS_NS),
        "{features}\n{}",
        server.log_tail()
    );
    let after = starttls_features(server.c2s_port(), "localhost", &server.ca_pem());
    assert!(after.contains("mechanisms"), "{after}");

    server.register("alice", "secret");
    let again = server.try_register("alice", "other");
    assert!(
        again.as_ref().is_err_and(|e| e.contains("conflict")),
        "registering twice should be a conflict: {again:?}"
    );
    let (a, _) = server.fresh_user("fresh");
    assert!(a.starts_with("fresh-") && a.ends_with("@localhost"), "{a}");

    let port = server.c2s_port();
    drop(server);
    assert!(
        !support::port_open(port),
        "ejabberd still listens after drop"
    );
}

/// A rustls client that trusts only `ca_pem`.
fn trusting(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(cert.expect("CA PEM parses"))
            .expect("CA is a valid root");
    }
    client_config(roots)
}

fn trusting_nothing() -> Arc<rustls::ClientConfig> {
    client_config(rustls::RootCertStore::empty())
}

fn client_config(roots: rustls::RootCertStore) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// TLS from the first byte, verified for `name`.
fn tls_connect(port: u16, name: &str, config: Arc<rustls::ClientConfig>) -> Tls {
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tls_over(tcp, name, config)
}

fn tls_over(tcp: TcpStream, name: &str, config: Arc<rustls::ClientConfig>) -> Tls {
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let server_name = ServerName::try_from(name.to_owned()).expect("server name");
    let conn = rustls::ClientConnection::new(config, server_name).expect("TLS client");
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
        panic!(
            "TLS handshake with {name} on port {port} failed: {e}",
            port = tls.sock.peer_addr().map(|a| a.port()).unwrap_or(0)
        );
    }
    tls
}

/// Plain stream, `<starttls/>`, verified TLS handshake, new stream: returns the
/// features offered after TLS.
fn starttls_features(port: u16, domain: &str, ca_pem: &str) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let features = support::read_features(&mut tcp, domain);
    assert!(features.contains("starttls"), "{features}");
    tcp.write_all(format!("<starttls xmlns='{TLS_NS}'/>").as_bytes())
        .expect("send starttls");
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte, so nothing of the TLS handshake is read by mistake.
    while !String::from_utf8_lossy(&got).contains("/>") {
        match tcp.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            other => panic!(
                "no answer to <starttls/> ({other:?}): {}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    let answer = String::from_utf8_lossy(&got);
    assert!(answer.contains("<proceed"), "{answer}");
    let mut tls = tls_over(tcp, domain, trusting(ca_pem));
    support::read_features(&mut tls, domain)
}
