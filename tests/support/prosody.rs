//! A private Prosody per test: `TestServer::start()`.

use super::{
    Certs, Process, free_ports, port_open, random_password, require_binary, run, tail,
    unique_local, wait_until,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The configuration template, shared with `packaging/dev-server.sh`.
const CONFIG_TEMPLATE: &str = include_str!("prosody.cfg.lua.in");
/// How long Prosody may take to open its ports.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Prosody keeps running when a port is taken; it only says so in its log.
const PORT_TAKEN: &str = "Failed to open server port";

/// A Prosody 0.12 of our own on loopback.
///
/// - Domains `localhost` and `example.test` (both served by one certificate); MUC at
///   `conference.localhost`; HTTP upload at `upload.localhost` with slot URLs on
///   `https://localhost:<https_port>/`.
/// - Connect to `127.0.0.1` with a host override and trust [`TestServer::ca_pem`].
/// - c2s rate limits are raised (10 MB/s) so load tests measure the client.
/// - `LOQUAT_PROSODY_LOG=debug` makes its log (see [`TestServer::log_tail`]) verbose.
pub struct TestServer {
    // Field order matters: the process is killed before its folder is removed.
    process: Process,
    ports: Ports,
    config: PathBuf,
    log: PathBuf,
    certs: Certs,
    dir: tempfile::TempDir,
}

#[derive(Clone, Copy, Debug)]
struct Ports {
    c2s: u16,
    direct_tls: u16,
    http: u16,
    https: u16,
}

impl TestServer {
    /// Starts Prosody and waits until all its ports accept connections. Panics (with
    /// the log) if it does not come up within 20 s.
    pub fn start() -> TestServer {
        Self::start_full(DEFAULT_UPLOAD_LIMIT, "")
    }

    /// [`TestServer::start`] with another HTTP upload size limit (benchmarks send files
    /// larger than the default 10 MiB); the daily quota is raised to match.
    pub fn start_with_upload_limit(upload_limit: u64) -> TestServer {
        Self::start_full(upload_limit, "")
    }

    /// Like [`TestServer::start`], with extra global Lua settings (e.g.
    /// `smacks_hibernation_time = 5`) placed before the first `VirtualHost`.
    pub fn start_with(extra_lua: &str) -> TestServer {
        Self::start_full(DEFAULT_UPLOAD_LIMIT, extra_lua)
    }

    fn start_full(upload_limit: u64, extra_lua: &str) -> TestServer {
        let prosody = require_binary("prosody", "prosody");
        require_binary("prosodyctl", "prosody");
        let dir = tempfile::Builder::new()
            .prefix("loquat-prosody-")
            .tempdir()
            .expect("create a temp folder");
        let certs = Certs::make(&dir.path().join("certs"));
        std::fs::create_dir_all(dir.path().join("data")).expect("create the data folder");
        let config = dir.path().join("prosody.cfg.lua");
        let log = dir.path().join("prosody.log");

        // Another test may grab one of our ports between our check and Prosody's bind:
        // then start again on new ports.
        let mut last_failure = String::new();
        for _attempt in 0..4 {
            let p = free_ports(4);
            let ports = Ports {
                c2s: p[0],
                direct_tls: p[1],
                http: p[2],
                https: p[3],
            };
            std::fs::write(
                &config,
                render_config(dir.path(), ports, upload_limit, extra_lua),
            )
            .expect("write the Prosody config");
            let log_file = std::fs::File::create(&log).expect("create the Prosody log");
            let mut cmd = Command::new(&prosody);
            cmd.arg("--config")
                .arg(&config)
                .arg("-F")
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("log file handle"))
                .stderr(log_file);
            let mut process = match Process::spawn(cmd) {
                Ok(p) => p,
                Err(e) => panic!("could not start {}: {e}", prosody.display()),
            };
            let mut taken = false;
            let mut exited = None;
            let ready = wait_until(START_TIMEOUT, || {
                if let Some(status) = process.exited() {
                    exited = Some(status);
                    return true;
                }
                if std::fs::read_to_string(&log).is_ok_and(|l| l.contains(PORT_TAKEN)) {
                    taken = true;
                    return true;
                }
                [ports.c2s, ports.direct_tls, ports.http, ports.https]
                    .iter()
                    .all(|&port| port_open(port) && activated(&log, port))
            });
            if let Some(status) = exited {
                panic!(
                    "Prosody exited at start-up ({status}). Log:\n{}",
                    tail(&log, 60)
                );
            }
            if taken {
                last_failure = tail(&log, 20);
                process.kill();
                continue;
            }
            if !ready {
                panic!(
                    "Prosody did not open its ports within {} s. Log:\n{}",
                    START_TIMEOUT.as_secs(),
                    tail(&log, 60)
                );
            }
            return TestServer {
                process,
                ports,
                config,
                log,
                certs,
                dir,
            };
        }
        panic!("Prosody could not get free ports after 4 tries. Last log:\n{last_failure}");
    }

    /// Client-to-server port (STARTTLS required).
    pub fn c2s_port(&self) -> u16 {
        self.ports.c2s
    }

    /// Direct TLS (XEP-0368) client port.
    pub fn direct_tls_port(&self) -> u16 {
        self.ports.direct_tls
    }

    /// Plain HTTP port (Prosody's HTTP server).
    pub fn http_port(&self) -> u16 {
        self.ports.http
    }

    /// HTTPS port: HTTP upload slots point at `https://localhost:<this>/`.
    pub fn https_port(&self) -> u16 {
        self.ports.https
    }

    /// The test CA, PEM: the extra trusted root for accounts on this server.
    pub fn ca_pem(&self) -> String {
        self.certs.ca_pem.clone()
    }

    /// The test CA as a file.
    pub fn ca_path(&self) -> &Path {
        &self.certs.ca_path
    }

    /// The server's private folder (config, certs, data, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// Runs `prosodyctl --config <ours> ARGS...` and returns its output.
    pub fn prosodyctl(&self, args: &[&str]) -> Result<String, String> {
        run(Command::new(require_binary("prosodyctl", "prosody"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null()))
    }

    /// The client sessions of `bare` the server holds, as their full JIDs, hibernating
    /// ones (kept for a stream-management resumption) included: the admin shell's
    /// `c2s:show()`.
    pub fn sessions_of(&self, bare: &str) -> Vec<String> {
        let out = self
            .prosodyctl(&[
                "shell",
                "c2s:show(nil, { { title = 'JID', key = 'full_jid', width = 90 }, 'smacks' })",
            ])
            .unwrap_or_else(|e| panic!("prosodyctl shell c2s:show() failed: {e}"));
        assert!(
            out.contains("c2s sessions shown"),
            "unexpected c2s:show() output:\n{out}"
        );
        let prefix = format!("{bare}/");
        out.split_whitespace()
            .filter(|word| word.starts_with(&prefix))
            .map(str::to_owned)
            .collect()
    }

    /// Creates `user@domain` (or resets its password: that is what `prosodyctl
    /// register` does for an existing user).
    pub fn try_register(&self, user: &str, domain: &str, password: &str) -> Result<(), String> {
        self.prosodyctl(&["register", user, domain, password])
            .map(|_| ())
    }

    /// Like [`TestServer::try_register`], but a failure fails the test.
    pub fn register(&self, user: &str, domain: &str, password: &str) {
        if let Err(e) = self.try_register(user, domain, password) {
            panic!("registering {user}@{domain} failed: {e}");
        }
    }

    /// Registers a new user on `localhost`: returns `("prefix-N@localhost", password)`.
    pub fn fresh_user(&self, prefix: &str) -> (String, String) {
        self.fresh_user_on(prefix, "localhost")
    }

    /// Registers a new user on `domain` (`localhost` or `example.test`).
    pub fn fresh_user_on(&self, prefix: &str, domain: &str) -> (String, String) {
        let user = unique_local(prefix);
        let password = random_password();
        self.register(&user, domain, &password);
        (format!("{user}@{domain}"), password)
    }

    /// Whether Prosody has an account file for `user@domain`.
    pub fn user_exists(&self, user: &str, domain: &str) -> bool {
        self.dir
            .path()
            .join("data")
            .join(storage_name(domain))
            .join("accounts")
            .join(format!("{}.dat", storage_name(user)))
            .is_file()
    }

    /// The last lines of Prosody's log, for failure messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log, 60)
    }

    /// Kills Prosody and starts it again in place: same ports, same data folder (a
    /// server restart as users see it). Panics if it does not come back within 20 s.
    pub fn restart(&mut self) {
        self.process.kill();
        let prosody = require_binary("prosody", "prosody");
        let ports = self.ports;
        let ready = wait_until(START_TIMEOUT, || {
            let log_file = std::fs::File::create(&self.log).expect("create the Prosody log");
            let mut cmd = Command::new(&prosody);
            cmd.arg("--config")
                .arg(&self.config)
                .arg("-F")
                .current_dir(self.dir.path())
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("log file handle"))
                .stderr(log_file);
            self.process = Process::spawn(cmd).expect("start Prosody again");
            // The old sockets may linger a moment: retry until every port is ours.
            let up = wait_until(Duration::from_secs(5), || {
                [ports.c2s, ports.direct_tls, ports.http, ports.https]
                    .iter()
                    .all(|&port| port_open(port) && activated(&self.log, port))
            });
            if !up {
                self.process.kill();
            }
            up
        });
        assert!(
            ready,
            "Prosody did not come back after a restart. Log:\n{}",
            tail(&self.log, 60)
        );
    }

    /// Prosody's process id (e.g. to stop it with a signal in a test).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}

/// The upload size limit the test server's config sets.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 10 * 1024 * 1024;

fn render_config(dir: &Path, ports: Ports, upload_limit: u64, extra_lua: &str) -> String {
    let level = std::env::var("LOQUAT_PROSODY_LOG").unwrap_or_else(|_| "info".to_owned());
    let level = match level.as_str() {
        "debug" | "info" | "warn" | "error" => level,
        _ => "info".to_owned(),
    };
    CONFIG_TEMPLATE
        .replace("@DIR@", &dir.display().to_string())
        .replace("@LOG_LEVEL@", &level)
        .replace(
            "@PLUGINS@",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/prosody-plugins"),
        )
        .replace("@C2S_PORT@", &ports.c2s.to_string())
        .replace("@DIRECT_TLS_PORT@", &ports.direct_tls.to_string())
        .replace("@HTTP_PORT@", &ports.http.to_string())
        .replace("@HTTPS_PORT@", &ports.https.to_string())
        .replace(
            "http_file_share_size_limit = 10*1024*1024",
            &if upload_limit == DEFAULT_UPLOAD_LIMIT {
                "http_file_share_size_limit = 10*1024*1024".to_owned()
            } else {
                format!(
                    "http_file_share_size_limit = {upload_limit}\n  \
                     http_file_share_daily_quota = {}",
                    upload_limit.saturating_mul(50)
                )
            },
        )
        .replacen(
            "\nVirtualHost \"localhost\"",
            &format!("\n{extra_lua}\nVirtualHost \"localhost\""),
            1,
        )
}

/// Whether the log says Prosody itself listens on `port` (a port that accepts could
/// also belong to another program).
fn activated(log: &Path, port: u16) -> bool {
    let needle = format!("]:{port}");
    std::fs::read_to_string(log).is_ok_and(|text| {
        text.lines()
            .any(|l| l.contains("Activated service") && l.contains(&needle))
    })
}

/// Prosody's file storage name for a host or user: every byte that is not a letter or
/// digit becomes `%xx`.
fn storage_name(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}
