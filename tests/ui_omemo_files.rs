//! A file sent while the chat's lock still says "checking" (issue #17): it waits, shown
//! as waiting with Cancel, and asks the server for nothing; once the session reports
//! that the chat is encrypted, it is encrypted before upload (XEP-0454: the slot is
//! asked for the file plus its 16-byte tag, as `application/octet-stream`). Before this,
//! such a file was uploaded in plain text.
//!
//! The real `App::update`; the upload task's commands to the session are read from the
//! handle's channel and answered here (no network). Screenshots for review:
//! `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_omemo_files -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;
use support::app::{click, shows};

use futures::StreamExt;
use iced_test::simulator;
use loquat::ids::AccountId;
use loquat::model::{Account, Contact, Subscription};
use loquat::session::omemo::trust::{Device, Report};
use loquat::session::{Command, Handle, Update, UpdateKind};
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::timeline::transfers::Status;
use loquat::ui::{App, Message};
use loquat::xmpp::upload::{SlotError, UploadService};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use xmpp_parsers::jid::BareJid;

/// Bob's chat open, the session ready (its commands come out of the receiver), the
/// lock still checking: no report from the session yet.
fn app_with_bob(lang: Lang) -> (App, AccountId, BareJid, mpsc::UnboundedReceiver<Command>) {
    let account = Account::new(BareJid::new("alice@example.org").expect("jid"));
    let id = account.id.clone();
    let bob = BareJid::new("bob@example.org").expect("jid");
    let mut loaded = LoadedAccount::new(account, Some("pw".into()));
    loaded.contacts = vec![Contact {
        jid: bob.clone(),
        name: Some("Bob".into()),
        subscription: Subscription::Both,
        pending_out: false,
        groups: Vec::new(),
    }];
    let mut app = App::from_startup(
        lang,
        Startup {
            accounts: vec![loaded],
            ..Startup::default()
        },
    );
    let (tx, rx) = mpsc::unbounded_channel();
    let _ = app.update(Message::Session(Update {
        account: id.clone(),
        kind: UpdateKind::Ready(Handle::new(tx)),
    }));
    click(&mut app, "Bob");
    (app, id, bob, rx)
}

/// The session's report: Bob publishes one OMEMO device.
fn bob_encrypted(account: &AccountId, bob: &BareJid) -> Message {
    let device = |jid: &BareJid, id: u32| Device {
        jid: jid.clone(),
        id,
        fingerprint: Some(
            "a1b2c3d4 e5f60718 293a4b5c 6d7e8f90 01122334 45566778 8899aabb ccddeeff".into(),
        ),
        verified: false,
        changed: None,
    };
    let alice = BareJid::new("alice@example.org").expect("jid");
    Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Omemo(Report {
            peer: bob.clone(),
            available: true,
            broken: false,
            ours: Some(device(&alice, 1)),
            own_others: Vec::new(),
            contact: Some(vec![device(bob, 4242)]),
            room: None,
        }),
    })
}

fn file(dir: &std::path::Path, name: &str, len: usize) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![7u8; len]).expect("write");
    path
}

/// Runs `task` to its end, feeding what it produces back into the app.
fn run(rt: &tokio::runtime::Runtime, app: &mut App, task: iced::Task<Message>) {
    support::view::run_tasks(rt, app, task);
}

/// Upload questions the app put to the session so far (other commands skipped).
fn upload_questions(rx: &mut mpsc::UnboundedReceiver<Command>) -> Vec<String> {
    let mut asked = Vec::new();
    while let Ok(c) = rx.try_recv() {
        if matches!(
            c,
            Command::FindUploadService { .. } | Command::RequestSlot { .. }
        ) {
            asked.push(format!("{c:?}"));
        }
    }
    asked
}

/// The next upload question from the session's channel (other commands skipped).
async fn next_upload_question(rx: &mut mpsc::UnboundedReceiver<Command>) -> Command {
    loop {
        // A guard against a hang, not a measure: the question comes at once.
        let c = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("an upload question")
            .expect("the channel is open");
        if matches!(
            c,
            Command::FindUploadService { .. } | Command::RequestSlot { .. }
        ) {
            return c;
        }
    }
}

#[test]
fn a_file_sent_while_the_lock_is_checking_waits_then_goes_encrypted() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (mut app, account, bob, mut rx) = app_with_bob(Lang::En);
    let tmp = tempfile::tempdir().expect("tempdir");
    let len = 1000;
    let task = app.update(Message::FilesChosen(vec![file(
        tmp.path(),
        "secret.pdf",
        len,
    )]));
    // Whatever the app started runs to its end: nothing may ask for an upload slot.
    run(&rt, &mut app, task);
    assert_eq!(app.transfers().items().len(), 1);
    assert_eq!(app.transfers().items()[0].status, Status::Waiting);
    assert!(shows(&app, "Sending secret.pdf"));
    assert!(shows(
        &app,
        "Waiting to learn whether this conversation is encrypted"
    ));
    assert!(shows(&app, "Cancel"));
    let asked = upload_questions(&mut rx);
    assert!(
        asked.is_empty(),
        "asked the server while checking: {asked:?}"
    );

    // The session says Bob's chat is encrypted: the file goes, encrypted.
    let task = app.update(bob_encrypted(&account, &bob));
    assert!(matches!(
        app.transfers().items()[0].status,
        Status::Running(_)
    ));
    let stream = iced_runtime::task::into_stream(task).expect("the upload runs");
    let driver = rt.spawn(stream.for_each(|_| async {}));
    let (size, content_type) = rt.block_on(async {
        match next_upload_question(&mut rx).await {
            Command::FindUploadService { reply } => reply.send(Ok(UploadService {
                jid: "upload.example.org".parse().expect("jid"),
                max_size: None,
            })),
            other => panic!("first the service: {other:?}"),
        }
        match next_upload_question(&mut rx).await {
            Command::RequestSlot {
                size,
                content_type,
                reply,
                ..
            } => {
                reply.send(Err(SlotError::Refused("test ends here".into())));
                (size, content_type)
            }
            other => panic!("then a slot: {other:?}"),
        }
    });
    assert_eq!(size, len as u64 + 16, "the file and its GCM tag");
    assert_eq!(content_type.as_deref(), Some("application/octet-stream"));
    driver.abort();
}

#[test]
fn a_waiting_file_can_be_cancelled_and_never_goes() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (mut app, account, bob, mut rx) = app_with_bob(Lang::ZhCn);
    let tmp = tempfile::tempdir().expect("tempdir");
    let task = app.update(Message::FilesChosen(vec![file(
        tmp.path(),
        "secret.pdf",
        10,
    )]));
    run(&rt, &mut app, task);
    assert!(shows(&app, "正在确认此会话是否加密"));
    click(&mut app, "取消");
    assert!(app.transfers().items().is_empty());
    let task = app.update(bob_encrypted(&account, &bob));
    run(&rt, &mut app, task);
    assert!(app.transfers().items().is_empty());
    let asked = upload_questions(&mut rx);
    assert!(asked.is_empty(), "a cancelled file was sent: {asked:?}");
}

/// The session's report when this account's OMEMO state did not open on this device.
fn omemo_broken(account: &AccountId, bob: &BareJid) -> Message {
    Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Omemo(Report {
            peer: bob.clone(),
            available: false,
            broken: true,
            ours: None,
            own_others: Vec::new(),
            contact: None,
            room: None,
        }),
    })
}

/// OMEMO state that does not open (another key in the keyring, damaged records): text
/// messages are refused by the session; a file must not be uploaded in plain text
/// either (before: the lock said "not available" and the file went up unencrypted, its
/// link message then refused). It fails with the reason, asking the server nothing; a
/// file already waiting on the lock fails the same way.
#[test]
fn a_file_is_refused_not_uploaded_plain_when_omemo_did_not_open() {
    for (lang, lock_words, refused) in [
        (
            Lang::En,
            "OMEMO keys on this device could not be opened",
            "the file is not uploaded unencrypted",
        ),
        (
            Lang::ZhCn,
            "无法打开此帐号在本设备上的 OMEMO 密钥",
            "文件不会以未加密方式上传",
        ),
    ] {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let (mut app, account, bob, mut rx) = app_with_bob(lang);
        let tmp = tempfile::tempdir().expect("tempdir");
        // One file waits on the lock, then the report comes; then another file.
        let task = app.update(Message::FilesChosen(vec![file(tmp.path(), "a.pdf", 10)]));
        run(&rt, &mut app, task);
        let task = app.update(omemo_broken(&account, &bob));
        run(&rt, &mut app, task);
        let task = app.update(Message::FilesChosen(vec![file(tmp.path(), "b.pdf", 10)]));
        run(&rt, &mut app, task);
        let items = app.transfers().items();
        assert_eq!(items.len(), 2);
        for item in items {
            assert!(
                matches!(&item.status, Status::Failed(why) if why.contains(refused)),
                "{}: {:?}",
                item.name,
                item.status
            );
        }
        let asked = upload_questions(&mut rx);
        assert!(asked.is_empty(), "asked the server for a slot: {asked:?}");
        click(
            &mut app,
            if lang == Lang::En {
                "Not encrypted"
            } else {
                "未加密"
            },
        );
        assert!(shows(&app, lock_words), "the lock's panel says why");
    }
}

/// The waiting card, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_a_waiting_file_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = PathBuf::from(dir);
    for (name, lang) in [
        ("omemo-file-waiting-en", Lang::En),
        ("omemo-file-waiting-zh", Lang::ZhCn),
    ] {
        let (mut app, _, _, _rx) = app_with_bob(lang);
        let tmp = tempfile::tempdir().expect("tempdir");
        let _ = app.update(Message::FilesChosen(vec![file(
            tmp.path(),
            "secret.pdf",
            10,
        )]));
        let mut ui = simulator(app.view());
        let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
        let path = dir.join(name);
        let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
        assert!(snapshot.matches_image(&path).expect("write png"));
    }
}
