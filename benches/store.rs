//! Store benchmarks (plain binary, `harness = false`); prints its figures.
//!
//! `cargo bench --no-default-features --bench store`
//!
//! (a) Opening a conversation: `latest(.., 50)` on a 100-message conversation vs a
//!     1,000,000-message one in the same database (`LOQUAT_BENCH_BIG=N` shrinks the big
//!     one for a quick run). Target: ratio <= 1.2. Both the first opening after the
//!     database is opened and the median once its pages are in memory.
//! (b) Inbound throughput under the durability rule: `insert_message` (one flush per
//!     message) and `insert_messages` in batches of 100 (one flush per batch).
//! (c) Disk per message (issue #21, budget 500 bytes): 20,000 messages stored as a
//!     first sign-in stores them (pages of 250), and the 1,000,000-message database of
//!     (a). The mix is the delivery bench's: short bodies, UUIDs for the local id, the
//!     sender's stanza id / origin-id and the archive id. Beside it, the bytes of the
//!     keys and values stored (per tree), and the size after a copy into a fresh
//!     database: how much of the disk is the data and how much is sled's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[path = "common/mod.rs"]
mod common;
use common::dir_size;

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{ChatMessage, Delivery, Direction};
use loquat::store::{Inserted, Store};
use std::time::{Duration, Instant};
use xmpp_parsers::jid::BareJid;

const PAGE: usize = 50;
const SMALL: u64 = 100;
const SETUP_BATCH: u64 = 10_000;
const REPS: usize = 2_000;
const T0: i64 = 1_700_000_000_000;

type Error = Box<dyn std::error::Error>;

fn message(account: &AccountId, peer: &BareJid, n: u64) -> ChatMessage {
    let sender_id = uuid::Uuid::new_v4().to_string();
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.clone(),
        conversation: ConversationId::Chat(peer.clone()),
        direction: if n.is_multiple_of(3) {
            Direction::Outgoing
        } else {
            Direction::Incoming
        },
        sender: String::new(),
        body: format!("archived {n:05}"),
        timestamp_ms: T0 + i64::try_from(n).unwrap_or(i64::MAX) * 1_000,
        // As Loquat sends them (id = origin-id) and Prosody archives them (UUIDs).
        stanza_id_attr: Some(sender_id.clone()),
        origin_id: Some(sender_id),
        server_id: Some(uuid::Uuid::new_v4().to_string()),
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

fn populate(store: &Store, account: &AccountId, peer: &BareJid, count: u64) -> Result<(), Error> {
    let mut n = 0;
    while n < count {
        let end = (n + SETUP_BATCH).min(count);
        let batch: Vec<_> = (n..end).map(|i| message(account, peer, i)).collect();
        let results = store.insert_messages(&batch)?;
        if results.iter().any(|r| *r != Inserted::New) {
            return Err("set-up message reported as duplicate".into());
        }
        n = end;
    }
    Ok(())
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// What storing `n` messages as a first sign-in does (pages of 250) leaves on disk.
struct Disk {
    /// Bytes on disk per message, closed.
    per_message: f64,
    /// Key and value bytes per message, and entries, in each tree that has any.
    live: Vec<(String, f64, u64)>,
    /// Bytes on disk per message after every tree is copied into a fresh database in
    /// batches of 10,000 (as `src/store/rebuild.rs` does after an upgrade).
    rewritten: f64,
}

fn disk_per_message(n: u64) -> Result<Disk, Error> {
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("db");
    let account = AccountId(uuid::Uuid::new_v4().simple().to_string());
    let peer = BareJid::new("ab-1@localhost")?;
    {
        let store = Store::open(&path)?;
        let msgs: Vec<_> = (0..n).map(|i| message(&account, &peer, i)).collect();
        for page in msgs.chunks(250) {
            store.insert_old_messages(page)?;
        }
    }
    // sled's flusher lets go a moment after the last handle.
    std::thread::sleep(Duration::from_millis(500));
    let per_message = dir_size(&path) as f64 / n as f64;
    let copy = tmp.path().join("copy");
    let mut live = Vec::new();
    {
        let (from, to) = (sled::open(&path)?, sled::open(&copy)?);
        for name in from.tree_names() {
            let (tree, into) = (from.open_tree(&name)?, to.open_tree(&name)?);
            let (mut entries, mut bytes) = (0u64, 0u64);
            let mut batch = sled::Batch::default();
            for kv in tree.iter() {
                let (k, v) = kv?;
                entries += 1;
                bytes += (k.len() + v.len()) as u64;
                batch.insert(k, v);
                if entries.is_multiple_of(10_000) {
                    into.apply_batch(std::mem::take(&mut batch))?;
                }
            }
            into.apply_batch(batch)?;
            if entries > 0 {
                let name = String::from_utf8_lossy(&name).into_owned();
                live.push((name, bytes as f64 / n as f64, entries));
            }
        }
        to.flush()?;
    }
    std::thread::sleep(Duration::from_millis(500));
    Ok(Disk {
        per_message,
        live,
        rewritten: dir_size(&copy) as f64 / n as f64,
    })
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() -> Result<(), Error> {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without
    // it, as a quick smoke run on a small history.
    let real_run = std::env::args().any(|a| a == "--bench");
    let big: u64 = match std::env::var("LOQUAT_BENCH_BIG") {
        Ok(v) => v.parse()?,
        Err(_) if real_run => 1_000_000,
        Err(_) => 2_000,
    };
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("db");
    let account = AccountId("bench".into());
    let small_peer = BareJid::new("small@example.org")?;
    let big_peer = BareJid::new("big@example.org")?;
    let small_conv = ConversationId::Chat(small_peer.clone());
    let big_conv = ConversationId::Chat(big_peer.clone());

    // --- set-up ---
    let store = Store::open(&path)?;
    let start = Instant::now();
    populate(&store, &account, &small_peer, SMALL)?;
    populate(&store, &account, &big_peer, big)?;
    // Read first after the reopen, so that the first opening of the two measured ones
    // does not also pay for what any first read loads (the tree's upper levels).
    let other_peer = BareJid::new("other@example.org")?;
    populate(&store, &account, &other_peer, SMALL)?;
    let setup = start.elapsed();
    println!(
        "setup: {} msgs in {:.1} s ({:.0} msgs/s, batches of {SETUP_BATCH}), database {} MiB",
        2 * SMALL + big,
        setup.as_secs_f64(),
        (2 * SMALL + big) as f64 / setup.as_secs_f64(),
        dir_size(&path) / (1024 * 1024)
    );

    // Reopen, as the app does at start-up, so the figures include a cold-ish cache.
    drop(store);
    let start = Instant::now();
    let store = Store::open(&path)?;
    println!("reopen: {:.0} ms", start.elapsed().as_secs_f64() * 1e3);
    // The first opening of each conversation after the start, before anything has read
    // it: what a person waits for when they click one (the figures of (a) below are
    // medians once the pages are in memory).
    store.latest(&account, &ConversationId::Chat(other_peer), PAGE)?;
    let mut first = [0.0; 2];
    for (n, conv) in [(1, &big_conv), (0, &small_conv)] {
        let start = Instant::now();
        let page = store.latest(&account, conv, PAGE)?;
        first[n] = micros(start.elapsed());
        if page.len() != PAGE {
            return Err(format!("latest returned {} messages", page.len()).into());
        }
    }
    println!(
        "open_conversation, the first after the start: {SMALL} msgs {:.0} µs, {big} msgs {:.0} µs, ratio {:.2}",
        first[0],
        first[1],
        first[1] / first[0]
    );
    println!(
        "(c) disk: {} messages (batches of {SETUP_BATCH}): {:.0} bytes per message",
        2 * SMALL + big,
        dir_size(&path) as f64 / (2 * SMALL + big) as f64
    );
    let signin_n = if real_run { 20_000 } else { 1_000 };
    let disk = disk_per_message(signin_n)?;
    println!(
        "(c) disk: {signin_n} messages stored as a first sign-in does (pages of 250): {:.0} \
         bytes per message (budget 500; Gajim's SQLite about 345)",
        disk.per_message
    );
    let live: f64 = disk.live.iter().map(|(_, b, _)| b).sum();
    let trees: Vec<String> = disk
        .live
        .iter()
        .filter(|(_, b, _)| *b >= 1.0)
        .map(|(name, b, e)| format!("{name} {b:.0} in {e} entries"))
        .collect();
    println!(
        "(c) the keys and values in it: {live:.0} bytes per message ({}); on disk {:.1}x that",
        trees.join(", "),
        disk.per_message / live
    );
    println!(
        "(c) the same copied into a fresh database in batches of 10,000: {:.0} bytes per \
         message, {:.1}x the keys and values (sled's floor for this data)",
        disk.rewritten,
        disk.rewritten / live
    );

    // --- (a) open-conversation latency ---
    for _ in 0..50 {
        store.latest(&account, &small_conv, PAGE)?;
        store.latest(&account, &big_conv, PAGE)?;
    }
    let mut small_times = Vec::with_capacity(REPS);
    let mut big_times = Vec::with_capacity(REPS);
    let mut reads = [0u64; 2];
    for rep in 0..REPS {
        // Alternate which goes first so drift and caching favour neither.
        let order = if rep.is_multiple_of(2) {
            [false, true]
        } else {
            [true, false]
        };
        for is_big in order {
            let conv = if is_big { &big_conv } else { &small_conv };
            let before = store.records_read();
            let start = Instant::now();
            let page = store.latest(&account, conv, PAGE)?;
            let took = start.elapsed();
            reads[usize::from(is_big)] += store.records_read() - before;
            if page.len() != PAGE {
                return Err(format!("latest returned {} messages", page.len()).into());
            }
            if is_big {
                big_times.push(took)
            } else {
                small_times.push(took)
            }
        }
    }
    let (small_med, big_med) = (median(&mut small_times), median(&mut big_times));
    println!(
        "open_conversation: {SMALL} msgs median {:.0} µs, {big} msgs median {:.0} µs, ratio {:.2} \
         ({REPS} reps each, {} / {} records read per call)",
        micros(small_med),
        micros(big_med),
        big_med.as_secs_f64() / small_med.as_secs_f64(),
        reads[0] / REPS as u64,
        reads[1] / REPS as u64,
    );

    // Paging back through the big conversation, for reference.
    let mut page = store.latest(&account, &big_conv, PAGE)?;
    let mut page_times = Vec::new();
    for _ in 0..200 {
        let Some(oldest) = page.first().map(|m| m.id.clone()) else {
            break;
        };
        let start = Instant::now();
        page = store.before(&account, &big_conv, &oldest, PAGE)?;
        page_times.push(start.elapsed());
    }
    println!(
        "before: {} pages of {PAGE} in the big conversation, median {:.0} µs",
        page_times.len(),
        micros(median(&mut page_times))
    );

    // --- (b) inbound throughput, flushed before "stored" ---
    let inbound = BareJid::new("inbound@example.org")?;
    let single_n = 1_000u64;
    let msgs: Vec<_> = (0..single_n)
        .map(|i| message(&account, &inbound, 10_000_000 + i))
        .collect();
    let start = Instant::now();
    for m in &msgs {
        store.insert_message(m)?;
    }
    let took = start.elapsed();
    println!(
        "insert_message (flush each): {single_n} msgs in {:.2} s = {:.0} msgs/s",
        took.as_secs_f64(),
        single_n as f64 / took.as_secs_f64()
    );

    let batch_n = 20_000u64;
    let msgs: Vec<_> = (0..batch_n)
        .map(|i| message(&account, &inbound, 20_000_000 + i))
        .collect();
    let start = Instant::now();
    for chunk in msgs.chunks(100) {
        store.insert_messages(chunk)?;
    }
    let took = start.elapsed();
    println!(
        "insert_messages (batches of 100, flush per batch): {batch_n} msgs in {:.2} s = {:.0} msgs/s",
        took.as_secs_f64(),
        batch_n as f64 / took.as_secs_f64()
    );
    Ok(())
}
