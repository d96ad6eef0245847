//! OMEMO in the chat (issue #17): a message that could not be decrypted is drawn with its
//! reason, never with the marker it is stored with; the lock in the header and its panel
//! (the per-conversation switch, the warning before turning encryption off, the devices
//! with their fingerprints and "Verified" marks); a contact's new unverified device as a
//! notice line. In English and in Chinese.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_omemo`; a screenshot for review:
//! `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_omemo -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;

use iced::widget::Id;
use iced_test::selector::Candidate;
use iced_test::simulator;
use loquat::ids::{ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Delivery, Direction};
use loquat::session::omemo::trust::{self, Device, Report};
use loquat::session::omemo::{Choice, Undecryptable};
use loquat::ui::chat::{self, encryption};
use loquat::ui::i18n::Lang;
use std::sync::{Arc, Mutex};
use support::session::jid;

fn chat_with_bob() -> (chat::State, Account) {
    let account = Account::new(jid("alice@example.org"));
    let bob = jid("bob@example.org");
    let mut state = chat::State::new(account.id.clone(), ConversationId::Chat(bob.clone()), false);
    let start = support::today_minus(600_000);
    for (i, body) in [
        "Tea at five?".to_owned(),
        Undecryptable::BadMac.body(),
        Undecryptable::NoSession.body(),
        Undecryptable::WrongSender.body(),
    ]
    .into_iter()
    .enumerate()
    {
        state.push(ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId::generate(),
            account: account.id.clone(),
            conversation: ConversationId::Chat(bob.clone()),
            direction: Direction::Incoming,
            sender: String::new(),
            body,
            timestamp_ms: start + i as i64 * 60_000,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        });
    }
    (state, account)
}

fn view<'a>(
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
fn an_undecryptable_message_says_why_in_both_languages() {
    let (state, account) = chat_with_bob();
    let en = texts(view(&state, &account, Lang::En));
    assert!(en.iter().any(|t| t == "Tea at five?"), "{en:?}");
    assert!(
        en.iter()
            .any(|t| t.starts_with("This encrypted message could not be decrypted: bad MAC")),
        "{en:?}"
    );
    assert!(
        en.iter()
            .any(|t| t.contains("no session with the sender's device")),
        "{en:?}"
    );
    assert!(
        !en.iter().any(|t| t.contains("omemo-undecryptable")),
        "{en:?}"
    );

    let zh = texts(view(&state, &account, Lang::ZhCn));
    assert!(
        zh.iter()
            .any(|t| t.starts_with("无法解密这条加密消息：MAC 校验失败")),
        "{zh:?}"
    );
    assert!(zh.iter().any(|t| t.contains("没有会话")), "{zh:?}");
    // OMEMO 2: an envelope naming another sender.
    assert!(
        en.iter()
            .any(|t| t.contains("names another sender than the account it came from")),
        "{en:?}"
    );
    assert!(
        zh.iter().any(|t| t.contains("发送者与实际发来的账号不符")),
        "{zh:?}"
    );
    assert!(
        !zh.iter().any(|t| t.contains("omemo-undecryptable")),
        "{zh:?}"
    );
}

const BOB_FP: &str = "a1b2c3d4 e5f60718 293a4b5c 6d7e8f90 01122334 45566778 8899aabb ccddeeff";
const BOB_PHONE_FP: &str =
    "0f1e2d3c 4b5a6978 8796a5b4 c3d2e1f0 11223344 55667788 99aabbcc ddeeff00";
const OUR_FP: &str = "5e5e5e5e 12345678 9abcdef0 0fedcba9 87654321 deadbeef cafebabe 00ff00ff";

fn report(bob_devices: Vec<(u32, Option<&str>, bool)>) -> Report {
    let bob = jid("bob@example.org");
    let alice = jid("alice@example.org");
    Report {
        peer: bob.clone(),
        available: true,
        broken: false,
        ours: Some(Device {
            jid: alice.clone(),
            id: 1001,
            fingerprint: Some(OUR_FP.into()),
            verified: true,
            changed: None,
        }),
        own_others: vec![Device {
            jid: alice,
            id: 1002,
            fingerprint: None,
            verified: false,
            changed: None,
        }],
        contact: Some(
            bob_devices
                .into_iter()
                .map(|(id, fp, verified)| Device {
                    jid: bob.clone(),
                    id,
                    fingerprint: fp.map(str::to_owned),
                    verified,
                    changed: None,
                })
                .collect(),
        ),
        room: None,
    }
}

enum Target<'a> {
    Id(Id),
    Text(&'a str),
}

/// Clicks `target` in the chat's view and feeds the messages back; returns the events.
fn click(
    state: &mut chat::State,
    account: &Account,
    lang: Lang,
    target: Target<'_>,
) -> Vec<chat::Event> {
    let messages: Vec<chat::Message> = {
        let mut ui = simulator(view(state, account, lang));
        match target {
            Target::Id(id) => drop(ui.click(id).expect("clickable")),
            Target::Text(words) => drop(ui.click(words).expect("clickable")),
        };
        ui.into_messages().collect()
    };
    messages
        .into_iter()
        .filter_map(|m| state.update(m))
        .collect()
}

fn lock_and_switch(lang: Lang, words: [&str; 6]) {
    let [encrypted, not_encrypted, auto_line, off, warning, turn_off] = words;
    let (mut state, account) = chat_with_bob();
    state.encryption.report = Some(report(vec![(7, Some(BOB_FP), false)]));
    let shown = texts(view(&state, &account, lang));
    assert!(shown.iter().any(|t| t == encrypted), "{shown:?}");
    // The lock opens the panel, which asks the session for fresh devices.
    let events = click(
        &mut state,
        &account,
        lang,
        Target::Id(Id::new(encryption::LOCK_ID)),
    );
    assert!(
        matches!(
            events.as_slice(),
            [chat::Event::Encryption(encryption::Event::Refresh)]
        ),
        "{events:?}"
    );
    let shown = texts(view(&state, &account, lang));
    assert!(shown.iter().any(|t| t.starts_with(auto_line)), "{shown:?}");
    // Off asks first, in plain words; nothing is stored yet.
    let events = click(&mut state, &account, lang, Target::Text(off));
    assert!(events.is_empty(), "{events:?}");
    let shown = texts(view(&state, &account, lang));
    assert!(shown.iter().any(|t| t.contains(warning)), "{shown:?}");
    assert!(shown.iter().any(|t| t == encrypted), "still on: {shown:?}");
    let events = click(&mut state, &account, lang, Target::Text(turn_off));
    assert!(
        matches!(
            events.as_slice(),
            [chat::Event::Encryption(encryption::Event::SetChoice(
                Choice::Off
            ))]
        ),
        "{events:?}"
    );
    let shown = texts(view(&state, &account, lang));
    assert!(shown.iter().any(|t| t == not_encrypted), "{shown:?}");
    assert!(!shown.iter().any(|t| t.contains(warning)), "{shown:?}");
}

#[test]
fn the_lock_shows_encryption_and_turning_it_off_warns_first() {
    lock_and_switch(
        Lang::En,
        [
            "Encrypted",
            "Not encrypted",
            "Encrypted: Bob uses OMEMO",
            "Off",
            "will then be sent in plain text",
            "Turn off",
        ],
    );
    lock_and_switch(
        Lang::ZhCn,
        [
            "已加密",
            "未加密",
            "已加密：Bob 使用 OMEMO",
            "关闭",
            "将以明文发送",
            "关闭加密",
        ],
    );
}

#[test]
fn a_contact_without_omemo_and_a_device_without_it_say_so() {
    let (mut state, account) = chat_with_bob();
    state.encryption.report = Some(report(Vec::new()));
    let shown = texts(view(&state, &account, Lang::En));
    assert!(shown.iter().any(|t| t == "Not encrypted"), "{shown:?}");
    state.encryption.report.as_mut().unwrap().available = false;
    state.encryption.open = true;
    let shown = texts(view(&state, &account, Lang::ZhCn));
    assert!(
        shown.iter().any(|t| t.contains("此设备上无法使用 OMEMO")),
        "{shown:?}"
    );
}

fn fingerprints(lang: Lang, words: [&str; 4]) {
    let [verified, not_verified, mark, unknown] = words;
    let (mut state, account) = chat_with_bob();
    state.encryption.report = Some(report(vec![
        (7, Some(BOB_FP), true),
        (8, Some(BOB_PHONE_FP), false),
    ]));
    state.encryption.open = true;
    let shown = texts(view(&state, &account, lang));
    for fp in [OUR_FP, BOB_FP, BOB_PHONE_FP] {
        assert!(shown.iter().any(|t| t == fp), "{fp} in {shown:?}");
    }
    assert!(shown.iter().any(|t| t == verified), "{shown:?}");
    assert!(shown.iter().any(|t| t == not_verified), "{shown:?}");
    assert!(
        shown.iter().any(|t| t == unknown),
        "our other device: {shown:?}"
    );
    // Groups of 8 hex digits.
    assert!(BOB_FP.split(' ').all(|g| g.len() == 8));
    // Marking the phone verified asks the app to store it with the fingerprint shown.
    let events = click(&mut state, &account, lang, Target::Text(mark));
    match events.as_slice() {
        [
            chat::Event::Encryption(encryption::Event::Verify {
                device,
                fingerprint,
                ..
            }),
        ] => {
            assert_eq!(*device, 8);
            assert_eq!(fingerprint.as_deref(), Some(BOB_PHONE_FP));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_panel_shows_fingerprints_in_groups_of_8_and_verified_marks() {
    fingerprints(
        Lang::En,
        [
            "Verified",
            "Not verified",
            "Mark verified",
            "fingerprint not known yet",
        ],
    );
    fingerprints(
        Lang::ZhCn,
        ["已验证", "未验证", "标记为已验证", "指纹尚未知晓"],
    );
}

const BOB_NEW_FP: &str = "77777777 88888888 99999999 aaaaaaaa bbbbbbbb cccccccc dddddddd eeeeeeee";

/// The report with Bob's device 8 showing a changed key.
fn changed_key_report() -> Report {
    let mut r = report(vec![
        (7, Some(BOB_FP), true),
        (8, Some(BOB_PHONE_FP), false),
    ]);
    if let Some(d) = r.contact.iter_mut().flatten().find(|d| d.id == 8) {
        d.changed = Some(BOB_NEW_FP.into());
    }
    r
}

fn changed_key(lang: Lang, words: [&str; 5]) {
    let [tag, old, new, warning, reason] = words;
    let (mut state, account) = chat_with_bob();
    state.push(ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.id.clone(),
        conversation: ConversationId::Chat(jid("bob@example.org")),
        direction: Direction::Incoming,
        sender: String::new(),
        body: Undecryptable::UntrustedIdentity.body(),
        timestamp_ms: chrono::Utc::now().timestamp_millis(),
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    });
    state.encryption.report = Some(changed_key_report());
    state.encryption.open = true;
    let shown = texts(view(&state, &account, lang));
    assert!(shown.iter().any(|t| t.contains(reason)), "{shown:?}");
    for words in [tag, old, new, BOB_PHONE_FP, BOB_NEW_FP] {
        assert!(shown.iter().any(|t| t == words), "{words} in {shown:?}");
    }
    assert!(shown.iter().any(|t| t.starts_with(warning)), "{shown:?}");
    // The changed device offers no "Mark verified": only accepting the new key.
    let events = click(
        &mut state,
        &account,
        lang,
        Target::Id(loquat::ui::chat::devices::accept_id(8)),
    );
    match events.as_slice() {
        [
            chat::Event::Encryption(encryption::Event::AcceptKey {
                device,
                fingerprint,
                ..
            }),
        ] => {
            assert_eq!(*device, 8);
            assert_eq!(fingerprint, BOB_NEW_FP);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_device_whose_key_changed_shows_both_keys_and_asks_before_accepting() {
    changed_key(
        Lang::En,
        [
            "Key changed",
            "Old key",
            "New key",
            "This device now shows another key",
            "this device's key changed",
        ],
    );
    changed_key(
        Lang::ZhCn,
        [
            "密钥已更改",
            "旧密钥",
            "新密钥",
            "该设备现在显示的是另一把密钥",
            "该设备的密钥已更改",
        ],
    );
}

/// Replying to an undecryptable message quotes its reason in the reader's words, in the
/// composer's bar and in the reply's quote in the list; never the stored marker.
#[test]
fn replying_to_an_undecryptable_message_quotes_its_reason_not_the_marker() {
    use loquat::model::extras::ReplyTo;
    use loquat::ui::timeline::actions::Action;
    let (mut state, account) = chat_with_bob();
    let mut original = ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.id.clone(),
        conversation: ConversationId::Chat(jid("bob@example.org")),
        direction: Direction::Incoming,
        sender: String::new(),
        body: Undecryptable::UntrustedIdentity.body(),
        timestamp_ms: chrono::Utc::now().timestamp_millis() - 1000,
        stanza_id_attr: None,
        origin_id: Some("orig-1".into()),
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    };
    let mut reply = original.clone();
    original.extras = Default::default();
    state.push(original.clone());
    reply.id = LocalMessageId::generate();
    reply.origin_id = None;
    reply.direction = Direction::Outgoing;
    reply.body = "What did you send?".into();
    reply.timestamp_ms += 500;
    reply.extras.reply_to = Some(ReplyTo {
        id: "orig-1".into(),
        to: None,
        fallback: None,
    });
    state.push(reply);
    let _ = state.update(chat::Message::Action(Action::Reply(original.id.clone())));
    for (lang, reason) in [
        (Lang::En, "this device's key changed"),
        (Lang::ZhCn, "该设备的密钥已更改"),
    ] {
        let shown = texts(view(&state, &account, lang));
        assert!(
            !shown.iter().any(|t| t.contains("omemo-undecryptable")),
            "{shown:?}"
        );
        // The message itself, the reply's quote in the list, and the composer's bar.
        let n = shown.iter().filter(|t| t.contains(reason)).count();
        assert_eq!(n, 3, "{shown:?}");
    }
}

#[test]
fn a_new_unverified_device_is_a_notice_line_in_both_languages() {
    let (mut state, account) = chat_with_bob();
    let bob = jid("bob@example.org");
    state.push(ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.id.clone(),
        conversation: ConversationId::Chat(bob),
        direction: Direction::Incoming,
        sender: String::new(),
        body: trust::new_device_body(4242, Some(BOB_PHONE_FP)),
        timestamp_ms: chrono::Utc::now().timestamp_millis(),
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    });
    let en = texts(view(&state, &account, Lang::En));
    let line = format!(
        "Bob has a new device that you have not verified: device 4242, fingerprint {BOB_PHONE_FP}."
    );
    assert!(en.contains(&line), "{en:?}");
    assert!(!en.iter().any(|t| t.contains("omemo-new-device")), "{en:?}");
    let zh = texts(view(&state, &account, Lang::ZhCn));
    assert!(
        zh.iter()
            .any(|t| t.starts_with("Bob 有一台你尚未验证的新设备：设备 4242")),
        "{zh:?}"
    );
    assert_eq!(
        loquat::ui::timeline::fold::readable_body(Lang::En, &trust::new_device_body(4242, None)),
        "New device, not verified: device 4242"
    );
}

#[test]
fn an_encrypted_file_shows_as_a_file_and_its_key_never_shows() {
    let (mut state, account) = chat_with_bob();
    let link = format!(
        "aesgcm://upload.example.org/f/menu.pdf#{}{}",
        "0a".repeat(12),
        "1b".repeat(32)
    );
    let attachment = loquat::xmpp::upload::attachment(None, &link).expect("a file");
    state.push(ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.id.clone(),
        conversation: ConversationId::Chat(jid("bob@example.org")),
        direction: Direction::Incoming,
        sender: String::new(),
        body: link.clone(),
        timestamp_ms: chrono::Utc::now().timestamp_millis(),
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: Some(Box::new(attachment)),
    });
    for (lang, download) in [(Lang::En, "Download"), (Lang::ZhCn, "下载")] {
        let shown = texts(view(&state, &account, lang));
        assert!(shown.iter().any(|t| t == "menu.pdf"), "{shown:?}");
        assert!(shown.iter().any(|t| t == download), "{shown:?}");
        assert!(
            !shown
                .iter()
                .any(|t| t.contains("1b1b") || t.contains("aesgcm")),
            "the key is on screen: {shown:?}"
        );
    }
}

#[test]
fn a_message_that_could_not_be_encrypted_shows_the_sessions_reason() {
    let (mut state, account) = chat_with_bob();
    let why = "bob@example.org has no OMEMO device, and encryption is on for this chat";
    state.push(ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.id.clone(),
        conversation: ConversationId::Chat(jid("bob@example.org")),
        direction: Direction::Outgoing,
        sender: String::new(),
        body: "must stay secret".into(),
        timestamp_ms: chrono::Utc::now().timestamp_millis(),
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Failed(why.into()),
        attachment: None,
    });
    for lang in [Lang::En, Lang::ZhCn] {
        let shown = texts(view(&state, &account, lang));
        assert!(shown.iter().any(|t| t.contains(why)), "{shown:?}");
    }
}

/// Renders the chat in both languages to PNG for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_undecryptable_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (mut state, account) = chat_with_bob();
    let shots = [
        (Lang::En, "omemo-undecryptable-en", false),
        (Lang::ZhCn, "omemo-undecryptable-zh", false),
        (Lang::En, "omemo-lock-panel-en", true),
        (Lang::ZhCn, "omemo-lock-panel-zh", true),
        (Lang::En, "omemo-key-changed-en", true),
        (Lang::ZhCn, "omemo-key-changed-zh", true),
    ];
    for (lang, name, panel) in shots {
        if name.starts_with("omemo-key-changed") {
            state.encryption.report = Some(changed_key_report());
            state.encryption.confirm_off = false;
        } else if panel {
            state.encryption.report = Some(report(vec![
                (7, Some(BOB_FP), true),
                (8, Some(BOB_PHONE_FP), false),
            ]));
            state.encryption.open = true;
            state.encryption.confirm_off = true;
        }
        let size = iced::Size::new(900.0, if panel { 900.0 } else { 500.0 });
        let mut ui = iced_test::simulator::Simulator::with_size(
            Default::default(),
            size,
            view(&state, &account, lang),
        );
        let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
        let path = dir.join(name);
        let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
        assert!(snapshot.matches_image(&path).expect("write png"));
    }
}
