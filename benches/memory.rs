//! Memory after sign-in, and disk per message, of issue #21 (plain binary,
//! `harness = false`); prints its figures.
//!
//! `tests/kr.sh cargo bench --bench memory` (or any session with an unlocked keyring:
//! the app reads its password from there)
//!
//! Set-up: the test Prosody (SQLite storage on /dev/shm when `lua-dbi-sqlite3` is
//! installed, like the delivery bench; 250 results a page); account A gets a 500-contact roster
//! (`LOQUAT_BENCH_CONTACTS`), then B sends A 20,000 messages (`LOQUAT_BENCH_ARCHIVE`)
//! while A is away: they wait in A's archive.
//!
//! Then the release binary (the bench profile's `loquat`, or `LOQUAT_BENCH_BIN`) starts
//! under a private Xvfb with a fresh data folder holding only account A (its password
//! in the keyring), signs in, catches up the archive and goes quiet (no CPU used for
//! 3 s); then PSS, RSS and USS (`/proc/PID/smaps_rollup`), the time to quiet, and after
//! quitting, the messages in its store and the store's size on disk per message. Runs:
//! - the app with no account (the sign-in form): the reference for "beyond the empty app";
//! - A with the store's page cache at 128 MiB (`LOQUAT_STORE_CACHE_MB=128`, the size
//!   before issue #21);
//! - A with the default page cache;
//! - A with the default page cache, keeping freed memory (`LOQUAT_KEEP_FREED=1`: the app
//!   no longer gives it back when the catch-up ends);
//! - first, when `LOQUAT_BENCH_BEFORE_BIN` names an older build, A with that build.
//!
//! Under `cargo test --all-targets` (no `--bench` argument) nothing runs: the set-up alone
//! takes a minute.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[path = "common/mod.rs"]
mod common;
use common::{cpu_secs, dir_size, memory, pss_by_mapping};

#[path = "../tests/support/mod.rs"]
mod support;

use loquat::ids::{ConversationId, LocalMessageId};
use loquat::model::{Account, Delivery, ServerOverride, Trust};
use loquat::secrets::SecretStore;
use loquat::session::{Command, UpdateKind};
use loquat::store::Store;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};
use support::TestServer;
use support::session::{Updates, jid, local_params, next_matching};

type Error = Box<dyn std::error::Error>;

/// Whether Lua's DBI driver for SQLite is installed (Debian: lua-dbi-sqlite3).
fn sqlite_driver_installed() -> bool {
    ["5.1", "5.2", "5.3", "5.4"].iter().any(|v| {
        std::fs::read_dir("/usr/lib").is_ok_and(|dirs| {
            dirs.flatten().any(|d| {
                d.path()
                    .join("lua")
                    .join(v)
                    .join("dbd/sqlite3.so")
                    .is_file()
            })
        })
    })
}

/// A private X server; killed on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Result<Xvfb, Error> {
        let mut child = Process::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut out = child.stdout.take().ok_or("no Xvfb stdout")?;
        let mut number = String::new();
        let mut byte = [0u8; 1];
        while out.read(&mut byte)? == 1 && byte[0] != b'\n' {
            number.push(char::from(byte[0]));
        }
        if number.trim().parse::<u32>().is_err() {
            let _ = child.kill();
            return Err(format!("Xvfb did not report a display ({number:?})").into());
        }
        Ok(Xvfb {
            child,
            display: format!(":{}", number.trim()),
        })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Figures {
    quiet_after: f64,
    /// PSS 10 s after the quiet reading: the search index lets its writer go after 5 s
    /// without a change, and the heap gives back what that freed.
    settled_pss: f64,
    pss: f64,
    rss: f64,
    uss: f64,
}

/// Starts the app on `data` and waits until it used no CPU for 3 s (at least 5 s after
/// the start, at most 180 s); then reads its memory and stops it.
fn run_app(bin: &Path, display: &str, data: &Path, env: &[(&str, &str)]) -> Result<Figures, Error> {
    run_app_traced(bin, display, data, env, None)
}

/// [`run_app`], with `heaptrack`: the app runs with heaptrack's preload library, writing
/// its record to that file, and is killed (not asked to quit) once measured, so what
/// heaptrack reports as "leaked" is what was live at the measurement.
fn run_app_traced(
    bin: &Path,
    display: &str,
    data: &Path,
    env: &[(&str, &str)],
    heaptrack: Option<&Path>,
) -> Result<Figures, Error> {
    let mut command = Process::new(bin);
    let mut interpreter = None;
    if let Some(out) = heaptrack {
        let fifo = data.with_extension("heaptrack-fifo");
        let _ = std::fs::remove_file(&fifo);
        if !Process::new("mkfifo").arg(&fifo).status()?.success() {
            return Err("mkfifo failed".into());
        }
        interpreter = Some(
            Process::new("sh")
                .arg("-c")
                .arg(format!(
                    "/usr/lib/heaptrack/libexec/heaptrack_interpret < '{}' | zstd -q -c > '{}'",
                    fifo.display(),
                    out.display()
                ))
                .spawn()?,
        );
        command
            .env("LD_PRELOAD", "/usr/lib/heaptrack/libheaptrack_preload.so")
            .env("DUMP_HEAPTRACK_OUTPUT", &fifo);
    }
    command
        .env("DISPLAY", display)
        .env("LOQUAT_DATA_DIR", data)
        .env("LOQUAT_LANG", "en")
        .env_remove("ICED_BACKEND")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(data.with_extension("log"))?);
    for (k, v) in env {
        command.env(k, v);
    }
    let started = Instant::now();
    let mut child = command.spawn()?;
    let pid = child.id();
    let mut samples: Vec<(Instant, f64)> = Vec::new();
    let quiet_after = loop {
        std::thread::sleep(Duration::from_millis(500));
        if let Ok(Some(status)) = child.try_wait() {
            // Its last words (stderr), so a crash says what it was.
            let log = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "the app exited ({status}); its log ends:\n{}",
                tail.join("\n")
            )
            .into());
        }
        let now = Instant::now();
        samples.push((now, cpu_secs(pid).ok_or("no /proc/PID/stat")?));
        let window = samples
            .iter()
            .rev()
            .find(|(t, _)| now.duration_since(*t) >= Duration::from_secs(3));
        if let (Some((_, before)), Some((_, last))) = (window, samples.last())
            && started.elapsed() >= Duration::from_secs(5)
            && last - before < 0.015
        {
            break started.elapsed().as_secs_f64() - 3.0;
        }
        if started.elapsed() > Duration::from_secs(180) {
            break f64::NAN;
        }
    };
    let (pss, rss, uss) = memory(pid).ok_or("no smaps_rollup")?;
    // Where it lies: the largest parts of the PSS, now and when it is read again.
    let by_mapping = |when: &str| {
        let parts: Vec<String> = pss_by_mapping(pid)
            .into_iter()
            .take(8)
            .map(|(name, mib)| format!("{name} {mib:.1}"))
            .collect();
        println!("    {when}PSS by mapping (MiB): {}", parts.join(", "));
    };
    by_mapping("");
    std::thread::sleep(Duration::from_secs(10));
    let settled_pss = memory(pid).map_or(f64::NAN, |(pss, _, _)| pss);
    by_mapping("10 s later, ");
    // Everything stored was flushed already (the store's durability rule). Traced, the
    // app is killed at once: heaptrack's "leaked" is then what was live here.
    let signal = if interpreter.is_some() {
        libc::SIGKILL
    } else {
        libc::SIGTERM
    };
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid as i32, signal) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait()?.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    if let Some(mut interpreter) = interpreter {
        let _ = interpreter.wait();
    }
    Ok(Figures {
        quiet_after,
        settled_pss,
        pss,
        rss,
        uss,
    })
}

fn number(var: &str, default: usize) -> Result<usize, Error> {
    Ok(std::env::var(var).map_or(Ok(default), |v| v.parse())?)
}

fn main() -> Result<(), Error> {
    if !std::env::args().any(|a| a == "--bench") {
        println!("memory benchmark: smoke run under cargo test: nothing started");
        return Ok(());
    }
    let contacts = number("LOQUAT_BENCH_CONTACTS", 500)?;
    let archive = number("LOQUAT_BENCH_ARCHIVE", 20_000)?;
    let bin = std::env::var_os("LOQUAT_BENCH_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_loquat")),
        PathBuf::from,
    );
    let secrets = match loquat::secrets::KeyringSecrets::init() {
        Ok(s) => s,
        Err(e) => {
            println!("memory benchmark needs a keyring (run it under tests/kr.sh): {e}");
            return Ok(());
        }
    };
    let work = tempfile::tempdir()?;
    let mut lua = "max_archive_query_results = 250\n".to_owned();
    let sqlite = sqlite_driver_installed();
    // On a RAM disk where there is one: the set-up is not what is measured, and a sync
    // per archived message on a busy disk makes it take many minutes.
    let shm = tempfile::tempdir_in("/dev/shm").ok();
    if sqlite {
        let db = shm
            .as_ref()
            .map_or(work.path(), |d| d.path())
            .join("prosody.sqlite");
        lua.push_str(&format!(
            "default_storage = \"sql\"\nsql = {{ driver = \"SQLite3\", database = \"{}\" }}\n",
            db.display()
        ));
    }
    let server = TestServer::start_with(&lua);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (a_jid, a_pw) = server.fresh_user("ma");
    let (b_jid, b_pw) = server.fresh_user("mb");
    let t = Instant::now();
    rt.block_on(async {
        let account = loquat::ids::AccountId("setup-a".into());
        let p = local_params(
            account,
            server.c2s_port(),
            server.ca_pem(),
            &a_jid,
            &a_pw,
            None,
        );
        let mut ua: Updates = Box::pin(loquat::session::run(p));
        let ha = next_matching(&mut ua, 30, "A ready", |k| match k {
            UpdateKind::Ready(h) => Some(h.clone()),
            _ => None,
        })
        .await?;
        next_matching(&mut ua, 30, "A online", |k| {
            matches!(k, UpdateKind::Online { .. }).then_some(())
        })
        .await?;
        ha.send(Command::AddContact {
            jid: jid(&b_jid),
            name: Some("B".into()),
            subscribe: false,
        })?;
        for c in 1..contacts {
            ha.send(Command::AddContact {
                jid: jid(&format!("contact{c}@example.org")),
                name: Some(format!("Contact number {c}")),
                subscribe: false,
            })?;
        }
        let mut added = 0;
        next_matching(&mut ua, 120, "the roster pushes", |k| {
            if matches!(k, UpdateKind::ContactChanged(_)) {
                added += 1;
            }
            (added >= contacts).then_some(())
        })
        .await?;
        drop(ha);
        drop(ua);
        println!(
            "  set-up: {contacts} contacts added ({:.0} s)",
            t.elapsed().as_secs_f64()
        );

        let account = loquat::ids::AccountId("setup-b".into());
        let p = local_params(
            account,
            server.c2s_port(),
            server.ca_pem(),
            &b_jid,
            &b_pw,
            None,
        );
        let mut ub: Updates = Box::pin(loquat::session::run(p));
        let hb = next_matching(&mut ub, 30, "B ready", |k| match k {
            UpdateKind::Ready(h) => Some(h.clone()),
            _ => None,
        })
        .await?;
        next_matching(&mut ub, 30, "B online", |k| {
            matches!(k, UpdateKind::Online { .. }).then_some(())
        })
        .await?;
        for i in 0..archive {
            hb.send(Command::SendChat {
                to: jid(&a_jid),
                body: format!("archived {i:05}"),
                id: LocalMessageId::generate(),
            })?;
        }
        let mut acked = 0;
        next_matching(
            &mut ub,
            120 + archive as u64 / 20,
            "B's acknowledgements",
            |k| {
                if let UpdateKind::Delivery {
                    state: Delivery::Acked,
                    ..
                } = k
                {
                    acked += 1;
                }
                (acked == archive).then_some(())
            },
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok::<_, Error>(())
    })?;
    println!(
        "memory benchmark: Prosody storage {}, A has {contacts} contacts and {archive} archived \
         messages from B (set up in {:.0} s); binary {}",
        if sqlite { "SQLite" } else { "internal (files)" },
        t.elapsed().as_secs_f64(),
        bin.display()
    );

    let xvfb = Xvfb::start()?;
    let mut account = Account::new(jid(&a_jid));
    account.server = ServerOverride {
        host: Some("127.0.0.1".into()),
        port: Some(server.c2s_port()),
        direct_tls: false,
    };
    account.trust = Trust {
        extra_roots_pem: Some(server.ca_pem()),
        pinned_sha256: Vec::new(),
    };
    secrets.set(&account.id, &a_pw)?;

    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty)?;
    let reference = run_app(&bin, &xvfb.display, &empty, &[])?;
    println!(
        "  the app with no account (sign-in form), quiet after {:.1} s: PSS {:.1} MiB (10 s later {:.1}), RSS {:.1} MiB, USS {:.1} MiB",
        reference.quiet_after, reference.pss, reference.settled_pss, reference.rss, reference.uss
    );
    type Variant<'a> = (&'a str, String, &'a Path, &'a [(&'a str, &'a str)]);
    let mut variants: Vec<Variant> = vec![
        (
            "cache128",
            "page cache 128 MiB (the size before issue #21)".into(),
            &bin,
            &[("LOQUAT_STORE_CACHE_MB", "128")],
        ),
        ("default", "default page cache".into(), &bin, &[]),
    ];
    // glibc keeps what the catch-up's burst freed; the app gives it back once caught up
    // (`loquat::memory`). This run keeps it, as before.
    variants.push((
        "kept",
        "default page cache, freed memory kept (LOQUAT_KEEP_FREED=1)".into(),
        &bin,
        &[("LOQUAT_KEEP_FREED", "1")],
    ));
    // LOQUAT_BENCH_DIAGNOSE: where the memory goes, one part taken away at a time.
    if std::env::var_os("LOQUAT_BENCH_DIAGNOSE").is_some() {
        variants.push((
            "nosearch",
            "default page cache, no search index (LOQUAT_NO_SEARCH=1)".into(),
            &bin,
            &[("LOQUAT_NO_SEARCH", "1")],
        ));
        variants.push((
            "cache1",
            "page cache 1 MiB".into(),
            &bin,
            &[("LOQUAT_STORE_CACHE_MB", "1")],
        ));
        variants.push((
            "cache16",
            "page cache 16 MiB (the default before it was 4)".into(),
            &bin,
            &[("LOQUAT_STORE_CACHE_MB", "16")],
        ));
        variants.push((
            "cache8",
            "page cache 8 MiB".into(),
            &bin,
            &[("LOQUAT_STORE_CACHE_MB", "8")],
        ));
        variants.push((
            "arena2",
            "default page cache, two malloc arenas (MALLOC_ARENA_MAX=2, the default before stop 33)"
                .into(),
            &bin,
            &[("MALLOC_ARENA_MAX", "2")],
        ));
        // glibc raises its mmap threshold after a large block is freed (up to 32 MiB),
        // so later large buffers come from the heap and pin it; a fixed threshold
        // keeps them in their own mappings, given back when freed.
        variants.push((
            "mmap128k",
            "default page cache, mmap threshold fixed at 128 KiB".into(),
            &bin,
            &[("MALLOC_MMAP_THRESHOLD_", "131072")],
        ));
        variants.push((
            "mmap32k",
            "default page cache, mmap threshold fixed at 32 KiB".into(),
            &bin,
            &[("MALLOC_MMAP_THRESHOLD_", "32768")],
        ));
    }
    // LOQUAT_BENCH_HEAPTRACK=FILE: the default run once more under heaptrack (Debian's
    // `heaptrack`), killed when measured: `heaptrack_print FILE` then lists what was
    // live by call stack ("MOST MEMORY LEAKED"). Its figures are heaptrack's, not the app's.
    let heaptrack = std::env::var_os("LOQUAT_BENCH_HEAPTRACK").map(PathBuf::from);
    if heaptrack.is_some() {
        variants.push((
            "heaptrack",
            "default page cache, under heaptrack".into(),
            &bin,
            &[],
        ));
    }
    // LOQUAT_BENCH_BEFORE_BIN: an older build measured in the same run.
    let before = std::env::var_os("LOQUAT_BENCH_BEFORE_BIN").map(PathBuf::from);
    if let Some(before) = &before {
        variants.insert(
            0,
            (
                "before",
                format!("older build {}", before.display()),
                before,
                &[],
            ),
        );
    }
    // LOQUAT_BENCH_ONLY=default,heaptrack: only those runs (names as in the list above).
    if let Ok(only) = std::env::var("LOQUAT_BENCH_ONLY") {
        variants.retain(|(dir, ..)| only.split(',').any(|o| o == *dir));
    }
    for (dir, label, bin, env) in variants {
        let data = work.path().join(dir);
        {
            let store = Store::open(&data.join("db"))?;
            store.save_account(&account)?;
        }
        // sled lets go of its lock a moment after the last handle.
        std::thread::sleep(Duration::from_millis(500));
        if dir == "before" {
            // Written by this build, read by the older one: without messages, schema 3
            // is schema 2's layout.
            let db = sled::open(data.join("db"))?;
            db.open_tree("meta")?
                .insert("schema_version", &2u32.to_be_bytes())?;
            db.flush()?;
            drop(db);
            std::thread::sleep(Duration::from_millis(500));
        }
        let traced = heaptrack.as_deref().filter(|_| dir == "heaptrack");
        let f = run_app_traced(bin, &xvfb.display, &data, env, traced)?;
        std::thread::sleep(Duration::from_millis(500));
        // Before this build opens (and migrates) it.
        let bytes = dir_size(&data.join("db"));
        let store = Store::open(&data.join("db"))?;
        let stored = store
            .latest(&account.id, &ConversationId::Chat(jid(&b_jid)), archive * 2)?
            .len();
        let (_, roster) = store.roster(&account.id)?;
        drop(store);
        println!(
            "  A signed in, {label}: quiet after {:.1} s; PSS {:.1} MiB ({:+.1} MiB beyond the empty \
             app; 10 s later {:.1} MiB, {:+.1}), RSS {:.1} MiB, USS {:.1} MiB; stored {stored} messages, \
             {} contacts; store on disk {:.1} MB, {:.0} bytes per message",
            f.quiet_after,
            f.pss,
            f.pss - reference.pss,
            f.settled_pss,
            f.settled_pss - reference.settled_pss,
            f.rss,
            f.uss,
            roster.len(),
            bytes as f64 / 1e6,
            bytes as f64 / stored.max(1) as f64,
        );
    }
    let _ = secrets.delete(&account.id);
    Ok(())
}
