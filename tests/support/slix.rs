//! A client Loquat did not write on the other side: slixmpp (PyPI), run from the venv
//! `tests/run-all.sh` creates (`LOQUAT_VENV`, default `~/.cache/loquat/venv`), with the
//! script `tests/peers/slix_peer.py`.

use super::TestServer;
use std::path::PathBuf;
use std::process::Command;

/// The venv's Python, or a test failure that says how to make it.
pub fn python() -> PathBuf {
    let venv = std::env::var_os("LOQUAT_VENV")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/loquat/venv")))
        .unwrap_or_else(|| PathBuf::from(".venv"));
    let python = venv.join("bin/python");
    let ok = Command::new(&python)
        .args(["-c", "import slixmpp"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "slixmpp is not installed in {}. Run `bash tests/run-all.sh`, which creates it, \
         or: python3 -m venv {0} && {0}/bin/pip install slixmpp==1.8.5",
        venv.display()
    );
    python
}

/// Where the messages of a flood go.
pub enum To<'a> {
    Chat(&'a str),
    /// A room, with the nick to join as and a message to say before the flood.
    Room {
        room: &'a str,
        nick: &'a str,
        first: Option<&'a str>,
    },
}

/// `user` sends `<prefix> 0001` … `<prefix> <count>` at full speed with slixmpp, and
/// returns once the server has handled all of them.
pub fn flood(
    server: &TestServer,
    user: &str,
    password: &str,
    to: To<'_>,
    count: u32,
    prefix: &str,
) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/slix_peer.py");
    let mut cmd = Command::new(python());
    cmd.arg(script)
        .args(["--jid", user, "--password", password])
        .args(["--port", &server.c2s_port().to_string()])
        .arg("--ca")
        .arg(server.ca_path())
        .arg("flood")
        .args(["--count", &count.to_string(), "--prefix", prefix]);
    let first = match to {
        To::Chat(jid) => {
            cmd.args(["--to", jid]);
            None
        }
        To::Room { room, nick, first } => {
            cmd.args(["--room", room, "--nick", nick]);
            first
        }
    };
    if let Some(first) = first {
        cmd.args(["--first", first]);
    }
    let out = cmd.output().expect("run the slixmpp peer");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let want = count + u32::from(first.is_some());
    assert!(
        out.status.success() && stdout.contains(&format!("sent {want}")),
        "the slixmpp peer failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `user` sends `to` a chat message nested `depth` levels deep (raw XML, as a hostile
/// client would), then an ordinary message `then`; returns once the server handled both.
pub fn deep(
    port: u16,
    ca: &std::path::Path,
    user: &str,
    password: &str,
    to: &str,
    depth: u32,
    then: &str,
) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/slix_peer.py");
    let out = Command::new(python())
        .arg(script)
        .args(["--jid", user, "--password", password])
        .args(["--port", &port.to_string()])
        .arg("--ca")
        .arg(ca)
        .arg("deep")
        .args(["--to", to, "--depth", &depth.to_string(), "--then", then])
        .output()
        .expect("run the slixmpp peer");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("sent 2"),
        "the slixmpp peer failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
