//! A scripted XMPP peer built on Loquat's own session: signs in, optionally sends one
//! message, optionally waits for one, then exits. The end-to-end test uses it as the
//! "other person"; it is also handy against a local server.
//!
//! peer --jid bob@localhost --password pw --host 127.0.0.1 --port 5222 --ca ca.crt \
//!      [--send-to alice@localhost --send "hello"] [--expect-from alice@localhost --expect "hi"] \
//!      [--timeout 60]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use futures::StreamExt;
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{Direction, ServerOverride, Trust};
use loquat::session::{Command, SessionParams, UpdateKind};
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
    let (Some(jid), Some(password)) = (arg(&args, "--jid"), arg(&args, "--password")) else {
        eprintln!(
            "usage: peer --jid JID --password PW [--host H --port P --ca FILE] [--send-to JID --send TEXT] [--expect-from JID --expect TEXT] [--timeout SECS]"
        );
        return ExitCode::from(2);
    };
    let Ok(jid) = BareJid::new(&jid) else {
        eprintln!("invalid JID");
        return ExitCode::from(2);
    };
    let ca = match arg(&args, "--ca").map(std::fs::read_to_string) {
        Some(Ok(pem)) => Some(pem),
        Some(Err(e)) => {
            eprintln!("cannot read the CA file: {e}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let parse_jid = |name: &str| arg(&args, name).and_then(|s| BareJid::new(&s).ok());
    let send = parse_jid("--send-to").zip(arg(&args, "--send"));
    let expect = parse_jid("--expect-from").zip(arg(&args, "--expect"));
    let timeout = arg(&args, "--timeout")
        .and_then(|t| t.parse().ok())
        .unwrap_or(60u64);

    let params = SessionParams {
        account: AccountId("peer".into()),
        jid,
        password,
        server: ServerOverride {
            host: arg(&args, "--host"),
            port: arg(&args, "--port").and_then(|p| p.parse().ok()),
            direct_tls: false,
        },
        trust: Trust {
            extra_roots_pem: ca,
            pinned_sha256: Vec::new(),
        },
        resource: Some("peer".into()),
        store: None,
        verify_only: false,
        allow_plain: false,
        omemo_key: None,
    };
    let work = async {
        let mut updates = Box::pin(loquat::session::run(params));
        let mut handle = None;
        let mut sent = false;
        while let Some(u) = updates.next().await {
            match u.kind {
                UpdateKind::Ready(h) => handle = Some(h),
                UpdateKind::Online {
                    bound, mechanism, ..
                } => {
                    println!("online as {bound} ({mechanism})");
                    if let (Some(h), Some((to, body)), false) = (&handle, &send, sent) {
                        // Give the other side's roster/presence a moment to settle.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let _ = h.send(Command::SendChat {
                            to: to.clone(),
                            body: body.clone(),
                            id: LocalMessageId::generate(),
                        });
                        println!("sent to {to}: {body}");
                        sent = true;
                    }
                    if expect.is_none() {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        return true;
                    }
                }
                UpdateKind::Message(m) if m.direction == Direction::Incoming => {
                    println!("received from {}: {}", m.peer(), m.body);
                    if let Some((from, body)) = &expect
                        && *m.peer() == *from
                        && m.body == *body
                    {
                        return true;
                    }
                }
                UpdateKind::Failed(e) => {
                    eprintln!("failed: {e}");
                    return false;
                }
                _ => {}
            }
        }
        false
    };
    match tokio::time::timeout(Duration::from_secs(timeout), work).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(_) => {
            eprintln!("timed out after {timeout} s");
            ExitCode::FAILURE
        }
    }
}
