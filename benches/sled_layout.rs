//! What sled's start costs as the history grows, for two ways of laying messages out in
//! it (issue #21's scale budget: start-up time and memory within 1.5x of the small
//! case). A plain binary (`harness = false`) that prints its figures; the store itself
//! is not used, so that the layouts differ in one thing only.
//!
//! `cargo bench --no-default-features --bench sled_layout`
//!
//! - **one entry each**, as Loquat stores today: a record per message in `history`
//!   (150 bytes, keyed by account, conversation, place), its local id in `local_ids`,
//!   two ids (archive and origin) in `known_ids`: four entries a message;
//! - **packed**: 64 records of a conversation in one `history` value, and every id in
//!   one of 4,096 buckets per account (an id, its conversation and place, appended to
//!   the bucket's value).
//!
//! Both are written in batches of 10,000 messages over 300 conversations and 3
//! accounts, as a catch-up writes, and flushed. Each is then opened twice in a child
//! process (this binary, `LOQUAT_BENCH_OPEN=DIR`): the second open's time (the files in
//! the page cache, as at a usual start) and the resident memory after it. Printed with
//! the ratio to the smallest history of the same layout, and the disk used.
//!
//! `LOQUAT_BENCH_SIZES=20000,200000` picks the sizes (default 20,000, 200,000 and
//! 1,000,000; under `cargo test --all-targets`, without `--bench`, 2,000 and 20,000).
//! The temporary folders need about 3.5 GB at 1,000,000.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code: a failed unwrap is a failed run

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

#[path = "common/history.rs"]
mod history;

use history::{BATCH, CONVERSATIONS, Stream, account, conversation, text};

const BLOCK: u64 = 64;
const BUCKETS: u64 = 4_096;

fn open(path: &Path) -> sled::Db {
    // sled lets go of its lock a moment after the last handle is dropped.
    for _ in 0..100 {
        // The store's own cache size (`store::CACHE_BYTES`).
        match sled::Config::new()
            .path(path)
            .cache_capacity(4 << 20)
            .open()
        {
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other.unwrap(),
        }
    }
    panic!("{} stayed locked", path.display())
}

fn write(path: &Path, packed: bool, messages: u64) -> f64 {
    let db = open(path);
    let history = db.open_tree("history").unwrap();
    let local_ids = db.open_tree("local_ids").unwrap();
    let known_ids = db.open_tree("known_ids").unwrap();
    let mut stream = Stream::new();
    let started = Instant::now();
    // Packed: each conversation's block being filled.
    let mut blocks: HashMap<u64, Vec<u8>> = HashMap::new();
    for start in (0..messages).step_by(BATCH as usize) {
        let end = (start + BATCH).min(messages);
        let (mut records, mut locals, mut knowns) = (
            sled::Batch::default(),
            sled::Batch::default(),
            sled::Batch::default(),
        );
        let mut buckets: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        for n in start..end {
            let conv = n % CONVERSATIONS;
            let place = n / CONVERSATIONS;
            let (record, ids) = stream.message();
            if packed {
                let block = blocks.entry(conv).or_default();
                block.extend_from_slice(&(record.len() as u16).to_be_bytes());
                block.extend_from_slice(&record);
                if (place + 1).is_multiple_of(BLOCK) {
                    let mut key = conversation(conv);
                    key.extend_from_slice(&(place / BLOCK).to_be_bytes());
                    records.insert(key, std::mem::take(block));
                }
                for id in &ids {
                    let mut key = account(conv);
                    key.extend_from_slice(&((stream.next() % BUCKETS) as u32).to_be_bytes());
                    let value = buckets.entry(key).or_default();
                    text(value, id);
                    value.extend_from_slice(&conv.to_be_bytes());
                    value.extend_from_slice(&place.to_be_bytes());
                }
            } else {
                let mut entries = history::Entries::default();
                history::today(&mut entries, n, record, &ids);
                for (batch, tree) in [&mut records, &mut locals, &mut knowns]
                    .into_iter()
                    .zip(entries)
                {
                    for (key, value) in tree {
                        batch.insert(key, value);
                    }
                }
            }
        }
        if packed {
            // Blocks still filling are written as they are, again as they grow.
            let place = (end - 1) / CONVERSATIONS;
            for (conv, block) in &blocks {
                if !block.is_empty() {
                    let mut key = conversation(*conv);
                    key.extend_from_slice(&(place / BLOCK).to_be_bytes());
                    records.insert(key, block.clone());
                }
            }
            for (key, added) in buckets {
                let mut value = known_ids
                    .get(&key)
                    .unwrap()
                    .map(|v| v.to_vec())
                    .unwrap_or_default();
                value.extend_from_slice(&added);
                knowns.insert(key, value);
            }
        }
        history.apply_batch(records).unwrap();
        local_ids.apply_batch(locals).unwrap();
        known_ids.apply_batch(knowns).unwrap();
    }
    db.flush().unwrap();
    started.elapsed().as_secs_f64()
}

fn kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn bytes_in(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .unwrap()
        .flatten()
        .map(|e| {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                bytes_in(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

/// Opens `path` in a child process; its open time in ms and resident MiB after it.
fn opened(path: &Path) -> (f64, f64) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env("LOQUAT_BENCH_OPEN", path)
        .output()
        .unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "opening {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut fields = line.split_whitespace().map(|f| f.parse::<f64>().unwrap());
    (fields.next().unwrap(), fields.next().unwrap())
}

fn main() {
    if let Some(path) = std::env::var_os("LOQUAT_BENCH_OPEN") {
        let started = Instant::now();
        let db = open(Path::new(&path));
        let found = db.open_tree("history").unwrap().iter().next().is_some();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert!(found, "an empty history");
        println!("{ms:.1} {:.1}", kib("VmRSS:") as f64 / 1024.0);
        return;
    }
    let real_run = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<u64> = match std::env::var("LOQUAT_BENCH_SIZES") {
        Ok(v) => v.split(',').map(|s| s.trim().parse().unwrap()).collect(),
        Err(_) if real_run => vec![20_000, 200_000, 1_000_000],
        Err(_) => vec![2_000, 20_000],
    };
    let tmp = tempfile::tempdir().unwrap();
    println!(
        "sled's start by history size and layout (the second of two opens, in a child process)"
    );
    for (packed, name) in [(false, "one entry each (today)"), (true, "packed")] {
        let mut first: Option<(f64, f64)> = None;
        for &messages in &sizes {
            let path = tmp.path().join(format!("{name}-{messages}"));
            let wrote = write(&path, packed, messages);
            let _ = opened(&path);
            let (ms, mib) = opened(&path);
            let (ms0, mib0) = *first.get_or_insert((ms, mib));
            println!(
                "  {name:<24} {messages:>9} messages: written in {wrote:6.1} s; open {ms:7.1} ms ({:.2}x), resident {mib:6.1} MiB ({:.2}x); {:.0} bytes a message on disk",
                ms / ms0,
                mib / mib0,
                bytes_in(&path) as f64 / messages as f64
            );
            std::fs::remove_dir_all(&path).unwrap();
        }
    }
}
