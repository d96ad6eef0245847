//! Driving Loquat sessions in tests: parameters for a local server, waiting for updates.

use futures::{Stream, StreamExt};
use loquat::ids::AccountId;
use loquat::model::{ServerOverride, Trust};
use loquat::session::connect::ConnectConfig;
use loquat::session::{Handle, SessionParams, Update, UpdateKind};
use loquat::store::Store;
use std::pin::Pin;
use std::time::Duration;
use tokio_xmpp::parsers::jid::BareJid;

pub type Updates = Pin<Box<dyn Stream<Item = Update> + Send>>;

pub fn jid(s: &str) -> BareJid {
    BareJid::new(s).unwrap_or_else(|e| panic!("test JID {s:?}: {e}"))
}

/// Transport settings for `user` on a loopback server that trusts only `ca_pem`.
pub fn local_config(port: u16, ca_pem: String, user: &str, password: &str) -> ConnectConfig {
    ConnectConfig {
        jid: jid(user),
        password: password.to_owned().into(),
        server: ServerOverride {
            host: Some("127.0.0.1".into()),
            port: Some(port),
            direct_tls: false,
        },
        trust: Trust {
            extra_roots_pem: Some(ca_pem),
            pinned_sha256: Vec::new(),
        },
        resource: None,
        allow_plain: false,
    }
}

/// Session parameters for `user` on a loopback server.
pub fn local_params(
    account: AccountId,
    port: u16,
    ca_pem: String,
    user: &str,
    password: &str,
    store: Option<Store>,
) -> SessionParams {
    let c = local_config(port, ca_pem, user, password);
    SessionParams {
        account,
        jid: c.jid,
        password: c.password.as_str().to_owned(),
        server: c.server,
        trust: c.trust,
        resource: None,
        store,
        verify_only: false,
        allow_plain: false,
        omemo_key: None,
    }
}

/// Waits for the first update matching `pick`, failing the test after `secs`.
pub async fn wait_for<T>(
    updates: &mut Updates,
    secs: u64,
    what: &str,
    mut pick: impl FnMut(&UpdateKind) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, updates.next()).await {
            Ok(Some(u)) => {
                if let Some(t) = pick(&u.kind) {
                    return t;
                }
            }
            Ok(None) => panic!("session ended while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

/// Starts a session and waits until it is online; returns its updates, its handle and
/// the SASL mechanism used.
pub async fn online(p: SessionParams) -> (Updates, Handle, String) {
    let mut updates: Updates = Box::pin(loquat::session::run(p));
    let handle = wait_for(&mut updates, 10, "Ready", |k| match k {
        UpdateKind::Ready(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    let mechanism = wait_for(&mut updates, 20, "Online", |k| match k {
        UpdateKind::Online { mechanism, .. } => Some(mechanism.clone()),
        UpdateKind::Failed(e) => panic!("login failed: {e}"),
        _ => None,
    })
    .await;
    (updates, handle, mechanism)
}

/// The first update `pick` accepts within `secs`; an error naming `what` otherwise (the
/// benchmarks report it instead of panicking).
pub async fn next_matching<T>(
    updates: &mut Updates,
    secs: u64,
    what: &str,
    mut pick: impl FnMut(&UpdateKind) -> Option<T>,
) -> Result<T, String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, updates.next()).await {
            Ok(Some(u)) => {
                if let Some(t) = pick(&u.kind) {
                    return Ok(t);
                }
            }
            _ => return Err(format!("no {what} within {secs} s")),
        }
    }
}
