//! The soak run: both sides write at random moments for minutes while random faults hit
//! A's link and, now and then, the server; then the oracle counts.

use crate::oracle::{self, Side};
use crate::support::{FaultProxy, TestServer};
use loquat::model::Direction;
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn random_below(max: u64) -> u64 {
    (uuid::Uuid::new_v4().as_u128() % u128::from(max.max(1))) as u64
}

fn random_ms(min: u64, max: u64) -> Duration {
    Duration::from_millis(min + random_below(max - min))
}

/// The fault in force on A's link, and when it ends.
enum Fault {
    None,
    /// `drop_at`: when the server gives up on the silent link, if it does.
    BlackHole {
        until: Instant,
        drop_at: Option<Instant>,
    },
}

#[derive(Default)]
struct Tally {
    resets: usize,
    holes: usize,
    restarts: usize,
}

/// sent / received / lost / duplicated of one direction, as a line.
fn count(what: &str, sent: &[String], received: &[String]) -> (String, usize, usize) {
    let got: HashSet<&String> = received.iter().collect();
    let lost = sent.iter().filter(|s| !got.contains(s)).count();
    let duplicated = received.len() - got.len();
    (
        format!(
            "{what}: sent {} / received {} / lost {lost} / duplicated {duplicated}",
            sent.len(),
            received.len()
        ),
        lost,
        duplicated,
    )
}

pub async fn run(minutes: f64) {
    let started = Instant::now();
    // Sessions hibernate 5 s on the server (Prosody's default is 600 s): a black hole
    // longer than that ends in a new session with catch-up, a shorter one in resumption.
    let mut server = TestServer::start_with("smacks_hibernation_time = 5");
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = FaultProxy::start(server.c2s_port());
    let mut a = Side::new(&server, "soak-a", dir.path());
    let mut b = Side::new(&server, "soak-b", dir.path());
    a.port = proxy.port();
    a.sign_in(&server).await;
    b.sign_in(&server).await;
    let (ja, jb) = (a.jid.clone(), b.jid.clone());

    let end = started + Duration::from_secs_f64(minutes * 60.0);
    let mut fault = Fault::None;
    let mut next_fault = Instant::now() + random_ms(2_000, 8_000);
    let mut last_restart = Instant::now();
    let mut tally = Tally::default();
    let (mut na, mut nb) = (0usize, 0usize);
    let log = |what: &str| eprintln!("[soak {:6.1} s] {what}", started.elapsed().as_secs_f64());
    while Instant::now() < end {
        tokio::time::sleep(random_ms(20, 400)).await;
        if random_below(2) == 0 {
            a.send(&jb, format!("soak a #{na:05}"));
            na += 1;
        } else {
            b.send(&ja, format!("soak b #{nb:05}"));
            nb += 1;
        }
        let now = Instant::now();
        match &mut fault {
            Fault::BlackHole { until, drop_at } => {
                if drop_at.is_some_and(|t| now >= t) {
                    proxy.drop_server_side();
                    *drop_at = None;
                    log("black hole: the server drops its side");
                }
                if now >= *until {
                    proxy.restore();
                    fault = Fault::None;
                    next_fault = now + random_ms(3_000, 12_000);
                    log("restored");
                }
            }
            Fault::None if now >= next_fault => {
                let roll = random_below(100);
                if roll < 12 && now.duration_since(last_restart) > Duration::from_secs(30) {
                    log("Prosody killed (SIGKILL) and started again");
                    tokio::task::block_in_place(|| server.restart());
                    last_restart = Instant::now();
                    tally.restarts += 1;
                    next_fault = Instant::now() + random_ms(5_000, 15_000);
                } else if roll < 55 {
                    proxy.cut_all();
                    tally.resets += 1;
                    log("reset");
                    next_fault = now + random_ms(2_000, 10_000);
                } else {
                    let hole = random_ms(1_000, 20_000);
                    proxy.black_hole();
                    tally.holes += 1;
                    log(&format!("black hole for {:.1} s", hole.as_secs_f64()));
                    // Half the time the server gives up on the silent link after a
                    // moment (its own timeouts, compressed), the other half it keeps
                    // writing into it until the hole ends.
                    fault = Fault::BlackHole {
                        until: now + hole,
                        drop_at: (random_below(2) == 0).then(|| now + random_ms(300, 1_000)),
                    };
                }
            }
            Fault::None => {}
        }
    }
    proxy.restore();
    log(&format!(
        "faults end: {} resets, {} black holes, {} server restarts; waiting for both sides",
        tally.resets, tally.holes, tally.restarts
    ));

    // Wait (without failing yet) until both sides have everything or 3 minutes passed,
    // so the counts below are final.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let at_b = b.stored(&ja, Direction::Incoming);
        let at_a = a.stored(&jb, Direction::Incoming);
        let done =
            a.sent.iter().all(|m| at_b.contains(m)) && b.sent.iter().all(|m| at_a.contains(m));
        if done || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (ab, lost_ab, dup_ab) = count("A->B", &a.sent, &b.stored(&ja, Direction::Incoming));
    let (ba, lost_ba, dup_ba) = count("B->A", &b.sent, &a.stored(&jb, Direction::Incoming));
    let (own_a, _, _) = count("A's own", &a.sent, &a.stored(&jb, Direction::Outgoing));
    let (own_b, _, _) = count("B's own", &b.sent, &b.stored(&ja, Direction::Outgoing));
    println!(
        "soak {minutes} min ({} resets, {} black holes, {} server restarts): {ab}; {ba} ({own_a}; {own_b})",
        tally.resets, tally.holes, tally.restarts
    );
    if lost_ab + dup_ab + lost_ba + dup_ba > 0 {
        let at_b = b.stored(&ja, Direction::Incoming);
        let at_a = a.stored(&jb, Direction::Incoming);
        let missing: Vec<&String> = a
            .sent
            .iter()
            .filter(|m| !at_b.contains(m))
            .chain(b.sent.iter().filter(|m| !at_a.contains(m)))
            .collect();
        eprintln!("lost: {missing:?}");
    }
    // Then the oracle's full check (outboxes empty, nothing failed, the server archive
    // read by a new device). Order is reported, not required: after the server was
    // killed it is not guaranteed (README, "Delivery guarantees").
    oracle::check_with(&server, &a, &b, 120, false).await;
    eprintln!("soak run: {:.1} s in all", started.elapsed().as_secs_f64());
}
