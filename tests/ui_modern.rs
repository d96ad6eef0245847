//! Modern XMPP in the timeline (issue #16), as a person uses it: Up in an empty
//! composer edits our last message and Send corrects it; "⋯" on a bubble opens its
//! actions (Reply, quick reactions, Edit, Delete for everyone, a moderator's Remove…);
//! a reply shows a compact quote that finds its original; `/me` and message styling are
//! drawn as styles, never as the markup. Each test drives the real views headless and
//! checks the session command that comes out.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_modern`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;

use iced::keyboard::{Key, key::Named};
use iced_test::simulator;
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::extras::ReplyTo;
use loquat::model::{Account, ChatMessage, Delivery, Direction};
use loquat::session::Command;
use loquat::session::rooms::{Affiliation, Role};
use loquat::ui::chat;
use loquat::ui::i18n::Lang;
use loquat::ui::room::joined;
use loquat::ui::timeline::actions::{Action, REASON_ID};
use support::session::jid;
use support::view::{count, joined_room, occupant};
use xmpp_parsers::jid::BareJid;

fn message(
    peer: &BareJid,
    room: bool,
    direction: Direction,
    sender: &str,
    body: &str,
    at: i64,
) -> ChatMessage {
    let id = LocalMessageId::generate();
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: id.clone(),
        account: AccountId("acc".into()),
        conversation: if room {
            ConversationId::Room(peer.clone())
        } else {
            ConversationId::Chat(peer.clone())
        },
        direction,
        sender: sender.into(),
        body: body.into(),
        timestamp_ms: support::today_minus(3_600_000) + at * 60_000,
        stanza_id_attr: Some(format!("st-{}", id.0)),
        origin_id: Some(id.0.clone()),
        server_id: room.then(|| format!("arch-{}", id.0)),
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

struct Chat {
    state: chat::State,
    account: Account,
}

/// A chat with bob: his question, our two answers.
fn chat_with_bob() -> Chat {
    let account = Account::new(jid("alice@example.org"));
    let bob = jid("bob@example.org");
    let mut state = chat::State::new(account.id.clone(), ConversationId::Chat(bob.clone()), false);
    state.push(message(
        &bob,
        false,
        Direction::Incoming,
        "",
        "Tea at five?\nOr at six.",
        0,
    ));
    state.push(message(&bob, false, Direction::Outgoing, "", "Yes", 1));
    state.push(message(
        &bob,
        false,
        Direction::Outgoing,
        "",
        "See you thre",
        2,
    ));
    Chat { state, account }
}

fn chat_view(chat: &Chat) -> iced::Element<'_, chat::Message> {
    chat.state.view(chat::Context {
        lang: Lang::En,
        peer_label: "Bob".into(),
        peer: chat.state.conversation.jid(),
        availability: loquat::ui::app::account_state::Availability {
            show: loquat::model::Show::Online,
            status: None,
        },
        in_roster: true,
        account: &chat.account,
        write_as: Vec::new(),
        account_online: true,
        muted: false,
        blocked: None,
        request: false,
        transfers: None,
        previews: None,
    })
}

/// Runs `act` on a simulator of the chat and feeds what it produced back to the chat;
/// returns the chat's events, without the "composing" chat state typing sends.
fn in_chat(
    chat: &mut Chat,
    act: impl FnOnce(&mut iced_test::Simulator<'_, chat::Message>),
) -> Vec<chat::Event> {
    let messages: Vec<chat::Message> = {
        let mut ui = simulator(chat_view(chat));
        act(&mut ui);
        ui.into_messages().collect()
    };
    messages
        .into_iter()
        .filter_map(|m| chat.state.update(m))
        .filter(|e| !matches!(e, chat::Event::Composing))
        .collect()
}

fn composer() -> iced::widget::Id {
    iced::widget::Id::new(chat::COMPOSER_ID)
}

fn ours(chat: &Chat, n: usize) -> ChatMessage {
    chat.state
        .messages()
        .iter()
        .filter(|m| m.direction == Direction::Outgoing)
        .nth(n)
        .cloned()
        .expect("our message")
}

#[test]
fn up_in_an_empty_composer_edits_our_last_message_and_send_corrects_it() {
    let mut chat = chat_with_bob();
    let last = ours(&chat, 1);
    let events = in_chat(&mut chat, |ui| {
        ui.click(composer()).expect("composer");
        ui.tap_key(Key::Named(Named::ArrowUp));
    });
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(chat.state.composer_text().trim_end(), "See you thre");
    assert_eq!(count(chat_view(&chat), "Editing your message"), 1);

    // The typo fixed at the end of the text, then Enter: a correction of that message.
    let events = in_chat(&mut chat, |ui| {
        ui.click(composer()).expect("composer");
        ui.tap_key(Key::Named(Named::Backspace));
        ui.tap_key(Key::Named(Named::Backspace));
        ui.typewrite("ere");
        ui.tap_key(Key::Named(Named::Enter));
    });
    match events.as_slice() {
        [
            chat::Event::Command(Command::Correct {
                conversation,
                target,
                body,
                ..
            }),
        ] => {
            assert_eq!(*target, last.id);
            assert_eq!(body, "See you there");
            assert_eq!(*conversation, ConversationId::Chat(jid("bob@example.org")));
        }
        other => panic!("expected a correction, got {other:?}"),
    }
    // Sent: the bar goes, the composer empties, and the next Enter is a new message.
    chat.state.sent();
    assert_eq!(count(chat_view(&chat), "Editing your message"), 0);
    let events = in_chat(&mut chat, |ui| {
        ui.click(composer()).expect("composer");
        ui.typewrite("new");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(
        matches!(events.as_slice(), [chat::Event::Send(b)] if b == "new"),
        "{events:?}"
    );
}

#[test]
fn esc_or_cancel_leaves_editing_and_up_in_a_written_composer_moves_the_cursor() {
    let mut chat = chat_with_bob();
    // "Edit" in the first of our messages' action row.
    let first = ours(&chat, 0);
    chat.state
        .update(chat::Message::Action(Action::Toggle(first.id.clone())));
    let events = in_chat(&mut chat, |ui| {
        ui.click("Edit").expect("Edit");
    });
    assert!(
        matches!(events.as_slice(), [chat::Event::Focus]),
        "{events:?}"
    );
    assert_eq!(chat.state.composer_text().trim_end(), "Yes");
    in_chat(&mut chat, |ui| {
        ui.click(composer()).expect("composer");
        ui.tap_key(Key::Named(Named::Escape));
    });
    assert_eq!(count(chat_view(&chat), "Editing your message"), 0);
    assert_eq!(chat.state.composer_text().trim(), "");
    // Cancel in the bar does the same.
    chat.state.update(chat::Message::Action(Action::EditLast));
    assert_eq!(count(chat_view(&chat), "Editing your message"), 1);
    in_chat(&mut chat, |ui| {
        ui.click("Cancel").expect("Cancel");
    });
    assert_eq!(count(chat_view(&chat), "Editing your message"), 0);
    // With text in the composer, Up is only a cursor move.
    in_chat(&mut chat, |ui| {
        ui.click(composer()).expect("composer");
        ui.typewrite("draft");
        ui.tap_key(Key::Named(Named::ArrowUp));
    });
    assert_eq!(count(chat_view(&chat), "Editing your message"), 0);
    assert_eq!(chat.state.composer_text().trim_end(), "draft");
}

#[test]
fn the_dots_open_a_row_and_reply_quotes_the_message_above_the_composer() {
    let mut chat = chat_with_bob();
    let question = chat.state.messages()[0].clone();
    // Only bob's message has no actions yet: its "⋯" is the first.
    let events = in_chat(&mut chat, |ui| {
        ui.click("⋯").expect("the dots");
    });
    assert!(events.is_empty());
    for action in ["Reply", "👍", "❤️", "😂", "😮", "😢", "🙏"] {
        assert_eq!(count(chat_view(&chat), action), 1, "{action}");
    }
    // Not ours: no Edit or Delete; not a room: no Remove.
    for absent in ["Edit", "Delete for everyone", "Remove…"] {
        assert_eq!(count(chat_view(&chat), absent), 0, "{absent}");
    }
    let events = in_chat(&mut chat, |ui| {
        ui.click("Reply").expect("Reply");
    });
    assert!(
        matches!(events.as_slice(), [chat::Event::Focus]),
        "{events:?}"
    );
    assert_eq!(count(chat_view(&chat), "Replying to Bob"), 1);
    // The quote is the first line only.
    assert_eq!(
        count(chat_view(&chat), "Tea at five?"),
        2,
        "in the list and the bar"
    );
    assert_eq!(count(chat_view(&chat), "Or at six."), 1, "only in the list");
    let events = in_chat(&mut chat, |ui| {
        ui.click(composer()).expect("composer");
        ui.typewrite("At five!");
        ui.tap_key(Key::Named(Named::Enter));
    });
    match events.as_slice() {
        [
            chat::Event::Command(Command::Reply {
                to,
                body,
                conversation,
                ..
            }),
        ] => {
            assert_eq!(*to, question.id);
            assert_eq!(body, "At five!");
            assert!(matches!(conversation, ConversationId::Chat(_)));
        }
        other => panic!("expected a reply, got {other:?}"),
    }
    // Cancel ends replying without touching the text.
    let mut chat = chat_with_bob();
    let question = chat.state.messages()[0].clone();
    chat.state
        .update(chat::Message::Action(Action::Reply(question.id.clone())));
    in_chat(&mut chat, |ui| {
        ui.click("Cancel").expect("Cancel");
    });
    assert_eq!(count(chat_view(&chat), "Replying to"), 0);
}

#[test]
fn a_received_reply_shows_a_quote_that_finds_its_original() {
    let mut chat = chat_with_bob();
    let bob = jid("bob@example.org");
    let original = ours(&chat, 0);
    // As stored: the reference understood, the fallback quote already gone from the body.
    let mut reply = message(&bob, false, Direction::Incoming, "", "Great!", 3);
    reply.extras.reply_to = Some(ReplyTo {
        id: original.origin_id.clone().expect("origin id"),
        to: None,
        fallback: None,
    });
    chat.state.push(reply);
    let mut lost = message(&bob, false, Direction::Incoming, "", "And that one?", 4);
    lost.extras.reply_to = Some(ReplyTo {
        id: "long-gone".into(),
        to: None,
        fallback: None,
    });
    chat.state.push(lost);
    // The quote: who ("Me", it is ours) and the first line; the reply's own text once.
    assert_eq!(
        count(chat_view(&chat), "Yes"),
        2,
        "the original and its quote"
    );
    assert_eq!(count(chat_view(&chat), "Great!"), 1);
    assert_eq!(count(chat_view(&chat), "not loaded here"), 1);
    // A click on the quote shows the original, highlighted. Our two messages share one
    // name line ("Me"); the other "Me", lower down, is the quote's.
    let quote = *support::view::found_in(simulator(chat_view(&chat)), "Me", true)
        .iter()
        .max_by(|a, b| a.y.total_cmp(&b.y))
        .expect("the quote");
    let events = in_chat(&mut chat, |ui| {
        ui.point_at(iced::Point::new(quote.x + 4.0, quote.y + 4.0));
        let _ = ui.simulate(iced_test::simulator::click());
    });
    assert!(
        matches!(events.as_slice(), [chat::Event::Show]),
        "{events:?}"
    );
    assert_eq!(chat.state.actions.highlight, Some(original.id));
}

#[test]
fn delete_for_everyone_asks_first_then_retracts() {
    let mut chat = chat_with_bob();
    let last = ours(&chat, 1);
    chat.state
        .update(chat::Message::Action(Action::Toggle(last.id.clone())));
    let events = in_chat(&mut chat, |ui| {
        ui.click("Delete for everyone")
            .expect("Delete for everyone");
    });
    assert!(
        events.is_empty(),
        "nothing is sent before the answer: {events:?}"
    );
    assert_eq!(
        count(chat_view(&chat), "Delete this message for everyone?"),
        1
    );
    // Cancel: nothing happens.
    let events = in_chat(&mut chat, |ui| {
        ui.click("Cancel").expect("Cancel");
    });
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        count(chat_view(&chat), "Delete this message for everyone?"),
        0
    );
    // Asked again and confirmed: the retraction of that message.
    chat.state
        .update(chat::Message::Action(Action::Delete(last.id.clone())));
    let events = in_chat(&mut chat, |ui| {
        ui.click("Delete").expect("Delete");
    });
    match events.as_slice() {
        [
            chat::Event::Command(Command::Retract {
                target,
                conversation,
            }),
        ] => {
            assert_eq!(*target, last.id);
            assert!(matches!(conversation, ConversationId::Chat(_)));
        }
        other => panic!("expected a retraction, got {other:?}"),
    }
}

#[test]
fn a_quick_reaction_from_the_row_sends_our_set() {
    let mut chat = chat_with_bob();
    let question = chat.state.messages()[0].clone();
    chat.state
        .update(chat::Message::Action(Action::Toggle(question.id.clone())));
    let events = in_chat(&mut chat, |ui| {
        ui.click("😂").expect("😂");
    });
    assert!(
        matches!(events.as_slice(), [chat::Event::React { target, emojis }]
            if *target == question.id && *emojis == vec!["😂".to_owned()]),
        "{events:?}"
    );
    assert_eq!(count(chat_view(&chat), "😂"), 0, "the row closes");
}

/// "+" after the quick reactions opens every emoji of the picker to react with.
#[test]
fn more_reactions_offer_the_whole_picker() {
    let mut chat = chat_with_bob();
    let question = chat.state.messages()[0].clone();
    chat.state
        .update(chat::Message::Action(Action::Toggle(question.id.clone())));
    assert_eq!(
        count(chat_view(&chat), "🌹"),
        0,
        "only the quick ones at first"
    );
    in_chat(&mut chat, |ui| {
        ui.click("+").expect("more reactions");
    });
    let events = in_chat(&mut chat, |ui| {
        ui.click("🌹").expect("🌹");
    });
    assert!(
        matches!(events.as_slice(), [chat::Event::React { target, emojis }]
            if *target == question.id && *emojis == vec!["🌹".to_owned()]),
        "{events:?}"
    );
}

fn tea_room(role: Role) -> joined::Room {
    let mut r = joined_room(vec![
        occupant("alice", role, Affiliation::None),
        occupant("bob", Role::Participant, Affiliation::None),
    ]);
    let jid = r.jid.clone();
    r.push(
        message(&jid, true, Direction::Incoming, "bob", "Buy cheap pills", 0),
        true,
    );
    r.push(
        message(&jid, true, Direction::Outgoing, "alice", "Hello all", 1),
        true,
    );
    r
}

fn room_view(r: &joined::Room) -> iced::Element<'_, joined::Message> {
    r.view_in(joined::Context {
        lang: Lang::En,
        previews: None,
        transfers: None,
        avatar: None,
    })
}

fn in_room(
    r: &mut joined::Room,
    act: impl FnOnce(&mut iced_test::Simulator<'_, joined::Message>),
) -> Vec<joined::Event> {
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room_view(r));
        act(&mut ui);
        ui.into_messages().collect()
    };
    messages
        .into_iter()
        .filter_map(|m| r.update(m))
        .filter(|e| !matches!(e, joined::Event::Command(Command::SendChatState { .. })))
        .collect()
}

fn room_messages(r: &joined::Room) -> Vec<ChatMessage> {
    r.lines
        .iter()
        .filter_map(|l| match l {
            joined::Line::Chat(m) => Some((**m).clone()),
            _ => None,
        })
        .collect()
}

fn act(a: Action) -> joined::Message {
    joined::Message::Timeline(loquat::ui::timeline::Message::Action(a))
}

#[test]
fn a_moderator_removes_any_message_with_a_reason() {
    let mut r = tea_room(Role::Moderator);
    let spam = room_messages(&r)[0].clone();
    r.update(act(Action::Toggle(spam.id.clone())));
    let events = in_room(&mut r, |ui| {
        ui.click("Remove…").expect("Remove…");
    });
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(count(room_view(&r), "Remove this message for everyone?"), 1);
    let events = in_room(&mut r, |ui| {
        ui.click(iced::widget::Id::new(REASON_ID)).expect("reason");
        ui.typewrite("spam");
        ui.click("Remove").expect("Remove");
    });
    match events.as_slice() {
        [
            joined::Event::Command(Command::Moderate {
                room,
                target,
                reason,
            }),
        ] => {
            assert_eq!(*room, r.jid);
            assert_eq!(*target, spam.id);
            assert_eq!(reason.as_deref(), Some("spam"));
        }
        other => panic!("expected a moderation, got {other:?}"),
    }
    // Someone who is not a moderator is not offered Remove.
    let mut plain = tea_room(Role::Participant);
    let spam = room_messages(&plain)[0].clone();
    plain.update(act(Action::Toggle(spam.id)));
    assert_eq!(count(room_view(&plain), "Remove…"), 0);
    assert_eq!(count(room_view(&plain), "Reply"), 1);
}

#[test]
fn in_a_room_up_edits_our_last_message_and_reply_names_the_room_message() {
    let mut r = tea_room(Role::Participant);
    let [theirs, mine] = <[ChatMessage; 2]>::try_from(room_messages(&r)).expect("two");
    let events = in_room(&mut r, |ui| {
        ui.click(iced::widget::Id::new(joined::COMPOSER_ID))
            .expect("composer");
        ui.tap_key(Key::Named(Named::ArrowUp));
    });
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(count(room_view(&r), "Editing your message"), 1);
    let events = in_room(&mut r, |ui| {
        ui.click(iced::widget::Id::new(joined::COMPOSER_ID))
            .expect("composer");
        ui.typewrite(", again");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::Correct { target, body, conversation: ConversationId::Room(_), .. })]
            if *target == mine.id && body == "Hello all, again"),
        "{events:?}"
    );
    r.update(act(Action::Reply(theirs.id.clone())));
    assert_eq!(count(room_view(&r), "Replying to bob"), 1);
    let events = in_room(&mut r, |ui| {
        ui.click(iced::widget::Id::new(joined::COMPOSER_ID))
            .expect("composer");
        ui.typewrite("no thanks");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::Reply { to, body, conversation: ConversationId::Room(_), .. })]
            if *to == theirs.id && body == "no thanks"),
        "{events:?}"
    );
    // Our own /me in a room names us as the others see us: by our nick.
    let jid = r.jid.clone();
    r.push(
        message(&jid, true, Direction::Outgoing, "alice", "/me nods", 5),
        true,
    );
    assert_eq!(count(room_view(&r), "* alice nods"), 1);
}

#[test]
fn me_and_styling_are_drawn_as_styles_not_markup() {
    let mut chat = chat_with_bob();
    let bob = jid("bob@example.org");
    for (i, body) in [
        "/me waves",
        "I *really* want _this_ ~not that~ `code` now https://example.org/x",
        "> quoted words\nanswer",
        "```\nlet *x* = 1;\n```",
    ]
    .into_iter()
    .enumerate()
    {
        chat.state.push(message(
            &bob,
            false,
            Direction::Incoming,
            "",
            body,
            10 + i as i64 * 10,
        ));
    }
    let has = |needle: &str| count(chat_view(&chat), needle);
    assert_eq!(has("* Bob waves"), 1, "/me as an action line");
    assert_eq!(has("/me"), 0);
    assert_eq!(
        has("I really want this not that code now https://example.org/x"),
        1,
        "styled without the markers"
    );
    for markup in ["*really*", "_this_", "~not that~", "`code`"] {
        assert_eq!(has(markup), 0, "{markup} drawn as markup");
    }
    assert_eq!(has("quoted words"), 1);
    assert_eq!(has("> quoted"), 0);
    // Inside a pre block nothing is styled: the stars stay.
    assert_eq!(has("let *x* = 1;"), 1);
    assert_eq!(has("```"), 0);
    // The link inside styled text still opens.
    let bounds = support::view::found_in(simulator(chat_view(&chat)), "I really want", false);
    let at = bounds.first().copied().expect("the styled line");
    let clicked: Vec<chat::Message> = {
        let mut ui = simulator(chat_view(&chat));
        ui.point_at(iced::Point::new(
            at.x + at.width - 20.0,
            at.y + at.height / 2.0,
        ));
        let _ = ui.simulate(iced_test::simulator::click());
        ui.into_messages().collect()
    };
    assert!(
        clicked
            .iter()
            .any(|m| matches!(m, chat::Message::OpenLink(u) if u == "https://example.org/x")),
        "{clicked:?}"
    );
}

#[test]
fn in_a_room_typing_says_composing_then_paused_after_five_quiet_seconds() {
    let mut r = tea_room(Role::Participant);
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room_view(&r));
        ui.click(iced::widget::Id::new(joined::COMPOSER_ID))
            .expect("composer");
        ui.typewrite("hm");
        ui.into_messages().collect()
    };
    let states = |events: Vec<joined::Event>| -> Vec<loquat::session::ChatState> {
        events
            .into_iter()
            .filter_map(|e| match e {
                joined::Event::Command(Command::SendChatState { state, .. }) => Some(state),
                _ => None,
            })
            .collect()
    };
    let events: Vec<_> = messages.into_iter().filter_map(|m| r.update(m)).collect();
    assert_eq!(states(events), [loquat::session::ChatState::Composing]);
    assert!(r.typing_pending());
    let now = std::time::Instant::now();
    let soon = r.update(joined::Message::Tick(
        now + std::time::Duration::from_secs(1),
    ));
    assert!(soon.is_none(), "not yet: {soon:?}");
    let later: Vec<_> = [6, 7]
        .into_iter()
        .filter_map(|s| {
            r.update(joined::Message::Tick(
                now + std::time::Duration::from_secs(s),
            ))
        })
        .collect();
    assert_eq!(states(later), [loquat::session::ChatState::Paused], "once");
    assert!(!r.typing_pending(), "no clock needed any more");
}

/// In a room private chat too: composing to the occupant, then paused after five
/// quiet seconds, in that private conversation (never in the room).
#[test]
fn in_a_private_chat_typing_says_composing_then_paused_to_the_occupant() {
    let mut r = tea_room(Role::Participant);
    let room = r.jid.clone();
    r.update(joined::Message::OpenPrivate("bob".into()));
    let private = ConversationId::Private {
        room,
        nick: "bob".into(),
    };
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room_view(&r));
        ui.click(iced::widget::Id::new(
            loquat::ui::room::private::PRIVATE_COMPOSER_ID,
        ))
        .expect("composer");
        ui.typewrite("hm");
        ui.into_messages().collect()
    };
    let states = |events: Vec<joined::Event>| -> Vec<loquat::session::ChatState> {
        events
            .into_iter()
            .filter_map(|e| match e {
                joined::Event::Command(Command::SendChatState {
                    state,
                    conversation,
                }) => {
                    assert_eq!(conversation, private, "to the occupant, not the room");
                    Some(state)
                }
                _ => None,
            })
            .collect()
    };
    let events: Vec<_> = messages.into_iter().filter_map(|m| r.update(m)).collect();
    assert_eq!(states(events), [loquat::session::ChatState::Composing]);
    assert!(r.typing_pending(), "the clock runs for the private chat");
    let now = std::time::Instant::now();
    let later: Vec<_> = [1, 6, 7]
        .into_iter()
        .filter_map(|s| {
            r.update(joined::Message::Tick(
                now + std::time::Duration::from_secs(s),
            ))
        })
        .collect();
    assert_eq!(states(later), [loquat::session::ChatState::Paused], "once");
    assert!(!r.typing_pending());
}

#[test]
fn in_a_private_chat_up_edits_reply_replies_and_delete_retracts_there() {
    let mut r = tea_room(Role::Participant);
    let room = r.jid.clone();
    let mut mine = message(&room, true, Direction::Outgoing, "alice", "psst", 3);
    mine.conversation = ConversationId::Private {
        room: room.clone(),
        nick: "bob".into(),
    };
    let mine_id = mine.id.clone();
    r.push_private(mine);
    r.update(joined::Message::OpenPrivate("bob".into()));
    let private = ConversationId::Private {
        room: room.clone(),
        nick: "bob".into(),
    };
    let events = in_room(&mut r, |ui| {
        ui.click(iced::widget::Id::new(
            loquat::ui::room::private::PRIVATE_COMPOSER_ID,
        ))
        .expect("composer");
        ui.tap_key(Key::Named(Named::ArrowUp));
    });
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(count(room_view(&r), "Editing your message"), 1);
    let events = in_room(&mut r, |ui| {
        ui.click(iced::widget::Id::new(
            loquat::ui::room::private::PRIVATE_COMPOSER_ID,
        ))
        .expect("composer");
        ui.typewrite("t");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::Correct { target, body, conversation, .. })]
            if *target == mine_id && body == "psstt" && *conversation == private),
        "{events:?}"
    );
    // Reply, as in a chat: the session gets a reply in this private conversation.
    let toggle = |r: &mut joined::Room| {
        r.update(joined::Message::Private(
            loquat::ui::room::private::Message::Timeline(loquat::ui::timeline::Message::Action(
                Action::Toggle(mine_id.clone()),
            )),
        ));
    };
    toggle(&mut r);
    let events = in_room(&mut r, |ui| {
        ui.click("Reply").expect("Reply");
    });
    assert!(
        events.iter().all(|e| matches!(e, joined::Event::Focus(_))),
        "{events:?}"
    );
    let events = in_room(&mut r, |ui| {
        ui.click(iced::widget::Id::new(
            loquat::ui::room::private::PRIVATE_COMPOSER_ID,
        ))
        .expect("composer");
        ui.typewrite("yes");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::Reply { to, body, conversation, .. })]
            if *to == mine_id && body == "yes" && *conversation == private),
        "{events:?}"
    );
    toggle(&mut r);
    let events = in_room(&mut r, |ui| {
        ui.click("Delete for everyone")
            .expect("Delete for everyone");
    });
    assert!(events.is_empty(), "{events:?}");
    let events = in_room(&mut r, |ui| {
        ui.click("Delete").expect("Delete");
    });
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::Retract { target, conversation })]
            if *target == mine_id && *conversation == private),
        "{events:?}"
    );
}

/// The composer's "😊" opens a picker; a picked emoji goes in at the cursor, the picker
/// stays for more, and sending closes it. A message of a few emoji alone is drawn
/// large; one with words beside them is not.
#[test]
fn the_emoji_picker_puts_emoji_in_the_composer_and_emoji_alone_show_large() {
    let mut chat = chat_with_bob();
    assert_eq!(count(chat_view(&chat), "🎉"), 0, "the picker starts closed");
    in_chat(&mut chat, |ui| {
        ui.click(composer()).expect("composer");
        ui.typewrite("yay ");
        ui.click("😊").expect("the emoji button");
    });
    assert_eq!(count(chat_view(&chat), "🎉"), 1, "the picker is open");
    in_chat(&mut chat, |ui| {
        ui.click("🎉").expect("an emoji in the picker");
    });
    in_chat(&mut chat, |ui| {
        ui.click("🔥").expect("the picker stays open");
    });
    assert_eq!(chat.state.composer_text().trim_end(), "yay 🎉🔥");
    let events = in_chat(&mut chat, |ui| {
        ui.click(composer()).expect("composer");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(
        matches!(events.as_slice(), [chat::Event::Send(b)] if b == "yay 🎉🔥"),
        "{events:?}"
    );
    chat.state.sent();
    assert_eq!(
        count(chat_view(&chat), "🎉"),
        0,
        "sending closed the picker"
    );

    let bob = jid("bob@example.org");
    chat.state
        .push(message(&bob, false, Direction::Incoming, "", "👍🎉", 3));
    chat.state
        .push(message(&bob, false, Direction::Incoming, "", "ok 👍", 4));
    let height = |needle: &str| {
        let found = support::view::found_in(simulator(chat_view(&chat)), needle, true);
        assert_eq!(found.len(), 1, "{needle:?}: {found:?}");
        found[0].height
    };
    assert!(
        height("👍🎉") > 1.8 * height("ok 👍"),
        "emoji alone are drawn large: {} vs {}",
        height("👍🎉"),
        height("ok 👍")
    );
}

/// A reply whose original is not loaded: a click on its quote pages back through the
/// history until the original shows, then highlights it; one never found says so.
#[test]
fn a_quote_whose_original_is_not_loaded_pages_back_until_it_shows() {
    let account = Account::new(jid("alice@example.org"));
    let bob = jid("bob@example.org");
    let conversation = ConversationId::Chat(bob.clone());
    let mut state = chat::State::new(account.id.clone(), conversation, true);
    let original = message(&bob, false, Direction::Incoming, "", "The first plan", -500);
    let mut reply = message(&bob, false, Direction::Outgoing, "", "Agreed", 10);
    reply.extras.reply_to = Some(ReplyTo {
        id: original.stanza_id_attr.clone().expect("an id"),
        to: None,
        fallback: None,
    });
    // Opening loads only the newest page: the original is far older.
    let newest: Vec<ChatMessage> = (0..loquat::ui::chat::PAGE as i64 - 1)
        .map(|i| {
            message(
                &bob,
                false,
                Direction::Incoming,
                "",
                &format!("n{i}"),
                i - 200,
            )
        })
        .chain(std::iter::once(reply))
        .collect();
    state.history_loaded(false, Ok(newest));
    let mut chat = Chat { state, account };
    assert_eq!(count(chat_view(&chat), "click to find it"), 1);
    let events = in_chat(&mut chat, |ui| {
        ui.click("Replying to an earlier message that is not loaded here: click to find it.")
            .expect("the quote");
    });
    let Some(chat::Event::LoadOlder(_)) = events.first() else {
        panic!("expected the older page to be asked for: {events:?}");
    };
    assert_eq!(count(chat_view(&chat), "Looking for the message"), 1);
    // A page without it: the next one is asked for at once.
    let older: Vec<ChatMessage> = (0..loquat::ui::chat::PAGE as i64)
        .map(|i| {
            message(
                &bob,
                false,
                Direction::Incoming,
                "",
                &format!("o{i}"),
                i - 400,
            )
        })
        .collect();
    chat.state.history_loaded(true, Ok(older));
    assert!(
        matches!(chat.state.seek_step(), Some(chat::Event::LoadOlder(_))),
        "the next page"
    );
    // The page with it: shown and highlighted.
    chat.state.history_loaded(true, Ok(vec![original.clone()]));
    assert!(matches!(chat.state.seek_step(), Some(chat::Event::Show)));
    assert_eq!(chat.state.actions.highlight, Some(original.id));
    assert_eq!(count(chat_view(&chat), "The first plan"), 2, "and quoted");

    // One that is nowhere: the history ends, and the quote says it is not there.
    let mut lost = message(&bob, false, Direction::Incoming, "", "And that?", 20);
    lost.extras.reply_to = Some(ReplyTo {
        id: "long-gone".into(),
        to: None,
        fallback: None,
    });
    chat.state.push(lost);
    in_chat(&mut chat, |ui| {
        ui.click("Replying to an earlier message that is not loaded here: click to find it.")
            .expect("the quote");
    });
    chat.state.archive_page(Vec::new(), None, true, false);
    assert!(chat.state.seek_step().is_none());
    assert_eq!(count(chat_view(&chat), "not in the history"), 1);
}
