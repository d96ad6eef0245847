//! A private ejabberd 23.01 per test, the second server for interop: `Ejabberd::start()`.
//!
//! `ejabberdctl` only runs as root or as the `ejabberd` user, so these tests need root
//! (as in CI). We run it *as* the `ejabberd` user directly (not through its `su`, which
//! puts the server in another session where we could not kill it), with:
//! - a folder owned by `ejabberd` holding config, spool, logs and certificate (mode 600);
//! - a unique Erlang node name and cookie per instance;
//! - `ERL_DIST_PORT`: Erlang distribution on one fixed loopback port and **no epmd** at
//!   all, so nothing outlives the server and parallel instances never share an epmd.

use super::{
    Certs, Process, free_ports, port_open, random_password, require_binary, run, tail,
    unique_local, wait_until,
};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// ejabberd takes 2-3 s to start on a quiet machine; CI machines are not quiet.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// An ejabberd of our own on loopback: domain `localhost`, c2s with STARTTLS required.
pub struct Ejabberd {
    // Field order matters: the process is killed before its folder is removed.
    process: Process,
    c2s: u16,
    ctl: PathBuf,
    user: (u32, u32),
    certs: Certs,
    dir: tempfile::TempDir,
}

impl Ejabberd {
    /// Starts ejabberd and waits until its c2s port accepts connections. Panics (with
    /// the logs) if it does not come up within 60 s.
    pub fn start() -> Ejabberd {
        let ctl = require_binary("ejabberdctl", "ejabberd");
        require_binary("erl", "ejabberd");
        let me = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(u32::MAX);
        assert_eq!(
            me, 0,
            "ejabberd tests must run as root (ejabberdctl runs only as root or as the \
             `ejabberd` user); CI runs `bash tests/run-all.sh` as root"
        );
        let user = ejabberd_user();

        let dir = tempfile::Builder::new()
            .prefix("loquat-ejabberd-")
            .tempdir()
            .expect("create a temp folder");
        let e = dir.path();
        let certs = Certs::make(&e.join("certs"));
        let pem = e.join("server.pem");
        let cert = std::fs::read_to_string(&certs.cert_path).expect("read the certificate");
        let key = std::fs::read_to_string(&certs.key_path).expect("read the key");
        std::fs::write(&pem, format!("{cert}{key}")).expect("write server.pem");
        set_mode(&pem, 0o600);
        for sub in ["spool", "logs"] {
            std::fs::create_dir_all(e.join(sub)).expect("create ejabberd folders");
        }
        // Erlang's resolver config; without it every ejabberdctl call prints an error.
        std::fs::write(e.join("inetrc"), "{lookup, [file, native]}.\n").expect("inetrc");

        static INSTANCE: AtomicU32 = AtomicU32::new(1);
        let node = format!(
            "loquat{}x{}@localhost",
            std::process::id(),
            INSTANCE.fetch_add(1, Ordering::Relaxed)
        );
        let cookie = uuid::Uuid::new_v4().simple().to_string();

        let mut last_failure = String::new();
        for _attempt in 0..3 {
            let ports = free_ports(2);
            let (c2s, dist) = (ports[0], ports[1]);
            std::fs::write(e.join("ejabberd.yml"), config_yml(c2s, &pem))
                .expect("write ejabberd.yml");
            std::fs::write(
                e.join("ejabberdctl.cfg"),
                format!(
                    "ERLANG_NODE={node}\n\
                     ERL_EPMD_ADDRESS=127.0.0.1\n\
                     ERL_DIST_PORT={dist}\n\
                     ERL_OPTIONS=\"-setcookie {cookie} -kernel inet_dist_use_interface {{127,0,0,1}}\"\n\
                     EJABBERD_BYPASS_WARNINGS=true\n"
                ),
            )
            .expect("write ejabberdctl.cfg");
            chown_tree(e, user);

            let console = e.join("console.log");
            let console_file = std::fs::File::create(&console).expect("create console log");
            chown(&console, user);
            let mut cmd = as_ejabberd(&ctl, e, user);
            cmd.arg("foreground")
                .stdout(console_file.try_clone().expect("log file handle"))
                .stderr(console_file);
            let mut process = match Process::spawn(cmd) {
                Ok(p) => p,
                Err(err) => panic!("could not start {}: {err}", ctl.display()),
            };
            let mut exited = None;
            let ready = wait_until(START_TIMEOUT, || {
                if let Some(status) = process.exited() {
                    exited = Some(status);
                    return true;
                }
                port_open(c2s) && listening(e, c2s)
            });
            if exited.is_some() || !ready {
                last_failure = logs(e);
                process.kill();
                if exited.is_some() {
                    // Most likely a port was taken meanwhile: try new ports.
                    let _ = std::fs::remove_dir_all(e.join("spool"));
                    std::fs::create_dir_all(e.join("spool")).expect("spool folder");
                    continue;
                }
                panic!(
                    "ejabberd did not open its c2s port within {} s.\n{last_failure}",
                    START_TIMEOUT.as_secs()
                );
            }
            return Ejabberd {
                process,
                c2s,
                ctl,
                user,
                certs,
                dir,
            };
        }
        panic!("ejabberd failed to start three times. Last logs:\n{last_failure}");
    }

    /// Client-to-server port (STARTTLS required).
    pub fn c2s_port(&self) -> u16 {
        self.c2s
    }

    /// The test CA, PEM: the extra trusted root for accounts on this server.
    pub fn ca_pem(&self) -> String {
        self.certs.ca_pem.clone()
    }

    pub fn ca_path(&self) -> &Path {
        &self.certs.ca_path
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `ejabberdctl <our config> ARGS...` as the ejabberd user.
    pub fn ejabberdctl(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = as_ejabberd(&self.ctl, self.dir.path(), self.user);
        cmd.args(args).stdin(Stdio::null());
        run(&mut cmd)
    }

    /// Creates `user@localhost`. Unlike Prosody, ejabberd refuses an existing user
    /// (`conflict`).
    pub fn try_register(&self, user: &str, password: &str) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..5 {
            match self.ejabberdctl(&["register", user, "localhost", password]) {
                Ok(_) => return Ok(()),
                // Right after start-up the node may not answer control calls yet.
                Err(e) if e.contains("nodedown") || e.contains("Failed RPC connection") => {
                    last = e;
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Like [`Ejabberd::try_register`], but a failure fails the test.
    pub fn register(&self, user: &str, password: &str) {
        if let Err(e) = self.try_register(user, password) {
            panic!("registering {user}@localhost on ejabberd failed: {e}");
        }
    }

    /// Registers a new user: returns `("prefix-N@localhost", password)`.
    pub fn fresh_user(&self, prefix: &str) -> (String, String) {
        let user = unique_local(prefix);
        let password = random_password();
        self.register(&user, &password);
        (format!("{user}@localhost"), password)
    }

    /// The last lines of ejabberd's log and console output, for failure messages.
    pub fn log_tail(&self) -> String {
        logs(self.dir.path())
    }
}

impl Drop for Ejabberd {
    fn drop(&mut self) {
        self.process.kill();
        // The Erlang VM is a grandchild we cannot reap: wait until the kernel has torn
        // it down, so the next test never meets this server on a reused port.
        let c2s = self.c2s;
        wait_until(Duration::from_secs(10), || !port_open(c2s));
    }
}

fn config_yml(c2s: u16, pem: &Path) -> String {
    format!(
        r#"# Loquat test ejabberd, generated by tests/support/ejabberd.rs
hosts:
  - localhost
loglevel: info
certfiles:
  - "{pem}"
listen:
  - port: {c2s}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
auth_method: internal
default_db: mnesia
modules:
  mod_roster: {{}}
  mod_disco: {{}}
  mod_carboncopy: {{}}
  mod_mam: {{}}
  mod_stream_mgmt: {{}}
  mod_ping: {{}}
  mod_blocking: {{}}
  mod_privacy: {{}}
  mod_pubsub: {{}}
  mod_muc: {{}}
"#,
        pem = pem.display(),
    )
}

/// `ejabberdctl --config-dir D --spool D/spool --logs D/logs`, run as the ejabberd
/// user with its home in D (the Erlang cookie comes from the config, not from a file).
fn as_ejabberd(ctl: &Path, dir: &Path, (uid, gid): (u32, u32)) -> Command {
    let mut cmd = Command::new(ctl);
    cmd.arg("--config-dir")
        .arg(dir)
        .arg("--spool")
        .arg(dir.join("spool"))
        .arg("--logs")
        .arg(dir.join("logs"))
        .current_dir(dir)
        .env("HOME", dir)
        .uid(uid)
        .gid(gid);
    cmd
}

/// The log says ejabberd itself listens on `port`.
fn listening(dir: &Path, port: u16) -> bool {
    let needle = format!("Start accepting TCP connections at 127.0.0.1:{port} ");
    std::fs::read_to_string(dir.join("logs").join("ejabberd.log"))
        .is_ok_and(|t| t.contains(&needle))
}

fn logs(dir: &Path) -> String {
    format!(
        "--- ejabberd.log\n{}\n--- console\n{}",
        tail(&dir.join("logs").join("ejabberd.log"), 40),
        tail(&dir.join("console.log"), 40)
    )
}

fn ejabberd_user() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = run(Command::new("id").args([flag, "ejabberd"])).unwrap_or_else(|e| {
            panic!("the `ejabberd` system user is missing (install the package `ejabberd`): {e}")
        });
        out.trim()
            .parse()
            .unwrap_or_else(|_| panic!("`id {flag} ejabberd` printed {out:?}"))
    };
    (id("-u"), id("-g"))
}

fn chown(path: &Path, (uid, gid): (u32, u32)) {
    if let Err(e) = std::os::unix::fs::chown(path, Some(uid), Some(gid)) {
        panic!("chown {} to ejabberd failed: {e}", path.display());
    }
}

fn chown_tree(path: &Path, user: (u32, u32)) {
    chown(path, user);
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read folder").flatten() {
            chown_tree(&entry.path(), user);
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("set file mode");
}
