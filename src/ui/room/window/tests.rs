use super::*;
use crate::model::{Delivery, Direction};

fn room_jid() -> BareJid {
    BareJid::new("tea@muc.example.org").unwrap()
}

fn message(id: &str, at: i64) -> ChatMessage {
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId(id.into()),
        account: AccountId("a".into()),
        conversation: ConversationId::Room(room_jid()),
        direction: Direction::Incoming,
        sender: "bob".into(),
        body: format!("said {id}"),
        timestamp_ms: at,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

/// The room's stored history: a message a second.
fn stored(n: usize) -> Vec<ChatMessage> {
    (0..n)
        .map(|i| message(&format!("m{i:05}"), 1_000 * i as i64))
        .collect()
}

/// The store's page before (or after) message `id`.
fn page(all: &[ChatMessage], id: &LocalMessageId, older: bool) -> Vec<ChatMessage> {
    let at = all.iter().position(|m| &m.id == id).unwrap();
    if older {
        all[at.saturating_sub(PAGE)..at].to_vec()
    } else {
        all[at + 1..(at + 1 + PAGE).min(all.len())].to_vec()
    }
}

fn shown(room: &Room) -> Vec<String> {
    room.lines
        .iter()
        .filter_map(|l| match l {
            Line::Chat(m) => Some(m.id.0.clone()),
            Line::Notes(_) => None,
        })
        .collect()
}

fn ids(messages: &[ChatMessage]) -> Vec<String> {
    messages.iter().map(|m| m.id.0.clone()).collect()
}

/// What is shown is one unbroken stretch of the store: no message twice, none missing.
fn assert_stretch(all: &[ChatMessage], room: &Room) {
    let shown = shown(room);
    let first = all.iter().position(|m| m.id.0 == shown[0]).unwrap();
    assert_eq!(shown, ids(&all[first..first + shown.len()]));
}

#[test]
fn reading_back_holds_a_few_pages_and_reading_down_again_shows_every_message_once() {
    let mut all = stored(20 * PAGE + 7);
    let mut room = Room::new(AccountId("a".into()), room_jid(), "alice".into(), None);
    history::merge_older(&mut room, all[all.len() - PAGE..].to_vec());
    // Up to the first message, a page at a time (from the store: it can be read again).
    let mut pages = 0;
    loop {
        let oldest = LocalMessageId(shown(&room)[0].clone());
        let older = page(&all, &oldest, true);
        if older.is_empty() {
            break;
        }
        room.older_loaded(older, true);
        pages += 1;
        assert!(
            shown(&room).len() <= WINDOW_SHOWN,
            "{} messages held after {pages} pages back",
            shown(&room).len()
        );
        assert_stretch(&all, &room);
    }
    assert_eq!(pages, 20);
    assert_eq!(shown(&room)[0], "m00000");
    assert!(
        room.in_window(),
        "the newest are not shown: \"Show newer messages\""
    );
    assert!(room.window_bar(Lang::En).is_some());
    // Bob writes meanwhile (stored first, as always): it waits.
    let live = message("live", 1_000 * all.len() as i64);
    all.push(live.clone());
    assert!(room.is_beyond(&live));
    room.hold(live, true);
    assert!(!shown(&room).contains(&"live".to_string()));
    // Down again: every message comes back once, in order, the live one last.
    let mut seen = shown(&room);
    while room.wants_newer() {
        let newest = LocalMessageId(shown(&room).last().unwrap().clone());
        if room.newer_loaded(page(&all, &newest, false)) {
            assert_eq!(room.older, Older::Available, "the oldest can be read again");
        }
        assert!(shown(&room).len() <= WINDOW_SHOWN);
        assert_stretch(&all, &room);
        let now = shown(&room);
        let last = seen.last().cloned().unwrap();
        let from = now.iter().position(|id| *id == last).unwrap() + 1;
        seen.extend(now[from..].iter().cloned());
    }
    assert!(!room.in_window());
    assert_eq!(seen, ids(&all));
    assert_eq!(seen.last().map(String::as_str), Some("live"));
}

#[test]
fn without_a_store_reading_back_keeps_every_page() {
    let all = stored(5 * PAGE);
    let mut room = Room::new(AccountId("a".into()), room_jid(), "alice".into(), None);
    history::merge_older(&mut room, all[4 * PAGE..].to_vec());
    for p in (0..4).rev() {
        room.older_loaded(all[p * PAGE..(p + 1) * PAGE].to_vec(), false);
    }
    assert_eq!(shown(&room), ids(&all), "nothing could read them back");
    assert!(!room.in_window());
}
