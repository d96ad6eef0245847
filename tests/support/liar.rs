//! A lying XMPP server on loopback, for what an honest Prosody never does (issue #20).
//!
//! It speaks just enough of RFC 6120 to reach the point of each lie: a stream header,
//! STARTTLS with a certificate from a throwaway CA (the client trusts it as an extra
//! root, as with the real test servers), then SASL. What the client sent is recorded
//! in [`Liar::heard`], so a test can check, e.g., that no password left the client.

use super::Certs;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// What the server lies about.
#[derive(Clone, Debug)]
pub enum Lie {
    /// Offers no STARTTLS, only PLAIN on the plain-text stream.
    NoStarttls,
    /// After TLS, offers only PLAIN.
    OnlyPlain,
    /// SCRAM-SHA-1 with this iteration count in its first challenge.
    ScramIterations(u32),
    /// SCRAM-SHA-1 that accepts any proof and answers with a wrong server signature.
    WrongServerSignature,
    /// Accepts any PLAIN login and binds `user@localhost/liar`, then sends this XML.
    AfterBind(String),
    /// Like `AfterBind`, but the XML comes this many milliseconds after the bind (once
    /// the session is online).
    Later(String, u64),
    /// Offers stream management: the first connection enables resumption, sends
    /// "first" and drops; the second answers the client's `<resume/>` with this
    /// garbage; later ones are honest and send "second". The counter counts
    /// connections.
    ResumeGarbage(String, Arc<std::sync::atomic::AtomicUsize>),
    /// After the bind, answers every archive query with one message (always the same
    /// archive id) and a `<fin>` that says "not complete" and ends at `c0` whatever
    /// was asked: a forward walk that never moves. The counter counts the queries.
    ArchiveStuck(Arc<std::sync::atomic::AtomicUsize>),
    /// Like `ArchiveStuck`, but every answer is one message under an archive id never
    /// used before (`n1`, `n2`, …) and a `<fin>` that says "not complete" and ends at
    /// it: a forward walk that moves for ever. The counter counts the queries.
    ArchiveInventing(Arc<std::sync::atomic::AtomicUsize>),
    /// An honest SCRAM server for `password` (SCRAM-SHA-256 and SCRAM-SHA-1, with
    /// their `-PLUS` names when `plus`), announcing the channel-binding types `cb`
    /// (XEP-0440) when given. It checks a `p=tls-exporter` binding against its own
    /// TLS connection (RFC 9266) and refuses a `y` flag when it offered `-PLUS`, as
    /// RFC 5802 says. Heard: `[gs2 HEADER]`, then `[binding matches]` or
    /// `[binding differs]` for a bound login. After the login it offers the bind.
    Scram {
        password: &'static str,
        plus: bool,
        cb: Option<&'static str>,
    },
}

pub struct Liar {
    pub port: u16,
    pub ca_pem: String,
    heard: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='liar' from='localhost' version='1.0'>";

impl Liar {
    /// Starts the server on a free loopback port; it answers every connection with
    /// `lie` until the test ends.
    pub async fn start(lie: Lie) -> Liar {
        Liar::start_with_leaf(lie, super::LEAF_SAN, "825").await
    }

    /// Like [`Liar::start`], with a certificate for the names `san`, valid for `days`
    /// (`-1`: expired).
    pub async fn start_with_leaf(lie: Lie, san: &str, days: &str) -> Liar {
        let dir = tempfile::tempdir().expect("temp dir");
        let (acceptor, certs) = tls_acceptor_with(dir.path(), &[], san, days);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let h = heard.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, lie, h) = (acceptor.clone(), lie.clone(), h.clone());
                tokio::spawn(async move {
                    let _ = serve(tcp, acceptor, lie, h).await;
                });
            }
        });
        Liar {
            port,
            ca_pem: certs.ca_pem,
            heard,
            _dir: dir,
        }
    }

    /// Everything the client sent, as text, connection after connection.
    pub fn heard(&self) -> String {
        self.heard.lock().map(|h| h.concat()).unwrap_or_default()
    }
}

/// A TLS acceptor with a fresh throwaway CA's leaf for `localhost` and 127.0.0.1
/// (`alpn`: protocols to offer, e.g. `http/1.1`).
pub fn tls_acceptor(dir: &std::path::Path, alpn: &[&str]) -> (tokio_rustls::TlsAcceptor, Certs) {
    tls_acceptor_with(dir, alpn, super::LEAF_SAN, "825")
}

/// [`tls_acceptor`] with a leaf for the names `san`, valid for `days`.
pub fn tls_acceptor_with(
    dir: &std::path::Path,
    alpn: &[&str],
    san: &str,
    days: &str,
) -> (tokio_rustls::TlsAcceptor, Certs) {
    let certs = Certs::make_leaf(dir, san, days);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&certs.cert_path)
        .expect("read the leaf")
        .collect::<Result<_, _>>()
        .expect("parse the leaf");
    let key = PrivateKeyDer::from_pem_file(&certs.key_path).expect("read the key");
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server certificate");
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), certs)
}

/// An HTTPS server on loopback whose `/start` redirects to `location` (with `{port}`
/// replaced by its own port) and whose other paths answer 200 `secret`. Returns its
/// port, the CA to trust, and the paths requested so far.
pub async fn redirecting_https(
    dir: &std::path::Path,
    location: &'static str,
) -> (u16, String, Arc<Mutex<Vec<String>>>) {
    let (acceptor, certs) = tls_acceptor(dir, &["http/1.1"]);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = paths.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let quiet = Mutex::new(Vec::new());
                let mut buf = Vec::new();
                let Some(head) = until(&mut tls, &mut buf, "\r\n\r\n", &quiet).await else {
                    return;
                };
                let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                if let Ok(mut s) = seen.lock() {
                    s.push(path.clone());
                }
                let answer = if path == "/start" {
                    let to = location.replace("{port}", &port.to_string());
                    format!(
                        "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                } else {
                    "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret"
                        .to_owned()
                };
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, certs.ca_pem, paths)
}

/// Reads until `buf` holds `pat`; returns what came up to and including it.
async fn until<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut Vec<u8>,
    pat: &str,
    heard: &Mutex<Vec<String>>,
) -> Option<String> {
    loop {
        if let Some(i) = buf.windows(pat.len()).position(|w| w == pat.as_bytes()) {
            let rest = buf.split_off(i + pat.len());
            let got = std::mem::replace(buf, rest);
            return Some(String::from_utf8_lossy(&got).into_owned());
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        if let Ok(mut h) = heard.lock() {
            h.push(String::from_utf8_lossy(&chunk[..n]).into_owned());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads until `buf` holds `a` or `b`; returns what came up to and including the one
/// found first.
async fn until_either<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut Vec<u8>,
    a: &str,
    b: &str,
    heard: &Mutex<Vec<String>>,
) -> Option<String> {
    loop {
        let find = |p: &str| {
            buf.windows(p.len())
                .position(|w| w == p.as_bytes())
                .map(|i| i + p.len())
        };
        let end = match (find(a), find(b)) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        if let Some(end) = end {
            let rest = buf.split_off(end);
            let got = std::mem::replace(buf, rest);
            return Some(String::from_utf8_lossy(&got).into_owned());
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        if let Ok(mut h) = heard.lock() {
            h.push(String::from_utf8_lossy(&chunk[..n]).into_owned());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The base64 text of the last element in `xml` (`<auth …>TEXT</auth>`), decoded.
fn payload(xml: &str) -> String {
    let end = xml.rfind("</").unwrap_or(xml.len());
    let start = xml[..end].rfind('>').map_or(0, |i| i + 1);
    let bytes = B64.decode(xml[start..end].trim()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn header<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    buf: &mut Vec<u8>,
    heard: &Mutex<Vec<String>>,
    features: &str,
) -> Option<()> {
    until(s, buf, "<stream:stream", heard).await?;
    until(s, buf, ">", heard).await?;
    let text = format!("{HEADER}<stream:features>{features}</stream:features>");
    s.write_all(text.as_bytes()).await.ok()
}

fn mechanisms(names: &[&str]) -> String {
    let list: String = names
        .iter()
        .map(|n| format!("<mechanism>{n}</mechanism>"))
        .collect();
    format!("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{list}</mechanisms>")
}

async fn serve(
    mut tcp: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    lie: Lie,
    heard: Arc<Mutex<Vec<String>>>,
) -> Option<()> {
    let mut buf = Vec::new();
    if matches!(lie, Lie::NoStarttls) {
        header(&mut tcp, &mut buf, &heard, &mechanisms(&["PLAIN"])).await?;
        // Whatever the client sends now is recorded; it must not be a login.
        until(&mut tcp, &mut buf, "</auth>", &heard).await?;
        return Some(());
    }
    let starttls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>";
    header(&mut tcp, &mut buf, &heard, starttls).await?;
    until(&mut tcp, &mut buf, "<starttls", &heard).await?;
    until(&mut tcp, &mut buf, ">", &heard).await?;
    tcp.write_all(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        .await
        .ok()?;
    let mut tls = acceptor.accept(tcp).await.ok()?;
    let mut buf = Vec::new();
    match lie {
        Lie::NoStarttls => None,
        Lie::Scram { password, plus, cb } => {
            // RFC 9266: 32 bytes, label "EXPORTER-Channel-Binding", empty context.
            let exporter = tls
                .get_ref()
                .1
                .export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", Some(&[]))
                .ok()?;
            let mut names = vec!["SCRAM-SHA-256", "SCRAM-SHA-1"];
            if plus {
                names.extend(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"]);
            }
            let mut features = mechanisms(&names);
            if let Some(cb) = cb {
                features.push_str(&format!(
                    "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>\
                     <channel-binding type='{cb}'/></sasl-channel-binding>"
                ));
            }
            header(&mut tls, &mut buf, &heard, &features).await?;
            let auth = until(&mut tls, &mut buf, "</auth>", &heard).await?;
            let sha256 = auth.contains("SCRAM-SHA-256");
            let ok = if sha256 {
                scram_exchange::<sasl::common::scram::Sha256, _>(
                    &mut tls, &mut buf, &heard, &auth, password, plus, &exporter,
                )
                .await?
            } else {
                scram_exchange::<sasl::common::scram::Sha1, _>(
                    &mut tls, &mut buf, &heard, &auth, password, plus, &exporter,
                )
                .await?
            };
            if !ok {
                return Some(());
            }
            header(
                &mut tls,
                &mut buf,
                &heard,
                "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>",
            )
            .await?;
            until(&mut tls, &mut buf, "</stream:stream>", &heard).await?;
            Some(())
        }
        Lie::OnlyPlain => {
            header(&mut tls, &mut buf, &heard, &mechanisms(&["PLAIN"])).await?;
            let auth = until(&mut tls, &mut buf, "</auth>", &heard).await?;
            if let Ok(mut h) = heard.lock() {
                h.push(format!("[PLAIN decoded: {}]", payload(&auth)));
            }
            tls.write_all(
                b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
            )
            .await
            .ok()
        }
        Lie::ScramIterations(i) => {
            header(&mut tls, &mut buf, &heard, &mechanisms(&["SCRAM-SHA-1"])).await?;
            let auth = until(&mut tls, &mut buf, "</auth>", &heard).await?;
            let first = payload(&auth);
            let nonce = first
                .split(',')
                .find_map(|p| p.strip_prefix("r="))?
                .to_owned();
            let challenge = format!("r={nonce}liar,s={},i={i}", B64.encode(b"salt"));
            let text = format!(
                "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
                B64.encode(challenge)
            );
            tls.write_all(text.as_bytes()).await.ok()?;
            // Wait for an answer the client should never send.
            until(&mut tls, &mut buf, "</response>", &heard).await?;
            Some(())
        }
        Lie::WrongServerSignature => {
            header(&mut tls, &mut buf, &heard, &mechanisms(&["SCRAM-SHA-1"])).await?;
            let auth = until(&mut tls, &mut buf, "</auth>", &heard).await?;
            let first = payload(&auth);
            let nonce = first
                .split(',')
                .find_map(|p| p.strip_prefix("r="))?
                .to_owned();
            let challenge = format!("r={nonce}liar,s={},i=4096", B64.encode(b"salt"));
            let text = format!(
                "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
                B64.encode(challenge)
            );
            tls.write_all(text.as_bytes()).await.ok()?;
            until(&mut tls, &mut buf, "</response>", &heard).await?;
            // Any proof is "fine"; the signature is twenty zero bytes.
            let success = format!("v={}", B64.encode([0u8; 20]));
            let text = format!(
                "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
                B64.encode(success)
            );
            tls.write_all(text.as_bytes()).await.ok()?;
            // A client that believed it restarts the stream; say nothing more.
            until(&mut tls, &mut buf, "<stream:stream", &heard).await?;
            Some(())
        }
        Lie::ResumeGarbage(garbage, count) => {
            let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            header(&mut tls, &mut buf, &heard, &mechanisms(&["PLAIN"])).await?;
            until(&mut tls, &mut buf, "</auth>", &heard).await?;
            tls.write_all(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
                .await
                .ok()?;
            let features =
                "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/>";
            header(&mut tls, &mut buf, &heard, features).await?;
            let first = until_either(&mut tls, &mut buf, "<resume", "</iq>", &heard).await?;
            if first.contains("<resume") {
                until(&mut tls, &mut buf, ">", &heard).await?;
                tls.write_all(garbage.as_bytes()).await.ok()?;
                until(&mut tls, &mut buf, "</stream:stream>", &heard).await?;
                return Some(());
            }
            let at = first.find("id=")? + 3;
            let quote = first[at..].chars().next()?;
            let id: String = first[at + 1..]
                .chars()
                .take_while(|c| *c != quote)
                .collect();
            let bound = format!(
                "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                 <jid>user@localhost/liar</jid></bind></iq>"
            );
            tls.write_all(bound.as_bytes()).await.ok()?;
            let wait = std::time::Duration::from_secs(3);
            if let Ok(Some(_)) =
                tokio::time::timeout(wait, until(&mut tls, &mut buf, "<enable", &heard)).await
            {
                until(&mut tls, &mut buf, ">", &heard).await?;
                tls.write_all(b"<enabled xmlns='urn:xmpp:sm:3' id='sm-liar' resume='true'/>")
                    .await
                    .ok()?;
            }
            let body = if n == 0 { "first" } else { "second" };
            let text = format!(
                "<message from='friend@localhost/x' to='user@localhost/liar' type='chat' id='r{n}'>\
                 <body>{body}</body></message>"
            );
            tls.write_all(text.as_bytes()).await.ok()?;
            if n == 0 {
                // Lost, without a word: the client will try to resume.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                return None;
            }
            until(&mut tls, &mut buf, "</stream:stream>", &heard).await?;
            Some(())
        }
        Lie::ArchiveStuck(ref queries) | Lie::ArchiveInventing(ref queries) => {
            let inventing = matches!(lie, Lie::ArchiveInventing(_));
            header(&mut tls, &mut buf, &heard, &mechanisms(&["PLAIN"])).await?;
            until(&mut tls, &mut buf, "</auth>", &heard).await?;
            tls.write_all(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
                .await
                .ok()?;
            header(
                &mut tls,
                &mut buf,
                &heard,
                "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>",
            )
            .await?;
            let mut bound = false;
            loop {
                let chunk = until(&mut tls, &mut buf, "</iq>", &heard).await?;
                let iq = &chunk[chunk.rfind("<iq")?..];
                let attr = |name: &str| -> Option<String> {
                    let at = iq.find(&format!(" {name}="))? + name.len() + 2;
                    let quote = iq[at..].chars().next()?;
                    Some(iq[at + 1..].chars().take_while(|c| *c != quote).collect())
                };
                let id = attr("id")?;
                if !bound {
                    bound = true;
                    let text = format!(
                        "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                         <jid>user@localhost/liar</jid></bind></iq>"
                    );
                    tls.write_all(text.as_bytes()).await.ok()?;
                    continue;
                }
                if !iq.contains("urn:xmpp:mam:2") {
                    continue;
                }
                let n = queries.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                let queryid = attr("queryid").unwrap_or_default();
                let text = if inventing {
                    format!(
                        "<message to='user@localhost/liar'><result xmlns='urn:xmpp:mam:2' queryid='{queryid}' id='n{n}'>\
                         <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>\
                         <message xmlns='jabber:client' from='friend@localhost/x' to='user@localhost' type='chat' id='m{n}'>\
                         <body>invented {n}</body></message></forwarded></result></message>\
                         <iq type='result' id='{id}'><fin xmlns='urn:xmpp:mam:2'>\
                         <set xmlns='http://jabber.org/protocol/rsm'><first>n{n}</first><last>n{n}</last><count>1000000</count></set>\
                         </fin></iq>"
                    )
                } else {
                    format!(
                        "<message to='user@localhost/liar'><result xmlns='urn:xmpp:mam:2' queryid='{queryid}' id='a1'>\
                         <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>\
                         <message xmlns='jabber:client' from='friend@localhost/x' to='user@localhost' type='chat' id='old'>\
                         <body>archived once</body></message></forwarded></result></message>\
                         <iq type='result' id='{id}'><fin xmlns='urn:xmpp:mam:2'>\
                         <set xmlns='http://jabber.org/protocol/rsm'><first>a1</first><last>c0</last><count>1000</count></set>\
                         </fin></iq>"
                    )
                };
                tls.write_all(text.as_bytes()).await.ok()?;
            }
        }
        Lie::AfterBind(_) | Lie::Later(..) => {
            let (xml, wait_ms) = match lie {
                Lie::Later(xml, ms) => (xml, ms),
                Lie::AfterBind(xml) => (xml, 0),
                _ => return None,
            };
            header(&mut tls, &mut buf, &heard, &mechanisms(&["PLAIN"])).await?;
            until(&mut tls, &mut buf, "</auth>", &heard).await?;
            tls.write_all(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
                .await
                .ok()?;
            let bind = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>";
            header(&mut tls, &mut buf, &heard, bind).await?;
            let iq = until(&mut tls, &mut buf, "</iq>", &heard).await?;
            let at = iq.find("id=")? + 3;
            let quote = iq[at..].chars().next()?;
            let id: String = iq[at + 1..].chars().take_while(|c| *c != quote).collect();
            let bound = format!(
                "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                 <jid>user@localhost/liar</jid></bind></iq>"
            );
            tls.write_all(bound.as_bytes()).await.ok()?;
            tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
            tls.write_all(xml.as_bytes()).await.ok()?;
            // Keep the connection open, reading whatever the client says.
            until(&mut tls, &mut buf, "</stream:stream>", &heard).await?;
            Some(())
        }
    }
}

fn note(heard: &Mutex<Vec<String>>, text: String) {
    if let Ok(mut h) = heard.lock() {
        h.push(text);
    }
}

async fn fail<S: AsyncWrite + Unpin>(
    s: &mut S,
    heard: &Mutex<Vec<String>>,
    why: &str,
) -> Option<bool> {
    note(heard, format!("[refused: {why}]"));
    s.write_all(b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>")
        .await
        .ok()?;
    Some(false)
}

/// The server side of one SCRAM login (RFC 5802) after the client's `<auth>`;
/// true when the client proved the password and got our signature.
async fn scram_exchange<
    H: sasl::common::scram::ScramProvider,
    S: AsyncRead + AsyncWrite + Unpin,
>(
    s: &mut S,
    buf: &mut Vec<u8>,
    heard: &Mutex<Vec<String>>,
    auth: &str,
    password: &str,
    offered_plus: bool,
    exporter: &[u8],
) -> Option<bool> {
    let first = payload(auth);
    // gs2 header: flag, authzid, then the bare message.
    let mut parts = first.splitn(3, ',');
    let (flag, authzid, bare) = (parts.next()?, parts.next()?, parts.next()?);
    let gs2 = format!("{flag},{authzid},");
    note(heard, format!("[gs2 {gs2}]"));
    let bound = flag == "p=tls-exporter";
    if flag == "y" && offered_plus {
        return fail(s, heard, "y flag although -PLUS was offered").await;
    }
    if bound != auth.contains("-PLUS") {
        return fail(s, heard, "binding flag and mechanism disagree").await;
    }
    let nonce = bare
        .split(',')
        .find_map(|p| p.strip_prefix("r="))?
        .to_owned();
    let salt = b"liar-salt";
    let server_first = format!("r={nonce}liar,s={},i=4096", B64.encode(salt));
    let text = format!(
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
        B64.encode(&server_first)
    );
    s.write_all(text.as_bytes()).await.ok()?;
    let response = until(s, buf, "</response>", heard).await?;
    let fin = payload(&response);
    let without_proof = fin.rsplit_once(",p=")?.0.to_owned();
    let proof = B64.decode(fin.rsplit_once(",p=")?.1).ok()?;
    let c = without_proof
        .split(',')
        .find_map(|p| p.strip_prefix("c="))?;
    let mut expected_cb = gs2.as_bytes().to_vec();
    if bound {
        expected_cb.extend_from_slice(exporter);
    }
    if B64.decode(c).ok()? != expected_cb {
        if bound {
            note(heard, "[binding differs]".to_owned());
        }
        return fail(s, heard, "channel binding").await;
    }
    if bound {
        note(heard, "[binding matches]".to_owned());
    }
    let salted = H::derive(
        &sasl::common::Password::Plain(password.to_owned()),
        salt,
        4096,
    )
    .ok()?;
    let client_key = H::hmac(b"Client Key", &salted).ok()?;
    let server_key = H::hmac(b"Server Key", &salted).ok()?;
    let auth_message = format!("{bare},{server_first},{without_proof}");
    let signature = H::hmac(auth_message.as_bytes(), &H::hash(&client_key)).ok()?;
    let expected: Vec<u8> = client_key
        .iter()
        .zip(&signature)
        .map(|(a, b)| a ^ b)
        .collect();
    if proof != expected {
        return fail(s, heard, "wrong proof").await;
    }
    let v = H::hmac(auth_message.as_bytes(), &server_key).ok()?;
    let text = format!(
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
        B64.encode(format!("v={}", B64.encode(v)))
    );
    s.write_all(text.as_bytes()).await.ok()?;
    Some(true)
}
