//! What the history would cost in another storage engine: the figures issue #21 asks
//! for before the engine is changed (sled is the user's chosen store; its disk budget is
//! 500 bytes a message, and start-up within 1.5x of the small case at 1,000,000
//! messages). A plain binary (`harness = false`) that prints its figures; the store
//! itself is not used, so that the engines differ in one thing only.
//!
//! `cargo bench --no-default-features --bench engines`
//!
//! One synthetic history (`common/history.rs`: 300 conversations over 3 accounts, a
//! 150-byte record and three ids a message, written in batches of 10,000 as a catch-up
//! writes them, each batch one transaction) is written into each engine, in two
//! layouts of the same entries:
//!
//! - **today**: the store's keys and values as they are (schema 5: account and address
//!   spelled out in every key, ids as text; four entries a message);
//! - **compact**: the smaller encoding the README names as the next step (conversations
//!   as 4-byte numbers, places as 8 bytes, ids as binary); the same four entries.
//!
//! Engines: **sled** 0.34 (the store's own settings: 4 MiB of cache), the reference;
//! **SQLite** (one `WITHOUT ROWID` table of key and value per tree, write-ahead log);
//! **redb** (copy-on-write B-trees); **fjall** (an LSM tree, LZ4 blocks; its memtables
//! flushed after writing, as they are in use once they fill).
//!
//! For each: the keys and values a message holds and the disk a message takes (and the
//! ratio of the two), then, in a child process (this binary, `LOQUAT_BENCH_OPEN`), the
//! second of two opens with the first history entry read (the files in the page cache,
//! as at a usual start), the PSS after it, and the newest 50 messages of one
//! conversation read (what opening a conversation reads), the first time and again.
//! Ratios are to sled in the same run, and to the smallest history of the same engine
//! and layout.
//!
//! `LOQUAT_BENCH_SIZES=20000,1000000` picks the sizes (default 20,000 and 200,000; under
//! `cargo test --all-targets`, without `--bench`, 2,000), `LOQUAT_BENCH_ENGINES` and
//! `LOQUAT_BENCH_LAYOUTS` pick the others, `LOQUAT_BENCH_KEEP=DIR` keeps the databases
//! in DIR. 1,000,000 messages need about 3 GB of temporary space and several minutes an
//! engine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code: a failed unwrap is a failed run

#[path = "common/mod.rs"]
mod common;
#[path = "common/history.rs"]
mod history;

use std::path::Path;
use std::time::Instant;

use history::{BATCH, CONVERSATIONS, Stream, TREES, conversation};

/// The conversation whose newest messages are read.
const READ: u64 = 7;
/// The store's own cache size (`store::CACHE_BYTES`), given to every engine.
const CACHE: usize = 4 << 20;

/// A batch's entries, by tree.
type Batch = history::Entries;

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Today,
    Compact,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::Today => "today",
            Layout::Compact => "compact",
        }
    }

    /// The prefix of a conversation's history keys.
    fn conversation(self, conv: u64) -> Vec<u8> {
        match self {
            Layout::Today => conversation(conv),
            Layout::Compact => (conv as u32).to_be_bytes().to_vec(),
        }
    }
}

/// Binary from hexadecimal digits (what an id of that form would take as bytes).
fn binary(hex: &[u8]) -> Vec<u8> {
    hex.chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            digit(pair[0]) << 4 | pair.get(1).map_or(0, |c| digit(*c))
        })
        .collect()
}

/// Messages `start..end` of the history, as entries of `layout`.
fn batch(layout: Layout, stream: &mut Stream, start: u64, end: u64) -> Batch {
    let mut out: Batch = Default::default();
    for n in start..end {
        let conv = n % CONVERSATIONS;
        let place = n / CONVERSATIONS;
        let (record, ids) = stream.message();
        match layout {
            Layout::Today => history::today(&mut out, n, record, &ids),
            Layout::Compact => {
                let mut key = (conv as u32).to_be_bytes().to_vec();
                key.extend_from_slice(&place.to_be_bytes());
                out[0].push((key.clone(), record));
                let mut local = ((conv % 3) as u16).to_be_bytes().to_vec();
                local.extend_from_slice(&binary(&ids[0][..32]));
                out[1].push((local, key.clone()));
                for id in &ids[1..] {
                    let mut known = (conv as u32).to_be_bytes().to_vec();
                    known.push(b'S');
                    known.extend_from_slice(&binary(id));
                    let mut value = place.to_be_bytes().to_vec();
                    value.push(1);
                    out[2].push((known, value));
                }
            }
        }
    }
    out
}

/// The first key after every key that starts with `prefix`.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0xff; prefix.len() + 1]
}

/// Writes `messages` into a new database at `path`; the keys and values written.
fn write(engine: &str, layout: Layout, path: &Path, messages: u64) -> u64 {
    let mut stream = Stream::new();
    let mut stored = 0;
    let mut batches = (0..messages).step_by(BATCH as usize).map(|start| {
        let b = batch(layout, &mut stream, start, (start + BATCH).min(messages));
        stored += b
            .iter()
            .flatten()
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .sum::<u64>();
        b
    });
    std::fs::create_dir_all(path).unwrap();
    match engine {
        "sled" => {
            let db = sled_open(path);
            let trees: Vec<_> = TREES.iter().map(|t| db.open_tree(t).unwrap()).collect();
            for b in &mut batches {
                for (tree, entries) in trees.iter().zip(b) {
                    let mut batch = sled::Batch::default();
                    for (k, v) in entries {
                        batch.insert(k, v);
                    }
                    tree.apply_batch(batch).unwrap();
                }
                db.flush().unwrap();
            }
        }
        "sqlite" => {
            let mut db = sqlite_open(path);
            for t in TREES {
                db.execute(
                    &format!("CREATE TABLE {t} (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID"),
                    [],
                )
                .unwrap();
            }
            for b in &mut batches {
                let tx = db.transaction().unwrap();
                for (t, entries) in TREES.iter().zip(b) {
                    let mut insert = tx
                        .prepare_cached(&format!("INSERT OR REPLACE INTO {t} VALUES (?1, ?2)"))
                        .unwrap();
                    for (k, v) in entries {
                        insert.execute((k, v)).unwrap();
                    }
                }
                tx.commit().unwrap();
            }
            db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
        }
        "redb" => {
            let db = redb_open(path);
            for b in &mut batches {
                let tx = db.begin_write().unwrap();
                for (t, entries) in TREES.iter().zip(b) {
                    let mut table = tx.open_table(redb_table(t)).unwrap();
                    for (k, v) in entries {
                        table.insert(k.as_slice(), v.as_slice()).unwrap();
                    }
                }
                tx.commit().unwrap();
            }
        }
        "fjall" => {
            let db = fjall::Database::builder(path)
                .cache_size(CACHE as u64)
                .open()
                .unwrap();
            let spaces: Vec<_> = TREES
                .iter()
                .map(|t| {
                    db.keyspace(t, fjall::KeyspaceCreateOptions::default)
                        .unwrap()
                })
                .collect();
            for b in &mut batches {
                let mut batch = db.batch();
                for (space, entries) in spaces.iter().zip(b) {
                    for (k, v) in entries {
                        batch.insert(space, k, v);
                    }
                }
                batch.commit().unwrap();
                db.persist(fjall::PersistMode::SyncAll).unwrap();
            }
            for space in &spaces {
                space.rotate_memtable_and_wait().unwrap();
            }
        }
        other => panic!("no engine {other}"),
    }
    drop(batches);
    stored
}

fn sled_open(path: &Path) -> sled::Db {
    // sled lets go of its lock a moment after the last handle is dropped.
    for _ in 0..100 {
        match sled::Config::new()
            .path(path.join("sled"))
            .cache_capacity(CACHE as u64)
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

fn sqlite_open(path: &Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(path.join("history.sqlite")).unwrap();
    db.pragma_update(None, "journal_mode", "WAL").unwrap();
    db.pragma_update(None, "cache_size", -((CACHE / 1024) as i64))
        .unwrap();
    db
}

fn redb_open(path: &Path) -> redb::Database {
    redb::Database::builder()
        .set_cache_size(CACHE)
        .create(path.join("history.redb"))
        .unwrap()
}

fn redb_table(name: &str) -> redb::TableDefinition<'_, &'static [u8], &'static [u8]> {
    redb::TableDefinition::new(name)
}

/// In the child: opens the database, reads its first history entry, then the newest 50
/// messages of conversation [`READ`], twice. The open's time in ms, each read's in µs.
fn open_and_read(engine: &str, layout: Layout, path: &Path) -> (f64, f64, f64) {
    let started = Instant::now();
    let prefix = layout.conversation(READ);
    let end = prefix_end(&prefix);
    let mut opened = 0.0;
    let mut mark = |found: bool| {
        assert!(found, "an empty history");
        opened = started.elapsed().as_secs_f64() * 1000.0;
        Instant::now()
    };
    let (first, again) = match engine {
        "sled" => {
            let db = sled_open(path);
            let history = db.open_tree("history").unwrap();
            let from = mark(history.iter().next().is_some());
            let read = || {
                history
                    .range(prefix.as_slice()..end.as_slice())
                    .rev()
                    .take(50)
                    .map(|kv| kv.unwrap().1.len())
                    .filter(|len| *len > 0)
                    .count()
            };
            twice(from, read)
        }
        "sqlite" => {
            let db = sqlite_open(path);
            let first: Option<Vec<u8>> = db
                .query_row("SELECT k FROM history ORDER BY k LIMIT 1", [], |r| r.get(0))
                .ok();
            let from = mark(first.is_some());
            let read = || {
                let mut query = db
                    .prepare_cached(
                        "SELECT v FROM history WHERE k >= ?1 AND k < ?2 ORDER BY k DESC LIMIT 50",
                    )
                    .unwrap();
                query
                    .query_map((&prefix, &end), |r| r.get::<_, Vec<u8>>(0))
                    .unwrap()
                    .map(|v| v.unwrap().len())
                    .filter(|len| *len > 0)
                    .count()
            };
            twice(from, read)
        }
        "redb" => {
            use redb::{ReadableDatabase, ReadableTable};
            let db = redb_open(path);
            let tx = db.begin_read().unwrap();
            let history = tx.open_table(redb_table("history")).unwrap();
            let from = mark(history.first().unwrap().is_some());
            let read = || {
                history
                    .range(prefix.as_slice()..end.as_slice())
                    .unwrap()
                    .rev()
                    .take(50)
                    .map(|kv| kv.unwrap().1.value().len())
                    .filter(|len| *len > 0)
                    .count()
            };
            twice(from, read)
        }
        "fjall" => {
            let db = fjall::Database::builder(path)
                .cache_size(CACHE as u64)
                .open()
                .unwrap();
            let history = db
                .keyspace("history", fjall::KeyspaceCreateOptions::default)
                .unwrap();
            let from = mark(history.first_key_value().is_some());
            let read = || {
                history
                    .prefix(&prefix)
                    .rev()
                    .take(50)
                    .map(|kv| kv.value().unwrap().len())
                    .filter(|len| *len > 0)
                    .count()
            };
            twice(from, read)
        }
        other => panic!("no engine {other}"),
    };
    (opened, first, again)
}

/// Reads the newest messages twice from `from`: the first read's time and the second's,
/// in µs.
fn twice(from: Instant, read: impl Fn() -> usize) -> (f64, f64) {
    let found = read();
    let first = from.elapsed().as_secs_f64() * 1e6;
    let expected: usize = std::env::var("LOQUAT_BENCH_EXPECT")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(found, expected, "messages read from conversation {READ}");
    let again = Instant::now();
    read();
    (first, again.elapsed().as_secs_f64() * 1e6)
}

/// Opens `path` in a child process: open ms, PSS MiB after it, the newest-50 read's µs,
/// the first time and again. `expected`: the messages that read must find.
fn opened(engine: &str, layout: Layout, path: &Path, expected: u64) -> (f64, f64, f64, f64) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env("LOQUAT_BENCH_OPEN", path)
        .env("LOQUAT_BENCH_ENGINE", engine)
        .env("LOQUAT_BENCH_LAYOUT", layout.name())
        .env("LOQUAT_BENCH_EXPECT", expected.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "opening {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let mut fields = line.split_whitespace().map(|f| f.parse::<f64>().unwrap());
    let mut next = || fields.next().unwrap();
    (next(), next(), next(), next())
}

fn list(var: &str, default: &str) -> Vec<String> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect()
}

fn main() {
    let layout_named = |name: &str| match name {
        "today" => Layout::Today,
        "compact" => Layout::Compact,
        other => panic!("no layout {other}"),
    };
    if let Some(path) = std::env::var_os("LOQUAT_BENCH_OPEN") {
        let engine = std::env::var("LOQUAT_BENCH_ENGINE").unwrap();
        let layout = layout_named(&std::env::var("LOQUAT_BENCH_LAYOUT").unwrap());
        let (ms, read, again) = open_and_read(&engine, layout, Path::new(&path));
        let pss = common::memory(std::process::id()).unwrap().0;
        println!("{ms:.2} {pss:.2} {read:.1} {again:.1}");
        return;
    }
    let real_run = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<u64> = list(
        "LOQUAT_BENCH_SIZES",
        if real_run { "20000,200000" } else { "2000" },
    )
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let engines = list("LOQUAT_BENCH_ENGINES", "sled,sqlite,redb,fjall");
    let layouts: Vec<Layout> = list("LOQUAT_BENCH_LAYOUTS", "today,compact")
        .iter()
        .map(|l| layout_named(l))
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    // LOQUAT_BENCH_KEEP=DIR: write the databases there and keep them, to look into.
    let keep = std::env::var_os("LOQUAT_BENCH_KEEP").map(std::path::PathBuf::from);
    let folder = keep.as_deref().unwrap_or(tmp.path());
    // Each engine's and layout's figures at the smallest size: open ms and PSS.
    let mut smallest: std::collections::HashMap<(String, &str), (f64, f64)> =
        std::collections::HashMap::new();
    println!(
        "The history in other storage engines (the second of two opens, in a child process; x sled: the ratio to sled at the same size and layout, x first: to the smallest history)"
    );
    for layout in layouts {
        for &messages in &sizes {
            // sled's figures at this size, the reference: open ms, PSS, read µs, disk.
            let mut reference: Option<[f64; 4]> = None;
            for engine in &engines {
                let path = folder.join(format!("{engine}-{}-{messages}", layout.name()));
                let started = Instant::now();
                let stored = write(engine, layout, &path, messages);
                let wrote = started.elapsed().as_secs_f64();
                // Conversation READ's messages, of which the newest 50 are read.
                let expected =
                    (messages / CONVERSATIONS + u64::from(messages % CONVERSATIONS > READ)).min(50);
                let _ = opened(engine, layout, &path, expected);
                let (ms, pss, read, again) = opened(engine, layout, &path, expected);
                let disk = common::dir_size(&path) as f64 / messages as f64;
                let kv = stored as f64 / messages as f64;
                let [ms0, pss0, read0, disk0] = *reference.get_or_insert([ms, pss, read, disk]);
                let (first_ms, first_pss) = *smallest
                    .entry((engine.clone(), layout.name()))
                    .or_insert((ms, pss));
                println!(
                    "  {:<7} {engine:<6} {messages:>9} messages: written in {wrote:6.1} s; keys and values {kv:4.0} bytes a message, on disk {disk:5.0} ({:.2}x the keys and values, {:.2}x sled); open {ms:7.2} ms ({:.2}x sled, {:.2}x first), PSS {pss:6.1} MiB ({:.2}x sled, {:.2}x first); newest 50 of a conversation {read:7.0} µs ({:.2}x sled), again {again:5.0} µs",
                    layout.name(),
                    disk / kv,
                    disk / disk0,
                    ms / ms0,
                    ms / first_ms,
                    pss / pss0,
                    pss / first_pss,
                    read / read0,
                );
                if keep.is_none() {
                    std::fs::remove_dir_all(&path).unwrap();
                }
            }
        }
    }
}
