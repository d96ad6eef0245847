//! Unit tests that need the store's internals (raw sled access to damage data).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;
use crate::ids::LocalMessageId;
use crate::model::{Delivery, Direction};
use xmpp_parsers::jid::BareJid;

fn account() -> AccountId {
    AccountId("acct".into())
}

fn peer() -> BareJid {
    BareJid::new("alice@example.org").unwrap()
}

fn msg(n: i64) -> ChatMessage {
    ChatMessage {
        truncated: false,
        id: LocalMessageId(format!("m{n}")),
        account: account(),
        peer: peer(),
        is_room: false,
        direction: Direction::Incoming,
        sender: String::new(),
        body: format!("message {n}"),
        timestamp_ms: 1_700_000_000_000 + n,
        stanza_id_attr: None,
        origin_id: None,
        server_id: Some(format!("s{n}")),
        delivery: Delivery::Delivered,
        private_nick: None,
        attachment: None,
    }
}

fn history_key_of(store: &Store, id: &str) -> sled::IVec {
    store
        .local_ids
        .get(keys::local_id(&account(), &LocalMessageId(id.into())))
        .unwrap()
        .unwrap()
}

#[test]
fn damaged_message_is_skipped_and_the_rest_returned() {
    let store = Store::open_temporary().unwrap();
    let msgs: Vec<_> = (0..5).map(msg).collect();
    store.insert_messages(&msgs).unwrap();
    store
        .history
        .insert(history_key_of(&store, "m2"), &b"{not json"[..])
        .unwrap();
    let conv = msgs[0].conversation();

    let got = store.latest(&account(), &conv, 10).unwrap();
    let ids: Vec<_> = got.iter().map(|m| m.id.0.as_str()).collect();
    assert_eq!(ids, ["m0", "m1", "m3", "m4"]);

    // A damaged record does not shorten a page: the next readable one fills it.
    let got = store.latest(&account(), &conv, 3).unwrap();
    let ids: Vec<_> = got.iter().map(|m| m.id.0.as_str()).collect();
    assert_eq!(ids, ["m1", "m3", "m4"]);

    let err = store
        .set_delivery(&account(), &LocalMessageId("m2".into()), &Delivery::Read)
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)));
}

#[test]
fn damaged_account_roster_and_summary_are_skipped() {
    let store = Store::open_temporary().unwrap();
    let good = Account::new(BareJid::new("me@example.org").unwrap());
    store.save_account(&good).unwrap();
    store
        .accounts
        .insert(keys::account(&AccountId("broken".into())), &b"[1,2"[..])
        .unwrap();
    assert_eq!(store.accounts().unwrap(), vec![good]);

    store
        .roster
        .insert(keys::account(&account()), &b"\xff"[..])
        .unwrap();
    assert_eq!(store.roster(&account()).unwrap(), (None, Vec::new()));

    store.insert_message(&msg(1)).unwrap();
    let bob = ConversationId::Chat(BareJid::new("bob@example.org").unwrap());
    store
        .summaries
        .insert(keys::conversation(&account(), &bob), &b"\x01\x00"[..])
        .unwrap();
    let rows = store.conversations(&account()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].last.as_ref().map(|m| m.id.0.as_str()), Some("m1"));

    // A damaged summary is rebuilt by the next insert instead of failing it.
    let mut to_bob = msg(2);
    to_bob.peer = bob.jid().clone();
    assert_eq!(store.insert_message(&to_bob).unwrap(), Inserted::New);
    assert_eq!(store.conversations(&account()).unwrap().len(), 2);
}

#[test]
fn database_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let meta = tree(&store.db, schema::META).unwrap();
        meta.insert(b"schema_version", &(SCHEMA_VERSION + 1).to_be_bytes())
            .unwrap();
        store.flush().unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("newer version of Loquat"), "{err}");
}
