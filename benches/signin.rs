//! Sign-in benchmark (plain binary, `harness = false`); prints its figures.
//!
//! `cargo bench --bench signin`
//!
//! Starts the test Prosody (tests/support), then measures, alternating in one run, the
//! time until one account is online and the time until five accounts started at once
//! are all online: fresh sessions every round, one shared store as in the app. Prints
//! the medians and their ratio. Target: five at once take at most 1.5x one.
//!
//! On loopback the server's CPU dominates: Prosody handles sign-ins one at a time on the
//! same cores as the client. So the same measurement runs a second time through a relay
//! that adds network latency (`LOQUAT_BENCH_RTT_MS`, default 50 ms round trip), where a
//! sign-in is bound by round trips as it is for real users, and reports both.
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it does a single loopback
//! round as a smoke test. `LOQUAT_BENCH_ROUNDS=N` sets the number of measured rounds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[path = "../tests/support/mod.rs"]
mod support;

use futures::future::join_all;
use futures::{Stream, StreamExt};
use loquat::ids::AccountId;
use loquat::model::{ServerOverride, Trust};
use loquat::session::{SessionParams, Update, UpdateKind};
use loquat::store::Store;
use std::pin::Pin;
use std::time::{Duration, Instant};
use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use xmpp_parsers::jid::BareJid;

type Error = Box<dyn std::error::Error>;
type Updates = Pin<Box<dyn Stream<Item = Update> + Send>>;

const MANY: usize = 5;
const ROUNDS: usize = 10;
/// Longest wait for one sign-in before the benchmark gives up.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between measurements so the server has closed the previous sessions.
const SETTLE: Duration = Duration::from_millis(300);

struct User {
    id: AccountId,
    jid: BareJid,
    password: String,
}

/// Where the sessions connect: the server itself or a relay in front of it.
#[derive(Clone, Copy)]
struct Target {
    port: u16,
}

fn params(server: &TestServer, target: Target, user: &User, store: &Store) -> SessionParams {
    SessionParams {
        account: user.id.clone(),
        jid: user.jid.clone(),
        password: user.password.clone(),
        server: ServerOverride {
            host: Some("127.0.0.1".into()),
            port: Some(target.port),
            direct_tls: false,
        },
        trust: Trust {
            extra_roots_pem: Some(server.ca_pem()),
            pinned_sha256: Vec::new(),
        },
        resource: None,
        store: Some(store.clone()),
        verify_only: false,
        allow_plain: false,
        omemo_key: None,
    }
}

/// Drives one session until it is online; returns its stream (dropping it ends the
/// session) or why it did not get there.
async fn until_online(p: SessionParams) -> Result<Updates, String> {
    let who = p.jid.to_string();
    let mut updates: Updates = Box::pin(loquat::session::run(p));
    let deadline = tokio::time::Instant::now() + SIGN_IN_TIMEOUT;
    loop {
        match tokio::time::timeout_at(deadline, updates.next()).await {
            Ok(Some(u)) => match u.kind {
                UpdateKind::Online { .. } => return Ok(updates),
                UpdateKind::Failed(e) | UpdateKind::Disconnected { error: e, .. } => {
                    return Err(format!("{who}: {e}"));
                }
                _ => {}
            },
            Ok(None) => return Err(format!("{who}: the session ended")),
            Err(_) => return Err(format!("{who}: not online within {SIGN_IN_TIMEOUT:?}")),
        }
    }
}

/// CPU time (user + system) used so far by process `pid` ("self" for this one), from
/// /proc; `None` where there is no /proc.
fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start with field 3.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let ticks = u64::try_from(ticks).ok().filter(|t| *t > 0)?;
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / ticks as f64,
    ))
}

/// CPU used by this process and by the server during the measured sign-ins.
#[derive(Default)]
struct Cpu {
    client: Duration,
    server: Duration,
}

/// Signs `users` in at once; the time until the last one is online. Adds the CPU time
/// used meanwhile (until online) to `cpu`.
async fn sign_in(
    server: &TestServer,
    target: Target,
    users: &[User],
    store: &Store,
    cpu: &mut Cpu,
) -> Result<Duration, Error> {
    let server_pid = server.pid().to_string();
    let before = (cpu_time("self"), cpu_time(&server_pid));
    let start = Instant::now();
    let results = join_all(
        users
            .iter()
            .map(|u| until_online(params(server, target, u, store))),
    )
    .await;
    let elapsed = start.elapsed();
    if let (Some(c0), Some(s0), Some(c1), Some(s1)) =
        (before.0, before.1, cpu_time("self"), cpu_time(&server_pid))
    {
        cpu.client += c1.saturating_sub(c0);
        cpu.server += s1.saturating_sub(s0);
    }
    let mut sessions = Vec::with_capacity(results.len());
    for r in results {
        sessions.push(r?);
    }
    // Dropping the streams ends the sessions (a clean stream close in the background).
    drop(sessions);
    tokio::time::sleep(SETTLE).await;
    Ok(elapsed)
}

/// A TCP relay to 127.0.0.1:`to` that holds every chunk for `one_way` in each
/// direction, like a network with that latency (and unlimited bandwidth). Runs until
/// the runtime stops.
async fn start_relay(to: u16, one_way: Duration) -> std::io::Result<Target> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(("127.0.0.1", to)).await else {
                    return;
                };
                // The relay itself must not add Nagle delays of its own.
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::join!(
                    delayed_copy(client_read, server_write, one_way),
                    delayed_copy(server_read, client_write, one_way),
                );
            });
        }
    });
    Ok(Target { port })
}

/// Copies `from` to `to`, each chunk `delay` after it was read, in order.
async fn delayed_copy(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let read = async move {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf).await {
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            if tx
                .send((tokio::time::Instant::now() + delay, chunk.to_vec()))
                .is_err()
            {
                break;
            }
        }
    };
    let write = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(read, write);
}

/// Timings of one setting: single sign-ins and five at once, alternating.
struct Figures {
    one: Vec<Duration>,
    many: Vec<Duration>,
    cpu_one: Cpu,
    cpu_many: Cpu,
}

async fn measure(
    server: &TestServer,
    target: Target,
    users: &[User],
    store: &Store,
    rounds: usize,
) -> Result<Figures, Error> {
    let single = users.get(..1).ok_or("no user")?;
    // Warm-up (not counted): first TLS handshakes, Prosody loading its modules.
    let mut warm_up = Cpu::default();
    sign_in(server, target, single, store, &mut warm_up).await?;
    sign_in(server, target, users, store, &mut warm_up).await?;
    let mut f = Figures {
        one: Vec::with_capacity(rounds),
        many: Vec::with_capacity(rounds),
        cpu_one: Cpu::default(),
        cpu_many: Cpu::default(),
    };
    for round in 0..rounds {
        // Alternate which goes first, so drift favours neither.
        if round % 2 == 0 {
            f.one
                .push(sign_in(server, target, single, store, &mut f.cpu_one).await?);
            f.many
                .push(sign_in(server, target, users, store, &mut f.cpu_many).await?);
        } else {
            f.many
                .push(sign_in(server, target, users, store, &mut f.cpu_many).await?);
            f.one
                .push(sign_in(server, target, single, store, &mut f.cpu_one).await?);
        }
    }
    Ok(f)
}

fn report(title: &str, f: &Figures, rounds: usize) {
    let one_median = median(&mut f.one.clone());
    let many_median = median(&mut f.many.clone());
    let ratio = many_median.as_secs_f64() / one_median.as_secs_f64().max(1e-9);
    println!("{title}:");
    println!(
        "  1 account online:        median {:.1} ms ({})",
        ms(one_median),
        describe(&f.one)
    );
    println!(
        "  {MANY} accounts all online:  median {:.1} ms ({})",
        ms(many_median),
        describe(&f.many)
    );
    println!(
        "  ratio {MANY}/1: {ratio:.2} (target <= 1.5: {})",
        if ratio <= 1.5 { "met" } else { "NOT met" }
    );
    // Where the time goes: the server (one Prosody process) works on sign-ins one at a
    // time, so its CPU per sign-in times five is a floor for five at once.
    let per = |d: Duration, n: usize| ms(d) / n.max(1) as f64;
    println!(
        "  CPU per sign-in: client {:.1} ms alone, {:.1} ms in fives; server {:.1} ms \
         alone, {:.1} ms in fives (from /proc in 10 ms ticks: rough)",
        per(f.cpu_one.client, rounds),
        per(f.cpu_many.client, rounds * MANY),
        per(f.cpu_one.server, rounds),
        per(f.cpu_many.server, rounds * MANY),
    );
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn describe(samples: &[Duration]) -> String {
    let min = samples.iter().min().copied().unwrap_or_default();
    let max = samples.iter().max().copied().unwrap_or_default();
    format!("min {:.1} ms, max {:.1} ms", ms(min), ms(max))
}

fn main() -> Result<(), Error> {
    // `RUST_LOG=debug` shows where the time goes (with microsecond timestamps).
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off"))
        .format_timestamp_micros()
        .init();
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without
    // it, as a one-round smoke run.
    let real_run = std::env::args().any(|a| a == "--bench");
    let rounds = match std::env::var("LOQUAT_BENCH_ROUNDS") {
        Ok(v) => v.parse()?,
        Err(_) if real_run => ROUNDS,
        Err(_) => 1,
    };

    let server = TestServer::start();
    // Alternate domains, as a person with accounts on two servers would.
    let users: Vec<User> = (0..MANY)
        .map(|i| {
            let domain = if i % 2 == 0 {
                "localhost"
            } else {
                "example.test"
            };
            let (address, password) = server.fresh_user_on("bench", domain);
            Ok(User {
                id: AccountId(format!("bench-{i}")),
                jid: BareJid::new(&address)?,
                password,
            })
        })
        .collect::<Result<_, Error>>()?;
    let rtt_ms: u64 = match std::env::var("LOQUAT_BENCH_RTT_MS") {
        Ok(v) => v.parse()?,
        Err(_) => 50,
    };
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path())?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let direct = Target {
        port: server.c2s_port(),
    };
    let loopback = runtime.block_on(measure(&server, direct, &users, &store, rounds))?;
    let delayed = if real_run && rtt_ms > 0 {
        let relay = runtime.block_on(start_relay(
            server.c2s_port(),
            Duration::from_millis(rtt_ms / 2),
        ))?;
        Some(runtime.block_on(measure(&server, relay, &users, &store, rounds))?)
    } else {
        None
    };

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "sign-in against the local Prosody, {rounds} round(s) each, {cores} core(s){}",
        if real_run {
            ""
        } else {
            " (smoke run under cargo test: unoptimised, figures not meaningful)"
        }
    );
    report("loopback, no added latency", &loopback, rounds);
    if let Some(delayed) = &delayed {
        report(
            &format!("through a relay adding {rtt_ms} ms round-trip time"),
            delayed,
            rounds,
        );
    }
    Ok(())
}
