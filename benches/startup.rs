//! Start-up benchmark of issue #21 (plain binary, `harness = false`); prints its figures.
//!
//! `cargo bench --bench startup`
//!
//! Starts the real binary (the bench profile's build of `loquat`, or `LOQUAT_BENCH_BIN`)
//! under a private Xvfb, several times, interleaved with the other programs measured:
//! - Loquat with no account (a fresh data folder: the sign-in form);
//! - Loquat with a prepared data folder: 3 accounts, 50 conversations (20 messages
//!   each), a 100-contact roster per account. No password is stored, so the accounts
//!   wait for theirs and nothing touches the network (they point at 127.0.0.1:9 anyway);
//! - the scale case of issue #21 (`LOQUAT_BENCH_SCALE` messages, default 1,000,000, 0 to
//!   skip; written before the runs, several minutes): 3 accounts, a 2,000-contact roster,
//!   200 chats and 100 rooms sharing those messages. Gigabytes: used in place, not
//!   copied per run, after one unmeasured start that builds its search index;
//!   `LOQUAT_BENCH_SCALE_DIR=DIR` keeps it there (and uses it when it exists);
//! - the same folder drawn by wgpu (`LOQUAT_RENDERER=gpu`; on a machine without a GPU,
//!   a software Vulkan or GL driver);
//! - Gajim and Dino with a fresh profile (no account), when `gajim` / `dino` are
//!   installed (Debian: gajim, dino-im); skipped otherwise.
//!
//! For each run: time from spawn to the window being mapped (`xdotool search
//! --onlyvisible --pid`, polled every 25 ms, for every program alike), and for Loquat to
//! its first drawn frame showing the inbox or the sign-in form (`LOQUAT_LOG_FIRST_FRAME`:
//! the app prints the wall-clock time of that frame); at 10 s: PSS, RSS and USS
//! (`/proc/PID/smaps_rollup`) and the CPU time used so far; then the CPU used over the
//! next `LOQUAT_BENCH_IDLE` seconds (default 20) with nothing happening, as a percentage
//! of one core. Each window is given the keyboard focus once mapped (there is no window
//! manager), so a focused text field's caret is part of the idle figure. Medians of `LOQUAT_BENCH_RUNS` runs (default 3), and each figure as a
//! ratio to Loquat with its inbox (measured in the same run).
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it only prepares and checks
//! the data folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[path = "common/mod.rs"]
mod common;
use common::{cpu_secs, dir_size, memory, pss_by_mapping};

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Contact, Delivery, Direction, Subscription};
use loquat::store::Store;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use xmpp_parsers::jid::BareJid;

type Error = Box<dyn std::error::Error>;

const ACCOUNTS: usize = 3;
const CONVERSATIONS: usize = 50;
const MESSAGES_EACH: usize = 20;
const CONTACTS_EACH: usize = 100;
/// When memory and the start-up CPU are read.
const SETTLED: Duration = Duration::from_secs(10);

/// Account `a` of a prepared folder, saved; it points at a port nothing listens on.
fn unreachable_account(store: &Store, a: usize) -> Result<Account, Error> {
    let mut account = Account::new(BareJid::new(&format!("me{a}@unreachable.invalid"))?);
    account.position = a as u32;
    account.server.host = Some("127.0.0.1".into());
    account.server.port = Some(9);
    store.save_account(&account)?;
    Ok(account)
}

/// `n` contacts of account `a`, shared out over `groups` roster groups.
fn friends(a: usize, n: usize, groups: usize) -> Vec<Contact> {
    (0..n)
        .map(|c| Contact {
            jid: BareJid::new(&format!("friend{c}@example.org")).unwrap(),
            name: Some(format!("Friend {c} of {a}")),
            subscription: Subscription::Both,
            pending_out: false,
            groups: vec![format!("Group {}", c % groups)],
        })
        .collect()
}

/// Writes the inbox data folder: accounts, rosters, conversations.
fn prepare_inbox(dir: &Path) -> Result<(), Error> {
    let store = Store::open(&dir.join("db"))?;
    let t0 = 1_760_000_000_000i64;
    let mut conversation = 0;
    for a in 0..ACCOUNTS {
        let account = unreachable_account(&store, a)?;
        let contacts = friends(a, CONTACTS_EACH, 1);
        store.save_roster(&account.id, Some("1"), &contacts)?;
        // The conversations shared out over the accounts (17, 17, 16).
        let mine = CONVERSATIONS / ACCOUNTS + usize::from(a < CONVERSATIONS % ACCOUNTS);
        for c in 0..mine {
            let peer = BareJid::new(&format!("friend{c}@example.org"))?;
            let batch: Vec<ChatMessage> = (0..MESSAGES_EACH)
                .map(|n| message(&account.id, &peer, conversation, n, t0))
                .collect();
            store.insert_old_messages(&batch)?;
            conversation += 1;
        }
    }
    store.flush()?;
    Ok(())
}

/// The scale case of issue #21: 3 accounts, a 2,000-contact roster in all, 200 chats and
/// 100 rooms (the app rejoins a room it has history of, and reads its newest page at
/// start), and `total` messages shared out over those 300 conversations.
fn prepare_scale(dir: &Path, total: usize) -> Result<(), Error> {
    const CONTACTS: usize = 2_000;
    const CHATS: usize = 200;
    const ROOMS: usize = 100;
    let store = Store::open(&dir.join("db"))?;
    let t0 = 1_700_000_000_000i64;
    let each = total / (CHATS + ROOMS);
    let mut conversations = Vec::new();
    for a in 0..ACCOUNTS {
        let account = unreachable_account(&store, a)?;
        let contacts = friends(a, CONTACTS / ACCOUNTS, 12);
        store.save_roster(&account.id, Some("1"), &contacts)?;
        for c in (a..CHATS).step_by(ACCOUNTS) {
            let peer = BareJid::new(&format!("friend{c}@example.org"))?;
            conversations.push((account.id.clone(), ConversationId::Chat(peer)));
        }
        for r in (a..ROOMS).step_by(ACCOUNTS) {
            let room = BareJid::new(&format!("room{r}@rooms.example.org"))?;
            conversations.push((account.id.clone(), ConversationId::Room(room)));
        }
    }
    // Written in rounds across the conversations, as history arrives over time.
    let rounds = each.div_ceil(ROUND);
    for round in 0..rounds {
        let mut batch = Vec::with_capacity(SETUP_BATCH);
        for (conv, (account, conversation)) in conversations.iter().enumerate() {
            for n in round * ROUND..((round + 1) * ROUND).min(each) {
                batch.push(in_conversation(account, conversation.clone(), conv, n, t0));
                if batch.len() == SETUP_BATCH {
                    store.insert_old_messages(&batch)?;
                    batch.clear();
                }
            }
        }
        store.insert_old_messages(&batch)?;
    }
    store.flush()?;
    Ok(())
}

/// Messages per conversation in one round of [`prepare_scale`], and per write.
const ROUND: usize = 100;
const SETUP_BATCH: usize = 10_000;

fn message(account: &AccountId, peer: &BareJid, conv: usize, n: usize, t0: i64) -> ChatMessage {
    in_conversation(account, ConversationId::Chat(peer.clone()), conv, n, t0)
}

fn in_conversation(
    account: &AccountId,
    conversation: ConversationId,
    conv: usize,
    n: usize,
    t0: i64,
) -> ChatMessage {
    let incoming = !n.is_multiple_of(3);
    let sender = match &conversation {
        ConversationId::Chat(_) => String::new(),
        _ => format!("member{}", n % 7),
    };
    ChatMessage {
        id: LocalMessageId::generate(),
        account: account.clone(),
        conversation,
        direction: if incoming {
            Direction::Incoming
        } else {
            Direction::Outgoing
        },
        sender,
        body: format!("message {n} in conversation {conv}: a line of ordinary chat text"),
        timestamp_ms: t0 + (conv * 1_000 + n) as i64 * 60_000,
        stanza_id_attr: Some(format!("attr-{conv}-{n}")),
        origin_id: Some(format!("origin-{conv}-{n}")),
        server_id: Some(format!("archive-{conv}-{n}")),
        delivery: Delivery::Delivered,
        attachment: None,
        extras: Default::default(),
        truncated: false,
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A private X server; killed on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Result<Xvfb, Error> {
        // LOQUAT_BENCH_DISPLAY=:77: that display number, on a machine shared with
        // scripts that expect theirs to be free.
        if let Ok(display) = std::env::var("LOQUAT_BENCH_DISPLAY") {
            let child = Command::new("Xvfb")
                .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            let xvfb = Xvfb { child, display };
            for _ in 0..100 {
                let ready = Command::new("xdotool")
                    .arg("getdisplaygeometry")
                    .env("DISPLAY", &xvfb.display)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if ready {
                    return Ok(xvfb);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            return Err(format!("Xvfb did not start on {}", xvfb.display).into());
        }
        // -displayfd: Xvfb picks a free display itself and writes its number once ready.
        let mut child = Command::new("Xvfb")
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

/// One program to measure.
#[derive(Clone)]
struct Subject {
    name: &'static str,
    program: PathBuf,
    /// Loquat's data folder to copy fresh for each run (`None`: an empty one).
    data: Option<PathBuf>,
    /// Use `data` itself, not a copy (the scale case: gigabytes; each run then starts
    /// on the folder the previous run left, as a person's next start does).
    in_place: bool,
    env: Vec<(&'static str, String)>,
    loquat: bool,
}

/// Figures of one run.
#[derive(Default, Clone, Copy)]
struct Run {
    mapped: Option<f64>,
    first_frame: Option<f64>,
    pss: f64,
    rss: f64,
    uss: f64,
    cpu_10s: f64,
    idle_pct: f64,
}

/// The id of `pid`'s visible window, once it is mapped.
fn window_mapped(display: &str, pid: u32) -> Option<String> {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--pid", &pid.to_string()])
        .env("DISPLAY", display)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let id = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .trim()
        .to_owned();
    (!id.is_empty()).then_some(id)
}

/// Gives the window the keyboard focus, as a window manager does with a new window
/// (Xvfb has none): a focused text field blinks its caret, which the idle figure counts.
fn focus_window(display: &str, id: &str) {
    let _ = Command::new("xdotool")
        .args(["windowfocus", id])
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn unix_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros()
}

fn run_once(subject: &Subject, display: &str, idle: Duration) -> Result<Run, Error> {
    let work = tempfile::tempdir()?;
    let mut data = work.path().join("data");
    match &subject.data {
        Some(prepared) if subject.in_place => data = prepared.clone(),
        Some(prepared) => copy_dir(prepared, &data)?,
        None => std::fs::create_dir_all(&data)?,
    }
    let home = work.path().join("home");
    std::fs::create_dir_all(&home)?;
    let mut command = Command::new(&subject.program);
    command
        .env("DISPLAY", display)
        .env("LOQUAT_DATA_DIR", &data)
        .env("LOQUAT_LOG_FIRST_FRAME", "1")
        .env("LOQUAT_LANG", "en")
        .env_remove("ICED_BACKEND")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(work.path().join("stderr.log"))?);
    if !subject.loquat {
        // Gajim refuses to run as root: the peers run as `nobody` then, in a folder it
        // may write.
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 && which("setpriv").is_some() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755))?;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o777))?;
            command = Command::new("setpriv");
            command
                .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
                .arg(&subject.program)
                .env("DISPLAY", display)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(std::fs::File::create(work.path().join("stderr.log"))?);
        }
        // A fresh profile: no account, nothing from this machine's user.
        command
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"));
    }
    for (k, v) in &subject.env {
        command.env(k, v);
    }
    let spawned_us = unix_us();
    let spawned = Instant::now();
    let mut child = command.spawn()?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(us) = line
                    .strip_prefix("first-frame ")
                    .and_then(|rest| rest.split_once("unix_us="))
                    .and_then(|(_, us)| us.trim().parse::<u128>().ok())
                {
                    let _ = tx.send(us);
                }
            }
        });
    }
    let mut run = Run::default();
    while spawned.elapsed() < SETTLED {
        if run.mapped.is_none()
            && let Some(id) = window_mapped(display, pid)
        {
            run.mapped = Some(spawned.elapsed().as_secs_f64());
            focus_window(display, &id);
        }
        if run.first_frame.is_none()
            && let Ok(us) = rx.try_recv()
        {
            run.first_frame = Some(us.saturating_sub(spawned_us) as f64 / 1e6);
        }
        if run.mapped.is_some() && (run.first_frame.is_some() || !subject.loquat) {
            std::thread::sleep(SETTLED.saturating_sub(spawned.elapsed()));
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(work.path().join("stderr.log")).unwrap_or_default();
            return Err(format!("{} exited early ({status}): {log}", subject.name).into());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let (pss, rss, uss) = memory(pid).ok_or("no smaps_rollup")?;
    if subject.loquat {
        // Where it lies: the largest parts of the PSS.
        let parts: Vec<String> = pss_by_mapping(pid)
            .into_iter()
            .take(6)
            .map(|(name, mib)| format!("{name} {mib:.1}"))
            .collect();
        println!(
            "    {}: PSS by mapping (MiB): {}",
            subject.name,
            parts.join(", ")
        );
    }
    let cpu_10s = cpu_secs(pid).ok_or("no /proc/PID/stat")?;
    let idle_start = Instant::now();
    std::thread::sleep(idle);
    let cpu_idle = cpu_secs(pid).ok_or("no /proc/PID/stat")? - cpu_10s;
    run.idle_pct = cpu_idle / idle_start.elapsed().as_secs_f64() * 100.0;
    (run.pss, run.rss, run.uss, run.cpu_10s) = (pss, rss, uss, cpu_10s);
    if subject.in_place {
        // The folder is used again: quit through the app's own path, not a crash.
        stop(&mut child);
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(run)
}

/// Asks the app to quit (SIGTERM, its quit path) and waits up to 10 s for it.
fn stop(child: &mut std::process::Child) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A first start on an in-place folder, not measured: the app builds its search index
/// of the generated history (there is none yet) and settles. Waits until it used no CPU
/// for 3 s (at most 10 minutes), then quits it.
fn warm_up(subject: &Subject, display: &str) -> Result<f64, Error> {
    let Some(data) = &subject.data else {
        return Ok(0.0);
    };
    let mut child = Command::new(&subject.program)
        .env("DISPLAY", display)
        .env("LOQUAT_DATA_DIR", data)
        .env_remove("ICED_BACKEND")
        .env_remove("WAYLAND_DISPLAY")
        .envs(subject.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    let mut samples: Vec<(Instant, f64)> = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = Instant::now();
        let Some(cpu) = cpu_secs(child.id()) else {
            break;
        };
        samples.push((now, cpu));
        let window = samples
            .iter()
            .rev()
            .find(|(t, _)| now.duration_since(*t) >= Duration::from_secs(3));
        if let Some((_, before)) = window
            && started.elapsed() >= Duration::from_secs(5)
            && cpu - before < 0.015
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            break;
        }
    }
    let settled = started.elapsed().as_secs_f64() - 3.0;
    stop(&mut child);
    let _ = child.kill();
    let _ = child.wait();
    Ok(settled)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

fn main() -> Result<(), Error> {
    let real_run = std::env::args().any(|a| a == "--bench");
    let prepared = tempfile::tempdir()?;
    let inbox = prepared.path().join("inbox");
    let t = Instant::now();
    prepare_inbox(&inbox)?;
    let store = Store::open(&inbox.join("db"))?;
    let accounts = store.accounts()?;
    let conversations: usize = accounts
        .iter()
        .map(|a| store.conversations(&a.id).map(|c| c.len()))
        .sum::<Result<usize, _>>()?;
    drop(store);
    assert_eq!((accounts.len(), conversations), (ACCOUNTS, CONVERSATIONS));
    println!(
        "start-up benchmark: data folder with {ACCOUNTS} accounts, {CONVERSATIONS} conversations \
         of {MESSAGES_EACH} messages, {CONTACTS_EACH} contacts per account (written in {:.2} s)",
        t.elapsed().as_secs_f64()
    );
    if !real_run {
        println!("  (smoke run under cargo test: no program started)");
        return Ok(());
    }
    let runs: usize = std::env::var("LOQUAT_BENCH_RUNS").map_or(Ok(3), |v| v.parse())?;
    let idle =
        Duration::from_secs(std::env::var("LOQUAT_BENCH_IDLE").map_or(Ok(20), |v| v.parse())?);
    let loquat = std::env::var_os("LOQUAT_BENCH_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_loquat")),
        PathBuf::from,
    );
    if which("Xvfb").is_none() || which("xdotool").is_none() {
        println!("  Xvfb and xdotool are needed (Debian: xvfb, xdotool): nothing measured");
        return Ok(());
    }
    let scale_total: usize =
        std::env::var("LOQUAT_BENCH_SCALE").map_or(Ok(1_000_000), |v| v.parse())?;
    // LOQUAT_BENCH_SCALE_DIR=DIR: the scale folder is kept there (written only when
    // DIR does not exist yet), to be measured again or looked into (e.g. heaptrack).
    let scale = std::env::var_os("LOQUAT_BENCH_SCALE_DIR")
        .map_or_else(|| prepared.path().join("scale"), PathBuf::from);
    if scale_total > 0 && !scale.exists() {
        let t = Instant::now();
        prepare_scale(&scale, scale_total)?;
        let bytes = dir_size(&scale);
        println!(
            "  scale data folder: {scale_total} messages in 200 chats and 100 rooms, 2,000 contacts, \
             written in {:.1} s; {:.0} MB on disk ({:.0} bytes a message)",
            t.elapsed().as_secs_f64(),
            bytes as f64 / 1e6,
            bytes as f64 / scale_total as f64
        );
    }
    let mut subjects = vec![
        Subject {
            name: "Loquat, inbox (tiny-skia)",
            program: loquat.clone(),
            data: Some(inbox.clone()),
            in_place: false,
            env: Vec::new(),
            loquat: true,
        },
        Subject {
            name: "Loquat, no account (tiny-skia)",
            program: loquat.clone(),
            data: None,
            in_place: false,
            env: Vec::new(),
            loquat: true,
        },
        Subject {
            name: "Loquat, inbox (wgpu)",
            program: loquat.clone(),
            data: Some(inbox.clone()),
            in_place: false,
            env: vec![("LOQUAT_RENDERER", "gpu".into())],
            loquat: true,
        },
    ];
    if scale_total > 0 {
        subjects.insert(
            1,
            Subject {
                name: "Loquat, scale case (tiny-skia)",
                program: loquat.clone(),
                data: Some(scale.clone()),
                in_place: true,
                env: Vec::new(),
                loquat: true,
            },
        );
    }
    for (name, program) in [
        ("Gajim, no account", "gajim"),
        ("Dino, no account", "dino-im"),
    ] {
        match which(program) {
            Some(path) => subjects.push(Subject {
                name,
                program: path,
                data: None,
                in_place: false,
                env: Vec::new(),
                loquat: false,
            }),
            None => println!("  ({program} is not installed: not measured)"),
        }
    }
    let xvfb = Xvfb::start()?;
    println!(
        "  binary {}; Xvfb {}; {runs} interleaved runs, medians; idle measured over {} s",
        loquat.display(),
        xvfb.display,
        idle.as_secs()
    );
    for subject in subjects.iter().filter(|s| s.in_place) {
        let settled = warm_up(subject, &xvfb.display)?;
        println!(
            "  {}: first start (search index built from the store), settled after {settled:.0} s",
            subject.name
        );
    }
    let mut results: Vec<Vec<Run>> = vec![Vec::new(); subjects.len()];
    for round in 0..runs {
        for (subject, out) in subjects.iter().zip(results.iter_mut()) {
            match run_once(subject, &xvfb.display, idle) {
                Ok(run) => out.push(run),
                Err(e) => println!("  run {round} of {}: {e}", subject.name),
            }
        }
    }
    let figure =
        |runs: &[Run], f: fn(&Run) -> Option<f64>| median(runs.iter().filter_map(f).collect());
    type Column = (&'static str, fn(&Run) -> Option<f64>, &'static str);
    let columns: [Column; 7] = [
        ("spawn to window mapped", |r| r.mapped, "s"),
        ("spawn to first frame drawn", |r| r.first_frame, "s"),
        ("PSS at 10 s", |r| Some(r.pss), "MiB"),
        ("RSS at 10 s", |r| Some(r.rss), "MiB"),
        ("USS at 10 s", |r| Some(r.uss), "MiB"),
        ("CPU in the first 10 s", |r| Some(r.cpu_10s), "s"),
        ("idle CPU after", |r| Some(r.idle_pct), "%"),
    ];
    let reference = results.first().cloned().unwrap_or_default();
    for (subject, runs) in subjects.iter().zip(&results) {
        println!("  {} ({} runs):", subject.name, runs.len());
        for (label, f, unit) in columns {
            let Some(value) = figure(runs, f) else {
                continue;
            };
            let ratio = match figure(&reference, f) {
                Some(r) if r > 0.0 && !std::ptr::eq(runs, &results[0]) => {
                    format!("  ({:.2}x Loquat's inbox)", value / r)
                }
                _ => String::new(),
            };
            let precision = if unit == "%" {
                2
            } else if unit == "MiB" {
                1
            } else {
                3
            };
            println!("    {label:<28} {value:>8.precision$} {unit}{ratio}");
        }
    }
    Ok(())
}
