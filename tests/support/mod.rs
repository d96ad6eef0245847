//! Shared test harness: real XMPP servers started per test, on free loopback ports.
//!
//! Use it from an integration test with `mod support;`:
//!
//! ```ignore
//! let server = support::TestServer::start();          // a private Prosody
//! let (jid, password) = server.fresh_user("alice");   // "alice-1@localhost"
//! // connect to 127.0.0.1:server.c2s_port(), trusting server.ca_pem()
//! ```
//!
//! Every server lives in its own temp folder with its own throwaway CA, and is killed
//! when the value is dropped (also when the test panics). The binaries must be
//! installed (`bash tests/run-all.sh` installs them as root): a missing server is a
//! test failure with a clear message, never a silent skip.

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

#[cfg(feature = "gui")]
pub mod app;

/// A time `span_ms` or less before now, but never before today's local midnight: messages
/// stamped from it on all fall on "Today" (a run just after midnight otherwise sees some
/// of them under "Yesterday", and a test that counts words sees "Yes" in it). They may
/// then lie a little in the future, which the views show as today too.
pub fn today_minus(span_ms: i64) -> i64 {
    use chrono::{Local, TimeZone};
    let now = Local::now();
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 1)
        .and_then(|t| Local.from_local_datetime(&t).earliest())
        .map_or(now.timestamp_millis() - span_ms, |t| t.timestamp_millis());
    (now.timestamp_millis() - span_ms).max(midnight)
}
mod certs;
mod ejabberd;
pub mod liar;
pub mod muc;
pub mod presence;
mod prosody;
mod proxy;
#[cfg(feature = "gui")]
pub mod quit;
pub mod session;
pub mod slix;
mod tmpfs;
#[cfg(feature = "gui")]
pub mod view;

#[allow(unused_imports)]
pub use certs::{Certs, LEAF_SAN};
#[allow(unused_imports)]
pub use ejabberd::Ejabberd;
#[allow(unused_imports)]
pub use prosody::TestServer;
#[allow(unused_imports)]
pub use proxy::FaultProxy;
#[allow(unused_imports)]
pub use tmpfs::Tmpfs;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Finds an installed program, or fails the test saying which Debian package to add.
pub fn require_binary(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from));
    for dir in dirs {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` is not installed, and this test needs it. Install the Debian package \
         `{package}` (as root, `bash tests/run-all.sh` installs everything the tests need)."
    );
}

/// `count` distinct free TCP ports on 127.0.0.1. They are free when this returns; a
/// server that then fails to bind one is restarted on new ports by its harness.
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn port_open(port: u16) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// The last `lines` lines of a text file (empty if it cannot be read).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A unique, lower-case local part: `prefix-N` (Prosody and ejabberd lower-case
/// local parts, so the JID we hand out is the one the server stores).
pub fn unique_local(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let clean: String = prefix
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let clean = if clean.is_empty() {
        "user".to_owned()
    } else {
        clean
    };
    format!("{clean}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A random password.
pub fn random_password() -> String {
    format!("pw-{}", uuid::Uuid::new_v4().simple())
}

/// Runs a command to completion; `Err` carries its exit status and output.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("could not run {cmd:?}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{cmd:?} failed ({}):\n{text}", out.status))
    }
}

/// A child process started in its own process group; the whole group is killed (and
/// the child reaped) on drop, so a panicking test leaves no server behind.
pub struct Process {
    child: Child,
    killed: bool,
}

impl Process {
    pub fn spawn(mut cmd: Command) -> std::io::Result<Process> {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        Ok(Process {
            child: cmd.spawn()?,
            killed: false,
        })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kills the process group once (its id could be reused afterwards).
    pub fn kill(&mut self) {
        if std::mem::replace(&mut self.killed, true) {
            return;
        }
        if let Ok(pgid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals our own child's process group;
            // it touches no memory.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `ready` every 100 ms until it returns true; false after `timeout`.
pub fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Opens a plain XMPP client stream on 127.0.0.1:`port` for `domain` and returns
/// everything the server sent up to and including `</stream:features>`.
pub fn stream_features(port: u16, domain: &str) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect to the c2s port");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    read_features(&mut tcp, domain)
}

/// Sends a stream header on any byte stream and reads up to `</stream:features>`.
pub fn read_features(stream: &mut (impl Read + Write), domain: &str) -> String {
    let header = format!(
        "<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' \
         xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
    );
    stream
        .write_all(header.as_bytes())
        .expect("send the stream header");
    stream.flush().expect("flush");
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains("</stream:features>") {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "reading stream features failed: {e}; got so far: {}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}
