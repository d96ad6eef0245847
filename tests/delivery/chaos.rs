//! Scenario (4): kill -9 of the client process, many times.

use crate::oracle::{Side, assert_once_in_order, bodies, wait_stored};
use crate::support::{Process, TestServer};
use loquat::ids::AccountId;
use loquat::model::Direction;
use loquat::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The example binary, built next to this test binary. Always through cargo (a no-op
/// when it is up to date): a binary left from older sources would test old code.
fn chaos_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_chaos_binary).clone()
}

fn build_chaos_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let debug = exe.parent().and_then(Path::parent).expect("target folder");
    let bin = debug.join("examples").join("chaos_client");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--example", "chaos_client"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build --example chaos_client");
    assert!(status.success(), "building examples/chaos_client failed");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build --example chaos_client`",
        bin.display()
    );
    bin
}

fn random_ms(min: u64, max: u64) -> u64 {
    min + (uuid::Uuid::new_v4().as_u128() % u128::from(max - min)) as u64
}

/// Who the chaos client signs in as, where it keeps its data, whom it writes to.
struct Who<'a> {
    jid: &'a str,
    password: &'a str,
    data: &'a Path,
    peer: &'a str,
}

fn client(server: &TestServer, who: &Who, send: usize, tag: &str, linger: u64) -> Process {
    let mut cmd = Command::new(chaos_binary());
    cmd.args([
        "--jid",
        who.jid,
        "--password",
        who.password,
        "--peer",
        who.peer,
    ])
    .arg("--port")
    .arg(server.c2s_port().to_string())
    .arg("--ca")
    .arg(server.ca_path())
    .arg("--data")
    .arg(who.data)
    .args([
        "--send",
        &send.to_string(),
        "--tag",
        tag,
        "--linger",
        &linger.to_string(),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null());
    // LOQUAT_CHAOS_LOGS=DIR keeps each run's log (with RUST_LOG) for a post-mortem.
    if let Some(logs) = std::env::var_os("LOQUAT_CHAOS_LOGS") {
        let path = Path::new(&logs).join(format!("{tag}.log"));
        if let Ok(file) = std::fs::File::create(path) {
            cmd.stderr(file);
        }
    }
    if tag == "last" {
        // The last run ends only after its catch-up did: a fixed time was too short on a
        // loaded machine and looked like lost messages.
        cmd.arg("--until-caught-up");
    }
    Process::spawn(cmd).expect("start the chaos client")
}

pub async fn run(runs: usize) {
    let started = Instant::now();
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let (a_jid, a_pw) = server.fresh_user("chaos-a");
    let a_dir = dir.path().join("chaos-a");
    std::fs::create_dir_all(&a_dir).expect("data folder");
    let mut b = Side::new(&server, "chaos-b", dir.path());
    b.sign_in(&server).await;
    let b_jid = b.jid.clone();
    let who = Who {
        jid: &a_jid,
        password: &a_pw,
        data: &a_dir,
        peer: &b_jid,
    };
    let per_run = 500 / runs.max(1);
    let mut next = 0;
    for k in 0..runs {
        let mut child = client(&server, &who, 10, &format!("run{k:03}"), 5);
        let life = random_ms(200, 1500);
        let t = Instant::now();
        // B's messages stream in while A lives (and dies).
        while next < 500 && next < per_run * (k + 1) {
            b.send(&a_jid, format!("chaos b #{next:03}"));
            next += 1;
            tokio::time::sleep(Duration::from_millis(life / per_run as u64 / 2)).await;
        }
        if let Some(rest) = Duration::from_millis(life).checked_sub(t.elapsed()) {
            tokio::time::sleep(rest).await;
        }
        child.kill();
    }
    while next < 500 {
        b.send(&a_jid, format!("chaos b #{next:03}"));
        next += 1;
    }
    // Once more, to the end: it catches up and sends what it still owes. A run whose
    // catch-up did not end within a minute (a loaded machine) is followed by another:
    // what matters is that nothing is lost for good, which a cursor moved past unfetched
    // history would be, in every later run too.
    for attempt in 1..=3 {
        let mut last = client(&server, &who, 0, "last", 10);
        let deadline = Instant::now() + Duration::from_secs(90);
        let status = loop {
            if let Some(status) = last.exited() {
                break status;
            }
            assert!(Instant::now() < deadline, "the last client run did not end");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        if status.code() != Some(3) {
            break;
        }
        eprintln!("last run {attempt}: its catch-up did not end within 60 s; running again");
    }
    let store = Store::open(&a_dir).expect("A's store after the runs");
    let account = AccountId(format!("acc-{a_jid}"));
    for key in ["mam-cursor", "mam-backfill", "mam-gap-after"] {
        let value = store.pref(&format!("{key}:{account}"));
        eprintln!("A's {key}: {value:?}");
    }
    if let Some(logs) = std::env::var_os("LOQUAT_CHAOS_LOGS") {
        // Keep A's data folder next to the logs.
        let keep = Path::new(&logs).join("data");
        let _ = Command::new("cp").arg("-a").arg(&a_dir).arg(&keep).status();
    }
    let received = bodies(&store, &account, &b.jid, Direction::Incoming);
    // Everything once, in the order B sent it (B's archive order: B never faulted),
    // whatever A wrote offline and sent again after each kill.
    assert_once_in_order(
        "A's store after the kills (B's messages)",
        &received,
        &b.sent,
    );
    let accepted = bodies(&store, &account, &b.jid, Direction::Outgoing);
    let outbox = store.outbox(&account).expect("outbox");
    assert!(
        outbox.is_empty(),
        "{} of A's messages were never confirmed, e.g. {:?}",
        outbox.len(),
        outbox.first().map(|m| &m.body)
    );
    wait_stored("A's accepted messages at B", 30, &accepted, || {
        b.stored(&a_jid, Direction::Incoming)
    })
    .await;
    let mut at_b = b.stored(&a_jid, Direction::Incoming);
    at_b.sort();
    let mut want = accepted.clone();
    want.sort();
    assert_once_in_order("B received A's accepted messages", &at_b, &want);
    eprintln!(
        "{runs} kills: A accepted {} messages, received {}; {:.1} s",
        accepted.len(),
        received.len(),
        started.elapsed().as_secs_f64()
    );
}
