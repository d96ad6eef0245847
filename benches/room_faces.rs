//! Faces in crowded rooms (issue #18); prints its figures.
//!
//! `cargo bench --no-default-features --bench room_faces`
//!
//! 50 rooms of 1,000 occupants each announce a photo hash (XEP-0153 in their room
//! presence) to the session's sans-io book (`session::room_faces`), a tenth of them a
//! picture the cache already has; then every question is answered. Printed: the faces
//! kept (at most 200 a room), the most questions waiting and in flight at any time, the
//! time per presence, and the resident memory of the book against the 50,000 faces it
//! would hold without the cap. Without `--bench` (`cargo test --all-targets`) it runs 2
//! rooms of 300 as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code

use loquat::session::room_faces::{MAX_PER_ROOM, RoomFaces, Step};
use loquat::xmpp::avatar::{AvatarHash, PhotoUpdate};
use std::time::Instant;
use xmpp_parsers::jid::BareJid;

fn status_kib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

fn main() {
    let real_run = std::env::args().any(|a| a == "--bench");
    let (rooms, people) = if real_run {
        (50u32, 1_000u32)
    } else {
        (2, 300)
    };
    let rooms_jids: Vec<BareJid> = (0..rooms)
        .map(|r| BareJid::new(&format!("room{r}@conference.example.org")).unwrap())
        .collect();
    let hashes: Vec<AvatarHash> = (0..people)
        .map(|i| AvatarHash::of(&i.to_be_bytes()))
        .collect();
    let nicks: Vec<String> = (0..people).map(|i| format!("occupant-{i}")).collect();
    let rss_before = status_kib("VmRSS:");

    let mut book = RoomFaces::default();
    let (mut shown, mut queued, mut most_pending, mut most_out) = (0usize, 0usize, 0, 0);
    let mut out: Vec<(u64, loquat::session::room_faces::OccupantFetch)> = Vec::new();
    let mut token = 0u64;
    let t = Instant::now();
    for room in &rooms_jids {
        for (i, nick) in nicks.iter().enumerate() {
            let cached = i % 10 == 0;
            let update = PhotoUpdate::Hash(hashes[i].clone());
            match book.photo(room, nick, &update, |_| cached) {
                Step::Show { .. } => shown += 1,
                Step::Queued => queued += 1,
                Step::Nothing | Step::Clear { .. } => {}
            }
            // The actor sends what it may, and answers come back now and then.
            while let Some(f) = book.next_fetch() {
                token += 1;
                book.sent(token, f.clone());
                out.push((token, f));
            }
            most_out = most_out.max(out.len());
            most_pending = most_pending.max(book.pending());
            if i % 3 == 0
                && let Some((tok, f)) = out.pop()
            {
                let f = book.answered(tok).map_or(f, |x| x);
                if matches!(book.fetched(&f.room, &f.nick, f.expect), Step::Show { .. }) {
                    shown += 1;
                }
            }
        }
    }
    // Drain: every question answered.
    loop {
        while let Some(f) = book.next_fetch() {
            token += 1;
            book.sent(token, f.clone());
            out.push((token, f));
        }
        let Some((tok, f)) = out.pop() else { break };
        book.answered(tok);
        if matches!(book.fetched(&f.room, &f.nick, f.expect), Step::Show { .. }) {
            shown += 1;
        }
    }
    let elapsed = t.elapsed();
    let presences = u64::from(rooms) * u64::from(people);
    let kept: usize = rooms_jids
        .iter()
        .map(|r| nicks.iter().filter(|n| book.shown(r, n).is_some()).count())
        .sum();
    let rss_after = status_kib("VmRSS:");
    assert!(kept <= rooms as usize * MAX_PER_ROOM);

    println!(
        "room faces: {rooms} rooms x {people} occupants = {presences} presences with a photo hash"
    );
    println!(
        "  faces kept: {kept} (cap {MAX_PER_ROOM} a room = {}); faces shown (from the cache or an answer): {shown}; questions queued: {queued}",
        rooms as usize * MAX_PER_ROOM,
    );
    println!(
        "  most questions waiting or out at once: {most_pending} (cap {} waiting + {} out); most out: {most_out}",
        loquat::session::room_faces::MAX_QUEUED,
        loquat::session::room_faces::MAX_IN_FLIGHT
    );
    println!(
        "  {:.2} us per presence (with its questions and answers)",
        elapsed.as_secs_f64() * 1e6 / presences as f64
    );
    println!(
        "  resident memory: {:.1} MiB before, {:.1} MiB after (+{:.2} MiB); uncapped the UI would hold {} paths",
        rss_before / 1024.0,
        rss_after / 1024.0,
        (rss_after - rss_before) / 1024.0,
        presences
    );
}
