//! Integration tests of the sled store through its public API only.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;
use support::session::jid;

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Contact, Delivery, Direction, Subscription};
use loquat::store::{Inserted, Store};

const T0: i64 = 1_700_000_000_000;

fn acct(s: &str) -> AccountId {
    AccountId(s.into())
}

fn chat(s: &str) -> ConversationId {
    ConversationId::Chat(jid(s))
}

/// An incoming 1:1 message with no protocol ids; tests add what they need.
fn msg(account: &str, peer: &str, id: &str, ts: i64) -> ChatMessage {
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId(id.into()),
        account: acct(account),
        conversation: ConversationId::Chat(jid(peer)),
        direction: Direction::Incoming,
        sender: String::new(),
        body: format!("body of {id}"),
        timestamp_ms: ts,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

fn with_server_id(mut m: ChatMessage, sid: &str) -> ChatMessage {
    m.server_id = Some(sid.into());
    m
}

fn ids(msgs: &[ChatMessage]) -> Vec<String> {
    msgs.iter().map(|m| m.id.0.clone()).collect()
}

#[test]
fn history_and_dedupe_index_survive_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = Store::open(&path).unwrap();
        for i in 0..10 {
            let m = with_server_id(
                msg("a", "alice@x.org", &format!("m{i}"), T0 + i),
                &format!("s{i}"),
            );
            assert_eq!(store.insert_message(&m).unwrap(), Inserted::New);
        }
    }
    let store = Store::open(&path).unwrap();
    let got = store.latest(&acct("a"), &chat("alice@x.org"), 100).unwrap();
    assert_eq!(
        ids(&got),
        (0..10).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
    assert_eq!(got[3].body, "body of m3");
    assert_eq!(got[3].timestamp_ms, T0 + 3);
    // The dedupe index was persisted too.
    let again = with_server_id(msg("a", "alice@x.org", "other-local-id", T0 + 3), "s3");
    assert_eq!(store.insert_message(&again).unwrap(), Inserted::Duplicate);
}

#[test]
fn same_server_id_is_stored_once() {
    let store = Store::open_temporary().unwrap();
    let first = with_server_id(msg("a", "alice@x.org", "l1", T0), "archive-1");
    // Same archive id seen again (e.g. live, then from MAM) under another local id.
    let second = with_server_id(msg("a", "alice@x.org", "l2", T0), "archive-1");
    let third = with_server_id(msg("a", "alice@x.org", "l3", T0 + 1), "archive-2");
    assert_eq!(store.insert_message(&first).unwrap(), Inserted::New);
    assert_eq!(store.insert_message(&second).unwrap(), Inserted::Duplicate);
    // Inside one batch too.
    let batch = [third.clone(), third.clone(), second];
    assert_eq!(
        store.insert_messages(&batch).unwrap(),
        [Inserted::New, Inserted::Duplicate, Inserted::Duplicate]
    );
    let got = store.latest(&acct("a"), &chat("alice@x.org"), 10).unwrap();
    assert_eq!(ids(&got), ["l1", "l3"]);
    // Another account seeing the same archive id is a different message.
    let other = with_server_id(msg("b", "alice@x.org", "l1", T0), "archive-1");
    assert_eq!(store.insert_message(&other).unwrap(), Inserted::New);
}

#[test]
fn origin_id_dedupes_per_peer_and_sender() {
    let store = Store::open_temporary().unwrap();
    let mut m1 = msg("a", "alice@x.org", "l1", T0);
    m1.origin_id = Some("origin-1".into());
    let mut m2 = msg("a", "alice@x.org", "l2", T0 + 5);
    m2.origin_id = Some("origin-1".into());
    let mut from_bob = msg("a", "bob@x.org", "l3", T0);
    from_bob.origin_id = Some("origin-1".into());
    let mut mine = msg("a", "alice@x.org", "l4", T0);
    mine.origin_id = Some("origin-1".into());
    mine.direction = Direction::Outgoing;

    assert_eq!(store.insert_message(&m1).unwrap(), Inserted::New);
    assert_eq!(store.insert_message(&m2).unwrap(), Inserted::Duplicate);
    assert_eq!(store.insert_message(&from_bob).unwrap(), Inserted::New);
    assert_eq!(store.insert_message(&mine).unwrap(), Inserted::New);

    // The archive copy of an already stored message carries a server id the stored one
    // lacks: it is still recognised by its origin-id.
    let mut archived = with_server_id(msg("a", "alice@x.org", "l5", T0), "archive-9");
    archived.origin_id = Some("origin-1".into());
    assert_eq!(
        store.insert_message(&archived).unwrap(),
        Inserted::Duplicate
    );

    assert_eq!(
        store
            .latest(&acct("a"), &chat("alice@x.org"), 10)
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .latest(&acct("a"), &chat("bob@x.org"), 10)
            .unwrap()
            .len(),
        1
    );

    // In a room, the sender (nick) matters.
    let room = ConversationId::Room(jid("room@muc.x.org"));
    let in_room = |id: &str, nick: &str| {
        let mut m = msg("a", "room@muc.x.org", id, T0);
        m.conversation = ConversationId::Room(m.peer().clone());
        m.sender = nick.into();
        m.origin_id = Some("origin-r".into());
        m
    };
    assert_eq!(
        store.insert_message(&in_room("r1", "carol")).unwrap(),
        Inserted::New
    );
    assert_eq!(
        store.insert_message(&in_room("r2", "carol")).unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(
        store.insert_message(&in_room("r3", "dave")).unwrap(),
        Inserted::New
    );
    assert_eq!(store.latest(&acct("a"), &room, 10).unwrap().len(), 2);
}

#[test]
fn stanza_id_attribute_is_a_last_resort_with_the_body() {
    let store = Store::open_temporary().unwrap();
    let with_attr = |id: &str, attr: &str, body: &str| {
        let mut m = msg("a", "alice@x.org", id, T0);
        m.stanza_id_attr = Some(attr.into());
        m.body = body.into();
        m
    };
    assert_eq!(
        store.insert_message(&with_attr("l1", "1", "hi")).unwrap(),
        Inserted::New
    );
    assert_eq!(
        store.insert_message(&with_attr("l2", "1", "hi")).unwrap(),
        Inserted::Duplicate
    );
    // Simple clients reuse ids: same attribute, other text is another message.
    assert_eq!(
        store.insert_message(&with_attr("l3", "1", "bye")).unwrap(),
        Inserted::New
    );
    // The same local id twice is the same message.
    let plain = msg("a", "alice@x.org", "l4", T0);
    assert_eq!(store.insert_message(&plain).unwrap(), Inserted::New);
    assert_eq!(store.insert_message(&plain).unwrap(), Inserted::Duplicate);
    assert_eq!(
        store
            .latest(&acct("a"), &chat("alice@x.org"), 10)
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn paging_a_large_conversation_reads_only_a_page() {
    const N: i64 = 100_000;
    const PAGE: usize = 50;
    let store = Store::open_temporary().unwrap();
    let big = chat("big@x.org");
    // Three messages share each timestamp: insertion order must break the tie.
    let expected: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
    for chunk in (0..N).collect::<Vec<_>>().chunks(10_000) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|&i| {
                with_server_id(
                    msg("a", "big@x.org", &format!("m{i}"), T0 + i / 3),
                    &format!("s{i}"),
                )
            })
            .collect();
        assert!(
            store
                .insert_messages(&batch)
                .unwrap()
                .iter()
                .all(|r| *r == Inserted::New)
        );
    }
    // Neighbours in key order, which must not leak into the page.
    for (peer, ts) in [("bia@x.org", T0 + N), ("bih@x.org", T0 - 1)] {
        store
            .insert_message(&msg("a", peer, &format!("n-{peer}"), ts))
            .unwrap();
    }

    let before = store.records_read();
    let page = store.latest(&acct("a"), &big, PAGE).unwrap();
    let read = store.records_read() - before;
    assert!(read <= 60, "latest() read {read} records");
    assert_eq!(ids(&page), expected[expected.len() - PAGE..]);

    let mut seen: Vec<String> = ids(&page);
    let mut oldest = page[0].id.clone();
    loop {
        let before = store.records_read();
        let older = store.before(&acct("a"), &big, &oldest, PAGE).unwrap();
        let read = store.records_read() - before;
        assert!(read <= 60, "before() read {read} records");
        if older.is_empty() {
            break;
        }
        assert!(older.len() == PAGE || older.len() as i64 == N % PAGE as i64);
        oldest = older[0].id.clone();
        let mut next = ids(&older);
        next.append(&mut seen);
        seen = next;
    }
    assert_eq!(
        seen, expected,
        "paging back must visit every message once, in order"
    );
}

#[test]
fn removing_an_account_with_history_keeps_other_accounts() {
    let store = Store::open_temporary().unwrap();
    // "a" is a byte prefix of "ab": their keys must not collide.
    for name in ["a", "ab"] {
        let mut account = Account::new(jid(&format!("{name}@x.org")));
        account.id = acct(name);
        store.save_account(&account).unwrap();
        let contact = Contact {
            jid: jid("alice@x.org"),
            name: Some("Alice".into()),
            subscription: Subscription::Both,
            pending_out: false,
            groups: vec!["Friends".into()],
        };
        store
            .save_roster(&acct(name), Some("v1"), &[contact])
            .unwrap();
        for i in 0..20 {
            let m = with_server_id(
                msg(name, "alice@x.org", &format!("{name}-{i}"), T0 + i),
                &format!("s{i}"),
            );
            store.insert_message(&m).unwrap();
        }
    }

    store.remove_account(&acct("a"), true).unwrap();

    let accounts: Vec<_> = store
        .accounts()
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(accounts, [acct("ab")]);
    assert_eq!(store.roster(&acct("a")).unwrap(), (None, Vec::new()));
    assert_eq!(store.roster(&acct("ab")).unwrap().1.len(), 1);
    assert!(
        store
            .latest(&acct("a"), &chat("alice@x.org"), 100)
            .unwrap()
            .is_empty()
    );
    assert!(store.conversations(&acct("a")).unwrap().is_empty());
    assert_eq!(
        store
            .set_delivery(&acct("a"), &LocalMessageId("a-3".into()), &Delivery::Read)
            .unwrap(),
        None
    );
    let kept = store
        .latest(&acct("ab"), &chat("alice@x.org"), 100)
        .unwrap();
    assert_eq!(kept.len(), 20);
    assert!(kept.iter().all(|m| m.account == acct("ab")));
    assert_eq!(store.conversations(&acct("ab")).unwrap().len(), 1);
    let last = LocalMessageId("ab-19".into());
    assert_eq!(
        store
            .before(&acct("ab"), &chat("alice@x.org"), &last, 5)
            .unwrap()
            .len(),
        5
    );
    // Its dedupe index went too: the same archive message can be stored again.
    let again = with_server_id(msg("a", "alice@x.org", "a-0", T0), "s0");
    assert_eq!(store.insert_message(&again).unwrap(), Inserted::New);

    // Without delete_history, only the record and the roster cache go.
    store.remove_account(&acct("ab"), false).unwrap();
    assert!(store.accounts().unwrap().is_empty());
    assert_eq!(store.roster(&acct("ab")).unwrap(), (None, Vec::new()));
    assert_eq!(
        store
            .latest(&acct("ab"), &chat("alice@x.org"), 100)
            .unwrap()
            .len(),
        20
    );
}

#[test]
fn set_delivery_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let id = LocalMessageId::generate();
    {
        let store = Store::open(dir.path()).unwrap();
        let mut m = msg("a", "alice@x.org", &id.0, T0);
        m.direction = Direction::Outgoing;
        m.delivery = Delivery::Pending;
        m.origin_id = Some(id.0.clone());
        store.insert_message(&m).unwrap();
        let updated = store
            .set_delivery(&acct("a"), &id, &Delivery::Acked)
            .unwrap()
            .unwrap();
        assert_eq!(updated.delivery, Delivery::Acked);
        assert_eq!(updated.body, m.body);
        let unknown = LocalMessageId("nope".into());
        assert_eq!(
            store
                .set_delivery(&acct("a"), &unknown, &Delivery::Read)
                .unwrap(),
            None
        );
        // Wrong account: unknown too.
        assert_eq!(
            store
                .set_delivery(&acct("b"), &id, &Delivery::Read)
                .unwrap(),
            None
        );
    }
    let store = Store::open(dir.path()).unwrap();
    let got = store.latest(&acct("a"), &chat("alice@x.org"), 10).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].delivery, Delivery::Acked);
    let failed = Delivery::Failed("recipient unavailable".into());
    store.set_delivery(&acct("a"), &id, &failed).unwrap();
    let summary = &store.conversations(&acct("a")).unwrap()[0];
    assert_eq!(summary.last.as_ref().unwrap().delivery, failed);
}

#[test]
fn conversations_are_newest_first_with_unread_counts() {
    let store = Store::open_temporary().unwrap();
    let a = acct("a");
    store
        .insert_message(&msg("a", "alice@x.org", "al1", T0 + 10))
        .unwrap();
    store
        .insert_message(&msg("a", "alice@x.org", "al2", T0 + 20))
        .unwrap();
    store
        .insert_message(&msg("a", "bob@x.org", "bo1", T0 + 30))
        .unwrap();
    let mut room_msg = msg("a", "room@muc.x.org", "ro1", T0 + 5);
    room_msg.conversation = ConversationId::Room(room_msg.peer().clone());
    room_msg.sender = "carol".into();
    store.insert_message(&room_msg).unwrap();
    let mut sent = msg("a", "carl@x.org", "ca1", T0 + 25);
    sent.direction = Direction::Outgoing;
    store.insert_message(&sent).unwrap();
    // Another account's conversations are not listed.
    store
        .insert_message(&msg("b", "zed@x.org", "z1", T0 + 99))
        .unwrap();

    let rows = store.conversations(&a).unwrap();
    let order: Vec<_> = rows.iter().map(|r| r.conversation.clone()).collect();
    assert_eq!(
        order,
        [
            chat("bob@x.org"),
            chat("carl@x.org"),
            chat("alice@x.org"),
            ConversationId::Room(jid("room@muc.x.org"))
        ]
    );
    let unread: Vec<_> = rows.iter().map(|r| r.unread).collect();
    assert_eq!(unread, [1, 0, 2, 1]);
    assert_eq!(rows[2].last.as_ref().unwrap().id.0, "al2");
    assert!(rows.iter().all(|r| r.account == a));

    // An older message (an archive page of older history) does not become the last one.
    let mut older = store.page_order(true).unwrap();
    store
        .insert_page(&[msg("a", "alice@x.org", "al0", T0 + 1)], &mut older, false)
        .unwrap();
    store.mark_read(&a, &chat("alice@x.org")).unwrap();
    let rows = store.conversations(&a).unwrap();
    assert_eq!(rows[2].conversation, chat("alice@x.org"));
    assert_eq!(rows[2].last.as_ref().unwrap().id.0, "al2");
    assert_eq!(rows[2].unread, 0);

    // New activity moves a conversation to the top and counts as unread again.
    store
        .insert_message(&msg("a", "alice@x.org", "al3", T0 + 40))
        .unwrap();
    let rows = store.conversations(&a).unwrap();
    assert_eq!(rows[0].conversation, chat("alice@x.org"));
    assert_eq!(rows[0].unread, 1);
    assert_eq!(store.unread(&a, &chat("alice@x.org")).unwrap(), 1);
    // Duplicates do not count.
    store
        .insert_message(&msg("a", "alice@x.org", "al3", T0 + 40))
        .unwrap();
    assert_eq!(store.unread(&a, &chat("alice@x.org")).unwrap(), 1);
}

#[test]
fn accounts_and_roster_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut account = Account::new(jid("me@x.org"));
    account.display_name = Some("Me".into());
    let contacts = vec![Contact {
        jid: jid("alice@x.org"),
        name: None,
        subscription: Subscription::To,
        pending_out: true,
        groups: Vec::new(),
    }];
    {
        let store = Store::open(dir.path()).unwrap();
        assert!(store.accounts().unwrap().is_empty());
        store.save_account(&account).unwrap();
        account.enabled = false;
        store.save_account(&account).unwrap();
        store
            .save_roster(&account.id, Some("ver7"), &contacts)
            .unwrap();
        store.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.accounts().unwrap(), [account.clone()]);
    assert_eq!(
        store.roster(&account.id).unwrap(),
        (Some("ver7".into()), contacts)
    );
}

/// Set by `stored_messages_survive_a_crash` for the child process it starts.
const CRASH_DIR_ENV: &str = "LOQUAT_STORE_TEST_CRASH_DIR";

/// In the child process only: store messages, then die without any clean shutdown.
#[test]
fn crash_child_helper() {
    let Some(dir) = std::env::var_os(CRASH_DIR_ENV) else {
        return; // a normal test run: nothing to do
    };
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    let mut single = msg("a", "alice@x.org", "single", T0);
    single.direction = Direction::Outgoing;
    single.delivery = Delivery::Pending;
    store.insert_message(&single).unwrap();
    let batch: Vec<_> = (0..100)
        .map(|i| msg("a", "alice@x.org", &format!("b{i}"), T0 + 1 + i))
        .collect();
    store.insert_messages(&batch).unwrap();
    store
        .set_delivery(&acct("a"), &single.id, &Delivery::Sent)
        .unwrap();
    // No drop, no background flush: only what the calls flushed themselves survives.
    std::process::abort();
}

#[test]
fn stored_messages_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child_helper", "--test-threads=1"])
        .env(CRASH_DIR_ENV, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child should have aborted");
    let store = Store::open(dir.path()).unwrap();
    let got = store
        .latest(&acct("a"), &chat("alice@x.org"), 1000)
        .unwrap();
    assert_eq!(got.len(), 101);
    assert_eq!(got[0].id.0, "single");
    assert_eq!(got[0].delivery, Delivery::Sent);
    assert_eq!(got[100].id.0, "b99");
}

/// Set by `killed_at_random_moments_keeps_what_it_flushed` for the writer it starts:
/// the data folder, and where to start numbering.
const KILL_DIR_ENV: &str = "LOQUAT_STORE_TEST_KILL_DIR";
const KILL_START_ENV: &str = "LOQUAT_STORE_TEST_KILL_START";

/// In the child process only: store archive-like pages (1 to 7 messages, one flush each,
/// as news and as old history in turn), then the position, as the catch-up does, and
/// print `stored N` after each; until killed.
#[test]
fn kill_child_helper() {
    use std::io::Write;
    let Some(dir) = std::env::var_os(KILL_DIR_ENV) else {
        return; // a normal test run: nothing to do
    };
    let start: usize = std::env::var(KILL_START_ENV).unwrap().parse().unwrap();
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    let mut out = std::io::stdout();
    let mut i = start;
    for page in 0.. {
        let batch: Vec<_> = (i..i + 1 + page % 7)
            .map(|k| {
                let mut m = msg("a", "alice@x.org", &format!("k{k:07}"), T0 + k as i64);
                m.server_id = Some(format!("arch-{k}"));
                m
            })
            .collect();
        if page % 2 == 0 {
            store.insert_messages(&batch).unwrap();
        } else {
            store.insert_old_messages(&batch).unwrap();
        }
        i += batch.len();
        store.set_pref("position", &i.to_string()).unwrap();
        writeln!(out, "stored {i}").unwrap();
        out.flush().unwrap();
    }
}

/// SIGKILL in the middle of writing, 25 times: every page the store reported flushed is
/// there after reopening, each message once, and the position never runs ahead of the
/// messages (the catch-up's positions rely on both).
#[test]
fn killed_at_random_moments_keeps_what_it_flushed() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut acked = 0usize;
    for run in 0..25u64 {
        let (stored, position) = {
            let store = Store::open(dir.path()).unwrap();
            let got = store
                .latest(&acct("a"), &chat("alice@x.org"), 1_000_000)
                .unwrap();
            let position: usize = store
                .pref("position")
                .unwrap()
                .map_or(0, |p| p.parse().unwrap());
            let ids: Vec<String> = got.iter().map(|m| m.id.0.clone()).collect();
            let want: Vec<String> = (0..ids.len()).map(|k| format!("k{k:07}")).collect();
            assert_eq!(
                ids, want,
                "run {run}: messages missing, repeated or out of order"
            );
            assert!(
                ids.len() >= acked,
                "run {run}: {} messages after the kill, {acked} were reported flushed",
                ids.len()
            );
            assert!(
                position >= acked && position <= ids.len(),
                "run {run}: position {position}, {acked} flushed, {} stored",
                ids.len()
            );
            (ids.len(), position)
        };
        let _ = stored;
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "kill_child_helper",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(KILL_DIR_ENV, dir.path())
            .env(KILL_START_ENV, position.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("stored ") {
                    let _ = tx.send(n.parse::<usize>().unwrap());
                }
            }
        });
        // Wait for the first page, then let it write for a random while.
        let first = rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
        acked = acked.max(first);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        std::thread::sleep(std::time::Duration::from_millis(
            u64::from(nanos % 300) + 10 * (run % 3),
        ));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        acked = rx.try_iter().fold(acked, usize::max);
    }
    assert!(acked > 25, "the writer hardly wrote: {acked}");
}

#[test]
fn a_damaged_database_is_moved_aside_and_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    {
        let store = Store::open(&path).expect("open");
        store.flush().expect("flush");
    }
    // Scribble over every file sled wrote.
    for entry in walk(&path) {
        std::fs::write(&entry, b"\x00garbage\xffgarbage").expect("scribble");
    }
    let (store, recovered) = Store::open_or_recover(&path).expect("recovers");
    let recovered = recovered.expect("reports the recovery");
    assert!(recovered.moved_to.exists(), "damaged files are kept");
    assert!(!recovered.reason.is_empty());
    // The new database works.
    assert!(store.accounts().expect("accounts").is_empty());

    // A healthy database is opened as it is.
    drop(store);
    let (_store, recovered) = Store::open_or_recover(&path).expect("opens");
    assert!(recovered.is_none());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_database_in_use_is_not_moved_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let _held = Store::open(&path).expect("open");
    match Store::open_or_recover(&path) {
        Err(_) => {}
        Ok((_, recovered)) => assert!(recovered.is_none(), "moved a healthy database aside"),
    }
    assert!(path.exists());
    let siblings: Vec<_> = std::fs::read_dir(dir.path()).expect("read_dir").collect();
    assert_eq!(siblings.len(), 1, "nothing was moved aside");
}

/// A store with what a recovery must keep (an account with trust pins, settings, a
/// per-account choice, an unsent message) and what it must not (a received message,
/// an archive cursor: history is rebuilt from the archive).
fn populate(path: &std::path::Path) -> (Account, ChatMessage) {
    let store = Store::open(path).unwrap();
    let mut account = Account::new(jid("me@x.org"));
    account.trust.pinned_sha256 = vec!["ab".repeat(32)];
    store.save_account(&account).unwrap();
    store.set_pref("settings", "{\"theme\":\"dark\"}").unwrap();
    store
        .set_pref(
            &format!("account.{}.allow_plain_login", account.id.0),
            "true",
        )
        .unwrap();
    store.set_pref("mam-cursor:whatever", "id-42").unwrap();
    let mut unsent = msg(&account.id.0, "bob@x.org", "unsent-1", T0);
    unsent.direction = Direction::Outgoing;
    unsent.delivery = Delivery::Pending;
    store.insert_message(&unsent).unwrap();
    store
        .insert_message(&msg(&account.id.0, "bob@x.org", "received-1", T0 + 1))
        .unwrap();
    store.flush().unwrap();
    (account, unsent)
}

/// Opens sled directly (the store's lock may linger a moment after it is dropped).
fn raw_sled(path: &std::path::Path) -> sled::Db {
    for _ in 0..100 {
        match sled::open(path) {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    panic!("sled did not open {}", path.display())
}

fn scribble_sled_files(path: &std::path::Path) {
    for entry in walk(path) {
        if entry.file_name().is_some_and(|n| n != "loquat-keep.json") {
            std::fs::write(&entry, b"\x00garbage\xffgarbage").expect("scribble");
        }
    }
}

/// Issue #20, weakness 6: a damaged database no longer takes the account list, its
/// trust pins, the settings and the unsent messages with it. Damaged three ways: one
/// of our records (sled still opens: read from the damaged database itself, with the
/// keep file gone), sled's own files (from the keep file), and both sled's files and
/// the keep file (a new, empty database; no crash).
#[test]
fn recovery_keeps_accounts_pins_settings_and_the_outbox() {
    for damage in ["schema record", "sled files", "sled files and keep file"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (account, unsent) = populate(&path);
        match damage {
            "schema record" => {
                std::fs::remove_file(loquat::store::keep_path(&path)).unwrap();
                let db = raw_sled(&path);
                db.open_tree("meta")
                    .unwrap()
                    .insert("schema_version", &b"??"[..])
                    .unwrap();
                db.flush().unwrap();
            }
            "sled files" => scribble_sled_files(&path),
            _ => {
                scribble_sled_files(&path);
                let keep = loquat::store::keep_path(&path);
                let half = std::fs::read(&keep).unwrap();
                std::fs::write(&keep, &half[..half.len() / 2]).unwrap();
            }
        }
        let (store, recovered) = Store::open_or_recover(&path).expect(damage);
        let recovered = recovered.expect("the damage is reported");
        assert!(
            recovered.moved_to.exists(),
            "{damage}: damaged files are kept"
        );
        if damage == "sled files and keep file" {
            assert!(store.accounts().unwrap().is_empty(), "{damage}");
            assert_eq!(recovered.salvaged, loquat::store::Salvaged::default());
            continue;
        }
        assert_eq!(
            store.accounts().unwrap(),
            std::slice::from_ref(&account),
            "{damage}"
        );
        assert_eq!(
            store.pref("settings").unwrap().as_deref(),
            Some("{\"theme\":\"dark\"}"),
            "{damage}"
        );
        assert_eq!(
            store
                .pref(&format!("account.{}.allow_plain_login", account.id.0))
                .unwrap()
                .as_deref(),
            Some("true"),
            "{damage}"
        );
        assert_eq!(
            store.pref("mam-cursor:whatever").unwrap(),
            None,
            "{damage}: archive positions start over"
        );
        assert_eq!(
            ids(&store.outbox(&account.id).unwrap()),
            std::slice::from_ref(&unsent.id.0),
            "{damage}"
        );
        assert_eq!(
            ids(&store.latest(&account.id, &chat("bob@x.org"), 10).unwrap()),
            ["unsent-1"],
            "{damage}: received history comes back from the archive"
        );
        assert_eq!(
            recovered.salvaged,
            loquat::store::Salvaged {
                accounts: 1,
                prefs: 2,
                outbox: 1
            },
            "{damage}"
        );
        // The new store keeps its own copy: damaged again, it recovers again.
        drop(store);
        scribble_sled_files(&path);
        let (store, again) = Store::open_or_recover(&path).expect("again");
        assert!(again.is_some());
        assert_eq!(
            store.accounts().unwrap(),
            std::slice::from_ref(&account),
            "{damage}, twice"
        );
        assert_eq!(
            store.outbox(&account.id).unwrap().len(),
            1,
            "{damage}, twice"
        );
    }
}

/// Issue #20: the keep file is replaced whole (a fresh private temporary file, synced,
/// renamed, the folder synced), 0600 even when a temporary file an earlier run left
/// behind was readable by others (opening that one kept its mode, and the rename
/// carried it onto the keep file: 0644 until the next write), and complete: it reads
/// back with what it must keep.
#[cfg(unix)]
#[test]
fn keep_file_is_complete_and_private_even_after_a_stale_temporary_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = Store::open(&path).unwrap();
    store.set_pref("settings", "{\"theme\":\"dark\"}").unwrap();
    store.flush().unwrap();
    let keep = loquat::store::keep_path(&path);
    let stale = keep.with_file_name("loquat-keep.json.new");
    std::fs::write(&stale, vec![b'x'; 100_000]).unwrap();
    std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();
    let account = Account::new(jid("me@x.org"));
    store.save_account(&account).unwrap();
    store.flush().unwrap();
    let mode = std::fs::metadata(&keep).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the keep file is {mode:o}");
    assert!(!stale.exists(), "the temporary file was renamed");
    let text = std::fs::read_to_string(&keep).unwrap();
    let kept: serde_json::Value = serde_json::from_str(&text).expect("complete JSON");
    assert_eq!(kept["accounts"].as_array().map(Vec::len), Some(1), "{text}");
    assert_eq!(kept["prefs"]["settings"], "{\"theme\":\"dark\"}", "{text}");
}

/// Bytes in the files of a database folder.
fn folder_bytes(path: &std::path::Path) -> u64 {
    walk(path)
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum()
}

/// A database upgraded from schema 4 is rewritten into a copy that takes its place. On
/// a full disk the copy fails: the database opens upgraded in place with every message
/// and nothing left beside it, and opens so again while the disk stays full; once there
/// is room, the next start rewrites it, and the one after leaves it be. Needs root (a
/// small tmpfs); elsewhere it says SKIPPED.
#[test]
fn a_rewrite_that_found_the_disk_full_comes_again_when_there_is_room() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = support::Tmpfs::mount(&dir.path().join("small-disk"), "64m") else {
        eprintln!("SKIPPED: mounting a tmpfs needs root (CAP_SYS_ADMIN)");
        return;
    };
    let path = disk.path().join("db");
    let msgs: Vec<_> = (0..3_000)
        .map(|n| {
            with_server_id(
                msg("a", "bob@x.org", &format!("m{n}"), T0 + n),
                &format!("s{n}"),
            )
        })
        .collect();
    {
        let store = Store::open(&path).unwrap();
        for page in msgs.chunks(250) {
            store.insert_messages(page).unwrap();
        }
        store.flush().unwrap();
    }
    {
        // As a Loquat of schema 4 left it: the next open upgrades it, then rewrites it.
        let db = raw_sled(&path);
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", &4u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let size = folder_bytes(&path);
    let filler = disk.fill();
    // Room for the upgrade in place, not for a copy.
    let full = std::fs::metadata(&filler).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap()
        .set_len(full - size / 3)
        .unwrap();
    let folder = || std::fs::metadata(&path).unwrap().ino();
    let shown = |store: &Store| ids(&store.latest(&acct("a"), &chat("bob@x.org"), 5_000).unwrap());
    let beside = || {
        let mut names: Vec<_> = std::fs::read_dir(disk.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let original = folder();
    for start in ["the upgrade", "a start on the still full disk"] {
        let store = Store::open(&path).unwrap();
        assert_eq!(shown(&store), ids(&msgs), "after {start}");
        drop(store);
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert_eq!(folder(), original, "no copy fits: {start}");
        assert_eq!(beside(), ["db", "filler"], "after {start}");
    }
    std::fs::remove_file(&filler).unwrap();
    {
        let store = Store::open(&path).unwrap();
        assert_eq!(shown(&store), ids(&msgs), "after the rewrite");
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let rewritten = folder();
    assert_ne!(rewritten, original, "rewritten once there was room");
    assert_eq!(beside(), ["db"]);
    {
        let store = Store::open(&path).unwrap();
        assert_eq!(shown(&store).len(), msgs.len());
    }
    assert_eq!(folder(), rewritten, "rewritten once only");
}
