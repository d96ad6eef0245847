//! The window while the stored history is upgraded at start (issue #21: minutes at a
//! million messages, once): how far the upgrade and the rewrite after it have come,
//! instead of a bare "Starting…", then the inbox with every message.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_upgrade`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;
use support::app::{apply, shows};
use support::session::jid;

use loquat::ids::{ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Delivery, Direction};
use loquat::secrets::{SecretError, SecretStore};
use loquat::store::Store;
use loquat::ui::app::startup;
use loquat::ui::i18n::Lang;
use loquat::ui::{App, Message};
use std::sync::Arc;

const MESSAGES: i64 = 20_000;

fn no_keyring() -> Result<Arc<dyn SecretStore>, SecretError> {
    Err(SecretError::Unavailable("not in this test".into()))
}

/// A history of `MESSAGES` with Bob, left by a Loquat of schema 4.
fn old_history(path: &std::path::Path) {
    {
        let store = Store::open(path).unwrap();
        let account = Account::new(jid("me@example.org"));
        store.save_account(&account).unwrap();
        let msgs: Vec<_> = (0..MESSAGES)
            .map(|n| ChatMessage {
                truncated: false,
                extras: Default::default(),
                id: LocalMessageId(format!("m{n}")),
                account: account.id.clone(),
                conversation: ConversationId::Chat(jid("bob@example.org")),
                direction: Direction::Incoming,
                sender: String::new(),
                body: format!("message {n} from Bob"),
                timestamp_ms: 1_700_000_000_000 + n * 1_000,
                stanza_id_attr: None,
                origin_id: Some(format!("o{n}")),
                server_id: Some(format!("s{n}")),
                delivery: Delivery::Delivered,
                attachment: None,
            })
            .collect();
        for page in msgs.chunks(1_000) {
            store.insert_messages(page).unwrap();
        }
        store.flush().unwrap();
    }
    // sled lets go of its lock a moment after the last handle.
    let db = loop {
        match sled::open(path) {
            Ok(db) => break db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    };
    db.open_tree("meta")
        .unwrap()
        .insert("schema_version", &4u32.to_be_bytes())
        .unwrap();
    db.flush().unwrap();
}

#[test]
fn an_upgrade_shows_how_far_it_has_come_then_the_inbox() {
    let dir = tempfile::tempdir().unwrap();
    old_history(&dir.path().join("db"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: the only test in this file; nothing else reads the environment yet.
    unsafe { std::env::set_var("LOQUAT_DATA_DIR", dir.path()) };
    let (mut app, _load) = App::boot(Lang::En, None, None);
    assert!(shows(&app, "Starting…"));
    // What the app's start-up thread does, while the window looks four times a second.
    let loading = std::thread::spawn(|| startup::load(no_keyring));
    let (mut upgrade, mut compact) = (Vec::new(), Vec::new());
    while !loading.is_finished() {
        apply(&mut app, vec![Message::StartingTick]);
        let percent = |words: &str| {
            if !shows(&app, words) {
                return None;
            }
            (0..=100).find(|p| shows(&app, &format!("{words}: {p} %")))
        };
        if let Some(p) = percent("Upgrading your message history for this version") {
            upgrade.push(p);
        }
        if let Some(p) = percent("Compacting your upgraded message history") {
            compact.push(p);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!upgrade.is_empty(), "the upgrade's progress was shown");
    assert!(upgrade.windows(2).all(|w| w[0] <= w[1]), "{upgrade:?}");
    assert!(compact.windows(2).all(|w| w[0] <= w[1]), "{compact:?}");
    apply(&mut app, vec![Message::Started(loading.join().unwrap())]);
    assert!(!shows(&app, "Upgrading your message history"));
    assert!(shows(&app, "bob@example.org"), "the inbox");
    assert!(shows(&app, &format!("message {} from Bob", MESSAGES - 1)));
    eprintln!("seen: upgrade {upgrade:?}, rewrite {compact:?}");
}
