//! Delivery benchmark of issue #6 (plain binary, `harness = false`); prints its figures.
//!
//! `cargo bench --bench delivery`
//!
//! Against the test Prosody (tests/support) with its storage (accounts, archive, offline
//! messages) on SQLite (`default_storage = "sql"`, Debian package `lua-dbi-sqlite3`);
//! where that driver is missing it falls back to Prosody's internal file storage and
//! says so. `LOQUAT_BENCH_STORAGE=internal` forces the file storage;
//! `LOQUAT_BENCH_SQLITE_DIR=/dev/shm` puts the SQLite file on a RAM disk instead of
//! Prosody's data folder (to tell the disk's sync cost from Prosody's own work).
//!
//! (a) Flood: a peer B sends N messages (default 5,000; `LOQUAT_BENCH_FLOOD=N`) as fast
//!     as its session takes them, three times in one run:
//!     - to C, a plain session without a store: Prosody's own routing rate, the reference
//!       (B's send rate, until the server acknowledged the last one, is printed too);
//!     - to A, a session with a sled store, as in the app (messages stored per second,
//!       first to last stored), with the search index following the store as in the app
//!       (`LOQUAT_BENCH_NO_SEARCH=1`: without it);
//!     - to A', the same plus the app's state: every update goes through `App::update`
//!       (iced, built with `--features gui`, the default) with the conversation with B
//!       open and the window focused, and a frame (view built, laid out and drawn into
//!       tiny-skia primitives, one renderer and layout cache for all frames as the iced
//!       runtime keeps them; no rasterising) at most every 16 ms. Tasks `App::update` returns (marking
//!       messages read in the store) are not run.
//!     For each: rate, ratio to the reference, and this process's RSS (VmRSS, sampled
//!     every 250 ms): start, peak, end. All sessions live in this one process on the
//!     same cores as Prosody, so B's own session costs CPU in every figure.
//! (b) First sign-in with M archived messages (default 20,000; `LOQUAT_BENCH_ARCHIVE=M`):
//!     B sends M messages to A, who never signed in (they land in A's archive and in its
//!     offline store); then A signs in on a new empty store. Time until the newest page
//!     is stored (first `History` or stored message), until the archive catch-up ended
//!     (`CaughtUp`), and until all M are stored. Loquat asks for 250 messages a page and
//!     fills at most 200 pages backwards (50,000 messages); Prosody hands out at most
//!     `max_archive_query_results` a page (its default is 50, which would cap a first
//!     sign-in at 10,000): the server here is set to 250 (`LOQUAT_BENCH_MAM_MAX=N`).
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it is a smoke run with 100
//! messages in each part (SQLite on /dev/shm where there is one) and no figures worth
//! reading.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[path = "delivery/pager.rs"]
mod pager;
#[path = "../tests/support/mod.rs"]
mod support;

use futures::{Stream, StreamExt};
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Delivery, Direction};
use loquat::session::{Command, Handle, SessionParams, Update, UpdateKind};
use loquat::store::Store;
use std::collections::HashSet;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::TestServer;
use support::session::next_matching;
use xmpp_parsers::jid::BareJid;

type Error = Box<dyn std::error::Error>;
type Updates = Pin<Box<dyn Stream<Item = Update> + Send>>;

/// Prosody's storage on SQLite (needs the `lua-dbi-sqlite3` package); the database
/// file is relative to Prosody's data folder unless `database` is a full path.
fn sqlite_lua(database: &str) -> String {
    format!(
        "default_storage = \"sql\"\nsql = {{ driver = \"SQLite3\", database = \"{database}\" }}"
    )
}

/// CPU seconds (user + system) a process used so far (`self` or a pid), from
/// /proc/<pid>/stat at 100 ticks a second (Linux's USER_HZ).
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// CPU seconds Prosody and this process used while `f` ran.
async fn cpu_during<T>(server: &TestServer, f: impl Future<Output = T>) -> (T, f64, f64) {
    let pid = server.pid().to_string();
    let (p0, s0) = (cpu_secs(&pid), cpu_secs("self"));
    let out = f.await;
    let used = |a: Option<f64>, b: Option<f64>| a.zip(b).map_or(f64::NAN, |(a, b)| b - a);
    (out, used(p0, cpu_secs(&pid)), used(s0, cpu_secs("self")))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Whether Lua's DBI driver for SQLite is installed (Debian: lua-dbi-sqlite3).
fn sqlite_driver_installed() -> bool {
    let Ok(dirs) = std::fs::read_dir("/usr/lib") else {
        return false;
    };
    dirs.flatten().any(|d| {
        ["5.1", "5.2", "5.3", "5.4"].iter().any(|v| {
            d.path()
                .join("lua")
                .join(v)
                .join("dbd/sqlite3.so")
                .is_file()
        })
    })
}

/// This process's resident set size in KiB (`VmRSS` in /proc/self/status).
fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples the RSS every 250 ms on its own thread until stopped.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<u64>>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            loop {
                samples.extend(rss_kb());
                if stop2.load(Ordering::Relaxed) {
                    return samples;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        RssSampler { stop, thread }
    }

    /// Start, peak and end, in KiB, and the number of samples.
    fn finish(self) -> (u64, u64, u64, usize) {
        self.stop.store(true, Ordering::Relaxed);
        let samples = self.thread.join().unwrap_or_default();
        let first = samples.first().copied().unwrap_or_default();
        let last = samples.last().copied().unwrap_or_default();
        let peak = samples.iter().copied().max().unwrap_or_default();
        (first, peak, last, samples.len())
    }
}

fn params(
    server: &TestServer,
    account: AccountId,
    jid: &str,
    pw: &str,
    store: Option<Store>,
) -> SessionParams {
    support::session::local_params(account, server.c2s_port(), server.ca_pem(), jid, pw, store)
}

/// Starts a session and waits until it is online; every update on the way goes to
/// `seen` (the app, in the UI run).
async fn start(
    p: SessionParams,
    mut seen: impl FnMut(&Update),
) -> Result<(Updates, Handle), Error> {
    let mut u: Updates = Box::pin(loquat::session::run(p));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut handle = None;
    loop {
        match tokio::time::timeout_at(deadline, u.next()).await {
            Ok(Some(update)) => {
                seen(&update);
                match &update.kind {
                    UpdateKind::Ready(h) => handle = Some(h.clone()),
                    UpdateKind::Online { .. } => break,
                    UpdateKind::Failed(e) => return Err(format!("sign-in failed: {e}").into()),
                    _ => {}
                }
            }
            _ => return Err("not online within 30 s".into()),
        }
    }
    Ok((u, handle.ok_or("no Ready before Online")?))
}

/// Waits until the session's archive catch-up ended: on a first sign-in what reaches
/// the server before the archive was asked counts as history, not news, so a flood
/// measured as news starts only then.
async fn until_caught_up(u: &mut Updates, mut seen: impl FnMut(&Update)) -> Result<(), Error> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, u.next()).await {
            Ok(Some(update)) => {
                seen(&update);
                if matches!(update.kind, UpdateKind::CaughtUp) {
                    return Ok(());
                }
            }
            _ => return Err("the archive catch-up did not end within 30 s".into()),
        }
    }
}

fn send(h: &Handle, to: &BareJid, body: String) -> Result<(), Error> {
    h.send(Command::SendChat {
        to: to.clone(),
        body,
        id: LocalMessageId::generate(),
    })?;
    Ok(())
}

/// The app's state with one account and the conversation with the peer open, fed the
/// session's updates as the runtime would, drawn at most every 16 ms.
#[cfg(feature = "gui")]
struct Screen {
    app: loquat::ui::App,
    /// One renderer and one layout cache for all frames, as the iced runtime keeps them.
    renderer: iced::Renderer,
    cache: Option<iced_runtime::user_interface::Cache>,
    last_frame: Option<Instant>,
    frames: usize,
    drawing: Duration,
    /// Updates fed to `App::update`, and the time they took.
    updates: usize,
    updating: Duration,
}

#[cfg(feature = "gui")]
impl Screen {
    fn new(account: &loquat::model::Account, store: Store) -> Result<Screen, Error> {
        use iced_runtime::core::renderer::Headless;
        use loquat::ui::app::startup::{LoadedAccount, Startup};
        let app = loquat::ui::App::from_startup(
            loquat::ui::i18n::Lang::En,
            Startup {
                store: Some(store),
                accounts: vec![LoadedAccount::new(account.clone(), Some("pw".into()))],
                ..Startup::default()
            },
        );
        let renderer = futures::executor::block_on(<iced::Renderer as Headless>::new(
            iced::Font::DEFAULT,
            iced::Pixels(16.0),
            Some("tiny-skia"),
        ))
        .ok_or("no tiny-skia renderer")?;
        Ok(Screen {
            app,
            renderer,
            cache: None,
            last_frame: None,
            frames: 0,
            drawing: Duration::ZERO,
            updates: 0,
            updating: Duration::ZERO,
        })
    }

    fn update(&mut self, u: &Update) {
        let t = Instant::now();
        let _ = self.app.update(loquat::ui::Message::Session(u.clone()));
        self.updating += t.elapsed();
        self.updates += 1;
    }

    /// Opens the conversation as a click on a notification would, window focused.
    fn open(&mut self, account: &AccountId, peer: &BareJid) -> Result<(), Error> {
        use loquat::ui::{Message, desktop::Event};
        let _ = self.app.update(Message::WindowFocused(true));
        let _ = self.app.update(Message::Desktop(Event::Open {
            account: account.clone(),
            peer: peer.clone(),
            room: false,
        }));
        match self.app.current_conversation() {
            Some((a, p)) if a == account && p == peer => Ok(()),
            other => Err(format!("the conversation did not open: {other:?}").into()),
        }
    }

    fn maybe_draw(&mut self, force: bool) {
        if !force
            && self
                .last_frame
                .is_some_and(|t| t.elapsed() < Duration::from_millis(16))
        {
            return;
        }
        let t = Instant::now();
        let mut ui = iced_runtime::UserInterface::build(
            self.app.view(),
            iced::Size::new(1280.0, 800.0),
            self.cache.take().unwrap_or_default(),
            &mut self.renderer,
        );
        ui.draw(
            &mut self.renderer,
            &self.app.theme().unwrap_or(iced::Theme::Light),
            &iced_runtime::core::renderer::Style::default(),
            iced::mouse::Cursor::Unavailable,
        );
        self.cache = Some(ui.into_cache());
        self.drawing += t.elapsed();
        self.frames += 1;
        self.last_frame = Some(Instant::now());
    }
}

/// Without the gui feature there is no app state to feed.
#[cfg(not(feature = "gui"))]
struct Screen {
    frames: usize,
    drawing: Duration,
    updates: usize,
    updating: Duration,
}

#[cfg(not(feature = "gui"))]
impl Screen {
    fn update(&mut self, _: &Update) {}
    fn maybe_draw(&mut self, _: bool) {}
}

/// Figures of one flood.
struct Flood {
    /// First to last stored (or received) at the receiver.
    first_to_last: Duration,
    /// From the first send to the last one received.
    total: Duration,
    /// From the first send until the server acknowledged B's last message.
    acked: Option<Duration>,
    received: usize,
    rss: (u64, u64, u64, usize),
    frames: Option<(usize, Duration, usize, Duration)>,
}

impl Flood {
    fn rate(&self) -> f64 {
        // n-1 intervals between first and last.
        (self.received.saturating_sub(1)) as f64 / self.first_to_last.as_secs_f64().max(1e-9)
    }
}

/// B sends `n` messages to `to`; counts them arriving on `ur` (stored ones when the
/// receiving session has a store), feeding every update to `screen` if given.
async fn flood(
    n: usize,
    tag: &str,
    (ub, hb): (&mut Updates, &Handle),
    to: &BareJid,
    ur: &mut Updates,
    mut screen: Option<&mut Screen>,
) -> Result<Flood, Error> {
    let sampler = RssSampler::start();
    let t0 = Instant::now();
    for i in 0..n {
        send(hb, to, format!("{tag} {i:05}"))?;
    }
    let prefix = format!("{tag} ");
    let (mut first, mut last) = (None, None);
    let mut received = 0usize;
    let mut acked = HashSet::new();
    let mut acked_at = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120 + n as u64 / 10);
    while received < n || acked_at.is_none() {
        tokio::select! {
            u = ur.next(), if received < n => {
                let Some(u) = u else { return Err("the receiving session ended".into()) };
                if let UpdateKind::Message(m) = &u.kind
                    && m.direction == Direction::Incoming
                    && m.body.starts_with(&prefix)
                {
                    received += 1;
                    let now = Instant::now();
                    first.get_or_insert(now);
                    last = Some(now);
                }
                if let Some(s) = screen.as_deref_mut() {
                    s.update(&u);
                    s.maybe_draw(false);
                }
            }
            u = ub.next(), if acked_at.is_none() => {
                let Some(u) = u else { return Err("B's session ended".into()) };
                if let UpdateKind::Delivery { id, state: Delivery::Acked } = u.kind {
                    acked.insert(id);
                    if acked.len() == n {
                        acked_at = Some(t0.elapsed());
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                if received < n {
                    return Err(format!("{tag}: only {received} of {n} arrived").into());
                }
                break;
            }
        }
    }
    let total = t0.elapsed();
    let frames = screen.map(|s| {
        s.maybe_draw(true);
        (s.frames, s.drawing, s.updates, s.updating)
    });
    // A little longer, so memory after the flood shows too.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let rss = sampler.finish();
    Ok(Flood {
        first_to_last: last.zip(first).map(|(l, f)| l - f).unwrap_or_default(),
        total,
        acked: acked_at,
        received,
        rss,
        frames,
    })
}

fn print_flood(what: &str, f: &Flood, reference: Option<f64>) {
    let ratio = reference.map_or(String::new(), |r| {
        format!(", {:.2}x the reference", f.rate() / r)
    });
    println!(
        "  {what}: {} messages, {:.0} messages/s (first to last: {:.2} s; first sent to last in: {:.2} s){ratio}",
        f.received,
        f.rate(),
        f.first_to_last.as_secs_f64(),
        f.total.as_secs_f64(),
    );
    if let Some(a) = f.acked {
        println!(
            "    B's send rate: all acknowledged by the server after {:.2} s ({:.0} messages/s)",
            a.as_secs_f64(),
            f.received as f64 / a.as_secs_f64().max(1e-9)
        );
    }
    let (start, peak, end, samples) = f.rss;
    println!(
        "    process RSS: start {:.1} MiB, peak {:.1} MiB, end {:.1} MiB ({samples} samples, 250 ms apart)",
        mib(start),
        mib(peak),
        mib(end)
    );
    if let Some((frames, drawing, updates, updating)) = f.frames {
        println!(
            "    UI: {frames} frames (view + layout + draw), {:.1} ms each on average, {:.2} s in all; \
             {updates} updates through App::update, {:.2} ms each, {:.2} s in all",
            ms(drawing) / frames.max(1) as f64,
            drawing.as_secs_f64(),
            ms(updating) / updates.max(1) as f64,
            updating.as_secs_f64()
        );
    }
}

struct User {
    id: AccountId,
    jid: String,
    bare: BareJid,
    pw: String,
}

fn user(server: &TestServer, prefix: &str) -> Result<User, Error> {
    let (jid, pw) = server.fresh_user(prefix);
    Ok(User {
        id: AccountId(format!("acc-{jid}")),
        bare: BareJid::new(&jid)?,
        jid,
        pw,
    })
}

async fn part_a(server: &TestServer, n: usize) -> Result<(), Error> {
    let b = user(server, "fb")?;
    let c = user(server, "fc")?;
    let a = user(server, "fa")?;
    let (mut ub, hb) = start(params(server, b.id.clone(), &b.jid, &b.pw, None), |_| {}).await?;

    println!("(a) flood of {n} messages from B");
    let (mut uc, _hc) = start(params(server, c.id.clone(), &c.jid, &c.pw, None), |_| {}).await?;
    let reference = flood(n, "to-c", (&mut ub, &hb), &c.bare, &mut uc, None).await?;
    print_flood("reference: C (no store) receives", &reference, None);
    drop(uc);

    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("a"))?;
    // The search index follows the store as in the app (issue #19), unless
    // LOQUAT_BENCH_NO_SEARCH is set (to measure the flood without it).
    let _search = if std::env::var_os("LOQUAT_BENCH_NO_SEARCH").is_none() {
        Some(loquat::search::SearchIndex::open(&store)?)
    } else {
        None
    };
    let (mut ua, _ha) = start(
        params(server, a.id.clone(), &a.jid, &a.pw, Some(store.clone())),
        |_| {},
    )
    .await?;
    until_caught_up(&mut ua, |_| {}).await?;
    let stored = flood(n, "to-a", (&mut ub, &hb), &a.bare, &mut ua, None).await?;
    print_flood(
        "A (session + sled store) stores",
        &stored,
        Some(reference.rate()),
    );
    let in_store = store
        .latest(&a.id, &ConversationId::Chat(b.bare.clone()), n * 3)?
        .len();
    println!("    A's store holds {in_store} messages with B (expected {n})");
    drop(ua);

    #[cfg(feature = "gui")]
    {
        let a2 = user(server, "fa-ui")?;
        let account = loquat::model::Account::new(a2.bare.clone());
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("a-ui"))?;
        let mut screen = Screen::new(&account, store.clone())?;
        let (mut ua, _ha) = start(
            params(
                server,
                account.id.clone(),
                &a2.jid,
                &a2.pw,
                Some(store.clone()),
            ),
            |u| screen.update(u),
        )
        .await?;
        until_caught_up(&mut ua, |u| screen.update(u)).await?;
        screen.open(&account.id, &b.bare)?;
        screen.maybe_draw(true);
        let shown = flood(
            n,
            "to-a-ui",
            (&mut ub, &hb),
            &a2.bare,
            &mut ua,
            Some(&mut screen),
        )
        .await?;
        print_flood(
            "A' (session + store + app state, conversation open) stores and shows",
            &shown,
            Some(reference.rate()),
        );
    }
    #[cfg(not(feature = "gui"))]
    println!("  (built without the gui feature: no run with the app's state)");
    Ok(())
}

async fn part_b(server: &TestServer, m: usize) -> Result<(), Error> {
    let b = user(server, "ab")?;
    let a = user(server, "aa")?;
    let (mut ub, hb) = start(params(server, b.id.clone(), &b.jid, &b.pw, None), |_| {}).await?;
    let t = Instant::now();
    for i in 0..m {
        send(&hb, &a.bare, format!("archived {i:05}"))?;
    }
    let mut acked = 0usize;
    next_matching(
        &mut ub,
        120 + m as u64 / 20,
        "B's last acknowledgement",
        |k| {
            if let UpdateKind::Delivery {
                state: Delivery::Acked,
                ..
            } = k
            {
                acked += 1;
            }
            (acked == m).then_some(())
        },
    )
    .await?;
    println!(
        "(b) set-up: B sent {m} messages to A (offline, never signed in); the server took them in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // Let the server finish writing its archive.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("a"))?;
    let sampler = RssSampler::start();
    let pid = server.pid().to_string();
    let cpu0 = (cpu_secs(&pid), cpu_secs("self"));
    let t = Instant::now();
    let (mut ua, _ha) = start(
        params(server, a.id.clone(), &a.jid, &a.pw, Some(store.clone())),
        |_| {},
    )
    .await?;
    let online = t.elapsed();
    let mut count = 0usize;
    let (mut first_page, mut caught_up, mut all) = (None, None, None);
    let mut first_len = 0;
    // The newest archive page, and messages that came as stored messages (offline
    // messages the server pushes, forward archive pages).
    let mut first_history = None;
    let mut live = 0usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120 + m as u64 / 50);
    // After CaughtUp, wait a little for offline messages still on their way.
    let mut quiet_until = None;
    loop {
        let until = quiet_until.map_or(deadline, |q: tokio::time::Instant| q.min(deadline));
        match tokio::time::timeout_at(until, ua.next()).await {
            Ok(Some(u)) => {
                let got = match &u.kind {
                    UpdateKind::History(ms) => {
                        let n = ms.iter().filter(|m| *m.peer() == b.bare).count();
                        if n > 0 && first_history.is_none() {
                            first_history = Some((t.elapsed(), n));
                        }
                        n
                    }
                    UpdateKind::Message(msg) if *msg.peer() == b.bare => {
                        live += 1;
                        1
                    }
                    UpdateKind::CaughtUp => {
                        caught_up.get_or_insert(t.elapsed());
                        quiet_until = Some(tokio::time::Instant::now() + Duration::from_secs(3));
                        0
                    }
                    _ => 0,
                };
                if got > 0 {
                    if first_page.is_none() {
                        first_page = Some(t.elapsed());
                        first_len = got;
                    }
                    count += got;
                    if count >= m && all.is_none() {
                        all = Some(t.elapsed());
                    }
                }
                if all.is_some() && caught_up.is_some() {
                    break;
                }
            }
            _ => break,
        }
    }
    let rss = sampler.finish();
    let used = |a: Option<f64>, b: Option<f64>| a.zip(b).map_or(f64::NAN, |(a, b)| b - a);
    let (signin_prosody, signin_self) =
        (used(cpu0.0, cpu_secs(&pid)), used(cpu0.1, cpu_secs("self")));
    // The reference: a bare client pages through the same archive (after Loquat, so any
    // cold cache on the server's side is Loquat's to pay).
    let pager_params = params(server, a.id.clone(), &a.jid, &a.pw, None);
    let (paged, ref_prosody, ref_self) =
        cpu_during(server, pager::page_through(&pager_params)).await;
    let (paged, paged_in) = paged?;
    let in_store = store
        .latest(&a.id, &ConversationId::Chat(b.bare.clone()), m * 3)?
        .len();
    let opt = |d: Option<Duration>| d.map_or("never".to_owned(), |d| format!("{:.0} ms", ms(d)));
    println!(
        "(b) first sign-in, empty store: online {:.0} ms; first stored ({first_len} messages) {}; \
         newest archive page {}; catch-up ended {}; all {m} stored {}",
        ms(online),
        opt(first_page),
        first_history.map_or("never".to_owned(), |(d, n)| format!(
            "({n} messages) {:.0} ms",
            ms(d)
        )),
        opt(caught_up),
        opt(all),
    );
    println!(
        "    reference: a bare client (no store, no model) paged through the same archive \
         ({paged} results) in {:.0} ms; all stored took {}",
        ms(paged_in),
        all.map_or("-".to_owned(), |d| format!(
            "{:.2}x that",
            d.as_secs_f64() / paged_in.as_secs_f64().max(1e-9)
        )),
    );
    println!(
        "    CPU seconds, Prosody / this process: Loquat's sign-in {signin_prosody:.1} / \
         {signin_self:.1}; the reference {ref_prosody:.1} / {ref_self:.1}"
    );
    println!(
        "    {live} of them came as single messages (offline messages pushed by the server, or \
         forward pages), {} in archive pages filled backwards",
        count - live
    );
    println!(
        "    A's store holds {in_store} of {m} messages{}; process RSS start {:.1} MiB, peak {:.1} MiB, end {:.1} MiB",
        if in_store == m { "" } else { " (NOT all)" },
        mib(rss.0),
        mib(rss.1),
        mib(rss.2)
    );
    Ok(())
}

fn size(var: &str, real_run: bool, real: usize) -> Result<usize, Error> {
    Ok(match std::env::var(var) {
        Ok(v) => v.parse()?,
        Err(_) if real_run => real,
        Err(_) => 100,
    })
}

fn main() -> Result<(), Error> {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off"))
        .try_init();
    let real_run = std::env::args().any(|a| a == "--bench");
    let flood_n = size("LOQUAT_BENCH_FLOOD", real_run, 5_000)?;
    let archive_m = size("LOQUAT_BENCH_ARCHIVE", real_run, 20_000)?;
    let mam_max: usize = match std::env::var("LOQUAT_BENCH_MAM_MAX") {
        Ok(v) => v.parse()?,
        Err(_) => 250,
    };
    let sqlite = std::env::var("LOQUAT_BENCH_STORAGE").map_or(true, |s| s != "internal")
        && sqlite_driver_installed();
    // LOQUAT_BENCH_SQLITE_DIR=/dev/shm puts the database on a RAM disk (no fsync cost).
    // The smoke run does the same, where there is one, to stay fast.
    let sqlite_dir = match std::env::var("LOQUAT_BENCH_SQLITE_DIR") {
        Ok(d) => Some(tempfile::tempdir_in(d)?),
        Err(_) if !real_run && Path::new("/dev/shm").is_dir() => {
            tempfile::tempdir_in("/dev/shm").ok()
        }
        Err(_) => None,
    };
    let database = sqlite_dir
        .as_ref()
        .map_or("prosody.sqlite".to_owned(), |d| {
            d.path().join("prosody.sqlite").display().to_string()
        });
    let mut lua = format!("max_archive_query_results = {mam_max}\n");
    if sqlite {
        lua.push_str(&sqlite_lua(&database));
    }
    let server = TestServer::start_with(&lua);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // Registering the first user creates the database when SQL storage works.
    let probe = server.fresh_user("probe");
    let on_sqlite = sqlite && server.dir().join("data").join(&database).is_file();
    drop(probe);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "delivery benchmark: Prosody storage {}, max_archive_query_results {mam_max}, {cores} core(s){}",
        if on_sqlite {
            format!("SQLite (mod_storage_sql, {database})")
        } else if sqlite {
            "asked for SQLite, but no prosody.sqlite appeared: internal (files)?".to_owned()
        } else {
            "internal (files; lua-dbi-sqlite3 missing or LOQUAT_BENCH_STORAGE=internal)".to_owned()
        },
        if real_run {
            ""
        } else {
            " (smoke run under cargo test: unoptimised, figures not meaningful)"
        }
    );
    rt.block_on(part_a(&server, flood_n))?;
    rt.block_on(part_b(&server, archive_m))?;
    Ok(())
}
