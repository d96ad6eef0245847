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
        extras: Default::default(),
        id: LocalMessageId(format!("m{n}")),
        account: account(),
        conversation: ConversationId::Chat(peer()),
        direction: Direction::Incoming,
        sender: String::new(),
        body: format!("message {n}"),
        timestamp_ms: 1_700_000_000_000 + n,
        stanza_id_attr: None,
        origin_id: None,
        server_id: Some(format!("s{n}")),
        delivery: Delivery::Delivered,
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
    to_bob.conversation = ConversationId::Chat(bob.jid().clone());
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

/// Bodies of a conversation as stored, in its order.
fn stored_bodies(store: &Store) -> Vec<String> {
    store
        .latest(&account(), &msg(0).conversation(), 10_000)
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect()
}

/// `msg(n)` with every stamp in the same whole second (archives give whole seconds).
fn same_second(n: i64) -> ChatMessage {
    let mut m = msg(n);
    m.timestamp_ms = 1_700_000_000_999;
    m
}

fn bodies(ns: impl IntoIterator<Item = i64>) -> Vec<String> {
    ns.into_iter().map(|n| format!("message {n}")).collect()
}

#[test]
fn live_messages_keep_arrival_order_whatever_their_stamps() {
    let store = Store::open_temporary().unwrap();
    // Delay stamps of a resumed stream may go backwards and share seconds.
    for (n, t) in [(1, 5_000), (2, 1_000), (3, 1_000), (4, 3_000)] {
        let mut m = msg(n);
        m.timestamp_ms = t;
        store.insert_messages(&[m]).unwrap();
    }
    store
        .insert_messages(&[same_second(5), same_second(6)])
        .unwrap();
    assert_eq!(stored_bodies(&store), bodies(1..=6));
}

#[test]
fn forward_pages_go_before_what_arrived_live_during_the_walk() {
    let store = Store::open_temporary().unwrap();
    store.insert_messages(&[same_second(1)]).unwrap();
    let mut walk = store.page_order(false).unwrap();
    // Live during the catch-up, before the archive pages that precede it arrive.
    store.insert_messages(&[same_second(9)]).unwrap();
    // Page 1 has no anchor: after what was stored before the walk, before message 9.
    store
        .insert_page(&[same_second(2), same_second(3)], &mut walk, true)
        .unwrap();
    // Page 2 continues page 1, then reaches message 9 (an anchor) and goes past it.
    let page = [
        same_second(4),
        same_second(5),
        same_second(9),
        same_second(10),
    ];
    let got = store.insert_page(&page, &mut walk, true).unwrap();
    assert_eq!(got[2], Inserted::Duplicate);
    assert_eq!(
        stored_bodies(&store),
        bodies([1, 2, 3, 4, 5, 9, 10]),
        "archive order, not arrival order, for the catch-up"
    );
    assert_eq!(store.unread(&account(), &msg(0).conversation()).unwrap(), 7);
}

#[test]
fn backward_pages_go_before_what_the_walk_stored() {
    let store = Store::open_temporary().unwrap();
    let mut walk = store.page_order(true).unwrap();
    // Newest page first, then older ones, all stamped in one second.
    for page in [(201..=300), (101..=200), (1..=100)] {
        let batch: Vec<_> = page.map(same_second).collect();
        store.insert_page(&batch, &mut walk, false).unwrap();
    }
    assert_eq!(stored_bodies(&store), bodies(1..=300));
    assert_eq!(store.unread(&account(), &msg(0).conversation()).unwrap(), 0);
}

#[test]
fn a_newest_page_stored_first_is_found_by_the_catch_up_in_its_place() {
    let store = Store::open_temporary().unwrap();
    store.insert_messages(&[same_second(1)]).unwrap();
    let mut catch_up = store.page_order(false).unwrap();
    // The chat on screen: its newest page, asked ahead of the catch-up.
    let mut peek = store.page_order(false).unwrap();
    let newest: Vec<_> = (551..=600).map(same_second).collect();
    store.insert_page(&newest, &mut peek, true).unwrap();
    // The catch-up pages through 2..=600 in pages of 50.
    for start in (2..=600).step_by(50) {
        let page: Vec<_> = (start..(start + 50).min(601)).map(same_second).collect();
        store.insert_page(&page, &mut catch_up, true).unwrap();
    }
    assert_eq!(stored_bodies(&store), bodies(1..=600));
}

#[test]
fn a_backward_walk_with_no_anchor_keeps_older_stored_history_before_it() {
    let store = Store::open_temporary().unwrap();
    // Old history up to t=1000, then a gap, then live messages at t=9000.
    let at = |n: i64, t: i64| {
        let mut m = msg(n);
        m.timestamp_ms = t;
        m
    };
    store.insert_messages(&[at(1, 500), at(2, 1_000)]).unwrap();
    store
        .insert_messages(&[at(8, 9_000), at(9, 9_000)])
        .unwrap();
    let mut fill = store.page_order(true).unwrap();
    store
        .insert_page(&[at(6, 5_000), at(7, 9_000)], &mut fill, false)
        .unwrap();
    store
        .insert_page(
            &[at(3, 2_000), at(4, 3_000), at(5, 4_000)],
            &mut fill,
            false,
        )
        .unwrap();
    assert_eq!(stored_bodies(&store), bodies(1..=9));
}

#[test]
fn what_arrived_out_of_order_during_a_walk_moves_to_where_the_archive_has_it() {
    let store = Store::open_temporary().unwrap();
    store.insert_messages(&[same_second(1)]).unwrap();
    let mut walk = store.page_order(false).unwrap();
    // During the catch-up the server re-delivers what an earlier stream never
    // acknowledged, after newer messages: live order is not the archive's order here.
    store.insert_messages(&[same_second(6)]).unwrap();
    store.insert_messages(&[same_second(3)]).unwrap();
    let page: Vec<_> = (2..=6).map(same_second).collect();
    let got = store.insert_page(&page, &mut walk, true).unwrap();
    assert_eq!(
        got,
        [
            Inserted::New,
            Inserted::Duplicate,
            Inserted::New,
            Inserted::New,
            Inserted::Duplicate
        ]
    );
    assert_eq!(stored_bodies(&store), bodies(1..=6));
    let conv = msg(0).conversation();
    assert_eq!(
        store.unread(&account(), &conv).unwrap(),
        6,
        "each counted once"
    );
    // The indexes follow the move: found by id, deduplicated, last in the summary.
    assert_eq!(
        store.insert_messages(&[same_second(3)]).unwrap(),
        [Inserted::Duplicate]
    );
    let found = store
        .find_message(&account(), &LocalMessageId("m3".into()))
        .unwrap();
    assert_eq!(found.map(|m| m.body), Some("message 3".into()));
    let rows = store.conversations(&account()).unwrap();
    assert_eq!(
        rows[0].last.as_ref().map(|m| m.body.clone()),
        Some("message 6".into())
    );
    assert_eq!(
        store
            .before(&account(), &conv, &LocalMessageId("m3".into()), 10)
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect::<Vec<_>>(),
        bodies(1..=2)
    );
    // And after it, and around it, in the same order; never past the conversation.
    let other = ChatMessage {
        conversation: ConversationId::Chat(BareJid::new("zed@example.org").unwrap()),
        id: LocalMessageId("z1".into()),
        server_id: Some("z-s1".into()),
        ..msg(9)
    };
    assert_eq!(store.insert_messages(&[other]).unwrap(), [Inserted::New]);
    let m3 = LocalMessageId("m3".into());
    let texts = |v: Vec<ChatMessage>| v.into_iter().map(|m| m.body).collect::<Vec<_>>();
    assert_eq!(
        texts(store.after(&account(), &conv, &m3, 2).unwrap()),
        bodies(4..=5)
    );
    assert_eq!(
        texts(store.after(&account(), &conv, &m3, 10).unwrap()),
        bodies(4..=6)
    );
    assert_eq!(
        texts(store.around(&account(), &conv, &m3, 1).unwrap()),
        bodies(2..=4)
    );
    assert!(
        store
            .around(&account(), &conv, &LocalMessageId("z1".into()), 1)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_page_part_history_part_news_is_one_insert_around_its_anchors() {
    // A first sign-in after a kill: message 9 came live in the run that was killed;
    // the newest page has 0..=9, of which 0..=4 were archived before this sign-in began.
    let store = Store::open_temporary().unwrap();
    store.insert_messages(&[same_second(9)]).unwrap();
    let mut walk = store.page_order(false).unwrap();
    let page: Vec<_> = (0..=9).map(same_second).collect();
    store.insert_page_news_from(&page, &mut walk, 5).unwrap();
    assert_eq!(stored_bodies(&store), bodies(0..=9));
    let conv = msg(0).conversation();
    assert_eq!(
        store.unread(&account(), &conv).unwrap(),
        5,
        "5..=8 from the page, 9 from before"
    );
}

/// Our own message as this device wrote it: stored when written, sent later.
fn ours(n: i64) -> ChatMessage {
    let mut m = same_second(n);
    m.direction = Direction::Outgoing;
    m.body = format!("ours {n}");
    m
}

fn incoming_bodies(store: &Store) -> Vec<String> {
    store
        .latest(&account(), &msg(0).conversation(), 10_000)
        .unwrap()
        .into_iter()
        .filter(|m| m.direction == Direction::Incoming)
        .map(|m| m.body)
        .collect()
}

#[test]
fn what_we_wrote_offline_does_not_place_what_others_wrote() {
    // The chaos run: written while signed out, ours 100 is stored before the peer's
    // 1..=2 reach us, but the archive has it after them (it was sent later). A page
    // that holds ours 100 and then the peer's 3 must put 3 after 2, not right after
    // where 100 was written.
    let store = Store::open_temporary().unwrap();
    store.insert_messages(&[ours(100)]).unwrap();
    let mut walk = store.page_order(false).unwrap();
    store
        .insert_page(&[same_second(1), same_second(2)], &mut walk, true)
        .unwrap();
    store
        .insert_page(&[ours(100), same_second(3)], &mut walk, true)
        .unwrap();
    assert_eq!(incoming_bodies(&store), bodies(1..=3));
    // The next page continues after 3, not after ours 100.
    store
        .insert_page(&[same_second(4), ours(100)], &mut walk, true)
        .unwrap();
    store
        .insert_page(&[same_second(5)], &mut walk, true)
        .unwrap();
    assert_eq!(incoming_bodies(&store), bodies(1..=5));
    // What we wrote stays where we wrote it.
    assert_eq!(stored_bodies(&store)[0], "ours 100");
}

/// The archive holds `n` a second time: sent again after a fault, with another archive
/// id (the same origin id).
fn again(n: i64) -> ChatMessage {
    let mut m = same_second(n);
    m.id = LocalMessageId(format!("m{n}-again"));
    m.origin_id = Some(format!("o{n}"));
    m.server_id = Some(format!("s{n}-again"));
    m
}

fn first_copy(n: i64) -> ChatMessage {
    let mut m = same_second(n);
    m.origin_id = Some(format!("o{n}"));
    m
}

#[test]
fn a_message_the_archive_holds_twice_keeps_its_first_place_both_ways() {
    // Archive: 1 2 3 4 5 6 2' 7, in pages of four.
    let archive = [
        first_copy(1),
        first_copy(2),
        first_copy(3),
        first_copy(4),
        first_copy(5),
        first_copy(6),
        again(2),
        first_copy(7),
    ];
    let forward = Store::open_temporary().unwrap();
    let mut walk = forward.page_order(false).unwrap();
    for page in archive.chunks(4) {
        forward.insert_page(page, &mut walk, true).unwrap();
    }
    assert_eq!(stored_bodies(&forward), bodies(1..=7), "read forward");
    let backward = Store::open_temporary().unwrap();
    let mut walk = backward.page_order(true).unwrap();
    for page in archive.chunks(4).rev() {
        backward.insert_page(page, &mut walk, false).unwrap();
    }
    assert_eq!(stored_bodies(&backward), bodies(1..=7), "read backward");
}

#[test]
fn a_message_the_archive_holds_twice_keeps_its_first_place_across_backward_walks() {
    // Archive: 1 2 3 4 5 6 2' 7. A new device reads its newest page (5 6 2' 7) in one
    // walk, and the older one (1 2 3 4) in a later walk (the history fill resumed): 2
    // goes where the archive first has it, as on the device that received it live.
    let store = Store::open_temporary().unwrap();
    let mut walk = store.page_order(true).unwrap();
    store
        .insert_page(
            &[first_copy(5), first_copy(6), again(2), first_copy(7)],
            &mut walk,
            false,
        )
        .unwrap();
    let mut later = store.page_order(true).unwrap();
    store
        .insert_page(
            &[first_copy(1), first_copy(2), first_copy(3), first_copy(4)],
            &mut later,
            false,
        )
        .unwrap();
    assert_eq!(stored_bodies(&store), bodies(1..=7));
    // Received live first, the later copy read walking backward changes nothing.
    let live = Store::open_temporary().unwrap();
    live.insert_messages(&[first_copy(1), first_copy(2), first_copy(3)])
        .unwrap();
    let mut walk = live.page_order(true).unwrap();
    live.insert_page(&[first_copy(3), again(2), first_copy(4)], &mut walk, false)
        .unwrap();
    assert_eq!(stored_bodies(&live), bodies(1..=4));
}

#[test]
fn a_catch_up_cut_short_continues_where_its_pages_ended() {
    // Run 1: the catch-up stores 1..=2, then 5 and 6 arrive live ahead of it, and the
    // app is killed. Run 2 catches up from there: 3 and 4 in a page of their own.
    let store = Store::open_temporary().unwrap();
    let mut walk = store.page_order(false).unwrap();
    store
        .insert_page(&[same_second(1), same_second(2)], &mut walk, true)
        .unwrap();
    store
        .insert_messages(&[same_second(5), same_second(6)])
        .unwrap();
    let frontier = walk.frontier();
    let mut walk = store.page_order_continuing(&frontier).unwrap();
    store
        .insert_page(&[same_second(3), same_second(4)], &mut walk, true)
        .unwrap();
    store
        .insert_page(
            &[same_second(5), same_second(6), same_second(7)],
            &mut walk,
            true,
        )
        .unwrap();
    assert_eq!(stored_bodies(&store), bodies(1..=7));
    // A frontier that cannot be read is no frontier.
    assert!(store.page_order_continuing("zz:1;").is_ok());
}

#[test]
fn a_second_copy_in_a_page_places_nothing() {
    // Live before a server kill: 1 and 2. The archive then has 1 2 3 4 | 1' 2' 5 (1 and 2
    // sent again after the kill, under new archive ids). The catch-up's first page is 3 4;
    // the next page's 1' 2' must not pull 5 up to where 1 and 2 were received.
    let store = Store::open_temporary().unwrap();
    store
        .insert_messages(&[first_copy(1), first_copy(2)])
        .unwrap();
    let mut walk = store.page_order(false).unwrap();
    store
        .insert_page(&[first_copy(3), first_copy(4)], &mut walk, true)
        .unwrap();
    store
        .insert_page(&[again(1), again(2), first_copy(5)], &mut walk, true)
        .unwrap();
    assert_eq!(stored_bodies(&store), bodies(1..=5));
}

#[test]
fn schema_3_records_become_compact_and_read_and_deduplicate_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut msgs: Vec<_> = (0..5).map(msg).collect();
    // What changes add survives the migration too.
    msgs[1].extras.occupant_id = Some("oid-7".into());
    let json_size;
    {
        let store = Store::open(&path).unwrap();
        store.insert_messages(&msgs).unwrap();
        // As schema 3 wrote them: JSON records, whole history keys in the dedupe index.
        let mut size = 0;
        for item in store.history.iter() {
            let (k, v) = item.unwrap();
            let m = record::decode(&k, &v).unwrap();
            let json = serde_json::to_vec(&m).unwrap();
            size += json.len();
            store.history.insert(&k, json).unwrap();
            for d in keys::dedupe(&m) {
                tree(&store.db, schema::DEDUPE)
                    .unwrap()
                    .insert(d, k.clone())
                    .unwrap();
            }
        }
        json_size = size;
        set_schema_version(&store, 3);
        store.flush().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mut size = 0;
    for item in store.history.iter() {
        let (_, v) = item.unwrap();
        assert_eq!(v.first(), Some(&1), "a compact record");
        size += v.len();
    }
    assert!(size * 2 < json_size, "{size} vs {json_size}");
    assert_old_id_trees_gone(&store);
    let conv = msgs[0].conversation();
    assert_eq!(store.latest(&account(), &conv, 10).unwrap(), msgs);
    // The same messages again under other local ids: found by their archive ids.
    let again: Vec<_> = (0..5)
        .map(|n| ChatMessage {
            id: LocalMessageId(format!("other{n}")),
            ..msg(n)
        })
        .collect();
    assert!(
        store
            .insert_messages(&again)
            .unwrap()
            .iter()
            .all(|r| *r == Inserted::Duplicate)
    );
    assert_eq!(store.latest(&account(), &conv, 10).unwrap().len(), 5);
}

/// A message as most clients send it: its origin id is its stanza id, and the archive
/// gives it a stanza-id.
fn typical(n: i64) -> ChatMessage {
    ChatMessage {
        id: LocalMessageId(format!("local-{n}")),
        stanza_id_attr: Some(format!("origin-{n}")),
        origin_id: Some(format!("origin-{n}")),
        ..msg(n)
    }
}

fn correction(of: &ChatMessage, target: &str, id: &str, body: &str) -> crate::model::Modification {
    crate::model::Modification {
        account: of.account.clone(),
        conversation: of.conversation(),
        target: target.into(),
        author: crate::model::Author {
            direction: of.direction,
            nick: of.sender.clone(),
            occupant_id: None,
        },
        change: crate::model::Change::Correct {
            body: body.into(),
            id: Some(id.into()),
        },
        at_ms: of.timestamp_ms + 1,
    }
}

/// Issue #21: sled splits a page beyond 16 entries, and each page costs disk and
/// start-up memory, so entries a message are what the store's size follows. Schema 4
/// wrote 7 for this message (record, local id, 2 dedupe, 3 references).
#[test]
fn a_typical_message_costs_four_entries() {
    let store = Store::open_temporary().unwrap();
    let n = 200;
    let msgs: Vec<_> = (0..n).map(typical).collect();
    store.insert_messages(&msgs).unwrap();
    let entries: usize = store
        .db
        .tree_names()
        .iter()
        .map(|name| store.db.open_tree(name).unwrap().len())
        .sum();
    // The summary and the schema version besides.
    assert!(
        entries <= 4 * n as usize + 2,
        "{entries} entries for {n} messages"
    );
    // Every one is still found by each of its ids.
    let again: Vec<_> = (0..n)
        .flat_map(|i| {
            let by_archive = ChatMessage {
                id: LocalMessageId(format!("other-a{i}")),
                origin_id: None,
                stanza_id_attr: None,
                ..typical(i)
            };
            let by_origin = ChatMessage {
                id: LocalMessageId(format!("other-o{i}")),
                server_id: None,
                ..typical(i)
            };
            [by_archive, by_origin]
        })
        .collect();
    let results = store.insert_messages(&again).unwrap();
    assert!(results.iter().all(|r| *r == Inserted::Duplicate));
    let fix = correction(&msgs[7], "origin-7", "fix-7", "fixed");
    assert!(matches!(
        store.apply_change(&fix).unwrap(),
        ChangeOutcome::Changed(_)
    ));
}

/// The upgrade to schema 5 keeps what the `dedupe` and `refs` trees knew: copies are
/// still found by each id (an id attribute by the text as it arrived, before a
/// correction that waited for it), and changes still find their message, also by the
/// id of a correction applied before the upgrade.
#[test]
fn schema_4_ids_move_into_one_tree_and_find_the_same_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let plain = typical(1);
    // Only an id attribute (no origin id, no archive id): a duplicate only with the
    // same sender, direction and text.
    let attr_only = ChatMessage {
        id: LocalMessageId("local-attr".into()),
        stanza_id_attr: Some("a-1".into()),
        server_id: None,
        body: "as it arrived".into(),
        ..msg(2)
    };
    {
        let store = Store::open(&path).unwrap();
        store
            .insert_messages(&[plain.clone(), attr_only.clone()])
            .unwrap();
        let fix = correction(&plain, "origin-1", "fix-1", "second");
        assert!(matches!(
            store.apply_change(&fix).unwrap(),
            ChangeOutcome::Changed(_)
        ));
        // As schema 4 kept it: dedupe keys from each message as it arrived, references
        // from it as stored, and the id attribute's message stored corrected.
        let dedupe = tree(&store.db, schema::DEDUPE).unwrap();
        let refs = tree(&store.db, schema::REFS).unwrap();
        for arrived in [&plain, &attr_only] {
            let key = history_key_of(&store, &arrived.id.0);
            for d in keys::dedupe(arrived) {
                dedupe.insert(d, keys::dedupe_value(&key)).unwrap();
            }
            let stored = store
                .find_message(&account(), &arrived.id)
                .unwrap()
                .unwrap();
            for r in keys::references(&stored) {
                refs.insert(r, &[]).unwrap();
            }
        }
        let key = history_key_of(&store, "local-attr");
        let corrected = ChatMessage {
            body: "corrected".into(),
            ..attr_only.clone()
        };
        store
            .history
            .insert(&key, record::encode(&corrected))
            .unwrap();
        store.known.clear().unwrap();
        set_schema_version(&store, 4);
        store.flush().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 5);
    assert_old_id_trees_gone(&store);
    let copy = |m: &ChatMessage, local: &str| ChatMessage {
        id: LocalMessageId(local.into()),
        ..m.clone()
    };
    assert_eq!(
        store.insert_message(&copy(&plain, "copy-1")).unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(
        store.insert_message(&copy(&attr_only, "copy-2")).unwrap(),
        Inserted::Duplicate,
        "found by its id attribute and the text as it arrived"
    );
    let other_text = ChatMessage {
        body: "another message, same id".into(),
        ..copy(&attr_only, "copy-3")
    };
    assert_eq!(store.insert_message(&other_text).unwrap(), Inserted::New);
    // A later correction naming the first correction's id.
    let chained = correction(&plain, "fix-1", "fix-2", "third");
    let ChangeOutcome::Changed(now) = store.apply_change(&chained).unwrap() else {
        panic!("the correction's id survived the upgrade");
    };
    assert_eq!(now.body, "third");
    let by_archive = correction(&plain, "s1", "fix-3", "fourth");
    assert!(matches!(
        store.apply_change(&by_archive).unwrap(),
        ChangeOutcome::Changed(_)
    ));
}

/// One tree's name and entries.
type TreeContents = (Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);

/// Everything a database holds, tree by tree, except what schema 5 replaced.
fn contents(store: &Store) -> Vec<TreeContents> {
    let mut names: Vec<_> = store.db.tree_names();
    names.sort();
    names
        .into_iter()
        .filter(|n| n.as_ref() != b"dedupe" && n.as_ref() != b"refs")
        .map(|n| {
            let items = store
                .db
                .open_tree(&n)
                .unwrap()
                .iter()
                .map(|kv| {
                    let (k, v) = kv.unwrap();
                    (k.to_vec(), v.to_vec())
                })
                .collect();
            (n.to_vec(), items)
        })
        .collect()
}

/// Puts a schema 5 store's ids back as schema 4 kept them.
fn as_schema_4(store: &Store) {
    let dedupe = tree(&store.db, schema::DEDUPE).unwrap();
    let refs = tree(&store.db, schema::REFS).unwrap();
    for item in store.history.iter() {
        let (k, v) = item.unwrap();
        let m = record::decode(&k, &v).unwrap();
        for d in keys::dedupe(&m) {
            dedupe.insert(d, keys::dedupe_value(&k)).unwrap();
        }
        for r in keys::references(&m) {
            refs.insert(r, &[]).unwrap();
        }
    }
    store.known.clear().unwrap();
    set_schema_version(store, 4);
    store.flush().unwrap();
}

/// The upgrade to schema 5 rewrites the database into a new folder once (sled keeps
/// the dropped trees' page ids otherwise): every tree comes through, the keep file
/// too, nothing is left beside it, and a message stored afterwards goes after the
/// others (history keys end in sled's id counter, which carries on).
#[test]
fn an_upgraded_database_is_rewritten_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let msgs: Vec<_> = (0..30).map(typical).collect();
    let before;
    {
        let store = Store::open(&path).unwrap();
        store.insert_messages(&msgs[..29]).unwrap();
        // A long-used database: sled's counter is far beyond where a new one starts
        // (it skips 1,000,000 ahead when it is opened).
        for _ in 0..3_000_000 {
            store.db.generate_id().unwrap();
        }
        store.insert_messages(&msgs[29..]).unwrap();
        store.set_pref("settings", "{\"x\":1}").unwrap();
        before = contents(&store);
        as_schema_4(&store);
    }
    assert!(recover::keep_path(&path).exists());
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(contents(&store), before);
    assert!(recover::keep_path(&path).exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["db"], "nothing beside the database");
    // Sequence numbers go on above every stored one: a history key is never reused,
    // and a catch-up tells what was stored before it began.
    let highest = store
        .history
        .iter()
        .keys()
        .map(|k| order::seq(&k.unwrap()).unwrap())
        .max()
        .unwrap();
    assert!(store.db.generate_id().unwrap() > highest);
    // Later than every stored one, with the same time as the last.
    let late = ChatMessage {
        timestamp_ms: msgs[29].timestamp_ms,
        ..typical(99)
    };
    store.insert_message(&late).unwrap();
    let shown = store.latest(&account(), &late.conversation(), 100).unwrap();
    assert_eq!(shown.len(), 31);
    assert_eq!(shown.last().unwrap().id, late.id);
    assert_eq!(
        store.insert_message(&typical(3)).unwrap(),
        Inserted::Duplicate
    );
}

/// A rewrite interrupted at any step leaves a database that opens with everything.
#[test]
fn an_interrupted_rewrite_is_finished_or_undone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let beside = |what: &str| dir.path().join(format!("db.{what}"));
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    };
    let msgs: Vec<_> = (0..5).map(typical).collect();
    {
        let store = Store::open(&path).unwrap();
        store.insert_messages(&msgs).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let count = |path: &Path| {
        let store = Store::open(path).unwrap();
        store
            .latest(&account(), &msgs[0].conversation(), 100)
            .unwrap()
            .len()
    };
    // Stopped while copying: the copy goes, the database stays.
    copy(&path, &beside("rebuilding"));
    std::fs::write(beside("rebuilding").join("db"), b"half").unwrap();
    assert_eq!(count(&path), 5);
    assert!(!beside("rebuilding").exists());
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Stopped after the copy was complete, before or after the old one moved aside.
    copy(&path, &beside("rebuilt"));
    assert_eq!(count(&path), 5);
    std::thread::sleep(std::time::Duration::from_millis(500));
    copy(&path, &beside("rebuilt"));
    std::fs::rename(&path, beside("old")).unwrap();
    assert_eq!(count(&path), 5);
    for what in ["rebuilding", "rebuilt", "old"] {
        assert!(!beside(what).exists(), "{what} left");
    }
}

/// Marks a database as written by an older schema (its upgrades run at the next open).
fn set_schema_version(store: &Store, version: u32) {
    tree(&store.db, schema::META)
        .unwrap()
        .insert(b"schema_version", &version.to_be_bytes())
        .unwrap();
}

/// Schema 5 replaced the `dedupe` and `refs` trees.
fn assert_old_id_trees_gone(store: &Store) {
    let names = store.db.tree_names();
    assert!(
        !names
            .iter()
            .any(|n| n.as_ref() == b"dedupe" || n.as_ref() == b"refs")
    );
}

/// An upgrade says how far it has come, step by step, for the window to show: first
/// the upgrade (messages of all), then the rewrite (entries of all), each only going
/// forward; and once the store is open, that nothing is under way.
#[test]
fn an_upgrade_reports_its_progress_then_that_it_is_done() {
    use progress::{SEEN, Step};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let msgs: Vec<_> = (0..5_000).map(typical).collect();
    {
        let store = Store::open(&path).unwrap();
        store.insert_messages(&msgs).unwrap();
        as_schema_4(&store);
    }
    SEEN.with(|seen| seen.borrow_mut().clear());
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let seen = SEEN.with(|seen| seen.take());
    assert_eq!(seen.last(), Some(&None), "cleared at the end: {seen:?}");
    let reports: Vec<_> = seen.iter().flatten().collect();
    let upgrade: Vec<_> = reports.iter().filter(|p| p.step == Step::Upgrade).collect();
    let rewrite: Vec<_> = reports.iter().filter(|p| p.step == Step::Rewrite).collect();
    assert!(upgrade.len() >= 3, "{reports:?}");
    assert!(upgrade.iter().all(|p| p.total == 5_000 && p.done < p.total));
    assert!(upgrade.windows(2).all(|w| w[0].done < w[1].done));
    assert!(rewrite.len() >= 3, "{reports:?}");
    assert!(rewrite.windows(2).all(|w| w[0].done <= w[1].done));
    let last = rewrite.last().unwrap();
    assert_eq!((last.done, last.percent()), (last.total, 100));
    let first_rewrite = reports
        .iter()
        .position(|p| p.step == Step::Rewrite)
        .unwrap();
    assert!(
        reports[..first_rewrite]
            .iter()
            .all(|p| p.step == Step::Upgrade)
    );
    // A store that needs no upgrade reports nothing.
    drop(store);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _store = Store::open(&path).unwrap();
    let seen = SEEN.with(|seen| seen.take());
    assert_eq!(seen, vec![None]);
}
