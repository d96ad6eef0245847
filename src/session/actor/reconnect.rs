//! Connecting and reconnecting: our transport and our retry policy, handed to the
//! stanza stream as its connector.

use crate::session::SessionError;
use crate::session::connect::{self, ConnectConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_xmpp::stanzastream::Connection;

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What the reconnect task tells the actor.
pub(super) enum Report {
    Attempt(u32),
    Authenticated(String),
    Retry(SessionError, Duration),
    Fatal(SessionError),
}

fn jitter(d: Duration) -> Duration {
    // Up to 25% on top, so many clients do not reconnect in lockstep.
    let r = (uuid::Uuid::new_v4().as_u128() % 1000) as u64;
    d + d.mul_f64(r as f64 / 4000.0)
}

/// The connector handed to the stanza stream: our transport, our retry policy.
/// Authentication and certificate failures are final: they are reported and the
/// attempt loop stops until the user acts (no retry loop).
pub(super) fn reconnector(
    cfg: ConnectConfig,
    reports: mpsc::UnboundedSender<Report>,
    no_retry: bool,
) -> impl FnMut(Option<String>, oneshot::Sender<Connection>) + Send + 'static {
    // `no_retry` holds only until a login works: a checked session handed over to the
    // account (`session::handover`) reconnects like any other.
    let no_retry = Arc::new(AtomicBool::new(no_retry));
    move |_location, mut slot| {
        let cfg = cfg.clone();
        let reports = reports.clone();
        let no_retry = no_retry.clone();
        tokio::spawn(async move {
            let mut attempt = 0u32;
            let mut delay = Duration::from_secs(1);
            loop {
                attempt += 1;
                let _ = reports.send(Report::Attempt(attempt));
                let result = tokio::select! {
                    r = connect::connect(&cfg) => r,
                    _ = slot.closed() => return,
                };
                match result {
                    Ok(auth) => {
                        no_retry.store(false, Ordering::Relaxed);
                        let _ = reports.send(Report::Authenticated(auth.mechanism));
                        let _ = slot.send(auth.connection);
                        return;
                    }
                    Err(e) if e.is_fatal() || no_retry.load(Ordering::Relaxed) => {
                        let _ = reports.send(Report::Fatal(e));
                        // Keep the slot until the session is dropped: dropping it would
                        // make the stanza stream treat this as a crash.
                        slot.closed().await;
                        return;
                    }
                    Err(e) => {
                        let wait = jitter(delay);
                        let _ = reports.send(Report::Retry(e, wait));
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = slot.closed() => return,
                        }
                        delay = (delay * 2).min(MAX_BACKOFF);
                    }
                }
            }
        });
    }
}
