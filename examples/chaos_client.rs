//! A small Loquat client for the kill -9 test of `tests/delivery.rs`: signs in with a
//! data folder of its own, writes `--send N` messages to `--peer` (one every 20 ms, each
//! stored before it is sent, as the app does), receives whatever comes in, and exits
//! after `--linger` seconds. The test kills it at random moments and starts it again.
//!
//! chaos_client --jid a@localhost --password pw --port 5222 --ca ca.crt --data DIR \
//!     --peer b@localhost --send 20 --tag run3 --linger 5

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use futures::StreamExt;
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{ServerOverride, Trust};
use loquat::session::{Command, SessionParams, UpdateKind};
use loquat::store::Store;
use std::process::ExitCode;
use std::time::Duration;
use xmpp_parsers::jid::BareJid;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> ExitCode {
    env_logger::init();
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str| arg(&args, name);
    let (Some(jid), Some(password), Some(data), Some(peer)) = (
        get("--jid"),
        get("--password"),
        get("--data"),
        get("--peer"),
    ) else {
        eprintln!(
            "usage: chaos_client --jid J --password P --data DIR --peer J [--port N --ca FILE --send N --tag T --linger S]"
        );
        return ExitCode::from(2);
    };
    let (Ok(jid), Ok(peer)) = (BareJid::new(&jid), BareJid::new(&peer)) else {
        eprintln!("invalid JID");
        return ExitCode::from(2);
    };
    let ca = match get("--ca").map(std::fs::read_to_string) {
        Some(Ok(pem)) => Some(pem),
        Some(Err(e)) => {
            eprintln!("cannot read the CA file: {e}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let store = match Store::open(std::path::Path::new(&data)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot open the store: {e}");
            return ExitCode::from(1);
        }
    };
    let count: usize = get("--send").and_then(|n| n.parse().ok()).unwrap_or(0);
    let tag = get("--tag").unwrap_or_else(|| "chaos".into());
    let linger: u64 = get("--linger").and_then(|n| n.parse().ok()).unwrap_or(5);
    let params = SessionParams {
        account: AccountId(format!("acc-{jid}")),
        jid,
        password,
        server: ServerOverride {
            host: Some("127.0.0.1".into()),
            port: get("--port").and_then(|p| p.parse().ok()),
            direct_tls: false,
        },
        trust: Trust {
            extra_roots_pem: ca,
            pinned_sha256: Vec::new(),
        },
        resource: Some("chaos".into()),
        store: Some(store),
        verify_only: false,
        allow_plain: false,
        omemo_key: None,
    };
    let mut updates = Box::pin(loquat::session::run(params));
    let handle = loop {
        match updates.next().await {
            Some(u) => {
                if let UpdateKind::Ready(h) = u.kind {
                    break h;
                }
            }
            None => return ExitCode::from(1),
        }
    };
    // Keep the session's updates flowing while we write; note when the catch-up ended.
    let (caught_up_tx, caught_up) = tokio::sync::oneshot::channel::<()>();
    let drain = tokio::spawn(async move {
        let mut caught_up_tx = Some(caught_up_tx);
        while let Some(u) = updates.next().await {
            if matches!(u.kind, UpdateKind::CaughtUp)
                && let Some(tx) = caught_up_tx.take()
            {
                let _ = tx.send(());
            }
        }
    });
    for i in 0..count {
        let _ = handle.send(Command::SendChat {
            to: peer.clone(),
            body: format!("{tag} c #{i:03}"),
            id: LocalMessageId::generate(),
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // With --until-caught-up (the last run of the test), wait for the catch-up to end
    // however long a loaded machine takes (up to a minute), then linger.
    let mut status = ExitCode::SUCCESS;
    if args.iter().any(|a| a == "--until-caught-up")
        && tokio::time::timeout(Duration::from_secs(60), caught_up)
            .await
            .is_err()
    {
        eprintln!("chaos_client: the catch-up did not end within 60 s");
        status = ExitCode::from(3);
    }
    tokio::time::sleep(Duration::from_secs(linger)).await;
    let _ = handle.send(Command::Disconnect);
    tokio::time::sleep(Duration::from_millis(500)).await;
    drain.abort();
    status
}
