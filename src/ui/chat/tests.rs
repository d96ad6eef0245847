//! The conversation's state: order, unread line, pages, floods.

use super::*;
use crate::model::Direction;

fn message(id: &str, ts: i64) -> ChatMessage {
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId(id.into()),
        account: AccountId("a".into()),
        conversation: ConversationId::Chat(BareJid::new("bob@example.org").unwrap()),
        direction: Direction::Incoming,
        sender: String::new(),
        body: id.into(),
        timestamp_ms: ts,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

fn state() -> State {
    let peer = BareJid::new("bob@example.org").unwrap();
    State::new(AccountId("a".into()), ConversationId::Chat(peer), true)
}

#[test]
fn messages_are_deduplicated_and_kept_in_time_order() {
    let mut s = state();
    assert!(s.push(message("b", 20)));
    assert!(s.push(message("a", 10)));
    assert!(!s.push(message("b", 20)));
    assert!(s.push(message("c", 30)));
    let ids: Vec<&str> = s.messages().iter().map(|m| m.id.0.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[test]
fn the_unread_line_goes_above_the_first_unread_message_once_history_shows() {
    let mut s = state();
    s.set_unread(2);
    assert_eq!(s.unread_from(), None, "no history yet");
    let mut mine = message("mine", 25);
    mine.direction = Direction::Outgoing;
    s.history_loaded(
        false,
        Ok(vec![
            message("a", 10),
            message("b", 20),
            mine,
            message("c", 30),
        ]),
    );
    assert_eq!(s.unread_from(), Some(&LocalMessageId("b".into())));
    // A message arriving later does not move it.
    s.push_live(message("d", 40));
    assert_eq!(s.unread_from(), Some(&LocalMessageId("b".into())));
}

#[test]
fn whitespace_only_is_not_sent() {
    let mut s = state();
    s.composer = text_editor::Content::with_text("  \n\t ");
    assert!(s.update(Message::Send).is_none());
    s.composer = text_editor::Content::with_text("\nhi there\n\n");
    match s.update(Message::Send) {
        Some(Event::Send(body)) => assert_eq!(body, "hi there"),
        other => panic!("expected a send, got {other:?}"),
    }
}

fn archived(id: &str, ts: i64) -> ChatMessage {
    ChatMessage {
        server_id: Some(format!("arch-{id}")),
        ..message(id, ts)
    }
}

#[test]
fn a_short_first_page_sends_load_older_to_the_server_archive() {
    let mut s = state();
    s.history_loaded(false, Ok(vec![archived("a", 1_000), message("b", 2_000)]));
    assert_eq!(s.messages().len(), 2);
    assert!(s.store_done && !s.exhausted, "the archive may have more");
    match s.update(Message::LoadOlder) {
        Some(Event::LoadOlderArchive { before, below_ms }) => {
            assert_eq!(before.as_deref(), Some("arch-a"));
            assert_eq!(below_ms, Some(1_000));
        }
        other => panic!("expected an archive request, got {other:?}"),
    }
    assert!(s.update(Message::LoadOlder).is_none(), "one at a time");
    // A page with older messages: shown in place; the next asks before its start.
    let again = s.archive_page(
        vec![archived("z", 500)],
        Some("arch-z".into()),
        false,
        false,
    );
    assert!(!again);
    assert_eq!(s.messages().first().map(|m| m.id.0.as_str()), Some("z"));
    match s.update(Message::LoadOlder) {
        Some(Event::LoadOlderArchive { before, .. }) => {
            assert_eq!(before.as_deref(), Some("arch-z"))
        }
        other => panic!("expected an archive request, got {other:?}"),
    }
    // A page of messages already here, with more before it: ask on at once.
    let again = s.archive_page(
        vec![archived("z", 500)],
        Some("arch-y".into()),
        false,
        false,
    );
    assert!(again);
    assert!(s.continue_in_archive().is_some());
    // The beginning of the archive: no more asking.
    assert!(!s.archive_page(Vec::new(), None, true, false));
    assert!(s.exhausted);
    assert!(s.update(Message::LoadOlder).is_none());
}

#[test]
fn a_failed_archive_page_says_so_and_can_be_asked_again() {
    let mut s = state();
    s.history_loaded(false, Ok(Vec::new()));
    assert!(matches!(
        s.update(Message::LoadOlder),
        Some(Event::LoadOlderArchive { before: None, .. })
    ));
    assert!(!s.archive_page(Vec::new(), None, false, true));
    assert_eq!(s.problem, Some(Problem::Archive));
    assert!(s.update(Message::LoadOlder).is_some());
}

#[test]
fn pages_keep_the_stores_order_within_one_second() {
    // One second of archive stamps, as a flood has: order is the store's.
    let mut s = state();
    s.history_loaded(false, Ok(vec![message("x", 5_000), message("y", 5_000)]));
    assert!(s.push_live(message("z", 4_000)), "a live one goes last");
    s.history_loaded(true, Ok(vec![message("a", 5_000), message("b", 5_000)]));
    let _ = s.archive_page(vec![message("0", 5_000)], Some("s0".into()), false, false);
    let ids: Vec<&str> = s.messages().iter().map(|m| m.id.0.as_str()).collect();
    assert_eq!(ids, ["0", "a", "b", "x", "y", "z"]);
}

#[test]
fn without_a_store_there_is_nothing_older_to_ask_for() {
    let peer = BareJid::new("bob@example.org").unwrap();
    let mut s = State::new(AccountId("a".into()), ConversationId::Chat(peer), false);
    s.push(message("a", 1));
    assert!(s.update(Message::LoadOlder).is_none());
}

#[test]
fn a_flood_keeps_the_newest_on_screen_and_the_rest_in_the_store() {
    let mut s = state();
    s.history_loaded(false, Ok(vec![message("first", 1)]));
    s.exhausted = true;
    for i in 0..MAX_SHOWN + 20 {
        assert!(s.push_live(message(&format!("m{i}"), 10 + i as i64)));
    }
    // Following the newest end: only what fills a window is laid out.
    assert_eq!(s.messages().len(), FOLLOW_SHOWN);
    let last = format!("m{}", MAX_SHOWN + 19);
    assert_eq!(
        s.messages().last().map(|m| m.id.0.as_str()),
        Some(last.as_str())
    );
    assert!(!s.exhausted, "scrolling up pages the older ones back in");
    // A message that left the view can come back (from the store) at its place.
    assert!(s.push(message("first", 1)));
    assert_eq!(s.messages().first().map(|m| m.id.0.as_str()), Some("first"));
}

#[test]
fn a_reader_scrolled_up_keeps_more_of_a_flood_on_screen() {
    let mut s = state();
    s.history_loaded(false, Ok(vec![message("first", 1)]));
    s.following = false;
    for i in 0..MAX_SHOWN + 20 {
        assert!(s.push_live(message(&format!("m{i}"), 10 + i as i64)));
    }
    assert_eq!(s.messages().len(), MAX_SHOWN);
    // Back at the newest end, the next message trims to what fills a window.
    s.following = true;
    assert!(s.push_live(message("late", 10_000)));
    assert_eq!(s.messages().len(), FOLLOW_SHOWN);
    assert_eq!(s.messages().last().map(|m| m.id.0.as_str()), Some("late"));
}

/// A long chat's store: `n` messages, oldest first.
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

fn ids(messages: &[ChatMessage]) -> Vec<String> {
    messages.iter().map(|m| m.id.0.clone()).collect()
}

/// What is shown is one unbroken stretch of the store: no message twice, none missing.
fn assert_stretch(all: &[ChatMessage], shown: &[ChatMessage]) {
    let first = all.iter().position(|m| m.id == shown[0].id).unwrap();
    assert_eq!(ids(shown), ids(&all[first..first + shown.len()]));
}

#[test]
fn reading_back_holds_a_few_pages_and_reading_down_again_shows_every_message_once() {
    let mut all = stored(20 * PAGE + 7);
    let mut s = state();
    s.history_loaded(false, Ok(all[all.len() - PAGE..].to_vec()));
    // Up to the first message, a page at a time.
    let mut pages = 0;
    while let Some(Event::LoadOlder(id)) = s.update(Message::LoadOlder) {
        s.history_loaded(true, Ok(page(&all, &id, true)));
        pages += 1;
        assert!(
            s.messages().len() <= WINDOW_SHOWN,
            "{} messages held after {pages} pages back",
            s.messages().len()
        );
        assert_stretch(&all, s.messages());
    }
    assert_eq!(pages, 20);
    assert_eq!(s.messages()[0].id.0, "m00000");
    assert!(
        s.in_window(),
        "the newest are not shown: \"Show newer messages\""
    );
    // Bob writes meanwhile (stored first, as always): it waits.
    let live = message("live", 1_000 * all.len() as i64);
    all.push(live.clone());
    assert!(!s.push_live(live));
    assert!(!ids(s.messages()).contains(&"live".to_string()));
    // Down again: every message comes back once, in order, the live one last.
    let mut seen = ids(s.messages());
    while let Some(Event::LoadNewer(id)) = s.update(Message::LoadNewer) {
        s.newer_loaded(Ok(page(&all, &id, false)));
        assert!(s.messages().len() <= WINDOW_SHOWN);
        assert_stretch(&all, s.messages());
        let last = seen.last().cloned().unwrap();
        let shown = ids(s.messages());
        let from = shown.iter().position(|id| *id == last).unwrap() + 1;
        seen.extend(shown[from..].iter().cloned());
    }
    assert!(!s.in_window());
    assert_eq!(seen, ids(&all));
    // Live messages show at once again.
    assert!(s.push_live(message("later", 1_000 * all.len() as i64 + 1)));
    assert_eq!(s.messages().last().map(|m| m.id.0.as_str()), Some("later"));
}
