//! A hostile world (issue #20): what other people, and a lying server, may send.
//! Each test here failed before its fix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use loquat::ids::AccountId;
use loquat::model::Direction;
use loquat::session::connect;
use loquat::session::{SessionError, UpdateKind};
use support::TestServer;
use support::liar::{Liar, Lie};
use support::session::{local_params, online, wait_for};

/// Nesting a contact's message gets through Prosody 0.12 with: Prosody itself drops
/// deeper stanzas silently (tried: 100 levels arrived; 150, 1,000, 5,000 and 36,000
/// never did), so the 40,000 levels that overflow our stack are shown with a lying
/// server in `session::xml_guard`'s unit tests; here a depth over our limit of 64.
const DEPTH: u32 = 90;

/// A contact sends a chat message nested deeper than Loquat accepts through a real
/// Prosody. At 40,000 levels building it would overflow the stack and abort the
/// process (every account); it is dropped before the parser, and the session goes
/// on: the next message arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_stanza_from_a_contact_is_dropped_and_the_stream_survives() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("deepa");
    let (b, pb) = server.fresh_user("deepb");
    let p = local_params(
        AccountId::generate(),
        server.c2s_port(),
        server.ca_pem(),
        &a,
        &pa,
        None,
    );
    let (mut updates, _handle, _) = online(p).await;
    let (port, ca, to) = (server.c2s_port(), server.ca_path().to_owned(), a.clone());
    tokio::task::spawn_blocking(move || {
        support::slix::deep(port, &ca, &b, &pb, &to, DEPTH, "after the deep one")
    })
    .await
    .expect("peer thread");
    let got = wait_for(
        &mut updates,
        20,
        "the message after the deep one",
        |k| match k {
            UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.body.clone()),
            UpdateKind::Disconnected { .. } | UpdateKind::Failed(_) => {
                panic!("the session fell over: {k:?}")
            }
            _ => None,
        },
    )
    .await;
    assert_eq!(
        got, "after the deep one",
        "the deep message itself must not arrive"
    );
}

/// Mode bits of `path` for group and others.
fn others_bits(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o077
}

/// Every file and folder under `dir` (and `dir`) that group or others may read.
fn readable_by_others(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    if others_bits(dir) != 0 {
        found.push(dir.display().to_string());
    }
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(readable_by_others(&path));
        } else if others_bits(&path) != 0 {
            found.push(path.display().to_string());
        }
    }
    found
}

/// Under the common umask 022, the database (history, outbox, pins), the cache of
/// thumbnails and the instance socket's folder are for this user only: folders 0700,
/// files 0600.
#[test]
fn data_and_cache_folders_are_private_under_umask_022() {
    // SAFETY: umask only changes the mode of files created later in this process.
    unsafe { libc::umask(0o022) };
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let db = data.join("db");
    {
        let store = loquat::store::Store::open(&db).expect("open store");
        store.set_pref("theme", "dark").expect("write");
        store.flush().expect("flush");
    }
    // Reopened: files sled wrote during the first run (its snapshot on close) are
    // narrowed too.
    let store = loquat::store::Store::open(&db).expect("reopen store");
    let bad = readable_by_others(&data);
    assert!(bad.is_empty(), "readable by others: {bad:?}");
    drop(store);

    let cache = root.path().join("cache").join("thumbnails");
    let src = root.path().join("picture.png");
    image::RgbaImage::from_pixel(300, 200, image::Rgba([200, 10, 10, 255]))
        .save(&src)
        .expect("write a picture");
    loquat::transfer::thumb::thumbnail_blocking(&src, &cache, "abc").expect("thumbnail");
    let bad = readable_by_others(&root.path().join("cache"));
    assert!(bad.is_empty(), "readable by others: {bad:?}");

    // The single-instance socket lives in a folder only we can enter, so nobody can
    // reach it in the moment between its creation and its chmod.
    let run = root.path().join("run");
    let start = loquat::instance::acquire(
        &loquat::instance::socket_path(&run),
        &loquat::instance::Request::from_args(Vec::<String>::new()),
    )
    .expect("acquire");
    assert!(matches!(start, loquat::instance::Start::Primary(_)));
    assert_eq!(others_bits(&run), 0, "the socket's folder");
}

/// Connects to a lying server as `user@localhost`; the error, and how long it took.
async fn connect_to_liar(liar: &support::liar::Liar) -> (SessionError, std::time::Duration) {
    let cfg =
        support::session::local_config(liar.port, liar.ca_pem.clone(), "user@localhost", PASSWORD);
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(std::time::Duration::from_secs(60), connect::connect(&cfg))
        .await
        .expect("connect must end on its own");
    match result {
        Ok(_) => panic!("logged in to a lying server"),
        Err(e) => (e, started.elapsed()),
    }
}

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_without_starttls_gets_no_login() {
    let liar = Liar::start(Lie::NoStarttls).await;
    let (e, _) = connect_to_liar(&liar).await;
    assert!(matches!(e, SessionError::InsecureLogin { .. }), "{e:?}");
    assert!(!liar.heard().contains("<auth"), "{}", liar.heard());
}

/// Only PLAIN offered after TLS: refused (the account did not allow it), and the
/// password never leaves the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_offering_only_plain_does_not_get_the_password() {
    let liar = Liar::start(Lie::OnlyPlain).await;
    let (e, _) = connect_to_liar(&liar).await;
    assert!(
        matches!(&e, SessionError::InsecureLogin { detail }
            if detail.contains("PLAIN") && detail.contains("Settings > Accounts > Edit")),
        "the refusal says why and where to allow it: {e:?}"
    );
    assert!(!liar.heard().contains(PASSWORD), "{}", liar.heard());
    assert!(!liar.heard().contains("<auth"), "{}", liar.heard());
}

/// `i=4294967295`: refused at once instead of hashing for hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_with_an_absurd_scram_iteration_count_is_refused_quickly() {
    let liar = Liar::start(Lie::ScramIterations(u32::MAX)).await;
    let (e, took) = connect_to_liar(&liar).await;
    assert!(
        matches!(&e, SessionError::InsecureLogin { detail } if detail.contains("4294967295")),
        "{e:?}"
    );
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    assert!(!liar.heard().contains("<response"), "{}", liar.heard());
}

/// The server accepts any proof and cannot prove it knows the password: the login
/// is refused as a possible impostor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_with_a_wrong_scram_server_signature_is_refused() {
    let liar = Liar::start(Lie::WrongServerSignature).await;
    let (e, _) = connect_to_liar(&liar).await;
    assert!(
        matches!(&e, SessionError::InsecureLogin { detail } if detail.contains("prove")),
        "{e:?}"
    );
}

/// Logs in to an honest SCRAM liar (see [`Lie::Scram`]); the mechanism used and
/// what the liar heard.
async fn scram_login(plus: bool, cb: Option<&'static str>) -> (String, String) {
    let liar = Liar::start(Lie::Scram {
        password: PASSWORD,
        plus,
        cb,
    })
    .await;
    let cfg =
        support::session::local_config(liar.port, liar.ca_pem.clone(), "user@localhost", PASSWORD);
    let result = tokio::time::timeout(std::time::Duration::from_secs(30), connect::connect(&cfg))
        .await
        .expect("connect must end on its own");
    match result {
        Ok(auth) => (auth.mechanism, liar.heard()),
        Err(e) => panic!("login failed: {e:?}; the liar heard {}", liar.heard()),
    }
}

/// A server that offers SCRAM-SHA-256-PLUS and says (XEP-0440) it takes
/// `tls-exporter`: the login is bound to the TLS 1.3 connection (RFC 9266), and the
/// server finds the same binding on its side. Without channel binding the login was
/// SCRAM-SHA-256 with the `n` flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_plus_binds_the_login_to_the_tls_connection() {
    let (mechanism, heard) = scram_login(true, Some("tls-exporter")).await;
    assert_eq!(mechanism, "SCRAM-SHA-256-PLUS", "{heard}");
    assert!(heard.contains("[gs2 p=tls-exporter,,]"), "{heard}");
    assert!(heard.contains("[binding matches]"), "{heard}");
}

/// A server (or a man in the middle that removed the -PLUS names) offering no -PLUS:
/// the client says it could have bound (`y`, RFC 5802), so a server that does support
/// channel binding can tell that its offer was cut. Without the fix the flag was `n`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_plus_on_offer_the_client_says_it_could_bind() {
    let (mechanism, heard) = scram_login(false, None).await;
    assert_eq!(mechanism, "SCRAM-SHA-256", "{heard}");
    assert!(heard.contains("[gs2 y,,]"), "{heard}");
}

/// -PLUS offered without naming a channel binding (ejabberd 23.01, which takes only
/// tls-unique, does that): no guessing, plain SCRAM with `n`, and the login works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plus_without_a_named_binding_logs_in_unbound() {
    let (mechanism, heard) = scram_login(true, None).await;
    assert_eq!(mechanism, "SCRAM-SHA-256", "{heard}");
    assert!(heard.contains("[gs2 n,,]"), "{heard}");
    // XEP-0440 naming only a binding we cannot give: the same.
    let (mechanism, heard) = scram_login(true, Some("tls-unique")).await;
    assert_eq!(mechanism, "SCRAM-SHA-256", "{heard}");
    assert!(heard.contains("[gs2 n,,]"), "{heard}");
}

/// Downloads `https://HOST:PORT/start` with the client for automatic fetches, whose
/// account's own upload host is `host`; returns the outcome and the paths the server
/// saw.
async fn fetch_through_redirect(
    host: &str,
    location: &'static str,
) -> (Result<(), String>, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (port, ca_pem, paths) = support::liar::redirecting_https(dir.path(), location).await;
    let trust = loquat::model::Trust {
        extra_roots_pem: Some(ca_pem),
        pinned_sha256: Vec::new(),
    };
    let client = loquat::transfer::http_client_public(&trust, Some(host)).expect("client");
    let out = dir.path().join("out");
    let result = loquat::transfer::download(
        client,
        format!("https://{host}:{port}/start"),
        out,
        "f.bin".into(),
        loquat::transfer::DownloadLimits::default(),
    )
    .finish()
    .await;
    let seen = paths.lock().map(|p| p.clone()).unwrap_or_default();
    (result.map(|_| ()).map_err(|e| e.to_string()), seen)
}

/// A file on the account's own upload host redirects to another address on this
/// computer or a private network: the hop is checked and never requested.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_fetch_does_not_follow_a_redirect_to_a_private_address() {
    for (own, location) in [
        ("localhost", "https://127.0.0.1:{port}/secret"),
        ("localhost", "https://[::ffff:127.0.0.1]:{port}/secret"),
        // A name that resolves to this computer: refused in the resolver's answer.
        ("127.0.0.1", "https://localhost:{port}/secret"),
    ] {
        let (result, seen) = fetch_through_redirect(own, location).await;
        let e = result.expect_err(location);
        assert!(e.contains("private network"), "{location}: {e}");
        assert_eq!(seen, ["/start"], "{location}");
    }
    // The own upload host itself may be private (a server on the local network).
    let (result, seen) = fetch_through_redirect("localhost", "https://localhost:{port}/file").await;
    assert_eq!(result, Ok(()));
    assert_eq!(seen, ["/start", "/file"]);
}

/// Everything logged in this test process, at the most verbose level, through the
/// same redacting logger the app installs.
fn captured_log() -> &'static std::sync::Mutex<String> {
    use std::sync::{Mutex, OnceLock};
    static LOG: OnceLock<&'static Mutex<String>> = OnceLock::new();
    LOG.get_or_init(|| {
        struct Capture(&'static Mutex<String>);
        impl log::Log for Capture {
            fn enabled(&self, _: &log::Metadata<'_>) -> bool {
                true
            }
            fn log(&self, record: &log::Record<'_>) {
                if let Ok(mut s) = self.0.lock() {
                    s.push_str(&format!(
                        "{} {} {}\n",
                        record.level(),
                        record.target(),
                        record.args()
                    ));
                }
            }
            fn flush(&self) {}
        }
        let sink: &'static Mutex<String> = Box::leak(Box::new(Mutex::new(String::new())));
        let logger = loquat::logging::Redacting::new(Box::new(Capture(sink)));
        log::set_boxed_logger(Box::new(logger)).expect("the only logger");
        log::set_max_level(log::LevelFilter::Trace);
        sink
    })
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .expect("read file")
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

/// A sign-in at trace level (a real Prosody with SCRAM and a store, then a PLAIN login
/// the account allowed, to a lying server): the password is nowhere in the log or the
/// data folder, not even base64-encoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_at_trace_level_logs_no_password() {
    use base64::Engine;
    let log = captured_log();
    let server = TestServer::start();
    let secret = "Unique-passw0rd-4711-zebra";
    server.register("secretive", "localhost", secret);
    let a = "secretive@localhost".to_owned();
    let data = tempfile::tempdir().expect("temp dir");
    let store = loquat::store::Store::open(&data.path().join("db")).expect("store");
    let p = local_params(
        AccountId::generate(),
        server.c2s_port(),
        server.ca_pem(),
        &a,
        secret,
        Some(store.clone()),
    );
    let (updates, handle, _) = online(p).await;
    drop(handle);
    drop(updates);
    store.flush().expect("flush");

    let liar = Liar::start(Lie::OnlyPlain).await;
    let mut cfg =
        support::session::local_config(liar.port, liar.ca_pem.clone(), "user@localhost", secret);
    cfg.allow_plain = true;
    let e = connect::connect(&cfg)
        .await
        .err()
        .expect("the liar refuses");
    assert!(matches!(e, SessionError::Auth { .. }), "{e:?}");
    assert!(
        liar.heard().contains(secret),
        "PLAIN was not used: {}",
        liar.heard()
    );

    let text = log.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(text.contains("SEND"), "trace logging was not on");
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0user\0{secret}"));
    for needle in [secret, plain.as_str()] {
        assert!(!text.contains(needle), "the log holds {needle:?}");
        let files = files_containing(data.path(), needle.as_bytes());
        assert!(files.is_empty(), "{needle:?} in {files:?}");
    }
}

/// A session with a lying server that takes any PLAIN login (allowed through the
/// account's store preference) and sends `xml` right after the bind.
async fn liar_session(xml: String) -> (Liar, support::session::Updates) {
    liar_session_lying(Lie::AfterBind(xml)).await
}

/// A session with a lying server that takes any PLAIN login and then tells `lie`.
async fn liar_session_lying(lie: Lie) -> (Liar, support::session::Updates) {
    let (liar, updates, _, _) = liar_session_stored(lie).await;
    (liar, updates)
}

/// [`liar_session_lying`], with the session's store.
async fn liar_session_stored(
    lie: Lie,
) -> (
    Liar,
    support::session::Updates,
    loquat::store::Store,
    AccountId,
) {
    let liar = Liar::start(lie).await;
    let store = loquat::store::Store::open_temporary().expect("store");
    let account = AccountId::generate();
    store
        .set_pref(&connect::allow_plain_pref(&account), "true")
        .expect("allow PLAIN");
    let p = local_params(
        account.clone(),
        liar.port,
        liar.ca_pem.clone(),
        "user@localhost",
        PASSWORD,
        Some(store.clone()),
    );
    // The liar offers only PLAIN: being online means the allowed PLAIN login was used.
    // (Not checked through `Online { mechanism }`: against a server this quick the
    // actor may report Online before it has heard which mechanism was used.)
    let (updates, handle, _) = online(p).await;
    // The handle lives as long as the stream's test needs it.
    std::mem::forget(handle);
    (liar, updates, store, account)
}

/// A session with a lying server that takes any PLAIN login and then tells `lie`; with
/// the session's handle, to ask things of it.
async fn liar_session_handle(
    lie: Lie,
) -> (Liar, support::session::Updates, loquat::session::Handle) {
    let liar = Liar::start(lie).await;
    let store = loquat::store::Store::open_temporary().expect("store");
    let account = AccountId::generate();
    store
        .set_pref(&connect::allow_plain_pref(&account), "true")
        .expect("allow PLAIN");
    let p = local_params(
        account,
        liar.port,
        liar.ca_pem.clone(),
        "user@localhost",
        PASSWORD,
        Some(store),
    );
    let (updates, handle, _) = online(p).await;
    (liar, updates, handle)
}

/// A message that arrives after `xml`, in a session with a lying server (see
/// `liar_session`).
async fn liar_session_then_message(xml: String) -> String {
    let (_liar, mut updates) = liar_session(format!(
        "{xml}<message from='friend@localhost/x' to='user@localhost/liar' type='chat' id='m1'>\
         <body>still here</body></message>"
    ))
    .await;
    wait_for(&mut updates, 20, "the message after the lie", |k| match k {
        UpdateKind::Message(m) => Some(m.body.clone()),
        UpdateKind::ContactChanged(c) if c.jid.as_str() == "mallory@localhost" => {
            panic!("a roster result nobody asked for was taken: {k:?}")
        }
        UpdateKind::Roster(list) if list.iter().any(|c| c.jid.as_str() == "mallory@localhost") => {
            panic!("a roster result nobody asked for was taken: {k:?}")
        }
        UpdateKind::Disconnected { .. } | UpdateKind::Failed(_) => {
            panic!("the session fell over: {k:?}")
        }
        _ => None,
    })
    .await
}

/// IQ results to ids never sent (one naming a stranger as a contact) change nothing
/// and do not break the session: the next message arrives. Also the path of a PLAIN
/// login the account allowed (its store preference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_answering_an_iq_never_sent_changes_nothing() {
    let got = liar_session_then_message(
        "<iq type='result' id='never-sent-42' from='localhost'>\
         <query xmlns='jabber:iq:roster'><item jid='mallory@localhost' subscription='both'/></query></iq>\
         <iq type='result' id='never-sent-43'/>"
            .to_owned(),
    )
    .await;
    assert_eq!(got, "still here");
}

/// The server itself sends a message nested 40,000 levels deep in an established
/// session: it is dropped before the parser (without the guard the process aborted
/// with a stack overflow) and the next message arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_sending_a_deep_stanza_does_not_crash_the_session() {
    let depth = 40_000;
    let deep = format!(
        "<message from='evil@localhost/x' type='chat'><body>deep</body>{}{}</message>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    assert_eq!(liar_session_then_message(deep).await, "still here");
}

/// A picture nobody clicked, from a URL on this computer (or redirecting there): the
/// preview fetch refuses it in words, whether the first address or a redirect hop is
/// private, and nothing lands in the cache. Only the account's own upload host may be
/// on the local network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_fetch_refuses_private_addresses_and_keeps_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (port, ca_pem, paths) =
        support::liar::redirecting_https(dir.path(), "https://127.0.0.1:{port}/secret").await;
    let trust = loquat::model::Trust {
        extra_roots_pem: Some(ca_pem),
        pinned_sha256: Vec::new(),
    };
    let cache = dir.path().join("cache");
    let fetch = |url: String, own: Option<&str>| {
        let own = own.map(str::to_owned);
        let client = loquat::transfer::http_client_public(&trust, own.as_deref()).expect("client");
        loquat::transfer::cache::fetch_preview(
            client,
            url,
            "a.png".into(),
            1 << 20,
            cache.clone(),
            own,
            loquat::transfer::cache::DEFAULT_CAP,
        )
    };
    // Not the account's host: refused before any request.
    let e = fetch(format!("https://localhost:{port}/start"), None)
        .await
        .expect_err("a private host");
    assert!(e.to_string().contains("private network"), "{e}");
    assert!(paths.lock().unwrap().is_empty());
    // The account's own host, redirecting to a private address: the hop is refused.
    let e = fetch(format!("https://localhost:{port}/start"), Some("localhost"))
        .await
        .expect_err("a private redirect");
    assert!(e.to_string().contains("private network"), "{e}");
    assert_eq!(*paths.lock().unwrap(), ["/start"]);
    let files = cache.join("files");
    let kept = std::fs::read_dir(&files)
        .map(|d| {
            d.flatten()
                .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten())
                .count()
        })
        .unwrap_or(0);
    assert_eq!(kept, 0, "nothing kept in {}", files.display());
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Issue #20, weakness 9: 50,000 presences from 50,000 addresses while the UI takes
/// nothing. The channel to the UI holds at most `PRESENCE_BACKLOG` updates (without
/// the bound: all 50,000), the message after the flood still arrives, and memory is
/// measured (printed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_presence_flood_does_not_fill_the_channel() {
    use futures::{FutureExt, StreamExt};
    const FLOOD: usize = 50_000;
    let before = rss_kib();
    let mut xml = String::with_capacity(FLOOD * 100);
    for i in 0..FLOOD {
        xml.push_str(&format!(
            "<presence from='s{i}@flood.localhost/r{i}' to='user@localhost/liar'><show>away</show></presence>"
        ));
    }
    xml.push_str(
        "<message from='friend@localhost/x' to='user@localhost/liar' type='chat' id='m1'>\
         <body>after the flood</body></message>",
    );
    let (_liar, mut updates) = liar_session_lying(Lie::Later(xml, 1000)).await;
    // The UI is busy: nothing is taken while the flood arrives.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let during = rss_kib();
    let mut waiting = 0;
    let mut presences = 0;
    let mut message = None;
    // Unconstrained: tokio's cooperative budget would end the loop after 128 polls.
    while let Some(Some(u)) =
        tokio::task::unconstrained(async { updates.next().now_or_never() }).await
    {
        waiting += 1;
        match u.kind {
            UpdateKind::Presence { .. } => presences += 1,
            UpdateKind::Message(m) => message = Some(m.body),
            _ => {}
        }
    }
    eprintln!(
        "presence flood of {FLOOD}: {waiting} updates waiting ({presences} presences, message {}); \
         RSS {before} KiB before, {during} KiB during",
        message.is_some()
    );
    assert!(
        presences <= loquat::session::flood::PRESENCE_BACKLOG,
        "{presences} presences waited in the channel"
    );
    let body = match message {
        Some(b) => b,
        None => {
            wait_for(
                &mut updates,
                30,
                "the message after the flood",
                |k| match k {
                    UpdateKind::Message(m) => Some(m.body.clone()),
                    UpdateKind::Disconnected { .. } | UpdateKind::Failed(_) => {
                        panic!("the session fell over: {k:?}")
                    }
                    _ => None,
                },
            )
            .await
        }
    };
    assert_eq!(body, "after the flood");
}

/// A certificate for another name, or one that has expired (signed by a root the
/// account trusts, so only the name or the date is wrong): refused before any login,
/// in words that say which, and the password never leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_with_a_wrong_name_or_expired_certificate_is_refused() {
    for (san, days, expect) in [
        ("DNS:other.example", "825", "name"),
        (support::LEAF_SAN, "-1", "expired"),
    ] {
        let liar = Liar::start_with_leaf(Lie::OnlyPlain, san, days).await;
        let (e, took) = connect_to_liar(&liar).await;
        match &e {
            SessionError::Certificate { reason, .. } => {
                assert!(reason.to_lowercase().contains(expect), "{expect}: {e}")
            }
            other => panic!("{expect}: not a certificate error: {other:?}"),
        }
        assert!(
            e.is_fatal(),
            "{expect}: waits for the user instead of retrying"
        );
        assert!(
            took < std::time::Duration::from_secs(20),
            "{expect}: took {took:?}"
        );
        assert!(
            !liar.heard().contains("<auth"),
            "{expect}: {}",
            liar.heard()
        );
    }
}

/// The server breaks off in the middle of a stanza with a stream error (the XML no
/// longer fits together). The message before it is stored once (also after the
/// reconnection, when the liar sends it again), the cut one never shows, and the
/// session says in words that the connection broke, then reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_breaking_off_mid_stanza_loses_nothing_and_says_so() {
    let (_liar, mut updates, store, account) = liar_session_stored(Lie::AfterBind(
        "<message from='friend@localhost/x' to='user@localhost/liar' type='chat' id='m0'>\
         <body>before the break</body></message>\
         <message from='friend@localhost/x' to='user@localhost/liar' type='chat' id='m1'>\
         <body>cut in the midd<stream:error><internal-server-error \
         xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
            .to_owned(),
    ))
    .await;
    let mut saw_before = false;
    let detail = wait_for(&mut updates, 30, "the break, in words", |k| match k {
        UpdateKind::Message(m) => {
            assert_ne!(m.body, "cut in the midd", "half a stanza was taken");
            saw_before |= m.body == "before the break";
            None
        }
        UpdateKind::Disconnected { error, .. } | UpdateKind::Failed(error) => {
            Some(error.to_string())
        }
        _ => None,
    })
    .await;
    assert!(!detail.trim().is_empty());
    eprintln!("mid-stanza break reported as: {detail}");
    // Back online (the liar tells the same story again), the first message is still
    // stored once.
    wait_for(&mut updates, 30, "back online", |k| match k {
        UpdateKind::Online { .. } => Some(()),
        UpdateKind::Message(m) => {
            assert_ne!(m.body, "cut in the midd", "half a stanza was taken");
            saw_before |= m.body == "before the break";
            None
        }
        _ => None,
    })
    .await;
    assert!(saw_before, "the message before the break arrived");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let friend = support::session::jid("friend@localhost");
    let stored: Vec<String> = store
        .latest(&account, &loquat::ids::ConversationId::Chat(friend), 10)
        .expect("read the store")
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(
        stored,
        ["before the break"],
        "stored once, the cut one never"
    );
}

/// The connection drops after stream management was enabled; the resumption is
/// answered with garbage (an `h` that is not a number, then bytes that are not XML).
/// The session does not hang on it: it starts a new stream, says it is online again,
/// and the message after that arrives; the one before it is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_answering_a_resumption_with_garbage_starts_over() {
    for garbage in [
        "<resumed xmlns='urn:xmpp:sm:3' previd='sm-liar' h='banana'/>",
        "\u{1}\u{2} this is not XML <<<>>> &&&",
    ] {
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (liar, mut updates, store, account) =
            liar_session_stored(Lie::ResumeGarbage(garbage.to_owned(), connections.clone())).await;
        let mut bodies = Vec::new();
        wait_for(
            &mut updates,
            90,
            "the message after the garbage",
            |k| match k {
                UpdateKind::Message(m) => {
                    bodies.push(m.body.clone());
                    (m.body == "second").then_some(())
                }
                UpdateKind::Failed(e) => panic!("{garbage}: gave up: {e}"),
                _ => None,
            },
        )
        .await;
        assert!(
            liar.heard().contains("<resume"),
            "{garbage}: no resumption was tried"
        );
        assert!(
            connections.load(std::sync::atomic::Ordering::SeqCst) >= 3,
            "{garbage}: a new stream after the garbage"
        );
        let friend = support::session::jid("friend@localhost");
        let stored: Vec<String> = store
            .latest(&account, &loquat::ids::ConversationId::Chat(friend), 10)
            .expect("read the store")
            .into_iter()
            .map(|m| m.body)
            .collect();
        assert_eq!(stored, ["first", "second"], "{garbage}: {bodies:?}");
    }
}

/// Archive pages that contradict themselves: every page says "not complete" and ends
/// where the query began (and repeats the same message). The catch-up notices that it
/// does not move, says it has caught up, and stops asking (without the check it asked
/// again and again, as fast as the liar answered); the message is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_archive_that_never_moves_does_not_loop() {
    let queries = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (_liar, mut updates, store, account) =
        liar_session_stored(Lie::ArchiveStuck(queries.clone())).await;
    wait_for(&mut updates, 30, "the end of the catch-up", |k| match k {
        UpdateKind::CaughtUp => Some(()),
        UpdateKind::Failed(e) => panic!("gave up: {e}"),
        _ => None,
    })
    .await;
    let after_caught_up = queries.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let later = queries.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!("archive queries: {after_caught_up} until caught up, {later} three seconds later");
    assert!(later <= 4, "{later} queries: the catch-up kept asking");
    let friend = support::session::jid("friend@localhost");
    let stored: Vec<String> = store
        .latest(&account, &loquat::ids::ConversationId::Chat(friend), 10)
        .expect("read the store")
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(stored, ["archived once"]);
}

/// An archive that invents a new id for every page and never says "complete": the
/// forward catch-up stops after `MAX_FORWARD_PAGES` pages, says it has caught up, and
/// keeps every message it was given (without the cap it asked for ever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_archive_inventing_ids_for_ever_is_walked_at_most_the_cap() {
    let queries = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (_liar, mut updates, store, account) =
        liar_session_stored(Lie::ArchiveInventing(queries.clone())).await;
    wait_for(&mut updates, 120, "the end of the catch-up", |k| match k {
        UpdateKind::CaughtUp => Some(()),
        UpdateKind::Failed(e) => panic!("gave up: {e}"),
        _ => None,
    })
    .await;
    let asked = queries.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let later = queries.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!("archive queries: {asked} until caught up, {later} two seconds later");
    let cap = loquat::session::MAX_FORWARD_PAGES as usize;
    // The newest page, then forward pages up to the cap (one may be asked ahead).
    assert!(
        later <= cap + 2,
        "{later} queries: the catch-up kept asking"
    );
    let friend = support::session::jid("friend@localhost");
    let stored = store
        .latest(&account, &loquat::ids::ConversationId::Chat(friend), 5_000)
        .expect("read the store")
        .len();
    assert_eq!(stored, later, "every invented message is kept");
}

/// Issue #20, weakness 9, in a room: once joined, 50,000 occupant presences from 2,000
/// nicks, 5,000 subject changes and 5,000 typing states while the UI takes nothing.
/// Room updates are coalesced like contact presences (the latest per occupant, per
/// subject, per typer): at most `PRESENCE_BACKLOG` wait in the channel (without the
/// coalescing: all of them, about 60,000), the message after the flood still arrives,
/// and memory is measured (printed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liar_room_flood_is_coalesced() {
    use futures::{FutureExt, StreamExt};
    const FLOOD: usize = 50_000;
    let room = "flood@conference.localhost";
    let before = rss_kib();
    let mut xml = String::with_capacity(FLOOD * 200);
    xml.push_str(&format!(
        "<presence from='{room}/user' to='user@localhost/liar'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/>\
         <status code='110'/></x></presence>"
    ));
    for i in 0..FLOOD {
        let show = ["away", "dnd", "xa", "chat"][i % 4];
        xml.push_str(&format!(
            "<presence from='{room}/n{}' to='user@localhost/liar'><show>{show}</show>\
             <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x></presence>",
            i % 2_000
        ));
        if i % 10 == 0 {
            xml.push_str(&format!(
                "<message from='{room}/n1' to='user@localhost/liar' type='groupchat' id='s{i}'>\
                 <subject>subject {i}</subject></message>\
                 <message from='{room}/n2' to='user@localhost/liar' type='groupchat'>\
                 <composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
            ));
        }
    }
    xml.push_str(
        "<message from='friend@localhost/x' to='user@localhost/liar' type='chat' id='m1'>\
         <body>after the room flood</body></message>",
    );
    let (_liar, mut updates, handle) = liar_session_handle(Lie::Later(xml, 1000)).await;
    handle
        .send(loquat::session::Command::JoinRoom {
            room: support::session::jid(room),
            nick: "user".into(),
            password: None,
        })
        .expect("join");
    // The UI is busy: nothing is taken while the flood arrives.
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    let during = rss_kib();
    let (mut waiting, mut room_updates, mut typing) = (0, 0, 0);
    let mut joined = false;
    let mut message = None;
    // Unconstrained: tokio's cooperative budget would end the loop after 128 polls.
    while let Some(Some(u)) =
        tokio::task::unconstrained(async { updates.next().now_or_never() }).await
    {
        waiting += 1;
        match u.kind {
            UpdateKind::Room(loquat::session::rooms::RoomUpdate::Joined { .. }) => joined = true,
            UpdateKind::Room(_) => room_updates += 1,
            UpdateKind::ChatState { .. } => typing += 1,
            UpdateKind::Message(m) => message = Some(m.body),
            _ => {}
        }
    }
    eprintln!(
        "room flood of {FLOOD} presences: {waiting} updates waiting ({room_updates} room \
         updates, {typing} typing, message {}); RSS {before} KiB before, {during} KiB during",
        message.is_some()
    );
    assert!(joined, "the join went through");
    assert!(
        room_updates + typing <= loquat::session::flood::PRESENCE_BACKLOG,
        "{room_updates} room updates and {typing} typing states waited in the channel"
    );
    let body = match message {
        Some(b) => b,
        None => {
            wait_for(
                &mut updates,
                30,
                "the message after the flood",
                |k| match k {
                    UpdateKind::Message(m) => Some(m.body.clone()),
                    UpdateKind::Disconnected { .. } | UpdateKind::Failed(_) => {
                        panic!("the session fell over: {k:?}")
                    }
                    _ => None,
                },
            )
            .await
        }
    };
    assert_eq!(body, "after the room flood");
    drop(handle);
}

/// The sign-in form's check has no store yet: PLAIN is allowed by the form's own
/// choice (`SessionParams::allow_plain`). Off, a PLAIN-only server is refused in words;
/// on, the login goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_only_server_is_used_only_when_the_sign_in_form_allows_it() {
    for allow in [false, true] {
        let liar = Liar::start(Lie::AfterBind(String::new())).await;
        let mut p = local_params(
            AccountId::generate(),
            liar.port,
            liar.ca_pem.clone(),
            "user@localhost",
            PASSWORD,
            None,
        );
        p.verify_only = true;
        p.allow_plain = allow;
        let mut updates: support::session::Updates = Box::pin(loquat::session::run(p));
        let outcome = wait_for(&mut updates, 20, "the check's outcome", |k| match k {
            UpdateKind::Online { mechanism, .. } => Some(Ok(mechanism.clone())),
            UpdateKind::Failed(e) => Some(Err(e.clone())),
            _ => None,
        })
        .await;
        match (allow, outcome) {
            // The liar offers only PLAIN: online means PLAIN was used (`mechanism` may
            // not be known yet against a server this quick, see `liar_session_stored`).
            (true, Ok(_)) => {}
            (false, Err(SessionError::InsecureLogin { detail })) => {
                assert!(detail.contains("under Advanced"), "{detail}");
                assert!(!liar.heard().contains(PASSWORD));
            }
            (allow, other) => panic!("allowed {allow}: {other:?}"),
        }
    }
}
