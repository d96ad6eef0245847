//! Group chat benchmark (plain binary, `harness = false`); prints its figures.
//!
//! `cargo bench --bench muc`
//!
//! (a) A room whose archive holds N messages (default 10,000; `LOQUAT_BENCH_ROOM=N`),
//!     on the test Prosody (muc_mam, internal storage, 50 results per page at most):
//!     - a newcomer joins: time to Joined, and to the newest page on screen (first
//!       `History` update); backfill stops after 40 pages;
//!     - a member who was away while the N messages were posted comes back: time to
//!       Joined, and to all N stored (forward catch-up, every page).
//! (b) A room of 500 occupants in the UI: heap held by the room state, and the time to
//!     build and lay out its view with the occupant list (iced_test, tiny-skia).
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it is a smoke run with 300
//! archived messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[path = "../tests/support/mod.rs"]
mod support;

use futures::{Stream, StreamExt};
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::session::rooms::RoomUpdate;
use loquat::session::{Command, Handle, SessionParams, Update, UpdateKind};
use loquat::store::Store;
use std::alloc::{GlobalAlloc, Layout, System};
use std::pin::Pin;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};
use support::TestServer;
use support::muc::params;
use support::session::next_matching;
use xmpp_parsers::jid::BareJid;

type Error = Box<dyn std::error::Error>;
type Updates = Pin<Box<dyn Stream<Item = Update> + Send>>;

/// Counts live heap bytes, for the memory figure of (b).
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; we only count.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout as asked of us.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

async fn start(p: SessionParams) -> Result<(Updates, Handle), Error> {
    let mut u: Updates = Box::pin(loquat::session::run(p));
    let h = next_matching(&mut u, 10, "Ready", |k| match k {
        UpdateKind::Ready(h) => Some(h.clone()),
        _ => None,
    })
    .await?;
    next_matching(&mut u, 20, "Online", |k| {
        matches!(k, UpdateKind::Online { .. }).then_some(())
    })
    .await?;
    Ok((u, h))
}

fn join(h: &Handle, room: &BareJid, nick: &str) -> Result<(), Error> {
    h.send(Command::JoinRoom {
        room: room.clone(),
        nick: nick.into(),
        password: None,
    })?;
    Ok(())
}

async fn joined(u: &mut Updates) -> Result<(), Error> {
    Ok(next_matching(u, 30, "Joined", |k| {
        matches!(k, UpdateKind::Room(RoomUpdate::Joined { .. })).then_some(())
    })
    .await?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn archive(n: usize) -> Result<(), Error> {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("ba");
    let (b, pb) = server.fresh_user("bb");
    let (c, pc) = server.fresh_user("bc");
    let room = BareJid::new(&format!(
        "{}@conference.localhost",
        support::unique_local("bench")
    ))?;
    let store_a = Store::open_temporary()?;

    let (mut ub, hb) = start(params(&server, &b, &pb, None)).await?;
    join(&hb, &room, "bob")?;
    joined(&mut ub).await?;
    {
        let (mut ua, ha) = start(params(&server, &a, &pa, Some(store_a.clone()))).await?;
        join(&ha, &room, "alice")?;
        joined(&mut ua).await?;
        hb.send(Command::SendRoom {
            room: room.clone(),
            body: "before".into(),
            id: LocalMessageId::generate(),
        })?;
        next_matching(&mut ua, 20, "first message", |k| match k {
            UpdateKind::Message(m) => (m.body == "before").then_some(()),
            UpdateKind::History(ms) => ms.iter().any(|m| m.body == "before").then_some(()),
            _ => None,
        })
        .await?;
        ha.send(Command::Disconnect)?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let t = Instant::now();
    for i in 0..n {
        hb.send(Command::SendRoom {
            room: room.clone(),
            body: format!("archived message {i:05}"),
            id: LocalMessageId::generate(),
        })?;
    }
    let last = format!("archived message {:05}", n - 1);
    next_matching(&mut ub, 600, "the last reflection", |k| match k {
        UpdateKind::Delivery { .. } => None,
        UpdateKind::Message(m) if m.body == last => Some(()),
        _ => None,
    })
    .await
    .ok();
    println!(
        "set-up: {n} messages posted to the room in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // A newcomer: the newest page first.
    let t = Instant::now();
    let (mut uc, hc) = start(params(&server, &c, &pc, Some(Store::open_temporary()?))).await?;
    let online = t.elapsed();
    join(&hc, &room, "carol")?;
    joined(&mut uc).await?;
    let in_room = t.elapsed();
    let shown = next_matching(&mut uc, 120, "newest page", |k| match k {
        UpdateKind::History(ms) if !ms.is_empty() => Some(ms.len()),
        _ => None,
    })
    .await?;
    let newest = t.elapsed();
    println!(
        "(a) newcomer: online {:.0} ms, joined {:.0} ms, newest page ({shown} messages) on screen {:.0} ms",
        ms(online),
        ms(in_room),
        ms(newest)
    );

    // The member who was away: every message since the last one stored.
    let t = Instant::now();
    let (mut ua, _ha) = start(params(&server, &a, &pa, Some(store_a.clone()))).await?;
    joined(&mut ua).await?;
    let in_room = t.elapsed();
    let mut count = 0usize;
    let mut first_shown = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(900);
    while count < n {
        match tokio::time::timeout_at(deadline, ua.next()).await {
            Ok(Some(u)) => match u.kind {
                UpdateKind::Message(m) if m.conversation.is_room() => {
                    count += 1;
                    first_shown.get_or_insert_with(|| t.elapsed());
                }
                _ => {}
            },
            _ => return Err(format!("catch-up stalled at {count} of {n}").into()),
        }
    }
    let total = t.elapsed();
    let stored = store_a
        .latest(
            &AccountId(format!("acc-{a}")),
            &ConversationId::Room(room.clone()),
            n + 10,
        )?
        .len();
    println!(
        "(a) returning member: joined {:.0} ms, first message on screen {:.0} ms, all {n} caught up {:.0} ms ({:.0} messages/s); stored {stored} (expected {})",
        ms(in_room),
        ms(first_shown.unwrap_or_default()),
        ms(total),
        n as f64 / total.as_secs_f64(),
        n + 1
    );
    if stored != n + 1 {
        return Err(format!("stored {stored} messages, expected {}", n + 1).into());
    }
    Ok(())
}

#[cfg(feature = "gui")]
fn occupants() -> Result<(), Error> {
    use loquat::model::Show;
    use loquat::session::rooms::{Affiliation, Occupant, Role};
    use loquat::ui::i18n::Lang;
    use loquat::ui::room::joined::Room;
    const N: usize = 500;
    let room = BareJid::new("big@conference.example.org")?;
    let occupants: Vec<Occupant> = (0..N)
        .map(|i| Occupant {
            nick: format!("person {i:03}"),
            role: if i % 50 == 0 {
                Role::Moderator
            } else {
                Role::Participant
            },
            affiliation: if i % 10 == 0 {
                Affiliation::Member
            } else {
                Affiliation::None
            },
            real_jid: None,
            show: Show::Online,
        })
        .collect();
    let update = RoomUpdate::Joined {
        room: room.clone(),
        nick: "person 000".into(),
        occupants,
    };
    let before = LIVE.load(Ordering::Relaxed);
    let mut r = Room::new(AccountId("bench".into()), room, "person 000".into(), None);
    r.apply(&update);
    drop(update);
    let held = LIVE.load(Ordering::Relaxed) - before;
    let mut times = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let ui = iced_test::simulator(r.view(Lang::En));
        times.push(t.elapsed());
        drop(ui);
    }
    times.sort();
    println!(
        "(b) {N} occupants: room state holds {:.1} KiB; view built and laid out in median {:.1} ms (min {:.1}, max {:.1}, 20 runs)",
        held as f64 / 1024.0,
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let real_run = std::env::args().any(|a| a == "--bench");
    let n: usize = match std::env::var("LOQUAT_BENCH_ROOM") {
        Ok(v) => v.parse()?,
        Err(_) if real_run => 10_000,
        Err(_) => 300,
    };
    #[cfg(feature = "gui")]
    occupants()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(archive(n))
}
