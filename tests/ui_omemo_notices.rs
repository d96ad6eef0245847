//! OMEMO's notices in the timeline (issue #17), in English and Chinese: a device whose
//! key changed gets nothing until its new key is accepted, and the conversation says so
//! when the person sends (with the way to the devices panel); a room member's new
//! unverified device is announced in the room, naming the member; "Show devices" under
//! a notice opens the lock's panel.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_omemo_notices`; screenshots for
//! review: `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_omemo_notices -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;

use iced_test::selector::Candidate;
use iced_test::simulator;
use loquat::ids::{ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Delivery, Direction};
use loquat::session::omemo::trust;
use loquat::session::rooms::{Affiliation, Role};
use loquat::ui::chat;
use loquat::ui::i18n::Lang;
use loquat::ui::room::joined::Room;
use loquat::ui::timeline::fold::readable_body;
use std::sync::{Arc, Mutex};
use support::session::jid;
use support::view::occupant;

const NEW_FP: &str = "a1b2c3d4 e5f60718 293a4b5c 6d7e8f90 a1b2c3d4 e5f60718 293a4b5c 6d7e8f90";

fn notice(account: &Account, conversation: ConversationId, body: String) -> ChatMessage {
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.id.clone(),
        conversation,
        direction: Direction::Incoming,
        sender: String::new(),
        body,
        timestamp_ms: chrono::Utc::now().timestamp_millis(),
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

/// A chat with Bob whose phone (device 4242) changed its key, after a message sent.
fn chat_with_changed_key() -> (chat::State, Account) {
    let account = Account::new(jid("alice@example.org"));
    let bob = jid("bob@example.org");
    let conversation = ConversationId::Chat(bob.clone());
    let mut state = chat::State::new(account.id.clone(), conversation.clone(), false);
    let mut sent = notice(&account, conversation.clone(), "Are you there?".into());
    sent.direction = Direction::Outgoing;
    state.push(sent);
    state.push(notice(
        &account,
        conversation,
        trust::key_changed_body(&bob, 4242, NEW_FP),
    ));
    (state, account)
}

fn chat_view<'a>(
    state: &'a chat::State,
    account: &'a Account,
    lang: Lang,
) -> iced::Element<'a, chat::Message> {
    state.view(chat::Context {
        lang,
        peer_label: "Bob".into(),
        peer: state.conversation.jid(),
        availability: loquat::ui::app::account_state::Availability {
            show: loquat::model::Show::Online,
            status: None,
        },
        in_roster: true,
        account,
        write_as: Vec::new(),
        account_online: true,
        muted: false,
        transfers: None,
        previews: None,
        blocked: None,
        request: false,
    })
}

/// A private room where Carol (a member) has a new device, and Bob's device changed
/// its key.
fn room_with_notices() -> Room {
    let mut room = support::view::joined_room(vec![
        occupant("alice", Role::Participant, Affiliation::Member),
        occupant("carol", Role::Participant, Affiliation::Member),
    ]);
    let account = Account::new(jid("alice@example.org"));
    let here = ConversationId::Room(room.jid.clone());
    let carol = jid("carol@example.org");
    let bob = jid("bob@example.org");
    let body = trust::member_new_device_body(&carol, 4242, Some(NEW_FP));
    room.push(notice(&account, here.clone(), body), true);
    let body = trust::key_changed_body(&bob, 77, NEW_FP);
    room.push(notice(&account, here, body), true);
    room
}

fn texts<M>(view: iced::Element<'_, M>) -> Vec<String> {
    let mut ui = simulator(view);
    let found = Arc::new(Mutex::new(Vec::new()));
    let seen = found.clone();
    let _ = ui.find(move |c: Candidate<'_>| -> Option<()> {
        if let Candidate::Text { content, .. } = c
            && let Ok(mut f) = seen.lock()
        {
            f.push(content.to_owned());
        }
        None
    });
    std::mem::take(&mut *found.lock().unwrap())
}

#[test]
fn a_changed_key_notice_says_the_device_gets_nothing_until_accepted() {
    let (state, account) = chat_with_changed_key();
    let en = texts(chat_view(&state, &account, Lang::En));
    let line = format!(
        "Device 4242 of bob@example.org changed its key (new fingerprint {NEW_FP}). Your messages are not encrypted to it, so it gets nothing until you accept the new key: click the lock in the header, then “Accept the new key”."
    );
    assert!(en.contains(&line), "{en:?}");
    assert!(
        !en.iter().any(|t| t.contains("omemo-")),
        "no marker: {en:?}"
    );
    let zh = texts(chat_view(&state, &account, Lang::ZhCn));
    let line = format!(
        "bob@example.org 的设备 4242 更改了密钥（新指纹 {NEW_FP}）。你的消息不会加密给它，因此在你接受新密钥之前它收不到任何消息：点击顶栏中的锁，然后选择“接受新密钥”。"
    );
    assert!(zh.contains(&line), "{zh:?}");
    // The conversation list and notifications.
    let bob = jid("bob@example.org");
    let body = trust::key_changed_body(&bob, 4242, NEW_FP);
    assert_eq!(
        readable_body(Lang::En, &body),
        "Device 4242 changed its key: it gets nothing until you accept it"
    );
    assert_eq!(
        readable_body(Lang::ZhCn, &format!("carol: {body}")),
        "carol: 设备 4242 更改了密钥：在你接受之前它收不到任何消息"
    );
}

#[test]
fn a_members_new_device_is_announced_in_the_room_in_both_languages() {
    let room = room_with_notices();
    let en = texts(room.view(Lang::En));
    let line = format!(
        "carol@example.org has a new device that you have not verified: device 4242, fingerprint {NEW_FP}."
    );
    assert!(en.contains(&line), "{en:?}");
    assert!(
        en.iter()
            .any(|t| t.starts_with("Device 77 of bob@example.org changed its key")),
        "{en:?}"
    );
    assert!(
        !en.iter().any(|t| t.contains("omemo-")),
        "no marker: {en:?}"
    );
    let zh = texts(room.view(Lang::ZhCn));
    let line = format!("carol@example.org 有一台你尚未验证的新设备：设备 4242，指纹 {NEW_FP}。");
    assert!(zh.contains(&line), "{zh:?}");
    let carol = jid("carol@example.org");
    assert_eq!(
        readable_body(Lang::En, &trust::member_new_device_body(&carol, 4242, None)),
        "New device, not verified: device 4242"
    );
}

/// "Show devices" under a notice opens the lock's panel (and asks for a fresh report),
/// in a chat and in a room, in both languages.
#[test]
fn show_devices_on_a_notice_opens_the_devices_panel() {
    use loquat::ui::chat::encryption::Event as Enc;
    use loquat::ui::room::joined;
    for (lang, words) in [(Lang::En, "Show devices"), (Lang::ZhCn, "查看设备")] {
        let (mut state, account) = chat_with_changed_key();
        let messages: Vec<chat::Message> = {
            let mut ui = simulator(chat_view(&state, &account, lang));
            ui.click(words).expect("the button");
            ui.into_messages().collect()
        };
        let events: Vec<chat::Event> = messages
            .into_iter()
            .filter_map(|m| state.update(m))
            .collect();
        assert!(
            matches!(events.as_slice(), [chat::Event::Encryption(Enc::Refresh)]),
            "{events:?}"
        );
        assert!(state.encryption.open);

        let mut room = room_with_notices();
        let messages: Vec<joined::Message> = {
            let mut ui = simulator(room.view(lang));
            ui.click(words).expect("the button");
            ui.into_messages().collect()
        };
        let events: Vec<joined::Event> = messages
            .into_iter()
            .filter_map(|m| room.update(m))
            .collect();
        assert!(
            matches!(events.as_slice(), [joined::Event::Encryption(Enc::Refresh)]),
            "{events:?}"
        );
        assert!(room.encryption.open);
    }
}

/// Renders the notices in a chat and in a room, in both languages, for a person to look
/// at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_notices_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (state, account) = chat_with_changed_key();
    let room = room_with_notices();
    for (lang, suffix) in [(Lang::En, "en"), (Lang::ZhCn, "zh")] {
        let views = [
            (
                "omemo-key-changed-notice",
                chat_view(&state, &account, lang).map(|_| ()),
            ),
            ("omemo-room-new-device", room.view(lang).map(|_| ())),
        ];
        for (name, view) in views {
            let name = format!("{name}-{suffix}");
            let mut ui = iced_test::simulator::Simulator::with_size(
                Default::default(),
                iced::Size::new(900.0, 500.0),
                view,
            );
            let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
            let path = dir.join(&name);
            let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
            assert!(snapshot.matches_image(&path).expect("write png"));
        }
    }
}
