//! The keyring through the real Secret Service.
//!
//! `tests/run-all.sh` runs this binary inside `dbus-run-session` with an unlocked
//! gnome-keyring; this file never starts a keyring itself. Without a session bus the
//! round trip fails loudly, unless `LOQUAT_SKIP_KEYRING=1` says to skip it.
//!
//! The "no keyring" cases change process-wide environment variables, so they run this
//! same test binary again as a child process (see [`run_probe`]).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use loquat::ids::AccountId;
use loquat::secrets::{KeyringSecrets, SecretError, SecretStore};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Env var that turns the ignored probe test into the real thing inside a child process.
const PROBE_ENV: &str = "LOQUAT_SECRETS_PROBE";
/// What the probe prints when the keyring reported "unavailable", as the UI needs.
const PROBE_OK: &str = "PROBE-RESULT: unavailable";

/// Deletes the test's keyring item even when an assertion fails halfway.
struct Cleanup<'a>(&'a KeyringSecrets, AccountId);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.delete(&self.1);
    }
}

fn round_trip(store: &KeyringSecrets, account: &AccountId, label: &str) {
    assert_eq!(
        store.get(account).expect("get before set"),
        None,
        "{label}: a fresh account has no password"
    );
    let password = format!("pa55 密码 {label} ✓");
    store.set(account, &password).expect("set");
    assert_eq!(
        store.get(account).expect("get after set").as_deref(),
        Some(password.as_str()),
        "{label}: read back what was stored"
    );
    store.set(account, "second").expect("overwrite");
    assert_eq!(
        store.get(account).expect("get after overwrite").as_deref(),
        Some("second"),
        "{label}: an overwrite replaces the password (no second item)"
    );
    store.delete(account).expect("delete");
    assert_eq!(
        store.get(account).expect("get after delete"),
        None,
        "{label}: gone after delete"
    );
    store
        .delete(account)
        .expect("deleting a missing password is not an error");
}

#[test]
fn round_trip_through_the_secret_service() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        if std::env::var("LOQUAT_SKIP_KEYRING").as_deref() == Ok("1") {
            println!("SKIPPED round_trip_through_the_secret_service: LOQUAT_SKIP_KEYRING=1");
            return;
        }
        panic!(
            "DBUS_SESSION_BUS_ADDRESS is not set: this test needs a session bus with an \
             unlocked Secret Service. Run it through `bash tests/run-all.sh` (which uses \
             dbus-run-session and gnome-keyring), or set LOQUAT_SKIP_KEYRING=1 to skip it."
        );
    }
    let store = match KeyringSecrets::init() {
        Ok(s) => s,
        Err(e) => panic!("the Secret Service on this session bus is not usable: {e}"),
    };
    let store = &store;

    // From a plain thread: no async runtime anywhere.
    let plain = AccountId(format!("test-plain-{}", uuid_ish()));
    let _guard = Cleanup(store, plain.clone());
    std::thread::scope(|s| {
        s.spawn(|| round_trip(store, &plain, "plain thread"));
    });

    // From spawn_blocking, as the UI calls it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let store = std::sync::Arc::new(KeyringSecrets::init().expect("init again"));
    let in_blocking = AccountId(format!("test-blocking-{}", uuid_ish()));
    let _guard2 = Cleanup(&store, in_blocking.clone());
    runtime.block_on({
        let store = store.clone();
        let account = in_blocking.clone();
        async move {
            tokio::task::spawn_blocking(move || round_trip(&store, &account, "spawn_blocking"))
                .await
                .expect("spawn_blocking round trip");
        }
    });

    // Called straight from an async task by mistake: slow, but no panic.
    let direct = AccountId(format!("test-async-{}", uuid_ish()));
    let _guard3 = Cleanup(&store, direct.clone());
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    current.block_on(async {
        store.set(&direct, "x").expect("set from async");
        assert_eq!(store.get(&direct).expect("get").as_deref(), Some("x"));
        store.delete(&direct).expect("delete from async");
    });
}

/// The key sealing an account's OMEMO state lives in the real keyring, beside (not in
/// place of) its password, and is the same key at the next start.
#[test]
fn the_omemo_key_is_kept_in_the_secret_service() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        println!("SKIPPED the_omemo_key_is_kept_in_the_secret_service: no session bus");
        return;
    }
    let store = KeyringSecrets::init().expect("the Secret Service");
    let account = AccountId(format!("test-omemo-{}", uuid_ish()));
    let _guard = Cleanup(&store, account.clone());
    let _guard2 = Cleanup(&store, loquat::omemo::sealed::keyring_entry(&account));
    store.set(&account, "the password").unwrap();
    let key = loquat::omemo::sealed::keyring_key(&store, &account).unwrap();
    let sealed = key.seal("omemo_identity", b"k", b"private").unwrap();
    // A second start: a fresh handle to the keyring finds the same key.
    let again = KeyringSecrets::init().expect("init again");
    let key2 = loquat::omemo::sealed::keyring_key(&again, &account).unwrap();
    assert_eq!(
        key2.open("omemo_identity", b"k", &sealed)
            .unwrap()
            .as_slice(),
        b"private"
    );
    assert_eq!(
        again.get(&account).unwrap().as_deref(),
        Some("the password"),
        "the password is untouched"
    );
}

/// Removing an account deletes its OMEMO key from the keyring (beside its password) and
/// its OMEMO state from the store: records and preferences; another account's stay.
#[test]
fn removing_an_account_deletes_its_omemo_key_and_state() {
    use loquat::omemo::{Omemo, OmemoStore};
    use loquat::session::omemo::trust;
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        println!("SKIPPED removing_an_account_deletes_its_omemo_key_and_state: no session bus");
        return;
    }
    let secrets = KeyringSecrets::init().expect("the Secret Service");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = loquat::store::Store::open(&dir.path().join("db")).unwrap();
    let bob = xmpp_parsers::jid::BareJid::new("bob@example.org").unwrap();
    let make = |account: &AccountId| {
        secrets.set(account, "the password").unwrap();
        let key = loquat::omemo::sealed::keyring_key(&secrets, account).unwrap();
        let mut state = store.omemo_state(account, key.clone()).unwrap();
        drop(Omemo::open(state.clone()).unwrap());
        state.set_session(bob.as_str(), 7, b"session").unwrap();
        state
            .set_remote_identity(bob.as_str(), 7, &[5; 33])
            .unwrap();
        state
            .set_changed_identity(bob.as_str(), 7, Some(&[6; 33]))
            .unwrap();
        trust::set_verified(&store, account, &bob, 7, Some("0505")).unwrap();
        trust::newly_seen(&store, account, &bob, &[7]).unwrap();
        loquat::session::omemo::set_choice(
            &store,
            account,
            &bob,
            loquat::session::omemo::Choice::On,
        )
        .unwrap();
        key
    };
    let gone = AccountId(format!("test-omemo-gone-{}", uuid_ish()));
    let kept = AccountId(format!("test-omemo-kept-{}", uuid_ish()));
    let _guards = [
        Cleanup(&secrets, gone.clone()),
        Cleanup(&secrets, loquat::omemo::sealed::keyring_entry(&gone)),
        Cleanup(&secrets, kept.clone()),
        Cleanup(&secrets, loquat::omemo::sealed::keyring_entry(&kept)),
    ];
    let gone_key = make(&gone);
    let kept_key = make(&kept);

    loquat::accounts::remove_account(&store, Some(&secrets), &gone, false).unwrap();

    let entry = loquat::omemo::sealed::keyring_entry(&gone);
    assert_eq!(secrets.get(&entry).unwrap(), None, "the OMEMO key is left");
    assert_eq!(secrets.get(&gone).unwrap(), None, "the password is left");
    let state = store.omemo_state(&gone, gone_key).unwrap();
    assert!(state.identity().unwrap().is_none(), "the identity is left");
    assert!(state.pre_key_ids().unwrap().is_empty());
    assert!(state.signed_pre_key_ids().unwrap().is_empty());
    assert!(state.session_devices(bob.as_str()).unwrap().is_empty());
    assert!(state.remote_identity(bob.as_str(), 7).unwrap().is_none());
    assert!(state.changed_identity(bob.as_str(), 7).unwrap().is_none());
    for kind in ["verified", "seen", "choice"] {
        let key = match kind {
            "verified" => format!("omemo.verified.{}.{bob}.7", gone.0),
            "seen" => format!("omemo.seen.{}.{bob}", gone.0),
            _ => loquat::session::omemo::choice_key(&gone, &bob),
        };
        assert_eq!(store.pref(&key).unwrap(), None, "{key} is left");
    }

    // The other account keeps everything.
    assert!(
        secrets
            .get(&loquat::omemo::sealed::keyring_entry(&kept))
            .unwrap()
            .is_some()
    );
    let state = store.omemo_state(&kept, kept_key).unwrap();
    assert!(state.identity().unwrap().is_some());
    assert_eq!(state.pre_key_ids().unwrap().len(), 100);
    assert_eq!(state.session_devices(bob.as_str()).unwrap(), [7]);
    assert!(state.changed_identity(bob.as_str(), 7).unwrap().is_some());
    assert!(trust::is_verified(&store, &kept, &bob, 7, Some("0505")));
}

/// Without any session bus, start-up reports "unavailable" in plain words.
#[test]
fn no_session_bus_is_unavailable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-bus-socket");
    let env = [
        (
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", missing.display()),
        ),
        // zbus falls back to $XDG_RUNTIME_DIR/bus: point that at nothing as well.
        ("XDG_RUNTIME_DIR", dir.path().display().to_string()),
    ];
    run_probe(&env);
}

/// A session bus with no Secret Service on it (and none it could start) is
/// "unavailable" too, not a generic failure.
#[test]
fn bus_without_secret_service_is_unavailable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bus = PrivateBus::start(dir.path());
    run_probe(&[("DBUS_SESSION_BUS_ADDRESS", bus.address.clone())]);
}

/// Runs in a child process only (see [`run_probe`]): init, then a first get.
#[test]
#[ignore = "runs inside a child process started by the no-keyring tests"]
fn probe() {
    if std::env::var_os(PROBE_ENV).is_none() {
        return;
    }
    let result = KeyringSecrets::init()
        .and_then(|store| store.get(&AccountId("probe".to_owned())).map(|_| ()));
    match result {
        Err(SecretError::Unavailable(why)) => {
            println!("{PROBE_OK}: {why}");
        }
        other => panic!("expected SecretError::Unavailable, got {other:?}"),
    }
}

/// Runs the `probe` test of this binary in a child process with `env` added.
fn run_probe(env: &[(&str, String)]) {
    let exe = std::env::current_exe().expect("current test binary");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "probe",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(PROBE_ENV, "1")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the probe child process");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the probe") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the keyring probe hung for 60 s instead of reporting 'unavailable'");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    assert!(
        status.success() && out.contains(PROBE_OK),
        "probe failed ({status}).\n--- stdout\n{out}\n--- stderr\n{err}"
    );
    for line in out.lines().filter(|l| l.contains(PROBE_OK)) {
        println!("{line}");
    }
}

/// A private dbus-daemon with no service files: nothing can be activated on it.
struct PrivateBus {
    child: std::process::Child,
    address: String,
}

impl PrivateBus {
    fn start(dir: &Path) -> PrivateBus {
        let config = dir.join("bus.conf");
        let socket = dir.join("bus");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .expect("write bus config");
        let mut child = match Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            // It complains about fd limits in containers; the address check below is
            // what matters.
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot start dbus-daemon ({e}): install the Debian package `dbus` \
                 (tests/run-all.sh does)"
            ),
        };
        let mut address = String::new();
        let mut byte = [0u8; 1];
        let mut stdout = child.stdout.take().expect("dbus-daemon stdout");
        while stdout.read(&mut byte).map(|n| n == 1).unwrap_or(false) && byte[0] != b'\n' {
            address.push(byte[0] as char);
        }
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon printed no address (got {address:?})"
        );
        PrivateBus { child, address }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uuid_ish() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
