#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
//! Search over stored history (issue #19): a fixed corpus in a real store, the index
//! following it through the store's hook, and crash safety with a killed child process.

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Attachment, Author, Change, ChatMessage, Delivery, Direction, Modification};
use loquat::search::{Filters, SearchIndex, Sender};
use loquat::store::Store;
use std::collections::HashSet;
use xmpp_parsers::jid::BareJid;

fn jid(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn chat(peer: &str) -> ConversationId {
    ConversationId::Chat(jid(peer))
}

fn msg(account: &str, conversation: ConversationId, body: &str, t: i64) -> ChatMessage {
    let id = LocalMessageId::generate();
    ChatMessage {
        stanza_id_attr: Some(format!("s-{}", id.0)),
        id,
        account: AccountId(account.into()),
        conversation,
        direction: Direction::Incoming,
        sender: String::new(),
        body: body.into(),
        timestamp_ms: t,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
        truncated: false,
        extras: Default::default(),
    }
}

fn ids(hits: &[loquat::search::Hit]) -> Vec<String> {
    hits.iter().map(|h| h.id.0.clone()).collect()
}

fn find(index: &SearchIndex, q: &str) -> Vec<String> {
    ids(&index.search(q, &Filters::default(), 100).unwrap())
}

const SENTENCE: &str = "我们明天下午开会讨论报告";

/// A small corpus in a temporary store, indexed.
struct Corpus {
    store: Store,
    index: SearchIndex,
    zh: ChatMessage,
    en: ChatMessage,
    mixed: ChatMessage,
    cafe: ChatMessage,
    all: Vec<ChatMessage>,
}

fn corpus() -> Corpus {
    let store = Store::open_temporary().unwrap();
    let index = SearchIndex::open(&store).unwrap();
    let zh = msg("a", chat("li@example.org"), SENTENCE, 1_000);
    let en = msg(
        "a",
        chat("bob@example.org"),
        "The quick brown fox jumps over the lazy dog",
        2_000,
    );
    let mixed = msg(
        "b",
        chat("li@example.org"),
        "Please read the PDF 报告 before Friday: https://example.org/r.pdf",
        3_000,
    );
    let cafe = msg(
        "b",
        chat("bob@example.org"),
        "Un CAFÉ à Paris? 你好吗",
        4_000,
    );
    let other = msg(
        "a",
        chat("bob@example.org"),
        "fox brown, never quick",
        5_000,
    );
    let all = vec![zh.clone(), en.clone(), mixed.clone(), cafe.clone(), other];
    store.insert_messages(&all).unwrap();
    index.sync().unwrap();
    Corpus {
        store,
        index,
        zh,
        en,
        mixed,
        cafe,
        all,
    }
}

#[test]
fn every_chinese_substring_is_found_and_no_other() {
    let c = corpus();
    let chars: Vec<char> = SENTENCE.chars().collect();
    for from in 0..chars.len() {
        for to in from + 1..=chars.len() {
            let q: String = chars[from..to].iter().collect();
            // Every message holding it, newest first (报告 is in two).
            let mut want: Vec<&ChatMessage> =
                c.all.iter().filter(|m| m.body.contains(&q)).collect();
            want.sort_by_key(|m| -m.timestamp_ms);
            let want: Vec<String> = want.iter().map(|m| m.id.0.clone()).collect();
            assert!(want.contains(&c.zh.id.0));
            assert_eq!(find(&c.index, &q), want, "query {q}");
        }
    }
    // Characters that all occur, but not in this order.
    assert!(find(&c.index, "会开").is_empty());
    assert!(find(&c.index, "报告开会").is_empty());
    // 你好 finds 你好吗, and so does 好吗.
    assert_eq!(find(&c.index, "你好"), vec![c.cafe.id.0.clone()]);
    assert_eq!(find(&c.index, "好吗"), vec![c.cafe.id.0.clone()]);
}

#[test]
fn words_in_any_order_phrases_mixed_scripts_and_folding() {
    let c = corpus();
    // Both messages hold the three words; newest first.
    let both = find(&c.index, "fox quick BROWN");
    assert_eq!(both.len(), 2);
    assert_eq!(both[1], c.en.id.0);
    assert_eq!(
        find(&c.index, "\"quick brown fox\""),
        vec![c.en.id.0.clone()]
    );
    assert_eq!(find(&c.index, "“brown fox”"), vec![c.en.id.0.clone()]);
    assert_eq!(find(&c.index, "PDF 报告"), vec![c.mixed.id.0.clone()]);
    assert_eq!(find(&c.index, "报告 pdf"), vec![c.mixed.id.0.clone()]);
    assert_eq!(find(&c.index, "\"pdf 报告\""), vec![c.mixed.id.0.clone()]);
    assert_eq!(find(&c.index, "PDF报告"), vec![c.mixed.id.0.clone()]);
    assert_eq!(find(&c.index, "cafe"), vec![c.cafe.id.0.clone()]);
    assert_eq!(find(&c.index, "Café paris"), vec![c.cafe.id.0.clone()]);
    assert!(find(&c.index, "café london").is_empty());
    assert!(find(&c.index, "\"fox quick\"").is_empty());
    assert!(find(&c.index, "  ,, ").is_empty());
    // Results come with a snippet of the store's text, matches marked.
    let found = c
        .index
        .search_in_store("cafe 你好", &Filters::default(), 10, 80)
        .unwrap();
    assert_eq!(found.len(), 1);
    let s = &found[0].snippet;
    let marked: Vec<&str> = s.marks.iter().map(|r| &s.text[r.clone()]).collect();
    assert_eq!(marked, vec!["CAFÉ", "你好"]);
}

#[test]
fn filters_narrow_the_results() {
    let c = corpus();
    let only = |f: Filters, q: &str| ids(&c.index.search(q, &f, 100).unwrap());
    let a = AccountId("a".into());
    assert_eq!(
        only(
            Filters {
                account: Some(a.clone()),
                ..Filters::default()
            },
            "fox"
        )
        .len(),
        2
    );
    assert_eq!(
        only(
            Filters {
                account: Some(AccountId("b".into())),
                ..Filters::default()
            },
            "fox"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        only(
            Filters {
                conversation: Some(chat("li@example.org")),
                ..Filters::default()
            },
            "报告"
        ),
        vec![c.mixed.id.0.clone(), c.zh.id.0.clone()]
    );
    assert_eq!(
        only(
            Filters {
                from: Some(Sender::Contact(jid("li@example.org"))),
                account: Some(a),
                ..Filters::default()
            },
            "报告"
        ),
        vec![c.zh.id.0.clone()]
    );
    assert_eq!(
        only(
            Filters {
                since_ms: Some(2_000),
                until_ms: Some(4_000),
                ..Filters::default()
            },
            ""
        ),
        vec![c.mixed.id.0.clone(), c.en.id.0.clone()]
    );
    assert_eq!(
        only(
            Filters {
                has_link: true,
                ..Filters::default()
            },
            ""
        ),
        vec![c.mixed.id.0.clone()]
    );
    // A file without a link in its text.
    let mut file = msg("a", chat("bob@example.org"), "报告 attached", 6_000);
    file.attachment = Some(Box::new(Attachment {
        url: "aesgcm://x/y".into(),
        name: "report.pdf".into(),
        size: None,
        mime: None,
    }));
    c.store.insert_message(&file).unwrap();
    c.index.sync().unwrap();
    assert_eq!(
        only(
            Filters {
                has_file: true,
                ..Filters::default()
            },
            "报告"
        ),
        vec![file.id.0.clone()]
    );
    // Nothing typed and no filter: nothing.
    assert!(find(&c.index, "").is_empty());
}

#[test]
fn a_word_being_typed_finds_the_words_it_begins() {
    let c = corpus();
    let typing = Filters {
        typing: true,
        ..Filters::default()
    };
    let typed = |q: &str| ids(&c.index.search(q, &typing, 100).unwrap());
    // "qui" while typing finds "quick" (twice); as a whole word it finds nothing.
    let other = c.all[4].id.0.clone();
    assert_eq!(typed("qui"), vec![other.clone(), c.en.id.0.clone()]);
    assert!(find(&c.index, "qui").is_empty());
    // A space after it closes the word: whole words again.
    assert!(typed("qui ").is_empty());
    // Only the last word is a prefix; the others are whole words, in any order.
    assert_eq!(typed("lazy qui"), vec![c.en.id.0.clone()]);
    assert!(typed("laz qui").is_empty());
    // A phrase whose last word is open.
    assert_eq!(typed("\"the laz"), Vec::<String>::new());
    assert_eq!(typed("the laz"), vec![c.en.id.0.clone()]);
    // Mixed with Chinese before it.
    assert_eq!(typed("报告 fri"), vec![c.mixed.id.0.clone()]);
    // Accent-folded, like whole words.
    assert_eq!(typed("caf"), vec![c.cafe.id.0.clone()]);
    // And the snippet marks the whole word it begins.
    let found = c
        .index
        .search_in_store("lazy qui", &typing, 10, 80)
        .unwrap();
    let s = &found[0].snippet;
    let marked: Vec<&str> = s.marks.iter().map(|r| &s.text[r.clone()]).collect();
    assert_eq!(marked, vec!["quick", "lazy"]);
}

/// The writer (and its memory) goes after a quiet spell and comes back with the next
/// change: nothing is lost either way, and the folder can be opened again after.
#[test]
fn the_writer_goes_when_idle_and_comes_back_with_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let options = loquat::search::Options {
        quiet_ms: 10,
        max_delay_ms: 50,
        idle_ms: 30,
        ..Default::default()
    };
    let index = SearchIndex::open_with(&store, Some(&dir.path().join("search")), options).unwrap();
    let first = msg("a", chat("li@example.org"), "第一条消息 first", 1_000);
    store.insert_message(&first).unwrap();
    index.sync().unwrap();
    // Long enough for the writer to be let go.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let second = msg("a", chat("li@example.org"), "第二条消息 second", 2_000);
    store.insert_message(&second).unwrap();
    index.sync().unwrap();
    assert_eq!(
        find(&index, "消息"),
        vec![second.id.0.clone(), first.id.0.clone()]
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(index);
    // Reopened: both still there, nothing to rebuild.
    let again = SearchIndex::open_with(&store, Some(&dir.path().join("search")), options).unwrap();
    assert_eq!(again.progress(), None);
    assert_eq!(find(&again, "消息").len(), 2);
}

#[test]
fn hidden_senders_are_left_out() {
    let c = corpus();
    // Account "a" blocks li: li's messages in "a" go, those in "b" stay.
    let li = Sender::Contact(jid("li@example.org"));
    let hide_li = Filters {
        hidden: vec![(AccountId("a".into()), li.clone())],
        ..Filters::default()
    };
    assert_eq!(
        ids(&c.index.search("报告", &hide_li, 100).unwrap()),
        vec![c.mixed.id.0.clone()]
    );
    let hide_li_everywhere = Filters {
        hidden: vec![
            (AccountId("a".into()), li.clone()),
            (AccountId("b".into()), li),
        ],
        ..Filters::default()
    };
    assert!(
        c.index
            .search("报告", &hide_li_everywhere, 100)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(&c.index.search("fox", &hide_li, 100).unwrap()),
        vec![c.all[4].id.0.clone(), c.en.id.0.clone()]
    );
    // Hiding alone narrows nothing: nothing typed, nothing found.
    assert!(c.index.search("", &hide_li, 100).unwrap().is_empty());
}

fn change(of: &ChatMessage, change: Change, at_ms: i64) -> Modification {
    Modification {
        account: of.account.clone(),
        conversation: of.conversation.clone(),
        target: of.stanza_id_attr.clone().unwrap(),
        author: Author {
            direction: of.direction,
            nick: of.sender.clone(),
            occupant_id: None,
        },
        change,
        at_ms,
    }
}

#[test]
fn edits_are_found_by_their_current_text_and_retractions_disappear() {
    let c = corpus();
    let fix = change(
        &c.en,
        Change::Correct {
            body: "The slow green turtle".into(),
            id: Some("fix-1".into()),
        },
        9_000,
    );
    c.store.apply_change(&fix).unwrap();
    let retract = change(&c.zh, Change::Retract, 9_500);
    c.store.apply_change(&retract).unwrap();
    c.index.sync().unwrap();
    assert_eq!(find(&c.index, "turtle"), vec![c.en.id.0.clone()]);
    assert!(!find(&c.index, "\"quick brown fox\"").contains(&c.en.id.0));
    assert!(find(&c.index, "讨论").is_empty());
    // The edited message keeps its place in time.
    let hit = &c.index.search("turtle", &Filters::default(), 1).unwrap()[0];
    assert_eq!(hit.timestamp_ms, 2_000);
}

#[test]
fn a_moderated_room_message_disappears() {
    let store = Store::open_temporary().unwrap();
    let index = SearchIndex::open(&store).unwrap();
    let room = ConversationId::Room(jid("tea@conference.example.org"));
    let mut m = msg("a", room.clone(), "去年的会议记录", 1_000);
    m.sender = "mallory".into();
    m.server_id = Some("room-sid-1".into());
    store.insert_message(&m).unwrap();
    index.sync().unwrap();
    let from_mallory = Filters {
        from: Some(Sender::Occupant("mallory".into())),
        ..Filters::default()
    };
    assert_eq!(
        ids(&index.search("会议", &from_mallory, 10).unwrap()),
        vec![m.id.0.clone()]
    );
    let moderate = Modification {
        account: m.account.clone(),
        conversation: room,
        target: "room-sid-1".into(),
        author: Author {
            direction: Direction::Incoming,
            nick: String::new(),
            occupant_id: None,
        },
        change: Change::Moderate {
            by: Some("admin".into()),
            reason: None,
        },
        at_ms: 2_000,
    };
    store.apply_change(&moderate).unwrap();
    index.sync().unwrap();
    assert!(find(&index, "会议").is_empty());
}

#[test]
fn removing_an_account_removes_its_messages() {
    let c = corpus();
    assert_eq!(find(&c.index, "你好").len(), 1);
    c.store
        .remove_account(&AccountId("b".into()), true)
        .unwrap();
    c.index.sync().unwrap();
    assert!(find(&c.index, "你好").is_empty());
    assert!(find(&c.index, "pdf").is_empty());
    assert_eq!(find(&c.index, "fox").len(), 2);
}

#[test]
fn a_missing_or_damaged_index_is_rebuilt_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let m = msg("a", chat("li@example.org"), "历史消息也能找到", 1_000);
    store.insert_message(&m).unwrap();
    {
        // No index yet: built from the store.
        let index = SearchIndex::open(&store).unwrap();
        index.sync().unwrap();
        assert_eq!(find(&index, "消息"), vec![m.id.0.clone()]);
        assert_eq!(index.progress(), None);
    }
    let search = dir.path().join("search");
    assert!(search.join("meta.json").exists());
    assert!(
        !search.join("behind").exists(),
        "a clean close leaves no marker"
    );
    std::fs::write(search.join("meta.json"), b"{ not json").unwrap();
    let index = SearchIndex::open(&store).unwrap();
    index.sync().unwrap();
    assert_eq!(find(&index, "找到"), vec![m.id.0.clone()]);
}

/// Set in the child process of the crash test: what it does before it is killed.
const CHILD: &str = "LOQUAT_SEARCH_CRASH_CHILD";

/// The child: indexes a first message for good, then stores a second one and retracts
/// the first, which the index never commits (its commit delay is an hour), and waits.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let store = Store::open(&dir.join("db")).unwrap();
    let index = SearchIndex::open_with(
        &store,
        Some(&dir.join("search")),
        loquat::search::Options {
            quiet_ms: 3_600_000,
            max_delay_ms: 3_600_000,
            ..Default::default()
        },
    )
    .unwrap();
    let secret = msg("a", chat("li@example.org"), "秘密计划 secret plan", 1_000);
    store.insert_message(&secret).unwrap();
    index.sync().unwrap();
    let later = msg("a", chat("li@example.org"), "后来的消息 later", 2_000);
    store.insert_message(&later).unwrap();
    store
        .apply_change(&change(&secret, Change::Retract, 3_000))
        .unwrap();
    std::fs::write(dir.join("ready"), secret.id.0.as_bytes()).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(60));
}

#[test]
fn a_crash_before_the_commit_never_brings_back_a_retracted_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, dir.path())
        .spawn()
        .unwrap();
    let ready = dir.path().join("ready");
    let started = std::time::Instant::now();
    while !ready.exists() {
        assert!(
            started.elapsed().as_secs() < 60,
            "the child never got ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let secret = std::fs::read_to_string(&ready).unwrap();
    assert!(dir.path().join("search/behind").exists());

    let store = Store::open(&dir.path().join("db")).unwrap();
    let index = SearchIndex::open(&store).unwrap();
    index.sync().unwrap();
    let everything: HashSet<String> = ["秘密", "secret", "plan", "计划"]
        .iter()
        .flat_map(|q| find(&index, q))
        .collect();
    assert!(
        !everything.contains(&secret),
        "the retracted message came back"
    );
    assert_eq!(
        find(&index, "后来").len(),
        1,
        "the uncommitted message is found"
    );
    assert!(!dir.path().join("search/behind").exists());
}
